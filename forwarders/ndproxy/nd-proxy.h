/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The ND proxy's forwarding state, without sockets: the links it serves (uplinks and the
 * guest links behind them), the guest addresses it has learned, per-link counters, and
 * the decision of where each received frame goes. ndproxyd owns the sockets, the
 * neighbour table lookups and the /128 routes; see nd-proxy.c for the rules.
 *
 * Typical use by the daemon, per received frame:
 *
 *   r = nd_proxy_input(proxy, ifindex, frame, len, vlan_tagged, &pkt, &d, &drop);
 *   if (r < 0)
 *           continue;                              (already counted against ifindex)
 *   if (d.learned)
 *           add a /128 route to d.learned_addr via d.learned_ifindex
 *   for each d.egress[i]:
 *           pick the Ethernet destination by d.egress[i].rule (neighbour table for d.dst)
 *           nd_packet_rewrite(frame, &pkt, &e->src_mac, &dst_mac, d.rewrite_flags, ...)
 *           send; nd_proxy_count_sent() or nd_proxy_count_drop(..., ND_DROP_SEND_FAILED)
 */

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mac.h"
#include "nd-packet.h"

#define ND_PROXY_LINKS_MAX 64                     /* uplinks and guest links together */
#define ND_PROXY_ADDRS_MAX 32                     /* learned addresses per guest link */
#define ND_PROXY_EGRESS_MAX (ND_PROXY_LINKS_MAX - 1) /* every link but the ingress one */
#define ND_PROXY_PREFIXES_MAX 8                   /* on-link prefixes per uplink */
#define ND_PROXY_NEIGHBORS_MAX 256                /* the proxy's own neighbour cache */
#define ND_PROXY_HOST_ADDRS_MAX 256               /* the host's own IPv6 addresses */
#define ND_PROXY_NEVER UINT64_MAX                 /* an expiry that does not come */
/* A learned address seen alive this recently is answered for by the proxy itself (the
 * kernel's REACHABLE_TIME, RFC 4861 §10). */
#define ND_PROXY_FRESH_USEC (30 * UINT64_C(1000000))
/* The same router asking again for the same guest within this long is not relayed again. */
#define ND_PROXY_RELAY_HOLD_USEC UINT64_C(1000000)

typedef struct NdProxy NdProxy;

typedef enum NdLinkKind {
        ND_LINK_UPLINK,              /* towards the router whose prefix is shared */
        ND_LINK_GUEST,               /* towards a guest (veth, TAP, bridge) */
        _ND_LINK_KIND_MAX,
        _ND_LINK_KIND_INVALID = -EINVAL,
} NdLinkKind;

typedef enum NdProxyFlags {
        ND_PROXY_RA_ALL_NODES = 1 << 0, /* send every proxied RA to ff02::1 */
} NdProxyFlags;

/* How the daemon picks a copy's Ethernet destination. */
typedef enum NdDstRule {
        ND_DST_MULTICAST,            /* NdEgress.dst_mac, the group's MAC (RFC 2464 §7) */
        ND_DST_NEIGHBOR_OR_ALL_NODES,/* the egress link's neighbour entry for NdDecision.dst;
                                      * without one, NdEgress.dst_mac (33:33:00:00:00:01) */
        ND_DST_NEIGHBOR_OR_DROP,     /* that neighbour entry; without one, send nothing and
                                      * count ND_DROP_NO_NEIGHBOR on the egress link */
        _ND_DST_RULE_MAX,
        _ND_DST_RULE_INVALID = -EINVAL,
} NdDstRule;

/* Per link. Drops of received frames count on the ingress link, the daemon's
 * ND_DROP_NO_NEIGHBOR and ND_DROP_SEND_FAILED on the egress link. */
typedef struct NdLinkCounters {
        uint64_t received;           /* frames that arrived on it (nd_proxy_input()) */
        uint64_t proxied;            /* copies sent on it (nd_proxy_count_sent()) */
        uint64_t learned;            /* guest addresses learned from its frames */
        uint64_t learn_refused;      /* ... refused: table full, another link's address, not
                                      * in a prefix of the uplink, or the daemon said no */
        uint64_t expired;            /* learned addresses forgotten for lack of a sign of life */
        uint64_t answered;           /* NS the proxy answered itself, for the host or a guest
                                      * (nd_proxy_count_answered()) */
        uint64_t dropped[_ND_DROP_MAX];
} NdLinkCounters;

