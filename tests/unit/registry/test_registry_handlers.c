/* The registry's handlers through the runtime (service_dispatch_frame):
 * commands, queries, validation and error statuses, partial updates, the
 * recognition state machine, memberships, characteristics, history,
 * imports, demo data and idempotent retries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../common/service_fixture.h"
#include "outbox.h"
#include "registry_schema.h"
#include "registry_service.h"
#include "registry_vocabulary.h"
#include "uuid.h"

static fixture_t *F;
static registry_config_t config;
static int as_admin; /* requests come from an admin (the gateway's caller) */

static int setup(void **state)
{
    F = fixture_new("registry", registry_migrations, registry_migration_count, NULL, 0);
    config = (registry_config_t){3, 3, 4, 0};
    as_admin = 0;
    char err[256];
    assert_int_equal(registry_vocabulary_load(REGISTRY_VOCABULARY_DEFAULT, err, sizeof err), 0);
    assert_int_equal(registry_register_handlers(F->svc, &config), 0);
    *state = F;
    return 0;
}

/* A packed request envelope (caller frees) from `actor` ("operator:alice"
 * when NULL); `id` (16 bytes) may be NULL for a fresh one. */
static uint8_t *frame_of(const ProtobufCMessage *msg, const char *actor, const uint8_t *id,
                         size_t *len)
{
    fixture_request_t r;
    envelope_t *env = fixture_request(&r, "test", msg);
    if (id)
        memcpy(r.id, id, 16);
    env->actor = (char *)(actor ? actor : "operator:alice");
    Concerto__Common__V1__Caller caller = CONCERTO__COMMON__V1__CALLER__INIT;
    caller.has_role = 1;
    caller.role = as_admin ? CONCERTO__COMMON__V1__ROLE__ROLE_ADMIN
                           : CONCERTO__COMMON__V1__ROLE__ROLE_OPERATOR;
    env->caller = &caller;
    return fixture_pack(&r, len);
}

/* Sends `msg`; returns the Reply (caller frees). */
static Concerto__Common__V1__Reply *send_raw(const ProtobufCMessage *msg, const char *actor,
                                             const uint8_t *id)
{
    size_t len = 0;
    uint8_t *frame = frame_of(msg, actor, id, &len);
    Concerto__Common__V1__Reply *r = fixture_dispatch(F, frame, len, 4 << 20);
    free(frame);
    return r;
}

/* Sends `msg`, expects `status`; on OK unpacks the result as `desc` into
 * *out when both are given. */
static void send_expect(const ProtobufCMessage *msg, int status,
                        const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
    Concerto__Common__V1__Reply *r = send_raw(msg, NULL, NULL);
    if ((int)r->status != status)
        fail_msg("%s: expected %d, got %d: %s", msg->descriptor->short_name, status, (int)r->status,
                 r->message);
    if (out) {
        assert_string_equal(r->result_type, desc->name);
        *out = protobuf_c_message_unpack(desc, NULL, r->result.len, r->result.data);
        assert_non_null(*out);
    }
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

/* Sends `msg`, expects `status` and a violation of `field` whose
 * description contains `text` (either may be NULL). */
static void send_violation(const ProtobufCMessage *msg, int status, const char *field,
                           const char *text)
{
    Concerto__Common__V1__Reply *r = send_raw(msg, NULL, NULL);
    if ((int)r->status != status)
        fail_msg("%s: expected %d, got %d: %s", msg->descriptor->short_name, status, (int)r->status,
                 r->message);
    if (field) {
        int found = 0;
        for (size_t i = 0; i < r->n_fields; i++)
            if (strcmp(r->fields[i]->field, field) == 0 &&
                (!text || strstr(r->fields[i]->description, text)))
                found = 1;
        if (!found) {
            for (size_t i = 0; i < r->n_fields; i++)
                print_message("  %s: %s\n", r->fields[i]->field, r->fields[i]->description);
            fail_msg("no violation %s containing '%s' (message: %s)", field, text ? text : "",
                     r->message);
        }
    }
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

/* --------------------------------------------------------------- fixtures */

static void add_territory(const char *id, const char *name, const char *kind, const char *parent)
{
    reg_territory_t t = CONCERTO__REGISTRY__V1__TERRITORY__INIT;
    t.id = (char *)id;
    t.name = (char *)name;
    t.kind = (char *)kind;
    t.parent_id = (char *)parent;
    Concerto__Registry__V1__RegisterTerritoryRequest req =
        CONCERTO__REGISTRY__V1__REGISTER_TERRITORY_REQUEST__INIT;
    req.territory = &t;
    send_expect(&req.base, STATUS_OK, NULL, NULL);
}

static void add_org(const char *id, const char *sector, const char *network, const char *neq)
{
    reg_organization_t o = CONCERTO__REGISTRY__V1__ORGANIZATION__INIT;
    o.id = (char *)id;
    o.name = (char *)id;
    o.sector = (char *)sector;
    o.network = (char *)network;
    o.neq = (char *)neq;
    Concerto__Registry__V1__RegisterOrganizationRequest req =
        CONCERTO__REGISTRY__V1__REGISTER_ORGANIZATION_REQUEST__INIT;
    req.organization = &o;
    send_expect(&req.base, STATUS_OK, NULL, NULL);
}

static void add_table(const char *id, const char *name, const char *territory,
                      const char *mandataire)
{
    reg_table_t t = CONCERTO__REGISTRY__V1__TABLE__INIT;
    t.id = (char *)id;
    t.name = (char *)name;
    t.territory_id = (char *)territory;
    t.mandataire_id = (char *)mandataire;
    Concerto__Registry__V1__RegisterTableRequest req =
        CONCERTO__REGISTRY__V1__REGISTER_TABLE_REQUEST__INIT;
    req.table = &t;
    send_expect(&req.base, STATUS_OK, NULL, NULL);
}

static void base_world(void)
{
    add_territory("cote-des-neiges-notre-dame-de-grace", "Côte-des-Neiges–Notre-Dame-de-Grâce",
                  "borough", NULL);
    add_territory("notre-dame-de-grace", "Notre-Dame-de-Grâce", "neighbourhood",
                  "cote-des-neiges-notre-dame-de-grace");
    add_territory("montreal-nord", "Montréal-Nord", "borough", NULL);
    add_org("tqmn-org", "community", "community", "1140000001");
    add_table("tqmn", "Table de quartier de Montréal-Nord", "montreal-nord", "tqmn-org");
    add_table("ndg", "Conseil communautaire Notre-Dame-de-Grâce", "notre-dame-de-grace", NULL);
}

static reg_table_t *get_table(const char *id)
{
    Concerto__Registry__V1__GetTableRequest req = CONCERTO__REGISTRY__V1__GET_TABLE_REQUEST__INIT;
    req.id = (char *)id;
    ProtobufCMessage *out = NULL;
    send_expect(&req.base, STATUS_OK, &concerto__registry__v1__table__descriptor, &out);
    return (reg_table_t *)out;
}

/* A decision with an admin's justification (NULL: none). */
static void decide(const char *id, const char *status, const char *on, const char *justification,
                   int expect)
{
    Concerto__Registry__V1__ChangeRecognitionRequest req =
        CONCERTO__REGISTRY__V1__CHANGE_RECOGNITION_REQUEST__INIT;
    req.table_id = (char *)id;
    req.status = (char *)status;
    req.effective_on = (char *)on;
    req.reason = "comité de pilotage";
    req.justification = (char *)justification;
    as_admin = justification != NULL;
    send_expect(&req.base, expect, NULL, NULL);
    as_admin = 0;
}

static void change_status(const char *id, const char *status, const char *on, int expect)
{
    decide(id, status, on, NULL, expect);
}

/* ------------------------------------------------------------------ tests */

static void test_register_and_get_a_table(void **state)
{
    (void)state;
    base_world();
    reg_table_t *t = get_table("tqmn");
    assert_string_equal(t->name, "Table de quartier de Montréal-Nord");
    assert_string_equal(t->territory_id, "montreal-nord");
    assert_string_equal(t->mandataire_id, "tqmn-org");
    assert_string_equal(t->recognition->status, "requested");
    assert_string_equal(t->recognition->changed_by, "operator:alice");
    assert_true(t->has_created_ms);
    protobuf_c_message_free_unpacked(&t->base, NULL);
    /* 3 territories, 1 organization: one event each; each Table its
     * registration and first status, and tqmn its mandataire. */
    assert_int_equal(outbox_head(F->store), 9);
    assert_int_equal(fixture_count(F,
                                   "SELECT count(*) FROM outbox WHERE subject = 'table:tqmn' AND "
                                   "actor = 'operator:alice'"),
                     3);
}

static void test_get_unknown_table_is_not_found(void **state)
{
    (void)state;
    Concerto__Registry__V1__GetTableRequest req = CONCERTO__REGISTRY__V1__GET_TABLE_REQUEST__INIT;
    req.id = "nowhere";
    send_violation(&req.base, STATUS_NOT_FOUND, "id", "not registered");
    req.id = "Bad Id";
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "id", "a-z");
}

static void test_register_table_validates_every_field(void **state)
{
    (void)state;
    base_world();
    reg_contact_t c = CONCERTO__REGISTRY__V1__CONTACT__INIT;
    c.email = "not-an-email";
    c.phone = "555-0123";
    c.website = "www.example.org";
    reg_governance_t g = CONCERTO__REGISTRY__V1__GOVERNANCE__INIT;
    g.bylaws_adopted_on = "2023-02-29";
    g.has_meetings_per_year = 1;
    g.meetings_per_year = 400;
    char *langs[] = {"fr", "FR", "fr"};
    reg_table_t t = CONCERTO__REGISTRY__V1__TABLE__INIT;
    t.id = "Bad_Slug";
    t.name = "";
    t.territory_id = "montreal-nord";
    t.has_founding_year = 1;
    t.founding_year = 1700;
    t.contact = &c;
    t.governance = &g;
    t.n_languages = 3;
    t.languages = langs;
    Concerto__Registry__V1__RegisterTableRequest req =
        CONCERTO__REGISTRY__V1__REGISTER_TABLE_REQUEST__INIT;
    req.table = &t;
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "table.id", "a-z");
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "table.name", "required");
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "table.founding_year", "between");
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "table.contact.email", "e-mail");
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "table.contact.phone", "North American");
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "table.contact.website", "http");
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "table.governance.bylaws_adopted_on",
                   "calendar date");
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "table.governance.meetings_per_year",
                   "between 0 and 365");
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "table.languages[1]", "ISO 639");
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "table.languages[2]", "repeats");
    char *long_name = malloc(202);
    memset(long_name, 'a', 201);
    long_name[201] = '\0';
    t.id = "ok-id";
    t.name = long_name;
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "table.name", "at most 200");
    t.name = "caf\xC3";
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "table.name", "UTF-8");
    free(long_name);
    assert_int_equal(fixture_count(F, "SELECT count(*) FROM concertation_table"), 2);
}

