/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Process handles. A pid is turned into a pidfd once, where a request arrives; from then
 * on the process is named by the fd, so a pid reused mid-request can never redirect the
 * work to another process.
 */

#include <stddef.h>
#include <sys/types.h>

/* pidfd_open(2): the fd, -ESRCH if there is no such process; for a thread that leads no
 * process, -EINVAL before Linux 6.9 and -ENOENT since. */
int pidfd_open_pid(pid_t pid);
/* The pid a pidfd refers to (from /proc/self/fdinfo): -ESRCH once the process has exited,
 * -EBADF if fd is not a pidfd. */
int pidfd_get_pid(int pidfd, pid_t *ret);
/* 1 if the process is still running, 0 if it has exited, or a negative errno. */
int pidfd_is_alive(int pidfd);
/* pidfd_send_signal(2). Return: 0 or a negative errno (-ESRCH once it has exited). */
int pidfd_signal(int pidfd, int sig);
/* How a process ended, from waitid()'s si_code and si_status, as "exited with status 3" or
 * "killed by signal 9 (Killed)", into buf. */
const char *exit_to_string(int code, int status, char *buf, size_t size);
