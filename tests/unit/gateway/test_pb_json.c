/* Tests for pb_json: the gateway's JSON <-> protobuf mapping. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "concerto/test/v1/jsonmap.pb-c.h"
#include "pb_json.h"
#include "pbmsg.h"

typedef Concerto__Test__V1__AllKinds all_kinds_t;
typedef Concerto__Test__V1__ListRequest list_request_t;
typedef Concerto__Test__V1__Node node_t;

#define ALL_KINDS (&concerto__test__v1__all_kinds__descriptor)
#define LIST_REQUEST (&concerto__test__v1__list_request__descriptor)
#define NODE (&concerto__test__v1__node__descriptor)

static json_t *load(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
    if (j == NULL)
        fail_msg("bad test JSON: %s: %s", jerr.text, text);
    return j;
}

static ProtobufCMessage *parse_json(const json_t *j, const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *msg = NULL;
    pb_json_error_t err;
    if (pb_json_to_message(j, desc, &msg, &err) != 0)
        fail_msg("unexpected error at '%s': %s", err.field, err.message);
    assert_non_null(msg);
    return msg;
}

static ProtobufCMessage *parse_ok(const char *text, const ProtobufCMessageDescriptor *desc)
{
    json_t *j = load(text);
    ProtobufCMessage *msg = parse_json(j, desc);
    json_decref(j);
    return msg;
}

static void expect_json_error(const json_t *j, const ProtobufCMessageDescriptor *desc,
                              const char *field, const char *message_part)
{
    ProtobufCMessage *msg = (ProtobufCMessage *)&msg;
    pb_json_error_t err;
    assert_int_equal(pb_json_to_message(j, desc, &msg, &err), -1);
    assert_null(msg);
    assert_string_equal(err.field, field);
    if (strstr(err.message, message_part) == NULL)
        fail_msg("message '%s' lacks '%s'", err.message, message_part);
}

static void expect_error(const char *text, const ProtobufCMessageDescriptor *desc,
                         const char *field, const char *message_part)
{
    json_t *j = load(text);
    expect_json_error(j, desc, field, message_part);
    json_decref(j);
}

/* JSON of msg as compact text with sorted keys, for comparisons. */
static char *dump(const ProtobufCMessage *msg)
{
    json_t *j = pb_json_from_message(msg);
    assert_non_null(j);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    return s;
}

/* Drops from `got` the empty arrays `want` does not name, at any depth:
 * expected texts name only the lists that matter to a test (that empty
 * ones are written is test_empty_repeated_fields_are_empty_arrays). */
static void drop_unnamed_empty_lists(json_t *got, const json_t *want)
{
    if (!json_is_object(got))
        return;
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(got, tmp, key, v)
    {
        json_t *w = json_is_object(want) ? json_object_get(want, key) : NULL;
        if (!w && json_is_array(v) && json_array_size(v) == 0)
            json_object_del(got, key);
        else
            drop_unnamed_empty_lists(v, w);
    }
}

static void assert_json_text(const ProtobufCMessage *msg, const char *expected)
{
    json_t *want = load(expected);
    json_t *got = pb_json_from_message(msg);
    assert_non_null(got);
    drop_unnamed_empty_lists(got, want);
    if (!json_equal(want, got)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
        char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
        fprintf(stderr, "got:  %s\nwant: %s\n", g, w);
        free(g);
        free(w);
        fail();
    }
    json_decref(want);
    json_decref(got);
}

static void free_msg(void *msg)
{
    protobuf_c_message_free_unpacked(msg, NULL);
}

/* Every kind, as the mapping writes it back. */
static const char every_kind[] =
    "{\"int32Value\":-7,\"int64Value\":-9000000000,\"uint32Value\":4000000000,"
    "\"uint64Value\":12345678901234,\"sint32Value\":-2,\"sint64Value\":-3,"
    "\"fixed32Value\":5,\"fixed64Value\":6,\"sfixed32Value\":-8,\"sfixed64Value\":-9,"
    "\"boolValue\":true,\"doubleValue\":2.5,\"floatValue\":0.5,"
    "\"stringValue\":\"Hochelaga-Maisonneuve \\u00e9t\\u00e9\",\"bytesValue\":\"AP/+\","
    "\"color\":\"COLOR_GREEN\","
    "\"contact\":{\"email\":\"a@b.ca\",\"phoneNumber\":\"514\","
    "\"address\":{\"street\":\"Ontario\",\"postalCode\":\"H1W\"}},"
    "\"foundingYear\":1995,"
    "\"int32List\":[1,-2,3],\"int64List\":[-9223372036854775808,9223372036854775807],"
    "\"uint64List\":[0,\"18446744073709551615\"],\"tags\":[\"a\",\"\",\"c\"],"
    "\"blobs\":[\"\",\"AQ==\"],\"colors\":[\"COLOR_RED\",\"COLOR_BLUE\"],"
    "\"doubles\":[1.5,-0.25],\"floats\":[0.75],\"flags\":[false,true],"
    "\"contacts\":[{\"email\":\"x@y.ca\"},{}],"
    "\"choiceContact\":{\"phoneNumber\":\"1\"},"
    "\"greeting\":\"bonjour\",\"magic\":\"eHl6\",\"answer\":7,"
    "\"tree\":{\"name\":\"root\",\"child\":{\"name\":\"leaf\"}}}";

