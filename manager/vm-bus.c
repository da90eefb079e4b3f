/* SPDX-License-Identifier: BSD-3-Clause */
/* TerminaVmStartup/Shutdown and PluginVmStartup/Shutdown: read, unpack, validate, then hand
 * over to vm.c, which replies when the helper is done. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "bus.h"
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
        default:
                return sd_bus_error_setf(error, PP_ERROR_FAILED, "Cannot stop the %s: %s", what,
                                         strerror(-r));
        }
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
        r = vm_guest_start(m, TERMINA, cid, 0, msg);
        return vm_start_error(m, TERMINA, cid, 0, r, error);
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
        return vm_stop_error(TERMINA, cid, vm_guest_stop(m, TERMINA, cid, msg), error);
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
        r = vm_guest_start(m, PLUGINVM, id, (uint32_t) index, msg);
        return vm_start_error(m, PLUGINVM, id, (uint32_t) index, r, error);
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
        return vm_stop_error(PLUGINVM, id, vm_guest_stop(m, PLUGINVM, id, msg), error);
}
