/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resolv.conf's name servers (common/resolv-conf.c). Input: the file's bytes.
 *
 * What must hold: at most the number asked for; each server IPv4 or IPv6, a scope only on
 * an IPv6 one and NUL-terminated within its field; parsing the same bytes with room for
 * fewer gives a prefix of the same list.
 */
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "resolv-conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        DnsServer all[RESOLV_CONF_SERVERS_MAX], few[2];
        size_t n, m;

        n = resolv_conf_parse((const char *) data, size, all, RESOLV_CONF_SERVERS_MAX);
        FUZZ_CHECK(n <= RESOLV_CONF_SERVERS_MAX);
        for (size_t i = 0; i < n; i++) {
                FUZZ_CHECK(all[i].family == AF_INET || all[i].family == AF_INET6);
                FUZZ_CHECK(strnlen(all[i].scope, sizeof all[i].scope) < sizeof all[i].scope);
                FUZZ_CHECK(all[i].family == AF_INET6 || all[i].scope[0] == '\0');
        }
        m = resolv_conf_parse((const char *) data, size, few, 2);
        FUZZ_CHECK(m == (n < 2 ? n : 2));
        FUZZ_CHECK(dns_servers_equal(all, m, few, m));
        return 0;
}
