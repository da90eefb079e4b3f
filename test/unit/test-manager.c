/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The manager's logic through manager_new(), with a fake helper, a fake launcher and a fake
 * forwarder played by the test on the other ends of their sockets: the guests' state
 * machines, the helper channel's order and events, and the forwarder supervisor's restart
 * and replay. No D-Bus: calls are made with no message to answer (the reply functions then
 * answer nothing), and nothing touches the kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <net/if_arp.h>
#include <linux/filter.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "arc.h"
#include "bus-pid.h"
#include "connected-ns.h"
#include "ifname.h"
#include "json.h"
#include "link-monitor.h"
#include "ipc.h"
#include "log.h"
#include "manager.h"
#include "neighbors.h"
#include "status.h"
#include "time-util.h"
#include "vm.h"

typedef Patchpanel__Ipc__LauncherRequest LauncherRequest;
typedef Patchpanel__Ipc__LauncherResponse LauncherResponse;
typedef Patchpanel__Ipc__ForwarderControl ForwarderControl;

/* What the manager logged while a test listened (log_set_sink()). */
typedef struct LogCapture {
        int levels[64];
        char lines[64][256];
        size_t n;
} LogCapture;

typedef struct Fixture {
        sd_event *e;
        Manager *m;
        int helper;     /* the fake helper's end */
        int launcher;   /* the fake launcher's end */
        int forwarder;  /* the fake pp-testchild's control socket */
        unsigned spawns;
        pid_t procs[16]; /* a process per spawn, for the pidfd the launcher hands back */
        LogCapture log;
        LinkMonitor *links; /* fake_links(): the registry's, fed by the test */
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof *f);
        ManagerConfig config = {
                .forwarders = {
                        .test_child = true,
                        .backoff = { .first_usec = 0, .base_usec = 5000, .max_usec = 20000,
                                     .healthy_usec = 1000000, .max_failures = 4 },
                },
        };

        assert_non_null(f);
        f->helper = f->launcher = f->forwarder = -EBADF;
        assert_int_equal(pool_layout_init(&config.pools, POOL_DEFAULT_BASE), 0);
        assert_int_equal(sd_event_new(&f->e), 0);
        assert_int_equal(manager_new(f->e, &config, &f->m), 0);
        assert_int_equal(helper_link_start_fake(f->m->helper, &f->helper), 0);
        assert_int_equal(launcher_link_start_fake(f->m->launcher, &f->launcher), 0);
        assert_true(f->helper >= 0 && f->launcher >= 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;

        log_set_sink(NULL, NULL);
        manager_free(f->m);
        for (unsigned i = 0; i < f->spawns && i < ELEMENTSOF(f->procs); i++) {
                (void) kill(f->procs[i], SIGKILL);
                (void) waitpid(f->procs[i], NULL, 0);
        }
        sd_event_unref(f->e);
        for (int *fd = &f->helper; fd <= &f->forwarder; fd++)
                if (*fd >= 0)
                        close(*fd);
        free(f);
        return 0;
}

/* Run the loop until @fd has a datagram (or the loop is exiting). */
static void spin_until_readable(Fixture *f, int fd) {
        uint64_t end = now_usec() + 2000000;

        for (;;) {
                char c;
                ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
                if (n >= 0)
                        return;
                assert_true(now_usec() < end);
                assert_true(sd_event_run(f->e, 5000) >= 0);
        }
}

/* Run the loop for @ms, or until it has finished (the manager asked to exit). */
static void spin(Fixture *f, unsigned ms) {
        for (uint64_t end = now_usec() + ms * 1000u; now_usec() < end;) {
                if (sd_event_get_state(f->e) == SD_EVENT_FINISHED)
                        return;
                assert_true(sd_event_run(f->e, 2000) >= 0);
        }
}

/* The next request to the fake helper, of the kind expected; its fds into @fds. */
static HelperRequest *helper_expect(Fixture *f, int op_case, int *fds, size_t n_fds) {
        HelperRequest *req = NULL;
        int got[IPC_FDS_MAX];
        size_t n = 0;

        spin_until_readable(f, f->helper);
        assert_int_equal(ipc_recv(f->helper, &patchpanel__ipc__helper_request__descriptor,
                                  (ProtobufCMessage **) &req, got, IPC_FDS_MAX, &n), 1);
        assert_int_equal(req->op_case, op_case);
        assert_int_equal(n, n_fds);
        for (size_t i = 0; i < n; i++) {
                if (fds)
                        fds[i] = got[i];
                else
                        close(got[i]);
        }
        return req;
}

static void helper_answer(Fixture *f, HelperRequest *req, int status, HelperResponse *resp) {
        HelperResponse plain = HELPER_RESPONSE_INIT;

        if (!resp)
                resp = &plain;
        resp->id = req->id;
        resp->status = status;
        if (status < 0)
                resp->message = (char *) "the fake helper says no";
        assert_int_equal(ipc_send(f->helper, &resp->base, NULL, 0), 0);
        helper_request_free(req);
}

static void datapath_up(Fixture *f) {
        assert_int_equal(manager_start(f->m), 0);
        helper_answer(f, helper_expect(f, OP(DATAPATH_START), NULL, 0), 0, NULL);
}

/* Answer the launcher's next Spawn: keep the child's control socket (the test plays the
 * forwarder on it), and hand back a pidfd of a process that only waits, as the launcher
 * would of the forwarder it started: the manager kills it when the forwarder's socket
 * closes. */
static void launcher_spawn(Fixture *f) {
        LauncherRequest *req = NULL;
        LauncherResponse resp = PATCHPANEL__IPC__LAUNCHER_RESPONSE__INIT;
        Patchpanel__Ipc__SpawnResult result = PATCHPANEL__IPC__SPAWN_RESULT__INIT;
        int fd = -EBADF, pidfd;
        size_t n = 0;

        spin_until_readable(f, f->launcher);
        assert_int_equal(ipc_recv(f->launcher, &patchpanel__ipc__launcher_request__descriptor,
                                  (ProtobufCMessage **) &req, &fd, 1, &n), 1);
        assert_int_equal(req->op_case, PATCHPANEL__IPC__LAUNCHER_REQUEST__OP_SPAWN);
        assert_int_equal(req->spawn->kind, PATCHPANEL__IPC__CHILD_KIND__CHILD_KIND_TEST);
        assert_int_equal(n, 1);
        if (f->forwarder >= 0)
                close(f->forwarder);
        f->forwarder = fd;
        assert_true(f->spawns < ELEMENTSOF(f->procs));
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* Holding none of the test's sockets, or they would never close. */
                (void) syscall(SYS_close_range, 3, ~0U, 0);
                pause();
                _exit(0);
        }
        f->procs[f->spawns++] = pid;
        pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        assert_true(pidfd >= 0);
        resp.id = req->id;
        result.pid = pid;
        resp.result_case = PATCHPANEL__IPC__LAUNCHER_RESPONSE__RESULT_SPAWN;
        resp.spawn = &result;
        assert_int_equal(ipc_send(f->launcher, &resp.base, &pidfd, 1), 0);
        close(pidfd);
        patchpanel__ipc__launcher_request__free_unpacked(req, NULL);
}

static void forwarder_hello(Fixture *f) {
        Patchpanel__Ipc__ForwarderHello h = PATCHPANEL__IPC__FORWARDER_HELLO__INIT;
        Patchpanel__Ipc__ForwarderReport ev = PATCHPANEL__IPC__FORWARDER_REPORT__INIT;

        h.kind = PATCHPANEL__IPC__CHILD_KIND__CHILD_KIND_TEST;
        ev.msg_case = PATCHPANEL__IPC__FORWARDER_REPORT__MSG_HELLO;
        ev.hello = &h;
        assert_int_equal(ipc_send(f->forwarder, &ev.base, NULL, 0), 0);
}

/* The next thing the fake forwarder is told about a connected namespace's link must be
 * an addition (@sign +1) or a removal (-1) of the pair @guest behind @uplink. */
