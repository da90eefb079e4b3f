/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "pidfd-util.h"

int pidfd_open_pid(pid_t pid) {
        return RET_NERRNO((int) syscall(SYS_pidfd_open, pid, 0));
}

/* The pidfs ioctls, as linux/pidfd.h of Linux 6.13 has them (Debian 12's headers predate
 * them). PIDFD_GET_INFO's size is in its number: the kernel takes any struct at least as
 * large as the first one published (64 bytes), and fills what it knows. */
#define PP_PIDFS_IOCTL_MAGIC 0xFF
#define PP_PIDFD_GET_NET_NAMESPACE _IO(PP_PIDFS_IOCTL_MAGIC, 4)
#define PP_PIDFD_INFO_PID UINT64_C(1)

struct pp_pidfd_info {
        uint64_t mask;
        uint64_t cgroupid;
        uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
        uint32_t spare0[1];
};

#define PP_PIDFD_GET_INFO _IOWR(PP_PIDFS_IOCTL_MAGIC, 11, struct pp_pidfd_info)

_Static_assert(sizeof(struct pp_pidfd_info) == 64, "PIDFD_INFO_SIZE_VER0");

/* Whether to try the ioctls: off once the kernel said it has none, or a test said so. The
 * two were added two releases apart, so each has its own. */
static bool use_info_ioctl = true, use_netns_ioctl = true;

void pidfd_set_ioctls(bool on) {
        use_info_ioctl = use_netns_ioctl = on;
}

/* Whether an ioctl failed because this kernel lacks it (pidfds had no ioctls before 6.11,
 * and answer ENOTTY to those they do not know). */
static bool ioctl_missing(int r) {
        return r == -ENOTTY || r == -EINVAL || r == -EOPNOTSUPP;
}

static int pidfd_get_pid_fdinfo(int pidfd, pid_t *ret) {
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

int pidfd_get_pid(int pidfd, pid_t *ret) {
        struct pp_pidfd_info info = { .mask = PP_PIDFD_INFO_PID };
        int r;

        if (!use_info_ioctl)
                return pidfd_get_pid_fdinfo(pidfd, ret);
        if (ioctl(pidfd, PP_PIDFD_GET_INFO, &info) < 0) {
                int k = -errno;

                if (k == -ESRCH)
                        return k;
                /* Not a pidfd, or a kernel without the ioctl: fdinfo tells which. Only a
                 * pidfd's answer says anything about the kernel. */
                r = pidfd_get_pid_fdinfo(pidfd, ret);
                if (r >= 0 && ioctl_missing(k))
                        use_info_ioctl = false;
                return r;
        }
        if (!(info.mask & PP_PIDFD_INFO_PID) || info.pid == 0)
                return -ESRCH; /* gone, or outside our pid namespace */
        if (info.pid > INT32_MAX)
                return -EBADF;
        *ret = (pid_t) info.pid;
        return 0;
}

int pidfd_get_netns(int pidfd) {
        int fd, r;

        if (!use_netns_ioctl)
                return -EOPNOTSUPP;
        fd = ioctl(pidfd, PP_PIDFD_GET_NET_NAMESPACE, 0);
        if (fd >= 0)
                return fd;
        r = -errno;
        if (ioctl_missing(r)) {
                use_netns_ioctl = false;
                return -EOPNOTSUPP;
        }
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
