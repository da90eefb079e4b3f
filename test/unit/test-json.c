/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * common/json.h: the reader of the daemon's status document and of nftables listings. Every test parses
 * into the fixture, whose teardown frees the tree, so that LeakSanitizer sees a leak in the
 * parser and not one left by a failed assertion.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define DEPTH_MAX 32

typedef struct Fixture {
        JsonValue *v;
        char *text;
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof *f);

        if (!f)
                return -1;
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;

        f->v = json_free(f->v);
        free(f->text);
        free(f);
        return 0;
}

static const JsonValue *parse_ok(Fixture *f, const char *text) {
        assert_int_equal(json_parse(text, &f->v), 0);
        assert_non_null(f->v);
        return f->v;
}

/* Into the fixture, so that a tree wrongly returned is freed all the same. */
static void assert_parse_fails(Fixture *f, const char *text) {
        assert_null(f->v);
        assert_int_equal(json_parse(text, &f->v), -EINVAL);
        assert_null(f->v);
}

/* The only string in a one-element array, after decoding. */
static const char *parse_string_ok(Fixture *f, const char *text) {
        const JsonValue *v = parse_ok(f, text);

        assert_int_equal(v->type, JSON_ARRAY);
        assert_non_null(v->child);
        assert_null(v->child->next);
        assert_int_equal(v->child->type, JSON_STRING);
        assert_non_null(v->child->string);
        return v->child->string;
}

static double parse_number_ok(Fixture *f, const char *text) {
        const JsonValue *v = parse_ok(f, text);

        assert_int_equal(v->type, JSON_NUMBER);
        return v->number;
}

/* depth nested arrays, "[[...]]", into f->text. */
static const char *nested_arrays(Fixture *f, size_t depth) {
        f->text = malloc(2 * depth + 1);
        assert_non_null(f->text);
        memset(f->text, '[', depth);
        memset(f->text + depth, ']', depth);
        f->text[2 * depth] = '\0';
        return f->text;
}

/* depth nested objects, {"a":{"a":...{}}}, into f->text. */
static const char *nested_objects(Fixture *f, size_t depth) {
        static const char open[] = "{\"a\":";
        size_t n = strlen(open);
        char *p;

        assert_true(depth > 0);
        f->text = malloc((depth - 1) * (n + 1) + 2 + 1);
        assert_non_null(f->text);
        p = f->text;
        for (size_t i = 0; i < depth - 1; i++, p += n)
                memcpy(p, open, n);
        *p++ = '{';
        memset(p, '}', depth);
        p[depth] = '\0';
        return f->text;
}

/* Objects and arrays */

static void test_object_empty(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{}");

        assert_int_equal(v->type, JSON_OBJECT);
        assert_null(v->child);
        assert_null(v->key);
        assert_null(v->next);
}

static void test_array_empty(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "[]");

        assert_int_equal(v->type, JSON_ARRAY);
        assert_null(v->child);
}

static void test_object_members(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"name\":\"eth0\",\"ifindex\":2,\"up\":true}");
        const JsonValue *c;

        assert_int_equal(v->type, JSON_OBJECT);
        /* Members in document order, each with its key. */
        c = v->child;
        assert_non_null(c);
        assert_string_equal(c->key, "name");
        assert_int_equal(c->type, JSON_STRING);
        assert_string_equal(c->string, "eth0");
        c = c->next;
        assert_non_null(c);
        assert_string_equal(c->key, "ifindex");
        assert_int_equal(c->type, JSON_NUMBER);
        c = c->next;
        assert_non_null(c);
        assert_string_equal(c->key, "up");
        assert_int_equal(c->type, JSON_BOOL);
        assert_null(c->next);
}

static void test_array_elements(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "[1,\"two\",false,null,{},[]]");
        static const JsonType types[] = {
                JSON_NUMBER, JSON_STRING, JSON_BOOL, JSON_NULL, JSON_OBJECT, JSON_ARRAY,
        };
        const JsonValue *c = v->child;

        assert_int_equal(v->type, JSON_ARRAY);
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++, c = c->next) {
                assert_non_null(c);
                assert_int_equal(c->type, types[i]);
                /* Array elements have no key. */
                assert_null(c->key);
        }
        assert_null(c);
}