static void forwarder_expect(Fixture *f, int sign, const char *guest, const char *uplink) {
        ForwarderControl *msg = NULL;
        const Patchpanel__Ipc__ForwarderLink *l;

        spin_until_readable(f, f->forwarder);
        assert_int_equal(ipc_recv(f->forwarder, &patchpanel__ipc__forwarder_control__descriptor,
                                  (ProtobufCMessage **) &msg, NULL, 0, NULL), 1);
        assert_int_equal(msg->msg_case, sign > 0 ? PATCHPANEL__IPC__FORWARDER_CONTROL__MSG_LINK_ADD
                                                 : PATCHPANEL__IPC__FORWARDER_CONTROL__MSG_LINK_REMOVE);
        l = sign > 0 ? msg->link_add : msg->link_remove;
        assert_string_equal(l->guest, guest);
        assert_string_equal(l->uplink, uplink);
        assert_int_equal(l->guest_kind, PATCHPANEL__IPC__GUEST_KIND__GUEST_KIND_NETNS);
        patchpanel__ipc__forwarder_control__free_unpacked(msg, NULL);
}

/* Nothing is waiting on @fd (a fake peer's end) after a turn or two of the loop. */
static void expect_silence(Fixture *f, int fd) {
        char c;

        spin(f, 10);
        assert_int_equal(recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT), -1);
}

static void log_capture(int level, const char *message, void *userdata) {
        LogCapture *c = userdata;

        if (c->n >= ELEMENTSOF(c->lines))
                return;
        c->levels[c->n] = level;
        snprintf(c->lines[c->n], sizeof c->lines[c->n], "%s", message);
        c->n++;
}

/* How many lines at @level were logged that contain @a and @b. */
static unsigned logged(const LogCapture *c, int level, const char *a, const char *b) {
        unsigned n = 0;

        for (size_t i = 0; i < c->n; i++)
                n += c->levels[i] == level && strstr(c->lines[i], a) && strstr(c->lines[i], b);
        return n;
}

static bool pool_in_use(Fixture *f, PoolKind k) {
        return pool_n_allocated(f->m->pools[k]) > 0;
}

/* ---- VMs ------------------------------------------------------------------------------- */

static void test_termina_lifecycle(void **state) {
        Fixture *f = *state;
        HelperResponse resp = HELPER_RESPONSE_INIT;
        IpcTapResult tap = PATCHPANEL__IPC__TAP_RESULT__INIT;
        HelperRequest *req;
        GuestLink *l;

        datapath_up(f);
        assert_int_equal(vm_guest_start(f->m, PATCHPANEL__IPC__VM_KIND__VM_KIND_TERMINA, 7, 0, 0, NULL), 0);
        /* A second start of the same VM while the first is under way. */
        assert_int_equal(vm_guest_start(f->m, PATCHPANEL__IPC__VM_KIND__VM_KIND_TERMINA, 7, 0, 0, NULL),
                         -EEXIST);
        req = helper_expect(f, OP(VM_TAP_ADD), NULL, 0);
        assert_int_equal(req->vm_tap_add->kind, PATCHPANEL__IPC__VM_KIND__VM_KIND_TERMINA);
        assert_int_equal(req->vm_tap_add->subnet_prefix_len, 30);
        assert_int_equal(req->vm_tap_add->lxd_subnet_prefix_len, 28);
        assert_int_equal(vm_guest_stop(f->m, PATCHPANEL__IPC__VM_KIND__VM_KIND_TERMINA, 7, 0, NULL),
                         -EBUSY);
        tap.ifname = (char *) "vmtap3";
        tap.ifindex = 42;
        resp.result_case = RESULT(TAP);
        resp.tap = &tap;
        helper_answer(f, req, 0, &resp);
        spin(f, 10);

        l = registry_guests(f->m->registry);
        assert_non_null(l);
        assert_string_equal(l->ifname, "vmtap3");
        assert_int_equal(l->ifindex, 42);
        assert_int_equal(l->kind, GUEST_TERMINA);
        assert_true(l->device);
        assert_true(pool_in_use(f, POOL_TERMINA) && pool_in_use(f, POOL_LXD));

        assert_int_equal(vm_guest_stop(f->m, PATCHPANEL__IPC__VM_KIND__VM_KIND_TERMINA, 8, 0, NULL),
                         -ENOENT);
        assert_int_equal(vm_guest_stop(f->m, PATCHPANEL__IPC__VM_KIND__VM_KIND_TERMINA, 7, 0, NULL), 0);
        req = helper_expect(f, OP(VM_TAP_REMOVE), NULL, 0);
        assert_string_equal(req->vm_tap_remove->ifname, "vmtap3");
        helper_answer(f, req, 0, NULL);
        spin(f, 10);
        assert_null(registry_guests(f->m->registry));
        assert_null(f->m->vms);
        assert_false(pool_in_use(f, POOL_TERMINA) || pool_in_use(f, POOL_LXD));
}

static void test_only_the_owner_or_root_stops_a_guest(void **state) {
        Fixture *f = *state;
        HelperResponse resp = HELPER_RESPONSE_INIT;
        IpcTapResult tap = PATCHPANEL__IPC__TAP_RESULT__INIT;
        IpcArcAddResult result = PATCHPANEL__IPC__ARC_ADD_RESULT__INIT;
        char *taps[ARC_VM_N_TAPS] = { "vmtap1", "vmtap2", "vmtap3", "vmtap4", "vmtap5", "vmtap6" };

        datapath_up(f);
        assert_int_equal(vm_guest_start(f->m, PATCHPANEL__IPC__VM_KIND__VM_KIND_TERMINA, 7, 0, 1001,
                                        NULL), 0);
        tap.ifname = (char *) "vmtap0";
        resp.result_case = RESULT(TAP);
        resp.tap = &tap;
        helper_answer(f, helper_expect(f, OP(VM_TAP_ADD), NULL, 0), 0, &resp);
        spin(f, 10);
        assert_int_equal(registry_guests(f->m->registry)->owner, 1001);
        /* Another user may not; its owner and root may. */
        assert_int_equal(vm_guest_stop(f->m, PATCHPANEL__IPC__VM_KIND__VM_KIND_TERMINA, 7, 1002,
                                       NULL), -EPERM);
        assert_non_null(f->m->vms);
        assert_int_equal(vm_guest_stop(f->m, PATCHPANEL__IPC__VM_KIND__VM_KIND_TERMINA, 7, 1001,
                                       NULL), 0);
        helper_answer(f, helper_expect(f, OP(VM_TAP_REMOVE), NULL, 0), 0, NULL);
        spin(f, 10);
        assert_null(f->m->vms);

        assert_int_equal(arc_start(f->m, ARC_KIND_VM, 0, -EBADF, 33, 1002, NULL), 0);
        result.taps = taps;
        result.n_taps = ARC_VM_N_TAPS;
        resp.result_case = RESULT(ARC_ADD);
        resp.arc_add = &result;
        helper_answer(f, helper_expect(f, OP(ARC_ADD), NULL, 0), 0, &resp);
        spin(f, 10);
        assert_int_equal(arc_stop(f->m, ARC_KIND_VM, 0, 33, 1001, NULL), -EPERM);
        assert_int_equal(f->m->arc->state, ARC_RUNNING);
        assert_int_equal(arc_stop(f->m, ARC_KIND_VM, 0, 33, 0, NULL), 0);
        helper_answer(f, helper_expect(f, OP(ARC_REMOVE), NULL, 0), 0, NULL);
        spin(f, 10);
        assert_null(f->m->arc);
}

static void test_vm_start_failure_gives_everything_back(void **state) {
        Fixture *f = *state;

        datapath_up(f);
        assert_int_equal(vm_guest_start(f->m, PATCHPANEL__IPC__VM_KIND__VM_KIND_PLUGINVM, 1, 3, 0, NULL), 0);
        helper_answer(f, helper_expect(f, OP(VM_TAP_ADD), NULL, 0), -EEXIST, NULL);
        spin(f, 10);
        assert_null(f->m->vms);
        assert_null(registry_guests(f->m->registry));
        assert_false(pool_in_use(f, POOL_PLUGINVM));
        /* The subnet asked for is free again. */
        assert_int_equal(vm_guest_start(f->m, PATCHPANEL__IPC__VM_KIND__VM_KIND_PLUGINVM, 1, 3, 0, NULL), 0);
        helper_answer(f, helper_expect(f, OP(VM_TAP_ADD), NULL, 0), -EIO, NULL);
        spin(f, 10);
}

