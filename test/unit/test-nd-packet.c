/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * forwarders/ndproxy/nd-packet.c: captured frames from radvd and Linux parse as what they
 * are; hand-built frames cover every option type and every drop reason (one table row
 * each, several where a reason has several causes); rewrites are checked byte by byte and
 * their checksums against the test's own computation.
 *
 * With "--write-corpus DIR" the binary writes the hand-built frames (valid and malformed)
 * to DIR as the fuzzer's seed corpus instead of running the tests.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "nd-captured.h"
#include "nd-frame.h"
#include "nd-packet.h"

static MacAddr mac(const char *s) {
        MacAddr m;

        tf_mac_at(m.b, s);
        return m;
}

static int parse(const TFrame *f, NdPacket *ret, NdDrop *ret_drop) {
        return nd_packet_parse(f->b, f->len, false, ret, ret_drop);
}

static void assert_parses(const uint8_t *bytes, size_t len, NdPacket *ret) {
        NdDrop drop = _ND_DROP_INVALID;
        int r = nd_packet_parse(bytes, len, false, ret, &drop);

        if (r < 0)
                fail_msg("dropped: %s", nd_drop_to_string(drop));
}

static void assert_addr(const struct in6_addr *a, const char *want) {
        char buf[INET6_ADDRSTRLEN];

        inet_ntop(AF_INET6, a, buf, sizeof buf);
        assert_string_equal(buf, want);
}

static void assert_mac(const MacAddr *m, const char *want) {
        MacAddr w = mac(want);

        assert_memory_equal(m->b, w.b, MAC_LEN);
}

/* ---- captured frames ---------------------------------------------------------------- */

static void test_captured_rs(void **state) {
        NdPacket p;

        (void) state;
        assert_parses(captured_rs_slla, sizeof captured_rs_slla, &p);
        assert_int_equal(p.type, ND_TYPE_RS);
        assert_int_equal(p.len, sizeof captured_rs_slla);
        assert_addr(&p.src, "fe80::5eff:fe00:5302");
        assert_addr(&p.dst, "ff02::2");
        assert_int_equal(p.lladdr_off, F_RS_OPTS + 2);
        assert_mac(&p.lladdr, "02:00:5e:00:53:02");
        assert_mac(&p.eth_src, "02:00:5e:00:53:02");
        assert_mac(&p.eth_dst, "33:33:00:00:00:02");

        assert_parses(captured_rs_bare, sizeof captured_rs_bare, &p);
        assert_int_equal(p.type, ND_TYPE_RS);
        assert_int_equal(p.lladdr_off, 0);
}

static void test_captured_ra(void **state) {
        NdPacket p;

        (void) state;
        assert_parses(captured_ra_multicast, sizeof captured_ra_multicast, &p);
        assert_int_equal(p.type, ND_TYPE_RA);
        assert_addr(&p.src, "fe80::5eff:fe00:5301");
        assert_addr(&p.dst, "ff02::1");
        assert_int_equal(p.ra_cur_hop_limit, 64);
        assert_int_equal(p.ra_flags, 0);
        assert_int_equal(p.flags, 0);
        assert_int_equal(p.ra_router_lifetime, 12);     /* 3 x MaxRtrAdvInterval */
        /* Options: prefix information, RDNSS (25, kept as is), MTU, then SLLA last. */
        assert_int_equal(p.lladdr_off, sizeof captured_ra_multicast - 6);
        assert_mac(&p.lladdr, "02:00:5e:00:53:01");
        assert_int_equal(p.n_prefixes, 1);
        assert_addr(&p.prefixes[0].prefix, "2001:db8:1::");
        assert_int_equal(p.prefixes[0].prefix_len, 64);
        assert_int_equal(p.prefixes[0].flags, ND_OPT_PI_FLAG_ONLINK | ND_OPT_PI_FLAG_AUTO);
        assert_int_equal(p.prefixes[0].valid_lifetime, 86400);
        assert_int_equal(p.prefixes[0].preferred_lifetime, 14400);

        assert_parses(captured_ra_unicast, sizeof captured_ra_unicast, &p);
        assert_int_equal(p.type, ND_TYPE_RA);
        assert_addr(&p.dst, "fe80::5eff:fe00:5302");
        assert_true(nd_needs_neighbor_lookup(&p.dst));
}

static void test_captured_ns(void **state) {
        NdPacket p;

        (void) state;
        /* Linux's DAD probe carries a nonce option (14, RFC 7527), which passes through. */
        assert_parses(captured_ns_dad, sizeof captured_ns_dad, &p);
        assert_int_equal(p.type, ND_TYPE_NS);
        assert_int_equal(p.flags, ND_FLAG_DAD);
        assert_addr(&p.src, "::");
        assert_true(nd_addr_is_solicited_node(&p.dst));
        assert_int_equal(p.lladdr_off, 0);

        assert_parses(captured_ns_multicast, sizeof captured_ns_multicast, &p);
        assert_int_equal(p.type, ND_TYPE_NS);
        assert_int_equal(p.flags, 0);
        assert_addr(&p.target, "2001:db8:1::1");
        assert_addr(&p.dst, "ff02::1:ff00:1");
        assert_int_equal(p.lladdr_off, F_NSNA_OPTS + 2);
        assert_mac(&p.lladdr, "02:00:5e:00:53:02");

        assert_parses(captured_ns_unicast, sizeof captured_ns_unicast, &p);
        assert_int_equal(p.type, ND_TYPE_NS);
        assert_false(nd_addr_is_multicast(&p.dst));
        assert_int_equal(p.lladdr_off, F_NSNA_OPTS + 2);
}

static void test_captured_na(void **state) {
        NdPacket p;

        (void) state;
        assert_parses(captured_na_solicited, sizeof captured_na_solicited, &p);
        assert_int_equal(p.type, ND_TYPE_NA);
        assert_int_equal(p.flags, ND_FLAG_ROUTER | ND_FLAG_SOLICITED | ND_FLAG_OVERRIDE);
        assert_addr(&p.target, "2001:db8:1::1");
        assert_int_equal(p.lladdr_off, F_NSNA_OPTS + 2);
        assert_mac(&p.lladdr, "02:00:5e:00:53:01");

        /* Unsolicited, to all-nodes: S must be (and is) clear. */
        assert_parses(captured_na_unsolicited, sizeof captured_na_unsolicited, &p);
        assert_int_equal(p.flags, ND_FLAG_OVERRIDE);
        assert_addr(&p.dst, "ff02::1");
        assert_addr(&p.target, "2001:db8:1::5eff:fe00:5302");

        /* Answering a NUD probe, Linux sends no TLLA and leaves O clear. */
        assert_parses(captured_na_bare, sizeof captured_na_bare, &p);
        assert_int_equal(p.flags, ND_FLAG_ROUTER | ND_FLAG_SOLICITED);
        assert_int_equal(p.lladdr_off, 0);
}