static void test_round_trip_preserves_every_field_kind(void **state)
{
    (void)state;
    all_kinds_t *m = (all_kinds_t *)parse_ok(every_kind, ALL_KINDS);

    assert_true(m->has_int32_value);
    assert_int_equal(m->int32_value, -7);
    assert_true(m->int64_value == -9000000000LL);
    assert_true(m->uint32_value == 4000000000U);
    assert_true(m->uint64_value == 12345678901234ULL);
    assert_int_equal(m->sint32_value, -2);
    assert_true(m->sint64_value == -3);
    assert_int_equal(m->fixed32_value, 5);
    assert_true(m->fixed64_value == 6);
    assert_int_equal(m->sfixed32_value, -8);
    assert_true(m->sfixed64_value == -9);
    assert_true(m->has_bool_value && m->bool_value);
    assert_true(m->double_value == 2.5);
    assert_true(m->float_value == 0.5f);
    assert_string_equal(m->string_value, "Hochelaga-Maisonneuve \xc3\xa9t\xc3\xa9");
    assert_int_equal(m->bytes_value.len, 3);
    assert_memory_equal(m->bytes_value.data, "\x00\xff\xfe", 3);
    assert_int_equal(m->color, CONCERTO__TEST__V1__COLOR__COLOR_GREEN);
    assert_string_equal(m->contact->address->postal_code, "H1W");
    assert_int_equal(m->n_int64_list, 2);
    assert_true(m->int64_list[0] == INT64_MIN && m->int64_list[1] == INT64_MAX);
    assert_true(m->uint64_list[1] == UINT64_MAX);
    assert_int_equal(m->n_tags, 3);
    assert_string_equal(m->tags[1], "");
    assert_int_equal(m->blobs[0].len, 0);
    assert_int_equal(m->n_contacts, 2);
    assert_int_equal(m->choice_case, CONCERTO__TEST__V1__ALL_KINDS__CHOICE_CHOICE_CONTACT);
    assert_string_equal(m->greeting, "bonjour");
    assert_string_equal(m->tree->child->name, "leaf");

    assert_json_text(&m->base, every_kind);
    free_msg(m);
}

static void test_built_message_packs_and_matches_unpacked_copy(void **state)
{
    (void)state;
    ProtobufCMessage *m = parse_ok(every_kind, ALL_KINDS);
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len);
    protobuf_c_message_pack(m, buf);
    ProtobufCMessage *copy = protobuf_c_message_unpack(ALL_KINDS, NULL, len, buf);
    assert_non_null(copy);
    char *a = dump(m), *b = dump(copy);
    assert_string_equal(a, b);
    free(a);
    free(b);
    free(buf);
    free_msg(copy);
    free_msg(m);
}

static void test_accepts_proto_field_names(void **state)
{
    (void)state;
    all_kinds_t *m = (all_kinds_t *)parse_ok(
        "{\"founding_year\":1990,\"contact\":{\"phone_number\":\"1\"},\"choice_name\":\"x\"}",
        ALL_KINDS);
    assert_int_equal(m->founding_year, 1990);
    assert_string_equal(m->contact->phone_number, "1");
    assert_json_text(&m->base, "{\"foundingYear\":1990,\"contact\":{\"phoneNumber\":\"1\"},"
                               "\"choiceName\":\"x\"}");
    free_msg(m);
}

static void test_absent_fields_and_defaults_are_omitted(void **state)
{
    (void)state;
    all_kinds_t *m = (all_kinds_t *)parse_ok("{}", ALL_KINDS);
    /* Declared defaults are in place, yet not emitted. */
    assert_string_equal(m->greeting, "hello");
    assert_int_equal(m->answer, 42);
    assert_int_equal(m->magic.len, 3);
    assert_json_text(&m->base, "{}");
    free_msg(m);
}

