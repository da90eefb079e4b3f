/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * common/fwmark.h: the fwmark layout, traffic sources and their 2021 D-Bus numbering,
 * routing tags and VPN policy bits.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "fwmark.h"
#include "macro.h"

/* Every internal source with its mark bits, name and D-Bus value. */
static const struct {
        TrafficSource source;
        uint32_t mark;
        const char *name;
        ProtoSource proto;
} sources[] = {
        { TRAFFIC_SOURCE_UNKNOWN, 0x0000, "unknown", PROTO_SOURCE_UNKNOWN },
        { TRAFFIC_SOURCE_CHROME, 0x0100, "chrome", PROTO_SOURCE_CHROME },
        { TRAFFIC_SOURCE_USER, 0x0200, "user", PROTO_SOURCE_USER },
        { TRAFFIC_SOURCE_UPDATE_ENGINE, 0x0300, "update-engine", PROTO_SOURCE_UPDATE_ENGINE },
        { TRAFFIC_SOURCE_SYSTEM, 0x0400, "system", PROTO_SOURCE_SYSTEM },
        { TRAFFIC_SOURCE_HOST_VPN, 0x0500, "host-vpn", PROTO_SOURCE_VPN },
        { TRAFFIC_SOURCE_ARC, 0x2000, "arc", PROTO_SOURCE_ARC },
        { TRAFFIC_SOURCE_CROSVM, 0x2100, "crosvm", PROTO_SOURCE_CROSVM },
        { TRAFFIC_SOURCE_PLUGINVM, 0x2200, "pluginvm", PROTO_SOURCE_PLUGINVM },
        { TRAFFIC_SOURCE_TETHER_DOWNSTREAM, 0x2300, "tether-downstream", PROTO_SOURCE_SYSTEM },
        { TRAFFIC_SOURCE_ARC_VPN, 0x2400, "arc-vpn", PROTO_SOURCE_VPN },
};

/* The layout */

static void test_mask_constants(void **state) {
        (void) state;
        assert_int_equal(FWMARK_SNAT, 0x1);
        assert_int_equal(FWMARK_SOURCE_MASK, 0x3f00);
        assert_int_equal(FWMARK_FORWARDED_MASK, 0x2000);
        assert_int_equal(FWMARK_VPN_MASK, 0xc000);
        assert_int_equal(FWMARK_ROUTE_ON_VPN, 0x8000);
        assert_int_equal(FWMARK_BYPASS_VPN, 0x4000);
        assert_int_equal(FWMARK_ROUTING_MASK, 0xffff0000u);
        assert_int_equal(FWMARK_POLICY_MASK, 0xff00);
}

static void test_masks_disjoint(void **state) {
        (void) state;
        assert_int_equal(FWMARK_SNAT & FWMARK_SOURCE_MASK, 0);
        assert_int_equal(FWMARK_SOURCE_MASK & FWMARK_VPN_MASK, 0);
        assert_int_equal(FWMARK_VPN_MASK & FWMARK_ROUTING_MASK, 0);
        assert_int_equal(FWMARK_SOURCE_MASK | FWMARK_VPN_MASK, FWMARK_POLICY_MASK);
        assert_int_equal(FWMARK_FORWARDED_MASK & ~FWMARK_SOURCE_MASK, 0);
        assert_int_equal(FWMARK_ROUTE_ON_VPN | FWMARK_BYPASS_VPN, FWMARK_VPN_MASK);
}

/* Sources and marks */

static void test_from_source_system(void **state) {
        (void) state;
        assert_int_equal(fwmark_from_source(TRAFFIC_SOURCE_SYSTEM), 0x400);
}

static void test_from_source_arc(void **state) {
        (void) state;
        assert_int_equal(fwmark_from_source(TRAFFIC_SOURCE_ARC), 0x2000);
}

static void test_from_source_pluginvm(void **state) {
        (void) state;
        assert_int_equal(fwmark_from_source(TRAFFIC_SOURCE_PLUGINVM), 0x2200);
}

static void test_from_source_all(void **state) {
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(sources); i++) {
                uint32_t mark = fwmark_from_source(sources[i].source);
                assert_int_equal(mark, sources[i].mark);
                assert_int_equal(mark & ~FWMARK_SOURCE_MASK, 0);
        }
}

static void test_forwarded_bit(void **state) {
        (void) state;
        /* Forwarded sources (>= 0x20) and only those carry bit 13. */
        for (size_t i = 0; i < ELEMENTSOF(sources); i++) {
                uint32_t mark = fwmark_from_source(sources[i].source);
                if (sources[i].source >= 0x20)
                        assert_int_equal(mark & FWMARK_FORWARDED_MASK, FWMARK_FORWARDED_MASK);
                else
                        assert_int_equal(mark & FWMARK_FORWARDED_MASK, 0);
        }
}