/* The captured checksums were computed by the kernel and radvd: the test's own code and
 * the library's agree with them. */
static void test_captured_checksums(void **state) {
        static const struct { const uint8_t *b; size_t len; } frames[] = {
                { captured_rs_slla, sizeof captured_rs_slla },
                { captured_rs_bare, sizeof captured_rs_bare },
                { captured_ra_multicast, sizeof captured_ra_multicast },
                { captured_ra_unicast, sizeof captured_ra_unicast },
                { captured_ns_dad, sizeof captured_ns_dad },
                { captured_ns_multicast, sizeof captured_ns_multicast },
                { captured_ns_unicast, sizeof captured_ns_unicast },
                { captured_na_solicited, sizeof captured_na_solicited },
                { captured_na_unsolicited, sizeof captured_na_unsolicited },
                { captured_na_bare, sizeof captured_na_bare },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(frames); i++) {
                const uint8_t *b = frames[i].b;
                uint16_t wire = (uint16_t) (b[F_ICMP_CSUM] << 8 | b[F_ICMP_CSUM + 1]);
                struct in6_addr src, dst;
                uint8_t msg[256];
                size_t n = frames[i].len - F_ICMP;

                assert_int_equal(tf_checksum(b, frames[i].len), wire);
                memcpy(src.s6_addr, b + F_IP6_SRC, 16);
                memcpy(dst.s6_addr, b + F_IP6_DST, 16);
                assert_int_equal(nd_icmp6_checksum(&src, &dst, b + F_ICMP, n), 0);
                memcpy(msg, b + F_ICMP, n);
                msg[2] = msg[3] = 0;
                assert_int_equal(nd_icmp6_checksum(&src, &dst, msg, n), wire);
        }
}

/* ---- hand-built valid frames ----------------------------------------------------------- */

static void test_built_frames_parse(void **state) {
        TFrame f;
        NdPacket p;

        (void) state;
        tf_rs(&f, true);
        assert_parses(f.b, f.len, &p);
        assert_int_equal(p.type, ND_TYPE_RS);
        assert_int_equal(p.lladdr_off, F_RS_OPTS + 2);

        tf_ra(&f);
        assert_parses(f.b, f.len, &p);
        assert_int_equal(p.type, ND_TYPE_RA);
        assert_int_equal(p.ra_router_lifetime, 1800);
        assert_int_equal(p.lladdr_off, F_RA_OPTS + 2);
        assert_int_equal(p.n_prefixes, 1);

        tf_ns(&f, true);
        assert_parses(f.b, f.len, &p);
        assert_int_equal(p.type, ND_TYPE_NS);
        assert_addr(&p.target, "2001:db8:1::1");

        tf_dad(&f);
        assert_parses(f.b, f.len, &p);
        assert_int_equal(p.flags, ND_FLAG_DAD);

        tf_na(&f, 0xe0, true);
        assert_parses(f.b, f.len, &p);
        assert_int_equal(p.flags, ND_FLAG_ROUTER | ND_FLAG_SOLICITED | ND_FLAG_OVERRIDE);
        assert_int_equal(p.lladdr_off, F_NSNA_OPTS + 2);
}

/* RS from :: without SLLA is valid (RFC 4861 §6.1.1), and so is an RA already proxied. */
static void test_unspecified_rs_and_proxied_ra(void **state) {
        TFrame f;
        NdPacket p;

        (void) state;
        tf_rs(&f, false);
        tf_addr_at(f.b + F_IP6_SRC, "::");
        tf_fix(&f);
        assert_parses(f.b, f.len, &p);
        assert_true(nd_addr_is_unspecified(&p.src));

        tf_ra(&f);
        f.b[F_RA_FLAGS] = ND_RA_FLAG_MANAGED | ND_RA_FLAG_PROXY;
        tf_fix(&f);
        assert_parses(f.b, f.len, &p);
        assert_int_equal(p.flags, ND_FLAG_PROXY);
        assert_int_equal(p.ra_flags, ND_RA_FLAG_MANAGED | ND_RA_FLAG_PROXY);
}

/* Every option type: interpreted ones as such, the others kept and skipped; options not
 * defined for a message are ignored (RFC 4861 §4.6), not rewritten. */
static void test_every_option_type(void **state) {
        TFrame f;
        NdPacket p;

        (void) state;
        tf_ra_bare(&f);
        tf_opt_lladdr(&f, ND_OPT_SOURCE_LINKADDR, ROUTER_MAC);
        tf_opt_lladdr(&f, ND_OPT_TARGET_LINKADDR, "02:00:5e:00:53:99");  /* not for RA */
        tf_opt_prefix(&f, "2001:db8:2::", 48, ND_OPT_PI_FLAG_ONLINK, 0xffffffff, 0xffffffff);
        tf_opt_raw(&f, ND_OPT_REDIRECTED_HEADER, 2);
        tf_opt_mtu(&f, 9000);
        tf_opt_raw(&f, ND_OPT_RTR_ADV_INTERVAL, 1);
        tf_opt_raw(&f, ND_OPT_HOME_AGENT_INFO, 1);
        tf_opt_raw(&f, 24, 3);                                  /* route information */
        tf_opt_raw(&f, 25, 3);                                  /* RDNSS */
        tf_opt_raw(&f, 31, 2);                                  /* DNSSL */
        tf_opt_raw(&f, 14, 1);                                  /* nonce */
        tf_opt_raw(&f, 38, 2);                                  /* PREF64 */
        tf_opt_raw(&f, 253, 1);                                 /* experimental */
        tf_fix(&f);
        assert_parses(f.b, f.len, &p);
        assert_int_equal(p.lladdr_off, F_RA_OPTS + 2);
        assert_mac(&p.lladdr, ROUTER_MAC);
        assert_int_equal(p.n_prefixes, 1);
        assert_addr(&p.prefixes[0].prefix, "2001:db8:2::");
        assert_int_equal(p.prefixes[0].prefix_len, 48);
        assert_int_equal(p.prefixes[0].flags, ND_OPT_PI_FLAG_ONLINK);
        assert_int_equal(p.prefixes[0].valid_lifetime, UINT32_MAX);

        /* NS: a TLLA and a prefix option mean nothing there and are skipped. */
        tf_ns(&f, false);
        tf_opt_lladdr(&f, ND_OPT_TARGET_LINKADDR, "02:00:5e:00:53:99");
        tf_opt_raw(&f, ND_OPT_PREFIX_INFORMATION, 4);
        tf_fix(&f);
        assert_parses(f.b, f.len, &p);
        assert_int_equal(p.lladdr_off, 0);
        assert_int_equal(p.n_prefixes, 0);

        /* NA: the SLLA is not the option to rewrite; the TLLA after it is. */
        tf_na(&f, 0x60, false);
        tf_opt_lladdr(&f, ND_OPT_SOURCE_LINKADDR, "02:00:5e:00:53:99");
        tf_opt_lladdr(&f, ND_OPT_TARGET_LINKADDR, ROUTER_MAC);
        tf_fix(&f);
        assert_parses(f.b, f.len, &p);
        assert_int_equal(p.lladdr_off, F_NSNA_OPTS + 8 + 2);
        assert_mac(&p.lladdr, ROUTER_MAC);
}