static void test_empty_repeated_fields_are_empty_arrays(void **state)
{
    (void)state;
    all_kinds_t *m = (all_kinds_t *)parse_ok("{\"tags\":[],\"contact\":{}}", ALL_KINDS);
    json_t *j = pb_json_from_message(&m->base);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"blobs\":[],\"colors\":[],\"contact\":{},\"contacts\":[],"
                           "\"doubles\":[],\"flags\":[],\"floats\":[],\"int32List\":[],"
                           "\"int64List\":[],\"tags\":[],\"uint64List\":[]}");
    free(s);
    json_decref(j);
    free_msg(m);
}

static void test_null_means_absent(void **state)
{
    (void)state;
    all_kinds_t *m = (all_kinds_t *)parse_ok(
        "{\"int32Value\":null,\"stringValue\":null,\"contact\":null,\"tags\":null,"
        "\"choiceName\":null,\"choiceNumber\":5}",
        ALL_KINDS);
    assert_false(m->has_int32_value);
    assert_null(m->string_value);
    assert_null(m->contact);
    assert_int_equal(m->n_tags, 0);
    assert_json_text(&m->base, "{\"choiceNumber\":5}");
    free_msg(m);
}

static void test_rejects_unknown_field_naming_its_path(void **state)
{
    (void)state;
    expect_error("{\"bogus\":1}", ALL_KINDS, "bogus", "unknown field");
    expect_error("{\"contact\":{\"emial\":\"a\"}}", ALL_KINDS, "contact.emial", "unknown field");
    expect_error("{\"contacts\":[{},{\"address\":{\"zip\":\"H1W\"}}]}", ALL_KINDS,
                 "contacts[1].address.zip", "unknown field");
    /* A key with an embedded NUL is not "tags". */
    json_t *j = json_object();
    json_object_setn_new(j, "tags\0x", 6, json_array());
    expect_json_error(j, ALL_KINDS, "tags?x", "unknown field");
    json_decref(j);
}

static void test_error_path_is_valid_utf8_for_invalid_keys(void **state)
{
    (void)state;
    json_t *j = json_object();
    json_object_set_new_nocheck(j,
                                "a\xff"
                                "b",
                                json_integer(1));
    expect_json_error(j, ALL_KINDS, "a?b", "unknown field");
    json_decref(j);
}

static void test_rejects_wrong_json_type_naming_field_and_type(void **state)
{
    (void)state;
    expect_error("{\"int32Value\":\"abc\"}", ALL_KINDS, "int32Value", "expected an integer");
    expect_error("{\"int64Value\":true}", ALL_KINDS, "int64Value", "expected an integer");
    expect_error("{\"boolValue\":1}", ALL_KINDS, "boolValue", "expected true or false");
    expect_error("{\"boolValue\":\"true\"}", ALL_KINDS, "boolValue", "expected true or false");
    expect_error("{\"stringValue\":5}", ALL_KINDS, "stringValue", "expected a string");
    expect_error("{\"doubleValue\":\"1.5x\"}", ALL_KINDS, "doubleValue", "expected a number");
    expect_error("{\"doubleValue\":\"inf\"}", ALL_KINDS, "doubleValue", "expected a number");
    expect_error("{\"floatValue\":[]}", ALL_KINDS, "floatValue", "expected a number");
    expect_error("{\"bytesValue\":7}", ALL_KINDS, "bytesValue", "expected a base64 string");
    expect_error("{\"contact\":[]}", ALL_KINDS, "contact", "expected an object");
    expect_error("{\"tags\":\"a\"}", ALL_KINDS, "tags", "expected an array of string");
    expect_error("{\"tags\":[\"a\",2]}", ALL_KINDS, "tags[1]", "expected a string");
    expect_error("{\"contacts\":[{\"email\":1}]}", ALL_KINDS, "contacts[0].email",
                 "expected a string");
}

static void test_rejects_document_that_is_not_an_object(void **state)
{
    (void)state;
    expect_error("[1]", ALL_KINDS, "", "expected an object");
    expect_error("\"x\"", ALL_KINDS, "", "expected an object");
    expect_json_error(NULL, ALL_KINDS, "", "expected an object");
}

