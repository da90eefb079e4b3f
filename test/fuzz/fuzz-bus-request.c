/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every D-Bus method's request, from the bytes of its `ay` argument to the end of the
 * checks the manager makes before it looks at its state or asks who the caller is
 * (common/bus-request.c, called by the manager's *-bus.c handlers).
 *
 * Input: byte 0 picks the method (BusMethod), the rest is the request as sent.
 *
 * What must hold: a refusal is -EINVAL with a reason in printable ASCII (the caller's
 * strings escaped: D-Bus errors and the log carry it); an accepted request has exactly the
 * properties the handler then relies on.
 */
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "bus-request.h"
#include "fuzz.h"
#include "ifname.h"

#define SELF_PID 4242
#define HELPER_PID 4243

static PoolLayout pools;

static void check_reason(const ErrBuf *err) {
        size_t n = strnlen(err->msg, sizeof err->msg);

        FUZZ_CHECK(n > 0 && n < sizeof err->msg);
        for (size_t i = 0; i < n; i++)
                FUZZ_CHECK(err->msg[i] >= 0x20 && err->msg[i] < 0x7f);
}

static void check_pid(int32_t pid) {
        FUZZ_CHECK(pid > 1 && pid != SELF_PID && pid != HELPER_PID);
}

/* What each handler relies on once the checks passed. */
static void check_accepted(BusMethod m, const ProtobufCMessage *msg,
                           const BusRequestContext *ctx) {
        switch (m) {
        case BUS_METHOD_ARC_STARTUP:
                check_pid(((const Patchpanel__ArcStartupRequest *) msg)->pid);
                break;
        case BUS_METHOD_PLUGIN_VM_STARTUP:
                FUZZ_CHECK(((const Patchpanel__PluginVmStartupRequest *) msg)->subnet_index >= 0);
                break;
        case BUS_METHOD_CONNECT_NAMESPACE: {
                const Patchpanel__ConnectNamespaceRequest *req = (const void *) msg;
                ConnectNamespaceArgs args;
                ErrBuf err;

                FUZZ_CHECK(bus_request_check_connect_namespace(req, ctx, &args, &err) == 0);
                check_pid(args.pid);
                FUZZ_CHECK(args.pid == req->pid);
                FUZZ_CHECK(traffic_source_is_valid((int) args.source) &&
                           args.source != TRAFFIC_SOURCE_UNKNOWN);
                FUZZ_CHECK(!args.outbound_ifname || ifname_is_valid(args.outbound_ifname));
                break;
        }
        case BUS_METHOD_GET_TRAFFIC_COUNTERS: {
                const Patchpanel__TrafficCountersRequest *req = (const void *) msg;

                FUZZ_CHECK(req->n_devices <= BUS_COUNTERS_DEVICES_MAX);
                for (size_t i = 0; i < req->n_devices; i++)
                        FUZZ_CHECK(req->devices[i][0] && strlen(req->devices[i]) < IFNAMSIZ);
                break;
        }
        case BUS_METHOD_MODIFY_PORT_RULE: {
                const Patchpanel__ModifyPortRuleRequest *req = (const void *) msg;
                PortRule rule;
                ErrBuf err;

                FUZZ_CHECK(bus_request_check_port_rule(req, ctx->pools, &rule, &err) == 0);
                /* What the manager sends, the helper accepts. */
                FUZZ_CHECK(port_rule_validate(ctx->pools, &rule, &err) == 0);
                FUZZ_CHECK(rule.key.type == req->type && rule.key.proto == req->proto &&
                           rule.key.port == req->input_dst_port);
                break;
        }
        case BUS_METHOD_SET_VPN_INTENT: {
                int policy = (int) ((const Patchpanel__SetVpnIntentRequest *) msg)->policy;

                FUZZ_CHECK(policy >= 0 && policy < _VPN_POLICY_MAX);
                break;
        }
        default:
                break;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        BusRequestContext ctx = { .self_pid = SELF_PID, .helper_pid = HELPER_PID, .pools = &pools };
        ProtobufCMessage *msg = NULL;
        BusMethod m;
        ErrBuf err = {};
        uint32_t base;
        int r;

        if (size == 0)
                return 0;
        if (pools.pools[0].prefix_len == 0) {
                FUZZ_CHECK(ipv4_parse("100.115.92.0", &base) == 0);
                FUZZ_CHECK(pool_layout_init(&pools, base) == 0);
        }
        m = (BusMethod) (data[0] % _BUS_METHOD_MAX);
        FUZZ_CHECK(bus_method_to_string(m));

        r = bus_request_decode(bus_method_request_descriptor(m), data + 1, size - 1, &msg, &err);
        FUZZ_CHECK(r == 0 || r == -EINVAL);
        if (r < 0) {
                FUZZ_CHECK(!msg);
                check_reason(&err);
                return 0;
        }
        FUZZ_CHECK(msg && msg->descriptor == bus_method_request_descriptor(m));

        r = bus_request_check(m, msg, &ctx, &err);
        FUZZ_CHECK(r == 0 || r == -EINVAL);
        if (r < 0)
                check_reason(&err);
        else
                check_accepted(m, msg, &ctx);
        protobuf_c_message_free_unpacked(msg, NULL);
        return 0;
}
