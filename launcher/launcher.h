/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * What patchpanel-launcher may start, and the checks on a request to start one. The table
 * is compiled in: a request names a kind, never a path or an argument, so a compromised
 * manager can start nothing but the suite's own binaries, each with the one capability the
 * table gives it (or none), each in its own sandbox from its first instruction on.
 */

#include <stdbool.h>
#include <sys/types.h>

#include "errbuf.h"
#include "ipc.pb-c.h"

typedef Patchpanel__Ipc__ChildKind ChildKind;

typedef struct LauncherKind {
        ChildKind kind;
        const char *name;        /* the binary's file name, and argv[0] */
        const char *install_dir; /* where an installed launcher finds it */
        bool net_raw;            /* handed CAP_NET_RAW as an ambient capability */
} LauncherKind;

/* The table entry of @kind, or NULL if the launcher cannot start it (unknown, or a test
 * kind in a build without tests). */
const LauncherKind *launcher_kind_find(ChildKind kind);
/* The whole table, for opening every binary at start. */
const LauncherKind *launcher_kinds(size_t *ret_n);

/*
 * launcher_check_control_fd() - a child's control socket must be what the manager made for
 * it: an AF_UNIX SOCK_SEQPACKET socket, connected, whose peer is the manager itself (the
 * process that made the pair, by SO_PEERCRED) running as our own user. Anything else — a
 * file, a listening or datagram socket, a socket that leads to another process — is
 * refused, so the launcher never hands a child a descriptor the suite does not own.
 * Return: 0, or a negative errno with the reason in @err.
 */
int launcher_check_control_fd(int fd, pid_t manager_pid, uid_t uid, ErrBuf *err);
