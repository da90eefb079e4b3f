/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The manager's side of ndproxyd (--ndproxy=on): per guest link it serves, IPv6 turned on
 * once (GuestIpv6Enable), and the guest addresses ndproxyd learned there, each with its
 * /128 route and anti-spoofing element made by the helper (GuestRoute6). ndproxyd's
 * NdAddress events are checked here first (a guest link it was told, an address of the
 * right kind, not another guest's, at most ND_GUEST_ADDRS_MAX per link); the addresses are
 * told back to a restarted ndproxyd with its links (ForwarderLink.ipv6_addresses), and
 * their routes go when the guest link goes or moves behind another uplink.
 */

#include "manager.h"

/* As ndproxyd's ND_PROXY_ADDRS_MAX. */
#define ND_GUEST_ADDRS_MAX 32

typedef struct NdGuests NdGuests;

/* Hook into the forwarder supervisor and the registry. Return: 0 or a negative errno. */
int nd_guests_setup(Manager *m);
NdGuests *nd_guests_free(NdGuests *g);