static void test_nested(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"a\":{\"b\":[1,{\"c\":\"d\"}]},\"e\":[[]]}");
        const JsonValue *a, *b, *e;

        a = json_get(v, "a");
        assert_non_null(a);
        assert_int_equal(a->type, JSON_OBJECT);
        b = json_get(a, "b");
        assert_non_null(b);
        assert_int_equal(b->type, JSON_ARRAY);
        assert_non_null(b->child);
        assert_true(b->child->number == 1.0);
        assert_non_null(b->child->next);
        assert_string_equal(json_get_string(b->child->next, "c"), "d");
        assert_null(b->child->next->next);
        e = json_get(v, "e");
        assert_non_null(e);
        assert_int_equal(e->type, JSON_ARRAY);
        assert_non_null(e->child);
        assert_int_equal(e->child->type, JSON_ARRAY);
        assert_null(e->child->child);
}

static void test_status_document(void **state) {
        Fixture *f = *state;
        const JsonValue *v, *uplinks, *u;

        /* The shape the CLI reads. */
        v = parse_ok(f,
                     "{\n"
                     "  \"default_interface\": \"wlan0\",\n"
                     "  \"uplinks\": [\n"
                     "    {\"name\": \"eth0\", \"ifindex\": 2, \"up\": false,"
                     " \"routing_table\": 1002},\n"
                     "    {\"name\": \"wlan0\", \"ifindex\": 3, \"up\": true,"
                     " \"routing_table\": 1003}\n"
                     "  ],\n"
                     "  \"arc\": null\n"
                     "}\n");
        assert_string_equal(json_get_string(v, "default_interface"), "wlan0");
        uplinks = json_get(v, "uplinks");
        assert_non_null(uplinks);
        u = uplinks->child;
        assert_non_null(u);
        assert_string_equal(json_get_string(u, "name"), "eth0");
        assert_int_equal(json_get_int(u, "ifindex"), 2);
        assert_false(json_get_bool(u, "up"));
        assert_int_equal(json_get_int(u, "routing_table"), 1002);
        u = u->next;
        assert_non_null(u);
        assert_string_equal(json_get_string(u, "name"), "wlan0");
        assert_true(json_get_bool(u, "up"));
        assert_null(u->next);
        assert_non_null(json_get(v, "arc"));
        assert_int_equal(json_get(v, "arc")->type, JSON_NULL);
}

/* Literals */

static void test_true(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "true");

        assert_int_equal(v->type, JSON_BOOL);
        assert_true(v->boolean);
}

static void test_false(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "false");

        assert_int_equal(v->type, JSON_BOOL);
        assert_false(v->boolean);
}

static void test_null(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "null");

        assert_int_equal(v->type, JSON_NULL);
}

/* Whitespace */

static void test_whitespace_everywhere(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, " \t\r\n{ \"a\" :\t[ 1 ,\n2 ] ,\r\n\"b\" : true } \n");
        const JsonValue *a;

        assert_int_equal(v->type, JSON_OBJECT);
        a = json_get(v, "a");
        assert_non_null(a);
        assert_int_equal(a->type, JSON_ARRAY);
        assert_true(a->child->number == 1.0);
        assert_true(a->child->next->number == 2.0);
        assert_true(json_get_bool(v, "b"));
}

static void test_whitespace_in_empty_containers(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "[ { } , [ \n ] ]");

        assert_int_equal(v->child->type, JSON_OBJECT);
        assert_null(v->child->child);
        assert_int_equal(v->child->next->type, JSON_ARRAY);
        assert_null(v->child->next->child);
}

/* Strings */

static void test_string_plain(void **state) {
        Fixture *f = *state;

        assert_string_equal(parse_string_ok(f, "[\"wlan0\"]"), "wlan0");
}

static void test_string_top_level(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "\"x y\"");

        assert_int_equal(v->type, JSON_STRING);
        assert_string_equal(v->string, "x y");
}

static void test_string_empty(void **state) {
        Fixture *f = *state;

        assert_string_equal(parse_string_ok(f, "[\"\"]"), "");
}

static void test_string_escape_quote(void **state) {
        Fixture *f = *state;

        assert_string_equal(parse_string_ok(f, "[\"a\\\"b\"]"), "a\"b");
}

static void test_string_escape_backslash(void **state) {
        Fixture *f = *state;

        assert_string_equal(parse_string_ok(f, "[\"a\\\\b\"]"), "a\\b");
}

static void test_string_escape_backslash_last(void **state) {
        Fixture *f = *state;

        /* "\\" then the closing quote: the quote is not escaped. */
        assert_string_equal(parse_string_ok(f, "[\"a\\\\\"]"), "a\\");
}

static void test_string_escape_slash(void **state) {
        Fixture *f = *state;

        assert_string_equal(parse_string_ok(f, "[\"a\\/b\"]"), "a/b");
}

static void test_string_escape_newline(void **state) {
        Fixture *f = *state;

        assert_string_equal(parse_string_ok(f, "[\"a\\nb\"]"), "a\nb");
}

