/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The neighbour monitor's D-Bus (neighbors.h):
 *  - NeighborReachabilityEvent: its verdicts as the 2021 API sends them, one
 *    NeighborReachabilityEventSignal each (ifindex, ip_addr as text, role, type), on
 *    org.chromium.PatchPanel;
 *  - systemd-resolved's DNS servers, each with its link: the DNS property of
 *    org.freedesktop.resolve1.Manager (a(iiay): ifindex, 0 for global; family; address),
 *    read with org.freedesktop.DBus.Properties.Get, asynchronously, never starting
 *    resolved through bus activation, within NEIGHBORS_RESOLVED_TIMEOUT_USEC; asked again
 *    when resolved rewrites its file (neighbors.c) and when it comes onto the bus or
 *    leaves it (NameOwnerChanged).
 */

typedef struct Manager Manager;

#define NEIGHBORS_RESOLVED_TIMEOUT_USEC (5u * 1000u * 1000u)

/* Emit the signal for every verdict from now on, and ask resolved for its servers when the
 * monitor wants them (the answer, or the error: none on the bus, access denied, no answer
 * in time, a reply of another shape). Return: 0. */
int neighbors_bus_setup(Manager *m);
/* Once the manager is on the bus: resolved coming or going is a change of its servers.
 * Return: 0 or a negative errno (the match could not be sent). */
int neighbors_bus_watch_resolved(Manager *m);
