/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reading of a set's elements from an nf_tables dump (helpers/nft-msg.c), as the
 * counters are read: a message laid out by hand, then every malformed variant of it, one
 * case each. Also the key fields' register layout.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "nft-msg.h"

/* NFT_MSG_NEWSETELEM of a dump of patchpanel_acct's tx: two elements keyed
 * ifname . mark . nfproto, one with its counter as NFTA_SET_ELEM_EXPR, one as
 * NFTA_SET_ELEM_EXPRESSIONS (the kernel's form for one expression, and for several). */
static const uint8_t dump_msg[216] = {
        /* 0: nlmsghdr: len 216, type NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWSETELEM,
         * NLM_F_MULTI, seq 7, pid 0 */
        216, 0, 0, 0, 0x0c, 0x0a, 0x02, 0, 7, 0, 0, 0, 0, 0, 0, 0,
        /* 16: nfgenmsg: NFPROTO_INET */
        1, 0, 0, 0,
        /* 20: NFTA_SET_ELEM_LIST_TABLE "patchpanel_acct" */
        20, 0, 1, 0, 'p', 'a', 't', 'c', 'h', 'p', 'a', 'n', 'e', 'l', '_', 'a', 'c', 'c', 't', 0,
        /* 40: NFTA_SET_ELEM_LIST_SET "tx" */
        7, 0, 2, 0, 't', 'x', 0, 0,
        /* 48: NFTA_SET_ELEM_LIST_ELEMENTS */
        168, 0, 3, 0x80,
        /* 52: NFTA_LIST_ELEM */
        80, 0, 1, 0x80,
        /* 56: NFTA_SET_ELEM_KEY { 60: NFTA_DATA_VALUE "eth0" . 0x100 . 2 } */
        32, 0, 1, 0x80, 28, 0, 1, 0,
        'e', 't', 'h', '0', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01, 0, 0, 2, 0, 0, 0,
        /* 88: NFTA_SET_ELEM_EXPR { 92: NFTA_EXPR_NAME "counter" */
        44, 0, 7, 0x80, 12, 0, 1, 0, 'c', 'o', 'u', 'n', 't', 'e', 'r', 0,
        /* 104: NFTA_EXPR_DATA { 108: NFTA_COUNTER_BYTES 1500, 120: NFTA_COUNTER_PACKETS 3 } } */
        28, 0, 2, 0x80, 12, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x05, 0xdc,
        12, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 3,
        /* 132: NFTA_LIST_ELEM */
        84, 0, 1, 0x80,
        /* 136: NFTA_SET_ELEM_KEY { 140: NFTA_DATA_VALUE "eth1" . 0x200 . 10 } */
        32, 0, 1, 0x80, 28, 0, 1, 0,
        'e', 't', 'h', '1', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x02, 0, 0, 10, 0, 0, 0,
        /* 168: NFTA_SET_ELEM_EXPRESSIONS { 172: NFTA_LIST_ELEM { 176: "counter" */
        48, 0, 11, 0x80, 44, 0, 1, 0x80, 12, 0, 1, 0, 'c', 'o', 'u', 'n', 't', 'e', 'r', 0,
        /* 188: NFTA_EXPR_DATA { 192: BYTES 64, 204: PACKETS 1 } } } */
        28, 0, 2, 0x80, 12, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 64,
        12, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1,
};

typedef struct Seen {
        NftElemSeen e[4];
        uint8_t keys[4][NFT_KEY_MAX];
        size_t n;
} Seen;

static int collect(const NftElemSeen *e, void *userdata) {
        Seen *s = userdata;

        if (s->n >= ELEMENTSOF(s->e) || e->key_len > NFT_KEY_MAX)
                return -E2BIG;
        memcpy(s->keys[s->n], e->key, e->key_len);
        s->e[s->n] = *e;
        s->n++;
        return 0;
}

static void test_dump_two_counters(void **state) {
        Seen s = {};

        (void) state;
        assert_int_equal(nft_setelem_msg_parse(dump_msg, sizeof dump_msg, collect, &s), 0);
        assert_int_equal(s.n, 2);
        assert_int_equal(s.e[0].key_len, 24);
        assert_memory_equal(s.keys[0], dump_msg + 64, 24);
        assert_true(s.e[0].has_counter);
        assert_int_equal(s.e[0].bytes, 1500);
        assert_int_equal(s.e[0].packets, 3);
        assert_memory_equal(s.keys[1], dump_msg + 144, 24);
        assert_true(s.e[1].has_counter);
        assert_int_equal(s.e[1].bytes, 64);
        assert_int_equal(s.e[1].packets, 1);
}

