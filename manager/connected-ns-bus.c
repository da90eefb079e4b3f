/* SPDX-License-Identifier: BSD-3-Clause */
/* ConnectNamespace: read, unpack and validate everything, then hand over to
 * connected_ns_connect(), which replies once the helper has built the datapath. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "connected-ns.h"
#include "lifeline.h"
#include "log.h"
#include "manager-bus.h"
#include "bus-pid.h"
#include "service.pb-c.h"

typedef Patchpanel__ConnectNamespaceRequest ConnectNamespaceRequest;

static void request_free(ConnectNamespaceRequest *r) {
        patchpanel__connect_namespace_request__free_unpacked(r, NULL);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(ConnectNamespaceRequest *, request_free);

static void params_free(void *userdata) {
        ConnectedNsParams *p = userdata;

        safe_close(p->lifeline_fd);
        free(p);
}

static void connect_ns_authorized(Manager *m, sd_bus_message *call, int pidfd, uid_t uid,
                                  void *userdata) {
        ConnectedNsParams *p = userdata;
        int r;

        p->owner = uid;
        r = connected_ns_connect(m, p, TAKE_FD(p->lifeline_fd), pidfd, call);
        if (r == -ENOSPC)
                (void) sd_bus_reply_method_errorf(call, PP_ERROR_EXHAUSTED,
                                                  "No free subnet: all %u namespace subnets "
                                                  "are in use",
                                                  pool_get_config(m->pools[POOL_NETNS])->count);
        else if (r < 0)
                (void) sd_bus_reply_method_errorf(call, PP_ERROR_FAILED,
                                                  "Cannot connect the namespace: %s",
                                                  strerror(-r));
        /* Otherwise replied to when the helper answers. */
}

int bus_method_connect_namespace(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(request_freep) ConnectNamespaceRequest *req = NULL;
        _cleanup_close_ int lifeline = -EBADF;
        Manager *m = userdata;
        BusRequestContext ctx = manager_bus_request_context(m);
        ConnectNamespaceArgs args;
        ConnectedNsParams p = {};
        ErrBuf err;
        ConnectedNsParams *params;
        int fd, r;

        r = bus_message_read_proto(msg, &patchpanel__connect_namespace_request__descriptor,
                                   (ProtobufCMessage **) &req, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "h", &fd);
        if (r < 0)
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "Missing lifeline fd: %s", strerror(-r));

        r = bus_request_check_connect_namespace(req, &ctx, &args, &err);
        if (r < 0)
                return bus_error_set_invalid(error, &err);
        p.pid = args.pid;
        p.source = args.source;
        p.allow_user_traffic = args.allow_user_traffic;
        p.route_on_vpn = args.route_on_vpn;
        if (args.outbound_ifname) {
                const Uplink *u = registry_find_uplink(m->registry, args.outbound_ifname);

                if (!u)
                        return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                                 "Unknown outbound_physical_device %s",
                                                 args.outbound_ifname);
                /* Pinned: its traffic leaves through that uplink whatever the default. */
                p.outbound_ifindex = u->ifindex;
                snprintf(p.outbound_ifname, sizeof p.outbound_ifname, "%s", u->name);
        }

        if (m->stopping)
                return sd_bus_error_setf(error, PP_ERROR_FAILED, "The daemon is shutting down");

        lifeline = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (lifeline < 0 && (errno == EMFILE || errno == ENFILE))
                return sd_bus_error_setf(error, PP_ERROR_EXHAUSTED, "Out of file descriptors");
        if (lifeline < 0)
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "Invalid lifeline fd: %m");
        r = lifeline_check(lifeline, &err);
        if (r < 0)
                return bus_error_set_invalid(error, &err);

        params = malloc(sizeof *params);
        if (!params)
                return -ENOMEM;
        *params = p;
        params->lifeline_fd = TAKE_FD(lifeline);
        /* params (and its lifeline, if never used) are freed with the check. */
        return bus_pid_authorize(m, msg, p.pid, connect_ns_authorized, params, params_free,
                                 error);
}