/* A prefix an uplink's router advertises as on-link or for autoconfiguration (RFC 4861
 * §4.6.2, L or A set): learned guest addresses must lie in one. */
typedef struct NdLinkPrefix {
        struct in6_addr prefix;      /* host bits cleared */
        uint8_t prefix_len;          /* 1..128 */
        uint64_t expires;            /* proxy clock; ND_PROXY_NEVER for an infinite lifetime */
} NdLinkPrefix;

/* A link as the proxy sees it; read through nd_proxy_get_link(), changed only through the
 * functions below. A pointer stays valid until the next call that adds or removes a link. */
typedef struct NdLink {
        int ifindex;
        NdLinkKind kind;
        MacAddr mac;                 /* Ethernet source and link-layer option of copies sent here */
        int uplink;                  /* guest link: its uplink's ifindex, 0 while unpaired */
        NdLinkCounters counters;
        size_t n_addrs;              /* guest link: learned addresses, oldest first */
        struct in6_addr addrs[ND_PROXY_ADDRS_MAX];
        uint64_t addr_seen[ND_PROXY_ADDRS_MAX]; /* ... the last sign of life of each (clock) */
        struct in6_addr addr_asker[ND_PROXY_ADDRS_MAX]; /* ... who the proxy last answered for it */
        uint64_t addr_answered[ND_PROXY_ADDRS_MAX];  /* ... and when (0: never) */
        bool addr_kernel[ND_PROXY_ADDRS_MAX];  /* ... the kernel answers for it (proxy entry) */
        size_t n_prefixes;           /* uplink: prefixes its router advertises */
        NdLinkPrefix prefixes[ND_PROXY_PREFIXES_MAX];
} NdLink;

typedef struct NdEgress {
        int ifindex;
        MacAddr src_mac;             /* the egress link's MAC, for nd_packet_rewrite() */
        NdDstRule rule;
        MacAddr dst_mac;             /* see NdDstRule */
} NdEgress;

typedef struct NdDecision {
        struct in6_addr dst;         /* the copies' IPv6 destination: the neighbour table key */
        unsigned rewrite_flags;      /* NdRewriteFlags for nd_packet_rewrite() */
        /* nd_proxy_input() only: a guest address learned from this frame, new to the table;
         * the daemon adds its /128 route towards learned_ifindex. learn_error is the
         * negative errno of nd_proxy_add_address() when the frame offered an address that
         * was refused, or -ENETUNREACH for one outside every prefix the uplink's router
         * advertises, 0 otherwise. */
        /* Answer the NS on the ingress link (nd_packet_build_na(), Router flag as
         * answer_router): for the host, whose address a guest asks for (no copy goes
         * anywhere); or for a guest seen alive within ND_PROXY_FRESH_USEC, whose address
         * the uplink asks for (the NS is still relayed to it, at most once per asker per
         * ND_PROXY_RELAY_HOLD_USEC, so that it learns the asker; its own answer is then
         * not relayed again: ND_DROP_ANSWERED). Never for an address the kernel answers
         * for (nd_proxy_set_kernel_answers()): the NS is then only relayed, with the same
         * hold and the same drop. nd_proxy_input() only, for guests. */
        bool answer;
        bool answer_router;
        bool learned;
        struct in6_addr learned_addr;
        int learned_ifindex;
        int learn_error;
        size_t n_egress;
        NdEgress egress[ND_PROXY_EGRESS_MAX];
} NdDecision;

/*
 * nd_link_kind_to_string() - "uplink" or "guest".
 * @k: the kind
 *
 * Return: the name, or NULL if @k is out of range.
 */
const char *nd_link_kind_to_string(NdLinkKind k);

/*
 * nd_dst_rule_to_string() - "multicast", "neighbor-or-all-nodes" or "neighbor-or-drop".
 * @rule: the rule
 *
 * Return: the name, or NULL if @rule is out of range.
 */
const char *nd_dst_rule_to_string(NdDstRule rule);

/*
 * nd_proxy_new() - an empty proxy: no links, no addresses.
 * @flags: NdProxyFlags
 * @ret: the proxy; free with nd_proxy_free()
 *
 * Return: 0, -EINVAL for unknown flags, -ENOMEM.
 */
