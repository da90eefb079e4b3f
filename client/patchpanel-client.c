/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "bus-names.h"
#include "macro.h"
#include "patchpanel-client.h"
#include "service.pb-c.h"

struct PpClient {
        sd_bus *bus;
        sd_bus_slot *signal_slots[2];
        PpSignalHandlers handlers;
};

int pp_client_new_with_bus(sd_bus *bus, PpClient **ret) {
        PpClient *c = calloc(1, sizeof *c);

        if (!c)
                return -ENOMEM;
        c->bus = sd_bus_ref(bus);
        *ret = c;
        return 0;
}

int pp_client_new(PpClient **ret) {
        _cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        return pp_client_new_with_bus(bus, ret);
}

PpClient *pp_client_free(PpClient *c) {
        if (c) {
                for (size_t i = 0; i < ELEMENTSOF(c->signal_slots); i++)
                        sd_bus_slot_unref(c->signal_slots[i]);
                sd_bus_flush_close_unref(c->bus);
                free(c);
        }
        return NULL;
}

static void error_fill(PpError *err, const sd_bus_error *e) {
        if (!err)
                return;
        snprintf(err->name, sizeof err->name, "%s", e->name ?: "");
        snprintf(err->message, sizeof err->message, "%s", e->message ?: "");
}

/* Call a method whose argument is one packed message (plus an optional fd) and unpack
 * the reply. */
static int call_proto(PpClient *c, const char *method, const ProtobufCMessage *req, int fd,
                      const ProtobufCMessageDescriptor *reply_desc, ProtobufCMessage **ret,
                      PpError *err) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        size_t len = protobuf_c_message_get_packed_size(req);
        _cleanup_free_ uint8_t *buf = malloc(len ?: 1);
        const void *data;
        size_t size;
        int r;

        if (!buf)
                return -ENOMEM;
        protobuf_c_message_pack(req, buf);
        r = sd_bus_message_new_method_call(c->bus, &m, PP_BUS_NAME, PP_BUS_PATH,
                                           PP_BUS_INTERFACE, method);
        if (r < 0)
                return r;
        r = sd_bus_message_append_array(m, 'y', buf, len);
        if (r >= 0 && fd >= 0)
                r = sd_bus_message_append(m, "h", fd);
        if (r < 0)
                return r;
        r = sd_bus_call(c->bus, m, 0, &e, &reply);
        if (r < 0) {
                error_fill(err, &e);
                return r;
        }
        r = sd_bus_message_read_array(reply, 'y', &data, &size);
        if (r < 0)
                return r;
        *ret = protobuf_c_message_unpack(reply_desc, NULL, size, data);
        return *ret ? 0 : -EBADMSG;
}

int pp_client_connect_namespace(PpClient *c, const PpConnectNamespaceOptions *o,
                                PpConnectedNamespace *ret, PpError *err) {
        Patchpanel__ConnectNamespaceRequest req = PATCHPANEL__CONNECT_NAMESPACE_REQUEST__INIT;
        Patchpanel__ConnectNamespaceResponse *resp = NULL;
        int pipefd[2], r;

        req.pid = o->pid;
        req.outbound_physical_device = (char *) (o->outbound_ifname ?: "");
        req.allow_user_traffic = o->allow_user_traffic;
        req.route_on_vpn = o->route_on_vpn;
        req.traffic_source = o->traffic_source;

        /* The daemon keeps the write end; ours is the read end. */
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        r = call_proto(c, "ConnectNamespace", &req.base, pipefd[1],
                       &patchpanel__connect_namespace_response__descriptor,
                       (ProtobufCMessage **) &resp, err);
        safe_close(pipefd[1]);
        if (r < 0) {
                safe_close(pipefd[0]);
                return r;
        }

        *ret = (PpConnectedNamespace) {
                .subnet_base = resp->ipv4_subnet ? ipv4_from_wire(resp->ipv4_subnet->base_addr) : 0,
                .prefix_len = resp->ipv4_subnet ? resp->ipv4_subnet->prefix_len : 0,
                .host_ipv4_address = ipv4_from_wire(resp->host_ipv4_address),
                .peer_ipv4_address = ipv4_from_wire(resp->peer_ipv4_address),
                .lifeline_fd = pipefd[0],
        };
        snprintf(ret->host_ifname, sizeof ret->host_ifname, "%s", resp->host_ifname);
        snprintf(ret->peer_ifname, sizeof ret->peer_ifname, "%s", resp->peer_ifname);
        patchpanel__connect_namespace_response__free_unpacked(resp, NULL);
        return 0;
}

