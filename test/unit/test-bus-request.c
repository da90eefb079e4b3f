/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * common/bus-request.h: each D-Bus method's request, from its bytes through the checks the
 * manager makes before anything else. One table of requests written out in protobuf's wire
 * format (field key = number << 3 | wire type), each with what the checks must answer.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "bus-request.h"

#define SELF 4242   /* varint 0x92 0x21 */
#define HELPER 4243 /* varint 0x93 0x21 */

/* A negative int32 is sent as a ten-byte varint. */
#define MINUS_ONE 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01

typedef struct Case {
        const char *name;
        BusMethod method;
        uint8_t bytes[64];
        size_t len;
        const char *refusal; /* NULL: accepted; else a part of the reason */
} Case;

#define CASE(n, m, refused, ...)                                                       \
        { .name = n, .method = BUS_METHOD_##m, .bytes = { __VA_ARGS__ },               \
          .len = sizeof((uint8_t[]) { __VA_ARGS__ }), .refusal = refused }
#define EMPTY(n, m, refused) { .name = n, .method = BUS_METHOD_##m, .len = 0, .refusal = refused }

static const Case cases[] = {
        /* Decoding, for every method alike. */
        CASE("truncated varint", ARC_STARTUP, "Malformed ArcStartupRequest (2 bytes)", 0x08, 0x80),
        CASE("length beyond the end", GET_TRAFFIC_COUNTERS, "Malformed", 0x0a, 0x05, 'e', 't'),
        CASE("group wire type", GET_DEVICES, "Malformed", 0x0b),
        CASE("NUL inside a string", GET_TRAFFIC_COUNTERS, "not UTF-8 text without NUL",
             0x0a, 0x05, 'e', 't', 'h', 0x00, '0'),
        CASE("Latin-1 string", CONNECT_NAMESPACE, "not UTF-8 text without NUL",
             0x08, 0xd2, 0x09, 0x12, 0x04, 0xe9, 't', 'h', '0'),
        CASE("unknown field kept", GET_DEVICES, NULL, 0xa0, 0x06, 0x01),

        /* ArcStartup and ConnectNamespace name a process. */
        CASE("ArcStartup pid", ARC_STARTUP, NULL, 0x08, 0xd2, 0x09),
        EMPTY("ArcStartup no pid", ARC_STARTUP, "Invalid pid 0: it must be > 1"),
        CASE("ArcStartup pid 1", ARC_STARTUP, "Invalid pid 1: it must be > 1", 0x08, 0x01),
        CASE("ArcStartup negative pid", ARC_STARTUP, "Invalid pid -1", 0x08, MINUS_ONE),
        CASE("ArcStartup the daemon", ARC_STARTUP, "it is a patchpanel process", 0x08, 0x92, 0x21),
        CASE("ArcStartup the helper", ARC_STARTUP, "it is a patchpanel process", 0x08, 0x93, 0x21),
        CASE("ArcShutdown any pid", ARC_SHUTDOWN, NULL, 0x08, MINUS_ONE),
        CASE("ConnectNamespace", CONNECT_NAMESPACE, NULL,
             0x08, 0xd2, 0x09, 0x12, 0x04, 'e', 't', 'h', '0', 0x18, 0x01, 0x20, 0x01, 0x28, 0x03),
        CASE("ConnectNamespace pid 1", CONNECT_NAMESPACE, "Invalid pid 1", 0x08, 0x01),
        CASE("ConnectNamespace the helper", CONNECT_NAMESPACE, "patchpanel process",
             0x08, 0x93, 0x21),
        CASE("ConnectNamespace source 9", CONNECT_NAMESPACE, "Invalid traffic_source 9",
             0x08, 0xd2, 0x09, 0x28, 0x09),
        CASE("ConnectNamespace negative source", CONNECT_NAMESPACE, "Invalid traffic_source -1",
             0x08, 0xd2, 0x09, 0x28, MINUS_ONE),
        CASE("ConnectNamespace bad device", CONNECT_NAMESPACE,
             "Invalid outbound_physical_device name \"-eth\"",
             0x08, 0xd2, 0x09, 0x12, 0x04, '-', 'e', 't', 'h'),
        CASE("ConnectNamespace device escaped", CONNECT_NAMESPACE,
             "Invalid outbound_physical_device name \"e\\x0ath\"",
             0x08, 0xd2, 0x09, 0x12, 0x04, 'e', '\n', 't', 'h'),
        CASE("ConnectNamespace long device", CONNECT_NAMESPACE, "Invalid outbound_physical_device",
             0x08, 0xd2, 0x09, 0x12, 0x10, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k',
             'l', 'm', 'n', 'o', 'p'),

        /* The VMs: any number may name a running VM; PluginVM's subnet index is 1-based. */
        CASE("ArcVmStartup", ARC_VM_STARTUP, NULL, 0x08, 0xff, 0xff, 0xff, 0xff, 0x0f),
        CASE("TerminaVmShutdown", TERMINA_VM_SHUTDOWN, NULL, 0x08, 0x07),
        CASE("PluginVmStartup", PLUGIN_VM_STARTUP, NULL, 0x08, 0x2a, 0x10, 0x02),
        EMPTY("PluginVmStartup any subnet", PLUGIN_VM_STARTUP, NULL),
        CASE("PluginVmStartup negative subnet", PLUGIN_VM_STARTUP,
             "subnet_index -1 is negative: it is 1-based, or 0 for any",
             0x08, 0x2a, 0x10, MINUS_ONE),

        /* GetTrafficCounters' names. */
        CASE("counters", GET_TRAFFIC_COUNTERS, NULL, 0x0a, 0x04, 'e', 't', 'h', '0', 0x0a, 0x02,
             'l', 'o'),
        CASE("counters empty name", GET_TRAFFIC_COUNTERS, "Invalid device name \"\"", 0x0a, 0x00),
        CASE("counters 16 characters", GET_TRAFFIC_COUNTERS, "Invalid device name \"abcdefghijklmnop\"",
             0x0a, 0x10, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n',
             'o', 'p'),
        CASE("counters name escaped", GET_TRAFFIC_COUNTERS, "\"\\x1b[2Jxxxx",
             0x0a, 0x10, 0x1b, '[', '2', 'J', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x',
             'x', 'x'),

        /* SetVpnIntent's policy. */
        CASE("vpn bypass", SET_VPN_INTENT, NULL, 0x08, 0x02),
        EMPTY("vpn default", SET_VPN_INTENT, NULL),
        CASE("vpn policy 3", SET_VPN_INTENT, "Invalid VPN routing policy 3", 0x08, 0x03),
        CASE("vpn negative policy", SET_VPN_INTENT, "Invalid VPN routing policy -1", 0x08, MINUS_ONE),

        /* ModifyPortRule: the operation here, the rule in port_rule_from_request(). */
        CASE("port rule forwarding", MODIFY_PORT_RULE, NULL,
             0x08, 0x01, 0x10, 0x03, 0x18, 0x01, 0x22, 0x04, 'e', 't', 'h', '0', 0x30, 0x90, 0x3f,
             0x3a, 0x0c, '1', '0', '0', '.', '1', '1', '5', '.', '9', '2', '.', '6', 0x40, 0x50),
        CASE("port rule no operation", MODIFY_PORT_RULE, "the operation is neither CREATE nor DELETE",
             0x10, 0x01, 0x18, 0x01, 0x30, 0x35),
        CASE("port rule operation 3", MODIFY_PORT_RULE, "neither CREATE nor DELETE",
             0x08, 0x03, 0x10, 0x01, 0x18, 0x01, 0x30, 0x35),
        CASE("port rule port 0", MODIFY_PORT_RULE, "input_dst_port is 0", 0x08, 0x02, 0x10, 0x01,
             0x18, 0x01),
        CASE("port rule outside the pools", MODIFY_PORT_RULE, "is not a guest address",
             0x08, 0x01, 0x10, 0x03, 0x18, 0x01, 0x22, 0x04, 'e', 't', 'h', '0', 0x30, 0x90, 0x3f,
             0x3a, 0x0a, '1', '9', '2', '.', '0', '.', '2', '.', '9', '9', 0x40, 0x50),
};

