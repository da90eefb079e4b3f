/* SPDX-License-Identifier: BSD-3-Clause */
/* ConnectNamespace: read, unpack and validate everything, then hand over to
 * connected_ns_connect(), which replies once the helper has built the datapath. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"
#include "connected-ns.h"
#include "ifname.h"
#include "log.h"
#include "manager-bus.h"
#include "pidfd-util.h"
#include "service.pb-c.h"

typedef Patchpanel__ConnectNamespaceRequest ConnectNamespaceRequest;

static void request_free(ConnectNamespaceRequest *r) {
        patchpanel__connect_namespace_request__free_unpacked(r, NULL);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(ConnectNamespaceRequest *, request_free);

/* The lifeline must be a pipe or socket end that has not already hung up. */
static int lifeline_check(int fd, sd_bus_error *error) {
        struct pollfd p = { .fd = fd };
        struct stat st;

        if (fstat(fd, &st) < 0)
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "Cannot inspect the lifeline fd: %m");
        if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode))
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

static int open_process(pid_t pid, int *ret_pidfd, sd_bus_error *error) {
        int pidfd = pidfd_open_pid(pid);

        if (pidfd == -ESRCH)
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "Process %d does not exist", (int) pid);
        if (pidfd == -EINVAL)
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "Pid %d is not a process", (int) pid);
        if (pidfd == -EMFILE || pidfd == -ENFILE)
                return sd_bus_error_setf(error, PP_ERROR_EXHAUSTED, "Out of file descriptors");
        if (pidfd < 0)
                return sd_bus_error_setf(error, PP_ERROR_FAILED, "Cannot open process %d: %s",
                                         (int) pid, strerror(-pidfd));
        *ret_pidfd = pidfd;
        return 0;
}

/* A call between its checks and the answer about who sent it. */
typedef struct PendingConnect {
        Manager *manager;
        sd_bus_message *call;
        ConnectedNsParams params;
        int lifeline_fd;
        int pidfd;
} PendingConnect;

static void pending_connect_free(void *userdata) {
        PendingConnect *pc = userdata;

        sd_bus_message_unref(pc->call);
        safe_close(pc->lifeline_fd);
        safe_close(pc->pidfd);
        free(pc);
}

/*
 * Who may connect which process: root any; anyone else (the bus policy decides who may call
 * at all) only processes running as their own user, so a caller cannot give networking to
 * another user's sandbox. The process was pinned as a pidfd when the call arrived and is
 * confirmed alive after its owner is read, so the owner checked is that of the process the
 * helper will act on.
 */
static int connect_ns_authorize(PendingConnect *pc, uid_t uid) {
        char path[32];
        struct stat st;
        pid_t pid = pc->params.pid;

        if (uid == 0)
                return 0;
        snprintf(path, sizeof path, "/proc/%d", (int) pid);
        if (stat(path, &st) < 0 || pidfd_is_alive(pc->pidfd) <= 0)
                return sd_bus_reply_method_errorf(pc->call, PP_ERROR_INVALID_ARGUMENT,
                                                  "Process %d does not exist", (int) pid);
        if (st.st_uid != uid)
                return sd_bus_reply_method_errorf(pc->call, SD_BUS_ERROR_ACCESS_DENIED,
                                                  "Process %d belongs to another user",
                                                  (int) pid);
        return 0;
}

static int on_caller_uid(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PendingConnect *pc = userdata;
        Manager *m = pc->manager;
        uint32_t uid;
        int r;

        (void) ret_error;
        if (sd_bus_message_is_method_error(reply, NULL) ||
            sd_bus_message_read(reply, "u", &uid) < 0) {
                (void) sd_bus_reply_method_errorf(pc->call, SD_BUS_ERROR_ACCESS_DENIED,
                                                  "Cannot identify the caller");
                return 0;
        }
        r = connect_ns_authorize(pc, (uid_t) uid);
        if (r != 0)
                return 0; /* replied */
        if (m->stopping) {
                (void) sd_bus_reply_method_errorf(pc->call, PP_ERROR_FAILED,
                                                  "The daemon is shutting down");
                return 0;
        }

        r = connected_ns_connect(m, &pc->params, TAKE_FD(pc->lifeline_fd), TAKE_FD(pc->pidfd),
                                 pc->call);
        if (r == -ENOSPC)
                (void) sd_bus_reply_method_errorf(pc->call, PP_ERROR_EXHAUSTED,
                                                  "No free subnet: all %u namespace subnets "
                                                  "are in use",
                                                  pool_get_config(m->netns_pool)->count);
        else if (r < 0)
                (void) sd_bus_reply_method_errorf(pc->call, PP_ERROR_FAILED,
                                                  "Cannot connect the namespace: %s",
                                                  strerror(-r));
        /* Otherwise replied to when the helper answers. */
        return 0;
}

int bus_method_connect_namespace(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(request_freep) ConnectNamespaceRequest *req = NULL;
        _cleanup_close_ int lifeline = -EBADF, pidfd = -EBADF;
        Manager *m = userdata;
        ConnectedNsParams p = {};
        PendingConnect *pc;
        sd_bus_slot *slot = NULL;
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
        if (req->pid == getpid() || req->pid == m->helper_pid)
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
        /* Refused rather than silently ignored: a caller asking for routing it would not get
         * must know. */
        if (req->route_on_vpn)
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "route_on_vpn is not supported yet");

        if (req->outbound_physical_device && req->outbound_physical_device[0]) {
                if (!ifname_is_valid(req->outbound_physical_device))
                        return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                                 "Invalid outbound_physical_device name");
                if (!link_monitor_find_uplink(m->links, req->outbound_physical_device))
                        return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                                 "Unknown outbound_physical_device %s",
                                                 req->outbound_physical_device);
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "outbound_physical_device is not supported yet: "
                                         "traffic follows the default route");
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

        /* Pinned now, as the process the caller named when calling. */
        r = open_process(p.pid, &pidfd, error);
        if (r < 0)
                return r;

        /* The bus knows who is calling; ask it without blocking. */
        pc = calloc(1, sizeof *pc);
        if (!pc)
                return -ENOMEM;
        *pc = (PendingConnect) {
                .manager = m,
                .call = sd_bus_message_ref(msg),
                .params = p,
                .lifeline_fd = TAKE_FD(lifeline),
                .pidfd = TAKE_FD(pidfd),
        };
        r = sd_bus_call_method_async(sd_bus_message_get_bus(msg), &slot, "org.freedesktop.DBus",
                                     "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                     "GetConnectionUnixUser", on_caller_uid, pc, "s",
                                     sd_bus_message_get_sender(msg));
        if (r < 0) {
                pending_connect_free(pc);
                return sd_bus_error_setf(error, PP_ERROR_FAILED, "Cannot identify the caller: %s",
                                         strerror(-r));
        }
        /* The slot belongs to the bus from here, and frees pc when done with it. */
        (void) sd_bus_slot_set_destroy_callback(slot, pending_connect_free);
        (void) sd_bus_slot_set_floating(slot, 1);
        sd_bus_slot_unref(slot);
        return 1;
}