static void test_vm_teardown_failure_quarantines(void **state) {
        Fixture *f = *state;
        HelperResponse resp = HELPER_RESPONSE_INIT;
        IpcTapResult tap = PATCHPANEL__IPC__TAP_RESULT__INIT;

        datapath_up(f);
        assert_int_equal(vm_guest_start(f->m, PATCHPANEL__IPC__VM_KIND__VM_KIND_PLUGINVM, 5, 2, 0, NULL), 0);
        tap.ifname = (char *) "vmtap0";
        resp.result_case = RESULT(TAP);
        resp.tap = &tap;
        helper_answer(f, helper_expect(f, OP(VM_TAP_ADD), NULL, 0), 0, &resp);
        spin(f, 10);
        assert_int_equal(vm_guest_stop(f->m, PATCHPANEL__IPC__VM_KIND__VM_KIND_PLUGINVM, 5, 0, NULL), 0);
        helper_answer(f, helper_expect(f, OP(VM_TAP_REMOVE), NULL, 0), -EBUSY, NULL);
        spin(f, 10);
        /* Gone from the manager's view, but its subnet stays out of use. */
        assert_null(f->m->vms);
        assert_null(registry_guests(f->m->registry));
        assert_int_equal(vm_guest_start(f->m, PATCHPANEL__IPC__VM_KIND__VM_KIND_PLUGINVM, 6, 2, 0, NULL),
                         -EBUSY);
}

/* ---- ARC ------------------------------------------------------------------------------- */

static void test_arcvm_lifecycle(void **state) {
        Fixture *f = *state;
        HelperResponse resp = HELPER_RESPONSE_INIT;
        IpcArcAddResult result = PATCHPANEL__IPC__ARC_ADD_RESULT__INIT;
        char *taps[ARC_VM_N_TAPS] = { "vmtap0", "vmtap1", "vmtap2", "vmtap3", "vmtap4", "vmtap5" };
        HelperRequest *req;
        GuestLink *l;

        datapath_up(f);
        assert_int_equal(arc_start(f->m, ARC_KIND_VM, 0, -EBADF, 33, 0, NULL), 0);
        assert_int_equal(arc_start(f->m, ARC_KIND_VM, 0, -EBADF, 34, 0, NULL), -EEXIST);
        req = helper_expect(f, OP(ARC_ADD), NULL, 0);
        assert_true(req->arc_add->vm);
        assert_int_equal(arc_stop(f->m, ARC_KIND_VM, 0, 33, 0, NULL), -EBUSY);
        result.taps = taps;
        result.n_taps = ARC_VM_N_TAPS;
        resp.result_case = RESULT(ARC_ADD);
        resp.arc_add = &result;
        helper_answer(f, req, 0, &resp);
        spin(f, 10);
        assert_int_equal(f->m->arc->state, ARC_RUNNING);
        assert_string_equal(f->m->arc->taps[5], "vmtap5");
        /* Its own link is in the registry, not as a device. */
        l = registry_guests(f->m->registry);
        assert_non_null(l);
        assert_string_equal(l->ifname, "arcbr0");
        assert_true(l->management);
        assert_false(l->device);
        assert_int_equal(l->kind, GUEST_ARCVM);

        assert_int_equal(arc_stop(f->m, ARC_KIND_VM, 0, 34, 0, NULL), -ENOENT);
        assert_int_equal(arc_stop(f->m, ARC_KIND_CONTAINER, 1234, 0, 0, NULL), -ENOENT);
        assert_int_equal(arc_stop(f->m, ARC_KIND_VM, 0, 33, 0, NULL), 0);
        req = helper_expect(f, OP(ARC_REMOVE), NULL, 0);
        assert_int_equal(req->arc_remove->n_taps, ARC_VM_N_TAPS);
        helper_answer(f, req, 0, NULL);
        spin(f, 10);
        assert_null(f->m->arc);
        assert_null(registry_guests(f->m->registry));
        assert_false(pool_in_use(f, POOL_ARC));
}

static void test_arc_start_without_taps_fails(void **state) {
        Fixture *f = *state;

        datapath_up(f);
        assert_int_equal(arc_start(f->m, ARC_KIND_VM, 0, -EBADF, 33, 0, NULL), 0);
        /* Success, but not the six TAPs a VM needs: a failed start. */
        helper_answer(f, helper_expect(f, OP(ARC_ADD), NULL, 0), 0, NULL);
        spin(f, 10);
        assert_null(f->m->arc);
        assert_false(pool_in_use(f, POOL_ARC));
}

/* ---- the helper channel ------------------------------------------------------------------ */

static void test_answer_out_of_order_ends_the_manager(void **state) {
        Fixture *f = *state;
        HelperRequest *first, *second;
        int code = 0;

        datapath_up(f);
        assert_int_equal(vm_guest_start(f->m, PATCHPANEL__IPC__VM_KIND__VM_KIND_PLUGINVM, 1, 0, 0, NULL), 0);
        assert_int_equal(vm_guest_start(f->m, PATCHPANEL__IPC__VM_KIND__VM_KIND_PLUGINVM, 2, 0, 0, NULL), 0);
        first = helper_expect(f, OP(VM_TAP_ADD), NULL, 0);
        second = helper_expect(f, OP(VM_TAP_ADD), NULL, 0);
        helper_answer(f, second, 0, NULL);
        spin(f, 20);
        assert_int_equal(sd_event_get_state(f->e), SD_EVENT_FINISHED);
        assert_int_equal(sd_event_get_exit_code(f->e, &code), 0);
        assert_int_equal(code, EXIT_FAILURE);
        helper_request_free(first);
}

static void test_helper_events(void **state) {
        Fixture *f = *state;
        HelperResponse ev = HELPER_RESPONSE_INIT;
        IpcForeignDrops drops = PATCHPANEL__IPC__FOREIGN_DROPS__INIT;
        IpcForeignChain chain = PATCHPANEL__IPC__FOREIGN_CHAIN__INIT, *chains[] = { &chain };

        datapath_up(f);
        chain.family = (char *) "ip";
        chain.table = (char *) "filter";
        chain.chain = (char *) "FORWARD";
        chain.hook = (char *) "forward";
        drops.chains = chains;
        drops.n_chains = 1;
        ev.result_case = RESULT(FOREIGN_DROPS);
        ev.foreign_drops = &drops;
        assert_int_equal(ipc_send(f->helper, &ev.base, NULL, 0), 0);
        spin(f, 20);
        assert_int_equal(f->m->n_foreign_drops, 1);
        assert_string_equal(f->m->foreign_drops[0].chain, "FORWARD");
        /* And an event in the middle of answers changes nothing in their order. */
        assert_int_equal(vm_guest_start(f->m, PATCHPANEL__IPC__VM_KIND__VM_KIND_PLUGINVM, 1, 0, 0, NULL), 0);
        HelperRequest *req = helper_expect(f, OP(VM_TAP_ADD), NULL, 0);
        drops.n_chains = 0;
        assert_int_equal(ipc_send(f->helper, &ev.base, NULL, 0), 0);
        helper_answer(f, req, -EIO, NULL);
        spin(f, 20);
        assert_int_equal(f->m->n_foreign_drops, 0);
        assert_int_equal(sd_event_get_state(f->e), SD_EVENT_INITIAL);
}

/* ---- connected namespaces and the forwarder supervisor --------------------------------- */

/* ConnectNamespace of this process as @p says, the helper asked for it (with the outbound
 * link @outbound) and answering yes. Return: the lifeline's read end, whose closing
 * disconnects it. */
static int ns_connected(Fixture *f, const ConnectedNsParams *p, const char *outbound) {
        HelperResponse resp = HELPER_RESPONSE_INIT;
        IpcNsConnectResult result = PATCHPANEL__IPC__NS_CONNECT_RESULT__INIT;
        int lifeline[2], fds[1];
        HelperRequest *req;

        assert_int_equal(pipe2(lifeline, O_CLOEXEC), 0);
        assert_int_equal(connected_ns_connect(f->m, p, lifeline[1],
                                              (int) syscall(SYS_pidfd_open, getpid(), 0), NULL),
                         0);
        req = helper_expect(f, OP(NS_CONNECT), fds, 1);
        close(fds[0]);
        assert_string_equal(req->ns_connect->outbound_ifname, outbound);
        result.host_ifindex = 50;
        resp.result_case = RESULT(NS_CONNECT);
        resp.ns_connect = &result;
        helper_answer(f, req, 0, &resp);
        return lifeline[0];
}