static void test_string_escape_tab(void **state) {
        Fixture *f = *state;

        assert_string_equal(parse_string_ok(f, "[\"a\\tb\"]"), "a\tb");
}

static void test_string_escape_cr(void **state) {
        Fixture *f = *state;

        assert_string_equal(parse_string_ok(f, "[\"a\\rb\"]"), "a\rb");
}

static void test_string_escape_backspace(void **state) {
        Fixture *f = *state;

        assert_string_equal(parse_string_ok(f, "[\"a\\bb\"]"), "a\bb");
}

static void test_string_escape_formfeed(void **state) {
        Fixture *f = *state;

        assert_string_equal(parse_string_ok(f, "[\"a\\fb\"]"), "a\fb");
}

static void test_string_escape_u0041(void **state) {
        Fixture *f = *state;

        assert_string_equal(parse_string_ok(f, "[\"\\u0041\"]"), "A");
}

static void test_string_escape_u_between(void **state) {
        Fixture *f = *state;

        assert_string_equal(parse_string_ok(f, "[\"x\\u0041\\u0042y\"]"), "xABy");
}

static void test_string_escape_u00e9(void **state) {
        Fixture *f = *state;
        const char *s = parse_string_ok(f, "[\"\\u00e9\"]");

        /* One byte 0xe9, not UTF-8. */
        assert_int_equal((unsigned char) s[0], 0xe9);
        assert_int_equal(s[1], '\0');
}

static void test_string_escape_u00E9_upper(void **state) {
        Fixture *f = *state;
        const char *s = parse_string_ok(f, "[\"\\u00E9\"]");

        assert_int_equal((unsigned char) s[0], 0xe9);
        assert_int_equal(s[1], '\0');
}

static void test_string_escape_u001f(void **state) {
        Fixture *f = *state;
        const char *s = parse_string_ok(f, "[\"\\u001f\"]");

        assert_int_equal(s[0], 0x1f);
        assert_int_equal(s[1], '\0');
}

static void test_string_utf8_passes(void **state) {
        Fixture *f = *state;

        assert_string_equal(parse_string_ok(f, "[\"caf\xc3\xa9\"]"), "caf\xc3\xa9");
}

static void test_string_brackets_inside(void **state) {
        Fixture *f = *state;

        assert_string_equal(parse_string_ok(f, "[\"]},:[{\"]"), "]},:[{");
}

static void test_key_with_escapes(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"\\u0061\\\"b\":1}");

        assert_string_equal(v->child->key, "a\"b");
        assert_int_equal(json_get_int(v, "a\"b"), 1);
}

/* Strings: \u with a non-zero high byte, and broken escapes, one per test */

static void test_string_escape_u0100(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[\"\\u0100\"]");
}

static void test_string_escape_u1000(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[\"\\u1000\"]");
}

static void test_string_escape_uffff(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[\"\\uffff\"]");
}

static void test_string_escape_u_surrogate(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[\"\\ud83d\\ude00\"]");
}

static void test_string_escape_u_in_key_high_byte(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "{\"\\u0161\":1}");
}

static void test_string_escape_u_3_digits(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[\"\\u004\"]");
}

static void test_string_escape_u_no_digits(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[\"\\u\"]");
}

static void test_string_escape_u_not_hex(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[\"\\u00g1\"]");
}

static void test_string_escape_unknown(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[\"\\x41\"]");
}

static void test_string_escape_u_at_end_of_text(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "\"\\u00");
}

/* Numbers */

static void test_number_zero(void **state) {
        Fixture *f = *state;

        assert_true(parse_number_ok(f, "0") == 0.0);
}

static void test_number_int(void **state) {
        Fixture *f = *state;

        assert_true(parse_number_ok(f, "42") == 42.0);
}

static void test_number_negative(void **state) {
        Fixture *f = *state;

        assert_true(parse_number_ok(f, "-7") == -7.0);
}

static void test_number_negative_zero(void **state) {
        Fixture *f = *state;

        assert_true(parse_number_ok(f, "-0") == 0.0);
}

static void test_number_fraction(void **state) {
        Fixture *f = *state;

        assert_true(parse_number_ok(f, "2.5") == 2.5);
}

static void test_number_negative_fraction(void **state) {
        Fixture *f = *state;

        assert_true(parse_number_ok(f, "-0.25") == -0.25);
}

static void test_number_exponent(void **state) {
        Fixture *f = *state;

        assert_true(parse_number_ok(f, "1e3") == 1000.0);
}

static void test_number_exponent_upper_plus(void **state) {
        Fixture *f = *state;

        assert_true(parse_number_ok(f, "1.5E+2") == 150.0);
}

