/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * forwarders/mcast/dns.h: the DNS reader, mDNS validation and the A-record rewrite. Real
 * avahi packets (mcast-captures.h) must pass and rewrite as expected; every malformed
 * variant is a row of its own in bad_cases[] and runs as a test named after it.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "macro.h"
#include "mcast-captures.h"
#include "mcast-test.h"

/* Header: ID 0, FLAGS, QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT. */
#define HDR(flags, qd, an, ns, ar) U16(0), U16(flags), U16(qd), U16(an), U16(ns), U16(ar)
#define QUERY 0x0000
#define RESPONSE 0x8400 /* QR, AA */
/* Question tail: QTYPE, QCLASS. */
#define Q(type, class) U16(type), U16(class)
/* Record fixed part: TYPE, CLASS, TTL, RDLENGTH. */
#define RR(type, class, ttl, rdlen) U16(type), U16(class), U32(ttl), U16(rdlen)
/* A compression pointer to offset off. */
#define PTR(off) (uint8_t) (0xc0 | ((off) >> 8)), (uint8_t) ((off) & 0xff)
/* "a.local" in place: 9 bytes; at offset 12 it is what PTR(12) names, PTR(14) is "local". */
#define NAME_A_LOCAL 1, 'a', 5, 'l', 'o', 'c', 'a', 'l', 0
#define IN 1
#define FLUSH 0x8000
#define TYPE_OPAQUE 0xff00 /* a private-use type: RDATA not interpreted */

typedef struct DnsCase {
        const char *name;
        const uint8_t *msg;
        size_t len;
        McastDrop want;     /* bad_cases: the reason */
} DnsCase;

/* test/fuzz/fuzz-mcast-dns's first crash (artifact crash-d93fa0b2...): a mutated avahi
 * announcement in which "mcap-b.local"'s A record address is the start of a name other
 * records point at; rewriting the address broke that name. */
static const uint8_t fuzz_crash_d93fa0b2[194] = {
        0x00, 0x00, 0x84, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x31, 0x01, 0x31, 0x01, 0x30, 0x01, 0x30, 0x01, 0x30, 0x01, 0x00,
        0x0c, 0x80, 0x01, 0x00, 0x30, 0x01, 0x30, 0x01, 0x30, 0x01, 0x30, 0x01,
        0x30, 0x01, 0x30, 0x01, 0x30, 0x01, 0x30, 0x01, 0x30, 0x11, 0x30, 0x01,
        0x30, 0x01, 0x30, 0x01, 0x30, 0x01, 0x30, 0x01, 0x30, 0x01, 0x61, 0x01,
        0x30, 0x01, 0x30, 0x01, 0x30, 0x01, 0x38, 0x01, 0x62, 0x01, 0x64, 0x01,
        0x30, 0x01, 0x31, 0x01, 0x30, 0x01, 0x30, 0x01, 0x32, 0x03, 0x69, 0x70,
        0x36, 0x01, 0x1c, 0x04, 0x61, 0x72, 0x70, 0x61, 0x00, 0x00, 0x0c, 0x80,
        0x01, 0x00, 0x00, 0x00, 0x78, 0x00, 0x0e, 0x06, 0x6d, 0x63, 0x61, 0x70,
        0x2d, 0x62, 0x05, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x00, 0xc0, 0x60, 0x00,
        0x01, 0x80, 0x01, 0x00, 0x00, 0x00, 0x78, 0x00, 0x04, 0xc0, 0x00, 0x02,
        0x0b, 0x02, 0x31, 0x31, 0x01, 0x32, 0x01, 0x30, 0x03, 0x31, 0x39, 0x32,
        0x07, 0x69, 0x6e, 0x2d, 0x95, 0x64, 0x64, 0x72, 0xc0, 0x50, 0x00, 0x0c,
        0x80, 0x01, 0x00, 0x00, 0x00, 0x78, 0x00, 0x02, 0xc0, 0x60, 0xc0, 0x60,
        0x00, 0x1c, 0x80, 0x01, 0x00, 0x00, 0x00, 0x78, 0x00, 0x10, 0x20, 0x01,
        0x0d, 0xb8, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x11,
};

