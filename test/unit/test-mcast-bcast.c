/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * forwarders/mcast/bcast.h: the broadcast forwarder's parse, checks and rewrite. Packets are
 * built from a row of fields (build()), with correct lengths and checksums unless the row
 * says otherwise, so every malformed variant is one row differing in one field. socat's
 * real broadcasts (mcast-captures.h) show why TP_STATUS_CSUMNOTREADY matters: over a veth
 * the UDP checksum field holds only the pseudo-header sum.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bcast.h"
#include "macro.h"
#include "mcast-captures.h"
#include "mcast-test.h"

#define SRC 0xc000020bu         /* 192.0.2.11 */
#define SUBNET_BCAST 0xc00002ffu /* 192.0.2.255 */
#define GUEST_HOST 0x64735c01u  /* 100.115.92.1, the host on a guest /30 */
#define GUEST_BCAST 0x64735c03u /* 100.115.92.3 */

typedef struct PktCase {
        const char *name;
        /* fields of the packet; 0 = the usual value */
        uint8_t version;            /* 4 */
        uint8_t ihl;                /* from the options */
        const uint8_t *options;     /* none */
        size_t options_len;         /* a multiple of 4 */
        uint16_t total_len;         /* the right one */
        uint16_t frag;              /* 0: neither MF nor an offset */
        uint8_t proto;              /* UDP */
        uint16_t udp_len;           /* the right one */
        uint32_t saddr;             /* SRC */
        bool saddr_zero;            /* 0.0.0.0 after all */
        uint32_t daddr;             /* 255.255.255.255 */
        uint16_t sport, dport;      /* 4000, 5000 */
        size_t payload_len;         /* 5 */
        bool bad_ip_csum, bad_udp_csum, zero_udp_csum;
        size_t buffer_len;          /* total length */
        /* how it is parsed */
        uint32_t subnet_bcast;      /* SUBNET_BCAST */
        bool no_subnet;             /* subnet_bcast 0 after all */
        unsigned flags;
        /* the result: 0 or a reason */
        bool ok;
        McastDrop want;
} PktCase;

#define OPTS(...) .options = (const uint8_t[]) { __VA_ARGS__ }, \
        .options_len = sizeof((const uint8_t[]) { __VA_ARGS__ })

static void put16(uint8_t *p, uint16_t v) {
        p[0] = (uint8_t) (v >> 8);
        p[1] = (uint8_t) v;
}

static void put32(uint8_t *p, uint32_t v) {
        put16(p, (uint16_t) (v >> 16));
        put16(p + 2, (uint16_t) v);
}

static uint32_t pseudo(uint32_t s, uint32_t d, size_t udp_len) {
        return (s >> 16) + (s & 0xffff) + (d >> 16) + (d & 0xffff) + 17 + (uint32_t) udp_len;
}

