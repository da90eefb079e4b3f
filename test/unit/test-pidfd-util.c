/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * common/pidfd-util.h: a pidfd's pid and netns, through the pidfs ioctls where the kernel
 * has them and the older ways where it does not. Each case runs both ways (the second
 * forced with pidfd_set_ioctls(false)), and both must answer alike.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "pidfd-util.h"

static const bool ways[] = { true, false };

/* A child that waits to be killed, and its pidfd. */
static pid_t child_start(int *ret_pidfd) {
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                for (;;)
                        pause();
        }
        *ret_pidfd = pidfd_open_pid(pid);
        assert_true(*ret_pidfd >= 0);
        return pid;
}

static void child_end(pid_t pid) {
        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
}

static void test_pid_of_a_live_process(void **state) {
        (void) state;
        for (size_t w = 0; w < ELEMENTSOF(ways); w++) {
                _cleanup_close_ int pidfd = -EBADF;
                pid_t pid = child_start(&pidfd), got = 0;

                pidfd_set_ioctls(ways[w]);
                assert_int_equal(pidfd_get_pid(pidfd, &got), 0);
                assert_int_equal(got, pid);
                child_end(pid);
        }
        pidfd_set_ioctls(true);
}

static void test_pid_of_an_exited_process(void **state) {
        (void) state;
        for (size_t w = 0; w < ELEMENTSOF(ways); w++) {
                _cleanup_close_ int pidfd = -EBADF;
                pid_t pid = child_start(&pidfd), got = 0;

                child_end(pid);
                pidfd_set_ioctls(ways[w]);
                assert_int_equal(pidfd_get_pid(pidfd, &got), -ESRCH);
                assert_int_equal(got, 0);
        }
        pidfd_set_ioctls(true);
}

static void test_pid_of_what_is_no_pidfd(void **state) {
        (void) state;
        for (size_t w = 0; w < ELEMENTSOF(ways); w++) {
                int p[2];
                pid_t got = 0;

                assert_int_equal(pipe2(p, O_CLOEXEC), 0);
                pidfd_set_ioctls(ways[w]);
                assert_int_equal(pidfd_get_pid(p[0], &got), -EBADF);
                assert_int_equal(pidfd_get_pid(-1, &got), -ENOENT);
                assert_int_equal(got, 0);
                close(p[0]);
                close(p[1]);
                /* A wrong fd must not have turned the ioctl off for the pidfds after it. */
                if (ways[w]) {
                        _cleanup_close_ int pidfd = -EBADF;
                        pid_t pid = child_start(&pidfd);

                        assert_int_equal(pidfd_get_pid(pidfd, &got), 0);
                        assert_int_equal(got, pid);
                        child_end(pid);
                }
        }
        pidfd_set_ioctls(true);
}

static void test_netns(void **state) {
        _cleanup_close_ int pidfd = -EBADF, nsfd = -EBADF;
        struct stat ours, theirs;
        pid_t pid = child_start(&pidfd);

        (void) state;
        assert_int_equal(stat("/proc/self/ns/net", &ours), 0);
        pidfd_set_ioctls(true);
        nsfd = pidfd_get_netns(pidfd);
        if (nsfd == -EOPNOTSUPP)
                print_message("this kernel has no PIDFD_GET_NET_NAMESPACE: the fallback only\n");
        else {
                assert_true(nsfd >= 0);
                assert_int_equal(fstat(nsfd, &theirs), 0);
                assert_true(ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino);
        }
        /* Forced off: the caller is told to go the old way. */
        pidfd_set_ioctls(false);
        assert_int_equal(pidfd_get_netns(pidfd), -EOPNOTSUPP);
        pidfd_set_ioctls(true);
        child_end(pid);
        if (nsfd != -EOPNOTSUPP)
                assert_int_equal(pidfd_get_netns(pidfd), -ESRCH);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pid_of_a_live_process),
                cmocka_unit_test(test_pid_of_an_exited_process),
                cmocka_unit_test(test_pid_of_what_is_no_pidfd),
                cmocka_unit_test(test_netns),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
