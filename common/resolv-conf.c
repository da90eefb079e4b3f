/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "resolv-conf.h"

/* The longest address token: an IPv6 address, '%', an interface name. */
#define TOKEN_MAX (INET6_ADDRSTRLEN + 1 + IFNAMSIZ)

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* One token of [p, end) into buf after blanks; false when there is none or it is too long
 * to be an address. *p moves past it. */
static bool next_token(const char **p, const char *end, char buf[static TOKEN_MAX]) {
        const char *s = *p;
        size_t n;

        while (s < end && is_blank(*s))
                s++;
        for (n = 0; s + n < end && !is_blank(s[n]); n++)
                ;
        *p = s + n;
        if (n == 0 || n >= TOKEN_MAX)
                return false;
        memcpy(buf, s, n);
        buf[n] = '\0';
        return true;
}

/* "ADDRESS" or "ADDRESS%SCOPE" (IPv6 only) into a server; false if it is neither. */
static bool parse_server(char *token, DnsServer *ret) {
        DnsServer s = {};
        char *pct = strchr(token, '%');

        if (pct) {
                size_t n = strlen(pct + 1);
                if (n == 0 || n >= sizeof s.scope)
                        return false;
                memcpy(s.scope, pct + 1, n + 1);
                *pct = '\0';
        }
        if (inet_pton(AF_INET6, token, s.addr) == 1)
                s.family = AF_INET6;
        else if (!pct && inet_pton(AF_INET, token, s.addr) == 1)
                s.family = AF_INET;
        else
                return false;
        *ret = s;
        return true;
}

size_t resolv_conf_parse(const char *text, size_t len, DnsServer *ret, size_t max) {
        static const char keyword[] = "nameserver";
        const size_t klen = sizeof keyword - 1;
        const char *p = text, *end = text + len;
        size_t n = 0;

        while (p < end && n < max) {
                const char *eol = p;
                char token[TOKEN_MAX];

                while (eol < end && *eol != '\n' && *eol != '\0')
                        eol++;
                /* The keyword starts the line (as glibc wants it), then at least one blank. */
                if ((size_t) (eol - p) > klen && memcmp(p, keyword, klen) == 0 &&
                    is_blank(p[klen])) {
                        const char *q = p + klen;
                        if (next_token(&q, eol, token) && parse_server(token, &ret[n]))
                                n++;
                }
                p = eol < end ? eol + 1 : end;
        }
        return n;
}

int dns_server_from_resolved(int ifindex, int family, const void *bytes, size_t len,
                             DnsServer *ret) {
        DnsServer s = { .family = family, .ifindex = ifindex };

        if (ifindex < 0)
                return -EINVAL;
        if (family != AF_INET && family != AF_INET6)
                return -EAFNOSUPPORT;
        if (len != (family == AF_INET ? 4u : 16u))
                return -EBADMSG;
        memcpy(s.addr, bytes, len);
        *ret = s;
        return 0;
}

bool dns_servers_equal(const DnsServer *a, size_t n_a, const DnsServer *b, size_t n_b) {
        if (n_a != n_b)
                return false;
        for (size_t i = 0; i < n_a; i++)
                if (a[i].family != b[i].family || memcmp(a[i].addr, b[i].addr, 16) != 0 ||
                    strcmp(a[i].scope, b[i].scope) != 0 || a[i].ifindex != b[i].ifindex)
                        return false;
        return true;
}
