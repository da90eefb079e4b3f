/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "bcast.h"

#define IPV4_HEADER_MIN 20u
#define UDP_HEADER_SIZE 8u
#define IP_FLAG_MF 0x2000u
#define IP_OFFSET_MASK 0x1fffu
#define IPPROTO_UDP_NUMBER 17u

static int drop(McastDrop *reterr_drop, McastDrop reason) {
        if (reterr_drop)
                *reterr_drop = reason;
        return -EBADMSG;
}

static uint16_t get16(const uint8_t *p) {
        return (uint16_t) ((unsigned) p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v) {
        p[0] = (uint8_t) (v >> 8);
        p[1] = (uint8_t) v;
}

static void put32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) (v >> 24);
        p[1] = (uint8_t) (v >> 16);
        p[2] = (uint8_t) (v >> 8);
        p[3] = (uint8_t) v;
}

/* The 32-bit sum of 16-bit big-endian words; an odd last byte counts as its high half. */
static uint32_t sum_words(const uint8_t *p, size_t len, uint32_t sum) {
        size_t i;

        for (i = 0; i + 1 < len; i += 2) {
                sum += get16(p + i);
                /* Fold early: a 64 KiB packet would otherwise come close to wrapping. */
                sum = (sum & 0xffffu) + (sum >> 16);
        }
        if (i < len)
                sum += (uint32_t) p[i] << 8;
        return sum;
}

uint16_t inet_checksum(const void *data, size_t len, uint32_t sum) {
        sum = sum_words(data, len, sum);
        while (sum >> 16)
                sum = (sum & 0xffffu) + (sum >> 16);
        return (uint16_t) ~sum;
}

/* RFC 768: source, destination, zero, protocol, UDP length. */
static uint32_t udp_pseudo_sum(uint32_t saddr, uint32_t daddr, size_t udp_len) {
        return (saddr >> 16) + (saddr & 0xffffu) + (daddr >> 16) + (daddr & 0xffffu) +
                IPPROTO_UDP_NUMBER + (uint32_t) udp_len;
}

/* RFC 791 §3.1: end of list, no-operation, or type-length-value with length >= 2. */
static bool ip_options_ok(const uint8_t *opt, size_t len) {
        size_t i = 0;

        while (i < len) {
                uint8_t type = opt[i];

                if (type == 0)          /* end of option list: the rest is padding */
                        return true;
                if (type == 1) {        /* no operation */
                        i++;
                        continue;
                }
                if (len - i < 2 || opt[i + 1] < 2 || opt[i + 1] > len - i)
                        return false;
                i += opt[i + 1];
        }
        return true;
}

/* 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4 (multicast) and 240.0.0.0/4 (including
 * 255.255.255.255) can never be the source of a datagram worth relaying. */
static bool ipv4_source_is_valid(uint32_t a) {
        uint8_t first = (uint8_t) (a >> 24);

        return first != 0 && first != 127 && first < 224;
}

