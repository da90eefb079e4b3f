/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * One Neighbor Discovery frame, parsed and rewritten: pure functions over byte buffers, no
 * sockets, no allocation, no logging, so ndproxyd, the unit tests and the fuzzer run the
 * same code.
 *
 * A frame is Ethernet (no VLAN tag) + IPv6 (no extension header) + one ICMPv6 RS, RA, NS
 * or NA, and nothing after it:
 *
 *   0   dst MAC        6   src MAC       12  EtherType 0x86dd
 *   14  IPv6 header (40 bytes): version 6, payload length, next header 58, hop limit 255
 *   54  ICMPv6: type, code 0, checksum, then the message body and its options
 *
 * nd_packet_parse() accepts a frame only if every RFC 4861 validity check for its type
 * holds; otherwise it names the one reason it was dropped (NdDrop). nd_packet_rewrite()
 * builds the copy a proxy sends on another link (RFC 4389 §4.1.2, §4.1.3.3).
 */

#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mac.h"

/* Frame layout (offsets from the start of the Ethernet header). */
#define ND_ETH_HLEN 14
#define ND_IP6_OFF ND_ETH_HLEN
#define ND_IP6_HLEN 40
#define ND_ICMP6_OFF (ND_IP6_OFF + ND_IP6_HLEN)

#define ND_HOP_LIMIT 255             /* RFC 4861 §6.1, §7.1: anything else crossed a router */

/* The RA flag <netinet/icmp6.h> lacks, beside its ND_RA_FLAG_MANAGED and _OTHER. */
#define ND_RA_FLAG_PROXY 0x04        /* RFC 4389 §4.1.3.3 */

/* Bounds: a frame with more is dropped (ND_DROP_TOO_MANY_*). A 1500-byte RA holds at most
 * 180 options; real ones carry fewer than ten. */
#define ND_OPTIONS_MAX 64
#define ND_PREFIXES_MAX 8

typedef enum NdType {
        ND_TYPE_RS,                  /* ICMPv6 133, RFC 4861 §4.1 */
        ND_TYPE_RA,                  /* 134, §4.2 */
        ND_TYPE_NS,                  /* 135, §4.3 */
        ND_TYPE_NA,                  /* 136, §4.4 */
        _ND_TYPE_MAX,
        _ND_TYPE_INVALID = -EINVAL,
} NdType;

/* Why a frame is not proxied: one counter each. The first group is set by
 * nd_packet_parse(), the second by nd_proxy_decide(), the last by the daemon itself when
 * it cannot send a copy the proxy decided on. */
