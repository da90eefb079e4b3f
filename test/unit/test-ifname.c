/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * common/ifname.h: validation of interface names from outside, and the ConnectNamespace
 * names derived from ids (arc_ns<id> on the host, veth<id> in the namespace).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "ifname.h"
#include "macro.h"

/* ifname_is_valid(): accepted */

static void test_valid_simple(void **state) {
        (void) state;
        assert_true(ifname_is_valid("eth0"));
}

static void test_valid_one_char(void **state) {
        (void) state;
        assert_true(ifname_is_valid("a"));
}

static void test_valid_15_chars(void **state) {
        (void) state;
        assert_int_equal(strlen("abcdefghijklmno"), IFNAME_MAX);
        assert_true(ifname_is_valid("abcdefghijklmno"));
}

static void test_valid_inner_punctuation(void **state) {
        (void) state;
        assert_true(ifname_is_valid("wlan0.100"));
        assert_true(ifname_is_valid("br-lan"));
        assert_true(ifname_is_valid("arc_ns1"));
        assert_true(ifname_is_valid("_x_"));
}

static void test_valid_mixed_case(void **state) {
        (void) state;
        assert_true(ifname_is_valid("Eth0X"));
}

/* ifname_is_valid(): rejected, one per test */

static void test_invalid_null(void **state) {
        (void) state;
        assert_false(ifname_is_valid(NULL));
}

static void test_invalid_empty(void **state) {
        (void) state;
        assert_false(ifname_is_valid(""));
}

static void test_invalid_16_chars(void **state) {
        (void) state;
        assert_int_equal(strlen("abcdefghijklmnop"), IFNAMSIZ);
        assert_false(ifname_is_valid("abcdefghijklmnop"));
}

static void test_invalid_very_long(void **state) {
        char s[256];

        (void) state;
        memset(s, 'a', sizeof s - 1);
        s[sizeof s - 1] = '\0';
        assert_false(ifname_is_valid(s));
}

static void test_invalid_leading_dash(void **state) {
        (void) state;
        assert_false(ifname_is_valid("-eth0"));
}

static void test_invalid_trailing_dash(void **state) {
        (void) state;
        assert_false(ifname_is_valid("eth0-"));
}

static void test_invalid_leading_dot(void **state) {
        (void) state;
        assert_false(ifname_is_valid(".eth0"));
}

static void test_invalid_trailing_dot(void **state) {
        (void) state;
        assert_false(ifname_is_valid("eth0."));
}

static void test_invalid_dot(void **state) {
        (void) state;
        assert_false(ifname_is_valid("."));
}

static void test_invalid_dot_dot(void **state) {
        (void) state;
        assert_false(ifname_is_valid(".."));
}

static void test_invalid_dash_only(void **state) {
        (void) state;
        assert_false(ifname_is_valid("-"));
}

static void test_invalid_space(void **state) {
        (void) state;
        assert_false(ifname_is_valid("eth 0"));
}

static void test_invalid_leading_space(void **state) {
        (void) state;
        assert_false(ifname_is_valid(" eth0"));
}

static void test_invalid_slash(void **state) {
        (void) state;
        assert_false(ifname_is_valid("eth/0"));
}

static void test_invalid_colon(void **state) {
        (void) state;
        assert_false(ifname_is_valid("eth0:1"));
}

static void test_invalid_newline(void **state) {
        (void) state;
        assert_false(ifname_is_valid("eth0\n"));
}

static void test_invalid_percent(void **state) {
        (void) state;
        assert_false(ifname_is_valid("eth%d"));
}

static void test_invalid_non_ascii(void **state) {
        (void) state;
        assert_false(ifname_is_valid("eth\xc3\xa9"));
}

/* ifname_has_prefix() */

static void test_has_prefix(void **state) {
        (void) state;
        assert_true(ifname_has_prefix("arc_ns5", CONNECTED_NS_HOST_PREFIX));
        assert_true(ifname_has_prefix("arc_ns", CONNECTED_NS_HOST_PREFIX));
        assert_false(ifname_has_prefix("arc_n", CONNECTED_NS_HOST_PREFIX));
        assert_false(ifname_has_prefix("veth5", CONNECTED_NS_HOST_PREFIX));
        assert_false(ifname_has_prefix(NULL, CONNECTED_NS_HOST_PREFIX));
}

/* Derived names */