static void test_register_table_reports_unknown_references(void **state)
{
    (void)state;
    base_world();
    reg_table_t t = CONCERTO__REGISTRY__V1__TABLE__INIT;
    t.id = "ghost";
    t.name = "Ghost";
    t.territory_id = "atlantis";
    t.mandataire_id = "nobody";
    Concerto__Registry__V1__RegisterTableRequest req =
        CONCERTO__REGISTRY__V1__REGISTER_TABLE_REQUEST__INIT;
    req.table = &t;
    send_violation(&req.base, STATUS_NOT_FOUND, "table.territory_id", "atlantis");
    send_violation(&req.base, STATUS_NOT_FOUND, "table.mandataire_id", "nobody");
    Concerto__Registry__V1__RegisterTableRequest empty =
        CONCERTO__REGISTRY__V1__REGISTER_TABLE_REQUEST__INIT;
    send_violation(&empty.base, STATUS_INVALID_ARGUMENT, "table", "required");
}

static void test_duplicates_are_conflicts(void **state)
{
    (void)state;
    base_world();
    reg_table_t t = CONCERTO__REGISTRY__V1__TABLE__INIT;
    t.id = "tqmn";
    t.name = "Again";
    t.territory_id = "montreal-nord";
    Concerto__Registry__V1__RegisterTableRequest req =
        CONCERTO__REGISTRY__V1__REGISTER_TABLE_REQUEST__INIT;
    req.table = &t;
    send_violation(&req.base, STATUS_CONFLICT, "table.id", "already registered");
    reg_organization_t o = CONCERTO__REGISTRY__V1__ORGANIZATION__INIT;
    o.id = "other-org";
    o.name = "Other";
    o.sector = "housing";
    o.network = "community";
    o.neq = "1140000001";
    Concerto__Registry__V1__RegisterOrganizationRequest oreq =
        CONCERTO__REGISTRY__V1__REGISTER_ORGANIZATION_REQUEST__INIT;
    oreq.organization = &o;
    send_violation(&oreq.base, STATUS_CONFLICT, "organization.neq", "tqmn-org");
    o.neq = "12345";
    send_violation(&oreq.base, STATUS_INVALID_ARGUMENT, "organization.neq", "10 digits");
    o.neq = NULL;
    o.sector = "healthcare";
    send_violation(&oreq.base, STATUS_INVALID_ARGUMENT, "organization.sector",
                   "health_social_services");
}

static void test_read_only_fields_are_refused(void **state)
{
    (void)state;
    base_world();
    reg_recognition_t r = CONCERTO__REGISTRY__V1__RECOGNITION__INIT;
    r.status = "recognized";
    reg_table_t t = CONCERTO__REGISTRY__V1__TABLE__INIT;
    t.recognition = &r;
    t.has_created_ms = 1;
    Concerto__Registry__V1__UpdateTableRequest req =
        CONCERTO__REGISTRY__V1__UPDATE_TABLE_REQUEST__INIT;
    req.id = "tqmn";
    req.table = &t;
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "table.recognition", "read-only");
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "table.created_ms", "read-only");
}

