/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Theory of operation: an RFC 4389 ND proxy that lets guests share their uplink's /64.
 *
 * The host sits between an uplink (the router's link) and guest links (a veth, a TAP, a
 * bridge), and makes them one IPv6 "multilink subnet" (RFC 4389 §1): guests autoconfigure
 * addresses in the uplink's prefix and resolve the router, and the router resolves them,
 * through the proxy, which relays RS, RA, NS and NA between the links and puts its own
 * MAC in every copy (RFC 4389 §4.1.2), so every unicast frame lands on the host and is
 * routed by the kernel (a /128 route per learned guest address, see Learning).
 *
 * Stages of a frame (nd_proxy_input()):
 *   1. The ingress link must be one we serve, else ND_DROP_UNKNOWN_LINK; its received
 *      counter counts every frame from here on.
 *   2. nd_packet_parse() checks it as RFC 4861 §6.1 and §7.1 ask, hop limit 255 included:
 *      a frame that crossed a router, or any malformed one, goes no further.
 *   3. A frame whose Ethernet source is the ingress link's own MAC is ours (the packet
 *      socket also sees what this host sends): ND_DROP_OWN_FRAME, never a loop.
 *   3b. A frame to one of the host's own addresses, or an NS for one, is the host's own
 *      Neighbor Discovery (a guest resolving or probing the host, the router probing the
 *      host's SLAAC address): its kernel answers, the proxy stays out (ND_DROP_FOR_HOST).
 *      But a guest asking for a global address the host has on the uplink asks on a link
 *      where the kernel does not have it (and so does not answer): the proxy answers
 *      itself, for the host, with its MAC on that link (NdDecision.answer), as it would
 *      relay the owner's answer if the owner were another node of the uplink.
 *   4. The rules below name the egress links; none means ND_DROP_NO_PEER.
 *   5. Only then, from a guest link, the address the frame reveals is learned.
 * The daemon then rewrites and sends one copy per egress link (nd_packet_rewrite()).
 *
 * Which packet goes where (U an uplink, G1..Gn the guest links paired with it):
 *   RS  Gi -> U only: guests look for the router, which is on the uplink. An RS from U
 *       is not relayed (the guests are hosts, not routers: ND_DROP_WRONG_DIRECTION).
 *   RA  U -> every Gi, with the Proxy flag set (RFC 4389 §4.1.3.3) so guests and
 *       cascaded proxies know. A P flag already set is not a loop: a VM running its own
 *       ndproxyd for its containers receives our proxied RA and must relay it again.
 *       An RA from a guest link is never relayed (a rogue router on a guest must not
 *       reach the uplink or other guests: ND_DROP_WRONG_DIRECTION). With
 *       ND_PROXY_RA_ALL_NODES every RA leaves to ff02::1, as the later original did, so
 *       an RA the router sent unicast to one guest's link-local address reaches all.
 *   NS, NA  between U and every Gi, and between the Gi behind the same U (RFC 4389
 *       §4.1.3.1, §4.1.3.2), never back to the ingress link. Two shortcuts keep guests
 *       from seeing each other's traffic when the proxy knows where an address lives:
 *       an NS whose target was learned on another link Gj, or a unicast NS/NA whose
 *       destination was learned on Gj, goes to Gj alone. A unicast one whose destination
 *       was learned on the ingress link itself is for a node on that link and is not
 *       relayed (ND_DROP_LOCAL_DESTINATION). DAD NS (from ::) is relayed like any other,
 *       so a duplicate on another link answers it (RFC 4862 §5.4).
 *   A guest link without an uplink gets and sends nothing (ND_DROP_NO_PEER); a guest link
 *   sits behind at most one uplink, as in the original, so a guest sees one prefix.
 *
 * Ethernet destination of each copy (NdDstRule), from the copy's IPv6 destination:
 *   multicast (ff02::1, ff02::2, solicited-node groups) -> 33:33 + its low 32 bits
 *   (RFC 2464 §7), computed here; unicast -> the egress link's neighbour entry, which only
 *   the daemon can look up; without one, all-nodes' MAC towards a guest link (the guest's
 *   stack accepts it; the original did the same) and nothing towards an uplink, where a
 *   guess would reach every host of the LAN.
 *
 * Learning: from a frame proxied out of a guest link, an NA's target or a DAD NS's target
 * that is global unicast or unique local (nd_learn_guest_address()) is recorded on that
 * link, at most ND_PROXY_ADDRS_MAX per link, never on two links at once (a guest cannot
 * take over another guest's address), and only inside a prefix the router of the guest's
 * uplink advertises (its RAs' prefix information with L or A set, until their valid
 * lifetime runs out): a guest must not get a /128 route for an address elsewhere, which
 * would steal the host's traffic to it. The daemon adds a /128 route to it towards the
 * link, after checking what only it can see (the host's own addresses, the uplink's
 * neighbours; nd_proxy_refuse_address() undoes what it will not route). It reads the
 * addresses back (nd_proxy_get_link()) to remove routes when a link goes, and replays them
 * with nd_proxy_add_address() after a restart.
 *
 * Answering for a guest: the router that resolves a learned guest address would wait for
 * two relays and the guest. When the guest showed a sign of life within
 * ND_PROXY_FRESH_USEC the proxy answers the uplink's NS at once, as a proxy with a valid
 * entry may (RFC 4389 §4.1.3.2, what ndppd's session cache and the kernel's proxy_ndp
 * do), and still relays the NS to the guest so that it learns the asker, but not again
 * for the same asker within ND_PROXY_RELAY_HOLD_USEC: a flood of NS from the uplink costs
 * the guest one per second. The guest's own answer to that asker is then dropped
 * (ND_DROP_ANSWERED): the asker has one. DAD NS are never answered, only relayed: the
 * guest defends its address itself. Once the address's route is made, the process that
 * made it has also given it a proxy entry on the uplink, and the daemon says so
 * (nd_proxy_set_kernel_answers()): from then on the kernel answers the NS in its receive
 * path, without the trip through this process, for as long as the address is learned,
 * and the daemon's socket filter keeps such NS away (nd_proxy_kernel_answered()); one
 * that still arrives (more addresses than the filter holds) is only relayed, with the
 * same hold, and the guest's answer dropped.
 *
 * Aging: each learned address carries the time of its last sign of life (proxy clock,
 * nd_proxy_set_clock()): the guest's NA or DAD NS for it, or any frame from it. The daemon
 * arms one timer for the oldest (nd_proxy_oldest_address()), asks the kernel whether its
 * neighbour entry on the guest link was confirmed since (nd_proxy_touch_address()), and
 * otherwise forgets it (nd_proxy_expire_address()) and removes its route. A guest that is
 * still there answers the router's next NS for the address, and is learned again.
 *
 * The proxy's own neighbour cache: the IPv6 source and Ethernet source of every frame it
 * proxies, and an NA's target and TLLA, per link (ND_PROXY_NEIGHBORS_MAX, the least
 * recently seen replaced). A router that resolves a guest's address sends its NS from an
 * address the host's kernel has never talked to, so the kernel's neighbour table cannot
 * address the guest's NA back to it; the cache can (nd_proxy_lookup_neighbor()).
 *
 * Everything is bounded (ND_PROXY_LINKS_MAX links, ND_PROXY_ADDRS_MAX addresses per link)
 * and lives in one allocation; nothing here allocates, blocks or logs after
 * nd_proxy_new().
 */

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "macro.h"
#include "nd-proxy.h"

