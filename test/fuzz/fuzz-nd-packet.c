/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the ND proxy's packet library: every input is one Ethernet frame,
 * parsed, then offered to a proxy on each of its links; every copy the proxy decides on is
 * rewritten and must parse again as the same message. Invariants are checked with
 * CHECK(), which aborts, so a violation is a crash the fuzzer reports.
 *
 * Seeds: test/fuzz/corpus/nd-packet/ (captured frames and the unit tests' hand-built ones,
 * one file each). By hand:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iforwarders/ndproxy \
 *         -Icommon test/fuzz/fuzz-nd-packet.c forwarders/ndproxy/\*.c -o /tmp/fuzz-nd
 *   cp -r test/fuzz/corpus/nd-packet /tmp/nd-corpus && /tmp/fuzz-nd /tmp/nd-corpus
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nd-packet.h"
#include "nd-proxy.h"

#define CHECK(cond)                                                                     \
        do {                                                                            \
                if (!(cond)) {                                                          \
                        fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,      \
                                __LINE__, #cond);                                       \
                        abort();                                                        \
                }                                                                       \
        } while (0)

/* Two uplinks, three guest links (two behind the first uplink), one unpaired guest link,
 * and guest addresses already learned, so the shortcuts are reachable. The captured
 * frames use 02:00:5e:00:53:01/02, the unit tests' 02:00:5e:00:53:01/0a; the links have
 * other MACs, except G2 which shares the captured host's, to reach ND_DROP_OWN_FRAME. */
enum { U = 2, G1 = 3, G2 = 4, U2 = 5, G3 = 6, G4 = 7 };
static const int ingresses[] = { U, G1, G2, U2, G3, G4, 42 };

static const struct in6_addr host_addrs[] = {
        { .s6_addr = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x01 } },
        { .s6_addr = { 0xfe, 0x80, [15] = 0x01 } },
};

static NdProxy *proxy_setup(void) {
        static const struct { int ifindex; NdLinkKind kind; uint8_t last; } links[] = {
                { U, ND_LINK_UPLINK, 0x10 }, { G1, ND_LINK_GUEST, 0x20 },
                { G2, ND_LINK_GUEST, 0x02 }, { U2, ND_LINK_UPLINK, 0x11 },
                { G3, ND_LINK_GUEST, 0x22 }, { G4, ND_LINK_GUEST, 0x23 },
        };
        static const struct { int ifindex; struct in6_addr addr; } addrs[] = {
                { G1, { .s6_addr = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x0a } } },
                { G2, { .s6_addr = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [8] = 0x00, [9] = 0x00,
                                     [10] = 0x5e, [11] = 0xff, [12] = 0xfe, [13] = 0x00,
                                     [14] = 0x53, [15] = 0x02 } } },
                { G3, { .s6_addr = { 0xfd, 0, [15] = 0x03 } } },
        };
        NdProxy *p = NULL;

        CHECK(nd_proxy_new(ND_PROXY_RA_ALL_NODES, &p) == 0);
        for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
                MacAddr m = { .b = { 0x02, 0x00, 0x5e, 0x00, 0x53, links[i].last } };

                CHECK(nd_proxy_add_link(p, links[i].ifindex, links[i].kind, &m) == 0);
        }
        CHECK(nd_proxy_add_pair(p, U, G1) == 0);
        CHECK(nd_proxy_add_pair(p, U, G2) == 0);
        CHECK(nd_proxy_add_pair(p, U2, G3) == 0);
        for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++)
                CHECK(nd_proxy_add_address(p, addrs[i].ifindex, &addrs[i].addr) == 1);
        /* The host's own: the router's address of the captures and a link-local one, so
         * that answers for the host and ND_DROP_FOR_HOST are reachable. */
        CHECK(nd_proxy_set_host_addresses(p, host_addrs, sizeof host_addrs / sizeof host_addrs[0]) == 0);
        return p;
}

static void check_packet(const NdPacket *pkt, size_t size) {
        CHECK(pkt->type >= 0 && pkt->type < _ND_TYPE_MAX);
        CHECK(pkt->len == size);
        CHECK(pkt->len >= ND_ICMP6_OFF + 8);
        CHECK(pkt->lladdr_off == 0 ||
              (pkt->lladdr_off >= ND_ICMP6_OFF + 10 && pkt->lladdr_off + MAC_LEN <= size));
        CHECK(pkt->n_prefixes <= ND_PREFIXES_MAX);
        CHECK(pkt->type == ND_TYPE_RA || pkt->n_prefixes == 0);
        for (size_t i = 0; i < pkt->n_prefixes; i++)
                CHECK(pkt->prefixes[i].prefix_len <= 128);
        CHECK(!nd_addr_is_multicast(&pkt->src));
        CHECK(!(pkt->flags & ND_FLAG_DAD) || nd_addr_is_solicited_node(&pkt->dst));
        CHECK(pkt->type != ND_TYPE_RA || nd_addr_is_link_local(&pkt->src));
        CHECK(!(pkt->eth_src.b[0] & 0x01));
}

