/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Reaching the network namespace of a client process. The pid is turned into a pidfd once,
 * and everything after that goes through descriptors, so a pid reused mid-request cannot
 * redirect the work to another process's namespace.
 */

#include <sys/types.h>

#include "errbuf.h"

struct nl_sock;

/*
 * netns_open_pid() - open the netns of @pid and an rtnetlink socket inside it.
 * @pid: the client process
 * @host_netns_fd: the helper's own netns, returned to before this function returns
 * @ret_netns_fd: the client's netns
 * @ret_nl: an rtnetlink socket bound in the client's netns
 *
 * Return: 0; -ESRCH if there is no such process; -EINVAL if @pid is a thread that leads no
 * process; -EEXIST if the process shares the helper's own netns; another negative errno.
 */
int netns_open_pid(pid_t pid, int host_netns_fd, int *ret_netns_fd, struct nl_sock **ret_nl,
                   ErrBuf *err);
