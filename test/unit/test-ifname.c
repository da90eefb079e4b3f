/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * common/ifname.h: validation of interface names from outside, the ConnectNamespace
 * names derived from ids (arc_ns<id> on the host, veth<id> in the namespace), the ARC
 * per-uplink names cut to fit (ifname_prefixed()) and the VM TAP names (vmtap<N>).
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

/* ifname_prefixed(): prefix + base, cut to IFNAME_MAX keeping the prefix, the first
 * IFNAME_MAX - strlen(prefix) - 1 characters of base, and base's last character. */

static void test_prefixed_short(void **state) {
        char name[IFNAMSIZ];

        (void) state;
        assert_int_equal(ifname_prefixed(ARC_UPLINK_BRIDGE_PREFIX, "eth0", name), 0);
        assert_string_equal(name, "arc_eth0");
}

static void test_prefixed_veth_short(void **state) {
        char name[IFNAMSIZ];

        (void) state;
        assert_int_equal(ifname_prefixed(ARC_UPLINK_VETH_PREFIX, "wlan0", name), 0);
        assert_string_equal(name, "vethwlan0");
}

static void test_prefixed_exactly_15(void **state) {
        char name[IFNAMSIZ];

        (void) state;
        /* "arc_" + an 11-character base: 15 characters, nothing cut. */
        assert_int_equal(strlen("wlp0s20f3ab"), IFNAME_MAX - strlen(ARC_UPLINK_BRIDGE_PREFIX));
        assert_int_equal(ifname_prefixed(ARC_UPLINK_BRIDGE_PREFIX, "wlp0s20f3ab", name), 0);
        assert_string_equal(name, "arc_wlp0s20f3ab");
        assert_int_equal(strlen(name), IFNAME_MAX);
}

static void test_prefixed_one_over(void **state) {
        char name[IFNAMSIZ];

        (void) state;
        /* 12-character base: its first 10 characters, then its last. */
        assert_int_equal(ifname_prefixed(ARC_UPLINK_BRIDGE_PREFIX, "wlp0s20f3abc", name), 0);
        assert_string_equal(name, "arc_wlp0s20f3ac");
        assert_int_equal(strlen(name), IFNAME_MAX);
}

static void test_prefixed_keeps_last_char(void **state) {
        char name[IFNAMSIZ];

        (void) state;
        assert_int_equal(ifname_prefixed(ARC_UPLINK_BRIDGE_PREFIX, "wlp0s20f3abc1", name), 0);
        assert_string_equal(name, "arc_wlp0s20f3a1");
        assert_int_equal(strlen(name), IFNAME_MAX);
        assert_true(ifname_is_valid(name));
}

static void test_prefixed_veth_keeps_last_char(void **state) {
        char name[IFNAMSIZ];

        (void) state;
        assert_int_equal(ifname_prefixed(ARC_UPLINK_VETH_PREFIX, "wlp0s20f3abc1", name), 0);
        assert_string_equal(name, "vethwlp0s20f3a1");
}

static void test_prefixed_base_15_chars(void **state) {
        char name[IFNAMSIZ];

        (void) state;
        assert_int_equal(ifname_prefixed(ARC_UPLINK_BRIDGE_PREFIX, "abcdefghijklmn5", name), 0);
        assert_string_equal(name, "arc_abcdefghij5");
        assert_int_equal(strlen(name), IFNAME_MAX);
}

static void test_prefixed_last_char_tells_apart(void **state) {
        char a[IFNAMSIZ], b[IFNAMSIZ];

        (void) state;
        assert_int_equal(ifname_prefixed(ARC_UPLINK_BRIDGE_PREFIX, "enx00e04c680011", a), 0);
        assert_int_equal(ifname_prefixed(ARC_UPLINK_BRIDGE_PREFIX, "enx00e04c680012", b), 0);
        assert_string_equal(a, "arc_enx00e04c61");
        assert_string_equal(b, "arc_enx00e04c62");
}

static void test_prefixed_empty_prefix(void **state) {
        char name[IFNAMSIZ];

        (void) state;
        assert_int_equal(ifname_prefixed("", "abcdefghijklmno", name), 0);
        assert_string_equal(name, "abcdefghijklmno");
}