/* The copy for one egress link parses as the same message with our addresses in it. */
static void check_copy(const uint8_t *frame, const NdPacket *pkt, const NdDecision *d,
                       const NdEgress *e) {
        static uint8_t out[65536 + 64], again[65536 + 64];
        MacAddr dst = e->dst_mac;
        NdPacket copy;
        NdDrop drop;
        size_t len, len2;

        /* What a neighbour table might have answered. */
        if (e->rule == ND_DST_NEIGHBOR_OR_DROP)
                dst = (MacAddr) { .b = { 0x02, 0x00, 0x5e, 0x00, 0x53, 0x99 } };
        CHECK(nd_packet_rewrite(frame, pkt, &e->src_mac, &dst, d->rewrite_flags, out,
                                sizeof out, &len) == 0);
        CHECK(len == pkt->len);
        if (nd_packet_parse(out, len, false, &copy, &drop) < 0) {
                fprintf(stderr, "copy dropped: %s\n", nd_drop_to_string(drop));
                abort();
        }
        CHECK(copy.type == pkt->type);
        CHECK(copy.lladdr_off == pkt->lladdr_off);
        CHECK(copy.n_prefixes == pkt->n_prefixes);
        CHECK(memcmp(&copy.target, &pkt->target, sizeof copy.target) == 0);
        CHECK(memcmp(&copy.src, &pkt->src, sizeof copy.src) == 0);
        CHECK(memcmp(&copy.dst, &d->dst, sizeof copy.dst) == 0);
        CHECK(memcmp(copy.eth_src.b, e->src_mac.b, MAC_LEN) == 0);
        CHECK(memcmp(copy.eth_dst.b, dst.b, MAC_LEN) == 0);
        CHECK(copy.lladdr_off == 0 || memcmp(copy.lladdr.b, e->src_mac.b, MAC_LEN) == 0);
        CHECK(pkt->type != ND_TYPE_RA || (copy.flags & ND_FLAG_PROXY));
        CHECK((copy.flags & ~(unsigned) ND_FLAG_PROXY) == (pkt->flags & ~(unsigned) ND_FLAG_PROXY));
        CHECK(out[ND_IP6_OFF + 7] == ND_HOP_LIMIT);
        if (e->rule == ND_DST_MULTICAST) {
                MacAddr m;

                CHECK(nd_multicast_mac(&d->dst, &m) == 0);
                CHECK(memcmp(m.b, e->dst_mac.b, MAC_LEN) == 0);
        } else
                CHECK(nd_needs_neighbor_lookup(&d->dst));

        /* Rewriting is idempotent, in place too. */
        CHECK(nd_packet_rewrite(out, &copy, &e->src_mac, &dst, d->rewrite_flags, again,
                                sizeof again, &len2) == 0);
        CHECK(len2 == len && memcmp(out, again, len) == 0);
        CHECK(nd_packet_rewrite(again, &copy, &e->src_mac, &dst, d->rewrite_flags, again,
                                sizeof again, &len2) == 0);
        CHECK(memcmp(out, again, len) == 0);
}

/* An answer for the host parses as the NA it must be. */
static void check_answer(const NdProxy *p, int ingress, const NdPacket *ns) {
        const NdLink *l = nd_proxy_get_link(p, ingress);
        uint8_t out[256];
        NdPacket na;
        NdDrop drop;
        size_t len;

        /* For the host on a paired guest link, or for a guest on an uplink. */
        CHECK(l && ((l->kind == ND_LINK_GUEST && l->uplink != 0) || l->kind == ND_LINK_UPLINK));
        CHECK(ns->type == ND_TYPE_NS && !nd_addr_is_link_local(&ns->target));
        bool router = l->kind == ND_LINK_GUEST; /* the host routes; a guest does not */
        CHECK(nd_packet_build_na(ns, &l->mac, router, out, sizeof out, &len) == 0);
        CHECK(nd_packet_parse(out, len, false, &na, &drop) == 0);
        CHECK(na.type == ND_TYPE_NA && !!(na.flags & ND_FLAG_ROUTER) == router);
        CHECK(memcmp(&na.target, &ns->target, sizeof na.target) == 0);
        CHECK(memcmp(na.lladdr.b, l->mac.b, MAC_LEN) == 0);
        CHECK(!(na.flags & ND_FLAG_OVERRIDE));
}