static void test_forwarder_replay_across_restarts(void **state) {
        Fixture *f = *state;
        ConnectedNsParams p = { .pid = getpid(), .source = TRAFFIC_SOURCE_SYSTEM,
                                .outbound_ifindex = 9, .outbound_ifname = "eth9" };
        int lifeline;

        datapath_up(f);
        launcher_spawn(f);
        forwarder_hello(f);
        spin(f, 10);

        lifeline = ns_connected(f, &p, "eth9");
        forwarder_expect(f, 1, "arc_ns0", "eth9");

        /* The forwarder dies: a new one is started and told everything again. */
        for (unsigned i = 0; i < 3; i++) {
                close(f->forwarder);
                f->forwarder = -EBADF;
                launcher_spawn(f);
                forwarder_hello(f);
                forwarder_expect(f, 1, "arc_ns0", "eth9");
        }
        assert_int_equal(f->spawns, 4);
        /* Each dead forwarder's process was killed (it could not have told anyone). */
        for (unsigned i = 0; i < 3; i++) {
                int status;
                assert_int_equal(waitpid(f->procs[i], &status, 0), f->procs[i]);
                assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
                f->procs[i] = getpid() + 1000000; /* reaped: nothing to do in teardown */
        }

        /* The client closes its lifeline: the teardown, and the forwarder hears of it. */
        close(lifeline);
        helper_answer(f, helper_expect(f, OP(NS_DISCONNECT), NULL, 0), 0, NULL);
        forwarder_expect(f, -1, "arc_ns0", "eth9");
        assert_null(f->m->namespaces);
        assert_false(pool_in_use(f, POOL_NETNS));
}

/* A namespace whose teardown the helper reports failed keeps its subnet out of use (its
 * links may still hold it); one that went cleanly gives it back. (A link already gone with
 * its namespace is a clean teardown: the helper answers 0 for it.) */
static void test_ns_teardown_failure_quarantines(void **state) {
        Fixture *f = *state;
        datapath_up(f);
        for (int failed = 0; failed < 2; failed++) {
                ConnectedNsParams p = { .pid = getpid(), .source = TRAFFIC_SOURCE_SYSTEM };
                int lifeline = ns_connected(f, &p, "");

                assert_true(pool_in_use(f, POOL_NETNS));
                close(lifeline);
                helper_answer(f, helper_expect(f, OP(NS_DISCONNECT), NULL, 0), failed ? -EIO : 0,
                              NULL);
                spin(f, 10);
                assert_null(f->m->namespaces);
                assert_int_equal(pool_in_use(f, POOL_NETNS), failed);
        }
}

static void collect_info(const char *kind, const ChildInfo *info, const uint8_t *status,
                         size_t status_len, void *userdata) {
        (void) kind;
        (void) status;
        (void) status_len;
        *(ChildInfo *) userdata = *info;
}

/* The forwarder dies before its hello, every time: four failures in a row (the fixture's
 * max_failures) and no more tries. */
static void forwarder_fails_until_given_up(Fixture *f) {
        for (unsigned i = 0; i < 4; i++) {
                launcher_spawn(f);
                close(f->forwarder);
                f->forwarder = -EBADF;
        }
        spin(f, 100);
}

static void test_forwarder_given_up(void **state) {
        Fixture *f = *state;
        ChildInfo info = {};
        char c;

        datapath_up(f);
        forwarder_fails_until_given_up(f);
        forwarders_foreach(f->m->forwarders, collect_info, &info);
        assert_string_equal(info.name, "pp-testchild");
        assert_int_equal(info.state, CHILD_FAILED);
        assert_int_equal(info.failures, 4);
        assert_int_equal(info.starts, 4);
        assert_int_equal(f->spawns, 4);
        /* The launcher was asked for nothing more. */
        assert_int_equal(recv(f->launcher, &c, 1, MSG_PEEK | MSG_DONTWAIT), -1);
        /* The manager itself goes on. */
        assert_int_equal(sd_event_get_state(f->e), SD_EVENT_INITIAL);
}

/* Giving up, where users see it: an error in the log and the forwarder "failed" in
 * GetStatus's document (manager_status_json() writes what GetStatus sends). */
static void test_forwarder_given_up_is_shown(void **state) {
        Fixture *f = *state;
        _cleanup_(json_freep) JsonValue *doc = NULL;
        _cleanup_free_ char *json = NULL;
        const JsonValue *children, *entry = NULL;

        log_set_sink(log_capture, &f->log);
        datapath_up(f);
        forwarder_fails_until_given_up(f);
        log_set_sink(NULL, NULL);

        /* Three restarts announced, then the give-up, once, as an error. */
        assert_int_equal(logged(&f->log, LOG_WARNING, "pp-testchild", "restarting in"), 3);
        assert_int_equal(logged(&f->log, LOG_ERR, "pp-testchild",
                                "4 failures in a row, giving up"), 1);
        assert_int_equal(logged(&f->log, LOG_ERR, "pp-testchild is not restarted any more",
                                "until patchpaneld restarts"), 1);

        assert_int_equal(manager_status_json(f->m, 0, &json), 0);
        assert_int_equal(json_parse(json, &doc), 0);
        children = json_get(doc, "children");
        assert_non_null(children);
        assert_int_equal(children->type, JSON_ARRAY);
        for (const JsonValue *v = children->child; v; v = v->next)
                if (strcmp(json_get_string(v, "name"), "pp-testchild") == 0) {
                        assert_null(entry); /* listed once */
                        entry = v;
                }
        if (!entry)
                fail_msg("no pp-testchild among the children: %s", json);
        assert_string_equal(json_get_string(entry, "state"), "failed");
        assert_int_equal(json_get_int(entry, "failures_in_a_row"), 4);
        assert_int_equal(json_get_int(entry, "starts"), 4);
        assert_int_equal(json_get_int(entry, "pid"), 0);
        /* Not coming back: no restart is counted down. */
        assert_int_equal(json_get_int(entry, "restart_in_ms"), 0);
}

static void test_orderly_stop(void **state) {
        Fixture *f = *state;
        int code = -1;

        datapath_up(f);
        launcher_spawn(f);
        forwarder_hello(f);
        spin(f, 10);
        manager_stop(f->m);
        /* The forwarder's socket closes first, then the helper tears down. */
        {
                char c;
                spin(f, 10);
                assert_int_equal(read(f->forwarder, &c, 1), 0);
        }
        helper_answer(f, helper_expect(f, OP(DATAPATH_STOP), NULL, 0), 0, NULL);
        spin(f, 20);
        assert_int_equal(sd_event_get_state(f->e), SD_EVENT_FINISHED);
        assert_int_equal(sd_event_get_exit_code(f->e, &code), 0);
        assert_int_equal(code, EXIT_SUCCESS);
        /* Nothing new starts while stopping. */
        assert_true(f->m->stopping);
}

/* ---- uplinks ------------------------------------------------------------------------------ */

/* From now on the registry's links are the ones the test reports. */
static void fake_links(Fixture *f) {
        assert_int_equal(registry_watch_fake_links(f->m->registry, NULL, &f->links), 0);
}

/* An ethernet link @name (@ifindex) that is up appears (@present) or goes. */
static void link_event(Fixture *f, bool present, int ifindex, const char *name) {
        assert_int_equal(link_monitor_fake_link(f->links, present, ifindex, name, /* kind= */ "",
                                                ARPHRD_ETHER, IFF_UP | IFF_RUNNING), 0);
}

/* A default route through @ifindex comes (@present) or goes. */
static void default_route_event(Fixture *f, bool present, int ifindex, uint32_t metric) {
        assert_int_equal(link_monitor_fake_route(f->links, present, ifindex, metric,
                                                 /* is_default= */ true), 0);
}

/* The helper's next request is of the uplink routing op @op_case, for @ifname (@ifindex);
 * answered. */