/* Each row is one way to be malformed; all would otherwise be fine. */
static const DnsCase bad_cases[] = {
        /* header */
        { "header-11-bytes", BYTES(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), MCAST_DROP_DNS_SHORT_HEADER },
        { "header-1-byte", BYTES(0), MCAST_DROP_DNS_SHORT_HEADER },
        { "opcode-2", BYTES(HDR(0x1000, 1, 0, 0, 0), NAME_A_LOCAL, Q(1, IN)),
          MCAST_DROP_DNS_OPCODE },
        { "opcode-15", BYTES(HDR(0x7800, 1, 0, 0, 0), NAME_A_LOCAL, Q(1, IN)),
          MCAST_DROP_DNS_OPCODE },
        { "rcode-nxdomain", BYTES(HDR(RESPONSE | 3, 0, 1, 0, 0), NAME_A_LOCAL,
                                  RR(1, IN, 120, 4), 192, 0, 2, 1), MCAST_DROP_DNS_RCODE },
        { "no-entries", BYTES(HDR(RESPONSE, 0, 0, 0, 0)), MCAST_DROP_DNS_EMPTY },
        { "counts-513", BYTES(HDR(QUERY, 200, 200, 100, 13), NAME_A_LOCAL, Q(1, IN)),
          MCAST_DROP_DNS_TOO_MANY_RECORDS },
        { "counts-65535", BYTES(HDR(QUERY, 0xffff, 0, 0, 0), NAME_A_LOCAL, Q(1, IN)),
          MCAST_DROP_DNS_TOO_MANY_RECORDS },

        /* questions */
        { "question-missing", BYTES(HDR(QUERY, 1, 0, 0, 0)), MCAST_DROP_DNS_NAME_TRUNCATED },
        { "second-question-missing", BYTES(HDR(QUERY, 2, 0, 0, 0), NAME_A_LOCAL, Q(1, IN)),
          MCAST_DROP_DNS_NAME_TRUNCATED },
        { "question-type-cut", BYTES(HDR(QUERY, 1, 0, 0, 0), NAME_A_LOCAL, U16(1)),
          MCAST_DROP_DNS_TRUNCATED },
        { "question-class-cut", BYTES(HDR(QUERY, 1, 0, 0, 0), NAME_A_LOCAL, U16(1), 0),
          MCAST_DROP_DNS_TRUNCATED },

        /* names */
        { "label-past-end", BYTES(HDR(QUERY, 1, 0, 0, 0), 5, 'l', 'o'),
          MCAST_DROP_DNS_NAME_TRUNCATED },
        { "name-without-root", BYTES(HDR(QUERY, 1, 0, 0, 0), 1, 'a'),
          MCAST_DROP_DNS_NAME_TRUNCATED },
        { "label-type-0x40", BYTES(HDR(QUERY, 1, 0, 0, 0), 0x41, 'a', 0, Q(1, IN)),
          MCAST_DROP_DNS_LABEL_TYPE },
        { "label-type-0x80", BYTES(HDR(QUERY, 1, 0, 0, 0), 0x81, 'a', 0, Q(1, IN)),
          MCAST_DROP_DNS_LABEL_TYPE },
        { "label-type-after-label", BYTES(HDR(QUERY, 1, 0, 0, 0), 1, 'a', 0x7f, 0, Q(1, IN)),
          MCAST_DROP_DNS_LABEL_TYPE },
        { "pointer-cut", BYTES(HDR(QUERY, 1, 0, 0, 0), 0xc0), MCAST_DROP_DNS_NAME_TRUNCATED },
        { "pointer-after-label-cut", BYTES(HDR(QUERY, 1, 0, 0, 0), 1, 'a', 0xc0),
          MCAST_DROP_DNS_NAME_TRUNCATED },
        /* a pointer must name an earlier offset: forward, to itself, to its own labels */
        { "pointer-forward", BYTES(HDR(QUERY, 1, 0, 0, 0), PTR(18), Q(1, IN), NAME_A_LOCAL),
          MCAST_DROP_DNS_POINTER_FORWARD },
        { "pointer-to-itself", BYTES(HDR(QUERY, 1, 0, 0, 0), PTR(12), Q(1, IN)),
          MCAST_DROP_DNS_POINTER_FORWARD },
        { "pointer-to-own-label", BYTES(HDR(QUERY, 1, 0, 0, 0), 1, 'a', PTR(12), Q(1, IN)),
          MCAST_DROP_DNS_POINTER_FORWARD },
        { "pointer-forward-in-second-name",
          BYTES(HDR(QUERY, 2, 0, 0, 0), NAME_A_LOCAL, Q(1, IN), 1, 'b', PTR(30), Q(1, IN)),
          MCAST_DROP_DNS_POINTER_FORWARD },
        /* RR1 (a.local at 12) has opaque RDATA at 31 holding PTR(33); RR2's name at 33 is
         * PTR(31): backwards, but what it reaches points back at 33 - a loop, refused
         * because opaque RDATA holds no name a pointer may land on. */
        { "pointer-loop-through-rdata",
          BYTES(HDR(RESPONSE, 0, 2, 0, 0), NAME_A_LOCAL, RR(TYPE_OPAQUE, IN, 120, 2), PTR(33),
                PTR(31), RR(1, IN, 120, 4), 192, 0, 2, 1),
          MCAST_DROP_DNS_POINTER_NOT_NAME },
        /* the same loop hidden in a name: the forward pointer is refused where it is read */
        { "pointer-loop-through-ptr-rdata",
          BYTES(HDR(RESPONSE, 0, 2, 0, 0), NAME_A_LOCAL, RR(12, IN, 120, 2), PTR(33),
                PTR(31), RR(1, IN, 120, 4), 192, 0, 2, 1),
          MCAST_DROP_DNS_POINTER_FORWARD },
        /* Found by fuzz-mcast-dns: a name pointing into an A record's address. The address
         * 1.120.0.0 reads as the name "x"; rewritten to 198.51.100.1 its first byte 0xc6
         * would turn the name into a forward pointer. */
        { "pointer-into-a-rdata",
          BYTES(HDR(RESPONSE, 0, 2, 0, 0), NAME_A_LOCAL, RR(1, IN, 120, 4), 1, 'x', 0, 0,
                PTR(31), RR(TYPE_OPAQUE, IN, 120, 0)),
          MCAST_DROP_DNS_POINTER_NOT_NAME },
        { "pointer-into-ttl", /* RR1's TTL (offset 25) is 0: the root name, if it were one */
          BYTES(HDR(RESPONSE, 0, 2, 0, 0), NAME_A_LOCAL, RR(1, IN, 0, 4), 192, 0, 2, 1,
                PTR(25), RR(TYPE_OPAQUE, IN, 120, 0)),
          MCAST_DROP_DNS_POINTER_NOT_NAME },
        { "pointer-into-opaque-rdata",
          BYTES(HDR(RESPONSE, 0, 2, 0, 0), NAME_A_LOCAL, RR(TYPE_OPAQUE, IN, 120, 3), 1, 'x',
                0, PTR(31), RR(TYPE_OPAQUE, IN, 120, 0)),
          MCAST_DROP_DNS_POINTER_NOT_NAME },
        { "pointer-into-label-text", /* offset 13 is the 'a' of "a.local" */
          BYTES(HDR(QUERY, 2, 0, 0, 0), NAME_A_LOCAL, Q(1, IN), PTR(13), Q(1, IN)),
          MCAST_DROP_DNS_POINTER_NOT_NAME },
        { "pointer-into-question-type", /* offset 21 is a.local's QTYPE */
          BYTES(HDR(QUERY, 2, 0, 0, 0), NAME_A_LOCAL, Q(1, IN), PTR(21), Q(1, IN)),
          MCAST_DROP_DNS_POINTER_NOT_NAME },
        { "fuzz-crash-d93fa0b2", .msg = fuzz_crash_d93fa0b2, .len = sizeof fuzz_crash_d93fa0b2,
          MCAST_DROP_DNS_POINTER_NOT_NAME },
        { "pointer-into-header", BYTES(HDR(QUERY, 2, 0, 0, 0), NAME_A_LOCAL, Q(1, IN),
                                       PTR(4), Q(1, IN)),
          MCAST_DROP_DNS_POINTER_HEADER },
        { "pointer-to-offset-0", BYTES(HDR(QUERY, 2, 0, 0, 0), NAME_A_LOCAL, Q(1, IN),
                                       PTR(0), Q(1, IN)),
          MCAST_DROP_DNS_POINTER_HEADER },
        { "pointer-to-offset-11", BYTES(HDR(QUERY, 2, 0, 0, 0), NAME_A_LOCAL, Q(1, IN),
                                        PTR(11), Q(1, IN)),
          MCAST_DROP_DNS_POINTER_HEADER },
        { "pointer-beyond-message", BYTES(HDR(QUERY, 1, 0, 0, 0), PTR(0x3fff), Q(1, IN)),
          MCAST_DROP_DNS_POINTER_FORWARD },

        /* records */
        { "record-fixed-part-cut", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL, U16(1), U16(1)),
          MCAST_DROP_DNS_TRUNCATED },
        { "record-rdlength-cut", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL, U16(1), U16(1),
                                       U32(120), 0),
          MCAST_DROP_DNS_TRUNCATED },
        { "rdata-past-end", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL, RR(1, IN, 120, 4),
                                  192, 0, 2),
          MCAST_DROP_DNS_RDATA_TRUNCATED },
        { "rdata-65535-past-end", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                        RR(TYPE_OPAQUE, IN, 120, 0xffff), 1),
          MCAST_DROP_DNS_RDATA_TRUNCATED },
        { "authority-missing", BYTES(HDR(QUERY, 1, 0, 1, 0), NAME_A_LOCAL, Q(255, IN)),
          MCAST_DROP_DNS_NAME_TRUNCATED },
        { "additional-missing", BYTES(HDR(RESPONSE, 0, 1, 0, 1), NAME_A_LOCAL,
                                      RR(1, IN, 120, 4), 192, 0, 2, 1),
          MCAST_DROP_DNS_NAME_TRUNCATED },
        { "a-rdlength-3", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL, RR(1, IN, 120, 3),
                                192, 0, 2),
          MCAST_DROP_DNS_RDATA_LENGTH },
        { "a-rdlength-5", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL, RR(1, IN, 120, 5),
                                192, 0, 2, 1, 0),
          MCAST_DROP_DNS_RDATA_LENGTH },
        { "a-rdlength-0", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL, RR(1, IN, 120, 0)),
          MCAST_DROP_DNS_RDATA_LENGTH },
        { "aaaa-rdlength-4", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL, RR(28, IN, 120, 4),
                                   192, 0, 2, 1),
          MCAST_DROP_DNS_RDATA_LENGTH },
        { "ptr-empty-rdata", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL, RR(12, IN, 120, 0)),
          MCAST_DROP_DNS_RDATA_MALFORMED },
        { "ptr-name-short-of-rdata", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                           RR(12, IN, 120, 3), PTR(12), 0),
          MCAST_DROP_DNS_RDATA_MALFORMED },
        { "ptr-name-beyond-rdata", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                         RR(12, IN, 120, 2), 1, 'b', 0),
          MCAST_DROP_DNS_RDATA_MALFORMED },
        { "ptr-name-past-end", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                     RR(12, IN, 120, 2), 3, 'b'),
          MCAST_DROP_DNS_NAME_TRUNCATED },
        { "ptr-rdata-pointer-into-header", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                                 RR(12, IN, 120, 2), PTR(2)),
          MCAST_DROP_DNS_POINTER_HEADER },
        { "ptr-rdata-pointer-forward", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                             RR(12, IN, 120, 2), PTR(40)),
          MCAST_DROP_DNS_POINTER_FORWARD },
        { "cname-label-type", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                    RR(5, IN, 120, 3), 0x41, 'x', 0),
          MCAST_DROP_DNS_LABEL_TYPE },
        { "srv-rdlength-6", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL, RR(33, IN, 120, 6),
                                  U16(0), U16(0), U16(631)),
          MCAST_DROP_DNS_RDATA_LENGTH },
        { "srv-target-short-of-rdata", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                             RR(33, IN, 120, 9), U16(0), U16(0), U16(631), 0,
                                             0, 0),
          MCAST_DROP_DNS_RDATA_MALFORMED },
        { "mx-rdlength-2", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL, RR(15, IN, 120, 2),
                                 U16(10)),
          MCAST_DROP_DNS_RDATA_LENGTH },
        { "txt-string-overrun", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                      RR(16, IN, 120, 3), 5, 'a', 'b'),
          MCAST_DROP_DNS_RDATA_MALFORMED },
        { "txt-second-string-overrun", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                             RR(16, IN, 120, 4), 1, 'a', 2, 'b'),
          MCAST_DROP_DNS_RDATA_MALFORMED },
        { "hinfo-one-string", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                    RR(13, IN, 120, 4), 3, 'x', '8', '6'),
          MCAST_DROP_DNS_RDATA_MALFORMED },
        { "hinfo-three-strings", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                       RR(13, IN, 120, 3), 0, 0, 0),
          MCAST_DROP_DNS_RDATA_MALFORMED },
        { "nsec-windows-out-of-order", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                             RR(47, IN | FLUSH, 120, 8), PTR(12), 0, 1, 0x40,
                                             0, 1, 0x40),
          MCAST_DROP_DNS_RDATA_MALFORMED },
        { "nsec-bitmap-length-0", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                        RR(47, IN | FLUSH, 120, 4), PTR(12), 0, 0),
          MCAST_DROP_DNS_RDATA_MALFORMED },
        { "nsec-bitmap-length-33", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                         RR(47, IN | FLUSH, 120, 4), PTR(12), 0, 33),
          MCAST_DROP_DNS_RDATA_MALFORMED },
        { "nsec-bitmap-cut", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                   RR(47, IN | FLUSH, 120, 5), PTR(12), 0, 4, 0x40),
          MCAST_DROP_DNS_RDATA_MALFORMED },
        { "nsec-window-without-length", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                              RR(47, IN | FLUSH, 120, 3), PTR(12), 0),
          MCAST_DROP_DNS_RDATA_MALFORMED },
        { "soa-19-byte-tail", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                    RR(6, IN, 120, 23), PTR(12), PTR(12), U32(1), U32(2), U32(3),
                                    U32(4), 0, 0, 0),
          MCAST_DROP_DNS_RDATA_LENGTH },
        { "afsdb-rdlength-2", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                    RR(18, IN, 120, 2), U16(1)),
          MCAST_DROP_DNS_RDATA_LENGTH },
        { "px-rdlength-2", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL, RR(26, IN, 120, 2),
                                 U16(1)),
          MCAST_DROP_DNS_RDATA_LENGTH },
        { "rp-one-name", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL, RR(17, IN, 120, 2),
                               PTR(12)),
          MCAST_DROP_DNS_RDATA_MALFORMED },
        { "rp-three-names", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL, RR(17, IN, 120, 6),
                                  PTR(12), PTR(12), PTR(12)),
          MCAST_DROP_DNS_RDATA_MALFORMED },
        { "soa-second-name-missing", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                           RR(6, IN, 120, 2), PTR(12)),
          MCAST_DROP_DNS_RDATA_MALFORMED },
        { "trailing-byte", BYTES(HDR(QUERY, 1, 0, 0, 0), NAME_A_LOCAL, Q(1, IN), 0),
          MCAST_DROP_DNS_TRAILING_BYTES },
        { "trailing-record", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL, RR(1, IN, 120, 4),
                                   192, 0, 2, 1, PTR(12), RR(1, IN, 120, 4), 192, 0, 2, 2),
          MCAST_DROP_DNS_TRAILING_BYTES },
};

