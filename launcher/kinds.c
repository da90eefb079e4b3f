/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "launcher.h"
#include "macro.h"

#ifndef PP_SBINDIR
#define PP_SBINDIR "/usr/sbin"
#endif
#ifndef PP_LIBEXECDIR
#define PP_LIBEXECDIR "/usr/libexec/patchpanel"
#endif

static const LauncherKind kinds[] = {
        { PATCHPANEL__IPC__CHILD_KIND__CHILD_KIND_NDPROXY, "ndproxyd", PP_SBINDIR, true },
        { PATCHPANEL__IPC__CHILD_KIND__CHILD_KIND_MCAST, "mcastd", PP_SBINDIR, true },
        { PATCHPANEL__IPC__CHILD_KIND__CHILD_KIND_ADBPROXY, "adb-proxy", PP_LIBEXECDIR, false },
#ifdef PP_TEST_CHILD
        /* Built into test builds only: never installed. */
        { PATCHPANEL__IPC__CHILD_KIND__CHILD_KIND_TEST, "pp-testchild", PP_LIBEXECDIR, false },
#endif
};

const LauncherKind *launcher_kinds(size_t *ret_n) {
        *ret_n = ELEMENTSOF(kinds);
        return kinds;
}

const LauncherKind *launcher_kind_find(ChildKind kind) {
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (kinds[i].kind == kind)
                        return &kinds[i];
        return NULL;
}

int launcher_check_control_fd(int fd, pid_t manager_pid, uid_t uid, ErrBuf *err) {
        struct sockaddr_un peer_addr = {};
        socklen_t alen = sizeof peer_addr;
        struct ucred cred = {};
        socklen_t len = sizeof cred;
        int type = 0, domain = 0, accepting = 0;

        len = sizeof domain;
        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0)
                return errbuf_set(err, errno == ENOTSOCK ? -EINVAL : -errno,
                                  "the control descriptor is not a socket");
        len = sizeof type;
        if (domain != AF_UNIX || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
            type != SOCK_SEQPACKET)
                return errbuf_set(err, -EINVAL, "the control socket is not AF_UNIX SOCK_SEQPACKET");
        len = sizeof accepting;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) < 0 || accepting)
                return errbuf_set(err, -EINVAL, "the control socket is a listening socket");
        if (getpeername(fd, (struct sockaddr *) &peer_addr, &alen) < 0)
                return errbuf_set(err, -EINVAL, "the control socket is not connected");
        len = sizeof cred;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return errbuf_set(err, -errno, "cannot read the control socket's peer");
        if (cred.pid != manager_pid || cred.uid != uid)
                return errbuf_set(err, -EPERM,
                                  "the control socket leads to pid %d (uid %u), not to the manager",
                                  (int) cred.pid, (unsigned) cred.uid);
        return 0;
}
