/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>

#include "link.h"
#include "log.h"
#include "netns.h"
#include "nl-util.h"
#include "pidfd-util.h"

static bool same_file(const struct stat *a, const struct stat *b) {
        return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

int netns_open_pidfd(int pidfd, pid_t pid, int host_netns_fd, int *ret_netns_fd,
                     struct nl_sock **ret_nl, Rtnl *ret_rtnl, ErrBuf *err) {
        _cleanup_close_ int nsfd = -EBADF;
        _cleanup_(nl_socket_freep) struct nl_sock *nl = NULL;
        Rtnl rt = RTNL_NULL;
        struct stat host_st, ns_st;
        pid_t actual;
        int r;

        /* The fd must be a pidfd of exactly the process the request names. */
        r = pidfd_get_pid(pidfd, &actual);
        if (r == -ESRCH)
                return errbuf_set(err, r, "process %d has exited", (int) pid);
        if (r < 0)
                return errbuf_set(err, -EBADF, "the fd sent for process %d is not a pidfd",
                                  (int) pid);
        if (actual != pid)
                return errbuf_set(err, -EINVAL, "the pidfd sent for process %d is process %d",
                                  (int) pid, (int) actual);

        /* A handle on its netns without entering it where the kernel can (>= 6.11), then in
         * through that; else in through the pidfd, and the handle from inside. */
        nsfd = pidfd_get_netns(pidfd);
        if (nsfd == -ESRCH)
                return errbuf_set(err, nsfd, "process %d has exited", (int) pid);
        if (nsfd < 0 && nsfd != -EOPNOTSUPP)
                return errbuf_set(err, nsfd, "cannot get the network namespace of process %d: %s",
                                  (int) pid, strerror(-nsfd));
        if (setns(nsfd >= 0 ? nsfd : pidfd, CLONE_NEWNET) < 0) {
                r = -errno;
                if (r == -ESRCH)
                        return errbuf_set(err, r, "process %d has exited", (int) pid);
                return errbuf_set(err, r, "cannot enter the network namespace of process %d: %s",
                                  (int) pid, strerror(-r));
        }

        /* Inside the client's netns: a handle on it (if not had already) and a socket bound
         * to it. */
        r = 0;
        if (nsfd < 0) {
                nsfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
                if (nsfd < 0)
                        r = errbuf_set(err, -errno, "cannot open the client's netns: %m");
        }
        if (r == 0 && ret_nl)
                r = nl_open(&nl, err);
        if (r == 0 && ret_rtnl) {
                r = rtnl_open(&rt);
                if (r < 0)
                        errbuf_set(err, r, "cannot open rtnetlink in the client's netns: %s",
                                   strerror(-r));
        }

        /* Always go home before anything else; a helper stuck in a client netns would do all
         * further work in the wrong place. */
        if (setns(host_netns_fd, CLONE_NEWNET) < 0)
                log_fatal("Failed to return to the host network namespace: %m");
        if (r < 0) {
                rtnl_close(&rt);
                return r;
        }

        if (fstat(host_netns_fd, &host_st) < 0 || fstat(nsfd, &ns_st) < 0)
                r = errbuf_set(err, -errno, "cannot stat network namespaces: %m");
        else if (same_file(&host_st, &ns_st))
                r = errbuf_set(err, -EEXIST,
                               "process %d is in the daemon's own network namespace",
                               (int) pid);
        if (r < 0) {
                rtnl_close(&rt);
                return r;
        }

        *ret_netns_fd = TAKE_FD(nsfd);
        if (ret_nl)
                *ret_nl = TAKE_PTR(nl);
        if (ret_rtnl)
                *ret_rtnl = rt;
        return 0;
}