/* Lay out the packet of row @c in @buf; returns the buffer length to parse. */
static size_t build(const PktCase *c, uint8_t *buf, size_t size) {
        size_t ihl_bytes = 20 + c->options_len, payload = c->payload_len ? c->payload_len : 5;
        size_t udp_len = 8 + payload, total = ihl_bytes + udp_len;
        uint32_t saddr = c->saddr_zero ? 0 : c->saddr ? c->saddr : SRC;
        uint32_t daddr = c->daddr ? c->daddr : IPV4_LIMITED_BROADCAST;
        uint16_t csum;

        assert_true(total + 64 <= size);
        memset(buf, 0, size);
        buf[0] = (uint8_t) ((unsigned) (c->version ? c->version : 4) << 4 |
                            (c->ihl ? c->ihl : (unsigned) (ihl_bytes / 4)));
        put16(buf + 2, c->total_len ? c->total_len : (uint16_t) total);
        put16(buf + 4, 0x1234);                         /* identification */
        put16(buf + 6, c->frag);
        buf[8] = 64;                                    /* TTL */
        buf[9] = c->proto ? c->proto : 17;
        put32(buf + 12, saddr);
        put32(buf + 16, daddr);
        if (c->options_len)
                memcpy(buf + 20, c->options, c->options_len);
        put16(buf + ihl_bytes, c->sport ? c->sport : 4000);
        put16(buf + ihl_bytes + 2, c->dport ? c->dport : 5000);
        put16(buf + ihl_bytes + 4, c->udp_len ? c->udp_len : (uint16_t) udp_len);
        for (size_t i = 0; i < payload; i++)
                buf[ihl_bytes + 8 + i] = (uint8_t) ('a' + i % 26);

        if (!c->zero_udp_csum) {
                csum = inet_checksum(buf + ihl_bytes, udp_len, pseudo(saddr, daddr, udp_len));
                put16(buf + ihl_bytes + 6, (uint16_t) ((csum == 0 ? 0xffff : csum) ^
                                                      (c->bad_udp_csum ? 1 : 0)));
        }
        /* the header checksum over the header as the IHL field states it */
        csum = inet_checksum(buf, (size_t) (buf[0] & 15) * 4, 0);
        put16(buf + 10, (uint16_t) (csum ^ (c->bad_ip_csum ? 1 : 0)));
        return c->buffer_len ? c->buffer_len : total;
}

