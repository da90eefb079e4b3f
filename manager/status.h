/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <systemd/sd-bus.h>

#include "bus-names.h"
#include "manager.h"


/* The most connected namespaces GetStatus carries, and ListConnectedNamespaces a page. */
#define STATUS_NAMESPACES_PAGE_MAX 100u

/* The daemon's state as one JSON object (see status.c), the guests' details only those
 * @viewer owns (all for root); free with free(). */
int manager_status_json(Manager *m, uid_t viewer, char **ret);

/*
 * manager_status_namespaces_json() - a page of the connected namespaces @viewer sees, as
 * ListConnectedNamespaces answers it: {"total": N, "offset": @offset,
 * "connected_namespaces": [...]}, each entry as in GetStatus.
 * @m: the manager
 * @viewer: the caller's uid; root sees every namespace, anyone else their own
 * @offset: how many to skip; past the end gives an empty list
 * @limit: the most to list, 1..STATUS_NAMESPACES_PAGE_MAX
 * @ret: the document (free())
 *
 * Return: 0, -EINVAL for a limit out of range, -ENOMEM.
 */
int manager_status_namespaces_json(Manager *m, uid_t viewer, unsigned offset, unsigned limit,
                                   char **ret);
int bus_method_get_status(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_method_list_connected_namespaces(sd_bus_message *msg, void *userdata,
                                         sd_bus_error *error);
