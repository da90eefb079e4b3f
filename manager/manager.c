/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bus-names.h"
#include "bus.h"
#include "arc.h"
#include "connected-ns.h"
#include "vm.h"
#include "log.h"
#include "manager.h"
#include "coexist.h"
#include "port-rules.h"

int manager_new(const ManagerConfig *config, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;

        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->config = *config;
        m->helper_pid = -1;
        for (PoolKind k = 0; k < _POOL_KIND_MAX; k++) {
                m->pools[k] = pool_new(&config->pools.pools[k]);
                if (!m->pools[k])
                        return -ENOMEM;
        }
        m->macs = mac_generator_new(NULL, NULL);
        if (!m->macs)
                return -ENOMEM;
        m->port_rules = port_rules_new();
        if (!m->port_rules)
                return -ENOMEM;
        *ret = TAKE_PTR(m);
        return 0;
}

int pending_call_send(Manager *m, sd_bus_message *call, HelperRequest *req, int *fds,
                      size_t n_fds, HelperReplyFn fn, sd_bus_error *error) {
        PendingCall *p = calloc(1, sizeof *p);
        int r;

        if (!p) {
                for (size_t i = 0; i < n_fds; i++)
                        fds[i] = safe_close(fds[i]);
                return -ENOMEM;
        }
        p->manager = m;
        p->call = sd_bus_message_ref(call);
        LIST_PREPEND(pending, m->pending_calls, p);
        r = helper_channel_call(m->helper, req, fds, n_fds, fn, p);
        if (r < 0) {
                sd_bus_message_unref(pending_call_take(p));
                return sd_bus_error_setf(error, PP_ERROR_FAILED, "Cannot reach the helper: %s",
                                         strerror(-r));
        }
        return 1;
}

sd_bus_message *pending_call_take(PendingCall *p) {
        sd_bus_message *call = p->call;

        LIST_REMOVE(pending, p->manager->pending_calls, p);
        free(p);
        return call;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        /* Calls the helper will never answer get an answer, while the bus is still there. */
        while (m->pending_calls) {
                sd_bus_message *call = pending_call_take(m->pending_calls);
                (void) bus_reply_errno(call, -ECANCELED, "The daemon is shutting down");
                sd_bus_message_unref(call);
        }
        m->port_rules = port_rules_free(m->port_rules);
        while (m->namespaces)
                connected_ns_free(m->namespaces);
        m->arc = arc_free(m->arc);
        while (m->vms)
                vm_guest_free(m->vms);
        sd_event_source_disable_unref(m->uplink_sync);
        link_monitor_free(m->links);
        m->helper = helper_channel_free(m->helper);
        sd_event_source_disable_unref(m->helper_child);
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

ConnectedNs *manager_find_namespace(Manager *m, uint32_t id) {
        LIST_FOREACH(namespaces, ns, m->namespaces)
                if (ns->id == id)
                        return ns;
        return NULL;
}

static void manager_finish(Manager *m, int status);

static void manager_on_helper_dead(const char *why, void *userdata) {
        Manager *m = userdata;

        if (m->stopping) {
                /* Broken during an orderly stop (before its answer to DatapathStop): stop
                 * waiting for the answer and wait for the helper's exit instead. */
                log_error("The helper channel broke while stopping: %s", why);
                manager_finish(m, EXIT_FAILURE);
                return;
        }
        log_error("The helper is gone (%s): every datapath went with it, exiting", why);
        (void) sd_event_exit(m->event, EXIT_FAILURE);
}

static int manager_on_helper_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        Manager *m = userdata;

        (void) s;
        if (si->si_code == CLD_EXITED)
                log_full(m->stopping ? LOG_DEBUG : LOG_ERR, "Helper %d exited with status %d",
                         (int) si->si_pid, si->si_status);
        else
                log_full(m->stopping ? LOG_DEBUG : LOG_ERR, "Helper %d killed by signal %d",
                         (int) si->si_pid, si->si_status);
        /* sd-event reaps the child after this returns; the source must live until then. */
        m->helper_pid = -1;
        if (m->stopping) {
                (void) sd_event_exit(m->event, m->exit_status);
                return 0;
        }
        manager_on_helper_dead("it exited", m);
        return 0;
}

