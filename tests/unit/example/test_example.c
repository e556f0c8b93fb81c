/* The example daemon's handlers through the runtime, as a new daemon's
 * tests are written (docs/new-service.md): a store with its schema, its
 * spec's handler table, requests as envelopes, replies checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "concerto/example/v1/example.pb-c.h"
#include "example.h"
#include "log.h"
#include "outbox.h"

typedef Concerto__Example__V1__Note note_t;

typedef struct {
    store_t *store;
    service_t *svc;
} fixture_t;

static fixture_t *F;

static int setup(void **state)
{
    log_set_level(LOG_ERROR);
    fixture_t *f = F = calloc(1, sizeof *f);
    char err[256];
    store_options_t opt = {":memory:", NULL, 0};
    f->store =
        store_open(&opt, example_spec.migrations, example_spec.n_migrations, err, sizeof err);
    assert_non_null(f->store);
    f->svc = service_new_for_test("example", f->store);
    assert_int_equal(
        service_handle(f->svc, example_spec.handlers, example_spec.n_handlers, example_spec.arg),
        0);
    /* What the registry's TableRegistered events would have brought. */
    assert_int_equal(store_exec(f->store, "INSERT INTO known_table VALUES('tqmn', 'TQMN')"), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    service_destroy(&f->svc);
    store_destroy(&f->store);
    free(f);
    return 0;
}

/* Expects `status`; on OK unpacks the result as `desc` into *out when
 * given. With a `field`, expects a violation of it. */
static void expect(const ProtobufCMessage *msg, int status, const char *field,
                   const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
    Concerto__Common__V1__Reply *r = service_submit(F->svc, msg, "operator:alice");
    assert_non_null(r);
    if ((int)r->status != status)
        fail_msg("%s: expected %d, got %d: %s", msg->descriptor->short_name, status, (int)r->status,
                 r->message);
    int found = !field;
    for (size_t i = 0; field && i < r->n_fields; i++)
        found |= strcmp(r->fields[i]->field, field) == 0;
    assert_true(found);
    if (out)
        *out = protobuf_c_message_unpack(desc, NULL, r->result.len, r->result.data);
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

static void register_note(const char *id, const char *table_id, const char *text, int status,
                          const char *field)
{
    note_t n = CONCERTO__EXAMPLE__V1__NOTE__INIT;
    n.id = (char *)id;
    n.table_id = (char *)table_id;
    n.text = (char *)text;
    Concerto__Example__V1__RegisterNoteRequest req =
        CONCERTO__EXAMPLE__V1__REGISTER_NOTE_REQUEST__INIT;
    req.note = &n;
    expect(&req.base, status, field, NULL, NULL);
}

static int64_t count(const char *sql)
{
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(store_db(F->store), sql, -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void test_register_checks_the_rules_and_emits(void **state)
{
    (void)state;
    register_note("n1", "tqmn", "Forum le 12 mars", STATUS_OK, NULL);
    register_note("n1", "tqmn", "again", STATUS_CONFLICT, "note.id");
    register_note("n2", "nowhere", "x", STATUS_NOT_FOUND, "note.table_id");
    register_note("N 3", "tqmn", "", STATUS_INVALID_ARGUMENT, "note.text");
    Concerto__Example__V1__RegisterNoteRequest empty =
        CONCERTO__EXAMPLE__V1__REGISTER_NOTE_REQUEST__INIT;
    expect(&empty.base, STATUS_INVALID_ARGUMENT, "note", NULL, NULL);
    assert_int_equal(count("SELECT count(*) FROM outbox WHERE subject = 'note:n1'"), 1);
}

static void test_update_is_partial_and_lists_what_changed(void **state)
{
    (void)state;
    register_note("n1", "tqmn", "Forum le 12 mars", STATUS_OK, NULL);
    note_t n = CONCERTO__EXAMPLE__V1__NOTE__INIT;
    n.text = "Forum le 19 mars";
    Concerto__Example__V1__UpdateNoteRequest req = CONCERTO__EXAMPLE__V1__UPDATE_NOTE_REQUEST__INIT;
    req.id = "n1";
    req.note = &n;
    ProtobufCMessage *out = NULL;
    expect(&req.base, STATUS_OK, NULL, &concerto__example__v1__note__descriptor, &out);
    note_t *got = (note_t *)out;
    assert_string_equal(got->text, "Forum le 19 mars");
    assert_string_equal(got->table_id, "tqmn");
    protobuf_c_message_free_unpacked(out, NULL);
    /* The same again changes nothing and emits nothing. */
    expect(&req.base, STATUS_OK, NULL, NULL, NULL);
    assert_int_equal(count("SELECT count(*) FROM outbox WHERE type LIKE '%NoteUpdated'"), 1);
    n.has_created_ms = 1;
    expect(&req.base, STATUS_INVALID_ARGUMENT, "note.created_ms", NULL, NULL);
}

static void test_get_and_list_answer_from_the_rows(void **state)
{
    (void)state;
    register_note("n1", "tqmn", "Forum le 12 mars", STATUS_OK, NULL);
    register_note("n2", "tqmn", "Assemblée générale", STATUS_OK, NULL);
    Concerto__Example__V1__GetNoteRequest get = CONCERTO__EXAMPLE__V1__GET_NOTE_REQUEST__INIT;
    get.id = "n3";
    expect(&get.base, STATUS_NOT_FOUND, "id", NULL, NULL);
    Concerto__Example__V1__ListNotesRequest list = CONCERTO__EXAMPLE__V1__LIST_NOTES_REQUEST__INIT;
    list.search = "assemblee";
    ProtobufCMessage *out = NULL;
    expect(&list.base, STATUS_OK, NULL, &concerto__example__v1__note_list__descriptor, &out);
    Concerto__Example__V1__NoteList *l = (void *)out;
    assert_int_equal(l->n_notes, 1);
    assert_string_equal(l->notes[0]->id, "n2");
    assert_null(l->next_cursor);
    protobuf_c_message_free_unpacked(out, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_checks_the_rules_and_emits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_is_partial_and_lists_what_changed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_get_and_list_answer_from_the_rows, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
