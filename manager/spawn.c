/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "pidfd-util.h"
#include "privs.h"
#include "spawn.h"

/* In the child, between fork and exec: any failure ends it with 127, said on stderr (the
 * binary is exec'd from an fd: a script, whose interpreter would need a path, is none). */
_noreturn_ static void spawn_fail(const char *path, const char *what) {
        fprintf(stderr, "patchpaneld: %s: %s: %s\n", path, what, strerror(errno));
        _exit(127);
}

_noreturn_ static void spawn_child(const SpawnDirect *s, const char *path, int control) {
        int first_closed = s->pass_dir ? 5 : 4, exe;
        sigset_t none;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (control == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(control, 3) < 0)
                _exit(127);
        if (s->pass_dir) {
                /* @path is absolute (realpath()), so it has a slash. */
                char dir[PATH_MAX];
                char *slash;
                int d;

                strcpy(dir, path);
                slash = strrchr(dir, '/');
                *slash = '\0';
                d = open(slash == dir ? "/" : dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (d < 0 || (d == 4 ? fcntl(4, F_SETFD, 0) < 0 : dup2(d, 4) < 0))
                        spawn_fail(path, "cannot open its directory");
        }
        if (syscall(SYS_close_range, first_closed, ~0U, 0) < 0)
                _exit(127);
        exe = open(path, O_PATH | O_CLOEXEC);
        if (exe < 0)
                spawn_fail(path, "cannot open it");
        if (s->as_user) {
                if (privs_drop_to_user(s->uid, s->gid, s->ambient, s->n_ambient) < 0)
                        _exit(127);
                for (size_t i = 0; i < s->n_ambient; i++)
                        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, s->ambient[i], 0, 0) < 0)
                                _exit(127);
        } else if (privs_restrict_caps(s->caps, s->n_caps) < 0)
                _exit(127);
        syscall(SYS_execveat, exe, "", s->argv, environ, AT_EMPTY_PATH);
        spawn_fail(path, "cannot execute it");
}

int spawn_direct(const SpawnDirect *s, int control, pid_t *ret_pid, int *ret_pidfd) {
        _cleanup_close_ int fd = control;
        char path[PATH_MAX];
        pid_t pid;
        int pidfd;

        /* Resolved here: the directory handed on is the binary's own, not a symlink's. */
        if (!realpath(s->path, path) || access(path, X_OK) < 0)
                return log_error_errno(-errno, "%s is not executable: %m", s->path);
        pid = fork();
        if (pid < 0)
                return log_error_errno(-errno, "Cannot fork for %s: %m", s->path);
        if (pid == 0)
                spawn_child(s, path, fd);
        /* Not reaped before we watch it: the pid is still this child's. */
        pidfd = pidfd_open_pid(pid);
        if (pidfd < 0) {
                (void) kill(pid, SIGKILL);
                return log_error_errno(pidfd, "Cannot open a pidfd of %s: %m", s->path);
        }
        *ret_pid = pid;
        *ret_pidfd = pidfd;
        return 0;
}
