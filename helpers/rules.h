/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* Port rules, traffic counters and VPN intent in the helper. */

#include "helper.h"

#include "validate.h"

/* Add or remove a port rule's element. */
int helper_port_rule(Helper *h, const PortRuleArgs *a, ErrBuf *err);

/* The counters of the devices asked for (all if none), in @ret, which owns their memory
 * until helper_counters_free(). */
typedef struct HelperCounters {
        IpcCountersResult msg;
        FwCounter *counters;
        IpcCounter *msgs;
        IpcCounter **ptrs;
} HelperCounters;
int helper_counters_get(Helper *h, const CountersGetArgs *a, HelperCounters *ret, ErrBuf *err);
void helper_counters_free(HelperCounters *c);

/* ADB from a Termina VM to adb-proxy: its TAP's DNAT and route_localnet, on or off. The TAP
 * must be ours and a Termina VM's (its guest address in the Termina pool). */
int helper_adb_sideload(Helper *h, const AdbSideloadArgs *a, ErrBuf *err);

/* Set the VPN bits of the SO_MARK of the socket a->fd. */
int helper_vpn_intent(Helper *h, const VpnIntentArgs *a, ErrBuf *err);