const char *pp_guest_type_to_string(PpGuestType t) {
        switch (t) {
        case PP_GUEST_ARC:
                return "arc";
        case PP_GUEST_ARCVM:
                return "arcvm";
        case PP_GUEST_TERMINA_VM:
                return "termina";
        case PP_GUEST_PLUGIN_VM:
                return "pluginvm";
        default:
                return "unknown";
        }
}

static void device_from_proto(const Patchpanel__NetworkDevice *d, PpDevice *ret) {
        *ret = (PpDevice) {
                .ipv4_addr = ipv4_from_wire(d->ipv4_addr),
                .subnet_base = d->ipv4_subnet ? ipv4_from_wire(d->ipv4_subnet->base_addr) : 0,
                .prefix_len = d->ipv4_subnet ? d->ipv4_subnet->prefix_len : 0,
                .guest_type = (PpGuestType) d->guest_type,
        };
        snprintf(ret->ifname, sizeof ret->ifname, "%s", d->ifname ? d->ifname : "");
}

static int devices_from_proto(Patchpanel__NetworkDevice **devs, size_t n, PpDevice **ret,
                              size_t *ret_n) {
        PpDevice *out = calloc(n ?: 1, sizeof *out);

        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                device_from_proto(devs[i], &out[i]);
        *ret = out;
        *ret_n = n;
        return 0;
}

int pp_client_get_devices(PpClient *c, PpDevice **ret, size_t *ret_n, PpError *err) {
        Patchpanel__GetDevicesRequest req = PATCHPANEL__GET_DEVICES_REQUEST__INIT;
        Patchpanel__GetDevicesResponse *resp = NULL;
        int r;

        r = call_proto(c, "GetDevices", &req.base, -1,
                       &patchpanel__get_devices_response__descriptor,
                       (ProtobufCMessage **) &resp, err);
        if (r < 0)
                return r;
        r = devices_from_proto(resp->devices, resp->n_devices, ret, ret_n);
        patchpanel__get_devices_response__free_unpacked(resp, NULL);
        return r;
}

int pp_client_termina_vm_startup(PpClient *c, uint32_t cid, PpDevice *ret,
                                 uint32_t *ret_lxd_base, uint32_t *ret_lxd_prefix, PpError *err) {
        Patchpanel__TerminaVmStartupRequest req = PATCHPANEL__TERMINA_VM_STARTUP_REQUEST__INIT;
        Patchpanel__TerminaVmStartupResponse *resp = NULL;
        int r;

        req.cid = cid;
        r = call_proto(c, "TerminaVmStartup", &req.base, -1,
                       &patchpanel__termina_vm_startup_response__descriptor,
                       (ProtobufCMessage **) &resp, err);
        if (r < 0)
                return r;
        if (resp->device)
                device_from_proto(resp->device, ret);
        if (ret_lxd_base)
                *ret_lxd_base = resp->container_subnet ? ipv4_from_wire(resp->container_subnet->base_addr) : 0;
        if (ret_lxd_prefix)
                *ret_lxd_prefix = resp->container_subnet ? resp->container_subnet->prefix_len : 0;
        patchpanel__termina_vm_startup_response__free_unpacked(resp, NULL);
        return 0;
}

/* For methods whose answer carries nothing: send, check it decodes as what it should. */
static int call_simple(PpClient *c, const char *method, const ProtobufCMessage *req,
                       const ProtobufCMessageDescriptor *reply_desc, PpError *err) {
        ProtobufCMessage *resp = NULL;
        int r = call_proto(c, method, req, -1, reply_desc, &resp, err);

        if (r >= 0)
                protobuf_c_message_free_unpacked(resp, NULL);
        return r;
}

int pp_client_termina_vm_shutdown(PpClient *c, uint32_t cid, PpError *err) {
        Patchpanel__TerminaVmShutdownRequest req = PATCHPANEL__TERMINA_VM_SHUTDOWN_REQUEST__INIT;

        req.cid = cid;
        return call_simple(c, "TerminaVmShutdown", &req.base,
                           &patchpanel__termina_vm_shutdown_response__descriptor, err);
}

int pp_client_plugin_vm_startup(PpClient *c, uint64_t id, int32_t subnet_index, PpDevice *ret,
                                PpError *err) {
        Patchpanel__PluginVmStartupRequest req = PATCHPANEL__PLUGIN_VM_STARTUP_REQUEST__INIT;
        Patchpanel__PluginVmStartupResponse *resp = NULL;
        int r;

        req.id = id;
        req.subnet_index = subnet_index;
        r = call_proto(c, "PluginVmStartup", &req.base, -1,
                       &patchpanel__plugin_vm_startup_response__descriptor,
                       (ProtobufCMessage **) &resp, err);
        if (r < 0)
                return r;
        if (resp->device)
                device_from_proto(resp->device, ret);
        patchpanel__plugin_vm_startup_response__free_unpacked(resp, NULL);
        return 0;
}