/* The bounds themselves are accepted; one more is dropped (see the drop table). */
static void test_option_bounds(void **state) {
        TFrame f;
        NdPacket p;

        (void) state;
        tf_ns(&f, false);
        for (int i = 0; i < ND_OPTIONS_MAX; i++)
                tf_opt_raw(&f, 14, 1);
        tf_fix(&f);
        assert_parses(f.b, f.len, &p);

        tf_ra_bare(&f);
        for (int i = 0; i < ND_PREFIXES_MAX; i++) {
                char prefix[32];

                snprintf(prefix, sizeof prefix, "2001:db8:%x::", i);
                tf_opt_prefix(&f, prefix, 128, 0, 1, 1);
        }
        tf_fix(&f);
        assert_parses(f.b, f.len, &p);
        assert_int_equal(p.n_prefixes, ND_PREFIXES_MAX);
        assert_addr(&p.prefixes[ND_PREFIXES_MAX - 1].prefix, "2001:db8:7::");
        assert_int_equal(p.prefixes[0].prefix_len, 128);
}

/* ---- every drop reason ----------------------------------------------------------------- */

typedef struct Patch {
        size_t off;
        size_t n;                    /* bytes of b to write ... */
        uint8_t b[8];
        const char *addr;            /* ... or an IPv6 address */
} Patch;

typedef struct DropCase {
        const char *name;
        void (*build)(TFrame *f);    /* the valid frame the case starts from */
        uint8_t append[40];          /* options appended to it (lengths fixed) */
        size_t append_len;
        Patch patch[2];
        int resize;                  /* bytes added (zeroes) or cut at the end */
        bool raw;                    /* leave payload length and checksum as they fall */
        bool vlan_tagged;
        NdDrop want;
} DropCase;

#define APPEND(...) .append = { __VA_ARGS__ }, .append_len = sizeof((uint8_t[]) { __VA_ARGS__ })
#define BYTE(o, v) { .off = (o), .n = 1, .b = { (v) } }
#define ADDR(o, a) { .off = (o), .addr = (a) }

static void base_rs(TFrame *f) { tf_rs(f, true); }
static void base_rs_bare(TFrame *f) { tf_rs(f, false); }
static void base_ra(TFrame *f) { tf_ra(f); }
static void base_ra_bare(TFrame *f) { tf_ra_bare(f); }
static void base_ns(TFrame *f) { tf_ns(f, true); }
static void base_ns_bare(TFrame *f) { tf_ns(f, false); }
static void base_dad(TFrame *f) { tf_dad(f); }
static void base_na(TFrame *f) { tf_na(f, 0xe0, true); }
static void base_na_bare(TFrame *f) { tf_na(f, 0xe0, false); }

static void many_options(TFrame *f) {
        tf_ns(f, false);
        for (int i = 0; i <= ND_OPTIONS_MAX; i++)
                tf_opt_raw(f, 14, 1);
        tf_fix(f);
}

static void many_prefixes(TFrame *f) {
        tf_ra_bare(f);
        for (int i = 0; i <= ND_PREFIXES_MAX; i++)
                tf_opt_prefix(f, "2001:db8:1::", 64, 0xc0, 1, 1);
        tf_fix(f);
}

