/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>

#include "adb.h"
#include "log.h"
#include "manager.h"
#include "port-rules.h"

#define ADB_PORT 5555

static bool is_arc_management(const GuestLink *l) {
        return l->management && (l->kind == GUEST_ARC || l->kind == GUEST_ARCVM);
}

/* Whether ARC runs, as the registry has it now. */
static bool arc_runs(const Registry *r) {
        for (const GuestLink *l = registry_guests(r); l; l = l->guests_next)
                if (is_arc_management(l))
                        return true;
        return false;
}

static void adb_on_sideload_done(const HelperResponse *resp, void *userdata) {
        (void) userdata;
        if (resp->status < 0)
                log_warning("adb-proxy: the Termina VM's way to adb-proxy failed: %s, ignoring",
                            resp->message);
}

/* The DNAT on one Termina VM's TAP. */
static void adb_sideload(Manager *m, const char *tap, bool enable) {
        IpcAdbSideload op = PATCHPANEL__IPC__ADB_SIDELOAD__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;
        int r;

        op.ifname = (char *) tap;
        op.enable = enable;
        req.op_case = OP(ADB_SIDELOAD);
        req.adb_sideload = &op;
        r = helper_link_call(m->helper, &req, NULL, 0, adb_on_sideload_done, m);
        if (r < 0)
                log_warning_errno(r, "adb-proxy: cannot ask the helper about %s, ignoring: %m",
                                  tap);
        else
                log_debug("adb-proxy: %s ADB from %s", enable ? "allowing" : "ending", tap);
}

/* ARC came or went: the ACCESS element and every Termina VM's DNAT with it. */
static void adb_arc_changed(Manager *m, bool runs) {
        PortRule rule = { .key = { .type = PORT_RULE_ACCESS, .proto = PORT_PROTO_TCP,
                                   .port = ADB_PORT } };
        int r;

        r = port_rules_hold(m, &rule, runs);
        if (r < 0)
                log_warning_errno(r, "adb-proxy: cannot %s tcp/%d on the uplinks, ignoring: %m",
                                  runs ? "open" : "close", ADB_PORT);
        for (const GuestLink *l = registry_guests(m->registry); l; l = l->guests_next)
                if (l->kind == GUEST_TERMINA)
                        adb_sideload(m, l->ifname, runs);
}

static void adb_on_guest_added(const GuestLink *l, void *userdata) {
        Manager *m = userdata;

        if (m->stopping)
                return;
        if (is_arc_management(l))
                adb_arc_changed(m, true);
        else if (l->kind == GUEST_TERMINA && arc_runs(m->registry))
                adb_sideload(m, l->ifname, true);
}

static void adb_on_guest_removed(const GuestLink *l, void *userdata) {
        Manager *m = userdata;

        if (m->stopping)
                return;
        /* l is out of the registry already: ARC runs no more if this was its link. */
        if (is_arc_management(l))
                adb_arc_changed(m, false);
        else if (l->kind == GUEST_TERMINA && arc_runs(m->registry))
                /* Its TAP is gone; the element that names it goes too. */
                adb_sideload(m, l->ifname, false);
}

static const RegistrySubscriber adb_subscriber = {
        .guest_added = adb_on_guest_added,
        .guest_removed = adb_on_guest_removed,
};

int adb_setup(Manager *m) {
        return registry_subscribe(m->registry, &adb_subscriber, m);
}
