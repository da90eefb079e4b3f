/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * common/resolv-conf.h: the name servers of a resolv.conf text as the C library's resolver
 * reads them. Cases differ only in data: one table of texts and the servers expected, in
 * order, each written as the address and scope they must decode to. And the entries of
 * systemd-resolved's DNS property as servers (dns_server_from_resolved()).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "macro.h"
#include "resolv-conf.h"

typedef struct Case {
        const char *name;
        const char *text;
        size_t len;               /* 0: strlen(text) */
        size_t max;               /* 0: RESOLV_CONF_SERVERS_MAX */
        const char *expected[RESOLV_CONF_SERVERS_MAX + 1]; /* "ADDR" or "ADDR%SCOPE", NULL-ended */
} Case;

static const Case cases[] = {
        { "empty", "", 0, 0, { NULL } },
        { "one IPv4", "nameserver 192.0.2.53\n", 0, 0, { "192.0.2.53", NULL } },
        { "no final newline", "nameserver 192.0.2.53", 0, 0, { "192.0.2.53", NULL } },
        { "CRLF", "nameserver 192.0.2.53\r\nnameserver 192.0.2.54\r\n", 0, 0,
          { "192.0.2.53", "192.0.2.54", NULL } },
        { "tab after the keyword", "nameserver\t192.0.2.53\n", 0, 0, { "192.0.2.53", NULL } },
        { "blanks after the address", "nameserver  192.0.2.53 \t \n", 0, 0, { "192.0.2.53", NULL } },
        { "trailing words ignored", "nameserver 192.0.2.53 # the lan\n", 0, 0, { "192.0.2.53", NULL } },
        { "IPv6", "nameserver 2001:db8::53\n", 0, 0, { "2001:db8::53", NULL } },
        { "IPv6 scoped by name", "nameserver fe80::1%eth0\n", 0, 0, { "fe80::1%eth0", NULL } },
        { "IPv6 scoped by index", "nameserver fe80::1%3\n", 0, 0, { "fe80::1%3", NULL } },
        { "order kept, families mixed",
          "search example.org\nnameserver 192.0.2.1\noptions edns0\nnameserver 2001:db8::1\n"
          "nameserver 198.51.100.1\n", 0, 0,
          { "192.0.2.1", "2001:db8::1", "198.51.100.1", NULL } },
        { "comment with #", "# nameserver 192.0.2.1\nnameserver 192.0.2.2\n", 0, 0,
          { "192.0.2.2", NULL } },
        { "comment with ;", "; nameserver 192.0.2.1\n", 0, 0, { NULL } },
        { "keyword not first on its line", " nameserver 192.0.2.1\n", 0, 0, { NULL } },
        { "keyword glued to the address", "nameserver192.0.2.1\n", 0, 0, { NULL } },
        { "keyword alone", "nameserver\n", 0, 0, { NULL } },
        { "keyword and blanks alone", "nameserver   \n", 0, 0, { NULL } },
        { "longer keyword", "nameservers 192.0.2.1\n", 0, 0, { NULL } },
        { "keyword in capitals", "NAMESERVER 192.0.2.1\n", 0, 0, { NULL } },
        { "not an address", "nameserver resolver.example\nnameserver 192.0.2.9\n", 0, 0,
          { "192.0.2.9", NULL } },
        { "IPv4 shorthand", "nameserver 10.1\n", 0, 0, { NULL } },
        { "IPv4 out of range", "nameserver 192.0.2.256\n", 0, 0, { NULL } },
        { "IPv4 with a scope", "nameserver 192.0.2.1%eth0\n", 0, 0, { NULL } },
        { "empty scope", "nameserver fe80::1%\n", 0, 0, { NULL } },
        { "scope too long", "nameserver fe80::1%abcdefghijklmnop\n", 0, 0, { NULL } },
        { "scope of 15 characters", "nameserver fe80::1%abcdefghijklmno\n", 0, 0,
          { "fe80::1%abcdefghijklmno", NULL } },
        { "full IPv6 address, scope of 16 characters",
          "nameserver 2001:0db8:0000:0000:0000:0000:0000:0053%abcdefghijklmno0\n", 0, 0, { NULL } },
        { "token of 100 characters",
          "nameserver 1111111111111111111111111111111111111111111111111111111111111111111111111"
          "111111111111111111111111111\nnameserver 192.0.2.8\n", 0, 0, { "192.0.2.8", NULL } },
        { "NUL ends the line", "nameserver 192.0.2.1\0garbage\nnameserver 192.0.2.2\n", 50, 0,
          { "192.0.2.1", "192.0.2.2", NULL } },
        { "NUL inside the address", "nameserver 192.0\0.2.1\n", 22, 0, { NULL } },
        { "length cuts the address", "nameserver 192.0.2.123\n", 21, 0, { "192.0.2.12", NULL } },
        { "length cuts the keyword", "nameserver 192.0.2.1\n", 10, 0, { NULL } },
        { "max kept", "nameserver 192.0.2.1\nnameserver 192.0.2.2\nnameserver 192.0.2.3\n", 0, 2,
          { "192.0.2.1", "192.0.2.2", NULL } },
        { "one line of a megabyte of blanks, then a server", NULL, 0, 0, { "192.0.2.7", NULL } },
};

/* "ADDR" or "ADDR%SCOPE" of a parsed server. */
static void format(const DnsServer *s, char *buf, size_t size) {
        char a[INET6_ADDRSTRLEN];

        assert_non_null(inet_ntop(s->family, s->addr, a, sizeof a));
        snprintf(buf, size, "%s%s%s", a, s->scope[0] ? "%" : "", s->scope);
}

