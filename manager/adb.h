/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * adb-proxy's ways in, opened while ARC (container or VM) runs and patchpaneld was started
 * with --adb-proxy=on, closed when ARC stops (adb-proxy itself, a forwarder, hears of ARC
 * through forwarders.c and listens on [::]:5555 for the same span):
 *   - tcp/5555 on every uplink, through the ingress firewall's ACCESS set: one element,
 *     held as the daemon's own port rule (port_rules_hold()), so that a client's rule for
 *     the same port and this one never remove each other's;
 *   - from each Termina VM, the DNAT of ARC's address port 5555 on its TAP to the host's
 *     loopback, where adb-proxy listens (AdbSideload, one request per TAP).
 */

typedef struct Manager Manager;

/* Follow ARC and the Termina VMs in the registry (only with --adb-proxy=on). */
int adb_setup(Manager *m);