static PoolLayout pools;

static BusRequestContext context(void) {
        return (BusRequestContext) { .self_pid = SELF, .helper_pid = HELPER, .pools = &pools };
}

static int setup(void **state) {
        uint32_t base;

        (void) state;
        assert_int_equal(ipv4_parse("100.115.92.0", &base), 0);
        return pool_layout_init(&pools, base);
}

/* Decode and check one request as the handlers do; the reason of a refusal in err. */
static int parse(BusMethod m, const void *bytes, size_t len, ErrBuf *err) {
        BusRequestContext ctx = context();
        ProtobufCMessage *msg = NULL;
        int r;

        r = bus_request_decode(bus_method_request_descriptor(m), bytes, len, &msg, err);
        if (r < 0) {
                assert_null(msg);
                return r;
        }
        r = bus_request_check(m, msg, &ctx, err);
        protobuf_c_message_free_unpacked(msg, NULL);
        return r;
}

static void test_table(void **state) {
        (void) state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                const Case *c = &cases[i];
                ErrBuf err = { .msg = "" };
                int r = parse(c->method, c->bytes, c->len, &err);

                if (!c->refusal) {
                        if (r != 0)
                                fail_msg("%s: refused: %s", c->name, err.msg);
                        continue;
                }
                if (r != -EINVAL)
                        fail_msg("%s: answered %d, not -EINVAL", c->name, r);
                if (!strstr(err.msg, c->refusal))
                        fail_msg("%s: reason \"%s\" does not say \"%s\"", c->name, err.msg,
                                 c->refusal);
                for (const char *p = err.msg; *p; p++)
                        if (*p < 0x20 || *p > 0x7e)
                                fail_msg("%s: reason has byte 0x%02x", c->name, (uint8_t) *p);
        }
}