static void helper_expect_uplink(Fixture *f, int op_case, const char *ifname, int ifindex) {
        HelperRequest *req = helper_expect(f, op_case, NULL, 0);

        switch (op_case) {
        case OP(UPLINK_ADD):
                assert_string_equal(req->uplink_add->ifname, ifname);
                assert_int_equal(req->uplink_add->ifindex, ifindex);
                assert_false(req->uplink_add->keep_slaac); /* no ndproxyd here */
                break;
        case OP(UPLINK_REMOVE):
                assert_string_equal(req->uplink_remove->ifname, ifname);
                assert_int_equal(req->uplink_remove->ifindex, ifindex);
                break;
        case OP(UPLINK_SYNC):
                assert_string_equal(req->uplink_sync->ifname, ifname);
                assert_int_equal(req->uplink_sync->ifindex, ifindex);
                break;
        case OP(VPN_BYPASS):
                assert_string_equal(req->vpn_bypass->ifname, ifname);
                assert_int_equal(req->vpn_bypass->ifindex, ifindex);
                break;
        default:
                fail_msg("not an uplink op: %d", op_case);
        }
        helper_answer(f, req, 0, NULL);
}

/* An uplink's policy routing is asked for when it appears and removed when it goes; its
 * route changes are resynced once per turn of the loop; other links ask for nothing. */
static void test_uplink_routing_follows_uplinks(void **state) {
        Fixture *f = *state;

        datapath_up(f);
        fake_links(f);
        link_event(f, true, 9, "eth9");
        helper_expect_uplink(f, OP(UPLINK_ADD), "eth9", 9);
        assert_non_null(registry_find_uplink(f->m->registry, "eth9"));
        /* Not uplinks: a name no pattern matches, and one of the daemon's own. */
        link_event(f, true, 10, "veth3");
        link_event(f, true, 11, "arc_eth9");
        expect_silence(f, f->helper);
        assert_null(registry_find_uplink(f->m->registry, "veth3"));

        /* Two route changes in one turn: one resync. */
        assert_int_equal(link_monitor_fake_route(f->links, true, 9, 0, false), 0);
        assert_int_equal(link_monitor_fake_route(f->links, false, 9, 0, false), 0);
        helper_expect_uplink(f, OP(UPLINK_SYNC), "eth9", 9);
        expect_silence(f, f->helper);

        link_event(f, false, 9, "eth9");
        helper_expect_uplink(f, OP(UPLINK_REMOVE), "eth9", 9);
        assert_null(registry_uplinks(f->m->registry));
        expect_silence(f, f->helper);
}

/* ARC (the container) gets a link to each uplink while it runs: asked for after the
 * uplink's routing, a device in the registry once built, and removed before the routing
 * when the uplink goes. */
static void test_arc_links_follow_uplinks(void **state) {
        Fixture *f = *state;
        HelperResponse resp = HELPER_RESPONSE_INIT;
        IpcArcAddResult result = PATCHPANEL__IPC__ARC_ADD_RESULT__INIT;
        HelperRequest *req;
        GuestLink *l;
        int fds[1];

        datapath_up(f);
        fake_links(f);
        assert_int_equal(arc_start(f->m, ARC_KIND_CONTAINER, getpid(),
                                   (int) syscall(SYS_pidfd_open, getpid(), 0), 0, 0, NULL), 0);
        req = helper_expect(f, OP(ARC_ADD), NULL, 1);
        assert_false(req->arc_add->vm);
        resp.result_case = RESULT(ARC_ADD);
        resp.arc_add = &result;
        helper_answer(f, req, 0, &resp);
        spin(f, 10);
        assert_int_equal(f->m->arc->state, ARC_RUNNING);
        expect_silence(f, f->helper); /* no uplink yet */

        link_event(f, true, 9, "eth9");
        helper_expect_uplink(f, OP(UPLINK_ADD), "eth9", 9);
        req = helper_expect(f, OP(ARC_UPLINK_ADD), fds, 1);
        close(fds[0]); /* ARC's process, for the helper to enter its netns */
        assert_string_equal(req->arc_uplink_add->uplink_ifname, "eth9");
        assert_int_equal(req->arc_uplink_add->uplink_ifindex, 9);
        assert_false(req->arc_uplink_add->vm);
        assert_int_equal(req->arc_uplink_add->pid, getpid());
        assert_int_equal(req->arc_uplink_add->guest_mac.len, MAC_LEN);
        assert_int_equal(req->arc_uplink_add->subnet_prefix_len, 30);
        helper_answer(f, req, 0, NULL);
        spin(f, 10);
        /* After arcbr0, the link to eth9, as a device. */
        l = registry_guests(f->m->registry);
        assert_non_null(l);
        assert_string_equal(l->ifname, ARC_BRIDGE);
        l = l->guests_next;
        assert_non_null(l);
        assert_string_equal(l->ifname, "arc_eth9");
        assert_string_equal(l->uplink, "eth9");
        assert_int_equal(l->uplink_ifindex, 9);
        assert_int_equal(l->kind, GUEST_ARC);
        assert_true(l->device);
        assert_true(pool_in_use(f, POOL_ARC_NET));

        link_event(f, false, 9, "eth9");
        req = helper_expect(f, OP(ARC_UPLINK_REMOVE), NULL, 0);
        assert_string_equal(req->arc_uplink_remove->uplink_ifname, "eth9");
        assert_false(req->arc_uplink_remove->vm);
        helper_answer(f, req, 0, NULL);
        helper_expect_uplink(f, OP(UPLINK_REMOVE), "eth9", 9);
        spin(f, 10);
        assert_null(registry_guests(f->m->registry)->guests_next);
        assert_false(pool_in_use(f, POOL_ARC_NET));
        expect_silence(f, f->helper);
}

/* A guest that follows the default uplink is re-paired when the default moves: the
 * forwarders are told the old pair's removal, then the new one; none without a default. */
static void test_forwarders_follow_the_default_uplink(void **state) {
        Fixture *f = *state;
        ConnectedNsParams p = { .pid = getpid(), .source = TRAFFIC_SOURCE_SYSTEM };
        int lifeline;

        datapath_up(f);
        fake_links(f);
        launcher_spawn(f);
        forwarder_hello(f);
        spin(f, 10);
        lifeline = ns_connected(f, &p, "");
        /* No default uplink: nothing to pair it with. */
        link_event(f, true, 8, "eth8");
        helper_expect_uplink(f, OP(UPLINK_ADD), "eth8", 8);
        link_event(f, true, 9, "eth9");
        helper_expect_uplink(f, OP(UPLINK_ADD), "eth9", 9);
        expect_silence(f, f->forwarder);

        default_route_event(f, true, 8, 100);
        forwarder_expect(f, 1, "arc_ns0", "eth8");
        helper_expect_uplink(f, OP(VPN_BYPASS), "eth8", 8);
        helper_expect_uplink(f, OP(UPLINK_SYNC), "eth8", 8);

        /* A better default through eth9: moved there. */
        default_route_event(f, true, 9, 50);
        forwarder_expect(f, -1, "arc_ns0", "eth8");
        forwarder_expect(f, 1, "arc_ns0", "eth9");
        helper_expect_uplink(f, OP(VPN_BYPASS), "eth9", 9);
        helper_expect_uplink(f, OP(UPLINK_SYNC), "eth9", 9);

        /* It goes: back to eth8. */
        default_route_event(f, false, 9, 50);
        forwarder_expect(f, -1, "arc_ns0", "eth9");
        forwarder_expect(f, 1, "arc_ns0", "eth8");
        helper_expect_uplink(f, OP(VPN_BYPASS), "eth8", 8);
        helper_expect_uplink(f, OP(UPLINK_SYNC), "eth9", 9);

        /* The default uplink itself goes: no pair is left. */
        link_event(f, false, 8, "eth8");
        forwarder_expect(f, -1, "arc_ns0", "eth8");
        expect_silence(f, f->forwarder);
        helper_expect_uplink(f, OP(UPLINK_REMOVE), "eth8", 8);
        helper_expect_uplink(f, OP(VPN_BYPASS), "", 0);
        expect_silence(f, f->helper);
        close(lifeline);
}

/* ---- the neighbour monitor ---------------------------------------------------------------- */

