/* SPDX-License-Identifier: BSD-3-Clause */
/* What patchpanel-launcher accepts: its table of kinds, and the control socket check. */
#include <errno.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "launcher.h"

static void test_kinds(void **state) {
        size_t n;
        const LauncherKind *k = launcher_kinds(&n);

        (void) state;
        assert_true(n >= 3);
        for (size_t i = 0; i < n; i++) {
                assert_ptr_equal(launcher_kind_find(k[i].kind), &k[i]);
                /* A file name, never a path. */
                assert_null(strchr(k[i].name, '/'));
                assert_true(k[i].install_dir[0] == '/');
        }
        assert_non_null(launcher_kind_find(PATCHPANEL__IPC__CHILD_KIND__CHILD_KIND_NDPROXY));
        assert_true(launcher_kind_find(PATCHPANEL__IPC__CHILD_KIND__CHILD_KIND_NDPROXY)->net_raw);
        assert_false(launcher_kind_find(PATCHPANEL__IPC__CHILD_KIND__CHILD_KIND_ADBPROXY)->net_raw);
        assert_null(launcher_kind_find(PATCHPANEL__IPC__CHILD_KIND__CHILD_KIND_UNSPECIFIED));
        assert_null(launcher_kind_find((ChildKind) 99));
        assert_null(launcher_kind_find((ChildKind) -1));
}

static void assert_refused(int fd, pid_t manager, int expected, const char *why) {
        ErrBuf err = {};
        int r = launcher_check_control_fd(fd, manager, getuid(), &err);

        assert_int_equal(r, expected);
        assert_non_null(strstr(err.msg, why));
}

static void test_pair_made_by_the_manager(void **state) {
        int fds[2];
        ErrBuf err = {};

        (void) state;
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds), 0);
        /* Made by this process, which plays the manager. */
        assert_int_equal(launcher_check_control_fd(fds[1], getpid(), getuid(), &err), 0);
        /* Not the manager's: another pid, or another uid. */
        assert_refused(fds[1], getpid() + 1, -EPERM, "not to the manager");
        assert_int_equal(launcher_check_control_fd(fds[1], getpid(), getuid() + 1, &err), -EPERM);
        close(fds[0]);
        close(fds[1]);
}

static void test_pair_made_by_another_process(void **state) {
        int fds[2], carrier[2];
        pid_t child;
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control;
        char byte;
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                             .msg_controllen = sizeof control };
        int got;

        (void) state;
        /* A child makes a pair and hands us one end: it leads to the child. */
        assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, carrier), 0);
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                struct cmsghdr *c;
                if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) < 0)
                        _exit(1);
                mh.msg_controllen = CMSG_SPACE(sizeof(int));
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fds[1], sizeof(int));
                _exit(sendmsg(carrier[1], &mh, 0) == 1 ? 0 : 1);
        }
        assert_int_equal(recvmsg(carrier[0], &mh, 0), 1);
        memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
        assert_int_equal(waitpid(child, NULL, 0), child);
        assert_refused(got, getpid(), -EPERM, "leads to pid");
        close(got);
        close(carrier[0]);
        close(carrier[1]);
}

static void test_not_a_seqpacket_pair(void **state) {
        int p[2], s[2], d[2];
        int unbound;
        int listener;
        struct sockaddr_un addr = { .sun_family = AF_UNIX };

        (void) state;
        assert_int_equal(pipe(p), 0);
        assert_refused(p[0], getpid(), -EINVAL, "not a socket");
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, s), 0);
        assert_refused(s[0], getpid(), -EINVAL, "SOCK_SEQPACKET");
        assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, d), 0);
        assert_refused(d[0], getpid(), -EINVAL, "SOCK_SEQPACKET");
        unbound = socket(AF_UNIX, SOCK_SEQPACKET, 0);
        assert_refused(unbound, getpid(), -EINVAL, "not connected");
        listener = socket(AF_UNIX, SOCK_SEQPACKET, 0);
        /* An abstract name of its own, so nothing on disk. */
        snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "pp-test-launcher-%d", (int) getpid());
        assert_int_equal(bind(listener, (struct sockaddr *) &addr, sizeof addr), 0);
        assert_int_equal(listen(listener, 1), 0);
        assert_refused(listener, getpid(), -EINVAL, "listening");
        for (int i = 0; i < 2; i++) {
                close(p[i]);
                close(s[i]);
                close(d[i]);
        }
        close(unbound);
        close(listener);
        assert_refused(-1, getpid(), -EBADF, "not a socket");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kinds),
                cmocka_unit_test(test_pair_made_by_the_manager),
                cmocka_unit_test(test_pair_made_by_another_process),
                cmocka_unit_test(test_not_a_seqpacket_pair),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