typedef enum NdDrop {
        /* nd_packet_parse(): the frame */
        ND_DROP_SHORT_FRAME,         /* shorter than Ethernet (+ IPv6) headers */
        ND_DROP_VLAN,                /* tag reported by PACKET_AUXDATA, or 802.1Q/802.1ad EtherType */
        ND_DROP_NOT_IPV6,            /* another EtherType */
        ND_DROP_ETH_SOURCE,          /* Ethernet source is a group address */
        ND_DROP_IP_VERSION,          /* version nibble is not 6 */
        ND_DROP_PAYLOAD_LENGTH,      /* IPv6 payload length disagrees with the frame's */
        ND_DROP_EXTENSION_HEADER,    /* any IPv6 extension header */
        ND_DROP_NOT_ICMPV6,          /* another upper-layer protocol */
        ND_DROP_BAD_SOURCE,          /* IPv6 source multicast or loopback; :: in an NA */
        ND_DROP_BAD_DESTINATION,     /* IPv6 destination :: or loopback */
        ND_DROP_NOT_ND,              /* ICMPv6 but not RS, RA, NS or NA */
        ND_DROP_CODE,                /* ICMPv6 code is not 0 */
        ND_DROP_HOP_LIMIT,           /* hop limit is not 255 */
        ND_DROP_TOO_SHORT,           /* ICMPv6 message shorter than its type's minimum */
        ND_DROP_CHECKSUM,            /* ICMPv6 checksum wrong */
        ND_DROP_OPTION_ZERO_LENGTH,  /* an option of length 0 (RFC 4861 §4.6) */
        ND_DROP_OPTION_TRUNCATED,    /* options do not end exactly with the message */
        ND_DROP_TOO_MANY_OPTIONS,    /* more than ND_OPTIONS_MAX */
        ND_DROP_LLADDR_LENGTH,       /* SLLA or TLLA option not 8 bytes (Ethernet, RFC 2464 §6) */
        ND_DROP_DUPLICATE_LLADDR,    /* the link-layer option to rewrite appears twice */
        ND_DROP_PREFIX_INFO,         /* RA prefix information option not 32 bytes, or /129+ */
        ND_DROP_TOO_MANY_PREFIXES,   /* more than ND_PREFIXES_MAX in one RA */
        ND_DROP_RA_SOURCE,           /* RA not from a link-local address (RFC 4861 §6.1.2) */
        ND_DROP_TARGET_MULTICAST,    /* NS/NA target is multicast (§7.1.1, §7.1.2) */
        ND_DROP_NA_SOLICITED_MULTICAST, /* NA to a multicast destination with S set (§7.1.2) */
        ND_DROP_DAD_DESTINATION,     /* NS from :: not to a solicited-node group (§7.1.1) */
        ND_DROP_UNSPECIFIED_LLADDR,  /* RS or NS from :: with a source link-layer option */
        /* nd_proxy_decide(): where the frame would go */
        ND_DROP_UNKNOWN_LINK,        /* arrived on an interface the proxy does not serve */
        ND_DROP_OWN_FRAME,           /* Ethernet source is the ingress link's own MAC */
        ND_DROP_WRONG_DIRECTION,     /* RS from an uplink, RA from a guest link */
        ND_DROP_NO_PEER,             /* no link to send it to (unpaired link) */
        ND_DROP_LOCAL_DESTINATION,   /* unicast to a guest address learned on the ingress link */
        ND_DROP_FOR_HOST,            /* to an address of the host, or an NS for one: the
                                      * host's own Neighbor Discovery, answered by its kernel */
        ND_DROP_ANSWERED,            /* a guest's NA to an asker the proxy answered for it */
        /* the daemon */
        ND_DROP_NO_NEIGHBOR,         /* unicast towards an uplink, destination not in its neighbour table */
        ND_DROP_SEND_FAILED,         /* the kernel refused the copy */
        _ND_DROP_MAX,
        _ND_DROP_INVALID = -EINVAL,
} NdDrop;

/* NdPacket.flags */
typedef enum NdFlags {
        ND_FLAG_DAD = 1 << 0,        /* NS from :: (duplicate address detection) */
        ND_FLAG_ROUTER = 1 << 1,     /* NA R */
        ND_FLAG_SOLICITED = 1 << 2,  /* NA S */
        ND_FLAG_OVERRIDE = 1 << 3,   /* NA O */
        ND_FLAG_PROXY = 1 << 4,      /* RA arrived with P set: another proxy is upstream */
} NdFlags;

/* A prefix information option of an RA (RFC 4861 §4.6.2), in host byte order. */
typedef struct NdPrefix {
        struct in6_addr prefix;
        uint8_t prefix_len;          /* 0..128 */
        uint8_t flags;               /* ND_OPT_PI_FLAG_*, as on the wire */
        uint32_t valid_lifetime;     /* seconds; UINT32_MAX is infinity */
        uint32_t preferred_lifetime;
} NdPrefix;

/* What nd_packet_parse() found; offsets are into the frame it was given. */
typedef struct NdPacket {
        NdType type;
        unsigned flags;              /* NdFlags */
        size_t len;                  /* bytes of the frame: 54 + IPv6 payload length */
        MacAddr eth_dst;
        MacAddr eth_src;
        struct in6_addr src;
        struct in6_addr dst;
        struct in6_addr target;      /* NS, NA; :: otherwise */
        /* The link-layer option a proxy rewrites: source (SLLA) in RS, RA and NS, target
         * (TLLA) in NA. lladdr_off is the offset of its 6 address bytes, 0 if absent. */
        size_t lladdr_off;
        MacAddr lladdr;
        /* RA only. */
        uint8_t ra_cur_hop_limit;
        uint8_t ra_flags;            /* ND_RA_FLAG_*, preference bits, as on the wire */
        uint16_t ra_router_lifetime; /* seconds */
        size_t n_prefixes;
        NdPrefix prefixes[ND_PREFIXES_MAX];
} NdPacket;