static const PktCase cases[] = {
        /* malformed */
        { "buffer-19-bytes", .buffer_len = 19, .want = MCAST_DROP_BCAST_TRUNCATED },
        { "buffer-1-byte", .buffer_len = 1, .want = MCAST_DROP_BCAST_TRUNCATED },
        { "version-6", .version = 6, .want = MCAST_DROP_BCAST_VERSION },
        { "version-15", .version = 15, .want = MCAST_DROP_BCAST_VERSION },
        { "ihl-4", .ihl = 4, .want = MCAST_DROP_BCAST_HEADER_LENGTH },
        { "ihl-1", .ihl = 1, .want = MCAST_DROP_BCAST_HEADER_LENGTH },
        { "ihl-beyond-buffer", .ihl = 15, .want = MCAST_DROP_BCAST_TRUNCATED },
        { "total-below-header", .total_len = 19, .want = MCAST_DROP_BCAST_TOTAL_LENGTH },
        { "total-beyond-buffer", .total_len = 34, .want = MCAST_DROP_BCAST_TRUNCATED },
        { "buffer-cut-in-payload", .buffer_len = 30, .want = MCAST_DROP_BCAST_TRUNCATED },
        { "ip-checksum-wrong", .bad_ip_csum = true, .want = MCAST_DROP_BCAST_IP_CHECKSUM },
        { "option-length-0", OPTS(0x94, 0, 0, 0), .want = MCAST_DROP_BCAST_IP_OPTIONS },
        { "option-length-1", OPTS(0x94, 1, 0, 0), .want = MCAST_DROP_BCAST_IP_OPTIONS },
        { "option-past-header", OPTS(0x94, 8, 0, 0), .want = MCAST_DROP_BCAST_IP_OPTIONS },
        { "option-without-length", OPTS(1, 1, 1, 0x94), .want = MCAST_DROP_BCAST_IP_OPTIONS },
        { "more-fragments", .frag = 0x2000, .want = MCAST_DROP_BCAST_FRAGMENT },
        { "fragment-offset-1", .frag = 0x0001, .want = MCAST_DROP_BCAST_FRAGMENT },
        { "last-fragment", .frag = 0x00b9, .want = MCAST_DROP_BCAST_FRAGMENT },
        { "tcp", .proto = 6, .want = MCAST_DROP_BCAST_NOT_UDP },
        { "icmp", .proto = 1, .want = MCAST_DROP_BCAST_NOT_UDP },
        { "udp-header-cut", .total_len = 27, .buffer_len = 27, .want = MCAST_DROP_BCAST_TRUNCATED },
        { "udp-length-short", .udp_len = 12, .want = MCAST_DROP_BCAST_UDP_LENGTH },
        { "udp-length-long", .udp_len = 14, .want = MCAST_DROP_BCAST_UDP_LENGTH },
        { "udp-length-7", .udp_len = 7, .want = MCAST_DROP_BCAST_UDP_LENGTH },
        { "udp-length-65535", .udp_len = 0xffff, .want = MCAST_DROP_BCAST_UDP_LENGTH },
        { "udp-checksum-wrong", .bad_udp_csum = true, .want = MCAST_DROP_BCAST_UDP_CHECKSUM },
        { "source-0.0.0.0", .saddr_zero = true, .want = MCAST_DROP_SOURCE_INVALID },
        { "source-loopback", .saddr = 0x7f000001, .want = MCAST_DROP_SOURCE_INVALID },
        { "source-multicast", .saddr = 0xe00000fb, .want = MCAST_DROP_SOURCE_INVALID },
        { "source-class-e", .saddr = 0xf0000001, .want = MCAST_DROP_SOURCE_INVALID },
        { "source-limited-broadcast", .saddr = 0xffffffff, .want = MCAST_DROP_SOURCE_INVALID },
        { "destination-unicast", .daddr = 0xc000020a, .want = MCAST_DROP_BCAST_DESTINATION },
        { "destination-other-subnet", .daddr = 0xc63364ff, .want = MCAST_DROP_BCAST_DESTINATION },
        { "destination-multicast", .daddr = 0xeffffffa, .want = MCAST_DROP_BCAST_DESTINATION },
        { "destination-subnet-without-subnet", .daddr = SUBNET_BCAST, .no_subnet = true,
          .want = MCAST_DROP_BCAST_DESTINATION },
        { "source-port-68", .sport = 68, .want = MCAST_DROP_BCAST_PORT },
        { "destination-port-67", .dport = 67, .want = MCAST_DROP_BCAST_PORT },
        { "source-port-1023", .sport = 1023, .want = MCAST_DROP_BCAST_PORT },
        { "destination-port-1023", .dport = 1023, .want = MCAST_DROP_BCAST_PORT },

        /* well-formed */
        { "limited-broadcast", .ok = true },
        { "subnet-broadcast", .daddr = SUBNET_BCAST, .ok = true },
        { "ports-1024", .sport = 1024, .dport = 1024, .ok = true },
        { "ports-65535", .sport = 65535, .dport = 65535, .ok = true },
        { "dont-fragment", .frag = 0x4000, .ok = true },
        { "udp-checksum-zero", .zero_udp_csum = true, .ok = true },
        { "udp-checksum-not-ready", .bad_udp_csum = true, .flags = BCAST_F_CSUM_NOT_READY,
          .ok = true },
        { "option-router-alert", OPTS(0x94, 4, 0, 0), .ok = true },
        { "options-nop-end", OPTS(1, 1, 0, 0x55), .ok = true },
        { "options-40-bytes", OPTS(0x88, 40, [2 ... 39] = 7), .ok = true },
        { "odd-payload", .payload_len = 7, .ok = true },
        { "ethernet-padding", .buffer_len = 46, .ok = true },
};

static void test_case(void **state) {
        const PktCase *c = *state;
        uint8_t buf[256];
        size_t len = build(c, buf, sizeof buf);
        uint32_t subnet = c->no_subnet ? 0 : c->subnet_bcast ? c->subnet_bcast : SUBNET_BCAST;
        McastDrop reason = _MCAST_DROP_INVALID;
        BcastPacket p = { .saddr = 42 };
        int r;

        r = bcast_parse(buf, len, subnet, c->flags, &p, &reason);
        if (!c->ok) {
                assert_int_equal(r, -EBADMSG);
                assert_string_equal(mcast_drop_to_string(reason), mcast_drop_to_string(c->want));
                assert_int_equal(p.saddr, 42); /* untouched */
                return;
        }
        if (r < 0)
                fail_msg("%s refused: %s", c->name, mcast_drop_to_string(reason));
        assert_int_equal(p.ip_header_len, 20 + c->options_len);
        assert_int_equal(p.total_len, p.ip_header_len + 8 + (c->payload_len ? c->payload_len : 5));
        assert_int_equal(p.payload_offset, p.ip_header_len + 8);
        assert_int_equal(p.payload_len, c->payload_len ? c->payload_len : 5);
        assert_int_equal(p.sport, c->sport ? c->sport : 4000);
        assert_int_equal(p.dport, c->dport ? c->dport : 5000);
        assert_int_equal(p.saddr, SRC);
        /* no shorter buffer passes */
        for (size_t n = 0; n < p.total_len; n++)
                assert_int_equal(bcast_parse(buf, n, subnet, c->flags, &p, NULL), -EBADMSG);
}