int nd_proxy_new(unsigned flags, NdProxy **ret);

/*
 * nd_proxy_free() - free a proxy.
 * @p: the proxy, or NULL
 *
 * Return: NULL.
 */
NdProxy *nd_proxy_free(NdProxy *p);

/*
 * nd_proxy_add_link() - serve a link.
 * @p: the proxy
 * @ifindex: its interface index, > 0
 * @kind: uplink or guest link
 * @mac: its MAC, unicast and not zero
 *
 * Return: 0, -EINVAL for a bad argument, -EEXIST if @ifindex is served already, -ENOSPC
 * with ND_PROXY_LINKS_MAX links.
 */
int nd_proxy_add_link(NdProxy *p, int ifindex, NdLinkKind kind, const MacAddr *mac);

/*
 * nd_proxy_remove_link() - stop serving a link. An uplink's guest links become unpaired;
 * a guest link's learned addresses are forgotten, so read them first (nd_proxy_get_link())
 * to remove their routes.
 * @p: the proxy
 * @ifindex: the link
 *
 * Return: 0, or -ENOENT if @ifindex is not served.
 */
int nd_proxy_remove_link(NdProxy *p, int ifindex);

/*
 * nd_proxy_set_link_mac() - a link's MAC changed.
 * @p: the proxy
 * @ifindex: the link
 * @mac: its new MAC, unicast and not zero
 *
 * Return: 0, -EINVAL for a bad MAC, -ENOENT if @ifindex is not served.
 */
int nd_proxy_set_link_mac(NdProxy *p, int ifindex, const MacAddr *mac);

/*
 * nd_proxy_add_pair() - put a guest link behind an uplink: RS go up, RA come down, NS and
 * NA go between it, the uplink and the uplink's other guest links.
 * @p: the proxy
 * @uplink: an uplink's ifindex
 * @guest: a guest link's ifindex
 *
 * Return: 0, -ENOENT if either is not served, -EINVAL if the kinds are wrong, -EEXIST if
 * the pair exists, -EBUSY if @guest is behind another uplink (remove that pair first).
 */
int nd_proxy_add_pair(NdProxy *p, int uplink, int guest);

/*
 * nd_proxy_remove_pair() - take a guest link from behind its uplink. Its learned addresses
 * stay until forgotten or the link goes.
 * @p: the proxy
 * @uplink: the uplink
 * @guest: the guest link
 *
 * Return: 0, or -ENOENT if @guest is not behind @uplink.
 */
int nd_proxy_remove_pair(NdProxy *p, int uplink, int guest);

/*
 * nd_proxy_get_link() - a served link, by interface index.
 * @p: the proxy
 * @ifindex: the link
 *
 * Return: the link, or NULL.
 */
const NdLink *nd_proxy_get_link(const NdProxy *p, int ifindex);

/*
 * nd_proxy_n_links() - how many links are served.
 * @p: the proxy
 *
 * Return: the number, for nd_proxy_link_at().
 */
size_t nd_proxy_n_links(const NdProxy *p);

/*
 * nd_proxy_link_at() - the links in the order they were added, for status output.
 * @p: the proxy
 * @i: 0 .. nd_proxy_n_links() - 1
 *
 * Return: the link, or NULL past the end.
 */
const NdLink *nd_proxy_link_at(const NdProxy *p, size_t i);

/*
 * nd_proxy_set_clock() - the time the proxy stamps what it sees with, and compares
 * lifetimes to: the daemon sets it (CLOCK_MONOTONIC, microseconds) before each batch of
 * frames and each expiry check. It starts at 0 and never goes back.
 * @p: the proxy
 * @now_usec: the time
 */
void nd_proxy_set_clock(NdProxy *p, uint64_t now_usec);

/*
 * nd_proxy_set_host_addresses() - the host's own IPv6 addresses (every link's): frames to
 * one, and NS for one, are the host's own Neighbor Discovery, which its kernel does
 * (ND_DROP_FOR_HOST), and no guest may claim one.
 * @p: the proxy
 * @addrs: the addresses, in any order
 * @n: how many
 *
 * Return: 0, or -E2BIG with more than ND_PROXY_HOST_ADDRS_MAX (the first ones are kept).
 */