typedef struct Verdicts {
        NeighborEventType types[8];
        size_t n;
} Verdicts;

static void collect_verdict(const NeighborWatch *w, NeighborEventType type, void *userdata) {
        Verdicts *v = userdata;

        assert_int_equal(w->ifindex, 9);
        assert_int_equal(w->role, NEIGHBOR_ROLE_GATEWAY);
        assert_true(v->n < ELEMENTSOF(v->types));
        v->types[v->n++] = type;
}

static void test_neighbor_probes_go_to_the_helper(void **state) {
        Fixture *f = *state;
        NeighborTable *t = neighbors_table(f->m->neighbors);
        NeighborAddr own = { .family = AF_INET }, gw = { .family = AF_INET };
        Verdicts v = {};
        _cleanup_free_ char *json = NULL;
        HelperRequest *req;
        char c;

        datapath_up(f);
        neighbors_set_event_fn(f->m->neighbors, collect_verdict, &v);
        assert_int_equal(inet_pton(AF_INET, "192.0.2.2", own.bytes), 1);
        assert_int_equal(inet_pton(AF_INET, "192.0.2.1", gw.bytes), 1);
        /* eth9 (ifindex 9), 192.0.2.2/24, default via 192.0.2.1. */
        assert_int_equal(neighbor_table_add_uplink(t, "eth9", 9, true), 1);
        assert_true(neighbor_table_address(t, 9, &own, 24, true));
        assert_true(neighbor_table_gateway(t, 9, &gw, 0, true));
        neighbors_update(f->m->neighbors);

        /* A probe round: one request for the gateway, with its address as 4 bytes. */
        neighbors_probe(f->m->neighbors);
        req = helper_expect(f, OP(NEIGHBOR_PROBE), NULL, 0);
        assert_string_equal(req->neighbor_probe->ifname, "eth9");
        assert_int_equal(req->neighbor_probe->ifindex, 9);
        assert_int_equal(req->neighbor_probe->addr.len, 4);
        assert_memory_equal(req->neighbor_probe->addr.data, gw.bytes, 4);
        /* Another round while this one is unanswered sends nothing. */
        neighbors_probe(f->m->neighbors);
        spin(f, 10);
        assert_int_equal(recv(f->helper, &c, 1, MSG_PEEK | MSG_DONTWAIT), -1);
        helper_answer(f, req, 0, NULL);
        spin(f, 10);

        /* The kernel gives up on it: told once. A refused probe changes nothing. */
        assert_non_null(neighbor_table_on_neighbor(t, 9, &gw, true, NUD_FAILED, now_usec()));
        assert_non_null(neighbor_table_on_neighbor(t, 9, &gw, true, NUD_FAILED, now_usec()));
        assert_int_equal(v.n, 1);
        assert_int_equal(v.types[0], NEIGHBOR_EVENT_FAILED);
        neighbors_probe(f->m->neighbors);
        helper_answer(f, helper_expect(f, OP(NEIGHBOR_PROBE), NULL, 0), -ENODEV, NULL);
        spin(f, 10);
        assert_int_equal(v.n, 1);

        /* The status shows it. */
        assert_int_equal(manager_status_json(f->m, 0, &json), 0);
        assert_non_null(strstr(json, "\"address\":\"192.0.2.1\",\"role\":\"gateway\","
                                     "\"state\":\"failed\",\"failed\":true"));

        /* It answers again. */
        assert_non_null(neighbor_table_on_neighbor(t, 9, &gw, true, NUD_REACHABLE, now_usec()));
        assert_int_equal(v.n, 2);
        assert_int_equal(v.types[1], NEIGHBOR_EVENT_REACHABLE);
        /* Nothing goes to the helper once the manager stops. */
        f->m->stopping = true;
        neighbors_probe(f->m->neighbors);
        spin(f, 10);
        assert_int_equal(recv(f->helper, &c, 1, MSG_PEEK | MSG_DONTWAIT), -1);
}

/* ---- the link monitor's socket filter --------------------------------------------------- */

typedef struct FilterCase {
        const char *name;
        uint16_t type, flags;
        uint8_t family;  /* ifi_family or rtm_family */
        uint8_t table;   /* rtm_table (routes) */
        bool group;      /* carries IFLA_GROUP */
        uint32_t group_value;
        bool name_first; /* IFLA_IFNAME before IFLA_GROUP */
        bool keep;
} FilterCase;

/* An attribute at buf + *len; *len moves past it (4-byte aligned). */
static void put_attr(uint8_t *buf, size_t *len, uint16_t type, const void *data, uint16_t n) {
        struct nlattr a = { .nla_len = (uint16_t) (sizeof a + n), .nla_type = type };

        memcpy(buf + *len, &a, sizeof a);
        if (n)
                memcpy(buf + *len + sizeof a, data, n);
        *len += (sizeof a + n + 3) & ~(size_t) 3;
}

/* An rtnetlink message as the kernel would send it, into buf; its length. */
static size_t filter_case_message(const FilterCase *c, uint8_t *buf, size_t size) {
        struct nlmsghdr h = { .nlmsg_type = c->type, .nlmsg_flags = c->flags };
        size_t len = sizeof h;
        uint32_t mtu = 1500;

        memset(buf, 0, size);
        if (c->type == RTM_NEWLINK || c->type == RTM_DELLINK) {
                struct ifinfomsg ifi = { .ifi_family = c->family, .ifi_index = 7 };
                memcpy(buf + len, &ifi, sizeof ifi);
                len += sizeof ifi;
                if (c->name_first)
                        put_attr(buf, &len, IFLA_IFNAME, "arc_ns7", 8);
                if (c->group)
                        put_attr(buf, &len, IFLA_GROUP, &c->group_value, 4);
                put_attr(buf, &len, IFLA_MTU, &mtu, 4);
        } else if (c->type == RTM_NEWROUTE || c->type == RTM_DELROUTE) {
                struct rtmsg rtm = { .rtm_family = c->family, .rtm_table = c->table };
                memcpy(buf + len, &rtm, sizeof rtm);
                len += sizeof rtm;
        } else
                len += 16;
        assert_true(len <= size);
        h.nlmsg_len = (uint32_t) len;
        memcpy(buf, &h, sizeof h);
        return len;
}

/* The program runs in the kernel, on a datagram socket's receive side as on the netlink
 * socket's: what it keeps arrives, what it drops does not. */
static void test_link_monitor_filter(void **state) {
        static const FilterCase cases[] = {
                { "our new link", RTM_NEWLINK, 0, AF_UNSPEC, 0, true, PP_LINK_GROUP, true, false },
                { "our new link, group first", RTM_NEWLINK, 0, AF_UNSPEC, 0, true, PP_LINK_GROUP,
                  false, false },
                { "our link on its way out", RTM_NEWLINK, 0, AF_UNSPEC, 0, true, PP_DELETE_GROUP,
                  true, false },
                { "someone's new link", RTM_NEWLINK, 0, AF_UNSPEC, 0, true, 0, true, true },
                { "a link in another group", RTM_NEWLINK, 0, AF_UNSPEC, 0, true, 7, true, true },
                { "a new link without a group", RTM_NEWLINK, 0, AF_UNSPEC, 0, false, 0, true, true },
                { "our link in a dump", RTM_NEWLINK, NLM_F_MULTI, AF_UNSPEC, 0, true,
                  PP_LINK_GROUP, true, true },
                { "our link removed", RTM_DELLINK, 0, AF_UNSPEC, 0, true, PP_LINK_GROUP, true, true },
                { "a bridge port", RTM_NEWLINK, 0, AF_BRIDGE, 0, true, 0, true, false },
                { "a bridge port leaving", RTM_DELLINK, 0, AF_BRIDGE, 0, true, 0, true, true },
                { "a main-table route", RTM_NEWROUTE, 0, AF_INET, RT_TABLE_MAIN, false, 0, false,
                  true },
                { "a main-table route removed", RTM_DELROUTE, 0, AF_INET6, RT_TABLE_MAIN, false, 0,
                  false, true },
                { "a local-table route", RTM_NEWROUTE, 0, AF_INET, RT_TABLE_LOCAL, false, 0, false,
                  false },
                { "a local-table route removed", RTM_DELROUTE, 0, AF_INET6, RT_TABLE_LOCAL, false,
                  0, false, false },
                { "a table above 255", RTM_NEWROUTE, 0, AF_INET, RT_TABLE_COMPAT, false, 0, false,
                  false },
                { "a local route in a dump", RTM_NEWROUTE, NLM_F_MULTI, AF_INET, RT_TABLE_LOCAL,
                  false, 0, false, true },
                { "the end of a dump", NLMSG_DONE, NLM_F_MULTI, 0, 0, false, 0, false, true },
                { "an answer", NLMSG_ERROR, 0, 0, 0, false, 0, false, true },
        };
        struct sock_filter prog[LINK_MONITOR_FILTER_MAX];
        struct sock_fprog fprog = { .filter = prog };
        int sv[2];

        (void) state;
        fprog.len = (unsigned short) link_monitor_filter(prog, ELEMENTSOF(prog));
        assert_true(fprog.len > 0);
        assert_int_equal(link_monitor_filter(prog, 3), 0);
        assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog), 0);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint8_t buf[256], got[256];
                size_t len = filter_case_message(&cases[i], buf, sizeof buf);
                ssize_t n;

                assert_int_equal(send(sv[0], buf, len, 0), (ssize_t) len);
                n = recv(sv[1], got, sizeof got, MSG_DONTWAIT);
                if (cases[i].keep != (n == (ssize_t) len))
                        fail_msg("%s: %s, expected %s", cases[i].name, n < 0 ? "dropped" : "kept",
                                 cases[i].keep ? "kept" : "dropped");
                if (n >= 0)
                        assert_memory_equal(got, buf, len);
        }
        close(sv[0]);
        close(sv[1]);
}

