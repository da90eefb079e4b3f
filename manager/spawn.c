/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <limits.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "pidfd-util.h"
#include "privs.h"
#include "spawn.h"

/* In the child, between fork and exec: any failure ends it with 127. */
_noreturn_ static void spawn_child(const SpawnDirect *s, int control) {
        int first_closed = s->pass_dir ? 5 : 4, exe;
        sigset_t none;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (control == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(control, 3) < 0)
                _exit(127);
        if (s->pass_dir) {
                char dir[PATH_MAX];
                char *slash;
                int d;

                if (strlen(s->path) >= sizeof dir)
                        _exit(127);
                strcpy(dir, s->path);
                slash = strrchr(dir, '/');
                if (!slash)
                        _exit(127);
                *slash = '\0';
                d = open(slash == dir ? "/" : dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (d < 0 || (d == 4 ? fcntl(4, F_SETFD, 0) < 0 : dup2(d, 4) < 0))
                        _exit(127);
        }
        if (syscall(SYS_close_range, first_closed, ~0U, 0) < 0)
                _exit(127);
        exe = open(s->path, O_PATH | O_CLOEXEC);
        if (exe < 0)
                _exit(127);
        if (s->as_user) {
                if (privs_drop_to_user(s->uid, s->gid, s->ambient, s->n_ambient) < 0)
                        _exit(127);
                for (size_t i = 0; i < s->n_ambient; i++)
                        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, s->ambient[i], 0, 0) < 0)
                                _exit(127);
        } else if (privs_restrict_caps(s->caps, s->n_caps) < 0)
                _exit(127);
        syscall(SYS_execveat, exe, "", s->argv, environ, AT_EMPTY_PATH);
        fprintf(stderr, "patchpaneld: cannot execute %s: %s\n", s->path, strerror(errno));
        _exit(127);
}

int spawn_direct(const SpawnDirect *s, int control, pid_t *ret_pid, int *ret_pidfd) {
        _cleanup_close_ int fd = control;
        pid_t pid;
        int pidfd;

        if (access(s->path, X_OK) < 0)
                return log_error_errno(-errno, "%s is not executable: %m", s->path);
        pid = fork();
        if (pid < 0)
                return log_error_errno(-errno, "Cannot fork for %s: %m", s->path);
        if (pid == 0)
                spawn_child(s, fd);
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
