/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * IPv6 for guests through the ND proxy (ndproxyd, issue 9). Nothing here runs unless the
 * manager asks, which it does only with --ndproxy=on: the datapath without it is the same
 * as before (IPv6 off on the host sides of guest links, IPv6 forwarding untouched).
 *
 *   UplinkAdd.keep_slaac   accept_ra=2 on the uplink, before forwarding is turned on
 *                          (turning it on drops the default routes of links that stop
 *                          accepting RAs), so the host keeps its SLAAC address and route;
 *   DatapathStart.guest_ipv6  one rule sending IPv6 lookups to the guests' table first
 *                          (PP_GUEST_IPV6_TABLE), there as long as the datapath is;
 *   GuestIpv6Enable        IPv6 on the host side of a guest link (no DAD, no RAs taken,
 *                          no address made there), and forwarding on;
 *   GuestRoute6            a guest address's /128 route in that table and its entry in
 *                          the link's accepted sources, after route6_check_guest_address().
 *
 * Why a table of its own: a guest's traffic carries its uplink's routing tag, whose table
 * has the uplink's whole /64 on-link; the /128 routes must win over it (guest to guest,
 * host to guest) without being copied into every uplink's table. DatapathStop removes the
 * routes and the rule (RTPROT_PATCHPANEL) and puts forwarding back as it found it.
 */

#include "errbuf.h"
#include "helper.h"
#include "validate.h"

int helper_uplink_keep_slaac(Helper *h, const UplinkArgs *u, ErrBuf *err);
int helper_guest_ipv6_enable(Helper *h, const GuestLinkArgs *a, ErrBuf *err);
int helper_guest_route6(Helper *h, const GuestRoute6Args *a, ErrBuf *err);
/* At DatapathStop: IPv6 forwarding as it was before the first GuestIpv6Enable. */
void helper_ipv6_stop(Helper *h);
