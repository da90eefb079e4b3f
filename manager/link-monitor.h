/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The manager's view of the host's links, from an unprivileged rtnetlink subscription:
 * which uplinks exist (by name pattern, with the ifindex cached when first seen), and
 * which links disappear, so that objects bound to a link (a connected namespace's veth)
 * can be torn down when the kernel removes it.
 */

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "list.h"

typedef struct Uplink Uplink;
struct Uplink {
        char name[IFNAMSIZ];
        int ifindex;
        LIST_FIELDS(Uplink, uplinks);
};

typedef struct LinkMonitor LinkMonitor;

typedef void (*LinkRemovedFn)(const char *name, int ifindex, void *userdata);
/* After lost events: the ifindexes of every link that existed when dump @generation was
 * requested. An object bound to a link known before that (see link_monitor_generation())
 * and not in the list must assume the link is gone; a link created after the request may
 * be missing from the list and still exist. */
typedef void (*LinkResyncFn)(const int *ifindexes, size_t n, uint64_t generation,
                             void *userdata);

/* Name patterns (fnmatch) that make an interface an uplink when none are given. */
extern const char *const link_monitor_default_uplinks[];

/*
 * link_monitor_new() - subscribe to link events and read the current links.
 * @patterns: NULL-terminated uplink name patterns, or NULL for the defaults; copied
 * @on_removed: called for every link that disappears, uplink or not
 * @on_resync: called when the link table was re-read after the kernel dropped events
 */
int link_monitor_new(sd_event *e, char *const *patterns, LinkRemovedFn on_removed,
                     LinkResyncFn on_resync, void *userdata, LinkMonitor **ret);
LinkMonitor *link_monitor_free(LinkMonitor *m);

const Uplink *link_monitor_find_uplink(const LinkMonitor *m, const char *name);
const Uplink *link_monitor_uplinks(const LinkMonitor *m);
/* How many re-reads of the link table have been requested; stamp objects with it. */
uint64_t link_monitor_generation(const LinkMonitor *m);
bool link_monitor_is_uplink_name(const LinkMonitor *m, const char *name);
bool link_monitor_seen(const int *ifindexes, size_t n, int ifindex);
