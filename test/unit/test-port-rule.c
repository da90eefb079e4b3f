/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * common/port-rule.h: ModifyPortRule's rules from the D-Bus request's fields, their normalized
 * key, the helper's second check and the log form. Every request test starts from the
 * default pool layout (100.115.92.0/23) and changes one field; a refused request must return
 * -EINVAL, leave a reason in the ErrBuf and leave *ret alone. Addresses are written as
 * IPV4(a, b, c, d) so that each one reads as in the docs.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "port-rule.h"

#define IPV4(a, b, c, d)                                                        \
        ((uint32_t) (((uint32_t) (a) << 24) | ((uint32_t) (b) << 16) |         \
                     ((uint32_t) (c) << 8) | (uint32_t) (d)))

/* What *ret is filled with before each request, so that a refusal can be seen to leave it. */
#define SENTINEL 0xa5

/* The guest address most tests forward to: Termina's first /30, guest side. */
#define GUEST_IP "100.115.92.26"

typedef struct Fixture {
        PoolLayout pools;
        PortRule rule;
        ErrBuf err;
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof *f);

        if (!f || pool_layout_init(&f->pools, POOL_DEFAULT_BASE) < 0) {
                free(f);
                return -1;
        }
        *state = f;
        return 0;
}

static int teardown(void **state) {
        free(*state);
        return 0;
}

/* port_rule_from_request() into f->rule, which starts out as SENTINEL bytes. */
static int request(Fixture *f, int type, int proto, const char *ifname, const char *input_dst_ip,
                   uint32_t input_dst_port, const char *dst_ip, uint32_t dst_port) {
        memset(&f->rule, SENTINEL, sizeof f->rule);
        f->err.msg[0] = '\0';
        return port_rule_from_request(&f->pools, type, proto, ifname, input_dst_ip,
                                      input_dst_port, dst_ip, dst_port, &f->rule, &f->err);
}

static int forwarding(Fixture *f, const char *ifname, const char *input_dst_ip,
                      uint32_t input_dst_port, const char *dst_ip, uint32_t dst_port) {
        return request(f, PORT_RULE_FORWARDING, PORT_PROTO_TCP, ifname, input_dst_ip,
                       input_dst_port, dst_ip, dst_port);
}

static int validate(Fixture *f, const PortRule *rule) {
        f->err.msg[0] = '\0';
        return port_rule_validate(&f->pools, rule, &f->err);
}

static void assert_untouched(const PortRule *rule) {
        const uint8_t *p = (const uint8_t *) rule;

        for (size_t i = 0; i < sizeof *rule; i++)
                assert_int_equal(p[i], SENTINEL);
}

static void assert_refused(Fixture *f, int r) {
        assert_int_equal(r, -EINVAL);
        assert_true(strlen(f->err.msg) > 0);
        assert_untouched(&f->rule);
}

static void assert_validate_refused(Fixture *f, int r) {
        assert_int_equal(r, -EINVAL);
        assert_true(strlen(f->err.msg) > 0);
}

/* The key's ifname: the name, then zeros to the end. */
static void assert_ifname(const PortRuleKey *k, const char *name) {
        size_t n = strlen(name);

        assert_true(n < sizeof k->ifname);
        assert_memory_equal(k->ifname, name, n);
        for (size_t i = n; i < sizeof k->ifname; i++)
                assert_int_equal(k->ifname[i], 0);
}

static void assert_rule(const PortRule *rule, uint8_t type, uint8_t proto, uint16_t port,
                        const char *ifname, uint32_t input_dst_ip, uint32_t dst_ip,
                        uint16_t dst_port) {
        assert_int_equal(rule->key.type, type);
        assert_int_equal(rule->key.proto, proto);
        assert_int_equal(rule->key.port, port);
        assert_ifname(&rule->key, ifname);
        assert_int_equal(rule->key.input_dst_ip, input_dst_ip);
        assert_int_equal(rule->dst_ip, dst_ip);
        assert_int_equal(rule->dst_port, dst_port);
}

/* Hand-built rules in normalized form, for port_rule_validate(). */
static PortRule good_forwarding(void) {
        PortRule rule = {
                .key = { .type = PORT_RULE_FORWARDING, .proto = PORT_PROTO_TCP, .port = 8080 },
                .dst_ip = IPV4(100, 115, 92, 26),
                .dst_port = 80,
        };

        strcpy(rule.key.ifname, "eth0");
        return rule;
}

static PortRule good_access(void) {
        PortRule rule = {
                .key = { .type = PORT_RULE_ACCESS, .proto = PORT_PROTO_UDP, .port = 53 },
        };

        strcpy(rule.key.ifname, "wlan0");
        return rule;
}

static PortRule good_lockdown(void) {
        return (PortRule) {
                .key = { .type = PORT_RULE_LOCKDOWN, .proto = PORT_PROTO_TCP, .port = 5555 },
        };
}

/* Every type with every protocol */

static void test_access_tcp(void **state) {
        Fixture *f = *state;

        assert_int_equal(request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth0", "", 22, "", 0), 0);
        assert_rule(&f->rule, PORT_RULE_ACCESS, PORT_PROTO_TCP, 22, "eth0", 0, 0, 0);
        assert_int_equal(validate(f, &f->rule), 0);
}

static void test_access_udp(void **state) {
        Fixture *f = *state;

        assert_int_equal(request(f, PORT_RULE_ACCESS, PORT_PROTO_UDP, "eth0", "", 53, "", 0), 0);
        assert_rule(&f->rule, PORT_RULE_ACCESS, PORT_PROTO_UDP, 53, "eth0", 0, 0, 0);
        assert_int_equal(validate(f, &f->rule), 0);
}

static void test_access_every_uplink(void **state) {
        Fixture *f = *state;

        assert_int_equal(request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "", "", 22, "", 0), 0);
        assert_rule(&f->rule, PORT_RULE_ACCESS, PORT_PROTO_TCP, 22, "", 0, 0, 0);
        assert_int_equal(validate(f, &f->rule), 0);
}

static void test_access_null_strings(void **state) {
        Fixture *f = *state;

        assert_int_equal(request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, NULL, NULL, 22, NULL, 0), 0);
        assert_rule(&f->rule, PORT_RULE_ACCESS, PORT_PROTO_TCP, 22, "", 0, 0, 0);
}

