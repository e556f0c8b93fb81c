/* row: protobuf messages to and from SQLite rows, by name, from
 * protobuf-c's descriptors (as the gateway's pb_json maps them to JSON).
 *
 * Reading: each result column whose name is a field path of the message
 * sets that field; sub-message fields are reached with "__" between the
 * names (`t.email AS contact__email` sets contact.email). Binding: each
 * named parameter (`:name`, `@name` or `$name`) whose name is a field path
 * gets that field's value. Mapped:
 *   - scalars (integers, bool as 0/1, float, double), enums (by number),
 *     strings and bytes, singular sub-messages' fields at any depth;
 *   - presence both ways: NULL is an absent field, an absent field (or
 *     one inside an absent sub-message) binds NULL, and an empty string
 *     binds NULL too (storage keeps no empty text); a sub-message is
 *     created on reading when one of its columns is not NULL.
 * Left to the handler: repeated fields (neither read nor bound), columns
 * and parameters that name no field (a folded name, "now", the actor),
 * and any conversion (a column that stores text for an enum, say): bind
 * or read those yourself, before or after, with row_bind_text/_int and
 * row_text. A column may hide a stored default from the mapping in SQL
 * (`NULLIF(uncertain, 0) AS uncertain`).
 *
 * The name-to-field plan of a statement is cached per thread, keyed by its
 * SQL text and message type (nothing depends on statement addresses). */
#ifndef CONCERTO_ROW_H
#define CONCERTO_ROW_H

#include <protobuf-c/protobuf-c.h>
#include <sqlite3.h>
#include <stdint.h>

/* Fills what the mapping leaves to the handler (a repeated field, say)
 * from the row just read into `msg`. */
typedef void (*row_complete_fn)(ProtobufCMessage *msg, sqlite3_stmt *st);

/* A new message of type `desc` from the current row of `st` (freed with
 * protobuf_c_message_free_unpacked(msg, NULL)). */
ProtobufCMessage *row_read(sqlite3_stmt *st, const ProtobufCMessageDescriptor *desc);
/* Binds `msg`'s fields to the parameters of `st` that name them. */
void row_bind(sqlite3_stmt *st, const ProtobufCMessage *msg);

/* Binds parameter `name` (":now"), which must exist in `st`; NULL text
 * binds NULL. */
void row_bind_text(sqlite3_stmt *st, const char *name, const char *s);
void row_bind_int(sqlite3_stmt *st, const char *name, int64_t v);
/* Column `i` as a new string, or NULL when it is NULL. */
char *row_text(sqlite3_stmt *st, int i);
/* The index of the result column named `name`, or -1: for what a
 * `complete` hook reads itself (a repeated field kept as text). */
int row_column(sqlite3_stmt *st, const char *name);

#endif