static void test_rejects_out_of_range_integers(void **state)
{
    (void)state;
    expect_error("{\"int32Value\":2147483648}", ALL_KINDS, "int32Value", "out of range");
    expect_error("{\"int32Value\":-2147483649}", ALL_KINDS, "int32Value", "out of range");
    expect_error("{\"sint32Value\":\"-2147483649\"}", ALL_KINDS, "sint32Value", "out of range");
    expect_error("{\"uint32Value\":-1}", ALL_KINDS, "uint32Value", "out of range");
    expect_error("{\"fixed32Value\":4294967296}", ALL_KINDS, "fixed32Value", "out of range");
    expect_error("{\"uint64Value\":\"-1\"}", ALL_KINDS, "uint64Value", "out of range");
    expect_error("{\"uint64Value\":\"18446744073709551616\"}", ALL_KINDS, "uint64Value",
                 "out of range");
    expect_error("{\"int64Value\":\"9223372036854775808\"}", ALL_KINDS, "int64Value",
                 "out of range");
    expect_error("{\"int64Value\":\"-9223372036854775809\"}", ALL_KINDS, "int64Value",
                 "out of range");
    expect_error("{\"int32List\":[1,2147483648]}", ALL_KINDS, "int32List[1]", "out of range");
    expect_error("{\"sfixed32Value\":-9223372036854775808}", ALL_KINDS, "sfixed32Value",
                 "out of range");
    expect_error("{\"int32Value\":\"-18446744073709551615\"}", ALL_KINDS, "int32Value",
                 "out of range");
}

static void test_rejects_fractional_numbers_for_integer_fields(void **state)
{
    (void)state;
    expect_error("{\"int32Value\":1.5}", ALL_KINDS, "int32Value", "fraction");
    expect_error("{\"uint64Value\":0.1}", ALL_KINDS, "uint64Value", "fraction");
    expect_error("{\"int32Value\":\"1.0\"}", ALL_KINDS, "int32Value", "expected an integer");
    expect_error("{\"int64Value\":1e300}", ALL_KINDS, "int64Value", "too large");
    /* Integral reals are integers. */
    all_kinds_t *m =
        (all_kinds_t *)parse_ok("{\"int32Value\":2.0,\"int64Value\":-1e15}", ALL_KINDS);
    assert_int_equal(m->int32_value, 2);
    assert_true(m->int64_value == -1000000000000000LL);
    free_msg(m);
}

static void test_64bit_extremes_round_trip_exactly(void **state)
{
    (void)state;
    all_kinds_t *m = (all_kinds_t *)parse_ok(
        "{\"int64Value\":-9223372036854775808,\"sint64Value\":\"9223372036854775807\","
        "\"sfixed64Value\":\"-9223372036854775808\",\"uint64Value\":\"18446744073709551615\","
        "\"fixed64Value\":9223372036854775807,\"uint32Value\":4294967295,"
        "\"int32Value\":-2147483648,\"uint64List\":[\"9223372036854775808\",1]}",
        ALL_KINDS);
    assert_true(m->int64_value == INT64_MIN);
    assert_true(m->sint64_value == INT64_MAX);
    assert_true(m->sfixed64_value == INT64_MIN);
    assert_true(m->uint64_value == UINT64_MAX);
    assert_true(m->fixed64_value == (uint64_t)INT64_MAX);
    assert_true(m->uint32_value == UINT32_MAX);
    assert_true(m->int32_value == INT32_MIN);
    /* uint64 past INT64_MAX goes out as a string; everything else as a
     * JSON integer. */
    assert_json_text(&m->base,
                     "{\"int64Value\":-9223372036854775808,\"sint64Value\":9223372036854775807,"
                     "\"sfixed64Value\":-9223372036854775808,"
                     "\"uint64Value\":\"18446744073709551615\","
                     "\"fixed64Value\":9223372036854775807,\"uint32Value\":4294967295,"
                     "\"int32Value\":-2147483648,\"uint64List\":[\"9223372036854775808\",1]}");
    free_msg(m);
}

static void test_bytes_are_standard_base64(void **state)
{
    (void)state;
    /* Standard alphabet with padding; also unpadded and URL-safe in. */
    all_kinds_t *m = (all_kinds_t *)parse_ok(
        "{\"bytesValue\":\"+/8=\",\"blobs\":[\"-_8\",\"+/8\",\"aGVsbG8=\",\"\"]}", ALL_KINDS);
    assert_int_equal(m->bytes_value.len, 2);
    assert_memory_equal(m->bytes_value.data, "\xfb\xff", 2);
    assert_int_equal(m->n_blobs, 4);
    assert_memory_equal(m->blobs[0].data, "\xfb\xff", 2);
    assert_memory_equal(m->blobs[1].data, "\xfb\xff", 2);
    assert_memory_equal(m->blobs[2].data, "hello", 5);
    assert_int_equal(m->blobs[3].len, 0);
    assert_json_text(&m->base,
                     "{\"bytesValue\":\"+/8=\",\"blobs\":[\"+/8=\",\"+/8=\",\"aGVsbG8=\",\"\"]}");
    free_msg(m);

    expect_error("{\"bytesValue\":\"a@==\"}", ALL_KINDS, "bytesValue", "base64");
    expect_error("{\"bytesValue\":\"aGVsbG8=x\"}", ALL_KINDS, "bytesValue", "base64");
    expect_error("{\"bytesValue\":\"aGVsbG8==\"}", ALL_KINDS, "bytesValue", "base64");
    expect_error("{\"blobs\":[\"AQ==\",\"A\"]}", ALL_KINDS, "blobs[1]", "base64");
}

