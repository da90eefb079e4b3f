/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* IPv4 addresses as host-byte-order uint32_t, the form every module works in. */

#include <stdbool.h>
#include <stdint.h>

#define IPV4_STRLEN 16

/* Strict dotted-quad parse (inet_pton): no shorthand, no spaces, no leading garbage. */
int ipv4_parse(const char *s, uint32_t *ret);
/* Format into buf (IPV4_STRLEN bytes); returns buf. */
const char *ipv4_to_string(uint32_t addr, char buf[static IPV4_STRLEN]);
/* The netmask of a prefix length 0..32. */
uint32_t ipv4_netmask(unsigned prefix_len);
/* Whether @addr is the network or the broadcast address of its prefix of @prefix_len (a /31
 * or a /32 has neither). */
bool ipv4_is_net_or_broadcast(uint32_t addr, unsigned prefix_len);

/* Addresses as bytes in network order (4 or 16 of them), as netlink carries them. */
/* Whether the first @prefix_len bits of @a and @p agree. */
bool addr_bytes_in_prefix(const uint8_t *a, const uint8_t *p, unsigned prefix_len);
/* fe80::/10 */
bool ipv6_bytes_are_link_local(const uint8_t *a);
/* The value of in_addr.s_addr for addr, as the D-Bus API carries it. */
uint32_t ipv4_to_wire(uint32_t addr);
uint32_t ipv4_from_wire(uint32_t wire);
