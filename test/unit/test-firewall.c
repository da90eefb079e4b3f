/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The helper's nftables batch builders for guests (helpers/firewall.c): the anti-spoofing
 * elements a guest brings and takes away, and every field that makes a batch invalid. No
 * kernel: only the text of the batches. Also the link marks the start-up sweep accepts
 * (helpers/link.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <netinet/in.h>

#include "firewall.h"
#include "fwmark.h"
#include "ifname.h"
#include "link.h"

#define ADDR(a, b, c, d) ((uint32_t) (a) << 24 | (uint32_t) (b) << 16 | (uint32_t) (c) << 8 | (d))

static uint32_t guest_mark(TrafficSource source) {
        return FWMARK_SNAT | fwmark_from_source(source);
}

static size_t count(const char *text, const char *needle) {
        size_t n = 0;
        for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
                n++;
        return n;
}

static void test_guest_add_one_address(void **state) {
        FwBatch b = {};
        FwGuestSources src = { .v4 = { { ADDR(100, 115, 92, 130), 32 } }, .n_v4 = 1 };

        (void) state;
        fw_batch_guest_add(&b, "arc_ns1", guest_mark(TRAFFIC_SOURCE_ARC), &src);
        assert_false(b.invalid);
        assert_non_null(strstr(b.buf, "add element inet patchpanel guest_ifs { \"arc_ns1\" }\n"));
        assert_non_null(strstr(b.buf, "add element inet patchpanel guest_src4 "
                                      "{ \"arc_ns1\" . 100.115.92.130/32 }\n"));
        assert_non_null(strstr(b.buf, "add element inet patchpanel guest_src6 "
                                      "{ \"arc_ns1\" . fe80::/64 }\n"));
        assert_non_null(strstr(b.buf, "add element inet patchpanel guest_src6 "
                                      "{ \"arc_ns1\" . :: }\n"));
        assert_int_equal(count(b.buf, "guest_src4"), 1);
        assert_int_equal(b.n_guests, 1);
}

static void test_guest_add_address_and_container_prefix(void **state) {
        FwBatch b = {};
        FwGuestSources src = { .v4 = { { ADDR(100, 115, 92, 6), 32 },
                                       { ADDR(100, 115, 92, 192), 28 } },
                               .n_v4 = 2 };

        (void) state;
        fw_batch_guest_add(&b, "vmtap3", guest_mark(TRAFFIC_SOURCE_CROSVM), &src);
        assert_false(b.invalid);
        assert_non_null(strstr(b.buf, "{ \"vmtap3\" . 100.115.92.6/32 }"));
        assert_non_null(strstr(b.buf, "{ \"vmtap3\" . 100.115.92.192/28 }"));
        assert_int_equal(count(b.buf, "guest_src4"), 2);
}

/* Every way a guest's fields can make the batch invalid, one case each. */
static const struct {
        const char *what;
        const char *ifname;
        TrafficSource source;
        bool null_src;
        FwGuestSources src;
} invalid_guests[] = {
        { "no sources", "arc_ns1", TRAFFIC_SOURCE_ARC, .src = { .n_v4 = 0 } },
        { "NULL sources", "arc_ns1", TRAFFIC_SOURCE_ARC, .null_src = true },
        { "more sources than fit", "arc_ns1", TRAFFIC_SOURCE_ARC,
          .src = { .n_v4 = FW_GUEST_SOURCES_MAX + 1 } },
        { "prefix length 0", "arc_ns1", TRAFFIC_SOURCE_ARC,
          .src = { .v4 = { { 0, 0 } }, .n_v4 = 1 } },
        { "prefix length 33", "arc_ns1", TRAFFIC_SOURCE_ARC,
          .src = { .v4 = { { ADDR(100, 115, 92, 130), 33 } }, .n_v4 = 1 } },
        { "host bits in a prefix", "vmtap0", TRAFFIC_SOURCE_CROSVM,
          .src = { .v4 = { { ADDR(100, 115, 92, 6), 32 }, { ADDR(100, 115, 92, 193), 28 } },
                   .n_v4 = 2 } },
        { "invalid interface name", "arc ns1", TRAFFIC_SOURCE_ARC,
          .src = { .v4 = { { ADDR(100, 115, 92, 130), 32 } }, .n_v4 = 1 } },
        { "quote in the interface name", "a\"b", TRAFFIC_SOURCE_ARC,
          .src = { .v4 = { { ADDR(100, 115, 92, 130), 32 } }, .n_v4 = 1 } },
        { "no traffic source in the mark", "arc_ns1", TRAFFIC_SOURCE_UNKNOWN,
          .src = { .v4 = { { ADDR(100, 115, 92, 130), 32 } }, .n_v4 = 1 } },
};

static void test_guest_add_invalid(void **state) {
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(invalid_guests); i++) {
                FwBatch b = {};
                ErrBuf err = {};

                fw_batch_guest_add(&b, invalid_guests[i].ifname, guest_mark(invalid_guests[i].source),
                                   invalid_guests[i].null_src ? NULL : &invalid_guests[i].src);
                if (!b.invalid)
                        fail_msg("accepted: %s", invalid_guests[i].what);
                assert_int_equal(b.n_guests, 0);
                /* Refused before nftables is asked: no context needed. */
                assert_int_equal(fw_batch_commit(NULL, &b, "add the guest", &err), -EINVAL);
                assert_non_null(strstr(err.msg, "invalid field"));
        }
}

