/* field: request field checks recording violations (see field.h). */
#include "field.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shape.h"
#include "text.h"
#include "xalloc.h"

const char *field_nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

/* 1 when `s` is absent and that is fine, 0 when absent and required
 * (recorded), -1 when there is a value to check. */
static int field_absent_ok(ctx_t *ctx, const char *path, const char *s, int flags)
{
    if (s && *s)
        return -1;
    if (!(flags & FIELD_REQUIRED))
        return 1;
    ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path, "is required");
    return 0;
}

/* A value of a shape `ok` accepts, or `why` on `path`. */
static int field_shape(ctx_t *ctx, const char *path, const char *s, int flags,
                       int (*ok)(const char *), const char *why)
{
    int absent = field_absent_ok(ctx, path, s, flags);
    if (absent >= 0)
        return absent;
    if (ok(s))
        return 1;
    ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path, "%s", why);
    return 0;
}

int field_text(ctx_t *ctx, const char *path, const char *s, size_t max_chars, int flags)
{
    int absent = field_absent_ok(ctx, path, s, flags);
    if (absent >= 0)
        return absent;
    text_problem_t p = text_check(s, max_chars, (flags & FIELD_MULTILINE) != 0);
    if (p == TEXT_OK)
        return 1;
    if (p == TEXT_TOO_LONG)
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path, "must be at most %zu characters",
                      max_chars);
    else
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path, "%s", text_problem_text(p));
    return 0;
}

int field_slug(ctx_t *ctx, const char *path, const char *s, int flags)
{
    return field_shape(ctx, path, s, flags, shape_slug,
                       "must be 2 to 64 characters of a-z, 0-9 and '-', starting and ending "
                       "with a letter or digit");
}

int field_date(ctx_t *ctx, const char *path, const char *s, int flags)
{
    int absent = field_absent_ok(ctx, path, s, flags);
    if (absent >= 0)
        return absent;
    if (date_valid(s))
        return 1;
    ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path,
                  "must be a calendar date YYYY-MM-DD between %d and %d", CLOCK_MIN_YEAR,
                  CLOCK_MAX_YEAR);
    return 0;
}

const char *field_past_date(ctx_t *ctx, const char *path, const char *s)
{
    if (!field_nonempty(s))
        return ctx->today;
    if (field_date(ctx, path, s, 0) && strcmp(s, ctx->today) > 0)
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path, "must not be in the future (today is %s)",
                      ctx->today);
    return s;
}

int field_word(ctx_t *ctx, const char *path, const char *s, const char *const *words, int flags)
{
    int absent = field_absent_ok(ctx, path, s, flags);
    if (absent >= 0)
        return absent;
    if (shape_word(words, s))
        return 1;
    char *list = shape_words_text(words);
    ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path, "must be one of: %s", list);
    free(list);
    return 0;
}

int field_url(ctx_t *ctx, const char *path, const char *s, int flags)
{
    int absent = field_absent_ok(ctx, path, s, flags);
    if (absent >= 0)
        return absent;
    if (text_check(s, SHAPE_URL_MAX, 0) == TEXT_OK && shape_url(s))
        return 1;
    ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path,
                  "must be an http:// or https:// address of at most %d bytes", SHAPE_URL_MAX);
    return 0;
}

int field_email(ctx_t *ctx, const char *path, const char *s, int flags)
{
    return field_shape(ctx, path, s, flags, shape_email,
                       "must be an e-mail address like name@example.org");
}

int field_phone(ctx_t *ctx, const char *path, const char *s, int flags)
{
    return field_shape(ctx, path, s, flags, shape_phone,
                       "must be a North American number like 514-555-0123, optionally with an "
                       "extension (x123, poste 123)");
}

int field_range(ctx_t *ctx, const char *path, int64_t v, int64_t min, int64_t max)
{
    if (v >= min && v <= max)
        return 1;
    ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path, "must be between %lld and %lld",
                  (long long)min, (long long)max);
    return 0;
}

int field_absent(ctx_t *ctx, const char *path, int present)
{
    if (present)
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path, "is read-only");
    return !present;
}

const char *field_update_id(ctx_t *ctx, const char *entity, int present, const char *id,
                            const char *inner)
{
    id = field_nonempty(id);
    inner = field_nonempty(inner);
    if (!present) {
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, entity, "is required");
    } else if (id && inner && strcmp(id, inner) != 0) {
        char path[64];
        snprintf(path, sizeof path, "%s.id", entity);
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path,
                      "must be absent or equal to id (ids never change)");
        return NULL;
    }
    if (!id)
        id = inner;
    return field_slug(ctx, "id", id, FIELD_REQUIRED) ? id : NULL;
}

char *field_search(ctx_t *ctx, const char *path, const char *search, size_t max_chars)
{
    if (!search || !*search)
        return NULL;
    if (!field_text(ctx, path, search, max_chars, 0))
        return NULL;
    char *folded = text_fold(search);
    if (!folded || !*folded) {
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path, "must contain a letter or a digit");
        free(folded);
        return NULL;
    }
    /* Words in the order typed, anything between them: "cote neiges"
     * finds Côte-des-Neiges. */
    for (char *p = folded; *p; p++)
        if (*p == ' ')
            *p = '%';
    char *pattern = xasprintf("%%%s%%", folded);
    free(folded);
    return pattern;
}