static void test_lockdown_tcp(void **state) {
        Fixture *f = *state;

        assert_int_equal(request(f, PORT_RULE_LOCKDOWN, PORT_PROTO_TCP, "", "", 5555, "", 0), 0);
        assert_rule(&f->rule, PORT_RULE_LOCKDOWN, PORT_PROTO_TCP, 5555, "", 0, 0, 0);
        assert_int_equal(validate(f, &f->rule), 0);
}

static void test_lockdown_udp(void **state) {
        Fixture *f = *state;

        assert_int_equal(request(f, PORT_RULE_LOCKDOWN, PORT_PROTO_UDP, "", "", 5555, "", 0), 0);
        assert_rule(&f->rule, PORT_RULE_LOCKDOWN, PORT_PROTO_UDP, 5555, "", 0, 0, 0);
        assert_int_equal(validate(f, &f->rule), 0);
}

static void test_forwarding_tcp(void **state) {
        Fixture *f = *state;

        assert_int_equal(forwarding(f, "eth0", "", 8080, GUEST_IP, 80), 0);
        assert_rule(&f->rule, PORT_RULE_FORWARDING, PORT_PROTO_TCP, 8080, "eth0", 0,
                    IPV4(100, 115, 92, 26), 80);
        assert_int_equal(validate(f, &f->rule), 0);
}

static void test_forwarding_udp(void **state) {
        Fixture *f = *state;

        assert_int_equal(request(f, PORT_RULE_FORWARDING, PORT_PROTO_UDP, "eth0", "", 5353,
                                 GUEST_IP, 53), 0);
        assert_rule(&f->rule, PORT_RULE_FORWARDING, PORT_PROTO_UDP, 5353, "eth0", 0,
                    IPV4(100, 115, 92, 26), 53);
        assert_int_equal(validate(f, &f->rule), 0);
}

static void test_forwarding_input_dst_ip(void **state) {
        Fixture *f = *state;

        assert_int_equal(forwarding(f, "eth0", "192.0.2.1", 8080, GUEST_IP, 80), 0);
        assert_rule(&f->rule, PORT_RULE_FORWARDING, PORT_PROTO_TCP, 8080, "eth0",
                    IPV4(192, 0, 2, 1), IPV4(100, 115, 92, 26), 80);
        assert_int_equal(validate(f, &f->rule), 0);
}

static void test_forwarding_input_dst_ip_null(void **state) {
        Fixture *f = *state;

        assert_int_equal(forwarding(f, "eth0", NULL, 8080, GUEST_IP, 80), 0);
        assert_int_equal(f->rule.key.input_dst_ip, 0);
}

/* Rule type and protocol values */

static void test_type_0(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, 0, PORT_PROTO_TCP, "eth0", "", 22, "", 0));
}

static void test_type_4(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, 4, PORT_PROTO_TCP, "eth0", "", 22, "", 0));
}

static void test_type_negative(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, -1, PORT_PROTO_TCP, "eth0", "", 22, "", 0));
}

/* 257 would be ACCESS again if it were cast to the key's uint8_t first. */
static void test_type_257(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, 257, PORT_PROTO_TCP, "eth0", "", 22, "", 0));
}

static void test_type_int_max(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, INT_MAX, PORT_PROTO_TCP, "eth0", "", 22, "", 0));
}

static void test_proto_0(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_ACCESS, 0, "eth0", "", 22, "", 0));
}

static void test_proto_3(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_ACCESS, 3, "eth0", "", 22, "", 0));
}

/* IPPROTO_TCP and IPPROTO_UDP are not the enum's values. */
static void test_proto_ipproto_tcp(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_ACCESS, 6, "eth0", "", 22, "", 0));
}

static void test_proto_ipproto_udp(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_ACCESS, 17, "eth0", "", 22, "", 0));
}

static void test_proto_257(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_ACCESS, 257, "eth0", "", 22, "", 0));
}

static void test_proto_negative(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_LOCKDOWN, -1, "", "", 22, "", 0));
}

/* input_dst_port */

static void test_port_0(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth0", "", 0, "", 0));
}

static void test_port_1(void **state) {
        Fixture *f = *state;

        assert_int_equal(request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth0", "", 1, "", 0), 0);
        assert_int_equal(f->rule.key.port, 1);
}

static void test_port_65535(void **state) {
        Fixture *f = *state;

        assert_int_equal(request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth0", "", 65535, "", 0), 0);
        assert_int_equal(f->rule.key.port, 65535);
}

/* 65536 would be port 0 once truncated to 16 bits. */
static void test_port_65536(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth0", "", 65536, "", 0));
}

/* 65537 would be port 1 once truncated to 16 bits. */
static void test_port_65537(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth0", "", 65537, "", 0));
}

/* 65536 + 22: port 22 once truncated. */
static void test_port_65558(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_LOCKDOWN, PORT_PROTO_TCP, "", "", 65558, "", 0));
}

static void test_port_uint32_max(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth0", "", UINT32_MAX,
                                  "", 0));
}

static void test_port_forwarding_0(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 0, GUEST_IP, 80));
}

static void test_port_forwarding_65537(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 65537, GUEST_IP, 80));
}

/* dst_port */

static void test_dst_port_0(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, GUEST_IP, 0));
}

static void test_dst_port_1(void **state) {
        Fixture *f = *state;

        assert_int_equal(forwarding(f, "eth0", "", 8080, GUEST_IP, 1), 0);
        assert_int_equal(f->rule.dst_port, 1);
}

static void test_dst_port_65535(void **state) {
        Fixture *f = *state;

        assert_int_equal(forwarding(f, "eth0", "", 8080, GUEST_IP, 65535), 0);
        assert_int_equal(f->rule.dst_port, 65535);
}

static void test_dst_port_65536(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, GUEST_IP, 65536));
}

static void test_dst_port_65537(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, GUEST_IP, 65537));
}

static void test_dst_port_uint32_max(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, GUEST_IP, UINT32_MAX));
}

/* ACCESS ignores dst_port, but one out of range is refused all the same. */
static void test_dst_port_access_ignored(void **state) {
        Fixture *f = *state;

        assert_int_equal(request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth0", "", 22, "", 80), 0);
        assert_int_equal(f->rule.dst_port, 0);
}

static void test_dst_port_access_65537(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth0", "", 22, "", 65537));
}

static void test_dst_port_lockdown_65536(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_LOCKDOWN, PORT_PROTO_TCP, "", "", 22, "", 65536));
}

