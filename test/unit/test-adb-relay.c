/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * forwarders/adbproxy/relay.c: the pair table and its state machine, driven as adb-proxy
 * drives it but over a socketpair (the "client" side, whose other end the test holds) and
 * a UNIX socket in a temporary directory (ARC's adbd socket, whose accepted end the test
 * holds). The clock is the test's. The TCP tests (fallback, connect timeout) run in a
 * network namespace of their own with only loopback, made with unshare(); without the
 * privilege for it they are skipped.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "macro.h"
#include "relay.h"

#define SEC (1000ull * 1000)
#define MIN(a, b) ((a) < (b) ? (a) : (b))

typedef struct Fixture {
        char dir[64];
        char path[108];          /* the adbd stand-in's socket */
        int listener;            /* ... listening */
        Relay *relay;
        uint64_t now;
        unsigned closed[_RELAY_CLOSE_REASON_MAX];
        unsigned n_closed;
        RelayConnInfo last;
        unsigned target_failures;
        int last_target_error;
} Fixture;

static void on_closed(const RelayConnInfo *info, RelayCloseReason reason, void *userdata) {
        Fixture *f = userdata;

        assert_true(reason >= 0 && reason < _RELAY_CLOSE_REASON_MAX);
        f->closed[reason]++;
        f->n_closed++;
        f->last = *info;
}

static void on_target_failed(const RelayTarget *t, int error, void *userdata) {
        Fixture *f = userdata;

        (void) t;
        assert_true(error < 0);
        f->target_failures++;
        f->last_target_error = error;
}

static int unix_listen(const char *path) {
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

        assert_true(fd >= 0);
        snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
        assert_int_equal(bind(fd, (struct sockaddr *) &a, sizeof a), 0);
        assert_int_equal(listen(fd, 64), 0);
        return fd;
}

static RelayUpstream upstream_unix(const char *path) {
        RelayUpstream u = { .n_targets = 1 };

        u.targets[0].kind = RELAY_TARGET_UNIX;
        snprintf(u.targets[0].path, sizeof u.targets[0].path, "%s", path);
        return u;
}

