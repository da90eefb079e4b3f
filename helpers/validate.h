/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Checks of every field of every request, before the helper touches the kernel. Each turns
 * one message into an argument struct that holds only checked values, decoded once (a MAC
 * as a MacAddr, a subnet as a Subnet of the right pool, names re-derived from ids); the
 * handlers take those structs and never look at the message. Pure functions of the request
 * and the helper's fixed configuration, so unit tests and the fuzzer reach them without
 * privileges. Checks that need the kernel (does the pid exist, which netns is it in, is
 * this ifindex that uplink) happen where the helper acts on them.
 *
 * Every check writes its struct only on success; @ret may be NULL to only check.
 */

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/types.h>

#include "errbuf.h"
#include "fwmark.h"
#include "ifname.h"
#include "ipc-msg.h"
#include "mac.h"
#include "pool.h"
#include "port-rule.h"

typedef struct NsConnectArgs {
        uint32_t ns_id;
        char host[IFNAMSIZ], peer[IFNAMSIZ]; /* from ns_id */
        pid_t pid;
        int pidfd;                           /* the request's fd, still the dispatcher's */
        Subnet subnet;
        MacAddr host_mac, peer_mac;
        TrafficSource source;
        int outbound_ifindex;                /* 0: not pinned */
        char outbound_ifname[IFNAMSIZ];
        bool route_on_vpn;
} NsConnectArgs;

typedef struct NsDisconnectArgs {
        uint32_t ns_id;
        char host[IFNAMSIZ];
} NsDisconnectArgs;

/* An uplink by name and the ifindex the manager knows it by. */
typedef struct UplinkArgs {
        char ifname[IFNAMSIZ];
        int ifindex;
        bool keep_slaac;                     /* UplinkAdd: accept_ra=2 (the ND proxy) */
} UplinkArgs;

/* A guest link of the daemon that the ND proxy serves: arc_<uplink> (ARC's link to an
 * uplink), vmtap<N> (Termina, PluginVM), arc_ns<N> (a connected namespace). */
typedef struct GuestLinkArgs {
        char ifname[IFNAMSIZ];
        int ifindex;
} GuestLinkArgs;

typedef struct GuestRoute6Args {
        bool add;
        GuestLinkArgs guest;
        UplinkArgs uplink;
        struct in6_addr addr;                /* global unicast or unique local */
} GuestRoute6Args;

typedef struct VmTapAddArgs {
        Patchpanel__Ipc__VmKind kind;
        Subnet subnet;
        Subnet lxd;                          /* prefix_len 0: none */
        MacAddr mac;
} VmTapAddArgs;

typedef struct TapArgs {
        char ifname[IFNAMSIZ];               /* vmtap<N> */
} TapArgs;

typedef struct ArcAddArgs {
        bool vm;
        pid_t pid;                           /* container */
        int pidfd;
        MacAddr guest_mac;
} ArcAddArgs;

typedef struct ArcRemoveArgs {
        bool vm;
        char taps[ARC_VM_N_TAPS][IFNAMSIZ];
        size_t n_taps;
        char uplinks[ARC_N_UPLINK_SLOTS][IFNAMSIZ];
        size_t n_uplinks;
} ArcRemoveArgs;

typedef struct ArcUplinkAddArgs {
        UplinkArgs uplink;
        char bridge[IFNAMSIZ], veth[IFNAMSIZ]; /* from the uplink's name */
        Subnet subnet;
        bool vm;
        pid_t pid;                           /* container */
        int pidfd;
        MacAddr guest_mac;
        char tap[IFNAMSIZ];                  /* VM */
} ArcUplinkAddArgs;

typedef struct ArcUplinkRemoveArgs {
        char uplink[IFNAMSIZ];
        char bridge[IFNAMSIZ], veth[IFNAMSIZ];
        bool vm;
        char tap[IFNAMSIZ];
} ArcUplinkRemoveArgs;

typedef struct PortRuleArgs {
        bool create;
        PortRule rule;
} PortRuleArgs;

typedef struct CountersGetArgs {
        char *const *ifnames;                /* into the request, which outlives the handler */
        size_t n_ifnames;
} CountersGetArgs;

typedef struct VpnIntentArgs {
        VpnPolicy policy;
        int fd;                              /* the request's fd */
} VpnIntentArgs;

typedef struct AdbSideloadArgs {
        char tap[IFNAMSIZ];                  /* vmtap<N> */
        bool enable;
} AdbSideloadArgs;
/* A neighbour of an uplink to probe. */
typedef struct NeighborProbeArgs {
        UplinkArgs uplink;
        int family;                          /* AF_INET or AF_INET6 */
        uint8_t addr[16];                    /* network byte order; 4 bytes for AF_INET */
} NeighborProbeArgs;

/*
 * One prefix of a link, from one of its addresses as the kernel lists it (RTM_NEWADDR):
 * IFA_LOCAL, the link's own address, with its prefix length; on a point-to-point address
 * also IFA_ADDRESS, the peer, whose prefix is the one the kernel routes on-link.
 */
typedef struct LinkPrefix {
        int family;                          /* AF_INET or AF_INET6 */
        uint8_t addr[16];                    /* network byte order */
        uint8_t prefix_len;
        bool own;                            /* addr is the link's (IFA_LOCAL), not a peer's */
} LinkPrefix;

/* Where a neighbour's address lies on its link, by the link's prefixes; in the order in
 * which one prefix's answer outweighs another's (neighbor_place()). */
