/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <systemd/sd-bus.h>

#include "bus-request.h"

typedef struct Manager Manager;

int bus_method_connect_namespace(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_method_get_traffic_counters(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_method_set_vpn_intent(sd_bus_message *msg, void *userdata, sd_bus_error *error);

/* Export the D-Bus API and own the name (fails if another instance owns it). */
int manager_bus_setup(Manager *m);
