/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * libpatchpanel-client: a C API over patchpanel's D-Bus interface. Each call is
 * synchronous; on failure it returns a negative errno and, if the daemon answered with an
 * error, fills PpError with the D-Bus error name and its message.
 *
 * Installed as <patchpanel/patchpanel-client.h>; build with
 * `pkg-config --cflags --libs patchpanel-client`.
 */

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

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

typedef enum PpGuestType {
        PP_GUEST_UNKNOWN = 0,
        PP_GUEST_ARC = 1,
        PP_GUEST_ARCVM = 2,
        PP_GUEST_TERMINA_VM = 3,
        PP_GUEST_PLUGIN_VM = 4,
} PpGuestType;

/* A guest device as GetDevices and the startup methods describe it. */
typedef struct PpDevice {
        char ifname[IFNAMSIZ];       /* host side: a TAP, or ARC's per-uplink bridge */
        uint32_t ipv4_addr;          /* the guest's address, host byte order */
        uint32_t subnet_base;        /* host byte order */
        uint32_t prefix_len;
        PpGuestType guest_type;
} PpDevice;

const char *pp_guest_type_to_string(PpGuestType t);

/* Every guest device; *ret (free()) holds *ret_n of them. */
int pp_client_get_devices(PpClient *c, PpDevice **ret, size_t *ret_n, PpError *err);

/* @ret_lxd_base/@ret_lxd_prefix: the LXD container subnet routed to the VM (may be NULL). */
int pp_client_termina_vm_startup(PpClient *c, uint32_t cid, PpDevice *ret,
                                 uint32_t *ret_lxd_base, uint32_t *ret_lxd_prefix, PpError *err);
int pp_client_termina_vm_shutdown(PpClient *c, uint32_t cid, PpError *err);
/* @subnet_index: 1-based, or 0 for any. */
int pp_client_plugin_vm_startup(PpClient *c, uint64_t id, int32_t subnet_index, PpDevice *ret,
                                PpError *err);
int pp_client_plugin_vm_shutdown(PpClient *c, uint64_t id, PpError *err);
int pp_client_arc_startup(PpClient *c, pid_t pid, PpError *err);
int pp_client_arc_shutdown(PpClient *c, pid_t pid, PpError *err);
/* ARCVM's TAPs in order; *ret (free()) holds *ret_n of them. */
int pp_client_arc_vm_startup(PpClient *c, uint32_t cid, PpDevice **ret, size_t *ret_n,
                             PpError *err);
int pp_client_arc_vm_shutdown(PpClient *c, uint32_t cid, PpError *err);

/* The daemon's state as a JSON document (org.chromium.PatchPanel.Status.GetStatus); free().
 * It lists at most PP_STATUS_NAMESPACES_PAGE_MAX connected namespaces, and their number as
 * "connected_namespaces_total". */
int pp_client_get_status(PpClient *c, char **ret_json, PpError *err);

/* The most connected namespaces GetStatus lists, and ListConnectedNamespaces a page. */
#define PP_STATUS_NAMESPACES_PAGE_MAX 100u

/*
 * pp_client_list_connected_namespaces() - a page of the connected namespaces the caller may
 * see (org.chromium.PatchPanel.Status.ListConnectedNamespaces), as JSON: {"total": N,
 * "offset": @offset, "connected_namespaces": [...]}, each entry as in GetStatus.
 * @c: the client
 * @offset: how many to skip (in GetStatus's order); past the end gives an empty list
 * @limit: the most to list, 1..PP_STATUS_NAMESPACES_PAGE_MAX
 * @ret_json: the document (free())
 * @err: the D-Bus error, when there is one
 *
 * Return: 0 or a negative errno (-EINVAL, with org.freedesktop.DBus.Error.InvalidArgs in
 * @err, for a limit out of range).
 */
int pp_client_list_connected_namespaces(PpClient *c, uint32_t offset, uint32_t limit,
                                        char **ret_json, PpError *err);

/* ---- firewall, counters, VPN ---------------------------------------------------------- */

/* ModifyPortRuleRequest's enums. */
typedef enum PpPortRuleType {
        PP_PORT_RULE_ACCESS = 1,     /* open an inbound port (ingress firewall) */
        PP_PORT_RULE_LOCKDOWN = 2,   /* only the lockdown user may reach a loopback port */
        PP_PORT_RULE_FORWARDING = 3, /* forward an inbound port to a guest */
} PpPortRuleType;

typedef enum PpProtocol {
        PP_PROTO_TCP = 1,
        PP_PROTO_UDP = 2,
} PpProtocol;

