/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz-mcast-bcast: the input is one byte of options, then an IPv4 packet as an AF_PACKET
 * SOCK_DGRAM socket receives it.
 *   options bit 0: BCAST_F_CSUM_NOT_READY
 *   options bit 1: the packet arrives on the guest link (100.115.92.1/30) rather than on the
 *                  uplink (192.0.2.20/24)
 *
 * Invariants:
 *  - bcast_parse() returns 0 or -EBADMSG with a broadcast (or source) drop reason;
 *  - an accepted packet lies within the buffer, its UDP payload within the packet, its ports
 *    are >= 1024 and its destination a broadcast address of the link;
 *  - bcast_rewrite() into a buffer of exactly the packet's length gives a packet that
 *    re-parses on the guest link with its checksums verified, with the same source, ports
 *    and payload, the destination asked for, and a zero UDP checksum only if the sender sent
 *    none; one byte less of room is -ENOBUFS;
 *  - through mcast_fwd_decide(), a copy never goes back to the ingress link, and each
 *    prepared copy is a checked packet (to the guest) or the payload (to the uplink).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "bcast.h"
#include "fuzz.h"
#include "mcast-fwd.h"

#define UPLINK 2
#define GUEST 10
#define UPLINK_BCAST 0xc00002ffu /* 192.0.2.255 */
#define GUEST_HOST 0x64735c01u
#define GUEST_BCAST 0x64735c03u  /* 100.115.92.3 */

static McastFwd *fwd_get(void) {
        static McastFwd *f;
        McastAddr up = { .family = AF_INET, .prefix_len = 24, .in4 = 0xc0000214 };
        McastAddr guest = { .family = AF_INET, .prefix_len = 30, .in4 = GUEST_HOST };

        if (f)
                return f;
        f = mcast_fwd_new();
        FUZZ_CHECK(f);
        FUZZ_CHECK(mcast_fwd_set_link(f, &(McastLinkConfig) { .ifindex = UPLINK, .ifname = "up",
                                      .role = MCAST_ROLE_UPLINK,
                                      .services = MCAST_SERVICES_ALL }) == 0);
        FUZZ_CHECK(mcast_fwd_set_link(f, &(McastLinkConfig) { .ifindex = GUEST, .ifname = "g1",
                                      .role = MCAST_ROLE_GUEST, .uplink_ifindex = UPLINK,
                                      .services = MCAST_SERVICES_ALL }) == 0);
        FUZZ_CHECK(mcast_fwd_set_addresses(f, UPLINK, &up, 1) == 0);
        FUZZ_CHECK(mcast_fwd_set_addresses(f, GUEST, &guest, 1) == 0);
        FUZZ_CHECK(mcast_fwd_set_rate(f, MCAST_PROTO_BCAST, MCAST_DIR_IN, (McastRate) {}) == 0);
        FUZZ_CHECK(mcast_fwd_set_rate(f, MCAST_PROTO_BCAST, MCAST_DIR_OUT, (McastRate) {}) == 0);
        return f;
}

static bool is_bcast_reason(McastDrop r) {
        return (r >= MCAST_DROP_BCAST_TRUNCATED && r <= MCAST_DROP_BCAST_DESTINATION) ||
                r == MCAST_DROP_SOURCE_INVALID;
}

