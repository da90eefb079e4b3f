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

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fwmark.h"
#include "ifname.h"
#include "validate.h"

#define SELF 100
#define MANAGER 200

static const uint8_t good_host_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t good_peer_mac[6] = { 0x02, 0x66, 0x77, 0x88, 0x99, 0xaa };

/*
 * One passing request of each kind. The strings the requests point to live here too, so
 * that a test can change a name in place.
 */
typedef struct Fixture {
        PoolLayout pools;
        IpcNsConnect msg;
        uint8_t host_mac[8];
        uint8_t peer_mac[8];
        IpcVmTapAdd tap;
        uint8_t tap_mac[8];
        IpcArcAdd arc;
        uint8_t arc_mac[8];
        IpcArcRemove arc_remove;
        char arc_tap_names[ARC_VM_N_TAPS][IFNAMSIZ];
        char *arc_taps[ARC_VM_N_TAPS];
        IpcArcUplinkAdd uplink;
        uint8_t uplink_mac[8];
        char uplink_name[IFNAMSIZ];
        char uplink_tap[IFNAMSIZ];
        IpcArcUplinkRemove uplink_remove;
        char uplink_remove_name[IFNAMSIZ];
        char uplink_remove_tap[IFNAMSIZ];
        /* What the checks decoded, for the tests that look at it. */
        NsConnectArgs ns_args;
        VmTapAddArgs tap_args;
        ArcUplinkAddArgs uplink_args;
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

        /* A Termina TAP without an LXD subnet. */
        memcpy(f->tap_mac, good_host_mac, sizeof good_host_mac);
        f->tap = (IpcVmTapAdd) PATCHPANEL__IPC__VM_TAP_ADD__INIT;
        f->tap.kind = PATCHPANEL__IPC__VM_KIND__VM_KIND_TERMINA;
        f->tap.subnet_base = 0x64735c18u; /* 100.115.92.24, the Termina pool's first /30 */
        f->tap.subnet_prefix_len = 30;
        f->tap.mac = bytes(f->tap_mac, 6);

        /* The ARC container. */
        memcpy(f->arc_mac, good_peer_mac, sizeof good_peer_mac);
        f->arc = (IpcArcAdd) PATCHPANEL__IPC__ARC_ADD__INIT;
        f->arc.pid = 4321;
        f->arc.guest_mac = bytes(f->arc_mac, 6);

        /* Removal of the ARC container; the TAP names are there for the VM tests to use. */
        for (size_t i = 0; i < ARC_VM_N_TAPS; i++) {
                snprintf(f->arc_tap_names[i], IFNAMSIZ, VM_TAP_TEMPLATE, (int) i + 7);
                f->arc_taps[i] = f->arc_tap_names[i];
        }
        f->arc_remove = (IpcArcRemove) PATCHPANEL__IPC__ARC_REMOVE__INIT;
        f->arc_remove.taps = f->arc_taps;

        /* The ARC container on eth0. */
        memcpy(f->uplink_mac, good_peer_mac, sizeof good_peer_mac);
        strcpy(f->uplink_name, "eth0");
        strcpy(f->uplink_tap, "vmtap8");
        f->uplink = (IpcArcUplinkAdd) PATCHPANEL__IPC__ARC_UPLINK_ADD__INIT;
        f->uplink.uplink_ifname = f->uplink_name;
        f->uplink.uplink_ifindex = 2;
        f->uplink.subnet_base = 0x64735c04u; /* 100.115.92.4, the ARC per-uplink pool's first */
        f->uplink.subnet_prefix_len = 30;
        f->uplink.pid = 4321;
        f->uplink.guest_mac = bytes(f->uplink_mac, 6);

        /* The ARC container off eth0. */
        strcpy(f->uplink_remove_name, "eth0");
        strcpy(f->uplink_remove_tap, "vmtap8");
        f->uplink_remove = (IpcArcUplinkRemove) PATCHPANEL__IPC__ARC_UPLINK_REMOVE__INIT;
        f->uplink_remove.uplink_ifname = f->uplink_remove_name;

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
        return validate_ns_connect(&f->pools, &f->msg, SELF, MANAGER, &f->ns_args, &f->err);
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
        assert_int_equal(validate_ns_disconnect(&m, NULL, &f->err), 0);
}

static void test_ns_disconnect_id_above_max(void **state) {
        Fixture *f = *state;
        IpcNsDisconnect m = PATCHPANEL__IPC__NS_DISCONNECT__INIT;
        int r;

        m.ns_id = UINT32_MAX;
        r = validate_ns_disconnect(&m, NULL, &f->err);
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
        assert_int_equal(validate_ns_connect(&f->pools, &f->msg, SELF, MANAGER, NULL, NULL), -EINVAL);
}

/* validate_uplink() */

static void assert_uplink_rejected(Fixture *f, const char *ifname, int ifindex, int expected) {
        int r = validate_uplink(ifname, ifindex, false, NULL, &f->err);

        assert_int_equal(r, expected);
        assert_rejected(r, &f->err);
}

static void test_uplink_ok(void **state) {
        Fixture *f = *state;

        assert_int_equal(validate_uplink("eth0", 2, false, NULL, &f->err), 0);
}

static void test_uplink_ifindex_1(void **state) {
        Fixture *f = *state;

        assert_int_equal(validate_uplink("eth0", 1, false, NULL, &f->err), 0);
}

static void test_uplink_ifindex_max(void **state) {
        Fixture *f = *state;

        /* The highest ifindex whose table 1000 + ifindex still fits the 16-bit routing tag. */
        assert_int_equal(validate_uplink("eth0", 0xffff - ROUTING_TABLE_OFFSET, false, NULL, &f->err), 0);
}

static void test_uplink_ifindex_0(void **state) {
        Fixture *f = *state;

        assert_uplink_rejected(f, "eth0", 0, -ERANGE);
}

static void test_uplink_ifindex_negative(void **state) {
        Fixture *f = *state;

        assert_uplink_rejected(f, "eth0", -1, -ERANGE);
}

static void test_uplink_ifindex_int_min(void **state) {
        Fixture *f = *state;

        assert_uplink_rejected(f, "eth0", INT_MIN, -ERANGE);
}

static void test_uplink_ifindex_above_max(void **state) {
        Fixture *f = *state;

        assert_uplink_rejected(f, "eth0", 0xffff - ROUTING_TABLE_OFFSET + 1, -ERANGE);
}

static void test_uplink_ifindex_int_max(void **state) {
        Fixture *f = *state;

        assert_uplink_rejected(f, "eth0", INT_MAX, -ERANGE);
}

static void test_uplink_name_null(void **state) {
        Fixture *f = *state;

        assert_uplink_rejected(f, NULL, 2, -EINVAL);
}

static void test_uplink_name_empty(void **state) {
        Fixture *f = *state;

        assert_uplink_rejected(f, "", 2, -EINVAL);
}

static void test_uplink_name_16_chars(void **state) {
        Fixture *f = *state;

        assert_uplink_rejected(f, "abcdefghijklmnop", 2, -EINVAL);
}

static void test_uplink_name_slash(void **state) {
        Fixture *f = *state;

        assert_uplink_rejected(f, "eth/0", 2, -EINVAL);
}

static void test_uplink_name_dot_dot(void **state) {
        Fixture *f = *state;

        assert_uplink_rejected(f, "..", 2, -EINVAL);
}

/* validate_subnet(): against each pool of the default layout at 100.115.92.0/23 */

static void assert_subnet_ok(Fixture *f, PoolKind pool, uint32_t base, uint32_t prefix_len) {
        Subnet s = { 0 };

        assert_int_equal(validate_subnet(&f->pools, pool, base, prefix_len, &s, &f->err), 0);
        assert_int_equal(s.base, base);
        assert_int_equal(s.prefix_len, prefix_len);
}

static void assert_subnet_rejected(Fixture *f, PoolKind pool, uint32_t base,
                                   uint32_t prefix_len) {
        Subnet s = { .base = 0x01020304u, .prefix_len = 9 };
        int r;

        r = validate_subnet(&f->pools, pool, base, prefix_len, &s, &f->err);
        assert_int_equal(r, -EINVAL);
        assert_rejected(r, &f->err);
        /* The reason names the pool, and the output is left alone. */
        assert_non_null(strstr(f->err.msg, pool_kind_to_string(pool)));
        assert_int_equal(s.base, 0x01020304u);
        assert_int_equal(s.prefix_len, 9);
}

static void test_subnet_null_ret(void **state) {
        Fixture *f = *state;

        assert_int_equal(validate_subnet(&f->pools, POOL_TERMINA, 0x64735c18u, 30, NULL,
                                         &f->err), 0);
}

/* ARC: 100.115.92.0/30, one subnet */

static void test_subnet_arc_ok(void **state) {
        Fixture *f = *state;

        assert_subnet_ok(f, POOL_ARC, 0x64735c00u, 30); /* 100.115.92.0 */
}

static void test_subnet_arc_misaligned(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_ARC, 0x64735c02u, 30); /* 100.115.92.2 */
}

static void test_subnet_arc_wrong_prefix(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_ARC, 0x64735c00u, 29);
}

static void test_subnet_arc_outside(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_ARC, 0x64735c04u, 30); /* 100.115.92.4, ARC per-uplink */
}

static void test_subnet_arc_prefix_33(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_ARC, 0x64735c00u, 33);
}

/* ARC per-uplink: 100.115.92.4/30 x5 */

static void test_subnet_arc_net_first_ok(void **state) {
        Fixture *f = *state;

        assert_subnet_ok(f, POOL_ARC_NET, 0x64735c04u, 30); /* 100.115.92.4 */
}

static void test_subnet_arc_net_last_ok(void **state) {
        Fixture *f = *state;

        assert_subnet_ok(f, POOL_ARC_NET, 0x64735c14u, 30); /* 100.115.92.20 */
}

