/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* Port rules, traffic counters and VPN intent in the helper. */

#include "helper.h"

/* Add or remove a port rule's element after checking it again. */
int helper_port_rule(Helper *h, const IpcPortRule *m, ErrBuf *err);

/* Read the counters into ret, whose memory lives until the next call. */
int helper_counters_get(Helper *h, const IpcCountersGet *m, IpcCountersResult *ret,
                        ErrBuf *err);

/* Set the VPN bits of the SO_MARK of socket fd. */
int helper_vpn_intent(Helper *h, const IpcVpnIntent *m, int fd, ErrBuf *err);
