/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * manager/lifeline.h: a ConnectNamespace lifeline is accepted only if it can report its
 * client's going. One table of fds, each made by a function that keeps the other end (or
 * closes it) as a client would, with what lifeline_check() must answer.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "lifeline.h"

/* The fds a case made: [0] goes to lifeline_check(), the rest is the client's side. */
typedef struct Fds {
        int fd[3];
} Fds;

static char fifo_path[PATH_MAX];

static int make_pipe(Fds *f, bool give_read_end, bool close_other) {
        int p[2];

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        f->fd[0] = give_read_end ? p[0] : p[1];
        f->fd[1] = give_read_end ? p[1] : p[0];
        if (close_other)
                f->fd[1] = (close(f->fd[1]), -1);
        return 0;
}

static int pipe_read_end(Fds *f) { return make_pipe(f, true, false); }
static int pipe_write_end(Fds *f) { return make_pipe(f, false, false); }
static int pipe_read_end_writer_gone(Fds *f) { return make_pipe(f, true, true); }
static int pipe_write_end_reader_gone(Fds *f) { return make_pipe(f, false, true); }

/* A pipe opened again through /proc for reading and writing: its own writer. */
static int pipe_read_write(Fds *f) {
        char path[64];
        int r = make_pipe(f, true, false);

        if (r < 0)
                return r;
        snprintf(path, sizeof path, "/proc/self/fd/%d", f->fd[0]);
        f->fd[2] = open(path, O_RDWR | O_CLOEXEC);
        if (f->fd[2] < 0)
                return -errno;
        /* The lifeline is the read-write one; the plain ends go. */
        close(f->fd[0]);
        close(f->fd[1]);
        f->fd[0] = f->fd[2];
        f->fd[1] = f->fd[2] = -1;
        return 0;
}

static int fifo_read_no_writer(Fds *f) {
        f->fd[0] = open(fifo_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        return f->fd[0] < 0 ? -errno : 0;
}

static int fifo_read_with_writer(Fds *f) {
        int r = fifo_read_no_writer(f);

        if (r < 0)
                return r;
        f->fd[1] = open(fifo_path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        return f->fd[1] < 0 ? -errno : 0;
}

/* Blocking, as most FIFO readers are: the check must not wait for the writer to write. */
static int fifo_read_blocking_with_writer(Fds *f) {
        int r = fifo_read_with_writer(f);

        if (r < 0)
                return r;
        return fcntl(f->fd[0], F_SETFL, 0) < 0 ? -errno : 0;
}

/* Opened non-blocking while no writer had it, then made blocking: its hang-up stays
 * suppressed until a writer comes and goes, so it must be refused all the same. */
static int fifo_read_made_blocking_no_writer(Fds *f) {
        int r = fifo_read_no_writer(f);

        if (r < 0)
                return r;
        return fcntl(f->fd[0], F_SETFL, 0) < 0 ? -errno : 0;
}

static int fifo_write_end(Fds *f) {
        f->fd[1] = open(fifo_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (f->fd[1] < 0)
                return -errno;
        f->fd[0] = open(fifo_path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        return f->fd[0] < 0 ? -errno : 0;
}

static int fifo_read_write(Fds *f) {
        f->fd[0] = open(fifo_path, O_RDWR | O_CLOEXEC);
        return f->fd[0] < 0 ? -errno : 0;
}

static int make_pair(Fds *f, int type, bool close_other) {
        int s[2];

        if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, s) < 0)
                return -errno;
        f->fd[0] = s[0];
        f->fd[1] = s[1];
        if (close_other)
                f->fd[1] = (close(f->fd[1]), -1);
        return 0;
}

static int unix_stream(Fds *f) { return make_pair(f, SOCK_STREAM, false); }
static int unix_seqpacket(Fds *f) { return make_pair(f, SOCK_SEQPACKET, false); }
static int unix_dgram(Fds *f) { return make_pair(f, SOCK_DGRAM, false); }
static int unix_stream_peer_gone(Fds *f) { return make_pair(f, SOCK_STREAM, true); }

static int make_socket(Fds *f, int family, int type, int protocol) {
        f->fd[0] = socket(family, type | SOCK_CLOEXEC, protocol);
        return f->fd[0] < 0 ? -errno : 0;
}

static int unix_unconnected(Fds *f) { return make_socket(f, AF_UNIX, SOCK_STREAM, 0); }
static int udp_socket(Fds *f) { return make_socket(f, AF_INET, SOCK_DGRAM, 0); }
static int tcp6_socket(Fds *f) { return make_socket(f, AF_INET6, SOCK_STREAM, 0); }
static int netlink_socket(Fds *f) { return make_socket(f, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE); }
static int packet_socket(Fds *f) { return make_socket(f, AF_PACKET, SOCK_RAW, 0); }

/* Listening on an abstract name, so nothing is left on disk. */
static int unix_listening(Fds *f) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int r = unix_unconnected(f);

        if (r < 0)
                return r;
        snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, "pp-test-lifeline-%d", (int) getpid());
        if (bind(f->fd[0], (struct sockaddr *) &sa, sizeof sa) < 0 || listen(f->fd[0], 1) < 0)
                return -errno;
        return 0;
}

static int directory(Fds *f) {
        f->fd[0] = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return f->fd[0] < 0 ? -errno : 0;
}

static int regular_file(Fds *f) {
        f->fd[0] = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        return f->fd[0] < 0 ? -errno : 0;
}

