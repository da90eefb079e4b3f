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
 *    file names only systemd-resolved's stub, the servers resolved itself uses
 *    (/run/systemd/resolve/resolv.conf); followed through inotify as they change.
 */

#include <stdint.h>

#include "neighbor-watch.h"

typedef struct Manager Manager;
typedef struct NeighborMonitor NeighborMonitor;
struct nlmsghdr;

#define NEIGHBOR_PROBE_INTERVAL_DEFAULT_USEC (60u * 1000u * 1000u)
#define NEIGHBOR_RESOLV_CONF_DEFAULT "/etc/resolv.conf"
#define NEIGHBOR_RESOLVED_CONF "/run/systemd/resolve/resolv.conf"

typedef struct NeighborConfig {
        uint64_t probe_interval_usec; /* 0: NEIGHBOR_PROBE_INTERVAL_DEFAULT_USEC */
        const char *resolv_conf;      /* NULL: NEIGHBOR_RESOLV_CONF_DEFAULT */
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
NeighborTable *neighbors_table(NeighborMonitor *nm);
uint64_t neighbors_probe_interval_usec(const NeighborMonitor *nm);
/* The file the DNS servers were last read from, or "" if none could be. */
const char *neighbors_dns_source(const NeighborMonitor *nm);

/* Handle one rtnetlink message as if it came from the subscription (tests use it). */
void neighbors_handle_message(NeighborMonitor *nm, const struct nlmsghdr *h);
/* Bring the watches in step with what the inputs want now (the monitor defers this to
 * once per loop turn; tests call it). */
void neighbors_update(NeighborMonitor *nm);
/* One probe round: tell held-back verdicts, free retired watches, and ask the helper to
 * probe every watch that wants it (what the timer does every interval). */
void neighbors_probe(NeighborMonitor *nm);
