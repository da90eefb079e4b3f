/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * ndproxyd's one packet socket: AF_PACKET, SOCK_RAW, not bound to an interface, so it
 * hears every link of the namespace and sends on any. A classic BPF filter lets through
 * only what the proxy reads (below), PACKET_AUXDATA says which frames carried a VLAN tag,
 * and multicast groups are joined per link (PACKET_ADD_MEMBERSHIP), never promiscuous
 * mode. Opening it needs CAP_NET_RAW; everything after (receiving, sending, joining and
 * leaving groups) works without any capability, inside the sandbox.
 *
 * The filter, in the kernel, before the process sees a byte:
 *   - not a frame this host sends (PACKET_OUTGOING): the proxy's own copies and the
 *     kernel's own Neighbor Discovery never come back;
 *   - EtherType IPv6 (a tag the kernel left in the frame fails here);
 *   - next header ICMPv6 straight after the IPv6 header: a frame with an extension header
 *     is never read (RFC 4861 messages carry none; MLD reports, which do, stay out);
 *   - ICMPv6 type 133 to 136 (RS, RA, NS, NA).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mac.h"

/* The largest frame read: an Ethernet jumbo frame. */
#define ND_FRAME_MAX 9216
/* Frames read per wake-up at most (recvmmsg()). */
#define ND_BATCH_MAX 32

typedef struct NdFrame {
        int ifindex;
        bool vlan_tagged;
        size_t len;
        uint8_t *data;               /* ND_FRAME_MAX bytes, owned by the batch */
} NdFrame;

typedef struct NdBatch NdBatch;

/*
 * nd_socket_open() - the packet socket, its filter and PACKET_AUXDATA, non-blocking and
 * close-on-exec.
 * @ret_fd: the socket
 *
 * Return: 0 or a negative errno (-EPERM without CAP_NET_RAW).
 */
int nd_socket_open(int *ret_fd);

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

/* nd_batch_new() - buffers for ND_BATCH_MAX frames; NULL when out of memory. */
NdBatch *nd_batch_new(void);
NdBatch *nd_batch_free(NdBatch *b);

/*
 * nd_socket_receive() - read what is queued, up to ND_BATCH_MAX frames.
 * @fd: the socket
 * @b: the buffers
 * @ret_frames: the frames read, valid until the next call with @b
 *
 * A truncated frame (longer than ND_FRAME_MAX) is returned with len ND_FRAME_MAX + 1, so
 * that the parser drops it as malformed.
 *
 * Return: the number of frames (0 when none is queued) or a negative errno.
 */
int nd_socket_receive(int fd, NdBatch *b, NdFrame **ret_frames);