static Fixture *fixture_new(const RelayConfig *config, const RelayIo *io) {
        Fixture *f = calloc(1, sizeof *f);
        RelayCallbacks cb = { .closed = on_closed, .target_failed = on_target_failed };
        RelayUpstream u;

        assert_non_null(f);
        snprintf(f->dir, sizeof f->dir, "/tmp/test-adb-relay-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof f->path, "%s/adb.sock", f->dir);
        f->listener = unix_listen(f->path);
        cb.userdata = f;
        assert_int_equal(relay_new(config, io, &cb, &f->relay), 0);
        u = upstream_unix(f->path);
        relay_set_upstream(f->relay, &u);
        f->now = 1000 * SEC;
        return f;
}

static void fixture_free(Fixture *f) {
        f->relay = relay_free(f->relay);
        safe_close(f->listener);
        unlink(f->path);
        rmdir(f->dir);
        free(f);
}

static int setup(void **state) {
        *state = fixture_new(NULL, NULL);
        return 0;
}

static int teardown(void **state) {
        fixture_free(*state);
        return 0;
}

/* Let the relay handle whatever is pending, a few rounds (each round: one batch). */
static void drive(Fixture *f) {
        for (int i = 0; i < 64; i++)
                if (relay_dispatch(f->relay, f->now) <= 0)
                        break;
}

/* Accept the relay's upstream connection of the last pair, within a second. */
static int upstream_accept(Fixture *f) {
        struct pollfd p = { .fd = f->listener, .events = POLLIN };
        int fd;

        assert_int_equal(poll(&p, 1, 1000), 1);
        fd = accept4(f->listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        assert_true(fd >= 0);
        return fd;
}

/* A pair through the relay: *ret_client is the client's end, the return value ARC's. */
static int pair_new(Fixture *f, int *ret_client) {
        int sv[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
        assert_int_equal(relay_add(f->relay, sv[1], f->now), 0);
        *ret_client = sv[0];
        return upstream_accept(f);
}

static void send_all(int fd, const void *buf, size_t len) {
        assert_int_equal(write(fd, buf, len), (ssize_t) len);
}

/* Read exactly len bytes from fd, driving the relay in between. */
static void recv_all(Fixture *f, int fd, void *buf, size_t len) {
        size_t got = 0;

        for (int i = 0; got < len && i < 10000; i++) {
                ssize_t n = read(fd, (uint8_t *) buf + got, len - got);
                if (n > 0)
                        got += (size_t) n;
                else {
                        assert_true(n < 0 && errno == EAGAIN);
                        drive(f);
                }
        }
        assert_int_equal(got, len);
}

/* After driving the relay: 0 (end of stream), 1 (bytes), or -EAGAIN (nothing yet). */
static int peek(Fixture *f, int fd) {
        char c;
        ssize_t n;

        drive(f);
        n = recv(fd, &c, 1, MSG_PEEK);
        if (n < 0)
                return errno == EAGAIN ? -EAGAIN : -errno;
        return n > 0 ? 1 : 0;
}

static uint8_t pattern(size_t i, unsigned seed) {
        return (uint8_t) ((i * 31 + (i >> 9) + seed) & 0xff);
}

/* ---- the basics ------------------------------------------------------------------------ */

static void test_relays_both_ways(void **state) {
        Fixture *f = *state;
        char buf[16];
        int client, adbd;

        adbd = pair_new(f, &client);
        assert_int_equal(relay_counters(f->relay)->open, 1);
        send_all(client, "CNXN", 4);
        recv_all(f, adbd, buf, 4);
        assert_memory_equal(buf, "CNXN", 4);
        send_all(adbd, "OKAY!", 5);
        recv_all(f, client, buf, 5);
        assert_memory_equal(buf, "OKAY!", 5);
        assert_int_equal(relay_counters(f->relay)->bytes_up, 4);
        assert_int_equal(relay_counters(f->relay)->bytes_down, 5);
        assert_int_equal(relay_counters(f->relay)->total, 1);
        assert_int_equal(f->n_closed, 0);
        safe_close(client);
        safe_close(adbd);
}

static void test_half_close_each_way(void **state) {
        Fixture *f = *state;
        char buf[8];
        int client, adbd;

        adbd = pair_new(f, &client);
        send_all(client, "abc", 3);
        assert_int_equal(shutdown(client, SHUT_WR), 0);
        recv_all(f, adbd, buf, 3);
        /* The client's end of stream reaches ARC, and ARC can still answer. */
        assert_int_equal(peek(f, adbd), 0);
        assert_int_equal(f->n_closed, 0);
        send_all(adbd, "late", 4);
        recv_all(f, client, buf, 4);
        assert_memory_equal(buf, "late", 4);
        /* ARC ends too: the pair is done and closed. */
        assert_int_equal(shutdown(adbd, SHUT_WR), 0);
        assert_int_equal(peek(f, client), 0);
        assert_int_equal(f->closed[RELAY_CLOSE_DONE], 1);
        assert_int_equal(f->last.bytes_up, 3);
        assert_int_equal(f->last.bytes_down, 4);
        assert_int_equal(relay_counters(f->relay)->open, 0);
        assert_true(relay_is_empty(f->relay));
        safe_close(client);
        safe_close(adbd);
}

static void test_half_close_from_arc_first(void **state) {
        Fixture *f = *state;
        char buf[8];
        int client, adbd;

        adbd = pair_new(f, &client);
        send_all(adbd, "bye", 3);
        assert_int_equal(shutdown(adbd, SHUT_WR), 0);
        recv_all(f, client, buf, 3);
        assert_int_equal(peek(f, client), 0);
        send_all(client, "x", 1);
        recv_all(f, adbd, buf, 1);
        assert_int_equal(f->n_closed, 0);
        safe_close(client);
        assert_int_equal(peek(f, adbd), 0);
        assert_int_equal(f->closed[RELAY_CLOSE_DONE], 1);
        safe_close(adbd);
}

/* Megabytes each way at once, the test's ends full as often as not: every byte arrives,
 * in order. */
static void test_bulk_both_ways_intact(void **state) {
        const size_t total = 8u << 20;
        Fixture *f = *state;
        uint8_t *in_up = malloc(total), *in_down = malloc(total), chunk[65536];
        size_t sent_up = 0, sent_down = 0, got_up = 0, got_down = 0;
        int client, adbd;

        assert_non_null(in_up);
        assert_non_null(in_down);
        adbd = pair_new(f, &client);
        for (int round = 0; round < 200000 && (got_up < total || got_down < total); round++) {
                ssize_t n;

                if (sent_up < total) {
                        size_t k = MIN(sizeof chunk, total - sent_up);
                        for (size_t i = 0; i < k; i++)
                                chunk[i] = pattern(sent_up + i, 1);
                        n = write(client, chunk, k);
                        if (n > 0)
                                sent_up += (size_t) n;
                }
                if (sent_down < total) {
                        size_t k = MIN(sizeof chunk, total - sent_down);
                        for (size_t i = 0; i < k; i++)
                                chunk[i] = pattern(sent_down + i, 2);
                        n = write(adbd, chunk, k);
                        if (n > 0)
                                sent_down += (size_t) n;
                }
                drive(f);
                n = read(adbd, in_up + got_up, total - got_up);
                if (n > 0)
                        got_up += (size_t) n;
                n = read(client, in_down + got_down, total - got_down);
                if (n > 0)
                        got_down += (size_t) n;
        }
        assert_int_equal(got_up, total);
        assert_int_equal(got_down, total);
        for (size_t i = 0; i < total; i++) {
                if (in_up[i] != pattern(i, 1) || in_down[i] != pattern(i, 2))
                        fail_msg("byte %zu differs", i);
        }
        assert_int_equal(relay_counters(f->relay)->bytes_up, total);
        assert_int_equal(relay_counters(f->relay)->bytes_down, total);
        assert_int_equal(relay_counters(f->relay)->copy_fallbacks, 0);
        free(in_up);
        free(in_down);
        safe_close(client);
        safe_close(adbd);
}

/* Once nothing is in flight, a pair holds no pipe: they went back to the spares. */
static void test_idle_pair_holds_no_pipe(void **state) {
        Fixture *f = *state;
        unsigned spare, lent;
        char buf[4];
        int client, adbd;

        adbd = pair_new(f, &client);
        relay_pipes(f->relay, &spare, &lent);
        assert_int_equal(spare + lent, 0);
        send_all(client, "ping", 4);
        recv_all(f, adbd, buf, 4);
        send_all(adbd, "pong", 4);
        recv_all(f, client, buf, 4);
        drive(f);
        relay_pipes(f->relay, &spare, &lent);
        assert_int_equal(lent, 0);
        assert_true(spare >= 1 && spare <= RELAY_DEFAULT_SPARE_PIPES);
        /* The last pair gone, the spares go too: no fd is left behind. */
        safe_close(client);
        safe_close(adbd);
        drive(f);
        assert_true(relay_is_empty(f->relay));
        relay_pipes(f->relay, &spare, &lent);
        assert_int_equal(spare + lent, 0);
}

/* ---- back-pressure and fairness -------------------------------------------------------- */

/* A client that reads nothing: ARC's bytes stop at the first full pipe (one pipe, no more
 * reading from ARC), and another pair goes on unhindered. */
static void test_stalled_client_does_not_starve_others(void **state) {
        Fixture *f = *state;
        uint8_t chunk[65536] = {}, buf[5];
        unsigned spare, lent;
        size_t pushed = 0;
        int stalled, stalled_adbd, client, adbd;
        ssize_t n;

        stalled_adbd = pair_new(f, &stalled);
        adbd = pair_new(f, &client);
        /* ARC writes to the stalled client until everything between them is full. */
        for (int i = 0; i < 10000; i++) {
                n = write(stalled_adbd, chunk, sizeof chunk);
                if (n > 0)
                        pushed += (size_t) n;
                else if (relay_dispatch(f->relay, f->now) == 0)
                        break;
        }
        assert_true(pushed > 0);
        relay_pipes(f->relay, &spare, &lent);
        assert_int_equal(lent, 1);
        /* The relay no longer reads from the stalled one's ARC side: it is full. */
        n = write(stalled_adbd, chunk, sizeof chunk);
        assert_true(n < 0 && errno == EAGAIN);
        send_all(adbd, "hello", 5);
        recv_all(f, client, buf, 5);
        assert_memory_equal(buf, "hello", 5);
        send_all(client, "x", 1);
        recv_all(f, adbd, buf, 1);
        /* Nothing was lost for the stalled one: it reads it all once it wakes up. */
        {
                size_t got = 0;
                for (int i = 0; i < 100000 && got < pushed; i++) {
                        n = read(stalled, chunk, sizeof chunk);
                        if (n > 0)
                                got += (size_t) n;
                        else
                                drive(f);
                }
                assert_int_equal(got, pushed);
        }
        safe_close(stalled);
        safe_close(stalled_adbd);
        safe_close(client);
        safe_close(adbd);
}

/* One turn moves a bounded amount per flow, however much the client has queued. */
static void test_quantum_bounds_a_turn(void **state) {
        RelayConfig config = relay_config_default;
        uint8_t chunk[65536] = {};
        Fixture *f;
        int client, adbd;
        uint64_t moved;

        (void) state;
        config.quantum = 4096;
        config.pipe_size = 4096;
        f = fixture_new(&config, NULL);
        adbd = pair_new(f, &client);
        /* Bigger socket buffers than the quantum, so the client has far more queued. */
        for (int i = 0; i < 8; i++)
                (void) write(client, chunk, sizeof chunk);
        assert_int_equal(relay_dispatch(f->relay, f->now), 1);
        moved = relay_counters(f->relay)->bytes_up;
        assert_true(moved > 0);
        /* The quantum, plus at most the pipe read that crossed it. */
        assert_true(moved <= 4096 + 4096 * 2);
        /* ... and the flow stays readable: the next turn carries on. */
        assert_int_equal(relay_dispatch(f->relay, f->now), 1);
        assert_true(relay_counters(f->relay)->bytes_up > moved);
        safe_close(client);
        safe_close(adbd);
        fixture_free(f);
}

/* ---- closing --------------------------------------------------------------------------- */

static void test_reset_by_arc_closes_the_pair(void **state) {
        Fixture *f = *state;
        int client, adbd;

        adbd = pair_new(f, &client);
        safe_close(adbd);
        /* ARC's side is gone entirely: the client hears the end. */
        assert_int_equal(peek(f, client), 0);
        assert_int_equal(f->n_closed, 1);
        assert_int_equal(relay_counters(f->relay)->open, 0);
        safe_close(client);
}

static void test_write_to_vanished_arc_is_an_io_error(void **state) {
        Fixture *f = *state;
        int client, adbd;

        adbd = pair_new(f, &client);
        /* ARC's side has closed its read half and is gone: a write fails with EPIPE. */
        safe_close(adbd);
        send_all(client, "data", 4);
        drive(f);
        assert_int_equal(f->n_closed, 1);
        assert_int_equal(f->closed[RELAY_CLOSE_IO_ERROR] + f->closed[RELAY_CLOSE_DONE], 1);
        safe_close(client);
}

static void test_close_all(void **state) {
        Fixture *f = *state;
        int c1, a1, c2, a2;

        a1 = pair_new(f, &c1);
        a2 = pair_new(f, &c2);
        relay_close_all(f->relay);
        assert_int_equal(f->closed[RELAY_CLOSE_STOPPED], 2);
        assert_true(relay_is_empty(f->relay));
        assert_int_equal(peek(f, c1), 0);
        assert_int_equal(peek(f, c2), 0);
        assert_int_equal(relay_next_deadline(f->relay), UINT64_MAX);
        safe_close(c1);
        safe_close(c2);
        safe_close(a1);
        safe_close(a2);
}

/* ---- limits ---------------------------------------------------------------------------- */

static void test_connection_cap_refuses(void **state) {
        RelayConfig config = relay_config_default;
        Fixture *f;
        int c1, a1, c2, a2, sv[2];

        (void) state;
        config.max_conns = 2;
        f = fixture_new(&config, NULL);
        a1 = pair_new(f, &c1);
        a2 = pair_new(f, &c2);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
        assert_int_equal(relay_add(f->relay, sv[1], f->now), -EBUSY);
        /* Refused means closed at once, not left hanging. */
        assert_int_equal(read(sv[0], &(char) { 0 }, 1), 0);
        assert_int_equal(relay_counters(f->relay)->refused, 1);
        assert_int_equal(relay_counters(f->relay)->total, 2);
        assert_int_equal(relay_counters(f->relay)->open, 2);
        /* A slot frees up when a pair goes. */
        safe_close(c1);
        safe_close(a1);
        drive(f);
        assert_int_equal(relay_counters(f->relay)->open, 1);
        a1 = pair_new(f, &c1);
        assert_int_equal(relay_counters(f->relay)->open, 2);
        safe_close(sv[0]);
        safe_close(c1);
        safe_close(a1);
        safe_close(c2);
        safe_close(a2);
        fixture_free(f);
}

static void test_idle_timeout_spares_the_active(void **state) {
        RelayConfig config = relay_config_default;
        Fixture *f;
        char buf[2];
        int c1, a1, c2, a2;

        (void) state;
        config.idle_timeout_usec = 10 * SEC;
        f = fixture_new(&config, NULL);
        a1 = pair_new(f, &c1);
        a2 = pair_new(f, &c2);
        assert_int_equal(relay_next_deadline(f->relay), f->now + 10 * SEC);
        f->now += 6 * SEC;
        /* Only the second pair moves a byte. */
        send_all(c2, "h", 1);
        recv_all(f, a2, buf, 1);
        assert_int_equal(relay_expire(f->relay, f->now), 0);
        f->now += 5 * SEC;
        assert_int_equal(relay_expire(f->relay, f->now), 1);
        assert_int_equal(f->closed[RELAY_CLOSE_IDLE], 1);
        assert_int_equal(f->last.id, 1);
        assert_int_equal(relay_counters(f->relay)->idle_closed, 1);
        assert_int_equal(peek(f, c1), 0);
        assert_int_equal(peek(f, c2), -EAGAIN);
        /* The survivor is due ten seconds after its last byte. */
        assert_int_equal(relay_next_deadline(f->relay), f->now - 5 * SEC + 10 * SEC);
        safe_close(c1);
        safe_close(a1);
        safe_close(c2);
        safe_close(a2);
        fixture_free(f);
}

static void test_no_idle_timeout(void **state) {
        RelayConfig config = relay_config_default;
        Fixture *f;
        int c, a;

        (void) state;
        config.idle_timeout_usec = 0;
        f = fixture_new(&config, NULL);
        a = pair_new(f, &c);
        assert_int_equal(relay_next_deadline(f->relay), UINT64_MAX);
        f->now += 1000000 * SEC;
        assert_int_equal(relay_expire(f->relay, f->now), 0);
        safe_close(c);
        safe_close(a);
        fixture_free(f);
}

static void test_fd_budget(void **state) {
        RelayConfig config = relay_config_default;

        (void) state;
        config.max_conns = 500;
        config.spare_pipes = 16;
        /* Two sockets and two pipes a pair, the spares, the epoll fd. */
        assert_int_equal(relay_fd_budget(&config), 500 * 6 + 16 * 2 + 1);
        config.max_conns = 0;
        config.spare_pipes = 0;
        assert_int_equal(relay_fd_budget(&config), 1);
}

/* ---- upstream targets ------------------------------------------------------------------ */

static void test_no_upstream_refuses(void **state) {
        Fixture *f = *state;
        int sv[2];

        relay_set_upstream(f->relay, NULL);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(relay_add(f->relay, sv[1], f->now), -ENOENT);
        assert_int_equal(read(sv[0], &(char) { 0 }, 1), 0);
        assert_int_equal(relay_counters(f->relay)->total, 0);
        safe_close(sv[0]);
}

static void test_falls_back_to_the_next_target(void **state) {
        Fixture *f = *state;
        RelayUpstream u = { .n_targets = 2 };
        char buf[2];
        int client, adbd;

        u.targets[0].kind = RELAY_TARGET_UNIX;
        snprintf(u.targets[0].path, sizeof u.targets[0].path, "%s/missing.sock", f->dir);
        u.targets[1].kind = RELAY_TARGET_UNIX;
        snprintf(u.targets[1].path, sizeof u.targets[1].path, "%s", f->path);
        relay_set_upstream(f->relay, &u);
        adbd = pair_new(f, &client);
        assert_int_equal(f->target_failures, 1);
        assert_int_equal(f->last_target_error, -ENOENT);
        send_all(client, "y", 1);
        recv_all(f, adbd, buf, 1);
        safe_close(client);
        safe_close(adbd);
}

static void test_every_target_fails(void **state) {
        Fixture *f = *state;
        RelayUpstream u = upstream_unix("/nonexistent/adb.sock");
        int sv[2];

        u.n_targets = 2;
        u.targets[1] = u.targets[0];
        relay_set_upstream(f->relay, &u);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        /* Counted, closed, and the client hears it at once. */
        assert_int_equal(relay_add(f->relay, sv[1], f->now), 0);
        assert_int_equal(f->target_failures, 2);
        assert_int_equal(f->closed[RELAY_CLOSE_UPSTREAM_FAILED], 1);
        assert_int_equal(f->last.error, ENOENT);
        assert_int_equal(relay_counters(f->relay)->upstream_failures, 1);
        assert_int_equal(relay_counters(f->relay)->open, 0);
        assert_int_equal(read(sv[0], &(char) { 0 }, 1), 0);
        safe_close(sv[0]);
}

static void test_invalid_unix_target(void **state) {
        Fixture *f = *state;
        RelayUpstream u = upstream_unix("relative/adb.sock");
        int sv[2];

        relay_set_upstream(f->relay, &u);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(relay_add(f->relay, sv[1], f->now), 0);
        assert_int_equal(f->last_target_error, -EINVAL);
        assert_int_equal(f->closed[RELAY_CLOSE_UPSTREAM_FAILED], 1);
        safe_close(sv[0]);
}

/* A network namespace with only loopback, up; false if that cannot be had here. */
static bool private_loopback(void) {
        struct ifreq ifr = {};
        int fd;
        bool ok;

        if (unshare(CLONE_NEWNET) < 0)
                return false;
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return false;
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
        ok = ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
        ifr.ifr_flags |= IFF_UP;
        ok = ok && ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
        safe_close(fd);
        return ok;
}

/* A TCP listener on 127.0.0.1 with the backlog given; its port in *ret_port. */
static int tcp_listen(int backlog, uint16_t *ret_port) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof a;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &a, sizeof a), 0);
        assert_int_equal(listen(fd, backlog), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &a, &len), 0);
        *ret_port = ntohs(a.sin_port);
        return fd;
}