static void test_update_is_partial_and_emits_changed_fields(void **state)
{
    (void)state;
    base_world();
    reg_contact_t c = CONCERTO__REGISTRY__V1__CONTACT__INIT;
    c.email = "info@tqmn.ca";
    c.phone = "514-555-0123 poste 2";
    reg_table_t t = CONCERTO__REGISTRY__V1__TABLE__INIT;
    t.acronym = "TQMN";
    t.contact = &c;
    Concerto__Registry__V1__UpdateTableRequest req =
        CONCERTO__REGISTRY__V1__UPDATE_TABLE_REQUEST__INIT;
    req.id = "tqmn";
    req.table = &t;
    uint64_t head = outbox_head(F->store);
    send_expect(&req.base, STATUS_OK, NULL, NULL);
    assert_int_equal(outbox_head(F->store), head + 1);
    reg_table_t *got = get_table("tqmn");
    assert_string_equal(got->acronym, "TQMN");
    assert_string_equal(got->contact->email, "info@tqmn.ca");
    assert_string_equal(got->name, "Table de quartier de Montréal-Nord");
    assert_string_equal(got->mandataire_id, "tqmn-org");
    protobuf_c_message_free_unpacked(&got->base, NULL);

    /* Only the phone; the e-mail stays; "" clears the acronym. */
    reg_contact_t c2 = CONCERTO__REGISTRY__V1__CONTACT__INIT;
    c2.phone = "(514) 555-0199";
    reg_table_t t2 = CONCERTO__REGISTRY__V1__TABLE__INIT;
    t2.contact = &c2;
    t2.acronym = "";
    req.table = &t2;
    send_expect(&req.base, STATUS_OK, NULL, NULL);
    got = get_table("tqmn");
    assert_null(got->acronym);
    assert_string_equal(got->contact->email, "info@tqmn.ca");
    assert_string_equal(got->contact->phone, "(514) 555-0199");
    protobuf_c_message_free_unpacked(&got->base, NULL);

    /* No change: OK and no event. */
    head = outbox_head(F->store);
    send_expect(&req.base, STATUS_OK, NULL, NULL);
    assert_int_equal(outbox_head(F->store), head);

    /* The event names exactly what changed. */
    Concerto__Registry__V1__GetTableHistoryRequest h =
        CONCERTO__REGISTRY__V1__GET_TABLE_HISTORY_REQUEST__INIT;
    h.table_id = "tqmn";
    ProtobufCMessage *out = NULL;
    send_expect(&h.base, STATUS_OK, &concerto__registry__v1__table_history__descriptor, &out);
    Concerto__Registry__V1__TableHistory *hist = (void *)out;
    assert_int_equal(hist->n_entries, 5);
    Concerto__Registry__V1__TableUpdated *u = hist->entries[4]->table_updated;
    assert_non_null(u);
    assert_int_equal(u->n_changed_fields, 2);
    assert_string_equal(u->changed_fields[0], "acronym");
    assert_string_equal(u->changed_fields[1], "contact.phone");
    assert_string_equal(u->actor, "operator:alice");
    protobuf_c_message_free_unpacked(out, NULL);

    /* A required field cannot be cleared; a changed id is refused. */
    reg_table_t t3 = CONCERTO__REGISTRY__V1__TABLE__INIT;
    t3.name = "";
    req.table = &t3;
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "table.name", "required");
    t3.name = NULL;
    t3.id = "other";
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "table.id", "never change");
    req.id = "nope";
    t3.id = NULL;
    send_violation(&req.base, STATUS_NOT_FOUND, "id", "nope");
}

static void test_recognition_follows_the_state_machine(void **state)
{
    (void)state;
    base_world();
    Concerto__Registry__V1__ChangeRecognitionRequest req =
        CONCERTO__REGISTRY__V1__CHANGE_RECOGNITION_REQUEST__INIT;
    req.table_id = "tqmn";
    req.status = "recognized";
    req.reason = "skip the review";
    send_violation(&req.base, STATUS_FAILED_PRECONDITION, "status",
                   "the Table is requested and cannot become recognized");
    req.reason = NULL;
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "reason", "required");
    req.reason = "x";
    req.status = "approved";
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "status", "under_review");

    /* Registered today: a change cannot take effect before that. */
    change_status("tqmn", "under_review", NULL, STATUS_OK);
    req.status = "recognized";
    req.effective_on = "2000-01-01";
    send_violation(&req.base, STATUS_FAILED_PRECONDITION, "effective_on",
                   "when the Table was registered");
    /* Nothing of the four is met: recognizing needs an admin's
     * justification, which names what it waives. */
    req.effective_on = NULL;
    send_violation(&req.base, STATUS_FAILED_PRECONDITION, "justification",
                   "intersectoral multi_network structured_permanent networking_synergy");
    req.justification = "new Table";
    send_violation(&req.base, STATUS_PERMISSION_DENIED, "justification", "admin");
    decide("tqmn", "recognized", NULL, "new Table, members being recruited", STATUS_OK);
    reg_table_t *t = get_table("tqmn");
    assert_string_equal(t->recognition->justification, "new Table, members being recruited");
    assert_int_equal(t->recognition->n_unmet_characteristics, 4);
    assert_string_equal(t->recognition->origin, "decision");
    assert_true(t->recognition->has_since_known && t->recognition->since_known);
    protobuf_c_message_free_unpacked(&t->base, NULL);
    change_status("tqmn", "suspended", NULL, STATUS_OK);
    req.status = "suspended";
    req.justification = "x";
    as_admin = 1;
    send_violation(&req.base, STATUS_FAILED_PRECONDITION, "status", "cannot become suspended");
    req.status = "withdrawn";
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "justification", "when recognizing");
    as_admin = 0;
    req.justification = NULL;
    change_status("tqmn", "withdrawn", NULL, STATUS_OK);
    req.status = "recognized";
    send_violation(&req.base, STATUS_FAILED_PRECONDITION, "status", "withdrawn, which is final");
    assert_int_equal(
        fixture_count(F, "SELECT count(*) FROM recognition_change WHERE table_id = 'tqmn'"), 5);

    /* Recognition needs a mandataire. */
    change_status("ndg", "under_review", NULL, STATUS_OK);
    req.table_id = "ndg";
    req.status = "recognized";
    send_violation(&req.base, STATUS_FAILED_PRECONDITION, "status", "mandataire");
    req.table_id = "ghost";
    send_violation(&req.base, STATUS_NOT_FOUND, "table_id", "ghost");
}

static void test_refusal_is_followed_by_a_new_application(void **state)
{
    (void)state;
    base_world();
    change_status("tqmn", "under_review", NULL, STATUS_OK);
    change_status("tqmn", "refused", NULL, STATUS_OK);
    change_status("tqmn", "requested", NULL, STATUS_OK);
    reg_table_t *t = get_table("tqmn");
    assert_string_equal(t->recognition->status, "requested");
    protobuf_c_message_free_unpacked(&t->base, NULL);
    assert_int_equal(fixture_count(F,
                                   "SELECT count(*) FROM recognition_change WHERE table_id = 'tqmn'"
                                   " AND to_status = 'refused'"),
                     1);
}

