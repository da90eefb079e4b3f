/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * forwarders/mcast/ssdp.h: what SSDP mcastd forwards. GSSDP's real NOTIFY, M-SEARCH and
 * 200 OK pass; each malformed variant is a row of bad_cases[], run as a test of its own.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "mcast-captures.h"
#include "mcast-test.h"
#include "ssdp.h"

/* A string literal's bytes, embedded NULs included, without the terminating one. */
#define TEXT(s) .msg = (const uint8_t *) (s), .len = sizeof(s) - 1

#define MSEARCH "M-SEARCH * HTTP/1.1\r\n"
#define NOTIFY "NOTIFY * HTTP/1.1\r\n"
#define OK200 "HTTP/1.1 200 OK\r\n"
#define HOST "HOST: 239.255.255.250:1900\r\n"
#define MAN "MAN: \"ssdp:discover\"\r\n"
#define ST "ST: ssdp:all\r\n"
#define MX "MX: 2\r\n"
#define NT "NT: upnp:rootdevice\r\n"
#define NTS "NTS: ssdp:alive\r\n"
#define USN "USN: uuid:2fac1234-31f8-11b4-a222-08002b34c003::upnp:rootdevice\r\n"
#define END "\r\n"

typedef struct SsdpCase {
        const char *name;
        const uint8_t *msg;
        size_t len;
        McastDrop want;
} SsdpCase;