static void test_unix_then_tcp(void **state) {
        Fixture *f = *state;
        RelayUpstream u = upstream_unix("/nonexistent/adb.sock");
        struct pollfd p;
        char buf[3];
        uint16_t port;
        int listener, client, adbd, sv[2];

        if (!private_loopback())
                skip();
        listener = tcp_listen(8, &port);
        u.n_targets = 2;
        u.targets[1] = (RelayTarget) { .kind = RELAY_TARGET_TCP, .port = port,
                                       .addr.s_addr = htonl(INADDR_LOOPBACK) };
        relay_set_upstream(f->relay, &u);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
        client = sv[0];
        assert_int_equal(relay_add(f->relay, sv[1], f->now), 0);
        assert_int_equal(f->target_failures, 1);
        /* In progress, or connected already: either way the listener has it soon. */
        p = (struct pollfd) { .fd = listener, .events = POLLIN };
        assert_int_equal(poll(&p, 1, 1000), 1);
        adbd = accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        assert_true(adbd >= 0);
        drive(f);
        send_all(client, "tcp", 3);
        recv_all(f, adbd, buf, 3);
        assert_memory_equal(buf, "tcp", 3);
        send_all(adbd, "ok", 2);
        recv_all(f, client, buf, 2);
        safe_close(client);
        safe_close(adbd);
        safe_close(listener);
}

