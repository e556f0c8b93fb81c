/* field: checks of a request's fields that record an INVALID_ARGUMENT
 * violation in a ctx when the value is bad, built on text.h, shape.h and
 * date.h. Each returns 1 when the value is fine and 0 when it is not. An
 * absent value (NULL or empty) is fine unless FIELD_REQUIRED, and then
 * "is required".
 *
 *     field_text(&ctx, "table.name", t->name, 200, FIELD_REQUIRED);
 *     field_text(&ctx, "table.notes", t->notes, 2000, FIELD_MULTILINE);
 *     field_word(&ctx, "status", req->status, statuses, FIELD_REQUIRED);
 */
#ifndef CONCERTO_FIELD_H
#define CONCERTO_FIELD_H

#include <stdint.h>

#include "ctx.h"

enum {
    FIELD_REQUIRED = 1 << 0,
    FIELD_MULTILINE = 1 << 1, /* text: tabs and line breaks allowed */
};

/* Valid UTF-8, not blank, at most `max_chars` code points, no control
 * characters. */
int field_text(ctx_t *ctx, const char *path, const char *s, size_t max_chars, int flags);
int field_slug(ctx_t *ctx, const char *path, const char *s, int flags);
int field_date(ctx_t *ctx, const char *path, const char *s, int flags);
/* A date that is not in the future (ctx->today): `s`, or today when it is
 * absent. Records the violation and still returns `s` when it is bad. */
const char *field_past_date(ctx_t *ctx, const char *path, const char *s);
/* One of `words` (NULL-terminated); the violation lists them. */
int field_word(ctx_t *ctx, const char *path, const char *s, const char *const *words, int flags);
int field_url(ctx_t *ctx, const char *path, const char *s, int flags);
int field_email(ctx_t *ctx, const char *path, const char *s, int flags);
int field_phone(ctx_t *ctx, const char *path, const char *s, int flags);
int field_range(ctx_t *ctx, const char *path, int64_t v, int64_t min, int64_t max);
/* Read-only fields: a request that sets one (`present`) is refused. */
int field_absent(ctx_t *ctx, const char *path, int present);

/* The id an update request names: its `id` (from the path) or, when that
 * is absent, the entity's own `id` (`inner`), which must otherwise agree.
 * `entity` is the request field holding the entity ("table"), `present`
 * whether it was given at all. Returns NULL after recording a violation
 * when the request names no usable id (a slug). */
const char *field_update_id(ctx_t *ctx, const char *entity, int present, const char *id,
                            const char *inner);

/* "%<folded search>%", for LIKE on columns holding text_fold'ed names,
 * with '%' between its words ("%cote%neiges%");
 * NULL when `search` is absent, or (recorded) when it is bad or has no
 * letter or digit. The caller frees the result. */
char *field_search(ctx_t *ctx, const char *path, const char *search, size_t max_chars);

/* `s` when it is not empty, else NULL: "absent" for optional text. */
const char *field_nonempty(const char *s);

#endif