static const SsdpCase bad_cases[] = {
        /* bytes */
        { "nul-in-header-value", TEXT(MSEARCH HOST MAN "ST: ssdp:\0all\r\n" END),
          MCAST_DROP_SSDP_NUL },
        { "nul-in-start-line", TEXT("M-SEARCH\0* HTTP/1.1\r\n" HOST MAN ST END),
          MCAST_DROP_SSDP_NUL },
        { "nul-after-end", TEXT(MSEARCH HOST MAN ST END "\0"), MCAST_DROP_SSDP_BODY },
        { "control-0x01", TEXT(MSEARCH HOST MAN "ST: ssdp:\001all\r\n" END),
          MCAST_DROP_SSDP_CONTROL_CHAR },
        { "control-escape", TEXT(MSEARCH HOST MAN "ST: \033[2Jssdp:all\r\n" END),
          MCAST_DROP_SSDP_CONTROL_CHAR },
        { "control-del", TEXT(MSEARCH HOST MAN "ST: ssdp:all\177\r\n" END),
          MCAST_DROP_SSDP_CONTROL_CHAR },
        { "control-vertical-tab", TEXT(MSEARCH HOST "\vMAN: \"ssdp:discover\"\r\n" ST END),
          MCAST_DROP_SSDP_CONTROL_CHAR },

        /* line endings */
        { "bare-lf-start-line", TEXT("M-SEARCH * HTTP/1.1\n" HOST MAN ST END),
          MCAST_DROP_SSDP_LINE_ENDING },
        { "bare-lf-header", TEXT(MSEARCH HOST MAN "ST: ssdp:all\n" END),
          MCAST_DROP_SSDP_LINE_ENDING },
        { "bare-lf-end", TEXT(MSEARCH HOST MAN ST "\n"), MCAST_DROP_SSDP_LINE_ENDING },
        { "bare-cr-inside", TEXT(MSEARCH HOST MAN "ST: ssdp\r:all\r\n" END),
          MCAST_DROP_SSDP_LINE_ENDING },
        { "lf-cr", TEXT(MSEARCH HOST MAN ST "\n\r"), MCAST_DROP_SSDP_LINE_ENDING },
        { "cr-at-end", TEXT(MSEARCH HOST MAN ST "\r"), MCAST_DROP_SSDP_UNTERMINATED },
        { "no-empty-line", TEXT(MSEARCH HOST MAN ST), MCAST_DROP_SSDP_UNTERMINATED },
        { "last-line-without-crlf", TEXT(MSEARCH HOST MAN "ST: ssdp:all"),
          MCAST_DROP_SSDP_UNTERMINATED },
        { "start-line-only", TEXT("M-SEARCH * HTTP/1.1"), MCAST_DROP_SSDP_UNTERMINATED },

        /* start line */
        { "method-lower-case", TEXT("m-search * HTTP/1.1\r\n" HOST MAN ST END),
          MCAST_DROP_SSDP_START_LINE },
        { "http-1.0", TEXT("M-SEARCH * HTTP/1.0\r\n" HOST MAN ST END),
          MCAST_DROP_SSDP_START_LINE },
        { "get", TEXT("GET / HTTP/1.1\r\n" HOST END), MCAST_DROP_SSDP_START_LINE },
        { "subscribe", TEXT("SUBSCRIBE * HTTP/1.1\r\n" HOST END), MCAST_DROP_SSDP_START_LINE },
        { "double-space", TEXT("M-SEARCH  * HTTP/1.1\r\n" HOST MAN ST END),
          MCAST_DROP_SSDP_START_LINE },
        { "trailing-space", TEXT("NOTIFY * HTTP/1.1 \r\n" HOST NT NTS USN END),
          MCAST_DROP_SSDP_START_LINE },
        { "status-404", TEXT("HTTP/1.1 404 Not Found\r\n" ST USN END),
          MCAST_DROP_SSDP_START_LINE },
        { "status-2000", TEXT("HTTP/1.1 2000 OK\r\n" ST USN END), MCAST_DROP_SSDP_START_LINE },
        { "status-missing", TEXT("HTTP/1.1\r\n" ST USN END), MCAST_DROP_SSDP_START_LINE },
        { "empty-start-line", TEXT(END HOST MAN ST END), MCAST_DROP_SSDP_START_LINE },
        { "no-bytes", .msg = (const uint8_t *) "", .len = 0, MCAST_DROP_SSDP_START_LINE },

        /* header lines */
        { "header-without-colon", TEXT(MSEARCH HOST MAN "ST ssdp:all\r\n" END),
          MCAST_DROP_SSDP_HEADER },
        { "header-empty-name", TEXT(MSEARCH HOST MAN ": ssdp:all\r\n" ST END),
          MCAST_DROP_SSDP_HEADER },
        { "header-space-before-colon", TEXT(MSEARCH HOST MAN "ST : ssdp:all\r\n" END),
          MCAST_DROP_SSDP_HEADER },
        { "header-obs-fold", TEXT(MSEARCH HOST MAN ST " continued\r\n" END),
          MCAST_DROP_SSDP_HEADER },
        { "header-tab-fold", TEXT(MSEARCH HOST MAN ST "\tcontinued\r\n" END),
          MCAST_DROP_SSDP_HEADER },
        { "header-name-quote", TEXT(MSEARCH HOST MAN "S\"T: ssdp:all\r\n" END),
          MCAST_DROP_SSDP_HEADER },
        { "header-name-utf8", TEXT(MSEARCH HOST MAN ST "\xc3\xa9: x\r\n" END),
          MCAST_DROP_SSDP_HEADER },
        { "header-body-after-end", TEXT(MSEARCH HOST MAN ST END "hello"),
          MCAST_DROP_SSDP_BODY },
        { "header-extra-empty-line", TEXT(MSEARCH HOST MAN ST END END), MCAST_DROP_SSDP_BODY },

        /* what each kind must carry */
        { "msearch-without-man", TEXT(MSEARCH HOST ST MX END), MCAST_DROP_SSDP_MISSING_HEADER },
        { "msearch-without-st", TEXT(MSEARCH HOST MAN MX END), MCAST_DROP_SSDP_MISSING_HEADER },
        { "msearch-man-alive", TEXT(MSEARCH HOST "MAN: \"ssdp:alive\"\r\n" ST END),
          MCAST_DROP_SSDP_HEADER_VALUE },
        { "msearch-man-half-quoted", TEXT(MSEARCH HOST "MAN: \"ssdp:discover\r\n" ST END),
          MCAST_DROP_SSDP_HEADER_VALUE },
        { "msearch-mx-letters", TEXT(MSEARCH HOST MAN ST "MX: two\r\n" END),
          MCAST_DROP_SSDP_HEADER_VALUE },
        { "msearch-mx-negative", TEXT(MSEARCH HOST MAN ST "MX: -1\r\n" END),
          MCAST_DROP_SSDP_HEADER_VALUE },
        { "msearch-mx-empty", TEXT(MSEARCH HOST MAN ST "MX:\r\n" END),
          MCAST_DROP_SSDP_HEADER_VALUE },
        { "msearch-mx-fraction", TEXT(MSEARCH HOST MAN ST "MX: 1.5\r\n" END),
          MCAST_DROP_SSDP_HEADER_VALUE },
        { "notify-without-nt", TEXT(NOTIFY HOST NTS USN END), MCAST_DROP_SSDP_MISSING_HEADER },
        { "notify-without-nts", TEXT(NOTIFY HOST NT USN END), MCAST_DROP_SSDP_MISSING_HEADER },
        { "notify-without-usn", TEXT(NOTIFY HOST NT NTS END), MCAST_DROP_SSDP_MISSING_HEADER },
        { "notify-nts-unknown", TEXT(NOTIFY HOST NT "NTS: ssdp:dead\r\n" USN END),
          MCAST_DROP_SSDP_HEADER_VALUE },
        { "notify-nts-upper-case", TEXT(NOTIFY HOST NT "NTS: SSDP:ALIVE\r\n" USN END),
          MCAST_DROP_SSDP_HEADER_VALUE },
        { "response-without-st", TEXT(OK200 USN END), MCAST_DROP_SSDP_MISSING_HEADER },
        { "response-without-usn", TEXT(OK200 ST END), MCAST_DROP_SSDP_MISSING_HEADER },
        { "response-st-only-in-other-header", TEXT(OK200 "X-ST: ssdp:all\r\n" USN END),
          MCAST_DROP_SSDP_MISSING_HEADER },

        /* headers that must be unique */
        { "duplicate-st", TEXT(MSEARCH HOST MAN ST "ST: upnp:rootdevice\r\n" END),
          MCAST_DROP_SSDP_DUPLICATE_HEADER },
        { "duplicate-st-other-case", TEXT(MSEARCH HOST MAN ST "st: ssdp:all\r\n" END),
          MCAST_DROP_SSDP_DUPLICATE_HEADER },
        { "duplicate-man", TEXT(MSEARCH HOST MAN MAN ST END), MCAST_DROP_SSDP_DUPLICATE_HEADER },
        { "duplicate-mx", TEXT(MSEARCH HOST MAN ST MX MX END), MCAST_DROP_SSDP_DUPLICATE_HEADER },
        { "duplicate-host", TEXT(MSEARCH HOST HOST MAN ST END), MCAST_DROP_SSDP_DUPLICATE_HEADER },
        { "duplicate-usn", TEXT(NOTIFY HOST NT NTS USN USN END),
          MCAST_DROP_SSDP_DUPLICATE_HEADER },
        { "duplicate-nts", TEXT(NOTIFY HOST NT NTS "NTS: ssdp:byebye\r\n" USN END),
          MCAST_DROP_SSDP_DUPLICATE_HEADER },
};

