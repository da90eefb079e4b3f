/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The helper's nftables batch builders (helpers/firewall.c): the operations a guest, an
 * uplink, a port rule bring and take away, their keys in nftables' register layout, the
 * nf_tables messages they become (bytes checked by hand), and every field that makes a
 * batch invalid. No kernel. Also the link marks the start-up sweep accepts
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

/* The interface name "arc_ns1" / "vmtap3" as a key field: IFNAMSIZ bytes, zero-padded. */
#define K_ARC_NS1 'a', 'r', 'c', '_', 'n', 's', '1', 0, 0, 0, 0, 0, 0, 0, 0, 0
#define K_VMTAP3 'v', 'm', 't', 'a', 'p', '3', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0

static void assert_key(const NftElem *e, const uint8_t *want, size_t len) {
        assert_int_equal(e->key_len, len);
        assert_memory_equal(e->key, want, len);
}

static void test_guest_add_one_address(void **state) {
        FwBatch b = {};
        FwGuestSources src = { .v4 = { { ADDR(100, 115, 92, 130), 32 } }, .n_v4 = 1 };
        static const uint8_t name[] = { K_ARC_NS1 };
        static const uint8_t src4[] = { K_ARC_NS1, 100, 115, 92, 130 };
        uint32_t mark = guest_mark(TRAFFIC_SOURCE_ARC);

        (void) state;
        fw_batch_guest_add(&b, "arc_ns1", mark, &src);
        assert_false(b.invalid);
        /* guest_mark, guest_source, guest_ifs, guest_src4: nothing per guest for IPv6 (its
         * fe80::/64 and :: are the antispoof chain's rule). */
        assert_int_equal(b.n_ops, 4);
        for (size_t i = 0; i < b.n_ops; i++)
                assert_int_equal(b.ops[i].type, FW_OP_ELEM_ADD);
        assert_int_equal(b.ops[0].set, FW_SET_GUEST_MARK);
        assert_key(&b.ops[0].elem, name, sizeof name);
        assert_int_equal(b.ops[0].elem.data_len, 4);
        assert_memory_equal(b.ops[0].elem.data, &mark, 4); /* a mark: host order */
        assert_int_equal(b.ops[1].set, FW_SET_GUEST_SOURCE);
        assert_key(&b.ops[1].elem, name, sizeof name);
        assert_string_equal(b.ops[1].elem.jump, "source_arc");
        assert_int_equal(b.ops[1].elem.data_len, 0);
        assert_int_equal(b.ops[2].set, FW_SET_GUEST_IFS);
        assert_key(&b.ops[2].elem, name, sizeof name);
        assert_int_equal(b.ops[3].set, FW_SET_GUEST_SRC4);
        assert_key(&b.ops[3].elem, src4, sizeof src4);
        assert_int_equal(b.ops[3].elem.key_end_len, 0);
        assert_int_equal(b.n_guests, 1);
}

