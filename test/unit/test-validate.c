/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * helpers/validate.h: the helper's checks of request fields. Every rejection must return a
 * negative errno and leave a reason in the ErrBuf; every test starts from a request that
 * passes and changes one field.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "fwmark.h"
#include "ifname.h"
#include "validate.h"

#define SELF 100
#define MANAGER 200

static const uint8_t good_host_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t good_peer_mac[6] = { 0x02, 0x66, 0x77, 0x88, 0x99, 0xaa };

typedef struct Fixture {
        PoolLayout pools;
        IpcNsConnect msg;
        uint8_t host_mac[8];
        uint8_t peer_mac[8];
        ErrBuf err;
} Fixture;

static ProtobufCBinaryData bytes(uint8_t *data, size_t len) {
        return (ProtobufCBinaryData) { .len = len, .data = data };
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof *f);

        if (!f || pool_layout_init(&f->pools, POOL_DEFAULT_BASE) < 0) {
                free(f);
                return -1;
        }
        memcpy(f->host_mac, good_host_mac, sizeof good_host_mac);
        memcpy(f->peer_mac, good_peer_mac, sizeof good_peer_mac);
        f->msg = (IpcNsConnect) PATCHPANEL__IPC__NS_CONNECT__INIT;
        f->msg.ns_id = 3;
        f->msg.pid = 4321;
        f->msg.subnet_base = 0x64735c80u; /* 100.115.92.128, the netns pool's first /30 */
        f->msg.subnet_prefix_len = 30;
        f->msg.host_mac = bytes(f->host_mac, 6);
        f->msg.peer_mac = bytes(f->peer_mac, 6);
        f->msg.source = TRAFFIC_SOURCE_ARC;
        f->err.msg[0] = '\0';
        *state = f;
        return 0;
}

static int teardown(void **state) {
        free(*state);
        return 0;
}

static void assert_rejected(int r, const ErrBuf *err) {
        assert_true(r < 0);
        assert_true(r > -4096);
        assert_true(strlen(err->msg) > 0);
}

static int ns_connect(Fixture *f) {
        return validate_ns_connect(&f->pools, &f->msg, SELF, MANAGER, &f->err);
}

/* validate_pid() */

static void test_pid_ok(void **state) {
        Fixture *f = *state;

        assert_int_equal(validate_pid(4321, SELF, MANAGER, &f->err), 0);
}

static void test_pid_2(void **state) {
        Fixture *f = *state;

        assert_int_equal(validate_pid(2, SELF, MANAGER, &f->err), 0);
}

static void test_pid_0(void **state) {
        Fixture *f = *state;
        int r = validate_pid(0, SELF, MANAGER, &f->err);

        assert_int_equal(r, -EINVAL);
        assert_rejected(r, &f->err);
}

static void test_pid_1(void **state) {
        Fixture *f = *state;
        int r = validate_pid(1, SELF, MANAGER, &f->err);

        assert_int_equal(r, -EINVAL);
        assert_rejected(r, &f->err);
}

static void test_pid_negative(void **state) {
        Fixture *f = *state;
        int r = validate_pid(-5, SELF, MANAGER, &f->err);

        assert_int_equal(r, -EINVAL);
        assert_rejected(r, &f->err);
}

static void test_pid_self(void **state) {
        Fixture *f = *state;
        int r = validate_pid(SELF, SELF, MANAGER, &f->err);

        assert_int_equal(r, -EINVAL);
        assert_rejected(r, &f->err);
}

static void test_pid_manager(void **state) {
        Fixture *f = *state;
        int r = validate_pid(MANAGER, SELF, MANAGER, &f->err);

        assert_int_equal(r, -EINVAL);
        assert_rejected(r, &f->err);
}

static void test_pid_null_errbuf(void **state) {
        (void) state;
        assert_int_equal(validate_pid(0, SELF, MANAGER, NULL), -EINVAL);
}

/* validate_mac() */

