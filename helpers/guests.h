/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* Guest datapaths in the helper: VM TAPs (Termina, PluginVM) and ARC (container or VM). */

#include <net/if.h>

#include "helper.h"

#include "validate.h"

/* A VM's TAP; its kernel-chosen name and ifindex in @ret_name, @ret_ifindex. */
int helper_vm_tap_add(Helper *h, const VmTapAddArgs *a, char ret_name[static IFNAMSIZ],
                      int *ret_ifindex, ErrBuf *err);
int helper_vm_tap_remove(Helper *h, const TapArgs *a, ErrBuf *err);
/* ARC's management link; for a VM its six TAPs' names, in order, in @ret_taps. */
int helper_arc_add(Helper *h, const ArcAddArgs *a, char ret_taps[][IFNAMSIZ], ErrBuf *err);
int helper_arc_remove(Helper *h, const ArcRemoveArgs *a, ErrBuf *err);
int helper_arc_uplink_add(Helper *h, const ArcUplinkAddArgs *a, ErrBuf *err);
int helper_arc_uplink_remove(Helper *h, const ArcUplinkRemoveArgs *a, ErrBuf *err);
