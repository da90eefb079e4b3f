/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * patchpanel-helper: the suite's only privileged process. It is started by patchpaneld
 * (never by hand) with the socket to the manager as --ipc-fd and holds only CAP_NET_ADMIN,
 * CAP_NET_RAW, CAP_SYS_ADMIN (setns) and CAP_SYS_PTRACE (other users' /proc/<pid>/ns).
 *
 * Theory of operation:
 *   1. arguments, including the address pools requests are checked against; they are fixed
 *      here, while the manager is still root and trusted;
 *   2. a session of its own, so a terminal's Ctrl-C reaches only the manager, which then
 *      asks for an orderly teardown;
 *   3. open everything it will ever need: its own netns, rtnetlink, libnftables;
 *   4. no_new_privs, then the seccomp policy, before the first byte from the manager;
 *   5. serve requests one at a time until the socket closes or SIGTERM arrives, then
 *      remove whatever it created and exit; between requests, tell the manager when
 *      another table's drop policy starts or stops threatening guests' traffic.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "connected-ns.h"
#include "firewall.h"
#include "helper.h"
#include "ipc.h"
#include "link.h"
#include "log.h"
#include "nfmon.h"
#include "nl-util.h"
#include "privs.h"
#include "seccomp-policy.h"

extern const char seccomp_policy_patchpanel_helper[];

typedef struct Args {
        int ipc_fd;
        uid_t tap_owner;
        SeccompMode seccomp;
        PoolLayout pools;
        FwConfig fw;
} Args;

static void usage(FILE *f) {
        fprintf(f,
                "Usage: patchpanel-helper --ipc-fd=FD [OPTIONS]\n"
                "The privileged helper of patchpaneld; patchpaneld starts it.\n\n"
                "  --ipc-fd=FD            socket to the manager\n"
                "  --seccomp=enforce|log  what a syscall outside the policy does\n"
                "  --log-level=LEVEL      debug, info, notice, warning, error\n"
                "  --pool-base=ADDR       where the /23 of guest pools starts\n"
                "  --netns-pool=A/LxN     the ConnectNamespace pool\n"
                "  --lockdown-uid=UID     the one uid that may connect to LOCKDOWN ports\n"
                "  --tap-owner-uid=UID    owner of the VM TAPs it makes\n"
                "  --uid-source=UID[-UID]=SOURCE  traffic source of these uids' sockets\n");
}

static int parse_args(int argc, char **argv, Args *a) {
        enum { ARG_IPC_FD = 0x100, ARG_SECCOMP, ARG_LOG_LEVEL, ARG_POOL_BASE, ARG_NETNS_POOL,
               ARG_LOCKDOWN_UID, ARG_TAP_OWNER_UID, ARG_UID_SOURCE };
        static const struct option options[] = {
                { "ipc-fd", required_argument, NULL, ARG_IPC_FD },
                { "seccomp", required_argument, NULL, ARG_SECCOMP },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "pool-base", required_argument, NULL, ARG_POOL_BASE },
                { "netns-pool", required_argument, NULL, ARG_NETNS_POOL },
                { "lockdown-uid", required_argument, NULL, ARG_LOCKDOWN_UID },
                { "tap-owner-uid", required_argument, NULL, ARG_TAP_OWNER_UID },
                { "uid-source", required_argument, NULL, ARG_UID_SOURCE },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *netns_pool = NULL;
        uint32_t base = POOL_DEFAULT_BASE;
        int c, r;

        *a = (Args) { .ipc_fd = -EBADF, .seccomp = SECCOMP_MODE_ENFORCE };
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_IPC_FD: {
                        char *end;
                        errno = 0;
                        long v = strtol(optarg, &end, 10);
                        if (errno || *end || v < 0 || v > 65535)
                                return log_error_errno(-EINVAL, "Invalid --ipc-fd: %s", optarg);
                        a->ipc_fd = (int) v;
                        break;
                }
                case ARG_SECCOMP:
                        a->seccomp = seccomp_mode_from_string(optarg);
                        if (a->seccomp < 0)
                                return log_error_errno(-EINVAL, "Invalid --seccomp: %s", optarg);
                        break;
                case ARG_LOG_LEVEL:
                        r = log_level_from_string(optarg);
                        if (r < 0)
                                return log_error_errno(r, "Invalid --log-level: %s", optarg);
                        log_set_max_level(r);
                        break;
                case ARG_POOL_BASE:
                        if (ipv4_parse(optarg, &base) < 0)
                                return log_error_errno(-EINVAL, "Invalid --pool-base: %s", optarg);
                        break;
                case ARG_NETNS_POOL:
                        netns_pool = optarg;
                        break;
                case ARG_LOCKDOWN_UID: {
                        char *end;
                        errno = 0;
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (errno || *end || optarg[0] == '-' || v >= UINT32_MAX)
                                return log_error_errno(-EINVAL, "Invalid --lockdown-uid: %s", optarg);
                        a->fw.lockdown_uid = (uint32_t) v;
                        break;
                }
                case ARG_TAP_OWNER_UID: {
                        char *end;
                        errno = 0;
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (errno || *end || optarg[0] == '-' || v >= UINT32_MAX)
                                return log_error_errno(-EINVAL, "Invalid --tap-owner-uid: %s", optarg);
                        a->tap_owner = (uid_t) v;
                        break;
                }
                case ARG_UID_SOURCE: {
                        uint32_t first, last;
                        TrafficSource s;
                        if (source_map_parse_entry(optarg, &first, &last, &s) < 0 ||
                            source_map_set(&a->fw.uid_sources, first, last, s) < 0)
                                return log_error_errno(-EINVAL, "Invalid --uid-source: %s", optarg);
                        break;
                }
                case 'h':
                        usage(stdout);
                        exit(EXIT_SUCCESS);
                default:
                        usage(stderr);
                        return -EINVAL;
                }
        if (optind < argc || a->ipc_fd < 0) {
                usage(stderr);
                return -EINVAL;
        }

        r = pool_layout_init(&a->pools, base);
        if (r < 0)
                return log_error_errno(r, "--pool-base must be /23 aligned");
        if (netns_pool) {
                r = pool_config_parse(netns_pool, &a->pools.pools[POOL_NETNS]);
                if (r < 0)
                        return log_error_errno(r, "Invalid --netns-pool: %s", netns_pool);
        }
        r = pool_layout_validate(&a->pools);
        if (r < 0)
                return log_error_errno(r, "The address pools overlap or are invalid");
        return 0;
}

