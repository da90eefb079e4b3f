/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Living next to other firewalls. The daemon never touches another table, so a foreign
 * base chain whose policy is drop (Docker sets FORWARD to DROP) silently eats guests'
 * traffic however correct our own tables are. The helper watches the ruleset and reports
 * such chains; here they are logged with a fix and kept for the status.
 */

#include <stddef.h>

#include "manager.h"

/* Events from the helper (id 0 answers). */
void manager_on_helper_event(const HelperResponse *ev, void *userdata);

/* What breaks and how to fix it, as one line, into buf. */
const char *foreign_drop_fix(const ForeignDrop *d, char *buf, size_t size);
