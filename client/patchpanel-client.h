/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * libpatchpanel-client: a C API over patchpanel's D-Bus interface. Each call is
 * synchronous; on failure it returns a negative errno and, if the daemon answered with an
 * error, fills PpError with the D-Bus error name and its message.
 */

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct PpClient PpClient;
typedef struct sd_bus sd_bus;

typedef struct PpError {
        char name[128];
        char message[512];
} PpError;

/* Connect to the system bus ($DBUS_SYSTEM_BUS_ADDRESS is honoured). */
int pp_client_new(PpClient **ret);
/* Use an existing bus connection (a reference is taken). */
int pp_client_new_with_bus(sd_bus *bus, PpClient **ret);
PpClient *pp_client_free(PpClient *c);

typedef struct PpConnectNamespaceOptions {
        pid_t pid;
        const char *outbound_ifname; /* NULL or "" to follow the default route */
        bool allow_user_traffic;
        bool route_on_vpn;
        int traffic_source;          /* TrafficCounter.Source; 0 means SYSTEM */
} PpConnectNamespaceOptions;

typedef struct PpConnectedNamespace {
        char host_ifname[IFNAMSIZ];
        char peer_ifname[IFNAMSIZ];
        uint32_t subnet_base;        /* host byte order */
        uint32_t prefix_len;
        uint32_t host_ipv4_address;  /* host byte order */
        uint32_t peer_ipv4_address;
        /* The caller's end of the lifeline; closing it (or exiting) disconnects. */
        int lifeline_fd;
} PpConnectedNamespace;

/*
 * pp_client_connect_namespace() - connect the network namespace of a process.
 * Return: 0 with @ret filled, or a negative errno (and @err if the daemon refused).
 */
int pp_client_connect_namespace(PpClient *c, const PpConnectNamespaceOptions *o,
                                PpConnectedNamespace *ret, PpError *err);
