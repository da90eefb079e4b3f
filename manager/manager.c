/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Creating, wiring and freeing the manager's parts; start-up and the orderly stop.
 *
 * Stop, in order: stop taking calls (release the bus name) and watching lifelines; stop the
 * forwarders (their sockets close); ask the helper to tear the whole datapath down in one
 * request; then close the helper's and the launcher's sockets, which ends them, and leave
 * the loop once both have exited (or after a timeout, when they are killed), so that no
 * process of the suite outlives the manager.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adb.h"
#include "arc.h"
#include "bus-names.h"
#include "bus.h"
#include "coexist.h"
#include "connected-ns.h"
#include "devices.h"
#include "log.h"
#include "manager.h"
#include "neighbors-bus.h"
#include "ndproxy.h"
#include "port-rules.h"
#include "uplinks.h"
#include "vm.h"
#include "vpn.h"

#define CHILD_EXIT_TIMEOUT_USEC (5 * 1000 * 1000)

static void manager_on_helper_down(const char *why, void *userdata);
static void manager_on_launcher_down(const char *why, void *userdata);
static void manager_on_launcher_exit(pid_t pid, int code, int status, void *userdata);

int manager_new(sd_event *e, const ManagerConfig *config, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->event = sd_event_ref(e);
        m->config = *config;
        for (PoolKind k = 0; k < _POOL_KIND_MAX; k++) {
                m->pools[k] = pool_new(&config->pools.pools[k]);
                if (!m->pools[k])
                        return -ENOMEM;
        }
        m->macs = mac_generator_new(NULL, NULL);
        m->port_rules = port_rules_new();
        m->registry = registry_new();
        if (!m->macs || !m->port_rules || !m->registry)
                return -ENOMEM;
        r = helper_link_new(e, manager_on_helper_event, manager_on_helper_down, m, &m->helper);
        if (r < 0)
                return r;
        r = launcher_link_new(e, manager_on_launcher_exit, manager_on_launcher_down, m,
                              &m->launcher);
        if (r < 0)
                return r;

        /* Subscriptions in the order additions must be handled: an uplink's routing before
         * ARC's link to it; removals run in the reverse order. */
        r = uplinks_setup(m);
        if (r >= 0)
                r = arc_setup(m);
        if (r >= 0)
                r = connected_ns_setup(m);
        if (r >= 0)
                r = vpn_setup(m);
        if (r >= 0)
                r = neighbors_setup(m);
        if (r >= 0)
                r = neighbors_bus_setup(m);
        if (r >= 0)
                r = devices_setup(m);
        if (r >= 0 && config->forwarders.adb.enabled)
                r = adb_setup(m);
        if (r < 0)
                return r;
        r = forwarders_new(e, m->registry, m->launcher, &config->forwarders, &m->forwarders);
        if (r < 0)
                return r;
        r = nd_guests_setup(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        /* Calls the helper will never answer get an answer, while the bus is still there. */
        if (m->helper)
                pending_calls_cancel(m->helper, "The daemon is shutting down");
        /* What goes now goes silently: no signals, no messages to children. */
        if (m->registry)
                registry_unsubscribe_all(m->registry);
        m->port_rules = port_rules_free(m->port_rules);
        while (m->namespaces)
                connected_ns_free(m->namespaces);
        m->arc = arc_free(m->arc);
        while (m->vms)
                vm_guest_free(m->vms);
        m->forwarders = forwarders_free(m->forwarders);
        m->nd_guests = nd_guests_free(m->nd_guests);
        m->launcher = launcher_link_free(m->launcher);
        m->helper = helper_link_free(m->helper);
        uplinks_free(m);
        neighbors_free(m);
        m->registry = registry_free(m->registry);
        sd_bus_slot_unref(m->bus_vtable_slot);
        sd_bus_slot_unref(m->bus_status_slot);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        for (PoolKind k = 0; k < _POOL_KIND_MAX; k++)
                pool_free(m->pools[k]);
        mac_generator_free(m->macs);
        free(m->foreign_drops);
        free(m);
        return NULL;
}

static void manager_finish(Manager *m);

static void manager_on_helper_down(const char *why, void *userdata) {
        Manager *m = userdata;

        if (m->stopping) {
                /* Broken during an orderly stop (before its answer to DatapathStop): stop
                 * waiting for the answer and wait for its exit instead. */
                log_error("The helper channel broke while stopping: %s", why);
                m->failed = true;
                manager_finish(m);
                return;
        }
        log_error("The helper is gone (%s): every datapath went with it, exiting", why);
        (void) sd_event_exit(m->event, EXIT_FAILURE);
}

static void manager_on_launcher_down(const char *why, void *userdata) {
        Manager *m = userdata;

        if (m->stopping)
                return;
        log_error("The launcher is gone (%s): no forwarder could be restarted, shutting down",
                  why);
        m->failed = true;
        manager_stop(m);
}

static void manager_on_launcher_exit(pid_t pid, int code, int status, void *userdata) {
        Manager *m = userdata;
        forwarders_on_exit(m->forwarders, pid, code, status);
}

int manager_start_children(Manager *m, const HelperArgs *helper, const LauncherArgs *launcher) {
        int r;

        r = helper_link_start(m->helper, helper);
        if (r < 0)
                return r;
        return launcher_link_start(m->launcher, launcher);
}

static int manager_on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        (void) s;
        log_info("Received %s, shutting down", strsignal((int) si->ssi_signo));
        manager_stop(m);
        return 0;
}