static const DropCase drop_cases[] = {
        /* Ethernet */
        { "10 bytes", base_ns, .resize = -76, .raw = true, .want = ND_DROP_SHORT_FRAME },
        { "IPv6 header cut", base_ns, .resize = -40, .raw = true, .want = ND_DROP_SHORT_FRAME },
        { "aux VLAN tag", base_ns, .vlan_tagged = true, .want = ND_DROP_VLAN },
        { "802.1Q EtherType", base_ns, .patch = { BYTE(F_ETHERTYPE, 0x81), BYTE(F_ETHERTYPE + 1, 0x00) },
          .want = ND_DROP_VLAN },
        { "802.1ad EtherType", base_ns, .patch = { BYTE(F_ETHERTYPE, 0x88), BYTE(F_ETHERTYPE + 1, 0xa8) },
          .want = ND_DROP_VLAN },
        { "IPv4 EtherType", base_ns, .patch = { BYTE(F_ETHERTYPE, 0x08), BYTE(F_ETHERTYPE + 1, 0x00) },
          .want = ND_DROP_NOT_IPV6 },
        { "group source MAC", base_ns, .patch = { BYTE(F_ETH_SRC, 0x01) }, .want = ND_DROP_ETH_SOURCE },
        /* IPv6 */
        { "version 4", base_ns, .patch = { BYTE(F_IP6_VTF, 0x40) }, .want = ND_DROP_IP_VERSION },
        { "payload length beyond frame", base_ns, .patch = { BYTE(F_IP6_PLEN + 1, 40) }, .raw = true,
          .want = ND_DROP_PAYLOAD_LENGTH },
        { "payload length short of frame", base_ns, .patch = { BYTE(F_IP6_PLEN + 1, 24) }, .raw = true,
          .want = ND_DROP_PAYLOAD_LENGTH },
        { "trailing bytes", base_ns, .resize = 2, .raw = true, .want = ND_DROP_PAYLOAD_LENGTH },
        { "hop-by-hop header", base_ns, .patch = { BYTE(F_IP6_NEXT, 0) }, .want = ND_DROP_EXTENSION_HEADER },
        { "fragment header", base_ns, .patch = { BYTE(F_IP6_NEXT, 44) }, .want = ND_DROP_EXTENSION_HEADER },
        { "destination options", base_ns, .patch = { BYTE(F_IP6_NEXT, 60) }, .want = ND_DROP_EXTENSION_HEADER },
        { "UDP", base_ns, .patch = { BYTE(F_IP6_NEXT, 17) }, .want = ND_DROP_NOT_ICMPV6 },
        { "no next header", base_ns, .patch = { BYTE(F_IP6_NEXT, 59) }, .want = ND_DROP_NOT_ICMPV6 },
        { "multicast source", base_ns, .patch = { ADDR(F_IP6_SRC, "ff02::1") }, .want = ND_DROP_BAD_SOURCE },
        { "loopback source", base_ns, .patch = { ADDR(F_IP6_SRC, "::1") }, .want = ND_DROP_BAD_SOURCE },
        { "NA from unspecified", base_na, .patch = { ADDR(F_IP6_SRC, "::") }, .want = ND_DROP_BAD_SOURCE },
        { "to unspecified", base_ns, .patch = { ADDR(F_IP6_DST, "::") }, .want = ND_DROP_BAD_DESTINATION },
        { "to loopback", base_na, .patch = { ADDR(F_IP6_DST, "::1") }, .want = ND_DROP_BAD_DESTINATION },
        /* ICMPv6 */
        { "echo request", base_ns, .patch = { BYTE(F_ICMP_TYPE, 128) }, .want = ND_DROP_NOT_ND },
        { "redirect", base_ns, .patch = { BYTE(F_ICMP_TYPE, 137) }, .want = ND_DROP_NOT_ND },
        { "code 1", base_ns, .patch = { BYTE(F_ICMP_CODE, 1) }, .want = ND_DROP_CODE },
        { "hop limit 254", base_ns, .patch = { BYTE(F_IP6_HLIM, 254) }, .want = ND_DROP_HOP_LIMIT },
        { "hop limit 64", base_ra, .patch = { BYTE(F_IP6_HLIM, 64) }, .want = ND_DROP_HOP_LIMIT },
        { "hop limit 0", base_na, .patch = { BYTE(F_IP6_HLIM, 0) }, .want = ND_DROP_HOP_LIMIT },
        { "2-byte ICMPv6", base_rs_bare, .resize = -6, .want = ND_DROP_TOO_SHORT },
        { "4-byte RS", base_rs_bare, .resize = -4, .want = ND_DROP_TOO_SHORT },
        { "12-byte RA", base_ra_bare, .resize = -4, .want = ND_DROP_TOO_SHORT },
        { "16-byte NS", base_ns_bare, .resize = -8, .want = ND_DROP_TOO_SHORT },
        { "23-byte NA", base_na_bare, .resize = -1, .want = ND_DROP_TOO_SHORT },
        { "reserved byte changed after checksum", base_ns, .patch = { BYTE(F_ICMP + 4, 1) },
          .raw = true, .want = ND_DROP_CHECKSUM },
        { "checksum zeroed", base_ns, .patch = { BYTE(F_ICMP_CSUM, 0), BYTE(F_ICMP_CSUM + 1, 0) },
          .raw = true, .want = ND_DROP_CHECKSUM },
        { "checksum over changed target", base_na, .patch = { ADDR(F_TARGET, "2001:db8:1::2") },
          .raw = true, .want = ND_DROP_CHECKSUM },
        /* Options */
        { "option length 0", base_ns_bare, APPEND(14, 0, 0, 0, 0, 0, 0, 0),
          .want = ND_DROP_OPTION_ZERO_LENGTH },
        { "option length 0 after a good one", base_rs, APPEND(14, 0, 0, 0, 0, 0, 0, 0),
          .want = ND_DROP_OPTION_ZERO_LENGTH },
        { "option longer than message", base_ns_bare, APPEND(14, 2, 0, 0, 0, 0, 0, 0),
          .want = ND_DROP_OPTION_TRUNCATED },
        { "4 stray bytes", base_ns, APPEND(14, 1, 0, 0), .want = ND_DROP_OPTION_TRUNCATED },
        { "1 stray byte", base_na, APPEND(1), .want = ND_DROP_OPTION_TRUNCATED },
        { "65 options", many_options, .want = ND_DROP_TOO_MANY_OPTIONS },
        { "SLLA of 16 bytes", base_ns_bare, APPEND(1, 2, 2, 0, 0x5e, 0, 0x53, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0),
          .want = ND_DROP_LLADDR_LENGTH },
        { "TLLA of 16 bytes in an NS", base_ns_bare, APPEND(2, 2, 2, 0, 0x5e, 0, 0x53, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0),
          .want = ND_DROP_LLADDR_LENGTH },
        { "two SLLA", base_ns, APPEND(1, 1, 2, 0, 0x5e, 0, 0x53, 0x0b), .want = ND_DROP_DUPLICATE_LLADDR },
        { "two TLLA", base_na, APPEND(2, 1, 2, 0, 0x5e, 0, 0x53, 0x0b), .want = ND_DROP_DUPLICATE_LLADDR },
        { "prefix option of 24 bytes", base_ra_bare,
          APPEND(3, 3, 64, 0xc0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0),
          .want = ND_DROP_PREFIX_INFO },
        { "prefix length 129", base_ra_bare,
          APPEND(3, 4, 129, 0xc0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0,
                 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
          .want = ND_DROP_PREFIX_INFO },
        { "9 prefixes", many_prefixes, .want = ND_DROP_TOO_MANY_PREFIXES },
        /* Rules between fields */
        { "RA from a global address", base_ra, .patch = { ADDR(F_IP6_SRC, "2001:db8:1::1") },
          .want = ND_DROP_RA_SOURCE },
        { "RA from unspecified", base_ra, .patch = { ADDR(F_IP6_SRC, "::") }, .want = ND_DROP_RA_SOURCE },
        { "NS for ff02::1", base_ns, .patch = { ADDR(F_TARGET, "ff02::1") }, .want = ND_DROP_TARGET_MULTICAST },
        { "NA for ff02::1", base_na, .patch = { ADDR(F_TARGET, "ff02::1") }, .want = ND_DROP_TARGET_MULTICAST },
        { "solicited NA to all-nodes", base_na, .patch = { ADDR(F_IP6_DST, "ff02::1") },
          .want = ND_DROP_NA_SOLICITED_MULTICAST },
        { "DAD NS to all-nodes", base_dad, .patch = { ADDR(F_IP6_DST, "ff02::1") },
          .want = ND_DROP_DAD_DESTINATION },
        { "DAD NS to unicast", base_dad, .patch = { ADDR(F_IP6_DST, "2001:db8:1::a") },
          .want = ND_DROP_DAD_DESTINATION },
        { "DAD NS with SLLA", base_dad, APPEND(1, 1, 2, 0, 0x5e, 0, 0x53, 0x0a),
          .want = ND_DROP_UNSPECIFIED_LLADDR },
        { "RS from unspecified with SLLA", base_rs, .patch = { ADDR(F_IP6_SRC, "::") },
          .want = ND_DROP_UNSPECIFIED_LLADDR },
};

static void drop_case_build(const DropCase *c, TFrame *f) {
        c->build(f);
        if (c->append_len > 0) {
                memcpy(f->b + f->len, c->append, c->append_len);
                f->len += c->append_len;
                tf_fix(f);
        }
        for (size_t i = 0; i < ELEMENTSOF(c->patch); i++) {
                const Patch *p = &c->patch[i];

                if (p->addr)
                        tf_addr_at(f->b + p->off, p->addr);
                else if (p->n > 0)
                        memcpy(f->b + p->off, p->b, p->n);
        }
        if (c->resize > 0)
                memset(f->b + f->len, 0, (size_t) c->resize);
        f->len = (size_t) ((ptrdiff_t) f->len + c->resize);
        if (!c->raw && f->len >= F_ICMP)
                tf_fix_length(f);
        if (!c->raw && f->len >= F_ICMP + 4)
                tf_fix_checksum(f);
}

static void test_drop_reasons(void **state) {
        bool covered[_ND_DROP_MAX] = {};

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(drop_cases); i++) {
                const DropCase *c = &drop_cases[i];
                NdPacket p, untouched;
                NdDrop drop = _ND_DROP_INVALID;
                TFrame f;
                int r;

                drop_case_build(c, &f);
                memset(&p, 0xa5, sizeof p);
                untouched = p;
                r = nd_packet_parse(f.b, f.len, c->vlan_tagged, &p, &drop);
                if (r != -EBADMSG || drop != c->want)
                        fail_msg("case \"%s\": got %d/%s, want %s", c->name, r,
                                 r < 0 ? nd_drop_to_string(drop) : "accepted",
                                 nd_drop_to_string(c->want));
                /* A refused frame leaves the output alone. */
                assert_memory_equal(&p, &untouched, sizeof p);
                covered[c->want] = true;
        }

        /* Every reason the parser can give has its row. */
        for (int d = 0; d <= ND_DROP_UNSPECIFIED_LLADDR; d++)
                if (!covered[d])
                        fail_msg("no test case for %s", nd_drop_to_string(d));
}