static void check_rewrite(const uint8_t *pkt, const BcastPacket *p) {
        uint32_t want = p->daddr == IPV4_LIMITED_BROADCAST ? IPV4_LIMITED_BROADCAST :
                GUEST_BCAST;
        uint8_t *out = malloc(p->total_len);
        BcastPacket q;
        size_t len;

        FUZZ_CHECK(out);
        FUZZ_CHECK(bcast_rewrite(pkt, p, GUEST_BCAST, out, p->total_len - 1, &len) == -ENOBUFS);
        FUZZ_CHECK(bcast_rewrite(pkt, p, GUEST_BCAST, out, p->total_len, &len) == 0);
        FUZZ_CHECK(len == p->total_len);
        FUZZ_CHECK(inet_checksum(out, p->ip_header_len, 0) == 0);
        FUZZ_CHECK(bcast_parse(out, len, GUEST_BCAST, 0, &q, NULL) == 0);
        FUZZ_CHECK(q.daddr == want && q.saddr == p->saddr);
        FUZZ_CHECK(q.sport == p->sport && q.dport == p->dport);
        FUZZ_CHECK(q.payload_len == p->payload_len && q.payload_offset == p->payload_offset);
        FUZZ_CHECK(memcmp(out + q.payload_offset, pkt + p->payload_offset, p->payload_len) == 0);
        if (q.udp_checksum == 0)
                FUZZ_CHECK(p->udp_checksum == 0 && !p->csum_not_ready);
        free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        McastDrop reason = _MCAST_DROP_INVALID;
        unsigned flags, options;
        bool from_guest;
        uint32_t subnet;
        uint8_t *pkt;
        BcastPacket p;
        int r;

        if (size < 1)
                return 0;
        options = data[0];
        flags = options & 1 ? BCAST_F_CSUM_NOT_READY : 0;
        from_guest = options & 2;
        subnet = from_guest ? GUEST_BCAST : UPLINK_BCAST;
        size--;
        /* an exact-size heap copy, so ASan sees any read past the packet */
        pkt = malloc(size ? size : 1);
        FUZZ_CHECK(pkt);
        if (size)
                memcpy(pkt, data + 1, size);

        r = bcast_parse(pkt, size, subnet, flags, &p, &reason);
        FUZZ_CHECK(r == 0 || r == -EBADMSG);
        if (r < 0)
                FUZZ_CHECK(is_bcast_reason(reason));
        else {
                FUZZ_CHECK(p.total_len <= size && p.ip_header_len >= 20 && p.ip_header_len <= 60);
                FUZZ_CHECK(p.payload_offset == p.ip_header_len + 8);
                FUZZ_CHECK(p.payload_offset + p.payload_len == p.total_len);
                FUZZ_CHECK(p.sport >= BCAST_PORT_MIN && p.dport >= BCAST_PORT_MIN);
                FUZZ_CHECK(p.daddr == IPV4_LIMITED_BROADCAST || p.daddr == subnet);
                check_rewrite(pkt, &p);
                (void) bcast_check_from_guest(&p, GUEST_HOST, 30, NULL);
                (void) bcast_check_from_uplink(&p, 0xc0000214, NULL);
        }

        {
                McastFwd *f = fwd_get();
                McastInput in = { .ifindex = from_guest ? GUEST : UPLINK,
                                  .socket_ifindex = from_guest ? GUEST : UPLINK,
                                  .proto = MCAST_PROTO_BCAST, .family = AF_INET,
                                  .bcast_flags = flags, .data = pkt, .len = size };
                static uint8_t out[BCAST_PACKET_MAX];
                McastDecision d;
                int k = mcast_fwd_decide(f, &in, 0, &d);

                FUZZ_CHECK(k >= 0 && k <= 1);
                if (r < 0)
                        FUZZ_CHECK(k == 0);
                for (int i = 0; i < k; i++) {
                        const uint8_t *data_out;
                        size_t len;
                        BcastPacket q;

                        FUZZ_CHECK(d.egress[i].ifindex == (from_guest ? UPLINK : GUEST));
                        FUZZ_CHECK(mcast_fwd_prepare(&in, &d, (size_t) i, out, sizeof out,
                                                     &data_out, &len) == 0);
                        if (from_guest) {
                                FUZZ_CHECK(d.egress[i].kind == MCAST_EGRESS_BCAST_PAYLOAD);
                                FUZZ_CHECK(len == p.payload_len &&
                                           data_out == pkt + p.payload_offset);
                                FUZZ_CHECK(d.egress[i].dst4 == IPV4_LIMITED_BROADCAST ||
                                           d.egress[i].dst4 == UPLINK_BCAST);
                        } else {
                                FUZZ_CHECK(d.egress[i].kind == MCAST_EGRESS_BCAST_PACKET);
                                FUZZ_CHECK(bcast_parse(data_out, len, GUEST_BCAST, 0, &q,
                                                       NULL) == 0);
                        }
                }
        }
        free(pkt);
        return 0;
}