/* After a rewrite: checksums right, destination as asked, everything else as before. */
static void check_rewritten(const uint8_t *orig, const BcastPacket *p, const uint8_t *out,
                            size_t len, uint32_t want_daddr) {
        BcastPacket q;
        McastDrop reason;
        uint32_t daddr = (uint32_t) out[16] << 24 | (uint32_t) out[17] << 16 |
                (uint32_t) out[18] << 8 | out[19];

        assert_int_equal(len, p->total_len);
        assert_int_equal(daddr, want_daddr);
        assert_int_equal(inet_checksum(out, p->ip_header_len, 0), 0);
        /* re-parses with its checksum verified (no CSUM_NOT_READY) */
        assert_int_equal(bcast_parse(out, len, want_daddr == IPV4_LIMITED_BROADCAST ? 0 :
                                     want_daddr, 0, &q, &reason), 0);
        assert_int_equal(q.saddr, p->saddr);
        assert_int_equal(q.sport, p->sport);
        assert_int_equal(q.dport, p->dport);
        /* only the checksums and the destination differ */
        assert_memory_equal(out, orig, 10);
        assert_memory_equal(out + 12, orig + 12, 4);
        assert_memory_equal(out + 20, orig + 20, p->ip_header_len - 20 + 6);
        assert_memory_equal(out + p->payload_offset, orig + p->payload_offset, p->payload_len);
}

static void test_captured_broadcasts(void **state) {
        uint8_t out[256];
        BcastPacket p;
        McastDrop reason;
        size_t len;

        (void) state;
        /* socat over a veth: the UDP checksum is left to the NIC */
        assert_true(CAP_BCAST_LIMITED_PARTIAL_CSUM_NOT_READY);
        assert_int_equal(bcast_parse(cap_bcast_limited_partial, sizeof cap_bcast_limited_partial,
                                     SUBNET_BCAST, 0, &p, &reason), -EBADMSG);
        assert_int_equal(reason, MCAST_DROP_BCAST_UDP_CHECKSUM);
        assert_int_equal(bcast_parse(cap_bcast_limited_partial, sizeof cap_bcast_limited_partial,
                                     SUBNET_BCAST, BCAST_F_CSUM_NOT_READY, &p, &reason), 0);
        assert_int_equal(p.saddr, SRC);
        assert_int_equal(p.sport, 4000);
        assert_int_equal(p.dport, 5000);
        assert_int_equal(p.payload_len, strlen("hello 255.255.255.255\n"));
        assert_memory_equal(cap_bcast_limited_partial + p.payload_offset, "hello 255", 9);
        /* the copy for a guest carries a real checksum */
        assert_int_equal(bcast_rewrite(cap_bcast_limited_partial, &p, GUEST_BCAST, out,
                                       sizeof out, &len), 0);
        check_rewritten(cap_bcast_limited_partial, &p, out, len, IPV4_LIMITED_BROADCAST);

        assert_int_equal(bcast_parse(cap_bcast_subnet_partial, sizeof cap_bcast_subnet_partial,
                                     SUBNET_BCAST, BCAST_F_CSUM_NOT_READY, &p, &reason), 0);
        assert_int_equal(p.daddr, SUBNET_BCAST);
        assert_int_equal(bcast_rewrite(cap_bcast_subnet_partial, &p, GUEST_BCAST, out,
                                       sizeof out, &len), 0);
        check_rewritten(cap_bcast_subnet_partial, &p, out, len, GUEST_BCAST);
        /* a link without that subnet does not take it */
        assert_int_equal(bcast_parse(cap_bcast_subnet_partial, sizeof cap_bcast_subnet_partial,
                                     0xc63364ff, BCAST_F_CSUM_NOT_READY, &p, &reason), -EBADMSG);
        assert_int_equal(reason, MCAST_DROP_BCAST_DESTINATION);

        /* transmit checksumming off: complete, verified */
        assert_false(CAP_BCAST_LIMITED_FULL_CSUM_NOT_READY);
        assert_int_equal(bcast_parse(cap_bcast_limited_full, sizeof cap_bcast_limited_full,
                                     SUBNET_BCAST, 0, &p, &reason), 0);
        assert_int_equal(bcast_rewrite(cap_bcast_limited_full, &p, GUEST_BCAST, out, sizeof out,
                                       &len), 0);
        assert_memory_equal(out, cap_bcast_limited_full, len); /* nothing to change */

        /* a router alert option, kept in the copy */
        assert_int_equal(bcast_parse(cap_bcast_option_full, sizeof cap_bcast_option_full,
                                     SUBNET_BCAST, 0, &p, &reason), 0);
        assert_int_equal(p.ip_header_len, 24);
        assert_int_equal(bcast_rewrite(cap_bcast_option_full, &p, GUEST_BCAST, out, sizeof out,
                                       &len), 0);
        check_rewritten(cap_bcast_option_full, &p, out, len, GUEST_BCAST);
        assert_memory_equal(out + 20, ((uint8_t[]) { 0x94, 4, 0, 0 }), 4);
}