static void test_bad_case(void **state) {
        const DnsCase *c = *state;
        McastDrop reason = _MCAST_DROP_INVALID;
        uint8_t copy[512];
        int r;

        r = mdns_validate(c->msg, c->len, NULL, &reason);
        assert_int_equal(r, -EBADMSG);
        assert_string_equal(mcast_drop_to_string(reason), mcast_drop_to_string(c->want));

        /* The rewrite refuses it for the same reason and leaves every byte alone. */
        assert_true(c->len <= sizeof copy);
        memcpy(copy, c->msg, c->len);
        reason = _MCAST_DROP_INVALID;
        r = mdns_rewrite_a(copy, c->len, 0xc0000201, 0xc6336401, &reason);
        assert_int_equal(r, -EBADMSG);
        assert_int_equal(reason, c->want);
        assert_memory_equal(copy, c->msg, c->len);
}

typedef struct GoodCase {
        const char *name;
        const uint8_t *msg;
        size_t len;
        bool is_query;
        unsigned n_records;
        unsigned n_a;
} GoodCase;

static const GoodCase good_cases[] = {
        { "query-a", BYTES(HDR(QUERY, 1, 0, 0, 0), NAME_A_LOCAL, Q(1, IN)), true, 0, 0 },
        { "query-qu-any", BYTES(HDR(QUERY, 1, 0, 0, 0), NAME_A_LOCAL, Q(255, IN | FLUSH)),
          true, 0, 0 },
        { "query-root-name", BYTES(HDR(QUERY, 1, 0, 0, 0), 0, Q(1, IN)), true, 0, 0 },
        { "query-truncated-known-answers", BYTES(HDR(0x0200, 1, 1, 0, 0), NAME_A_LOCAL,
                                                 Q(12, IN), PTR(12), RR(12, IN, 4500, 2),
                                                 PTR(12)),
          true, 1, 0 },
        /* www.a.local as "www" + PTR(12), and "local" alone as PTR(14), a suffix */
        { "response-compressed-names",
          BYTES(HDR(RESPONSE, 0, 3, 0, 0), NAME_A_LOCAL, RR(1, IN | FLUSH, 120, 4), 192, 0, 2, 5,
                3, 'w', 'w', 'w', PTR(12), RR(1, IN | FLUSH, 120, 4), 192, 0, 2, 6,
                PTR(14), RR(TYPE_OPAQUE, IN, 120, 0)),
          false, 3, 2 },
        { "ptr-compressed-target", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                         RR(12, IN, 4500, 7), 4, 'h', 'o', 's', 't', PTR(12)),
          false, 1, 0 },
        { "ptr-pointer-to-own-owner", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                            RR(12, IN, 4500, 2), PTR(12)),
          false, 1, 0 },
        { "srv", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL, RR(33, IN | FLUSH, 120, 8),
                       U16(0), U16(0), U16(631), PTR(12)),
          false, 1, 0 },
        { "mx", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL, RR(15, IN, 120, 4), U16(10),
                      PTR(12)),
          false, 1, 0 },
        { "soa", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL, RR(6, IN, 120, 24), PTR(12),
                       PTR(14), U32(1), U32(2), U32(3), U32(4), U32(5)),
          false, 1, 0 },
        { "txt-empty", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL, RR(16, IN, 4500, 0)),
          false, 1, 0 },
        { "txt-one-empty-string", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                        RR(16, IN, 4500, 1), 0),
          false, 1, 0 },
        { "txt-two-strings", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                   RR(16, IN, 4500, 5), 2, 'a', '=', 1, 'b'),
          false, 1, 0 },
        { "hinfo", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL, RR(13, IN, 120, 6), 3, 'x',
                         '8', '6', 1, 'L'),
          false, 1, 0 },
        /* RFC 6762 §6.1: NSEC naming the record itself, bitmap A and AAAA */
        { "nsec", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL, RR(47, IN | FLUSH, 120, 8),
                        PTR(12), 0, 4, 0x40, 0, 0, 0x08),
          false, 1, 0 },
        { "nsec-two-windows", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                    RR(47, IN | FLUSH, 120, 8), PTR(12), 0, 1, 0x40, 1, 1, 0x80),
          false, 1, 0 },
        { "nsec-no-bitmap", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                  RR(47, IN | FLUSH, 120, 2), PTR(12)),
          false, 1, 0 },
        { "opaque-type-any-bytes", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                         RR(TYPE_OPAQUE, IN, 120, 3), 0xc0, 0x00, 0xff),
          false, 1, 0 },
        { "a-class-chaos-not-counted", BYTES(HDR(RESPONSE, 0, 1, 0, 0), NAME_A_LOCAL,
                                             RR(1, 3, 120, 4), 192, 0, 2, 1),
          false, 1, 0 },
        /* pointers may land on names inside RDATA: the PTR's "host.a.local" at 31 */
        { "pointer-into-ptr-rdata-name",
          BYTES(HDR(RESPONSE, 0, 2, 0, 0), NAME_A_LOCAL, RR(12, IN, 4500, 7), 4, 'h', 'o', 's',
                't', PTR(12), PTR(31), RR(1, IN, 120, 4), 192, 0, 2, 7),
          false, 2, 1 },
        { "pointer-to-pointer", /* a name that is only a pointer, pointed at */
          BYTES(HDR(RESPONSE, 0, 3, 0, 0), NAME_A_LOCAL, RR(TYPE_OPAQUE, IN, 120, 0),
                PTR(12), RR(TYPE_OPAQUE, IN, 120, 0), PTR(31), RR(TYPE_OPAQUE, IN, 120, 0)),
          false, 3, 0 },
        { "rp-afsdb-rt-kx-px",
          BYTES(HDR(RESPONSE, 0, 5, 0, 0), NAME_A_LOCAL, RR(17, IN, 120, 4), PTR(12), PTR(14),
                PTR(12), RR(18, IN, 120, 4), U16(1), PTR(12),
                PTR(12), RR(21, IN, 120, 4), U16(1), PTR(12),
                PTR(12), RR(36, IN, 120, 4), U16(1), PTR(12),
                PTR(12), RR(26, IN, 120, 6), U16(1), PTR(12), PTR(14)),
          false, 5, 0 },
        { "probe-authority", BYTES(HDR(QUERY, 1, 0, 1, 0), NAME_A_LOCAL, Q(255, IN), PTR(12),
                                   RR(1, IN, 120, 4), 192, 0, 2, 1),
          true, 1, 1 },
        { "all-sections", BYTES(HDR(RESPONSE, 1, 1, 1, 1), NAME_A_LOCAL, Q(1, IN), PTR(12),
                                RR(1, IN, 120, 4), 192, 0, 2, 1, PTR(12), RR(1, IN, 120, 4),
                                192, 0, 2, 2, PTR(12), RR(1, IN, 120, 4), 192, 0, 2, 3),
          false, 3, 3 },
        { "capture-probe-v4", .msg = cap_mdns_probe_v4, .len = sizeof cap_mdns_probe_v4,
          true, 4, 1 },
        { "capture-host-v4", .msg = cap_mdns_host_v4, .len = sizeof cap_mdns_host_v4, false, 4, 1 },
        { "capture-announce-v4", .msg = cap_mdns_announce_v4, .len = sizeof cap_mdns_announce_v4,
          false, 6, 1 },
        { "capture-goodbye-v4", .msg = cap_mdns_goodbye_v4, .len = sizeof cap_mdns_goodbye_v4,
          false, 6, 1 },
        { "capture-announce-v6", .msg = cap_mdns_announce_v6, .len = sizeof cap_mdns_announce_v6,
          false, 5, 0 },
        { "capture-browse-v6", .msg = cap_mdns_browse_v6, .len = sizeof cap_mdns_browse_v6,
          true, 1, 0 },
        { "capture-legacy-query-v4", .msg = cap_mdns_legacy_query_v4,
          .len = sizeof cap_mdns_legacy_query_v4, true, 0, 0 },
        { "capture-legacy-answer-v4", .msg = cap_mdns_legacy_answer_v4,
          .len = sizeof cap_mdns_legacy_answer_v4, false, 5, 1 },
        { "capture-service-v4", .msg = cap_mdns_service_v4, .len = sizeof cap_mdns_service_v4,
          false, 6, 1 },
};