static int manager_on_helper_exit_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        (void) s;
        (void) usec;
        log_warning("Helper %d did not exit after its socket closed, leaving it",
                    (int) m->helper_pid);
        (void) sd_event_exit(m->event, m->exit_status);
        return 0;
}

int manager_attach_helper(Manager *m, int fd, pid_t pid) {
        int r;

        r = helper_channel_new(m->event, fd, manager_on_helper_dead, m, &m->helper);
        if (r < 0) {
                safe_close(fd);
                return r;
        }
        helper_channel_set_event_handler(m->helper, manager_on_helper_event);
        m->helper_pid = pid;
        return sd_event_add_child(m->event, &m->helper_child, pid, WEXITED, manager_on_helper_exit, m);
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

        if (!m->event) {
                r = sd_event_default(&m->event);
                if (r < 0)
                        return log_error_errno(r, "Failed to get an event loop: %m");
        }
        for (size_t i = 0; i < 3; i++) {
                static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
                r = sd_event_add_signal(m->event, NULL, sigs[i] | SD_EVENT_SIGNAL_PROCMASK,
                                        manager_on_signal, m);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch signals: %m");
        }
        r = link_monitor_new(m->event, m->config.uplink_patterns, &manager_link_callbacks, m,
                             &m->links);
        if (r < 0)
                return log_error_errno(r, "Failed to monitor links: %m");
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
}

int manager_start_datapath(Manager *m) {
        IpcDatapathStart op = PATCHPANEL__IPC__DATAPATH_START__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;

        op.ingress_firewall = m->config.ingress_firewall;
        req.op_case = OP(DATAPATH_START);
        req.datapath_start = &op;
        /* The helper serves requests in order: anything a client asks for after this is
         * built on the fresh datapath. */
        return helper_channel_call(m->helper, &req, NULL, 0, manager_on_datapath_started, m);
}

/* Close the helper's socket, which ends it, and leave the loop once it has exited, so no
 * process of the suite outlives the manager. */
static void manager_finish(Manager *m, int status) {
        int r;

        if (m->finishing)
                return;
        m->finishing = true;
        m->exit_status = m->failed ? EXIT_FAILURE : status;
        helper_channel_close(m->helper);
        log_debug("Waiting for helper %d to exit", (int) m->helper_pid);
        if (m->helper_pid < 0) {
                (void) sd_event_exit(m->event, status);
                return;
        }
        r = sd_event_add_time_relative(m->event, NULL, CLOCK_MONOTONIC, 5 * 1000 * 1000, 0,
                                       manager_on_helper_exit_timeout, m);
        if (r < 0)
                (void) sd_event_exit(m->event, status);
}

static void manager_on_datapath_stopped(const HelperResponse *resp, void *userdata) {
        Manager *m = userdata;

        if (resp->status < 0)
                log_error("Teardown incomplete: %s", resp->message);
        else
                log_info("Datapath removed");
        manager_finish(m, resp->status < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

void manager_stop(Manager *m) {
        IpcDatapathStop op = PATCHPANEL__IPC__DATAPATH_STOP__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;
        int r;

        if (m->stopping)
                return;
        m->stopping = true;
        if (m->bus)
                (void) sd_bus_release_name_async(m->bus, NULL, PP_BUS_NAME, NULL, NULL);

        /* Stop watching lifelines: the whole datapath goes in one request below. */
        LIST_FOREACH(namespaces, ns, m->namespaces)
                if (ns->state == CONNECTED_NS_CONNECTED)
                        ns->lifeline = sd_event_source_disable_unref(ns->lifeline);

        if (!m->helper) {
                (void) sd_event_exit(m->event, EXIT_SUCCESS);
                return;
        }
        req.op_case = OP(DATAPATH_STOP);
        req.datapath_stop = &op;
        r = helper_channel_call(m->helper, &req, NULL, 0, manager_on_datapath_stopped, m);
        if (r < 0) {
                log_error_errno(r, "Cannot ask the helper for teardown: %m");
                manager_finish(m, EXIT_FAILURE);
        }
}
