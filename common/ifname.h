/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Interface names: validation of names that come from outside, and the names of the
 * daemon's own interfaces, derived from ids so that the helper can re-derive them instead
 * of trusting a name it is handed.
 */

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#define IFNAME_MAX (IFNAMSIZ - 1)

/* ConnectNamespace: host side arc_ns<id>, peer side veth<id> inside the client's netns. */
#define CONNECTED_NS_HOST_PREFIX "arc_ns"
#define CONNECTED_NS_PEER_PREFIX "veth"
#define CONNECTED_NS_ID_MAX UINT32_C(999999999)

/* ARC: management bridge and veth, per-uplink bridge and veth prefixes. */
#define ARC_BRIDGE "arcbr0"
#define ARC_HOST_VETH "vetharc0"
#define ARC_GUEST_IFNAME "arc0"
#define ARC_UPLINK_BRIDGE_PREFIX "arc_"
#define ARC_UPLINK_VETH_PREFIX "veth"

/* ARC's per-uplink slots; ARCVM has arc0's TAP and one per slot. */
#define ARC_N_UPLINK_SLOTS 5
#define ARC_VM_N_TAPS (ARC_N_UPLINK_SLOTS + 1)

/* VM TAPs: the kernel picks the number. */
#define VM_TAP_PREFIX "vmtap"
#define VM_TAP_TEMPLATE "vmtap%d"

/*
 * The marks of the daemon's links, so that what an earlier run left behind can be told from
 * everyone else's. PP_LINK_GROUP (IFLA_GROUP) is set in the very RTM_NEWLINK that creates a
 * veth (both ends) or a bridge, and on a TAP before it is made persistent: a link is marked
 * from the moment it can outlive the helper. The kernel ignores IFLA_IFALIAS on creation, so
 * PP_LINK_ALIAS follows in the link's first configuration; it is what people (and the
 * manager's link monitor) see, and what runs before the group existed marked links with.
 */
#define PP_LINK_GROUP UINT32_C(0x70706c6b) /* "pplk" */
/* The link group (IFLA_GROUP) the helper moves links into on their way out, to delete them
 * together: no link of anyone else's should ever be in it. The manager's link monitor
 * filters on both groups. */
#define PP_DELETE_GROUP UINT32_C(0x70706e6c) /* "ppnl" */
#define PP_LINK_ALIAS "patchpanel"

/* 1..15 characters from [A-Za-z0-9_.-], not starting or ending with '-' or '.'. */
bool ifname_is_valid(const char *s);
/* The same, '_' only if @underscore (ModifyPortRule's names, as the original checked them). */
bool ifname_is_valid_strict(const char *s, bool underscore);
bool ifname_has_prefix(const char *s, const char *prefix);

int ifname_connected_ns_host(uint32_t id, char ret[static IFNAMSIZ]);
int ifname_connected_ns_peer(uint32_t id, char ret[static IFNAMSIZ]);
/*
 * ifname_prefixed() - prefix + base, cut to 15 characters by dropping characters before
 * the last one of base, which usually tells interfaces apart ("arc_" + "wlp0s20f3abc1" ->
 * "arc_wlp0s20f3a1"), as the original did.
 * Return: 0, or -EINVAL if base is not a valid name.
 */
int ifname_prefixed(const char *prefix, const char *base, char ret[static IFNAMSIZ]);
/* Whether s is VM_TAP_PREFIX followed by digits. */
bool ifname_is_vm_tap(const char *s);
/* Whether s carries the name of one of the daemon's own links, which are never uplinks:
 * ARC_UPLINK_BRIDGE_PREFIX (ARC's per-uplink bridges, and CONNECTED_NS_HOST_PREFIX),
 * ARC_BRIDGE, ARC_HOST_VETH or VM_TAP_PREFIX at its start. */
bool ifname_is_own(const char *s);

/* The id of a ConnectNamespace host-side name; -EINVAL if s is not one, -ERANGE if its id
 * is above CONNECTED_NS_ID_MAX. */
int ifname_parse_connected_ns_host(const char *s, uint32_t *ret_id);
