/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-id128.h>

#include "channel.h"
#include "forwarder.h"
#include "log.h"
#include "privs.h"
#include "time-util.h"

#define STATUS_INTERVAL_USEC (1000 * 1000)

typedef Patchpanel__Ipc__ForwarderControl ForwarderControl;

struct FwdRuntime {
        sd_event *event;
        Channel *manager;
        Patchpanel__Ipc__ChildKind kind;
        FwdCallbacks cb;
        sd_event_source *status_timer;
        uint64_t last_status;
        bool status_dirty;
};

static void on_control(Channel *c, const ProtobufCMessage *msg, int *fds, size_t n_fds,
                       void *userdata) {
        const ForwarderControl *m = (const ForwarderControl *) msg;
        FwdRuntime *rt = userdata;

        (void) c;
        (void) fds;
        /* The manager is trusted to speak the protocol; one that does not is broken. */
        if (n_fds != 0)
                log_fatal("The manager sent fds with message %d", (int) m->msg_case);
        switch (m->msg_case) {
        case PATCHPANEL__IPC__FORWARDER_CONTROL__MSG_LINK_ADD:
                if (rt->cb.link_add)
                        rt->cb.link_add(m->link_add, rt->cb.userdata);
                break;
        case PATCHPANEL__IPC__FORWARDER_CONTROL__MSG_LINK_REMOVE:
                if (rt->cb.link_remove)
                        rt->cb.link_remove(m->link_remove, rt->cb.userdata);
                break;
        case PATCHPANEL__IPC__FORWARDER_CONTROL__MSG_ADB_CONFIG:
                if (!rt->cb.adb_config)
                        log_fatal("The manager sent adb-proxy's configuration to kind %d",
                                  (int) rt->kind);
                rt->cb.adb_config(m->adb_config, rt->cb.userdata);
                break;
        case PATCHPANEL__IPC__FORWARDER_CONTROL__MSG_ND_ROUTED:
                if (!rt->cb.nd_routed)
                        log_fatal("The manager sent ndproxyd's route news to kind %d",
                                  (int) rt->kind);
                rt->cb.nd_routed(m->nd_routed, rt->cb.userdata);
                break;
        case PATCHPANEL__IPC__FORWARDER_CONTROL__MSG_MCAST_CONFIG:
                if (!rt->cb.mcast_config)
                        log_fatal("The manager sent mcastd's configuration to kind %d",
                                  (int) rt->kind);
                rt->cb.mcast_config(m->mcast_config, rt->cb.userdata);
                break;
        default:
                log_fatal("Unknown message %d from the manager", (int) m->msg_case);
        }
}

static void on_manager_gone(Channel *c, const char *why, void *userdata) {
        FwdRuntime *rt = userdata;

        (void) c;
        log_debug("The manager's socket is gone (%s), exiting", why);
        (void) sd_event_exit(rt->event, 0);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        FwdRuntime *rt = userdata;

        (void) s;
        log_debug("Received signal %u, exiting", si->ssi_signo);
        (void) sd_event_exit(rt->event, 0);
        return 0;
}

int fwd_runtime_new(sd_event *e, int control_fd, Patchpanel__Ipc__ChildKind kind,
                    const FwdCallbacks *cb, FwdRuntime **ret) {
        const ChannelConfig channel = {
                .send = &patchpanel__ipc__forwarder_report__descriptor,
                .recv = &patchpanel__ipc__forwarder_control__descriptor,
                .on_message = on_control,
                .on_dead = on_manager_gone,
        };
        ChannelConfig config = channel;
        FwdRuntime *rt;
        int r;

        rt = calloc(1, sizeof *rt);
        if (!rt)
                return -ENOMEM;
        *rt = (FwdRuntime) { .event = sd_event_ref(e), .kind = kind, .cb = *cb };
        config.userdata = rt;
        for (size_t i = 0; i < 3; i++) {
                static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
                r = sd_event_add_signal(e, NULL, sigs[i] | SD_EVENT_SIGNAL_PROCMASK, on_signal, rt);
                if (r < 0)
                        goto fail;
        }
        r = channel_new(e, control_fd, &config, &rt->manager);
        if (r < 0)
                goto fail;
        *ret = rt;
        return 0;
fail:
        fwd_runtime_free(rt);
        return r;
}

FwdRuntime *fwd_runtime_free(FwdRuntime *rt) {
        if (!rt)
                return NULL;
        channel_free(rt->manager);
        sd_event_source_disable_unref(rt->status_timer);
        sd_event_unref(rt->event);
        free(rt);
        return NULL;
}