int pp_client_plugin_vm_shutdown(PpClient *c, uint64_t id, PpError *err) {
        Patchpanel__PluginVmShutdownRequest req = PATCHPANEL__PLUGIN_VM_SHUTDOWN_REQUEST__INIT;

        req.id = id;
        return call_simple(c, "PluginVmShutdown", &req.base,
                           &patchpanel__plugin_vm_shutdown_response__descriptor, err);
}

int pp_client_arc_startup(PpClient *c, pid_t pid, PpError *err) {
        Patchpanel__ArcStartupRequest req = PATCHPANEL__ARC_STARTUP_REQUEST__INIT;

        req.pid = pid;
        return call_simple(c, "ArcStartup", &req.base, &patchpanel__arc_startup_response__descriptor,
                           err);
}

int pp_client_arc_shutdown(PpClient *c, pid_t pid, PpError *err) {
        Patchpanel__ArcShutdownRequest req = PATCHPANEL__ARC_SHUTDOWN_REQUEST__INIT;

        req.pid = pid;
        return call_simple(c, "ArcShutdown", &req.base,
                           &patchpanel__arc_shutdown_response__descriptor, err);
}

int pp_client_arc_vm_startup(PpClient *c, uint32_t cid, PpDevice **ret, size_t *ret_n,
                             PpError *err) {
        Patchpanel__ArcVmStartupRequest req = PATCHPANEL__ARC_VM_STARTUP_REQUEST__INIT;
        Patchpanel__ArcVmStartupResponse *resp = NULL;
        int r;

        req.cid = cid;
        r = call_proto(c, "ArcVmStartup", &req.base, -1,
                       &patchpanel__arc_vm_startup_response__descriptor,
                       (ProtobufCMessage **) &resp, err);
        if (r < 0)
                return r;
        r = devices_from_proto(resp->devices, resp->n_devices, ret, ret_n);
        patchpanel__arc_vm_startup_response__free_unpacked(resp, NULL);
        return r;
}

int pp_client_arc_vm_shutdown(PpClient *c, uint32_t cid, PpError *err) {
        Patchpanel__ArcVmShutdownRequest req = PATCHPANEL__ARC_VM_SHUTDOWN_REQUEST__INIT;

        req.cid = cid;
        return call_simple(c, "ArcVmShutdown", &req.base,
                           &patchpanel__arc_vm_shutdown_response__descriptor, err);
}

/* Call a method of the Status interface, whose reply is one JSON string: a copy of it. */
static int call_status(PpClient *c, const char *method, char **ret_json, PpError *err,
                       const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *json;
        va_list ap;
        int r;

        va_start(ap, types);
        r = sd_bus_call_methodv(c->bus, PP_BUS_NAME, PP_BUS_PATH, PP_BUS_STATUS_INTERFACE, method,
                                &e, &reply, types, ap);
        va_end(ap);
        if (r < 0) {
                error_fill(err, &e);
                return r;
        }
        r = sd_bus_message_read(reply, "s", &json);
        if (r < 0)
                return r;
        *ret_json = strdup(json);
        return *ret_json ? 0 : -ENOMEM;
}

int pp_client_get_status(PpClient *c, char **ret_json, PpError *err) {
        return call_status(c, "GetStatus", ret_json, err, "");
}

int pp_client_list_connected_namespaces(PpClient *c, uint32_t offset, uint32_t limit,
                                        char **ret_json, PpError *err) {
        return call_status(c, "ListConnectedNamespaces", ret_json, err, "uu", offset, limit);
}

int pp_client_modify_port_rule(PpClient *c, const PpPortRule *rule, PpError *err) {
        Patchpanel__ModifyPortRuleRequest req = PATCHPANEL__MODIFY_PORT_RULE_REQUEST__INIT;
        Patchpanel__ModifyPortRuleResponse *resp = NULL;
        int r;

        req.op = rule->create ? PATCHPANEL__MODIFY_PORT_RULE_REQUEST__OPERATION__CREATE
                              : PATCHPANEL__MODIFY_PORT_RULE_REQUEST__OPERATION__DELETE;
        req.type = (Patchpanel__ModifyPortRuleRequest__RuleType) rule->type;
        req.proto = (Patchpanel__ModifyPortRuleRequest__Protocol) rule->proto;
        req.input_ifname = (char *) (rule->input_ifname ?: "");
        req.input_dst_ip = (char *) (rule->input_dst_ip ?: "");
        req.input_dst_port = rule->input_dst_port;
        req.dst_ip = (char *) (rule->dst_ip ?: "");
        req.dst_port = rule->dst_port;
        r = call_proto(c, "ModifyPortRule", &req.base, -1,
                       &patchpanel__modify_port_rule_response__descriptor,
                       (ProtobufCMessage **) &resp, err);
        if (r < 0)
                return r;
        r = resp->success ? 1 : 0;
        patchpanel__modify_port_rule_response__free_unpacked(resp, NULL);
        return r;
}

