/* Configuration from the environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

static const config_var_t vars[] = {
    {"CONCERTO_TEST_PORT", "7101", "a port"},
    {"CONCERTO_TEST_NAME", "registry", "a name"},
};

static void test_defaults_apply_when_unset_or_empty(void **state)
{
    (void)state;
    unsetenv("CONCERTO_TEST_PORT");
    setenv("CONCERTO_TEST_NAME", "", 1);
    char err[128];
    config_t *cfg = config_load(vars, 2, err, sizeof err);
    assert_non_null(cfg);
    assert_string_equal(config_str(cfg, "CONCERTO_TEST_PORT"), "7101");
    assert_string_equal(config_str(cfg, "CONCERTO_TEST_NAME"), "registry");
    config_destroy(&cfg);
    assert_null(cfg);
}

static void test_int_out_of_range_names_the_variable(void **state)
{
    (void)state;
    setenv("CONCERTO_TEST_PORT", "70000", 1);
    char err[128];
    config_t *cfg = config_load(vars, 2, err, sizeof err);
    int64_t v = 0;
    assert_int_equal(config_int(cfg, "CONCERTO_TEST_PORT", 1, 65535, &v, err, sizeof err), -1);
    assert_non_null(strstr(err, "CONCERTO_TEST_PORT=70000"));
    setenv("CONCERTO_TEST_PORT", "12x", 1);
    config_destroy(&cfg);
    cfg = config_load(vars, 2, err, sizeof err);
    assert_int_equal(config_int(cfg, "CONCERTO_TEST_PORT", 1, 65535, &v, err, sizeof err), -1);
    setenv("CONCERTO_TEST_PORT", "8080", 1);
    config_destroy(&cfg);
    cfg = config_load(vars, 2, err, sizeof err);
    assert_int_equal(config_int(cfg, "CONCERTO_TEST_PORT", 1, 65535, &v, err, sizeof err), 0);
    assert_int_equal(v, 8080);
    config_destroy(&cfg);
}

static void test_required_variable_missing_is_an_error(void **state)
{
    (void)state;
    static const config_var_t req[] = {{"CONCERTO_TEST_REQUIRED", NULL, "must be given"}};
    unsetenv("CONCERTO_TEST_REQUIRED");
    char err[128];
    assert_null(config_load(req, 1, err, sizeof err));
    assert_non_null(strstr(err, "CONCERTO_TEST_REQUIRED must be set"));
}

static void test_help_lists_every_variable(void **state)
{
    (void)state;
    char buf[1024] = "";
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    config_print_help(f, "concerto-test", "Test.", vars, 2);
    fclose(f);
    assert_non_null(strstr(buf, "CONCERTO_TEST_PORT"));
    assert_non_null(strstr(buf, "CONCERTO_TEST_NAME"));
    assert_non_null(strstr(buf, "default: 7101"));
    static const config_var_t empty[] = {{"CONCERTO_TEST_OPTIONAL", "", "unset: none"}};
    f = fmemopen(buf, sizeof buf - 1, "w");
    config_print_help(f, "concerto-test", "Test.", empty, 1);
    fclose(f);
    assert_non_null(strstr(buf, "CONCERTO_TEST_OPTIONAL"));
    assert_null(strstr(buf, "(default: )"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_apply_when_unset_or_empty),
        cmocka_unit_test(test_int_out_of_range_names_the_variable),
        cmocka_unit_test(test_required_variable_missing_is_an_error),
        cmocka_unit_test(test_help_lists_every_variable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