static int check_ipc_fd(int fd) {
        int type = 0;
        socklen_t len = sizeof type;

        if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                return -errno;
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
                return -errno;
        return type == SOCK_SEQPACKET ? 0 : -ENOTSOCK;
}

static void helper_cleanup(Helper *h) {
        ErrBuf err = {};

        if (!h->datapath_started)
                return;
        if (helper_datapath_stop(h, &err) < 0)
                log_warning("Teardown at exit incomplete: %s", err.msg);
}

/* Teardowns that arrive together are done together (one grace period for all the links). */
#define DISCONNECT_BATCH_MAX 128u

/*
 * Receive one request with its fds: 1 with one, 0 when none is queued, -EPIPE when the
 * manager has closed the socket. A protocol violation ends the helper.
 */
static int helper_receive(Helper *h, Received *ret) {
        HelperRequest *req = NULL;
        int fds[1] = { -EBADF };
        size_t n_fds = 0;
        int r;

        r = ipc_recv(h->ipc_fd, &patchpanel__ipc__helper_request__descriptor,
                     (ProtobufCMessage **) &req, fds, ELEMENTSOF(fds), &n_fds);
        if (r == -EAGAIN || r == -EINTR)
                return 0;
        if (r == 0)
                return -EPIPE;
        if (r < 0) {
                /* The manager broke the protocol: it is buggy or compromised. */
                helper_cleanup(h);
                log_fatal("Bad message from the manager: %s", strerror(-r));
        }
        if (n_fds != helper_request_n_fds(req)) {
                for (size_t i = 0; i < n_fds; i++)
                        safe_close(fds[i]);
                helper_cleanup(h);
                log_fatal("Request %llu of type %d came with %zu fds, expected %zu",
                          (unsigned long long) req->id, (int) req->op_case, n_fds,
                          helper_request_n_fds(req));
        }
        *ret = (Received) { .req = req, .fds = { fds[0] }, .n_fds = n_fds };
        return 1;
}

static void received_free(Received *rc) {
        for (size_t i = 0; i < rc->n_fds; i++)
                safe_close(rc->fds[i]);
        if (rc->req)
                helper_request_free(rc->req);
        *rc = (Received) {};
}

/* Send one answer: 0, or 1 when the helper must stop (the manager is gone, or SIGTERM). */
static int helper_answer(Helper *h, HelperResponse *resp) {
        int r;

        for (;;) {
                r = ipc_send(h->ipc_fd, &resp->base, NULL, 0);
                if (r != -EAGAIN && r != -EINTR)
                        break;
                /* The manager is behind on reading; wait for room rather than drop a reply,
                 * but not past a SIGTERM. */
                struct pollfd p[2] = {
                        { .fd = h->ipc_fd, .events = POLLOUT },
                        { .fd = h->signal_fd, .events = POLLIN },
                };
                if (poll(p, 2, -1) > 0 && (p[1].revents & POLLIN))
                        return 1;
        }
        if (r == -EPIPE || r == -ECONNRESET)
                return 1;
        if (r < 0) {
                helper_cleanup(h);
                log_fatal("Failed to answer the manager: %s", strerror(-r));
        }
        return 0;
}

