/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Policy routing of the uplinks (helpers/routing.h says what the helper builds): an uplink
 * that appears gets it, one that goes loses it, and route changes are batched once per
 * event-loop turn into resyncs of the uplinks' tables.
 */

typedef struct Manager Manager;

/* Subscribe to the registry's uplinks. Return: 0 or a negative errno. */
int uplinks_setup(Manager *m);
void uplinks_free(Manager *m);
