/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * forwarders/common/forwarder.h: what every supervised forwarder shares. The hello that
 * starts a forwarder's conversation with the manager, to a manager that is there and to
 * one that stopped while the forwarder was starting (its socket's end is the forwarder's
 * end then too, and no failure).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "forwarder.h"
#include "ipc.h"
#include "macro.h"

/* A forwarder's runtime on a loop of its own, on one end of a socketpair (the manager's
 * end in @ret_manager_fd). */
static FwdRuntime *runtime_new(sd_event **ret_e, int *ret_manager_fd) {
        static const FwdCallbacks no_callbacks = {};
        FwdRuntime *rt = NULL;
        int fds[2];

        assert_int_equal(sd_event_new(ret_e), 0);
        assert_int_equal(ipc_socketpair(fds), 0);
        assert_int_equal(fwd_runtime_new(*ret_e, fds[0],
                                         PATCHPANEL__IPC__CHILD_KIND__CHILD_KIND_TEST,
                                         &no_callbacks, &rt), 0);
        *ret_manager_fd = fds[1];
        return rt;
}

static void test_hello_reaches_the_manager(void **state) {
        ForwarderReport *report = NULL;
        sd_event *e = NULL;
        int manager_fd;
        FwdRuntime *rt = runtime_new(&e, &manager_fd);

        (void) state;
        assert_int_equal(fwd_runtime_hello(rt), 0);
        assert_int_equal(ipc_recv(manager_fd, &patchpanel__ipc__forwarder_report__descriptor,
                                  (ProtobufCMessage **) &report, NULL, 0, NULL), 1);
        assert_int_equal(report->msg_case, PATCHPANEL__IPC__FORWARDER_REPORT__MSG_HELLO);
        assert_int_equal(report->hello->kind, PATCHPANEL__IPC__CHILD_KIND__CHILD_KIND_TEST);
        protobuf_c_message_free_unpacked(&report->base, NULL);
        /* The manager's end closing ends the loop, with success. */
        close(manager_fd);
        assert_int_equal(sd_event_loop(e), 0);
        fwd_runtime_free(rt);
        sd_event_unref(e);
}

static void test_hello_to_a_manager_gone_ends_the_loop(void **state) {
        sd_event *e = NULL;
        int manager_fd;
        FwdRuntime *rt = runtime_new(&e, &manager_fd);

        (void) state;
        close(manager_fd);
        assert_int_equal(fwd_runtime_hello(rt), 0);
        assert_int_equal(sd_event_loop(e), 0);
        fwd_runtime_free(rt);
        sd_event_unref(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hello_reaches_the_manager),
                cmocka_unit_test(test_hello_to_a_manager_gone_ends_the_loop),
        };

        /* A send to a closed socket must come back as an error, not end the test. */
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
