/* table_by_hand: the registry's Table mapping as it was written by hand
 * before common/row.c (column by column, parameter by parameter), kept as
 * the baseline bench-row measures the descriptor-driven mapping against. */
#ifndef CONCERTO_BENCH_TABLE_BY_HAND_H
#define CONCERTO_BENCH_TABLE_BY_HAND_H

#include <sqlite3.h>

#include "concerto/registry/v1/registry.pb-c.h"

/* The columns table_by_hand_read expects, in this order. */
#define TABLE_BY_HAND_COLUMNS                                                                      \
    "t.id, t.name, t.acronym, t.territory_id, t.founding_year, t.mandataire_id, t.email, "         \
    "t.phone, t.website, t.address, t.languages, t.incorporated, t.bylaws_adopted_on, "            \
    "t.board_seats, t.meetings_per_year, t.paid_staff, t.status, t.status_since, "                 \
    "t.status_reason, t.status_by, t.source_url, t.notes, t.uncertain, t.created_ms, "             \
    "t.updated_ms"

/* The UPDATE whose parameters 1..20 and 22 table_by_hand_bind sets from
 * the message (2, 4 and 12 are the derived search forms and languages,
 * 21 the time; the caller binds those). */
#define TABLE_BY_HAND_UPDATE                                                                       \
    "UPDATE concertation_table SET name = ?1, name_folded = ?2, acronym = ?3, "                    \
    "acronym_folded = ?4, territory_id = ?5, founding_year = ?6, mandataire_id = ?7, "             \
    "email = ?8, phone = ?9, website = ?10, address = ?11, languages = ?12, "                      \
    "incorporated = ?13, bylaws_adopted_on = ?14, board_seats = ?15, "                             \
    "meetings_per_year = ?16, paid_staff = ?17, source_url = ?18, notes = ?19, "                   \
    "uncertain = ?20, updated_ms = ?21 WHERE id = ?22"

Concerto__Registry__V1__Table *table_by_hand_read(sqlite3_stmt *st);
void table_by_hand_bind(sqlite3_stmt *st, const Concerto__Registry__V1__Table *t);

#endif
