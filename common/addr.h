/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* IPv4 addresses as host-byte-order uint32_t, the form every module works in. */

#include <stdint.h>

#define IPV4_STRLEN 16

/* Strict dotted-quad parse (inet_pton): no shorthand, no spaces, no leading garbage. */
int ipv4_parse(const char *s, uint32_t *ret);
/* Format into buf (IPV4_STRLEN bytes); returns buf. */
const char *ipv4_to_string(uint32_t addr, char buf[static IPV4_STRLEN]);
/* The netmask of a prefix length 0..32. */
uint32_t ipv4_netmask(unsigned prefix_len);
/* The value of in_addr.s_addr for addr, as the D-Bus API carries it. */
uint32_t ipv4_to_wire(uint32_t addr);
uint32_t ipv4_from_wire(uint32_t wire);
