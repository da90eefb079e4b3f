/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ifname.h"
#include "port-rule.h"
#include "proto-check.h"

const char *port_rule_type_to_string(int type) {
        switch (type) {
        case PORT_RULE_ACCESS:
                return "ACCESS";
        case PORT_RULE_LOCKDOWN:
                return "LOCKDOWN";
        case PORT_RULE_FORWARDING:
                return "FORWARDING";
        default:
                return "INVALID";
        }
}

const char *port_proto_to_string(int proto) {
        switch (proto) {
        case PORT_PROTO_TCP:
                return "tcp";
        case PORT_PROTO_UDP:
                return "udp";
        default:
                return "invalid";
        }
}

bool port_rule_ifname_is_valid(const char *s) {
        return ifname_is_valid_strict(s, false);
}

/* A guest's address: in one of the pools' subnets, and neither its network address, nor
 * the host's side (the first address), nor its broadcast address. */
static bool addr_is_guest(const PoolLayout *pools, uint32_t addr) {
        for (int k = 0; k < _POOL_KIND_MAX; k++) {
                const PoolConfig *c = &pools->pools[k];
                uint32_t size, offset;

                if (addr < pool_config_first(c) || addr > pool_config_last(c))
                        continue;
                size = UINT32_C(1) << (32 - c->prefix_len);
                offset = (addr - c->base) % size;
                return offset >= 2 && offset <= size - 2;
        }
        return false;
}

/* The caller's strings reach the log escaped: they must not forge lines. */
static int invalid_ifname(const char *ifname, ErrBuf *err) {
        char e[4 * 24 + 1];
        return errbuf_set(err, -EINVAL, "invalid interface name \"%s\"",
                          str_escape(ifname, 24, e, sizeof e));
}

static int check_port(uint32_t port, const char *what, ErrBuf *err) {
        if (port == 0)
                return errbuf_set(err, -EINVAL, "%s is 0", what);
        if (port > 65535)
                return errbuf_set(err, -EINVAL, "%s %u is above 65535", what, port);
        return 0;
}

/* An optional IPv4 address: "" is 0, anything else must be a dotted quad. */
static int parse_ip(const char *s, const char *what, uint32_t *ret, ErrBuf *err) {
        char e[4 * 24 + 1];

        *ret = 0;
        if (!s || !*s)
                return 0;
        if (ipv4_parse(s, ret) < 0)
                return errbuf_set(err, -EINVAL, "%s \"%s\" is not an IPv4 address", what,
                                  str_escape(s, 24, e, sizeof e));
        return 0;
}

int port_rule_validate(const PoolLayout *pools, const PortRule *rule, ErrBuf *err) {
        const PortRuleKey *k = &rule->key;
        char a[IPV4_STRLEN];
        int r;

        if (k->proto != PORT_PROTO_TCP && k->proto != PORT_PROTO_UDP)
                return errbuf_set(err, -EINVAL, "protocol %u is neither TCP nor UDP", k->proto);
        r = check_port(k->port, "input_dst_port", err);
        if (r < 0)
                return r;
        if (memchr(k->ifname, '\0', sizeof k->ifname) == NULL)
                return errbuf_set(err, -EINVAL, "interface name is not terminated");
        /* The key is compared byte by byte: nothing may follow the name. */
        for (size_t i = strlen(k->ifname); i < sizeof k->ifname; i++)
                if (k->ifname[i] != '\0')
                        return errbuf_set(err, -EINVAL, "interface name is not zero-padded");

        switch (k->type) {
        case PORT_RULE_ACCESS:
        case PORT_RULE_LOCKDOWN:
                if (k->type == PORT_RULE_LOCKDOWN && k->ifname[0])
                        return errbuf_set(err, -EINVAL, "LOCKDOWN takes no interface");
                if (k->ifname[0] && !port_rule_ifname_is_valid(k->ifname))
                        return invalid_ifname(k->ifname, err);
                if (k->input_dst_ip || rule->dst_ip || rule->dst_port)
                        return errbuf_set(err, -EINVAL, "%s takes no addresses",
                                          port_rule_type_to_string(k->type));
                return 0;
        case PORT_RULE_FORWARDING:
                if (!k->ifname[0])
                        return errbuf_set(err, -EINVAL, "FORWARDING needs an input interface");
                if (!port_rule_ifname_is_valid(k->ifname))
                        return invalid_ifname(k->ifname, err);
                r = check_port(rule->dst_port, "dst_port", err);
                if (r < 0)
                        return r;
                if (!addr_is_guest(pools, rule->dst_ip))
                        return errbuf_set(err, -EINVAL,
                                          "dst_ip %s is not a guest address (outside the pools, "
                                          "or a subnet's network, host side or broadcast)",
                                          ipv4_to_string(rule->dst_ip, a));
                return 0;
        default:
                return errbuf_set(err, -EINVAL, "rule type %u is not ACCESS, LOCKDOWN or FORWARDING",
                                  k->type);
        }
}

