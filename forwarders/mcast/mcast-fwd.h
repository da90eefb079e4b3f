/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * mcastd's forwarding decisions, without sockets or clocks: which links exist (an uplink, or
 * a guest link behind one uplink, each carrying some of mDNS, SSDP and broadcast over IPv4
 * and IPv6), where a received datagram goes, what each copy must look like, rate limits
 * and counters. The daemon owns the sockets and the time; it asks this object what to do.
 * How the two fit together, and how loops are avoided, is the theory of operation at the
 * top of mcast-fwd.c.
 *
 * Use, per received datagram:
 *
 *     McastInput in = { .ifindex = pktinfo_ifindex, .socket_ifindex = bound_ifindex,
 *                       .proto = MCAST_PROTO_MDNS, .family = AF_INET, .src4 = ...,
 *                       .src_port = ..., .data = buf, .len = n };
 *     McastDecision d;
 *     int n = mcast_fwd_decide(fwd, &in, now_usec, &d);
 *     for (int i = 0; i < n; i++) {
 *             const uint8_t *data; size_t len;
 *             int r = mcast_fwd_prepare(&in, &d, i, out, sizeof out, &data, &len);
 *             if (r >= 0)
 *                     r = send_on(d.egress[i].ifindex, data, len, ...);
 *             mcast_fwd_sent(fwd, &d, i, r);
 *     }
 *
 * Addresses are host byte order (uint32_t) for IPv4, struct in6_addr for IPv6.
 */

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bcast.h"
#include "dns.h"
#include "macro.h"
#include "mcast-drop.h"
#include "ssdp.h"

#define MCAST_LINKS_MAX 64u
/* A link's own addresses kept for the source checks (IPv4 first); one with more (SLAAC
 * with temporary addresses on several prefixes) has its later IPv6 ones unchecked. */
#define MCAST_LINK_ADDRS_MAX 32u

#define MDNS_PORT 5353u
#define SSDP_PORT 1900u
#define MDNS_GROUP4 0xe00000fbu  /* 224.0.0.251 */
#define SSDP_GROUP4 0xeffffffau  /* 239.255.255.250 */
#define MDNS_GROUP6_INIT { { { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb } } }
#define SSDP_GROUP6_INIT { { { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0c } } }
#define MDNS_HOP_LIMIT 255u      /* RFC 6762 §11: receivers may check it */
#define SSDP_HOP_LIMIT 2u        /* UDA 1.1 §1.1.2: multicast TTL defaults to 2 */

typedef enum McastProto {
        MCAST_PROTO_MDNS,
        MCAST_PROTO_SSDP,
        MCAST_PROTO_BCAST,       /* UDP broadcast, IPv4 only */
        _MCAST_PROTO_MAX,
        _MCAST_PROTO_INVALID = -EINVAL,
} McastProto;

typedef enum McastDir {
        MCAST_DIR_IN,            /* received on the link */
        MCAST_DIR_OUT,           /* to be sent on the link */
        _MCAST_DIR_MAX,
        _MCAST_DIR_INVALID = -EINVAL,
} McastDir;

typedef enum McastRole {
        MCAST_ROLE_UPLINK,
        MCAST_ROLE_GUEST,
        _MCAST_ROLE_MAX,
        _MCAST_ROLE_INVALID = -EINVAL,
} McastRole;

/* What a link carries: one bit per protocol and family (McastLinkConfig.services). */
#define MCAST_SERVICE_MDNS4 (1u << 0)
#define MCAST_SERVICE_MDNS6 (1u << 1)
#define MCAST_SERVICE_SSDP4 (1u << 2)
#define MCAST_SERVICE_SSDP6 (1u << 3)
#define MCAST_SERVICE_BCAST4 (1u << 4)
#define MCAST_SERVICES_MULTICAST 0x0fu /* mDNS and SSDP, both families */
#define MCAST_SERVICES_ALL 0x1fu

typedef struct McastLinkConfig {
        int ifindex;
        char ifname[IFNAMSIZ];   /* for logs and stats only */
        McastRole role;
        int uplink_ifindex;      /* MCAST_ROLE_GUEST: the uplink it sits behind; else 0 */
        unsigned services;       /* MCAST_SERVICE_* */
} McastLinkConfig;

/* An address the host has on a link, as rtnetlink reports it. */
typedef struct McastAddr {
        int family;              /* AF_INET or AF_INET6 */
        uint8_t prefix_len;
        uint32_t in4;            /* AF_INET */
        struct in6_addr in6;     /* AF_INET6 */
} McastAddr;

