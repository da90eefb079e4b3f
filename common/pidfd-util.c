/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "pidfd-util.h"

int pidfd_open_pid(pid_t pid) {
        return RET_NERRNO((int) syscall(SYS_pidfd_open, pid, 0));
}

int pidfd_get_pid(int pidfd, pid_t *ret) {
        char path[64], line[128];
        FILE *f;
        int r = -EBADF;

        snprintf(path, sizeof path, "/proc/self/fdinfo/%d", pidfd);
        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof line, f)) {
                char *end;
                long v;

                if (strncmp(line, "Pid:", 4) != 0)
                        continue;
                errno = 0;
                v = strtol(line + 4, &end, 10);
                if (errno != 0 || (*end != '\n' && *end != '\0') || v < -1 || v > INT32_MAX)
                        r = -EBADF;
                else if (v <= 0)
                        r = -ESRCH; /* -1: exited; 0: not in our pid namespace */
                else {
                        *ret = (pid_t) v;
                        r = 0;
                }
                break;
        }
        fclose(f);
        return r;
}

int pidfd_is_alive(int pidfd) {
        /* Signal 0 checks only. EPERM means it exists but is not ours to signal. */
        if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0 || errno == EPERM)
                return 1;
        if (errno == ESRCH)
                return 0;
        return -errno;
}

int pidfd_signal(int pidfd, int sig) {
        return RET_NERRNO((int) syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0));
}

const char *exit_to_string(int code, int status, char *buf, size_t size) {
        switch (code) {
        case CLD_EXITED:
                snprintf(buf, size, "exited with status %d", status);
                break;
        case CLD_KILLED:
        case CLD_DUMPED:
                snprintf(buf, size, "killed by signal %d (%s)%s", status, strsignal(status),
                         code == CLD_DUMPED ? ", core dumped" : "");
                break;
        default:
                snprintf(buf, size, "ended (code %d, status %d)", code, status);
        }
        return buf;
}