int port_rule_from_request(const PoolLayout *pools, int type, int proto, const char *ifname,
                           const char *input_dst_ip, uint32_t input_dst_port,
                           const char *dst_ip, uint32_t dst_port, PortRule *ret, ErrBuf *err) {
        PortRule rule = {};
        uint32_t in_ip, out_ip;
        int r;

        if (type < PORT_RULE_ACCESS || type > PORT_RULE_FORWARDING)
                return errbuf_set(err, -EINVAL, "rule type %d is not ACCESS, LOCKDOWN or FORWARDING",
                                  type);
        if (proto != PORT_PROTO_TCP && proto != PORT_PROTO_UDP)
                return errbuf_set(err, -EINVAL, "protocol %d is neither TCP nor UDP", proto);
        r = check_port(input_dst_port, "input_dst_port", err);
        if (r < 0)
                return r;
        /* Every field given is checked, even where the type then ignores it. */
        if (ifname && *ifname && !port_rule_ifname_is_valid(ifname))
                return invalid_ifname(ifname, err);
        r = parse_ip(input_dst_ip, "input_dst_ip", &in_ip, err);
        if (r < 0)
                return r;
        r = parse_ip(dst_ip, "dst_ip", &out_ip, err);
        if (r < 0)
                return r;
        if (dst_port > 65535)
                return errbuf_set(err, -EINVAL, "dst_port %u is above 65535", dst_port);

        rule.key.type = (uint8_t) type;
        rule.key.proto = (uint8_t) proto;
        rule.key.port = (uint16_t) input_dst_port;
        if (type != PORT_RULE_LOCKDOWN && ifname)
                snprintf(rule.key.ifname, sizeof rule.key.ifname, "%s", ifname);
        if (type == PORT_RULE_FORWARDING) {
                if (!dst_ip || !*dst_ip)
                        return errbuf_set(err, -EINVAL, "FORWARDING needs dst_ip");
                rule.key.input_dst_ip = in_ip;
                rule.dst_ip = out_ip;
                rule.dst_port = (uint16_t) dst_port;
        }
        r = port_rule_validate(pools, &rule, err);
        if (r < 0)
                return r;
        *ret = rule;
        return 0;
}

const char *port_rule_to_string(const PortRule *rule, char *buf, size_t size) {
        const PortRuleKey *k = &rule->key;
        char in[IPV4_STRLEN] = "", out[IPV4_STRLEN];

        if (k->input_dst_ip)
                ipv4_to_string(k->input_dst_ip, in);
        if (k->type == PORT_RULE_FORWARDING)
                snprintf(buf, size, "%s %s %s%s%s:%u -> %s:%u", port_rule_type_to_string(k->type),
                         port_proto_to_string(k->proto), k->ifname, in[0] ? "/" : "", in, k->port,
                         ipv4_to_string(rule->dst_ip, out), rule->dst_port);
        else
                snprintf(buf, size, "%s %s %s:%u", port_rule_type_to_string(k->type),
                         port_proto_to_string(k->proto), k->ifname[0] ? k->ifname : "*", k->port);
        return buf;
}
