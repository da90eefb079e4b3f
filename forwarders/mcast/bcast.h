/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The packet side of the broadcast forwarder (reference §8.3): UDP broadcasts over IPv4
 * between an uplink and the guest link behind it (ARC's), in both directions.
 *
 * mcastd receives them on one AF_PACKET SOCK_DGRAM socket (ETH_P_IP), so a packet
 * here starts at the IPv4 header. The buffer may be longer than the packet's total length
 * (Ethernet padding of short frames). A packet that was sent with its UDP checksum left to
 * the NIC, which is every packet crossing a veth from another namespace, arrives with
 * PACKET_AUXDATA's tp_status holding TP_STATUS_CSUMNOTREADY and only the pseudo-header sum in
 * its checksum field: the caller passes BCAST_F_CSUM_NOT_READY then, and the UDP checksum is
 * not verified (it cannot be) but computed afresh in every copy.
 *
 *   uplink -> guest link   bcast_parse(), bcast_check_from_uplink(), then bcast_rewrite()
 *                          per guest link: destination 255.255.255.255 kept, a subnet
 *                          broadcast becomes the guest link's; both checksums recomputed;
 *                          sent whole as an Ethernet broadcast frame on the packet socket
 *                          (the source stays the LAN sender's, so the guest can answer it).
 *   guest link -> uplink   bcast_parse(), bcast_check_from_guest(); the UDP payload is sent
 *                          from a socket bound to the same source port on the uplink, to
 *                          bcast_uplink_destination().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mcast-drop.h"

#define BCAST_PORT_MIN 1024u
#define BCAST_PACKET_MAX 65535u
#define IPV4_LIMITED_BROADCAST 0xffffffffu

/* bcast_parse() flags */
#define BCAST_F_CSUM_NOT_READY (1u << 0) /* tp_status & TP_STATUS_CSUMNOTREADY */

typedef struct BcastPacket {
        uint32_t saddr;         /* host byte order */
        uint32_t daddr;         /* host byte order */
        uint16_t sport;
        uint16_t dport;
        size_t ip_header_len;   /* 20..60, options included */
        size_t total_len;       /* the IP total length; bytes of the buffer beyond it are padding */
        size_t payload_offset;  /* the UDP payload */
        size_t payload_len;
        uint16_t udp_checksum;  /* as received */
        bool csum_not_ready;    /* BCAST_F_CSUM_NOT_READY was given */
} BcastPacket;

/* The broadcast address of addr/prefix_len; 0 for prefixes of 31 and 32, which have none
 * (RFC 3021), or no address. */
static inline uint32_t bcast_subnet_broadcast(uint32_t addr, unsigned prefix_len) {
        if (addr == 0 || prefix_len >= 31)
                return 0;
        return addr | (prefix_len == 0 ? 0xffffffffu : 0xffffffffu >> prefix_len);
}

/* Is addr inside addr_of_link/prefix_len? */
static inline bool bcast_in_subnet(uint32_t addr, uint32_t addr_of_link, unsigned prefix_len) {
        uint32_t mask = prefix_len == 0 ? 0 : prefix_len >= 32 ? 0xffffffffu :
                ~(0xffffffffu >> prefix_len);

        return (addr & mask) == (addr_of_link & mask);
}

/*
 * bcast_parse() - check a packet as the broadcast socket of a link received it: IPv4 with
 * a correct header checksum and well-formed options, total length within the buffer, not a
 * fragment (MF or an offset), UDP with a length equal to the IP payload's, a verified UDP
 * checksum (unless 0, or not ready), a usable source (not 0.0.0.0, loopback, multicast,
 * class E or 255.255.255.255), source and destination ports >= BCAST_PORT_MIN, destination
 * 255.255.255.255 or @subnet_broadcast.
 * @pkt: the packet, from its IPv4 header
 * @len: the length of the buffer
 * @subnet_broadcast: the receiving link's subnet broadcast address (host byte order), 0 if
 *                    it has none
 * @flags: BCAST_F_*
 * @ret: the packet's fields; set on 0 only
 * @reterr_drop: why it is refused, on -EBADMSG
 *
 * Return: 0, or -EBADMSG.
 */
int bcast_parse(const uint8_t *pkt, size_t len, uint32_t subnet_broadcast, unsigned flags,
                BcastPacket *ret, McastDrop *reterr_drop);

/*
 * bcast_check_from_uplink() - a broadcast from the LAN may go to the guests unless this host
 * sent it.
 * @p: the parsed packet
 * @uplink_addr: the uplink's address (host byte order), 0 if none
 * @reterr_drop: MCAST_DROP_SOURCE_IS_HOST, on -EBADMSG
 *
 * Return: 0, or -EBADMSG.
 */
int bcast_check_from_uplink(const BcastPacket *p, uint32_t uplink_addr, McastDrop *reterr_drop);

/*
 * bcast_check_from_guest() - a broadcast from a guest link may go to the uplink if its
 * source is a guest's: inside the link's subnet, neither the host's own address there nor
 * the subnet's network or broadcast address.
 * @p: the parsed packet
 * @host_addr: the host's address on the guest link (host byte order)
 * @prefix_len: the link's prefix length, 0..32
 * @reterr_drop: MCAST_DROP_SOURCE_OUTSIDE_SUBNET, _SOURCE_IS_HOST or _SOURCE_INVALID, on
 *               -EBADMSG
 *
 * Return: 0, or -EBADMSG; -EINVAL if the link has no address or a prefix beyond 32.
 */
int bcast_check_from_guest(const BcastPacket *p, uint32_t host_addr, unsigned prefix_len,
                           McastDrop *reterr_drop);

/*
 * bcast_uplink_destination() - where a guest's broadcast goes on the uplink:
 * 255.255.255.255 stays, a subnet broadcast becomes the uplink's own.
 * @p: the parsed packet
 * @uplink_broadcast: the uplink's subnet broadcast address, 0 if none
 *
 * Return: the destination (host byte order), 0 if the uplink has no broadcast address to
 * send a subnet broadcast to.
 */
uint32_t bcast_uplink_destination(const BcastPacket *p, uint32_t uplink_broadcast);

/*
 * bcast_rewrite() - the copy of a parsed packet for one guest link: the destination
 * becomes @link_broadcast unless it is 255.255.255.255; the IP header checksum and the UDP
 * checksum are computed afresh (a UDP checksum of 0 stays 0 only if the sender sent 0; a
 * computed 0 is sent as 0xffff, RFC 768). Padding beyond the total length is not copied.
 * @pkt: the packet as given to bcast_parse()
 * @p: what bcast_parse() returned for it
 * @link_broadcast: the guest link's subnet broadcast address (host byte order)
 * @out: where the copy goes; may not overlap @pkt
 * @size: the size of @out
 * @ret_len: the length of the copy
 *
 * Return: 0; -ENOBUFS if @out is too small; -EINVAL if @link_broadcast is 0 and the
 * packet's destination is a subnet broadcast.
 */
int bcast_rewrite(const uint8_t *pkt, const BcastPacket *p, uint32_t link_broadcast,
                  uint8_t *out, size_t size, size_t *ret_len);

/*
 * inet_checksum() - the Internet checksum (RFC 1071) of @len bytes, odd lengths included,
 * folded and complemented, added to @sum, a partial sum (pseudo-header) or 0.
 * @data: the bytes
 * @len: how many
 * @sum: a partial 32-bit sum to start from
 *
 * Return: the checksum as it goes on the wire (host byte order value of the field).
 */
uint16_t inet_checksum(const void *data, size_t len, uint32_t sum);