static void test_host_name(void **state) {
        char name[IFNAMSIZ];

        (void) state;
        assert_int_equal(ifname_connected_ns_host(42, name), 0);
        assert_string_equal(name, "arc_ns42");
        assert_true(ifname_is_valid(name));
}

static void test_peer_name(void **state) {
        char name[IFNAMSIZ];

        (void) state;
        assert_int_equal(ifname_connected_ns_peer(42, name), 0);
        assert_string_equal(name, "veth42");
        assert_true(ifname_is_valid(name));
}

static void test_host_name_0(void **state) {
        char name[IFNAMSIZ];

        (void) state;
        assert_int_equal(ifname_connected_ns_host(0, name), 0);
        assert_string_equal(name, "arc_ns0");
}

static void test_host_name_max(void **state) {
        char name[IFNAMSIZ];

        (void) state;
        /* The longest one still fits in IFNAMSIZ. */
        assert_int_equal(ifname_connected_ns_host(CONNECTED_NS_ID_MAX, name), 0);
        assert_string_equal(name, "arc_ns999999999");
        assert_int_equal(strlen(name), IFNAME_MAX);
        assert_true(ifname_is_valid(name));
}

static void test_peer_name_max(void **state) {
        char name[IFNAMSIZ];

        (void) state;
        assert_int_equal(ifname_connected_ns_peer(CONNECTED_NS_ID_MAX, name), 0);
        assert_string_equal(name, "veth999999999");
}

static void test_host_name_above_max(void **state) {
        char name[IFNAMSIZ] = "untouched";

        (void) state;
        assert_int_equal(ifname_connected_ns_host(CONNECTED_NS_ID_MAX + 1, name), -ERANGE);
        assert_string_equal(name, "untouched");
}

static void test_peer_name_above_max(void **state) {
        char name[IFNAMSIZ] = "untouched";

        (void) state;
        assert_int_equal(ifname_connected_ns_peer(CONNECTED_NS_ID_MAX + 1, name), -ERANGE);
        assert_string_equal(name, "untouched");
}

static void test_host_name_uint32_max(void **state) {
        char name[IFNAMSIZ];

        (void) state;
        assert_int_equal(ifname_connected_ns_host(UINT32_MAX, name), -ERANGE);
}

/* ifname_parse_connected_ns_host() */

static void test_parse_host(void **state) {
        uint32_t id = 0;

        (void) state;
        assert_int_equal(ifname_parse_connected_ns_host("arc_ns42", &id), 0);
        assert_int_equal(id, 42);
}

static void test_parse_host_0(void **state) {
        uint32_t id = 7;

        (void) state;
        assert_int_equal(ifname_parse_connected_ns_host("arc_ns0", &id), 0);
        assert_int_equal(id, 0);
}

static void test_parse_host_max(void **state) {
        uint32_t id = 0;

        (void) state;
        assert_int_equal(ifname_parse_connected_ns_host("arc_ns999999999", &id), 0);
        assert_int_equal(id, CONNECTED_NS_ID_MAX);
}

static void test_parse_host_round_trip(void **state) {
        static const uint32_t ids[] = { 0, 1, 9, 10, 12345, 100000000, CONNECTED_NS_ID_MAX };
        char name[IFNAMSIZ];
        uint32_t id;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                assert_int_equal(ifname_connected_ns_host(ids[i], name), 0);
                assert_int_equal(ifname_parse_connected_ns_host(name, &id), 0);
                assert_int_equal(id, ids[i]);
        }
}

static void assert_parse_fails(const char *s, int expected) {
        uint32_t id = 0xdeadbeefu;

        assert_int_equal(ifname_parse_connected_ns_host(s, &id), expected);
        assert_int_equal(id, 0xdeadbeefu);
}

static void test_parse_host_leading_zero(void **state) {
        (void) state;
        assert_parse_fails("arc_ns01", -EINVAL);
}

static void test_parse_host_double_zero(void **state) {
        (void) state;
        assert_parse_fails("arc_ns00", -EINVAL);
}

static void test_parse_host_prefix_only(void **state) {
        (void) state;
        assert_parse_fails("arc_ns", -EINVAL);
}

static void test_parse_host_non_digit(void **state) {
        (void) state;
        assert_parse_fails("arc_nsx", -EINVAL);
}

