/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Guest devices as the D-Bus API describes them (NetworkDevice): the registry's guest links
 * that are devices, listed by GetDevices and announced by NetworkDeviceChanged as they come
 * and go.
 */

#include <systemd/sd-bus.h>

typedef struct Manager Manager;

/* Emit NetworkDeviceChanged for the registry's devices from now on. */
int devices_setup(Manager *m);

int bus_method_get_devices(sd_bus_message *msg, void *userdata, sd_bus_error *error);