static void test_table(void **state) {
        static char big[1 << 20];

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const Case *c = &cases[i];
                DnsServer got[RESOLV_CONF_SERVERS_MAX];
                const char *text = c->text;
                size_t len = c->len, n, want = 0;

                if (!text) {
                        static const char tail[] = "\nnameserver 192.0.2.7\n";
                        memset(big, ' ', sizeof big);
                        memcpy(big + sizeof big - sizeof tail, tail, sizeof tail - 1);
                        text = big;
                        len = sizeof big - 1;
                } else if (len == 0)
                        len = strlen(text);
                memset(got, 0xa5, sizeof got);
                n = resolv_conf_parse(text, len, got, c->max ?: RESOLV_CONF_SERVERS_MAX);
                while (c->expected[want])
                        want++;
                if (n != want)
                        fail_msg("%s: %zu servers, expected %zu", c->name, n, want);
                for (size_t k = 0; k < n; k++) {
                        char buf[96];
                        format(&got[k], buf, sizeof buf);
                        if (strcmp(buf, c->expected[k]) != 0)
                                fail_msg("%s: server %zu is %s, expected %s", c->name, k, buf,
                                         c->expected[k]);
                }
        }
}

static void test_more_than_max_kept(void **state) {
        char text[RESOLV_CONF_SERVERS_MAX * 32 + 64] = "";
        DnsServer got[RESOLV_CONF_SERVERS_MAX];

        (void) state;
        for (unsigned i = 1; i <= RESOLV_CONF_SERVERS_MAX + 3; i++)
                snprintf(text + strlen(text), sizeof text - strlen(text), "nameserver 192.0.2.%u\n", i);
        assert_int_equal(resolv_conf_parse(text, strlen(text), got, RESOLV_CONF_SERVERS_MAX),
                         RESOLV_CONF_SERVERS_MAX);
        assert_int_equal(got[RESOLV_CONF_SERVERS_MAX - 1].addr[3], RESOLV_CONF_SERVERS_MAX);
}

static void test_equal(void **state) {
        DnsServer a[2], b[2];
        const char *text = "nameserver 192.0.2.1\nnameserver fe80::1%eth0\n";

        (void) state;
        assert_int_equal(resolv_conf_parse(text, strlen(text), a, 2), 2);
        assert_int_equal(resolv_conf_parse(text, strlen(text), b, 2), 2);
        assert_true(dns_servers_equal(a, 2, b, 2));
        assert_false(dns_servers_equal(a, 2, b, 1));
        assert_true(dns_servers_equal(a, 0, NULL, 0));
        snprintf(b[1].scope, sizeof b[1].scope, "eth1");
        assert_false(dns_servers_equal(a, 2, b, 2));
        b[1] = a[1];
        b[0].addr[3] = 2;
        assert_false(dns_servers_equal(a, 2, b, 2));
        /* The same address, a server of one link rather than of any. */
        b[0] = a[0];
        assert_true(dns_servers_equal(a, 2, b, 2));
        b[0].ifindex = 2;
        assert_false(dns_servers_equal(a, 2, b, 2));
}

/* systemd-resolved's entries: (ifindex, family, bytes) checked, then taken as they are. */
static void test_from_resolved(void **state) {
        static const uint8_t v4[4] = { 192, 0, 2, 53 };
        static const uint8_t v6[16] = { 0xfe, 0x80, [15] = 0x53 };
        static const struct {
                int ifindex, family;
                const uint8_t *bytes;
                size_t len;
                int error;
        } cases[] = {
                { 0, AF_INET, v4, 4, 0 },           /* global */
                { 2, AF_INET, v4, 4, 0 },           /* of link 2 */
                { 2, AF_INET6, v6, 16, 0 },
                { 2, AF_INET, v6, 16, -EBADMSG },   /* IPv4 of 16 bytes */
                { 2, AF_INET6, v4, 4, -EBADMSG },   /* IPv6 of 4 bytes */
                { 2, AF_INET, v4, 3, -EBADMSG },
                { 2, AF_INET, v4, 0, -EBADMSG },
                { 2, AF_INET6, v6, 15, -EBADMSG },
                { 2, AF_UNSPEC, v4, 4, -EAFNOSUPPORT },
                { 2, AF_UNIX, v6, 16, -EAFNOSUPPORT },
                { -1, AF_INET, v4, 4, -EINVAL },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                DnsServer got, untouched;
                int r;

                memset(&got, 0xa5, sizeof got);
                untouched = got;
                r = dns_server_from_resolved(cases[i].ifindex, cases[i].family, cases[i].bytes,
                                             cases[i].len, &got);
                if (r != cases[i].error)
                        fail_msg("case %zu: %d, expected %d", i, r, cases[i].error);
                if (r < 0) {
                        assert_memory_equal(&got, &untouched, sizeof got);
                        continue;
                }
                assert_int_equal(got.family, cases[i].family);
                assert_int_equal(got.ifindex, cases[i].ifindex);
                assert_memory_equal(got.addr, cases[i].bytes, cases[i].len);
                assert_string_equal(got.scope, "");
                if (cases[i].len == 4)
                        for (size_t k = 4; k < sizeof got.addr; k++)
                                assert_int_equal(got.addr[k], 0);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_more_than_max_kept),
                cmocka_unit_test(test_equal),
                cmocka_unit_test(test_from_resolved),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
