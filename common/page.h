/* page: lists read a page at a time in the order of a key, with opaque
 * cursors.
 *
 * A list request has a `cursor` (string) and a `limit` (uint32) field, and
 * any number of filters. Its answer holds up to `limit` items (default
 * PAGE_DEFAULT_LIMIT, at most PAGE_MAX_LIMIT) and, when more follow, a
 * cursor naming the last key of the page. The cursor is bound to its list
 * and to the filters it was made with (a digest of every other field of
 * the request): passed back with other filters, or to another list, it is
 * refused with INVALID_ARGUMENT on "cursor" rather than giving a page of
 * another query. The limit may change from page to page. Cursors are hex,
 * so they need no escaping in a URL.
 *
 * Most lists are a row of the handler table whose `arg` describes them:
 *
 *     static void territories_check(ctx_t *ctx, const ProtobufCMessage *msg)
 *     {   (the filters' checks)
 *         field_word(ctx, "kind", ((const ListTerritoriesRequest *)msg)->kind, kinds, 0);
 *     }
 *     static const page_list_t territories = {
 *         .list = "territories", .answer = &territory_list__descriptor,
 *         .sql = "SELECT id, name, ... FROM territory WHERE id > :after"
 *                " AND (:kind IS NULL OR kind = :kind)"
 *                " AND (:pattern IS NULL OR name_folded LIKE :pattern)"
 *                " ORDER BY id LIMIT :page_limit",
 *         .search_max = 200, .check = territories_check,
 *     };
 *     {&list_territories_request__descriptor, SERVICE_QUERY, page_on_list, &territories},
 */
#ifndef CONCERTO_PAGE_H
#define CONCERTO_PAGE_H

#include <sqlite3.h>
#include <stdint.h>

#include "csv_writer.h"
#include "ctx.h"
#include "row.h"

#define PAGE_DEFAULT_LIMIT 100
#define PAGE_MAX_LIMIT 500
#define PAGE_MAX_KEY 64 /* bytes of a key a cursor holds */

typedef struct {
    const char *list; /* "tables": names the list in its cursors */
    int limit;        /* items a page holds */
    /* The key after which this page starts ("" for the first page), or
     * for a list keyed by integers (page_begin_int) after_int (0). */
    char after[PAGE_MAX_KEY + 1];
    int key_int;
    int64_t after_int;
    char filters[17]; /* digest of the request's other fields, hex */
} page_t;

/* Reads the `limit` and `cursor` fields of list request `req` into `page`.
 * Returns 0, or -1 after recording violations: a limit over
 * PAGE_MAX_LIMIT, a cursor of another list or of other filters. */
int page_begin(ctx_t *ctx, page_t *page, const char *list, const ProtobufCMessage *req);
/* The same for a list keyed by non-negative integers. */
int page_begin_int(ctx_t *ctx, page_t *page, const char *list, const ProtobufCMessage *req);
/* The page size `limit` asks for (0: the default); records a violation on
 * "limit" over PAGE_MAX_LIMIT. For lists paged by other means. */
int page_limit(ctx_t *ctx, uint32_t limit);

/* Answers list request `req` with one page of what `sql` selects: a new
 * message of type `list`, whose repeated message field gets the items
 * (completed by `complete` unless NULL) and whose `next_cursor` the cursor
 * of the next page. `sql` orders the rows by their key (column 0) and may
 * name :after, :page_limit (the page size plus one, to see whether more
 * follow), :pattern (`pattern`, the search, or NULL), the request's fields
 * (row_bind) and the call's own values (ctx_bind). When `list` has a
 * `total` field it gets the count of every row `sql` selects with these
 * filters, on every page (`sql` run from its first key, without limit). */
int page_answer(ctx_t *ctx, const page_t *page, const char *sql, const ProtobufCMessage *req,
                const char *pattern, const ProtobufCMessageDescriptor *list,
                row_complete_fn complete);

/* A reference a list's filter makes to an entity ("borough" names a
 * territory): when the request gives one that `exists` (one parameter)
 * does not find, the list answers NOT_FOUND on that field, "<noun> <id> is
 * not registered", rather than an empty list. */
typedef struct {
    const char *field; /* the request's string field */
    const char *noun;
    const char *exists;
} page_ref_t;

/* A list answered by page_on_list. */
typedef struct {
    const char *list; /* names the list in its cursors */
    /* Orders the rows by their key (column 0); may name :after,
     * :page_limit, :pattern, the request's fields and the call's values
     * (see page_answer). */
    const char *sql;
    const ProtobufCMessageDescriptor *answer; /* the list message */
    int key_int;                              /* keyed by integers */
    /* When not 0: the request's `search` field, at most this many
     * characters, folded into :pattern (field_search). */
    size_t search_max;
    /* Optional: checks the request's filters, recording violations (after
     * the page's own). */
    void (*check)(ctx_t *ctx, const ProtobufCMessage *req);
    row_complete_fn complete; /* optional */
    const page_ref_t *refs;   /* optional, ends with {NULL} */
    /* Optional: the columns of the list's CSV export, and its file name.
     * When the route offers "csv" and the gateway chose it, the answer is
     * a CSV document (csv_writer.h) of every row matching the filters, not
     * one page. */
    const csv_column_t *csv;
    const char *csv_name;
} page_list_t;

/* A handler (service_handler_fn) whose `arg` is a page_list_t. On a route
 * that offers formats the answer is versioned (service_call_version) by
 * the outbox's head and the day: any change, or a new day, changes it. */
int page_on_list(service_call_t *call, const ProtobufCMessage *msg, void *arg);

/* The cursor text after `key` in `list` with `filters`; the caller frees.
 * page_cursor_decode returns 0 and the key, -1 when the text is not a
 * cursor of `list`, -2 when it is one made with other filters. */
char *page_cursor_encode(const char *list, const char *filters, const char *key);
int page_cursor_decode(const char *list, const char *filters, const char *cursor,
                       char key[PAGE_MAX_KEY + 1]);

#endif