static void test_good_case(void **state) {
        const GoodCase *c = *state;
        McastDrop reason = _MCAST_DROP_INVALID;
        MdnsInfo info;
        int r;

        r = mdns_validate(c->msg, c->len, &info, &reason);
        if (r < 0)
                fail_msg("%s refused: %s", c->name, mcast_drop_to_string(reason));
        assert_int_equal(info.is_query, c->is_query);
        assert_int_equal(info.n_records, c->n_records);
        assert_int_equal(info.n_a, c->n_a);
        /* No message ending early passes either. */
        for (size_t n = 0; n < c->len; n++)
                assert_int_equal(mdns_validate(c->msg, n, NULL, NULL), -EBADMSG);
}

/* A message of exactly @len bytes: a query whose one known answer has opaque RDATA. */
static size_t build_sized(uint8_t *buf, size_t len) {
        const uint8_t head[] = { HDR(QUERY, 0, 1, 0, 0), 0,
                                 RR(TYPE_OPAQUE, IN, 0, len - DNS_HEADER_SIZE - 11) };

        memset(buf, 0xab, len);
        memcpy(buf, head, sizeof head);
        return len;
}

static void test_message_size_limit(void **state) {
        static uint8_t buf[DNS_MESSAGE_MAX + 1];
        McastDrop reason;

        (void) state;
        assert_int_equal(mdns_validate(buf, build_sized(buf, DNS_MESSAGE_MAX), NULL, &reason), 0);
        assert_int_equal(mdns_validate(buf, build_sized(buf, DNS_MESSAGE_MAX + 1), NULL, &reason),
                         -EBADMSG);
        assert_int_equal(reason, MCAST_DROP_DNS_TOO_LONG);
}