static void test_mac_ok(void **state) {
        Fixture *f = *state;
        ProtobufCBinaryData b = bytes(f->host_mac, 6);
        MacAddr m;

        assert_int_equal(validate_mac(&b, "host", &m, &f->err), 0);
        assert_memory_equal(m.b, good_host_mac, 6);
}

static void test_mac_global_unicast_ok(void **state) {
        Fixture *f = *state;
        uint8_t raw[6] = { 0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e };
        ProtobufCBinaryData b = bytes(raw, 6);
        MacAddr m;

        assert_int_equal(validate_mac(&b, "host", &m, &f->err), 0);
}

static void assert_mac_rejected(Fixture *f, uint8_t *raw, size_t len) {
        ProtobufCBinaryData b = bytes(raw, len);
        MacAddr m = { .b = { 1, 2, 3, 4, 5, 6 } };
        const MacAddr untouched = m;
        int r;

        r = validate_mac(&b, "host", &m, &f->err);
        assert_int_equal(r, -EINVAL);
        assert_rejected(r, &f->err);
        assert_memory_equal(&m, &untouched, sizeof m);
        assert_non_null(strstr(f->err.msg, "host"));
}

static void test_mac_5_bytes(void **state) {
        Fixture *f = *state;

        assert_mac_rejected(f, f->host_mac, 5);
}

static void test_mac_7_bytes(void **state) {
        Fixture *f = *state;

        assert_mac_rejected(f, f->host_mac, 7);
}

static void test_mac_empty(void **state) {
        Fixture *f = *state;

        assert_mac_rejected(f, NULL, 0);
}

static void test_mac_null_data(void **state) {
        Fixture *f = *state;

        assert_mac_rejected(f, NULL, 6);
}

static void test_mac_multicast(void **state) {
        Fixture *f = *state;
        uint8_t raw[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };

        assert_mac_rejected(f, raw, 6);
}