static const char *const traffic_sources[] = {
        "unknown", "chrome", "user", "arc", "crosvm", "pluginvm", "update_engine", "vpn", "system",
};

const char *pp_traffic_source_to_string(int source) {
        if (source < 0 || (size_t) source >= ELEMENTSOF(traffic_sources))
                return NULL;
        return traffic_sources[source];
}

int pp_traffic_source_from_string(const char *name) {
        for (size_t i = 0; name && i < ELEMENTSOF(traffic_sources); i++)
                if (strcasecmp(name, traffic_sources[i]) == 0)
                        return (int) i;
        return -EINVAL;
}

int pp_client_get_traffic_counters(PpClient *c, const char *const *devices, size_t n_devices,
                                   PpTrafficCounter **ret, size_t *ret_n, PpError *err) {
        Patchpanel__TrafficCountersRequest req = PATCHPANEL__TRAFFIC_COUNTERS_REQUEST__INIT;
        Patchpanel__TrafficCountersResponse *resp = NULL;
        PpTrafficCounter *out;
        int r;

        req.devices = (char **) devices;
        req.n_devices = n_devices;
        r = call_proto(c, "GetTrafficCounters", &req.base, -1,
                       &patchpanel__traffic_counters_response__descriptor,
                       (ProtobufCMessage **) &resp, err);
        if (r < 0)
                return r;
        out = calloc(resp->n_counters + 1, sizeof *out);
        if (!out) {
                patchpanel__traffic_counters_response__free_unpacked(resp, NULL);
                return -ENOMEM;
        }
        for (size_t i = 0; i < resp->n_counters; i++) {
                const Patchpanel__TrafficCounter *t = resp->counters[i];
                snprintf(out[i].device, sizeof out[i].device, "%s", t->device);
                out[i].source = (int) t->source;
                out[i].rx_bytes = t->rx_bytes;
                out[i].tx_bytes = t->tx_bytes;
                out[i].rx_packets = t->rx_packets;
                out[i].tx_packets = t->tx_packets;
        }
        *ret = out;
        *ret_n = resp->n_counters;
        patchpanel__traffic_counters_response__free_unpacked(resp, NULL);
        return 0;
}

int pp_client_set_vpn_intent(PpClient *c, int socket_fd, PpVpnPolicy policy, PpError *err) {
        Patchpanel__SetVpnIntentRequest req = PATCHPANEL__SET_VPN_INTENT_REQUEST__INIT;
        Patchpanel__SetVpnIntentResponse *resp = NULL;
        int r;

        if (socket_fd < 0)
                return -EBADF;
        req.policy = (Patchpanel__VpnRoutingPolicy) policy;
        r = call_proto(c, "SetVpnIntent", &req.base, socket_fd,
                       &patchpanel__set_vpn_intent_response__descriptor,
                       (ProtobufCMessage **) &resp, err);
        if (r < 0)
                return r;
        r = resp->success ? 0 : -EIO;
        patchpanel__set_vpn_intent_response__free_unpacked(resp, NULL);
        return r;
}

/* ---- signals ------------------------------------------------------------------------- */

const char *pp_device_event_to_string(PpDeviceEvent e) {
        switch (e) {
        case PP_DEVICE_UNKNOWN_CHANGE:
                return "UNKNOWN_CHANGE";
        case PP_DEVICE_ADDED:
                return "DEVICE_ADDED";
        case PP_DEVICE_REMOVED:
                return "DEVICE_REMOVED";
        default:
                return "UNKNOWN";
        }
}

const char *pp_neighbor_role_to_string(PpNeighborRole r) {
        switch (r) {
        case PP_NEIGHBOR_ROLE_INVALID:
                return "INVALID_ROLE";
        case PP_NEIGHBOR_GATEWAY:
                return "GATEWAY";
        case PP_NEIGHBOR_DNS_SERVER:
                return "DNS_SERVER";
        case PP_NEIGHBOR_GATEWAY_AND_DNS_SERVER:
                return "GATEWAY_AND_DNS_SERVER";
        default:
                return "UNKNOWN";
        }
}

