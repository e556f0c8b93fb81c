/* registry_coverage: which Tables cover a place, and the rule that
 * recognized Tables do not overlap.
 *
 * A Table covers its territory and every territory inside it (a borough's
 * neighbourhoods, a sector's municipalities and their neighbourhoods).
 * At any date at most one recognized Table has a given territory: never
 * waivable. A recognized Table whose territory contains, or lies inside,
 * another recognized Table's overlaps it: refused unless either Table
 * holds an admin's overlap_justification (the sources have sector-wide
 * and borough-wide Tables). Recognized periods come from the decisions,
 * each until the next; a period from an unknown date counts from before
 * any date. A request is not a decision: any group may register and
 * apply anywhere, and is told which Tables cover its territory. Archived
 * Tables (entered by mistake) cover nothing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "registry.h"
#include "row.h"
#include "xalloc.h"

typedef Concerto__Registry__V1__CoveringTable reg_covering_t;

/* The territories that overlap the place ?1, each with how a Table on it
 * relates to the place: same, contains (a borough-wide or sector-wide
 * Table) or within (a Table inside it). Found by index, whatever the
 * number of Tables. */
#define COVERAGE_PLACES                                                                            \
    "WITH place(id, relation) AS (SELECT ?1, 'same'"                                               \
    " UNION ALL SELECT ancestor_id, 'contains' FROM territory_within"                              \
    "  WHERE id = ?1 AND ancestor_id <> ?1"                                                        \
    " UNION ALL SELECT id, 'within' FROM territory_within"                                         \
    "  WHERE ancestor_id = ?1 AND id <> ?1) "

#define COVERAGE_SELECT                                                                            \
    COVERAGE_PLACES "SELECT t.id AS table_id, t.name, t.territory_id, t.status, place.relation,"   \
                    " t.overlap_justification FROM place"                                          \
                    " JOIN concertation_table t ON t.territory_id = place.id"                      \
                    " WHERE t.status NOT IN ('withdrawn', 'refused') AND t.archived_ms IS NULL"

size_t registry_coverage_of(ctx_t *ctx, const char *territory_id, const char *except,
                            int recognized_only, reg_covering_t ***out)
{
    *out = NULL;
    sqlite3_stmt *st =
        ctx_stmt(ctx, recognized_only ? COVERAGE_SELECT " AND t.status = 'recognized'"
                                                        " AND t.id <> ?2 ORDER BY t.id"
                                      : COVERAGE_SELECT " AND t.id <> ?2"
                                                        " ORDER BY t.status <> 'recognized', t.id");
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, territory_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, except ? except : "", -1, SQLITE_TRANSIENT);
    return ctx_read_all(ctx, st, &concerto__registry__v1__covering_table__descriptor,
                        REGISTRY_COVERAGE_MAX, (ProtobufCMessage ***)out, NULL);
}

void registry_coverage_check(ctx_t *ctx, const char *table_id, const char *territory_id,
                             const char *from, const char *justification, const char *path)
{
    /* Each recognized period from its decision's date (unknown: from
     * before any date) to the next decision's. */
    sqlite3_stmt *st = ctx_stmt(
        ctx, COVERAGE_PLACES "SELECT t.id, place.relation, t.overlap_justification,"
                             " COALESCE(min(CASE WHEN c.effective_known THEN c.effective_on END),"
                             " 'an unknown date') FROM place"
                             " JOIN concertation_table t ON t.territory_id = place.id"
                             " JOIN recognition_change c ON c.table_id = t.id"
                             " AND c.to_status = 'recognized'"
                             " WHERE t.id <> ?2 AND t.archived_ms IS NULL"
                             " AND COALESCE((SELECT n.effective_on FROM recognition_change n"
                             "  WHERE n.table_id = c.table_id AND n.id > c.id ORDER BY n.id"
                             "  LIMIT 1), '9999') > ?3"
                             " GROUP BY t.id ORDER BY place.relation <> 'same', t.id");
    if (!st)
        return;
    sqlite3_bind_text(st, 1, territory_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, table_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, from, -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *other = (const char *)sqlite3_column_text(st, 0);
        const char *relation = (const char *)sqlite3_column_text(st, 1);
        const char *since = (const char *)sqlite3_column_text(st, 3);
        if (strcmp(relation, "same") == 0)
            ctx_violation(ctx, STATUS_CONFLICT, path,
                          "Table %s is recognized on territory %s (from %s): at most one "
                          "recognized Table covers a territory",
                          other, territory_id, since);
        else if (!justification && sqlite3_column_type(st, 2) == SQLITE_NULL)
            ctx_violation(ctx, STATUS_CONFLICT, path,
                          "Table %s, recognized (from %s), covers a territory that %s %s: "
                          "recognized Tables do not overlap unless an admin records an "
                          "overlap_justification",
                          other, since, strcmp(relation, "contains") == 0 ? "contains" : "lies in",
                          territory_id);
    }
    if (rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, path);
    sqlite3_reset(st);
}

int registry_handle_get_coverage(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__GetCoverageRequest *req = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    field_slug(&ctx, "territory_id", req->territory_id, FIELD_REQUIRED);
    if (!ctx.problems)
        ctx_require(&ctx, REGISTRY_TERRITORY_EXISTS, "territory_id", "territory",
                    req->territory_id);
    if (ctx.problems)
        return ctx_fail(&ctx);
    Concerto__Registry__V1__Coverage res = CONCERTO__REGISTRY__V1__COVERAGE__INIT;
    res.territory_id = req->territory_id;
    res.n_tables = registry_coverage_of(&ctx, req->territory_id, NULL, 0, &res.tables);
    int rc = ctx_finish(&ctx, &res.base);
    for (size_t i = 0; i < res.n_tables; i++)
        protobuf_c_message_free_unpacked(&res.tables[i]->base, NULL);
    free(res.tables);
    return rc;
}
