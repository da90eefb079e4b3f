/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The neighbour monitor (reference §9, the original's NetworkMonitorService): per uplink,
 * the gateways of its default routes and the DNS servers on its subnets are watched, the
 * kernel is asked through the helper to re-probe them every probe interval, and a verdict
 * (neighbor-watch.h) is told whenever one fails or answers again after a failure: the
 * NeighborReachabilityEvent signal (neighbors-bus.c) and the log.
 *
 * What it reads, all without privilege:
 *  - uplinks, from the registry (added, removed, up or down);
 *  - addresses, default routes and neighbour entries, from an rtnetlink subscription of its
 *    own (RTNLGRP_NEIGH, RTNLGRP_IPV{4,6}_IFADDR, RTNLGRP_IPV{4,6}_ROUTE); each new uplink,
 *    and lost events, make it re-read the tables in dumps, one at a time;
 *  - the DNS servers of resolv.conf (--resolv-conf, else /etc/resolv.conf), or, when that
 *    file names only systemd-resolved's stub, the servers resolved itself uses: each
 *    link's and its global ones, from its DNS property on the system bus (neighbors-bus.c),
 *    else, when resolved does not answer there, the merged list of its own resolv.conf
 *    (--resolved-conf, else /run/systemd/resolve/resolv.conf), which has no link in it.
 *    Both files are followed through inotify; resolved rewrites its own at every change
 *    of its servers, which is when the bus is asked again.
 */

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "neighbor-watch.h"

typedef struct Manager Manager;
typedef struct NeighborMonitor NeighborMonitor;
struct nlmsghdr;

#define NEIGHBOR_PROBE_INTERVAL_DEFAULT_USEC (60u * 1000u * 1000u)
#define NEIGHBOR_RESOLV_CONF_DEFAULT "/etc/resolv.conf"
#define NEIGHBOR_RESOLVED_CONF_DEFAULT "/run/systemd/resolve/resolv.conf"
/* systemd-resolved's bus name; also the source status names for the servers it gave. */
#define NEIGHBOR_DNS_SOURCE_RESOLVED "org.freedesktop.resolve1"

typedef struct NeighborConfig {
        uint64_t probe_interval_usec; /* 0: NEIGHBOR_PROBE_INTERVAL_DEFAULT_USEC */
        const char *resolv_conf;      /* NULL: NEIGHBOR_RESOLV_CONF_DEFAULT */
        const char *resolved_conf;    /* NULL: NEIGHBOR_RESOLVED_CONF_DEFAULT */
} NeighborConfig;

/* The monitor, subscribed to the registry's uplinks; no socket yet. Return: 0 or -ENOMEM. */
int neighbors_setup(Manager *m);
/*
 * neighbors_start() - open the rtnetlink subscription and the DNS file watch, and start
 * the probe timer (at start-up, with the link monitor).
 * @m: the manager, after neighbors_setup()
 *
 * Return: 0 or a negative errno (the subscription failed; a missing resolv.conf is not
 * an error).
 */
int neighbors_start(Manager *m);
void neighbors_free(Manager *m);

/* Who hears the verdicts besides the log (the D-Bus signal). */
void neighbors_set_event_fn(NeighborMonitor *nm, NeighborEventFn fn, void *userdata);
/*
 * NeighborResolvedFn - ask systemd-resolved for its DNS servers (neighbors-bus.c); the answer
 * comes to neighbors_on_resolved_dns().
 * @userdata: as given to neighbors_set_resolved_fn()
 * @ret_slot: the call in flight, whose unref cancels it
 *
 * Return: 0, or a negative errno (nothing was asked; nothing will come).
 */
typedef int (*NeighborResolvedFn)(void *userdata, sd_bus_slot **ret_slot);
/* Who asks systemd-resolved; without one (or without a bus) its file is read. */
void neighbors_set_resolved_fn(NeighborMonitor *nm, NeighborResolvedFn fn, void *userdata);
NeighborTable *neighbors_table(NeighborMonitor *nm);
uint64_t neighbors_probe_interval_usec(const NeighborMonitor *nm);
/* Where the DNS servers were last read from: a file, NEIGHBOR_DNS_SOURCE_RESOLVED, or ""
 * if none could be. */
const char *neighbors_dns_source(const NeighborMonitor *nm);
/*
 * neighbors_on_resolved_dns() - systemd-resolved's answer to a NeighborResolvedFn: its
 * servers, or why there are none, in which case its file is read instead (and the reason
 * logged, once until resolved answers again).
 * @nm: the monitor
 * @error: why the servers could not be had, or NULL
 * @servers: the servers (when @error is NULL)
 * @n: how many
 */
void neighbors_on_resolved_dns(NeighborMonitor *nm, const char *error, const DnsServer *servers,
                               size_t n);
/* The DNS servers may have changed (systemd-resolved came onto the bus or left it): read
 * them again, once this loop turn is over. */
void neighbors_dns_changed(NeighborMonitor *nm);

/* Handle one rtnetlink message as if it came from the subscription (tests use it). */
void neighbors_handle_message(NeighborMonitor *nm, const struct nlmsghdr *h);
/* Bring the watches in step with what the inputs want now (the monitor defers this to
 * once per loop turn; tests call it). */
void neighbors_update(NeighborMonitor *nm);
/* One probe round: tell held-back verdicts, free retired watches, and ask the helper to
 * probe every watch that wants it (what the timer does every interval). */
void neighbors_probe(NeighborMonitor *nm);