typedef struct NdNeighbor {
        int ifindex;                 /* 0: a free slot */
        struct in6_addr addr;
        MacAddr mac;
        uint64_t seen;
} NdNeighbor;

struct NdProxy {
        unsigned flags;
        uint64_t now;
        size_t n_links;
        NdLink links[ND_PROXY_LINKS_MAX];
        NdNeighbor neighbors[ND_PROXY_NEIGHBORS_MAX];
        size_t n_host_addrs;         /* sorted, for bsearch() */
        struct in6_addr host_addrs[ND_PROXY_HOST_ADDRS_MAX];
};

static int addr_compare(const void *a, const void *b) {
        return memcmp(a, b, sizeof(struct in6_addr));
}

static bool is_host_address(const NdProxy *p, const struct in6_addr *a) {
        return p->n_host_addrs > 0 &&
               bsearch(a, p->host_addrs, p->n_host_addrs, sizeof p->host_addrs[0], addr_compare);
}

static const struct in6_addr all_nodes = { .s6_addr = { 0xff, 0x02, [15] = 0x01 } };

static const char *const nd_link_kind_names[_ND_LINK_KIND_MAX] = {
        [ND_LINK_UPLINK] = "uplink",
        [ND_LINK_GUEST] = "guest",
};

static const char *const nd_dst_rule_names[_ND_DST_RULE_MAX] = {
        [ND_DST_MULTICAST] = "multicast",
        [ND_DST_NEIGHBOR_OR_ALL_NODES] = "neighbor-or-all-nodes",
        [ND_DST_NEIGHBOR_OR_DROP] = "neighbor-or-drop",
};