static void test_size_cap(void **state) {
        uint8_t *big = calloc(1, BUS_REQUEST_MAX + 1);
        ErrBuf err;

        (void) state;
        assert_non_null(big);
        /* Unknown varint fields 0 of value 0 would be malformed (field 0); use field 16. */
        for (size_t i = 0; i + 3 <= BUS_REQUEST_MAX; i += 3) {
                big[i] = 0x80;
                big[i + 1] = 0x01;
                big[i + 2] = 0x00;
        }
        assert_int_equal(parse(BUS_METHOD_GET_DEVICES, big, BUS_REQUEST_MAX - 1, &err), 0);
        assert_int_equal(parse(BUS_METHOD_GET_DEVICES, big, BUS_REQUEST_MAX + 1, &err), -EINVAL);
        assert_string_equal(err.msg, "GetDevicesRequest of 16385 bytes is larger than 16384");
        free(big);
}

static void test_counters_names_capped(void **state) {
        size_t n = BUS_COUNTERS_DEVICES_MAX + 1, len = 3 * n;
        uint8_t *req = malloc(len);
        ErrBuf err;

        (void) state;
        assert_non_null(req);
        for (size_t i = 0; i < n; i++) {
                req[3 * i] = 0x0a;
                req[3 * i + 1] = 0x01;
                req[3 * i + 2] = 'a';
        }
        assert_int_equal(parse(BUS_METHOD_GET_TRAFFIC_COUNTERS, req, len - 3, &err), 0);
        assert_int_equal(parse(BUS_METHOD_GET_TRAFFIC_COUNTERS, req, len, &err), -EINVAL);
        assert_string_equal(err.msg, "513 devices asked for, at most 512");
        free(req);
}