/* The NsDisconnect in first and any queued right behind it, as one batch. */
static int helper_dispatch_disconnects(Helper *h, Received *first) {
        _cleanup_free_ Received *batch = calloc(DISCONNECT_BATCH_MAX, sizeof *batch);
        _cleanup_free_ const IpcNsDisconnect **ops = calloc(DISCONNECT_BATCH_MAX, sizeof *ops);
        _cleanup_free_ int *status = calloc(DISCONNECT_BATCH_MAX, sizeof *status);
        _cleanup_free_ ErrBuf *errs = calloc(DISCONNECT_BATCH_MAX, sizeof *errs);
        size_t n = 0;
        int stop = 0, r;

        if (!batch || !ops || !status || !errs) {
                received_free(first);
                return 0;
        }
        batch[n++] = *first;
        *first = (Received) {};
        while (n < DISCONNECT_BATCH_MAX) {
                Received next;
                r = helper_receive(h, &next);
                if (r == -EPIPE)
                        stop = 1;
                if (r <= 0)
                        break;
                if (next.req->op_case != OP(NS_DISCONNECT)) {
                        h->stashed = next; /* served right after this batch */
                        break;
                }
                batch[n++] = next;
        }

        for (size_t i = 0; i < n; i++)
                ops[i] = batch[i].req->ns_disconnect;
        helper_ns_disconnect_many(h, ops, n, status, errs);
        for (size_t i = 0; i < n; i++) {
                HelperResponse resp = HELPER_RESPONSE_INIT;
                resp.id = batch[i].req->id;
                resp.status = status[i];
                if (status[i] < 0)
                        resp.message = errs[i].msg;
                if (!stop)
                        stop = helper_answer(h, &resp);
                received_free(&batch[i]);
        }
        if (n > 1)
                log_debug("Disconnected %zu namespaces in one batch", n);
        return stop;
}

static bool foreign_equal(const ForeignDrop *a, size_t na, const ForeignDrop *b,
                          size_t nb) {
        return na == nb && (na == 0 || memcmp(a, b, na * sizeof *a) == 0);
}

/* If the ruleset changed, look at the foreign chains again and, if the drops among them
 * changed, send the manager an event. Returns 1 when the helper must stop. */
static int helper_report_foreign(Helper *h) {
        ForeignDrop now[FOREIGN_DROPS_MAX] = {};
        IpcForeignChain chains[FOREIGN_DROPS_MAX], *ptrs[FOREIGN_DROPS_MAX];
        IpcForeignDrops drops = PATCHPANEL__IPC__FOREIGN_DROPS__INIT;
        HelperResponse ev = HELPER_RESPONSE_INIT;
        ErrBuf err = {};
        size_t n = 0;

        if (!h->foreign_dirty || !h->datapath_started)
                return 0;
        h->foreign_dirty = false;
        if (fw_foreign_drops(h->nft, now, &n, &err) < 0) {
                log_warning("Cannot check other tables' policies: %s", err.msg);
                return 0;
        }
        if (h->foreign_sent && foreign_equal(now, n, h->foreign, h->n_foreign))
                return 0;
        memcpy(h->foreign, now, sizeof now);
        h->n_foreign = n;
        h->foreign_sent = true;
        for (size_t i = 0; i < n; i++) {
                patchpanel__ipc__foreign_chain__init(&chains[i]);
                chains[i].family = h->foreign[i].family;
                chains[i].table = h->foreign[i].table;
                chains[i].chain = h->foreign[i].chain;
                chains[i].hook = h->foreign[i].hook;
                chains[i].priority = h->foreign[i].priority;
                ptrs[i] = &chains[i];
        }
        drops.chains = ptrs;
        drops.n_chains = n;
        ev.id = 0;
        ev.result_case = RESULT(FOREIGN_DROPS);
        ev.foreign_drops = &drops;
        return helper_answer(h, &ev);
}

/* Receive, decode, validate, handle, answer, free: one request (or one batch of
 * teardowns). Returns 0 to go on, 1 when the manager has closed the socket or a signal
 * asks us to stop. */