const char *nd_link_kind_to_string(NdLinkKind k) {
        if (k < 0 || k >= _ND_LINK_KIND_MAX)
                return NULL;
        return nd_link_kind_names[k];
}

const char *nd_dst_rule_to_string(NdDstRule rule) {
        if (rule < 0 || rule >= _ND_DST_RULE_MAX)
                return NULL;
        return nd_dst_rule_names[rule];
}

static bool mac_usable(const MacAddr *mac) {
        static const MacAddr zero = {};
        return !(mac->b[0] & 0x01) && memcmp(mac, &zero, sizeof zero) != 0;
}

static bool mac_equal(const MacAddr *a, const MacAddr *b) {
        return memcmp(a->b, b->b, MAC_LEN) == 0;
}

static bool addr_equal(const struct in6_addr *a, const struct in6_addr *b) {
        return memcmp(a->s6_addr, b->s6_addr, sizeof a->s6_addr) == 0;
}

static NdLink *link_find(const NdProxy *p, int ifindex) {
        if (ifindex <= 0)
                return NULL;
        for (size_t i = 0; i < p->n_links; i++)
                if (p->links[i].ifindex == ifindex)
                        return (NdLink *) &p->links[i];
        return NULL;
}

/* The position of addr among l's addresses, or -1. */
static ssize_t link_addr_index(const NdLink *l, const struct in6_addr *addr) {
        for (size_t i = 0; i < l->n_addrs; i++)
                if (addr_equal(&l->addrs[i], addr))
                        return (ssize_t) i;
        return -1;
}

/* The index of @addr among the addresses of link @ifindex, that link in @ret; -ENOENT when
 * either is unknown. */
static ssize_t link_address(NdProxy *p, int ifindex, const struct in6_addr *addr, NdLink **ret) {
        NdLink *l = link_find(p, ifindex);
        ssize_t i = l ? link_addr_index(l, addr) : -1;

        if (i < 0)
                return -ENOENT;
        *ret = l;
        return i;
}

/* The guest link addr was learned on, or NULL. */
static const NdLink *address_owner(const NdProxy *p, const struct in6_addr *addr) {
        for (size_t i = 0; i < p->n_links; i++)
                if (p->links[i].n_addrs > 0 && link_addr_index(&p->links[i], addr) >= 0)
                        return &p->links[i];
        return NULL;
}

int nd_proxy_new(unsigned flags, NdProxy **ret) {
        NdProxy *p;

        if (flags & ~(unsigned) ND_PROXY_RA_ALL_NODES)
                return -EINVAL;
        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->flags = flags;
        *ret = p;
        return 0;
}

NdProxy *nd_proxy_free(NdProxy *p) {
        free(p);
        return NULL;
}

int nd_proxy_add_link(NdProxy *p, int ifindex, NdLinkKind kind, const MacAddr *mac) {
        if (ifindex <= 0 || kind < 0 || kind >= _ND_LINK_KIND_MAX || !mac_usable(mac))
                return -EINVAL;
        if (link_find(p, ifindex))
                return -EEXIST;
        if (p->n_links >= ND_PROXY_LINKS_MAX)
                return -ENOSPC;
        p->links[p->n_links++] = (NdLink) {
                .ifindex = ifindex,
                .kind = kind,
                .mac = *mac,
        };
        return 0;
}

int nd_proxy_remove_link(NdProxy *p, int ifindex) {
        NdLink *l = link_find(p, ifindex);
        size_t i;

        if (!l)
                return -ENOENT;
        if (l->kind == ND_LINK_UPLINK)
                for (size_t j = 0; j < p->n_links; j++)
                        if (p->links[j].uplink == ifindex)
                                p->links[j].uplink = 0;
        for (size_t j = 0; j < ELEMENTSOF(p->neighbors); j++)
                if (p->neighbors[j].ifindex == ifindex)
                        p->neighbors[j] = (NdNeighbor) {};
        /* Keep the order links were added in, for status output. */
        i = (size_t) (l - p->links);
        memmove(&p->links[i], &p->links[i + 1], (p->n_links - i - 1) * sizeof p->links[0]);
        p->n_links--;
        return 0;
}

