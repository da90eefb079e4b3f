/* SPDX-License-Identifier: BSD-3-Clause */
/* ArcStartup/ArcShutdown (container, by pid) and ArcVmStartup/ArcVmShutdown (VM, by cid).
 * Each waits for the bus to say who calls: the caller who starts ARC owns it, and only it
 * or root may stop it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc.h"
#include "bus.h"
#include "bus-pid.h"
#include "service.pb-c.h"
#include "manager-bus.h"

static int arc_error(int r, const char *what, sd_bus_error *error) {
        switch (r) {
        case 0:
                return 1; /* replied to when the helper answers */
        case -EEXIST:
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "ARC is already running");
        case -ENOENT:
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT, "No such %s is running",
                                         what);
        case -EBUSY:
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "ARC is still starting or already stopping");
        case -EPERM:
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "%s was started by another user", what);
        default:
                return sd_bus_error_setf(error, PP_ERROR_FAILED, "Cannot handle %s: %s", what,
                                         strerror(-r));
        }
}

/* What a call names, kept while the bus says who the caller is. */
typedef struct ArcCall {
        ArcKind kind;
        pid_t pid;
        uint32_t cid;
        bool stop;
} ArcCall;

static void arc_reply_error(sd_bus_message *call, int r, const char *what) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

        if (arc_error(r, what, &e) < 0)
                (void) sd_bus_reply_method_error(call, &e);
}

static const char *arc_call_what(const ArcCall *a) {
        return a->kind == ARC_KIND_VM ? "ARCVM" : "ARC container";
}

static void arc_startup_authorized(Manager *m, sd_bus_message *call, int pidfd, uid_t uid,
                                   void *userdata) {
        pid_t pid = (pid_t) (intptr_t) userdata;

        arc_reply_error(call, arc_start(m, ARC_KIND_CONTAINER, pid, pidfd, 0, uid, call), "ARC");
}

/* The caller is known: start the VM as theirs, or stop ARC if it is theirs. */
static void arc_caller_known(Manager *m, sd_bus_message *call, uid_t uid, void *userdata) {
        ArcCall *a = userdata;
        int r;

        if (a->stop)
                r = arc_stop(m, a->kind, a->pid, a->cid, uid, call);
        else
                r = arc_start(m, a->kind, 0, -EBADF, a->cid, uid, call);
        arc_reply_error(call, r, arc_call_what(a));
}

static int arc_call(Manager *m, sd_bus_message *msg, const ArcCall *a, sd_bus_error *error) {
        ArcCall *copy = malloc(sizeof *copy);

        if (!copy)
                return -ENOMEM;
        *copy = *a;
        return bus_caller_uid(m, msg, arc_caller_known, copy, free, error);
}

int bus_method_arc_startup(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Patchpanel__ArcStartupRequest *req = NULL;
        Manager *m = userdata;
        BusRequestContext ctx = manager_bus_request_context(m);
        ErrBuf err;
        pid_t pid;
        int r;

        r = bus_message_read_proto(msg, &patchpanel__arc_startup_request__descriptor,
                                   (ProtobufCMessage **) &req, error);
        if (r < 0)
                return r;
        pid = req->pid;
        patchpanel__arc_startup_request__free_unpacked(req, NULL);
        r = bus_request_check_pid(pid, &ctx, &err);
        if (r < 0)
                return bus_error_set_invalid(error, &err);
        if (m->stopping)
                return sd_bus_error_setf(error, PP_ERROR_FAILED, "The daemon is shutting down");
        if (m->arc)
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT, "ARC is already running");
        return bus_pid_authorize(m, msg, pid, arc_startup_authorized, (void *) (intptr_t) pid,
                                 NULL, error);
}

int bus_method_arc_shutdown(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Patchpanel__ArcShutdownRequest *req = NULL;
        Manager *m = userdata;
        pid_t pid;
        int r;

        r = bus_message_read_proto(msg, &patchpanel__arc_shutdown_request__descriptor,
                                   (ProtobufCMessage **) &req, error);
        if (r < 0)
                return r;
        pid = req->pid;
        patchpanel__arc_shutdown_request__free_unpacked(req, NULL);
        return arc_call(m, msg, &(ArcCall) { .kind = ARC_KIND_CONTAINER, .pid = pid, .stop = true },
                        error);
}

int bus_method_arc_vm_startup(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Patchpanel__ArcVmStartupRequest *req = NULL;
        Manager *m = userdata;
        uint32_t cid;
        int r;

        r = bus_message_read_proto(msg, &patchpanel__arc_vm_startup_request__descriptor,
                                   (ProtobufCMessage **) &req, error);
        if (r < 0)
                return r;
        cid = req->cid;
        patchpanel__arc_vm_startup_request__free_unpacked(req, NULL);
        if (m->stopping)
                return sd_bus_error_setf(error, PP_ERROR_FAILED, "The daemon is shutting down");
        if (m->arc)
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT, "ARC is already running");
        return arc_call(m, msg, &(ArcCall) { .kind = ARC_KIND_VM, .cid = cid }, error);
}

int bus_method_arc_vm_shutdown(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Patchpanel__ArcVmShutdownRequest *req = NULL;
        Manager *m = userdata;
        uint32_t cid;
        int r;

        r = bus_message_read_proto(msg, &patchpanel__arc_vm_shutdown_request__descriptor,
                                   (ProtobufCMessage **) &req, error);
        if (r < 0)
                return r;
        cid = req->cid;
        patchpanel__arc_vm_shutdown_request__free_unpacked(req, NULL);
        return arc_call(m, msg, &(ArcCall) { .kind = ARC_KIND_VM, .cid = cid, .stop = true },
                        error);
}