/* The unchanged base frame of every row parses: the row's change alone is refused. */
static void test_drop_bases_are_valid(void **state) {
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(drop_cases); i++) {
                TFrame f;
                NdPacket p;
                NdDrop drop;

                drop_cases[i].build(&f);
                if (drop_cases[i].build == many_options || drop_cases[i].build == many_prefixes)
                        continue;
                if (parse(&f, &p, &drop) < 0)
                        fail_msg("base of \"%s\" dropped: %s", drop_cases[i].name,
                                 nd_drop_to_string(drop));
        }
}

static void test_null_and_empty(void **state) {
        NdPacket p;
        NdDrop drop;

        (void) state;
        assert_int_equal(nd_packet_parse(NULL, 100, false, &p, &drop), -EBADMSG);
        assert_int_equal(drop, ND_DROP_SHORT_FRAME);
        assert_int_equal(nd_packet_parse(captured_ns_dad, 0, false, &p, &drop), -EBADMSG);
        assert_int_equal(drop, ND_DROP_SHORT_FRAME);
}

/* Every prefix of a valid frame is refused, with a length reason, never read beyond. */
static void test_every_truncation(void **state) {
        (void) state;
        for (size_t len = 0; len < sizeof captured_ra_multicast; len++) {
                NdPacket p;
                NdDrop drop = _ND_DROP_INVALID;

                assert_int_equal(nd_packet_parse(captured_ra_multicast, len, false, &p, &drop),
                                 -EBADMSG);
                assert_true(drop == ND_DROP_SHORT_FRAME || drop == ND_DROP_PAYLOAD_LENGTH);
        }
}

static void test_names(void **state) {
        (void) state;
        for (int i = 0; i < _ND_DROP_MAX; i++) {
                assert_non_null(nd_drop_to_string(i));
                for (int j = 0; j < i; j++)
                        assert_string_not_equal(nd_drop_to_string(i), nd_drop_to_string(j));
        }
        assert_null(nd_drop_to_string(_ND_DROP_MAX));
        assert_null(nd_drop_to_string(_ND_DROP_INVALID));
        assert_string_equal(nd_drop_to_string(ND_DROP_HOP_LIMIT), "hop-limit");
        assert_string_equal(nd_type_to_string(ND_TYPE_NA), "NA");
        assert_null(nd_type_to_string(_ND_TYPE_MAX));
        assert_null(nd_type_to_string(_ND_TYPE_INVALID));
}

/* ---- rewrite --------------------------------------------------------------------------- */

/* out must equal in except at the listed offsets (each 1 byte), which the caller checks. */
static void assert_same_except(const uint8_t *in, const uint8_t *out, size_t len,
                               const size_t *offs, size_t n_offs) {
        for (size_t i = 0; i < len; i++) {
                bool allowed = false;

                for (size_t j = 0; j < n_offs; j++)
                        allowed = allowed || offs[j] == i;
                if (!allowed && in[i] != out[i])
                        fail_msg("byte %zu changed: %02x -> %02x", i, in[i], out[i]);
        }
}

static void assert_checksum_ok(const uint8_t *b, size_t len) {
        assert_int_equal((b[F_ICMP_CSUM] << 8 | b[F_ICMP_CSUM + 1]), tf_checksum(b, len));
}

static void test_rewrite_ra(void **state) {
        MacAddr egress = mac("02:00:5e:00:53:20"), dst = mac("33:33:00:00:00:01");
        uint8_t out[256];
        size_t offs[32], n = 0, len = 0;
        NdPacket p, q;
        NdDrop drop;

        (void) state;
        assert_parses(captured_ra_multicast, sizeof captured_ra_multicast, &p);
        assert_int_equal(nd_packet_rewrite(captured_ra_multicast, &p, &egress, &dst, 0, out,
                                           sizeof out, &len), 0);
        assert_int_equal(len, sizeof captured_ra_multicast);

        assert_memory_equal(out + F_ETH_DST, dst.b, 6);
        assert_memory_equal(out + F_ETH_SRC, egress.b, 6);
        assert_memory_equal(out + p.lladdr_off, egress.b, 6);
        assert_int_equal(out[F_RA_FLAGS], ND_RA_FLAG_PROXY);
        assert_int_equal(out[F_IP6_HLIM], 255);
        assert_checksum_ok(out, len);
        for (size_t i = 0; i < 12; i++)
                offs[n++] = i;
        for (size_t i = 0; i < 6; i++)
                offs[n++] = p.lladdr_off + i;
        offs[n++] = F_RA_FLAGS;
        offs[n++] = F_ICMP_CSUM;
        offs[n++] = F_ICMP_CSUM + 1;
        assert_same_except(captured_ra_multicast, out, len, offs, n);

        /* The copy is a valid frame of the same type. */
        assert_int_equal(nd_packet_parse(out, len, false, &q, &drop), 0);
        assert_int_equal(q.type, ND_TYPE_RA);
        assert_int_equal(q.flags, ND_FLAG_PROXY);
        assert_mac(&q.lladdr, "02:00:5e:00:53:20");
}

