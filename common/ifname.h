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

/* 1..15 characters from [A-Za-z0-9_.-], not starting or ending with '-' or '.'. */
bool ifname_is_valid(const char *s);
bool ifname_has_prefix(const char *s, const char *prefix);

int ifname_connected_ns_host(uint32_t id, char ret[static IFNAMSIZ]);
int ifname_connected_ns_peer(uint32_t id, char ret[static IFNAMSIZ]);
/* The id of a ConnectNamespace host-side name; -EINVAL if s is not one, -ERANGE if its id
 * is above CONNECTED_NS_ID_MAX. */
int ifname_parse_connected_ns_host(const char *s, uint32_t *ret_id);