static void test_number_exponent_negative(void **state) {
        Fixture *f = *state;

        assert_true(parse_number_ok(f, "-125e-3") == -0.125);
}

static void test_number_large_int(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"bytes\":1234567890123}");

        assert_int_equal(json_get_int(v, "bytes"), 1234567890123LL);
}

static void test_number_in_array(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "[-1,0.5,2e1]");

        assert_true(v->child->number == -1.0);
        assert_true(v->child->next->number == 0.5);
        assert_true(v->child->next->next->number == 20.0);
}

/* json_get() and friends */

static void test_get_missing(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"a\":1}");

        assert_null(json_get(v, "b"));
        assert_null(json_get(v, "A"));
        assert_null(json_get(v, ""));
}

static void test_get_prefix_of_key(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"name\":1}");

        assert_null(json_get(v, "nam"));
        assert_null(json_get(v, "names"));
}

static void test_get_empty_key(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"\":7}");

        assert_int_equal(json_get_int(v, ""), 7);
}

static void test_get_on_array(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "[\"a\"]");

        assert_null(json_get(v, "a"));
        assert_string_equal(json_get_string(v, "a"), "");
        assert_int_equal(json_get_int(v, "a"), 0);
        assert_false(json_get_bool(v, "a"));
}

static void test_get_on_scalar(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "\"a\"");

        assert_null(json_get(v, "a"));
}

static void test_get_on_null(void **state) {
        (void) state;
        assert_null(json_get(NULL, "a"));
        assert_string_equal(json_get_string(NULL, "a"), "");
        assert_int_equal(json_get_int(NULL, "a"), 0);
        assert_false(json_get_bool(NULL, "a"));
}

static void test_get_not_nested(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"a\":{\"b\":1}}");

        /* Members of members are not members. */
        assert_null(json_get(v, "b"));
}

static void test_get_string_missing(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"a\":\"x\"}");

        assert_string_equal(json_get_string(v, "b"), "");
}

static void test_get_string_number(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"a\":5}");

        assert_string_equal(json_get_string(v, "a"), "");
}

static void test_get_string_null(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"a\":null}");

        assert_string_equal(json_get_string(v, "a"), "");
}

static void test_get_string_object(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"a\":{\"a\":\"x\"}}");

        assert_string_equal(json_get_string(v, "a"), "");
}

static void test_get_int(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"a\":5,\"b\":-3}");

        assert_int_equal(json_get_int(v, "a"), 5);
        assert_int_equal(json_get_int(v, "b"), -3);
}

static void test_get_int_fraction(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"a\":2.9,\"b\":-2.9}");

        /* Truncated toward zero. */
        assert_int_equal(json_get_int(v, "a"), 2);
        assert_int_equal(json_get_int(v, "b"), -2);
}

static void test_get_int_missing(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"a\":5}");

        assert_int_equal(json_get_int(v, "b"), 0);
}

static void test_get_int_string(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"a\":\"5\"}");

        assert_int_equal(json_get_int(v, "a"), 0);
}

static void test_get_int_bool(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"a\":true}");

        assert_int_equal(json_get_int(v, "a"), 0);
}

static void test_get_bool(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"t\":true,\"f\":false}");

        assert_true(json_get_bool(v, "t"));
        assert_false(json_get_bool(v, "f"));
}

static void test_get_bool_missing(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"t\":true}");

        assert_false(json_get_bool(v, "x"));
}

static void test_get_bool_number(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"a\":1}");

        assert_false(json_get_bool(v, "a"));
}

static void test_get_bool_string(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"a\":\"true\"}");

        assert_false(json_get_bool(v, "a"));
}

static void test_get_bool_null(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"a\":null}");

        assert_false(json_get_bool(v, "a"));
}

/* json_get_u64() and json_value_u64(): exact unsigned integers */

/* What *ret holds before a call, to see that a failure leaves it alone. */
#define U64_SENTINEL UINT64_C(0xdeadbeefcafef00d)

/* The member "a" of text's object, through json_get_u64(). */
static int get_u64(Fixture *f, const char *text, uint64_t *ret) {
        const JsonValue *v = parse_ok(f, text);

        return json_get_u64(v, "a", ret);
}

static void assert_get_u64(Fixture *f, const char *text, uint64_t expected) {
        uint64_t u = U64_SENTINEL;

        assert_int_equal(get_u64(f, text, &u), 0);
        assert_true(u == expected);
}

static void assert_get_u64_fails(Fixture *f, const char *text) {
        uint64_t u = U64_SENTINEL;

        assert_int_equal(get_u64(f, text, &u), -EINVAL);
        assert_true(u == U64_SENTINEL);
}

