/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The supervised child (manager/child.c) with a fake process: the spawn function hands the
 * test the child's end of its control socket, and the test plays the child on it — says
 * hello, reads what it is told, and dies on cue by closing its end. Backoff times are
 * milliseconds here, so the real event loop runs the restarts; the real defaults (seconds,
 * a minute) are checked through the timers the child asks for, made due at once.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "child.h"
#include "ipc.h"
#include "ipc.pb-c.h"
#include "pidfd-util.h"
#include "time-util.h"

#define MS 1000u
#define SEC (1000u * MS)

/*
 * The timers child.c arms, seen through the linker (-Wl,--wrap in CMakeLists.txt): the
 * delay the latest asked for and its source (the child's), so that a test of the real
 * defaults can check each delay and then make the timer due now instead of waiting.
 */
static struct {
        sd_event_source *source;
        uint64_t usec;
        unsigned n;
} timers;

int __real_sd_event_add_time_relative(sd_event *e, sd_event_source **ret, clockid_t clock,
                                      uint64_t usec, uint64_t accuracy,
                                      sd_event_time_handler_t callback, void *userdata);
int __wrap_sd_event_add_time_relative(sd_event *e, sd_event_source **ret, clockid_t clock,
                                      uint64_t usec, uint64_t accuracy,
                                      sd_event_time_handler_t callback, void *userdata);

int __wrap_sd_event_add_time_relative(sd_event *e, sd_event_source **ret, clockid_t clock,
                                      uint64_t usec, uint64_t accuracy,
                                      sd_event_time_handler_t callback, void *userdata) {
        int r = __real_sd_event_add_time_relative(e, ret, clock, usec, accuracy, callback,
                                                  userdata);

        if (r >= 0 && ret) {
                timers.source = *ret;
                timers.usec = usec;
                timers.n++;
        }
        return r;
}

typedef struct Fixture {
        sd_event *e;
        Child *child;
        int peer;          /* the test's end, as the child */
        unsigned spawns;
        int spawn_error;   /* the next spawn fails with this */
        bool own_process;  /* a real process of ours, reaped by the child object */
        pid_t pid;
        unsigned readies;
        unsigned downs;
        unsigned stopped;
        uint64_t spawned_at[16];
} Fixture;

static int fake_spawn(Child *c, int control, void *userdata) {
        Fixture *f = userdata;

        if (f->spawns < ELEMENTSOF(f->spawned_at))
                f->spawned_at[f->spawns] = now_usec();
        f->spawns++;
        if (f->spawn_error) {
                int r = f->spawn_error;
                f->spawn_error = 0;
                close(control);
                return r;
        }
        f->peer = control;
        if (f->own_process) {
                /* It ends at once; the test keeps the socket's end it would have had. */
                f->pid = fork();
                assert_true(f->pid >= 0);
                if (f->pid == 0)
                        _exit(0);
                child_spawned(c, f->pid, pidfd_open_pid(f->pid), true);
                return 0;
        }
        child_spawned(c, 0, -EBADF, false);
        return 0;
}

static void on_ready(Child *c, void *userdata) {
        Fixture *f = userdata;
        Patchpanel__Ipc__ForwarderControl msg = PATCHPANEL__IPC__FORWARDER_CONTROL__INIT;
        Patchpanel__Ipc__ForwarderLink link = PATCHPANEL__IPC__FORWARDER_LINK__INIT;

        f->readies++;
        /* The state a new process must be told: here, one link. */
        link.guest = (char *) "arc_ns1";
        link.uplink = (char *) "eth0";
        msg.msg_case = PATCHPANEL__IPC__FORWARDER_CONTROL__MSG_LINK_ADD;
        msg.link_add = &link;
        assert_int_equal(child_send(c, &msg.base, NULL, 0), 0);
}

static void on_event(Child *c, const ProtobufCMessage *ev, int *fds, size_t n_fds,
                     void *userdata) {
        const Patchpanel__Ipc__ForwarderReport *r = (const void *) ev;

        (void) fds;
        (void) n_fds;
        (void) userdata;
        if (r->msg_case == PATCHPANEL__IPC__FORWARDER_REPORT__MSG_HELLO)
                child_set_ready(c);
}