int bcast_parse(const uint8_t *pkt, size_t len, uint32_t subnet_broadcast, unsigned flags,
                BcastPacket *ret, McastDrop *reterr_drop) {
        size_t ihl, total, udp_len;
        uint16_t frag;
        BcastPacket p = {};

        if (!pkt || len < IPV4_HEADER_MIN)
                return drop(reterr_drop, MCAST_DROP_BCAST_TRUNCATED);
        if (pkt[0] >> 4 != 4)
                return drop(reterr_drop, MCAST_DROP_BCAST_VERSION);
        ihl = (size_t) (pkt[0] & 0x0f) * 4;
        if (ihl < IPV4_HEADER_MIN)
                return drop(reterr_drop, MCAST_DROP_BCAST_HEADER_LENGTH);
        if (ihl > len)
                return drop(reterr_drop, MCAST_DROP_BCAST_TRUNCATED);
        total = get16(pkt + 2);
        if (total < ihl)
                return drop(reterr_drop, MCAST_DROP_BCAST_TOTAL_LENGTH);
        if (total > len)
                return drop(reterr_drop, MCAST_DROP_BCAST_TRUNCATED);
        /* The header checksum is always complete: the kernel computes it in software. */
        if (inet_checksum(pkt, ihl, 0) != 0)
                return drop(reterr_drop, MCAST_DROP_BCAST_IP_CHECKSUM);
        if (!ip_options_ok(pkt + IPV4_HEADER_MIN, ihl - IPV4_HEADER_MIN))
                return drop(reterr_drop, MCAST_DROP_BCAST_IP_OPTIONS);
        frag = get16(pkt + 6);
        if (frag & (IP_FLAG_MF | IP_OFFSET_MASK))
                return drop(reterr_drop, MCAST_DROP_BCAST_FRAGMENT);
        if (pkt[9] != IPPROTO_UDP_NUMBER)
                return drop(reterr_drop, MCAST_DROP_BCAST_NOT_UDP);
        if (total - ihl < UDP_HEADER_SIZE)
                return drop(reterr_drop, MCAST_DROP_BCAST_TRUNCATED);
        udp_len = get16(pkt + ihl + 4);
        if (udp_len != total - ihl)
                return drop(reterr_drop, MCAST_DROP_BCAST_UDP_LENGTH);

        p = (BcastPacket) {
                .saddr = get32(pkt + 12),
                .daddr = get32(pkt + 16),
                .sport = get16(pkt + ihl),
                .dport = get16(pkt + ihl + 2),
                .ip_header_len = ihl,
                .total_len = total,
                .payload_offset = ihl + UDP_HEADER_SIZE,
                .payload_len = udp_len - UDP_HEADER_SIZE,
                .udp_checksum = get16(pkt + ihl + 6),
                .csum_not_ready = flags & BCAST_F_CSUM_NOT_READY,
        };

        if (!ipv4_source_is_valid(p.saddr))
                return drop(reterr_drop, MCAST_DROP_SOURCE_INVALID);
        if (p.daddr != IPV4_LIMITED_BROADCAST &&
            (subnet_broadcast == 0 || p.daddr != subnet_broadcast))
                return drop(reterr_drop, MCAST_DROP_BCAST_DESTINATION);
        if (p.sport < BCAST_PORT_MIN || p.dport < BCAST_PORT_MIN)
                return drop(reterr_drop, MCAST_DROP_BCAST_PORT);
        /* RFC 768: a checksum of 0 means none was computed; a sum that checks folds to 0. */
        if (!p.csum_not_ready && p.udp_checksum != 0 &&
            inet_checksum(pkt + ihl, udp_len, udp_pseudo_sum(p.saddr, p.daddr, udp_len)) != 0)
                return drop(reterr_drop, MCAST_DROP_BCAST_UDP_CHECKSUM);

        *ret = p;
        return 0;
}

int bcast_check_from_uplink(const BcastPacket *p, uint32_t uplink_addr, McastDrop *reterr_drop) {
        if (uplink_addr != 0 && p->saddr == uplink_addr)
                return drop(reterr_drop, MCAST_DROP_SOURCE_IS_HOST);
        return 0;
}

int bcast_check_from_guest(const BcastPacket *p, uint32_t host_addr, unsigned prefix_len,
                           McastDrop *reterr_drop) {
        uint32_t host_mask;

        if (host_addr == 0 || prefix_len > 32)
                return -EINVAL;
        if (!bcast_in_subnet(p->saddr, host_addr, prefix_len))
                return drop(reterr_drop, MCAST_DROP_SOURCE_OUTSIDE_SUBNET);
        if (p->saddr == host_addr)
                return drop(reterr_drop, MCAST_DROP_SOURCE_IS_HOST);
        /* The network and broadcast addresses name no guest (except in /31 and /32). */
        host_mask = prefix_len == 0 ? 0xffffffffu : prefix_len >= 32 ? 0 :
                0xffffffffu >> prefix_len;
        if (prefix_len < 31 && ((p->saddr & host_mask) == 0 ||
                                (p->saddr & host_mask) == host_mask))
                return drop(reterr_drop, MCAST_DROP_SOURCE_INVALID);
        return 0;
}

uint32_t bcast_uplink_destination(const BcastPacket *p, uint32_t uplink_broadcast) {
        if (p->daddr == IPV4_LIMITED_BROADCAST)
                return IPV4_LIMITED_BROADCAST;
        return uplink_broadcast;
}

int bcast_rewrite(const uint8_t *pkt, const BcastPacket *p, uint32_t link_broadcast,
                  uint8_t *out, size_t size, size_t *ret_len) {
        size_t ihl = p->ip_header_len, udp_len = p->total_len - p->ip_header_len;
        uint32_t daddr = p->daddr;
        uint16_t csum;

        if (p->total_len > size)
                return -ENOBUFS;
        if (daddr != IPV4_LIMITED_BROADCAST) {
                if (link_broadcast == 0)
                        return -EINVAL;
                daddr = link_broadcast;
        }

        memcpy(out, pkt, p->total_len);
        put32(out + 16, daddr);
        put16(out + 10, 0);
        put16(out + 10, inet_checksum(out, ihl, 0));

        if (p->udp_checksum != 0 || p->csum_not_ready) {
                put16(out + ihl + 6, 0);
                csum = inet_checksum(out + ihl, udp_len, udp_pseudo_sum(p->saddr, daddr, udp_len));
                put16(out + ihl + 6, csum == 0 ? 0xffff : csum);
        }

        *ret_len = p->total_len;
        return 0;
}
