/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <unistd.h>

#include "bus.h"
#include "log.h"
#include "manager-bus.h"
#include "manager.h"
#include "arc.h"
#include "devices.h"
#include "neighbors-bus.h"
#include "port-rules.h"
#include "status.h"
#include "vm.h"

/* Methods appear here as they are implemented; a method that is not listed answers
 * org.freedesktop.DBus.Error.UnknownMethod. Who may call what is the bus policy's decision
 * (systemd/org.chromium.PatchPanel.conf), so sd-bus's own capability check is off
 * (SD_BUS_VTABLE_UNPRIVILEGED); methods that act on a caller-named object check ownership
 * themselves. */
#define METHOD(name, handler)                                                           \
        SD_BUS_METHOD_WITH_ARGS(name, SD_BUS_ARGS("ay", request), SD_BUS_RESULT("ay", response), \
                                handler, SD_BUS_VTABLE_UNPRIVILEGED)

const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("ConnectNamespace",
                                SD_BUS_ARGS("ay", request, "h", lifeline),
                                SD_BUS_RESULT("ay", response),
                                bus_method_connect_namespace, SD_BUS_VTABLE_UNPRIVILEGED),
        METHOD("ArcStartup", bus_method_arc_startup),
        METHOD("ArcShutdown", bus_method_arc_shutdown),
        METHOD("ArcVmStartup", bus_method_arc_vm_startup),
        METHOD("ArcVmShutdown", bus_method_arc_vm_shutdown),
        METHOD("TerminaVmStartup", bus_method_termina_vm_startup),
        METHOD("TerminaVmShutdown", bus_method_termina_vm_shutdown),
        METHOD("PluginVmStartup", bus_method_plugin_vm_startup),
        METHOD("PluginVmShutdown", bus_method_plugin_vm_shutdown),
        METHOD("GetDevices", bus_method_get_devices),
        METHOD("ModifyPortRule", bus_method_modify_port_rule),
        METHOD("GetTrafficCounters", bus_method_get_traffic_counters),
        SD_BUS_METHOD_WITH_ARGS("SetVpnIntent",
                                SD_BUS_ARGS("ay", request, "h", socket),
                                SD_BUS_RESULT("ay", response),
                                bus_method_set_vpn_intent, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("NetworkDeviceChanged", SD_BUS_ARGS("ay", signal), 0),
        SD_BUS_SIGNAL_WITH_ARGS("NeighborReachabilityEvent", SD_BUS_ARGS("ay", signal), 0),
        SD_BUS_VTABLE_END,
};

/* Read-only, and not part of the original API: a separate interface. */
static const sd_bus_vtable status_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("GetStatus", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", json),
                                bus_method_get_status, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListConnectedNamespaces", SD_BUS_ARGS("u", offset, "u", limit),
                                SD_BUS_RESULT("s", json), bus_method_list_connected_namespaces,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

static int manager_on_bus_disconnected(sd_bus_message *msg, void *userdata,
                                       sd_bus_error *error) {
        Manager *m = userdata;

        (void) msg;
        (void) error;
        /* Nobody can reach us any more, and a restart gets a fresh connection. */
        log_error("Lost the connection to the system bus, shutting down");
        m->failed = true;
        manager_stop(m);
        return 0;
}

int manager_bus_setup(Manager *m) {
        int r;

        r = sd_bus_match_signal(m->bus, NULL, "org.freedesktop.DBus.Local",
                                "/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
                                "Disconnected", manager_on_bus_disconnected, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the bus connection: %m");

        r = sd_bus_add_object_vtable(m->bus, &m->bus_vtable_slot, PP_BUS_PATH, PP_BUS_INTERFACE,
                                     manager_vtable, m);
        if (r >= 0)
                r = sd_bus_add_object_vtable(m->bus, &m->bus_status_slot, PP_BUS_PATH,
                                             PP_BUS_STATUS_INTERFACE, status_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Failed to export the D-Bus API: %m");
        r = sd_bus_request_name(m->bus, PP_BUS_NAME, 0);
        if (r == -EEXIST)
                return log_error_errno(r, "%s is owned by another process: is patchpaneld "
                                          "already running?", PP_BUS_NAME);
        if (r < 0)
                return log_error_errno(r, "Failed to own %s: %m", PP_BUS_NAME);
        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
        r = neighbors_bus_watch_resolved(m);
        if (r < 0)
                log_warning_errno(r, "Cannot watch systemd-resolved come and go, ignoring: %m");
        log_info("Owning %s", PP_BUS_NAME);
        return 0;
}
