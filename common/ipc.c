/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ipc.h"
#include "macro.h"

int ipc_socketpair(int ret[static 2]) {
        return RET_NERRNO(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ret));
}

int ipc_send_packed(int fd, const void *buf, size_t len, const int *fds, size_t n_fds) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int) * IPC_FDS_MAX)];
        } control;
        struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n;

        if (len > IPC_MESSAGE_MAX)
                return -EMSGSIZE;
        /* A zero-length datagram reads as the peer's close: never send one. */
        if (len == 0)
                return -EINVAL;
        if (n_fds > IPC_FDS_MAX)
                return -EINVAL;
        if (n_fds > 0) {
                memset(&control, 0, sizeof control);
                mh.msg_control = &control;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
        }

        /* Never block, whatever the socket's mode: a process of the suite waiting on a
         * full peer while that peer waits on it is a deadlock. Callers handle -EAGAIN. */
        n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0)
                return -errno;
        if ((size_t) n != len)
                return -EIO;
        return 0;
}

int ipc_send(int fd, const ProtobufCMessage *msg, const int *fds, size_t n_fds) {
        size_t len = protobuf_c_message_get_packed_size(msg);
        _cleanup_free_ uint8_t *buf = NULL;

        if (len > IPC_MESSAGE_MAX)
                return -EMSGSIZE;
        buf = malloc(len ?: 1);
        if (!buf)
                return -ENOMEM;
        if (protobuf_c_message_pack(msg, buf) != len)
                return -EIO;
        return ipc_send_packed(fd, buf, len, fds, n_fds);
}

static void close_fds(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                safe_close(fds[i]);
}

int ipc_recv(int fd, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **ret,
             int *ret_fds, size_t max_fds, size_t *ret_n_fds) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int) * IPC_FDS_MAX)];
        } control;
        _cleanup_free_ uint8_t *buf = NULL;
        int fds[IPC_FDS_MAX];
        size_t n_fds = 0;
        struct iovec iov;
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = &control,
                .msg_controllen = sizeof control,
        };
        ProtobufCMessage *m;
        ssize_t n;

        if (max_fds > IPC_FDS_MAX)
                max_fds = IPC_FDS_MAX;
        buf = malloc(IPC_MESSAGE_MAX);
        if (!buf)
                return -ENOMEM;
        iov = (struct iovec) { .iov_base = buf, .iov_len = IPC_MESSAGE_MAX };

        n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0)
                return -errno;

        /* Collect every fd first, so that whatever goes wrong below closes them all. */
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                int *p = (int *) CMSG_DATA(c);
                for (size_t i = 0; i < k; i++) {
                        if (n_fds < IPC_FDS_MAX)
                                fds[n_fds++] = p[i];
                        else
                                safe_close(p[i]);
                }
        }

        if (mh.msg_flags & MSG_TRUNC) {
                close_fds(fds, n_fds);
                return -EMSGSIZE;
        }
        if ((mh.msg_flags & MSG_CTRUNC) || n_fds > max_fds || (n_fds > 0 && !ret_fds)) {
                close_fds(fds, n_fds);
                return -EPROTO;
        }
        if (n == 0 && n_fds == 0) {
                /* SOCK_SEQPACKET signals the peer's close as a zero-length read. */
                return 0;
        }

        m = protobuf_c_message_unpack(desc, NULL, (size_t) n, buf);
        if (!m) {
                close_fds(fds, n_fds);
                return -EBADMSG;
        }

        if (ret_fds)
                memcpy(ret_fds, fds, sizeof(int) * n_fds);
        if (ret_n_fds)
                *ret_n_fds = n_fds;
        *ret = m;
        return 1;
}
