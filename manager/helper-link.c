/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "helper-link.h"
#include "log.h"
#include "spawn.h"

typedef struct HelperCall HelperCall;

struct HelperLink {
        Child *child;
        HelperCall *calls; /* waiting for their answers; freed here if none ever comes */
        HelperEventFn on_event;
        HelperDownFn on_down;
        void *userdata;
        HelperArgs args;
        PendingCall *pending_calls;
};

/* The typed callback of one request, between the channel and its caller; kept in a list
 * so that those whose answer never comes (the helper died) are freed with the link. */
struct HelperCall {
        HelperLink *helper;
        HelperReplyFn fn;
        void *userdata;
        LIST_FIELDS(HelperCall, calls);
};

static int helper_spawn(Child *c, int control, void *userdata) {
        static const int helper_caps[] = {
                CAP_NET_ADMIN,  /* links, addresses, routes, nftables, sysctls */
                CAP_NET_RAW,    /* raw sockets (SO_MARK on a client's socket) */
                CAP_SYS_ADMIN,  /* setns() into a client's network namespace */
                CAP_SYS_PTRACE, /* setns() through the pidfd of another user's process */
        };
        HelperLink *h = userdata;
        const HelperArgs *a = &h->args;
        char level[64], seccomp[32], base[48], pool[64], lockdown[48], tap_owner[48];
        char uid_args[SOURCE_MAP_MAX][64], pbuf[32], abuf[IPV4_STRLEN];
        char *argv[16 + SOURCE_MAP_MAX];
        size_t n = 0;
        pid_t pid;
        int pidfd, r;


        argv[n++] = (char *) "patchpanel-helper";
        argv[n++] = (char *) "--ipc-fd=3";
        snprintf(seccomp, sizeof seccomp, "--seccomp=%s", seccomp_mode_to_string(a->seccomp));
        argv[n++] = seccomp;
        if (a->log_level) {
                snprintf(level, sizeof level, "--log-level=%s", a->log_level);
                argv[n++] = level;
        }
        snprintf(base, sizeof base, "--pool-base=%s",
                 ipv4_to_string(a->pools->pools[POOL_ARC].base, abuf));
        argv[n++] = base;
        snprintf(pool, sizeof pool, "--netns-pool=%s",
                 pool_config_to_string(&a->pools->pools[POOL_NETNS], pbuf, sizeof pbuf));
        argv[n++] = pool;
        snprintf(lockdown, sizeof lockdown, "--lockdown-uid=%u", (unsigned) a->lockdown_uid);
        argv[n++] = lockdown;
        snprintf(tap_owner, sizeof tap_owner, "--tap-owner-uid=%u", (unsigned) a->tap_owner);
        argv[n++] = tap_owner;
        for (size_t i = 0; i < a->uid_sources->n; i++) {
                const UidRange *u = &a->uid_sources->ranges[i];
                snprintf(uid_args[i], sizeof uid_args[i], "--uid-source=%u-%u=%s",
                         (unsigned) u->first, (unsigned) u->last,
                         traffic_source_to_string(u->source));
                argv[n++] = uid_args[i];
        }
        argv[n] = NULL;

        r = spawn_direct(&(SpawnDirect) { .path = a->path, .argv = argv, .caps = helper_caps,
                                          .n_caps = ELEMENTSOF(helper_caps) },
                         control, &pid, &pidfd);
        if (r < 0)
                return r;
        child_spawned(c, pid, pidfd, /* reap= */ true);
        /* It answers requests as soon as it runs; there is nothing to wait for. */
        child_set_ready(c);
        return 0;
}

static void helper_on_event(Child *c, const ProtobufCMessage *ev, int *fds, size_t n_fds,
                            void *userdata) {
        HelperLink *h = userdata;

        (void) c;
        (void) fds;
        (void) n_fds;
        if (h->on_event)
                h->on_event((const HelperResponse *) ev, h->userdata);
}

static void helper_on_down(Child *c, const char *why, void *userdata) {
        HelperLink *h = userdata;

        (void) c;
        if (h->on_down)
                h->on_down(why, h->userdata);
}

