/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The channel (common/channel.c) with both ends in one event loop: the manager's asking end
 * and a forwarder's or helper's answering end over a socketpair, or an end and a raw socket
 * the test writes bytes to.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "channel.h"
#include "ipc.h"
#include "ipc.pb-c.h"
#include "time-util.h"

typedef Patchpanel__Ipc__HelperRequest Req;
typedef Patchpanel__Ipc__HelperResponse Resp;

typedef struct Fixture {
        sd_event *e;
        Channel *asker, *answerer;
        int raw;              /* the other end when only one channel is made */
        uint64_t answered[64];
        size_t n_answered;
        int32_t statuses[64];
        unsigned events_at_asker, requests_at_answerer;
        unsigned asker_dead, answerer_dead;
        const char *why;
        bool free_in_callback;
        int got_fd;
} Fixture;

static void on_reply(const ProtobufCMessage *answer, int *fds, size_t n_fds, void *userdata) {
        Fixture *f = userdata;

        f->answered[f->n_answered] = channel_message_id(answer);
        f->statuses[f->n_answered++] = channel_message_status(answer);
        if (n_fds > 0) {
                f->got_fd = fds[0];
                fds[0] = -EBADF; /* taken */
        }
        if (f->free_in_callback)
                f->asker = channel_free(f->asker);
}

static void asker_message(Channel *c, const ProtobufCMessage *msg, int *fds, size_t n_fds,
                          void *userdata) {
        Fixture *f = userdata;

        (void) c;
        (void) fds;
        (void) n_fds;
        assert_int_equal(channel_message_id(msg), 0);
        f->events_at_asker++;
}

/* The answering end: answers every request with status -id (so order shows), and an event
 * first for every third. */
static void answerer_message(Channel *c, const ProtobufCMessage *msg, int *fds, size_t n_fds,
                             void *userdata) {
        Fixture *f = userdata;
        Resp resp = PATCHPANEL__IPC__HELPER_RESPONSE__INIT;
        Resp ev = PATCHPANEL__IPC__HELPER_RESPONSE__INIT;
        Patchpanel__Ipc__ForeignDrops drops = PATCHPANEL__IPC__FOREIGN_DROPS__INIT;
        uint64_t id = channel_message_id(msg);

        for (size_t i = 0; i < n_fds; i++)
                close(fds[i]), fds[i] = -EBADF;
        f->requests_at_answerer++;
        /* Sends may fail once the asker is gone (test_close_is_silent); they are seen
         * through what the asker receives. */
        if (id % 3 == 0) {
                ev.result_case = PATCHPANEL__IPC__HELPER_RESPONSE__RESULT_FOREIGN_DROPS;
                ev.foreign_drops = &drops;
                (void) channel_send(c, &ev.base, NULL, 0);
        }
        resp.id = id;
        resp.status = -(int32_t) id;
        (void) channel_send(c, &resp.base, NULL, 0);
}

static void asker_dead(Channel *c, const char *why, void *userdata) {
        Fixture *f = userdata;

        (void) c;
        f->asker_dead++;
        f->why = why;
}

static void answerer_dead(Channel *c, const char *why, void *userdata) {
        Fixture *f = userdata;

        (void) c;
        (void) why;
        f->answerer_dead++;
}

static ChannelConfig asking(Fixture *f, bool ordered) {
        return (ChannelConfig) {
                .send = &patchpanel__ipc__helper_request__descriptor,
                .recv = &patchpanel__ipc__helper_response__descriptor,
                .asking = true,
                .ordered = ordered,
                .max_fds = 1,
                .on_message = asker_message,
                .on_dead = asker_dead,
                .userdata = f,
        };
}

static ChannelConfig answering(Fixture *f) {
        return (ChannelConfig) {
                .send = &patchpanel__ipc__helper_response__descriptor,
                .recv = &patchpanel__ipc__helper_request__descriptor,
                .max_fds = 1,
                .on_message = answerer_message,
                .on_dead = answerer_dead,
                .userdata = f,
        };
}

static Fixture *fixture(bool two_ends, bool ordered) {
        Fixture *f = calloc(1, sizeof *f);
        ChannelConfig a, b;
        int fds[2];

        assert_non_null(f);
        f->raw = f->got_fd = -EBADF;
        assert_int_equal(sd_event_new(&f->e), 0);
        assert_int_equal(ipc_socketpair(fds), 0);
        a = asking(f, ordered);
        assert_int_equal(channel_new(f->e, fds[0], &a, &f->asker), 0);
        if (two_ends) {
                b = answering(f);
                assert_int_equal(channel_new(f->e, fds[1], &b, &f->answerer), 0);
        } else
                f->raw = fds[1];
        return f;
}

static int setup_pair(void **state) {
        *state = fixture(true, true);
        return 0;
}

static int setup_unordered_raw(void **state) {
        *state = fixture(false, false);
        return 0;
}