static void test_enums_by_name_and_short_name(void **state)
{
    (void)state;
    all_kinds_t *m = (all_kinds_t *)parse_ok(
        "{\"color\":\"BLUE\",\"colors\":[\"COLOR_RED\",\"GREEN\",\"COLOR_UNSPECIFIED\"]}",
        ALL_KINDS);
    assert_int_equal(m->color, CONCERTO__TEST__V1__COLOR__COLOR_BLUE);
    assert_int_equal(m->colors[1], CONCERTO__TEST__V1__COLOR__COLOR_GREEN);
    assert_json_text(&m->base, "{\"color\":\"COLOR_BLUE\","
                               "\"colors\":[\"COLOR_RED\",\"COLOR_GREEN\",\"COLOR_UNSPECIFIED\"]}");
    /* A value a newer peer knows and this schema does not: its number. */
    m->color = 99;
    assert_json_text(&m->base, "{\"color\":99,"
                               "\"colors\":[\"COLOR_RED\",\"COLOR_GREEN\",\"COLOR_UNSPECIFIED\"]}");
    free_msg(m);

    expect_error("{\"color\":\"PURPLE\"}", ALL_KINDS, "color", "not a value of concerto.test.v1");
    expect_error("{\"color\":\"red\"}", ALL_KINDS, "color", "not a value");
    expect_error("{\"color\":1}", ALL_KINDS, "color", "expected the name");
    expect_error("{\"colors\":[\"RED\",\"COLOR_\"]}", ALL_KINDS, "colors[1]", "not a value");
}

static void test_floating_point_values_and_specials(void **state)
{
    (void)state;
    all_kinds_t *m = (all_kinds_t *)parse_ok(
        "{\"floatValue\":0.1,\"doubleValue\":\"NaN\",\"doubles\":[\"Infinity\",\"-Infinity\","
        "\"1.25\",3],\"floats\":[\"-1e3\"]}",
        ALL_KINDS);
    assert_true(m->float_value == 0.1f);
    assert_true(isnan(m->double_value));
    assert_true(isinf(m->doubles[0]) && m->doubles[0] > 0);
    assert_true(m->doubles[2] == 1.25 && m->doubles[3] == 3.0);
    assert_true(m->floats[0] == -1000.0f);
    /* 0.1f comes out as the shortest text that reads back as that float. */
    assert_json_text(&m->base,
                     "{\"floatValue\":0.1,\"doubleValue\":\"NaN\","
                     "\"doubles\":[\"Infinity\",\"-Infinity\",1.25,3.0],\"floats\":[-1000.0]}");
    free_msg(m);

    expect_error("{\"floatValue\":1e39}", ALL_KINDS, "floatValue", "out of range for float");
    expect_error("{\"doubleValue\":\"1e999\"}", ALL_KINDS, "doubleValue", "out of range");
    expect_error("{\"doubleValue\":\"0x10\"}", ALL_KINDS, "doubleValue", "expected a number");
}

static void test_rejects_invalid_utf8_and_nul_in_strings(void **state)
{
    (void)state;
    json_t *j = json_object();
    json_object_set_new(j, "stringValue", json_stringn_nocheck("a\xc0\xafz", 4));
    expect_json_error(j, ALL_KINDS, "stringValue", "UTF-8");
    json_object_set_new(j, "stringValue", json_stringn_nocheck("\xed\xa0\x80", 3));
    expect_json_error(j, ALL_KINDS, "stringValue", "UTF-8");
    json_decref(j);
    expect_error("{\"tags\":[\"ok\",\"a\\u0000b\"]}", ALL_KINDS, "tags[1]", "NUL");
}

static void test_invalid_utf8_from_a_service_is_replaced(void **state)
{
    (void)state;
    all_kinds_t *m = (all_kinds_t *)pb_json_message_new(ALL_KINDS);
    m->string_value = strdup("a\xff"
                             "b\xe2\x82"
                             "c\xf0\x9f\x98\x80");
    assert_json_text(&m->base, "{\"stringValue\":\"a\\ufffdb\\ufffd\\ufffdc\\ud83d\\ude00\"}");
    free_msg(m);
}

