/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "bus.h"
#include "devices.h"
#include "log.h"
#include "manager.h"
#include "netdevice.h"

static void devices_emit(Manager *m, const GuestLink *l, bool added) {
        Patchpanel__NetworkDeviceChangedSignal sig = PATCHPANEL__NETWORK_DEVICE_CHANGED_SIGNAL__INIT;
        Patchpanel__IPv4Subnet subnet;
        NetworkDevice dev;
        DeviceInfo info;
        int r;

        if (!m->bus || !l->device)
                return;
        device_info_from_guest_link(l, &info);
        device_to_proto(&info, &dev, &subnet);
        sig.device = &dev;
        sig.event = added ? PATCHPANEL__NETWORK_DEVICE_CHANGED_SIGNAL__EVENT__DEVICE_ADDED
                          : PATCHPANEL__NETWORK_DEVICE_CHANGED_SIGNAL__EVENT__DEVICE_REMOVED;
        r = bus_emit_proto(m->bus, "NetworkDeviceChanged", &sig.base);
        if (r < 0)
                log_warning_errno(r, "Cannot emit NetworkDeviceChanged for %s, ignoring: %m",
                                  l->ifname);
}

static void on_guest_added(const GuestLink *l, void *userdata) {
        devices_emit(userdata, l, true);
}

static void on_guest_removed(const GuestLink *l, void *userdata) {
        devices_emit(userdata, l, false);
}

static const RegistrySubscriber devices_subscriber = {
        .guest_added = on_guest_added,
        .guest_removed = on_guest_removed,
};

int devices_setup(Manager *m) {
        return registry_subscribe(m->registry, &devices_subscriber, m);
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

        cap = registry_n_guests(m->registry) + 1;
        infos = calloc(cap, sizeof *infos);
        devs = calloc(cap, sizeof *devs);
        ptrs = calloc(cap, sizeof *ptrs);
        subnets = calloc(cap, sizeof *subnets);
        if (!infos || !devs || !ptrs || !subnets)
                return -ENOMEM;
        for (GuestLink *l = registry_guests(m->registry); l && n < cap; l = l->guests_next) {
                if (!l->device)
                        continue;
                device_info_from_guest_link(l, &infos[n]);
                device_to_proto(&infos[n], &devs[n], &subnets[n]);
                ptrs[n] = &devs[n];
                n++;
        }
        resp.devices = ptrs;
        resp.n_devices = n;
        return bus_reply_proto(msg, &resp.base);
}
