/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The manager's link to patchpanel-helper: the helper as a supervised child the manager
 * shares its fate with (started once, as root, before the manager locks itself down), its
 * ordered request channel, and D-Bus calls that wait for one of its answers.
 */

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "child.h"
#include "ipc-msg.h"
#include "list.h"
#include "pool.h"
#include "seccomp-policy.h"
#include "source-map.h"

typedef struct HelperLink HelperLink;

/* The helper's answer; resp is freed after the call returns. */
typedef void (*HelperReplyFn)(const HelperResponse *resp, void *userdata);
/* An event the helper sent unasked; freed after the call. */
typedef void (*HelperEventFn)(const HelperResponse *ev, void *userdata);
/* The helper is gone (outside helper_link_stop()). */
typedef void (*HelperDownFn)(const char *why, void *userdata);

/* What the helper is started with: fixed for its life, checked by it on every request. */
typedef struct HelperArgs {
        const char *path;
        const char *log_level; /* NULL: its default */
        SeccompMode seccomp;
        const PoolLayout *pools;
        uid_t lockdown_uid;
        uid_t tap_owner;
        const SourceMap *uid_sources;
} HelperArgs;

int helper_link_new(sd_event *e, HelperEventFn on_event, HelperDownFn on_down, void *userdata,
                    HelperLink **ret);
HelperLink *helper_link_free(HelperLink *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(HelperLink *, helper_link_free);

/* Fork+exec the helper (as root: call before the manager drops its privileges). */
int helper_link_start(HelperLink *h, const HelperArgs *args);
/*
 * helper_link_start_fake() - for unit tests: no process; the helper's end of the control
 * socket comes back in @ret_peer, for the test to play the helper on.
 */
int helper_link_start_fake(HelperLink *h, int *ret_peer);

/*
 * helper_link_call() - send a request; @fn gets its answer.
 * @fds: sent with it, taken over in every case
 * Return: 0, or a negative errno (the helper is gone: @fn will never be called).
 */
int helper_link_call(HelperLink *h, HelperRequest *req, int *fds, size_t n_fds,
                     HelperReplyFn fn, void *userdata);
size_t helper_link_n_pending(const HelperLink *h);
pid_t helper_link_pid(const HelperLink *h);

/* Close the socket, which ends the helper; @done runs once it has exited (or was killed
 * after @timeout_usec). Pending requests are dropped. */
void helper_link_stop(HelperLink *h, uint64_t timeout_usec, void (*done)(void *userdata));

/* A D-Bus call waiting for the helper, by a handler that keeps no object of its own: it is
 * answered at exit if the helper never does. */
typedef struct PendingCall PendingCall;
struct PendingCall {
        HelperLink *helper;
        sd_bus_message *call;
        void *userdata;
        LIST_FIELDS(PendingCall, pending);
};

/*
 * pending_call_send() - send @req on behalf of the D-Bus @call, which is kept; @fn gets a
 * PendingCall as userdata (with @userdata in it) and answers the call it takes from it with
 * pending_call_take(). @fds go with the request in every case.
 * Return: 1, or a negative errno with @error set.
 */
int pending_call_send(HelperLink *h, sd_bus_message *call, HelperRequest *req, int *fds,
                      size_t n_fds, HelperReplyFn fn, void *userdata, sd_bus_error *error);
/* The call (its reference now the caller's), the PendingCall gone. */
sd_bus_message *pending_call_take(PendingCall *p);
/* Answer every call still waiting with an error (at exit). */
void pending_calls_cancel(HelperLink *h, const char *why);
/* Its state, for the status. */
void helper_link_info(const HelperLink *h, ChildInfo *ret);