static void test_rejects_nesting_deeper_than_limit(void **state)
{
    (void)state;
    char text[2048] = "";
    char path[1024] = "";
    /* Node at depth 1, then 32 children: 33 levels. */
    for (int i = 0; i < PB_JSON_MAX_DEPTH; i++)
        strcat(text, "{\"child\":");
    strcat(text, "{}");
    for (int i = 0; i < PB_JSON_MAX_DEPTH; i++)
        strcat(text, "}");
    for (int i = 0; i < PB_JSON_MAX_DEPTH; i++)
        strcat(path, i ? ".child" : "child");
    expect_error(text, NODE, path, "nested more than 32");

    /* 32 levels are fine. */
    text[0] = '\0';
    for (int i = 0; i < PB_JSON_MAX_DEPTH - 1; i++)
        strcat(text, "{\"child\":");
    strcat(text, "{}");
    for (int i = 0; i < PB_JSON_MAX_DEPTH - 1; i++)
        strcat(text, "}");
    ProtobufCMessage *m = parse_ok(text, NODE);
    json_t *j = pb_json_from_message(m);
    assert_non_null(j);
    json_decref(j);
    free_msg(m);
}

static void test_output_refuses_nesting_deeper_than_limit(void **state)
{
    (void)state;
    node_t *root = (node_t *)pb_json_message_new(NODE);
    node_t *n = root;
    for (int i = 0; i < PB_JSON_MAX_DEPTH; i++) {
        n->child = (node_t *)pb_json_message_new(NODE);
        n = n->child;
    }
    assert_null(pb_json_from_message(&root->base));
    free_msg(root);
}

static void test_rejects_arrays_longer_than_limit(void **state)
{
    (void)state;
    json_t *arr = json_array();
    for (int i = 0; i < PB_JSON_MAX_ARRAY; i++)
        json_array_append_new(arr, json_integer(i));
    json_t *j = json_pack("{s:O}", "int32List", arr);
    all_kinds_t *m = (all_kinds_t *)parse_json(j, ALL_KINDS);
    assert_int_equal(m->n_int32_list, PB_JSON_MAX_ARRAY);
    free_msg(m);

    json_array_append_new(arr, json_integer(0));
    expect_json_error(j, ALL_KINDS, "int32List", "more than 10000 elements");
    json_decref(j);
    json_decref(arr);
}

static void test_rejects_null_inside_arrays(void **state)
{
    (void)state;
    expect_error("{\"contacts\":[{},null]}", ALL_KINDS, "contacts[1]", "null is not allowed");
}

static void test_rejects_two_members_of_a_oneof(void **state)
{
    (void)state;
    expect_error("{\"choiceName\":\"a\",\"choiceNumber\":1}", ALL_KINDS, "choiceNumber",
                 "only one of a oneof");
    expect_error("{\"choiceContact\":{},\"choice_name\":\"a\"}", ALL_KINDS, "choiceName",
                 "choiceContact is set already");
}

static void test_rejects_field_given_under_both_names(void **state)
{
    (void)state;
    expect_error("{\"foundingYear\":1,\"founding_year\":2}", ALL_KINDS, "foundingYear",
                 "given twice");
}

static void test_error_midway_frees_partial_message(void **state)
{
    (void)state;
    /* Strings, bytes, sub-messages and arrays are built before the error;
     * the sanitizer build checks they are all released. */
    expect_error("{\"stringValue\":\"s\",\"bytesValue\":\"AQ==\",\"tags\":[\"a\",\"b\"],"
                 "\"contact\":{\"email\":\"e\"},\"choiceName\":\"c\",\"greeting\":\"g\","
                 "\"contacts\":[{\"email\":\"x\",\"address\":{\"street\":\"s\"}},"
                 "{\"address\":{\"street\":5}}]}",
                 ALL_KINDS, "contacts[1].address.street", "expected a string");
}

