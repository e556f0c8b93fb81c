/* Tests for auth: the tokens file and role checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "auth.h"

/* The tokens-file line for `token`. */
static void line_for(const char *token, const char *role, const char *name, char *out,
                     size_t outlen)
{
    unsigned char hash[32];
    char hex[65];
    crypto_hash_sha256(hash, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
    snprintf(out, outlen, "%s %s %s\n", hex, role, name);
}

static auth_t *three_tokens(void)
{
    char a[200], b[200], c[200], text[700], err[256];
    line_for("read-token", "reader", "rita", a, sizeof a);
    line_for("op-token", "OPERATOR", "otto", b, sizeof b);
    line_for("admin-token", "admin", "ada@example.org", c, sizeof c);
    snprintf(text, sizeof text, "# tokens\n\n%s  # trailing comment\r\n%s%s", a, b, c);
    auth_t *auth = auth_new();
    if (auth_load_text(auth, text, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(auth_count(auth), 3);
    return auth;
}

static void test_roles_allow_themselves_and_below(void **state)
{
    (void)state;
    auth_t *auth = three_tokens();
    const auth_token_t *who = NULL;
    assert_int_equal(auth_authorize(auth, "Bearer read-token", AUTH_READER, 0, &who), AUTH_OK);
    assert_string_equal(who->name, "rita");
    assert_int_equal(auth_authorize(auth, "Bearer read-token", AUTH_OPERATOR, 1, &who),
                     AUTH_FORBIDDEN);
    assert_null(who);
    assert_int_equal(auth_authorize(auth, "bearer op-token", AUTH_OPERATOR, 0, &who), AUTH_OK);
    assert_int_equal(auth_authorize(auth, "Bearer op-token", AUTH_ADMIN, 0, &who), AUTH_FORBIDDEN);
    assert_int_equal(auth_authorize(auth, "Bearer   admin-token ", AUTH_ADMIN, 0, &who), AUTH_OK);
    assert_string_equal(who->name, "ada@example.org");
    assert_int_equal(auth_authorize(auth, "Bearer admin-token", AUTH_READER, 0, &who), AUTH_OK);
    auth_destroy(&auth);
    assert_null(auth);
}

static void test_missing_token_depends_on_public_reads(void **state)
{
    (void)state;
    auth_t *auth = three_tokens();
    const auth_token_t *who = NULL;
    assert_int_equal(auth_authorize(auth, NULL, AUTH_PUBLIC, 0, &who), AUTH_OK);
    assert_int_equal(auth_authorize(auth, NULL, AUTH_READER, 1, &who), AUTH_OK);
    assert_null(who);
    assert_int_equal(auth_authorize(auth, NULL, AUTH_READER, 0, &who), AUTH_MISSING);
    assert_int_equal(auth_authorize(auth, NULL, AUTH_OPERATOR, 1, &who), AUTH_MISSING);
    auth_destroy(&auth);
}

static void test_bad_or_unknown_tokens_are_invalid(void **state)
{
    (void)state;
    auth_t *auth = three_tokens();
    const auth_token_t *who = NULL;
    const char *bad[] = {"Bearer nope",      "Bearer ",      "Bearer",
                         "Basic cmVhZA==",   "read-token",   "Bearer a b",
                         "Bearer read-toke", "Bearer \x01x", "Bearer read-token2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(auth_authorize(auth, bad[i], AUTH_PUBLIC, 1, &who), AUTH_INVALID);
    auth_destroy(&auth);
}

static void test_tokens_file_errors_name_the_line(void **state)
{
    (void)state;
    char good[200];
    line_for("t", "reader", "x", good, sizeof good);
    char dup[500];
    snprintf(dup, sizeof dup, "%s%s", good, good);
    char bad_role[200], bad_name[200], public_role[200];
    line_for("u", "root", "x", bad_role, sizeof bad_role);
    line_for("v", "reader", "bad/name", bad_name, sizeof bad_name);
    line_for("w", "public", "x", public_role, sizeof public_role);
    struct {
        const char *text, *why;
    } cases[] = {
        {"abc reader x\n", "line 1: the hash"},
        {"# only\nzz reader\n", "line 2: expected"},
        {bad_role, "the role"},
        {public_role, "the role"},
        {bad_name, "the name"},
        {dup, "line 2: the same token hash"},
        {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg reader x\n", "the hash"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        auth_t *auth = auth_new();
        char err[256] = "";
        assert_int_equal(auth_load_text(auth, cases[i].text, err, sizeof err), -1);
        if (!strstr(err, cases[i].why))
            fail_msg("case %zu: '%s' does not say '%s'", i, err, cases[i].why);
        assert_int_equal(auth_count(auth), 0);
        auth_destroy(&auth);
    }
}

static void test_missing_file_is_an_error(void **state)
{
    (void)state;
    auth_t *auth = auth_new();
    char err[256];
    assert_int_equal(auth_load_file(auth, "/nonexistent/tokens", err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/tokens"));
    auth_destroy(&auth);
}

static void test_role_names(void **state)
{
    (void)state;
    auth_role_t r;
    assert_int_equal(auth_role_parse("Admin", &r), 0);
    assert_int_equal(r, AUTH_ADMIN);
    assert_int_equal(auth_role_parse("superuser", &r), -1);
    assert_string_equal(auth_role_name(AUTH_OPERATOR), "operator");
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles_allow_themselves_and_below),
        cmocka_unit_test(test_missing_token_depends_on_public_reads),
        cmocka_unit_test(test_bad_or_unknown_tokens_are_invalid),
        cmocka_unit_test(test_tokens_file_errors_name_the_line),
        cmocka_unit_test(test_missing_file_is_an_error),
        cmocka_unit_test(test_role_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
