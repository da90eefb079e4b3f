/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * A builder of Neighbor Discovery frames for the ND proxy's tests, one header field at a
 * time, with a checksum written here independently of nd-packet.c's (a pseudo-header laid
 * out in a buffer and summed byte by byte), so the library is checked against something
 * it did not compute.
 *
 * Addresses of the valid frames (documentation MACs, RFC 7042, with the local bit set):
 *   router  02:00:5e:00:53:01  fe80::1, 2001:db8:1::1
 *   guest   02:00:5e:00:53:0a  fe80::a, 2001:db8:1::a
 */

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Offsets in a frame without extension headers. */
#define F_ETH_DST 0
#define F_ETH_SRC 6
#define F_ETHERTYPE 12
#define F_IP6_VTF 14          /* version, traffic class, flow label */
#define F_IP6_PLEN 18
#define F_IP6_NEXT 20
#define F_IP6_HLIM 21
#define F_IP6_SRC 22
#define F_IP6_DST 38
#define F_ICMP 54
#define F_ICMP_TYPE 54
#define F_ICMP_CODE 55
#define F_ICMP_CSUM 56
#define F_RA_FLAGS 59         /* after cur hop limit */
#define F_NA_FLAGS 58
#define F_TARGET 62           /* NS, NA */
#define F_RS_OPTS 62
#define F_RA_OPTS 70
#define F_NSNA_OPTS 78

#define ROUTER_MAC "02:00:5e:00:53:01"
#define GUEST_MAC "02:00:5e:00:53:0a"

typedef struct TFrame {
        uint8_t b[4096];
        size_t len;
} TFrame;

static inline void tf_mac_at(uint8_t *p, const char *s) {
        unsigned m[6];

        if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
                abort();
        for (int i = 0; i < 6; i++)
                p[i] = (uint8_t) m[i];
}

static inline void tf_addr_at(uint8_t *p, const char *s) {
        if (inet_pton(AF_INET6, s, p) != 1)
                abort();
}

static inline struct in6_addr tf_in6(const char *s) {
        struct in6_addr a;

        tf_addr_at(a.s6_addr, s);
        return a;
}

static inline void tf_u8(TFrame *f, uint8_t v) {
        f->b[f->len++] = v;
}

static inline void tf_be16(TFrame *f, uint16_t v) {
        tf_u8(f, (uint8_t) (v >> 8));
        tf_u8(f, (uint8_t) v);
}

static inline void tf_be32(TFrame *f, uint32_t v) {
        tf_be16(f, (uint16_t) (v >> 16));
        tf_be16(f, (uint16_t) v);
}

static inline void tf_zero(TFrame *f, size_t n) {
        memset(f->b + f->len, 0, n);
        f->len += n;
}

static inline void tf_mac(TFrame *f, const char *s) {
        tf_mac_at(f->b + f->len, s);
        f->len += 6;
}

static inline void tf_addr(TFrame *f, const char *s) {
        tf_addr_at(f->b + f->len, s);
        f->len += 16;
}

/* The ICMPv6 checksum of the frame's message, computed without nd-packet.c. */
static inline uint16_t tf_checksum(const uint8_t *frame, size_t len) {
        static uint8_t pseudo[40 + 65536];
        size_t msg_len = len - F_ICMP, n = 0;
        uint32_t sum = 0;

        if (len < F_ICMP + 4 || msg_len > 65536)
                abort();                                        /* a test built it wrong */

        memcpy(pseudo, frame + F_IP6_SRC, 32);                  /* source, destination */
        pseudo[32] = (uint8_t) (msg_len >> 24);                 /* upper-layer length */
        pseudo[33] = (uint8_t) (msg_len >> 16);
        pseudo[34] = (uint8_t) (msg_len >> 8);
        pseudo[35] = (uint8_t) msg_len;
        pseudo[36] = pseudo[37] = pseudo[38] = 0;
        pseudo[39] = 58;                                        /* next header */
        memcpy(pseudo + 40, frame + F_ICMP, msg_len);
        pseudo[40 + 2] = pseudo[40 + 3] = 0;                    /* the field itself */
        n = 40 + msg_len;
        for (size_t i = 0; i < n; i++)
                sum += i % 2 == 0 ? (uint32_t) pseudo[i] << 8 : pseudo[i];
        while (sum > 0xffff)
                sum = (sum >> 16) + (sum & 0xffff);
        return (uint16_t) (0xffff - sum);
}

static inline void tf_fix_length(TFrame *f) {
        f->b[F_IP6_PLEN] = (uint8_t) ((f->len - F_ICMP) >> 8);
        f->b[F_IP6_PLEN + 1] = (uint8_t) (f->len - F_ICMP);
}

static inline void tf_fix_checksum(TFrame *f) {
        uint16_t sum = tf_checksum(f->b, f->len);

        f->b[F_ICMP_CSUM] = (uint8_t) (sum >> 8);
        f->b[F_ICMP_CSUM + 1] = (uint8_t) sum;
}

static inline void tf_fix(TFrame *f) {
        tf_fix_length(f);
        tf_fix_checksum(f);
}

/* Ethernet, IPv6 (payload length filled by tf_fix()), then ICMPv6 type, code 0 and a
 * checksum filled by tf_fix(). */
