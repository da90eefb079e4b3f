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
 * The uplink must exist under its name and not be a guest link (routing_check_uplink()).
 * Then, by the state of the kernel's entry: REACHABLE, STALE or DELAY go to PROBE (the
 * kernel sends unicast solicitations at once and declares the entry FAILED if none is
 * answered); FAILED, INCOMPLETE or no entry are resolved as traffic would (RTM_NEWNEIGH
 * with NTF_USE, creating the entry if need be); PROBE is left to finish; a static entry
 * (PERMANENT, NOARP) is refused, for it is an administrator's and never fails.
 *
 * Return: 0, -EPERM for a static entry, or another negative errno.
 */
int helper_neighbor_probe(Helper *h, const NeighborProbeArgs *a, ErrBuf *err);
