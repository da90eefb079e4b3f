/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* Guest devices as the D-Bus API describes them (NetworkDevice), GetDevices and the
 * NetworkDeviceChanged signal. */

#include <net/if.h>
#include <stdint.h>

#include "manager.h"
#include "pool.h"
#include "service.pb-c.h"

typedef Patchpanel__NetworkDevice NetworkDevice;
typedef Patchpanel__NetworkDevice__GuestType GuestType;

/* What describes one device; subnet and address are host byte order. */
typedef struct DeviceInfo {
        char ifname[IFNAMSIZ];
        uint32_t guest_addr;
        Subnet subnet;
        GuestType type;
} DeviceInfo;

/* Fill @dev (and @subnet it points to) from @info; both must outlive their use. */
void device_to_proto(const DeviceInfo *info, NetworkDevice *dev, Patchpanel__IPv4Subnet *subnet);

/* Emit NetworkDeviceChanged; failures are logged. */
void manager_emit_device_changed(Manager *m, const DeviceInfo *info, bool added);

int bus_method_get_devices(sd_bus_message *msg, void *userdata, sd_bus_error *error);