/* ---- GetStatus ---------------------------------------------------------------------------- */

/* The namespaces' objects are kept between documents and written again when their state
 * changes; every document still lists each one as it is now, escaped. */
static void test_status_namespaces(void **state) {
        Fixture *f = *state;
        ConnectedNs *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
        char *json = NULL;

        assert_non_null(a);
        assert_non_null(b);
        *a = (ConnectedNs) { .manager = f->m, .state = CONNECTED_NS_CONNECTING, .pid = 42,
                             .owner = 1000, .source = TRAFFIC_SOURCE_USER,
                             .subnet = { .base = 0x64736080, .prefix_len = 30 } };
        snprintf(a->host_ifname, sizeof a->host_ifname, "arc_ns1");
        snprintf(a->peer_ifname, sizeof a->peer_ifname, "veth1");
        *b = *a;
        b->pid = 43;
        b->owner = 0;
        b->route_on_vpn = true;
        /* Not a name the daemon would make: what the writer escapes. */
        snprintf(b->host_ifname, sizeof b->host_ifname, "x\"y\\z\001");
        snprintf(b->outbound_ifname, sizeof b->outbound_ifname, "eth0");
        /* Well-formed UTF-8 as it is, anything else as U+FFFD: a lone continuation byte,
         * 0xff, a surrogate, an overlong form, a sequence cut short by the end. */
        snprintf(b->peer_ifname, sizeof b->peer_ifname, "%s",
                 "\xc3\xa9\xff\xed\xa0\x80\xc0\xaf\xf0\x9f\x98\x80\xe2\x82");
        LIST_PREPEND(namespaces, f->m->namespaces, a);
        LIST_PREPEND(namespaces, f->m->namespaces, b);
        f->m->n_namespaces += 2;

        static const char *const obj_a =
                "{\"pid\":42,\"owner_uid\":1000,\"state\":\"%s\",\"host_ifname\":\"arc_ns1\","
                "\"peer_ifname\":\"veth1\",\"subnet\":\"100.115.96.128/30\",\"source\":\"user\","
                "\"outbound\":\"\",\"route_on_vpn\":false}";
        static const char *const obj_b =
                "{\"pid\":43,\"owner_uid\":0,\"state\":\"connecting\","
                "\"host_ifname\":\"x\\\"y\\\\z\\u0001\",\"peer_ifname\":\"\xc3\xa9"
                "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\xf0\x9f\x98\x80\\ufffd\\ufffd\","
                "\"subnet\":\"100.115.96.128/30\",\"source\":\"user\",\"outbound\":\"eth0\","
                "\"route_on_vpn\":true}";
        char want[1024];

        for (int round = 0; round < 3; round++) {
                static const char *const states[] = { "connecting", "connected", "disconnecting" };
                snprintf(want, sizeof want, "\"connected_namespaces\":[%s,", obj_b);
                size_t n = strlen(want);
                snprintf(want + n, sizeof want - n, obj_a, states[round]);
                n = strlen(want);
                snprintf(want + n, sizeof want - n, "]");
                assert_int_equal(manager_status_json(f->m, 0, &json), 0);
                if (!strstr(json, want))
                        fail_msg("round %d: %s not in %s", round, want, json);
                free(json);
                /* The same document twice, from the kept objects. */
                assert_int_equal(manager_status_json(f->m, 0, &json), 0);
                assert_non_null(strstr(json, want));
                free(json);
                a->state = (ConnectedNsState) (round + 1);
        }
        /* Someone else sees only theirs: uid 1000 owns a, not b. */
        assert_int_equal(manager_status_json(f->m, 1000, &json), 0);
        assert_null(strstr(json, "\"pid\":43"));
        assert_non_null(strstr(json, "\"connected_namespaces\":[{\"pid\":42,"));
        free(json);

        LIST_REMOVE(namespaces, f->m->namespaces, a);
        LIST_REMOVE(namespaces, f->m->namespaces, b);
        f->m->n_namespaces -= 2;
        free(a->status_json);
        free(b->status_json);
        free(a);
        free(b);
}

/* Connected namespaces for the paging tests: pid 1000+i, owned by uid 1000 when i is a
 * multiple of 3 and by root otherwise; the list holds them newest (the highest i) first. */
#define PAGED_N 105u

static ConnectedNs **paged_namespaces_add(Fixture *f) {
        ConnectedNs **all = calloc(PAGED_N, sizeof *all);

        assert_non_null(all);
        for (unsigned i = 0; i < PAGED_N; i++) {
                all[i] = calloc(1, sizeof *all[i]);
                assert_non_null(all[i]);
                *all[i] = (ConnectedNs) { .manager = f->m, .state = CONNECTED_NS_CONNECTED,
                                          .pid = (pid_t) (1000 + i),
                                          .owner = i % 3 == 0 ? 1000 : 0,
                                          .source = TRAFFIC_SOURCE_USER,
                                          .subnet = { .base = 0x64736000 + 4 * i,
                                                      .prefix_len = 30 } };
                (void) ifname_connected_ns_host(i, all[i]->host_ifname);
                (void) ifname_connected_ns_peer(i, all[i]->peer_ifname);
                LIST_PREPEND(namespaces, f->m->namespaces, all[i]);
                f->m->n_namespaces++;
        }
        return all;
}

static void paged_namespaces_free(Fixture *f, ConnectedNs **all) {
        for (unsigned i = 0; i < PAGED_N; i++) {
                LIST_REMOVE(namespaces, f->m->namespaces, all[i]);
                f->m->n_namespaces--;
                free(all[i]->status_json);
                free(all[i]);
        }
        free(all);
}

/* The pids of the array @key of @doc, into @pids; how many. */
static size_t json_pids(const JsonValue *doc, const char *key, long long *pids, size_t max) {
        const JsonValue *list = json_get(doc, key);
        size_t n = 0;

        assert_non_null(list);
        assert_int_equal(list->type, JSON_ARRAY);
        for (const JsonValue *v = list->child; v; v = v->next) {
                assert_true(n < max);
                pids[n++] = json_get_int(v, "pid");
        }
        return n;
}