static void test_a_future_decision_is_scheduled_and_blocks_others(void **state)
{
    (void)state;
    base_world();
    change_status("tqmn", "under_review", NULL, STATUS_OK);
    change_status("tqmn", "refused", "2190-09-01", STATUS_OK);
    reg_table_t *t = get_table("tqmn");
    assert_string_equal(t->recognition->status, "under_review");
    assert_non_null(t->scheduled_recognition);
    assert_string_equal(t->scheduled_recognition->status, "refused");
    assert_string_equal(t->scheduled_recognition->effective_on, "2190-09-01");
    uint64_t id = t->scheduled_recognition->id;
    protobuf_c_message_free_unpacked(&t->base, NULL);
    assert_int_equal(fixture_count(F, "SELECT count(*) FROM timers WHERE key = 'recognition:tqmn'"),
                     1);

    /* One at a time: another decision, now or later, is a conflict. */
    Concerto__Registry__V1__ChangeRecognitionRequest req =
        CONCERTO__REGISTRY__V1__CHANGE_RECOGNITION_REQUEST__INIT;
    req.table_id = "tqmn";
    req.status = "withdrawn";
    req.reason = "x";
    send_violation(&req.base, STATUS_CONFLICT, "table_id", "2190-09-01");
    /* Not due: the timer's request refuses to run early. */
    Concerto__Registry__V1__ApplyScheduledRecognitionRequest fire =
        CONCERTO__REGISTRY__V1__APPLY_SCHEDULED_RECOGNITION_REQUEST__INIT;
    fire.table_id = "tqmn";
    fire.has_schedule_id = 1;
    fire.schedule_id = id;
    send_violation(&fire.base, STATUS_FAILED_PRECONDITION, "schedule_id", "not due");

    Concerto__Registry__V1__CancelScheduledRecognitionRequest cancel =
        CONCERTO__REGISTRY__V1__CANCEL_SCHEDULED_RECOGNITION_REQUEST__INIT;
    cancel.table_id = "tqmn";
    send_violation(&cancel.base, STATUS_INVALID_ARGUMENT, "reason", "required");
    cancel.reason = "the committee meets again";
    send_expect(&cancel.base, STATUS_OK, NULL, NULL);
    send_violation(&cancel.base, STATUS_NOT_FOUND, "table_id", "no scheduled decision");
    assert_int_equal(fixture_count(F, "SELECT count(*) FROM timers WHERE key = 'recognition:tqmn'"),
                     0);
    /* A cancelled one does nothing when asked to run. */
    send_expect(&fire.base, STATUS_OK, NULL, NULL);
    t = get_table("tqmn");
    assert_string_equal(t->recognition->status, "under_review");
    assert_null(t->scheduled_recognition);
    protobuf_c_message_free_unpacked(&t->base, NULL);
    send_expect(&req.base, STATUS_OK, NULL, NULL);
}

static void add_member(const char *table, const char *org, const char *role, const char *on,
                       int expect)
{
    Concerto__Registry__V1__AddMembershipRequest req =
        CONCERTO__REGISTRY__V1__ADD_MEMBERSHIP_REQUEST__INIT;
    req.table_id = (char *)table;
    req.organization_id = (char *)org;
    req.role = (char *)role;
    req.joined_on = (char *)on;
    send_expect(&req.base, expect, NULL, NULL);
}

static void end_member(const char *table, const char *org, const char *on, int expect)
{
    Concerto__Registry__V1__EndMembershipRequest req =
        CONCERTO__REGISTRY__V1__END_MEMBERSHIP_REQUEST__INIT;
    req.table_id = (char *)table;
    req.organization_id = (char *)org;
    req.left_on = (char *)on;
    send_expect(&req.base, expect, NULL, NULL);
}

static void test_memberships_start_end_and_keep_history(void **state)
{
    (void)state;
    base_world();
    add_org("clsc", "health_social_services", "public_institution", NULL);
    add_member("tqmn", "clsc", "member", "2020-01-01", STATUS_OK);
    add_member("tqmn", "clsc", "board", "2021-01-01", STATUS_CONFLICT);
    end_member("tqmn", "clsc", "2019-12-31", STATUS_INVALID_ARGUMENT);
    end_member("tqmn", "clsc", "2022-06-30", STATUS_OK);
    end_member("tqmn", "clsc", "2022-07-30", STATUS_NOT_FOUND);
    add_member("tqmn", "clsc", "member", "2022-01-01", STATUS_CONFLICT); /* overlaps */
    add_member("tqmn", "clsc", "board", "2023-01-01", STATUS_OK);
    add_member("tqmn", "ghost-org", NULL, NULL, STATUS_NOT_FOUND);
    add_member("ghost", "clsc", NULL, NULL, STATUS_NOT_FOUND);
    add_member("tqmn", "clsc", "chair", NULL, STATUS_INVALID_ARGUMENT);

    Concerto__Registry__V1__ListMembershipsRequest l =
        CONCERTO__REGISTRY__V1__LIST_MEMBERSHIPS_REQUEST__INIT;
    l.table_id = "tqmn";
    ProtobufCMessage *out = NULL;
    send_expect(&l.base, STATUS_OK, &concerto__registry__v1__membership_list__descriptor, &out);
    Concerto__Registry__V1__MembershipList *ml = (void *)out;
    assert_int_equal(ml->n_memberships, 2);
    assert_string_equal(ml->memberships[0]->left_on, "2022-06-30");
    assert_null(ml->memberships[1]->left_on);
    assert_string_equal(ml->memberships[1]->role, "board");
    assert_string_equal(ml->memberships[1]->organization->sector, "health_social_services");
    protobuf_c_message_free_unpacked(out, NULL);
    l.active_on = "2021-06-01";
    send_expect(&l.base, STATUS_OK, &concerto__registry__v1__membership_list__descriptor, &out);
    ml = (void *)out;
    assert_int_equal(ml->n_memberships, 1);
    assert_string_equal(ml->memberships[0]->joined_on, "2020-01-01");
    protobuf_c_message_free_unpacked(out, NULL);
    l.table_id = "ghost";
    send_violation(&l.base, STATUS_NOT_FOUND, "table_id", "ghost");
}

/* The characteristics report of `table` on `as_of` (caller frees). */
static Concerto__Registry__V1__TableCharacteristics *characteristics_of(const char *table,
                                                                        const char *as_of)
{
    Concerto__Registry__V1__GetCharacteristicsRequest req =
        CONCERTO__REGISTRY__V1__GET_CHARACTERISTICS_REQUEST__INIT;
    req.table_id = (char *)table;
    req.as_of = (char *)as_of;
    ProtobufCMessage *out = NULL;
    send_expect(&req.base, STATUS_OK, &concerto__registry__v1__table_characteristics__descriptor,
                &out);
    return (Concerto__Registry__V1__TableCharacteristics *)out;
}