/* port_rule_ifname_is_valid() */

static void test_ifname_valid_simple(void **state) {
        (void) state;
        assert_true(port_rule_ifname_is_valid("eth0"));
}

static void test_ifname_valid_one_char(void **state) {
        (void) state;
        assert_true(port_rule_ifname_is_valid("a"));
}

static void test_ifname_valid_digit_first(void **state) {
        (void) state;
        assert_true(port_rule_ifname_is_valid("0eth"));
}

static void test_ifname_valid_15_chars(void **state) {
        (void) state;
        assert_true(port_rule_ifname_is_valid("abcdefghijklmno"));
}

static void test_ifname_valid_vlan_dot(void **state) {
        (void) state;
        assert_true(port_rule_ifname_is_valid("eth0.100"));
}

static void test_ifname_valid_dash_inside(void **state) {
        (void) state;
        assert_true(port_rule_ifname_is_valid("br-lan"));
}

static void test_ifname_valid_upper(void **state) {
        (void) state;
        assert_true(port_rule_ifname_is_valid("WLAN0"));
}

static void test_ifname_null(void **state) {
        (void) state;
        assert_false(port_rule_ifname_is_valid(NULL));
}

static void test_ifname_empty(void **state) {
        (void) state;
        assert_false(port_rule_ifname_is_valid(""));
}

static void test_ifname_16_chars(void **state) {
        (void) state;
        assert_false(port_rule_ifname_is_valid("abcdefghijklmnop"));
}

static void test_ifname_long(void **state) {
        (void) state;
        assert_false(port_rule_ifname_is_valid("abcdefghijklmnopqrstuvwxyz0123456789"));
}

static void test_ifname_leading_dash(void **state) {
        (void) state;
        assert_false(port_rule_ifname_is_valid("-eth0"));
}

static void test_ifname_trailing_dash(void **state) {
        (void) state;
        assert_false(port_rule_ifname_is_valid("eth0-"));
}

static void test_ifname_leading_dot(void **state) {
        (void) state;
        assert_false(port_rule_ifname_is_valid(".eth0"));
}

static void test_ifname_trailing_dot(void **state) {
        (void) state;
        assert_false(port_rule_ifname_is_valid("eth0."));
}

static void test_ifname_dot(void **state) {
        (void) state;
        assert_false(port_rule_ifname_is_valid("."));
}

static void test_ifname_dotdot(void **state) {
        (void) state;
        assert_false(port_rule_ifname_is_valid(".."));
}

static void test_ifname_dash(void **state) {
        (void) state;
        assert_false(port_rule_ifname_is_valid("-"));
}

static void test_ifname_underscore(void **state) {
        (void) state;
        assert_false(port_rule_ifname_is_valid("eth_0"));
}

static void test_ifname_slash(void **state) {
        (void) state;
        assert_false(port_rule_ifname_is_valid("eth/0"));
}

static void test_ifname_space(void **state) {
        (void) state;
        assert_false(port_rule_ifname_is_valid("eth 0"));
}

static void test_ifname_trailing_space(void **state) {
        (void) state;
        assert_false(port_rule_ifname_is_valid("eth0 "));
}

static void test_ifname_double_quote(void **state) {
        (void) state;
        assert_false(port_rule_ifname_is_valid("eth\"0"));
}

static void test_ifname_single_quote(void **state) {
        (void) state;
        assert_false(port_rule_ifname_is_valid("eth'0"));
}

static void test_ifname_colon(void **state) {
        (void) state;
        assert_false(port_rule_ifname_is_valid("eth0:1"));
}

static void test_ifname_newline(void **state) {
        (void) state;
        assert_false(port_rule_ifname_is_valid("eth0\n"));
}

static void test_ifname_non_ascii(void **state) {
        (void) state;
        assert_false(port_rule_ifname_is_valid("eth\xc3\xa9"));
}

static void test_ifname_wildcard(void **state) {
        (void) state;
        assert_false(port_rule_ifname_is_valid("eth*"));
}

/* Interface names in requests */

static void test_request_ifname_15_chars(void **state) {
        Fixture *f = *state;

        assert_int_equal(forwarding(f, "abcdefghijklmno", "", 8080, GUEST_IP, 80), 0);
        assert_ifname(&f->rule.key, "abcdefghijklmno");
}

static void test_request_ifname_16_chars(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "abcdefghijklmnop", "", 8080, GUEST_IP, 80));
}

static void test_request_ifname_16_chars_access(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "abcdefghijklmnop", "", 22,
                                  "", 0));
}

static void test_request_ifname_leading_dash(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "-eth0", "", 8080, GUEST_IP, 80));
}

static void test_request_ifname_trailing_dot(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth0.", "", 22, "", 0));
}

static void test_request_ifname_underscore(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth_0", "", 22, "", 0));
}

static void test_request_ifname_slash(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "../eth0", "", 8080, GUEST_IP, 80));
}

static void test_request_ifname_space(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0 ", "", 8080, GUEST_IP, 80));
}

static void test_request_ifname_quote(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth0\"", "", 22, "", 0));
}

/* LOCKDOWN drops the interface, but a malformed one is still refused. */
static void test_request_lockdown_drops_ifname(void **state) {
        Fixture *f = *state;

        assert_int_equal(request(f, PORT_RULE_LOCKDOWN, PORT_PROTO_TCP, "eth0", "", 5555, "", 0),
                         0);
        assert_rule(&f->rule, PORT_RULE_LOCKDOWN, PORT_PROTO_TCP, 5555, "", 0, 0, 0);
        assert_int_equal(validate(f, &f->rule), 0);
}

static void test_request_lockdown_bad_ifname(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_LOCKDOWN, PORT_PROTO_TCP, "eth/0", "", 5555, "", 0));
}

static void test_request_lockdown_16_chars(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_LOCKDOWN, PORT_PROTO_TCP, "abcdefghijklmnop", "",
                                  5555, "", 0));
}

/* FORWARDING's required fields */

static void test_forwarding_ifname_empty(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "", "", 8080, GUEST_IP, 80));
}

static void test_forwarding_ifname_null(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, NULL, "", 8080, GUEST_IP, 80));
}

