/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * common/rate-limit.h: NAME=PER_SEC[/BURST], as mcastd's --rate-limit and patchpaneld's
 * --mcast-rate-limit read it. One table of texts, each with what it must give or the reason
 * it is refused for.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "macro.h"
#include "rate-limit.h"

typedef struct Case {
        const char *text;
        int r;
        size_t protocol;
        uint32_t per_sec, burst;
        const char *reason;
} Case;

#define SYNTAX "expected PROTO=PER_SEC[/BURST]"
#define RANGE "rates are whole numbers up to 1000000, a burst of at least 1"

static const Case cases[] = {
        { "mdns=50", 0, 0, 50, 50, NULL },
        { "ssdp=50/10", 0, 1, 50, 10, NULL },
        { "broadcast=0", 0, 2, 0, 0, NULL },
        { "broadcast=0/0", 0, 2, 0, 0, NULL },
        { "mdns=1000000/1000000", 0, 0, 1000000, 1000000, NULL },
        { "mdns=1000001", -EINVAL, 0, 0, 0, RANGE },
        { "mdns=5/1000001", -EINVAL, 0, 0, 0, RANGE },
        { "mdns=99999999999999999999999", -EINVAL, 0, 0, 0, RANGE },
        { "mdns=5/0", -EINVAL, 0, 0, 0, RANGE },
        { "mdns", -EINVAL, 0, 0, 0, SYNTAX },
        { "mdns=", -EINVAL, 0, 0, 0, SYNTAX },
        { "mdns=-1", -EINVAL, 0, 0, 0, SYNTAX },
        { "mdns=+1", -EINVAL, 0, 0, 0, SYNTAX },
        { "mdns= 1", -EINVAL, 0, 0, 0, SYNTAX },
        { "mdns=1/", -EINVAL, 0, 0, 0, SYNTAX },
        { "mdns=1/-2", -EINVAL, 0, 0, 0, SYNTAX },
        { "mdns=1x", -EINVAL, 0, 0, 0, SYNTAX },
        { "mdns=1/2/3", -EINVAL, 0, 0, 0, SYNTAX },
        { "=5", -EINVAL, 0, 0, 0, "the protocol is mdns, ssdp or broadcast" },
        { "md=5", -EINVAL, 0, 0, 0, "the protocol is mdns, ssdp or broadcast" },
        { "mdnsx=5", -EINVAL, 0, 0, 0, "the protocol is mdns, ssdp or broadcast" },
        { "MDNS=5", -EINVAL, 0, 0, 0, "the protocol is mdns, ssdp or broadcast" },
};

static void test_parse(void **state) {
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const Case *c = &cases[i];
                RateLimit r = { 7, 7 };
                size_t protocol = 99;
                ErrBuf err = {};
                int e = rate_limit_parse(c->text, &protocol, &r, &err);

                print_message("%s\n", c->text);
                assert_int_equal(e, c->r);
                if (c->r == 0) {
                        assert_int_equal(protocol, c->protocol);
                        assert_int_equal(r.per_sec, c->per_sec);
                        assert_int_equal(r.burst, c->burst);
                } else {
                        assert_string_equal(err.msg, c->reason);
                        /* Nothing is written on a refusal. */
                        assert_int_equal(protocol, 99);
                        assert_int_equal(r.per_sec, 7);
                }
        }
}

static void test_check(void **state) {
        (void) state;
        assert_int_equal(rate_limit_check((RateLimit) { 0, 0 }, &(ErrBuf) {}), 0);
        assert_int_equal(rate_limit_check((RateLimit) { 1, 1 }, &(ErrBuf) {}), 0);
        assert_int_equal(rate_limit_check((RateLimit) { 1, 0 }, &(ErrBuf) {}), -EINVAL);
        assert_int_equal(rate_limit_check((RateLimit) { 1000001, 1 }, &(ErrBuf) {}), -EINVAL);
        assert_int_equal(rate_limit_check((RateLimit) { 0, 1000001 }, &(ErrBuf) {}), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_check),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