static void on_down(Child *c, const char *why, void *userdata) {
        Fixture *f = userdata;

        (void) c;
        assert_non_null(why);
        f->downs++;
}

static void on_stopped(void *userdata) {
        Fixture *f = userdata;

        f->stopped++;
}

static const ChildBackoff fast = {
        .first_usec = 0,
        .base_usec = 10 * MS,
        .max_usec = 40 * MS,
        .healthy_usec = 150 * MS,
        .max_failures = 5,
};

static int setup_policy(void **state, ChildPolicy policy, const ChildBackoff *backoff) {
        Fixture *f = calloc(1, sizeof *f);

        assert_non_null(f);
        f->peer = -EBADF;
        timers.source = NULL;
        timers.n = 0;
        assert_int_equal(sd_event_new(&f->e), 0);
        assert_int_equal(child_new(f->e, &(ChildConfig) {
                                           .name = "fake",
                                           .policy = policy,
                                           .backoff = *backoff,
                                           .send = &patchpanel__ipc__forwarder_control__descriptor,
                                           .recv = &patchpanel__ipc__forwarder_report__descriptor,
                                           .spawn = fake_spawn,
                                           .on_ready = on_ready,
                                           .on_event = on_event,
                                           .on_down = on_down,
                                           .userdata = f,
                                   },
                                   &f->child),
                         0);
        *state = f;
        return 0;
}

static int setup(void **state) {
        return setup_policy(state, CHILD_POLICY_RESTART, &fast);
}

static int setup_fate(void **state) {
        return setup_policy(state, CHILD_POLICY_FATE_SHARING, &fast);
}

static int setup_defaults(void **state) {
        return setup_policy(state, CHILD_POLICY_RESTART, &child_backoff_default);
}

static int teardown(void **state) {
        Fixture *f = *state;

        child_free(f->child);
        if (f->peer >= 0)
                close(f->peer);
        sd_event_unref(f->e);
        free(f);
        return 0;
}

/* Run the loop until cond() holds, at most @timeout_ms. */
static bool run_until(Fixture *f, bool (*cond)(Fixture *f), unsigned timeout_ms) {
        uint64_t end = now_usec() + timeout_ms * MS;

        while (!cond(f)) {
                if (now_usec() > end)
                        return false;
                assert_true(sd_event_run(f->e, 5 * MS) >= 0);
        }
        return true;
}

static void hello(Fixture *f) {
        Patchpanel__Ipc__ForwarderHello h = PATCHPANEL__IPC__FORWARDER_HELLO__INIT;
        Patchpanel__Ipc__ForwarderReport ev = PATCHPANEL__IPC__FORWARDER_REPORT__INIT;

        ev.msg_case = PATCHPANEL__IPC__FORWARDER_REPORT__MSG_HELLO;
        ev.hello = &h;
        assert_int_equal(ipc_send(f->peer, &ev.base, NULL, 0), 0);
}

/* What the child was told since it started: the number of link additions. */
static unsigned told(Fixture *f) {
        unsigned n = 0;

        for (;;) {
                ProtobufCMessage *m = NULL;
                int r = ipc_recv(f->peer, &patchpanel__ipc__forwarder_control__descriptor, &m, NULL,
                                 0, NULL);
                if (r <= 0)
                        return n;
                if (((Patchpanel__Ipc__ForwarderControl *) m)->msg_case ==
                    PATCHPANEL__IPC__FORWARDER_CONTROL__MSG_LINK_ADD)
                        n++;
                protobuf_c_message_free_unpacked(m, NULL);
        }
}

static void die(Fixture *f) {
        close(f->peer);
        f->peer = -EBADF;
}

static bool is_running(Fixture *f) {
        return child_state(f->child) == CHILD_RUNNING;
}

static bool is_backoff_or_failed(Fixture *f) {
        return child_state(f->child) == CHILD_BACKOFF || child_state(f->child) == CHILD_FAILED;
}

static bool is_failed(Fixture *f) {
        return child_state(f->child) == CHILD_FAILED;
}

