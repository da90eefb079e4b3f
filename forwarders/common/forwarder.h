/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * What every forwarder does the same way when patchpaneld supervises it: its command line
 * (--control-fd, --log-level, --seccomp), its sandbox (no capability left, no_new_privs,
 * its own seccomp policy, in that order, before the first packet), the control channel to
 * the manager (link pairs in; hello, status and what it learns out), and its end when that
 * channel closes or SIGTERM arrives. fwd_main_supervised() runs a forwarder's supervised
 * path through them in order.
 */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "ipc.pb-c.h"
#include "macro.h"
#include "options.h"
#include "seccomp-policy.h"

typedef Patchpanel__Ipc__ForwarderLink ForwarderLink;
typedef Patchpanel__Ipc__ForwarderReport ForwarderReport;
typedef Patchpanel__Ipc__ForwarderStatus ForwarderStatus;

typedef struct FwdRuntime FwdRuntime;

typedef struct FwdCallbacks {
        /* The manager adds or removes a link pair (it sends each change once; a restarted
         * forwarder gets every pair again). */
        void (*link_add)(const ForwarderLink *l, void *userdata);
        void (*link_remove)(const ForwarderLink *l, void *userdata);
        /* Fill @ret (links and counters) for a status report; strings and arrays must
         * live until fwd_status_done() is called with the same @ret. */
        void (*status)(ForwarderStatus *ret, void *userdata);
        void (*status_done)(ForwarderStatus *s, void *userdata);
        /* adb-proxy's configuration, before any link (another kind gets none: the manager
         * that sends one breaks the protocol). */
        void (*adb_config)(const Patchpanel__Ipc__AdbProxyConfig *c, void *userdata);
        /* ndproxyd's: what became of an address it reported (ForwarderControl.nd_routed;
         * the same rule for other kinds). */
        void (*nd_routed)(const Patchpanel__Ipc__NdAddress *a, void *userdata);
        /* mcastd's rate limits, before any link (the same rule). */
        void (*mcast_config)(const Patchpanel__Ipc__McastConfig *c, void *userdata);
        void *userdata;
} FwdCallbacks;

typedef struct FwdOptions {
        int control_fd;
        SeccompMode seccomp;
        const char *log_level;
} FwdOptions;

/* The options of a forwarder that only runs supervised, into the FwdOptions @o points to. */
#define FWD_OPTIONS_SUPERVISED(o)                                                              \
        { "control-fd", 0, "FD", "socket to patchpaneld", option_parse_fd, &(o)->control_fd },  \
        OPTION_LOG_LEVEL(&(o)->log_level), OPTION_SECCOMP(&(o)->seccomp)

/*
 * fwd_runtime_new() - the control channel on @control_fd and SIGTERM/SIGINT/SIGHUP, in @e.
 * Either ends the loop (with 0).
 */
int fwd_runtime_new(sd_event *e, int control_fd, Patchpanel__Ipc__ChildKind kind,
                    const FwdCallbacks *cb, FwdRuntime **ret);
FwdRuntime *fwd_runtime_free(FwdRuntime *rt);
DEFINE_TRIVIAL_CLEANUP_FUNC(FwdRuntime *, fwd_runtime_free);

/* Say hello: call once the sandbox is up. A manager already gone ends the loop, as its
 * socket closing later would, and is no error (0). */
int fwd_runtime_hello(FwdRuntime *rt);
/* Something the status shows changed: a report goes out now, or a second after the last
 * one at the earliest. Nothing is sent (and nothing wakes up) while nothing changes. */
void fwd_runtime_status_changed(FwdRuntime *rt);
/* An event of the forwarder's own (what it learnt). */
int fwd_runtime_send(FwdRuntime *rt, const ForwarderReport *ev);

/*
 * fwd_sandbox() - give up every capability, set no_new_privs and load @policy: the last
 * step before the first untrusted byte. Return: 0 or a negative errno (logged).
 */
int fwd_sandbox(const char *policy, SeccompMode mode);

/* What a forwarder adds to fwd_main_supervised(). */
typedef struct FwdSupervised {
        Patchpanel__Ipc__ChildKind kind;
        const char *policy;             /* its seccomp policy */
        FwdCallbacks cb;
        /* After the event loop and the control channel, before the sandbox: what needs a
         * privilege or must be there before the hello. @e and @rt are lent until
         * fwd_main_supervised() returns; @userdata is cb.userdata. Return: 0, or a negative
         * errno (logged). */
        int (*setup)(sd_event *e, FwdRuntime *rt, void *userdata);
        /* After the loop, before the control channel and the event loop go. */
        void (*done)(void *userdata);
} FwdSupervised;

/*
 * fwd_main_supervised() - run a forwarder under patchpaneld: the event loop, the control
 * channel, @f's setup(), fwd_sandbox(), the hello, the loop, @f's done(), in that order.
 * Failing to greet the manager ends the process; no done() follows a failed start.
 * @o: the options of FWD_OPTIONS_SUPERVISED(), control_fd valid
 * @f: the forwarder's kind, policy, callbacks and its two steps (either may be NULL)
 *
 * Return: EXIT_SUCCESS, or EXIT_FAILURE (logged), for main() to return.
 */
int fwd_main_supervised(const FwdOptions *o, const FwdSupervised *f);