/* A token bucket: @per_sec packets a second on average, @burst at once; per_sec 0 = no limit. */
typedef struct McastRate {
        uint32_t per_sec;
        uint32_t burst;
} McastRate;

#define MCAST_RATE_MULTICAST_DEFAULT ((McastRate) { .per_sec = 2000, .burst = 2000 })
#define MCAST_RATE_BCAST_DEFAULT ((McastRate) { .per_sec = 1000, .burst = 1000 })

typedef struct McastCounters {
        uint64_t forwarded;      /* IN: accepted and routed; OUT: copies sent */
        uint64_t rate_limited;
        uint64_t dropped[_MCAST_DROP_MAX];
} McastCounters;

/* One received datagram, as the daemon's socket delivered it. */
typedef struct McastInput {
        int ifindex;             /* the link it arrived on: IP(V6)_PKTINFO, or sll_ifindex */
        int socket_ifindex;      /* the link the receiving socket is bound to; 0 = unchecked */
        McastProto proto;
        int family;              /* AF_INET or AF_INET6 (MCAST_PROTO_BCAST: AF_INET) */
        uint32_t src4;           /* mDNS, SSDP over IPv4: the source address */
        struct in6_addr src6;    /* mDNS, SSDP over IPv6: the source address */
        uint16_t src_port;       /* mDNS, SSDP: the UDP source port */
        unsigned bcast_flags;    /* MCAST_PROTO_BCAST: BCAST_F_* from PACKET_AUXDATA */
        const uint8_t *data;     /* UDP payload; MCAST_PROTO_BCAST: the IPv4 packet */
        size_t len;
} McastInput;

typedef enum McastEgressKind {
        MCAST_EGRESS_AS_IS,          /* the datagram unchanged, to the group */
        MCAST_EGRESS_MDNS_REWRITTEN, /* the datagram with A records rewritten, to the group */
        MCAST_EGRESS_BCAST_PACKET,   /* a rewritten IPv4 packet, sent whole to the guest link */
        MCAST_EGRESS_BCAST_PAYLOAD,  /* the UDP payload, from src port to dst4:dst port */
        _MCAST_EGRESS_KIND_MAX,
        _MCAST_EGRESS_KIND_INVALID = -EINVAL,
} McastEgressKind;

typedef struct McastEgress {
        int ifindex;
        McastEgressKind kind;
        uint32_t a_from;         /* MDNS_REWRITTEN: the guest's address ... */
        uint32_t a_to;           /* ... becomes the uplink's */
        uint32_t dst4;           /* BCAST_*: the destination address on this link */
} McastEgress;

typedef struct McastDecision {
        int ingress_ifindex;
        McastProto proto;
        /* mDNS/SSDP from another port than 5353/1900 (legacy unicast mDNS, an M-SEARCH):
         * send from a socket bound to src_port on each egress link, so the unicast answers
         * come back to that port (reference §8.2). */
        bool legacy_port;
        union {
                MdnsInfo mdns;
                SsdpInfo ssdp;
                BcastPacket bcast;
        };
        size_t n_egress;
        McastEgress egress[MCAST_LINKS_MAX];
} McastDecision;

typedef struct McastFwd McastFwd;

/*
 * mcast_proto_to_string() - the name of a protocol.
 * @p: the protocol
 *
 * Return: "mdns", "ssdp" or "broadcast"; NULL out of range.
 */
const char *mcast_proto_to_string(McastProto p);

/*
 * mcast_dir_to_string() - the name of a direction.
 * @d: the direction
 *
 * Return: "in" or "out"; NULL out of range.
 */
const char *mcast_dir_to_string(McastDir d);

/*
 * mcast_role_to_string() - the name of a link's role.
 * @r: the role
 *
 * Return: "uplink" or "guest"; NULL out of range.
 */
const char *mcast_role_to_string(McastRole r);

/*
 * mcast_service_bit() - the MCAST_SERVICE_* bit of a protocol over a family.
 * @proto: the protocol
 * @family: AF_INET or AF_INET6
 *
 * Return: the bit; 0 for a combination that does not exist (broadcast over IPv6).
 */
unsigned mcast_service_bit(McastProto proto, int family);

/*
 * mcast_fwd_new() - a forwarder with no links, the default rates and zero counters. All
 * its memory is taken here; nothing later allocates.
 *
 * Return: the forwarder, or NULL without memory.
 */
McastFwd *mcast_fwd_new(void);

/*
 * mcast_fwd_free() - free a forwarder.
 * @f: the forwarder, or NULL
 *
 * Return: NULL, for f = mcast_fwd_free(f).
 */
