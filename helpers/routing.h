/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Policy routing for the host's uplinks, which the original left to shill: for each uplink
 * a routing table 1000 + ifindex that mirrors the uplink's routes in the main table (plus an
 * unreachable default, so traffic meant for that uplink never falls back to another one),
 * and rules sending packets whose fwmark carries the uplink's routing tag, or sockets bound
 * to the uplink, to that table. Routes and rules the daemon adds carry RTPROT_PATCHPANEL,
 * so that what an earlier run left behind is found and removed at start.
 */

#include "errbuf.h"
#include "helper.h"
#include "validate.h"

#define RTPROT_PATCHPANEL 177
#define PP_RULE_PRIORITY 1000
/* After the uplinks' rules, so a pinned connection keeps its uplink; before main (32766).
 * Two rules: this one and the next priority. */
#define PP_BYPASS_RULE_PRIORITY 1010
/* Before everything of ours: traffic to the guests always follows the main table, whatever
 * routing tag or VPN intent its connection carries (a host's answer to a guest, an ICMP
 * error, guest-to-guest). */
#define PP_GUEST_RULE_PRIORITY 990
/* The guests' IPv6 /128 routes (the ND proxy's), looked up at PP_GUEST_RULE_PRIORITY. */
#define PP_GUEST_IPV6_TABLE 999

/*
 * routing_check_uplink() - the uplink (checked by validate_uplink()) must be the link the
 * manager says it is (when @must_exist), and neither a guest link of ours nor loopback.
 * @ret_table: its routing table
 */
int routing_check_uplink(Helper *h, const UplinkArgs *u, bool must_exist, uint32_t *ret_table,
                         ErrBuf *err);

/*
 * routing_uplink_is_set_up() - whether @u, by ifindex and name, is an uplink the helper has
 * set up (routing_uplink_add() succeeded) and not removed since (routing_uplink_remove(),
 * routing_remove_all()). The manager's rule of what is an uplink (name patterns, kinds,
 * options) is the manager's; this is what the helper knows of its outcome.
 */
bool routing_uplink_is_set_up(const Helper *h, const UplinkArgs *u);

/* Rules, the mirrored table and the uplink's pinning chain; the uplink is remembered
 * (routing_uplink_is_set_up()), up to HELPER_UPLINKS_MAX of them (-ENOSPC beyond). */
int routing_uplink_add(Helper *h, const UplinkArgs *u, ErrBuf *err);
/* Bring the uplink's table in step with its routes in the main table. */
int routing_uplink_sync(Helper *h, const UplinkArgs *u, ErrBuf *err);
/* Undo routing_uplink_add(); the uplink itself may already be gone. */
int routing_uplink_remove(Helper *h, const UplinkArgs *u, ErrBuf *err);
/*
 * routing_vpn_bypass() - where traffic marked BYPASS_VPN goes: the main table's routes
 * except its defaults and /1s (a VPN's catch-alls), else the table of the physical default
 * uplink @u. ifindex 0: no such rules (no physical default).
 */
int routing_vpn_bypass(Helper *h, const UplinkArgs *u, ErrBuf *err);
/* Rules sending traffic to the guest pools to the main table. */
int routing_guests_add(Helper *h, ErrBuf *err);
/* The IPv6 rule sending every lookup to PP_GUEST_IPV6_TABLE first (a miss falls through). */
int routing_guests_ipv6_add(Helper *h, ErrBuf *err);
/* Remove every rule and route carrying RTPROT_PATCHPANEL; no uplink is set up after. */
int routing_remove_all(Helper *h, ErrBuf *err);