static bool is_starting(Fixture *f) {
        return child_state(f->child) == CHILD_STARTING;
}

static bool count_forgotten(Fixture *f) {
        ChildInfo info;

        child_info(f->child, &info);
        return info.failures == 0;
}

/* The latest timer the child armed asked for @usec and is due now: the loop runs it as it
 * would once that time had passed. */
static void timer_expect_and_fire(unsigned n_before, uint64_t usec) {
        assert_int_equal(timers.n, n_before + 1);
        assert_int_equal(timers.usec, usec);
        assert_int_equal(sd_event_source_set_time_relative(timers.source, 0), 0);
}

/* Start (or wait for the restart), say hello, and check the state came with it. */
static void come_up(Fixture *f) {
        assert_true(run_until(f, is_starting, 1000));
        hello(f);
        assert_true(run_until(f, is_running, 1000));
}

static void test_start_ready_replay(void **state) {
        Fixture *f = *state;
        ChildInfo info;

        assert_int_equal(child_start(f->child), 0);
        assert_int_equal(child_state(f->child), CHILD_STARTING);
        assert_int_equal(f->readies, 0);
        hello(f);
        assert_true(run_until(f, is_running, 1000));
        assert_int_equal(f->readies, 1);
        assert_int_equal(told(f), 1);
        child_info(f->child, &info);
        assert_string_equal(info.name, "fake");
        assert_int_equal(info.starts, 1);
        assert_int_equal(info.failures, 0);
}

static void test_backoff_doubles_then_gives_up(void **state) {
        Fixture *f = *state;
        /* Failure n waits: at once, 10, 20, 40 (the cap); the 5th gives up. */
        static const uint64_t expected_ms[] = { 0, 10, 20, 40 };
        ChildInfo info;

        assert_int_equal(child_start(f->child), 0);
        hello(f);
        assert_true(run_until(f, is_running, 1000));
        for (unsigned i = 0; i < ELEMENTSOF(expected_ms); i++) {
                uint64_t died;

                assert_int_equal(told(f), 1); /* each life was told its state */
                die(f);
                died = now_usec();
                assert_true(run_until(f, is_backoff_or_failed, 1000));
                child_info(f->child, &info);
                assert_int_equal(info.failures, i + 1);
                assert_true(info.restart_in_usec <= expected_ms[i] * MS);
                assert_true(run_until(f, is_starting, 1000));
                /* Not before its time (the loop's clock may round up, never down). */
                assert_true(now_usec() - died + 2 * MS >= expected_ms[i] * MS);
                hello(f);
                assert_true(run_until(f, is_running, 1000));
        }
        die(f);
        assert_true(run_until(f, is_failed, 1000));
        assert_int_equal(f->downs, 1);
        child_info(f->child, &info);
        assert_int_equal(info.failures, 5);
        assert_int_equal(info.starts, 5);
        /* Given up: nothing starts again. */
        assert_false(run_until(f, is_starting, 100));
}

static void test_good_health_resets_the_count(void **state) {
        Fixture *f = *state;
        ChildInfo info;

        assert_int_equal(child_start(f->child), 0);
        hello(f);
        assert_true(run_until(f, is_running, 1000));
        die(f);
        assert_true(run_until(f, is_starting, 1000));
        hello(f);
        assert_true(run_until(f, is_running, 1000));
        die(f);
        assert_true(run_until(f, is_backoff_or_failed, 1000));
        child_info(f->child, &info);
        assert_int_equal(info.failures, 2);
        assert_true(run_until(f, is_starting, 1000));
        hello(f);
        assert_true(run_until(f, is_running, 1000));
        /* Longer than healthy_usec: the count starts again. */
        for (uint64_t end = now_usec() + 200 * MS; now_usec() < end;)
                assert_true(sd_event_run(f->e, 10 * MS) >= 0);
        die(f);
        assert_true(run_until(f, is_backoff_or_failed, 1000));
        child_info(f->child, &info);
        assert_int_equal(info.failures, 1);
}

