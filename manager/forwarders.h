/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The forwarder supervisor: one restarted child per enabled forwarder kind, started through
 * the launcher once the manager is locked down. Each kind serves some of the guest links of
 * the registry, each behind an uplink (the one it is bound to, else the physical default,
 * followed when it changes); the supervisor keeps what it has told each forwarder and sends
 * only the difference when the registry changes, and all of it again to a restarted one.
 */

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "child.h"
#include "launcher-link.h"
#include "rate-limit.h"
#include "registry.h"

typedef struct Forwarders Forwarders;

/* adb-proxy: --adb-proxy=on and its options. */
typedef struct AdbProxyOptions {
        bool enabled;
        const char *socket_path;   /* the ARC container's adbd socket */
        uint32_t max_connections;
        uint32_t idle_timeout_sec; /* 0: none */
} AdbProxyOptions;

#define ADB_SOCKET_DEFAULT "/run/arc/adb/adb.sock"
#define ADB_MAX_CONNECTIONS_DEFAULT 512u
#define ADB_IDLE_TIMEOUT_SEC_DEFAULT 3600u

typedef struct ForwardersConfig {
        bool test_child; /* pp-testchild, in test builds */
        AdbProxyOptions adb;
        bool mcast;      /* mcastd: mDNS, SSDP and ARC's broadcasts */
        RateLimits mcast_rates;  /* --mcast-rate-limit */
        bool ndproxy;    /* ndproxyd: IPv6 for guests (--ndproxy) */
        ChildBackoff backoff;
} ForwardersConfig;

/* What a kind adds to the supervisor's work (manager/ndproxy.c for ndproxyd); any member
 * may be NULL. */
typedef struct ForwarderHooks {
        /* A pair is told to the child (a new one, or every one again after a restart). */
        void (*pair_added)(const Patchpanel__Ipc__ForwarderLink *link, void *userdata);
        /* Fill in what only this kind tells with a pair (ndproxyd: the guest's learned
         * addresses); link_done follows once it is sent. */
        void (*link_fill)(Patchpanel__Ipc__ForwarderLink *link, void *userdata);
        void (*link_done)(Patchpanel__Ipc__ForwarderLink *link, void *userdata);
        /* A pair is no longer served: its guest link went, or it moved to another uplink. */
        void (*pair_removed)(const Patchpanel__Ipc__ForwarderLink *link, void *userdata);
        /* An event of this kind's own (not hello, not status). */
        void (*report)(const Patchpanel__Ipc__ForwarderReport *ev, void *userdata);
        void *userdata;
} ForwarderHooks;

int forwarders_new(sd_event *e, Registry *registry, LauncherLink *launcher,
                   const ForwardersConfig *config, Forwarders **ret);
Forwarders *forwarders_free(Forwarders *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(Forwarders *, forwarders_free);

/* Give an enabled kind its hooks. Return: 0, or -ENOENT if the kind is not enabled. */
int forwarders_set_hooks(Forwarders *f, ChildKind kind, const ForwarderHooks *hooks);

/* Send @msg to the running forwarder of @kind. Return: 0, -ENOENT if the kind is not
 * enabled, -ENOTCONN if it does not run now, or another negative errno. */
int forwarders_send(Forwarders *f, ChildKind kind, const Patchpanel__Ipc__ForwarderControl *msg);

/* Start every enabled forwarder. */
void forwarders_start(Forwarders *f);
/* Stop them all (their sockets close; the launcher reaps them). */
void forwarders_stop(Forwarders *f);
/* A child of the launcher ended: if it was one of ours, note how. */
void forwarders_on_exit(Forwarders *f, pid_t pid, int code, int status);

/* For the status: each forwarder, its child's state and the last state it reported (a
 * packed ForwarderStatus, or NULL). */
typedef void (*ForwarderVisitFn)(const char *kind, const ChildInfo *info,
                                 const uint8_t *status, size_t status_len, void *userdata);
void forwarders_foreach(const Forwarders *f, ForwarderVisitFn fn, void *userdata);
