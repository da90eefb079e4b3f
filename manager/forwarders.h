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
        ChildBackoff backoff;
} ForwardersConfig;

int forwarders_new(sd_event *e, Registry *registry, LauncherLink *launcher,
                   const ForwardersConfig *config, Forwarders **ret);
Forwarders *forwarders_free(Forwarders *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(Forwarders *, forwarders_free);

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