int nd_proxy_set_link_mac(NdProxy *p, int ifindex, const MacAddr *mac) {
        NdLink *l;

        if (!mac_usable(mac))
                return -EINVAL;
        l = link_find(p, ifindex);
        if (!l)
                return -ENOENT;
        l->mac = *mac;
        return 0;
}

int nd_proxy_add_pair(NdProxy *p, int uplink, int guest) {
        NdLink *u = link_find(p, uplink), *g = link_find(p, guest);

        if (!u || !g)
                return -ENOENT;
        if (u->kind != ND_LINK_UPLINK || g->kind != ND_LINK_GUEST)
                return -EINVAL;
        if (g->uplink == uplink)
                return -EEXIST;
        if (g->uplink != 0)
                return -EBUSY;
        g->uplink = uplink;
        return 0;
}

int nd_proxy_remove_pair(NdProxy *p, int uplink, int guest) {
        NdLink *g = link_find(p, guest);

        if (!g || g->kind != ND_LINK_GUEST || uplink <= 0 || g->uplink != uplink)
                return -ENOENT;
        g->uplink = 0;
        return 0;
}

const NdLink *nd_proxy_get_link(const NdProxy *p, int ifindex) {
        return link_find(p, ifindex);
}

size_t nd_proxy_n_links(const NdProxy *p) {
        return p->n_links;
}

const NdLink *nd_proxy_link_at(const NdProxy *p, size_t i) {
        return i < p->n_links ? &p->links[i] : NULL;
}

void nd_proxy_set_clock(NdProxy *p, uint64_t now_usec) {
        if (now_usec > p->now)
                p->now = now_usec;
}

int nd_proxy_set_host_addresses(NdProxy *p, const struct in6_addr *addrs, size_t n) {
        size_t k = n < ND_PROXY_HOST_ADDRS_MAX ? n : ND_PROXY_HOST_ADDRS_MAX;

        if (k > 0)
                memcpy(p->host_addrs, addrs, k * sizeof addrs[0]);
        p->n_host_addrs = k;
        qsort(p->host_addrs, k, sizeof p->host_addrs[0], addr_compare);
        return k < n ? -E2BIG : 0;
}

int nd_proxy_add_address(NdProxy *p, int guest, const struct in6_addr *addr) {
        NdLink *g = link_find(p, guest);
        const NdLink *owner;
        ssize_t i;

        if (!g)
                return -ENOENT;
        if (g->kind != ND_LINK_GUEST || !nd_addr_is_learnable(addr))
                return -EINVAL;
        if (is_host_address(p, addr))
                return -EADDRINUSE;
        owner = address_owner(p, addr);
        if (owner == g) {
                i = link_addr_index(g, addr);
                g->addr_seen[i] = p->now;
                return 0;
        }
        if (owner)
                return -EEXIST;
        if (g->n_addrs >= ND_PROXY_ADDRS_MAX)
                return -ENOSPC;
        g->addr_seen[g->n_addrs] = p->now;
        g->addr_answered[g->n_addrs] = 0;
        g->addr_kernel[g->n_addrs] = false;
        g->addrs[g->n_addrs++] = *addr;
        return 1;
}

int nd_proxy_forget_address(NdProxy *p, int guest, const struct in6_addr *addr) {
        NdLink *g;
        ssize_t i = link_address(p, guest, addr, &g);
        size_t n;

        if (i < 0)
                return (int) i;
        n = g->n_addrs - (size_t) i - 1;
        memmove(&g->addrs[i], &g->addrs[i + 1], n * sizeof g->addrs[0]);
        memmove(&g->addr_seen[i], &g->addr_seen[i + 1], n * sizeof g->addr_seen[0]);
        memmove(&g->addr_asker[i], &g->addr_asker[i + 1], n * sizeof g->addr_asker[0]);
        memmove(&g->addr_answered[i], &g->addr_answered[i + 1], n * sizeof g->addr_answered[0]);
        memmove(&g->addr_kernel[i], &g->addr_kernel[i + 1], n * sizeof g->addr_kernel[0]);
        g->n_addrs--;
        return 0;
}

int nd_proxy_set_kernel_answers(NdProxy *p, int guest, const struct in6_addr *addr, bool on) {
        NdLink *g;
        ssize_t i = link_address(p, guest, addr, &g);

        if (i < 0)
                return (int) i;
        g->addr_kernel[i] = on;
        return 0;
}