typedef enum NeighborPlace {
        NEIGHBOR_PLACE_OFF_PREFIX,           /* on none of the link's prefixes */
        NEIGHBOR_PLACE_NET_OR_BROADCAST,     /* an IPv4 prefix's network or broadcast address */
        NEIGHBOR_PLACE_LINK_LOCAL,           /* IPv6 link-local (fe80::/10): every link's */
        NEIGHBOR_PLACE_ON_PREFIX,            /* a host of one of the link's prefixes */
        NEIGHBOR_PLACE_OWN,                  /* one of the link's own addresses */
        _NEIGHBOR_PLACE_MAX,
        _NEIGHBOR_PLACE_INVALID = -EINVAL,
} NeighborPlace;

/* pid > 1 and neither the helper's nor the manager's. */
int validate_pid(pid_t pid, pid_t self, pid_t manager, ErrBuf *err);
/* Six bytes, unicast, not all zero. */
int validate_mac(const ProtobufCBinaryData *b, const char *what, MacAddr *ret, ErrBuf *err);
int validate_ns_id(uint32_t id, ErrBuf *err);
/* A subnet that must be exactly one of pool's. */
int validate_subnet(const PoolLayout *pools, PoolKind pool, uint32_t base, uint32_t prefix_len,
                    Subnet *ret, ErrBuf *err);
/* A TAP name the daemon hands out: vmtap<N>. */
int validate_tap_name(const char *ifname, ErrBuf *err);
/* A valid interface name and an ifindex with a routing table (ifindex 0 only if
 * @allow_none, with an empty name: "no uplink"). */
int validate_uplink(const char *ifname, int ifindex, bool allow_none, UplinkArgs *ret,
                    ErrBuf *err);

int validate_ns_connect(const PoolLayout *pools, const IpcNsConnect *m, pid_t self,
                        pid_t manager, NsConnectArgs *ret, ErrBuf *err);
int validate_ns_disconnect(const IpcNsDisconnect *m, NsDisconnectArgs *ret, ErrBuf *err);
int validate_vm_tap_add(const PoolLayout *pools, const IpcVmTapAdd *m, VmTapAddArgs *ret,
                        ErrBuf *err);
int validate_vm_tap_remove(const IpcVmTapRemove *m, TapArgs *ret, ErrBuf *err);
int validate_arc_add(const IpcArcAdd *m, pid_t self, pid_t manager, ArcAddArgs *ret,
                     ErrBuf *err);
int validate_arc_remove(const IpcArcRemove *m, ArcRemoveArgs *ret, ErrBuf *err);
int validate_arc_uplink_add(const PoolLayout *pools, const IpcArcUplinkAdd *m, pid_t self,
                            pid_t manager, ArcUplinkAddArgs *ret, ErrBuf *err);
int validate_arc_uplink_remove(const IpcArcUplinkRemove *m, ArcUplinkRemoveArgs *ret,
                               ErrBuf *err);
int validate_port_rule(const PoolLayout *pools, const IpcPortRule *m, PortRuleArgs *ret,
                       ErrBuf *err);
int validate_counters_get(const IpcCountersGet *m, CountersGetArgs *ret, ErrBuf *err);
/* A guest link's name (see GuestLinkArgs) and a positive ifindex. */
int validate_guest_link(const char *ifname, int ifindex, GuestLinkArgs *ret, ErrBuf *err);
/* As validate_guest_link(), ifindex 0 too ("by name"). */
int validate_guest_ipv6_enable(const IpcGuestIpv6Enable *m, GuestLinkArgs *ret, ErrBuf *err);
int validate_guest_route6(const IpcGuestRoute6 *m, GuestRoute6Args *ret, ErrBuf *err);
int validate_vpn_intent(const IpcVpnIntent *m, VpnIntentArgs *ret, ErrBuf *err);
int validate_adb_sideload(const IpcAdbSideload *m, AdbSideloadArgs *ret, ErrBuf *err);

/* An uplink (validate_uplink()) whose name is neither lo nor one of the daemon's own
 * (ifname_is_own()), and a unicast IPv4 or IPv6 address: not unspecified, loopback,
 * multicast, broadcast, reserved (240/4) or IPv4-mapped. */
int validate_neighbor_probe(const IpcNeighborProbe *m, NeighborProbeArgs *ret, ErrBuf *err);

const char *neighbor_place_to_string(NeighborPlace p);
/*
 * neighbor_place() - where the neighbour @a lies on its link.
 * @a: checked arguments (validate_neighbor_probe())
 * @prefixes: the link's prefixes, of any family; @n_prefixes of them
 *
 * The weightiest answer of any prefix (NeighborPlace's order): OWN if @a is the address of
 * a prefix marked own; ON_PREFIX if it lies inside a prefix, but for the network and
 * broadcast addresses of an IPv4 prefix of 30 bits or less (NET_OR_BROADCAST); else
 * LINK_LOCAL for an IPv6 link-local address, else OFF_PREFIX. The same rule the manager
 * picks the DNS servers of an uplink by (manager/neighbor-watch.c).
 *
 * Return: the place.
 */
NeighborPlace neighbor_place(const NeighborProbeArgs *a, const LinkPrefix *prefixes,
                             size_t n_prefixes);
/*
 * validate_neighbor_place() - whether a neighbour at @place may be probed on its link: an
 * on-prefix host or an IPv6 link-local address, or else (a default route's gateway may be
 * on-link without a prefix that holds it, "onlink") a gateway of a default route through
 * the link; never one of the link's own addresses.
 * @a: checked arguments (validate_neighbor_probe())
 * @place: neighbor_place()'s answer for @a
 * @gateway: @a is the gateway of a default route of the main table through the link
 *
 * Return: 0, or -EINVAL with the reason in @err.
 */
int validate_neighbor_place(const NeighborProbeArgs *a, NeighborPlace place, bool gateway,
                            ErrBuf *err);