static void test_get_source_round_trip(void **state) {
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(sources); i++)
                assert_int_equal(fwmark_get_source(fwmark_from_source(sources[i].source)),
                                 sources[i].source);
}

static void test_get_source_ignores_other_bits(void **state) {
        uint32_t mark = 0x03ed0000u | FWMARK_ROUTE_ON_VPN | 0x2200u | FWMARK_SNAT;

        (void) state;
        assert_int_equal(fwmark_get_source(mark), TRAFFIC_SOURCE_PLUGINVM);
        assert_int_equal(fwmark_get_source(~FWMARK_SOURCE_MASK), TRAFFIC_SOURCE_UNKNOWN);
}

static void test_source_names(void **state) {
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(sources); i++)
                assert_string_equal(traffic_source_to_string(sources[i].source), sources[i].name);
}

static void test_source_name_invalid(void **state) {
        (void) state;
        assert_null(traffic_source_to_string((TrafficSource) 6));
        assert_null(traffic_source_to_string(_TRAFFIC_SOURCE_MAX));
        assert_null(traffic_source_to_string(_TRAFFIC_SOURCE_INVALID));
}

static void test_source_is_valid(void **state) {
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(sources); i++)
                assert_true(traffic_source_is_valid((int) sources[i].source));
}

static void test_source_is_valid_gap(void **state) {
        (void) state;
        /* Between the local and the forwarded sources. */
        assert_false(traffic_source_is_valid(6));
        assert_false(traffic_source_is_valid(7));
        assert_false(traffic_source_is_valid(0x1f));
}

static void test_source_is_valid_out_of_range(void **state) {
        (void) state;
        assert_false(traffic_source_is_valid(0x25));
        assert_false(traffic_source_is_valid(0x40));
        assert_false(traffic_source_is_valid(-1));
        assert_false(traffic_source_is_valid(_TRAFFIC_SOURCE_INVALID));
}

/* The 2021 D-Bus numbering */

static void test_from_proto_unknown(void **state) {
        (void) state;
        assert_int_equal(traffic_source_from_proto(0), TRAFFIC_SOURCE_UNKNOWN);
}

static void test_from_proto_chrome(void **state) {
        (void) state;
        assert_int_equal(traffic_source_from_proto(1), TRAFFIC_SOURCE_CHROME);
}

static void test_from_proto_user(void **state) {
        (void) state;
        assert_int_equal(traffic_source_from_proto(2), TRAFFIC_SOURCE_USER);
}

static void test_from_proto_arc(void **state) {
        (void) state;
        assert_int_equal(traffic_source_from_proto(3), TRAFFIC_SOURCE_ARC);
}

static void test_from_proto_crosvm(void **state) {
        (void) state;
        assert_int_equal(traffic_source_from_proto(4), TRAFFIC_SOURCE_CROSVM);
}

static void test_from_proto_pluginvm(void **state) {
        (void) state;
        assert_int_equal(traffic_source_from_proto(5), TRAFFIC_SOURCE_PLUGINVM);
}

static void test_from_proto_update_engine(void **state) {
        (void) state;
        assert_int_equal(traffic_source_from_proto(6), TRAFFIC_SOURCE_UPDATE_ENGINE);
}

static void test_from_proto_vpn(void **state) {
        (void) state;
        /* Not ARC_VPN, which shares the D-Bus value. */
        assert_int_equal(traffic_source_from_proto(7), TRAFFIC_SOURCE_HOST_VPN);
}

static void test_from_proto_system(void **state) {
        (void) state;
        /* Not TETHER_DOWNSTREAM, which shares the D-Bus value. */
        assert_int_equal(traffic_source_from_proto(8), TRAFFIC_SOURCE_SYSTEM);
}

static void test_from_proto_9(void **state) {
        (void) state;
        assert_int_equal(traffic_source_from_proto(9), _TRAFFIC_SOURCE_INVALID);
}

static void test_from_proto_minus_1(void **state) {
        (void) state;
        assert_int_equal(traffic_source_from_proto(-1), _TRAFFIC_SOURCE_INVALID);
}

static void test_from_proto_internal_value(void **state) {
        (void) state;
        /* An internal value is not a D-Bus value. */
        assert_int_equal(traffic_source_from_proto(0x20), _TRAFFIC_SOURCE_INVALID);
}