static void test_rewrite_ra_to_all_nodes(void **state) {
        MacAddr egress = mac("02:00:5e:00:53:20"), dst;
        uint8_t out[256];
        size_t len = 0;
        NdPacket p, q;
        NdDrop drop;

        (void) state;
        assert_parses(captured_ra_unicast, sizeof captured_ra_unicast, &p);
        assert_int_equal(nd_multicast_mac(&(struct in6_addr) { .s6_addr = { 0xff, 2, [15] = 1 } },
                                          &dst), 0);
        assert_int_equal(nd_packet_rewrite(captured_ra_unicast, &p, &egress, &dst,
                                           ND_REWRITE_RA_ALL_NODES, out, sizeof out, &len), 0);
        assert_int_equal(nd_packet_parse(out, len, false, &q, &drop), 0);
        assert_addr(&q.dst, "ff02::1");
        assert_addr(&q.src, "fe80::5eff:fe00:5301");
        assert_checksum_ok(out, len);

        /* Without the flag the destination stays. */
        assert_int_equal(nd_packet_rewrite(captured_ra_unicast, &p, &egress, &dst, 0, out,
                                           sizeof out, &len), 0);
        assert_memory_equal(out + F_IP6_DST, captured_ra_unicast + F_IP6_DST, 16);
        assert_checksum_ok(out, len);
}

static void test_rewrite_na_and_ns(void **state) {
        MacAddr egress = mac("02:00:5e:00:53:30"), dst = mac("02:00:5e:00:53:0a");
        uint8_t out[256];
        size_t offs[32], n = 0, len = 0;
        NdPacket p, q;
        NdDrop drop;

        (void) state;
        /* NA: the TLLA is rewritten, the flags and everything else kept. */
        assert_parses(captured_na_solicited, sizeof captured_na_solicited, &p);
        assert_int_equal(nd_packet_rewrite(captured_na_solicited, &p, &egress, &dst, 0, out,
                                           sizeof out, &len), 0);
        assert_memory_equal(out + p.lladdr_off, egress.b, 6);
        assert_checksum_ok(out, len);
        for (size_t i = 0; i < 12; i++)
                offs[n++] = i;
        for (size_t i = 0; i < 6; i++)
                offs[n++] = p.lladdr_off + i;
        offs[n++] = F_ICMP_CSUM;
        offs[n++] = F_ICMP_CSUM + 1;
        assert_same_except(captured_na_solicited, out, len, offs, n);
        assert_int_equal(nd_packet_parse(out, len, false, &q, &drop), 0);
        assert_int_equal(q.flags, p.flags);

        /* DAD NS: no link-layer option, none added; only Ethernet changes, so the checksum
         * stays what it was. */
        assert_parses(captured_ns_dad, sizeof captured_ns_dad, &p);
        assert_int_equal(nd_packet_rewrite(captured_ns_dad, &p, &egress, &dst, 0, out,
                                           sizeof out, &len), 0);
        assert_int_equal(len, sizeof captured_ns_dad);
        assert_memory_equal(out + 12, captured_ns_dad + 12, len - 12);

        /* RS with SLLA. */
        assert_parses(captured_rs_slla, sizeof captured_rs_slla, &p);
        assert_int_equal(nd_packet_rewrite(captured_rs_slla, &p, &egress, &dst, 0, out,
                                           sizeof out, &len), 0);
        assert_memory_equal(out + p.lladdr_off, egress.b, 6);
        assert_checksum_ok(out, len);
}

static void test_rewrite_in_place(void **state) {
        MacAddr egress = mac("02:00:5e:00:53:30"), dst = mac("33:33:ff:00:00:01");
        uint8_t copy[256], out[256];
        size_t len = 0, len2 = 0;
        NdPacket p;

        (void) state;
        memcpy(copy, captured_ns_multicast, sizeof captured_ns_multicast);
        assert_parses(copy, sizeof captured_ns_multicast, &p);
        assert_int_equal(nd_packet_rewrite(copy, &p, &egress, &dst, 0, out, sizeof out, &len), 0);
        assert_int_equal(nd_packet_rewrite(copy, &p, &egress, &dst, 0, copy, sizeof copy, &len2), 0);
        assert_int_equal(len, len2);
        assert_memory_equal(copy, out, len);
}

static void test_rewrite_errors(void **state) {
        MacAddr good = mac("02:00:5e:00:53:30"), group = mac("01:00:5e:00:00:01"), zero = {};
        uint8_t out[256];
        size_t len = 12345;
        NdPacket p, bad;

        (void) state;
        assert_parses(captured_na_solicited, sizeof captured_na_solicited, &p);
        assert_int_equal(nd_packet_rewrite(captured_na_solicited, &p, &good, &good, 0, out,
                                           sizeof captured_na_solicited - 1, &len), -ENOBUFS);
        assert_int_equal(nd_packet_rewrite(captured_na_solicited, &p, &group, &good, 0, out,
                                           sizeof out, &len), -EINVAL);
        assert_int_equal(nd_packet_rewrite(captured_na_solicited, &p, &zero, &good, 0, out,
                                           sizeof out, &len), -EINVAL);
        assert_int_equal(nd_packet_rewrite(captured_na_solicited, &p, &good, &zero, 0, out,
                                           sizeof out, &len), -EINVAL);
        assert_int_equal(nd_packet_rewrite(captured_na_solicited, &p, &good, &good, 0x80, out,
                                           sizeof out, &len), -EINVAL);
        /* A packet not made by the parser does not steer the writes. */
        bad = p;
        bad.lladdr_off = p.len - 5;
        assert_int_equal(nd_packet_rewrite(captured_na_solicited, &bad, &good, &good, 0, out,
                                           sizeof out, &len), -EINVAL);
        bad = p;
        bad.len = 60;
        assert_int_equal(nd_packet_rewrite(captured_na_solicited, &bad, &good, &good, 0, out,
                                           sizeof out, &len), -EINVAL);
        bad = p;
        bad.type = _ND_TYPE_MAX;
        assert_int_equal(nd_packet_rewrite(captured_na_solicited, &bad, &good, &good, 0, out,
                                           sizeof out, &len), -EINVAL);
        assert_int_equal(len, 12345);
}

/* ---- answers for the host ------------------------------------------------------------- */