static void test_forwarding_dst_ip_empty(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, "", 80));
}

static void test_forwarding_dst_ip_null(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, NULL, 80));
}

/* Addresses are parsed as inet_pton() does: a dotted quad of decimals, nothing else. */

static void test_dst_ip_three_parts(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, "100.115.92", 80));
}

/* inet_aton() would read the last part as 16 bits: 100.115.92.26. */
static void test_dst_ip_inet_aton_shorthand(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, "100.115.23578", 80));
}

static void test_dst_ip_trailing_space(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, GUEST_IP " ", 80));
}

static void test_dst_ip_leading_space(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, " " GUEST_IP, 80));
}

static void test_dst_ip_trailing_newline(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, GUEST_IP "\n", 80));
}

/* glibc's inet_pton() refuses a leading zero, which inet_aton() would read as octal. */
static void test_dst_ip_leading_zero(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, "100.115.092.26", 80));
}

static void test_dst_ip_octet_256(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, "100.115.92.256", 80));
}

static void test_dst_ip_five_parts(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, GUEST_IP ".1", 80));
}

static void test_dst_ip_hex(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, "0x64.115.92.26", 80));
}

static void test_dst_ip_with_prefix(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, GUEST_IP "/30", 80));
}

static void test_dst_ip_with_port(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, GUEST_IP ":80", 80));
}

static void test_dst_ip_ipv6(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, "::ffff:100.115.92.26", 80));
}

static void test_input_dst_ip_three_parts(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "1.2.3", 8080, GUEST_IP, 80));
}

static void test_input_dst_ip_trailing_space(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "1.2.3.4 ", 8080, GUEST_IP, 80));
}

static void test_input_dst_ip_leading_zero(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "01.2.3.4", 8080, GUEST_IP, 80));
}

static void test_input_dst_ip_octet_256(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "256.1.1.1", 8080, GUEST_IP, 80));
}

/* "0.0.0.0" is any address, the same as "". */
static void test_input_dst_ip_zero(void **state) {
        Fixture *f = *state;

        assert_int_equal(forwarding(f, "eth0", "0.0.0.0", 8080, GUEST_IP, 80), 0);
        assert_int_equal(f->rule.key.input_dst_ip, 0);
}

static void test_input_dst_ip_broadcast(void **state) {
        Fixture *f = *state;

        assert_int_equal(forwarding(f, "eth0", "255.255.255.255", 8080, GUEST_IP, 80), 0);
        assert_int_equal(f->rule.key.input_dst_ip, UINT32_MAX);
}

/* dst_ip a guest's address in the pools (100.115.92.0 to 100.115.93.255 by default): the
 * first and last guest addresses are ARC's .2 and the last PluginVM /29's .6; a subnet's
 * network, host side and broadcast addresses are nobody's guest. */

static void test_dst_ip_pools_first(void **state) {
        Fixture *f = *state;

        assert_int_equal(forwarding(f, "eth0", "", 8080, "100.115.92.2", 80), 0);
        assert_int_equal(f->rule.dst_ip, IPV4(100, 115, 92, 2));
        assert_refused(f, forwarding(f, "eth0", "", 8080, "100.115.92.0", 80));
        assert_refused(f, forwarding(f, "eth0", "", 8080, "100.115.92.1", 80));
        assert_refused(f, forwarding(f, "eth0", "", 8080, "100.115.92.3", 80));
}

static void test_dst_ip_pools_last(void **state) {
        Fixture *f = *state;

        assert_int_equal(forwarding(f, "eth0", "", 8080, "100.115.93.254", 80), 0);
        assert_int_equal(f->rule.dst_ip, IPV4(100, 115, 93, 254));
        assert_int_equal(forwarding(f, "eth0", "", 8080, "100.115.93.250", 80), 0);
        assert_refused(f, forwarding(f, "eth0", "", 8080, "100.115.93.255", 80));
        assert_refused(f, forwarding(f, "eth0", "", 8080, "100.115.93.249", 80));
        assert_refused(f, forwarding(f, "eth0", "", 8080, "100.115.93.248", 80));
}

/* The netns pool's first guest address, between the Termina and netns pools' edges. */
static void test_dst_ip_netns_pool(void **state) {
        Fixture *f = *state;

        assert_int_equal(forwarding(f, "eth0", "", 8080, "100.115.92.130", 80), 0);
        assert_int_equal(f->rule.dst_ip, IPV4(100, 115, 92, 130));
}

static void test_dst_ip_pluginvm_pool(void **state) {
        Fixture *f = *state;

        assert_int_equal(forwarding(f, "eth0", "", 8080, "100.115.93.2", 80), 0);
        assert_int_equal(f->rule.dst_ip, IPV4(100, 115, 93, 2));
}

static void test_dst_ip_below_pools(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, "100.115.91.255", 80));
}

static void test_dst_ip_above_pools(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, "100.115.94.0", 80));
}

static void test_dst_ip_above_pools_1(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, "100.115.94.1", 80));
}

static void test_dst_ip_documentation(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, "192.0.2.1", 80));
}

static void test_dst_ip_any(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, "0.0.0.0", 80));
}

static void test_dst_ip_loopback(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, "127.0.0.1", 80));
}

static void test_dst_ip_broadcast(void **state) {
        Fixture *f = *state;

        assert_refused(f, forwarding(f, "eth0", "", 8080, "255.255.255.255", 80));
}

/* The pools are the layout's, not a fixed /23. */
static void test_dst_ip_moved_layout(void **state) {
        Fixture *f = *state;

        assert_int_equal(pool_layout_init(&f->pools, IPV4(10, 0, 2, 0)), 0);
        assert_int_equal(forwarding(f, "eth0", "", 8080, "10.0.3.254", 80), 0);
        assert_int_equal(f->rule.dst_ip, IPV4(10, 0, 3, 254));
        assert_refused(f, forwarding(f, "eth0", "", 8080, GUEST_IP, 80));
        assert_refused(f, forwarding(f, "eth0", "", 8080, "10.0.4.0", 80));
}

/* ACCESS and LOCKDOWN drop the addresses, but a malformed one is still refused. */