/* A client's urgent byte (send(MSG_OOB)) stops splice() in front of it with EAGAIN while
 * epoll keeps reporting the socket readable: the flow must go on by copying (which skips
 * the byte), not spin on the wake-ups with the bytes after it stuck. */
static void test_urgent_data_from_the_client(void **state) {
        Fixture *f = *state;
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        char buf[6];
        uint16_t port;
        int listener, remote, client, adbd, events = 0;

        if (!private_loopback())
                skip();
        listener = tcp_listen(8, &port);
        a.sin_port = htons(port);
        remote = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_int_equal(connect(remote, (struct sockaddr *) &a, sizeof a), 0);
        assert_int_equal(fcntl(remote, F_SETFL, O_NONBLOCK), 0);
        client = accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        assert_true(client >= 0);
        assert_int_equal(relay_add(f->relay, client, f->now), 0);
        adbd = upstream_accept(f);
        drive(f);

        assert_int_equal(send(remote, "x", 1, 0), 1);
        assert_int_equal(send(remote, "!", 1, MSG_OOB), 1);
        assert_int_equal(send(remote, "after", 5, 0), 5);
        recv_all(f, adbd, buf, 6);
        assert_memory_equal(buf, "xafter", 6); /* the urgent byte is not data */
        assert_int_equal(relay_counters(f->relay)->copy_fallbacks, 1);
        /* Nothing left to do: the loop is quiet. */
        for (int i = 0; i < 100; i++)
                events += relay_dispatch(f->relay, f->now);
        assert_int_equal(events, 0);
        /* Both ways still work. */
        send_all(adbd, "ok", 2);
        recv_all(f, remote, buf, 2);
        assert_memory_equal(buf, "ok", 2);
        safe_close(remote);
        safe_close(adbd);
        safe_close(listener);
}

