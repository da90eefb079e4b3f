/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * What each D-Bus method checks of its request before it looks at the daemon's state or
 * asks who the caller is: the bytes decoded (size cap, strings, protobuf), then every
 * field's range. These are pure functions of the bytes and of a few facts about the daemon
 * (its own pids, its pools), so the unit tests and the fuzzers reach exactly the code the
 * manager's *-bus.c handlers run, without a bus. Every refusal is -EINVAL with a reason in
 * printable ASCII (callers' strings escaped), which the handlers answer with
 * org.chromium.PatchPanel.Error.InvalidArgument (ModifyPortRule: success=false, as the
 * original did).
 */

#include <errno.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "errbuf.h"
#include "fwmark.h"
#include "port-rule.h"
#include "service.pb-c.h"

/* Real requests are tens of bytes; protobuf-c keeps every unknown field it meets, so
 * megabytes of them would cost the daemon a hundredfold in memory. */
#define BUS_REQUEST_MAX 16384u
/* GetTrafficCounters: at most this many device names. */
#define BUS_COUNTERS_DEVICES_MAX 512u

typedef enum BusMethod {
        BUS_METHOD_ARC_STARTUP,
        BUS_METHOD_ARC_SHUTDOWN,
        BUS_METHOD_ARC_VM_STARTUP,
        BUS_METHOD_ARC_VM_SHUTDOWN,
        BUS_METHOD_TERMINA_VM_STARTUP,
        BUS_METHOD_TERMINA_VM_SHUTDOWN,
        BUS_METHOD_PLUGIN_VM_STARTUP,
        BUS_METHOD_PLUGIN_VM_SHUTDOWN,
        BUS_METHOD_CONNECT_NAMESPACE,
        BUS_METHOD_GET_DEVICES,
        BUS_METHOD_GET_TRAFFIC_COUNTERS,
        BUS_METHOD_MODIFY_PORT_RULE,
        BUS_METHOD_SET_VPN_INTENT,
        _BUS_METHOD_MAX,
        _BUS_METHOD_INVALID = -EINVAL,
} BusMethod;

/* The facts about the daemon a request is checked against. */
typedef struct BusRequestContext {
        pid_t self_pid;          /* patchpaneld: never a target */
        pid_t helper_pid;        /* its helper and its launcher: never targets either */
        pid_t launcher_pid;
        const PoolLayout *pools; /* ModifyPortRule forwards only into these */
} BusRequestContext;

/* ConnectNamespace's fields once checked. */
typedef struct ConnectNamespaceArgs {
        pid_t pid;
        TrafficSource source;        /* UNKNOWN given is SYSTEM */
        bool allow_user_traffic;     /* accepted and without effect, as in the original */
        bool route_on_vpn;           /* through a VPN that carries the default, or around it */
        const char *outbound_ifname; /* a valid name, or NULL to follow the default route;
                                      * points into the request */
} ConnectNamespaceArgs;

/*
 * bus_method_to_string() - a method's D-Bus member name.
 * @m: the method
 *
 * Return: "ArcStartup" and so on, or NULL for an invalid method.
 */
const char *bus_method_to_string(BusMethod m);

/*
 * bus_method_request_descriptor() - the message type of a method's request.
 * @m: the method
 *
 * Return: its descriptor, or NULL for an invalid method.
 */
const ProtobufCMessageDescriptor *bus_method_request_descriptor(BusMethod m);

/*
 * bus_request_decode() - the bytes of an `ay` argument as a request of type @desc.
 * @desc: the request's message type
 * @data: the bytes, @size of them
 * @ret: the unpacked message, to be freed with protobuf_c_message_free_unpacked()
 * @err: the reason for a refusal
 *
 * Refused: more than BUS_REQUEST_MAX bytes, a string field (nested ones too) that is not
 * UTF-8 without NUL, bytes protobuf-c cannot unpack as @desc.
 *
 * Return: 0, or -EINVAL.
 */
int bus_request_decode(const ProtobufCMessageDescriptor *desc, const void *data, size_t size,
                       ProtobufCMessage **ret, ErrBuf *err);

/*
 * bus_request_check_pid() - a pid a caller names as its process (ArcStartup,
 * ConnectNamespace).
 * @pid: the request's field
 * @ctx: the daemon's own pids
 * @err: the reason for a refusal
 *
 * Return: 0, or -EINVAL for pids <= 1 and for the daemon's own processes.
 */
int bus_request_check_pid(int32_t pid, const BusRequestContext *ctx, ErrBuf *err);

/*
 * bus_request_check_plugin_vm_startup() - PluginVmStartup's fields.
 * @req: the decoded request
 * @err: the reason for a refusal
 *
 * Return: 0, or -EINVAL for a negative subnet_index (whether it lies in the pool is for the
 * pool to say).
 */
int bus_request_check_plugin_vm_startup(const Patchpanel__PluginVmStartupRequest *req,
                                        ErrBuf *err);

/*
 * bus_request_check_connect_namespace() - ConnectNamespace's fields.
 * @req: the decoded request
 * @ctx: the daemon's own pids
 * @ret: the checked fields, set on success only
 * @err: the reason for a refusal
 *
 * Whether outbound_physical_device names a known uplink is for the link monitor to say;
 * here it must be a valid interface name if given.
 *
 * Return: 0, or -EINVAL.
 */
int bus_request_check_connect_namespace(const Patchpanel__ConnectNamespaceRequest *req,
                                        const BusRequestContext *ctx,
                                        ConnectNamespaceArgs *ret, ErrBuf *err);

/*
 * bus_request_check_port_rule() - ModifyPortRule's fields as a rule in normalized form.
 * @req: the decoded request
 * @pools: the guest pools a FORWARDING rule may point into
 * @ret: the rule, set on success only; the helper's port_rule_validate() accepts it
 * @err: the reason for a refusal
 *
 * Return: 0, or -EINVAL for an operation other than CREATE and DELETE and for every rule
 * port_rule_from_request() refuses.
 */
int bus_request_check_port_rule(const Patchpanel__ModifyPortRuleRequest *req,
                                const PoolLayout *pools, PortRule *ret, ErrBuf *err);

/*
 * bus_request_check_traffic_counters() - GetTrafficCounters' device names.
 * @req: the decoded request
 * @err: the reason for a refusal
 *
 * Return: 0, or -EINVAL for more than BUS_COUNTERS_DEVICES_MAX names or a name that is
 * empty or longer than an interface name can be.
 */
int bus_request_check_traffic_counters(const Patchpanel__TrafficCountersRequest *req,
                                       ErrBuf *err);

/*
 * bus_request_check_vpn_intent() - SetVpnIntent's policy.
 * @req: the decoded request
 * @err: the reason for a refusal
 *
 * Return: 0, or -EINVAL for a policy outside VpnRoutingPolicy.
 */
int bus_request_check_vpn_intent(const Patchpanel__SetVpnIntentRequest *req, ErrBuf *err);

/*
 * bus_request_check() - a decoded request through its method's checks (none for the
 * methods whose fields any value of is valid).
 * @m: the method
 * @req: the decoded request, of bus_method_request_descriptor(@m)'s type
 * @ctx: the daemon's facts
 * @err: the reason for a refusal
 *
 * Return: 0, or -EINVAL.
 */
int bus_request_check(BusMethod m, const ProtobufCMessage *req, const BusRequestContext *ctx,
                      ErrBuf *err);