static void test_access_drops_addresses(void **state) {
        Fixture *f = *state;

        assert_int_equal(request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth0", "192.0.2.1", 22,
                                 GUEST_IP, 80), 0);
        assert_rule(&f->rule, PORT_RULE_ACCESS, PORT_PROTO_TCP, 22, "eth0", 0, 0, 0);
        assert_int_equal(validate(f, &f->rule), 0);
}

/* Outside the pools, but ACCESS does not use it. */
static void test_access_drops_dst_ip_outside_pools(void **state) {
        Fixture *f = *state;

        assert_int_equal(request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth0", "", 22,
                                 "192.0.2.1", 0), 0);
        assert_int_equal(f->rule.dst_ip, 0);
}

static void test_access_bad_input_dst_ip(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth0", "1.2.3", 22, "", 0));
}

static void test_access_bad_dst_ip(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth0", "", 22,
                                  "256.1.1.1", 0));
}

static void test_lockdown_drops_addresses(void **state) {
        Fixture *f = *state;

        assert_int_equal(request(f, PORT_RULE_LOCKDOWN, PORT_PROTO_UDP, "", "192.0.2.1", 5555,
                                 GUEST_IP, 80), 0);
        assert_rule(&f->rule, PORT_RULE_LOCKDOWN, PORT_PROTO_UDP, 5555, "", 0, 0, 0);
        assert_int_equal(validate(f, &f->rule), 0);
}

static void test_lockdown_bad_dst_ip(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_LOCKDOWN, PORT_PROTO_TCP, "", "", 5555,
                                  "1.2.3.4 ", 0));
}

static void test_lockdown_bad_input_dst_ip(void **state) {
        Fixture *f = *state;

        assert_refused(f, request(f, PORT_RULE_LOCKDOWN, PORT_PROTO_TCP, "", "01.2.3.4", 5555,
                                  "", 0));
}

static void test_errbuf_null(void **state) {
        Fixture *f = *state;
        PortRule rule = {};

        assert_int_equal(port_rule_from_request(&f->pools, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth0",
                                                "", 0, "", 0, &rule, NULL), -EINVAL);
        assert_int_equal(port_rule_from_request(&f->pools, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth0",
                                                "", 22, "", 0, &rule, NULL), 0);
}

/* Normalized keys: equal rules compare equal byte by byte, whatever *ret held before */

static void assert_keys_equal(const PortRule *a, const PortRule *b) {
        assert_memory_equal(&a->key, &b->key, sizeof a->key);
}

static void assert_keys_differ(const PortRule *a, const PortRule *b) {
        assert_memory_not_equal(&a->key, &b->key, sizeof a->key);
}

static void test_key_forwarding_zero_padded(void **state) {
        Fixture *f = *state;
        PortRule a, b;

        memset(&a, 0x00, sizeof a);
        memset(&b, 0xff, sizeof b);
        assert_int_equal(port_rule_from_request(&f->pools, PORT_RULE_FORWARDING, PORT_PROTO_TCP,
                                                "eth0", "", 8080, GUEST_IP, 80, &a, &f->err), 0);
        assert_int_equal(port_rule_from_request(&f->pools, PORT_RULE_FORWARDING, PORT_PROTO_TCP,
                                                "eth0", "", 8080, GUEST_IP, 80, &b, &f->err), 0);
        assert_keys_equal(&a, &b);
        assert_ifname(&b.key, "eth0");
}

/* A longer name first, then a shorter one into the same buffer: nothing of it is left. */
static void test_key_ifname_no_leftovers(void **state) {
        Fixture *f = *state;
        PortRule a, b;

        assert_int_equal(request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "abcdefghijklmno", "", 22,
                                 "", 0), 0);
        b = f->rule;
        assert_int_equal(port_rule_from_request(&f->pools, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth0",
                                                "", 22, "", 0, &b, &f->err), 0);
        assert_int_equal(port_rule_from_request(&f->pools, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth0",
                                                "", 22, NULL, 0, &a, &f->err), 0);
        assert_keys_equal(&a, &b);
        assert_ifname(&b.key, "eth0");
}

static void test_key_lockdown_with_and_without_ifname(void **state) {
        Fixture *f = *state;
        PortRule a;

        assert_int_equal(request(f, PORT_RULE_LOCKDOWN, PORT_PROTO_TCP, "eth0", "", 5555, "", 0),
                         0);
        a = f->rule;
        assert_int_equal(request(f, PORT_RULE_LOCKDOWN, PORT_PROTO_TCP, "", "", 5555, "", 0), 0);
        assert_keys_equal(&a, &f->rule);
}

static void test_key_access_with_and_without_addresses(void **state) {
        Fixture *f = *state;
        PortRule a;

        assert_int_equal(request(f, PORT_RULE_ACCESS, PORT_PROTO_UDP, "eth0", "192.0.2.1", 53,
                                 GUEST_IP, 5353), 0);
        a = f->rule;
        assert_int_equal(request(f, PORT_RULE_ACCESS, PORT_PROTO_UDP, "eth0", "", 53, "", 0), 0);
        assert_keys_equal(&a, &f->rule);
        assert_memory_equal(&a, &f->rule, offsetof(PortRule, dst_port) + sizeof a.dst_port);
}

static void test_key_input_dst_ip_any_forms(void **state) {
        Fixture *f = *state;
        PortRule a;

        assert_int_equal(forwarding(f, "eth0", "0.0.0.0", 8080, GUEST_IP, 80), 0);
        a = f->rule;
        assert_int_equal(forwarding(f, "eth0", "", 8080, GUEST_IP, 80), 0);
        assert_keys_equal(&a, &f->rule);
        assert_int_equal(forwarding(f, "eth0", NULL, 8080, GUEST_IP, 80), 0);
        assert_keys_equal(&a, &f->rule);
}

/* The destination is the rule's value, not its key. */
static void test_key_forwarding_destination_not_in_key(void **state) {
        Fixture *f = *state;
        PortRule a;

        assert_int_equal(forwarding(f, "eth0", "", 8080, GUEST_IP, 80), 0);
        a = f->rule;
        assert_int_equal(forwarding(f, "eth0", "", 8080, "100.115.92.130", 8080), 0);
        assert_keys_equal(&a, &f->rule);
}

