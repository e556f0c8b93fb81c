/* field: the checks handlers use, on good, absent and bad values, and the
 * violation each bad one gets. */
#include "toolkit_fixture.h"

#include "field.h"

static int setup(void **state)
{
    return fixture_setup(state, "CREATE TABLE unused(x)");
}

static const char *const colors[] = {"red", "green", NULL};

static int good_fields(ctx_t *ctx)
{
    assert_true(field_text(ctx, "a", "Côte-des-Neiges", 15, FIELD_REQUIRED));
    assert_true(field_text(ctx, "a", "two\nlines", 20, FIELD_MULTILINE));
    assert_true(field_text(ctx, "a", NULL, 5, 0));
    assert_true(field_slug(ctx, "b", "tq-mn", FIELD_REQUIRED));
    assert_true(field_date(ctx, "c", "2024-02-29", 0));
    assert_string_equal(field_past_date(ctx, "c", "2024-02-29"), "2024-02-29");
    assert_string_equal(field_past_date(ctx, "c", NULL), ctx->today);
    assert_true(field_word(ctx, "d", "green", colors, 0));
    assert_true(field_url(ctx, "e", "https://tqmn.ca", 0));
    assert_true(field_email(ctx, "f", "", 0));
    assert_true(field_phone(ctx, "g", "514-555-0123 x12", 0));
    assert_true(field_range(ctx, "h", 5, 0, 5));
    assert_true(field_absent(ctx, "i", 0));
    assert_string_equal(field_update_id(ctx, "thing", 1, "t1", NULL), "t1");
    assert_string_equal(field_update_id(ctx, "thing", 1, "", "t2"), "t2");
    char *pattern = field_search(ctx, "s", "Côte-des-NEIGES", 200);
    assert_string_equal(pattern, "%cote%des%neiges%");
    free(pattern);
    assert_null(field_search(ctx, "s", NULL, 200));
    return 0;
}

static void test_fields_accept_good_and_absent_values(void **state)
{
    Concerto__Common__V1__Reply *r = fixture_run(*state, good_fields);
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(r->n_fields, 0);
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

static int bad_fields(ctx_t *ctx)
{
    assert_false(field_text(ctx, "text.long", "Côte", 3, 0));
    assert_false(field_text(ctx, "text.line", "a\nb", 20, 0));
    assert_false(field_text(ctx, "text.required", "", 5, FIELD_REQUIRED));
    assert_false(field_slug(ctx, "slug", "TQ", 0));
    assert_false(field_date(ctx, "date", "2023-02-29", 0));
    field_past_date(ctx, "future", "2199-12-31");
    assert_false(field_word(ctx, "word", "blue", colors, 0));
    assert_false(field_url(ctx, "url", "ftp://x.ca", 0));
    assert_false(field_email(ctx, "email", "a@b", 0));
    assert_false(field_phone(ctx, "phone", "555-0123", 0));
    assert_false(field_range(ctx, "range", 6, 0, 5));
    assert_false(field_absent(ctx, "absent", 1));
    assert_null(field_update_id(ctx, "thing", 1, "t1", "t2"));
    assert_null(field_search(ctx, "search", "--", 200));
    return 0;
}

static void test_fields_refuse_bad_values_naming_each(void **state)
{
    Concerto__Common__V1__Reply *r = fixture_run(*state, bad_fields);
    assert_int_equal(r->status, STATUS_INVALID_ARGUMENT);
    assert_string_equal(fixture_violation(r, "text.long"), "must be at most 3 characters");
    assert_string_equal(fixture_violation(r, "text.line"), "must not contain control characters");
    assert_string_equal(fixture_violation(r, "text.required"), "is required");
    assert_non_null(fixture_violation(r, "slug"));
    assert_non_null(strstr(fixture_violation(r, "date"), "YYYY-MM-DD"));
    assert_non_null(strstr(fixture_violation(r, "future"), "must not be in the future"));
    assert_string_equal(fixture_violation(r, "word"), "must be one of: red, green");
    assert_non_null(fixture_violation(r, "url"));
    assert_non_null(fixture_violation(r, "email"));
    assert_non_null(fixture_violation(r, "phone"));
    assert_string_equal(fixture_violation(r, "range"), "must be between 0 and 5");
    assert_string_equal(fixture_violation(r, "absent"), "is read-only");
    assert_non_null(strstr(fixture_violation(r, "thing.id"), "ids never change"));
    assert_string_equal(fixture_violation(r, "search"), "must contain a letter or a digit");
    assert_int_equal(r->n_fields, 14);
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fields_accept_good_and_absent_values, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_fields_refuse_bad_values_naming_each, setup,
                                        fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