static void test_set_field_from_string_fills_a_request_from_query_params(void **state)
{
    (void)state;
    list_request_t *r = (list_request_t *)pb_json_message_new(LIST_REQUEST);
    pb_json_error_t err;
    assert_int_equal(pb_json_set_field_from_string(&r->base, "borough", "Verdun", &err), 0);
    assert_int_equal(pb_json_set_field_from_string(&r->base, "limit", "10", &err), 0);
    assert_int_equal(pb_json_set_field_from_string(&r->base, "includeInactive", "true", &err), 0);
    assert_int_equal(pb_json_set_field_from_string(&r->base, "color", "RED", &err), 0);
    assert_int_equal(pb_json_set_field_from_string(&r->base, "ids", "a", &err), 0);
    assert_int_equal(pb_json_set_field_from_string(&r->base, "ids", "b", &err), 0);
    assert_int_equal(pb_json_set_field_from_string(&r->base, "near.postal_code", "H4G", &err), 0);
    assert_int_equal(pb_json_set_field_from_string(&r->base, "near.street", "Wellington", &err), 0);
    assert_string_equal(r->borough, "Verdun");
    assert_true(r->has_limit && r->limit == 10);
    assert_true(r->include_inactive);
    assert_int_equal(r->n_ids, 2);
    assert_json_text(&r->base, "{\"borough\":\"Verdun\",\"limit\":10,\"includeInactive\":true,"
                               "\"color\":\"COLOR_RED\",\"ids\":[\"a\",\"b\"],"
                               "\"near\":{\"postalCode\":\"H4G\",\"street\":\"Wellington\"}}");
    /* A later value replaces a singular field. */
    assert_int_equal(pb_json_set_field_from_string(&r->base, "borough", "Lachine", &err), 0);
    assert_string_equal(r->borough, "Lachine");
    free_msg(r);
}

