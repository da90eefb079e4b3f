/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Theory of operation: mcastd's forwarding, and how it stays free of loops.
 *
 * Links. An uplink is a LAN interface; a guest link (arcbr0, arc_eth0, a VM's TAP, lxdbr0
 * in standalone mode) sits behind exactly one uplink. Each link carries a chosen set of
 * services: mDNS and SSDP over IPv4 and IPv6, UDP broadcast over IPv4 (reference §8.2,
 * §8.3). The daemon learns links and their addresses from the manager or, standalone, from
 * rtnetlink, and tells this object (mcast_fwd_set_link(), mcast_fwd_set_addresses()). After
 * a restart the manager replays the same calls; nothing else is state.
 *
 * Sockets (the daemon's part: forwarders/mcast/udp.c, bcast-sock.c). Per link and service
 * one UDP socket for mDNS/SSDP, bound to the group's address and port on that link
 * (SO_BINDTODEVICE; a group address receives the group's datagrams and never anyone's
 * unicast), joined to the group on that ifindex, IP_MULTICAST_LOOP and IPV6_MULTICAST_LOOP
 * off, IP_PKTINFO/IPV6_RECVPKTINFO on. For broadcast one AF_PACKET SOCK_DGRAM socket for all
 * links, opened before the sandbox and bound to no interface, with PACKET_AUXDATA on,
 * PACKET_IGNORE_OUTGOING set and a classic BPF filter passing only frames received as
 * broadcast on the links that carry it (McastInput.socket_ifindex is 0 then: the filter
 * checked the link). The same sockets send: mDNS with TTL and hop limit 255 (MDNS_HOP_LIMIT,
 * RFC 6762 §11; repeaters that send TTL 1 get their packets dropped by strict receivers),
 * SSDP with SSDP_HOP_LIMIT, broadcast copies to a guest as Ethernet broadcast frames on the
 * packet socket, broadcast payloads to the uplink from a UDP socket bound to the sender's
 * port on the uplink.
 *
 * Loop prevention, by construction rather than by guessing:
 *   1. Our own transmissions are recognised by the socket and interface they come from,
 *      never by their source address. Multicast loopback is off on every socket we send
 *      from, so the kernel never hands a copy we sent to any local socket, ours included;
 *      the packet sockets ignore outgoing packets (PACKET_IGNORE_OUTGOING, and
 *      sll_pkttype PACKET_OUTGOING as a second check). A datagram is taken as arriving on
 *      the link its PKTINFO names, and must arrive on a socket bound to that link
 *      (McastInput.socket_ifindex; MCAST_DROP_WRONG_SOCKET otherwise).
 *   2. A copy never goes back to the link it came from: route() skips the ingress link.
 *   3. Traffic from the LAN goes only to guests; traffic from a guest goes only to the
 *      other guests behind the same uplink and to that uplink. So a second mcastd, or an
 *      avahi reflector, on the same LAN receives our copy on its uplink and sends it only
 *      to its own guests, which never send it back: two forwarders on one L2 segment make
 *      no storm. (A guest that bridges itself onto the LAN would; that is not a
 *      topology patchpanel builds.)
 *   4. Datagrams sent by this host itself - from any of the link's own addresses, such as
 *      an avahi-daemon on the host answering on arcbr0 or on the uplink - are never
 *      forwarded (MCAST_DROP_SOURCE_IS_HOST): the host speaks for itself on every link, and
 *      echoing its records onto another link is what makes hosts see their own name as a
 *      conflict behind an avahi reflector (peers.md §7). This is a statement about the
 *      host, not how we recognise our own copies (1).
 *   5. Each link has a token bucket per protocol and direction (mcast_fwd_set_rate()): a
 *      link can neither flood us nor be flooded by us, whatever the others send; a guest's
 *      packet fans out to at most the other links behind its uplink, each limited.
 *
 * Receive path (mcast_fwd_decide()), in order; the first refusal counts, on the ingress
 * link's IN counters:
 *   link known (else mcast_fwd_unknown_link()) -> socket bound to that link -> service
 *   enabled on it -> IN rate limit (before any parsing, so a flood costs little) -> payload
 *   valid (dns.c, ssdp.c, bcast.c; malformed datagrams are never forwarded) -> source not
 *   the host's, valid, and inside the guest link's subnet when it comes from a guest ->
 *   mDNS responses only from port 5353 (RFC 6762 §6) -> at least one other link carries
 *   the service (else MCAST_DROP_NO_ROUTE).
 * Then per egress link, counted on its OUT counters: an IPv4 copy needs an IPv4 address on
 * an uplink (it is the source the LAN answers to, and in mDNS what A records are rewritten
 * to; reference §8.2: no address, no copy to the LAN) and a broadcast address where a
 * subnet broadcast is rewritten -> OUT rate limit. What survives is in McastDecision.
 *
 * Send path (mcast_fwd_prepare(), mcast_fwd_sent()): most copies are the datagram as
 * received. An IPv4 mDNS response from a guest leaving by the uplink has its A records
 * naming the guest rewritten to the uplink's address (mdns_rewrite_a()): the LAN can reach
 * the uplink, and port forwarding or the guest's own outbound connections do the rest.
 * Broadcasts to a guest are rewritten IP packets (bcast_rewrite()); broadcasts to the
 * uplink are just the UDP payload. mDNS and SSDP from a port other than their own (legacy
 * unicast queries, M-SEARCH) are sent from a socket bound to the same port
 * (McastDecision.legacy_port), so unicast answers come back to it, and
 * mcast_fwd_decide_reply() decides their way back to the asker.
 *
 * Nothing here reads a clock, allocates after mcast_fwd_new(), or logs.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mcast-fwd.h"
#include "rate-limit.h"

#define MICRO 1000000u

typedef struct Bucket {
        uint64_t tokens;         /* millionths of a packet */
        uint64_t last_usec;
        bool started;
} Bucket;

typedef struct McastLink {
        McastLinkConfig config;
        McastAddr addrs[MCAST_LINK_ADDRS_MAX];
        size_t n_addrs;
        Bucket buckets[_MCAST_PROTO_MAX][_MCAST_DIR_MAX];
        McastCounters counters[_MCAST_PROTO_MAX][_MCAST_DIR_MAX];
} McastLink;

struct McastFwd {
        McastRate rates[_MCAST_PROTO_MAX][_MCAST_DIR_MAX];
        uint64_t unknown_link;
        size_t n_links;
        McastLink links[MCAST_LINKS_MAX]; /* in the order they were added */
};

/* The names administrators write in --rate-limit (common/rate-limit.h), in this order. */
static const char *const mcast_proto_names[_MCAST_PROTO_MAX] = RATE_LIMIT_PROTOCOLS;
static_assert(_MCAST_PROTO_MAX == RATE_LIMIT_N_PROTOCOLS && MCAST_PROTO_MDNS == 0 &&
              MCAST_PROTO_SSDP == 1 && MCAST_PROTO_BCAST == 2,
              "McastProto in the order of RATE_LIMIT_PROTOCOLS");

static const char *const mcast_dir_names[_MCAST_DIR_MAX] = {
        [MCAST_DIR_IN] = "in",
        [MCAST_DIR_OUT] = "out",
};

static const char *const mcast_role_names[_MCAST_ROLE_MAX] = {
        [MCAST_ROLE_UPLINK] = "uplink",
        [MCAST_ROLE_GUEST] = "guest",
};

const char *mcast_proto_to_string(McastProto p) {
        if (p < 0 || p >= _MCAST_PROTO_MAX)
                return NULL;
        return mcast_proto_names[p];
}

const char *mcast_dir_to_string(McastDir d) {
        if (d < 0 || d >= _MCAST_DIR_MAX)
                return NULL;
        return mcast_dir_names[d];
}

const char *mcast_role_to_string(McastRole r) {
        if (r < 0 || r >= _MCAST_ROLE_MAX)
                return NULL;
        return mcast_role_names[r];
}

unsigned mcast_service_bit(McastProto proto, int family) {
        switch (proto) {
        case MCAST_PROTO_MDNS:
                return family == AF_INET ? MCAST_SERVICE_MDNS4 :
                        family == AF_INET6 ? MCAST_SERVICE_MDNS6 : 0;
        case MCAST_PROTO_SSDP:
                return family == AF_INET ? MCAST_SERVICE_SSDP4 :
                        family == AF_INET6 ? MCAST_SERVICE_SSDP6 : 0;
        case MCAST_PROTO_BCAST:
                return family == AF_INET ? MCAST_SERVICE_BCAST4 : 0;
        default:
                return 0;
        }
}

McastFwd *mcast_fwd_new(void) {
        McastFwd *f = calloc(1, sizeof *f);

        if (!f)
                return NULL;
        for (McastDir d = 0; d < _MCAST_DIR_MAX; d++) {
                f->rates[MCAST_PROTO_MDNS][d] = MCAST_RATE_MULTICAST_DEFAULT;
                f->rates[MCAST_PROTO_SSDP][d] = MCAST_RATE_MULTICAST_DEFAULT;
                f->rates[MCAST_PROTO_BCAST][d] = MCAST_RATE_BCAST_DEFAULT;
        }
        return f;
}

McastFwd *mcast_fwd_free(McastFwd *f) {
        free(f);
        return NULL;
}

static McastLink *link_get(const McastFwd *f, int ifindex) {
        if (ifindex <= 0)
                return NULL;
        for (size_t i = 0; i < f->n_links; i++)
                if (f->links[i].config.ifindex == ifindex)
                        return (McastLink *) &f->links[i];
        return NULL;
}

static bool link_has_guests(const McastFwd *f, int ifindex) {
        for (size_t i = 0; i < f->n_links; i++)
                if (f->links[i].config.role == MCAST_ROLE_GUEST &&
                    f->links[i].config.uplink_ifindex == ifindex)
                        return true;
        return false;
}

int mcast_fwd_set_link(McastFwd *f, const McastLinkConfig *c) {
        McastLink *l, *up;

        if (!f || !c || c->ifindex <= 0 || (c->services & ~MCAST_SERVICES_ALL))
                return -EINVAL;
        if (memchr(c->ifname, '\0', sizeof c->ifname) == NULL)
                return -EINVAL;
        switch (c->role) {
        case MCAST_ROLE_UPLINK:
                if (c->uplink_ifindex != 0)
                        return -EINVAL;
                break;
        case MCAST_ROLE_GUEST:
                if (c->uplink_ifindex <= 0 || c->uplink_ifindex == c->ifindex)
                        return -EINVAL;
                up = link_get(f, c->uplink_ifindex);
                if (!up || up->config.role != MCAST_ROLE_UPLINK)
                        return -ENOENT;
                break;
        default:
                return -EINVAL;
        }

        l = link_get(f, c->ifindex);
        if (l) {
                if (l->config.role == MCAST_ROLE_UPLINK && c->role == MCAST_ROLE_GUEST &&
                    link_has_guests(f, c->ifindex))
                        return -EBUSY;
                l->config = *c;
                return 0;
        }

        if (f->n_links >= MCAST_LINKS_MAX)
                return -ENOSPC;
        l = &f->links[f->n_links++];
        *l = (McastLink) { .config = *c };
        return 0;
}

static void link_remove_at(McastFwd *f, size_t i) {
        memmove(&f->links[i], &f->links[i + 1], (f->n_links - i - 1) * sizeof f->links[0]);
        f->n_links--;
}

int mcast_fwd_remove_link(McastFwd *f, int ifindex) {
        McastLink *l;
        int n = 0;

        if (!f)
                return -EINVAL;
        l = link_get(f, ifindex);
        if (!l)
                return -ENOENT;
        link_remove_at(f, (size_t) (l - f->links));
        n++;
        for (size_t i = 0; i < f->n_links;)
                if (f->links[i].config.role == MCAST_ROLE_GUEST &&
                    f->links[i].config.uplink_ifindex == ifindex) {
                        link_remove_at(f, i);
                        n++;
                } else
                        i++;
        return n;
}

int mcast_fwd_set_addresses(McastFwd *f, int ifindex, const McastAddr *addrs, size_t n) {
        McastLink *l;

        if (!f || (n > 0 && !addrs))
                return -EINVAL;
        l = link_get(f, ifindex);
        if (!l)
                return -ENOENT;
        if (n > MCAST_LINK_ADDRS_MAX)
                return -E2BIG;
        for (size_t i = 0; i < n; i++) {
                if (addrs[i].family == AF_INET) {
                        if (addrs[i].prefix_len > 32 || addrs[i].in4 == 0)
                                return -EINVAL;
                } else if (addrs[i].family == AF_INET6) {
                        if (addrs[i].prefix_len > 128)
                                return -EINVAL;
                } else
                        return -EINVAL;
        }
        if (n > 0)
                memcpy(l->addrs, addrs, n * sizeof addrs[0]);
        l->n_addrs = n;
        return 0;
}

/* The link's first IPv4 address, or NULL. */
static const McastAddr *link_addr4(const McastLink *l) {
        for (size_t i = 0; i < l->n_addrs; i++)
                if (l->addrs[i].family == AF_INET)
                        return &l->addrs[i];
        return NULL;
}

static uint32_t link_broadcast4(const McastLink *l) {
        const McastAddr *a = link_addr4(l);

        return a ? bcast_subnet_broadcast(a->in4, a->prefix_len) : 0;
}

int mcast_fwd_get_link(const McastFwd *f, int ifindex, McastLinkConfig *ret, uint32_t *ret_addr4,
                       uint8_t *ret_prefix_len) {
        const McastLink *l;
        const McastAddr *a;

        if (!f)
                return -EINVAL;
        l = link_get(f, ifindex);
        if (!l)
                return -ENOENT;
        a = link_addr4(l);
        if (ret)
                *ret = l->config;
        if (ret_addr4)
                *ret_addr4 = a ? a->in4 : 0;
        if (ret_prefix_len)
                *ret_prefix_len = a ? a->prefix_len : 0;
        return 0;
}

size_t mcast_fwd_list_links(const McastFwd *f, int *ret, size_t max) {
        for (size_t i = 0; i < f->n_links && i < max; i++)
                ret[i] = f->links[i].config.ifindex;
        return f->n_links;
}

int mcast_fwd_set_rate(McastFwd *f, McastProto proto, McastDir dir, McastRate rate) {
        if (!f || proto < 0 || proto >= _MCAST_PROTO_MAX || dir < 0 || dir >= _MCAST_DIR_MAX)
                return -EINVAL;
        if (rate.per_sec > 0 && rate.burst == 0)
                return -EINVAL;
        f->rates[proto][dir] = rate;
        return 0;
}

/*
 * Take one packet's token. A bucket starts full; time going backwards (it should not, the
 * clock is monotonic) adds nothing. The refill is capped before it is multiplied, so no
 * interval, however long, overflows.
 */
static bool bucket_take(Bucket *b, const McastRate *rate, uint64_t now_usec) {
        uint64_t cap;

        if (rate->per_sec == 0)
                return true;
        cap = (uint64_t) rate->burst * MICRO;
        if (!b->started) {
                b->tokens = cap;
                b->last_usec = now_usec;
                b->started = true;
        } else if (now_usec > b->last_usec) {
                uint64_t elapsed = now_usec - b->last_usec;

                if (elapsed > cap / rate->per_sec)
                        b->tokens = cap;
                else
                        b->tokens += elapsed * rate->per_sec;
                b->last_usec = now_usec;
        }
        if (b->tokens > cap)
                b->tokens = cap; /* after a lower rate was set */
        if (b->tokens < MICRO)
                return false;
        b->tokens -= MICRO;
        return true;
}

static void count_drop(McastLink *l, McastProto proto, McastDir dir, McastDrop reason) {
        if (reason >= 0 && reason < _MCAST_DROP_MAX)
                l->counters[proto][dir].dropped[reason]++;
}

static bool ipv4_source_is_valid(uint32_t a) {
        uint8_t first = (uint8_t) (a >> 24);

        return first != 0 && first != 127 && first < 224;
}

static bool ipv6_source_is_valid(const struct in6_addr *a) {
        static const struct in6_addr any = {}, loopback = IN6ADDR_LOOPBACK_INIT;

        return a->s6_addr[0] != 0xff && memcmp(a, &any, sizeof any) != 0 &&
                memcmp(a, &loopback, sizeof loopback) != 0;
}

/* Where the datagram came from, against the ingress link's own addresses (loop
 * prevention 4) and, for a guest link, its IPv4 subnets. */
static int check_source(const McastLink *l, int family, uint32_t src4,
                        const struct in6_addr *src6, McastDrop *reterr_drop) {
        bool in_subnet = false, have_subnet = false;

        if (family == AF_INET ? !ipv4_source_is_valid(src4) : !ipv6_source_is_valid(src6)) {
                *reterr_drop = MCAST_DROP_SOURCE_INVALID;
                return -EBADMSG;
        }
        for (size_t i = 0; i < l->n_addrs; i++) {
                const McastAddr *a = &l->addrs[i];

                if (a->family != family)
                        continue;
                if (family == AF_INET6) {
                        if (memcmp(&a->in6, src6, sizeof a->in6) == 0) {
                                *reterr_drop = MCAST_DROP_SOURCE_IS_HOST;
                                return -EBADMSG;
                        }
                        continue;
                }
                if (a->in4 == src4) {
                        *reterr_drop = MCAST_DROP_SOURCE_IS_HOST;
                        return -EBADMSG;
                }
                have_subnet = true;
                if (bcast_in_subnet(src4, a->in4, a->prefix_len))
                        in_subnet = true;
        }
        /* Guests live inside their link's subnet; IPv6 guests use link-local sources. */
        if (l->config.role == MCAST_ROLE_GUEST && family == AF_INET && have_subnet &&
            !in_subnet) {
                *reterr_drop = MCAST_DROP_SOURCE_OUTSIDE_SUBNET;
                return -EBADMSG;
        }
        return 0;
}

static int check_payload(const McastLink *l, const McastInput *in, McastDecision *d,
                         McastDrop *reterr_drop) {
        switch (in->proto) {
        case MCAST_PROTO_MDNS:
                return mdns_validate(in->data, in->len, &d->mdns, reterr_drop);
        case MCAST_PROTO_SSDP:
                return ssdp_validate(in->data, in->len, &d->ssdp, reterr_drop);
        case MCAST_PROTO_BCAST:
                return bcast_parse(in->data, in->len, link_broadcast4(l), in->bcast_flags,
                                   &d->bcast, reterr_drop);
        default:
                return -EINVAL;
        }
}

/* The egress links before their own checks: loop prevention 2 and 3. */
static bool link_is_egress(const McastLink *ingress, const McastLink *e, unsigned bit) {
        if (e == ingress || !(e->config.services & bit))
                return false;
        if (ingress->config.role == MCAST_ROLE_UPLINK)
                return e->config.role == MCAST_ROLE_GUEST &&
                        e->config.uplink_ifindex == ingress->config.ifindex;
        /* from a guest: the other guests behind its uplink, and the uplink */
        if (e->config.role == MCAST_ROLE_GUEST)
                return e->config.uplink_ifindex == ingress->config.uplink_ifindex;
        return e->config.ifindex == ingress->config.uplink_ifindex;
}

/* What the copy to @e looks like, and whether @e can take it. */
static int plan_egress(const McastLink *e, const McastInput *in, const McastDecision *d,
                       McastEgress *ret, McastDrop *reterr_drop) {
        const McastAddr *a4 = link_addr4(e);
        McastEgress eg = { .ifindex = e->config.ifindex, .kind = MCAST_EGRESS_AS_IS };

        /* An IPv4 copy to the LAN leaves from the uplink's address, or not at all. */
        if (e->config.role == MCAST_ROLE_UPLINK && in->family == AF_INET && !a4) {
                *reterr_drop = MCAST_DROP_NO_IPV4_ADDRESS;
                return -EBADMSG;
        }

        switch (in->proto) {
        case MCAST_PROTO_MDNS:
                if (e->config.role == MCAST_ROLE_UPLINK && in->family == AF_INET &&
                    !d->mdns.is_query && d->mdns.n_a > 0) {
                        eg.kind = MCAST_EGRESS_MDNS_REWRITTEN;
                        eg.a_from = in->src4;
                        eg.a_to = a4->in4;
                }
                break;
        case MCAST_PROTO_SSDP:
                break;
        case MCAST_PROTO_BCAST:
                if (e->config.role == MCAST_ROLE_UPLINK) {
                        eg.kind = MCAST_EGRESS_BCAST_PAYLOAD;
                        eg.dst4 = bcast_uplink_destination(&d->bcast, link_broadcast4(e));
                } else {
                        eg.kind = MCAST_EGRESS_BCAST_PACKET;
                        eg.dst4 = d->bcast.daddr == IPV4_LIMITED_BROADCAST ?
                                IPV4_LIMITED_BROADCAST : link_broadcast4(e);
                }
                if (eg.dst4 == 0) {
                        *reterr_drop = MCAST_DROP_NO_IPV4_ADDRESS;
                        return -EBADMSG;
                }
                break;
        default:
                return -EINVAL;
        }
        *ret = eg;
        return 0;
}

/*
 * The checks every datagram meets on its ingress link, in the order of the theory of
 * operation: the link itself (an unknown one is counted apart), the socket it came to,
 * the service, the IN rate (before any parsing), the payload, the source. @ret starts
 * empty. Return: 1 to go on, with *ret_link; 0 when refused (counted on the link's IN
 * counters) or rate-limited; -EINVAL for a bad @in; -ENOENT for an unknown link.
 */
static int ingress_admit(McastFwd *f, const McastInput *in, uint64_t now_usec,
                         McastDecision *ret, McastLink **ret_link) {
        McastLink *l;
        McastDrop reason;
        unsigned bit;
        uint32_t src4;
        int r;

        if (!f || !in || !ret || (!in->data && in->len > 0))
                return -EINVAL;
        bit = mcast_service_bit(in->proto, in->family);
        if (bit == 0)
                return -EINVAL;

        *ret = (McastDecision) { .ingress_ifindex = in->ifindex, .proto = in->proto };

        l = link_get(f, in->ifindex);
        if (!l) {
                f->unknown_link++;
                return -ENOENT;
        }
        *ret_link = l;

        if (in->socket_ifindex != 0 && in->socket_ifindex != in->ifindex) {
                reason = MCAST_DROP_WRONG_SOCKET;
                goto drop;
        }
        if (!(l->config.services & bit)) {
                reason = MCAST_DROP_PROTOCOL_OFF;
                goto drop;
        }
        if (!bucket_take(&l->buckets[in->proto][MCAST_DIR_IN], &f->rates[in->proto][MCAST_DIR_IN],
                         now_usec)) {
                l->counters[in->proto][MCAST_DIR_IN].rate_limited++;
                return 0;
        }

        r = check_payload(l, in, ret, &reason);
        if (r == -EBADMSG)
                goto drop;
        if (r < 0)
                return r;

        src4 = in->proto == MCAST_PROTO_BCAST ? ret->bcast.saddr : in->src4;
        r = check_source(l, in->family, src4, &in->src6, &reason);
        if (r < 0)
                goto drop;
        return 1;

drop:
        count_drop(l, in->proto, MCAST_DIR_IN, reason);
        return 0;
}

/* One copy's way out by @e: planned (plan_egress()) and within @e's OUT rate. Return: 1
 * with *ret; 0 when refused (counted on @e's OUT counters); a negative errno. */
static int egress_admit(McastFwd *f, McastLink *e, const McastInput *in, const McastDecision *d,
                        uint64_t now_usec, McastEgress *ret) {
        McastDrop reason;
        int r;

        r = plan_egress(e, in, d, ret, &reason);
        if (r == -EBADMSG) {
                count_drop(e, in->proto, MCAST_DIR_OUT, reason);
                return 0;
        }
        if (r < 0)
                return r;
        if (!bucket_take(&e->buckets[in->proto][MCAST_DIR_OUT], &f->rates[in->proto][MCAST_DIR_OUT],
                         now_usec)) {
                e->counters[in->proto][MCAST_DIR_OUT].rate_limited++;
                return 0;
        }
        return 1;
}

int mcast_fwd_decide(McastFwd *f, const McastInput *in, uint64_t now_usec, McastDecision *ret) {
        McastLink *l = NULL;
        McastDrop reason;
        size_t n_candidates = 0;
        unsigned bit;
        int r;

        r = ingress_admit(f, in, now_usec, ret, &l);
        if (r <= 0)
                return r;
        bit = mcast_service_bit(in->proto, in->family);

        if (in->proto == MCAST_PROTO_BCAST && l->config.role == MCAST_ROLE_GUEST) {
                const McastAddr *a4 = link_addr4(l);

                if (a4 && bcast_check_from_guest(&ret->bcast, a4->in4, a4->prefix_len,
                                                 &reason) == -EBADMSG)
                        goto drop;
        }

        /* RFC 6762 §6: responses from any other port than 5353 are to be ignored. */
        if (in->proto == MCAST_PROTO_MDNS && !ret->mdns.is_query && in->src_port != MDNS_PORT) {
                reason = MCAST_DROP_MDNS_RESPONSE_PORT;
                goto drop;
        }
        if (in->proto == MCAST_PROTO_MDNS)
                ret->legacy_port = in->src_port != MDNS_PORT;
        else if (in->proto == MCAST_PROTO_SSDP)
                ret->legacy_port = in->src_port != SSDP_PORT;

        for (size_t i = 0; i < f->n_links; i++) {
                McastLink *e = &f->links[i];
                McastEgress eg;

                if (!link_is_egress(l, e, bit))
                        continue;
                n_candidates++;
                if (n_candidates == 1)
                        l->counters[in->proto][MCAST_DIR_IN].forwarded++;
                r = egress_admit(f, e, in, ret, now_usec, &eg);
                if (r < 0)
                        return r;
                if (r > 0)
                        ret->egress[ret->n_egress++] = eg;
        }
        if (n_candidates == 0) {
                reason = MCAST_DROP_NO_ROUTE;
                goto drop;
        }
        /* From a guest: the other guests first, the uplink last (as the original did). */
        for (size_t i = 0; i + 1 < ret->n_egress; i++) {
                McastLink *e = link_get(f, ret->egress[i].ifindex);

                if (e->config.role == MCAST_ROLE_UPLINK) {
                        McastEgress up = ret->egress[i];

                        memmove(&ret->egress[i], &ret->egress[i + 1],
                                (ret->n_egress - i - 1) * sizeof ret->egress[0]);
                        ret->egress[ret->n_egress - 1] = up;
                        break;
                }
        }
        return (int) ret->n_egress;

drop:
        count_drop(l, in->proto, MCAST_DIR_IN, reason);
        return 0;
}

int mcast_fwd_decide_reply(McastFwd *f, const McastInput *in, int asker_ifindex,
                           uint64_t now_usec, McastDecision *ret) {
        McastLink *l = NULL, *asker;
        McastDrop reason;
        McastEgress eg;
        int r;

        if (in && in->proto == MCAST_PROTO_BCAST)
                return -EINVAL;
        r = ingress_admit(f, in, now_usec, ret, &l);
        if (r <= 0)
                return r;
        if (in->proto == MCAST_PROTO_MDNS ? ret->mdns.is_query : ret->ssdp.kind != SSDP_RESPONSE) {
                reason = MCAST_DROP_NOT_A_REPLY;
                goto drop;
        }
        asker = link_get(f, asker_ifindex);
        if (!asker || asker == l || !(asker->config.services & mcast_service_bit(in->proto,
                                                                                  in->family))) {
                reason = MCAST_DROP_NO_ROUTE;
                goto drop;
        }
        l->counters[in->proto][MCAST_DIR_IN].forwarded++;
        r = egress_admit(f, asker, in, ret, now_usec, &eg);
        if (r <= 0)
                return r;
        ret->egress[ret->n_egress++] = eg;
        return 1;

drop:
        count_drop(l, in->proto, MCAST_DIR_IN, reason);
        return 0;
}

int mcast_fwd_prepare(const McastInput *in, const McastDecision *d, size_t i, uint8_t *buf,
                      size_t size, const uint8_t **ret_data, size_t *ret_len) {
        const McastEgress *e;
        int r;

        if (!in || !d || i >= d->n_egress || in->proto != d->proto ||
            in->ifindex != d->ingress_ifindex)
                return -EINVAL;
        e = &d->egress[i];

        switch (e->kind) {
        case MCAST_EGRESS_AS_IS:
                *ret_data = in->data;
                *ret_len = in->len;
                return 0;
        case MCAST_EGRESS_MDNS_REWRITTEN:
                if (!buf || in->len > size)
                        return -ENOBUFS;
                memcpy(buf, in->data, in->len);
                r = mdns_rewrite_a(buf, in->len, e->a_from, e->a_to, NULL);
                if (r < 0)
                        return r;
                *ret_data = buf;
                *ret_len = in->len;
                return 0;
        case MCAST_EGRESS_BCAST_PACKET:
                if (d->bcast.total_len > in->len)
                        return -EBADMSG;
                if (!buf)
                        return -ENOBUFS;
                r = bcast_rewrite(in->data, &d->bcast, e->dst4, buf, size, ret_len);
                if (r < 0)
                        return r;
                *ret_data = buf;
                return 0;
        case MCAST_EGRESS_BCAST_PAYLOAD:
                if (d->bcast.total_len > in->len)
                        return -EBADMSG;
                *ret_data = in->data + d->bcast.payload_offset;
                *ret_len = d->bcast.payload_len;
                return 0;
        default:
                return -EINVAL;
        }
}

void mcast_fwd_sent(McastFwd *f, const McastDecision *d, size_t i, int result) {
        McastLink *l;

        if (!f || !d || i >= d->n_egress || d->proto < 0 || d->proto >= _MCAST_PROTO_MAX)
                return;
        l = link_get(f, d->egress[i].ifindex);
        if (!l)
                return; /* removed meanwhile */
        if (result >= 0)
                l->counters[d->proto][MCAST_DIR_OUT].forwarded++;
        else
                count_drop(l, d->proto, MCAST_DIR_OUT,
                           result == -ENOBUFS || result == -EMSGSIZE ? MCAST_DROP_TOO_BIG :
                           MCAST_DROP_SEND_FAILED);
}

int mcast_fwd_count_drop(McastFwd *f, int ifindex, McastProto proto, McastDir dir,
                         McastDrop reason) {
        McastLink *l;

        if (!f || proto < 0 || proto >= _MCAST_PROTO_MAX || dir < 0 || dir >= _MCAST_DIR_MAX ||
            reason < 0 || reason >= _MCAST_DROP_MAX)
                return -EINVAL;
        l = link_get(f, ifindex);
        if (!l)
                return -ENOENT;
        count_drop(l, proto, dir, reason);
        return 0;
}

static void counters_add(McastCounters *sum, const McastCounters *c) {
        sum->forwarded += c->forwarded;
        sum->rate_limited += c->rate_limited;
        for (size_t i = 0; i < _MCAST_DROP_MAX; i++)
                sum->dropped[i] += c->dropped[i];
}

int mcast_fwd_get_counters(const McastFwd *f, int ifindex, McastProto proto, McastDir dir,
                           McastCounters *ret) {
        const McastLink *l;
        McastCounters sum = {};

        if (!f || !ret || dir < 0 || dir >= _MCAST_DIR_MAX ||
            (proto != _MCAST_PROTO_INVALID && (proto < 0 || proto >= _MCAST_PROTO_MAX)))
                return -EINVAL;
        l = link_get(f, ifindex);
        if (!l)
                return -ENOENT;
        for (McastProto p = 0; p < _MCAST_PROTO_MAX; p++)
                if (proto == _MCAST_PROTO_INVALID || proto == p)
                        counters_add(&sum, &l->counters[p][dir]);
        *ret = sum;
        return 0;
}

uint64_t mcast_fwd_unknown_link(const McastFwd *f) {
        return f->unknown_link;
}

uint64_t mcast_counters_dropped(const McastCounters *c) {
        uint64_t n = 0;

        for (size_t i = 0; i < _MCAST_DROP_MAX; i++)
                n += c->dropped[i];
        return n;
}

int mcast_fwd_dump(const McastFwd *f, FILE *out) {
        if (!f || !out)
                return -EINVAL;
        for (size_t i = 0; i < f->n_links; i++) {
                const McastLink *l = &f->links[i];

                for (McastProto p = 0; p < _MCAST_PROTO_MAX; p++)
                        for (McastDir d = 0; d < _MCAST_DIR_MAX; d++) {
                                const McastCounters *c = &l->counters[p][d];
                                uint64_t dropped = mcast_counters_dropped(c);

                                if (c->forwarded == 0 && c->rate_limited == 0 && dropped == 0)
                                        continue;
                                fprintf(out, "%s %s %s %s: forwarded %" PRIu64
                                        " rate-limited %" PRIu64 " dropped %" PRIu64 "\n",
                                        l->config.ifname[0] ? l->config.ifname : "?",
                                        mcast_role_to_string(l->config.role),
                                        mcast_proto_to_string(p), mcast_dir_to_string(d),
                                        c->forwarded, c->rate_limited, dropped);
                                for (McastDrop r = 0; r < _MCAST_DROP_MAX; r++)
                                        if (c->dropped[r] > 0)
                                                fprintf(out, "  %s %" PRIu64 "\n",
                                                        mcast_drop_to_string(r), c->dropped[r]);
                        }
        }
        if (f->unknown_link > 0)
                fprintf(out, "unknown link: %" PRIu64 "\n", f->unknown_link);
        return ferror(out) ? -EIO : 0;
}