static void test_get_u64_zero(void **state) {
        Fixture *f = *state;

        assert_get_u64(f, "{\"a\":0}", 0);
}

static void test_get_u64_small(void **state) {
        Fixture *f = *state;

        assert_get_u64(f, "{\"a\":42}", 42);
}

static void test_get_u64_whitespace(void **state) {
        Fixture *f = *state;

        assert_get_u64(f, "{ \"a\" :\t7 \n}", 7);
}

static void test_get_u64_2_pow_53(void **state) {
        Fixture *f = *state;

        assert_get_u64(f, "{\"a\":9007199254740992}", UINT64_C(9007199254740992));
}

/* The first integer a double cannot hold: it would read 9007199254740992. */
static void test_get_u64_2_pow_53_plus_1(void **state) {
        Fixture *f = *state;

        assert_get_u64(f, "{\"a\":9007199254740993}", UINT64_C(9007199254740993));
}

static void test_get_u64_counter(void **state) {
        Fixture *f = *state;

        assert_get_u64(f, "{\"a\":12345678901234567891}", UINT64_C(12345678901234567891));
}

static void test_get_u64_int64_max_plus_1(void **state) {
        Fixture *f = *state;

        assert_get_u64(f, "{\"a\":9223372036854775808}", UINT64_C(9223372036854775808));
}

static void test_get_u64_max_minus_1(void **state) {
        Fixture *f = *state;

        assert_get_u64(f, "{\"a\":18446744073709551614}", UINT64_MAX - 1);
}

static void test_get_u64_max(void **state) {
        Fixture *f = *state;

        assert_get_u64(f, "{\"a\":18446744073709551615}", UINT64_MAX);
}

/* 2^64 does not fit: neither UINT64_MAX nor 0. */
static void test_get_u64_2_pow_64(void **state) {
        Fixture *f = *state;

        assert_get_u64_fails(f, "{\"a\":18446744073709551616}");
}

/* 2^64 + 5 would be 5 once wrapped. */
static void test_get_u64_2_pow_64_plus_5(void **state) {
        Fixture *f = *state;

        assert_get_u64_fails(f, "{\"a\":18446744073709551621}");
}

static void test_get_u64_huge(void **state) {
        Fixture *f = *state;

        assert_get_u64_fails(f, "{\"a\":100000000000000000000000000000}");
}

static void test_get_u64_negative(void **state) {
        Fixture *f = *state;

        assert_get_u64_fails(f, "{\"a\":-1}");
}

/* strtoull() would take "-1" as UINT64_MAX. */
static void test_get_u64_negative_max(void **state) {
        Fixture *f = *state;

        assert_get_u64_fails(f, "{\"a\":-18446744073709551615}");
}

/* Written with a minus: not a non-negative integer literal, whatever its value. */
static void test_get_u64_negative_zero(void **state) {
        Fixture *f = *state;

        assert_get_u64_fails(f, "{\"a\":-0}");
}

static void test_get_u64_fraction(void **state) {
        Fixture *f = *state;

        assert_get_u64_fails(f, "{\"a\":1.5}");
}

/* An integral value, but not written as an integer. */
static void test_get_u64_fraction_zero(void **state) {
        Fixture *f = *state;

        assert_get_u64_fails(f, "{\"a\":1.0}");
}

static void test_get_u64_exponent(void **state) {
        Fixture *f = *state;

        assert_get_u64_fails(f, "{\"a\":1e3}");
}

static void test_get_u64_exponent_upper_plus(void **state) {
        Fixture *f = *state;

        assert_get_u64_fails(f, "{\"a\":1E+3}");
}

static void test_get_u64_exponent_zero(void **state) {
        Fixture *f = *state;

        assert_get_u64_fails(f, "{\"a\":0e0}");
}

static void test_get_u64_missing(void **state) {
        Fixture *f = *state;

        assert_get_u64_fails(f, "{\"b\":5}");
}

static void test_get_u64_empty_object(void **state) {
        Fixture *f = *state;

        assert_get_u64_fails(f, "{}");
}

static void test_get_u64_string(void **state) {
        Fixture *f = *state;

        assert_get_u64_fails(f, "{\"a\":\"5\"}");
}

static void test_get_u64_bool(void **state) {
        Fixture *f = *state;

        assert_get_u64_fails(f, "{\"a\":true}");
}

static void test_get_u64_null(void **state) {
        Fixture *f = *state;

        assert_get_u64_fails(f, "{\"a\":null}");
}

static void test_get_u64_array(void **state) {
        Fixture *f = *state;

        assert_get_u64_fails(f, "{\"a\":[5]}");
}

