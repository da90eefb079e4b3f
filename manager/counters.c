/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GetTrafficCounters: one read of the counters' table by the helper, then the 2021 proto's
 * view of it: the daemon's sources folded into TrafficCounter.Source (HOST_VPN and ARC_VPN
 * are VPN, TETHER_DOWNSTREAM is SYSTEM, anything unknown is UNKNOWN), one entry per
 * (source, device).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "log.h"
#include "manager-bus.h"
#include "manager.h"
#include "service.pb-c.h"

typedef Patchpanel__TrafficCounter TrafficCounter;

static void on_counters(const HelperResponse *resp, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = pending_call_take(userdata);
        Patchpanel__TrafficCountersResponse reply = PATCHPANEL__TRAFFIC_COUNTERS_RESPONSE__INIT;
        const IpcCountersResult *res = resp->counters;
        _cleanup_free_ TrafficCounter *out = NULL;
        _cleanup_free_ TrafficCounter **ptrs = NULL;
        size_t n = 0, group = 0;

        if (resp->status < 0 || resp->result_case != RESULT(COUNTERS)) {
                log_warning("Cannot read the traffic counters: %s", resp->message);
                (void) bus_reply_errno(call, resp->status < 0 ? resp->status : -EIO,
                                       resp->message);
                return;
        }
        out = calloc(res->n_counters + 1, sizeof *out);
        ptrs = calloc(res->n_counters + 1, sizeof *ptrs);
        if (!out || !ptrs) {
                (void) bus_reply_errno(call, -ENOMEM, "Out of memory for the counters");
                return;
        }
        /* The helper's entries come sorted by device: fold sources within each device. */
        for (size_t i = 0; i < res->n_counters; i++) {
                const IpcCounter *c = res->counters[i];
                ProtoSource src = traffic_source_to_proto((TrafficSource) c->source);
                TrafficCounter *t = NULL;

                if (src < 0)
                        src = PROTO_SOURCE_UNKNOWN;
                if (n > 0 && strcmp(out[n - 1].device, c->ifname) != 0)
                        group = n;
                for (size_t k = group; k < n; k++)
                        if (out[k].source == (Patchpanel__TrafficCounter__Source) src)
                                t = &out[k];
                if (!t) {
                        t = &out[n];
                        ptrs[n++] = t;
                        patchpanel__traffic_counter__init(t);
                        t->device = c->ifname;
                        t->source = (Patchpanel__TrafficCounter__Source) src;
                }
                t->rx_bytes += c->rx_bytes;
                t->rx_packets += c->rx_packets;
                t->tx_bytes += c->tx_bytes;
                t->tx_packets += c->tx_packets;
        }
        reply.counters = ptrs;
        reply.n_counters = n;
        if (bus_reply_proto(call, &reply.base) < 0)
                log_warning("Cannot send the traffic counters");
}

int bus_method_get_traffic_counters(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(protobuf_message_freep) ProtobufCMessage *unpacked = NULL;
        Patchpanel__TrafficCountersRequest *req;
        IpcCountersGet op = PATCHPANEL__IPC__COUNTERS_GET__INIT;
        HelperRequest hreq = HELPER_REQUEST_INIT;
        Manager *m = userdata;
        ErrBuf err;
        int r;

        r = bus_message_read_proto(msg, &patchpanel__traffic_counters_request__descriptor,
                                   &unpacked, error);
        if (r < 0)
                return r;
        req = (Patchpanel__TrafficCountersRequest *) unpacked;
        r = bus_request_check_traffic_counters(req, &err);
        if (r < 0)
                return bus_error_set_invalid(error, &err);
        if (m->stopping)
                return sd_bus_error_setf(error, PP_ERROR_FAILED, "The daemon is shutting down");

        op.ifnames = req->devices;
        op.n_ifnames = req->n_devices;
        hreq.op_case = OP(COUNTERS_GET);
        hreq.counters_get = &op;
        return pending_call_send(m->helper, msg, &hreq, NULL, 0, on_counters, NULL, error);
}