static int helper_link_make_child(HelperLink *h, sd_event *e) {
        const ChildConfig config = {
                .name = "patchpanel-helper",
                .policy = CHILD_POLICY_FATE_SHARING,
                .send = &patchpanel__ipc__helper_request__descriptor,
                .recv = &patchpanel__ipc__helper_response__descriptor,
                .ordered = true,
                .spawn = helper_spawn,
                .on_event = helper_on_event,
                .on_down = helper_on_down,
                .userdata = h,
        };
        return child_new(e, &config, &h->child);
}

int helper_link_new(sd_event *e, HelperEventFn on_event, HelperDownFn on_down, void *userdata,
                    HelperLink **ret) {
        HelperLink *h;
        int r;

        h = calloc(1, sizeof *h);
        if (!h)
                return -ENOMEM;
        *h = (HelperLink) { .on_event = on_event, .on_down = on_down, .userdata = userdata };
        r = helper_link_make_child(h, e);
        if (r < 0) {
                free(h);
                return r;
        }
        *ret = h;
        return 0;
}

HelperLink *helper_link_free(HelperLink *h) {
        if (!h)
                return NULL;
        pending_calls_cancel(h, "The daemon is shutting down");
        child_free(h->child);
        while (h->calls) {
                HelperCall *call = h->calls;
                LIST_REMOVE(calls, h->calls, call);
                free(call);
        }
        free(h);
        return NULL;
}

int helper_link_start(HelperLink *h, const HelperArgs *args) {
        h->args = *args;
        return child_start(h->child);
}

int helper_link_start_fake(HelperLink *h, int *ret_peer) {
        return child_start_fake(h->child, ret_peer);
}

static void helper_call_reply(const ProtobufCMessage *answer, int *fds, size_t n_fds,
                              void *userdata) {
        HelperCall *call = userdata;

        (void) fds;
        (void) n_fds;
        LIST_REMOVE(calls, call->helper->calls, call);
        call->fn((const HelperResponse *) answer, call->userdata);
        free(call);
}

int helper_link_call(HelperLink *h, HelperRequest *req, int *fds, size_t n_fds,
                     HelperReplyFn fn, void *userdata) {
        HelperCall *call = malloc(sizeof *call);
        int r;

        if (!call) {
                for (size_t i = 0; i < n_fds; i++)
                        fds[i] = safe_close(fds[i]);
                return -ENOMEM;
        }
        *call = (HelperCall) { .helper = h, .fn = fn, .userdata = userdata };
        r = child_call(h->child, &req->base, fds, n_fds, helper_call_reply, call);
        if (r < 0) {
                free(call);
                return r;
        }
        LIST_PREPEND(calls, h->calls, call);
        return 0;
}

size_t helper_link_n_pending(const HelperLink *h) {
        return channel_n_pending(child_channel(h->child));
}

pid_t helper_link_pid(const HelperLink *h) {
        return child_pid(h->child);
}

void helper_link_stop(HelperLink *h, uint64_t timeout_usec, void (*done)(void *userdata)) {
        child_stop(h->child, timeout_usec, done, h->userdata);
}

int pending_call_send(HelperLink *h, sd_bus_message *call, HelperRequest *req, int *fds,
                      size_t n_fds, HelperReplyFn fn, void *userdata, sd_bus_error *error) {
        PendingCall *p = calloc(1, sizeof *p);
        int r;

        if (!p) {
                for (size_t i = 0; i < n_fds; i++)
                        fds[i] = safe_close(fds[i]);
                return -ENOMEM;
        }
        *p = (PendingCall) { .helper = h, .call = sd_bus_message_ref(call), .userdata = userdata };
        LIST_PREPEND(pending, h->pending_calls, p);
        r = helper_link_call(h, req, fds, n_fds, fn, p);
        if (r < 0) {
                sd_bus_message_unref(pending_call_take(p));
                return sd_bus_error_setf(error, PP_ERROR_FAILED, "Cannot reach the helper: %s",
                                         strerror(-r));
        }
        return 1;
}

sd_bus_message *pending_call_take(PendingCall *p) {
        sd_bus_message *call = p->call;

        LIST_REMOVE(pending, p->helper->pending_calls, p);
        free(p);
        return call;
}

void pending_calls_cancel(HelperLink *h, const char *why) {
        while (h->pending_calls) {
                sd_bus_message *call = pending_call_take(h->pending_calls);
                (void) bus_reply_errno(call, -ECANCELED, why);
                sd_bus_message_unref(call);
        }
}

void helper_link_info(const HelperLink *h, ChildInfo *ret) {
        child_info(h->child, ret);
}
