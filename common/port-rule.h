/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * ModifyPortRule's rules in the one normalized form both processes check: the manager
 * builds it from a D-Bus request (port_rule_from_request()), keeps it as the key of its
 * rule table and sends it to the helper, which checks it again (port_rule_validate())
 * before it builds nftables elements from it. Fields a type does not use are zero, so two
 * rules are the same rule exactly when their keys compare equal.
 *
 *   ACCESS      proto, port, ifname ("" = every uplink)
 *   LOCKDOWN    proto, port (a loopback port)
 *   FORWARDING  proto, port, ifname (required), input_dst_ip (0 = any) -> dst_ip:dst_port,
 *               dst_ip inside one of the guest pools
 */

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "errbuf.h"
#include "pool.h"

/* The values of ModifyPortRuleRequest's enums (and of proto/ipc.proto's). */
typedef enum PortRuleType {
        PORT_RULE_ACCESS = 1,
        PORT_RULE_LOCKDOWN = 2,
        PORT_RULE_FORWARDING = 3,
} PortRuleType;

typedef enum PortProto {
        PORT_PROTO_TCP = 1,
        PORT_PROTO_UDP = 2,
} PortProto;

typedef struct PortRuleKey {
        uint8_t type;            /* PortRuleType */
        uint8_t proto;           /* PortProto */
        uint16_t port;           /* input_dst_port, 1..65535 */
        uint32_t input_dst_ip;   /* host byte order; FORWARDING only, 0 = any */
        char ifname[IFNAMSIZ];   /* zero-padded, so the key compares with memcmp() */
} PortRuleKey;

typedef struct PortRule {
        PortRuleKey key;
        uint32_t dst_ip;         /* FORWARDING only */
        uint16_t dst_port;       /* FORWARDING only */
} PortRule;

const char *port_rule_type_to_string(int type);
const char *port_proto_to_string(int proto);

/* 1..15 characters from [A-Za-z0-9.-], not starting or ending with '-' or '.'. */
bool port_rule_ifname_is_valid(const char *s);

/*
 * port_rule_from_request() - a rule from ModifyPortRuleRequest's fields: every string
 * parsed strictly, ports in 1..65535 (never truncated), fields the type does not use
 * dropped (the original ignored them too) but still checked when given.
 * Return: 0, or -EINVAL with the reason in err.
 */
int port_rule_from_request(const PoolLayout *pools, int type, int proto, const char *ifname,
                           const char *input_dst_ip, uint32_t input_dst_port,
                           const char *dst_ip, uint32_t dst_port, PortRule *ret, ErrBuf *err);

/* Check a rule in normalized form, as the helper gets it. */
int port_rule_validate(const PoolLayout *pools, const PortRule *rule, ErrBuf *err);

/* "FORWARDING tcp eth0:8080 -> 100.115.92.6:80", for logs. */
const char *port_rule_to_string(const PortRule *rule, char *buf, size_t size);