static void test_prefixed_prefix_14_fits(void **state) {
        char name[IFNAMSIZ];

        (void) state;
        assert_int_equal(ifname_prefixed("abcdefghijklmn", "x", name), 0);
        assert_string_equal(name, "abcdefghijklmnx");
}

static void test_prefixed_prefix_14_cut(void **state) {
        char name[IFNAMSIZ];

        (void) state;
        /* No room for any of base but its last character. */
        assert_int_equal(ifname_prefixed("abcdefghijklmn", "eth0", name), 0);
        assert_string_equal(name, "abcdefghijklmn0");
}

/* ifname_prefixed(): rejected, one per test; the output is left alone */

static void assert_prefixed_fails(const char *prefix, const char *base) {
        char name[IFNAMSIZ] = "untouched";

        assert_int_equal(ifname_prefixed(prefix, base, name), -EINVAL);
        assert_string_equal(name, "untouched");
}

static void test_prefixed_prefix_15(void **state) {
        (void) state;
        assert_prefixed_fails("abcdefghijklmno", "x");
}

static void test_prefixed_prefix_16(void **state) {
        (void) state;
        assert_prefixed_fails("abcdefghijklmnop", "x");
}

static void test_prefixed_base_null(void **state) {
        (void) state;
        assert_prefixed_fails(ARC_UPLINK_BRIDGE_PREFIX, NULL);
}

static void test_prefixed_base_empty(void **state) {
        (void) state;
        assert_prefixed_fails(ARC_UPLINK_BRIDGE_PREFIX, "");
}

static void test_prefixed_base_16_chars(void **state) {
        (void) state;
        assert_prefixed_fails(ARC_UPLINK_BRIDGE_PREFIX, "abcdefghijklmnop");
}

static void test_prefixed_base_slash(void **state) {
        (void) state;
        assert_prefixed_fails(ARC_UPLINK_BRIDGE_PREFIX, "eth/0");
}

static void test_prefixed_base_trailing_dot(void **state) {
        (void) state;
        assert_prefixed_fails(ARC_UPLINK_BRIDGE_PREFIX, "wlp0s20f3abc1.");
}

static void test_prefixed_base_leading_dash(void **state) {
        (void) state;
        assert_prefixed_fails(ARC_UPLINK_BRIDGE_PREFIX, "-eth0");
}

/* ifname_is_vm_tap(): accepted */

static void test_vm_tap_0(void **state) {
        (void) state;
        assert_true(ifname_is_vm_tap("vmtap0"));
}

static void test_vm_tap_123(void **state) {
        (void) state;
        assert_true(ifname_is_vm_tap("vmtap123"));
}

static void test_vm_tap_15_chars(void **state) {
        (void) state;
        assert_int_equal(strlen("vmtap9999999999"), IFNAME_MAX);
        assert_true(ifname_is_vm_tap("vmtap9999999999"));
}

/* ifname_is_vm_tap(): rejected, one per test */

static void test_vm_tap_prefix_only(void **state) {
        (void) state;
        assert_false(ifname_is_vm_tap("vmtap"));
}

static void test_vm_tap_letter(void **state) {
        (void) state;
        assert_false(ifname_is_vm_tap("vmtapx"));
}

static void test_vm_tap_trailing_letter(void **state) {
        (void) state;
        assert_false(ifname_is_vm_tap("vmtap1a"));
}

static void test_vm_tap_negative(void **state) {
        (void) state;
        assert_false(ifname_is_vm_tap("vmtap-1"));
}

static void test_vm_tap_sign(void **state) {
        (void) state;
        assert_false(ifname_is_vm_tap("vmtap+1"));
}

static void test_vm_tap_space(void **state) {
        (void) state;
        assert_false(ifname_is_vm_tap("vmtap 1"));
}

static void test_vm_tap_leading_char(void **state) {
        (void) state;
        assert_false(ifname_is_vm_tap("xvmtap0"));
}

static void test_vm_tap_case(void **state) {
        (void) state;
        assert_false(ifname_is_vm_tap("VMTAP0"));
}

