/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VPN intent and VPN routing. SetVpnIntent hands the client's socket to the helper, which
 * sets the VPN bits of its SO_MARK. Routing by those bits needs two rules, kept here in
 * step with the link monitor's physical default (the best default route through an
 * uplink): traffic marked BYPASS_VPN takes the main table's routes but its defaults and
 * /1s (where VPNs put their catch-alls: a default, or OpenVPN's two halves), else the
 * physical default's table. ROUTE_ON_VPN and unmarked traffic follow the main table, i.e.
 * the VPN when one is up. The rules do not depend on a VPN being up, so whatever way a VPN
 * takes over the default, bypassing traffic goes around it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "bus.h"
#include "log.h"
#include "manager-bus.h"
#include "manager.h"
#include "service.pb-c.h"
#include "vpn.h"

static void on_vpn_intent_set(const HelperResponse *resp, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = pending_call_take(userdata);
        Patchpanel__SetVpnIntentResponse reply = PATCHPANEL__SET_VPN_INTENT_RESPONSE__INIT;

        if (resp->status < 0) {
                (void) bus_reply_errno(call, resp->status, resp->message);
                return;
        }
        reply.success = true;
        (void) bus_reply_proto(call, &reply.base);
}

int bus_method_set_vpn_intent(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(protobuf_message_freep) ProtobufCMessage *unpacked = NULL;
        Patchpanel__SetVpnIntentRequest *req;
        IpcVpnIntent op = PATCHPANEL__IPC__VPN_INTENT__INIT;
        HelperRequest hreq = HELPER_REQUEST_INIT;
        Manager *m = userdata;
        ErrBuf err;
        int fd, type, r;
        socklen_t len = sizeof type;

        r = bus_message_read_proto(msg, &patchpanel__set_vpn_intent_request__descriptor,
                                   &unpacked, error);
        if (r < 0)
                return r;
        req = (Patchpanel__SetVpnIntentRequest *) unpacked;
        r = sd_bus_message_read(msg, "h", &fd);
        if (r < 0)
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "Missing socket fd: %s", strerror(-r));
        r = bus_request_check_vpn_intent(req, &err);
        if (r < 0)
                return bus_error_set_invalid(error, &err);
        /* getsockopt(), not fstat(): an fd on a FUSE file would let the caller stall fstat()
         * and with it the whole daemon. */
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "The fd is not a socket");
        if (m->stopping)
                return sd_bus_error_setf(error, PP_ERROR_FAILED, "The daemon is shutting down");

        /* The message keeps its fd; the helper gets a copy. */
        fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return sd_bus_error_setf(error, errno == EMFILE ? PP_ERROR_EXHAUSTED : PP_ERROR_FAILED,
                                         "Cannot duplicate the socket fd: %m");
        op.policy = (uint32_t) req->policy;
        hreq.op_case = OP(VPN_INTENT);
        hreq.vpn_intent = &op;
        return pending_call_send(m->helper, msg, &hreq, &fd, 1, on_vpn_intent_set, NULL, error);
}

static void on_vpn_bypass_set(const HelperResponse *resp, void *userdata) {
        Manager *m = userdata;

        if (resp->status < 0) {
                log_error("VPN bypass routing: %s", resp->message);
                /* Unknown state: the next change of the default tries again. */
                m->vpn_bypass_ifindex = -1;
                m->vpn_bypass_ifname[0] = '\0';
        }
}

static void vpn_routing_update(Manager *m) {
        IpcVpnBypass op = PATCHPANEL__IPC__VPN_BYPASS__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;
        const Uplink *physical = registry_physical_default(m->registry);
        int ifindex = physical ? physical->ifindex : 0;
        int r;

        if (m->stopping || ifindex == m->vpn_bypass_ifindex)
                return;
        m->vpn_bypass_ifindex = ifindex;
        snprintf(m->vpn_bypass_ifname, sizeof m->vpn_bypass_ifname, "%s",
                 ifindex ? physical->name : "");
        if (ifindex)
                log_info("Traffic bypassing a VPN goes through %s", physical->name);
        else
                log_info("No physical default route: traffic cannot bypass a VPN");
        op.ifname = m->vpn_bypass_ifname;
        op.ifindex = ifindex;
        req.op_case = OP(VPN_BYPASS);
        req.vpn_bypass = &op;
        r = helper_link_call(m->helper, &req, NULL, 0, on_vpn_bypass_set, m);
        if (r < 0)
                log_error_errno(r, "Cannot ask the helper for VPN routing: %m");
}

static void vpn_on_uplink_removed(Uplink *u, void *userdata) {
        Manager *m = userdata;

        /* The helper drops every rule into a removed uplink's table, one of the bypass's
         * with them; the next update replaces or removes the other. */
        if (m->vpn_bypass_ifindex == u->ifindex) {
                m->vpn_bypass_ifindex = -1; /* the main-table rule may be left: unknown */
                m->vpn_bypass_ifname[0] = '\0';
        }
}

static void vpn_on_default_changed(const char *old, const char *new, void *userdata) {
        (void) old;
        (void) new;
        /* New connections follow the main table by themselves; established ones keep their
         * uplink through their conntrack mark. Only the VPN bypass depends on the default. */
        vpn_routing_update(userdata);
}

static const RegistrySubscriber vpn_subscriber = {
        .uplink_removed = vpn_on_uplink_removed,
        .default_changed = vpn_on_default_changed,
};

int vpn_setup(Manager *m) {
        return registry_subscribe(m->registry, &vpn_subscriber, m);
}
