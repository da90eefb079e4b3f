/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The manager: the state of patchpaneld, each part owned by the file named beside it. The
 * files below this one in the layering of registry.h use the shared services (the helper,
 * the registry, the pools, the MAC generator, the event loop and bus); only manager.c and
 * main.c create, wire and free them.
 */

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "bus-pid.h"
#include "bus-request.h"
#include "child.h"
#include "foreign-drop.h"
#include "forwarders.h"
#include "helper-link.h"
#include "launcher-link.h"
#include "mac.h"
#include "neighbors.h"
#include "pool.h"
#include "registry.h"
#include "seccomp-policy.h"
#include "source-map.h"

typedef struct ConnectedNs ConnectedNs;
typedef struct Arc Arc;
typedef struct VmGuest VmGuest;
typedef struct PortRules PortRules;
typedef struct UplinkRouting UplinkRouting;
typedef struct NdGuests NdGuests;

typedef struct ManagerConfig {
        PoolLayout pools;
        char **uplink_patterns; /* NULL: the defaults */
        uid_t tap_owner;        /* who may open VM TAPs (the VM monitor's user) */
        bool ingress_firewall;  /* drop new inbound connections on uplinks but to ACCESS ports */
        uid_t lockdown_uid;     /* the one user that may connect to LOCKDOWN ports */
        SourceMap uid_sources;  /* traffic source of the host's sockets by owner */
        ForwardersConfig forwarders;
        NeighborConfig neighbors;
} ManagerConfig;

typedef struct Manager {
        sd_event *event;             /* main.c */
        sd_bus *bus;                 /* main.c, manager-bus.c */
        sd_bus_slot *bus_vtable_slot;
        sd_bus_slot *bus_status_slot;
        BusCallerCache callers;      /* bus-pid.c: callers' uids by unique name */

        ManagerConfig config;        /* main.c, from the command line */
        HelperLink *helper;          /* helper-link.c: the privileged helper */
        LauncherLink *launcher;      /* launcher-link.c: starts the forwarders */
        Forwarders *forwarders;      /* forwarders.c */
        NdGuests *nd_guests;         /* ndproxy.c: ndproxyd's guest addresses and routes */
        Registry *registry;          /* registry.c: uplinks and guest links */
        Pool *pools[_POOL_KIND_MAX]; /* subnets handed out; every guest file takes and gives */
        MacGenerator *macs;          /* MACs handed out, likewise */

        ConnectedNs *namespaces;     /* connected-ns.c */
        unsigned n_namespaces;
        uint32_t next_ns_id;
        Arc *arc;                    /* arc.c: at most one ARC, container or VM */
        VmGuest *vms;                /* vm.c: Termina and PluginVM */
        UplinkRouting *routing;      /* uplinks.c */
        PortRules *port_rules;       /* port-rules.c */
        NeighborMonitor *neighbors;  /* neighbors.c: gateways and DNS servers of the uplinks */
        int vpn_bypass_ifindex;      /* vpn.c: uplink BYPASS_VPN traffic goes to; 0 none */
        char vpn_bypass_ifname[IFNAMSIZ];
        ForeignDrop *foreign_drops;  /* coexist.c: as the helper last reported them */
        size_t n_foreign_drops;

        bool stopping;               /* manager.c: shutting down, nothing new starts */
        bool finishing;              /* the datapath is gone: ending the children */
        bool failed;                 /* stopping because something broke: exit non-zero */
        int exit_status;             /* of an orderly stop */
} Manager;

/*
 * manager_new() - the manager's state, its registry and its objects' subscriptions, without
 * connecting anywhere or starting anything, so unit tests can use the real object.
 */
int manager_new(sd_event *e, const ManagerConfig *config, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Start the helper and the launcher (as root, before the lockdown). */
int manager_start_children(Manager *m, const HelperArgs *helper, const LauncherArgs *launcher);
/* Signal sources and the link monitor. */
int manager_setup(Manager *m);
/* Ask the helper for the datapath and start the forwarders; exits the loop with failure if
 * the datapath cannot be set up. */
int manager_start(Manager *m);
/* Orderly shutdown: tear everything down, end every child, then leave the event loop. */
void manager_stop(Manager *m);

/*
 * manager_bus_request_context() - the facts bus-request.h's checks need about this daemon.
 * @m: the manager
 *
 * Inline: it only reads the manager's fields, so the *-bus.c files below this one do not
 * call into manager.c for it (the layering in registry.h).
 *
 * Return: its pid, its helper's and launcher's, and its pools.
 */
static inline BusRequestContext manager_bus_request_context(const Manager *m) {
        return (BusRequestContext) {
                .self_pid = getpid(),
                .helper_pid = helper_link_pid(m->helper),
                .launcher_pid = launcher_link_pid(m->launcher),
                .pools = &m->config.pools,
        };
}