/* A question whose name has labels of the given lengths. */
static size_t build_name(uint8_t *buf, const unsigned *labels, size_t n) {
        const uint8_t head[] = { HDR(QUERY, 1, 0, 0, 0) };
        size_t off = sizeof head;

        memcpy(buf, head, sizeof head);
        for (size_t i = 0; i < n; i++) {
                buf[off++] = (uint8_t) labels[i];
                memset(buf + off, 'x', labels[i]);
                off += labels[i];
        }
        buf[off++] = 0;
        buf[off++] = 0;
        buf[off++] = 1;
        buf[off++] = 0;
        buf[off++] = 1;
        return off;
}

static void test_name_length_limit(void **state) {
        const unsigned at_limit[] = { 63, 63, 63, 61 };   /* 3 * 64 + 62 + 1 = 255 */
        const unsigned over[] = { 63, 63, 63, 62 };       /* 256 */
        const unsigned small_many[] = { [0 ... 126] = 1 }; /* 127 * 2 + 1 = 255 */
        const unsigned small_over[] = { [0 ... 127] = 1 }; /* 257 */
        uint8_t buf[512];
        McastDrop reason;

        (void) state;
        assert_int_equal(mdns_validate(buf, build_name(buf, at_limit, 4), NULL, &reason), 0);
        assert_int_equal(mdns_validate(buf, build_name(buf, over, 4), NULL, &reason), -EBADMSG);
        assert_int_equal(reason, MCAST_DROP_DNS_NAME_TOO_LONG);
        assert_int_equal(mdns_validate(buf, build_name(buf, small_many, 127), NULL, &reason), 0);
        assert_int_equal(mdns_validate(buf, build_name(buf, small_over, 128), NULL, &reason),
                         -EBADMSG);
        assert_int_equal(reason, MCAST_DROP_DNS_NAME_TOO_LONG);
}