static inline void tf_start(TFrame *f, const char *eth_dst, const char *eth_src,
                            const char *src, const char *dst, uint8_t type) {
        f->len = 0;
        tf_mac(f, eth_dst);
        tf_mac(f, eth_src);
        tf_be16(f, 0x86dd);                     /* EtherType IPv6 */
        tf_be32(f, 0x60000000);                 /* version 6, class 0, flow 0 */
        tf_be16(f, 0);                          /* payload length */
        tf_u8(f, 58);                           /* next header ICMPv6 */
        tf_u8(f, 255);                          /* hop limit */
        tf_addr(f, src);
        tf_addr(f, dst);
        tf_u8(f, type);
        tf_u8(f, 0);                            /* code */
        tf_be16(f, 0);                          /* checksum */
}

/* Source (1) or target (2) link-layer address option, 8 bytes (RFC 4861 §4.6.1). */
static inline void tf_opt_lladdr(TFrame *f, uint8_t type, const char *mac) {
        tf_u8(f, type);
        tf_u8(f, 1);
        tf_mac(f, mac);
}

/* Prefix information option, 32 bytes (RFC 4861 §4.6.2). */
static inline void tf_opt_prefix(TFrame *f, const char *prefix, uint8_t prefix_len,
                                 uint8_t flags, uint32_t valid, uint32_t preferred) {
        tf_u8(f, 3);
        tf_u8(f, 4);
        tf_u8(f, prefix_len);
        tf_u8(f, flags);
        tf_be32(f, valid);
        tf_be32(f, preferred);
        tf_zero(f, 4);                          /* reserved */
        tf_addr(f, prefix);
}

/* MTU option, 8 bytes (RFC 4861 §4.6.4). */
static inline void tf_opt_mtu(TFrame *f, uint32_t mtu) {
        tf_u8(f, 5);
        tf_u8(f, 1);
        tf_zero(f, 2);
        tf_be32(f, mtu);
}

/* Any option of `units` 8-byte units, its body zero (e.g. 14, the nonce of RFC 3971). */
static inline void tf_opt_raw(TFrame *f, uint8_t type, uint8_t units) {
        tf_u8(f, type);
        tf_u8(f, units);
        tf_zero(f, (size_t) units * 8 - 2);
}

/* RS from the guest's link-local address to all-routers, with or without SLLA. */
static inline void tf_rs(TFrame *f, bool slla) {
        tf_start(f, "33:33:00:00:00:02", GUEST_MAC, "fe80::a", "ff02::2", 133);
        tf_zero(f, 4);                          /* reserved */
        if (slla)
                tf_opt_lladdr(f, 1, GUEST_MAC);
        tf_fix(f);
}

/* RA from the router to all-nodes: SLLA, 2001:db8:1::/64 (L, A), MTU 1500. */
static inline void tf_ra(TFrame *f) {
        tf_start(f, "33:33:00:00:00:01", ROUTER_MAC, "fe80::1", "ff02::1", 134);
        tf_u8(f, 64);                           /* cur hop limit */
        tf_u8(f, 0);                            /* M O H Prf P flags */
        tf_be16(f, 1800);                       /* router lifetime */
        tf_be32(f, 0);                          /* reachable time */
        tf_be32(f, 0);                          /* retrans timer */
        tf_opt_lladdr(f, 1, ROUTER_MAC);
        tf_opt_prefix(f, "2001:db8:1::", 64, 0xc0, 86400, 14400);
        tf_opt_mtu(f, 1500);
        tf_fix(f);
}

/* The fixed part of an RA without options, for tests that add their own. */
static inline void tf_ra_bare(TFrame *f) {
        tf_start(f, "33:33:00:00:00:01", ROUTER_MAC, "fe80::1", "ff02::1", 134);
        tf_u8(f, 64);
        tf_u8(f, 0);
        tf_be16(f, 1800);
        tf_be32(f, 0);
        tf_be32(f, 0);
        tf_fix(f);
}

/* NS from the guest resolving the router's global address, to its solicited-node group. */
static inline void tf_ns(TFrame *f, bool slla) {
        tf_start(f, "33:33:ff:00:00:01", GUEST_MAC, "2001:db8:1::a", "ff02::1:ff00:1", 135);
        tf_zero(f, 4);                          /* reserved */
        tf_addr(f, "2001:db8:1::1");            /* target */
        if (slla)
                tf_opt_lladdr(f, 1, GUEST_MAC);
        tf_fix(f);
}

/* DAD NS for the guest's tentative 2001:db8:1::a: from ::, no options. */
static inline void tf_dad(TFrame *f) {
        tf_start(f, "33:33:ff:00:00:0a", GUEST_MAC, "::", "ff02::1:ff00:a", 135);
        tf_zero(f, 4);
        tf_addr(f, "2001:db8:1::a");
        tf_fix(f);
}

/* The router's NA for 2001:db8:1::1 to the guest, flags as given (0xe0 = R S O). */
static inline void tf_na(TFrame *f, uint8_t flags, bool tlla) {
        tf_start(f, GUEST_MAC, ROUTER_MAC, "2001:db8:1::1", "2001:db8:1::a", 136);
        tf_u8(f, flags);                        /* R S O, then 29 reserved bits */
        tf_zero(f, 3);
        tf_addr(f, "2001:db8:1::1");            /* target */
        if (tlla)
                tf_opt_lladdr(f, 2, ROUTER_MAC);
        tf_fix(f);
}

static inline void tf_copy(TFrame *f, const uint8_t *bytes, size_t len) {
        memcpy(f->b, bytes, len);
        f->len = len;
}
