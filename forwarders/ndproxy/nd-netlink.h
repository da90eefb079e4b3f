/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * What ndproxyd asks the kernel over rtnetlink, none of which needs a capability: a link's
 * name, MAC, type and state; one neighbour entry; the host's IPv6 addresses; and events
 * when links or IPv6 addresses change. Plain netlink sockets (no library state), so the
 * sandboxed process needs only socket, bind, sendto and recvmsg.
 */

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mac.h"

typedef struct NdLinkInfo {
        int ifindex;
        char name[IFNAMSIZ];
        unsigned short type;         /* ARPHRD_* */
        unsigned flags;              /* IFF_* */
        bool has_mac;
        MacAddr mac;
} NdLinkInfo;

typedef struct NdNeighborInfo {
        uint16_t state;              /* NUD_* */
        bool has_mac;
        MacAddr mac;
        uint64_t confirmed_ago_usec; /* since the kernel last confirmed it reachable */
} NdNeighborInfo;

/* What nd_netlink_read_events() reports. */
typedef struct NdNetlinkEvents {
        void (*link)(const NdLinkInfo *l, bool removed, void *userdata);
        /* An IPv6 address of the host came or went (which one does not matter). */
        void (*addresses_changed)(void *userdata);
        /* Events were lost (the socket's buffer overflowed): read everything again. */
        void (*overrun)(void *userdata);
        void *userdata;
} NdNetlinkEvents;

/* A NETLINK_ROUTE socket for requests (blocking, answers come at once). */
int nd_netlink_open(int *ret_fd);
/* A NETLINK_ROUTE socket subscribed to link and IPv6 address events, non-blocking. */
int nd_netlink_open_monitor(int *ret_fd);

/*
 * nd_netlink_get_link() - one link, by index, or by name when @ifindex is 0.
 * Return: 0, -ENODEV if there is none, or another negative errno.
 */
int nd_netlink_get_link(int fd, int ifindex, const char *name, NdLinkInfo *ret);

/*
 * nd_netlink_get_neighbor() - the neighbour entry of @addr on @ifindex.
 * Return: 0, -ENOENT if there is none, or another negative errno.
 */
int nd_netlink_get_neighbor(int fd, int ifindex, const struct in6_addr *addr,
                            NdNeighborInfo *ret);

/* Whether a neighbour entry holds a MAC the kernel believes in (not INCOMPLETE, FAILED or
 * NOARP). */
bool nd_neighbor_usable(const NdNeighborInfo *n);

/*
 * nd_netlink_host_addresses() - every IPv6 address of every link of the namespace.
 * @ret: room for @max; more are left out
 * @ret_n: how many were written
 * Return: 0 or a negative errno.
 */
int nd_netlink_host_addresses(int fd, struct in6_addr *ret, size_t max, size_t *ret_n);

/*
 * nd_netlink_read_events() - read and report what the monitor socket has queued.
 * Return: 0 or a negative errno.
 */
int nd_netlink_read_events(int fd, const NdNetlinkEvents *cb);
