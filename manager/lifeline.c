/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lifeline.h"

#define ADVICE "pass a pipe or a connected AF_UNIX stream socket"

static const char *family_to_string(int family) {
        switch (family) {
        case AF_INET:
                return "AF_INET";
        case AF_INET6:
                return "AF_INET6";
        case AF_NETLINK:
                return "AF_NETLINK";
        case AF_PACKET:
                return "AF_PACKET";
        case AF_VSOCK:
                return "AF_VSOCK";
        default:
                return NULL;
        }
}

/*
 * A FIFO's read end opened non-blocking while no writer had it open reports no POLLHUP
 * until a writer has come and gone (the kernel suppresses it, so that readers may wait
 * for a first writer); a pipe's or a FIFO's opened blocking reports it as soon as the last
 * writer goes. So a quiet read end is asked with a one-byte read that cannot wait: EAGAIN
 * with a writer, end of file without one. A blocking one (perhaps opened non-blocking and
 * switched back: the suppression stays) is made non-blocking for that read and then put
 * back. Nothing else would do: a FIFO opened by open() takes no RWF_NOWAIT, and reopening
 * it by /proc/self/fd would ask its file system, which a FUSE server could leave
 * unanswered with the daemon waiting. The description is the caller's too: a read of its
 * own in those few microseconds could see EAGAIN once. The pipe is empty (POLLIN was not
 * reported), so nothing is consumed unless a writer writes in between.
 */
static bool fifo_lacks_writer(int fd, int flags) {
        char byte;
        bool lacks;

        if (flags & O_NONBLOCK)
                return read(fd, &byte, 1) == 0;
        if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return false;
        lacks = read(fd, &byte, 1) == 0;
        (void) fcntl(fd, F_SETFL, flags);
        return lacks;
}

static int check_pipe(int fd, int flags, short revents, ErrBuf *err) {
        switch (flags & O_ACCMODE) {
        case O_RDWR:
                return errbuf_set(err, -EINVAL,
                                  "The lifeline fd is a pipe or FIFO open for reading and writing: "
                                  "it is its own writer and never reports a hang-up; " ADVICE);
        case O_RDONLY:
                if (!(revents & POLLIN) && fifo_lacks_writer(fd, flags))
                        return errbuf_set(err, -EINVAL,
                                          "The lifeline fd is a FIFO without a writer: it would "
                                          "report no hang-up until a writer came and went; "
                                          ADVICE);
                return 0;
        default:
                return 0;
        }
}

static int check_socket(int fd, ErrBuf *err) {
        int family, type, listening;
        socklen_t len = sizeof family;
        struct sockaddr_storage peer;
        const char *name;

        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) < 0)
                return errbuf_set(err, -EINVAL, "The lifeline fd must be a pipe or a socket");
        if (family != AF_UNIX) {
                name = family_to_string(family);
                if (name)
                        return errbuf_set(err, -EINVAL,
                                          "The lifeline fd is an %s socket, which reports no "
                                          "hang-up when its peer goes; " ADVICE, name);
                return errbuf_set(err, -EINVAL,
                                  "The lifeline fd is a socket of address family %d, which "
                                  "reports no hang-up when its peer goes; " ADVICE, family);
        }
        len = sizeof type;
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
                return errbuf_set(err, -EINVAL, "Cannot read the lifeline socket's type: %s",
                                  strerror(errno));
        if (type != SOCK_STREAM && type != SOCK_SEQPACKET)
                return errbuf_set(err, -EINVAL,
                                  "The lifeline fd is an AF_UNIX datagram socket, which reports "
                                  "no hang-up when its peer goes; " ADVICE);
        len = sizeof listening;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
                return errbuf_set(err, -EINVAL, "Cannot read the lifeline socket's state: %s",
                                  strerror(errno));
        if (listening)
                return errbuf_set(err, -EINVAL,
                                  "The lifeline fd is a listening socket: it has no peer whose "
                                  "going it could report; " ADVICE);
        len = sizeof peer;
        if (getpeername(fd, (struct sockaddr *) &peer, &len) < 0 && errno == ENOTCONN)
                return errbuf_set(err, -EINVAL,
                                  "The lifeline fd is an unconnected socket: it has no peer whose "
                                  "going it could report; " ADVICE);
        return 0;
}

int lifeline_check(int fd, ErrBuf *err) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        bool is_pipe;
        int flags, r;

        flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return errbuf_set(err, -EINVAL, "Invalid lifeline fd: %s", strerror(errno));
        /* Pipes and FIFOs answer F_GETPIPE_SZ, sockets SO_DOMAIN; nothing else does. */
        is_pipe = fcntl(fd, F_GETPIPE_SZ) >= 0;
        if (!is_pipe) {
                r = check_socket(fd, err);
                if (r < 0)
                        return r;
        }
        /* POLLIN asked for too: a read end with bytes waiting has a writer, or had one. */
        if (poll(&p, 1, 0) < 0)
                return errbuf_set(err, -EINVAL, "Cannot poll the lifeline fd: %s",
                                  strerror(errno));
        if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
                return errbuf_set(err, -EINVAL,
                                  "The lifeline fd is already closed at the other end");
        return is_pipe ? check_pipe(fd, flags, p.revents, err) : 0;
}