int nd_proxy_set_host_addresses(NdProxy *p, const struct in6_addr *addrs, size_t n);

/*
 * nd_proxy_add_address() - record a guest address on a guest link, as learning does; the
 * daemon also calls it to replay the addresses whose routes survived a restart. Replay
 * does not ask for a prefix of the uplink (the route exists already); learning does.
 * @p: the proxy
 * @guest: the guest link
 * @addr: a global unicast or unique local address
 *
 * Return: 1 if added, 0 if already recorded on @guest, -ENOENT if @guest is not served,
 * -EINVAL if it is an uplink or @addr is of another kind, -EADDRINUSE if @addr is the
 * host's, -EEXIST if @addr is recorded on another link, -ENOSPC with ND_PROXY_ADDRS_MAX
 * addresses on @guest.
 */
int nd_proxy_add_address(NdProxy *p, int guest, const struct in6_addr *addr);

/*
 * nd_proxy_forget_address() - drop a recorded guest address (its route went).
 * @p: the proxy
 * @guest: the guest link
 * @addr: the address
 *
 * Return: 0, or -ENOENT if @addr is not recorded on @guest.
 */
int nd_proxy_forget_address(NdProxy *p, int guest, const struct in6_addr *addr);

/*
 * nd_proxy_set_kernel_answers() - the kernel answers the uplink's NS for a learned guest
 * address now (its proxy entry exists next to its route), or no longer.
 * @p: the proxy
 * @guest: the guest link
 * @addr: the address
 * @on: whether it does
 *
 * Return: 0, or -ENOENT if @addr is not recorded on @guest.
 */
int nd_proxy_set_kernel_answers(NdProxy *p, int guest, const struct in6_addr *addr, bool on);

/* A guest address the kernel answers for, and the uplink it answers on. */
typedef struct NdKernelAnswered {
        int uplink;
        struct in6_addr addr;
} NdKernelAnswered;

/*
 * nd_proxy_kernel_answered() - every address the kernel answers the uplink's NS for
 * (nd_proxy_set_kernel_answers()) on a guest link that has an uplink now, in the order of
 * the links and their addresses: what the daemon's socket filter keeps away (the proxy has
 * nothing to do with such an NS).
 * @p: the proxy
 * @ret: room for @max
 * @max: how many fit
 *
 * Return: how many were written (the first @max when there are more).
 */
size_t nd_proxy_kernel_answered(const NdProxy *p, NdKernelAnswered *ret, size_t max);

/* The host's own addresses as nd_proxy_set_host_addresses() left them (sorted), at most
 * @max into @ret. Return: how many were written. */
size_t nd_proxy_host_addresses(const NdProxy *p, struct in6_addr *ret, size_t max);

/*
 * nd_proxy_touch_address() - a sign of life of a learned guest address (its guest's NA
 * for it, a frame from it, or the kernel's neighbour entry confirmed at @when).
 * @p: the proxy
 * @guest: the guest link
 * @addr: the address
 * @when: the time of the sign (proxy clock); an older one than recorded changes nothing
 *
 * Return: 0, or -ENOENT if @addr is not recorded on @guest.
 */
int nd_proxy_touch_address(NdProxy *p, int guest, const struct in6_addr *addr, uint64_t when);

/*
 * nd_proxy_oldest_address() - the learned address whose last sign of life is the oldest,
 * for the daemon's expiry timer.
 * @p: the proxy
 * @ret_ifindex: its guest link
 * @ret_addr: the address
 * @ret_seen: its last sign of life (proxy clock)
 *
 * Return: 0, or -ENOENT when no address is learned.
 */
int nd_proxy_oldest_address(const NdProxy *p, int *ret_ifindex, struct in6_addr *ret_addr,
                            uint64_t *ret_seen);

/*
 * nd_proxy_expire_address() - forget a learned address that showed no sign of life for
 * too long, and count it on its link.
 * @p: the proxy
 * @guest: the guest link
 * @addr: the address
 *
 * Return: 0, or -ENOENT if @addr is not recorded on @guest.
 */
int nd_proxy_expire_address(NdProxy *p, int guest, const struct in6_addr *addr);

