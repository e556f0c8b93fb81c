/* page: paged lists and their cursors (see page.h). */
#include "page.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "outbox.h"
#include "pbmsg.h"
#include "row.h"
#include "xalloc.h"

char *page_cursor_encode(const char *list, const char *filters, const char *key)
{
    char *plain = xasprintf("%s:%s:%s", list, filters, key);
    size_t n = strlen(plain);
    char *out = xmalloc(2 * n + 1);
    sodium_bin2hex(out, 2 * n + 1, (const unsigned char *)plain, n);
    free(plain);
    return out;
}

int page_cursor_decode(const char *list, const char *filters, const char *cursor,
                       char key[PAGE_MAX_KEY + 1])
{
    size_t n = strlen(cursor), prefix = strlen(list) + 1, digest = strlen(filters) + 1;
    char plain[PAGE_MAX_KEY + 128];
    size_t len = 0;
    if (n % 2 || n / 2 >= sizeof plain ||
        sodium_hex2bin((unsigned char *)plain, sizeof plain - 1, cursor, n, NULL, &len, NULL) !=
            0 ||
        len != n / 2 || memchr(plain, '\0', len))
        return -1;
    plain[len] = '\0';
    if (len <= prefix || strncmp(plain, list, prefix - 1) != 0 || plain[prefix - 1] != ':')
        return -1;
    const char *rest = plain + prefix;
    if (len - prefix < digest || rest[digest - 1] != ':')
        return -1;
    if (strncmp(rest, filters, digest - 1) != 0)
        return -2;
    size_t klen = len - prefix - digest;
    if (klen > PAGE_MAX_KEY)
        return -1;
    memcpy(key, rest + digest, klen + 1);
    return 0;
}

/* The digest of `req` without its cursor and limit: a shallow copy with
 * those two fields absent, packed and hashed. */
static void page_filters(const ProtobufCMessage *req, const ProtobufCFieldDescriptor *cursor_f,
                         const ProtobufCFieldDescriptor *limit_f, char out[17])
{
    const ProtobufCMessageDescriptor *desc = req->descriptor;
    ProtobufCMessage *copy = xmalloc(desc->sizeof_message);
    memcpy(copy, req, desc->sizeof_message);
    *(char **)pbmsg_member(copy, cursor_f) = NULL;
    *(protobuf_c_boolean *)((char *)copy + limit_f->quantifier_offset) = 0;
    size_t len = protobuf_c_message_get_packed_size(copy);
    uint8_t *packed = xmalloc(len ? len : 1);
    protobuf_c_message_pack(copy, packed);
    unsigned char hash[8];
    crypto_generichash(hash, sizeof hash, packed, len, NULL, 0);
    sodium_bin2hex(out, 17, hash, sizeof hash);
    free(packed);
    free(copy);
}

int page_limit(ctx_t *ctx, uint32_t limit)
{
    if (limit > PAGE_MAX_LIMIT) {
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "limit", "must be at most %d", PAGE_MAX_LIMIT);
        return PAGE_MAX_LIMIT;
    }
    return limit ? (int)limit : PAGE_DEFAULT_LIMIT;
}

int page_begin(ctx_t *ctx, page_t *page, const char *list, const ProtobufCMessage *req)
{
    const ProtobufCMessageDescriptor *desc = req->descriptor;
    const ProtobufCFieldDescriptor *cursor_f =
        protobuf_c_message_descriptor_get_field_by_name(desc, "cursor");
    const ProtobufCFieldDescriptor *limit_f =
        protobuf_c_message_descriptor_get_field_by_name(desc, "limit");
    assert(cursor_f && cursor_f->type == PROTOBUF_C_TYPE_STRING && limit_f &&
           limit_f->type == PROTOBUF_C_TYPE_UINT32 && "a list request has cursor and limit");
    size_t mark = ctx->problems;
    memset(page, 0, sizeof *page);
    page->list = list;
    page->limit = page_limit(ctx, *(const uint32_t *)pbmsg_member(req, limit_f));
    page_filters(req, cursor_f, limit_f, page->filters);
    const char *cursor = *(char *const *)pbmsg_member(req, cursor_f);
    if (cursor && *cursor) {
        int rc = page_cursor_decode(list, page->filters, cursor, page->after);
        if (rc == -2)
            ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "cursor",
                          "was made for other filters (pass %s back with the filters "
                          "of the request that gave it)",
                          ctx_name(ctx, "next_cursor"));
        else if (rc != 0)
            ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "cursor",
                          "is not a cursor of this list (pass %s back unchanged)",
                          ctx_name(ctx, "next_cursor"));
    }
    return ctx->problems == mark ? 0 : -1;
}