int fwd_runtime_hello(FwdRuntime *rt) {
        Patchpanel__Ipc__ForwarderHello hello = PATCHPANEL__IPC__FORWARDER_HELLO__INIT;
        ForwarderReport ev = PATCHPANEL__IPC__FORWARDER_REPORT__INIT;
        int r;

        hello.kind = rt->kind;
        ev.msg_case = PATCHPANEL__IPC__FORWARDER_REPORT__MSG_HELLO;
        ev.hello = &hello;
        r = channel_send(rt->manager, &ev.base, NULL, 0);
        if (r == -ENOTCONN || r == -EPIPE || r == -ECONNRESET) {
                /* The manager stopped while this one was starting: the socket's end is
                 * this process's end, as it is later, and no failure of its own. */
                on_manager_gone(rt->manager, "before the hello", rt);
                return 0;
        }
        return r;
}

static void fwd_send_status(FwdRuntime *rt) {
        ForwarderStatus st = PATCHPANEL__IPC__FORWARDER_STATUS__INIT;
        ForwarderReport ev = PATCHPANEL__IPC__FORWARDER_REPORT__INIT;
        int r;

        rt->status_dirty = false;
        rt->last_status = now_usec();
        if (!rt->cb.status)
                return;
        rt->cb.status(&st, rt->cb.userdata);
        ev.msg_case = PATCHPANEL__IPC__FORWARDER_REPORT__MSG_STATE;
        ev.state = &st;
        r = channel_send(rt->manager, &ev.base, NULL, 0);
        if (r < 0 && r != -ENOTCONN)
                log_warning_errno(r, "Cannot report the status, ignoring: %m");
        if (rt->cb.status_done)
                rt->cb.status_done(&st, rt->cb.userdata);
}

static int on_status_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        FwdRuntime *rt = userdata;

        (void) s;
        (void) usec;
        rt->status_timer = sd_event_source_disable_unref(rt->status_timer);
        if (rt->status_dirty)
                fwd_send_status(rt);
        return 0;
}

void fwd_runtime_status_changed(FwdRuntime *rt) {
        uint64_t now = now_usec();

        rt->status_dirty = true;
        if (rt->status_timer)
                return;
        if (rt->last_status == 0 || now - rt->last_status >= STATUS_INTERVAL_USEC) {
                fwd_send_status(rt);
                return;
        }
        if (sd_event_add_time_relative(rt->event, &rt->status_timer, CLOCK_MONOTONIC,
                                       rt->last_status + STATUS_INTERVAL_USEC - now, 0,
                                       on_status_timer, rt) < 0)
                fwd_send_status(rt);
}

int fwd_runtime_send(FwdRuntime *rt, const ForwarderReport *ev) {
        return channel_send(rt->manager, &ev->base, NULL, 0);
}

int fwd_sandbox(const char *policy, SeccompMode mode) {
        unsigned line = 0;
        sd_id128_t boot;
        int r;

        /* sd-event reads the boot id (to spread its timers) the first time it arms one;
         * libsystemd caches it, so read it now, while files may still be opened. */
        (void) sd_id128_get_boot(&boot);

        r = privs_drop_all();
        if (r < 0)
                return log_error_errno(r, "Failed to give up every capability: %m");
        if (privs_set_no_new_privs() < 0)
                return log_error_errno(-errno, "Failed to set no_new_privs: %m");
        r = seccomp_policy_load(policy, mode, &line);
        if (r < 0)
                return log_error_errno(r, "Failed to load the seccomp policy (line %u): %m", line);
        return 0;
}

int fwd_main_supervised(const FwdOptions *o, const FwdSupervised *f) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(fwd_runtime_freep) FwdRuntime *rt = NULL;
        int r;

        r = sd_event_default(&e);
        if (r < 0)
                return log_error_errno(r, "Failed to get an event loop: %m"), EXIT_FAILURE;
        r = fwd_runtime_new(e, o->control_fd, f->kind, &f->cb, &rt);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the control channel: %m"), EXIT_FAILURE;
        if (f->setup && f->setup(e, rt, f->cb.userdata) < 0)
                return EXIT_FAILURE;
        if (fwd_sandbox(f->policy, o->seccomp) < 0)
                return EXIT_FAILURE;
        r = fwd_runtime_hello(rt);
        if (r < 0)
                log_fatal("Failed to greet the manager: %s", strerror(-r));
        r = sd_event_loop(e);
        if (f->done)
                f->done(f->cb.userdata);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