static void test_death_before_ready_counts(void **state) {
        Fixture *f = *state;
        ChildInfo info;

        assert_int_equal(child_start(f->child), 0);
        die(f); /* before its hello */
        assert_true(run_until(f, is_backoff_or_failed, 1000));
        child_info(f->child, &info);
        assert_int_equal(info.failures, 1);
        assert_int_equal(f->readies, 0);
        come_up(f);
        assert_int_equal(f->readies, 1);
}

static void test_spawn_failure_counts(void **state) {
        Fixture *f = *state;
        ChildInfo info;

        f->spawn_error = -EPERM;
        assert_true(child_start(f->child) < 0);
        child_info(f->child, &info);
        assert_int_equal(info.failures, 1);
        assert_non_null(strstr(info.last_end, "Operation not permitted"));
        /* And it tries again. */
        come_up(f);
        assert_int_equal(f->spawns, 2);
}

static void test_stop_means_no_restart(void **state) {
        Fixture *f = *state;

        assert_int_equal(child_start(f->child), 0);
        hello(f);
        assert_true(run_until(f, is_running, 1000));
        child_stop(f->child, 100 * MS, on_stopped, f);
        assert_int_equal(f->stopped, 1);
        assert_int_equal(child_state(f->child), CHILD_STOPPED);
        /* Its socket was closed: after what it was told, the fake child sees its end. */
        assert_int_equal(told(f), 1);
        char c;
        assert_int_equal(read(f->peer, &c, 1), 0);
        assert_false(run_until(f, is_starting, 100));
        assert_int_equal(child_send(f->child, &(Patchpanel__Ipc__ForwarderControl)
                                                      PATCHPANEL__IPC__FORWARDER_CONTROL__INIT.base,
                                    NULL, 0),
                         -ENOTCONN);
        child_stop(f->child, 100 * MS, on_stopped, f);
        assert_int_equal(f->stopped, 1);
}

static void test_fate_sharing_never_restarts(void **state) {
        Fixture *f = *state;

        assert_int_equal(child_start(f->child), 0);
        hello(f);
        assert_true(run_until(f, is_running, 1000));
        die(f);
        assert_true(run_until(f, is_failed, 1000));
        assert_int_equal(f->downs, 1);
        assert_false(run_until(f, is_starting, 100));
        assert_int_equal(f->spawns, 1);
}

static bool is_stopped(Fixture *f) {
        return f->stopped > 0;
}

/* A fate-sharing child of our own (the helper, the launcher) that ended by itself is
 * reaped and stays down; stopping it then has nothing to wait for. */
static void test_fate_sharing_reaped_then_stopped(void **state) {
        Fixture *f = *state;
        ChildInfo info;

        f->own_process = true;
        assert_int_equal(child_start(f->child), 0);
        assert_true(run_until(f, is_failed, 2000));
        assert_int_equal(f->downs, 1);
        child_info(f->child, &info);
        assert_int_equal(info.pid, 0);
        assert_non_null(strstr(info.last_end, "exited"));
        /* Reaped: no zombie left. */
        assert_int_equal(waitpid(f->pid, NULL, WNOHANG), -1);
        child_stop(f->child, 60 * SEC, on_stopped, f);
        assert_true(run_until(f, is_stopped, 500));
        assert_int_equal(child_state(f->child), CHILD_STOPPED);
}

static void test_backoff_defaults(void **state) {
        (void) state;
        /* At once, then 1 s doubling to 30 s; a minute resets; the 8th in a row gives up. */
        assert_int_equal(child_backoff_default.first_usec, 0);
        assert_int_equal(child_backoff_default.base_usec, 1 * SEC);
        assert_int_equal(child_backoff_default.max_usec, 30 * SEC);
        assert_int_equal(child_backoff_default.healthy_usec, 60 * SEC);
        assert_int_equal(child_backoff_default.max_failures, 8);
}

/* Up and told, with its minute of health timed. */
static void come_up_timed(Fixture *f) {
        unsigned n = timers.n;

        assert_true(run_until(f, is_starting, 1000));
        hello(f);
        assert_true(run_until(f, is_running, 1000));
        assert_int_equal(timers.n, n + 1);
        assert_int_equal(timers.usec, 60 * SEC);
}