static void test_connect_timeout(void **state) {
        RelayConfig config = relay_config_default;
        RelayUpstream u = { .n_targets = 1 };
        Fixture *f;
        uint16_t port;
        int listener, filler, sv[2];
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

        (void) state;
        if (!private_loopback())
                skip();
        config.connect_timeout_usec = 5 * SEC;
        f = fixture_new(&config, NULL);
        /* A listener that accepts nothing, its queue full: the next SYN goes unanswered. */
        listener = tcp_listen(0, &port);
        a.sin_port = htons(port);
        filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_int_equal(connect(filler, (struct sockaddr *) &a, sizeof a), 0);
        u.targets[0] = (RelayTarget) { .kind = RELAY_TARGET_TCP, .port = port,
                                       .addr.s_addr = htonl(INADDR_LOOPBACK) };
        relay_set_upstream(f->relay, &u);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(relay_add(f->relay, sv[1], f->now), 0);
        drive(f);
        assert_int_equal(relay_counters(f->relay)->open, 1);
        assert_int_equal(relay_next_deadline(f->relay), f->now + 5 * SEC);
        assert_int_equal(relay_expire(f->relay, f->now + 5 * SEC - 1), 0);
        assert_int_equal(relay_expire(f->relay, f->now + 5 * SEC), 1);
        assert_int_equal(f->closed[RELAY_CLOSE_CONNECT_TIMEOUT], 1);
        assert_int_equal(f->last.error, ETIMEDOUT);
        assert_int_equal(relay_counters(f->relay)->upstream_failures, 1);
        assert_int_equal(read(sv[0], &(char) { 0 }, 1), 0);
        safe_close(sv[0]);
        safe_close(filler);
        safe_close(listener);
        fixture_free(f);
}