static void test_proto_numbering(void **state) {
        (void) state;
        assert_int_equal(PROTO_SOURCE_UNKNOWN, 0);
        assert_int_equal(PROTO_SOURCE_CHROME, 1);
        assert_int_equal(PROTO_SOURCE_USER, 2);
        assert_int_equal(PROTO_SOURCE_ARC, 3);
        assert_int_equal(PROTO_SOURCE_CROSVM, 4);
        assert_int_equal(PROTO_SOURCE_PLUGINVM, 5);
        assert_int_equal(PROTO_SOURCE_UPDATE_ENGINE, 6);
        assert_int_equal(PROTO_SOURCE_VPN, 7);
        assert_int_equal(PROTO_SOURCE_SYSTEM, 8);
        assert_int_equal(_PROTO_SOURCE_MAX, 9);
}

static void test_to_proto_all(void **state) {
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(sources); i++)
                assert_int_equal(traffic_source_to_proto(sources[i].source), sources[i].proto);
}

static void test_to_proto_invalid(void **state) {
        (void) state;
        assert_int_equal(traffic_source_to_proto((TrafficSource) 6), _PROTO_SOURCE_INVALID);
        assert_int_equal(traffic_source_to_proto(_TRAFFIC_SOURCE_INVALID), _PROTO_SOURCE_INVALID);
}

static void test_proto_round_trip(void **state) {
        (void) state;
        for (int p = 0; p < _PROTO_SOURCE_MAX; p++)
                assert_int_equal(traffic_source_to_proto(traffic_source_from_proto(p)), p);
}

/* Routing tags */

static void test_routing_table_5(void **state) {
        uint32_t table = 0;

        (void) state;
        assert_int_equal(fwmark_routing_table(5, &table), 0);
        assert_int_equal(table, 1005);
}

static void test_routing_tag_5(void **state) {
        uint32_t tag = 0;

        (void) state;
        assert_int_equal(fwmark_routing_tag(5, &tag), 0);
        assert_int_equal(tag, 0x03ed0000u);
        assert_int_equal(tag & ~FWMARK_ROUTING_MASK, 0);
}

static void test_routing_tag_1(void **state) {
        uint32_t tag = 0;

        (void) state;
        assert_int_equal(fwmark_routing_tag(1, &tag), 0);
        assert_int_equal(tag, 0x03e90000u);
}

static void test_routing_tag_largest(void **state) {
        uint32_t tag = 0;

        (void) state;
        assert_int_equal(fwmark_routing_tag(0xffff - 1000, &tag), 0);
        assert_int_equal(tag, 0xffff0000u);
}

static void test_routing_tag_ifindex_0(void **state) {
        uint32_t tag = 0xdeadbeefu;

        (void) state;
        assert_int_equal(fwmark_routing_tag(0, &tag), -ERANGE);
        assert_int_equal(tag, 0xdeadbeefu);
}

static void test_routing_tag_negative(void **state) {
        uint32_t tag = 0xdeadbeefu;

        (void) state;
        assert_int_equal(fwmark_routing_tag(-1, &tag), -ERANGE);
        assert_int_equal(tag, 0xdeadbeefu);
}

static void test_routing_tag_too_big(void **state) {
        uint32_t tag = 0xdeadbeefu;

        (void) state;
        assert_int_equal(fwmark_routing_tag(0xffff - 1000 + 1, &tag), -ERANGE);
        assert_int_equal(tag, 0xdeadbeefu);
}

static void test_routing_table_too_big(void **state) {
        uint32_t table = 0xdeadbeefu;

        (void) state;
        assert_int_equal(fwmark_routing_table(0xffff - 1000 + 1, &table), -ERANGE);
        assert_int_equal(table, 0xdeadbeefu);
}

static void test_routing_tag_int_max(void **state) {
        uint32_t tag = 0xdeadbeefu;

        (void) state;
        assert_int_equal(fwmark_routing_tag(INT32_MAX, &tag), -ERANGE);
        assert_int_equal(tag, 0xdeadbeefu);
}

/* VPN policy */

static void test_vpn_policy_default(void **state) {
        (void) state;
        assert_int_equal(fwmark_from_vpn_policy(VPN_POLICY_DEFAULT), 0);
}

static void test_vpn_policy_route_on_vpn(void **state) {
        (void) state;
        assert_int_equal(fwmark_from_vpn_policy(VPN_POLICY_ROUTE_ON_VPN), 0x8000);
}

static void test_vpn_policy_bypass(void **state) {
        (void) state;
        assert_int_equal(fwmark_from_vpn_policy(VPN_POLICY_BYPASS_VPN), 0x4000);
}

