/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>

#include "addr.h"
#include "netdevice.h"

static Patchpanel__NetworkDevice__GuestType guest_type(GuestKind k) {
        switch (k) {
        case GUEST_ARC:
                return PATCHPANEL__NETWORK_DEVICE__GUEST_TYPE__ARC;
        case GUEST_ARCVM:
                return PATCHPANEL__NETWORK_DEVICE__GUEST_TYPE__ARCVM;
        case GUEST_TERMINA:
                return PATCHPANEL__NETWORK_DEVICE__GUEST_TYPE__TERMINA_VM;
        case GUEST_PLUGINVM:
                return PATCHPANEL__NETWORK_DEVICE__GUEST_TYPE__PLUGIN_VM;
        default:
                return PATCHPANEL__NETWORK_DEVICE__GUEST_TYPE__UNKNOWN;
        }
}

void device_to_proto(const DeviceInfo *info, NetworkDevice *dev, Patchpanel__IPv4Subnet *subnet) {
        patchpanel__network_device__init(dev);
        patchpanel__ipv4_subnet__init(subnet);
        subnet->base_addr = ipv4_to_wire(info->subnet.base);
        subnet->prefix_len = info->subnet.prefix_len;
        dev->ifname = (char *) info->ifname;
        dev->ipv4_addr = ipv4_to_wire(info->guest_addr);
        dev->ipv4_subnet = subnet;
        dev->guest_type = guest_type(info->kind);
}

void device_info_from_guest_link(const GuestLink *l, DeviceInfo *ret) {
        *ret = (DeviceInfo) { .guest_addr = l->guest_addr, .subnet = l->subnet, .kind = l->kind };
        snprintf(ret->ifname, sizeof ret->ifname, "%s", l->ifname);
}