/* Too long only once a pointer is followed: a.local-like 193 octets at 12 (three labels of
 * 63), then a second question of one label of @second octets + PTR(12). */
static size_t build_two_names(uint8_t *buf, unsigned second) {
        const unsigned first[] = { 63, 63, 63 };
        size_t len = build_name(buf, first, 3);

        buf[5] = 2; /* QDCOUNT */
        buf[len++] = (uint8_t) second;
        memset(buf + len, 'y', second);
        len += second;
        buf[len++] = 0xc0;
        buf[len++] = 12;
        buf[len++] = 0;
        buf[len++] = 1;
        buf[len++] = 0;
        buf[len++] = 1;
        return len;
}

static void test_name_too_long_through_pointer(void **state) {
        uint8_t buf[512];
        McastDrop reason;

        (void) state;
        /* 1 + 61 + 193 = 255 */
        assert_int_equal(mdns_validate(buf, build_two_names(buf, 61), NULL, &reason), 0);
        /* 1 + 62 + 193 = 256 */
        assert_int_equal(mdns_validate(buf, build_two_names(buf, 62), NULL, &reason), -EBADMSG);
        assert_int_equal(reason, MCAST_DROP_DNS_NAME_TOO_LONG);
}

/*
 * @n + 1 records: the first owned by the root name at 12, each next one's owner name a
 * pointer to the previous one's, so the last name takes @n pointers to read.
 */
static size_t build_chain(uint8_t *buf, unsigned n) {
        const uint8_t head[] = { HDR(RESPONSE, 0, n + 1, 0, 0), 0 };
        const uint8_t fixed[] = { RR(TYPE_OPAQUE, IN, 120, 0) };
        size_t off = sizeof head, name = DNS_HEADER_SIZE;

        memcpy(buf, head, sizeof head);
        memcpy(buf + off, fixed, sizeof fixed);
        off += sizeof fixed;
        for (unsigned i = 0; i < n; i++) {
                size_t here = off;

                buf[off++] = (uint8_t) (0xc0 | name >> 8);
                buf[off++] = (uint8_t) name;
                memcpy(buf + off, fixed, sizeof fixed);
                off += sizeof fixed;
                name = here;
        }
        return off;
}

static void test_pointer_chain_limit(void **state) {
        uint8_t buf[4096];
        McastDrop reason;

        (void) state;
        assert_int_equal(mdns_validate(buf, build_chain(buf, DNS_POINTERS_MAX), NULL, &reason),
                         0);
        assert_int_equal(mdns_validate(buf, build_chain(buf, DNS_POINTERS_MAX + 1), NULL,
                                       &reason), -EBADMSG);
        assert_int_equal(reason, MCAST_DROP_DNS_POINTER_CHAIN);
}

