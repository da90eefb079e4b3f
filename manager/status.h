/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <systemd/sd-bus.h>

#include "bus-names.h"
#include "manager.h"


/* The daemon's state as one JSON object (see status.c), the guests' details only those
 * @viewer owns (all for root); free with free(). */
int manager_status_json(Manager *m, uid_t viewer, char **ret);
int bus_method_get_status(sd_bus_message *msg, void *userdata, sd_bus_error *error);
