/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VPN intent and VPN routing. SetVpnIntent hands the client's socket to the helper, which
 * sets the VPN bits of its SO_MARK. Routing by those bits needs one rule, kept here in
 * step with the link monitor: while the default route goes through a VPN link, traffic
 * marked BYPASS_VPN takes the routing table of the physical default uplink; traffic marked
 * ROUTE_ON_VPN, and unmarked traffic, follow the main table, i.e. the VPN.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bus.h"
#include "log.h"
#include "manager-bus.h"
#include "manager.h"
#include "service.pb-c.h"
#include "vpn.h"

static void on_vpn_intent_set(const HelperResponse *resp, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = userdata;
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
        struct stat st;
        int fd, r;

        r = bus_message_read_proto(msg, &patchpanel__set_vpn_intent_request__descriptor,
                                   &unpacked, error);
        if (r < 0)
                return r;
        req = (Patchpanel__SetVpnIntentRequest *) unpacked;
        r = sd_bus_message_read(msg, "h", &fd);
        if (r < 0)
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "Missing socket fd: %s", strerror(-r));
        if ((int) req->policy < 0 || (int) req->policy >= _VPN_POLICY_MAX)
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "Invalid VPN routing policy %d", (int) req->policy);
        if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
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
        r = helper_channel_call(m->helper, &hreq, &fd, 1, on_vpn_intent_set, msg);
        if (r < 0)
                return sd_bus_error_setf(error, PP_ERROR_FAILED, "Cannot reach the helper: %s",
                                         strerror(-r));
        sd_bus_message_ref(msg);
        return 1;
}

static void on_vpn_bypass_set(const HelperResponse *resp, void *userdata) {
        (void) userdata;
        if (resp->status < 0)
                log_error("VPN bypass routing: %s", resp->message);
}

void vpn_routing_update(Manager *m) {
        IpcVpnBypass op = PATCHPANEL__IPC__VPN_BYPASS__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;
        const char *def = link_monitor_default_ifname(m->links);
        const Uplink *physical = link_monitor_physical_default(m->links);
        int ifindex = 0;
        int r;

        if (m->stopping)
                return;
        if (def && link_monitor_is_vpn(m->links, def) && physical)
                ifindex = physical->ifindex;
        if (ifindex == m->vpn_bypass_ifindex)
                return;
        m->vpn_bypass_ifindex = ifindex;
        snprintf(m->vpn_bypass_ifname, sizeof m->vpn_bypass_ifname, "%s",
                 ifindex ? physical->name : "");
        if (ifindex)
                log_info("The default route goes through VPN %s: traffic bypassing it goes "
                         "through %s", def, physical->name);
        else
                log_info("No VPN carries the default route: nothing to bypass");
        op.ifname = m->vpn_bypass_ifname;
        op.ifindex = ifindex;
        req.op_case = OP(VPN_BYPASS);
        req.vpn_bypass = &op;
        r = helper_channel_call(m->helper, &req, NULL, 0, on_vpn_bypass_set, NULL);
        if (r < 0)
                log_error_errno(r, "Cannot ask the helper for VPN routing: %m");
}

void vpn_on_uplink_removed(Manager *m, int ifindex) {
        /* The helper drops every rule into a removed uplink's table, the bypass with them. */
        if (m->vpn_bypass_ifindex == ifindex) {
                m->vpn_bypass_ifindex = 0;
                m->vpn_bypass_ifname[0] = '\0';
        }
}