static void test_guest_add_address_and_container_prefix(void **state) {
        FwBatch b = {};
        FwGuestSources src = { .v4 = { { ADDR(100, 115, 92, 6), 32 },
                                       { ADDR(100, 115, 92, 192), 28 } },
                               .n_v4 = 2 };
        static const uint8_t addr[] = { K_VMTAP3, 100, 115, 92, 6 };
        static const uint8_t first[] = { K_VMTAP3, 100, 115, 92, 192 };
        static const uint8_t last[] = { K_VMTAP3, 100, 115, 92, 207 };

        (void) state;
        fw_batch_guest_add(&b, "vmtap3", guest_mark(TRAFFIC_SOURCE_CROSVM), &src);
        assert_false(b.invalid);
        assert_int_equal(b.n_ops, 5);
        assert_int_equal(b.ops[3].set, FW_SET_GUEST_SRC4);
        assert_key(&b.ops[3].elem, addr, sizeof addr);
        /* The /28: an interval of the concatenation, its first and last address. */
        assert_int_equal(b.ops[4].set, FW_SET_GUEST_NET4);
        assert_key(&b.ops[4].elem, first, sizeof first);
        assert_int_equal(b.ops[4].elem.key_end_len, sizeof last);
        assert_memory_equal(b.ops[4].elem.key_end, last, sizeof last);
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
        /* Never added (nothing recorded): its three elements keyed by the name alone, one
         * operation each, so that a removal that finds one missing goes on without it. */
        fw_batch_guest_remove(&b, "arc_ns9");
        assert_false(b.invalid);
        assert_int_equal(b.n_ops, 3);
        assert_int_equal(b.ops[0].set, FW_SET_GUEST_MARK);
        assert_int_equal(b.ops[1].set, FW_SET_GUEST_SOURCE);
        assert_int_equal(b.ops[2].set, FW_SET_GUEST_IFS);
        for (size_t i = 0; i < b.n_ops; i++) {
                assert_int_equal(b.ops[i].type, FW_OP_ELEM_DELETE);
                assert_int_equal(b.ops[i].elem.data_len, 0);
                assert_string_equal(b.ops[i].elem.jump, "");
        }
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

/* adb sideloading: one element of adb_sideload per TAP, added or deleted, as one message
 * in a batch: the bytes checked by hand. A name that is not an interface name makes the
 * batch invalid. */
static void test_adb_sideload(void **state) {
        static const uint8_t want[] = {
                /* BATCH_BEGIN: len 20, type NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, seq 100 */
                20, 0, 0, 0, 0x10, 0, 0x01, 0, 100, 0, 0, 0, 0, 0, 0, 0,
                /* nfgenmsg: AF_UNSPEC, v0, res_id NFNL_SUBSYS_NFTABLES (network order) */
                0, 0, 0, 10,
                /* NFT_MSG_NEWSETELEM: len 88, type 10 << 8 | 12,
                 * NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE, seq 101 */
                88, 0, 0, 0, 0x0c, 0x0a, 0x05, 0x04, 101, 0, 0, 0, 0, 0, 0, 0,
                /* nfgenmsg: NFPROTO_INET */
                1, 0, 0, 0,
                /* NFTA_SET_ELEM_LIST_TABLE "patchpanel" */
                15, 0, 1, 0, 'p', 'a', 't', 'c', 'h', 'p', 'a', 'n', 'e', 'l', 0, 0,
                /* NFTA_SET_ELEM_LIST_SET "adb_sideload" */
                17, 0, 2, 0, 'a', 'd', 'b', '_', 's', 'i', 'd', 'e', 'l', 'o', 'a', 'd', 0, 0, 0, 0,
                /* NFTA_SET_ELEM_LIST_ELEMENTS { NFTA_LIST_ELEM { NFTA_SET_ELEM_KEY {
                 * NFTA_DATA_VALUE "vmtap3" (16 bytes) } } }, nests flagged NLA_F_NESTED */
                32, 0, 3, 0x80, 28, 0, 1, 0x80, 24, 0, 1, 0x80, 20, 0, 1, 0, K_VMTAP3,
                /* BATCH_END, seq 102 */
                20, 0, 0, 0, 0x11, 0, 0x01, 0, 102, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10,
        };
        uint8_t buf[512];
        size_t n_sent = 0;
        FwBatch b = {};

        (void) state;
        fw_batch_adb_sideload(&b, "vmtap3", true);
        assert_false(b.invalid);
        assert_int_equal(b.n_ops, 1);
        assert_int_equal(fw_batch_to_netlink(&b, NULL, buf, sizeof buf, 100, &n_sent),
                         sizeof want);
        assert_int_equal(n_sent, 1);
        assert_memory_equal(buf, want, sizeof want);

        b = (FwBatch) {};
        fw_batch_adb_sideload(&b, "vmtap3", false);
        assert_false(b.invalid);
        assert_int_equal(fw_batch_to_netlink(&b, NULL, buf, sizeof buf, 100, &n_sent),
                         sizeof want);
        /* NFT_MSG_DELSETELEM, NLM_F_REQUEST | NLM_F_ACK: otherwise the same */
        assert_int_equal(buf[20 + 4], 0x0e);
        assert_int_equal(buf[20 + 6], 0x05);
        assert_int_equal(buf[20 + 7], 0x00);
        assert_memory_equal(buf + 20 + 8, want + 20 + 8, sizeof want - 20 - 8);

        b = (FwBatch) {};
        fw_batch_adb_sideload(&b, "vmtap3\" }; flush ruleset; #", true);
        assert_true(b.invalid);
        assert_int_equal(fw_batch_to_netlink(&b, NULL, buf, sizeof buf, 100, &n_sent), -EINVAL);
        b = (FwBatch) {};
        fw_batch_adb_sideload(&b, "", true);
        assert_true(b.invalid);
        b = (FwBatch) {};
        fw_batch_adb_sideload(&b, "averyveryverylongname", true);
        assert_true(b.invalid);
}

/* A verdict map's element: the jump in NFTA_SET_ELEM_DATA, checked by hand. */
static void test_guest_source_jump_bytes(void **state) {
        static const uint8_t elem[] = {
                /* NFTA_SET_ELEM_LIST_ELEMENTS { NFTA_LIST_ELEM { */
                68, 0, 3, 0x80, 64, 0, 1, 0x80,
                /* NFTA_SET_ELEM_KEY { NFTA_DATA_VALUE "vmtap3" } */
                24, 0, 1, 0x80, 20, 0, 1, 0, K_VMTAP3,
                /* NFTA_SET_ELEM_DATA { NFTA_DATA_VERDICT { NFTA_VERDICT_CODE NFT_JUMP (-3,
                 * network order), NFTA_VERDICT_CHAIN "source_crosvm" } } */
                36, 0, 2, 0x80, 32, 0, 2, 0x80, 8, 0, 1, 0, 0xff, 0xff, 0xff, 0xfd,
                18, 0, 2, 0, 's', 'o', 'u', 'r', 'c', 'e', '_', 'c', 'r', 'o', 's', 'v', 'm', 0,
                0, 0,
        };
        FwGuestSources src = { .v4 = { { ADDR(100, 115, 92, 6), 32 } }, .n_v4 = 1 };
        uint8_t buf[2048];
        size_t n_sent = 0, off;
        ssize_t len;
        FwBatch b = {};

        (void) state;
        fw_batch_guest_add(&b, "vmtap3", guest_mark(TRAFFIC_SOURCE_CROSVM), &src);
        len = fw_batch_to_netlink(&b, NULL, buf, sizeof buf, 1, &n_sent);
        assert_true(len > 0);
        assert_int_equal(n_sent, 4);
        /* The second operation's message: after BATCH_BEGIN (20) and guest_mark's. */
        off = 20 + buf[20];
        assert_int_equal(buf[off + 4], 0x0c);
        /* header 16, nfgenmsg 4, table 16, set "guest_source" (4 + 13, padded to 20) */
        assert_int_equal(buf[off], 16 + 4 + 16 + 20 + sizeof elem);
        assert_memory_equal(buf + off + 16 + 4 + 16 + 20, elem, sizeof elem);
}

/* Every kind of port rule: its set, key and (for a forward) data, field by field in the
 * register layout (protocol 1 byte and port 2 bytes network order, each padded to 4). */
static void test_port_rule_keys(void **state) {
        static const struct {
                const char *what;
                PortRule rule;
                FwSet set;
                uint8_t key[32], key_len, data[8], data_len;
        } cases[] = {
                { "ACCESS on eth0", { .key = { .type = PORT_RULE_ACCESS, .proto = PORT_PROTO_TCP,
                                               .port = 8080, .ifname = "eth0" } },
                  FW_SET_ACCESS,
                  { 'e', 't', 'h', '0', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0x1f, 0x90, 0, 0 },
                  24 },
                { "ACCESS anywhere", { .key = { .type = PORT_RULE_ACCESS, .proto = PORT_PROTO_UDP,
                                                .port = 53 } },
                  FW_SET_ACCESS_ANY, { 17, 0, 0, 0, 0, 53, 0, 0 }, 8 },
                { "LOCKDOWN", { .key = { .type = PORT_RULE_LOCKDOWN, .proto = PORT_PROTO_TCP,
                                         .port = 5555 } },
                  FW_SET_LOCKDOWN, { 6, 0, 0, 0, 0x15, 0xb3, 0, 0 }, 8 },
                { "FORWARDING", { .key = { .type = PORT_RULE_FORWARDING, .proto = PORT_PROTO_TCP,
                                           .port = 80, .ifname = "wlan0" },
                                  .dst_ip = ADDR(100, 115, 92, 130), .dst_port = 8080 },
                  FW_SET_PORT_FWD,
                  { 'w', 'l', 'a', 'n', '0', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 80, 0, 0 },
                  24, { 100, 115, 92, 130, 0x1f, 0x90, 0, 0 }, 8 },
                { "FORWARDING for one address",
                  { .key = { .type = PORT_RULE_FORWARDING, .proto = PORT_PROTO_UDP, .port = 5353,
                             .ifname = "wlan0", .input_dst_ip = ADDR(192, 0, 2, 7) },
                    .dst_ip = ADDR(100, 115, 92, 130), .dst_port = 53 },
                  FW_SET_PORT_FWD_IP,
                  { 'w', 'l', 'a', 'n', '0', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0, 0,
                    192, 0, 2, 7, 0x14, 0xe9, 0, 0 },
                  28, { 100, 115, 92, 130, 0, 53, 0, 0 }, 8 },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                for (int create = 1; create >= 0; create--) {
                        uint8_t buf[512];
                        size_t n_sent;
                        FwBatch b = {};

                        fw_batch_port_rule(&b, &cases[i].rule, create);
                        if (b.invalid || b.n_ops != 1)
                                fail_msg("%s: not one operation", cases[i].what);
                        assert_int_equal(b.ops[0].type, create ? FW_OP_ELEM_ADD : FW_OP_ELEM_DELETE);
                        assert_int_equal(b.ops[0].set, cases[i].set);
                        assert_key(&b.ops[0].elem, cases[i].key, cases[i].key_len);
                        /* A deletion names the key alone. */
                        assert_int_equal(b.ops[0].elem.data_len, create ? cases[i].data_len : 0);
                        assert_memory_equal(b.ops[0].elem.data, cases[i].data, b.ops[0].elem.data_len);
                        assert_true(fw_batch_to_netlink(&b, NULL, buf, sizeof buf, 1, &n_sent) > 0);
                }
        }
}

/* An uplink: its chain made, emptied, given its rule, then three elements; its removal in
 * the order the kernel takes (the jump first, then the chain). */
static void test_uplink_ops(void **state) {
        static const FwOpType add[] = { FW_OP_CHAIN_ADD, FW_OP_CHAIN_FLUSH, FW_OP_RULE_CT_MARK,
                                        FW_OP_ELEM_ADD, FW_OP_ELEM_ADD, FW_OP_ELEM_ADD };
        static const FwOpType del[] = { FW_OP_ELEM_DELETE, FW_OP_CHAIN_FLUSH, FW_OP_CHAIN_DELETE,
                                        FW_OP_ELEM_DELETE, FW_OP_ELEM_DELETE };
        FwBatch b = {};

        (void) state;
        fw_batch_uplink_add(&b, "eth0", 7, 0x12345678);
        assert_false(b.invalid);
        assert_int_equal(b.n_ops, ELEMENTSOF(add));
        for (size_t i = 0; i < ELEMENTSOF(add); i++)
                assert_int_equal(b.ops[i].type, add[i]);
        assert_string_equal(b.ops[0].chain, "uplink_7");
        assert_int_equal(b.ops[2].value, 0x12340000); /* the routing tag alone */
        assert_int_equal(b.ops[3].set, FW_SET_UPLINK_POST);
        assert_string_equal(b.ops[3].elem.jump, "uplink_7");
        assert_int_equal(b.ops[4].set, FW_SET_UPLINKS);
        assert_int_equal(b.ops[5].set, FW_SET_ACCT_UPLINKS);

        b = (FwBatch) {};
        fw_batch_uplink_remove(&b, "eth0", 7);
        assert_int_equal(b.n_ops, ELEMENTSOF(del));
        for (size_t i = 0; i < ELEMENTSOF(del); i++)
                assert_int_equal(b.ops[i].type, del[i]);

        b = (FwBatch) {};
        fw_batch_uplink_add(&b, "eth0", 0, 1);
        assert_true(b.invalid);
}

/* The rule of an uplink's chain, by hand: ct load mark, bitwise, ct set mark. */
static void test_uplink_rule_bytes(void **state) {
        static const uint8_t exprs[] = {
                /* NFTA_RULE_EXPRESSIONS (nests flagged NLA_F_NESTED) */
                136, 0, 4, 0x80,
                /* NFTA_LIST_ELEM { NFTA_EXPR_NAME "ct", NFTA_EXPR_DATA { NFTA_CT_KEY (2)
                 * NFT_CT_MARK (3), NFTA_CT_DREG (1) NFT_REG_1 (1), network order } } */
                32, 0, 1, 0x80, 7, 0, 1, 0, 'c', 't', 0, 0, 20, 0, 2, 0x80,
                8, 0, 2, 0, 0, 0, 0, 3, 8, 0, 1, 0, 0, 0, 0, 1,
                /* NFTA_LIST_ELEM { "bitwise", { SREG 1, DREG 1, LEN 4, MASK { VALUE },
                 * XOR { VALUE } } } */
                68, 0, 1, 0x80, 12, 0, 1, 0, 'b', 'i', 't', 'w', 'i', 's', 'e', 0, 52, 0, 2, 0x80,
                8, 0, 1, 0, 0, 0, 0, 1, 8, 0, 2, 0, 0, 0, 0, 1, 8, 0, 3, 0, 0, 0, 0, 4,
                12, 0, 4, 0x80, 8, 0, 1, 0, 0xff, 0xff, 0x00, 0x00, /* 0x0000ffff, host order */
                12, 0, 5, 0x80, 8, 0, 1, 0, 0x00, 0x00, 0x34, 0x12, /* 0x12340000 */
                /* NFTA_LIST_ELEM { "ct", { NFTA_CT_KEY NFT_CT_MARK, NFTA_CT_SREG (4) 1 } } */
                32, 0, 1, 0x80, 7, 0, 1, 0, 'c', 't', 0, 0, 20, 0, 2, 0x80,
                8, 0, 2, 0, 0, 0, 0, 3, 8, 0, 4, 0, 0, 0, 0, 1,
        };
        uint8_t buf[1024];
        size_t n_sent, off = 20;
        FwBatch b = {};

        (void) state;
        fw_batch_uplink_add(&b, "eth0", 7, 0x12345678);
        assert_true(fw_batch_to_netlink(&b, NULL, buf, sizeof buf, 1, &n_sent) > 0);
        assert_int_equal(n_sent, 6);
        off += buf[off];            /* NEWCHAIN */
        off += buf[off];            /* DELRULE (flush) */
        /* NFT_MSG_NEWRULE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND */
        assert_int_equal(buf[off + 4], 0x06);
        assert_int_equal(buf[off + 6], 0x05);
        assert_int_equal(buf[off + 7], 0x0c);
        /* header, nfgenmsg, table "patchpanel" (16), chain "uplink_7" (4 + 9, padded 16) */
        assert_int_equal(buf[off] | buf[off + 1] << 8, 16 + 4 + 16 + 16 + sizeof exprs);
        assert_memory_equal(buf + off + 16 + 4 + 16 + 16, exprs, sizeof exprs);
}

/* A batch that does not fit the buffer is refused whole. */
static void test_batch_to_netlink_overflow(void **state) {
        uint8_t buf[100];
        size_t n_sent;
        FwBatch b = {};

        (void) state;
        fw_batch_adb_sideload(&b, "vmtap3", true);
        assert_int_equal(fw_batch_to_netlink(&b, NULL, buf, sizeof buf, 1, &n_sent), -ENOBUFS);
}

/* Operations left out (a removal's second round) are not sent; the rest keep their order. */
static void test_batch_to_netlink_skip(void **state) {
        bool skip[FW_BATCH_OPS_MAX] = { [0] = true, [2] = true };
        uint8_t buf[1024];
        size_t n_sent;
        ssize_t len;
        FwBatch b = {};

        (void) state;
        fw_batch_guest_remove(&b, "arc_ns9");
        len = fw_batch_to_netlink(&b, skip, buf, sizeof buf, 1, &n_sent);
        assert_true(len > 0);
        assert_int_equal(n_sent, 1);
        /* BEGIN, guest_source's deletion (seq 2), END (seq 3) */
        assert_int_equal(buf[20 + 8], 2);
        assert_memory_equal(buf + 20 + 16 + 4 + 16 + 4, "guest_source", 13);
        assert_int_equal(buf[20 + buf[20] + 8], 3);
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
                cmocka_unit_test(test_guest_source_jump_bytes),
                cmocka_unit_test(test_port_rule_keys),
                cmocka_unit_test(test_uplink_ops),
                cmocka_unit_test(test_uplink_rule_bytes),
                cmocka_unit_test(test_batch_to_netlink_overflow),
                cmocka_unit_test(test_batch_to_netlink_skip),
                cmocka_unit_test(test_guest_sources_unrecorded),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