static void test_subnet_arc_net_misaligned(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_ARC_NET, 0x64735c06u, 30); /* 100.115.92.6 */
}

static void test_subnet_arc_net_wrong_prefix(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_ARC_NET, 0x64735c08u, 29); /* 100.115.92.8/29 */
}

static void test_subnet_arc_net_below(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_ARC_NET, 0x64735c00u, 30); /* 100.115.92.0, ARC's */
}

static void test_subnet_arc_net_past(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_ARC_NET, 0x64735c18u, 30); /* 100.115.92.24, Termina */
}

static void test_subnet_arc_net_prefix_33(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_ARC_NET, 0x64735c04u, 33);
}

/* Termina: 100.115.92.24/30 x26 */

static void test_subnet_termina_first_ok(void **state) {
        Fixture *f = *state;

        assert_subnet_ok(f, POOL_TERMINA, 0x64735c18u, 30); /* 100.115.92.24 */
}

static void test_subnet_termina_last_ok(void **state) {
        Fixture *f = *state;

        assert_subnet_ok(f, POOL_TERMINA, 0x64735c7cu, 30); /* 100.115.92.124 */
}

static void test_subnet_termina_misaligned(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_TERMINA, 0x64735c1au, 30); /* 100.115.92.26 */
}

static void test_subnet_termina_wrong_prefix(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_TERMINA, 0x64735c18u, 31);
}

static void test_subnet_termina_past(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_TERMINA, 0x64735c80u, 30); /* 100.115.92.128, netns */
}

static void test_subnet_termina_elsewhere(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_TERMINA, 0x0a000018u, 30); /* 10.0.0.24 */
}

static void test_subnet_termina_prefix_33(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_TERMINA, 0x64735c18u, 33);
}

static void test_subnet_termina_prefix_wraps_to_30(void **state) {
        Fixture *f = *state;

        /* 286 = 256 + 30: must not be taken for /30 after a cast to uint8_t. */
        assert_subnet_rejected(f, POOL_TERMINA, 0x64735c18u, 286);
}

static void test_subnet_termina_prefix_uint32_max(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_TERMINA, 0x64735c18u, UINT32_MAX);
}

/* ConnectNamespace: 100.115.92.128/30 x16 */

static void test_subnet_netns_first_ok(void **state) {
        Fixture *f = *state;

        assert_subnet_ok(f, POOL_NETNS, 0x64735c80u, 30); /* 100.115.92.128 */
}

static void test_subnet_netns_last_ok(void **state) {
        Fixture *f = *state;

        assert_subnet_ok(f, POOL_NETNS, 0x64735cbcu, 30); /* 100.115.92.188 */
}

static void test_subnet_netns_misaligned(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_NETNS, 0x64735c82u, 30); /* 100.115.92.130 */
}

static void test_subnet_netns_wrong_prefix(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_NETNS, 0x64735c80u, 29);
}

static void test_subnet_netns_past(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_NETNS, 0x64735cc0u, 30); /* 100.115.92.192, LXD */
}

static void test_subnet_netns_prefix_33(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_NETNS, 0x64735c80u, 33);
}

/* LXD: 100.115.92.192/28 x4 */

static void test_subnet_lxd_first_ok(void **state) {
        Fixture *f = *state;

        assert_subnet_ok(f, POOL_LXD, 0x64735cc0u, 28); /* 100.115.92.192 */
}

static void test_subnet_lxd_last_ok(void **state) {
        Fixture *f = *state;

        assert_subnet_ok(f, POOL_LXD, 0x64735cf0u, 28); /* 100.115.92.240 */
}

static void test_subnet_lxd_misaligned(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_LXD, 0x64735cc8u, 28); /* 100.115.92.200 */
}

static void test_subnet_lxd_wrong_prefix(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_LXD, 0x64735cc0u, 30);
}

static void test_subnet_lxd_below(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_LXD, 0x64735cb0u, 28); /* 100.115.92.176, netns */
}

static void test_subnet_lxd_past(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_LXD, 0x64735d00u, 28); /* 100.115.93.0, PluginVM */
}

static void test_subnet_lxd_prefix_33(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_LXD, 0x64735cc0u, 33);
}

static void test_subnet_lxd_prefix_wraps_to_28(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_LXD, 0x64735cc0u, 256 + 28);
}

/* PluginVM: 100.115.93.0/29 x32 */

static void test_subnet_pluginvm_first_ok(void **state) {
        Fixture *f = *state;

        assert_subnet_ok(f, POOL_PLUGINVM, 0x64735d00u, 29); /* 100.115.93.0 */
}

static void test_subnet_pluginvm_last_ok(void **state) {
        Fixture *f = *state;

        assert_subnet_ok(f, POOL_PLUGINVM, 0x64735df8u, 29); /* 100.115.93.248 */
}

static void test_subnet_pluginvm_misaligned(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_PLUGINVM, 0x64735d04u, 29); /* 100.115.93.4 */
}

static void test_subnet_pluginvm_wrong_prefix(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_PLUGINVM, 0x64735d00u, 30);
}

static void test_subnet_pluginvm_past(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_PLUGINVM, 0x64735e00u, 29); /* 100.115.94.0 */
}

static void test_subnet_pluginvm_prefix_33(void **state) {
        Fixture *f = *state;

        assert_subnet_rejected(f, POOL_PLUGINVM, 0x64735d00u, 33);
}

/* validate_vm_tap_add(): accepted */

static int vm_tap_add(Fixture *f) {
        return validate_vm_tap_add(&f->pools, &f->tap, &f->tap_args, &f->err);
}

static void assert_vm_tap_add_rejected(Fixture *f) {
        int r = vm_tap_add(f);

        assert_int_equal(r, -EINVAL);
        assert_rejected(r, &f->err);
}

static void test_vm_tap_add_termina_ok(void **state) {
        Fixture *f = *state;

        assert_int_equal(vm_tap_add(f), 0);
}

static void test_vm_tap_add_termina_last_subnet_ok(void **state) {
        Fixture *f = *state;

        f->tap.subnet_base = 0x64735c7cu; /* 100.115.92.124 */
        assert_int_equal(vm_tap_add(f), 0);
}

static void test_vm_tap_add_termina_lxd_ok(void **state) {
        Fixture *f = *state;

        f->tap.lxd_subnet_base = 0x64735cc0u; /* 100.115.92.192 */
        f->tap.lxd_subnet_prefix_len = 28;
        assert_int_equal(vm_tap_add(f), 0);
}

static void test_vm_tap_add_termina_lxd_last_ok(void **state) {
        Fixture *f = *state;

        f->tap.lxd_subnet_base = 0x64735cf0u; /* 100.115.92.240 */
        f->tap.lxd_subnet_prefix_len = 28;
        assert_int_equal(vm_tap_add(f), 0);
}

static void test_vm_tap_add_pluginvm_ok(void **state) {
        Fixture *f = *state;

        f->tap.kind = PATCHPANEL__IPC__VM_KIND__VM_KIND_PLUGINVM;
        f->tap.subnet_base = 0x64735d00u; /* 100.115.93.0 */
        f->tap.subnet_prefix_len = 29;
        assert_int_equal(vm_tap_add(f), 0);
}

/* validate_vm_tap_add(): rejected, one field per test */

