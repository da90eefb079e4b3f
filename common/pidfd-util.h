/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Process handles. A pid is turned into a pidfd once, where a request arrives; from then
 * on the process is named by the fd, so a pid reused mid-request can never redirect the
 * work to another process.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* pidfd_open(2): the fd, -ESRCH if there is no such process; for a thread that leads no
 * process, -EINVAL before Linux 6.9 and -ENOENT since. */
int pidfd_open_pid(pid_t pid);
/*
 * pidfd_get_pid() - the pid a pidfd refers to, in the caller's pid namespace.
 * @pidfd: the pidfd
 * @ret: its pid
 *
 * Asks the kernel with PIDFD_GET_INFO (Linux >= 6.13), else reads /proc/self/fdinfo.
 *
 * Return: 0; -ESRCH once the process has exited (or is outside the caller's pid
 * namespace); -EBADF if @pidfd is not a pidfd; another negative errno.
 */
int pidfd_get_pid(int pidfd, pid_t *ret);
/*
 * pidfd_get_netns() - a handle on the network namespace of a pidfd's process, straight
 * from the pidfd (PIDFD_GET_NET_NAMESPACE, Linux >= 6.11), without entering it.
 * @pidfd: the pidfd, known to be one (pidfd_get_pid() took it): a kernel's refusal of the
 *         ioctl then means it has none, and it is not asked again
 *
 * Return: the namespace's fd; -EOPNOTSUPP where the kernel (or pidfd_set_ioctls()) says
 * no, and the caller must go the old way (setns() with the pidfd, then open
 * /proc/thread-self/ns/net); -ESRCH once the process has exited; another negative errno.
 */
int pidfd_get_netns(int pidfd);
/*
 * pidfd_set_ioctls() - whether pidfd_get_pid() and pidfd_get_netns() may use the pidfs
 * ioctls at all: for tests of the fallbacks the kernel here would never take.
 * @on: false for the ways older kernels have
 */
void pidfd_set_ioctls(bool on);
/* 1 if the process is still running, 0 if it has exited, or a negative errno. */
int pidfd_is_alive(int pidfd);
/* pidfd_send_signal(2). Return: 0 or a negative errno (-ESRCH once it has exited). */
int pidfd_signal(int pidfd, int sig);
/* How a process ended, from waitid()'s si_code and si_status, as "exited with status 3" or
 * "killed by signal 9 (Killed)", into buf. */
const char *exit_to_string(int code, int status, char *buf, size_t size);