size_t nd_proxy_host_addresses(const NdProxy *p, struct in6_addr *ret, size_t max) {
        size_t n = p->n_host_addrs < max ? p->n_host_addrs : max;

        memcpy(ret, p->host_addrs, n * sizeof ret[0]);
        return n;
}

size_t nd_proxy_kernel_answered(const NdProxy *p, NdKernelAnswered *ret, size_t max) {
        size_t n = 0;

        for (size_t i = 0; i < p->n_links; i++) {
                const NdLink *l = &p->links[i];

                if (l->kind != ND_LINK_GUEST || l->uplink <= 0)
                        continue;
                for (size_t j = 0; j < l->n_addrs && n < max; j++)
                        if (l->addr_kernel[j])
                                ret[n++] = (NdKernelAnswered) { .uplink = l->uplink,
                                                                .addr = l->addrs[j] };
        }
        return n;
}

int nd_proxy_touch_address(NdProxy *p, int guest, const struct in6_addr *addr, uint64_t when) {
        NdLink *g;
        ssize_t i = link_address(p, guest, addr, &g);

        if (i < 0)
                return (int) i;
        if (when > g->addr_seen[i])
                g->addr_seen[i] = when;
        return 0;
}

int nd_proxy_oldest_address(const NdProxy *p, int *ret_ifindex, struct in6_addr *ret_addr,
                            uint64_t *ret_seen) {
        const NdLink *best = NULL;
        size_t best_i = 0;

        for (size_t i = 0; i < p->n_links; i++) {
                const NdLink *l = &p->links[i];

                for (size_t j = 0; j < l->n_addrs; j++)
                        if (!best || l->addr_seen[j] < best->addr_seen[best_i]) {
                                best = l;
                                best_i = j;
                        }
        }
        if (!best)
                return -ENOENT;
        *ret_ifindex = best->ifindex;
        *ret_addr = best->addrs[best_i];
        *ret_seen = best->addr_seen[best_i];
        return 0;
}

int nd_proxy_expire_address(NdProxy *p, int guest, const struct in6_addr *addr) {
        int r = nd_proxy_forget_address(p, guest, addr);

        if (r >= 0)
                link_find(p, guest)->counters.expired++;
        return r;
}

int nd_proxy_refuse_address(NdProxy *p, int guest, const struct in6_addr *addr) {
        int r = nd_proxy_forget_address(p, guest, addr);

        if (r >= 0) {
                NdLink *g = link_find(p, guest);
                g->counters.learn_refused++;
                if (g->counters.learned > 0)
                        g->counters.learned--;
        }
        return r;
}

/* Whether a lies in prefix/len. */
static bool prefix_contains(const struct in6_addr *prefix, uint8_t len, const struct in6_addr *a) {
        size_t whole = len / 8;
        uint8_t rest = (uint8_t) (len % 8);

        if (memcmp(prefix->s6_addr, a->s6_addr, whole) != 0)
                return false;
        if (rest == 0)
                return true;
        return ((prefix->s6_addr[whole] ^ a->s6_addr[whole]) & (uint8_t) (0xff << (8 - rest))) == 0;
}

bool nd_proxy_uplink_has_prefix(const NdProxy *p, int uplink, const struct in6_addr *addr) {
        const NdLink *u = link_find(p, uplink);

        if (!u || u->kind != ND_LINK_UPLINK)
                return false;
        for (size_t i = 0; i < u->n_prefixes; i++)
                if (u->prefixes[i].expires > p->now &&
                    prefix_contains(&u->prefixes[i].prefix, u->prefixes[i].prefix_len, addr))
                        return true;
        return false;
}

/* An RA's prefixes with L or A set (RFC 4861 §4.6.2, RFC 4862 §5.5.3): added, renewed, or
 * with a valid lifetime of 0 removed. Link-local and multicast prefixes are not a guest's;
 * a full table replaces the entry that expires first. */
