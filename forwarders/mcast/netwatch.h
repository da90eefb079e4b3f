/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * mcastd's view of the kernel's links and of the host's addresses on them, from one
 * rtnetlink socket subscribed to link and address events. The socket is opened and the
 * tables are read in full by netwatch_new(), before the sandbox; afterwards only events
 * arrive (nothing polls, nothing wakes up while nothing changes). When the kernel drops
 * events (the receive buffer overran), both tables are read again and what they no longer
 * list is reported gone.
 *
 * It keeps every link of the namespace (name and ifindex) and up to NETWATCH_ADDRS_MAX
 * addresses of each, and tells its user what changed: a link that appeared or changed its
 * name, a link that is gone, a link whose addresses changed.
 */

#include <net/if.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "mcast-fwd.h"

#define NETWATCH_ADDRS_MAX 32u

typedef struct NetWatch NetWatch;

typedef struct NetWatchCallbacks {
        /* A link exists under this name (new, renamed, or seen again after lost events). */
        void (*link_new)(int ifindex, const char *name, void *userdata);
        /* Called before the link is forgotten: netwatch_name() still answers. */
        void (*link_gone)(int ifindex, void *userdata);
        void (*addresses_changed)(int ifindex, void *userdata);
        void *userdata;
} NetWatchCallbacks;

/*
 * netwatch_new() - subscribe to link and address events, then read both tables to their
 * end; no callback runs before the first turn of @e's loop.
 * @e: the event loop
 * @cb: what to tell, and to whom
 * @ret: the watcher
 *
 * Return: 0 or a negative errno.
 */
int netwatch_new(sd_event *e, const NetWatchCallbacks *cb, NetWatch **ret);

/*
 * netwatch_free() - close the socket and forget everything.
 * @w: the watcher, or NULL
 *
 * Return: NULL.
 */
NetWatch *netwatch_free(NetWatch *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(NetWatch *, netwatch_free);

/*
 * netwatch_find() - the ifindex of the link called @name.
 * @w: the watcher
 * @name: an interface name
 *
 * Return: the ifindex, or 0 if the kernel has no such link.
 */
int netwatch_find(const NetWatch *w, const char *name);

/*
 * netwatch_name() - the name of a link.
 * @w: the watcher
 * @ifindex: the link
 *
 * Return: its name, or NULL for an unknown link.
 */
const char *netwatch_name(const NetWatch *w, int ifindex);

/*
 * netwatch_addresses() - the host's addresses on a link, IPv4 first (so the first IPv4
 * address is the one the forwarder takes for the link's), then IPv6, in the order the
 * kernel listed them within each family.
 * @w: the watcher
 * @ifindex: the link
 * @ret: where they go
 * @max: room in @ret
 *
 * Return: how many were written.
 */
size_t netwatch_addresses(const NetWatch *w, int ifindex, McastAddr *ret, size_t max);