static void test_connect_namespace_args(void **state) {
        /* pid 1234, outbound "eth0", allow_user_traffic, route_on_vpn; no traffic_source */
        static const uint8_t bytes[] = { 0x08, 0xd2, 0x09, 0x12, 0x04, 'e', 't', 'h', '0',
                                         0x18, 0x01, 0x20, 0x01 };
        Patchpanel__ConnectNamespaceRequest *req;
        BusRequestContext ctx = context();
        ConnectNamespaceArgs args;
        ErrBuf err;

        (void) state;
        assert_int_equal(bus_request_decode(&patchpanel__connect_namespace_request__descriptor,
                                            bytes, sizeof bytes, (ProtobufCMessage **) &req,
                                            &err), 0);
        assert_int_equal(bus_request_check_connect_namespace(req, &ctx, &args, &err), 0);
        assert_int_equal(args.pid, 1234);
        assert_int_equal(args.source, TRAFFIC_SOURCE_SYSTEM); /* UNKNOWN given */
        assert_true(args.allow_user_traffic && args.route_on_vpn);
        assert_string_equal(args.outbound_ifname, "eth0");
        req->outbound_physical_device[0] = '\0';
        assert_int_equal(bus_request_check_connect_namespace(req, &ctx, &args, &err), 0);
        assert_null(args.outbound_ifname);
        patchpanel__connect_namespace_request__free_unpacked(req, NULL);
}

static void test_port_rule_normalized(void **state) {
        Patchpanel__ModifyPortRuleRequest req = PATCHPANEL__MODIFY_PORT_RULE_REQUEST__INIT;
        PortRule rule;
        ErrBuf err;

        (void) state;
        req.op = PATCHPANEL__MODIFY_PORT_RULE_REQUEST__OPERATION__DELETE;
        req.type = PATCHPANEL__MODIFY_PORT_RULE_REQUEST__RULE_TYPE__ACCESS;
        req.proto = PATCHPANEL__MODIFY_PORT_RULE_REQUEST__PROTOCOL__UDP;
        req.input_dst_port = 53;
        req.input_ifname = (char *) "wlan0";
        assert_int_equal(bus_request_check_port_rule(&req, &pools, &rule, &err), 0);
        assert_int_equal(rule.key.type, PORT_RULE_ACCESS);
        assert_int_equal(rule.key.proto, PORT_PROTO_UDP);
        assert_int_equal(rule.key.port, 53);
        assert_string_equal(rule.key.ifname, "wlan0");
        assert_int_equal(port_rule_validate(&pools, &rule, &err), 0);
}

static void test_wrong_message_type(void **state) {
        Patchpanel__GetDevicesRequest req = PATCHPANEL__GET_DEVICES_REQUEST__INIT;
        BusRequestContext ctx = context();
        ErrBuf err;

        (void) state;
        assert_int_equal(bus_request_check(BUS_METHOD_ARC_STARTUP, &req.base, &ctx, &err),
                         -EINVAL);
        assert_int_equal(bus_request_check(_BUS_METHOD_MAX, &req.base, &ctx, &err), -EINVAL);
        assert_null(bus_method_request_descriptor(_BUS_METHOD_INVALID));
        assert_null(bus_method_to_string(_BUS_METHOD_MAX));
}

static void test_every_method_named(void **state) {
        (void) state;
        for (int m = 0; m < _BUS_METHOD_MAX; m++) {
                assert_non_null(bus_method_to_string((BusMethod) m));
                assert_non_null(bus_method_request_descriptor((BusMethod) m));
        }
        assert_string_equal(bus_method_to_string(BUS_METHOD_SET_VPN_INTENT), "SetVpnIntent");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_size_cap),
                cmocka_unit_test(test_counters_names_capped),
                cmocka_unit_test(test_connect_namespace_args),
                cmocka_unit_test(test_port_rule_normalized),
                cmocka_unit_test(test_wrong_message_type),
                cmocka_unit_test(test_every_method_named),
        };
        return cmocka_run_group_tests(tests, setup, NULL);
}