static void uplink_note_prefixes(NdProxy *p, NdLink *u, const NdPacket *pkt) {
        for (size_t i = 0; i < pkt->n_prefixes; i++) {
                const NdPrefix *pi = &pkt->prefixes[i];
                NdLinkPrefix want = { .prefix_len = pi->prefix_len };
                size_t slot = u->n_prefixes;

                if (!(pi->flags & (ND_OPT_PI_FLAG_ONLINK | ND_OPT_PI_FLAG_AUTO)) ||
                    pi->prefix_len == 0 || nd_addr_is_link_local(&pi->prefix) ||
                    nd_addr_is_multicast(&pi->prefix))
                        continue;
                for (size_t b = 0; b < 16; b++) {
                        size_t bits = (size_t) pi->prefix_len > b * 8 ? pi->prefix_len - b * 8 : 0;
                        uint8_t mask = (uint8_t) (bits >= 8 ? 0xffu : 0xffu << (8 - bits));
                        want.prefix.s6_addr[b] = bits ? (uint8_t) (pi->prefix.s6_addr[b] & mask) : 0;
                }
                want.expires = pi->valid_lifetime == UINT32_MAX ? ND_PROXY_NEVER :
                               p->now + (uint64_t) pi->valid_lifetime * 1000000u;
                for (size_t j = 0; j < u->n_prefixes; j++)
                        if (u->prefixes[j].prefix_len == want.prefix_len &&
                            addr_equal(&u->prefixes[j].prefix, &want.prefix)) {
                                slot = j;
                                break;
                        }
                if (pi->valid_lifetime == 0) {
                        if (slot < u->n_prefixes)
                                u->prefixes[slot] = u->prefixes[--u->n_prefixes];
                        continue;
                }
                if (slot == ND_PROXY_PREFIXES_MAX) {
                        slot = 0;
                        for (size_t j = 1; j < u->n_prefixes; j++)
                                if (u->prefixes[j].expires < u->prefixes[slot].expires)
                                        slot = j;
                } else if (slot == u->n_prefixes)
                        u->n_prefixes++;
                u->prefixes[slot] = want;
        }
}

/* Remember who sent a proxied frame, and an NA's target: the cache of
 * nd_proxy_lookup_neighbor(). */
static void neighbor_note(NdProxy *p, int ifindex, const struct in6_addr *addr, const MacAddr *mac) {
        NdNeighbor *slot = NULL;

        if (nd_addr_is_unspecified(addr) || nd_addr_is_multicast(addr) || !mac_usable(mac))
                return;
        for (size_t i = 0; i < ELEMENTSOF(p->neighbors); i++) {
                NdNeighbor *n = &p->neighbors[i];

                if (n->ifindex == ifindex && addr_equal(&n->addr, addr)) {
                        slot = n;
                        break;
                }
                if (!slot || (slot->ifindex != 0 && (n->ifindex == 0 || n->seen < slot->seen)))
                        slot = n;
        }
        *slot = (NdNeighbor) { .ifindex = ifindex, .addr = *addr, .mac = *mac, .seen = p->now };
}

int nd_proxy_lookup_neighbor(const NdProxy *p, int ifindex, const struct in6_addr *addr,
                             uint64_t max_age_usec, MacAddr *ret) {
        for (size_t i = 0; i < ELEMENTSOF(p->neighbors); i++) {
                const NdNeighbor *n = &p->neighbors[i];

                if (n->ifindex != ifindex || ifindex <= 0 || !addr_equal(&n->addr, addr))
                        continue;
                if (p->now - n->seen > max_age_usec)
                        return -ENOENT;
                *ret = n->mac;
                return 0;
        }
        return -ENOENT;
}

int nd_proxy_find_address(const NdProxy *p, const struct in6_addr *addr) {
        const NdLink *owner = address_owner(p, addr);

        return owner ? owner->ifindex : -ENOENT;
}

static int decided(NdDrop reason, NdDrop *reterr_drop) {
        *reterr_drop = reason;
        return -EBADMSG;
}

/* A copy to l, addressed by the rules of NdDstRule for d->dst. */
static void add_egress(NdDecision *d, const NdLink *l) {
        NdEgress *e;

        /* Never more than the links other than the ingress one. */
        if (d->n_egress >= ND_PROXY_EGRESS_MAX)
                return;
        e = &d->egress[d->n_egress++];
        *e = (NdEgress) {
                .ifindex = l->ifindex,
                .src_mac = l->mac,
        };
        if (nd_multicast_mac(&d->dst, &e->dst_mac) >= 0)
                e->rule = ND_DST_MULTICAST;
        else if (l->kind == ND_LINK_GUEST) {
                e->rule = ND_DST_NEIGHBOR_OR_ALL_NODES;
                (void) nd_multicast_mac(&all_nodes, &e->dst_mac);
        } else
                e->rule = ND_DST_NEIGHBOR_OR_DROP;
}

