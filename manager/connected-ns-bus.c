/* SPDX-License-Identifier: BSD-3-Clause */
/* ConnectNamespace: read, unpack and validate everything, then hand over to
 * connected_ns_connect(), which replies once the helper has built the datapath. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bus.h"
#include "connected-ns.h"
#include "ifname.h"
#include "log.h"
#include "manager-bus.h"
#include "bus-pid.h"
#include "service.pb-c.h"

typedef Patchpanel__ConnectNamespaceRequest ConnectNamespaceRequest;

static void request_free(ConnectNamespaceRequest *r) {
        patchpanel__connect_namespace_request__free_unpacked(r, NULL);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(ConnectNamespaceRequest *, request_free);

/* The lifeline must be a pipe or socket end that has not already hung up. The type is told
 * by calls that only pipes and sockets answer: an fstat() of a caller's FUSE file could
 * stall, and the daemon with it. */
static int lifeline_check(int fd, sd_bus_error *error) {
        struct pollfd p = { .fd = fd };
        int type;
        socklen_t len = sizeof type;

        if (fcntl(fd, F_GETPIPE_SZ) < 0 && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "The lifeline fd must be a pipe or a socket");
        if (poll(&p, 1, 0) < 0)
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "Cannot poll the lifeline fd: %m");
        if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "The lifeline fd is already closed at the other end");
        return 0;
}

static void params_free(void *userdata) {
        ConnectedNsParams *p = userdata;

        safe_close(p->lifeline_fd);
        free(p);
}

static void connect_ns_authorized(Manager *m, sd_bus_message *call, int pidfd, void *userdata) {
        ConnectedNsParams *p = userdata;
        int r;

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
        ConnectedNsParams p = {};
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

        if (req->pid <= 1)
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "Invalid pid %d: it must be > 1", req->pid);
        if (manager_owns_pid(m, req->pid))
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "Invalid pid %d: it is a patchpanel process", req->pid);

        p.pid = req->pid;
        p.source = traffic_source_from_proto(req->traffic_source);
        if (p.source < 0)
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "Invalid traffic_source %d", req->traffic_source);
        if (p.source == TRAFFIC_SOURCE_UNKNOWN)
                p.source = TRAFFIC_SOURCE_SYSTEM;
        /* Accepted and without effect, as in the original. */
        p.allow_user_traffic = req->allow_user_traffic;
        /* Through a VPN that carries the default route, or around it. */
        p.route_on_vpn = req->route_on_vpn;

        if (req->outbound_physical_device && req->outbound_physical_device[0]) {
                const Uplink *u;

                if (!ifname_is_valid(req->outbound_physical_device))
                        return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                                 "Invalid outbound_physical_device name");
                u = registry_find_uplink(m->registry, req->outbound_physical_device);
                if (!u)
                        return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                                 "Unknown outbound_physical_device %s",
                                                 req->outbound_physical_device);
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
        r = lifeline_check(lifeline, error);
        if (r < 0)
                return r;

        params = malloc(sizeof *params);
        if (!params)
                return -ENOMEM;
        *params = p;
        params->lifeline_fd = TAKE_FD(lifeline);
        /* params (and its lifeline, if never used) are freed with the check. */
        return bus_pid_authorize(m, msg, p.pid, connect_ns_authorized, params, params_free,
                                 error);
}
