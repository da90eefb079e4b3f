/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Neighbour probing for the manager's neighbour monitor: the kernel is asked to check one
 * neighbour of an uplink now, without changing what the entry is (its link-layer address,
 * its router flag, whether it is static). What the kernel concludes reaches the manager
 * through its own rtnetlink subscription, not through this answer.
 */

#include "errbuf.h"
#include "helper.h"
#include "validate.h"

/*
 * helper_neighbor_probe() - confirm or resolve a neighbour of an uplink.
 * @h: the helper
 * @a: checked arguments (validate_neighbor_probe())
 * @err: what went wrong, for the manager
 *
 * The uplink must be one the helper has set up (routing_uplink_is_set_up()), exist under
 * its name and be neither a guest link nor loopback (routing_check_uplink()); the
 * neighbour must be the link's: on one of its prefixes, IPv6 link-local, or the gateway of
 * a default route through it (validate_neighbor_place()), never the link's own address.
 * Then, by the state of the kernel's entry: REACHABLE, STALE or DELAY go to PROBE (the
 * kernel sends unicast solicitations at once and declares the entry FAILED if none is
 * answered); FAILED, INCOMPLETE or no entry are resolved as traffic would (RTM_NEWNEIGH
 * with NTF_USE, creating the entry if need be); PROBE is left to finish; a static entry
 * (PERMANENT, NOARP) is refused, for it is an administrator's and never fails.
 *
 * Nothing changes on a refusal.
 *
 * Return: 0, -EINVAL for a link or neighbour that is not an uplink's, -EPERM for a static
 * entry, or another negative errno.
 */
int helper_neighbor_probe(Helper *h, const NeighborProbeArgs *a, ErrBuf *err);