static void test_mac_broadcast(void **state) {
        Fixture *f = *state;
        uint8_t raw[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

        assert_mac_rejected(f, raw, 6);
}

static void test_mac_zero(void **state) {
        Fixture *f = *state;
        uint8_t raw[6] = { 0 };

        assert_mac_rejected(f, raw, 6);
}

/* validate_ns_id() and validate_ns_disconnect() */

static void test_ns_id_max(void **state) {
        Fixture *f = *state;

        assert_int_equal(validate_ns_id(CONNECTED_NS_ID_MAX, &f->err), 0);
}

static void test_ns_id_above_max(void **state) {
        Fixture *f = *state;
        int r = validate_ns_id(CONNECTED_NS_ID_MAX + 1, &f->err);

        assert_int_equal(r, -ERANGE);
        assert_rejected(r, &f->err);
}

static void test_ns_disconnect_ok(void **state) {
        Fixture *f = *state;
        IpcNsDisconnect m = PATCHPANEL__IPC__NS_DISCONNECT__INIT;

        m.ns_id = 12;
        assert_int_equal(validate_ns_disconnect(&m, &f->err), 0);
}

static void test_ns_disconnect_id_above_max(void **state) {
        Fixture *f = *state;
        IpcNsDisconnect m = PATCHPANEL__IPC__NS_DISCONNECT__INIT;
        int r;

        m.ns_id = UINT32_MAX;
        r = validate_ns_disconnect(&m, &f->err);
        assert_int_equal(r, -ERANGE);
        assert_rejected(r, &f->err);
}

/* validate_ns_connect(): accepted */

static void test_ns_connect_ok(void **state) {
        Fixture *f = *state;

        assert_int_equal(ns_connect(f), 0);
}

static void test_ns_connect_last_subnet_ok(void **state) {
        Fixture *f = *state;

        f->msg.subnet_base = 0x64735cbcu; /* 100.115.92.188 */
        assert_int_equal(ns_connect(f), 0);
}

static void test_ns_connect_ns_id_max_ok(void **state) {
        Fixture *f = *state;

        f->msg.ns_id = CONNECTED_NS_ID_MAX;
        assert_int_equal(ns_connect(f), 0);
}

static void test_ns_connect_source_system_ok(void **state) {
        Fixture *f = *state;

        f->msg.source = TRAFFIC_SOURCE_SYSTEM;
        assert_int_equal(ns_connect(f), 0);
}

static void test_ns_connect_source_arc_vpn_ok(void **state) {
        Fixture *f = *state;

        f->msg.source = TRAFFIC_SOURCE_ARC_VPN;
        assert_int_equal(ns_connect(f), 0);
}

static void test_ns_connect_moved_pool(void **state) {
        Fixture *f = *state;

        /* The helper checks against the layout it was given, not the default one. */
        assert_int_equal(pool_config_parse("10.0.0.0/30x1000", &f->pools.pools[POOL_NETNS]), 0);
        f->msg.subnet_base = 0x0a000f9cu; /* 10.0.15.156, subnet 1000 */
        assert_int_equal(ns_connect(f), 0);
}

/* validate_ns_connect(): rejected, one field per test */

static void assert_ns_connect_rejected(Fixture *f, int expected) {
        int r = ns_connect(f);

        assert_int_equal(r, expected);
        assert_rejected(r, &f->err);
}

static void test_ns_connect_ns_id_above_max(void **state) {
        Fixture *f = *state;

        f->msg.ns_id = CONNECTED_NS_ID_MAX + 1;
        assert_ns_connect_rejected(f, -ERANGE);
}

static void test_ns_connect_pid_0(void **state) {
        Fixture *f = *state;

        f->msg.pid = 0;
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_pid_1(void **state) {
        Fixture *f = *state;

        f->msg.pid = 1;
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_pid_negative(void **state) {
        Fixture *f = *state;

        f->msg.pid = -5;
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_pid_self(void **state) {
        Fixture *f = *state;

        f->msg.pid = SELF;
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_pid_manager(void **state) {
        Fixture *f = *state;

        f->msg.pid = MANAGER;
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_subnet_in_other_pool(void **state) {
        Fixture *f = *state;

        f->msg.subnet_base = 0x64735c18u; /* 100.115.92.24, the Termina pool */
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_subnet_past_pool(void **state) {
        Fixture *f = *state;

        f->msg.subnet_base = 0x64735cc0u; /* 100.115.92.192, right after the last one */
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_subnet_below_pool(void **state) {
        Fixture *f = *state;

        f->msg.subnet_base = 0x64735c7cu; /* 100.115.92.124, right before the first one */
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_subnet_elsewhere(void **state) {
        Fixture *f = *state;

        f->msg.subnet_base = 0xc0a80000u; /* 192.168.0.0 */
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_subnet_misaligned(void **state) {
        Fixture *f = *state;

        f->msg.subnet_base = 0x64735c81u; /* 100.115.92.129 */
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_prefix_29(void **state) {
        Fixture *f = *state;

        f->msg.subnet_prefix_len = 29;
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_prefix_31(void **state) {
        Fixture *f = *state;

        f->msg.subnet_prefix_len = 31;
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_prefix_0(void **state) {
        Fixture *f = *state;

        f->msg.subnet_prefix_len = 0;
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_prefix_33(void **state) {
        Fixture *f = *state;

        f->msg.subnet_prefix_len = 33;
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_prefix_wraps_to_30(void **state) {
        Fixture *f = *state;

        /* 286 = 256 + 30: must not be taken for /30 after a cast to uint8_t. */
        f->msg.subnet_prefix_len = 286;
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_host_mac_5_bytes(void **state) {
        Fixture *f = *state;

        f->msg.host_mac.len = 5;
        assert_ns_connect_rejected(f, -EINVAL);
        assert_non_null(strstr(f->err.msg, "host"));
}

static void test_ns_connect_host_mac_7_bytes(void **state) {
        Fixture *f = *state;

        f->msg.host_mac.len = 7;
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_host_mac_missing(void **state) {
        Fixture *f = *state;

        f->msg.host_mac = bytes(NULL, 0);
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_host_mac_multicast(void **state) {
        Fixture *f = *state;

        f->host_mac[0] = 0x01;
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_host_mac_zero(void **state) {
        Fixture *f = *state;

        memset(f->host_mac, 0, sizeof f->host_mac);
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_peer_mac_5_bytes(void **state) {
        Fixture *f = *state;

        f->msg.peer_mac.len = 5;
        assert_ns_connect_rejected(f, -EINVAL);
        assert_non_null(strstr(f->err.msg, "peer"));
}

static void test_ns_connect_peer_mac_7_bytes(void **state) {
        Fixture *f = *state;

        f->msg.peer_mac.len = 7;
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_peer_mac_multicast(void **state) {
        Fixture *f = *state;

        f->peer_mac[0] = 0x01;
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_peer_mac_zero(void **state) {
        Fixture *f = *state;

        memset(f->peer_mac, 0, sizeof f->peer_mac);
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_source_unknown(void **state) {
        Fixture *f = *state;

        f->msg.source = TRAFFIC_SOURCE_UNKNOWN;
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_source_7(void **state) {
        Fixture *f = *state;

        f->msg.source = 7;
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_source_0x40(void **state) {
        Fixture *f = *state;

        f->msg.source = 0x40;
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_source_huge(void **state) {
        Fixture *f = *state;

        /* 0x80000020 is ARC in its low bits and negative as an int. */
        f->msg.source = 0x80000020u;
        assert_ns_connect_rejected(f, -EINVAL);
}

static void test_ns_connect_null_errbuf(void **state) {
        Fixture *f = *state;

        f->msg.pid = 0;
        assert_int_equal(validate_ns_connect(&f->pools, &f->msg, SELF, MANAGER, NULL), -EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_pid_ok),
                T(test_pid_2),
                T(test_pid_0),
                T(test_pid_1),
                T(test_pid_negative),
                T(test_pid_self),
                T(test_pid_manager),
                T(test_pid_null_errbuf),
                T(test_mac_ok),
                T(test_mac_global_unicast_ok),
                T(test_mac_5_bytes),
                T(test_mac_7_bytes),
                T(test_mac_empty),
                T(test_mac_null_data),
                T(test_mac_multicast),
                T(test_mac_broadcast),
                T(test_mac_zero),
                T(test_ns_id_max),
                T(test_ns_id_above_max),
                T(test_ns_disconnect_ok),
                T(test_ns_disconnect_id_above_max),
                T(test_ns_connect_ok),
                T(test_ns_connect_last_subnet_ok),
                T(test_ns_connect_ns_id_max_ok),
                T(test_ns_connect_source_system_ok),
                T(test_ns_connect_source_arc_vpn_ok),
                T(test_ns_connect_moved_pool),
                T(test_ns_connect_ns_id_above_max),
                T(test_ns_connect_pid_0),
                T(test_ns_connect_pid_1),
                T(test_ns_connect_pid_negative),
                T(test_ns_connect_pid_self),
                T(test_ns_connect_pid_manager),
                T(test_ns_connect_subnet_in_other_pool),
                T(test_ns_connect_subnet_past_pool),
                T(test_ns_connect_subnet_below_pool),
                T(test_ns_connect_subnet_elsewhere),
                T(test_ns_connect_subnet_misaligned),
                T(test_ns_connect_prefix_29),
                T(test_ns_connect_prefix_31),
                T(test_ns_connect_prefix_0),
                T(test_ns_connect_prefix_33),
                T(test_ns_connect_prefix_wraps_to_30),
                T(test_ns_connect_host_mac_5_bytes),
                T(test_ns_connect_host_mac_7_bytes),
                T(test_ns_connect_host_mac_missing),
                T(test_ns_connect_host_mac_multicast),
                T(test_ns_connect_host_mac_zero),
                T(test_ns_connect_peer_mac_5_bytes),
                T(test_ns_connect_peer_mac_7_bytes),
                T(test_ns_connect_peer_mac_multicast),
                T(test_ns_connect_peer_mac_zero),
                T(test_ns_connect_source_unknown),
                T(test_ns_connect_source_7),
                T(test_ns_connect_source_0x40),
                T(test_ns_connect_source_huge),
                T(test_ns_connect_null_errbuf),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