static void test_vm_tap_16_chars(void **state) {
        (void) state;
        assert_int_equal(strlen("vmtap99999999999"), IFNAMSIZ);
        assert_false(ifname_is_vm_tap("vmtap99999999999"));
}

static void test_vm_tap_very_long(void **state) {
        char s[64];

        (void) state;
        memcpy(s, VM_TAP_PREFIX, strlen(VM_TAP_PREFIX));
        memset(s + strlen(VM_TAP_PREFIX), '1', sizeof s - 1 - strlen(VM_TAP_PREFIX));
        s[sizeof s - 1] = '\0';
        assert_false(ifname_is_vm_tap(s));
}

static void test_vm_tap_other_name(void **state) {
        (void) state;
        assert_false(ifname_is_vm_tap("eth0"));
}

static void test_vm_tap_empty(void **state) {
        (void) state;
        assert_false(ifname_is_vm_tap(""));
}

static void test_vm_tap_null(void **state) {
        (void) state;
        assert_false(ifname_is_vm_tap(NULL));
}

/* ifname_is_own(): the daemon's own links, table-driven. */

static void test_own_names(void **state) {
        static const struct {
                const char *name;
                bool own;
        } cases[] = {
                { "arc_eth0", true },  { "arc_ns7", true },  { "arcbr0", true },
                { "vetharc0", true },  { "vmtap3", true },   { "vmtap", true },
                { "eth0", false },     { "wlan0", false },   { "lo", false },
                { "veth5", false },    { "arc0", false },    { "docker0", false },
                { "Arc_eth0", false }, { "", false },        { NULL, false },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                if (ifname_is_own(cases[i].name) != cases[i].own)
                        fail_msg("%s: expected %s", cases[i].name ?: "NULL",
                                 cases[i].own ? "own" : "not own");
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
                cmocka_unit_test(test_prefixed_short),
                cmocka_unit_test(test_prefixed_veth_short),
                cmocka_unit_test(test_prefixed_exactly_15),
                cmocka_unit_test(test_prefixed_one_over),
                cmocka_unit_test(test_prefixed_keeps_last_char),
                cmocka_unit_test(test_prefixed_veth_keeps_last_char),
                cmocka_unit_test(test_prefixed_base_15_chars),
                cmocka_unit_test(test_prefixed_last_char_tells_apart),
                cmocka_unit_test(test_prefixed_empty_prefix),
                cmocka_unit_test(test_prefixed_prefix_14_fits),
                cmocka_unit_test(test_prefixed_prefix_14_cut),
                cmocka_unit_test(test_prefixed_prefix_15),
                cmocka_unit_test(test_prefixed_prefix_16),
                cmocka_unit_test(test_prefixed_base_null),
                cmocka_unit_test(test_prefixed_base_empty),
                cmocka_unit_test(test_prefixed_base_16_chars),
                cmocka_unit_test(test_prefixed_base_slash),
                cmocka_unit_test(test_prefixed_base_trailing_dot),
                cmocka_unit_test(test_prefixed_base_leading_dash),
                cmocka_unit_test(test_vm_tap_0),
                cmocka_unit_test(test_vm_tap_123),
                cmocka_unit_test(test_vm_tap_15_chars),
                cmocka_unit_test(test_vm_tap_prefix_only),
                cmocka_unit_test(test_vm_tap_letter),
                cmocka_unit_test(test_vm_tap_trailing_letter),
                cmocka_unit_test(test_vm_tap_negative),
                cmocka_unit_test(test_vm_tap_sign),
                cmocka_unit_test(test_vm_tap_space),
                cmocka_unit_test(test_vm_tap_leading_char),
                cmocka_unit_test(test_vm_tap_case),
                cmocka_unit_test(test_vm_tap_16_chars),
                cmocka_unit_test(test_vm_tap_very_long),
                cmocka_unit_test(test_vm_tap_other_name),
                cmocka_unit_test(test_vm_tap_empty),
                cmocka_unit_test(test_vm_tap_null),
                cmocka_unit_test(test_own_names),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
