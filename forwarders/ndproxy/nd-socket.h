/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * ndproxyd's one packet socket: AF_PACKET, SOCK_RAW, not bound to an interface, so it
 * hears every link of the namespace and sends on any. A classic BPF filter lets through
 * only what the proxy reads (below), each frame's ring header says whether it carried a
 * VLAN tag (the auxiliary data of TPACKET_V2), and multicast groups are joined per link
 * (PACKET_ADD_MEMBERSHIP), never promiscuous mode. Opening it needs CAP_NET_RAW; everything after (receiving, sending, joining and
 * leaving groups) works without any capability, inside the sandbox.
 *
 * The filter, in the kernel, before the process sees a byte:
 *   - not a frame this host sends (PACKET_OUTGOING): the proxy's own copies and the
 *     kernel's own Neighbor Discovery never come back;
 *   - EtherType IPv6 (a tag the kernel left in the frame fails here);
 *   - next header ICMPv6 straight after the IPv6 header: a frame with an extension header
 *     is never read (RFC 4861 messages carry none; MLD reports, which do, stay out);
 *   - ICMPv6 type 133 to 136 (RS, RA, NS, NA);
 *   - not an NS that arrives on an uplink for a guest address the kernel answers there
 *     (its proxy entry, nd_proxy_kernel_answered()): the proxy would only relay it to the
 *     guest, a wake-up on the path of every first contact with the guest. An NS too short
 *     to hold its target is kept, for the parser to count;
 *   - not an NA to one of the host's own addresses (a guest answering the host's NS): the
 *     host's kernel takes it, and the proxy would only drop it (ND_DROP_FOR_HOST).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mac.h"
#include "nd-filter.h"

/*
 * Frames arrive in a ring the kernel writes and the process reads in place (PACKET_RX_RING,
 * TPACKET_V2): its memory does not count against the socket's receive buffer, whose
 * limit (net.core.rmem_max, without CAP_NET_ADMIN) holds a few hundred frames, so a burst
 * while the process waits for a CPU is absorbed rather than dropped. A slot holds a frame
 * of up to ND_RING_FRAME_SIZE less its header; a longer one arrives cut, and its IPv6
 * payload length then says so (dropped as malformed: Neighbor Discovery fits an MTU).
 */
#define ND_RING_FRAME_SIZE 2048
#define ND_RING_FRAMES 1024

typedef struct NdFrame {
        int ifindex;
        bool vlan_tagged;
        size_t len;
        const uint8_t *data;         /* in the ring, until nd_ring_release() */
} NdFrame;

typedef struct NdRing NdRing;

/*
 * nd_socket_open() - the packet socket, its filter, non-blocking and close-on-exec.
 * @ret_fd: the socket
 *
 * Return: 0 or a negative errno (-EPERM without CAP_NET_RAW).
 */
int nd_socket_open(int *ret_fd);

/*
 * nd_socket_set_filter() - replace the socket's filter with nd_filter_build()'s (the
 * kernel swaps it at once; no frame goes unfiltered).
 * Return: 0 or a negative errno.
 */
int nd_socket_set_filter(int fd, const NdKernelAnswered *skips, size_t n_skips,
                         const struct in6_addr *hosts, size_t n_hosts);

/*
 * nd_socket_membership() - join or leave an Ethernet group on one link.
 * @fd: the socket
 * @ifindex: the link
 * @group: a group address (33:33:...)
 * @join: join, or leave
 *
 * The kernel counts joins of the same group on the same link; a leave undoes one.
 *
 * Return: 0 or a negative errno (leaving a group that was not joined: -EADDRNOTAVAIL).
 */
int nd_socket_membership(int fd, int ifindex, const MacAddr *group, bool join);

/*
 * nd_socket_send() - send one frame on a link.
 * @fd: the socket
 * @ifindex: the link
 * @frame: the whole frame, Ethernet header first
 * @len: its length
 *
 * Return: 0 or a negative errno (-EAGAIN when the link's queue is full).
 */
int nd_socket_send(int fd, int ifindex, const uint8_t *frame, size_t len);

/*
 * nd_ring_new() - the receive ring of @fd (ND_RING_FRAMES slots), mapped.
 * Return: 0 or a negative errno.
 */
int nd_ring_new(int fd, NdRing **ret);
NdRing *nd_ring_free(NdRing *r);

/*
 * nd_ring_next() - the oldest frame the kernel has put in the ring; it stays there until
 * nd_ring_release().
 * Return: 1 with @ret filled, or 0 when the ring is empty.
 */
int nd_ring_next(NdRing *r, NdFrame *ret);

/* nd_ring_release() - give the frame nd_ring_next() returned back to the kernel. */
void nd_ring_release(NdRing *r);