static void test_reader_walks_sections(void **state) {
        const DnsSection want_section[] = { DNS_SECTION_QUESTION, DNS_SECTION_ANSWER,
                                            DNS_SECTION_ANSWER, DNS_SECTION_ANSWER,
                                            DNS_SECTION_ANSWER, DNS_SECTION_ANSWER };
        const uint16_t want_type[] = { DNS_TYPE_PTR, DNS_TYPE_PTR, DNS_TYPE_TXT, DNS_TYPE_SRV,
                                       DNS_TYPE_AAAA, DNS_TYPE_A };
        const char *want_name[] = { "_http._tcp.local", "_http._tcp.local",
                                    "tb-web._http._tcp.local", "tb-web._http._tcp.local",
                                    "mcap-a.local", "mcap-a.local" };
        const uint8_t *m = cap_mdns_legacy_answer_v4;
        char name[DNS_NAME_STRLEN];
        DnsReader r;
        DnsRecord rr;
        unsigned i = 0;
        int k;

        (void) state;
        assert_int_equal(dns_reader_init(&r, m, sizeof cap_mdns_legacy_answer_v4, NULL), 0);
        assert_int_equal(r.header.qdcount, 1);
        assert_int_equal(r.header.ancount, 5);
        while ((k = dns_reader_next(&r, &rr, NULL)) > 0) {
                assert_true(i < ELEMENTSOF(want_type));
                assert_int_equal(rr.section, want_section[i]);
                assert_int_equal(rr.type, want_type[i]);
                assert_true(dns_name_to_string(m, sizeof cap_mdns_legacy_answer_v4,
                                               rr.name_offset, name, sizeof name) > 0);
                assert_string_equal(name, want_name[i]);
                if (rr.section != DNS_SECTION_QUESTION)
                        assert_int_equal(rr.ttl, 10); /* RFC 6762 §6.7: legacy answers */
                if (rr.type == DNS_TYPE_A)
                        assert_memory_equal(m + rr.rdata_offset, ((uint8_t[]) { 192, 0, 2, 10 }),
                                            4);
                i++;
        }
        assert_int_equal(k, 0);
        assert_int_equal(i, 6);
        /* At the end it stays at the end. */
        assert_int_equal(dns_reader_next(&r, &rr, NULL), 0);
        assert_string_equal(dns_section_to_string(DNS_SECTION_ADDITIONAL), "additional");
        assert_null(dns_section_to_string(_DNS_SECTION_MAX));
}

static void test_name_to_string(void **state) {
        /* "a.b" as one label, a space, a NUL and 0xff in another, then the root */
        const uint8_t m[] = { HDR(QUERY, 3, 0, 0, 0), 3, 'a', '.', 'b', 4, ' ', 0, 0xff, 'Z',
                              0, Q(1, IN), 0, Q(1, IN), PTR(0), Q(1, IN) };
        char buf[DNS_NAME_STRLEN], small[5];

        (void) state;
        assert_int_equal(dns_name_to_string(m, sizeof m, 12, buf, sizeof buf),
                         (int) strlen("a\\046b.\\032\\000\\255Z"));
        assert_string_equal(buf, "a\\046b.\\032\\000\\255Z");
        assert_int_equal(dns_name_to_string(m, sizeof m, 26, buf, sizeof buf), 1);
        assert_string_equal(buf, ".");
        assert_int_equal(dns_name_to_string(m, sizeof m, 12, small, sizeof small), -ENOBUFS);
        assert_string_equal(small, "a");  /* cut before the escape that does not fit */
        assert_int_equal(dns_name_to_string(m, sizeof m, 31, buf, sizeof buf), -EBADMSG);
        assert_string_equal(buf, "");
        assert_int_equal(dns_name_to_string(m, sizeof m, 12, buf, 0), -ENOBUFS);
}

/* ---- the A-record rewrite ---- */

#define GUEST 0xc000020bu   /* 192.0.2.11, mcap-b in the captures */
#define UPLINK 0xc6336401u  /* 198.51.100.1 */

/* Bytes that differ between a and b, with the first difference in *first. */
static size_t diff(const uint8_t *a, const uint8_t *b, size_t len, size_t *first) {
        size_t n = 0;

        for (size_t i = 0; i < len; i++)
                if (a[i] != b[i]) {
                        if (n == 0)
                                *first = i;
                        n++;
                }
        return n;
}

/* Rewrite a capture and check that exactly the A RDATA changed, and still validates. */
static void check_capture_rewrite(const uint8_t *cap, size_t len, uint32_t from,
                                  int want_count) {
        uint8_t *m = malloc(len);
        DnsReader r;
        DnsRecord rr;
        size_t first = 0, changed;
        unsigned a_seen = 0;

        assert_non_null(m);
        memcpy(m, cap, len);
        assert_int_equal(mdns_rewrite_a(m, len, from, UPLINK, NULL), want_count);
        changed = diff(cap, m, len, &first);
        assert_true(changed <= 4 * (size_t) want_count);
        assert_int_equal(mdns_validate(m, len, NULL, NULL), 0);

        assert_int_equal(dns_reader_init(&r, m, len, NULL), 0);
        while (dns_reader_next(&r, &rr, NULL) > 0) {
                if (rr.type == DNS_TYPE_A && rr.section != DNS_SECTION_QUESTION) {
                        const uint8_t up[4] = { 198, 51, 100, 1 };
                        bool was = memcmp(cap + rr.rdata_offset,
                                          ((uint8_t[]) { (uint8_t) (from >> 24),
                                                         (uint8_t) (from >> 16),
                                                         (uint8_t) (from >> 8),
                                                         (uint8_t) from }), 4) == 0;

                        if (want_count > 0 && was)
                                assert_memory_equal(m + rr.rdata_offset, up, 4);
                        else
                                assert_memory_equal(m + rr.rdata_offset,
                                                    cap + rr.rdata_offset, 4);
                        a_seen++;
                } else
                        /* every other record's RDATA is untouched, AAAA included */
                        assert_memory_equal(m + rr.rdata_offset, cap + rr.rdata_offset,
                                            rr.rdlength);
        }
        assert_true(a_seen > 0 || want_count == 0);
        free(m);
}

