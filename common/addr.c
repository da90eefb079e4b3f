/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "addr.h"

int ipv4_parse(const char *s, uint32_t *ret) {
        struct in_addr a;

        if (!s || inet_pton(AF_INET, s, &a) != 1)
                return -EINVAL;
        *ret = ntohl(a.s_addr);
        return 0;
}

const char *ipv4_to_string(uint32_t addr, char buf[static IPV4_STRLEN]) {
        struct in_addr a = { .s_addr = htonl(addr) };

        if (!inet_ntop(AF_INET, &a, buf, IPV4_STRLEN))
                buf[0] = '\0';
        return buf;
}

uint32_t ipv4_netmask(unsigned prefix_len) {
        if (prefix_len == 0)
                return 0;
        if (prefix_len >= 32)
                return UINT32_MAX;
        return UINT32_MAX << (32 - prefix_len);
}

uint32_t ipv4_to_wire(uint32_t addr) {
        return htonl(addr);
}

uint32_t ipv4_from_wire(uint32_t wire) {
        return ntohl(wire);
}

bool ipv4_is_net_or_broadcast(uint32_t addr, unsigned prefix_len) {
        uint32_t host = ~ipv4_netmask(prefix_len);

        return prefix_len <= 30 && ((addr & host) == 0 || (addr & host) == host);
}

bool addr_bytes_in_prefix(const uint8_t *a, const uint8_t *p, unsigned prefix_len) {
        unsigned full = prefix_len / 8, rest = prefix_len % 8;
        uint8_t mask;

        if (memcmp(a, p, full) != 0)
                return false;
        if (rest == 0)
                return true;
        mask = (uint8_t) (0xffu << (8 - rest));
        return (a[full] & mask) == (p[full] & mask);
}

bool ipv6_bytes_are_link_local(const uint8_t *a) {
        return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}