/* ---- splice refused: read()/write() through a buffer ---------------------------------- */

/* Which splice() calls the test kernel refuses. */
static enum { REFUSE_NONE, REFUSE_ALL, REFUSE_TO_SOCKET } refuse;

static bool is_pipe(int fd) {
        int flags = fcntl(fd, F_GETPIPE_SZ);
        return flags > 0;
}

static ssize_t refusing_splice(int fd_in, int fd_out, size_t len, unsigned flags) {
        if (refuse == REFUSE_ALL || (refuse == REFUSE_TO_SOCKET && !is_pipe(fd_out))) {
                errno = EINVAL;
                return -1;
        }
        return splice(fd_in, NULL, fd_out, NULL, len, flags);
}

static ssize_t real_read(int fd, void *buf, size_t len) {
        return read(fd, buf, len);
}

static ssize_t real_write(int fd, const void *buf, size_t len) {
        return write(fd, buf, len);
}

static int real_shutdown_write(int fd) {
        return shutdown(fd, SHUT_WR);
}

/* Pipes of the size asked for when big_pipes is set (as the daemon's), else the default. */
static bool big_pipes;

static int real_pipe(int fds[2], size_t size) {
        if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
                return -errno;
        if (big_pipes)
                (void) fcntl(fds[0], F_SETPIPE_SZ, (int) size);
        return fcntl(fds[0], F_GETPIPE_SZ);
}

