/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * ModifyPortRule: the manager's table of port rules, keyed by PortRuleKey in a hash table
 * so that a request costs the same with ten rules or ten thousand. A rule is in the table
 * from the moment its CREATE is accepted (pending until the helper answers) until its
 * DELETE has been applied; a second request for a rule with one in flight is refused, so
 * the table and the kernel never disagree.
 *
 * Bad input, a duplicate CREATE and a DELETE of a rule that is not there answer
 * success=false with the reason logged, as the original did; only a request that cannot
 * be decoded is a D-Bus error.
 */

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

#include "port-rule.h"

typedef struct Manager Manager;
typedef struct PortRules PortRules;

/* More rules than this are refused. */
#define PORT_RULES_MAX 65536u

PortRules *port_rules_new(void);
PortRules *port_rules_free(PortRules *t);
size_t port_rules_count(const PortRules *t);
/* Calls fn for every rule in place (pending or not), in no particular order. */
void port_rules_foreach(const PortRules *t, void (*fn)(const PortRule *rule, bool active,
                                                       void *userdata), void *userdata);

/*
 * port_rules_hold() - the daemon's own need for a rule (adb-proxy's ACCESS tcp/5555), beside
 * any client's: the element is in the kernel while either wants it, and neither's removal
 * takes it from the other. @rule must be valid (port_rule_validate()).
 * Return: 0 (the helper has it, or gets it when a request in flight comes back), or a
 * negative errno (the helper is gone).
 */
int port_rules_hold(Manager *m, const PortRule *rule, bool hold);

int bus_method_modify_port_rule(sd_bus_message *msg, void *userdata, sd_bus_error *error);
