/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "bus-request.h"
#include "ifname.h"
#include "proto-check.h"

/* A caller's string in a reason: escaped, and cut to this many characters. */
#define SHOWN_MAX 24
#define ESCAPED_SIZE (4 * SHOWN_MAX + 1)

static const struct {
        const char *name;
        const ProtobufCMessageDescriptor *request;
} methods[_BUS_METHOD_MAX] = {
        [BUS_METHOD_ARC_STARTUP] = { "ArcStartup", &patchpanel__arc_startup_request__descriptor },
        [BUS_METHOD_ARC_SHUTDOWN] = { "ArcShutdown", &patchpanel__arc_shutdown_request__descriptor },
        [BUS_METHOD_ARC_VM_STARTUP] = { "ArcVmStartup",
                                        &patchpanel__arc_vm_startup_request__descriptor },
        [BUS_METHOD_ARC_VM_SHUTDOWN] = { "ArcVmShutdown",
                                         &patchpanel__arc_vm_shutdown_request__descriptor },
        [BUS_METHOD_TERMINA_VM_STARTUP] = { "TerminaVmStartup",
                                            &patchpanel__termina_vm_startup_request__descriptor },
        [BUS_METHOD_TERMINA_VM_SHUTDOWN] = { "TerminaVmShutdown",
                                             &patchpanel__termina_vm_shutdown_request__descriptor },
        [BUS_METHOD_PLUGIN_VM_STARTUP] = { "PluginVmStartup",
                                           &patchpanel__plugin_vm_startup_request__descriptor },
        [BUS_METHOD_PLUGIN_VM_SHUTDOWN] = { "PluginVmShutdown",
                                            &patchpanel__plugin_vm_shutdown_request__descriptor },
        [BUS_METHOD_CONNECT_NAMESPACE] = { "ConnectNamespace",
                                           &patchpanel__connect_namespace_request__descriptor },
        [BUS_METHOD_GET_DEVICES] = { "GetDevices", &patchpanel__get_devices_request__descriptor },
        [BUS_METHOD_GET_TRAFFIC_COUNTERS] = { "GetTrafficCounters",
                                              &patchpanel__traffic_counters_request__descriptor },
        [BUS_METHOD_MODIFY_PORT_RULE] = { "ModifyPortRule",
                                          &patchpanel__modify_port_rule_request__descriptor },
        [BUS_METHOD_SET_VPN_INTENT] = { "SetVpnIntent",
                                        &patchpanel__set_vpn_intent_request__descriptor },
};

const char *bus_method_to_string(BusMethod m) {
        return m >= 0 && m < _BUS_METHOD_MAX ? methods[m].name : NULL;
}

const ProtobufCMessageDescriptor *bus_method_request_descriptor(BusMethod m) {
        return m >= 0 && m < _BUS_METHOD_MAX ? methods[m].request : NULL;
}

int bus_request_decode(const ProtobufCMessageDescriptor *desc, const void *data, size_t size,
                       ProtobufCMessage **ret, ErrBuf *err) {
        ProtobufCMessage *msg;
        int r;

        if (size > BUS_REQUEST_MAX)
                return errbuf_set(err, -EINVAL, "%s of %zu bytes is larger than %u",
                                  desc->short_name, size, BUS_REQUEST_MAX);
        if (size > 0 && !data)
                return errbuf_set(err, -EINVAL, "Malformed %s (%zu bytes)", desc->short_name,
                                  size);
        /* Before unpacking: protobuf-c would cut a string at a NUL without a word. */
        r = proto_check_strings(desc, data, size);
        if (r == -EILSEQ)
                return errbuf_set(err, -EINVAL,
                                  "%s has a string that is not UTF-8 text without NUL",
                                  desc->short_name);
        msg = r < 0 ? NULL : protobuf_c_message_unpack(desc, NULL, size, data);
        if (!msg)
                return errbuf_set(err, -EINVAL, "Malformed %s (%zu bytes)", desc->short_name,
                                  size);
        *ret = msg;
        return 0;
}

int bus_request_check_pid(int32_t pid, const BusRequestContext *ctx, ErrBuf *err) {
        if (pid <= 1)
                return errbuf_set(err, -EINVAL, "Invalid pid %d: it must be > 1", (int) pid);
        if (pid == ctx->self_pid || pid == ctx->helper_pid || pid == ctx->launcher_pid)
                return errbuf_set(err, -EINVAL, "Invalid pid %d: it is a patchpanel process",
                                  (int) pid);
        return 0;
}

int bus_request_check_plugin_vm_startup(const Patchpanel__PluginVmStartupRequest *req,
                                        ErrBuf *err) {
        if (req->subnet_index < 0)
                return errbuf_set(err, -EINVAL,
                                  "subnet_index %d is negative: it is 1-based, or 0 for any",
                                  (int) req->subnet_index);
        return 0;
}