McastFwd *mcast_fwd_free(McastFwd *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(McastFwd *, mcast_fwd_free);

/*
 * mcast_fwd_set_link() - add a link, or change one (its counters, rate buckets and
 * addresses stay). A guest link can move to another uplink this way (Termina following the
 * default uplink).
 * @f: the forwarder
 * @c: the link: ifindex > 0; a guest names an existing uplink other than itself; an uplink
 *     names none; services within MCAST_SERVICES_ALL
 *
 * Return: 0; -EINVAL for a bad config; -ENOENT if a guest's uplink is not an uplink here;
 * -EBUSY to turn an uplink with guests into a guest; -ENOSPC beyond MCAST_LINKS_MAX links.
 */
int mcast_fwd_set_link(McastFwd *f, const McastLinkConfig *c);

/*
 * mcast_fwd_remove_link() - forget a link; an uplink takes its guest links with it.
 * @f: the forwarder
 * @ifindex: the link
 *
 * Return: how many links were removed, or -ENOENT.
 */
int mcast_fwd_remove_link(McastFwd *f, int ifindex);

/*
 * mcast_fwd_set_addresses() - the host's own addresses on a link, replacing the previous
 * set. The first IPv4 address is the link's: an uplink's names the uplink in rewritten A
 * records and is the source of its copies (no IPv4 address: no IPv4 copy leaves by it); a
 * guest link's gives the guests' subnet and broadcast address. Datagrams from any of these
 * addresses were sent by this host and are never forwarded. Until a guest link has an IPv4
 * address, the IPv4 sources of its datagrams cannot be checked against its subnet.
 * @f: the forwarder
 * @ifindex: the link
 * @addrs: the addresses; entries of other families are refused
 * @n: how many, at most MCAST_LINK_ADDRS_MAX
 *
 * Return: 0; -ENOENT for an unknown link; -E2BIG beyond MCAST_LINK_ADDRS_MAX; -EINVAL.
 */
int mcast_fwd_set_addresses(McastFwd *f, int ifindex, const McastAddr *addrs, size_t n);

/*
 * mcast_fwd_get_link() - a link's configuration and its first IPv4 address.
 * @f: the forwarder
 * @ifindex: the link
 * @ret: its configuration, or NULL
 * @ret_addr4: its IPv4 address (0 if none), or NULL
 * @ret_prefix_len: that address's prefix length, or NULL
 *
 * Return: 0, or -ENOENT.
 */
int mcast_fwd_get_link(const McastFwd *f, int ifindex, McastLinkConfig *ret, uint32_t *ret_addr4,
                       uint8_t *ret_prefix_len);

/*
 * mcast_fwd_list_links() - the ifindexes of all links, in the order they were added.
 * @f: the forwarder
 * @ret: where they go
 * @max: room in @ret
 *
 * Return: how many links there are (possibly more than @max).
 */
size_t mcast_fwd_list_links(const McastFwd *f, int *ret, size_t max);

/*
 * mcast_fwd_set_rate() - the rate limit of every link for one protocol and direction.
 * @f: the forwarder
 * @proto: the protocol
 * @dir: MCAST_DIR_IN limits what a link may send us, MCAST_DIR_OUT what we send it
 * @rate: the limit; per_sec 0 turns it off; otherwise burst >= 1
 *
 * Return: 0, or -EINVAL.
 */
int mcast_fwd_set_rate(McastFwd *f, McastProto proto, McastDir dir, McastRate rate);

/*
 * mcast_fwd_decide() - what to do with one received datagram: check the link, the
 * socket, the rate, the source and the payload (mdns_validate(), ssdp_validate(),
 * bcast_parse()), then list the copies to send, each on another link, after that link's
 * own checks (an IPv4 address where the copy needs one, its rate). Everything is counted:
 * a refusal on the ingress link's IN counters, a refused copy on the egress link's OUT.
 * @f: the forwarder
 * @in: the datagram
 * @now_usec: a monotonic clock, in microseconds
 * @ret: the decision; n_egress copies in egress[]; filled also when nothing is to be sent
 *
 * Return: how many copies to send (ret->n_egress, possibly 0), -ENOENT for a datagram from
 * an unknown link (counted in mcast_fwd_unknown_link()), -EINVAL for a bad @in.
 */
int mcast_fwd_decide(McastFwd *f, const McastInput *in, uint64_t now_usec, McastDecision *ret);

/*
 * mcast_fwd_decide_reply() - what to do with a unicast answer to a query that was forwarded
 * from another port than 5353/1900 (McastDecision.legacy_port): the daemon sent that query
 * on link @in->ifindex from a socket bound to the asker's port, the answer came back on
 * that socket, and it goes to the asker on @asker_ifindex (reference §8.2: "so unicast
 * replies to legacy queries come back"). The same checks as mcast_fwd_decide() on the
 * ingress link (socket, service, IN rate, payload, source), and the answer must be one: an
 * mDNS response, an SSDP "HTTP/1.1 200 OK" (else MCAST_DROP_NOT_A_REPLY); the one copy, to
 * the asker's link, is planned as any copy is (an mDNS answer from a guest leaving by the
 * uplink has its A records rewritten) and limited by that link's OUT rate. The source port
 * of an mDNS answer is not checked: a unicast answer is not multicast (RFC 6762 §6.7).
 * @f: the forwarder
 * @in: the answer; in->socket_ifindex is the link of the socket it came to
 * @asker_ifindex: the link of the query's sender
 * @now_usec: a monotonic clock, in microseconds
 * @ret: the decision, at most one copy (its destination is the asker, which the daemon
 *       remembered; egress[0].ifindex is @asker_ifindex)
 *
 * Return: how many copies to send (0 or 1), -ENOENT for an answer on an unknown link,
 * -EINVAL for a bad @in or broadcast.
 */
int mcast_fwd_decide_reply(McastFwd *f, const McastInput *in, int asker_ifindex,
                           uint64_t now_usec, McastDecision *ret);

/*
 * mcast_fwd_prepare() - the bytes of copy @i: the datagram itself, or a copy in @buf.
 * @in: the datagram given to mcast_fwd_decide()
 * @d: its decision
 * @i: which copy, below d->n_egress
 * @buf: room for a rewritten copy (BCAST_PACKET_MAX bytes always suffice)
 * @size: the size of @buf
 * @ret_data: the bytes to send (in @in's buffer or in @buf)
 * @ret_len: how many
 *
 * Return: 0; -ENOBUFS if a rewritten copy does not fit @buf; -EINVAL for a bad @i; -EBADMSG
 * if @in is not the datagram @d was decided on.
 */
int mcast_fwd_prepare(const McastInput *in, const McastDecision *d, size_t i, uint8_t *buf,
                      size_t size, const uint8_t **ret_data, size_t *ret_len);

/*
 * mcast_fwd_sent() - count how copy @i went: sent (@result >= 0), too big
 * (-ENOBUFS, -EMSGSIZE) or failed (other errors).
 * @f: the forwarder
 * @d: the decision
 * @i: which copy
 * @result: what mcast_fwd_prepare() or the send returned
 */
void mcast_fwd_sent(McastFwd *f, const McastDecision *d, size_t i, int result);

/*
 * mcast_fwd_count_drop() - count a drop the daemon decided itself (a datagram cut short
 * by its receive buffer is MCAST_DROP_TOO_BIG, for instance).
 * @f: the forwarder
 * @ifindex: the link
 * @proto: the protocol
 * @dir: the direction
 * @reason: why
 *
 * Return: 0, -ENOENT for an unknown link, -EINVAL.
 */
int mcast_fwd_count_drop(McastFwd *f, int ifindex, McastProto proto, McastDir dir,
                         McastDrop reason);

/*
 * mcast_fwd_get_counters() - a link's counters for one protocol and direction, or summed
 * over the protocols with @proto _MCAST_PROTO_INVALID.
 * @f: the forwarder
 * @ifindex: the link
 * @proto: the protocol, or _MCAST_PROTO_INVALID for all
 * @dir: the direction
 * @ret: the counters
 *
 * Return: 0, -ENOENT, -EINVAL.
 */
int mcast_fwd_get_counters(const McastFwd *f, int ifindex, McastProto proto, McastDir dir,
                           McastCounters *ret);

/*
 * mcast_fwd_unknown_link() - how many datagrams came from a link the forwarder does not know
 * (mcast_fwd_decide() returned -ENOENT).
 * @f: the forwarder
 *
 * Return: the count.
 */
uint64_t mcast_fwd_unknown_link(const McastFwd *f);

/*
 * mcast_counters_dropped() - all drops of a set of counters, whatever the reason.
 * @c: the counters
 *
 * Return: the sum of c->dropped[].
 */
uint64_t mcast_counters_dropped(const McastCounters *c);

/*
 * mcast_fwd_dump() - the counters as text, for `mcastd --stats` and SIGUSR1: a line per
 * link, protocol and direction with traffic, then one per non-zero drop reason.
 * @f: the forwarder
 * @out: where to write
 *
 * Return: 0, or -EIO if writing failed.
 */
int mcast_fwd_dump(const McastFwd *f, FILE *out);