/* An expression that is not a counter is passed over: the element has no counter. */
static void test_dump_other_expression(void **state) {
        uint8_t msg[sizeof dump_msg];
        Seen s = {};

        (void) state;
        memcpy(msg, dump_msg, sizeof msg);
        msg[96] = 'x'; /* "xounter" */
        assert_int_equal(nft_setelem_msg_parse(msg, sizeof msg, collect, &s), 0);
        assert_int_equal(s.n, 2);
        assert_false(s.e[0].has_counter);
        assert_true(s.e[1].has_counter);
}

/* The callback's refusal stops the parse and is returned. */
static int refuse(const NftElemSeen *e, void *userdata) {
        (void) e;
        (void) userdata;
        return -ENOMEM;
}

static void test_dump_callback_error(void **state) {
        (void) state;
        assert_int_equal(nft_setelem_msg_parse(dump_msg, sizeof dump_msg, refuse, NULL), -ENOMEM);
}

/* Every malformed variant: one byte changed (or the buffer cut short), refused whole. */
static const struct {
        const char *what;
        size_t len;        /* bytes given (0: all) */
        size_t offset;     /* the byte changed */
        uint8_t value;
} malformed[] = {
        { "shorter than a netlink header", 10, 0, 216 },
        { "nlmsg_len past the buffer", 200, 0, 216 },
        { "nlmsg_len shorter than its nfgenmsg", 0, 0, 18 },
        { "not NFT_MSG_NEWSETELEM", 0, 4, 0x0e },
        { "attribute shorter than its header", 0, 48, 3 },
        { "attribute past the message", 0, 48, 200 },
        { "nested attribute past its nest", 0, 52, 165 },
        { "element without a key", 0, 56 + 2, 6 },
        { "key without a value", 0, 60 + 2, 2 },
        { "counter without its data", 0, 104 + 2, 3 },
        { "counter without packets", 0, 120 + 2, 3 },
        { "counter without bytes", 0, 108 + 2, 3 },
        { "counter's bytes not 8 bytes long", 0, 108, 8 },
        { "second element's counter without packets", 0, 204 + 2, 3 },
        { "empty key", 0, 60, 4 },
};

static void test_dump_malformed(void **state) {
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(malformed); i++) {
                uint8_t msg[sizeof dump_msg];
                size_t len = malformed[i].len ? malformed[i].len : sizeof msg;
                Seen s = {};
                int r;

                memcpy(msg, dump_msg, sizeof msg);
                msg[malformed[i].offset] = malformed[i].value;
                r = nft_setelem_msg_parse(msg, len, collect, &s);
                if (r != -EBADMSG)
                        fail_msg("%s: %d", malformed[i].what, r);
        }
}

/* Key fields in nftables' register layout, each padded to 4 bytes. */
static void test_key_fields(void **state) {
        static const uint8_t ifname[16] = { 'w', 'l', 'a', 'n', '0' };
        static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
        uint8_t k[NFT_KEY_MAX];
        uint32_t mark = 0x12345678;

        (void) state;
        memset(k, 0xaa, sizeof k);
        assert_int_equal(nft_key_ifname(k, "wlan0"), 16);
        assert_memory_equal(k, ifname, 16);
        memset(k, 0xaa, sizeof k);
        assert_int_equal(nft_key_ipv4(k, 0xc0000207), 4);
        assert_memory_equal(k, ((uint8_t[]) { 192, 0, 2, 7 }), 4);
        assert_int_equal(nft_key_u32_host(k, mark), 4);
        assert_memory_equal(k, &mark, 4);
        memset(k, 0xaa, sizeof k);
        assert_int_equal(nft_key_proto(k, 17), 4);
        assert_memory_equal(k, ((uint8_t[]) { 17, 0, 0, 0 }), 4);
        memset(k, 0xaa, sizeof k);
        assert_int_equal(nft_key_port(k, 5353), 4);
        assert_memory_equal(k, ((uint8_t[]) { 0x14, 0xe9, 0, 0 }), 4);
        assert_int_equal(nft_key_ipv6(k, v6), 16);
        assert_memory_equal(k, v6, 16);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dump_two_counters),
                cmocka_unit_test(test_dump_other_expression),
                cmocka_unit_test(test_dump_callback_error),
                cmocka_unit_test(test_dump_malformed),
                cmocka_unit_test(test_key_fields),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
