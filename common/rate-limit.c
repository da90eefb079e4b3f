/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rate-limit.h"

static const char *const protocols[RATE_LIMIT_N_PROTOCOLS] = RATE_LIMIT_PROTOCOLS;

int rate_limit_check(RateLimit r, ErrBuf *err) {
        if (r.per_sec > RATE_LIMIT_MAX || r.burst > RATE_LIMIT_MAX || (r.per_sec > 0 && r.burst == 0))
                return errbuf_set(err, -EINVAL, "rates are whole numbers up to 1000000, a burst "
                                  "of at least 1");
        return 0;
}

/* A whole number of at most RATE_LIMIT_MAX (larger ones are refused by the check). */
static int parse_count(const char *s, const char **ret_end, uint32_t *ret) {
        unsigned long v;
        char *end;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || v > RATE_LIMIT_MAX + 1ul)
                v = RATE_LIMIT_MAX + 1ul;
        *ret = (uint32_t) v;
        *ret_end = end;
        return 0;
}

int rate_limit_option_parse(const Option *o, const char *arg, ErrBuf *err) {
        RateLimits *limits = o->data;
        RateLimit r;
        size_t p;
        int e = rate_limit_parse(arg, &p, &r, err);

        if (e < 0)
                return e;
        limits->rate[p] = r;
        limits->set[p] = true;
        return 0;
}

int rate_limit_parse(const char *arg, size_t *ret_protocol, RateLimit *ret, ErrBuf *err) {
        const char *eq = strchr(arg, '='), *end;
        RateLimit r;
        size_t p;
        int e;

        if (!eq || parse_count(eq + 1, &end, &r.per_sec) < 0)
                return errbuf_set(err, -EINVAL, "expected PROTO=PER_SEC[/BURST]");
        r.burst = r.per_sec;
        if (*end == '/' && parse_count(end + 1, &end, &r.burst) < 0)
                return errbuf_set(err, -EINVAL, "expected PROTO=PER_SEC[/BURST]");
        if (*end != '\0')
                return errbuf_set(err, -EINVAL, "expected PROTO=PER_SEC[/BURST]");
        e = rate_limit_check(r, err);
        if (e < 0)
                return e;
        for (p = 0; p < RATE_LIMIT_N_PROTOCOLS; p++)
                if (strlen(protocols[p]) == (size_t) (eq - arg) &&
                    strncmp(arg, protocols[p], (size_t) (eq - arg)) == 0)
                        break;
        if (p == RATE_LIMIT_N_PROTOCOLS)
                return errbuf_set(err, -EINVAL, "the protocol is mdns, ssdp or broadcast");
        *ret_protocol = p;
        *ret = r;
        return 0;
}