static void test_rewrite_captured_announcement(void **state) {
        (void) state;
        check_capture_rewrite(cap_mdns_announce_v4, sizeof cap_mdns_announce_v4, GUEST, 1);
        check_capture_rewrite(cap_mdns_host_v4, sizeof cap_mdns_host_v4, GUEST, 1);
        check_capture_rewrite(cap_mdns_goodbye_v4, sizeof cap_mdns_goodbye_v4, GUEST, 1);
        /* mcap-a's answers name 192.0.2.10 */
        check_capture_rewrite(cap_mdns_service_v4, sizeof cap_mdns_service_v4, 0xc000020a, 1);
        check_capture_rewrite(cap_mdns_legacy_answer_v4, sizeof cap_mdns_legacy_answer_v4,
                              0xc000020a, 1);
}

static void test_rewrite_leaves_other_addresses(void **state) {
        (void) state;
        /* the guest is someone else: mcap-b's records stay */
        check_capture_rewrite(cap_mdns_announce_v4, sizeof cap_mdns_announce_v4, 0xc0000263, 0);
        check_capture_rewrite(cap_mdns_service_v4, sizeof cap_mdns_service_v4, GUEST, 0);
}

static void test_rewrite_leaves_ipv6_and_queries(void **state) {
        (void) state;
        /* AAAA only */
        check_capture_rewrite(cap_mdns_announce_v6, sizeof cap_mdns_announce_v6, GUEST, 0);
        /* a probe carries the guest's A record in its authority section: a query, untouched */
        check_capture_rewrite(cap_mdns_probe_v4, sizeof cap_mdns_probe_v4, GUEST, 0);
        check_capture_rewrite(cap_mdns_browse_v6, sizeof cap_mdns_browse_v6, GUEST, 0);
}

static void test_rewrite_by_class_and_section(void **state) {
        /* answer A IN|flush guest, answer A CH guest, additional A IN guest, additional AAAA
         * whose first four bytes are the guest's, additional A IN another address */
        const uint8_t orig[] = {
                HDR(RESPONSE, 0, 2, 0, 3), NAME_A_LOCAL,
                RR(1, IN | FLUSH, 120, 4), 192, 0, 2, 11,       /* rewritten */
                PTR(12), RR(1, 3, 120, 4), 192, 0, 2, 11,       /* class CH: kept */
                PTR(12), RR(1, IN, 120, 4), 192, 0, 2, 11,      /* rewritten */
                PTR(12), RR(28, IN | FLUSH, 120, 16), 192, 0, 2, 11, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 1,                                     /* AAAA: kept */
                PTR(12), RR(1, IN, 120, 4), 192, 0, 2, 12,      /* another guest: kept */
        };
        uint8_t m[sizeof orig];
        size_t first = 0;

        (void) state;
        memcpy(m, orig, sizeof m);
        assert_int_equal(mdns_rewrite_a(m, sizeof m, GUEST, UPLINK, NULL), 2);
        assert_int_equal(diff(orig, m, sizeof m, &first), 8); /* all 4 bytes, twice */
        assert_memory_equal(m + 31, ((uint8_t[]) { 198, 51, 100, 1 }), 4);
        assert_memory_equal(m + 47, ((uint8_t[]) { 192, 0, 2, 11 }), 4);
        assert_memory_equal(m + 63, ((uint8_t[]) { 198, 51, 100, 1 }), 4);
        assert_memory_equal(m + 67, orig + 67, sizeof orig - 67);
        /* Rewriting again finds nothing left to rewrite. */
        assert_int_equal(mdns_rewrite_a(m, sizeof m, GUEST, UPLINK, NULL), 0);
}

/* A matching A record early and a broken record late: nothing is rewritten. */
static void test_rewrite_is_all_or_nothing(void **state) {
        const uint8_t orig[] = {
                HDR(RESPONSE, 0, 2, 0, 0), NAME_A_LOCAL,
                RR(1, IN, 120, 4), 192, 0, 2, 11,
                PTR(12), RR(28, IN, 120, 16), 0xfe, 0x80, 0, 0,  /* RDATA cut short */
        };
        uint8_t m[sizeof orig];
        McastDrop reason;

        (void) state;
        memcpy(m, orig, sizeof m);
        assert_int_equal(mdns_rewrite_a(m, sizeof m, GUEST, UPLINK, &reason), -EBADMSG);
        assert_int_equal(reason, MCAST_DROP_DNS_RDATA_TRUNCATED);
        assert_memory_equal(m, orig, sizeof m);
}

static void test_drop_names(void **state) {
        (void) state;
        for (McastDrop d = 0; d < _MCAST_DROP_MAX; d++) {
                const char *s = mcast_drop_to_string(d);

                assert_non_null(s);
                /* names are distinct */
                for (McastDrop e = 0; e < d; e++)
                        assert_string_not_equal(s, mcast_drop_to_string(e));
        }
        assert_string_equal(mcast_drop_to_string(MCAST_DROP_DNS_POINTER_FORWARD),
                            "dns-pointer-forward");
        assert_null(mcast_drop_to_string(_MCAST_DROP_MAX));
        assert_null(mcast_drop_to_string(_MCAST_DROP_INVALID));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_message_size_limit),
                cmocka_unit_test(test_name_length_limit),
                cmocka_unit_test(test_name_too_long_through_pointer),
                cmocka_unit_test(test_pointer_chain_limit),
                cmocka_unit_test(test_reader_walks_sections),
                cmocka_unit_test(test_name_to_string),
                cmocka_unit_test(test_rewrite_captured_announcement),
                cmocka_unit_test(test_rewrite_leaves_other_addresses),
                cmocka_unit_test(test_rewrite_leaves_ipv6_and_queries),
                cmocka_unit_test(test_rewrite_by_class_and_section),
                cmocka_unit_test(test_rewrite_is_all_or_nothing),
                cmocka_unit_test(test_drop_names),
        };
        int r;

        r = mcast_run_tests("dns", tests, ELEMENTSOF(tests), test_bad_case, bad_cases,
                            sizeof bad_cases[0], ELEMENTSOF(bad_cases));
        r += mcast_run_tests("dns-valid", NULL, 0, test_good_case, good_cases,
                             sizeof good_cases[0], ELEMENTSOF(good_cases));
        return r;
}
