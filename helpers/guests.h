/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* Guest datapaths in the helper: VM TAPs (Termina, PluginVM) and ARC (container or VM). */

#include <net/if.h>

#include "helper.h"

int helper_vm_tap_add(Helper *h, const IpcVmTapAdd *m, IpcTapResult *ret, ErrBuf *err);
int helper_vm_tap_remove(Helper *h, const IpcVmTapRemove *m, ErrBuf *err);
int helper_arc_add(Helper *h, const IpcArcAdd *m, int pidfd, char taps[][IFNAMSIZ],
                   ErrBuf *err);
int helper_arc_remove(Helper *h, const IpcArcRemove *m, ErrBuf *err);
int helper_arc_uplink_add(Helper *h, const IpcArcUplinkAdd *m, int pidfd, ErrBuf *err);
int helper_arc_uplink_remove(Helper *h, const IpcArcUplinkRemove *m, ErrBuf *err);