static void test_guest_remove_unrecorded(void **state) {
        FwBatch b = {};

        (void) state;
        /* Never added (nothing recorded): the fixed elements only, one per line, so that a
         * removal that finds one missing can go on line by line. */
        fw_batch_guest_remove(&b, "arc_ns9");
        assert_false(b.invalid);
        assert_int_equal(count(b.buf, "guest_src4"), 0);
        assert_int_equal(count(b.buf, "delete element inet patchpanel guest_src6"), 2);
        assert_int_equal(count(b.buf, "\n"), 5);
        assert_int_equal(count(b.buf, ","), 0);
        assert_int_equal(b.n_guests, 1);
}

static void test_batch_guest_limit(void **state) {
        FwBatch b = {};
        char name[IFNAMSIZ];

        (void) state;
        for (unsigned i = 0; i < FW_BATCH_GUESTS_MAX; i++) {
                snprintf(name, sizeof name, "arc_ns%u", i);
                fw_batch_guest_remove(&b, name);
        }
        assert_false(b.invalid);
        fw_batch_guest_remove(&b, "arc_ns99");
        assert_true(b.invalid);
}

/* adb sideloading: one element of adb_sideload per TAP, added or deleted; a name that is
 * not an interface name makes the batch invalid. */
static void test_adb_sideload(void **state) {
        FwBatch b = {};

        (void) state;
        fw_batch_adb_sideload(&b, "vmtap3", true);
        assert_false(b.invalid);
        assert_string_equal(b.buf, "add element inet patchpanel adb_sideload { \"vmtap3\" }\n");
        b = (FwBatch) {};
        fw_batch_adb_sideload(&b, "vmtap3", false);
        assert_false(b.invalid);
        assert_string_equal(b.buf, "delete element inet patchpanel adb_sideload { \"vmtap3\" }\n");
        b = (FwBatch) {};
        fw_batch_adb_sideload(&b, "vmtap3\" }; flush ruleset; #", true);
        assert_true(b.invalid);
        b = (FwBatch) {};
        fw_batch_adb_sideload(&b, "", true);
        assert_true(b.invalid);
}

/* The sources a guest was recorded with, for the helper's check of AdbSideload. */
static void test_guest_sources_unrecorded(void **state) {
        FwGuestSources src = { .v4 = { { ADDR(100, 115, 92, 26), 32 } }, .n_v4 = 1 }, got;
        FwBatch b = {};

        (void) state;
        assert_int_equal(fw_guest_sources("vmtap9", &got), -ENOENT);
        fw_batch_guest_add(&b, "vmtap9", guest_mark(TRAFFIC_SOURCE_CROSVM), &src);
        assert_false(b.invalid);
        /* Not applied yet: nothing recorded. */
        assert_int_equal(fw_guest_sources("vmtap9", &got), -ENOENT);
}

static void test_guest_src6_needs_a_guest(void **state) {
        struct in6_addr a = { .s6_addr = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x0a } };
        FwBatch b = {};
        ErrBuf err = {};

        (void) state;
        /* A learned source only for a link the helper added as a guest (its record): a
         * batch for another link is refused before nftables sees it. */
        fw_batch_guest_src6(&b, "vmtap9", &a, true);
        assert_true(b.invalid);
        assert_int_equal(b.n_src6, 0);
        assert_int_equal(fw_batch_commit(NULL, &b, "accept an address", &err), -EINVAL);
        assert_null(fw_guest_src6_owner(&a));
        b = (FwBatch) {};
        fw_batch_guest_src6(&b, "vmtap9\" . ::/0", &a, true);
        assert_true(b.invalid);
}

static void test_link_marks(void **state) {
        static const struct {
                const char *alias;
                uint32_t group;
                bool ours;
        } cases[] = {
                { NULL, 0, false },
                { "", 0, false },
                { "someone", 7, false },
                { "patchpanel2", 0, false },
                { "patchpane", 0, false },
                { PP_LINK_ALIAS, 0, true },         /* an earlier version's mark */
                { NULL, PP_LINK_GROUP, true },      /* marked at creation, not configured */
                { "someone", PP_LINK_GROUP, true },
                { NULL, PP_DELETE_GROUP, true },    /* on its way out when the helper died */
                { NULL, PP_LINK_GROUP + 1, false },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                if (link_mark_is_ours(cases[i].alias, cases[i].group) != cases[i].ours)
                        fail_msg("case %zu: alias %s group 0x%08x", i,
                                 cases[i].alias ?: "(none)", cases[i].group);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_guest_add_one_address),
                cmocka_unit_test(test_guest_add_address_and_container_prefix),
                cmocka_unit_test(test_guest_add_invalid),
                cmocka_unit_test(test_guest_remove_unrecorded),
                cmocka_unit_test(test_batch_guest_limit),
                cmocka_unit_test(test_guest_src6_needs_a_guest),
                cmocka_unit_test(test_link_marks),
                cmocka_unit_test(test_adb_sideload),
                cmocka_unit_test(test_guest_sources_unrecorded),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
