/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Guest devices as the D-Bus API describes them (NetworkDevice): the registry's guest links
 * that are devices, listed by GetDevices and announced by NetworkDeviceChanged as they come
 * and go.
 */

#include <systemd/sd-bus.h>

#include "registry.h"
#include "service.pb-c.h"

typedef struct Manager Manager;
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

/* Emit NetworkDeviceChanged for the registry's devices from now on. */
int devices_setup(Manager *m);

int bus_method_get_devices(sd_bus_message *msg, void *userdata, sd_bus_error *error);