static void test_get_u64_object(void **state) {
        Fixture *f = *state;

        assert_get_u64_fails(f, "{\"a\":{\"a\":5}}");
}

/* Members only: an array's element is not a member. */
static void test_get_u64_on_array(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "[5]");
        uint64_t u = U64_SENTINEL;

        assert_int_equal(json_get_u64(v, "a", &u), -EINVAL);
        assert_true(u == U64_SENTINEL);
}

static void test_get_u64_on_null(void **state) {
        uint64_t u = U64_SENTINEL;

        (void) state;
        assert_int_equal(json_get_u64(NULL, "a", &u), -EINVAL);
        assert_true(u == U64_SENTINEL);
}

/* json_get_int() goes through a double; json_get_u64() keeps every digit. */
static void test_get_u64_and_get_int(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "{\"a\":9007199254740993}");
        uint64_t u = 0;

        assert_int_equal(json_get_u64(v, "a", &u), 0);
        assert_true(u == UINT64_C(9007199254740993));
        assert_int_equal(json_get_int(v, "a"), 9007199254740992LL);
}

static void test_value_u64_top_level(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "18446744073709551615");
        uint64_t u = 0;

        assert_int_equal(json_value_u64(v, &u), 0);
        assert_true(u == UINT64_MAX);
}

static void test_value_u64_array_elements(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "[0,18446744073709551615,"
                                         "18446744073709551616,-1,1.5,1e3,\"7\"]");
        const JsonValue *e = v->child;
        uint64_t u = U64_SENTINEL;

        assert_int_equal(json_value_u64(e, &u), 0);
        assert_true(u == 0);
        e = e->next;
        assert_int_equal(json_value_u64(e, &u), 0);
        assert_true(u == UINT64_MAX);
        u = U64_SENTINEL;
        for (e = e->next; e; e = e->next) {
                assert_int_equal(json_value_u64(e, &u), -EINVAL);
                assert_true(u == U64_SENTINEL);
        }
}

static void test_value_u64_null(void **state) {
        uint64_t u = U64_SENTINEL;

        (void) state;
        assert_int_equal(json_value_u64(NULL, &u), -EINVAL);
        assert_true(u == U64_SENTINEL);
}

/* 2^64 still parses, as a double: only its exact value is refused. */
static void test_value_u64_2_pow_64_is_a_number(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, "18446744073709551616");
        uint64_t u = U64_SENTINEL;

        assert_int_equal(v->type, JSON_NUMBER);
        assert_true(v->number == 18446744073709551616.0);
        assert_int_equal(json_value_u64(v, &u), -EINVAL);
        assert_true(u == U64_SENTINEL);
}

static void test_free_null(void **state) {
        (void) state;
        assert_null(json_free(NULL));
}

/* Nesting */

static void test_depth_32_arrays(void **state) {
        Fixture *f = *state;
        const JsonValue *v = parse_ok(f, nested_arrays(f, DEPTH_MAX));

        for (size_t i = 1; i < DEPTH_MAX; i++) {
                assert_int_equal(v->type, JSON_ARRAY);
                v = v->child;
                assert_non_null(v);
        }
        assert_null(v->child);
}

static void test_depth_33_arrays(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, nested_arrays(f, DEPTH_MAX + 1));
}

static void test_depth_32_objects(void **state) {
        Fixture *f = *state;

        parse_ok(f, nested_objects(f, DEPTH_MAX));
}

static void test_depth_33_objects(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, nested_objects(f, DEPTH_MAX + 1));
}

static void test_depth_32_in_siblings(void **state) {
        Fixture *f = *state;
        char *text;
        size_t n;

        /* Depth is nesting, not a count of containers: two 31-deep arrays in one. */
        n = 2 * (2 * (DEPTH_MAX - 1)) + 1 + 2 + 1;
        text = f->text = malloc(n);
        assert_non_null(text);
        *text++ = '[';
        for (int k = 0; k < 2; k++) {
                memset(text, '[', DEPTH_MAX - 1);
                memset(text + DEPTH_MAX - 1, ']', DEPTH_MAX - 1);
                text += 2 * (DEPTH_MAX - 1);
                if (k == 0)
                        *text++ = ',';
        }
        *text++ = ']';
        *text = '\0';
        parse_ok(f, f->text);
}

static void test_depth_huge(void **state) {
        Fixture *f = *state;

        /* Refused at depth 33, long before the stack runs out. */
        assert_parse_fails(f, nested_arrays(f, 100000));
}