static int helper_dispatch_ipc(Helper *h) {
        HelperResponse resp = HELPER_RESPONSE_INIT;
        Received rc;
        ErrBuf err = {};
        int r;

        if (h->stashed.req) {
                rc = h->stashed;
                h->stashed = (Received) {};
        } else {
                r = helper_receive(h, &rc);
                if (r == 0)
                        return 0;
                if (r < 0)
                        return 1;
        }
        if (rc.req->op_case == OP(NS_DISCONNECT))
                return helper_dispatch_disconnects(h, &rc);

        helper_dispatch_request(h, rc.req, rc.fds, &resp, &err);
        r = helper_answer(h, &resp);
        received_free(&rc);
        return r;
}

int main(int argc, char **argv) {
        Helper h = { .ipc_fd = -EBADF, .host_netns_fd = -EBADF, .ioctl_fd = -EBADF,
                     .signal_fd = -EBADF, .nfmon_fd = -EBADF };
        _cleanup_close_ int sfd = -EBADF;
        unsigned line = 0;
        sigset_t mask;
        Args args;
        ErrBuf err = {};
        int r;

        log_setup("patchpanel-helper");
        if (parse_args(argc, argv, &args) < 0)
                return EXIT_FAILURE;

        r = check_ipc_fd(args.ipc_fd);
        if (r < 0) {
                log_error_errno(r, "--ipc-fd=%d is not a SOCK_SEQPACKET socket: %m", args.ipc_fd);
                return EXIT_FAILURE;
        }
        h.ipc_fd = args.ipc_fd;
        h.pools = args.pools;
        h.fw = args.fw;
        h.tap_owner = args.tap_owner;
        h.self_pid = getpid();
        h.manager_pid = getppid();

        if (setsid() < 0)
                log_fatal("Failed to start a session: %m");

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0)
                log_fatal("Failed to create a signalfd: %m");
        h.signal_fd = sfd;
        signal(SIGPIPE, SIG_IGN);

        h.host_netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (h.host_netns_fd < 0)
                log_fatal("Failed to open the network namespace: %m");
        if (nl_open(&h.nl, &err) < 0)
                log_fatal("Failed to open rtnetlink: %s", err.msg);
        h.ioctl_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (h.ioctl_fd < 0)
                log_fatal("Failed to open a socket: %m");
        r = fw_open(&h.nft);
        if (r < 0)
                log_fatal("Failed to set up libnftables: %s", strerror(-r));
        r = nfmon_open(&h.nfmon_fd);
        if (r < 0)
                log_warning("Cannot watch the nftables ruleset (%s): other tables' drop policies "
                            "are checked only at start", strerror(-r));

        if (privs_set_no_new_privs() < 0)
                log_fatal("Failed to set no_new_privs: %m");
        r = seccomp_policy_load(seccomp_policy_patchpanel_helper, args.seccomp, &line);
        if (r < 0)
                log_fatal("Failed to load the seccomp policy (line %u): %s", line, strerror(-r));
        log_debug("Ready, seccomp %s", seccomp_mode_to_string(args.seccomp));

        for (;;) {
                struct pollfd p[3] = {
                        { .fd = h.ipc_fd, .events = POLLIN },
                        { .fd = sfd, .events = POLLIN },
                        { .fd = h.nfmon_fd, .events = POLLIN },
                };

                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        log_fatal("poll: %m");
                }
                if (p[1].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof si) == (ssize_t) sizeof si) {
                                log_info("Received signal %u, tearing down", si.ssi_signo);
                                break;
                        }
                }
                if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                        int stop = helper_dispatch_ipc(&h);
                        /* A request read ahead while batching is served before waiting. */
                        while (!stop && h.stashed.req)
                                stop = helper_dispatch_ipc(&h);
                        if (stop) {
                                log_debug("Manager gone or signalled, exiting");
                                break;
                        }
                }
                if (p[2].revents & (POLLIN | POLLERR)) {
                        r = nfmon_drain(h.nfmon_fd);
                        if (r < 0) {
                                /* A diagnostic, not the datapath: go on without it. */
                                log_warning("Lost the nftables event socket (%s): other tables' "
                                            "drop policies are no longer watched", strerror(-r));
                                h.nfmon_fd = safe_close(h.nfmon_fd);
                        }
                        if (r > 0)
                                h.foreign_dirty = true;
                }
                if (helper_report_foreign(&h)) {
                        log_debug("Manager gone or signalled, exiting");
                        break;
                }
        }

        helper_cleanup(&h);
        fw_close(h.nft);
        nl_socket_free(h.nl);
        safe_close(h.host_netns_fd);
        safe_close(h.ioctl_fd);
        safe_close(h.nfmon_fd);
        safe_close(h.ipc_fd);
        return EXIT_SUCCESS;
}
