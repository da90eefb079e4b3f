/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Reaching the network namespace of a client process. The manager turns the pid into a
 * pidfd when the request arrives and sends it along; everything after that goes through
 * descriptors, so a pid reused mid-request cannot redirect the work to another process's
 * namespace.
 */

#include <sys/types.h>

#include "errbuf.h"
#include "rtnl.h"

struct nl_sock;

/*
 * netns_open_pidfd() - open the netns of a process and an rtnetlink socket inside it.
 * @pidfd: the client process, as the manager opened it when the request arrived
 * @pid: the pid the request names; @pidfd must refer to it
 * @host_netns_fd: the helper's own netns, returned to before this function returns
 * @ret_netns_fd: the client's netns
 * @ret_nl: a libnl rtnetlink socket bound in the client's netns, or NULL for none
 * @ret_rtnl: a raw one (nl-util.h), or NULL for none
 *
 * Return: 0; -ESRCH if the process has exited; -EBADF if @pidfd is not a pidfd; -EINVAL if
 * it is another process's; -EEXIST if the process shares the helper's own netns; another
 * negative errno.
 */
int netns_open_pidfd(int pidfd, pid_t pid, int host_netns_fd, int *ret_netns_fd,
                     struct nl_sock **ret_nl, Rtnl *ret_rtnl, ErrBuf *err);
