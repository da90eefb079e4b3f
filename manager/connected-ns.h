/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * A client namespace connected through ConnectNamespace, from the D-Bus call to the
 * teardown. The lifeline fd sent by the client is watched by the event loop: when the
 * client's end closes, or the host-side veth vanishes because the namespace died, the
 * namespace is disconnected and its subnet, MACs and id are released.
 *
 *   CONNECTING ── helper ok ──> CONNECTED ── lifeline/link gone, stop ──> DISCONNECTING ──> freed
 *        └── helper failed, or gone while connecting ─────────────────────────┘
 */

#include <net/if.h>
#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "fwmark.h"
#include "list.h"
#include "mac.h"
#include "manager.h"
#include "pool.h"
#include "registry.h"

typedef enum ConnectedNsState {
        CONNECTED_NS_CONNECTING,
        CONNECTED_NS_CONNECTED,
        CONNECTED_NS_DISCONNECTING,
        _CONNECTED_NS_STATE_MAX,
        _CONNECTED_NS_STATE_INVALID = -22,
} ConnectedNsState;

struct ConnectedNs {
        Manager *manager;
        ConnectedNsState state;
        uint32_t id;
        pid_t pid;
        Subnet subnet;
        MacAddr host_mac, peer_mac;
        TrafficSource source;
        bool allow_user_traffic;
        bool route_on_vpn;
        int outbound_ifindex; /* pinned to this uplink, or 0 */
        char outbound_ifname[IFNAMSIZ];
        char host_ifname[IFNAMSIZ];
        char peer_ifname[IFNAMSIZ];
        int host_ifindex;
        uint64_t link_generation; /* link_monitor_generation() when it became connected */
        /* A link of our name that vanished while connecting; compared with the ifindex the
         * helper reports, so a leftover of an earlier run is not mistaken for ours. */
        int vanished_ifindex;
        /* Teardown failed: the subnet may still be on a link, so it is not handed out again
         * (until a restart, whose start-up clears every leftover). */
        bool subnet_quarantined;
        int lifeline_fd;
        sd_event_source *lifeline;
        sd_bus_message *call; /* the ConnectNamespace call awaiting its reply */
        GuestLink *link;      /* in the registry while connected */
        uid_t owner;          /* who connected it */
        /* status.c: its object in GetStatus, written for status_json_state (or NULL) */
        char *status_json;
        size_t status_json_len;
        ConnectedNsState status_json_state;
        LIST_FIELDS(ConnectedNs, namespaces);
};

typedef struct ConnectedNsParams {
        pid_t pid;
        TrafficSource source;
        bool allow_user_traffic;
        bool route_on_vpn;
        int outbound_ifindex; /* 0: follow the default route */
        char outbound_ifname[IFNAMSIZ];
        int lifeline_fd; /* while the caller is being checked */
        uid_t owner;     /* the caller */
} ConnectedNsParams;

const char *connected_ns_state_to_string(ConnectedNsState s);

/*
 * connected_ns_connect() - allocate a subnet, MACs and an id and ask the helper to build
 * the datapath; the D-Bus reply to @call is sent when the helper answers.
 * @lifeline_fd: taken over in every case
 * @pidfd: the client process, taken over in every case and passed to the helper
 *
 * Return: 0, -ENOSPC when the pool is exhausted, another negative errno; on failure
 * nothing was allocated and no reply was sent.
 */
int connected_ns_connect(Manager *m, const ConnectedNsParams *p, int lifeline_fd, int pidfd,
                         sd_bus_message *call);
/* Start the teardown of a connected namespace; a no-op if one is under way. */
void connected_ns_disconnect(ConnectedNs *ns, const char *why);
ConnectedNs *connected_ns_free(ConnectedNs *ns);
ConnectedNs *connected_ns_find(Manager *m, uint32_t id);
/* Follow the registry: vanished veths and pinned uplinks that go end their namespaces. */
int connected_ns_setup(Manager *m);
/* At stop: the lifelines no longer matter (the whole datapath goes at once). */
void connected_ns_stop_watching(Manager *m);