static void test_depth_33_unclosed(void **state) {
        Fixture *f = *state;

        f->text = malloc(DEPTH_MAX + 2);
        assert_non_null(f->text);
        memset(f->text, '[', DEPTH_MAX + 1);
        f->text[DEPTH_MAX + 1] = '\0';
        assert_parse_fails(f, f->text);
}

/* Malformed, one per test */

static void test_empty(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "");
}

static void test_whitespace_only(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, " \n\t ");
}

static void test_trailing_garbage(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "{} x");
}

static void test_trailing_second_value(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "1 2");
}

static void test_trailing_close(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[]]");
}

static void test_unterminated_string(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "\"abc");
}

static void test_unterminated_string_in_object(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "{\"a\":\"b");
}

static void test_unterminated_key(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "{\"a");
}

static void test_unterminated_escaped_quote(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[\"abc\\\"]");
}

static void test_unterminated_backslash_at_end(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "\"abc\\");
}

static void test_unterminated_array(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[1,2");
}

static void test_unterminated_array_after_comma(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[1,");
}

static void test_unterminated_object(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "{\"a\":1");
}

static void test_unterminated_object_after_colon(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "{\"a\":");
}

static void test_open_bracket_only(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[");
}

static void test_close_bracket_only(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "]");
}

static void test_close_brace_only(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "}");
}

static void test_mismatched_array(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[1}");
}

static void test_mismatched_object(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "{\"a\":1]");
}

static void test_missing_colon(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "{\"a\" 1}");
}

static void test_double_colon(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "{\"a\"::1}");
}

static void test_missing_value(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "{\"a\":}");
}

static void test_missing_comma_array(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[1 2]");
}

static void test_missing_comma_object(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "{\"a\":1 \"b\":2}");
}

static void test_trailing_comma_array(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[1,]");
}

static void test_trailing_comma_object(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "{\"a\":1,}");
}

static void test_leading_comma(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[,1]");
}

static void test_double_comma(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[1,,2]");
}

static void test_comma_only(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[,]");
}

static void test_key_not_string(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "{a:1}");
}

static void test_key_number(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "{1:2}");
}

static void test_key_single_quoted(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "{'a':1}");
}

static void test_member_in_array(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[\"a\":1]");
}

static void test_bare_word(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "hello");
}

static void test_bare_word_in_array(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[up]");
}

static void test_true_truncated(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "tru");
}

static void test_null_truncated(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[nul]");
}

static void test_true_capitalized(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "True");
}

static void test_true_with_suffix(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[truex]");
}

static void test_true_false_run_together(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "{\"up\":truefalse}");
}

static void test_true_null_run_together(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[truenull]");
}

static void test_false_null_run_together(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "falsenull");
}

static void test_single_quoted_string(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "['a']");
}

static void test_minus_only(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "-");
}

static void test_exponent_without_digits(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[1e]");
}

static void test_number_nan(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[nan]");
}

static void test_number_nan_capitalized(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[NaN]");
}

static void test_number_inf(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[inf]");
}

static void test_number_infinity(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[Infinity]");
}

static void test_number_hex(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[0x10]");
}

static void test_number_plus(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[+1]");
}

static void test_number_leading_zero(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[01]");
}

static void test_number_leading_dot(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[.5]");
}