/* nd_packet_rewrite() flags */
typedef enum NdRewriteFlags {
        ND_REWRITE_RA_ALL_NODES = 1 << 0, /* send an RA to ff02::1 whatever its destination */
} NdRewriteFlags;

/*
 * nd_type_to_string() - "RS", "RA", "NS" or "NA".
 * @t: the type
 *
 * Return: the name, or NULL if @t is out of range.
 */
const char *nd_type_to_string(NdType t);

/*
 * nd_drop_to_string() - a stable name for a drop reason ("checksum", "hop-limit", ...),
 * for counters in status output and for logs.
 * @d: the reason
 *
 * Return: the name, or NULL if @d is out of range.
 */
const char *nd_drop_to_string(NdDrop d);

/*
 * nd_packet_parse() - validate one Ethernet frame as a Neighbor Discovery message
 * @frame: the frame, from its destination MAC on
 * @len: its length
 * @vlan_tagged: the kernel reported a VLAN tag for it (PACKET_AUXDATA, TP_STATUS_VLAN_VALID)
 * @ret: the parsed message, set only on success
 * @reterr_drop: why the frame was refused, set only on failure
 *
 * Every check of RFC 4861 §6.1 and §7.1 for the message's type applies, plus: no VLAN, no
 * extension header, the frame ends where the IPv6 payload ends, SLLA/TLLA options of
 * Ethernet size, at most ND_OPTIONS_MAX options and ND_PREFIXES_MAX prefixes. Options
 * this code does not interpret (MTU, RDNSS, nonce, ...) are kept as they are.
 *
 * Return: 0, or -EBADMSG with the reason in @reterr_drop.
 */
int nd_packet_parse(const uint8_t *frame, size_t len, bool vlan_tagged, NdPacket *ret,
                    NdDrop *reterr_drop);

/*
 * nd_packet_rewrite() - build the copy of a parsed frame that a proxy sends on another link
 * @frame: the frame @pkt was parsed from
 * @pkt: nd_packet_parse()'s result for @frame
 * @egress_mac: the MAC of the link the copy leaves on (unicast)
 * @dst_mac: the copy's Ethernet destination (nd_multicast_mac(), or the neighbour table's)
 * @flags: NdRewriteFlags
 * @buf: where the copy goes; may be @frame itself
 * @size: its size, at least @pkt->len
 * @ret_len: the copy's length (@pkt->len)
 *
 * Ethernet source becomes @egress_mac and destination @dst_mac; the SLLA (RS, RA, NS) or
 * TLLA (NA) option, when present, becomes @egress_mac (none is added, RFC 4389 §4.1.2); an
 * RA gets the Proxy flag (RFC 4389 §4.1.3.3) and, with ND_REWRITE_RA_ALL_NODES, ff02::1 as
 * destination; the hop limit stays 255; the ICMPv6 checksum is recomputed.
 *
 * Return: 0, -ENOBUFS if @size is too small, -EINVAL if @egress_mac is not unicast or
 * @dst_mac is all zeroes.
 */
int nd_packet_rewrite(const uint8_t *frame, const NdPacket *pkt, const MacAddr *egress_mac,
                      const MacAddr *dst_mac, unsigned flags, uint8_t *buf, size_t size,
                      size_t *ret_len);

/*
 * nd_packet_build_na() - the NA a proxy answers an NS with on behalf of a node it stands
 * for (RFC 4861 §7.2.4, RFC 4389 §4.1.3.1): from the target, to the NS's source (to
 * all-nodes, unsolicited, for a DAD NS from ::), with the target link-layer option @mac,
 * hop limit 255, Override clear (a proxy's answer yields to the owner's, §7.2.8).
 * @ns: a parsed NS (nd_packet_parse())
 * @mac: the MAC the answer gives for the target, and its Ethernet source (unicast)
 * @router: set the Router flag
 * @buf: where the frame goes
 * @size: its size, at least 86 bytes
 * @ret_len: the frame's length
 *
 * Return: 0, -ENOBUFS if @size is too small, -EINVAL if @ns is not an NS or @mac not
 * unicast.
 */