/* GetStatus carries the first STATUS_NAMESPACES_PAGE_MAX a caller sees, and their total. */
static void test_status_namespaces_capped(void **state) {
        static const struct {
                uid_t viewer;
                long long total, first_pid;
                size_t listed;
        } cases[] = {
                { .viewer = 0, .total = PAGED_N, .listed = 100, .first_pid = 1104 },
                /* Theirs only: 0, 3, ..., 102. */
                { .viewer = 1000, .total = 35, .listed = 35, .first_pid = 1102 },
                { .viewer = 2000, .total = 0, .listed = 0 },
        };
        Fixture *f = *state;
        ConnectedNs **all = paged_namespaces_add(f);

        for (size_t c = 0; c < ELEMENTSOF(cases); c++) {
                _cleanup_free_ char *json = NULL;
                _cleanup_(json_freep) JsonValue *doc = NULL;
                long long pids[PAGED_N];
                size_t n;

                assert_int_equal(manager_status_json(f->m, cases[c].viewer, &json), 0);
                assert_int_equal(json_parse(json, &doc), 0);
                n = json_pids(doc, "connected_namespaces", pids, PAGED_N);
                assert_int_equal(n, cases[c].listed);
                assert_int_equal(json_get_int(doc, "connected_namespaces_total"), cases[c].total);
                if (n > 0)
                        assert_int_equal(pids[0], cases[c].first_pid);
                /* Newest first, as the list holds them. */
                for (size_t i = 1; i < n; i++)
                        assert_true(pids[i] < pids[i - 1]);
        }
        paged_namespaces_free(f, all);
}

/* ListConnectedNamespaces: pages of the same entries, each namespace once, the same
 * visibility; a limit out of range is refused. */
static void test_status_namespace_pages(void **state) {
        static const struct {
                uid_t viewer;
                unsigned limit;
                long long total;
        } cases[] = {
                { .viewer = 0, .limit = 40, .total = PAGED_N },
                { .viewer = 0, .limit = 100, .total = PAGED_N },
                { .viewer = 0, .limit = 1, .total = PAGED_N },
                { .viewer = 1000, .limit = 7, .total = 35 },
                { .viewer = 2000, .limit = 100, .total = 0 },
        };
        Fixture *f = *state;
        ConnectedNs **all = paged_namespaces_add(f);
        _cleanup_free_ char *status = NULL, *one = NULL, *past = NULL;
        char *none = NULL;

        for (size_t c = 0; c < ELEMENTSOF(cases); c++) {
                long long got[PAGED_N + 1];
                size_t n_got = 0;

                /* Until a page comes back empty, which only an offset past the end gives. */
                for (unsigned offset = 0;; offset += cases[c].limit) {
                        _cleanup_(json_freep) JsonValue *doc = NULL;
                        _cleanup_free_ char *json = NULL;
                        size_t n;

                        assert_int_equal(manager_status_namespaces_json(f->m, cases[c].viewer,
                                                                        offset, cases[c].limit,
                                                                        &json), 0);
                        assert_int_equal(json_parse(json, &doc), 0);
                        assert_int_equal(json_get_int(doc, "total"), cases[c].total);
                        assert_int_equal(json_get_int(doc, "offset"), offset);
                        n = json_pids(doc, "connected_namespaces", got + n_got,
                                      PAGED_N + 1 - n_got);
                        assert_true(n <= cases[c].limit);
                        if (n == 0)
                                break;
                        n_got += n;
                }
                /* Each visible namespace once, newest first: 104, 103, ... (or 102, 99, ...). */
                assert_int_equal(n_got, cases[c].total);
                for (size_t i = 0; i < n_got; i++) {
                        assert_int_equal(all[got[i] - 1000]->pid, got[i]);
                        if (i > 0)
                                assert_true(got[i] < got[i - 1]);
                        if (cases[c].viewer != 0)
                                assert_int_equal(all[got[i] - 1000]->owner, cases[c].viewer);
                }
        }

        /* An entry is GetStatus's entry, byte for byte. */
        assert_int_equal(manager_status_json(f->m, 0, &status), 0);
        assert_int_equal(manager_status_namespaces_json(f->m, 0, 0, 1, &one), 0);
        assert_non_null(strstr(one, "\"connected_namespaces\":[{\"pid\":1104,"));
        *strrchr(one, ']') = 0;
        assert_non_null(strstr(status, strstr(one, "{\"pid\":1104,")));

        /* Far past the end: empty, with the total. */
        assert_int_equal(manager_status_namespaces_json(f->m, 0, UINT32_MAX, 100, &past), 0);
        assert_string_equal(past, "{\"total\":105,\"offset\":4294967295,"
                                  "\"connected_namespaces\":[]}");

        assert_int_equal(manager_status_namespaces_json(f->m, 0, 0, 0, &none), -EINVAL);
        assert_int_equal(manager_status_namespaces_json(f->m, 0, 0, STATUS_NAMESPACES_PAGE_MAX + 1,
                                                        &none), -EINVAL);
        assert_null(none);
        paged_namespaces_free(f, all);
}

/* ---- callers' uids ------------------------------------------------------------------------ */

static void test_bus_caller_cache(void **state) {
        BusCallerCache c = {};
        char name[BUS_CALLER_NAME_MAX + 8];
        uid_t uid = 0;

        (void) state;
        assert_false(bus_caller_cache_lookup(&c, ":1.5", &uid));
        assert_false(bus_caller_cache_lookup(&c, NULL, &uid));
        bus_caller_cache_add(&c, ":1.5", 1000);
        bus_caller_cache_add(&c, ":1.6", 0);
        assert_true(bus_caller_cache_lookup(&c, ":1.5", &uid));
        assert_int_equal(uid, 1000);
        assert_true(bus_caller_cache_lookup(&c, ":1.6", &uid));
        assert_int_equal(uid, 0);
        assert_false(bus_caller_cache_lookup(&c, ":1.50", &uid));
        /* Twice the same name keeps one entry. */
        bus_caller_cache_add(&c, ":1.5", 1000);
        size_t n = 0;
        for (size_t i = 0; i < BUS_CALLER_CACHE_SIZE; i++)
                n += c.entries[i].name[0] != 0;
        assert_int_equal(n, 2);

        /* Full: the least recently used goes, the one just looked up stays. */
        for (unsigned i = 0; i < BUS_CALLER_CACHE_SIZE; i++) {
                snprintf(name, sizeof name, ":2.%u", i);
                bus_caller_cache_add(&c, name, 2000 + i);
                assert_true(bus_caller_cache_lookup(&c, ":1.5", &uid));
        }
        assert_true(bus_caller_cache_lookup(&c, ":1.5", &uid));
        assert_int_equal(uid, 1000);
        assert_false(bus_caller_cache_lookup(&c, ":1.6", &uid));
        assert_false(bus_caller_cache_lookup(&c, ":2.0", &uid));
        assert_true(bus_caller_cache_lookup(&c, ":2.63", &uid));
        assert_int_equal(uid, 2063);

        /* A name too long to keep is not kept, and a lookup of it finds nothing. */
        memset(name, 'x', sizeof name - 1);
        name[0] = ':';
        name[sizeof name - 1] = 0;
        bus_caller_cache_add(&c, name, 5);
        assert_false(bus_caller_cache_lookup(&c, name, &uid));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_termina_lifecycle, setup, teardown),
                cmocka_unit_test_setup_teardown(test_only_the_owner_or_root_stops_a_guest, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_vm_start_failure_gives_everything_back, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_ns_teardown_failure_quarantines, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_vm_teardown_failure_quarantines, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_arcvm_lifecycle, setup, teardown),
                cmocka_unit_test_setup_teardown(test_arc_start_without_taps_fails, setup, teardown),
                cmocka_unit_test_setup_teardown(test_answer_out_of_order_ends_the_manager, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_helper_events, setup, teardown),
                cmocka_unit_test_setup_teardown(test_forwarder_replay_across_restarts, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_forwarder_given_up, setup, teardown),
                cmocka_unit_test_setup_teardown(test_forwarder_given_up_is_shown, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_orderly_stop, setup, teardown),
                cmocka_unit_test_setup_teardown(test_uplink_routing_follows_uplinks, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_arc_links_follow_uplinks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_forwarders_follow_the_default_uplink, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_neighbor_probes_go_to_the_helper, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_status_namespaces, setup, teardown),
                cmocka_unit_test_setup_teardown(test_status_namespaces_capped, setup, teardown),
                cmocka_unit_test_setup_teardown(test_status_namespace_pages, setup, teardown),
                cmocka_unit_test(test_link_monitor_filter),
                cmocka_unit_test(test_bus_caller_cache),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