static void test_bad_case(void **state) {
        const SsdpCase *c = *state;
        McastDrop reason = _MCAST_DROP_INVALID;

        assert_int_equal(ssdp_validate(c->msg, c->len, NULL, &reason), -EBADMSG);
        assert_string_equal(mcast_drop_to_string(reason), mcast_drop_to_string(c->want));
}

typedef struct GoodCase {
        const char *name;
        const uint8_t *msg;
        size_t len;
        SsdpKind kind;
        unsigned n_headers;
        unsigned mx;
} GoodCase;

static const GoodCase good_cases[] = {
        { "capture-notify-alive", .msg = cap_ssdp_notify_alive, .len = sizeof cap_ssdp_notify_alive,
          SSDP_NOTIFY, 7, 0 },
        { "capture-notify-byebye", .msg = cap_ssdp_notify_byebye,
          .len = sizeof cap_ssdp_notify_byebye, SSDP_NOTIFY, 4, 0 },
        { "capture-msearch", .msg = cap_ssdp_msearch, .len = sizeof cap_ssdp_msearch,
          SSDP_MSEARCH, 5, 3 },
        { "capture-response", .msg = cap_ssdp_response, .len = sizeof cap_ssdp_response,
          SSDP_RESPONSE, 8, 0 },
        { "msearch-minimal", TEXT(MSEARCH MAN ST END), SSDP_MSEARCH, 2, 0 },
        { "msearch-man-unquoted", TEXT(MSEARCH HOST "MAN: ssdp:discover\r\n" ST MX END),
          SSDP_MSEARCH, 4, 2 },
        { "msearch-lower-case-names", TEXT(MSEARCH "host: x\r\nman: \"ssdp:discover\"\r\n"
                                           "st: ssdp:all\r\nmx: 1\r\n" END),
          SSDP_MSEARCH, 4, 1 },
        { "msearch-mx-120-is-5", TEXT(MSEARCH HOST MAN ST "MX: 120\r\n" END), SSDP_MSEARCH, 4, 5 },
        { "msearch-mx-huge-is-5", TEXT(MSEARCH HOST MAN ST "MX: 99999999999999999999\r\n" END),
          SSDP_MSEARCH, 4, 5 },
        { "msearch-mx-0", TEXT(MSEARCH HOST MAN ST "MX: 0\r\n" END), SSDP_MSEARCH, 4, 0 },
        { "msearch-whitespace-around-values", TEXT(MSEARCH "MAN:\t \"ssdp:discover\" \t\r\n"
                                                   "ST:ssdp:all\r\nMX:  3  \r\n" END),
          SSDP_MSEARCH, 3, 3 },
        { "notify-byebye", TEXT(NOTIFY HOST NT "NTS: ssdp:byebye\r\n" USN END), SSDP_NOTIFY, 4,
          0 },
        { "notify-update", TEXT(NOTIFY HOST NT "NTS: ssdp:update\r\n" USN
                                "NEXTBOOTID.UPNP.ORG: 2\r\n" END),
          SSDP_NOTIFY, 5, 0 },
        { "notify-utf8-server", TEXT(NOTIFY HOST NT NTS USN "SERVER: Caf\xc3\xa9/1.0\r\n" END),
          SSDP_NOTIFY, 5, 0 },
        { "notify-unknown-headers-repeat", TEXT(NOTIFY HOST NT NTS USN "X-A: 1\r\nX-A: 2\r\n" END),
          SSDP_NOTIFY, 6, 0 },
        { "response-no-reason-phrase", TEXT("HTTP/1.1 200\r\n" ST USN "EXT:\r\n" END),
          SSDP_RESPONSE, 3, 0 },
        { "response-other-reason-phrase", TEXT("HTTP/1.1 200 Okay then\r\n" ST USN END),
          SSDP_RESPONSE, 2, 0 },
};