int page_begin_int(ctx_t *ctx, page_t *page, const char *list, const ProtobufCMessage *req)
{
    if (page_begin(ctx, page, list, req) != 0)
        return -1;
    page->key_int = 1;
    if (!page->after[0])
        return 0;
    char *end = NULL;
    long long v = strtoll(page->after, &end, 10);
    if (*end || v < 0) {
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "cursor", "is not a cursor of this list");
        return -1;
    }
    page->after_int = v;
    return 0;
}

/* Reads one page from `st`, bound to select at most limit + 1 rows in the
 * order of their key, column 0: up to page->limit messages (*n of them)
 * and, when a row follows, the cursor after the last. */
static ProtobufCMessage **page_read(ctx_t *ctx, const page_t *page, sqlite3_stmt *st,
                                    const ProtobufCMessageDescriptor *desc,
                                    row_complete_fn complete, size_t *n, char **next_cursor)
{
    ProtobufCMessage **items = xcalloc((size_t)page->limit, sizeof *items);
    *n = 0;
    *next_cursor = NULL;
    int rc = SQLITE_DONE;
    while (*n < (size_t)page->limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        ProtobufCMessage *m = row_read(st, desc);
        if (complete)
            complete(m, st);
        items[(*n)++] = m;
    }
    if (rc == SQLITE_ROW) {
        /* A full page: one more row means a next page, after this one's
         * last key. */
        char *last = row_text(st, 0);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *next_cursor = page_cursor_encode(page->list, page->filters, last ? last : "");
            rc = SQLITE_DONE;
        }
        free(last);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, page->list);
    sqlite3_reset(st);
    return items;
}

/* The list answer's repeated field of items. */
static const ProtobufCFieldDescriptor *page_items(const ProtobufCMessageDescriptor *list)
{
    for (unsigned i = 0; i < list->n_fields; i++)
        if (list->fields[i].label == PROTOBUF_C_LABEL_REPEATED &&
            list->fields[i].type == PROTOBUF_C_TYPE_MESSAGE)
            return &list->fields[i];
    return NULL;
}

/* `sql` bound for `req`: one page after page->after (the first from the
 * first key), or with `all` every row from the first key, without limit.
 * NULL after recording a failure. */
static sqlite3_stmt *page_statement(ctx_t *ctx, const page_t *page, const char *sql,
                                    const ProtobufCMessage *req, const char *pattern, int all)
{
    sqlite3_stmt *st = ctx_stmt(ctx, sql);
    if (!st)
        return NULL;
    row_bind(st, req);
    ctx_bind(ctx, st);
    int first = all || !page->after[0];
    if (page->key_int)
        row_bind_int(st, ":after", first ? INT64_MIN : page->after_int);
    else
        row_bind_text(st, ":after", first ? "" : page->after);
    row_bind_int(st, ":page_limit", all ? -1 : page->limit + 1);
    if (sqlite3_bind_parameter_index(st, ":pattern"))
        row_bind_text(st, ":pattern", pattern);
    return st;
}

/* `sql` counted: "SELECT count(*) FROM (sql)", joined without printf,
 * whose byte-at-a-time copy of a registry list's 3 KB of SQL cost more
 * than the count. */
static char *page_count_sql(const char *sql)
{
    static const char head[] = "SELECT count(*) FROM (";
    size_t n = strlen(sql);
    char *out = xmalloc(sizeof head + n + 1);
    memcpy(out, head, sizeof head - 1);
    memcpy(out + sizeof head - 1, sql, n);
    memcpy(out + sizeof head - 1 + n, ")", 2);
    return out;
}

/* Sets the answer's `total`, when it has one: the rows `sql` selects with
 * the request's filters, from the first key. A first page that holds them
 * all (`n` read, no next page) has counted them: the common case of a
 * filtered list is then one statement, not two. */
static void page_count(ctx_t *ctx, const page_t *page, const char *sql, const ProtobufCMessage *req,
                       const char *pattern, ProtobufCMessage *answer, size_t n, int more)
{
    const ProtobufCFieldDescriptor *total =
        protobuf_c_message_descriptor_get_field_by_name(answer->descriptor, "total");
    if (!total)
        return;
    assert(total->type == PROTOBUF_C_TYPE_UINT32 && "a list's total is a uint32");
    if (!page->after[0] && !more) {
        *(uint32_t *)pbmsg_member(answer, total) = (uint32_t)n;
        pbmsg_mark_present(answer, total);
        return;
    }
    char *count_sql = page_count_sql(sql);
    sqlite3_stmt *st = page_statement(ctx, page, count_sql, req, pattern, 1);
    free(count_sql);
    if (!st)
        return;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *(uint32_t *)pbmsg_member(answer, total) = (uint32_t)sqlite3_column_int64(st, 0);
        pbmsg_mark_present(answer, total);
    } else {
        ctx_db_error(ctx, rc, page->list);
    }
    sqlite3_reset(st);
}

