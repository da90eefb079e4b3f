/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "addr.h"
#include "bus-names.h"
#include "macro.h"
#include "patchpanel-client.h"
#include "service.pb-c.h"

struct PpClient {
        sd_bus *bus;
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
