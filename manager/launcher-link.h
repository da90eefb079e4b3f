/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The manager's link to patchpanel-launcher (launcher/main.c says why it exists): started
 * once at start, before the lockdown, as the manager's own user with CAP_NET_RAW to hand on;
 * a child the manager shares its fate with. Through it the manager starts forwarders, by
 * kind, at any time.
 */

#include <sys/types.h>
#include <systemd/sd-event.h>

#include "child.h"
#include "ipc.pb-c.h"
#include "seccomp-policy.h"

typedef struct LauncherLink LauncherLink;
typedef Patchpanel__Ipc__ChildKind ChildKind;

/* A child of the launcher ended (for the log). */
typedef void (*LauncherExitFn)(pid_t pid, int code, int status, void *userdata);
/* The launcher is gone (outside launcher_link_stop()). */
typedef void (*LauncherDownFn)(const char *why, void *userdata);

typedef struct LauncherArgs {
        const char *path;
        const char *log_level;
        SeccompMode seccomp;
        uid_t uid;
        gid_t gid;
} LauncherArgs;

int launcher_link_new(sd_event *e, LauncherExitFn on_exit, LauncherDownFn on_down,
                      void *userdata, LauncherLink **ret);
LauncherLink *launcher_link_free(LauncherLink *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(LauncherLink *, launcher_link_free);

/* Fork+exec it (as root, before the manager drops its privileges). */
int launcher_link_start(LauncherLink *l, const LauncherArgs *args);
/* For unit tests: no process; the launcher's end comes back in @ret_peer. */
int launcher_link_start_fake(LauncherLink *l, int *ret_peer);

/*
 * launcher_link_spawn() - ask for a process of @kind on @control (taken over in every case),
 * for @child: child_spawned() or child_spawn_failed() follows when the launcher answers.
 * Return: 0 or a negative errno (then nothing follows).
 */
int launcher_link_spawn(LauncherLink *l, ChildKind kind, int control, Child *child);
pid_t launcher_link_pid(const LauncherLink *l);
void launcher_link_stop(LauncherLink *l, uint64_t timeout_usec, void (*done)(void *userdata));
/* Its state, for the status. */
void launcher_link_info(const LauncherLink *l, ChildInfo *ret);