int page_answer(ctx_t *ctx, const page_t *page, const char *sql, const ProtobufCMessage *req,
                const char *pattern, const ProtobufCMessageDescriptor *list,
                row_complete_fn complete)
{
    const ProtobufCFieldDescriptor *items = page_items(list);
    const ProtobufCFieldDescriptor *next =
        protobuf_c_message_descriptor_get_field_by_name(list, "next_cursor");
    assert(items && next && "a list answer has items and next_cursor");
    ProtobufCMessage *answer = pbmsg_new(list);
    sqlite3_stmt *st = page_statement(ctx, page, sql, req, pattern, 0);
    if (!st) {
        protobuf_c_message_free_unpacked(answer, NULL);
        return ctx_fail(ctx);
    }
    size_t *n = (size_t *)((char *)answer + items->quantifier_offset);
    char **next_cursor = (char **)pbmsg_member(answer, next);
    *(ProtobufCMessage ***)pbmsg_member(answer, items) =
        page_read(ctx, page, st, items->descriptor, complete, n, next_cursor);
    if (!ctx->problems)
        page_count(ctx, page, sql, req, pattern, answer, *n, *next_cursor != NULL);
    return ctx_finish_free(ctx, answer);
}

/* Answers with a CSV document of every row the list selects with the
 * request's filters. */
static int page_export(ctx_t *ctx, const page_list_t *l, const page_t *page,
                       const ProtobufCMessage *req, const char *pattern)
{
    const ProtobufCFieldDescriptor *items = page_items(l->answer);
    sqlite3_stmt *st = page_statement(ctx, page, l->sql, req, pattern, 1);
    if (!st)
        return ctx_fail(ctx);
    csv_writer_t *w = csv_writer_new();
    csv_writer_header(w, l->csv);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ProtobufCMessage *m = row_read(st, items->descriptor);
        if (l->complete)
            l->complete(m, st);
        csv_writer_message(w, m, l->csv);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        csv_writer_destroy(&w);
        ctx_db_error(ctx, rc, page->list);
        return ctx_fail(ctx);
    }
    size_t len = 0;
    uint8_t *bytes = csv_writer_finish(&w, &len);
    return service_call_reply_document(ctx->call, "text/csv; charset=utf-8", l->csv_name, &bytes,
                                       len);
}

/* NOT_FOUND for each entity a filter names that is not registered. */
static void page_check_refs(ctx_t *ctx, const page_list_t *l, const ProtobufCMessage *msg)
{
    for (const page_ref_t *r = l->refs; r && r->field; r++) {
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, r->field);
        assert(f && f->type == PROTOBUF_C_TYPE_STRING && "a reference is a string field");
        const char *id = *(char *const *)pbmsg_member(msg, f);
        if (id && *id)
            ctx_require(ctx, r->exists, r->field, r->noun, id);
    }
}

/* The version of a list answer: every change appends to the outbox, and
 * filters such as "active today" move with the day. */
static int page_versioned(ctx_t *ctx)
{
    char version[64];
    snprintf(version, sizeof version, "%llu-%s", (unsigned long long)outbox_head(ctx->store),
             ctx->today);
    return service_call_version(ctx->call, version);
}

int page_on_list(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const page_list_t *l = arg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    const char *format = service_call_format(call);
    if (*format && page_versioned(&ctx))
        return STATUS_OK;
    page_t page;
    if (l->key_int)
        page_begin_int(&ctx, &page, l->list, msg);
    else
        page_begin(&ctx, &page, l->list, msg);
    if (l->check)
        l->check(&ctx, msg);
    if (!ctx.problems)
        page_check_refs(&ctx, l, msg);
    char *pattern = NULL;
    if (l->search_max) {
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, "search");
        assert(f && f->type == PROTOBUF_C_TYPE_STRING && "a searchable list has `search`");
        pattern = field_search(&ctx, "search", *(char *const *)pbmsg_member(msg, f), l->search_max);
    }
    int rc;
    if (ctx.problems)
        rc = ctx_fail(&ctx);
    else if (l->csv && strcmp(format, "csv") == 0)
        rc = page_export(&ctx, l, &page, msg, pattern);
    else
        rc = page_answer(&ctx, &page, l->sql, msg, pattern, l->answer, l->complete);
    free(pattern);
    return rc;
}
