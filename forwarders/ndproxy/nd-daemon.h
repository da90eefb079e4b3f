/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * ndproxyd's engine: the packet socket and the netlink sockets it was given (opened
 * before the sandbox), the proxy of nd-proxy.c, and the work around it that needs the
 * kernel: which links exist and their MACs, the host's own addresses, neighbour entries,
 * multicast groups, aging learned addresses, counters. The same engine runs supervised
 * (links come from patchpaneld, learned addresses go to it) and standalone (links come
 * from the command line and rtnetlink, learned addresses go to the privileged parent);
 * NdDaemonOps is the difference.
 */

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-event.h>

#include "nd-proxy.h"

typedef struct NdDaemon NdDaemon;

typedef struct NdDaemonOps {
        /*
         * A guest address was learned on a guest link (@present) and checked as far as
         * the engine can (uplink prefix, not the host's, not the uplink's neighbour), or
         * was forgotten (no sign of life) and its route must go.
         */
        void (*address)(NdDaemon *d, int guest_ifindex, const char *guest,
                        const struct in6_addr *addr, bool present, void *userdata);
        /* Standalone: the uplink named on the command line exists now, as @ifindex. */
        void (*uplink_appeared)(NdDaemon *d, int ifindex, void *userdata);
        /* Counters or links changed (for a status report). */
        void (*changed)(NdDaemon *d, void *userdata);
        void *userdata;
} NdDaemonOps;

typedef struct NdDaemonConfig {
        int packet_fd;               /* nd_socket_open(), taken over */
        int netlink_fd;              /* nd_netlink_open(), taken over */
        int monitor_fd;              /* nd_netlink_open_monitor(), taken over */
        uint64_t address_lifetime_usec;
        /* Standalone: serve these by name, pairing every downlink with the uplink, as
         * they appear. NULL when supervised. */
        const char *uplink;
        char *const *downlinks;
        size_t n_downlinks;
} NdDaemonConfig;

/* Learned addresses without a sign of life for this long are forgotten. */
#define ND_ADDRESS_LIFETIME_DEFAULT_USEC (600 * UINT64_C(1000000))

int nd_daemon_new(sd_event *e, const NdDaemonConfig *config, const NdDaemonOps *ops,
                  NdDaemon **ret);
NdDaemon *nd_daemon_free(NdDaemon *d);

/* Standalone: look for the configured links now (later ones come as rtnetlink events). */
int nd_daemon_start_standalone(NdDaemon *d);

/*
 * nd_daemon_add_pair() - supervised: serve @guest (by name when @guest_ifindex is 0) behind
 * @uplink, with the guest addresses learned earlier whose routes (and proxy entries) exist.
 * Return: 0, or a negative errno (logged) when the links are not what the manager says.
 */
int nd_daemon_add_pair(NdDaemon *d, const char *uplink, int uplink_ifindex, const char *guest,
                       int guest_ifindex, const struct in6_addr *addrs, size_t n_addrs);
/* Undo nd_daemon_add_pair(): the guest link is no longer served (its addresses are
 * forgotten without a report: the manager removes their routes). */
int nd_daemon_remove_pair(NdDaemon *d, const char *uplink, int uplink_ifindex,
                          const char *guest, int guest_ifindex);

/* The learned address has its route, and its proxy entry on the uplink: the kernel answers
 * the uplink's NS for it from now on. */
void nd_daemon_address_routed(NdDaemon *d, int guest_ifindex, const struct in6_addr *addr);

/* The learned address cannot be routed (the parent or the manager refused it). */
void nd_daemon_refuse_address(NdDaemon *d, int guest_ifindex, const struct in6_addr *addr);

/* The proxy, for status reports. */
const NdProxy *nd_daemon_proxy(const NdDaemon *d);
/* The name a served link had when it was added, or NULL. */
const char *nd_daemon_link_name(const NdDaemon *d, int ifindex);

/* Frames read from the socket that no served link took (another link of the host). */
uint64_t nd_daemon_frames_elsewhere(const NdDaemon *d);

/* Write the counters: a JSON object on one line, or readable lines. */
void nd_daemon_print_stats(const NdDaemon *d, FILE *f, bool json);