static void test_number_trailing_dot(void **state) {
        Fixture *f = *state;

        assert_parse_fails(f, "[1.]");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_object_empty),
                T(test_array_empty),
                T(test_object_members),
                T(test_array_elements),
                T(test_nested),
                T(test_status_document),
                T(test_true),
                T(test_false),
                T(test_null),
                T(test_whitespace_everywhere),
                T(test_whitespace_in_empty_containers),
                T(test_string_plain),
                T(test_string_top_level),
                T(test_string_empty),
                T(test_string_escape_quote),
                T(test_string_escape_backslash),
                T(test_string_escape_backslash_last),
                T(test_string_escape_slash),
                T(test_string_escape_newline),
                T(test_string_escape_tab),
                T(test_string_escape_cr),
                T(test_string_escape_backspace),
                T(test_string_escape_formfeed),
                T(test_string_escape_u0041),
                T(test_string_escape_u_between),
                T(test_string_escape_u00e9),
                T(test_string_escape_u00E9_upper),
                T(test_string_escape_u001f),
                T(test_string_utf8_passes),
                T(test_string_brackets_inside),
                T(test_key_with_escapes),
                T(test_string_escape_u0100),
                T(test_string_escape_u1000),
                T(test_string_escape_uffff),
                T(test_string_escape_u_surrogate),
                T(test_string_escape_u_in_key_high_byte),
                T(test_string_escape_u_3_digits),
                T(test_string_escape_u_no_digits),
                T(test_string_escape_u_not_hex),
                T(test_string_escape_unknown),
                T(test_string_escape_u_at_end_of_text),
                T(test_number_zero),
                T(test_number_int),
                T(test_number_negative),
                T(test_number_negative_zero),
                T(test_number_fraction),
                T(test_number_negative_fraction),
                T(test_number_exponent),
                T(test_number_exponent_upper_plus),
                T(test_number_exponent_negative),
                T(test_number_large_int),
                T(test_number_in_array),
                T(test_get_missing),
                T(test_get_prefix_of_key),
                T(test_get_empty_key),
                T(test_get_on_array),
                T(test_get_on_scalar),
                T(test_get_on_null),
                T(test_get_not_nested),
                T(test_get_string_missing),
                T(test_get_string_number),
                T(test_get_string_null),
                T(test_get_string_object),
                T(test_get_int),
                T(test_get_int_fraction),
                T(test_get_int_missing),
                T(test_get_int_string),
                T(test_get_int_bool),
                T(test_get_bool),
                T(test_get_bool_missing),
                T(test_get_bool_number),
                T(test_get_bool_string),
                T(test_get_bool_null),
                T(test_get_u64_zero),
                T(test_get_u64_small),
                T(test_get_u64_whitespace),
                T(test_get_u64_2_pow_53),
                T(test_get_u64_2_pow_53_plus_1),
                T(test_get_u64_counter),
                T(test_get_u64_int64_max_plus_1),
                T(test_get_u64_max_minus_1),
                T(test_get_u64_max),
                T(test_get_u64_2_pow_64),
                T(test_get_u64_2_pow_64_plus_5),
                T(test_get_u64_huge),
                T(test_get_u64_negative),
                T(test_get_u64_negative_max),
                T(test_get_u64_negative_zero),
                T(test_get_u64_fraction),
                T(test_get_u64_fraction_zero),
                T(test_get_u64_exponent),
                T(test_get_u64_exponent_upper_plus),
                T(test_get_u64_exponent_zero),
                T(test_get_u64_missing),
                T(test_get_u64_empty_object),
                T(test_get_u64_string),
                T(test_get_u64_bool),
                T(test_get_u64_null),
                T(test_get_u64_array),
                T(test_get_u64_object),
                T(test_get_u64_on_array),
                T(test_get_u64_on_null),
                T(test_get_u64_and_get_int),
                T(test_value_u64_top_level),
                T(test_value_u64_array_elements),
                T(test_value_u64_null),
                T(test_value_u64_2_pow_64_is_a_number),
                T(test_free_null),
                T(test_depth_32_arrays),
                T(test_depth_33_arrays),
                T(test_depth_32_objects),
                T(test_depth_33_objects),
                T(test_depth_32_in_siblings),
                T(test_depth_huge),
                T(test_depth_33_unclosed),
                T(test_empty),
                T(test_whitespace_only),
                T(test_trailing_garbage),
                T(test_trailing_second_value),
                T(test_trailing_close),
                T(test_unterminated_string),
                T(test_unterminated_string_in_object),
                T(test_unterminated_key),
                T(test_unterminated_escaped_quote),
                T(test_unterminated_backslash_at_end),
                T(test_unterminated_array),
                T(test_unterminated_array_after_comma),
                T(test_unterminated_object),
                T(test_unterminated_object_after_colon),
                T(test_open_bracket_only),
                T(test_close_bracket_only),
                T(test_close_brace_only),
                T(test_mismatched_array),
                T(test_mismatched_object),
                T(test_missing_colon),
                T(test_double_colon),
                T(test_missing_value),
                T(test_missing_comma_array),
                T(test_missing_comma_object),
                T(test_trailing_comma_array),
                T(test_trailing_comma_object),
                T(test_leading_comma),
                T(test_double_comma),
                T(test_comma_only),
                T(test_key_not_string),
                T(test_key_number),
                T(test_key_single_quoted),
                T(test_member_in_array),
                T(test_bare_word),
                T(test_bare_word_in_array),
                T(test_true_truncated),
                T(test_null_truncated),
                T(test_true_capitalized),
                T(test_true_with_suffix),
                T(test_true_false_run_together),
                T(test_true_null_run_together),
                T(test_false_null_run_together),
                T(test_single_quoted_string),
                T(test_minus_only),
                T(test_exponent_without_digits),
                T(test_number_nan),
                T(test_number_nan_capitalized),
                T(test_number_inf),
                T(test_number_infinity),
                T(test_number_hex),
                T(test_number_plus),
                T(test_number_leading_zero),
                T(test_number_leading_dot),
                T(test_number_trailing_dot),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
