/* table_by_hand: the hand-written Table mapping (see table_by_hand.h). */
#include "table_by_hand.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

typedef Concerto__Registry__V1__Table reg_table_t;
typedef Concerto__Registry__V1__Contact reg_contact_t;
typedef Concerto__Registry__V1__Governance reg_governance_t;
typedef Concerto__Registry__V1__Recognition reg_recognition_t;

static char *column_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? xstrdup((const char *)t) : NULL;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void bind_opt_int(sqlite3_stmt *st, int i, int has, int64_t v)
{
    if (has)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static int has_any(sqlite3_stmt *st, int from, int to)
{
    for (int i = from; i <= to; i++)
        if (sqlite3_column_type(st, i) != SQLITE_NULL)
            return 1;
    return 0;
}

static void languages_from_text(reg_table_t *t, const char *text)
{
    if (!text || !*text)
        return;
    size_t n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ' ';
    t->languages = xcalloc(n, sizeof *t->languages);
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, " ");
        if (len)
            t->languages[t->n_languages++] = xstrndup(p, len);
        p += len;
        while (*p == ' ')
            p++;
    }
}

reg_table_t *table_by_hand_read(sqlite3_stmt *st)
{
    reg_table_t *t = xmalloc(sizeof *t);
    concerto__registry__v1__table__init(t);
    t->id = column_text(st, 0);
    t->name = column_text(st, 1);
    t->acronym = column_text(st, 2);
    t->territory_id = column_text(st, 3);
    if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
        t->has_founding_year = 1;
        t->founding_year = sqlite3_column_int(st, 4);
    }
    t->mandataire_id = column_text(st, 5);
    if (has_any(st, 6, 9)) {
        t->contact = xmalloc(sizeof *t->contact);
        concerto__registry__v1__contact__init(t->contact);
        t->contact->email = column_text(st, 6);
        t->contact->phone = column_text(st, 7);
        t->contact->website = column_text(st, 8);
        t->contact->address = column_text(st, 9);
    }
    languages_from_text(t, (const char *)sqlite3_column_text(st, 10));
    if (has_any(st, 11, 15)) {
        reg_governance_t *g = t->governance = xmalloc(sizeof *g);
        concerto__registry__v1__governance__init(g);
        if ((g->has_incorporated = sqlite3_column_type(st, 11) != SQLITE_NULL))
            g->incorporated = sqlite3_column_int(st, 11) != 0;
        g->bylaws_adopted_on = column_text(st, 12);
        if ((g->has_board_seats = sqlite3_column_type(st, 13) != SQLITE_NULL))
            g->board_seats = (uint32_t)sqlite3_column_int(st, 13);
        if ((g->has_meetings_per_year = sqlite3_column_type(st, 14) != SQLITE_NULL))
            g->meetings_per_year = (uint32_t)sqlite3_column_int(st, 14);
        if ((g->has_paid_staff = sqlite3_column_type(st, 15) != SQLITE_NULL))
            g->paid_staff = (uint32_t)sqlite3_column_int(st, 15);
    }
    reg_recognition_t *r = t->recognition = xmalloc(sizeof *r);
    concerto__registry__v1__recognition__init(r);
    r->status = column_text(st, 16);
    r->since = column_text(st, 17);
    r->reason = column_text(st, 18);
    r->changed_by = column_text(st, 19);
    t->source_url = column_text(st, 20);
    t->notes = column_text(st, 21);
    if (sqlite3_column_int(st, 22)) {
        t->has_uncertain = 1;
        t->uncertain = 1;
    }
    t->has_created_ms = t->has_updated_ms = 1;
    t->created_ms = sqlite3_column_int64(st, 23);
    t->updated_ms = sqlite3_column_int64(st, 24);
    return t;
}

void table_by_hand_bind(sqlite3_stmt *st, const reg_table_t *t)
{
    static const reg_contact_t no_contact = CONCERTO__REGISTRY__V1__CONTACT__INIT;
    static const reg_governance_t no_governance = CONCERTO__REGISTRY__V1__GOVERNANCE__INIT;
    const reg_contact_t *c = t->contact ? t->contact : &no_contact;
    const reg_governance_t *g = t->governance ? t->governance : &no_governance;
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_TRANSIENT);
    bind_text(st, 3, t->acronym);
    sqlite3_bind_text(st, 5, t->territory_id, -1, SQLITE_TRANSIENT);
    bind_opt_int(st, 6, t->has_founding_year, t->founding_year);
    bind_text(st, 7, t->mandataire_id);
    bind_text(st, 8, c->email);
    bind_text(st, 9, c->phone);
    bind_text(st, 10, c->website);
    bind_text(st, 11, c->address);
    bind_opt_int(st, 13, g->has_incorporated, g->incorporated ? 1 : 0);
    bind_text(st, 14, g->bylaws_adopted_on);
    bind_opt_int(st, 15, g->has_board_seats, g->board_seats);
    bind_opt_int(st, 16, g->has_meetings_per_year, g->meetings_per_year);
    bind_opt_int(st, 17, g->has_paid_staff, g->paid_staff);
    bind_text(st, 18, t->source_url);
    bind_text(st, 19, t->notes);
    sqlite3_bind_int(st, 20, t->has_uncertain && t->uncertain);
    sqlite3_bind_text(st, 22, t->id, -1, SQLITE_TRANSIENT);
}
