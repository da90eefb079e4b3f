/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * One guest device in the shape the D-Bus API gives it (NetworkDevice): what GetDevices and
 * NetworkDeviceChanged list (devices.c) and what the guests' start-up methods answer (arc.c,
 * vm.c). Nothing here holds state.
 */

#include <net/if.h>
#include <stdint.h>

#include "pool.h"
#include "registry.h"
#include "service.pb-c.h"

typedef Patchpanel__NetworkDevice NetworkDevice;

/* What describes one device; subnet and address are host byte order. */
typedef struct DeviceInfo {
        char ifname[IFNAMSIZ];
        uint32_t guest_addr;
        Subnet subnet;
        GuestKind kind;
} DeviceInfo;

/* Fill @dev (and @subnet it points to) from @info; both must outlive their use. */
void device_to_proto(const DeviceInfo *info, NetworkDevice *dev, Patchpanel__IPv4Subnet *subnet);
void device_info_from_guest_link(const GuestLink *l, DeviceInfo *ret);