static void test_rewrite_zero_checksum_stays_zero(void **state) {
        const PktCase c = { "zero", .daddr = SUBNET_BCAST, .zero_udp_csum = true };
        uint8_t buf[256], out[256];
        size_t len = build(&c, buf, sizeof buf), n;
        BcastPacket p;

        (void) state;
        assert_int_equal(bcast_parse(buf, len, SUBNET_BCAST, 0, &p, NULL), 0);
        assert_int_equal(bcast_rewrite(buf, &p, GUEST_BCAST, out, sizeof out, &n), 0);
        assert_int_equal(out[p.ip_header_len + 6], 0);
        assert_int_equal(out[p.ip_header_len + 7], 0);
        check_rewritten(buf, &p, out, n, GUEST_BCAST);

        /* unless the sender left it to the NIC: then 0 was only a partial sum */
        assert_int_equal(bcast_parse(buf, len, SUBNET_BCAST, BCAST_F_CSUM_NOT_READY, &p, NULL), 0);
        assert_int_equal(bcast_rewrite(buf, &p, GUEST_BCAST, out, sizeof out, &n), 0);
        assert_false(out[p.ip_header_len + 6] == 0 && out[p.ip_header_len + 7] == 0);
}

/* A payload whose UDP checksum computes to 0 goes out as 0xffff (RFC 768). */
static void test_rewrite_computed_zero_is_ffff(void **state) {
        const PktCase c = { "ffff", .daddr = SUBNET_BCAST, .payload_len = 6 };
        uint8_t buf[256], out[256];
        size_t len = build(&c, buf, sizeof buf), n, ihl = 20;
        uint16_t sum, fix;
        BcastPacket p;

        (void) state;
        /* choose the last two payload bytes so the sum over the copy (destination
         * GUEST_BCAST, checksum field 0) is 0xffff, i.e. the checksum computes to 0 */
        buf[ihl + 12] = buf[ihl + 13] = 0;
        buf[ihl + 6] = buf[ihl + 7] = 0;
        sum = (uint16_t) ~inet_checksum(buf + ihl, 14, pseudo(SRC, GUEST_BCAST, 14));
        fix = (uint16_t) ~sum;
        buf[ihl + 12] = (uint8_t) (fix >> 8);
        buf[ihl + 13] = (uint8_t) fix;
        /* give the original a checksum for its own destination */
        sum = inet_checksum(buf + ihl, 14, pseudo(SRC, SUBNET_BCAST, 14));
        buf[ihl + 6] = (uint8_t) (sum >> 8);
        buf[ihl + 7] = (uint8_t) sum;
        assert_int_equal(bcast_parse(buf, len, SUBNET_BCAST, 0, &p, NULL), 0);
        assert_int_equal(bcast_rewrite(buf, &p, GUEST_BCAST, out, sizeof out, &n), 0);
        assert_int_equal(out[ihl + 6], 0xff);
        assert_int_equal(out[ihl + 7], 0xff);
        check_rewritten(buf, &p, out, n, GUEST_BCAST);
}

