/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <systemd/sd-bus.h>

int bus_method_connect_namespace(sd_bus_message *msg, void *userdata, sd_bus_error *error);
