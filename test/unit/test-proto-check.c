/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * common/proto-check.h: string fields of requests are UTF-8 text without NUL, checked on
 * the wire bytes (protobuf-c would hand "eth0\0junk" over as "eth0"), in nested messages
 * too; and caller strings are escaped for logs.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto-check.h"
#include "service.pb-c.h"

/* A TrafficCountersRequest (repeated string devices = 1) with one device of n raw bytes. */
static size_t counters_request(uint8_t *buf, const char *dev, size_t n) {
        buf[0] = 0x0a;
        buf[1] = (uint8_t) n;
        memcpy(buf + 2, dev, n);
        return n + 2;
}

static int check_device(const char *dev, size_t n) {
        uint8_t buf[256];
        size_t len = counters_request(buf, dev, n);
        return proto_check_strings(&patchpanel__traffic_counters_request__descriptor, buf, len);
}

static void test_plain_strings_pass(void **state) {
        (void) state;
        assert_int_equal(check_device("eth0", 4), 0);
        assert_int_equal(check_device("", 0), 0);
        assert_int_equal(check_device("\xc3\xa9th0", 5), 0);            /* é */
        assert_int_equal(check_device("\xe2\x82\xac", 3), 0);            /* € */
        assert_int_equal(check_device("\xf0\x9f\x98\x80", 4), 0);        /* U+1F600 */
}

static void test_nul_inside_is_refused(void **state) {
        (void) state;
        assert_int_equal(check_device("eth0\0junk", 9), -EILSEQ);
        assert_int_equal(check_device("\0", 1), -EILSEQ);
        assert_int_equal(check_device("eth0\0", 5), -EILSEQ);
}

static void test_bad_utf8_is_refused(void **state) {
        (void) state;
        assert_int_equal(check_device("\xff", 1), -EILSEQ);
        assert_int_equal(check_device("\x80", 1), -EILSEQ);             /* lone continuation */
        assert_int_equal(check_device("\xc3", 1), -EILSEQ);             /* cut short */
        assert_int_equal(check_device("\xc0\xaf", 2), -EILSEQ);         /* overlong '/' */
        assert_int_equal(check_device("\xe0\x80\xaf", 3), -EILSEQ);     /* overlong */
        assert_int_equal(check_device("\xed\xa0\x80", 3), -EILSEQ);     /* surrogate */
        assert_int_equal(check_device("\xf4\x90\x80\x80", 4), -EILSEQ); /* > U+10FFFF */
        assert_int_equal(check_device("\xc3\x28", 2), -EILSEQ);         /* bad continuation */
}

static void test_nested_message_strings_are_checked(void **state) {
        /* GetDevicesResponse { repeated NetworkDevice devices = 1 { string ifname = 1 } } */
        uint8_t ok[] = { 0x0a, 0x06, 0x0a, 0x04, 'a', 'r', 'c', '0' };
        uint8_t bad[] = { 0x0a, 0x06, 0x0a, 0x04, 'a', 0, 'c', '0' };
        uint8_t cut[] = { 0x0a, 0x07, 0x0a, 0x04, 'a', 'r', 'c', '0' };

        (void) state;
        assert_int_equal(proto_check_strings(&patchpanel__get_devices_response__descriptor, ok,
                                             sizeof ok), 0);
        assert_int_equal(proto_check_strings(&patchpanel__get_devices_response__descriptor, bad,
                                             sizeof bad), -EILSEQ);
        assert_int_equal(proto_check_strings(&patchpanel__get_devices_response__descriptor, cut,
                                             sizeof cut), -EINVAL);
}

static void test_other_wire_types_are_skipped(void **state) {
        /* ModifyPortRuleRequest: op=1 (varint), input_dst_port=65537 (varint), an unknown
         * fixed64 field 20 and an unknown length-delimited field 21 holding a NUL (not a
         * string of ours: fine), then input_ifname "eth0". */
        uint8_t buf[] = { 0x08, 0x01, 0x30, 0x81, 0x80, 0x04, 0xa1, 0x01, 1, 2, 3, 4, 5, 6, 7,
                          8, 0xaa, 0x01, 0x02, 0x00, 0x00, 0x22, 0x04, 'e', 't', 'h', '0' };
        /* A varint that never ends, a length beyond the end, a group. */
        uint8_t endless[] = { 0x08, 0x80, 0x80 };
        uint8_t beyond[] = { 0x22, 0x09, 'e' };
        uint8_t group[] = { 0x0b, 0x0c };

        (void) state;
        assert_int_equal(proto_check_strings(&patchpanel__modify_port_rule_request__descriptor,
                                             buf, sizeof buf), 0);
        assert_int_equal(proto_check_strings(&patchpanel__modify_port_rule_request__descriptor,
                                             endless, sizeof endless), -EINVAL);
        assert_int_equal(proto_check_strings(&patchpanel__modify_port_rule_request__descriptor,
                                             beyond, sizeof beyond), -EINVAL);
        assert_int_equal(proto_check_strings(&patchpanel__modify_port_rule_request__descriptor,
                                             group, sizeof group), -EINVAL);
        assert_int_equal(proto_check_strings(&patchpanel__modify_port_rule_request__descriptor,
                                             NULL, 0), 0);
}

static void test_escape(void **state) {
        char buf[64];

        (void) state;
        assert_string_equal(str_escape("eth0", 24, buf, sizeof buf), "eth0");
        assert_string_equal(str_escape("a\nb\r\x1b", 24, buf, sizeof buf), "a\\x0ab\\x0d\\x1b");
        assert_string_equal(str_escape("\xc3\xa9\\", 24, buf, sizeof buf), "\\xc3\\xa9\\x5c");
        assert_string_equal(str_escape("abcdef", 3, buf, sizeof buf), "abc");
        assert_string_equal(str_escape(NULL, 3, buf, sizeof buf), "");
        /* Never beyond the buffer, never half an escape. */
        assert_string_equal(str_escape("ab\ncd", 24, buf, 6), "ab");
        assert_string_equal(str_escape("abcdefgh", 24, buf, 4), "abc");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_plain_strings_pass),
                cmocka_unit_test(test_nul_inside_is_refused),
                cmocka_unit_test(test_bad_utf8_is_refused),
                cmocka_unit_test(test_nested_message_strings_are_checked),
                cmocka_unit_test(test_other_wire_types_are_skipped),
                cmocka_unit_test(test_escape),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
