/*
 * check_json_out.c - the small JSON writer behind `minitorrent swarm --json` (shell/json_out.c).
 *
 * Each test writes into a temporary file and compares the text exactly, so a missing comma, a
 * stray one, or a wrong escape shows up as a diff.
 */
#include "testlib.h"
#include "json_out.h"

#include <stdio.h>
#include <string.h>

/* Reads the whole of f (rewound) into buf. */
static const char *contents(FILE *f, char *buf, size_t cap)
{
    rewind(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    return buf;
}

START_TEST(json_object_and_array)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    struct json_out j;
    json_out_init(&j, f);
    json_begin_object(&j);
    json_key(&j, "mode");
    json_string(&j, "p2p");
    json_key(&j, "peers");
    json_uint(&j, 8);
    json_key(&j, "times");
    json_begin_array(&j);
    json_number(&j, 1.5);
    json_number(&j, 2.25);
    json_null(&j);
    json_end_array(&j);
    json_key(&j, "ok");
    json_bool(&j, true);
    json_key(&j, "empty");
    json_begin_array(&j);
    json_end_array(&j);
    json_end_object(&j);
    ck_assert_int_eq(json_out_finish(&j), 0);
    char buf[512];
    ck_assert_str_eq(contents(f, buf, sizeof buf),
                     "{\n  \"mode\": \"p2p\",\n  \"peers\": 8,\n"
                     "  \"times\": [1.500000, 2.250000, null],\n  \"ok\": true,\n"
                     "  \"empty\": []\n}\n");
    fclose(f);
}
END_TEST

START_TEST(json_list_of_objects)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    struct json_out j;
    json_out_init(&j, f);
    json_begin_array(&j);
    for (int i = 0; i < 2; i++) {
        json_begin_object(&j);
        json_key(&j, "n");
        json_uint(&j, (uint64_t)i);
        json_end_object(&j);
    }
    json_begin_object(&j);
    json_end_object(&j);
    json_end_array(&j);
    ck_assert_int_eq(json_out_finish(&j), 0);
    char buf[256];
    ck_assert_str_eq(contents(f, buf, sizeof buf),
                     "[{\n    \"n\": 0\n  }, {\n    \"n\": 1\n  }, {}]\n");
    fclose(f);
}
END_TEST

START_TEST(json_string_escapes)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    struct json_out j;
    json_out_init(&j, f);
    json_begin_array(&j);
    json_string(&j, "a\"b\\c\nd\te\x01"
                    "f\x1f"
                    "g/h\xc3\xa9");
    json_end_array(&j);
    ck_assert_int_eq(json_out_finish(&j), 0);
    char buf[256];
    ck_assert_str_eq(contents(f, buf, sizeof buf),
                     "[\"a\\\"b\\\\c\\nd\\te\\u0001f\\u001fg/h\xc3\xa9\"]\n");
    fclose(f);
}
END_TEST

START_TEST(json_non_numbers_are_null)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    struct json_out j;
    json_out_init(&j, f);
    json_begin_array(&j);
    json_number(&j, 0.0 / 0.0);
    json_number(&j, 1.0 / 0.0);
    json_number(&j, -1.0 / 0.0);
    json_number(&j, 0);
    json_end_array(&j);
    ck_assert_int_eq(json_out_finish(&j), 0);
    char buf[128];
    ck_assert_str_eq(contents(f, buf, sizeof buf), "[null, null, null, 0.000000]\n");
    fclose(f);
}
END_TEST

START_TEST(json_misuse_is_reported)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    struct json_out j;
    /* A value in an object without a key. */
    json_out_init(&j, f);
    json_begin_object(&j);
    json_uint(&j, 1);
    json_end_object(&j);
    ck_assert_int_eq(json_out_finish(&j), -1);
    /* An object left open. */
    json_out_init(&j, f);
    json_begin_object(&j);
    ck_assert_int_eq(json_out_finish(&j), -1);
    /* Closing an array as an object, and a key outside any object. */
    json_out_init(&j, f);
    json_begin_array(&j);
    json_end_object(&j);
    ck_assert_int_eq(json_out_finish(&j), -1);
    json_out_init(&j, f);
    json_key(&j, "k");
    ck_assert_int_eq(json_out_finish(&j), -1);
    /* Too deep. */
    json_out_init(&j, f);
    for (int i = 0; i <= JSON_MAX_DEPTH; i++)
        json_begin_array(&j);
    ck_assert(j.failed);
    fclose(f);
}
END_TEST

static Suite *json_suite(void)
{
    Suite *s = suite_create("json_out");
    TCase *tc = tk_tcase(s, "json", 10);
    tk_add_test(tc, json_object_and_array);
    tk_add_test(tc, json_list_of_objects);
    tk_add_test(tc, json_string_escapes);
    tk_add_test(tc, json_non_numbers_are_null);
    tk_add_test(tc, json_misuse_is_reported);
    return s;
}

TK_MAIN(json_suite)
