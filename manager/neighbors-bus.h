/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * NeighborReachabilityEvent: the neighbour monitor's verdicts (neighbors.h) as the 2021 API
 * sends them, one NeighborReachabilityEventSignal each (ifindex, ip_addr as text, role,
 * type), on org.chromium.PatchPanel.
 */

typedef struct Manager Manager;

/* Emit the signal for every verdict from now on. Return: 0. */
int neighbors_bus_setup(Manager *m);