static void check_decision(const NdProxy *p, int ingress, const NdDecision *d) {
        /* For the host: nothing relayed; for a guest: at most the one copy to it. */
        if (d->answer && d->answer_router) {
                CHECK(d->n_egress == 0);
                return;
        }
        if (d->answer && d->n_egress == 0)
                return;
        CHECK(d->n_egress > 0 && d->n_egress <= ND_PROXY_EGRESS_MAX);
        for (size_t i = 0; i < d->n_egress; i++) {
                const NdLink *l = nd_proxy_get_link(p, d->egress[i].ifindex);

                CHECK(l);
                CHECK(d->egress[i].ifindex != ingress);
                CHECK(d->egress[i].rule >= 0 && d->egress[i].rule < _ND_DST_RULE_MAX);
                CHECK(memcmp(l->mac.b, d->egress[i].src_mac.b, MAC_LEN) == 0);
                CHECK(d->egress[i].rule != ND_DST_NEIGHBOR_OR_DROP || l->kind == ND_LINK_UPLINK);
                for (size_t j = 0; j < i; j++)
                        CHECK(d->egress[j].ifindex != d->egress[i].ifindex);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static NdProxy *proxy;
        NdPacket pkt;
        NdDrop drop = _ND_DROP_INVALID;
        struct in6_addr learnt;
        int r;

        if (!proxy)
                proxy = proxy_setup();

        /* A tag reported by the kernel always wins over whatever the frame says. */
        r = nd_packet_parse(data, size, true, &pkt, &drop);
        CHECK(r == -EBADMSG);
        CHECK(drop == (size < ND_ETH_HLEN ? ND_DROP_SHORT_FRAME : ND_DROP_VLAN));

        r = nd_packet_parse(data, size, false, &pkt, &drop);
        if (r < 0) {
                CHECK(r == -EBADMSG);
                CHECK(drop >= 0 && drop <= ND_DROP_UNSPECIFIED_LLADDR);
                CHECK(nd_drop_to_string(drop));
        } else {
                check_packet(&pkt, size);
                if (nd_learn_guest_address(&pkt, &learnt) == 0)
                        CHECK(nd_addr_is_learnable(&learnt));
        }

        for (size_t i = 0; i < sizeof ingresses / sizeof ingresses[0]; i++) {
                int ingress = ingresses[i], decided = -1;
                NdDecision d, d2;
                NdPacket pkt2;

                if (r >= 0) {
                        decided = nd_proxy_decide(proxy, ingress, &pkt, &d, &drop);
                        if (decided == 0) {
                                check_decision(proxy, ingress, &d);
                                if (d.answer)
                                        check_answer(proxy, ingress, &pkt);
                                for (size_t j = 0; j < d.n_egress; j++)
                                        check_copy(data, &pkt, &d, &d.egress[j]);
                        } else
                                CHECK(drop >= ND_DROP_UNKNOWN_LINK &&
                                      drop <= ND_DROP_FOR_HOST);
                }

                /* The whole input path agrees with the pieces; what it learns is forgotten
                 * again so every input meets the same proxy. */
                if (nd_proxy_input(proxy, ingress, data, size, false, &pkt2, &d2, &drop) == 0) {
                        CHECK(decided == 0);
                        check_decision(proxy, ingress, &d2);
                        if (d2.answer && !d.answer) {
                                /* Answered for a fresh guest: the one copy to it, or none. */
                                CHECK(!d2.answer_router && d.n_egress == 1 && d2.n_egress <= 1);
                                check_answer(proxy, ingress, &pkt2);
                        } else {
                                CHECK(d2.n_egress == d.n_egress && d2.answer == d.answer);
                                CHECK(memcmp(d2.egress, d.egress,
                                             d.n_egress * sizeof d.egress[0]) == 0);
                        }
                        if (d2.learned) {
                                CHECK(d2.learned_ifindex == ingress);
                                CHECK(nd_proxy_find_address(proxy, &d2.learned_addr) == ingress);
                                CHECK(nd_proxy_forget_address(proxy, ingress,
                                                              &d2.learned_addr) == 0);
                        }
                } else {
                        /* The input path also drops a guest's answer the proxy gave. */
                        CHECK(decided != 0 || drop == ND_DROP_ANSWERED);
                        CHECK(drop >= 0 && drop < _ND_DROP_MAX);
                }
        }
        return 0;
}