static void test_characteristics_follow_members_governance_and_attestations(void **state)
{
    (void)state;
    base_world();
    add_org("clsc", "health_social_services", "public_institution", NULL);
    add_org("ecole", "education", "public_institution", NULL);
    add_org("citoyens", "citizens", "citizen", NULL);
    add_org("observateur", "municipal", "municipal", NULL);
    add_member("tqmn", "tqmn-org", "board", "2020-01-01", STATUS_OK);
    add_member("tqmn", "clsc", "member", "2020-01-01", STATUS_OK);
    add_member("tqmn", "ecole", "member", "2020-01-01", STATUS_OK);
    add_member("tqmn", "observateur", "observer", "2020-01-01", STATUS_OK);

    Concerto__Registry__V1__TableCharacteristics *tc = characteristics_of("tqmn", "2024-06-30");
    assert_int_equal(tc->n_characteristics, 4);
    assert_string_equal(tc->characteristics[0]->code, "intersectoral");
    assert_true(tc->characteristics[0]->met); /* community, health, education */
    assert_string_equal(tc->characteristics[0]->facts[0]->value,
                        "community, education, health_social_services");
    assert_false(tc->characteristics[1]->met); /* observers do not count */
    assert_false(tc->characteristics[2]->met);
    assert_false(tc->characteristics[3]->met);
    assert_false(tc->all_met);
    assert_int_equal(tc->min_sectors, 3);
    protobuf_c_message_free_unpacked(&tc->base, NULL);

    add_member("tqmn", "citoyens", "member", "2021-01-01", STATUS_OK);
    reg_governance_t g = CONCERTO__REGISTRY__V1__GOVERNANCE__INIT;
    g.has_incorporated = 1;
    g.incorporated = 1;
    g.has_meetings_per_year = 1;
    g.meetings_per_year = 6;
    /* Governance facts recorded as of 2020: an update today would hold
     * only from today. */
    Concerto__Registry__V1__RecordGovernanceRequest gov =
        CONCERTO__REGISTRY__V1__RECORD_GOVERNANCE_REQUEST__INIT;
    gov.table_id = "tqmn";
    gov.effective_on = "2020-01-01";
    gov.governance = &g;
    send_expect(&gov.base, STATUS_OK, NULL, NULL);
    Concerto__Registry__V1__RecordAttestationRequest att =
        CONCERTO__REGISTRY__V1__RECORD_ATTESTATION_REQUEST__INIT;
    att.table_id = "tqmn";
    att.attested_on = "2024-03-01";
    att.author = "Centraide du Grand Montréal";
    att.statement = "Réseautage et synergie constatés.";
    send_expect(&att.base, STATUS_OK, NULL, NULL);
    att.attested_on = "2190-01-01";
    send_violation(&att.base, STATUS_INVALID_ARGUMENT, "attested_on", "future");
    att.attested_on = NULL;
    att.author = NULL;
    send_violation(&att.base, STATUS_INVALID_ARGUMENT, "author", "required");

    tc = characteristics_of("tqmn", "2024-06-30");
    for (size_t i = 0; i < 4; i++)
        if (!tc->characteristics[i]->met)
            fail_msg("%s not met: %s", tc->characteristics[i]->code,
                     tc->characteristics[i]->summary);
    assert_true(tc->all_met);
    protobuf_c_message_free_unpacked(&tc->base, NULL);

    /* A change today leaves the past as it was. */
    g.meetings_per_year = 1;
    reg_table_t t = CONCERTO__REGISTRY__V1__TABLE__INIT;
    t.governance = &g;
    Concerto__Registry__V1__UpdateTableRequest up =
        CONCERTO__REGISTRY__V1__UPDATE_TABLE_REQUEST__INIT;
    up.id = "tqmn";
    up.table = &t;
    send_expect(&up.base, STATUS_OK, NULL, NULL);
    tc = characteristics_of("tqmn", "2024-06-30");
    assert_true(tc->all_met);
    protobuf_c_message_free_unpacked(&tc->base, NULL);

    /* Before the citizens joined and before the attestation, not all met. */
    tc = characteristics_of("tqmn", "2020-06-30");
    assert_false(tc->characteristics[1]->met);
    assert_false(tc->characteristics[3]->met);
    protobuf_c_message_free_unpacked(&tc->base, NULL);
    Concerto__Registry__V1__GetCharacteristicsRequest req =
        CONCERTO__REGISTRY__V1__GET_CHARACTERISTICS_REQUEST__INIT;
    req.table_id = "tqmn";
    req.as_of = "2024-02-30";
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "as_of", "calendar date");
}

static void attest(const char *table, const char *on, const char *author)
{
    Concerto__Registry__V1__RecordAttestationRequest att =
        CONCERTO__REGISTRY__V1__RECORD_ATTESTATION_REQUEST__INIT;
    att.table_id = (char *)table;
    att.attested_on = (char *)on;
    att.author = (char *)author;
    send_expect(&att.base, STATUS_OK, NULL, NULL);
}

static int64_t characteristics_changes(void)
{
    return fixture_count(F, "SELECT count(*) FROM outbox WHERE subject = 'table:tqmn'"
                            " AND type = 'concerto.registry.v1.CharacteristicsChanged'");
}

/* Only an attestation's day counts: more of them on a day change nothing,
 * and the report names the author recorded last on the latest day. */
static void test_attestations_of_one_day_count_once(void **state)
{
    (void)state;
    base_world();
    int64_t before = characteristics_changes();
    attest("tqmn", "2024-03-01", "Author A");
    assert_int_equal(characteristics_changes(), before + 1);
    attest("tqmn", "2024-03-01", "Author B");
    attest("tqmn", "2024-03-01", "Author C");
    assert_int_equal(characteristics_changes(), before + 1);
    attest("tqmn", "2024-02-01", "Author D");
    assert_int_equal(characteristics_changes(), before + 2);

    Concerto__Registry__V1__TableCharacteristics *tc = characteristics_of("tqmn", "2024-06-30");
    Concerto__Registry__V1__Characteristic *c = tc->characteristics[3];
    assert_true(c->met);
    assert_int_equal(c->n_facts, 2);
    assert_string_equal(c->facts[0]->value, "2024-03-01");
    assert_string_equal(c->facts[1]->value, "Author C");
    protobuf_c_message_free_unpacked(&tc->base, NULL);
    tc = characteristics_of("tqmn", "2024-02-29");
    assert_string_equal(tc->characteristics[3]->facts[1]->value, "Author D");
    protobuf_c_message_free_unpacked(&tc->base, NULL);
}

/* Lists Tables with `req`: expects `n` of them, the first being `first`
 * (unless NULL); a copy of next_cursor goes to *next when it is given. */
static void expect_tables(const Concerto__Registry__V1__ListTablesRequest *req, size_t n,
                          const char *first, char **next)
{
    ProtobufCMessage *out = NULL;
    send_expect(&req->base, STATUS_OK, &concerto__registry__v1__table_list__descriptor, &out);
    Concerto__Registry__V1__TableList *tl = (void *)out;
    assert_int_equal(tl->n_tables, n);
    if (first)
        assert_string_equal(tl->tables[0]->id, first);
    if (next)
        *next = tl->next_cursor ? strdup(tl->next_cursor) : NULL;
    protobuf_c_message_free_unpacked(out, NULL);
}

