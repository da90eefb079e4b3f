/* SPDX-License-Identifier: BSD-3-Clause */
/* ArcStartup/ArcShutdown (container, by pid) and ArcVmStartup/ArcVmShutdown (VM, by cid). */
#include <errno.h>
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
        default:
                return sd_bus_error_setf(error, PP_ERROR_FAILED, "Cannot handle %s: %s", what,
                                         strerror(-r));
        }
}

static void arc_startup_authorized(Manager *m, sd_bus_message *call, int pidfd, void *userdata) {
        pid_t pid = (pid_t) (intptr_t) userdata;
        int r;

        r = arc_start(m, ARC_KIND_CONTAINER, pid, pidfd, 0, call);
        if (r == -EEXIST)
                (void) sd_bus_reply_method_errorf(call, PP_ERROR_INVALID_ARGUMENT,
                                                  "ARC is already running");
        else if (r < 0)
                (void) sd_bus_reply_method_errorf(call, PP_ERROR_FAILED, "Cannot start ARC: %s",
                                                  strerror(-r));
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
        return arc_error(arc_stop(m, ARC_KIND_CONTAINER, pid, 0, msg), "ARC container", error);
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
        return arc_error(arc_start(m, ARC_KIND_VM, 0, -EBADF, cid, msg), "ARCVM", error);
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
        return arc_error(arc_stop(m, ARC_KIND_VM, 0, cid, msg), "ARCVM", error);
}
