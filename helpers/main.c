/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * patchpanel-helper: the suite's only privileged process. It is started by patchpaneld
 * (never by hand) with the socket to the manager as --ipc-fd and holds only CAP_NET_ADMIN,
 * CAP_NET_RAW, CAP_SYS_ADMIN (setns) and CAP_SYS_PTRACE (other users' /proc/<pid>/ns).
 *
 * Theory of operation:
 *   1. arguments, including the address pools requests are checked against and the uids
 *      it gives things to; they are fixed here, while the manager is still root and
 *      trusted, and no request can change them;
 *   2. a session of its own, so a terminal's Ctrl-C reaches only the manager, which then
 *      asks for an orderly teardown;
 *   3. open everything it will ever need: its own netns, rtnetlink, nfnetlink and libnftables;
 *   4. no_new_privs, then the seccomp policy, before the first byte from the manager;
 *   5. serve requests one at a time (dispatch.c) until the socket closes or SIGTERM
 *      arrives, then remove whatever it created and exit; between requests, tell the
 *      manager when another table's drop policy starts or stops threatening guests'
 *      traffic.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "firewall.h"
#include "helper.h"
#include "link.h"
#include "link-reaper.h"
#include "log.h"
#include "nfmon.h"
#include "nl-util.h"
#include "options.h"
#include "privs.h"
#include "seccomp-policy.h"

extern const char seccomp_policy_patchpanel_helper[];

typedef struct Args {
        int ipc_fd;
        SeccompMode seccomp;
        uint32_t pool_base;
        const char *netns_pool;
        int64_t lockdown_uid, tap_owner;
        FwConfig fw;
} Args;

static int parse_pool_base(const Option *o, const char *arg, ErrBuf *err) {
        return ipv4_parse(arg, o->data) < 0 ? errbuf_set(err, -EINVAL, "an IPv4 address") : 0;
}

static int parse_uid_source(const Option *o, const char *arg, ErrBuf *err) {
        SourceMap *m = o->data;
        uint32_t first, last;
        TrafficSource s;

        if (source_map_parse_entry(arg, &first, &last, &s) < 0 ||
            source_map_set(m, first, last, s) < 0)
                return errbuf_set(err, -EINVAL, "UID[-UID]=SOURCE with a local source");
        return 0;
}

static int parse_args(int argc, char **argv, Args *a) {
        const Option options[] = {
                { "ipc-fd", 0, "FD", "socket to the manager", option_parse_fd, &a->ipc_fd },
                OPTION_SECCOMP(&a->seccomp),
                OPTION_LOG_LEVEL(NULL),
                { "pool-base", 0, "ADDR", "where the /23 of guest pools starts", parse_pool_base,
                  &a->pool_base },
                { "netns-pool", 0, "A/LxN", "the ConnectNamespace pool", option_parse_string,
                  &a->netns_pool },
                { "lockdown-uid", 0, "UID", "the one uid that may connect to LOCKDOWN ports",
                  option_parse_int, &a->lockdown_uid, 0, UINT32_MAX - 1 },
                { "tap-owner-uid", 0, "UID", "owner of the VM TAPs it makes", option_parse_int,
                  &a->tap_owner, 0, UINT32_MAX - 1 },
                { "uid-source", 0, "UID[-UID]=SOURCE", "traffic source of these uids' sockets",
                  parse_uid_source, &a->fw.uid_sources },
        };
        const OptionsSpec spec = {
                .usage = "patchpanel-helper --ipc-fd=FD [OPTIONS]",
                .description = "The privileged helper of patchpaneld; patchpaneld starts it.",
                .options = options,
                .n_options = ELEMENTSOF(options),
        };
        int first, r;

        *a = (Args) { .ipc_fd = -EBADF, .seccomp = SECCOMP_MODE_ENFORCE,
                      .pool_base = POOL_DEFAULT_BASE };
        r = options_parse(&spec, argc, argv, &first);
        if (r < 0)
                return r;
        if (first < argc || a->ipc_fd < 0) {
                options_usage(&spec, stderr);
                return -EINVAL;
        }
        a->fw.lockdown_uid = (uint32_t) a->lockdown_uid;
        return 0;
}

/* The pools requests are checked against, from the arguments. */
static int helper_pools(const Args *a, PoolLayout *ret) {
        int r;

        r = pool_layout_init(ret, a->pool_base);
        if (r < 0)
                return log_error_errno(r, "--pool-base must be /23 aligned");
        if (a->netns_pool) {
                r = pool_config_parse(a->netns_pool, &ret->pools[POOL_NETNS]);
                if (r < 0)
                        return log_error_errno(r, "Invalid --netns-pool: %s", a->netns_pool);
        }
        r = pool_layout_validate(ret);
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

static bool foreign_equal(const ForeignDrop *a, size_t na, const ForeignDrop *b, size_t nb) {
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
        ev.result_case = RESULT(FOREIGN_DROPS);
        ev.foreign_drops = &drops;
        return helper_send_event(h, &ev);
}

/* Stages 2-4: a session, signals, everything opened, then the lockdown. */
static void helper_open(Helper *h, const Args *a) {
        unsigned line = 0;
        sigset_t mask;
        ErrBuf err = {};
        int r;

        if (setsid() < 0)
                log_fatal("Failed to start a session: %m");
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        h->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (h->signal_fd < 0)
                log_fatal("Failed to create a signalfd: %m");
        signal(SIGPIPE, SIG_IGN);

        h->host_netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (h->host_netns_fd < 0)
                log_fatal("Failed to open the network namespace: %m");
        if (nl_open(&h->nl, &err) < 0)
                log_fatal("Failed to open rtnetlink: %s", err.msg);
        r = rtnl_open(&h->rtnl);
        if (r < 0)
                log_fatal("Failed to open rtnetlink: %s", strerror(-r));
        /* Its thread starts before the seccomp policy, which then covers it too (TSYNC). */
        r = link_reaper_new(&h->reaper);
        if (r < 0)
                log_fatal("Failed to start the link reaper: %s", strerror(-r));
        h->ioctl_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (h->ioctl_fd < 0)
                log_fatal("Failed to open a socket: %m");
        r = fw_open(&h->nft);
        if (r < 0)
                log_fatal("Failed to set up libnftables: %s", strerror(-r));
        r = nfmon_open(&h->nfmon_fd);
        if (r < 0)
                log_warning("Cannot watch the nftables ruleset (%s): other tables' drop policies "
                            "are checked only at start", strerror(-r));

        if (privs_set_no_new_privs() < 0)
                log_fatal("Failed to set no_new_privs: %m");
        r = seccomp_policy_load(seccomp_policy_patchpanel_helper, a->seccomp, &line);
        if (r < 0)
                log_fatal("Failed to load the seccomp policy (line %u): %s", line, strerror(-r));
        log_debug("Ready, seccomp %s", seccomp_mode_to_string(a->seccomp));
}

/* Stage 5: requests, signals and ruleset events until the end. */
static void helper_serve(Helper *h) {
        for (;;) {
                struct pollfd p[3] = {
                        { .fd = h->ipc_fd, .events = POLLIN },
                        { .fd = h->signal_fd, .events = POLLIN },
                        { .fd = h->nfmon_fd, .events = POLLIN },
                };
                int stop = 0, r;

                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        log_fatal("poll: %m");
                }
                if (p[1].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(h->signal_fd, &si, sizeof si) == (ssize_t) sizeof si) {
                                log_info("Received signal %u, tearing down", si.ssi_signo);
                                return;
                        }
                }
                if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                        stop = helper_dispatch_ipc(h);
                        /* A request read ahead while batching is served before waiting. */
                        while (!stop && h->stashed.req)
                                stop = helper_dispatch_ipc(h);
                }
                if (p[2].revents & (POLLIN | POLLERR)) {
                        r = nfmon_drain(h->nfmon_fd);
                        if (r < 0) {
                                /* A diagnostic, not the datapath: go on without it. */
                                log_warning("Lost the nftables event socket (%s): other tables' "
                                            "drop policies are no longer watched", strerror(-r));
                                h->nfmon_fd = safe_close(h->nfmon_fd);
                        }
                        if (r > 0)
                                h->foreign_dirty = true;
                }
                if (stop || helper_report_foreign(h)) {
                        log_debug("Manager gone or signalled, exiting");
                        return;
                }
        }
}