static void test_lists_filter_search_and_page(void **state)
{
    (void)state;
    base_world();
    add_org("coop", "housing", "community", NULL);
    add_member("ndg", "coop", "member", "2020-01-01", STATUS_OK);
    Concerto__Registry__V1__ListTablesRequest req =
        CONCERTO__REGISTRY__V1__LIST_TABLES_REQUEST__INIT;
    ProtobufCMessage *out = NULL;

    req.search = "cote des neiges";
    expect_tables(&req, 1, "ndg", NULL);
    req.search = "MONTRÉAL-nord";
    expect_tables(&req, 1, "tqmn", NULL);
    req.search = "--";
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "search", "letter");
    req.search = NULL;

    req.borough = "cote-des-neiges-notre-dame-de-grace";
    expect_tables(&req, 1, "ndg", NULL);
    req.borough = NULL;
    req.sector = "housing";
    expect_tables(&req, 1, NULL, NULL);
    req.sector = NULL;
    req.status = "recognized";
    expect_tables(&req, 0, NULL, NULL);
    req.status = NULL;

    /* Pages of one. */
    req.has_limit = 1;
    req.limit = 1;
    char *cursor = NULL;
    expect_tables(&req, 1, "ndg", &cursor);
    assert_non_null(cursor);
    req.cursor = cursor;
    char *last = NULL;
    expect_tables(&req, 1, "tqmn", &last);
    assert_null(last);
    /* A cursor is bound to the filters it was made with: with others it
     * would page through another query. A new page size is fine. */
    req.search = "tqmn";
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "cursor", "other filters");
    req.search = NULL;
    req.limit = 2;
    expect_tables(&req, 1, "tqmn", NULL);
    req.limit = 1;
    free(cursor);
    req.cursor = "not-a-cursor";
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "cursor", NULL);
    req.cursor = NULL;
    req.limit = 501;
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "limit", "500");

    Concerto__Registry__V1__ListTerritoriesRequest tr =
        CONCERTO__REGISTRY__V1__LIST_TERRITORIES_REQUEST__INIT;
    tr.parent_id = "cote-des-neiges-notre-dame-de-grace";
    send_expect(&tr.base, STATUS_OK, &concerto__registry__v1__territory_list__descriptor, &out);
    assert_int_equal(((Concerto__Registry__V1__TerritoryList *)out)->n_territories, 1);
    protobuf_c_message_free_unpacked(out, NULL);
    Concerto__Registry__V1__ListOrganizationsRequest orq =
        CONCERTO__REGISTRY__V1__LIST_ORGANIZATIONS_REQUEST__INIT;
    orq.sector = "housing";
    send_expect(&orq.base, STATUS_OK, &concerto__registry__v1__organization_list__descriptor, &out);
    assert_int_equal(((Concerto__Registry__V1__OrganizationList *)out)->n_organizations, 1);
    protobuf_c_message_free_unpacked(out, NULL);
}

/* Walks list request `req` in pages of one through list messages of type
 * `desc` (items in repeated field `items`); returns the number of pages,
 * each of which must hold one item. */
static size_t walk_pages(ProtobufCMessage *req, const ProtobufCMessageDescriptor *desc,
                         const char *items)
{
    const ProtobufCFieldDescriptor *limit_f =
        protobuf_c_message_descriptor_get_field_by_name(req->descriptor, "limit");
    const ProtobufCFieldDescriptor *cursor_f =
        protobuf_c_message_descriptor_get_field_by_name(req->descriptor, "cursor");
    const ProtobufCFieldDescriptor *items_f =
        protobuf_c_message_descriptor_get_field_by_name(desc, items);
    const ProtobufCFieldDescriptor *next_f =
        protobuf_c_message_descriptor_get_field_by_name(desc, "next_cursor");
    *(protobuf_c_boolean *)((char *)req + limit_f->quantifier_offset) = 1;
    *(uint32_t *)((char *)req + limit_f->offset) = 1;
    char **cursor = (char **)((char *)req + cursor_f->offset);
    char *next = NULL;
    size_t pages = 0;
    do {
        *cursor = next;
        ProtobufCMessage *out = NULL;
        send_expect(req, STATUS_OK, desc, &out);
        assert_int_equal(*(size_t *)((char *)out + items_f->quantifier_offset), 1);
        const char *more = *(char **)((char *)out + next_f->offset);
        free(next);
        next = more ? strdup(more) : NULL;
        protobuf_c_message_free_unpacked(out, NULL);
        pages++;
    } while (next);
    *cursor = NULL;
    return pages;
}

static void test_every_list_pages_with_its_own_cursor(void **state)
{
    (void)state;
    base_world();
    add_org("clsc", "health_social_services", "public_institution", NULL);
    add_org("ecole", "education", "public_institution", NULL);
    add_member("tqmn", "tqmn-org", "board", "2020-01-01", STATUS_OK);
    add_member("tqmn", "clsc", "member", "2020-01-01", STATUS_OK);
    add_member("tqmn", "ecole", "member", "2020-01-01", STATUS_OK);
    Concerto__Registry__V1__RecordAttestationRequest att =
        CONCERTO__REGISTRY__V1__RECORD_ATTESTATION_REQUEST__INIT;
    att.table_id = "tqmn";
    att.author = "Centraide du Grand Montréal";
    att.attested_on = "2023-03-01";
    send_expect(&att.base, STATUS_OK, NULL, NULL);
    att.attested_on = "2024-03-01";
    send_expect(&att.base, STATUS_OK, NULL, NULL);

    Concerto__Registry__V1__ListTerritoriesRequest tr =
        CONCERTO__REGISTRY__V1__LIST_TERRITORIES_REQUEST__INIT;
    assert_int_equal(
        walk_pages(&tr.base, &concerto__registry__v1__territory_list__descriptor, "territories"),
        3);
    Concerto__Registry__V1__ListOrganizationsRequest orq =
        CONCERTO__REGISTRY__V1__LIST_ORGANIZATIONS_REQUEST__INIT;
    assert_int_equal(walk_pages(&orq.base, &concerto__registry__v1__organization_list__descriptor,
                                "organizations"),
                     3);
    Concerto__Registry__V1__ListMembershipsRequest mr =
        CONCERTO__REGISTRY__V1__LIST_MEMBERSHIPS_REQUEST__INIT;
    mr.table_id = "tqmn";
    assert_int_equal(
        walk_pages(&mr.base, &concerto__registry__v1__membership_list__descriptor, "memberships"),
        3);
    Concerto__Registry__V1__ListAttestationsRequest ar =
        CONCERTO__REGISTRY__V1__LIST_ATTESTATIONS_REQUEST__INIT;
    ar.table_id = "tqmn";
    assert_int_equal(
        walk_pages(&ar.base, &concerto__registry__v1__attestation_list__descriptor, "attestations"),
        2);

    /* A cursor belongs to its list. */
    ProtobufCMessage *out = NULL;
    send_expect(&mr.base, STATUS_OK, &concerto__registry__v1__membership_list__descriptor, &out);
    Concerto__Registry__V1__MembershipList *ml = (void *)out;
    assert_non_null(ml->next_cursor);
    char *cursor = strdup(ml->next_cursor);
    protobuf_c_message_free_unpacked(out, NULL);
    ar.cursor = cursor;
    send_violation(&ar.base, STATUS_INVALID_ARGUMENT, "cursor", "not a cursor of this list");
    free(cursor);
}

