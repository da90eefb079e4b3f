/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The manager's view of the host's network, from an unprivileged rtnetlink subscription:
 *  - uplinks: interfaces whose names match the uplink patterns, with their technology and
 *    the ifindex cached when first seen (a name that comes back with a new ifindex is a
 *    removal and an addition);
 *  - VPN links: tun, wireguard and ppp interfaces;
 *  - the default route's interface (lowest metric IPv4 default in the main table), and the
 *    physical default (the same among uplinks only: what a VPN's traffic rides on);
 *  - changes to the main-table routes through each uplink, so its routing table follows;
 *  - links that disappear, so objects bound to one (a connected namespace's veth) go too.
 */

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "list.h"

typedef enum UplinkTechnology {
        UPLINK_ETHERNET,
        UPLINK_WIFI,
        UPLINK_CELLULAR,
        _UPLINK_TECHNOLOGY_MAX,
        _UPLINK_TECHNOLOGY_INVALID = -22,
} UplinkTechnology;

typedef struct Uplink Uplink;
struct Uplink {
        char name[IFNAMSIZ];
        int ifindex;
        UplinkTechnology technology;
        bool up;
        LIST_FIELDS(Uplink, uplinks);
};

typedef struct VpnLink VpnLink;
struct VpnLink {
        char name[IFNAMSIZ];
        int ifindex;
        char kind[16];
        LIST_FIELDS(VpnLink, vpns);
};

typedef struct LinkMonitor LinkMonitor;

typedef struct LinkMonitorCallbacks {
        /* Every link that disappears, uplink or not. */
        void (*link_removed)(const char *name, int ifindex, void *userdata);
        /* After lost events: the ifindexes of every link that existed when dump @generation
         * was requested. An object bound to a link known before that (see
         * link_monitor_generation()) and not in the list must assume the link is gone; a
         * link created after the request may be missing and still exist. */
        void (*resync)(const int *ifindexes, size_t n, uint64_t generation, void *userdata);
        void (*uplink_added)(Uplink *u, void *userdata);
        /* Called before u is freed. */
        void (*uplink_removed)(Uplink *u, void *userdata);
        /* The main-table routes through this uplink may have changed. */
        void (*uplink_routes_changed)(Uplink *u, void *userdata);
        /* The default route's interface changed, or the physical default did; either name
         * may be NULL. */
        void (*default_changed)(const char *old_ifname, const char *new_ifname, void *userdata);
} LinkMonitorCallbacks;

/* Name patterns (fnmatch) that make an interface an uplink when none are given. */
extern const char *const link_monitor_default_uplinks[];

const char *uplink_technology_to_string(UplinkTechnology t);
/* By the name schemes of ethernet, wifi and cellular devices; ethernet when none fits. */
UplinkTechnology uplink_technology_from_name(const char *name);

/*
 * link_monitor_new() - subscribe to link and route events and read the current state; no
 * callback runs before the first turn of the event loop.
 * @patterns: NULL-terminated uplink name patterns, or NULL for the defaults; copied
 */
int link_monitor_new(sd_event *e, char *const *patterns, const LinkMonitorCallbacks *cb,
                     void *userdata, LinkMonitor **ret);
LinkMonitor *link_monitor_free(LinkMonitor *m);

/*
 * link_monitor_new_fake() - for unit tests: a monitor with no socket, that knows no link
 * until link_monitor_fake_link() and link_monitor_fake_route() report one, each handled
 * as the kernel's message is once parsed, its callbacks called at once.
 * @patterns: as for link_monitor_new()
 * @cb: its callbacks
 * @userdata: passed to them
 * @ret: the monitor (link_monitor_free())
 *
 * Return: 0 or -ENOMEM.
 */
int link_monitor_new_fake(char *const *patterns, const LinkMonitorCallbacks *cb,
                          void *userdata, LinkMonitor **ret);
/*
 * link_monitor_fake_link() - a link appeared or changed (@added), or is gone.
 * @m: a monitor from link_monitor_new_fake()
 * @added: RTM_NEWLINK rather than RTM_DELLINK
 * @ifindex: its ifindex
 * @name: its name
 * @kind: its IFLA_INFO_KIND ("" for none)
 * @type: its ARPHRD_* type
 * @flags: its IFF_* flags
 *
 * Return: 0, or -EBUSY for a monitor of the kernel's links.
 */
int link_monitor_fake_link(LinkMonitor *m, bool added, int ifindex, const char *name,
                           const char *kind, unsigned type, unsigned flags);
/*
 * link_monitor_fake_route() - a main-table route through @oif came (@added) or went.
 * @m: a monitor from link_monitor_new_fake()
 * @added: RTM_NEWROUTE rather than RTM_DELROUTE
 * @oif: its output interface
 * @metric: its priority
 * @is_default: an IPv4 unicast default route
 *
 * Return: 0, or -EBUSY for a monitor of the kernel's links.
 */
int link_monitor_fake_route(LinkMonitor *m, bool added, int oif, uint32_t metric,
                            bool is_default);

Uplink *link_monitor_find_uplink(const LinkMonitor *m, const char *name);
Uplink *link_monitor_uplinks(const LinkMonitor *m);
const VpnLink *link_monitor_vpns(const LinkMonitor *m);
/* The default route's interface, or NULL. */
const char *link_monitor_default_ifname(const LinkMonitor *m);
/* The uplink of the best default route through an uplink (never a VPN), or NULL. */
const Uplink *link_monitor_physical_default(const LinkMonitor *m);
/* How many re-reads of the link table have been requested; stamp objects with it. */
uint64_t link_monitor_generation(const LinkMonitor *m);
bool link_monitor_is_uplink_name(const LinkMonitor *m, const char *name);
bool link_monitor_seen(const int *ifindexes, size_t n, int ifindex);

struct sock_filter;
/* The most instructions link_monitor_filter() writes. */
#define LINK_MONITOR_FILTER_MAX 32
/*
 * link_monitor_filter() - the classic BPF program the monitor's rtnetlink socket runs, so
 * the kernel drops, before they wake the manager, the events it would read and ignore:
 * routes of tables other than main, links of families other than AF_UNSPEC, and new-link
 * events of the daemon's own links (IFLA_GROUP PP_LINK_GROUP or PP_DELETE_GROUP; their
 * removals pass). Dumps
 * and answers to requests always pass.
 * @prog: room for @n instructions
 *
 * Return: the number of instructions written, or 0 if @n is too small.
 */
size_t link_monitor_filter(struct sock_filter *prog, size_t n);