typedef struct PpPortRule {
        bool create;                 /* CREATE, else DELETE */
        PpPortRuleType type;
        PpProtocol proto;
        const char *input_ifname;    /* NULL or "": every uplink (ACCESS) */
        const char *input_dst_ip;    /* FORWARDING: only this destination; NULL or "": any */
        uint32_t input_dst_port;
        const char *dst_ip;          /* FORWARDING: the guest's address */
        uint32_t dst_port;
} PpPortRule;

/* Return: 1 if the daemon applied the rule, 0 if it refused it (its log says why), or a
 * negative errno. */
int pp_client_modify_port_rule(PpClient *c, const PpPortRule *rule, PpError *err);

typedef struct PpTrafficCounter {
        char device[IFNAMSIZ];
        int source;                  /* TrafficCounter.Source */
        uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets;
} PpTrafficCounter;

/* "unknown", "chrome", "user", "arc", "crosvm", "pluginvm", "update_engine", "vpn",
 * "system"; NULL for other values. */
const char *pp_traffic_source_to_string(int source);
int pp_traffic_source_from_string(const char *name);

/* Counters of the devices named (all if n_devices is 0); *ret (free()) holds *ret_n. */
int pp_client_get_traffic_counters(PpClient *c, const char *const *devices, size_t n_devices,
                                   PpTrafficCounter **ret, size_t *ret_n, PpError *err);

typedef enum PpVpnPolicy {
        PP_VPN_DEFAULT_ROUTING = 0,
        PP_VPN_ROUTE_ON_VPN = 1,
        PP_VPN_BYPASS_VPN = 2,
} PpVpnPolicy;

/* Route the socket's traffic through a VPN or around it; call before connect(). */
int pp_client_set_vpn_intent(PpClient *c, int socket_fd, PpVpnPolicy policy, PpError *err);

/* ---- signals ------------------------------------------------------------------------- */

/* NetworkDeviceChangedSignal.Event. */
typedef enum PpDeviceEvent {
        PP_DEVICE_UNKNOWN_CHANGE = 0,
        PP_DEVICE_ADDED = 1,
        PP_DEVICE_REMOVED = 2,
} PpDeviceEvent;

/* NeighborReachabilityEventSignal.Role and .EventType. */
typedef enum PpNeighborRole {
        PP_NEIGHBOR_ROLE_INVALID = 0,
        PP_NEIGHBOR_GATEWAY = 1,
        PP_NEIGHBOR_DNS_SERVER = 2,
        PP_NEIGHBOR_GATEWAY_AND_DNS_SERVER = 3,
} PpNeighborRole;

typedef enum PpNeighborEventType {
        PP_NEIGHBOR_EVENT_INVALID = 0,
        PP_NEIGHBOR_FAILED = 1,
        PP_NEIGHBOR_REACHABLE = 2,
} PpNeighborEventType;

/* A neighbour of an uplink (its gateway, a DNS server) stopped answering, or answers again. */
typedef struct PpNeighborEvent {
        int ifindex;                 /* the uplink's */
        char ip_addr[64];            /* as the daemon wrote it: "192.0.2.1", "fe80::1" */
        PpNeighborRole role;
        PpNeighborEventType type;
} PpNeighborEvent;

/* The enum names of the proto ("DEVICE_ADDED", "GATEWAY", "FAILED", ...); "UNKNOWN" for a
 * value the 2021 proto does not have. */
const char *pp_device_event_to_string(PpDeviceEvent e);
const char *pp_neighbor_role_to_string(PpNeighborRole r);
const char *pp_neighbor_event_type_to_string(PpNeighborEventType t);

typedef struct PpSignalHandlers {
        void (*device_changed)(const PpDevice *device, PpDeviceEvent event, void *userdata);
        void (*neighbor_event)(const PpNeighborEvent *event, void *userdata);
        void *userdata;
} PpSignalHandlers;

/*
 * pp_client_watch_signals() - subscribe to NetworkDeviceChanged and NeighborReachabilityEvent;
 * the handlers (either may be NULL) run from pp_client_dispatch_signals(). Once per client.
 * Return: 0 once the bus has the match rules, or a negative errno.
 */
int pp_client_watch_signals(PpClient *c, const PpSignalHandlers *h);
/*
 * pp_client_dispatch_signals() - run the handlers for the signals as they arrive, until
 * @stop_fd (a signalfd, a pipe) becomes readable.
 * Return: 0 when @stop_fd is readable, or a negative errno (the bus connection is gone). A
 * signal whose payload does not decode is skipped.
 */
int pp_client_dispatch_signals(PpClient *c, int stop_fd);

#ifdef __cplusplus
}
#endif