static int setup_raw(void **state) {
        *state = fixture(false, true);
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;

        channel_free(f->asker);
        channel_free(f->answerer);
        if (f->raw >= 0)
                close(f->raw);
        if (f->got_fd >= 0)
                close(f->got_fd);
        sd_event_unref(f->e);
        free(f);
        return 0;
}

static void spin(Fixture *f, unsigned ms) {
        for (uint64_t end = now_usec() + ms * 1000u; now_usec() < end;)
                assert_true(sd_event_run(f->e, 2000) >= 0);
}

static int call(Fixture *f) {
        Req req = PATCHPANEL__IPC__HELPER_REQUEST__INIT;
        Patchpanel__Ipc__DatapathStop op = PATCHPANEL__IPC__DATAPATH_STOP__INIT;

        req.op_case = PATCHPANEL__IPC__HELPER_REQUEST__OP_DATAPATH_STOP;
        req.datapath_stop = &op;
        return channel_call(f->asker, &req.base, NULL, 0, on_reply, f);
}

static void test_requests_answers_events(void **state) {
        Fixture *f = *state;

        for (int i = 0; i < 10; i++)
                assert_int_equal(call(f), 0);
        assert_int_equal(channel_n_pending(f->asker), 10);
        spin(f, 50);
        assert_int_equal(f->n_answered, 10);
        for (size_t i = 0; i < 10; i++) {
                assert_int_equal(f->answered[i], i + 1);
                assert_int_equal(f->statuses[i], -(int32_t) (i + 1));
        }
        assert_int_equal(f->events_at_asker, 3); /* ids 3, 6, 9 */
        assert_int_equal(channel_n_pending(f->asker), 0);
        assert_int_equal(f->asker_dead, 0);
}

static void test_many_queued_while_the_peer_is_slow(void **state) {
        Fixture *f = *state;

        /* Far more than a socket buffer holds: queued, sent in order, none lost. */
        for (int i = 0; i < 60; i++)
                assert_int_equal(call(f), 0);
        spin(f, 200);
        assert_int_equal(f->n_answered, 60);
        for (size_t i = 0; i < 60; i++)
                assert_int_equal(f->answered[i], i + 1);
}

static void send_raw_answer(Fixture *f, uint64_t id, const int *fds, size_t n_fds) {
        Resp resp = PATCHPANEL__IPC__HELPER_RESPONSE__INIT;

        resp.id = id;
        assert_int_equal(ipc_send(f->raw, &resp.base, fds, n_fds), 0);
}

static void test_out_of_order_answer_is_fatal(void **state) {
        Fixture *f = *state;

        assert_int_equal(call(f), 0);
        assert_int_equal(call(f), 0);
        spin(f, 10);
        send_raw_answer(f, 2, NULL, 0);
        spin(f, 20);
        assert_int_equal(f->asker_dead, 1);
        assert_non_null(strstr(f->why, "matches no request"));
        assert_int_equal(f->n_answered, 0);
        assert_false(channel_is_open(f->asker));
        assert_int_equal(channel_n_pending(f->asker), 0);
        assert_int_equal(call(f), -ENOTCONN);
}

static void send_raw_answer(Fixture *f, uint64_t id, const int *fds, size_t n_fds);

static void test_unordered_answers_match_by_id(void **state) {
        Fixture *f = *state;

        for (int i = 0; i < 3; i++)
                assert_int_equal(call(f), 0);
        spin(f, 10);
        send_raw_answer(f, 3, NULL, 0);
        send_raw_answer(f, 1, NULL, 0);
        send_raw_answer(f, 2, NULL, 0);
        spin(f, 20);
        assert_int_equal(f->n_answered, 3);
        assert_int_equal(f->answered[0], 3);
        assert_int_equal(f->answered[1], 1);
        assert_int_equal(f->answered[2], 2);
        assert_int_equal(f->asker_dead, 0);
        /* An id answered already is answered no more. */
        send_raw_answer(f, 1, NULL, 0);
        spin(f, 20);
        assert_int_equal(f->asker_dead, 1);
}

static void test_unknown_id_is_fatal(void **state) {
        Fixture *f = *state;

        assert_int_equal(call(f), 0);
        spin(f, 10);
        send_raw_answer(f, 77, NULL, 0);
        spin(f, 20);
        assert_int_equal(f->asker_dead, 1);
}

static void test_answer_carries_an_fd(void **state) {
        Fixture *f = *state;
        int p[2];

        assert_int_equal(pipe(p), 0);
        assert_int_equal(call(f), 0);
        spin(f, 10);
        send_raw_answer(f, 1, &p[0], 1);
        spin(f, 20);
        assert_int_equal(f->n_answered, 1);
        assert_true(f->got_fd >= 0);
        assert_true(fcntl(f->got_fd, F_GETFD) & FD_CLOEXEC);
        close(p[0]);
        close(p[1]);
}

static void test_too_many_fds_is_fatal(void **state) {
        Fixture *f = *state;
        int p[2], fds[2];

        assert_int_equal(pipe(p), 0);
        fds[0] = p[0];
        fds[1] = p[1];
        assert_int_equal(call(f), 0);
        spin(f, 10);
        send_raw_answer(f, 1, fds, 2);
        spin(f, 20);
        assert_int_equal(f->asker_dead, 1);
        assert_non_null(strstr(f->why, "fds"));
        close(p[0]);
        close(p[1]);
}