static void expect_string_error(ProtobufCMessage *msg, const char *name, const char *value,
                                const char *field, const char *message_part)
{
    char *before = dump(msg);
    pb_json_error_t err;
    assert_int_equal(pb_json_set_field_from_string(msg, name, value, &err), -1);
    assert_string_equal(err.field, field);
    if (strstr(err.message, message_part) == NULL)
        fail_msg("message '%s' lacks '%s'", err.message, message_part);
    char *after = dump(msg);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static void test_set_field_from_string_rejects_bad_values_leaving_message_unchanged(void **state)
{
    (void)state;
    list_request_t *r = (list_request_t *)pb_json_message_new(LIST_REQUEST);
    pb_json_error_t err;
    assert_int_equal(pb_json_set_field_from_string(&r->base, "borough", "Verdun", &err), 0);
    expect_string_error(&r->base, "limit", "ten", "limit", "expected an integer");
    expect_string_error(&r->base, "limit", "-1", "limit", "out of range for uint32");
    expect_string_error(&r->base, "limit", " 1", "limit", "expected an integer");
    expect_string_error(&r->base, "limit", "", "limit", "expected an integer");
    expect_string_error(&r->base, "includeInactive", "yes", "includeInactive", "true or false");
    expect_string_error(&r->base, "color", "PURPLE", "color", "not a value");
    expect_string_error(&r->base, "bogus", "1", "bogus", "unknown field");
    expect_string_error(&r->base, "near", "x", "near", "cannot be set from text");
    expect_string_error(&r->base, "near.zip", "x", "near.zip", "unknown field");
    expect_string_error(&r->base, "borough.x", "x", "borough", "not a singular message");
    expect_string_error(&r->base, "borough", "a\xff", "borough", "UTF-8");
    expect_string_error(&r->base, "\xff\xfe", "1", "??", "unknown field");
    free_msg(r);
}

static void test_set_field_from_string_switches_oneof_and_replaces_values(void **state)
{
    (void)state;
    all_kinds_t *m = (all_kinds_t *)pb_json_message_new(ALL_KINDS);
    pb_json_error_t err;
    assert_int_equal(pb_json_set_field_from_string(&m->base, "choiceName", "a", &err), 0);
    assert_int_equal(pb_json_set_field_from_string(&m->base, "choiceContact.email", "e", &err), 0);
    assert_int_equal(m->choice_case, CONCERTO__TEST__V1__ALL_KINDS__CHOICE_CHOICE_CONTACT);
    assert_int_equal(pb_json_set_field_from_string(&m->base, "choiceNumber", "-5", &err), 0);
    assert_int_equal(m->choice_case, CONCERTO__TEST__V1__ALL_KINDS__CHOICE_CHOICE_NUMBER);
    assert_int_equal(pb_json_set_field_from_string(&m->base, "greeting", "salut", &err), 0);
    assert_int_equal(pb_json_set_field_from_string(&m->base, "greeting", "allo", &err), 0);
    assert_int_equal(pb_json_set_field_from_string(&m->base, "magic", "AQI=", &err), 0);
    assert_int_equal(
        pb_json_set_field_from_string(&m->base, "uint64Value", "18446744073709551615", &err), 0);
    assert_int_equal(pb_json_set_field_from_string(&m->base, "floatValue", "2.5", &err), 0);
    assert_int_equal(pb_json_set_field_from_string(&m->base, "doubleValue", "NaN", &err), 0);
    assert_int_equal(pb_json_set_field_from_string(&m->base, "blobs", "AQ==", &err), 0);
    assert_json_text(&m->base, "{\"choiceNumber\":-5,\"greeting\":\"allo\",\"magic\":\"AQI=\","
                               "\"uint64Value\":\"18446744073709551615\",\"floatValue\":2.5,"
                               "\"doubleValue\":\"NaN\",\"blobs\":[\"AQ==\"]}");
    free_msg(m);
}

static void test_set_field_from_string_bounds_repeated_fields(void **state)
{
    (void)state;
    list_request_t *r = (list_request_t *)pb_json_message_new(LIST_REQUEST);
    pb_json_error_t err;
    for (int i = 0; i < PB_JSON_MAX_ARRAY; i++)
        assert_int_equal(pb_json_set_field_from_string(&r->base, "ids", "x", &err), 0);
    assert_int_equal(pb_json_set_field_from_string(&r->base, "ids", "x", &err), -1);
    assert_string_equal(err.field, "ids");
    assert_int_equal(r->n_ids, PB_JSON_MAX_ARRAY);
    free_msg(r);
}

static void test_find_field_by_json_or_proto_name(void **state)
{
    (void)state;
    const ProtobufCFieldDescriptor *a = pb_json_find_field(ALL_KINDS, "foundingYear");
    const ProtobufCFieldDescriptor *b = pb_json_find_field(ALL_KINDS, "founding_year");
    assert_non_null(a);
    assert_ptr_equal(a, b);
    assert_null(pb_json_find_field(ALL_KINDS, "FoundingYear"));
    assert_null(pb_json_find_field(ALL_KINDS, "foundingyear"));
}

static void test_field_paths_use_json_names(void **state)
{
    (void)state;
    char out[64];
    pbmsg_json_path("contact.phone_number", out, sizeof out);
    assert_string_equal(out, "contact.phoneNumber");
    pbmsg_json_path("members[2].organization_id", out, sizeof out);
    assert_string_equal(out, "members[2].organizationId");
    pbmsg_json_path("tables.csv:12:founding_year", out, sizeof out);
    assert_string_equal(out, "tables.csv:12:founding_year");
    pbmsg_json_path("", out, sizeof out);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_paths_use_json_names),
        cmocka_unit_test(test_round_trip_preserves_every_field_kind),
        cmocka_unit_test(test_built_message_packs_and_matches_unpacked_copy),
        cmocka_unit_test(test_accepts_proto_field_names),
        cmocka_unit_test(test_absent_fields_and_defaults_are_omitted),
        cmocka_unit_test(test_empty_repeated_fields_are_empty_arrays),
        cmocka_unit_test(test_null_means_absent),
        cmocka_unit_test(test_rejects_unknown_field_naming_its_path),
        cmocka_unit_test(test_error_path_is_valid_utf8_for_invalid_keys),
        cmocka_unit_test(test_rejects_wrong_json_type_naming_field_and_type),
        cmocka_unit_test(test_rejects_document_that_is_not_an_object),
        cmocka_unit_test(test_rejects_out_of_range_integers),
        cmocka_unit_test(test_rejects_fractional_numbers_for_integer_fields),
        cmocka_unit_test(test_64bit_extremes_round_trip_exactly),
        cmocka_unit_test(test_bytes_are_standard_base64),
        cmocka_unit_test(test_enums_by_name_and_short_name),
        cmocka_unit_test(test_floating_point_values_and_specials),
        cmocka_unit_test(test_rejects_invalid_utf8_and_nul_in_strings),
        cmocka_unit_test(test_invalid_utf8_from_a_service_is_replaced),
        cmocka_unit_test(test_rejects_nesting_deeper_than_limit),
        cmocka_unit_test(test_output_refuses_nesting_deeper_than_limit),
        cmocka_unit_test(test_rejects_arrays_longer_than_limit),
        cmocka_unit_test(test_rejects_null_inside_arrays),
        cmocka_unit_test(test_rejects_two_members_of_a_oneof),
        cmocka_unit_test(test_rejects_field_given_under_both_names),
        cmocka_unit_test(test_error_midway_frees_partial_message),
        cmocka_unit_test(test_set_field_from_string_fills_a_request_from_query_params),
        cmocka_unit_test(test_set_field_from_string_rejects_bad_values_leaving_message_unchanged),
        cmocka_unit_test(test_set_field_from_string_switches_oneof_and_replaces_values),
        cmocka_unit_test(test_set_field_from_string_bounds_repeated_fields),
        cmocka_unit_test(test_find_field_by_json_or_proto_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