static const struct {
        const char *name;
        int (*make)(Fds *f);
        const char *refusal; /* NULL: accepted; else a part of the reason */
} cases[] = {
        { "pipe read end", pipe_read_end, NULL },
        { "pipe write end", pipe_write_end, NULL },
        { "pipe read end, writer gone", pipe_read_end_writer_gone, "already closed" },
        { "pipe write end, reader gone", pipe_write_end_reader_gone, "already closed" },
        { "pipe open read-write", pipe_read_write, "open for reading and writing" },
        { "FIFO read end without a writer", fifo_read_no_writer, "FIFO without a writer" },
        { "FIFO read end with a writer", fifo_read_with_writer, NULL },
        { "FIFO blocking read end with a writer", fifo_read_blocking_with_writer, NULL },
        { "FIFO made blocking without a writer", fifo_read_made_blocking_no_writer,
          "FIFO without a writer" },
        { "FIFO write end", fifo_write_end, NULL },
        { "FIFO open read-write", fifo_read_write, "open for reading and writing" },
        { "AF_UNIX stream pair", unix_stream, NULL },
        { "AF_UNIX seqpacket pair", unix_seqpacket, NULL },
        { "AF_UNIX stream, peer gone", unix_stream_peer_gone, "already closed" },
        { "AF_UNIX datagram pair", unix_dgram, "AF_UNIX datagram socket" },
        { "AF_UNIX unconnected", unix_unconnected, "unconnected socket" },
        { "AF_UNIX listening", unix_listening, "listening socket" },
        { "UDP socket", udp_socket, "an AF_INET socket" },
        { "TCP/IPv6 socket", tcp6_socket, "an AF_INET6 socket" },
        { "netlink socket", netlink_socket, "an AF_NETLINK socket" },
        { "packet socket", packet_socket, "an AF_PACKET socket" },
        { "directory", directory, "must be a pipe or a socket" },
        { "regular file", regular_file, "must be a pipe or a socket" },
};

static int setup(void **state) {
        const char *tmp = getenv("TMPDIR");

        (void) state;
        snprintf(fifo_path, sizeof fifo_path, "%s/pp-test-lifeline-%d.fifo", tmp ? tmp : "/tmp",
                 (int) getpid());
        (void) unlink(fifo_path);
        return mkfifo(fifo_path, 0600) < 0 ? -1 : 0;
}

static int teardown(void **state) {
        (void) state;
        return unlink(fifo_path) < 0 ? -1 : 0;
}

static void test_table(void **state) {
        (void) state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                Fds f = { .fd = { -1, -1, -1 } };
                ErrBuf err = { .msg = "" };
                int r, flags;

                r = cases[i].make(&f);
                if (r == -EPERM || r == -EACCES || r == -EAFNOSUPPORT) {
                        print_message("skipped: %s: %s\n", cases[i].name, strerror(-r));
                        continue;
                }
                if (r < 0)
                        fail_msg("%s: cannot make the fd: %s", cases[i].name, strerror(-r));
                flags = fcntl(f.fd[0], F_GETFL);
                r = lifeline_check(f.fd[0], &err);
                /* The description is the caller's too: its flags are as they were. */
                if (fcntl(f.fd[0], F_GETFL) != flags)
                        fail_msg("%s: flags changed", cases[i].name);
                for (size_t k = 0; k < 3; k++)
                        if (f.fd[k] >= 0)
                                close(f.fd[k]);
                if (!cases[i].refusal) {
                        if (r != 0)
                                fail_msg("%s: refused: %s", cases[i].name, err.msg);
                        continue;
                }
                if (r != -EINVAL)
                        fail_msg("%s: answered %d, not -EINVAL", cases[i].name, r);
                if (!strstr(err.msg, cases[i].refusal))
                        fail_msg("%s: reason \"%s\" does not say \"%s\"", cases[i].name, err.msg,
                                 cases[i].refusal);
        }
}

/* A FIFO whose writer came and went after the reader opened reports it, like a pipe. */
static void test_fifo_writer_gone(void **state) {
        Fds f = { .fd = { -1, -1, -1 } };
        ErrBuf err;

        (void) state;
        assert_int_equal(fifo_read_with_writer(&f), 0);
        close(f.fd[1]);
        assert_int_equal(lifeline_check(f.fd[0], &err), -EINVAL);
        assert_non_null(strstr(err.msg, "already closed"));
        close(f.fd[0]);
}

/* The probe for a writer takes nothing a quiet pipe holds, and a pipe with bytes waiting
 * is not probed at all. */
static void test_pipe_bytes_untouched(void **state) {
        Fds f = { .fd = { -1, -1, -1 } };
        ErrBuf err;
        char c = 0;

        (void) state;
        assert_int_equal(pipe_read_end(&f), 0);
        assert_int_equal(write(f.fd[1], "x", 1), 1);
        assert_int_equal(lifeline_check(f.fd[0], &err), 0);
        assert_int_equal(read(f.fd[0], &c, 1), 1);
        assert_int_equal(c, 'x');
        close(f.fd[0]);
        close(f.fd[1]);
}

static void test_closed_fd(void **state) {
        ErrBuf err;
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

        (void) state;
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(lifeline_check(fd, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "Invalid lifeline fd"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_fifo_writer_gone),
                cmocka_unit_test(test_pipe_bytes_untouched),
                cmocka_unit_test(test_closed_fd),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