static void test_rewrite_limits(void **state) {
        const PktCase c = { "pad", .daddr = SUBNET_BCAST, .buffer_len = 60 };
        uint8_t buf[256], out[256];
        size_t len = build(&c, buf, sizeof buf), n = 0;
        BcastPacket p;

        (void) state;
        assert_int_equal(bcast_parse(buf, len, SUBNET_BCAST, 0, &p, NULL), 0);
        assert_int_equal(p.total_len, 33);
        /* padding is not copied; the copy must fit */
        assert_int_equal(bcast_rewrite(buf, &p, GUEST_BCAST, out, 32, &n), -ENOBUFS);
        assert_int_equal(bcast_rewrite(buf, &p, GUEST_BCAST, out, 33, &n), 0);
        assert_int_equal(n, 33);
        /* a subnet broadcast cannot go to a link without a broadcast address */
        assert_int_equal(bcast_rewrite(buf, &p, 0, out, sizeof out, &n), -EINVAL);
}

static void test_checks_by_direction(void **state) {
        const PktCase c = { "dir", .saddr = 0x64735c02 }; /* 100.115.92.2, a guest */
        uint8_t buf[256];
        size_t len = build(&c, buf, sizeof buf);
        McastDrop reason;
        BcastPacket p;

        (void) state;
        assert_int_equal(bcast_parse(buf, len, 0, 0, &p, NULL), 0);

        /* from the guest link 100.115.92.0/30 */
        assert_int_equal(bcast_check_from_guest(&p, GUEST_HOST, 30, &reason), 0);
        p.saddr = GUEST_HOST;
        assert_int_equal(bcast_check_from_guest(&p, GUEST_HOST, 30, &reason), -EBADMSG);
        assert_int_equal(reason, MCAST_DROP_SOURCE_IS_HOST);
        p.saddr = 0x64735c00;
        assert_int_equal(bcast_check_from_guest(&p, GUEST_HOST, 30, &reason), -EBADMSG);
        assert_int_equal(reason, MCAST_DROP_SOURCE_INVALID);
        p.saddr = GUEST_BCAST;
        assert_int_equal(bcast_check_from_guest(&p, GUEST_HOST, 30, &reason), -EBADMSG);
        assert_int_equal(reason, MCAST_DROP_SOURCE_INVALID);
        p.saddr = 0x64735c06;
        assert_int_equal(bcast_check_from_guest(&p, GUEST_HOST, 30, &reason), -EBADMSG);
        assert_int_equal(reason, MCAST_DROP_SOURCE_OUTSIDE_SUBNET);
        p.saddr = SRC;
        assert_int_equal(bcast_check_from_guest(&p, GUEST_HOST, 30, &reason), -EBADMSG);
        assert_int_equal(reason, MCAST_DROP_SOURCE_OUTSIDE_SUBNET);
        /* a /31 has no network or broadcast address */
        p.saddr = 0x64735c00;
        assert_int_equal(bcast_check_from_guest(&p, GUEST_HOST, 31, &reason), 0);
        assert_int_equal(bcast_check_from_guest(&p, 0, 30, &reason), -EINVAL);
        assert_int_equal(bcast_check_from_guest(&p, GUEST_HOST, 33, &reason), -EINVAL);

        /* from the uplink: anything but the host's own */
        p.saddr = SRC;
        assert_int_equal(bcast_check_from_uplink(&p, 0xc000020a, &reason), 0);
        assert_int_equal(bcast_check_from_uplink(&p, 0, &reason), 0);
        assert_int_equal(bcast_check_from_uplink(&p, SRC, &reason), -EBADMSG);
        assert_int_equal(reason, MCAST_DROP_SOURCE_IS_HOST);

        /* where a guest's broadcast goes on the uplink */
        p.daddr = IPV4_LIMITED_BROADCAST;
        assert_int_equal(bcast_uplink_destination(&p, SUBNET_BCAST), IPV4_LIMITED_BROADCAST);
        assert_int_equal(bcast_uplink_destination(&p, 0), IPV4_LIMITED_BROADCAST);
        p.daddr = GUEST_BCAST;
        assert_int_equal(bcast_uplink_destination(&p, SUBNET_BCAST), SUBNET_BCAST);
        assert_int_equal(bcast_uplink_destination(&p, 0), 0);
}

