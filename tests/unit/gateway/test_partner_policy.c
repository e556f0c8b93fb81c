/* Tests for partner_policy: the partner allow-list and accepted types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <zmq.h>

#include "partner_policy.h"
#include "routes.h"

static void keypair(char pub[41], uint8_t bin[32])
{
    char secret[41];
    assert_int_equal(zmq_curve_keypair(pub, secret), 0);
    assert_non_null(zmq_z85_decode(bin, pub));
}

static void test_allow_list_parses_keys_names_and_scopes(void **state)
{
    (void)state;
    char k1[41], k2[41], k3[41], text[512], err[256];
    uint8_t b1[32], b2[32], b3[32];
    keypair(k1, b1);
    keypair(k2, b2);
    keypair(k3, b3);
    snprintf(
        text, sizeof text,
        "# partners\n%s centraide tables=* funder=centraide\n\n%s ville tables=tqmn,tqhm  # two\n"
        "%s drsp funder=* region_2=a.b,c-d\n",
        k1, k2, k3);
    partner_policy_t *p = partner_policy_new();
    if (partner_policy_load_text(p, text, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(partner_policy_count(p), 3);
    const partner_entry_t *c = partner_policy_find_key(p, b1);
    assert_non_null(c);
    assert_string_equal(c->name, "centraide");
    assert_true(partner_policy_allows_table(c, "anything"));
    const partner_entry_t *v = partner_policy_find_name(p, "ville");
    assert_memory_equal(v->key, b2, 32);
    assert_true(partner_policy_allows_table(v, "tqhm"));
    assert_false(partner_policy_allows_table(v, "tqm"));
    const partner_entry_t *d = partner_policy_find_key(p, b3);
    assert_false(partner_policy_allows_table(d, "tqmn"));
    assert_null(partner_policy_scope(d, "tables"));
    const partner_scope_t *sc = partner_policy_scope(d, "region_2");
    assert_non_null(sc);
    assert_int_equal(sc->n_values, 2);
    assert_string_equal(sc->values[0], "a.b");
    assert_string_equal(sc->values[1], "c-d");
    assert_string_equal(partner_policy_scope(d, "funder")->values[0], "*");
    assert_int_equal(c->n_scopes, 2);
    assert_string_equal(partner_policy_scope(c, "funder")->values[0], "centraide");
    assert_null(partner_policy_scope(v, "funder"));
    uint8_t other[32] = {0};
    assert_null(partner_policy_find_key(p, other));
    partner_policy_destroy(&p);
    assert_null(p);
}

static void test_allow_list_errors_name_the_line(void **state)
{
    (void)state;
    char k[41], k2[41], a[300], b[300], c[300], dupkey[300], dupname[300], alone[300];
    char dupscope[300], badname[300], noeq[300], star[300], many[1200];
    uint8_t bin[32];
    keypair(k, bin);
    keypair(k2, bin);
    snprintf(a, sizeof a, "%s bad/name\n", k);
    snprintf(b, sizeof b, "%s p tables=\n", k);
    snprintf(c, sizeof c, "%s p tables=a,,b\n", k);
    char trailing[300];
    snprintf(trailing, sizeof trailing, "%s p tables=a,\n", k);
    snprintf(dupkey, sizeof dupkey, "%s p\n%s q\n", k, k);
    snprintf(dupname, sizeof dupname, "%s p\n%s p\n", k, k2);
    snprintf(alone, sizeof alone, "%s\n", k);
    snprintf(dupscope, sizeof dupscope, "%s p tables=a funder=x tables=b\n", k);
    snprintf(badname, sizeof badname, "%s p Funder=x\n", k);
    snprintf(noeq, sizeof noeq, "%s p funder\n", k);
    snprintf(star, sizeof star, "%s p tables=a,*\n", k);
    int used = snprintf(many, sizeof many, "%s p", k);
    for (int i = 0; i < 33; i++)
        used += snprintf(many + used, sizeof many - (size_t)used, " s%d=x", i);
    snprintf(many + used, sizeof many - (size_t)used, "\n");
    struct {
        const char *text, *why;
    } cases[] = {
        {"short p\n", "line 1: the key"},
        {"#\n0000000000000000000000000000000000000000 p x y\n", "line 2: a scope is"},
        {alone, "line 1: expected"},
        {a, "the name"},
        {b, "scope values are"},
        {c, "scope values are"},
        {trailing, "scope values are"},
        {star, "scope values are"},
        {dupscope, "the same scope appears twice"},
        {badname, "a scope is"},
        {noeq, "a scope is"},
        {many, "more than 32 scopes"},
        {dupkey, "line 2: the same key"},
        {dupname, "line 2: the same partner name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        partner_policy_t *p = partner_policy_new();
        char err[256] = "";
        assert_int_equal(partner_policy_load_text(p, cases[i].text, err, sizeof err), -1);
        if (!strstr(err, cases[i].why))
            fail_msg("case %zu: '%s' does not say '%s'", i, err, cases[i].why);
        assert_int_equal(partner_policy_count(p), 0);
        partner_policy_destroy(&p);
    }
}

static void test_types_map_to_services_by_package_or_name(void **state)
{
    (void)state;
    partner_policy_t *p = partner_policy_new();
    char err[256];
    assert_int_equal(partner_policy_set_types(p,
                                              "concerto.funding.v1.RecordDisbursement, "
                                              "concerto.test.v1.PartnerEvent=forum",
                                              routes_service_parse, routes_service_for_type, err,
                                              sizeof err),
                     0);
    assert_int_equal(partner_policy_type_count(p), 2);
    assert_int_equal(partner_policy_type_service(p, "concerto.funding.v1.RecordDisbursement"),
                     ROUTE_FUNDING);
    assert_int_equal(partner_policy_type_service(p, "concerto.test.v1.PartnerEvent"), ROUTE_FORUM);
    assert_int_equal(partner_policy_type_service(p, "concerto.funding.v1.Other"), -1);
    assert_string_equal(partner_policy_type_name(p, 1), "concerto.test.v1.PartnerEvent");
    const char *bad[] = {"concerto.test.v1.X", "concerto.test.v1.X=nowhere", "not a type",
                         "concerto.registry.v1.A,concerto.registry.v1.A"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(partner_policy_set_types(p, bad[i], routes_service_parse,
                                                  routes_service_for_type, err, sizeof err),
                         -1);
        assert_int_equal(partner_policy_type_count(p), 0);
    }
    assert_int_equal(partner_policy_set_types(p, "", routes_service_parse, routes_service_for_type,
                                              err, sizeof err),
                     0);
    assert_int_equal(partner_policy_type_count(p), 0);
    partner_policy_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allow_list_parses_keys_names_and_scopes),
        cmocka_unit_test(test_allow_list_errors_name_the_line),
        cmocka_unit_test(test_types_map_to_services_by_package_or_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
