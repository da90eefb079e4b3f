/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include "manager.h"

/* Bring the BYPASS_VPN rules in step with the physical default. */
void vpn_routing_update(Manager *m);
/* An uplink is going: forget the bypass into its table (the helper removes it with the
 * uplink's other rules). */
void vpn_on_uplink_removed(Manager *m, int ifindex);