static const RelayIo refusing_io = {
        .splice = refusing_splice,
        .read = real_read,
        .write = real_write,
        .shutdown_write = real_shutdown_write,
        .pipe = real_pipe,
};

static void copy_mode_round_trip(int how) {
        const size_t total = 1u << 20;
        Fixture *f;
        uint8_t *out = malloc(total), *in = malloc(total);
        size_t sent = 0, got = 0;
        char buf[4];
        int client, adbd;

        refuse = how;
        f = fixture_new(NULL, &refusing_io);
        adbd = pair_new(f, &client);
        for (size_t i = 0; i < total; i++)
                out[i] = pattern(i, 3);
        for (int i = 0; i < 100000 && got < total; i++) {
                ssize_t n;
                if (sent < total) {
                        n = write(client, out + sent, total - sent);
                        if (n > 0)
                                sent += (size_t) n;
                }
                drive(f);
                n = read(adbd, in + got, total - got);
                if (n > 0)
                        got += (size_t) n;
        }
        assert_int_equal(got, total);
        assert_memory_equal(in, out, total);
        send_all(adbd, "back", 4);
        recv_all(f, client, buf, 4);
        assert_memory_equal(buf, "back", 4);
        /* Each flow moved to copying once. */
        assert_int_equal(relay_counters(f->relay)->copy_fallbacks, 2);
        assert_int_equal(shutdown(client, SHUT_WR), 0);
        assert_int_equal(peek(f, adbd), 0);
        safe_close(client);
        safe_close(adbd);
        fixture_free(f);
        refuse = REFUSE_NONE;
        free(out);
        free(in);
}

static void test_copy_when_splice_is_refused(void **state) {
        (void) state;
        copy_mode_round_trip(REFUSE_ALL);
}

/* The pipe holds bytes when the sink refuses: they move to the buffer, none is lost. */
static void test_copy_when_splice_into_the_socket_is_refused(void **state) {
        (void) state;
        copy_mode_round_trip(REFUSE_TO_SOCKET);
}