/* Dies, and the restart is asked for after @delay_usec: failure @failures in a row. */
static void die_expect_restart_in(Fixture *f, unsigned failures, uint64_t delay_usec) {
        unsigned n = timers.n;
        ChildInfo info;

        die(f);
        assert_true(run_until(f, is_backoff_or_failed, 1000));
        child_info(f->child, &info);
        assert_int_equal(info.state, CHILD_BACKOFF);
        assert_int_equal(info.failures, failures);
        /* What GetStatus shows counts down from the same delay. */
        assert_true(info.restart_in_usec <= delay_usec);
        assert_true(info.restart_in_usec + SEC / 2 >= delay_usec);
        timer_expect_and_fire(n, delay_usec);
}

static void test_default_backoff_sequence(void **state) {
        Fixture *f = *state;
        /* Failure n in a row waits: at once, 1, 2, 4, 8, 16, 30 s (not 32); the 8th gives up. */
        static const uint64_t expected_sec[] = { 0, 1, 2, 4, 8, 16, 30 };
        ChildInfo info;
        unsigned n;

        assert_int_equal(child_start(f->child), 0);
        come_up_timed(f);
        for (unsigned i = 0; i < ELEMENTSOF(expected_sec); i++) {
                die_expect_restart_in(f, i + 1, expected_sec[i] * SEC);
                come_up_timed(f);
                assert_int_equal(told(f), 1); /* each life was told its state */
        }
        n = timers.n;
        die(f);
        assert_true(run_until(f, is_failed, 1000));
        assert_int_equal(f->downs, 1);
        child_info(f->child, &info);
        assert_int_equal(info.failures, 8);
        assert_int_equal(info.starts, 8);
        assert_int_equal(info.restart_in_usec, 0);
        /* Given up: no restart is scheduled, and none comes. */
        assert_int_equal(timers.n, n);
        assert_false(run_until(f, is_starting, 100));
        assert_int_equal(f->spawns, 8);
}

static void test_default_backoff_resets_after_a_minute(void **state) {
        Fixture *f = *state;
        ChildInfo info;
        unsigned n;

        assert_int_equal(child_start(f->child), 0);
        come_up_timed(f);
        die_expect_restart_in(f, 1, 0);
        come_up_timed(f);
        die_expect_restart_in(f, 2, 1 * SEC);
        come_up_timed(f);
        die_expect_restart_in(f, 3, 2 * SEC);
        come_up_timed(f);
        /* Its minute of good health passes: the count is forgotten... */
        n = timers.n;
        assert_int_equal(sd_event_source_set_time_relative(timers.source, 0), 0);
        assert_true(run_until(f, count_forgotten, 1000));
        assert_int_equal(timers.n, n);
        child_info(f->child, &info);
        assert_int_equal(info.state, CHILD_RUNNING);
        /* ...and the next failure is the first again: a restart at once, then 1 s. */
        die_expect_restart_in(f, 1, 0);
        come_up_timed(f);
        die_expect_restart_in(f, 2, 1 * SEC);
        come_up_timed(f);
        assert_int_equal(f->downs, 0);
}

static void test_state_names(void **state) {
        (void) state;
        for (ChildState s = 0; s < _CHILD_STATE_MAX; s++)
                assert_non_null(child_state_to_string(s));
        assert_null(child_state_to_string(_CHILD_STATE_MAX));
        assert_null(child_state_to_string(_CHILD_STATE_INVALID));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_start_ready_replay, setup, teardown),
                cmocka_unit_test_setup_teardown(test_backoff_doubles_then_gives_up, setup, teardown),
                cmocka_unit_test_setup_teardown(test_good_health_resets_the_count, setup, teardown),
                cmocka_unit_test_setup_teardown(test_death_before_ready_counts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_spawn_failure_counts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stop_means_no_restart, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fate_sharing_reaped_then_stopped, setup_fate,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_fate_sharing_never_restarts, setup_fate,
                                                teardown),
                cmocka_unit_test(test_backoff_defaults),
                cmocka_unit_test_setup_teardown(test_default_backoff_sequence, setup_defaults,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_default_backoff_resets_after_a_minute,
                                                setup_defaults, teardown),
                cmocka_unit_test(test_state_names),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