static void test_territory_hierarchy_rules(void **state)
{
    (void)state;
    base_world();
    reg_territory_t t = CONCERTO__REGISTRY__V1__TERRITORY__INIT;
    t.id = "petite-bourgogne";
    t.name = "Petite-Bourgogne";
    t.kind = "neighbourhood";
    t.parent_id = "notre-dame-de-grace";
    Concerto__Registry__V1__RegisterTerritoryRequest req =
        CONCERTO__REGISTRY__V1__REGISTER_TERRITORY_REQUEST__INIT;
    req.territory = &t;
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "territory.parent_id",
                   "borough or municipality");
    t.parent_id = "le-sud-ouest";
    send_violation(&req.base, STATUS_NOT_FOUND, "territory.parent_id", "le-sud-ouest");
    t.kind = "borough";
    t.parent_id = "montreal-nord";
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "territory.parent_id", "cannot be inside");
    t.kind = "district";
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "territory.kind", "sector");
    t.kind = "sector";
    t.parent_id = NULL;
    t.id = "ouest-de-l-ile";
    t.has_population = 1;
    t.population = -5;
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "territory.population", "between");
    t.has_population = 0;
    send_expect(&req.base, STATUS_OK, NULL, NULL);
    add_territory("pointe-claire", "Pointe-Claire", "municipality", "ouest-de-l-ile");
    /* A territory with children keeps its kind. */
    reg_territory_t u = CONCERTO__REGISTRY__V1__TERRITORY__INIT;
    u.kind = "borough";
    Concerto__Registry__V1__UpdateTerritoryRequest up =
        CONCERTO__REGISTRY__V1__UPDATE_TERRITORY_REQUEST__INIT;
    up.id = "ouest-de-l-ile";
    up.territory = &u;
    send_violation(&up.base, STATUS_FAILED_PRECONDITION, "territory.kind", "inside");
    u.kind = NULL;
    u.name = "Ouest-de-l'Île";
    send_expect(&up.base, STATUS_OK, NULL, NULL);
}

static void test_history_lists_a_tables_events_in_order(void **state)
{
    (void)state;
    base_world();
    add_org("clsc", "health_social_services", "public_institution", NULL);
    change_status("tqmn", "under_review", NULL, STATUS_OK);
    add_member("tqmn", "clsc", NULL, "2020-01-01", STATUS_OK);
    end_member("tqmn", "clsc", "2021-01-01", STATUS_OK);
    Concerto__Registry__V1__GetTableHistoryRequest req =
        CONCERTO__REGISTRY__V1__GET_TABLE_HISTORY_REQUEST__INIT;
    req.table_id = "tqmn";
    ProtobufCMessage *out = NULL;
    send_expect(&req.base, STATUS_OK, &concerto__registry__v1__table_history__descriptor, &out);
    Concerto__Registry__V1__TableHistory *h = (void *)out;
    assert_int_equal(h->n_entries, 6);
    assert_non_null(h->entries[0]->table_registered);
    assert_string_equal(h->entries[0]->type, "concerto.registry.v1.TableRegistered");
    assert_string_equal(h->entries[0]->actor, "operator:alice");
    /* The first status, then the mandataire named at registration. */
    assert_string_equal(h->entries[1]->recognition_changed->origin, "registration");
    assert_null(h->entries[1]->recognition_changed->from_status);
    assert_string_equal(h->entries[2]->mandataire_changed->to_mandataire_id, "tqmn-org");
    assert_non_null(h->entries[3]->recognition_changed);
    assert_string_equal(h->entries[3]->recognition_changed->from_status, "requested");
    assert_string_equal(h->entries[3]->recognition_changed->to_status, "under_review");
    assert_non_null(h->entries[4]->membership_started);
    assert_non_null(h->entries[5]->membership_ended);
    assert_true(h->entries[0]->sequence < h->entries[5]->sequence);
    assert_false(h->has_next_after_sequence);
    uint64_t second = h->entries[1]->sequence, fourth = h->entries[3]->sequence;
    protobuf_c_message_free_unpacked(out, NULL);
    req.has_limit = 1;
    req.limit = 2;
    send_expect(&req.base, STATUS_OK, &concerto__registry__v1__table_history__descriptor, &out);
    h = (void *)out;
    assert_int_equal(h->n_entries, 2);
    assert_true(h->has_next_after_sequence);
    assert_int_equal(h->next_after_sequence, second);
    protobuf_c_message_free_unpacked(out, NULL);
    req.has_after_sequence = 1;
    req.after_sequence = fourth;
    send_expect(&req.base, STATUS_OK, &concerto__registry__v1__table_history__descriptor, &out);
    h = (void *)out;
    assert_int_equal(h->n_entries, 2);
    assert_non_null(h->entries[1]->membership_ended);
    assert_false(h->has_next_after_sequence);
    protobuf_c_message_free_unpacked(out, NULL);
    req.limit = 501;
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "limit", "500");
}

static void test_idempotent_retry_changes_nothing(void **state)
{
    (void)state;
    base_world();
    reg_table_t t = CONCERTO__REGISTRY__V1__TABLE__INIT;
    t.id = "vsms";
    t.name = "Vivre Saint-Michel en santé";
    t.territory_id = "montreal-nord";
    Concerto__Registry__V1__RegisterTableRequest req =
        CONCERTO__REGISTRY__V1__REGISTER_TABLE_REQUEST__INIT;
    req.table = &t;
    uint8_t id[16];
    uuid7_generate(id);
    size_t len = 0, r1len = 0, r2len = 0;
    uint8_t *frame = frame_of(&req.base, NULL, id, &len);
    uint8_t *r1 = service_dispatch_frame(F->svc, frame, len, &r1len);
    uint64_t head = outbox_head(F->store);
    uint8_t *r2 = service_dispatch_frame(F->svc, frame, len, &r2len);
    envelope_t *e1 = NULL, *e2 = NULL;
    assert_int_equal(envelope_decode(r1, r1len, 4 << 20, &e1), ENVELOPE_OK);
    assert_int_equal(envelope_decode(r2, r2len, 4 << 20, &e2), ENVELOPE_OK);
    assert_int_equal(e1->payload.len, e2->payload.len);
    assert_memory_equal(e1->payload.data, e2->payload.data, e1->payload.len);
    Concerto__Common__V1__Reply *reply =
        concerto__common__v1__reply__unpack(NULL, e2->payload.len, e2->payload.data);
    assert_int_equal(reply->status, STATUS_OK);
    concerto__common__v1__reply__free_unpacked(reply, NULL);
    assert_int_equal(outbox_head(F->store), head);
    assert_int_equal(fixture_count(F, "SELECT count(*) FROM concertation_table WHERE id = 'vsms'"),
                     1);
    envelope_free(&e1);
    envelope_free(&e2);
    free(r1);
    free(r2);
    free(frame);
}