static void test_parse_host_trailing_non_digit(void **state) {
        (void) state;
        assert_parse_fails("arc_ns12a", -EINVAL);
}

static void test_parse_host_sign(void **state) {
        (void) state;
        assert_parse_fails("arc_ns+1", -EINVAL);
}

static void test_parse_host_negative(void **state) {
        (void) state;
        assert_parse_fails("arc_ns-1", -EINVAL);
}

static void test_parse_host_space(void **state) {
        (void) state;
        assert_parse_fails("arc_ns 1", -EINVAL);
}

static void test_parse_host_peer_name(void **state) {
        (void) state;
        assert_parse_fails("veth1", -EINVAL);
}

static void test_parse_host_other_name(void **state) {
        (void) state;
        assert_parse_fails("eth0", -EINVAL);
}

static void test_parse_host_case(void **state) {
        (void) state;
        assert_parse_fails("ARC_NS1", -EINVAL);
}

static void test_parse_host_null(void **state) {
        (void) state;
        assert_parse_fails(NULL, -EINVAL);
}

static void test_parse_host_above_max(void **state) {
        (void) state;
        /* Ten digits: above CONNECTED_NS_ID_MAX. */
        assert_parse_fails("arc_ns1000000000", -ERANGE);
}

static void test_parse_host_overflow_uint32(void **state) {
        (void) state;
        assert_parse_fails("arc_ns4294967296", -ERANGE);
}

static void test_parse_host_overflow_uint64(void **state) {
        (void) state;
        assert_parse_fails("arc_ns99999999999999999999999999", -ERANGE);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid_simple),
                cmocka_unit_test(test_valid_one_char),
                cmocka_unit_test(test_valid_15_chars),
                cmocka_unit_test(test_valid_inner_punctuation),
                cmocka_unit_test(test_valid_mixed_case),
                cmocka_unit_test(test_invalid_null),
                cmocka_unit_test(test_invalid_empty),
                cmocka_unit_test(test_invalid_16_chars),
                cmocka_unit_test(test_invalid_very_long),
                cmocka_unit_test(test_invalid_leading_dash),
                cmocka_unit_test(test_invalid_trailing_dash),
                cmocka_unit_test(test_invalid_leading_dot),
                cmocka_unit_test(test_invalid_trailing_dot),
                cmocka_unit_test(test_invalid_dot),
                cmocka_unit_test(test_invalid_dot_dot),
                cmocka_unit_test(test_invalid_dash_only),
                cmocka_unit_test(test_invalid_space),
                cmocka_unit_test(test_invalid_leading_space),
                cmocka_unit_test(test_invalid_slash),
                cmocka_unit_test(test_invalid_colon),
                cmocka_unit_test(test_invalid_newline),
                cmocka_unit_test(test_invalid_percent),
                cmocka_unit_test(test_invalid_non_ascii),
                cmocka_unit_test(test_has_prefix),
                cmocka_unit_test(test_host_name),
                cmocka_unit_test(test_peer_name),
                cmocka_unit_test(test_host_name_0),
                cmocka_unit_test(test_host_name_max),
                cmocka_unit_test(test_peer_name_max),
                cmocka_unit_test(test_host_name_above_max),
                cmocka_unit_test(test_peer_name_above_max),
                cmocka_unit_test(test_host_name_uint32_max),
                cmocka_unit_test(test_parse_host),
                cmocka_unit_test(test_parse_host_0),
                cmocka_unit_test(test_parse_host_max),
                cmocka_unit_test(test_parse_host_round_trip),
                cmocka_unit_test(test_parse_host_leading_zero),
                cmocka_unit_test(test_parse_host_double_zero),
                cmocka_unit_test(test_parse_host_prefix_only),
                cmocka_unit_test(test_parse_host_non_digit),
                cmocka_unit_test(test_parse_host_trailing_non_digit),
                cmocka_unit_test(test_parse_host_sign),
                cmocka_unit_test(test_parse_host_negative),
                cmocka_unit_test(test_parse_host_space),
                cmocka_unit_test(test_parse_host_peer_name),
                cmocka_unit_test(test_parse_host_other_name),
                cmocka_unit_test(test_parse_host_case),
                cmocka_unit_test(test_parse_host_null),
                cmocka_unit_test(test_parse_host_above_max),
                cmocka_unit_test(test_parse_host_overflow_uint32),
                cmocka_unit_test(test_parse_host_overflow_uint64),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