int nd_packet_build_na(const NdPacket *ns, const MacAddr *mac, bool router, uint8_t *buf,
                       size_t size, size_t *ret_len);

/*
 * nd_icmp6_checksum() - the ICMPv6 checksum (RFC 4443 §2.3) over the IPv6 pseudo-header
 * (RFC 8200 §8.1) and a message
 * @src: IPv6 source
 * @dst: IPv6 destination
 * @msg: the ICMPv6 message
 * @len: its length (odd lengths are padded with a zero byte, as the RFC says)
 *
 * Return: the value for the checksum field if the field in @msg is zero; 0 if @msg carries
 * a correct checksum.
 */
uint16_t nd_icmp6_checksum(const struct in6_addr *src, const struct in6_addr *dst,
                           const uint8_t *msg, size_t len);

/*
 * nd_multicast_mac() - the Ethernet group address of an IPv6 multicast address: 33:33 and
 * its low 32 bits (RFC 2464 §7), e.g. 33:33:00:00:00:01 for ff02::1, 33:33:ff:XX:XX:XX for a
 * solicited-node group
 * @addr: an address in ff00::/8
 * @ret: the MAC
 *
 * Return: 0, or -EINVAL if @addr is not multicast (see nd_needs_neighbor_lookup()).
 */
int nd_multicast_mac(const struct in6_addr *addr, MacAddr *ret);

/*
 * nd_needs_neighbor_lookup() - whether a copy to @dst needs the egress link's neighbour
 * table to find its Ethernet destination
 * @dst: the copy's IPv6 destination
 *
 * Return: true for unicast destinations; false for multicast ones, whose MAC
 * nd_multicast_mac() computes.
 */
bool nd_needs_neighbor_lookup(const struct in6_addr *dst);

/*
 * nd_learn_guest_address() - the guest address a frame received on a guest link reveals,
 * for a /128 route towards that link
 * @pkt: a frame parsed from a guest link
 * @ret: the address
 *
 * An NA's target, or the target of a DAD NS (the guest is about to use it), if it is
 * global unicast (2000::/3) or unique local (fc00::/7); never link-local, multicast,
 * unspecified or loopback.
 *
 * Return: 0, -ENOMSG if @pkt is neither an NA nor a DAD NS, -EADDRNOTAVAIL if its target
 * is of another kind.
 */
int nd_learn_guest_address(const NdPacket *pkt, struct in6_addr *ret);

/*
 * nd_addr_is_multicast() - whether @a is in ff00::/8 (RFC 4291 §2.7).
 * @a: the address
 *
 * Return: true or false; the same for the other nd_addr_is_*().
 */
bool nd_addr_is_multicast(const struct in6_addr *a);

/* nd_addr_is_link_local() - whether @a is in fe80::/10 (RFC 4291 §2.5.6). */
bool nd_addr_is_link_local(const struct in6_addr *a);

/* nd_addr_is_unspecified() - whether @a is :: (RFC 4291 §2.5.2). */
bool nd_addr_is_unspecified(const struct in6_addr *a);

/* nd_addr_is_loopback() - whether @a is ::1 (RFC 4291 §2.5.3). */
bool nd_addr_is_loopback(const struct in6_addr *a);

/* nd_addr_is_solicited_node() - whether @a is in ff02::1:ff00:0/104 (RFC 4291 §2.7.1). */
bool nd_addr_is_solicited_node(const struct in6_addr *a);

/*
 * nd_addr_is_learnable() - whether @a may get a /128 route towards a guest: global unicast
 * (2000::/3, RFC 4291 §2.4) or unique local (fc00::/7, RFC 4193).
 */
bool nd_addr_is_learnable(const struct in6_addr *a);