/*
 * The one guest link an NS or NA is for, when the proxy knows where its address lives: an
 * NS's target or a unicast destination learned on a link behind the same uplink. May be
 * the ingress link itself, for a unicast destination.
 */
static const NdLink *directed_link(const NdProxy *p, const NdLink *in, const NdPacket *pkt,
                                   int uplink) {
        const NdLink *l;

        if (pkt->type == ND_TYPE_NS) {
                l = address_owner(p, &pkt->target);
                if (l && l != in && l->uplink == uplink)
                        return l;
        }
        if (!nd_addr_is_multicast(&pkt->dst)) {
                l = address_owner(p, &pkt->dst);
                if (l && l->uplink == uplink)
                        return l;
        }
        return NULL;
}

int nd_proxy_decide(const NdProxy *p, int ingress, const NdPacket *pkt, NdDecision *ret,
                    NdDrop *reterr_drop) {
        const NdLink *in = link_find(p, ingress), *to;
        NdDecision d = {};
        int uplink;

        if (!in)
                return decided(ND_DROP_UNKNOWN_LINK, reterr_drop);
        if (mac_equal(&pkt->eth_src, &in->mac))
                return decided(ND_DROP_OWN_FRAME, reterr_drop);
        if (pkt->type == ND_TYPE_NS && in->kind == ND_LINK_GUEST && in->uplink != 0 &&
            is_host_address(p, &pkt->target) && !nd_addr_is_link_local(&pkt->target)) {
                d.dst = pkt->src;
                d.answer = true;
                d.answer_router = true;
                *ret = d;
                return 0;
        }
        if ((!nd_addr_is_multicast(&pkt->dst) && is_host_address(p, &pkt->dst)) ||
            (pkt->type == ND_TYPE_NS && is_host_address(p, &pkt->target)))
                return decided(ND_DROP_FOR_HOST, reterr_drop);
        uplink = in->kind == ND_LINK_UPLINK ? in->ifindex : in->uplink;
        d.dst = pkt->dst;

        switch (pkt->type) {
        case ND_TYPE_RS:
                if (in->kind != ND_LINK_GUEST)
                        return decided(ND_DROP_WRONG_DIRECTION, reterr_drop);
                to = link_find(p, uplink);
                if (to)
                        add_egress(&d, to);
                break;
        case ND_TYPE_RA:
                if (in->kind != ND_LINK_UPLINK)
                        return decided(ND_DROP_WRONG_DIRECTION, reterr_drop);
                if (p->flags & ND_PROXY_RA_ALL_NODES) {
                        d.dst = all_nodes;
                        d.rewrite_flags |= ND_REWRITE_RA_ALL_NODES;
                }
                for (size_t i = 0; i < p->n_links; i++)
                        if (p->links[i].uplink == uplink)
                                add_egress(&d, &p->links[i]);
                break;
        case ND_TYPE_NS:
        case ND_TYPE_NA:
                if (uplink == 0)
                        break;
                to = directed_link(p, in, pkt, uplink);
                if (to == in)
                        return decided(ND_DROP_LOCAL_DESTINATION, reterr_drop);
                if (to) {
                        add_egress(&d, to);
                        break;
                }
                for (size_t i = 0; i < p->n_links; i++) {
                        const NdLink *l = &p->links[i];

                        if (l != in && (l->ifindex == uplink || l->uplink == uplink))
                                add_egress(&d, l);
                }
                break;
        default:
                return decided(ND_DROP_NOT_ND, reterr_drop);
        }
        if (d.n_egress == 0)
                return decided(ND_DROP_NO_PEER, reterr_drop);
        *ret = d;
        return 0;
}

/* An NS from the uplink for a guest address seen alive lately: answer it (see the theory
 * of operation), unless the kernel does, and relay it only if this asker was not relayed
 * lately. */
static void answer_for_guest(NdProxy *p, const NdPacket *pkt, NdDecision *d) {
        NdLink *g;
        ssize_t i;

        if ((pkt->flags & ND_FLAG_DAD) || d->n_egress != 1)
                return;
        g = link_find(p, d->egress[0].ifindex);
        if (!g || g->kind != ND_LINK_GUEST)
                return;
        i = link_addr_index(g, &pkt->target);
        if (i < 0)
                return;
        if (!g->addr_kernel[i]) {
                if (p->now - g->addr_seen[i] > ND_PROXY_FRESH_USEC)
                        return;
                d->answer = true;
                d->answer_router = false;
        }
        if (g->addr_answered[i] != 0 && p->now - g->addr_answered[i] < ND_PROXY_RELAY_HOLD_USEC &&
            addr_equal(&g->addr_asker[i], &pkt->src))
                d->n_egress = 0;
        else {
                g->addr_answered[i] = p->now;
                g->addr_asker[i] = pkt->src;
        }
}