static void test_build_na(void **state) {
        MacAddr host = mac("02:00:5e:00:53:30"), group = mac("33:33:00:00:00:01"), zero = {};
        uint8_t out[256], tlla[8];
        NdPacket ns, na;
        NdDrop drop;
        size_t len = 0;
        TFrame f;

        (void) state;
        /* The guest resolves 2001:db8:1::1: the answer comes from it, solicited, to the
         * guest's address and MAC, with the host's MAC, as a router, not overriding. */
        tf_ns(&f, true);
        assert_int_equal(parse(&f, &ns, &drop), 0);
        assert_int_equal(nd_packet_build_na(&ns, &host, true, out, sizeof out, &len), 0);
        assert_int_equal(len, 86);
        assert_parses(out, len, &na);
        assert_int_equal(na.type, ND_TYPE_NA);
        assert_int_equal(na.flags & (ND_FLAG_ROUTER | ND_FLAG_SOLICITED | ND_FLAG_OVERRIDE),
                         ND_FLAG_ROUTER | ND_FLAG_SOLICITED);
        assert_addr(&na.src, "2001:db8:1::1");
        assert_addr(&na.dst, "2001:db8:1::a");
        assert_addr(&na.target, "2001:db8:1::1");
        assert_mac(&na.eth_dst, GUEST_MAC);
        assert_mac(&na.eth_src, "02:00:5e:00:53:30");
        assert_mac(&na.lladdr, "02:00:5e:00:53:30");
        /* The bytes of the option, as RFC 4861 §4.6.1 lays them out. */
        memcpy(tlla, out + F_NSNA_OPTS, sizeof tlla);
        assert_int_equal(tlla[0], 2);
        assert_int_equal(tlla[1], 1);
        assert_int_equal(tf_checksum(out, len), (uint16_t) (out[F_ICMP_CSUM] << 8 | out[F_ICMP_CSUM + 1]));

        /* A DAD NS for it: defended to all-nodes, unsolicited; no Router flag if asked. */
        tf_dad(&f);
        assert_int_equal(parse(&f, &ns, &drop), 0);
        assert_int_equal(nd_packet_build_na(&ns, &host, false, out, sizeof out, &len), 0);
        assert_parses(out, len, &na);
        assert_int_equal(na.flags & (ND_FLAG_ROUTER | ND_FLAG_SOLICITED | ND_FLAG_OVERRIDE), 0);
        assert_addr(&na.dst, "ff02::1");
        assert_addr(&na.src, "2001:db8:1::a");
        assert_mac(&na.eth_dst, "33:33:00:00:00:01");

        /* Only for an NS, only with a unicast MAC, only into room enough. */
        tf_rs(&f, true);
        assert_int_equal(parse(&f, &ns, &drop), 0);
        len = 7;
        assert_int_equal(nd_packet_build_na(&ns, &host, true, out, sizeof out, &len), -EINVAL);
        tf_ns(&f, true);
        assert_int_equal(parse(&f, &ns, &drop), 0);
        assert_int_equal(nd_packet_build_na(&ns, &group, true, out, sizeof out, &len), -EINVAL);
        assert_int_equal(nd_packet_build_na(&ns, &zero, true, out, sizeof out, &len), -EINVAL);
        assert_int_equal(nd_packet_build_na(&ns, &host, true, out, 85, &len), -ENOBUFS);
        assert_int_equal(len, 7);
}

/* ---- checksum, multicast MACs, learning ------------------------------------------------ */

static void test_checksum_odd_lengths(void **state) {
        struct in6_addr src = tf_in6("fe80::1"), dst = tf_in6("ff02::1");
        uint8_t frame[F_ICMP + 64];

        (void) state;
        memset(frame, 0, sizeof frame);
        memcpy(frame + F_IP6_SRC, src.s6_addr, 16);
        memcpy(frame + F_IP6_DST, dst.s6_addr, 16);
        for (size_t i = 0; i < 64; i++)
                frame[F_ICMP + i] = (uint8_t) (i * 37 + 11);
        /* Against the test's own sum, for every length including odd ones (the last byte
         * is padded, never read beyond). */
        for (size_t n = 4; n <= 64; n++) {
                frame[F_ICMP + 2] = frame[F_ICMP + 3] = 0;
                assert_int_equal(nd_icmp6_checksum(&src, &dst, frame + F_ICMP, n),
                                 tf_checksum(frame, F_ICMP + n));
        }
        /* All-ones data folds to 0xffff sums without overflow. */
        memset(frame + F_ICMP, 0xff, 64);
        frame[F_ICMP + 2] = frame[F_ICMP + 3] = 0;
        assert_int_equal(nd_icmp6_checksum(&src, &dst, frame + F_ICMP, 64),
                         tf_checksum(frame, F_ICMP + 64));
}

static void test_multicast_mac(void **state) {
        static const struct { const char *addr, *mac; } cases[] = {
                { "ff02::1", "33:33:00:00:00:01" },             /* all-nodes */
                { "ff02::2", "33:33:00:00:00:02" },             /* all-routers */
                { "ff02::1:ff00:5302", "33:33:ff:00:53:02" },   /* solicited-node */
                { "ff02::1:ffab:cdef", "33:33:ff:ab:cd:ef" },
                { "ff05::fb", "33:33:00:00:00:fb" },
                { "ff0e::1234:5678", "33:33:12:34:56:78" },
        };
        static const char *const unicast[] = { "fe80::1", "2001:db8:1::1", "::", "fe02::1" };
        MacAddr m;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct in6_addr a = tf_in6(cases[i].addr);

                assert_int_equal(nd_multicast_mac(&a, &m), 0);
                assert_mac(&m, cases[i].mac);
                assert_false(nd_needs_neighbor_lookup(&a));
        }
        m = mac("02:00:5e:00:53:77");
        for (size_t i = 0; i < ELEMENTSOF(unicast); i++) {
                struct in6_addr u = tf_in6(unicast[i]);

                assert_int_equal(nd_multicast_mac(&u, &m), -EINVAL);
                assert_true(nd_needs_neighbor_lookup(&u));
        }
        assert_mac(&m, "02:00:5e:00:53:77");
}