/*
 * nd_proxy_refuse_address() - undo the learning of an address the daemon will not route
 * (one of the host's own, a neighbour of the uplink, or one the manager refused), and count
 * the refusal on its link.
 * @p: the proxy
 * @guest: the guest link
 * @addr: the address
 *
 * Return: 0, or -ENOENT if @addr is not recorded on @guest.
 */
int nd_proxy_refuse_address(NdProxy *p, int guest, const struct in6_addr *addr);

/*
 * nd_proxy_uplink_has_prefix() - whether @addr lies in a prefix the router of @uplink
 * advertises (and whose valid lifetime has not run out).
 * @p: the proxy
 * @uplink: the uplink
 * @addr: the address
 *
 * Return: true or false (false for a link that is not an uplink).
 */
bool nd_proxy_uplink_has_prefix(const NdProxy *p, int uplink, const struct in6_addr *addr);

/*
 * nd_proxy_lookup_neighbor() - the MAC of an IPv6 neighbour on a link, from the proxy's
 * own cache of the ND frames it proxied (their IPv6 source and Ethernet source, an NA's
 * target and TLLA): the router that asks for a guest's address is resolved from its NS
 * alone, which the kernel never answers and so never caches.
 * @p: the proxy
 * @ifindex: the link
 * @addr: the neighbour's address
 * @max_age_usec: how old the entry may be
 * @ret: its MAC
 *
 * Return: 0, or -ENOENT.
 */
int nd_proxy_lookup_neighbor(const NdProxy *p, int ifindex, const struct in6_addr *addr,
                             uint64_t max_age_usec, MacAddr *ret);

/*
 * nd_proxy_find_address() - the guest link an address was learned on.
 * @p: the proxy
 * @addr: the address
 *
 * Return: the link's ifindex, or -ENOENT.
 */
int nd_proxy_find_address(const NdProxy *p, const struct in6_addr *addr);

/*
 * nd_proxy_decide() - where a parsed frame goes; changes nothing.
 * @p: the proxy
 * @ingress: the ifindex it arrived on
 * @pkt: nd_packet_parse()'s result
 * @ret: the links that get a copy, each with its destination rule
 * @reterr_drop: why no link gets one
 *
 * Return: 0 with at least one egress link or an answer to give, or -EBADMSG with the reason
 * in @reterr_drop.
 */
int nd_proxy_decide(const NdProxy *p, int ingress, const NdPacket *pkt, NdDecision *ret,
                    NdDrop *reterr_drop);

/*
 * nd_proxy_input() - one received frame: count it, parse it, decide where it goes, and
 * learn the guest address it reveals (only from frames that are proxied).
 * @p: the proxy
 * @ingress: the ifindex it arrived on
 * @frame: the frame
 * @len: its length
 * @vlan_tagged: the kernel reported a VLAN tag (PACKET_AUXDATA)
 * @ret_pkt: the parsed frame, for nd_packet_rewrite()
 * @ret: the decision, with what was learned
 * @reterr_drop: why the frame is dropped; already counted on @ingress if it is served
 *
 * Return: 0, or -EBADMSG with the reason in @reterr_drop.
 */
int nd_proxy_input(NdProxy *p, int ingress, const uint8_t *frame, size_t len, bool vlan_tagged,
                   NdPacket *ret_pkt, NdDecision *ret, NdDrop *reterr_drop);

/*
 * nd_proxy_count_sent() - a copy left on a link.
 * @p: the proxy
 * @ifindex: the egress link
 *
 * Return: 0, or -ENOENT if @ifindex is not served.
 */
int nd_proxy_count_sent(NdProxy *p, int ifindex);

/*
 * nd_proxy_count_answered() - the proxy answered an NS itself on a link.
 * @p: the proxy
 * @ifindex: the link
 *
 * Return: 0, or -ENOENT if @ifindex is not served.
 */
int nd_proxy_count_answered(NdProxy *p, int ifindex);

/*
 * nd_proxy_count_drop() - count a drop the daemon decided (ND_DROP_NO_NEIGHBOR,
 * ND_DROP_SEND_FAILED) on a link.
 * @p: the proxy
 * @ifindex: the link
 * @reason: the reason
 *
 * Return: 0, -EINVAL if @reason is out of range, -ENOENT if @ifindex is not served.
 */
int nd_proxy_count_drop(NdProxy *p, int ifindex, NdDrop reason);
