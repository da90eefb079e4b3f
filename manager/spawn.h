/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The manager's own fork+exec, used once at start while it is still root, for the helper and
 * the launcher (whatever is started later goes through the launcher: the manager's seccomp
 * policy has no fork or execve).
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct SpawnDirect {
        const char *path;
        char *const *argv;
        /* As root, with exactly these capabilities (bounding, permitted, effective)... */
        const int *caps;
        size_t n_caps;
        /* ...or as this user, with these as ambient capabilities only. */
        bool as_user;
        uid_t uid;
        gid_t gid;
        const int *ambient;
        size_t n_ambient;
        /* Also hand over @path's directory as fd 4, opened while still root. */
        bool pass_dir;
} SpawnDirect;

/*
 * spawn_direct() - fork and exec @s->path with @control as its fd 3 and nothing else
 * inherited but stdin, stdout and stderr (and fd 4 with @s->pass_dir), signals unblocked,
 * in the process's session. The binary (and its directory) are opened before any
 * privilege is dropped, so that a user who cannot reach them by path (a build tree under
 * /root) can still be started from them.
 * @control: taken over in every case
 * @ret_pidfd: a pidfd of the child
 * Return: 0 or a negative errno (logged).
 */
int spawn_direct(const SpawnDirect *s, int control, pid_t *ret_pid, int *ret_pidfd);