static void test_key_differs_by_proto(void **state) {
        Fixture *f = *state;
        PortRule a;

        assert_int_equal(request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth0", "", 22, "", 0), 0);
        a = f->rule;
        assert_int_equal(request(f, PORT_RULE_ACCESS, PORT_PROTO_UDP, "eth0", "", 22, "", 0), 0);
        assert_keys_differ(&a, &f->rule);
}

static void test_key_differs_by_type(void **state) {
        Fixture *f = *state;
        PortRule a;

        assert_int_equal(request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "", "", 22, "", 0), 0);
        a = f->rule;
        assert_int_equal(request(f, PORT_RULE_LOCKDOWN, PORT_PROTO_TCP, "", "", 22, "", 0), 0);
        assert_keys_differ(&a, &f->rule);
}

static void test_key_differs_by_ifname(void **state) {
        Fixture *f = *state;
        PortRule a;

        assert_int_equal(request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth0", "", 22, "", 0), 0);
        a = f->rule;
        assert_int_equal(request(f, PORT_RULE_ACCESS, PORT_PROTO_TCP, "eth1", "", 22, "", 0), 0);
        assert_keys_differ(&a, &f->rule);
}

static void test_key_differs_by_input_dst_ip(void **state) {
        Fixture *f = *state;
        PortRule a;

        assert_int_equal(forwarding(f, "eth0", "192.0.2.1", 8080, GUEST_IP, 80), 0);
        a = f->rule;
        assert_int_equal(forwarding(f, "eth0", "192.0.2.2", 8080, GUEST_IP, 80), 0);
        assert_keys_differ(&a, &f->rule);
}

/* port_rule_validate(): the helper's check of a rule in normalized form */

static void test_validate_forwarding_ok(void **state) {
        Fixture *f = *state;
        PortRule rule = good_forwarding();

        assert_int_equal(validate(f, &rule), 0);
}

static void test_validate_access_ok(void **state) {
        Fixture *f = *state;
        PortRule rule = good_access();

        assert_int_equal(validate(f, &rule), 0);
}

static void test_validate_access_every_uplink_ok(void **state) {
        Fixture *f = *state;
        PortRule rule = good_access();

        memset(rule.key.ifname, 0, sizeof rule.key.ifname);
        assert_int_equal(validate(f, &rule), 0);
}

static void test_validate_lockdown_ok(void **state) {
        Fixture *f = *state;
        PortRule rule = good_lockdown();

        assert_int_equal(validate(f, &rule), 0);
}

static void test_validate_forwarding_input_dst_ip_ok(void **state) {
        Fixture *f = *state;
        PortRule rule = good_forwarding();

        rule.key.input_dst_ip = IPV4(192, 0, 2, 1);
        assert_int_equal(validate(f, &rule), 0);
}

static void test_validate_ifname_not_zero_padded(void **state) {
        Fixture *f = *state;
        PortRule rule = good_forwarding();

        rule.key.ifname[6] = 'x'; /* "eth0\0\0x" */
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_ifname_garbage_in_last_byte(void **state) {
        Fixture *f = *state;
        PortRule rule = good_access();

        rule.key.ifname[IFNAMSIZ - 1] = 1;
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_ifname_empty_not_zero_padded(void **state) {
        Fixture *f = *state;
        PortRule rule = good_access();

        memset(rule.key.ifname, 0, sizeof rule.key.ifname);
        rule.key.ifname[1] = 'x';
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_ifname_not_terminated(void **state) {
        Fixture *f = *state;
        PortRule rule = good_forwarding();

        memset(rule.key.ifname, 'a', sizeof rule.key.ifname);
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_ifname_malformed(void **state) {
        Fixture *f = *state;
        PortRule rule = good_forwarding();

        strcpy(rule.key.ifname, "eth_0");
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_access_ifname_malformed(void **state) {
        Fixture *f = *state;
        PortRule rule = good_access();

        strcpy(rule.key.ifname, "-eth0");
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_lockdown_with_ifname(void **state) {
        Fixture *f = *state;
        PortRule rule = good_lockdown();

        strcpy(rule.key.ifname, "lo");
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_lockdown_with_dst_ip(void **state) {
        Fixture *f = *state;
        PortRule rule = good_lockdown();

        rule.dst_ip = IPV4(100, 115, 92, 26);
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_access_with_input_dst_ip(void **state) {
        Fixture *f = *state;
        PortRule rule = good_access();

        rule.key.input_dst_ip = IPV4(192, 0, 2, 1);
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_access_with_dst_ip(void **state) {
        Fixture *f = *state;
        PortRule rule = good_access();

        rule.dst_ip = IPV4(100, 115, 92, 26);
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_access_with_dst_port(void **state) {
        Fixture *f = *state;
        PortRule rule = good_access();

        rule.dst_port = 80;
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_type_0(void **state) {
        Fixture *f = *state;
        PortRule rule = good_access();

        rule.key.type = 0;
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_type_4(void **state) {
        Fixture *f = *state;
        PortRule rule = good_lockdown();

        rule.key.type = 4;
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_type_255(void **state) {
        Fixture *f = *state;
        PortRule rule = good_lockdown();

        rule.key.type = 255;
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_proto_0(void **state) {
        Fixture *f = *state;
        PortRule rule = good_forwarding();

        rule.key.proto = 0;
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_proto_3(void **state) {
        Fixture *f = *state;
        PortRule rule = good_access();

        rule.key.proto = 3;
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_proto_ipproto_tcp(void **state) {
        Fixture *f = *state;
        PortRule rule = good_access();

        rule.key.proto = 6;
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_port_0(void **state) {
        Fixture *f = *state;
        PortRule rule = good_lockdown();

        rule.key.port = 0;
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_port_65535(void **state) {
        Fixture *f = *state;
        PortRule rule = good_forwarding();

        rule.key.port = 65535;
        rule.dst_port = 65535;
        assert_int_equal(validate(f, &rule), 0);
}

static void test_validate_forwarding_no_ifname(void **state) {
        Fixture *f = *state;
        PortRule rule = good_forwarding();

        memset(rule.key.ifname, 0, sizeof rule.key.ifname);
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_forwarding_dst_port_0(void **state) {
        Fixture *f = *state;
        PortRule rule = good_forwarding();

        rule.dst_port = 0;
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_forwarding_dst_ip_0(void **state) {
        Fixture *f = *state;
        PortRule rule = good_forwarding();

        rule.dst_ip = 0;
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_forwarding_dst_ip_below_pools(void **state) {
        Fixture *f = *state;
        PortRule rule = good_forwarding();

        rule.dst_ip = IPV4(100, 115, 91, 255);
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_forwarding_dst_ip_above_pools(void **state) {
        Fixture *f = *state;
        PortRule rule = good_forwarding();

        rule.dst_ip = IPV4(100, 115, 94, 1);
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_forwarding_dst_ip_pools_edges(void **state) {
        Fixture *f = *state;
        PortRule rule = good_forwarding();

        rule.dst_ip = IPV4(100, 115, 92, 2);
        assert_int_equal(validate(f, &rule), 0);
        rule.dst_ip = IPV4(100, 115, 93, 254);
        assert_int_equal(validate(f, &rule), 0);
        rule.dst_ip = IPV4(100, 115, 92, 0);
        assert_validate_refused(f, validate(f, &rule));
        rule.dst_ip = IPV4(100, 115, 93, 255);
        assert_validate_refused(f, validate(f, &rule));
}

static void test_validate_errbuf_null(void **state) {
        Fixture *f = *state;
        PortRule rule = good_lockdown();

        rule.key.port = 0;
        assert_int_equal(port_rule_validate(&f->pools, &rule, NULL), -EINVAL);
}

/* port_rule_to_string() and the enums' names */

static void test_to_string_forwarding(void **state) {
        PortRule rule = good_forwarding();
        char buf[128];

        (void) state;
        assert_string_equal(port_rule_to_string(&rule, buf, sizeof buf),
                            "FORWARDING tcp eth0:8080 -> 100.115.92.26:80");
}

static void test_to_string_forwarding_input_dst_ip(void **state) {
        PortRule rule = good_forwarding();
        char buf[128];

        (void) state;
        rule.key.proto = PORT_PROTO_UDP;
        rule.key.input_dst_ip = IPV4(192, 0, 2, 1);
        assert_string_equal(port_rule_to_string(&rule, buf, sizeof buf),
                            "FORWARDING udp eth0/192.0.2.1:8080 -> 100.115.92.26:80");
}

static void test_to_string_access(void **state) {
        PortRule rule = good_access();
        char buf[128];

        (void) state;
        assert_string_equal(port_rule_to_string(&rule, buf, sizeof buf), "ACCESS udp wlan0:53");
}

static void test_to_string_access_every_uplink(void **state) {
        PortRule rule = good_access();
        char buf[128];

        (void) state;
        memset(rule.key.ifname, 0, sizeof rule.key.ifname);
        assert_string_equal(port_rule_to_string(&rule, buf, sizeof buf), "ACCESS udp *:53");
}

static void test_to_string_lockdown(void **state) {
        PortRule rule = good_lockdown();
        char buf[128];

        (void) state;
        assert_string_equal(port_rule_to_string(&rule, buf, sizeof buf), "LOCKDOWN tcp *:5555");
}

static void test_to_string_invalid(void **state) {
        PortRule rule = good_lockdown();
        char buf[128];

        (void) state;
        rule.key.type = 9;
        rule.key.proto = 9;
        assert_string_equal(port_rule_to_string(&rule, buf, sizeof buf),
                            "INVALID invalid *:5555");
}

static void test_to_string_longest(void **state) {
        PortRule rule = good_forwarding();
        char buf[128];

        (void) state;
        strcpy(rule.key.ifname, "abcdefghijklmno");
        rule.key.port = 65535;
        rule.key.input_dst_ip = UINT32_MAX;
        rule.dst_ip = IPV4(100, 115, 93, 255);
        rule.dst_port = 65535;
        assert_string_equal(port_rule_to_string(&rule, buf, sizeof buf),
                            "FORWARDING tcp abcdefghijklmno/255.255.255.255:65535 -> "
                            "100.115.93.255:65535");
}

static void test_to_string_truncated(void **state) {
        PortRule rule = good_forwarding();
        char buf[9];

        (void) state;
        memset(buf, 'x', sizeof buf);
        assert_ptr_equal(port_rule_to_string(&rule, buf, sizeof buf), buf);
        assert_string_equal(buf, "FORWARDI");
}

static void test_type_to_string(void **state) {
        (void) state;
        assert_string_equal(port_rule_type_to_string(PORT_RULE_ACCESS), "ACCESS");
        assert_string_equal(port_rule_type_to_string(PORT_RULE_LOCKDOWN), "LOCKDOWN");
        assert_string_equal(port_rule_type_to_string(PORT_RULE_FORWARDING), "FORWARDING");
}

static void test_type_to_string_invalid(void **state) {
        (void) state;
        assert_string_equal(port_rule_type_to_string(0), "INVALID");
        assert_string_equal(port_rule_type_to_string(4), "INVALID");
        assert_string_equal(port_rule_type_to_string(-EINVAL), "INVALID");
}

static void test_proto_to_string(void **state) {
        (void) state;
        assert_string_equal(port_proto_to_string(PORT_PROTO_TCP), "tcp");
        assert_string_equal(port_proto_to_string(PORT_PROTO_UDP), "udp");
}

static void test_proto_to_string_invalid(void **state) {
        (void) state;
        assert_string_equal(port_proto_to_string(0), "invalid");
        assert_string_equal(port_proto_to_string(3), "invalid");
        assert_string_equal(port_proto_to_string(6), "invalid");
        assert_string_equal(port_proto_to_string(-EINVAL), "invalid");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_access_tcp),
                T(test_access_udp),
                T(test_access_every_uplink),
                T(test_access_null_strings),
                T(test_lockdown_tcp),
                T(test_lockdown_udp),
                T(test_forwarding_tcp),
                T(test_forwarding_udp),
                T(test_forwarding_input_dst_ip),
                T(test_forwarding_input_dst_ip_null),
                T(test_type_0),
                T(test_type_4),
                T(test_type_negative),
                T(test_type_257),
                T(test_type_int_max),
                T(test_proto_0),
                T(test_proto_3),
                T(test_proto_ipproto_tcp),
                T(test_proto_ipproto_udp),
                T(test_proto_257),
                T(test_proto_negative),
                T(test_port_0),
                T(test_port_1),
                T(test_port_65535),
                T(test_port_65536),
                T(test_port_65537),
                T(test_port_65558),
                T(test_port_uint32_max),
                T(test_port_forwarding_0),
                T(test_port_forwarding_65537),
                T(test_dst_port_0),
                T(test_dst_port_1),
                T(test_dst_port_65535),
                T(test_dst_port_65536),
                T(test_dst_port_65537),
                T(test_dst_port_uint32_max),
                T(test_dst_port_access_ignored),
                T(test_dst_port_access_65537),
                T(test_dst_port_lockdown_65536),
                T(test_ifname_valid_simple),
                T(test_ifname_valid_one_char),
                T(test_ifname_valid_digit_first),
                T(test_ifname_valid_15_chars),
                T(test_ifname_valid_vlan_dot),
                T(test_ifname_valid_dash_inside),
                T(test_ifname_valid_upper),
                T(test_ifname_null),
                T(test_ifname_empty),
                T(test_ifname_16_chars),
                T(test_ifname_long),
                T(test_ifname_leading_dash),
                T(test_ifname_trailing_dash),
                T(test_ifname_leading_dot),
                T(test_ifname_trailing_dot),
                T(test_ifname_dot),
                T(test_ifname_dotdot),
                T(test_ifname_dash),
                T(test_ifname_underscore),
                T(test_ifname_slash),
                T(test_ifname_space),
                T(test_ifname_trailing_space),
                T(test_ifname_double_quote),
                T(test_ifname_single_quote),
                T(test_ifname_colon),
                T(test_ifname_newline),
                T(test_ifname_non_ascii),
                T(test_ifname_wildcard),
                T(test_request_ifname_15_chars),
                T(test_request_ifname_16_chars),
                T(test_request_ifname_16_chars_access),
                T(test_request_ifname_leading_dash),
                T(test_request_ifname_trailing_dot),
                T(test_request_ifname_underscore),
                T(test_request_ifname_slash),
                T(test_request_ifname_space),
                T(test_request_ifname_quote),
                T(test_request_lockdown_drops_ifname),
                T(test_request_lockdown_bad_ifname),
                T(test_request_lockdown_16_chars),
                T(test_forwarding_ifname_empty),
                T(test_forwarding_ifname_null),
                T(test_forwarding_dst_ip_empty),
                T(test_forwarding_dst_ip_null),
                T(test_dst_ip_three_parts),
                T(test_dst_ip_inet_aton_shorthand),
                T(test_dst_ip_trailing_space),
                T(test_dst_ip_leading_space),
                T(test_dst_ip_trailing_newline),
                T(test_dst_ip_leading_zero),
                T(test_dst_ip_octet_256),
                T(test_dst_ip_five_parts),
                T(test_dst_ip_hex),
                T(test_dst_ip_with_prefix),
                T(test_dst_ip_with_port),
                T(test_dst_ip_ipv6),
                T(test_input_dst_ip_three_parts),
                T(test_input_dst_ip_trailing_space),
                T(test_input_dst_ip_leading_zero),
                T(test_input_dst_ip_octet_256),
                T(test_input_dst_ip_zero),
                T(test_input_dst_ip_broadcast),
                T(test_dst_ip_pools_first),
                T(test_dst_ip_pools_last),
                T(test_dst_ip_netns_pool),
                T(test_dst_ip_pluginvm_pool),
                T(test_dst_ip_below_pools),
                T(test_dst_ip_above_pools),
                T(test_dst_ip_above_pools_1),
                T(test_dst_ip_documentation),
                T(test_dst_ip_any),
                T(test_dst_ip_loopback),
                T(test_dst_ip_broadcast),
                T(test_dst_ip_moved_layout),
                T(test_access_drops_addresses),
                T(test_access_drops_dst_ip_outside_pools),
                T(test_access_bad_input_dst_ip),
                T(test_access_bad_dst_ip),
                T(test_lockdown_drops_addresses),
                T(test_lockdown_bad_dst_ip),
                T(test_lockdown_bad_input_dst_ip),
                T(test_errbuf_null),
                T(test_key_forwarding_zero_padded),
                T(test_key_ifname_no_leftovers),
                T(test_key_lockdown_with_and_without_ifname),
                T(test_key_access_with_and_without_addresses),
                T(test_key_input_dst_ip_any_forms),
                T(test_key_forwarding_destination_not_in_key),
                T(test_key_differs_by_proto),
                T(test_key_differs_by_type),
                T(test_key_differs_by_ifname),
                T(test_key_differs_by_input_dst_ip),
                T(test_validate_forwarding_ok),
                T(test_validate_access_ok),
                T(test_validate_access_every_uplink_ok),
                T(test_validate_lockdown_ok),
                T(test_validate_forwarding_input_dst_ip_ok),
                T(test_validate_ifname_not_zero_padded),
                T(test_validate_ifname_garbage_in_last_byte),
                T(test_validate_ifname_empty_not_zero_padded),
                T(test_validate_ifname_not_terminated),
                T(test_validate_ifname_malformed),
                T(test_validate_access_ifname_malformed),
                T(test_validate_lockdown_with_ifname),
                T(test_validate_lockdown_with_dst_ip),
                T(test_validate_access_with_input_dst_ip),
                T(test_validate_access_with_dst_ip),
                T(test_validate_access_with_dst_port),
                T(test_validate_type_0),
                T(test_validate_type_4),
                T(test_validate_type_255),
                T(test_validate_proto_0),
                T(test_validate_proto_3),
                T(test_validate_proto_ipproto_tcp),
                T(test_validate_port_0),
                T(test_validate_port_65535),
                T(test_validate_forwarding_no_ifname),
                T(test_validate_forwarding_dst_port_0),
                T(test_validate_forwarding_dst_ip_0),
                T(test_validate_forwarding_dst_ip_below_pools),
                T(test_validate_forwarding_dst_ip_above_pools),
                T(test_validate_forwarding_dst_ip_pools_edges),
                T(test_validate_errbuf_null),
                T(test_to_string_forwarding),
                T(test_to_string_forwarding_input_dst_ip),
                T(test_to_string_access),
                T(test_to_string_access_every_uplink),
                T(test_to_string_lockdown),
                T(test_to_string_invalid),
                T(test_to_string_longest),
                T(test_to_string_truncated),
                T(test_type_to_string),
                T(test_type_to_string_invalid),
                T(test_proto_to_string),
                T(test_proto_to_string_invalid),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