/* ... also when a pipe of 1 MiB holds more than a copy buffer's 64 KiB. */
static void test_copy_from_a_full_big_pipe(void **state) {
        (void) state;
        big_pipes = true;
        copy_mode_round_trip(REFUSE_TO_SOCKET);
        big_pipes = false;
}

/* ---- names ------------------------------------------------------------------------------ */

static void test_to_string(void **state) {
        static const struct { int value; const char *name; } reasons[] = {
                { RELAY_CLOSE_DONE, "done" },
                { RELAY_CLOSE_IO_ERROR, "I/O error" },
                { RELAY_CLOSE_UPSTREAM_FAILED, "upstream unreachable" },
                { RELAY_CLOSE_CONNECT_TIMEOUT, "upstream connect timeout" },
                { RELAY_CLOSE_IDLE, "idle timeout" },
                { RELAY_CLOSE_STOPPED, "stopped" },
                { RELAY_CLOSE_RESOURCES, "out of resources" },
        };
        RelayTarget t = { .kind = RELAY_TARGET_TCP, .port = 5555 };
        char buf[128];

        (void) state;
        assert_int_equal(ELEMENTSOF(reasons), _RELAY_CLOSE_REASON_MAX);
        for (size_t i = 0; i < ELEMENTSOF(reasons); i++)
                assert_string_equal(relay_close_reason_to_string(reasons[i].value), reasons[i].name);
        assert_null(relay_close_reason_to_string(_RELAY_CLOSE_REASON_MAX));
        assert_null(relay_close_reason_to_string(_RELAY_CLOSE_REASON_INVALID));
        assert_string_equal(relay_target_kind_to_string(RELAY_TARGET_VSOCK), "vsock");
        assert_null(relay_target_kind_to_string(_RELAY_TARGET_KIND_MAX));
        inet_pton(AF_INET, "100.115.92.2", &t.addr);
        assert_string_equal(relay_target_to_string(&t, buf, sizeof buf), "tcp:100.115.92.2:5555");
        t = (RelayTarget) { .kind = RELAY_TARGET_VSOCK, .cid = 3, .port = 5555 };
        assert_string_equal(relay_target_to_string(&t, buf, sizeof buf), "vsock:3:5555");
        t = (RelayTarget) { .kind = RELAY_TARGET_UNIX, .path = "/run/arc/adb/adb.sock" };
        assert_string_equal(relay_target_to_string(&t, buf, sizeof buf), "unix:/run/arc/adb/adb.sock");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_relays_both_ways, setup, teardown),
                cmocka_unit_test_setup_teardown(test_half_close_each_way, setup, teardown),
                cmocka_unit_test_setup_teardown(test_half_close_from_arc_first, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bulk_both_ways_intact, setup, teardown),
                cmocka_unit_test_setup_teardown(test_idle_pair_holds_no_pipe, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stalled_client_does_not_starve_others, setup,
                                                teardown),
                cmocka_unit_test(test_quantum_bounds_a_turn),
                cmocka_unit_test_setup_teardown(test_reset_by_arc_closes_the_pair, setup, teardown),
                cmocka_unit_test_setup_teardown(test_write_to_vanished_arc_is_an_io_error, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_close_all, setup, teardown),
                cmocka_unit_test(test_connection_cap_refuses),
                cmocka_unit_test(test_idle_timeout_spares_the_active),
                cmocka_unit_test(test_no_idle_timeout),
                cmocka_unit_test(test_fd_budget),
                cmocka_unit_test_setup_teardown(test_no_upstream_refuses, setup, teardown),
                cmocka_unit_test_setup_teardown(test_falls_back_to_the_next_target, setup, teardown),
                cmocka_unit_test_setup_teardown(test_every_target_fails, setup, teardown),
                cmocka_unit_test_setup_teardown(test_invalid_unix_target, setup, teardown),
                cmocka_unit_test(test_copy_when_splice_is_refused),
                cmocka_unit_test(test_copy_when_splice_into_the_socket_is_refused),
                cmocka_unit_test(test_copy_from_a_full_big_pipe),
                cmocka_unit_test(test_to_string),
                /* These leave the process in a namespace of its own: last. */
                cmocka_unit_test_setup_teardown(test_unix_then_tcp, setup, teardown),
                cmocka_unit_test_setup_teardown(test_urgent_data_from_the_client, setup, teardown),
                cmocka_unit_test(test_connect_timeout),
        };

        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
