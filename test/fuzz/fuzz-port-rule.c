/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ModifyPortRule's rules (common/port-rule.c) as both processes see them: the manager
 * builds a rule from a request's fields (port_rule_from_request()), the helper checks the
 * rule it receives (port_rule_validate()) before it turns it into nftables elements.
 *
 * Input, byte 0 even: a request's fields
 *   [1] type  [2] proto  [3..6] input_dst_port  [7..10] dst_port (little endian)
 *   [11..] ifname NUL input_dst_ip NUL dst_ip (missing strings are "")
 * Byte 0 odd: the bytes of a PortRule as the helper would receive them.
 *
 * What must hold: a rule the manager builds is one the helper accepts, in normalized form
 * (fields its type does not use are zero, the name zero-padded); a rule the helper accepts
 * is one the manager builds again, identical, from the fields a client would send for it;
 * every refusal says why in printable ASCII.
 */
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "fuzz.h"
#include "port-rule.h"

static PoolLayout pools;

static void check_reason(const ErrBuf *err) {
        size_t n = strnlen(err->msg, sizeof err->msg);

        FUZZ_CHECK(n > 0 && n < sizeof err->msg);
        for (size_t i = 0; i < n; i++)
                FUZZ_CHECK(err->msg[i] >= 0x20 && err->msg[i] < 0x7f);
}

static void check_normalized(const PortRule *rule) {
        const PortRuleKey *k = &rule->key;
        char text[128];
        size_t len = strnlen(k->ifname, sizeof k->ifname);

        FUZZ_CHECK(len < sizeof k->ifname);
        for (size_t i = len; i < sizeof k->ifname; i++)
                FUZZ_CHECK(k->ifname[i] == '\0');
        FUZZ_CHECK(k->port >= 1);
        if (k->type != PORT_RULE_FORWARDING)
                FUZZ_CHECK(k->input_dst_ip == 0 && rule->dst_ip == 0 && rule->dst_port == 0);
        else
                FUZZ_CHECK(len > 0 && rule->dst_port >= 1 && rule->dst_ip != 0);
        if (k->type == PORT_RULE_LOCKDOWN)
                FUZZ_CHECK(len == 0);
        port_rule_to_string(rule, text, sizeof text);
        FUZZ_CHECK(strlen(text) < sizeof text - 1);
}

/* The fields a client sends for a rule, built again by the manager. */
static void check_round_trip(const PortRule *rule) {
        const PortRuleKey *k = &rule->key;
        char in[IPV4_STRLEN] = "", out[IPV4_STRLEN] = "";
        PortRule again;
        ErrBuf err = {};

        if (k->input_dst_ip)
                ipv4_to_string(k->input_dst_ip, in);
        if (k->type == PORT_RULE_FORWARDING)
                ipv4_to_string(rule->dst_ip, out);
        FUZZ_CHECK(port_rule_from_request(&pools, k->type, k->proto, k->ifname, in, k->port, out,
                                          rule->dst_port, &again, &err) == 0);
        FUZZ_CHECK(memcmp(&again.key, k, sizeof *k) == 0);
        FUZZ_CHECK(again.dst_ip == rule->dst_ip && again.dst_port == rule->dst_port);
}

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
               (uint32_t) p[3] << 24;
}

static void fuzz_request(const uint8_t *data, size_t size) {
        char buf[256], *strings[3] = { (char *) "", (char *) "", (char *) "" };
        PortRule rule;
        ErrBuf err = {};
        size_t n, s = 0;
        int r;

        if (size < 10)
                return;
        n = size - 10 < sizeof buf - 1 ? size - 10 : sizeof buf - 1;
        memcpy(buf, data + 10, n);
        buf[n] = '\0';
        for (char *p = buf, *end = buf + n; s < 3 && p <= end; p += strlen(p) + 1)
                strings[s++] = p;
        r = port_rule_from_request(&pools, (int8_t) data[0], (int8_t) data[1], strings[0],
                                   strings[1], le32(data + 2), strings[2], le32(data + 6), &rule,
                                   &err);
        FUZZ_CHECK(r == 0 || r == -EINVAL);
        if (r < 0) {
                check_reason(&err);
                return;
        }
        FUZZ_CHECK(port_rule_validate(&pools, &rule, &err) == 0);
        check_normalized(&rule);
}

static void fuzz_rule(const uint8_t *data, size_t size) {
        PortRule rule = {};
        ErrBuf err = {};
        int r;

        memcpy(&rule, data, size < sizeof rule ? size : sizeof rule);
        r = port_rule_validate(&pools, &rule, &err);
        FUZZ_CHECK(r == 0 || r == -EINVAL);
        if (r < 0) {
                check_reason(&err);
                return;
        }
        check_normalized(&rule);
        check_round_trip(&rule);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint32_t base;

        if (size == 0)
                return 0;
        if (pools.pools[0].prefix_len == 0) {
                FUZZ_CHECK(ipv4_parse("100.115.92.0", &base) == 0);
                FUZZ_CHECK(pool_layout_init(&pools, base) == 0);
        }
        if (data[0] & 1)
                fuzz_rule(data + 1, size - 1);
        else
                fuzz_request(data + 1, size - 1);
        return 0;
}
