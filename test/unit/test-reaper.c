/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * common/reaper.h: a child of ours is reaped and reported once, however it ends, also when
 * it ended while another process traced it (its pidfd turns readable before we may reap
 * it: sd-event's child source lost such a child for good).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <poll.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "pidfd-util.h"
#include "reaper.h"
#include "time-util.h"

typedef struct Seen {
        unsigned calls;
        siginfo_t si;
        bool free_it;
} Seen;

static void on_reaped(Reaper *r, const siginfo_t *si, void *userdata) {
        Seen *seen = userdata;

        seen->calls++;
        seen->si = *si;
        if (seen->free_it)
                reaper_free(r);
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) s;
        (void) usec;
        (void) userdata;
        fail_msg("no answer within the deadline");
        return 0;
}

/* Run @e until the callback was called once or @usec passed; then a little longer, to catch
 * a second call. */
static void run_for(sd_event *e, const Seen *seen, uint64_t usec) {
        uint64_t start = now_usec();

        do
                assert_true(sd_event_run(e, 10 * 1000) >= 0);
        while (seen->calls == 0 && now_usec() - start < usec);
        for (int i = 0; i < 5; i++)
                assert_true(sd_event_run(e, 10 * 1000) >= 0);
}

static pid_t fork_or_fail(void) {
        pid_t pid = fork();

        assert_true(pid >= 0);
        return pid;
}

static void assert_reaped(pid_t pid) {
        siginfo_t si;

        memset(&si, 0, sizeof si);
        assert_int_equal(waitid(P_PID, (id_t) pid, &si, WEXITED | WNOHANG), -1);
        assert_int_equal(errno, ECHILD);
}

static void test_exit_status(void **state) {
        sd_event *e = NULL;
        Reaper *r = NULL;
        Seen seen = { .free_it = true };
        pid_t pid;

        (void) state;
        assert_int_equal(sd_event_new(&e), 0);
        pid = fork_or_fail();
        if (pid == 0)
                _exit(3);
        assert_int_equal(reaper_new(e, pidfd_open_pid(pid), on_reaped, &seen, &r), 0);
        run_for(e, &seen, 5 * 1000 * 1000);
        assert_int_equal(seen.calls, 1);
        assert_int_equal(seen.si.si_pid, pid);
        assert_int_equal(seen.si.si_code, CLD_EXITED);
        assert_int_equal(seen.si.si_status, 3);
        assert_reaped(pid);
        sd_event_unref(e);
}

static void test_killed(void **state) {
        sd_event *e = NULL;
        Reaper *r = NULL;
        Seen seen = {};
        pid_t pid;

        (void) state;
        assert_int_equal(sd_event_new(&e), 0);
        pid = fork_or_fail();
        if (pid == 0)
                for (;;)
                        pause();
        assert_int_equal(reaper_new(e, pidfd_open_pid(pid), on_reaped, &seen, &r), 0);
        run_for(e, &seen, 50 * 1000);
        assert_int_equal(seen.calls, 0);
        assert_int_equal(pidfd_signal(reaper_pidfd(r), SIGKILL), 0);
        run_for(e, &seen, 5 * 1000 * 1000);
        assert_int_equal(seen.calls, 1);
        assert_int_equal(seen.si.si_code, CLD_KILLED);
        assert_int_equal(seen.si.si_status, SIGKILL);
        assert_reaped(pid);
        /* Not freed by the callback: freeing it later is as good. */
        reaper_free(r);
        sd_event_unref(e);
}

/* The case the reaper is for: the child dies while a tracer that is not its parent holds it,
 * and becomes ours to reap only when the tracer goes. */
static void test_ended_while_traced(void **state) {
        sd_event *e = NULL;
        sd_event_source *deadline = NULL;
        Reaper *r = NULL;
        Seen seen = { .free_it = true };
        int ready[2], release[2];
        pid_t child, tracer;
        uint64_t iterations, after;
        char c = 0;

        (void) state;
        assert_int_equal(pipe(ready), 0);
        assert_int_equal(pipe(release), 0);
        child = fork_or_fail();
        if (child == 0)
                for (;;)
                        pause();
        tracer = fork_or_fail();
        if (tracer == 0) {
                /* Seize it, say so (or why not), hold it until told to let go, then go. */
                char ok = ptrace(PTRACE_SEIZE, child, NULL, NULL) == 0 ? 'y' : 'n';

                close(release[1]);
                alarm(30); /* never outlives a test that failed */
                if (write(ready[1], &ok, 1) != 1)
                        _exit(1);
                (void) read(release[0], &ok, 1);
                _exit(0);
        }
        close(ready[1]);
        close(release[0]);
        assert_int_equal(read(ready[0], &c, 1), 1);
        if (c != 'y') {
                kill(child, SIGKILL);
                close(release[1]);
                waitpid(child, NULL, 0);
                waitpid(tracer, NULL, 0);
                skip();
        }

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(sd_event_add_time_relative(e, &deadline, CLOCK_MONOTONIC,
                                                    10 * 1000 * 1000, 0, on_deadline, NULL), 0);
        assert_int_equal(reaper_new(e, pidfd_open_pid(child), on_reaped, &seen, &r), 0);
        assert_int_equal(kill(child, SIGKILL), 0);
        /* Dead, its pidfd readable, but held: nothing to report yet, and no spinning (a
         * look every 20 ms is about 20 turns of the loop in 200 ms; a level-triggered
         * pidfd left watched would be thousands). */
        assert_int_equal(sd_event_get_iteration(e, &iterations), 0);
        run_for(e, &seen, 200 * 1000);
        assert_int_equal(seen.calls, 0);
        assert_int_equal(sd_event_get_iteration(e, &after), 0);
        assert_in_range(after - iterations, 1, 200);
        {
                /* The state that lost children before: readable, and nothing to reap. */
                struct pollfd p = { .fd = reaper_pidfd(r), .events = POLLIN };
                siginfo_t si;

                assert_int_equal(poll(&p, 1, 0), 1);
                memset(&si, 0, sizeof si);
                assert_int_equal(waitid((idtype_t) P_PIDFD, (id_t) p.fd, &si,
                                        WEXITED | WNOHANG | WNOWAIT), 0);
                assert_int_equal(si.si_pid, 0);
        }

        close(release[1]);
        assert_int_equal(waitpid(tracer, NULL, 0), tracer);
        run_for(e, &seen, 5 * 1000 * 1000);
        assert_int_equal(seen.calls, 1);
        assert_int_equal(seen.si.si_pid, child);
        assert_int_equal(seen.si.si_code, CLD_KILLED);
        assert_reaped(child);
        close(ready[0]);
        sd_event_source_disable_unref(deadline);
        sd_event_unref(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exit_status),
                cmocka_unit_test(test_killed),
                cmocka_unit_test(test_ended_while_traced),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
