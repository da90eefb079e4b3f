/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "foreign-drop.h"
#include "helper-channel.h"
#include "link-monitor.h"
#include "mac.h"
#include "pool.h"
#include "source-map.h"

typedef struct ConnectedNs ConnectedNs;
typedef struct Arc Arc;
typedef struct VmGuest VmGuest;
typedef struct PortRules PortRules;

/* A D-Bus call waiting for the helper, by a handler that keeps no object of its own: the
 * manager answers it at exit if the helper never does. */
typedef struct Manager Manager;
typedef struct PendingCall PendingCall;
struct PendingCall {
        Manager *manager;
        sd_bus_message *call;
        LIST_FIELDS(PendingCall, pending);
};

typedef struct ManagerConfig {
        PoolLayout pools;
        char **uplink_patterns; /* NULL: the defaults */
        uid_t tap_owner;        /* who may open VM TAPs (the VM monitor's user) */
        bool ingress_firewall;  /* drop new inbound connections on uplinks but to ACCESS ports */
        uid_t lockdown_uid;     /* the one user that may connect to LOCKDOWN ports */
        SourceMap uid_sources;  /* traffic source of the host's sockets by owner */
} ManagerConfig;

struct Manager {
        sd_event *event;
        sd_bus *bus;
        sd_bus_slot *bus_vtable_slot;
        sd_bus_slot *bus_status_slot;
        HelperChannel *helper;
        pid_t helper_pid;
        sd_event_source *helper_child;
        LinkMonitor *links;

        ManagerConfig config;
        /* Allocation state of the pools handed out dynamically; ARC's are fixed. */
        Pool *pools[_POOL_KIND_MAX];
        MacGenerator *macs;

        ConnectedNs *namespaces;
        unsigned n_namespaces;
        uint32_t next_ns_id;

        Arc *arc;                 /* at most one ARC, container or VM */
        VmGuest *vms;             /* Termina and PluginVM */
        sd_event_source *uplink_sync; /* routes of some uplinks changed */
        PortRules *port_rules;    /* ModifyPortRule's rules */
        int vpn_bypass_ifindex;   /* uplink BYPASS_VPN traffic goes to (helper's rule); 0 none */
        char vpn_bypass_ifname[IFNAMSIZ];
        PendingCall *pending_calls;
        ForeignDrop *foreign_drops; /* as the helper last reported them */
        size_t n_foreign_drops;

        bool stopping;
        bool finishing;  /* the helper's socket is closed; waiting for it to exit */
        bool failed;     /* stopping because something broke: exit non-zero */
        int exit_status; /* of an orderly stop, once the helper has exited */
};

/*
 * manager_new() - the manager's state, without connecting anywhere, so unit tests can use
 * the real object.
 */
int manager_new(const ManagerConfig *config, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Take the helper's socket and pid and start supervising it. */
int manager_attach_helper(Manager *m, int fd, pid_t pid);
/* Event sources for signals and the link monitor. */
int manager_setup(Manager *m);
/* Export the D-Bus API and own the name (fails if another instance owns it). */
int manager_bus_setup(Manager *m);
/* Ask the helper to install the datapath; exits the loop with failure if it cannot. */
int manager_start_datapath(Manager *m);
/* Orderly shutdown: tear everything down, then leave the event loop. */
void manager_stop(Manager *m);

ConnectedNs *manager_find_namespace(Manager *m, uint32_t id);

/*
 * pending_call_send() - send @req to the helper on behalf of the D-Bus @call, which is kept
 * (and answered at exit if the helper never does); @fn gets a PendingCall as userdata and
 * answers the call it takes from it with pending_call_take(). @fds go with the request in
 * every case.
 * Return: 1, or a negative errno with @error set.
 */
int pending_call_send(Manager *m, sd_bus_message *call, HelperRequest *req, int *fds,
                      size_t n_fds, HelperReplyFn fn, sd_bus_error *error);
/* The call (its reference now the caller's), the PendingCall gone. */
sd_bus_message *pending_call_take(PendingCall *p);

/* Uplink events from the link monitor (uplinks.c). */
extern const LinkMonitorCallbacks manager_link_callbacks;