static void test_subnet_helpers(void **state) {
        (void) state;
        assert_int_equal(bcast_subnet_broadcast(0xc000020a, 24), SUBNET_BCAST);
        assert_int_equal(bcast_subnet_broadcast(GUEST_HOST, 30), GUEST_BCAST);
        assert_int_equal(bcast_subnet_broadcast(0x0a000001, 8), 0x0affffff);
        assert_int_equal(bcast_subnet_broadcast(GUEST_HOST, 31), 0);
        assert_int_equal(bcast_subnet_broadcast(GUEST_HOST, 32), 0);
        assert_int_equal(bcast_subnet_broadcast(0, 24), 0);
        assert_true(bcast_in_subnet(0x64735c02, GUEST_HOST, 30));
        assert_false(bcast_in_subnet(0x64735c04, GUEST_HOST, 30));
        assert_true(bcast_in_subnet(0x01020304, GUEST_HOST, 0));
        assert_true(bcast_in_subnet(GUEST_HOST, GUEST_HOST, 32));
        assert_false(bcast_in_subnet(GUEST_BCAST, GUEST_HOST, 32));
}

static void test_inet_checksum(void **state) {
        /* RFC 1071 §3's example: the sum is 0xddf2 */
        const uint8_t rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
        uint8_t *odd;

        (void) state;
        assert_int_equal(inet_checksum(rfc, sizeof rfc, 0), (uint16_t) ~0xddf2);
        /* an odd last byte is the high half of a word, and nothing past it is read
         * (a heap buffer of exactly 3 bytes: ASan would catch a fourth) */
        odd = malloc(3);
        assert_non_null(odd);
        memcpy(odd, (uint8_t[]) { 0x12, 0x34, 0x56 }, 3);
        assert_int_equal(inet_checksum(odd, 3, 0), (uint16_t) ~(0x1234 + 0x5600));
        free(odd);
        assert_int_equal(inet_checksum(rfc, 0, 0), 0xffff);
        /* carries fold */
        assert_int_equal(inet_checksum((uint8_t[]) { 0xff, 0xff, 0xff, 0xff }, 4, 0), 0);
        assert_int_equal(inet_checksum((uint8_t[]) { 0x00, 0x01 }, 2, 0xffff), (uint16_t) ~1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_captured_broadcasts),
                cmocka_unit_test(test_rewrite_zero_checksum_stays_zero),
                cmocka_unit_test(test_rewrite_computed_zero_is_ffff),
                cmocka_unit_test(test_rewrite_limits),
                cmocka_unit_test(test_checks_by_direction),
                cmocka_unit_test(test_subnet_helpers),
                cmocka_unit_test(test_inet_checksum),
        };

        return mcast_run_tests("bcast", tests, ELEMENTSOF(tests), test_case, cases,
                               sizeof cases[0], ELEMENTSOF(cases));
}