/* A guest's solicited NA to an asker the proxy answered for it lately. */
static bool already_answered(const NdProxy *p, const NdLink *g, const NdPacket *pkt) {
        ssize_t i = link_addr_index(g, &pkt->target);

        return i >= 0 && g->addr_answered[i] != 0 &&
               p->now - g->addr_answered[i] < ND_PROXY_RELAY_HOLD_USEC &&
               addr_equal(&g->addr_asker[i], &pkt->dst);
}

int nd_proxy_input(NdProxy *p, int ingress, const uint8_t *frame, size_t len, bool vlan_tagged,
                   NdPacket *ret_pkt, NdDecision *ret, NdDrop *reterr_drop) {
        NdLink *in = link_find(p, ingress);
        struct in6_addr addr;
        NdDecision d;
        NdPacket pkt;
        NdDrop drop;
        int r;

        if (!in)
                return decided(ND_DROP_UNKNOWN_LINK, reterr_drop);
        in->counters.received++;

        r = nd_packet_parse(frame, len, vlan_tagged, &pkt, &drop);
        /* An uplink's router tells its prefixes whether or not a guest is there to hear. */
        if (r >= 0 && in->kind == ND_LINK_UPLINK && pkt.type == ND_TYPE_RA &&
            !mac_equal(&pkt.eth_src, &in->mac))
                uplink_note_prefixes(p, in, &pkt);
        if (r >= 0)
                r = nd_proxy_decide(p, ingress, &pkt, &d, &drop);
        if (r < 0) {
                in->counters.dropped[drop]++;
                return decided(drop, reterr_drop);
        }

        neighbor_note(p, ingress, &pkt.src, &pkt.eth_src);
        if (pkt.type == ND_TYPE_NA && pkt.lladdr_off != 0)
                neighbor_note(p, ingress, &pkt.target, &pkt.lladdr);

        if (in->kind == ND_LINK_GUEST) {
                /* A frame from a learned address is its sign of life. */
                (void) nd_proxy_touch_address(p, ingress, &pkt.src, p->now);
                if (nd_learn_guest_address(&pkt, &addr) >= 0) {
                        r = link_addr_index(in, &addr) >= 0 ? 0 :
                            !nd_proxy_uplink_has_prefix(p, in->uplink, &addr) ? -ENETUNREACH :
                            nd_proxy_add_address(p, ingress, &addr);
                        if (r == 0)
                                (void) nd_proxy_touch_address(p, ingress, &addr, p->now);
                        else if (r > 0) {
                                in->counters.learned++;
                                d.learned = true;
                                d.learned_addr = addr;
                                d.learned_ifindex = ingress;
                        } else {
                                in->counters.learn_refused++;
                                d.learn_error = r;
                        }
                }
        }

        if (in->kind == ND_LINK_UPLINK && pkt.type == ND_TYPE_NS)
                answer_for_guest(p, &pkt, &d);
        else if (in->kind == ND_LINK_GUEST && pkt.type == ND_TYPE_NA &&
                 (pkt.flags & ND_FLAG_SOLICITED) && already_answered(p, in, &pkt)) {
                in->counters.dropped[ND_DROP_ANSWERED]++;
                return decided(ND_DROP_ANSWERED, reterr_drop);
        }

        *ret_pkt = pkt;
        *ret = d;
        return 0;
}

int nd_proxy_count_sent(NdProxy *p, int ifindex) {
        NdLink *l = link_find(p, ifindex);

        if (!l)
                return -ENOENT;
        l->counters.proxied++;
        return 0;
}

int nd_proxy_count_answered(NdProxy *p, int ifindex) {
        NdLink *l = link_find(p, ifindex);

        if (!l)
                return -ENOENT;
        l->counters.answered++;
        return 0;
}

int nd_proxy_count_drop(NdProxy *p, int ifindex, NdDrop reason) {
        NdLink *l;

        if (reason < 0 || reason >= _ND_DROP_MAX)
                return -EINVAL;
        l = link_find(p, ifindex);
        if (!l)
                return -ENOENT;
        l->counters.dropped[reason]++;
        return 0;
}
