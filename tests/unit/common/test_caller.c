/* Tests for caller: the authenticated caller of a request, its scopes, and
 * the envelope checks on them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "caller.h"
#include "uuid.h"

typedef struct {
    envelope_t env;
    uint8_t id[16];
    Concerto__Common__V1__Caller caller;
    Concerto__Common__V1__Scope scopes[2], *ptrs[2];
    char *tables[2], *funder[1];
} fixture_t;

/* A partner "ville" with tables=tqmn,tqhm and funder=*. */
static void partner(fixture_t *f)
{
    memset(f, 0, sizeof *f);
    envelope_prepare(&f->env, f->id, "gateway", "concerto.test.v1.CallerRequest", NULL, 0);
    concerto__common__v1__caller__init(&f->caller);
    f->caller.has_role = 1;
    f->caller.role = CONCERTO__COMMON__V1__ROLE__ROLE_PARTNER;
    f->caller.name = "ville";
    f->tables[0] = "tqmn";
    f->tables[1] = "tqhm";
    f->funder[0] = "*";
    for (int i = 0; i < 2; i++) {
        concerto__common__v1__scope__init(&f->scopes[i]);
        f->ptrs[i] = &f->scopes[i];
    }
    f->scopes[0].name = "tables";
    f->scopes[0].n_values = 2;
    f->scopes[0].values = f->tables;
    f->scopes[1].name = "funder";
    f->scopes[1].n_values = 1;
    f->scopes[1].values = f->funder;
    f->caller.n_scopes = 2;
    f->caller.scopes = f->ptrs;
    f->env.caller = &f->caller;
}

static void test_no_caller_is_none(void **state)
{
    (void)state;
    caller_t c = caller_of(NULL);
    assert_int_equal(c.role, CALLER_NONE);
    assert_string_equal(c.name, "");
    assert_false(caller_identified(&c));
    assert_string_equal(caller_role_name(c.role), "none");
    uint8_t id[16];
    envelope_t env;
    envelope_prepare(&env, id, "x", "a.B", NULL, 0);
    assert_int_equal(caller_of(&env).role, CALLER_NONE);
    /* Not a partner: scopes do not apply. */
    assert_true(caller_scope_allows(&env, "funder", "centraide"));
}

static void test_roles_and_identification(void **state)
{
    (void)state;
    fixture_t f;
    partner(&f);
    struct {
        Concerto__Common__V1__Role wire;
        caller_role_t role;
        const char *name;
        int identified;
    } cases[] = {
        {CONCERTO__COMMON__V1__ROLE__ROLE_PUBLIC, CALLER_PUBLIC, "public", 0},
        {CONCERTO__COMMON__V1__ROLE__ROLE_READER, CALLER_READER, "reader", 1},
        {CONCERTO__COMMON__V1__ROLE__ROLE_OPERATOR, CALLER_OPERATOR, "operator", 1},
        {CONCERTO__COMMON__V1__ROLE__ROLE_ADMIN, CALLER_ADMIN, "admin", 1},
        {CONCERTO__COMMON__V1__ROLE__ROLE_PARTNER, CALLER_PARTNER, "partner", 1},
        {(Concerto__Common__V1__Role)99, CALLER_NONE, "none", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f.caller.role = cases[i].wire;
        caller_t c = caller_of(&f.env);
        assert_int_equal(c.role, cases[i].role);
        assert_string_equal(caller_role_name(c.role), cases[i].name);
        assert_int_equal(caller_identified(&c), cases[i].identified);
        assert_string_equal(c.name, "ville");
    }
}

static void test_partner_scopes(void **state)
{
    (void)state;
    fixture_t f;
    partner(&f);
    size_t n = 0;
    char *const *tables = caller_scope(&f.env, "tables", &n);
    assert_int_equal(n, 2);
    assert_string_equal(tables[1], "tqhm");
    assert_null(caller_scope(&f.env, "region", &n));
    assert_int_equal(n, 0);
    assert_true(caller_scope_allows(&f.env, "tables", "tqmn"));
    assert_false(caller_scope_allows(&f.env, "tables", "tqm"));
    assert_false(caller_scope_allows(&f.env, "tables", NULL));
    assert_true(caller_scope_allows(&f.env, "funder", "anyone"));
    assert_true(caller_scope_allows(&f.env, "funder", NULL));
    /* A partner without the scope may act on nothing under it. */
    assert_false(caller_scope_allows(&f.env, "region", "est"));
    /* Tokens carry roles, not scopes. */
    f.caller.role = CONCERTO__COMMON__V1__ROLE__ROLE_OPERATOR;
    assert_true(caller_scope_allows(&f.env, "region", "est"));
}

static void test_envelope_checks_bound_the_caller(void **state)
{
    (void)state;
    fixture_t f;
    partner(&f);
    assert_int_equal(envelope_check(&f.env), ENVELOPE_OK);
    char long_name[ENVELOPE_MAX_TEXT_LEN + 2];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    f.tables[1] = long_name;
    assert_int_equal(envelope_check(&f.env), ENVELOPE_BAD_FIELD);
    f.tables[1] = "\xff\xfe";
    assert_int_equal(envelope_check(&f.env), ENVELOPE_BAD_FIELD);
    f.tables[1] = "tqhm";
    f.scopes[1].name = "";
    assert_int_equal(envelope_check(&f.env), ENVELOPE_BAD_FIELD);
    f.scopes[1].name = "funder";
    f.caller.name = long_name;
    assert_int_equal(envelope_check(&f.env), ENVELOPE_BAD_FIELD);
    f.caller.name = "ville";
    Concerto__Common__V1__Scope *many[CALLER_MAX_SCOPES + 1];
    for (size_t i = 0; i <= CALLER_MAX_SCOPES; i++)
        many[i] = &f.scopes[0];
    f.caller.scopes = many;
    f.caller.n_scopes = CALLER_MAX_SCOPES;
    assert_int_equal(envelope_check(&f.env), ENVELOPE_OK);
    f.caller.n_scopes = CALLER_MAX_SCOPES + 1;
    assert_int_equal(envelope_check(&f.env), ENVELOPE_BAD_FIELD);
}

static void test_envelope_checks_bound_format_and_tags(void **state)
{
    (void)state;
    fixture_t f;
    partner(&f);
    char *tags[ENVELOPE_MAX_TAGS + 1];
    for (size_t i = 0; i <= ENVELOPE_MAX_TAGS; i++)
        tags[i] = "abc";
    f.env.format = "csv";
    f.env.if_none_match = tags;
    f.env.n_if_none_match = ENVELOPE_MAX_TAGS;
    assert_int_equal(envelope_check(&f.env), ENVELOPE_OK);
    f.env.n_if_none_match = ENVELOPE_MAX_TAGS + 1;
    assert_int_equal(envelope_check(&f.env), ENVELOPE_BAD_FIELD);
    f.env.n_if_none_match = 1;
    tags[0] = "\xc3";
    assert_int_equal(envelope_check(&f.env), ENVELOPE_BAD_FIELD);
    tags[0] = "abc";
    f.env.format = "\xc3";
    assert_int_equal(envelope_check(&f.env), ENVELOPE_BAD_FIELD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_caller_is_none),
        cmocka_unit_test(test_roles_and_identification),
        cmocka_unit_test(test_partner_scopes),
        cmocka_unit_test(test_envelope_checks_bound_the_caller),
        cmocka_unit_test(test_envelope_checks_bound_format_and_tags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