static Concerto__Registry__V1__ImportFile *file_of(const char *kind, const char *content)
{
    Concerto__Registry__V1__ImportFile *f = calloc(1, sizeof *f);
    concerto__registry__v1__import_file__init(f);
    f->kind = (char *)kind;
    f->content = (char *)content;
    return f;
}

static void test_import_applies_all_files_in_order(void **state)
{
    (void)state;
    Concerto__Registry__V1__ImportFile *files[] = {
        file_of("memberships", "table_id,organization_id,role,joined_on,left_on\n"
                               "tds,cdc,board,2020-01-01,\n"
                               "tds,cdc-2,member,2019-01-01,2020-01-01\n"),
        file_of("tables", "id,name,territory_id,mandataire_id,recognition_status,languages,"
                          "incorporated,meetings_per_year,email\n"
                          "tds,Table de développement social,centre-sud,cdc,recognized,fr;en,"
                          "oui,6,info@tds.org\n"),
        file_of("territories", "id,name,kind,parent_id,population\n"
                               "ville-marie,Ville-Marie,borough,,\n"
                               "centre-sud,Centre-Sud,neighbourhood,ville-marie,40000\n"),
        file_of("organizations", "id,name,sector,network,neq\n"
                                 "cdc,CDC Centre-Sud,community,community,1140000002\n"
                                 "cdc-2,Autre,housing,community,\n"),
    };
    Concerto__Registry__V1__ImportRequest req = CONCERTO__REGISTRY__V1__IMPORT_REQUEST__INIT;
    req.n_files = 4;
    req.files = files;
    ProtobufCMessage *out = NULL;
    send_expect(&req.base, STATUS_OK, &concerto__registry__v1__import_result__descriptor, &out);
    Concerto__Registry__V1__ImportResult *res = (void *)out;
    assert_int_equal(res->territories, 2);
    assert_int_equal(res->organizations, 2);
    assert_int_equal(res->tables, 1);
    assert_int_equal(res->memberships, 2);
    protobuf_c_message_free_unpacked(out, NULL);
    reg_table_t *t = get_table("tds");
    assert_string_equal(t->recognition->status, "recognized");
    assert_int_equal(t->n_languages, 2);
    assert_true(t->governance->incorporated);
    assert_int_equal(t->governance->meetings_per_year, 6);
    assert_string_equal(t->contact->email, "info@tds.org");
    protobuf_c_message_free_unpacked(&t->base, NULL);
    assert_int_equal(fixture_count(F, "SELECT count(*) FROM membership WHERE left_on IS NOT NULL"),
                     1);
    for (size_t i = 0; i < 4; i++)
        free(files[i]);
}

static void test_broken_import_writes_nothing_and_names_lines(void **state)
{
    (void)state;
    Concerto__Registry__V1__ImportFile *files[] = {
        file_of("territories", "id,name,kind\nville-marie,Ville-Marie,borough\n"),
        file_of("tables", "id,name,territory_id,email,founding_year\n"
                          "ok,Fine,ville-marie,,\n"
                          "bad,Bad,ville-marie,nope,\n"
                          "lost,Lost,atlantis,,19x9\n"
                          "ok,Again,ville-marie,,\n"),
    };
    Concerto__Registry__V1__ImportRequest req = CONCERTO__REGISTRY__V1__IMPORT_REQUEST__INIT;
    req.n_files = 2;
    req.files = files;
    uint64_t head = outbox_head(F->store);
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "tables.csv:3:email", "e-mail");
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "tables.csv:4:founding_year", "whole");
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "tables.csv:5:id", "already registered");
    assert_int_equal(fixture_count(F, "SELECT count(*) FROM territory"), 0);
    assert_int_equal(fixture_count(F, "SELECT count(*) FROM concertation_table"), 0);
    assert_int_equal(outbox_head(F->store), head);

    files[1]->content = "id,name,territory_id,colour\nx,y,ville-marie,red\n";
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "tables.csv:1:colour", "not a column");
    files[1]->content = "id,name\nx,\"unterminated\n";
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "tables.csv:2", "not closed");
    files[1]->content = "id,name,territory_id\nlost,Lost,atlantis\n";
    send_violation(&req.base, STATUS_NOT_FOUND, "tables.csv:2:territory_id", "atlantis");
    files[1]->kind = "territories";
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "files[1].kind", "twice");
    req.n_files = 0;
    send_violation(&req.base, STATUS_INVALID_ARGUMENT, "files", "1 to 4");
    assert_int_equal(fixture_count(F, "SELECT count(*) FROM territory"), 0);
    for (size_t i = 0; i < 2; i++)
        free(files[i]);
}

static void test_demo_data_loads_through_the_import(void **state)
{
    (void)state;
    assert_int_equal(registry_demo_load(F->svc, REGISTRY_DEMO_DIR), 0);
    assert_int_equal(fixture_count(F, "SELECT count(*) FROM concertation_table"), 22);
    assert_int_equal(
        fixture_count(F, "SELECT count(*) FROM concertation_table WHERE uncertain = 1 AND "
                         "status = 'under_review'"),
        5);
    assert_int_equal(
        fixture_count(F, "SELECT count(*) FROM outbox WHERE actor = 'system:demo-data'"),
        fixture_count(F, "SELECT count(*) FROM outbox"));
    Concerto__Registry__V1__ListTablesRequest req =
        CONCERTO__REGISTRY__V1__LIST_TABLES_REQUEST__INIT;
    req.search = "cote des neiges";
    expect_tables(&req, 1, "ndg-community-council", NULL);
    /* Loading again conflicts on every id and changes nothing. */
    uint64_t head = outbox_head(F->store);
    assert_int_equal(registry_demo_load(F->svc, REGISTRY_DEMO_DIR), -1);
    assert_int_equal(outbox_head(F->store), head);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_and_get_a_table, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_get_unknown_table_is_not_found, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_register_table_validates_every_field, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_register_table_reports_unknown_references, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_are_conflicts, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_read_only_fields_are_refused, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_update_is_partial_and_emits_changed_fields, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_recognition_follows_the_state_machine, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_refusal_is_followed_by_a_new_application, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_a_future_decision_is_scheduled_and_blocks_others,
                                        setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_memberships_start_end_and_keep_history, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(
            test_characteristics_follow_members_governance_and_attestations, setup,
            fixture_teardown),
        cmocka_unit_test_setup_teardown(test_attestations_of_one_day_count_once, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_lists_filter_search_and_page, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_every_list_pages_with_its_own_cursor, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_territory_hierarchy_rules, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_history_lists_a_tables_events_in_order, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_idempotent_retry_changes_nothing, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_import_applies_all_files_in_order, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_broken_import_writes_nothing_and_names_lines, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_demo_data_loads_through_the_import, setup,
                                        fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