static void test_vpn_policy_invalid(void **state) {
        (void) state;
        assert_int_equal(fwmark_from_vpn_policy(_VPN_POLICY_MAX), 0);
        assert_int_equal(fwmark_from_vpn_policy(_VPN_POLICY_INVALID), 0);
}

/* fwmark_apply() */

static void test_apply_source(void **state) {
        (void) state;
        assert_int_equal(fwmark_apply(0xdead11efu, 0x2200u, FWMARK_SOURCE_MASK), 0xdead22efu);
}

static void test_apply_clears_masked_bits(void **state) {
        (void) state;
        assert_int_equal(fwmark_apply(0xffffffffu, 0, FWMARK_VPN_MASK), 0xffff3fffu);
}

static void test_apply_ignores_value_outside_mask(void **state) {
        (void) state;
        /* Bits of value outside the mask do not leak into the result. */
        assert_int_equal(fwmark_apply(0, 0xffffffffu, FWMARK_SNAT), 0x1);
}

static void test_apply_routing_tag(void **state) {
        uint32_t tag;

        (void) state;
        assert_int_equal(fwmark_routing_tag(5, &tag), 0);
        assert_int_equal(fwmark_apply(0x12342201u, tag, FWMARK_ROUTING_MASK), 0x03ed2201u);
}

static void test_apply_empty_mask(void **state) {
        (void) state;
        assert_int_equal(fwmark_apply(0x12345678u, 0xffffffffu, 0), 0x12345678u);
}

static void test_apply_full_mask(void **state) {
        (void) state;
        assert_int_equal(fwmark_apply(0x12345678u, 0x87654321u, UINT32_MAX), 0x87654321u);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mask_constants),
                cmocka_unit_test(test_masks_disjoint),
                cmocka_unit_test(test_from_source_system),
                cmocka_unit_test(test_from_source_arc),
                cmocka_unit_test(test_from_source_pluginvm),
                cmocka_unit_test(test_from_source_all),
                cmocka_unit_test(test_forwarded_bit),
                cmocka_unit_test(test_get_source_round_trip),
                cmocka_unit_test(test_get_source_ignores_other_bits),
                cmocka_unit_test(test_source_names),
                cmocka_unit_test(test_source_name_invalid),
                cmocka_unit_test(test_source_is_valid),
                cmocka_unit_test(test_source_is_valid_gap),
                cmocka_unit_test(test_source_is_valid_out_of_range),
                cmocka_unit_test(test_from_proto_unknown),
                cmocka_unit_test(test_from_proto_chrome),
                cmocka_unit_test(test_from_proto_user),
                cmocka_unit_test(test_from_proto_arc),
                cmocka_unit_test(test_from_proto_crosvm),
                cmocka_unit_test(test_from_proto_pluginvm),
                cmocka_unit_test(test_from_proto_update_engine),
                cmocka_unit_test(test_from_proto_vpn),
                cmocka_unit_test(test_from_proto_system),
                cmocka_unit_test(test_from_proto_9),
                cmocka_unit_test(test_from_proto_minus_1),
                cmocka_unit_test(test_from_proto_internal_value),
                cmocka_unit_test(test_proto_numbering),
                cmocka_unit_test(test_to_proto_all),
                cmocka_unit_test(test_to_proto_invalid),
                cmocka_unit_test(test_proto_round_trip),
                cmocka_unit_test(test_routing_table_5),
                cmocka_unit_test(test_routing_tag_5),
                cmocka_unit_test(test_routing_tag_1),
                cmocka_unit_test(test_routing_tag_largest),
                cmocka_unit_test(test_routing_tag_ifindex_0),
                cmocka_unit_test(test_routing_tag_negative),
                cmocka_unit_test(test_routing_tag_too_big),
                cmocka_unit_test(test_routing_table_too_big),
                cmocka_unit_test(test_routing_tag_int_max),
                cmocka_unit_test(test_vpn_policy_default),
                cmocka_unit_test(test_vpn_policy_route_on_vpn),
                cmocka_unit_test(test_vpn_policy_bypass),
                cmocka_unit_test(test_vpn_policy_invalid),
                cmocka_unit_test(test_apply_source),
                cmocka_unit_test(test_apply_clears_masked_bits),
                cmocka_unit_test(test_apply_ignores_value_outside_mask),
                cmocka_unit_test(test_apply_routing_tag),
                cmocka_unit_test(test_apply_empty_mask),
                cmocka_unit_test(test_apply_full_mask),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
