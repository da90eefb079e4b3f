/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>

#include "arc.h"
#include "bus.h"
#include "devices.h"
#include "log.h"
#include "vm.h"

void device_to_proto(const DeviceInfo *info, NetworkDevice *dev, Patchpanel__IPv4Subnet *subnet) {
        patchpanel__network_device__init(dev);
        patchpanel__ipv4_subnet__init(subnet);
        subnet->base_addr = ipv4_to_wire(info->subnet.base);
        subnet->prefix_len = info->subnet.prefix_len;
        dev->ifname = (char *) info->ifname;
        dev->ipv4_addr = ipv4_to_wire(info->guest_addr);
        dev->ipv4_subnet = subnet;
        dev->guest_type = info->type;
}

void manager_emit_device_changed(Manager *m, const DeviceInfo *info, bool added) {
        Patchpanel__NetworkDeviceChangedSignal sig = PATCHPANEL__NETWORK_DEVICE_CHANGED_SIGNAL__INIT;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        Patchpanel__IPv4Subnet subnet;
        NetworkDevice dev;
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        int r;

        if (!m->bus)
                return;
        device_to_proto(info, &dev, &subnet);
        sig.device = &dev;
        sig.event = added ? PATCHPANEL__NETWORK_DEVICE_CHANGED_SIGNAL__EVENT__DEVICE_ADDED
                          : PATCHPANEL__NETWORK_DEVICE_CHANGED_SIGNAL__EVENT__DEVICE_REMOVED;
        len = protobuf_c_message_get_packed_size(&sig.base);
        buf = malloc(len ?: 1);
        if (!buf)
                return (void) log_error("Out of memory for a signal, ignoring");
        protobuf_c_message_pack(&sig.base, buf);
        r = sd_bus_message_new_signal(m->bus, &msg, PP_BUS_PATH, PP_BUS_INTERFACE,
                                      "NetworkDeviceChanged");
        if (r >= 0)
                r = sd_bus_message_append_array(msg, 'y', buf, len);
        if (r >= 0)
                r = sd_bus_send(m->bus, msg, NULL);
        if (r < 0)
                log_warning_errno(r, "Cannot emit NetworkDeviceChanged for %s, ignoring: %m",
                                  info->ifname);
}

int bus_method_get_devices(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Patchpanel__GetDevicesRequest *req = NULL;
        Patchpanel__GetDevicesResponse resp = PATCHPANEL__GET_DEVICES_RESPONSE__INIT;
        _cleanup_free_ DeviceInfo *infos = NULL;
        _cleanup_free_ NetworkDevice *devs = NULL;
        _cleanup_free_ NetworkDevice **ptrs = NULL;
        _cleanup_free_ Patchpanel__IPv4Subnet *subnets = NULL;
        Manager *m = userdata;
        size_t n = 0, cap;
        int r;

        r = bus_message_read_proto(msg, &patchpanel__get_devices_request__descriptor,
                                   (ProtobufCMessage **) &req, error);
        if (r < 0)
                return r;
        patchpanel__get_devices_request__free_unpacked(req, NULL);

        cap = ARC_N_CONFIGS;
        LIST_FOREACH(vms, vm, m->vms)
                cap++;
        infos = calloc(cap, sizeof *infos);
        devs = calloc(cap, sizeof *devs);
        ptrs = calloc(cap, sizeof *ptrs);
        subnets = calloc(cap, sizeof *subnets);
        if (!infos || !devs || !ptrs || !subnets)
                return -ENOMEM;

        n = arc_devices(m->arc, infos, ARC_N_CONFIGS);
        LIST_FOREACH(vms, vm, m->vms)
                if (vm->state == VM_GUEST_RUNNING && n < cap)
                        vm_guest_device(vm, &infos[n++]);
        for (size_t i = 0; i < n; i++) {
                device_to_proto(&infos[i], &devs[i], &subnets[i]);
                ptrs[i] = &devs[i];
        }
        resp.devices = ptrs;
        resp.n_devices = n;
        return bus_reply_proto(msg, &resp.base);
}
