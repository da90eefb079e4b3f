/* SPDX-License-Identifier: BSD-3-Clause */
/* TerminaVmStartup/Shutdown and PluginVmStartup/Shutdown: read, unpack, validate, ask the
 * bus who calls, then hand over to vm.c, which replies when the helper is done. The caller
 * who starts a VM owns it: only it or root may stop it. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "bus-pid.h"
#include "vm.h"

#define TERMINA PATCHPANEL__IPC__VM_KIND__VM_KIND_TERMINA
#define PLUGINVM PATCHPANEL__IPC__VM_KIND__VM_KIND_PLUGINVM

static int vm_start_error(Manager *m, Patchpanel__Ipc__VmKind kind, uint64_t id, uint32_t index,
                          int r, sd_bus_error *error) {
        const char *what = kind == TERMINA ? "Termina VM" : "PluginVM";

        switch (r) {
        case 0:
                return 1; /* replied to when the helper answers */
        case -EEXIST:
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "%s %" PRIu64 " is already running", what, id);
        case -EBUSY:
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "Subnet %u of the %s pool is in use", index, what);
        case -ERANGE:
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "subnet_index %u is beyond the %u subnets of the pool",
                                         index, pool_get_config(m->pools[POOL_PLUGINVM])->count);
        case -ENOSPC:
                return sd_bus_error_setf(error, PP_ERROR_EXHAUSTED,
                                         "No free subnet for another %s", what);
        default:
                return sd_bus_error_setf(error, PP_ERROR_FAILED, "Cannot start the %s: %s", what,
                                         strerror(-r));
        }
}

static int vm_stop_error(Patchpanel__Ipc__VmKind kind, uint64_t id, int r, sd_bus_error *error) {
        const char *what = kind == TERMINA ? "Termina VM" : "PluginVM";

        switch (r) {
        case 0:
                return 1;
        case -ENOENT:
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "No %s %" PRIu64 " is running", what, id);
        case -EBUSY:
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "%s %" PRIu64 " is still starting or already stopping",
                                         what, id);
        case -EPERM:
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "%s %" PRIu64 " was started by another user", what, id);
        default:
                return sd_bus_error_setf(error, PP_ERROR_FAILED, "Cannot stop the %s: %s", what,
                                         strerror(-r));
        }
}

/* What a call names, kept while the bus says who the caller is. */
typedef struct VmCall {
        Patchpanel__Ipc__VmKind kind;
        uint64_t id;
        uint32_t index;
        bool stop;
} VmCall;

static void vm_caller_known(Manager *m, sd_bus_message *call, uid_t uid, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        VmCall *a = userdata;
        int r;

        if (a->stop)
                r = vm_stop_error(a->kind, a->id, vm_guest_stop(m, a->kind, a->id, uid, call), &e);
        else
                r = vm_start_error(m, a->kind, a->id, a->index,
                                   vm_guest_start(m, a->kind, a->id, a->index, uid, call), &e);
        if (r < 0)
                (void) sd_bus_reply_method_error(call, &e);
}

static int vm_call(Manager *m, sd_bus_message *msg, const VmCall *a, sd_bus_error *error) {
        VmCall *copy = malloc(sizeof *copy);

        if (!copy)
                return -ENOMEM;
        *copy = *a;
        return bus_caller_uid(m, msg, vm_caller_known, copy, free, error);
}

int bus_method_termina_vm_startup(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Patchpanel__TerminaVmStartupRequest *req = NULL;
        Manager *m = userdata;
        int r;

        r = bus_message_read_proto(msg, &patchpanel__termina_vm_startup_request__descriptor,
                                   (ProtobufCMessage **) &req, error);
        if (r < 0)
                return r;
        uint32_t cid = req->cid;
        patchpanel__termina_vm_startup_request__free_unpacked(req, NULL);
        if (m->stopping)
                return sd_bus_error_setf(error, PP_ERROR_FAILED, "The daemon is shutting down");
        return vm_call(m, msg, &(VmCall) { .kind = TERMINA, .id = cid }, error);
}

int bus_method_termina_vm_shutdown(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Patchpanel__TerminaVmShutdownRequest *req = NULL;
        Manager *m = userdata;
        int r;

        r = bus_message_read_proto(msg, &patchpanel__termina_vm_shutdown_request__descriptor,
                                   (ProtobufCMessage **) &req, error);
        if (r < 0)
                return r;
        uint32_t cid = req->cid;
        patchpanel__termina_vm_shutdown_request__free_unpacked(req, NULL);
        return vm_call(m, msg, &(VmCall) { .kind = TERMINA, .id = cid, .stop = true }, error);
}

int bus_method_plugin_vm_startup(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Patchpanel__PluginVmStartupRequest *req = NULL;
        Manager *m = userdata;
        ErrBuf err;
        int32_t index;
        uint64_t id;
        int r;

        r = bus_message_read_proto(msg, &patchpanel__plugin_vm_startup_request__descriptor,
                                   (ProtobufCMessage **) &req, error);
        if (r < 0)
                return r;
        r = bus_request_check_plugin_vm_startup(req, &err);
        id = req->id;
        index = req->subnet_index;
        patchpanel__plugin_vm_startup_request__free_unpacked(req, NULL);
        if (r < 0)
                return bus_error_set_invalid(error, &err);
        if (m->stopping)
                return sd_bus_error_setf(error, PP_ERROR_FAILED, "The daemon is shutting down");
        return vm_call(m, msg, &(VmCall) { .kind = PLUGINVM, .id = id, .index = (uint32_t) index },
                       error);
}

int bus_method_plugin_vm_shutdown(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Patchpanel__PluginVmShutdownRequest *req = NULL;
        Manager *m = userdata;
        uint64_t id;
        int r;

        r = bus_message_read_proto(msg, &patchpanel__plugin_vm_shutdown_request__descriptor,
                                   (ProtobufCMessage **) &req, error);
        if (r < 0)
                return r;
        id = req->id;
        patchpanel__plugin_vm_shutdown_request__free_unpacked(req, NULL);
        return vm_call(m, msg, &(VmCall) { .kind = PLUGINVM, .id = id, .stop = true }, error);
}