int bus_request_check_connect_namespace(const Patchpanel__ConnectNamespaceRequest *req,
                                        const BusRequestContext *ctx,
                                        ConnectNamespaceArgs *ret, ErrBuf *err) {
        ConnectNamespaceArgs args = {
                .pid = req->pid,
                .allow_user_traffic = req->allow_user_traffic,
                .route_on_vpn = req->route_on_vpn,
        };
        const char *dev = req->outbound_physical_device;
        int r;

        r = bus_request_check_pid(req->pid, ctx, err);
        if (r < 0)
                return r;
        args.source = traffic_source_from_proto((int) req->traffic_source);
        if (args.source < 0)
                return errbuf_set(err, -EINVAL, "Invalid traffic_source %d",
                                  (int) req->traffic_source);
        if (args.source == TRAFFIC_SOURCE_UNKNOWN)
                args.source = TRAFFIC_SOURCE_SYSTEM;
        if (dev && dev[0]) {
                char e[ESCAPED_SIZE];

                if (!ifname_is_valid(dev))
                        return errbuf_set(err, -EINVAL,
                                          "Invalid outbound_physical_device name \"%s\"",
                                          str_escape(dev, SHOWN_MAX, e, sizeof e));
                args.outbound_ifname = dev;
        }
        *ret = args;
        return 0;
}

int bus_request_check_port_rule(const Patchpanel__ModifyPortRuleRequest *req,
                                const PoolLayout *pools, PortRule *ret, ErrBuf *err) {
        if (req->op != PATCHPANEL__MODIFY_PORT_RULE_REQUEST__OPERATION__CREATE &&
            req->op != PATCHPANEL__MODIFY_PORT_RULE_REQUEST__OPERATION__DELETE)
                return errbuf_set(err, -EINVAL, "the operation is neither CREATE nor DELETE");
        return port_rule_from_request(pools, (int) req->type, (int) req->proto, req->input_ifname,
                                      req->input_dst_ip, req->input_dst_port, req->dst_ip,
                                      req->dst_port, ret, err);
}

int bus_request_check_traffic_counters(const Patchpanel__TrafficCountersRequest *req,
                                       ErrBuf *err) {
        if (req->n_devices > BUS_COUNTERS_DEVICES_MAX)
                return errbuf_set(err, -EINVAL, "%zu devices asked for, at most %u",
                                  req->n_devices, BUS_COUNTERS_DEVICES_MAX);
        for (size_t i = 0; i < req->n_devices; i++) {
                const char *dev = req->devices[i];
                char e[ESCAPED_SIZE];

                if (dev[0] == '\0' || strnlen(dev, IFNAMSIZ) >= IFNAMSIZ)
                        return errbuf_set(err, -EINVAL, "Invalid device name \"%s\"",
                                          str_escape(dev, SHOWN_MAX, e, sizeof e));
        }
        return 0;
}

int bus_request_check_vpn_intent(const Patchpanel__SetVpnIntentRequest *req, ErrBuf *err) {
        if ((int) req->policy < 0 || (int) req->policy >= _VPN_POLICY_MAX)
                return errbuf_set(err, -EINVAL, "Invalid VPN routing policy %d",
                                  (int) req->policy);
        return 0;
}

int bus_request_check(BusMethod m, const ProtobufCMessage *req, const BusRequestContext *ctx,
                      ErrBuf *err) {
        ConnectNamespaceArgs args;
        PortRule rule;

        if (!bus_method_request_descriptor(m) || req->descriptor != methods[m].request)
                return errbuf_set(err, -EINVAL, "Not a request of that method");
        switch (m) {
        case BUS_METHOD_ARC_STARTUP:
                return bus_request_check_pid(((const Patchpanel__ArcStartupRequest *) req)->pid,
                                             ctx, err);
        case BUS_METHOD_PLUGIN_VM_STARTUP:
                return bus_request_check_plugin_vm_startup(
                        (const Patchpanel__PluginVmStartupRequest *) req, err);
        case BUS_METHOD_CONNECT_NAMESPACE:
                return bus_request_check_connect_namespace(
                        (const Patchpanel__ConnectNamespaceRequest *) req, ctx, &args, err);
        case BUS_METHOD_GET_TRAFFIC_COUNTERS:
                return bus_request_check_traffic_counters(
                        (const Patchpanel__TrafficCountersRequest *) req, err);
        case BUS_METHOD_MODIFY_PORT_RULE:
                return bus_request_check_port_rule((const Patchpanel__ModifyPortRuleRequest *) req,
                                                   ctx->pools, &rule, err);
        case BUS_METHOD_SET_VPN_INTENT:
                return bus_request_check_vpn_intent((const Patchpanel__SetVpnIntentRequest *) req,
                                                    err);
        default:
                /* ArcShutdown and the VM methods name their guest by a number any value of
                 * which may be running; GetDevices has no field. */
                return 0;
        }
}