int main(int argc, char **argv) {
        Helper h = { .ipc_fd = -EBADF, .host_netns_fd = -EBADF, .ioctl_fd = -EBADF,
                     .rtnl = RTNL_NULL,
                     .signal_fd = -EBADF, .nfmon_fd = -EBADF };
        ErrBuf err = {};
        Args args;
        int r;

        log_setup("patchpanel-helper");
        if (parse_args(argc, argv, &args) < 0 || helper_pools(&args, &h.pools) < 0)
                return EXIT_FAILURE;
        r = check_ipc_fd(args.ipc_fd);
        if (r < 0) {
                log_error_errno(r, "--ipc-fd=%d is not a SOCK_SEQPACKET socket: %m", args.ipc_fd);
                return EXIT_FAILURE;
        }
        h.ipc_fd = args.ipc_fd;
        h.fw = args.fw;
        /* ARC's address, where adb sideloading from a Termina VM is bound. */
        h.fw.arc_addr = subnet_addr(&(Subnet) { .base = h.pools.pools[POOL_ARC].base,
                                                .prefix_len = h.pools.pools[POOL_ARC].prefix_len }, 1);
        h.tap_owner = (uid_t) args.tap_owner;
        h.self_pid = getpid();
        h.manager_pid = getppid();

        helper_open(&h, &args);
        helper_serve(&h);

        if (h.datapath_started && helper_datapath_stop(&h, &err) < 0)
                log_warning("Teardown at exit incomplete: %s", err.msg);
        h.reaper = link_reaper_free(h.reaper);
        fw_close(h.nft);
        nl_socket_free(h.nl);
        rtnl_close(&h.rtnl);
        safe_close(h.host_netns_fd);
        safe_close(h.ioctl_fd);
        safe_close(h.nfmon_fd);
        safe_close(h.signal_fd);
        safe_close(h.ipc_fd);
        return EXIT_SUCCESS;
}