int manager_setup(Manager *m) {
        int r;

        for (size_t i = 0; i < 3; i++) {
                static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
                r = sd_event_add_signal(m->event, NULL, sigs[i] | SD_EVENT_SIGNAL_PROCMASK,
                                        manager_on_signal, m);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch signals: %m");
        }
        r = registry_watch_links(m->registry, m->event, m->config.uplink_patterns);
        if (r < 0)
                return log_error_errno(r, "Failed to monitor links: %m");
        r = neighbors_start(m);
        if (r < 0)
                return log_error_errno(r, "Failed to monitor the uplinks' neighbours: %m");
        return 0;
}

static void manager_on_datapath_started(const HelperResponse *resp, void *userdata) {
        Manager *m = userdata;

        if (resp->status < 0) {
                log_error("Failed to set up the datapath: %s", resp->message);
                (void) sd_event_exit(m->event, EXIT_FAILURE);
                return;
        }
        log_info("Datapath ready");
        if (!m->stopping)
                forwarders_start(m->forwarders);
}

int manager_start(Manager *m) {
        IpcDatapathStart op = PATCHPANEL__IPC__DATAPATH_START__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;

        op.ingress_firewall = m->config.ingress_firewall;
        op.guest_ipv6 = m->config.forwarders.ndproxy;
        req.op_case = OP(DATAPATH_START);
        req.datapath_start = &op;
        /* The helper serves requests in order: anything a client asks for after this is
         * built on the fresh datapath. */
        return helper_link_call(m->helper, &req, NULL, 0, manager_on_datapath_started, m);
}

static void manager_on_child_stopped(void *userdata) {
        Manager *m = userdata;

        if (helper_link_pid(m->helper) > 0 || launcher_link_pid(m->launcher) > 0)
                return; /* the other one is still there */
        (void) sd_event_exit(m->event, m->failed ? EXIT_FAILURE : m->exit_status);
}

/* Close the helper's and the launcher's sockets, which ends them, and leave the loop once
 * both have exited. */
static void manager_finish(Manager *m) {
        if (m->finishing)
                return;
        m->finishing = true;
        log_debug("Waiting for the helper (pid %d) and the launcher (pid %d) to exit",
                  (int) helper_link_pid(m->helper), (int) launcher_link_pid(m->launcher));
        helper_link_stop(m->helper, CHILD_EXIT_TIMEOUT_USEC, manager_on_child_stopped);
        launcher_link_stop(m->launcher, CHILD_EXIT_TIMEOUT_USEC, manager_on_child_stopped);
}

static void manager_on_datapath_stopped(const HelperResponse *resp, void *userdata) {
        Manager *m = userdata;

        if (resp->status < 0) {
                log_error("Teardown incomplete: %s", resp->message);
                m->failed = true;
        } else
                log_info("Datapath removed");
        manager_finish(m);
}

void manager_stop(Manager *m) {
        IpcDatapathStop op = PATCHPANEL__IPC__DATAPATH_STOP__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;
        int r;

        if (m->stopping)
                return;
        m->stopping = true;
        m->exit_status = EXIT_SUCCESS;
        if (m->bus)
                (void) sd_bus_release_name_async(m->bus, NULL, PP_BUS_NAME, NULL, NULL);
        /* Stop watching lifelines: the whole datapath goes in one request below. */
        connected_ns_stop_watching(m);
        forwarders_stop(m->forwarders);

        req.op_case = OP(DATAPATH_STOP);
        req.datapath_stop = &op;
        r = helper_link_call(m->helper, &req, NULL, 0, manager_on_datapath_stopped, m);
        if (r < 0) {
                log_error_errno(r, "Cannot ask the helper for teardown: %m");
                m->failed = true;
                manager_finish(m);
        }
}
