/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The registry: every uplink (from the link monitor, which it owns) and every guest link
 * (added by the guest that made it) the manager knows, in one place, and the subscribers
 * that are told when they come and go. Guests never reach into each other: ARC hears of
 * uplinks from here, a connected namespace of the loss of its pinned uplink, the D-Bus
 * devices, the status and the forwarder supervisor of guest links.
 *
 * Subscribers are told of additions in the order they subscribed and of removals in the
 * reverse order, so that what is built on top of something is undone before it (the
 * uplink's routing is asked for before ARC's link to it, and removed after).
 *
 * Layering of manager/ (no file calls into a file above it; test/lint/check-layering.py
 * reads this table and fails on a call upwards or a file the table does not place):
 *   main.c, manager.c, manager-bus.c  start-up, wiring, the bus object, shutdown
 *   *-bus.c, status.c, devices.c      D-Bus methods, signals and the status
 *   arc.c, vm.c, connected-ns.c,      guests; uplink routing; VPN routing; port rules;
 *   uplinks.c, vpn.c, port-rules.c,   counters; other firewalls; the forwarders;
 *   counters.c, coexist.c,            neighbour reachability
 *   forwarders.c, ndproxy.c, adb.c,
 *   neighbors.c
 *   registry.c, link-monitor.c,       what exists; the processes of the suite; shapes
 *   netdevice.c, neighbor-watch.c,    and checks that hold no state
 *   lifeline.c, helper-link.c,
 *   launcher-link.c, child.c, spawn.c,
 *   bus.c, bus-pid.c
 */

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "link-monitor.h"
#include "list.h"
#include "macro.h"
#include "pool.h"

typedef enum GuestKind {
        GUEST_ARC,      /* the ARC container */
        GUEST_ARCVM,
        GUEST_TERMINA,
        GUEST_PLUGINVM,
        GUEST_NETNS,    /* a namespace connected through ConnectNamespace */
        _GUEST_KIND_MAX,
        _GUEST_KIND_INVALID = -EINVAL,
} GuestKind;

typedef struct GuestLink GuestLink;
struct GuestLink {
        char ifname[IFNAMSIZ]; /* the host side: arc_<uplink>, arcbr0, vmtapN, arc_nsN */
        int ifindex;           /* 0 if the guest does not know it */
        GuestKind kind;
        bool device;           /* a NetworkDevice (GetDevices, NetworkDeviceChanged) */
        bool management;       /* ARC's own link (arcbr0), not one to an uplink */
        Subnet subnet;
        uint32_t guest_addr;   /* the guest's side of the subnet */
        /* The uplink the link is bound to (ARC's link to it, a pinned namespace); "" when
         * the guest follows the default uplink. */
        char uplink[IFNAMSIZ];
        int uplink_ifindex;
        uid_t owner;           /* who started the guest */
        uint32_t cid;          /* ARCVM's management link: the VM's vsock cid */
        LIST_FIELDS(GuestLink, guests);
};

typedef struct RegistrySubscriber {
        void (*uplink_added)(Uplink *u, void *userdata);
        void (*uplink_removed)(Uplink *u, void *userdata);
        void (*uplink_routes_changed)(Uplink *u, void *userdata);
        /* The default route's interface or the physical default changed. */
        void (*default_changed)(const char *old_ifname, const char *new_ifname, void *userdata);
        /* Any link of the kernel vanished, and after lost events the links that existed
         * (see LinkMonitorCallbacks). */
        void (*link_vanished)(const char *name, int ifindex, void *userdata);
        void (*resync)(const int *ifindexes, size_t n, uint64_t generation, void *userdata);
        void (*guest_added)(const GuestLink *l, void *userdata);
        /* Already out of the registry's list; l is freed after this. */
        void (*guest_removed)(const GuestLink *l, void *userdata);
} RegistrySubscriber;

typedef struct Registry Registry;

const char *guest_kind_to_string(GuestKind k);

Registry *registry_new(void);
Registry *registry_free(Registry *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Registry *, registry_free);

/* Follow the host's links over rtnetlink (link_monitor_new()); no event before the first
 * turn of the loop. */
int registry_watch_links(Registry *r, sd_event *e, char *const *uplink_patterns);
/*
 * registry_watch_fake_links() - for unit tests: follow the links a test reports instead
 * of the kernel's (link_monitor_new_fake()).
 * @r: the registry
 * @uplink_patterns: as for registry_watch_links()
 * @ret_links: the monitor to report links and routes to; the registry owns it
 *
 * Return: 0 or -ENOMEM.
 */
int registry_watch_fake_links(Registry *r, char *const *uplink_patterns,
                              LinkMonitor **ret_links);

/* Subscribers are kept until registry_unsubscribe_all(). Return: 0 or -ENOMEM. */
int registry_subscribe(Registry *r, const RegistrySubscriber *s, void *userdata);
/* Tell nobody anything any more (at exit, while everything is freed). */
void registry_unsubscribe_all(Registry *r);

/*
 * registry_guest_add() - a guest link exists now: copy @info in and tell the subscribers.
 * Return: the registry's copy, or NULL when out of memory (logged).
 */
GuestLink *registry_guest_add(Registry *r, const GuestLink *info);
/* It is gone: tell the subscribers, then free it. NULL is fine. */
void registry_guest_remove(Registry *r, GuestLink *l);
GuestLink *registry_guests(const Registry *r);
size_t registry_n_guests(const Registry *r);

/* Uplinks, as the link monitor sees them (NULL/empty without registry_watch_links()). */
Uplink *registry_uplinks(const Registry *r);
Uplink *registry_find_uplink(const Registry *r, const char *name);
const VpnLink *registry_vpns(const Registry *r);
const char *registry_default_ifname(const Registry *r);
const Uplink *registry_physical_default(const Registry *r);
uint64_t registry_link_generation(const Registry *r);
bool registry_is_uplink_name(const Registry *r, const char *name);