static void test_good_case(void **state) {
        const GoodCase *c = *state;
        McastDrop reason = _MCAST_DROP_INVALID;
        SsdpInfo info;

        if (ssdp_validate(c->msg, c->len, &info, &reason) < 0)
                fail_msg("%s refused: %s", c->name, mcast_drop_to_string(reason));
        assert_int_equal(info.kind, c->kind);
        assert_int_equal(info.n_headers, c->n_headers);
        assert_int_equal(info.mx, c->mx);
        /* No prefix of it passes: the empty line is what ends a message. */
        for (size_t n = 0; n < c->len; n++)
                assert_int_equal(ssdp_validate(c->msg, n, NULL, NULL), -EBADMSG);
}

/* An M-SEARCH with MAN, ST and @extra "X-N: v" headers; with @len, one more header whose
 * value pads the message to exactly @len bytes. */
static size_t build_msearch(char *buf, size_t size, unsigned extra, size_t len) {
        size_t off = (size_t) snprintf(buf, size, MSEARCH MAN ST);

        for (unsigned i = 0; i < extra; i++)
                off += (size_t) snprintf(buf + off, size - off, "X-%u: v\r\n", i);
        if (len > 0) {
                size_t fixed = off + strlen("X-pad: \r\n" END);

                assert_true(len > fixed && len <= size);
                off += (size_t) snprintf(buf + off, size - off, "X-pad: ");
                memset(buf + off, 'p', len - fixed);
                off += len - fixed;
                memcpy(buf + off, "\r\n", 2);
                off += 2;
        }
        memcpy(buf + off, END, 2);
        return off + 2;
}