static void test_address_classes(void **state) {
        static const struct { const char *addr; bool mc, ll, unspec, loop, snm, learn; } cases[] = {
                /*                          mc ll  un  lo  snm learn */
                { "::",                      0, 0, 1, 0, 0, 0 },
                { "::1",                     0, 0, 0, 1, 0, 0 },
                { "fe80::1",                 0, 1, 0, 0, 0, 0 },
                { "febf::1",                 0, 1, 0, 0, 0, 0 },
                { "fec0::1",                 0, 0, 0, 0, 0, 0 },   /* old site-local */
                { "ff02::1",                 1, 0, 0, 0, 0, 0 },
                { "ff02::1:ff00:1",          1, 0, 0, 0, 1, 0 },
                { "ff02::2:ff00:1",          1, 0, 0, 0, 0, 0 },
                { "ff05::1:ff00:1",          1, 0, 0, 0, 0, 0 },
                { "2001:db8:1::a",           0, 0, 0, 0, 0, 1 },
                { "3fff:ffff::1",            0, 0, 0, 0, 0, 1 },
                { "4000::1",                 0, 0, 0, 0, 0, 0 },
                { "1fff::1",                 0, 0, 0, 0, 0, 0 },
                { "fc00::1",                 0, 0, 0, 0, 0, 1 },
                { "fdff::1",                 0, 0, 0, 0, 0, 1 },
                { "fe00::1",                 0, 0, 0, 0, 0, 0 },
                { "::ffff:192.0.2.1",        0, 0, 0, 0, 0, 0 },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct in6_addr a = tf_in6(cases[i].addr);

                if (nd_addr_is_multicast(&a) != cases[i].mc ||
                    nd_addr_is_link_local(&a) != cases[i].ll ||
                    nd_addr_is_unspecified(&a) != cases[i].unspec ||
                    nd_addr_is_loopback(&a) != cases[i].loop ||
                    nd_addr_is_solicited_node(&a) != cases[i].snm ||
                    nd_addr_is_learnable(&a) != cases[i].learn)
                        fail_msg("%s misclassified", cases[i].addr);
        }
}

static void test_learn_guest_address(void **state) {
        struct in6_addr a = tf_in6("2001:db8:ffff::1"), unchanged = a;
        TFrame f;
        NdPacket p;

        (void) state;
        /* The guest's unsolicited NA for its SLAAC address. */
        assert_parses(captured_na_unsolicited, sizeof captured_na_unsolicited, &p);
        assert_int_equal(nd_learn_guest_address(&p, &a), 0);
        assert_addr(&a, "2001:db8:1::5eff:fe00:5302");

        /* DAD NS: the tentative address. */
        tf_dad(&f);
        assert_parses(f.b, f.len, &p);
        assert_int_equal(nd_learn_guest_address(&p, &a), 0);
        assert_addr(&a, "2001:db8:1::a");

        /* ULA target. */
        tf_na(&f, 0x20, true);
        tf_addr_at(f.b + F_TARGET, "fd00:1::5");
        tf_fix(&f);
        assert_parses(f.b, f.len, &p);
        assert_int_equal(nd_learn_guest_address(&p, &a), 0);
        assert_addr(&a, "fd00:1::5");

        /* Nothing from a link-local target, nor from RS, RA, or an NS that is not DAD. */
        a = unchanged;
        assert_parses(captured_ns_dad, sizeof captured_ns_dad, &p);        /* fe80:: target */
        assert_int_equal(nd_learn_guest_address(&p, &a), -EADDRNOTAVAIL);
        tf_na(&f, 0x20, true);
        tf_addr_at(f.b + F_TARGET, "fe80::a");
        tf_fix(&f);
        assert_parses(f.b, f.len, &p);
        assert_int_equal(nd_learn_guest_address(&p, &a), -EADDRNOTAVAIL);
        assert_parses(captured_ns_multicast, sizeof captured_ns_multicast, &p);
        assert_int_equal(nd_learn_guest_address(&p, &a), -ENOMSG);
        assert_parses(captured_rs_slla, sizeof captured_rs_slla, &p);
        assert_int_equal(nd_learn_guest_address(&p, &a), -ENOMSG);
        assert_parses(captured_ra_multicast, sizeof captured_ra_multicast, &p);
        assert_int_equal(nd_learn_guest_address(&p, &a), -ENOMSG);
        assert_memory_equal(&a, &unchanged, sizeof a);
}

/* ---- corpus ---------------------------------------------------------------------------- */

static int write_file(const char *dir, const char *name, const uint8_t *b, size_t len) {
        char path[4096], clean[128];
        FILE *f;
        size_t i;

        /* "drop-NA from ::1" -> "drop-na-from-1" */
        for (i = 0; *name && i < sizeof clean - 1; name++) {
                char c = *name;

                if (c >= 'A' && c <= 'Z')
                        c = (char) (c - 'A' + 'a');
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
                        c = '-';
                if (c != '-' || (i > 0 && clean[i - 1] != '-'))
                        clean[i++] = c;
        }
        while (i > 0 && clean[i - 1] == '-')
                i--;
        clean[i] = '\0';
        snprintf(path, sizeof path, "%s/%s", dir, clean);
        f = fopen(path, "we");
        if (!f || fwrite(b, 1, len, f) != len) {
                perror(path);
                if (f)
                        fclose(f);
                return 1;
        }
        return fclose(f) == 0 ? 0 : 1;
}

static int write_corpus(const char *dir) {
        static const struct { const char *name; void (*build)(TFrame *f); } valid[] = {
                { "built-rs", base_rs }, { "built-rs-bare", base_rs_bare },
                { "built-ra", base_ra }, { "built-ns", base_ns }, { "built-dad", base_dad },
                { "built-na", base_na }, { "built-na-bare", base_na_bare },
        };
        char name[160];
        TFrame f;
        int r = 0;

        for (size_t i = 0; i < ELEMENTSOF(valid); i++) {
                valid[i].build(&f);
                r |= write_file(dir, valid[i].name, f.b, f.len);
        }
        for (size_t i = 0; i < ELEMENTSOF(drop_cases); i++) {
                if (drop_cases[i].vlan_tagged)
                        continue;
                drop_case_build(&drop_cases[i], &f);
                snprintf(name, sizeof name, "drop-%s", drop_cases[i].name);
                r |= write_file(dir, name, f.b, f.len);
        }
        return r;
}

int main(int argc, char *argv[]) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_captured_rs),
                cmocka_unit_test(test_captured_ra),
                cmocka_unit_test(test_captured_ns),
                cmocka_unit_test(test_captured_na),
                cmocka_unit_test(test_captured_checksums),
                cmocka_unit_test(test_built_frames_parse),
                cmocka_unit_test(test_unspecified_rs_and_proxied_ra),
                cmocka_unit_test(test_every_option_type),
                cmocka_unit_test(test_option_bounds),
                cmocka_unit_test(test_drop_reasons),
                cmocka_unit_test(test_drop_bases_are_valid),
                cmocka_unit_test(test_null_and_empty),
                cmocka_unit_test(test_every_truncation),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_rewrite_ra),
                cmocka_unit_test(test_rewrite_ra_to_all_nodes),
                cmocka_unit_test(test_rewrite_na_and_ns),
                cmocka_unit_test(test_rewrite_in_place),
                cmocka_unit_test(test_rewrite_errors),
                cmocka_unit_test(test_build_na),
                cmocka_unit_test(test_checksum_odd_lengths),
                cmocka_unit_test(test_multicast_mac),
                cmocka_unit_test(test_address_classes),
                cmocka_unit_test(test_learn_guest_address),
        };

        if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
                return write_corpus(argv[2]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