const char *pp_neighbor_event_type_to_string(PpNeighborEventType t) {
        switch (t) {
        case PP_NEIGHBOR_EVENT_INVALID:
                return "INVALID_EVENT_TYPE";
        case PP_NEIGHBOR_FAILED:
                return "FAILED";
        case PP_NEIGHBOR_REACHABLE:
                return "REACHABLE";
        default:
                return "UNKNOWN";
        }
}

/* The one `ay` of a signal, decoded; NULL if it is not one of @desc. */
static ProtobufCMessage *signal_payload(sd_bus_message *m, const ProtobufCMessageDescriptor *desc) {
        const void *data = NULL;
        size_t size = 0;

        if (sd_bus_message_read_array(m, 'y', &data, &size) < 0)
                return NULL;
        return protobuf_c_message_unpack(desc, NULL, size, data);
}

static int on_device_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Patchpanel__NetworkDeviceChangedSignal *sig;
        PpClient *c = userdata;
        PpDevice dev = {};

        (void) error;
        sig = (Patchpanel__NetworkDeviceChangedSignal *) signal_payload(
                m, &patchpanel__network_device_changed_signal__descriptor);
        if (!sig)
                return 0;
        if (sig->device)
                device_from_proto(sig->device, &dev);
        if (c->handlers.device_changed)
                c->handlers.device_changed(&dev, (PpDeviceEvent) sig->event, c->handlers.userdata);
        patchpanel__network_device_changed_signal__free_unpacked(sig, NULL);
        return 0;
}

static int on_neighbor_event(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Patchpanel__NeighborReachabilityEventSignal *sig;
        PpClient *c = userdata;
        PpNeighborEvent ev;

        (void) error;
        sig = (Patchpanel__NeighborReachabilityEventSignal *) signal_payload(
                m, &patchpanel__neighbor_reachability_event_signal__descriptor);
        if (!sig)
                return 0;
        ev = (PpNeighborEvent) { .ifindex = sig->ifindex, .role = (PpNeighborRole) sig->role,
                                 .type = (PpNeighborEventType) sig->type };
        snprintf(ev.ip_addr, sizeof ev.ip_addr, "%s", sig->ip_addr ? sig->ip_addr : "");
        if (c->handlers.neighbor_event)
                c->handlers.neighbor_event(&ev, c->handlers.userdata);
        patchpanel__neighbor_reachability_event_signal__free_unpacked(sig, NULL);
        return 0;
}

int pp_client_watch_signals(PpClient *c, const PpSignalHandlers *h) {
        static const char *const members[] = { "NetworkDeviceChanged", "NeighborReachabilityEvent" };
        static const sd_bus_message_handler_t handlers[] = { on_device_changed, on_neighbor_event };
        int r;

        if (c->signal_slots[0])
                return -EALREADY;
        c->handlers = *h;
        for (size_t i = 0; i < ELEMENTSOF(members); i++) {
                /* By path and interface: the daemon's well-known name is the broker's to
                 * resolve, and the daemon may come and go while we listen. */
                r = sd_bus_match_signal(c->bus, &c->signal_slots[i], NULL, PP_BUS_PATH,
                                        PP_BUS_INTERFACE, members[i], handlers[i], c);
                if (r < 0)
                        return r;
        }
        return 0;
}

int pp_client_dispatch_signals(PpClient *c, int stop_fd) {
        for (;;) {
                struct pollfd p[2] = { { .fd = stop_fd, .events = POLLIN } };
                uint64_t timeout = UINT64_MAX, now;
                int r, wait_ms = -1;

                do
                        r = sd_bus_process(c->bus, NULL);
                while (r > 0);
                if (r < 0)
                        return r;
                r = sd_bus_get_events(c->bus);
                if (r < 0)
                        return r;
                p[1] = (struct pollfd) { .fd = sd_bus_get_fd(c->bus), .events = (short) r };
                /* An absolute CLOCK_MONOTONIC time, or UINT64_MAX for none. */
                if (sd_bus_get_timeout(c->bus, &timeout) >= 0 && timeout != UINT64_MAX) {
                        struct timespec ts;
                        clock_gettime(CLOCK_MONOTONIC, &ts);
                        now = (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
                        timeout = timeout > now ? (timeout - now) / 1000 + 1 : 0;
                        wait_ms = timeout > INT32_MAX ? INT32_MAX : (int) timeout;
                }
                r = poll(p, 2, wait_ms);
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (p[0].revents)
                        return 0;
        }
}