static void test_vm_tap_add_termina_subnet_misaligned(void **state) {
        Fixture *f = *state;

        f->tap.subnet_base = 0x64735c19u; /* 100.115.92.25 */
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_termina_prefix_29(void **state) {
        Fixture *f = *state;

        f->tap.subnet_prefix_len = 29;
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_termina_prefix_33(void **state) {
        Fixture *f = *state;

        f->tap.subnet_prefix_len = 33;
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_termina_subnet_in_netns_pool(void **state) {
        Fixture *f = *state;

        f->tap.subnet_base = 0x64735c80u; /* 100.115.92.128 */
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_termina_subnet_in_pluginvm_pool(void **state) {
        Fixture *f = *state;

        f->tap.subnet_base = 0x64735d00u; /* 100.115.93.0 */
        f->tap.subnet_prefix_len = 29;
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_termina_subnet_missing(void **state) {
        Fixture *f = *state;

        f->tap.subnet_base = 0;
        f->tap.subnet_prefix_len = 0;
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_termina_lxd_outside(void **state) {
        Fixture *f = *state;

        f->tap.lxd_subnet_base = 0x64735d00u; /* 100.115.93.0, past the LXD pool */
        f->tap.lxd_subnet_prefix_len = 28;
        assert_vm_tap_add_rejected(f);
        assert_non_null(strstr(f->err.msg, "lxd"));
}

static void test_vm_tap_add_termina_lxd_in_termina_pool(void **state) {
        Fixture *f = *state;

        /* The VM's own kind of subnet is not a container subnet. */
        f->tap.lxd_subnet_base = 0x64735c1cu; /* 100.115.92.28 */
        f->tap.lxd_subnet_prefix_len = 30;
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_termina_lxd_misaligned(void **state) {
        Fixture *f = *state;

        f->tap.lxd_subnet_base = 0x64735cc8u; /* 100.115.92.200 */
        f->tap.lxd_subnet_prefix_len = 28;
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_termina_lxd_prefix_30(void **state) {
        Fixture *f = *state;

        f->tap.lxd_subnet_base = 0x64735cc0u;
        f->tap.lxd_subnet_prefix_len = 30;
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_termina_lxd_prefix_33(void **state) {
        Fixture *f = *state;

        f->tap.lxd_subnet_base = 0x64735cc0u;
        f->tap.lxd_subnet_prefix_len = 33;
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_termina_lxd_base_only(void **state) {
        Fixture *f = *state;

        f->tap.lxd_subnet_base = 0x64735cc0u;
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_termina_lxd_prefix_only(void **state) {
        Fixture *f = *state;

        f->tap.lxd_subnet_prefix_len = 28;
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_pluginvm_with_lxd(void **state) {
        Fixture *f = *state;

        f->tap.kind = PATCHPANEL__IPC__VM_KIND__VM_KIND_PLUGINVM;
        f->tap.subnet_base = 0x64735d00u;
        f->tap.subnet_prefix_len = 29;
        f->tap.lxd_subnet_base = 0x64735cc0u;
        f->tap.lxd_subnet_prefix_len = 28;
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_pluginvm_with_lxd_prefix_only(void **state) {
        Fixture *f = *state;

        f->tap.kind = PATCHPANEL__IPC__VM_KIND__VM_KIND_PLUGINVM;
        f->tap.subnet_base = 0x64735d00u;
        f->tap.subnet_prefix_len = 29;
        f->tap.lxd_subnet_prefix_len = 28;
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_pluginvm_subnet_in_termina_pool(void **state) {
        Fixture *f = *state;

        /* The fixture's Termina subnet, with the kind changed. */
        f->tap.kind = PATCHPANEL__IPC__VM_KIND__VM_KIND_PLUGINVM;
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_pluginvm_misaligned(void **state) {
        Fixture *f = *state;

        f->tap.kind = PATCHPANEL__IPC__VM_KIND__VM_KIND_PLUGINVM;
        f->tap.subnet_base = 0x64735d04u; /* 100.115.93.4 */
        f->tap.subnet_prefix_len = 29;
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_kind_unspecified(void **state) {
        Fixture *f = *state;

        f->tap.kind = PATCHPANEL__IPC__VM_KIND__VM_KIND_UNSPECIFIED;
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_kind_7(void **state) {
        Fixture *f = *state;

        f->tap.kind = (Patchpanel__Ipc__VmKind) 7;
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_kind_negative(void **state) {
        Fixture *f = *state;

        f->tap.kind = (Patchpanel__Ipc__VmKind) -1;
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_mac_5_bytes(void **state) {
        Fixture *f = *state;

        f->tap.mac.len = 5;
        assert_vm_tap_add_rejected(f);
        assert_non_null(strstr(f->err.msg, "TAP"));
}

static void test_vm_tap_add_mac_7_bytes(void **state) {
        Fixture *f = *state;

        f->tap.mac.len = 7;
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_mac_missing(void **state) {
        Fixture *f = *state;

        f->tap.mac = bytes(NULL, 0);
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_mac_multicast(void **state) {
        Fixture *f = *state;

        f->tap_mac[0] = 0x01;
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_mac_zero(void **state) {
        Fixture *f = *state;

        memset(f->tap_mac, 0, sizeof f->tap_mac);
        assert_vm_tap_add_rejected(f);
}

static void test_vm_tap_add_pluginvm_mac_missing(void **state) {
        Fixture *f = *state;

        f->tap.kind = PATCHPANEL__IPC__VM_KIND__VM_KIND_PLUGINVM;
        f->tap.subnet_base = 0x64735d00u;
        f->tap.subnet_prefix_len = 29;
        f->tap.mac = bytes(NULL, 0);
        assert_vm_tap_add_rejected(f);
}

/* validate_tap_name() */

static void assert_tap_name_rejected(Fixture *f, const char *ifname) {
        int r = validate_tap_name(ifname, &f->err);

        assert_int_equal(r, -EINVAL);
        assert_rejected(r, &f->err);
}

static void test_tap_name_0(void **state) {
        Fixture *f = *state;

        assert_int_equal(validate_tap_name("vmtap0", &f->err), 0);
}

static void test_tap_name_123(void **state) {
        Fixture *f = *state;

        assert_int_equal(validate_tap_name("vmtap123", &f->err), 0);
}

static void test_tap_name_prefix_only(void **state) {
        Fixture *f = *state;

        assert_tap_name_rejected(f, "vmtap");
}

static void test_tap_name_letter(void **state) {
        Fixture *f = *state;

        assert_tap_name_rejected(f, "vmtapx");
}

static void test_tap_name_negative(void **state) {
        Fixture *f = *state;

        assert_tap_name_rejected(f, "vmtap-1");
}

static void test_tap_name_leading_char(void **state) {
        Fixture *f = *state;

        assert_tap_name_rejected(f, "xvmtap0");
}

static void test_tap_name_16_chars(void **state) {
        Fixture *f = *state;

        assert_tap_name_rejected(f, "vmtap99999999999");
}

static void test_tap_name_uplink(void **state) {
        Fixture *f = *state;

        assert_tap_name_rejected(f, "eth0");
}

static void test_tap_name_bridge(void **state) {
        Fixture *f = *state;

        assert_tap_name_rejected(f, ARC_BRIDGE);
}

static void test_tap_name_empty(void **state) {
        Fixture *f = *state;

        assert_tap_name_rejected(f, "");
}

static void test_tap_name_null(void **state) {
        Fixture *f = *state;

        assert_tap_name_rejected(f, NULL);
}

/* validate_arc_add(): accepted */

static int arc_add(Fixture *f) {
        return validate_arc_add(&f->arc, SELF, MANAGER, NULL, &f->err);
}

static void assert_arc_add_rejected(Fixture *f) {
        int r = arc_add(f);

        assert_int_equal(r, -EINVAL);
        assert_rejected(r, &f->err);
}

static void test_arc_add_container_ok(void **state) {
        Fixture *f = *state;

        assert_int_equal(arc_add(f), 0);
}

static void test_arc_add_vm_ok(void **state) {
        Fixture *f = *state;

        f->arc.vm = 1;
        assert_int_equal(arc_add(f), 0);
}

static void test_arc_add_vm_no_pid_ok(void **state) {
        Fixture *f = *state;

        /* ARCVM has no pid and no arc0 inside a namespace: neither is looked at. */
        f->arc.vm = 1;
        f->arc.pid = 0;
        f->arc.guest_mac = bytes(NULL, 0);
        assert_int_equal(arc_add(f), 0);
}

/* validate_arc_add(): container, rejected, one field per test */

static void test_arc_add_pid_0(void **state) {
        Fixture *f = *state;

        f->arc.pid = 0;
        assert_arc_add_rejected(f);
}

static void test_arc_add_pid_1(void **state) {
        Fixture *f = *state;

        f->arc.pid = 1;
        assert_arc_add_rejected(f);
}

static void test_arc_add_pid_negative(void **state) {
        Fixture *f = *state;

        f->arc.pid = -5;
        assert_arc_add_rejected(f);
}

static void test_arc_add_pid_self(void **state) {
        Fixture *f = *state;

        f->arc.pid = SELF;
        assert_arc_add_rejected(f);
}

static void test_arc_add_pid_manager(void **state) {
        Fixture *f = *state;

        f->arc.pid = MANAGER;
        assert_arc_add_rejected(f);
}

static void test_arc_add_mac_5_bytes(void **state) {
        Fixture *f = *state;

        f->arc.guest_mac.len = 5;
        assert_arc_add_rejected(f);
        assert_non_null(strstr(f->err.msg, ARC_GUEST_IFNAME));
}

static void test_arc_add_mac_7_bytes(void **state) {
        Fixture *f = *state;

        f->arc.guest_mac.len = 7;
        assert_arc_add_rejected(f);
}

static void test_arc_add_mac_missing(void **state) {
        Fixture *f = *state;

        f->arc.guest_mac = bytes(NULL, 0);
        assert_arc_add_rejected(f);
}

static void test_arc_add_mac_multicast(void **state) {
        Fixture *f = *state;

        f->arc_mac[0] = 0x01;
        assert_arc_add_rejected(f);
}

static void test_arc_add_mac_zero(void **state) {
        Fixture *f = *state;

        memset(f->arc_mac, 0, sizeof f->arc_mac);
        assert_arc_add_rejected(f);
}

/* validate_arc_remove() */

static void assert_arc_remove_rejected(Fixture *f) {
        int r = validate_arc_remove(&f->arc_remove, NULL, &f->err);

        assert_int_equal(r, -EINVAL);
        assert_rejected(r, &f->err);
}

static void test_arc_remove_container_ok(void **state) {
        Fixture *f = *state;

        assert_int_equal(validate_arc_remove(&f->arc_remove, NULL, &f->err), 0);
}

static void test_arc_remove_vm_ok(void **state) {
        Fixture *f = *state;

        f->arc_remove.vm = 1;
        f->arc_remove.n_taps = ARC_VM_N_TAPS;
        assert_int_equal(validate_arc_remove(&f->arc_remove, NULL, &f->err), 0);
}

static void test_arc_remove_container_with_tap(void **state) {
        Fixture *f = *state;

        f->arc_remove.n_taps = 1;
        assert_arc_remove_rejected(f);
}

static void test_arc_remove_container_with_taps(void **state) {
        Fixture *f = *state;

        f->arc_remove.n_taps = ARC_VM_N_TAPS;
        assert_arc_remove_rejected(f);
}

static void test_arc_remove_vm_no_taps(void **state) {
        Fixture *f = *state;

        f->arc_remove.vm = 1;
        assert_arc_remove_rejected(f);
}

static void test_arc_remove_vm_one_tap_short(void **state) {
        Fixture *f = *state;

        f->arc_remove.vm = 1;
        f->arc_remove.n_taps = ARC_VM_N_TAPS - 1;
        assert_arc_remove_rejected(f);
}

static void test_arc_remove_vm_one_tap_over(void **state) {
        char *taps[ARC_VM_N_TAPS + 1];
        char extra[] = "vmtap99";
        Fixture *f = *state;

        memcpy(taps, f->arc_taps, sizeof f->arc_taps);
        taps[ARC_VM_N_TAPS] = extra;
        f->arc_remove.vm = 1;
        f->arc_remove.taps = taps;
        f->arc_remove.n_taps = ARC_VM_N_TAPS + 1;
        assert_arc_remove_rejected(f);
}

static void test_arc_remove_vm_first_name_bad(void **state) {
        Fixture *f = *state;

        strcpy(f->arc_tap_names[0], "eth0");
        f->arc_remove.vm = 1;
        f->arc_remove.n_taps = ARC_VM_N_TAPS;
        assert_arc_remove_rejected(f);
}

static void test_arc_remove_vm_last_name_bad(void **state) {
        Fixture *f = *state;

        strcpy(f->arc_tap_names[ARC_VM_N_TAPS - 1], ARC_BRIDGE);
        f->arc_remove.vm = 1;
        f->arc_remove.n_taps = ARC_VM_N_TAPS;
        assert_arc_remove_rejected(f);
}

static void test_arc_remove_vm_name_empty(void **state) {
        Fixture *f = *state;

        f->arc_tap_names[2][0] = '\0';
        f->arc_remove.vm = 1;
        f->arc_remove.n_taps = ARC_VM_N_TAPS;
        assert_arc_remove_rejected(f);
}

static void test_arc_remove_vm_name_null(void **state) {
        Fixture *f = *state;

        f->arc_taps[3] = NULL;
        f->arc_remove.vm = 1;
        f->arc_remove.n_taps = ARC_VM_N_TAPS;
        assert_arc_remove_rejected(f);
}

/* validate_arc_uplink_add(): accepted */

static int arc_uplink_add(Fixture *f) {
        return validate_arc_uplink_add(&f->pools, &f->uplink, SELF, MANAGER, &f->uplink_args, &f->err);
}

static void assert_arc_uplink_add_rejected(Fixture *f, int expected) {
        int r = arc_uplink_add(f);

        assert_int_equal(r, expected);
        assert_rejected(r, &f->err);
}

static void set_uplink_vm(Fixture *f) {
        f->uplink.vm = 1;
        f->uplink.tap_ifname = f->uplink_tap;
        f->uplink.pid = 0;
        f->uplink.guest_mac = bytes(NULL, 0);
}

static void test_arc_uplink_add_container_ok(void **state) {
        Fixture *f = *state;

        assert_int_equal(arc_uplink_add(f), 0);
}

static void test_arc_uplink_add_last_subnet_ok(void **state) {
        Fixture *f = *state;

        f->uplink.subnet_base = 0x64735c14u; /* 100.115.92.20 */
        assert_int_equal(arc_uplink_add(f), 0);
}

static void test_arc_uplink_add_long_uplink_ok(void **state) {
        Fixture *f = *state;

        /* Its bridge and veth names get cut, which is not the validator's business. */
        strcpy(f->uplink_name, "wlp0s20f3abc1");
        assert_int_equal(arc_uplink_add(f), 0);
}

static void test_arc_uplink_add_vm_ok(void **state) {
        Fixture *f = *state;

        /* No pid and no guest MAC: the VM side is the TAP. */
        set_uplink_vm(f);
        assert_int_equal(arc_uplink_add(f), 0);
}

/* validate_arc_uplink_add(): rejected, one field per test */

static void test_arc_uplink_add_uplink_name_empty(void **state) {
        Fixture *f = *state;

        f->uplink_name[0] = '\0';
        assert_arc_uplink_add_rejected(f, -EINVAL);
}

static void test_arc_uplink_add_uplink_name_slash(void **state) {
        Fixture *f = *state;

        strcpy(f->uplink_name, "eth/0");
        assert_arc_uplink_add_rejected(f, -EINVAL);
}

static void test_arc_uplink_add_uplink_name_16_chars(void **state) {
        char name[] = "abcdefghijklmnop";
        Fixture *f = *state;

        f->uplink.uplink_ifname = name;
        assert_arc_uplink_add_rejected(f, -EINVAL);
}

static void test_arc_uplink_add_ifindex_0(void **state) {
        Fixture *f = *state;

        f->uplink.uplink_ifindex = 0;
        assert_arc_uplink_add_rejected(f, -ERANGE);
}

static void test_arc_uplink_add_ifindex_negative(void **state) {
        Fixture *f = *state;

        f->uplink.uplink_ifindex = -2;
        assert_arc_uplink_add_rejected(f, -ERANGE);
}

static void test_arc_uplink_add_ifindex_above_max(void **state) {
        Fixture *f = *state;

        f->uplink.uplink_ifindex = 0xffff - ROUTING_TABLE_OFFSET + 1;
        assert_arc_uplink_add_rejected(f, -ERANGE);
}

static void test_arc_uplink_add_subnet_arc(void **state) {
        Fixture *f = *state;

        f->uplink.subnet_base = 0x64735c00u; /* 100.115.92.0, arcbr0's */
        assert_arc_uplink_add_rejected(f, -EINVAL);
        assert_non_null(strstr(f->err.msg, "arc-net"));
}

static void test_arc_uplink_add_subnet_termina(void **state) {
        Fixture *f = *state;

        f->uplink.subnet_base = 0x64735c18u; /* 100.115.92.24 */
        assert_arc_uplink_add_rejected(f, -EINVAL);
}

static void test_arc_uplink_add_subnet_misaligned(void **state) {
        Fixture *f = *state;

        f->uplink.subnet_base = 0x64735c05u; /* 100.115.92.5 */
        assert_arc_uplink_add_rejected(f, -EINVAL);
}

static void test_arc_uplink_add_prefix_29(void **state) {
        Fixture *f = *state;

        f->uplink.subnet_prefix_len = 29;
        assert_arc_uplink_add_rejected(f, -EINVAL);
}

static void test_arc_uplink_add_prefix_33(void **state) {
        Fixture *f = *state;

        f->uplink.subnet_prefix_len = 33;
        assert_arc_uplink_add_rejected(f, -EINVAL);
}

static void test_arc_uplink_add_pid_0(void **state) {
        Fixture *f = *state;

        f->uplink.pid = 0;
        assert_arc_uplink_add_rejected(f, -EINVAL);
}

static void test_arc_uplink_add_pid_1(void **state) {
        Fixture *f = *state;

        f->uplink.pid = 1;
        assert_arc_uplink_add_rejected(f, -EINVAL);
}

static void test_arc_uplink_add_pid_self(void **state) {
        Fixture *f = *state;

        f->uplink.pid = SELF;
        assert_arc_uplink_add_rejected(f, -EINVAL);
}

static void test_arc_uplink_add_pid_manager(void **state) {
        Fixture *f = *state;

        f->uplink.pid = MANAGER;
        assert_arc_uplink_add_rejected(f, -EINVAL);
}

static void test_arc_uplink_add_mac_missing(void **state) {
        Fixture *f = *state;

        f->uplink.guest_mac = bytes(NULL, 0);
        assert_arc_uplink_add_rejected(f, -EINVAL);
        assert_non_null(strstr(f->err.msg, "guest"));
}

static void test_arc_uplink_add_mac_5_bytes(void **state) {
        Fixture *f = *state;

        f->uplink.guest_mac.len = 5;
        assert_arc_uplink_add_rejected(f, -EINVAL);
}

static void test_arc_uplink_add_mac_multicast(void **state) {
        Fixture *f = *state;

        f->uplink_mac[0] = 0x01;
        assert_arc_uplink_add_rejected(f, -EINVAL);
}

static void test_arc_uplink_add_mac_zero(void **state) {
        Fixture *f = *state;

        memset(f->uplink_mac, 0, sizeof f->uplink_mac);
        assert_arc_uplink_add_rejected(f, -EINVAL);
}

static void test_arc_uplink_add_vm_tap_missing(void **state) {
        Fixture *f = *state;

        set_uplink_vm(f);
        f->uplink_tap[0] = '\0';
        assert_arc_uplink_add_rejected(f, -EINVAL);
}

static void test_arc_uplink_add_vm_tap_not_tap(void **state) {
        Fixture *f = *state;

        set_uplink_vm(f);
        strcpy(f->uplink_tap, "eth1");
        assert_arc_uplink_add_rejected(f, -EINVAL);
}

static void test_arc_uplink_add_vm_tap_is_uplink(void **state) {
        Fixture *f = *state;

        set_uplink_vm(f);
        f->uplink.tap_ifname = f->uplink_name;
        assert_arc_uplink_add_rejected(f, -EINVAL);
}

static void test_arc_uplink_add_vm_tap_null(void **state) {
        Fixture *f = *state;

        set_uplink_vm(f);
        f->uplink.tap_ifname = NULL;
        assert_arc_uplink_add_rejected(f, -EINVAL);
}

static void test_arc_uplink_add_vm_ifindex_0(void **state) {
        Fixture *f = *state;

        /* A VM's uplink is checked as a container's is. */
        set_uplink_vm(f);
        f->uplink.uplink_ifindex = 0;
        assert_arc_uplink_add_rejected(f, -ERANGE);
}

static void test_arc_uplink_add_vm_subnet_termina(void **state) {
        Fixture *f = *state;

        set_uplink_vm(f);
        f->uplink.subnet_base = 0x64735c18u;
        assert_arc_uplink_add_rejected(f, -EINVAL);
}

/* validate_arc_uplink_remove() */

static void assert_arc_uplink_remove_rejected(Fixture *f) {
        int r = validate_arc_uplink_remove(&f->uplink_remove, NULL, &f->err);

        assert_int_equal(r, -EINVAL);
        assert_rejected(r, &f->err);
}

static void test_arc_uplink_remove_container_ok(void **state) {
        Fixture *f = *state;

        assert_int_equal(validate_arc_uplink_remove(&f->uplink_remove, NULL, &f->err), 0);
}

static void test_arc_uplink_remove_vm_ok(void **state) {
        Fixture *f = *state;

        f->uplink_remove.vm = 1;
        f->uplink_remove.tap_ifname = f->uplink_remove_tap;
        assert_int_equal(validate_arc_uplink_remove(&f->uplink_remove, NULL, &f->err), 0);
}

static void test_arc_uplink_remove_uplink_name_empty(void **state) {
        Fixture *f = *state;

        f->uplink_remove_name[0] = '\0';
        assert_arc_uplink_remove_rejected(f);
}

static void test_arc_uplink_remove_uplink_name_slash(void **state) {
        Fixture *f = *state;

        strcpy(f->uplink_remove_name, "eth/0");
        assert_arc_uplink_remove_rejected(f);
}

static void test_arc_uplink_remove_uplink_name_16_chars(void **state) {
        char name[] = "abcdefghijklmnop";
        Fixture *f = *state;

        f->uplink_remove.uplink_ifname = name;
        assert_arc_uplink_remove_rejected(f);
}

static void test_arc_uplink_remove_uplink_name_null(void **state) {
        Fixture *f = *state;

        f->uplink_remove.uplink_ifname = NULL;
        assert_arc_uplink_remove_rejected(f);
}

static void test_arc_uplink_remove_vm_tap_missing(void **state) {
        Fixture *f = *state;

        f->uplink_remove.vm = 1;
        assert_arc_uplink_remove_rejected(f);
}

static void test_arc_uplink_remove_vm_tap_not_tap(void **state) {
        Fixture *f = *state;

        strcpy(f->uplink_remove_tap, "eth1");
        f->uplink_remove.vm = 1;
        f->uplink_remove.tap_ifname = f->uplink_remove_tap;
        assert_arc_uplink_remove_rejected(f);
}

static void test_arc_uplink_remove_vm_uplink_name_bad(void **state) {
        Fixture *f = *state;

        strcpy(f->uplink_remove_name, "-eth0");
        f->uplink_remove.vm = 1;
        f->uplink_remove.tap_ifname = f->uplink_remove_tap;
        assert_arc_uplink_remove_rejected(f);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)


/* What the checks hand the handlers: decoded once, names derived from ids. */

static void test_ns_connect_args(void **state) {
        Fixture *f = *state;

        f->msg.ns_id = 7;
        assert_int_equal(ns_connect(f), 0);
        assert_int_equal(f->ns_args.ns_id, 7);
        assert_string_equal(f->ns_args.host, "arc_ns7");
        assert_string_equal(f->ns_args.peer, "veth7");
        assert_int_equal(f->ns_args.pid, f->msg.pid);
        assert_int_equal(f->ns_args.pidfd, -EBADF); /* the dispatcher's to fill */
        assert_int_equal(f->ns_args.subnet.base, f->msg.subnet_base);
        assert_int_equal(f->ns_args.subnet.prefix_len, f->msg.subnet_prefix_len);
        assert_memory_equal(f->ns_args.host_mac.b, f->host_mac, MAC_LEN);
        assert_memory_equal(f->ns_args.peer_mac.b, f->peer_mac, MAC_LEN);
        assert_int_equal(f->ns_args.outbound_ifindex, 0);
        assert_string_equal(f->ns_args.outbound_ifname, "");
}

static void test_ns_connect_args_pinned(void **state) {
        Fixture *f = *state;

        f->msg.outbound_ifindex = 3;
        f->msg.outbound_ifname = (char *) "eth1";
        assert_int_equal(ns_connect(f), 0);
        assert_int_equal(f->ns_args.outbound_ifindex, 3);
        assert_string_equal(f->ns_args.outbound_ifname, "eth1");
}

static void test_ns_connect_name_without_ifindex(void **state) {
        Fixture *f = *state;
        int r;

        f->msg.outbound_ifname = (char *) "eth1";
        r = ns_connect(f);
        assert_int_equal(r, -EINVAL);
        assert_rejected(r, &f->err);
}

static void test_ns_connect_pinned_bad_name(void **state) {
        Fixture *f = *state;
        int r;

        f->msg.outbound_ifindex = 3;
        f->msg.outbound_ifname = (char *) "eth 1";
        r = ns_connect(f);
        assert_int_equal(r, -EINVAL);
        assert_rejected(r, &f->err);
}

static void test_ns_connect_failure_leaves_args(void **state) {
        Fixture *f = *state;

        memset(&f->ns_args, 0xaa, sizeof f->ns_args);
        f->msg.pid = 1;
        assert_int_equal(ns_connect(f), -EINVAL);
        for (size_t i = 0; i < sizeof f->ns_args; i++)
                assert_int_equal(((uint8_t *) &f->ns_args)[i], 0xaa);
}

static void test_vm_tap_add_args(void **state) {
        Fixture *f = *state;

        f->tap.lxd_subnet_base = 0x64735cc0u; /* 100.115.92.192, the LXD pool's first /28 */
        f->tap.lxd_subnet_prefix_len = 28;
        assert_int_equal(vm_tap_add(f), 0);
        assert_int_equal(f->tap_args.kind, PATCHPANEL__IPC__VM_KIND__VM_KIND_TERMINA);
        assert_int_equal(f->tap_args.subnet.base, 0x64735c18u);
        assert_int_equal(f->tap_args.subnet.prefix_len, 30);
        assert_int_equal(f->tap_args.lxd.base, 0x64735cc0u);
        assert_int_equal(f->tap_args.lxd.prefix_len, 28);
        assert_memory_equal(f->tap_args.mac.b, f->tap_mac, MAC_LEN);
}

static void test_arc_uplink_add_args(void **state) {
        Fixture *f = *state;

        assert_int_equal(arc_uplink_add(f), 0);
        assert_string_equal(f->uplink_args.uplink.ifname, f->uplink.uplink_ifname);
        assert_int_equal(f->uplink_args.uplink.ifindex, f->uplink.uplink_ifindex);
        assert_true(strncmp(f->uplink_args.bridge, "arc_", 4) == 0);
        assert_true(strncmp(f->uplink_args.veth, "veth", 4) == 0);
        assert_int_equal(f->uplink_args.pidfd, -EBADF);
}

static void test_uplink_none_allowed(void **state) {
        Fixture *f = *state;
        UplinkArgs u = { .ifindex = 99 };

        assert_int_equal(validate_uplink("", 0, true, &u, &f->err), 0);
        assert_int_equal(u.ifindex, 0);
        assert_int_equal(validate_uplink(NULL, 0, true, &u, &f->err), 0);
        assert_int_equal(validate_uplink("eth0", 0, true, &u, &f->err), -EINVAL);
        assert_int_equal(validate_uplink("", 0, false, &u, &f->err), -EINVAL);
}

/* validate_adb_sideload(): a vmtap<N> name, on or off; anything else refused, the
 * arguments untouched. */
static void test_adb_sideload_ok(void **state) {
        static const struct { const char *name; bool enable; } ok[] = {
                { "vmtap0", true }, { "vmtap0", false }, { "vmtap12", true },
                { "vmtap1234567890", true },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                IpcAdbSideload m = PATCHPANEL__IPC__ADB_SIDELOAD__INIT;
                AdbSideloadArgs a;
                ErrBuf err = {};

                m.ifname = (char *) ok[i].name;
                m.enable = ok[i].enable;
                assert_int_equal(validate_adb_sideload(&m, &a, &err), 0);
                assert_string_equal(a.tap, ok[i].name);
                assert_int_equal(a.enable, ok[i].enable);
        }
}

static void test_adb_sideload_refused(void **state) {
        static const char *const bad[] = {
                "", "vmtap", "vmtapx", "vmtap1a", "vmtap-1", "eth0", "arcbr0", "arc_eth0",
                "vmtap12345678901", "vmtap1/../lo", "lo", "VMTAP1", " vmtap1",
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                IpcAdbSideload m = PATCHPANEL__IPC__ADB_SIDELOAD__INIT;
                AdbSideloadArgs a = { .tap = "untouched", .enable = true };
                ErrBuf err = {};

                m.ifname = (char *) bad[i];
                if (validate_adb_sideload(&m, &a, &err) != -EINVAL)
                        fail_msg("accepted %s", bad[i]);
                assert_string_equal(a.tap, "untouched");
                assert_string_equal(err.msg, "not a TAP name of the daemon");
        }
        /* Only checking: no arguments wanted. */
        {
                IpcAdbSideload m = PATCHPANEL__IPC__ADB_SIDELOAD__INIT;
                m.ifname = (char *) "vmtap3";
                assert_int_equal(validate_adb_sideload(&m, NULL, NULL), 0);
        }
}

/* validate_neighbor_probe(): cases that differ only in data, one table. */
typedef struct ProbeCase {
        const char *name;
        const char *ifname;
        int ifindex;
        uint8_t addr[17];
        size_t len;
        int expected; /* 0, or the errno */
        int family;   /* when accepted */
} ProbeCase;

#define V4(a, b, c, d) { a, b, c, d }
#define V6(...) { __VA_ARGS__ }

static const ProbeCase probe_cases[] = {
        { "IPv4 gateway", "eth0", 2, V4(192, 0, 2, 1), 4, 0, AF_INET },
        { "IPv4 DNS server", "wlan0", 7, V4(198, 51, 100, 53), 4, 0, AF_INET },
        { "IPv6 link-local gateway", "eth0", 2, V6(0xfe, 0x80, [15] = 1), 16, 0, AF_INET6 },
        { "IPv6 global", "eth0", 2, V6(0x20, 0x01, 0x0d, 0xb8, [15] = 0x53), 16, 0, AF_INET6 },
        { "IPv6 ::2", "eth0", 2, V6([15] = 2), 16, 0, AF_INET6 },
        { "no address", "eth0", 2, {}, 0, -EINVAL, 0 },
        { "3 bytes", "eth0", 2, { 192, 0, 2 }, 3, -EINVAL, 0 },
        { "5 bytes", "eth0", 2, V4(192, 0, 2, 1), 5, -EINVAL, 0 },
        { "15 bytes", "eth0", 2, V6(0xfe, 0x80), 15, -EINVAL, 0 },
        { "17 bytes", "eth0", 2, V6(0xfe, 0x80), 17, -EINVAL, 0 },
        { "0.0.0.0", "eth0", 2, V4(0, 0, 0, 0), 4, -EINVAL, 0 },
        { "0.1.2.3", "eth0", 2, V4(0, 1, 2, 3), 4, -EINVAL, 0 },
        { "loopback", "eth0", 2, V4(127, 0, 0, 53), 4, -EINVAL, 0 },
        { "multicast", "eth0", 2, V4(224, 0, 0, 251), 4, -EINVAL, 0 },
        { "reserved", "eth0", 2, V4(240, 0, 0, 1), 4, -EINVAL, 0 },
        { "broadcast", "eth0", 2, V4(255, 255, 255, 255), 4, -EINVAL, 0 },
        { "IPv6 unspecified", "eth0", 2, V6(0), 16, -EINVAL, 0 },
        { "IPv6 loopback", "eth0", 2, V6([15] = 1), 16, -EINVAL, 0 },
        { "IPv6 multicast", "eth0", 2, V6(0xff, 0x02, [15] = 1), 16, -EINVAL, 0 },
        { "IPv4-mapped", "eth0", 2, V6([10] = 0xff, [11] = 0xff, 192, 0, 2, 1), 16, -EINVAL, 0 },
        { "ifindex 0", "eth0", 0, V4(192, 0, 2, 1), 4, -ERANGE, 0 },
        { "ifindex negative", "eth0", -5, V4(192, 0, 2, 1), 4, -ERANGE, 0 },
        { "ifindex past the routing tags", "eth0", 0xffff - ROUTING_TABLE_OFFSET + 1,
          V4(192, 0, 2, 1), 4, -ERANGE, 0 },
        { "no name", NULL, 2, V4(192, 0, 2, 1), 4, -EINVAL, 0 },
        { "empty name", "", 2, V4(192, 0, 2, 1), 4, -EINVAL, 0 },
        { "name with a slash", "eth/0", 2, V4(192, 0, 2, 1), 4, -EINVAL, 0 },
        { "16-character name", "eth0123456789abc", 2, V4(192, 0, 2, 1), 4, -EINVAL, 0 },
        { "loopback link", "lo", 1, V4(192, 0, 2, 1), 4, -EINVAL, 0 },
        { "ARC's per-uplink bridge", "arc_eth0", 12, V4(100, 115, 92, 6), 4, -EINVAL, 0 },
        { "a connected namespace's link", "arc_ns3", 13, V4(100, 115, 92, 130), 4, -EINVAL, 0 },
        { "ARC's bridge", "arcbr0", 14, V4(100, 115, 92, 2), 4, -EINVAL, 0 },
        { "ARC's veth", "vetharc0", 15, V4(100, 115, 92, 2), 4, -EINVAL, 0 },
        { "a VM's TAP", "vmtap0", 16, V4(100, 115, 92, 26), 4, -EINVAL, 0 },
        { "a name like lo's", "lo0", 3, V4(192, 0, 2, 1), 4, 0, AF_INET },
};

static void test_neighbor_probe_table(void **state) {
        Fixture *f = *state;

        for (size_t i = 0; i < ELEMENTSOF(probe_cases); i++) {
                const ProbeCase *c = &probe_cases[i];
                IpcNeighborProbe m = PATCHPANEL__IPC__NEIGHBOR_PROBE__INIT;
                uint8_t addr[17];
                NeighborProbeArgs a;
                int r;

                memcpy(addr, c->addr, sizeof addr);
                m.ifname = (char *) c->ifname;
                m.ifindex = c->ifindex;
                m.addr = (ProtobufCBinaryData) { .len = c->len, .data = c->len ? addr : NULL };
                memset(&a, 0xa5, sizeof a);
                f->err.msg[0] = '\0';
                r = validate_neighbor_probe(&m, &a, &f->err);
                if (r != c->expected)
                        fail_msg("%s: got %d, expected %d (%s)", c->name, r, c->expected, f->err.msg);
                if (r < 0) {
                        assert_rejected(r, &f->err);
                        /* A refusal leaves the arguments alone. */
                        assert_int_equal(((const uint8_t *) &a)[0], 0xa5);
                        continue;
                }
                assert_int_equal(a.family, c->family);
                assert_int_equal(a.uplink.ifindex, c->ifindex);
                assert_string_equal(a.uplink.ifname, c->ifname);
                assert_memory_equal(a.addr, c->addr, c->len);
        }
}

/* neighbor_place() and validate_neighbor_place(): where a neighbour lies on eth0, whose
 * addresses a row gives, and whether it may be probed there. One table. */
typedef struct PlaceCase {
        const char *name;
        int family;
        uint8_t addr[16];
        LinkPrefix prefixes[4];
        size_t n_prefixes;
        bool gateway;          /* a default route's gateway through eth0 */
        NeighborPlace place;
        int expected;          /* of validate_neighbor_place() */
        const char *reason;    /* in its refusal */
} PlaceCase;

#define P4(a, b, c, d, len, is_own) \
        { .family = AF_INET, .addr = { a, b, c, d }, .prefix_len = len, .own = is_own }
#define P6(len, is_own, ...) \
        { .family = AF_INET6, .addr = { __VA_ARGS__ }, .prefix_len = len, .own = is_own }
/* eth0's usual addresses: 192.0.2.10/24, 2001:db8:1::10/64, fe80::10/64. */
#define ETH0_V6_ONLY P6(64, true, 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x10), \
                     P6(64, true, 0xfe, 0x80, [15] = 0x10)
#define ETH0 { P4(192, 0, 2, 10, 24, true), ETH0_V6_ONLY }, 3

static const PlaceCase place_cases[] = {
        { "IPv4 gateway on the prefix", AF_INET, V4(192, 0, 2, 1), ETH0, true,
          NEIGHBOR_PLACE_ON_PREFIX, 0, NULL },
        { "IPv4 DNS server on the prefix", AF_INET, V4(192, 0, 2, 53), ETH0, false,
          NEIGHBOR_PLACE_ON_PREFIX, 0, NULL },
        { "IPv6 host on the prefix", AF_INET6, V6(0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x53),
          ETH0, false, NEIGHBOR_PLACE_ON_PREFIX, 0, NULL },
        { "IPv6 link-local gateway", AF_INET6, V6(0xfe, 0x80, [15] = 1), ETH0, true,
          NEIGHBOR_PLACE_ON_PREFIX, 0, NULL },
        { "IPv6 link-local, no address on the link", AF_INET6, V6(0xfe, 0x80, [15] = 1), {}, 0,
          false, NEIGHBOR_PLACE_LINK_LOCAL, 0, NULL },
        { "IPv6 link-local outside fe80::/64", AF_INET6, V6(0xfe, 0xbf, [15] = 1), ETH0, false,
          NEIGHBOR_PLACE_LINK_LOCAL, 0, NULL },
        { "IPv6 subnet-router anycast", AF_INET6, V6(0x20, 0x01, 0x0d, 0xb8, 0, 1), ETH0, false,
          NEIGHBOR_PLACE_ON_PREFIX, 0, NULL },
        { "the link's own IPv4 address", AF_INET, V4(192, 0, 2, 10), ETH0, false,
          NEIGHBOR_PLACE_OWN, -EINVAL, "is an address of eth0 itself" },
        { "the link's own address, called a gateway", AF_INET, V4(192, 0, 2, 10), ETH0, true,
          NEIGHBOR_PLACE_OWN, -EINVAL, "is an address of eth0 itself" },
        { "the link's own link-local address", AF_INET6, V6(0xfe, 0x80, [15] = 0x10), ETH0,
          false, NEIGHBOR_PLACE_OWN, -EINVAL, "itself" },
        { "IPv4 off every prefix", AF_INET, V4(198, 51, 100, 1), ETH0, false,
          NEIGHBOR_PLACE_OFF_PREFIX, -EINVAL, "198.51.100.1 is on none of the prefixes of eth0" },
        { "IPv6 off every prefix", AF_INET6, V6(0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 1), ETH0,
          false, NEIGHBOR_PLACE_OFF_PREFIX, -EINVAL, "2001:db8:2::1 is on none of the prefixes" },
        { "IPv4, the link has only IPv6", AF_INET, V4(192, 0, 2, 1), { ETH0_V6_ONLY }, 2, false,
          NEIGHBOR_PLACE_OFF_PREFIX, -EINVAL, "on none of the prefixes" },
        { "no address at all", AF_INET, V4(192, 0, 2, 1), {}, 0, false,
          NEIGHBOR_PLACE_OFF_PREFIX, -EINVAL, "on none of the prefixes" },
        { "onlink gateway off the prefix (a /32 address)", AF_INET, V4(198, 51, 100, 1),
          { P4(203, 0, 113, 5, 32, true) }, 1, true, NEIGHBOR_PLACE_OFF_PREFIX, 0, NULL },
        { "beside a /32 address, no gateway", AF_INET, V4(203, 0, 113, 6),
          { P4(203, 0, 113, 5, 32, true) }, 1, false, NEIGHBOR_PLACE_OFF_PREFIX, -EINVAL,
          "on none of the prefixes" },
        { "IPv6 onlink gateway off the prefix", AF_INET6, V6(0x20, 0x01, 0x0d, 0xb8, 0, 9, [15] = 1),
          ETH0, true, NEIGHBOR_PLACE_OFF_PREFIX, 0, NULL },
        { "the network address", AF_INET, V4(192, 0, 2, 0), ETH0, false,
          NEIGHBOR_PLACE_NET_OR_BROADCAST, -EINVAL, "network or broadcast address" },
        { "the broadcast address", AF_INET, V4(192, 0, 2, 255), ETH0, false,
          NEIGHBOR_PLACE_NET_OR_BROADCAST, -EINVAL, "network or broadcast address" },
        { "the network address, a gateway", AF_INET, V4(192, 0, 2, 0), ETH0, true,
          NEIGHBOR_PLACE_NET_OR_BROADCAST, 0, NULL },
        { "a host of another prefix beats network of one", AF_INET, V4(192, 0, 2, 0),
          { P4(192, 0, 2, 10, 24, true), P4(192, 0, 0, 1, 22, true) }, 2, false,
          NEIGHBOR_PLACE_ON_PREFIX, 0, NULL },
        { "both ends of a /31", AF_INET, V4(192, 0, 2, 0), { P4(192, 0, 2, 1, 31, true) }, 1,
          false, NEIGHBOR_PLACE_ON_PREFIX, 0, NULL },
        { "a /0 address", AF_INET, V4(198, 51, 100, 1), { P4(192, 0, 2, 10, 0, true) }, 1, false,
          NEIGHBOR_PLACE_ON_PREFIX, 0, NULL },
        { "the peer of a point-to-point address", AF_INET, V4(10, 0, 0, 2),
          { P4(10, 0, 0, 1, 32, true), P4(10, 0, 0, 2, 32, false) }, 2, false,
          NEIGHBOR_PLACE_ON_PREFIX, 0, NULL },
        { "beside the peer's /32", AF_INET, V4(10, 0, 0, 3),
          { P4(10, 0, 0, 1, 32, true), P4(10, 0, 0, 2, 32, false) }, 2, false,
          NEIGHBOR_PLACE_OFF_PREFIX, -EINVAL, "on none of the prefixes" },
        { "a prefix longer than its family's", AF_INET, V4(192, 0, 2, 1),
          { P4(192, 0, 2, 1, 33, true) }, 1, false, NEIGHBOR_PLACE_OFF_PREFIX, -EINVAL,
          "on none of the prefixes" },
};

static void test_neighbor_place_table(void **state) {
        Fixture *f = *state;

        for (size_t i = 0; i < ELEMENTSOF(place_cases); i++) {
                const PlaceCase *c = &place_cases[i];
                NeighborProbeArgs a = { .uplink = { .ifname = "eth0", .ifindex = 2 },
                                        .family = c->family };
                NeighborPlace place;
                int r;

                memcpy(a.addr, c->addr, sizeof a.addr);
                place = neighbor_place(&a, c->prefixes, c->n_prefixes);
                if (place != c->place)
                        fail_msg("%s: placed %s, expected %s", c->name,
                                 neighbor_place_to_string(place), neighbor_place_to_string(c->place));
                f->err.msg[0] = '\0';
                r = validate_neighbor_place(&a, place, c->gateway, &f->err);
                if (r != c->expected)
                        fail_msg("%s: got %d, expected %d (%s)", c->name, r, c->expected, f->err.msg);
                if (r == 0)
                        continue;
                assert_rejected(r, &f->err);
                if (!strstr(f->err.msg, c->reason))
                        fail_msg("%s: \"%s\" does not say \"%s\"", c->name, f->err.msg, c->reason);
        }
}

static void test_neighbor_place_names(void **state) {
        (void) state;
        for (NeighborPlace p = 0; p < _NEIGHBOR_PLACE_MAX; p++)
                assert_non_null(neighbor_place_to_string(p));
        assert_null(neighbor_place_to_string(_NEIGHBOR_PLACE_MAX));
        assert_null(neighbor_place_to_string(_NEIGHBOR_PLACE_INVALID));
        /* The order is the weight: the link's own address outweighs any prefix holding it. */
        assert_true(NEIGHBOR_PLACE_OWN > NEIGHBOR_PLACE_ON_PREFIX);
        assert_true(NEIGHBOR_PLACE_ON_PREFIX > NEIGHBOR_PLACE_NET_OR_BROADCAST);
        assert_true(NEIGHBOR_PLACE_NET_OR_BROADCAST > NEIGHBOR_PLACE_OFF_PREFIX);
}

/* ---- the ND proxy's operations: GuestIpv6Enable, GuestRoute6 ------------------------------ */

/* One GuestRoute6 request, every field of which a row may change. */
typedef struct Route6Case {
        const char *name;
        bool add;
        const char *guest;           /* NULL: the field absent */
        int guest_ifindex;
        const char *uplink;
        int uplink_ifindex;
        const char *addr;            /* NULL: no address; "raw:N" N bytes of zeros */
        int want;                    /* 0 or the errno */
} Route6Case;

static const Route6Case route6_cases[] = {
        { "termina TAP", true, "vmtap3", 7, "eth0", 2, "2001:db8:1::a", 0 },
        { "ARC's link to eth0", true, "arc_eth0", 7, "eth0", 2, "2001:db8:1::a", 0 },
        { "connected namespace", true, "arc_ns12", 7, "wlan0", 3, "2001:db8:1::a", 0 },
        { "unique local", true, "vmtap3", 7, "eth0", 2, "fd00:1:2::a", 0 },
        { "removal", false, "vmtap3", 7, "eth0", 2, "2001:db8:1::a", 0 },
        { "ARC's own link", true, "arcbr0", 7, "eth0", 2, "2001:db8:1::a", -EINVAL },
        { "the bare prefix", true, "arc_", 7, "eth0", 2, "2001:db8:1::a", -EINVAL },
        { "a host interface", true, "eth1", 7, "eth0", 2, "2001:db8:1::a", -EINVAL },
        { "a ConnectNamespace peer name", true, "veth3", 7, "eth0", 2, "2001:db8:1::a", -EINVAL },
        { "guest name with a slash", true, "vmtap3/../x", 7, "eth0", 2, "2001:db8:1::a", -EINVAL },
        { "guest name missing", true, NULL, 7, "eth0", 2, "2001:db8:1::a", -EINVAL },
        { "guest ifindex 0", true, "vmtap3", 0, "eth0", 2, "2001:db8:1::a", -EINVAL },
        { "guest ifindex negative", true, "vmtap3", -7, "eth0", 2, "2001:db8:1::a", -EINVAL },
        { "uplink name missing", true, "vmtap3", 7, NULL, 2, "2001:db8:1::a", -EINVAL },
        { "uplink ifindex 0", true, "vmtap3", 7, "eth0", 0, "2001:db8:1::a", -ERANGE },
        { "uplink ifindex too large", true, "vmtap3", 7, "eth0", INT32_MAX, "2001:db8:1::a", -ERANGE },
        { "guest is the uplink by index", true, "vmtap3", 2, "eth0", 2, "2001:db8:1::a", -EINVAL },
        { "guest is the uplink by name", true, "arc_eth0", 7, "arc_eth0", 2, "2001:db8:1::a", -EINVAL },
        { "link-local", true, "vmtap3", 7, "eth0", 2, "fe80::a", -EINVAL },
        { "multicast", true, "vmtap3", 7, "eth0", 2, "ff02::1", -EINVAL },
        { "unspecified", true, "vmtap3", 7, "eth0", 2, "::", -EINVAL },
        { "loopback", true, "vmtap3", 7, "eth0", 2, "::1", -EINVAL },
        { "IPv4-mapped", true, "vmtap3", 7, "eth0", 2, "::ffff:192.0.2.1", -EINVAL },
        { "removal of a link-local", false, "vmtap3", 7, "eth0", 2, "fe80::a", -EINVAL },
        { "no address", true, "vmtap3", 7, "eth0", 2, NULL, -EINVAL },
        { "address of 4 bytes", true, "vmtap3", 7, "eth0", 2, "raw:4", -EINVAL },
        { "address of 17 bytes", true, "vmtap3", 7, "eth0", 2, "raw:17", -EINVAL },
};

static void test_guest_route6_cases(void **state) {
        Fixture *f = *state;

        for (size_t i = 0; i < ELEMENTSOF(route6_cases); i++) {
                const Route6Case *c = &route6_cases[i];
                IpcGuestRoute6 m = PATCHPANEL__IPC__GUEST_ROUTE6__INIT;
                uint8_t addr[32] = {};
                GuestRoute6Args a, untouched;
                int r;

                m.add = c->add;
                m.guest_ifname = (char *) c->guest;
                m.guest_ifindex = c->guest_ifindex;
                m.uplink_ifname = (char *) c->uplink;
                m.uplink_ifindex = c->uplink_ifindex;
                if (c->addr && strncmp(c->addr, "raw:", 4) == 0)
                        m.address = bytes(addr, (size_t) atoi(c->addr + 4));
                else if (c->addr) {
                        assert_int_equal(inet_pton(AF_INET6, c->addr, addr), 1);
                        m.address = bytes(addr, 16);
                }
                memset(&a, 0x5a, sizeof a);
                untouched = a;
                f->err.msg[0] = '\0';
                r = validate_guest_route6(&m, &a, &f->err);
                if (r != c->want)
                        fail_msg("case \"%s\": got %d (%s), want %d", c->name, r, f->err.msg, c->want);
                if (r < 0) {
                        assert_true(strlen(f->err.msg) > 0);
                        assert_memory_equal(&a, &untouched, sizeof a);
                        continue;
                }
                /* What the handler gets is what was asked, decoded once. */
                assert_int_equal(a.add, c->add);
                assert_string_equal(a.guest.ifname, c->guest);
                assert_int_equal(a.guest.ifindex, c->guest_ifindex);
                assert_string_equal(a.uplink.ifname, c->uplink);
                assert_int_equal(a.uplink.ifindex, c->uplink_ifindex);
                assert_memory_equal(&a.addr, addr, 16);
        }
}

static void test_guest_ipv6_enable(void **state) {
        static const struct { const char *name; int ifindex; int want; } cases[] = {
                { "vmtap0", 5, 0 },
                { "arc_wlan0", 5, 0 },
                { "arc_ns0", 5, 0 },
                { "arcbr0", 5, -EINVAL },
                { "vetharc0", 5, -EINVAL },
                { "eth0", 5, -EINVAL },
                { "vmtap", 5, -EINVAL },
                { "vmtap0", 0, 0 },            /* by name: ARC's bridges */
                { "vmtap0", -1, -EINVAL },
                { "arcbr0", 0, -EINVAL },
                { NULL, 5, -EINVAL },
                { "", 5, -EINVAL },
        };
        Fixture *f = *state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                IpcGuestIpv6Enable m = PATCHPANEL__IPC__GUEST_IPV6_ENABLE__INIT;
                GuestLinkArgs a = { .ifindex = -1 };
                int r;

                m.ifname = (char *) cases[i].name;
                m.ifindex = cases[i].ifindex;
                r = validate_guest_ipv6_enable(&m, &a, &f->err);
                if (r != cases[i].want)
                        fail_msg("%s/%d: got %d, want %d", cases[i].name ?: "(null)",
                                 cases[i].ifindex, r, cases[i].want);
                if (r == 0) {
                        assert_string_equal(a.ifname, cases[i].name);
                        assert_int_equal(a.ifindex, cases[i].ifindex);
                } else
                        assert_int_equal(a.ifindex, -1);
        }
        assert_int_equal(validate_guest_link("vmtap0", 1, NULL, &f->err), 0);
}

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
                T(test_uplink_ok),
                T(test_uplink_ifindex_1),
                T(test_uplink_ifindex_max),
                T(test_uplink_ifindex_0),
                T(test_uplink_ifindex_negative),
                T(test_uplink_ifindex_int_min),
                T(test_uplink_ifindex_above_max),
                T(test_uplink_ifindex_int_max),
                T(test_uplink_name_null),
                T(test_uplink_name_empty),
                T(test_uplink_name_16_chars),
                T(test_uplink_name_slash),
                T(test_uplink_name_dot_dot),
                T(test_subnet_null_ret),
                T(test_subnet_arc_ok),
                T(test_subnet_arc_misaligned),
                T(test_subnet_arc_wrong_prefix),
                T(test_subnet_arc_outside),
                T(test_subnet_arc_prefix_33),
                T(test_subnet_arc_net_first_ok),
                T(test_subnet_arc_net_last_ok),
                T(test_subnet_arc_net_misaligned),
                T(test_subnet_arc_net_wrong_prefix),
                T(test_subnet_arc_net_below),
                T(test_subnet_arc_net_past),
                T(test_subnet_arc_net_prefix_33),
                T(test_subnet_termina_first_ok),
                T(test_subnet_termina_last_ok),
                T(test_subnet_termina_misaligned),
                T(test_subnet_termina_wrong_prefix),
                T(test_subnet_termina_past),
                T(test_subnet_termina_elsewhere),
                T(test_subnet_termina_prefix_33),
                T(test_subnet_termina_prefix_wraps_to_30),
                T(test_subnet_termina_prefix_uint32_max),
                T(test_subnet_netns_first_ok),
                T(test_subnet_netns_last_ok),
                T(test_subnet_netns_misaligned),
                T(test_subnet_netns_wrong_prefix),
                T(test_subnet_netns_past),
                T(test_subnet_netns_prefix_33),
                T(test_subnet_lxd_first_ok),
                T(test_subnet_lxd_last_ok),
                T(test_subnet_lxd_misaligned),
                T(test_subnet_lxd_wrong_prefix),
                T(test_subnet_lxd_below),
                T(test_subnet_lxd_past),
                T(test_subnet_lxd_prefix_33),
                T(test_subnet_lxd_prefix_wraps_to_28),
                T(test_subnet_pluginvm_first_ok),
                T(test_subnet_pluginvm_last_ok),
                T(test_subnet_pluginvm_misaligned),
                T(test_subnet_pluginvm_wrong_prefix),
                T(test_subnet_pluginvm_past),
                T(test_subnet_pluginvm_prefix_33),
                T(test_vm_tap_add_termina_ok),
                T(test_vm_tap_add_termina_last_subnet_ok),
                T(test_vm_tap_add_termina_lxd_ok),
                T(test_vm_tap_add_termina_lxd_last_ok),
                T(test_vm_tap_add_pluginvm_ok),
                T(test_vm_tap_add_termina_subnet_misaligned),
                T(test_vm_tap_add_termina_prefix_29),
                T(test_vm_tap_add_termina_prefix_33),
                T(test_vm_tap_add_termina_subnet_in_netns_pool),
                T(test_vm_tap_add_termina_subnet_in_pluginvm_pool),
                T(test_vm_tap_add_termina_subnet_missing),
                T(test_vm_tap_add_termina_lxd_outside),
                T(test_vm_tap_add_termina_lxd_in_termina_pool),
                T(test_vm_tap_add_termina_lxd_misaligned),
                T(test_vm_tap_add_termina_lxd_prefix_30),
                T(test_vm_tap_add_termina_lxd_prefix_33),
                T(test_vm_tap_add_termina_lxd_base_only),
                T(test_vm_tap_add_termina_lxd_prefix_only),
                T(test_vm_tap_add_pluginvm_with_lxd),
                T(test_vm_tap_add_pluginvm_with_lxd_prefix_only),
                T(test_vm_tap_add_pluginvm_subnet_in_termina_pool),
                T(test_vm_tap_add_pluginvm_misaligned),
                T(test_vm_tap_add_kind_unspecified),
                T(test_vm_tap_add_kind_7),
                T(test_vm_tap_add_kind_negative),
                T(test_vm_tap_add_mac_5_bytes),
                T(test_vm_tap_add_mac_7_bytes),
                T(test_vm_tap_add_mac_missing),
                T(test_vm_tap_add_mac_multicast),
                T(test_vm_tap_add_mac_zero),
                T(test_vm_tap_add_pluginvm_mac_missing),
                T(test_tap_name_0),
                T(test_tap_name_123),
                T(test_tap_name_prefix_only),
                T(test_tap_name_letter),
                T(test_tap_name_negative),
                T(test_tap_name_leading_char),
                T(test_tap_name_16_chars),
                T(test_tap_name_uplink),
                T(test_tap_name_bridge),
                T(test_tap_name_empty),
                T(test_tap_name_null),
                T(test_arc_add_container_ok),
                T(test_arc_add_vm_ok),
                T(test_arc_add_vm_no_pid_ok),
                T(test_arc_add_pid_0),
                T(test_arc_add_pid_1),
                T(test_arc_add_pid_negative),
                T(test_arc_add_pid_self),
                T(test_arc_add_pid_manager),
                T(test_arc_add_mac_5_bytes),
                T(test_arc_add_mac_7_bytes),
                T(test_arc_add_mac_missing),
                T(test_arc_add_mac_multicast),
                T(test_arc_add_mac_zero),
                T(test_arc_remove_container_ok),
                T(test_arc_remove_vm_ok),
                T(test_arc_remove_container_with_tap),
                T(test_arc_remove_container_with_taps),
                T(test_arc_remove_vm_no_taps),
                T(test_arc_remove_vm_one_tap_short),
                T(test_arc_remove_vm_one_tap_over),
                T(test_arc_remove_vm_first_name_bad),
                T(test_arc_remove_vm_last_name_bad),
                T(test_arc_remove_vm_name_empty),
                T(test_arc_remove_vm_name_null),
                T(test_arc_uplink_add_container_ok),
                T(test_arc_uplink_add_last_subnet_ok),
                T(test_arc_uplink_add_long_uplink_ok),
                T(test_arc_uplink_add_vm_ok),
                T(test_arc_uplink_add_uplink_name_empty),
                T(test_arc_uplink_add_uplink_name_slash),
                T(test_arc_uplink_add_uplink_name_16_chars),
                T(test_arc_uplink_add_ifindex_0),
                T(test_arc_uplink_add_ifindex_negative),
                T(test_arc_uplink_add_ifindex_above_max),
                T(test_arc_uplink_add_subnet_arc),
                T(test_arc_uplink_add_subnet_termina),
                T(test_arc_uplink_add_subnet_misaligned),
                T(test_arc_uplink_add_prefix_29),
                T(test_arc_uplink_add_prefix_33),
                T(test_arc_uplink_add_pid_0),
                T(test_arc_uplink_add_pid_1),
                T(test_arc_uplink_add_pid_self),
                T(test_arc_uplink_add_pid_manager),
                T(test_arc_uplink_add_mac_missing),
                T(test_arc_uplink_add_mac_5_bytes),
                T(test_arc_uplink_add_mac_multicast),
                T(test_arc_uplink_add_mac_zero),
                T(test_arc_uplink_add_vm_tap_missing),
                T(test_arc_uplink_add_vm_tap_not_tap),
                T(test_arc_uplink_add_vm_tap_is_uplink),
                T(test_arc_uplink_add_vm_tap_null),
                T(test_arc_uplink_add_vm_ifindex_0),
                T(test_arc_uplink_add_vm_subnet_termina),
                T(test_arc_uplink_remove_container_ok),
                T(test_arc_uplink_remove_vm_ok),
                T(test_arc_uplink_remove_uplink_name_empty),
                T(test_arc_uplink_remove_uplink_name_slash),
                T(test_arc_uplink_remove_uplink_name_16_chars),
                T(test_arc_uplink_remove_uplink_name_null),
                T(test_arc_uplink_remove_vm_tap_missing),
                T(test_arc_uplink_remove_vm_tap_not_tap),
                T(test_arc_uplink_remove_vm_uplink_name_bad),
                T(test_ns_connect_args),
                T(test_ns_connect_args_pinned),
                T(test_ns_connect_name_without_ifindex),
                T(test_ns_connect_pinned_bad_name),
                T(test_ns_connect_failure_leaves_args),
                T(test_vm_tap_add_args),
                T(test_arc_uplink_add_args),
                T(test_uplink_none_allowed),
                T(test_adb_sideload_ok),
                T(test_adb_sideload_refused),
                T(test_neighbor_probe_table),
                T(test_neighbor_place_table),
                T(test_neighbor_place_names),
                T(test_guest_route6_cases),
                T(test_guest_ipv6_enable),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