static void test_header_count_limit(void **state) {
        char buf[4096];
        McastDrop reason;
        SsdpInfo info;
        size_t len;

        (void) state;
        len = build_msearch(buf, sizeof buf, SSDP_HEADERS_MAX - 2, 0);
        assert_int_equal(ssdp_validate((const uint8_t *) buf, len, &info, &reason), 0);
        assert_int_equal(info.n_headers, SSDP_HEADERS_MAX);
        len = build_msearch(buf, sizeof buf, SSDP_HEADERS_MAX - 1, 0);
        assert_int_equal(ssdp_validate((const uint8_t *) buf, len, NULL, &reason), -EBADMSG);
        assert_int_equal(reason, MCAST_DROP_SSDP_TOO_MANY_HEADERS);
}

static void test_length_limit(void **state) {
        char buf[SSDP_MESSAGE_MAX + 64];
        McastDrop reason;
        size_t len;

        (void) state;
        len = build_msearch(buf, sizeof buf, 0, SSDP_MESSAGE_MAX);
        assert_int_equal(len, SSDP_MESSAGE_MAX);
        assert_int_equal(ssdp_validate((const uint8_t *) buf, len, NULL, &reason), 0);
        len = build_msearch(buf, sizeof buf, 0, SSDP_MESSAGE_MAX + 1);
        assert_int_equal(len, SSDP_MESSAGE_MAX + 1);
        assert_int_equal(ssdp_validate((const uint8_t *) buf, len, NULL, &reason), -EBADMSG);
        assert_int_equal(reason, MCAST_DROP_SSDP_TOO_LONG);
}

static void test_null_and_names(void **state) {
        McastDrop reason;

        (void) state;
        assert_int_equal(ssdp_validate(NULL, 10, NULL, &reason), -EBADMSG);
        assert_int_equal(reason, MCAST_DROP_SSDP_START_LINE);
        assert_string_equal(ssdp_kind_to_string(SSDP_MSEARCH), "m-search");
        assert_string_equal(ssdp_kind_to_string(SSDP_RESPONSE), "response");
        assert_null(ssdp_kind_to_string(_SSDP_KIND_MAX));
        assert_null(ssdp_kind_to_string(_SSDP_KIND_INVALID));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_header_count_limit),
                cmocka_unit_test(test_length_limit),
                cmocka_unit_test(test_null_and_names),
        };
        int r;

        r = mcast_run_tests("ssdp", tests, ELEMENTSOF(tests), test_bad_case, bad_cases,
                            sizeof bad_cases[0], ELEMENTSOF(bad_cases));
        r += mcast_run_tests("ssdp-valid", NULL, 0, test_good_case, good_cases,
                             sizeof good_cases[0], ELEMENTSOF(good_cases));
        return r;
}