static void test_garbage_is_fatal(void **state) {
        Fixture *f = *state;
        static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };

        assert_int_equal(send(f->raw, junk, sizeof junk, 0), (ssize_t) sizeof junk);
        spin(f, 20);
        assert_int_equal(f->asker_dead, 1);
        assert_non_null(strstr(f->why, "bad message"));
}

static void test_peer_close_is_reported_once_from_the_loop(void **state) {
        Fixture *f = *state;

        assert_int_equal(call(f), 0);
        close(f->raw);
        f->raw = -EBADF;
        /* Not from inside the call that notices: only once the loop runs. */
        assert_int_equal(f->asker_dead, 0);
        spin(f, 20);
        assert_int_equal(f->asker_dead, 1);
        assert_non_null(strstr(f->why, "closed"));
        spin(f, 20);
        assert_int_equal(f->asker_dead, 1);
}

static void test_freed_from_its_own_callback(void **state) {
        Fixture *f = *state;

        f->free_in_callback = true;
        assert_int_equal(call(f), 0);
        assert_int_equal(call(f), 0);
        spin(f, 50);
        /* The first answer freed it: the second callback never ran, nothing crashed. */
        assert_int_equal(f->n_answered, 1);
        assert_null(f->asker);
}

static void test_close_is_silent(void **state) {
        Fixture *f = *state;

        assert_int_equal(call(f), 0);
        channel_close(f->asker);
        spin(f, 20);
        assert_int_equal(f->asker_dead, 0);
        assert_int_equal(f->n_answered, 0);
        spin(f, 20);
        /* The peer saw the end. */
        assert_int_equal(f->answerer_dead, 1);
}

static void test_empty_message_is_refused(void **state) {
        Fixture *f = *state;
        Resp empty = PATCHPANEL__IPC__HELPER_RESPONSE__INIT;

        /* It would pack to nothing, which reads as a close: refused, the channel stays. */
        assert_int_equal(channel_send(f->answerer, &empty.base, NULL, 0), -EINVAL);
        assert_true(channel_is_open(f->answerer));
}

static void test_wrong_envelope_is_refused(void **state) {
        Fixture *f = *state;
        Resp resp = PATCHPANEL__IPC__HELPER_RESPONSE__INIT;
        int p[2];

        assert_int_equal(pipe(p), 0);
        /* The asking end sends requests, not responses; fds given are closed anyway. */
        assert_int_equal(channel_send(f->asker, &resp.base, &p[0], 1), -EINVAL);
        assert_int_equal(fcntl(p[0], F_GETFD), -1);
        close(p[1]);
}

static void test_envelopes_need_an_id(void **state) {
        sd_event *e;
        Channel *c = NULL;
        int fds[2];
        ChannelConfig config = {
                .send = &patchpanel__ipc__foreign_chain__descriptor, /* no id */
                .recv = &patchpanel__ipc__helper_response__descriptor,
        };

        (void) state;
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(ipc_socketpair(fds), 0);
        assert_int_equal(channel_new(e, fds[0], &config, &c), -EINVAL);
        /* An asking end must receive a status with answers. */
        config.send = &patchpanel__ipc__helper_request__descriptor;
        config.recv = &patchpanel__ipc__forwarder_control__descriptor;
        config.asking = true;
        assert_int_equal(channel_new(e, fds[0], &config, &c), -EINVAL);
        assert_null(c);
        close(fds[0]);
        close(fds[1]);
        sd_event_unref(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_requests_answers_events, setup_pair, teardown),
                cmocka_unit_test_setup_teardown(test_many_queued_while_the_peer_is_slow, setup_pair,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_out_of_order_answer_is_fatal, setup_raw, teardown),
                cmocka_unit_test_setup_teardown(test_unordered_answers_match_by_id,
                                                setup_unordered_raw, teardown),
                cmocka_unit_test_setup_teardown(test_unknown_id_is_fatal, setup_raw, teardown),
                cmocka_unit_test_setup_teardown(test_answer_carries_an_fd, setup_raw, teardown),
                cmocka_unit_test_setup_teardown(test_too_many_fds_is_fatal, setup_raw, teardown),
                cmocka_unit_test_setup_teardown(test_garbage_is_fatal, setup_raw, teardown),
                cmocka_unit_test_setup_teardown(test_peer_close_is_reported_once_from_the_loop,
                                                setup_raw, teardown),
                cmocka_unit_test_setup_teardown(test_freed_from_its_own_callback, setup_pair,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_close_is_silent, setup_pair, teardown),
                cmocka_unit_test_setup_teardown(test_wrong_envelope_is_refused, setup_pair, teardown),
                cmocka_unit_test_setup_teardown(test_empty_message_is_refused, setup_pair, teardown),
                cmocka_unit_test(test_envelopes_need_an_id),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
