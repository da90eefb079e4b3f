/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ndproxyd: the RFC 4389 Neighbor Discovery proxy that gives guests IPv6 on their host's
 * uplink prefix (nd-proxy.c says how; nd-daemon.c is the engine).
 *
 * Two ways to run, one engine:
 *   supervised  `ndproxyd --control-fd=3`, started by patchpanel-launcher for patchpaneld
 *               with CAP_NET_RAW as its only (ambient) capability. patchpaneld tells it the
 *               guest links and their uplinks (ForwarderLink) and hears of learned guest
 *               addresses (NdAddress), whose routes the helper makes.
 *   standalone  `ndproxyd UPLINK DOWNLINK...` (Termina runs `ndproxyd eth0 lxdbr0`), as
 *               root or with CAP_NET_RAW and CAP_NET_ADMIN: no manager, no D-Bus. It forks;
 *               the parent keeps CAP_NET_ADMIN for the uplink's sysctls and the guests'
 *               /128 routes (nd-priv.c), the child parses packets and asks for them.
 *
 * Theory of operation, each stage shrinking what the process can do:
 *   1. arguments; the signals the event loop takes are blocked;
 *   2. with CAP_NET_RAW: the packet socket and its filter (nd-socket.c), the netlink
 *      sockets (nd-netlink.c) — the last things that need a capability;
 *   3. standalone only: fork; the parent goes to nd_priv_run(); the child (started as
 *      root) becomes the unprivileged user (--user);
 *   4. no capability left, no_new_privs, the seccomp policy of seccomp/ndproxyd.policy
 *      (fwd_sandbox()): the process that parses packets holds no capability in either
 *      mode, and the policy is in force before the first frame is read;
 *   5. the event loop, until the control socket (or the parent's socket) closes, or
 *      SIGTERM/SIGINT/SIGHUP. SIGUSR1 prints the counters (as JSON on stdout with --stats,
 *      else to the log).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "channel.h"
#include "forwarder.h"
#include "ifname.h"
#include "list.h"
#include "log.h"
#include "nd-daemon.h"
#include "nd-netlink.h"
#include "nd-priv.h"
#include "nd-socket.h"
#include "options.h"
#include "privs.h"

extern const char seccomp_policy_ndproxyd[];

typedef Patchpanel__Ipc__NdPrivRequest NdPrivRequest;
typedef Patchpanel__Ipc__NdPrivResponse NdPrivResponse;

typedef struct Args {
        int control_fd;
        SeccompMode seccomp;
        const char *log_level;
        int64_t address_lifetime;    /* seconds */
        bool stats;
        const char *user;
        const char *uplink;
        char **downlinks;
        size_t n_downlinks;
} Args;

/* The running process: the engine and whichever peer it answers to. */
typedef struct Nd {
        sd_event *event;
        NdDaemon *daemon;
        FwdRuntime *rt;              /* supervised */
        Channel *parent;             /* standalone */
        struct PrivCall *calls;      /* standalone: requests to the parent */
        bool stats_json;
        NdDaemonConfig config;       /* supervised: the sockets, until the daemon has them */
        /* Status report storage, from status() to status_done(). */
        ForwarderLink *links;
        ForwarderLink **link_ptrs;
        Patchpanel__Ipc__ForwarderCounter *counters;
        Patchpanel__Ipc__ForwarderCounter **counter_ptrs;
        char (*names)[64];
} Nd;

static int parse_args(int argc, char **argv, Args *a) {
        const Option options[] = {
                { "control-fd", 0, "FD", "supervised by patchpaneld: its socket", option_parse_fd,
                  &a->control_fd },
                OPTION_LOG_LEVEL(&a->log_level),
                OPTION_SECCOMP(&a->seccomp),
                { "address-lifetime", 0, "SECONDS", "forget a guest address without a sign of\n"
                  "life for this long, and its route (default: 600)", option_parse_int,
                  &a->address_lifetime, 10, 86400 * 7 },
                { "stats", 0, NULL, "on SIGUSR1 and at exit, print the counters as JSON on\n"
                  "stdout (without it, SIGUSR1 logs them)", option_parse_flag, &a->stats },
                { "user", 0, "NAME", "standalone, started as root: the user the packet-parsing\n"
                  "process runs as (default: nobody)", option_parse_string, &a->user },
        };
        const OptionsSpec spec = {
                .usage = "ndproxyd [OPTIONS] UPLINK DOWNLINK...\n"
                         "       ndproxyd [OPTIONS] UPLINK:DOWNLINK[:DOWNLINK...]\n"
                         "       ndproxyd --control-fd=FD [OPTIONS]",
                .description = "RFC 4389 Neighbor Discovery proxy: guests behind DOWNLINKs share the IPv6\n"
                               "prefix of UPLINK. Downlinks that do not exist yet are served when they appear.",
                .options = options,
                .n_options = ELEMENTSOF(options),
        };
        int first, r;

        *a = (Args) { .control_fd = -EBADF, .seccomp = SECCOMP_MODE_ENFORCE,
                      .address_lifetime = 600, .user = "nobody" };
        r = options_parse(&spec, argc, argv, &first);
        if (r < 0)
                return r;
        if (a->control_fd >= 0) {
                if (first != argc) {
                        fprintf(stderr, "ndproxyd: links come from patchpaneld with --control-fd\n");
                        return -EINVAL;
                }
                return 0;
        }
        /* One operand UPLINK:DOWNLINK[:DOWNLINK...] is the same (a unit's instance name,
         * ndproxyd@eth0:lxdbr0.service): no interface name has a ':'. */
        if (argc - first == 1 && strchr(argv[first], ':')) {
                static char *split[ND_PROXY_LINKS_MAX + 1];
                char *save = NULL;
                int n = 0;

                for (char *t = strtok_r(argv[first], ":", &save); t && n < ND_PROXY_LINKS_MAX + 1;
                     t = strtok_r(NULL, ":", &save))
                        split[n++] = t;
                argv = split;
                argc = n;
                first = 0;
        }
        if (argc - first < 2) {
                options_usage(&spec, stderr);
                return -EINVAL;
        }
        a->uplink = argv[first];
        a->downlinks = argv + first + 1;
        a->n_downlinks = (size_t) (argc - first - 1);
        for (int i = first; i < argc; i++) {
                if (!ifname_is_valid(argv[i])) {
                        fprintf(stderr, "ndproxyd: not an interface name: %s\n", argv[i]);
                        return -EINVAL;
                }
                for (int j = first; j < i; j++)
                        if (strcmp(argv[i], argv[j]) == 0) {
                                fprintf(stderr, "ndproxyd: %s named twice\n", argv[i]);
                                return -EINVAL;
                        }
        }
        if (a->n_downlinks >= ND_PROXY_LINKS_MAX) {
                fprintf(stderr, "ndproxyd: at most %d downlinks\n", ND_PROXY_LINKS_MAX - 1);
                return -EINVAL;
        }
        return 0;
}

static int open_sockets(NdDaemonConfig *c) {
        int r;

        c->packet_fd = c->netlink_fd = c->monitor_fd = -EBADF;
        r = nd_socket_open(&c->packet_fd);
        if (r < 0)
                return log_error_errno(r, "Failed to open the packet socket%s: %m",
                                       r == -EPERM ? " (it needs CAP_NET_RAW)" : "");
        r = nd_netlink_open(&c->netlink_fd);
        if (r >= 0)
                r = nd_netlink_open_monitor(&c->monitor_fd);
        if (r < 0) {
                c->packet_fd = safe_close(c->packet_fd);
                c->netlink_fd = safe_close(c->netlink_fd);
                return log_error_errno(r, "Failed to open rtnetlink: %m");
        }
        return 0;
}

static void close_sockets(NdDaemonConfig *c) {
        c->packet_fd = safe_close(c->packet_fd);
        c->netlink_fd = safe_close(c->netlink_fd);
        c->monitor_fd = safe_close(c->monitor_fd);
}

static int on_usr1(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Nd *nd = userdata;

        (void) s;
        (void) si;
        if (nd->stats_json)
                nd_daemon_print_stats(nd->daemon, stdout, true);
        else
                nd_daemon_print_stats(nd->daemon, stderr, false);
        return 0;
}

/* ---- supervised: the manager ----------------------------------------------------------- */

static void on_link_add(const ForwarderLink *l, void *userdata) {
        struct in6_addr addrs[ND_PROXY_ADDRS_MAX];
        Nd *nd = userdata;
        size_t n = 0;

        /* The manager is trusted to speak the protocol; one that does not is broken. */
        /* A guest ifindex of 0: the manager knows the link by name only (ARC's bridges). */
        if (!ifname_is_valid(l->uplink) || !ifname_is_valid(l->guest) || l->uplink_ifindex <= 0 ||
            l->guest_ifindex < 0 || l->uplink_ifindex == l->guest_ifindex ||
            l->n_ipv6_addresses > ND_PROXY_ADDRS_MAX)
                log_fatal("The manager sent a malformed link (%s behind %s)", l->guest, l->uplink);
        for (size_t i = 0; i < l->n_ipv6_addresses; i++) {
                if (l->ipv6_addresses[i].len != sizeof addrs[0])
                        log_fatal("The manager sent an address of %zu bytes",
                                  l->ipv6_addresses[i].len);
                memcpy(&addrs[n++], l->ipv6_addresses[i].data, sizeof addrs[0]);
        }
        (void) nd_daemon_add_pair(nd->daemon, l->uplink, l->uplink_ifindex, l->guest,
                                  l->guest_ifindex, addrs, n);
}

static void on_link_remove(const ForwarderLink *l, void *userdata) {
        Nd *nd = userdata;

        (void) nd_daemon_remove_pair(nd->daemon, l->uplink, l->uplink_ifindex, l->guest,
                                     l->guest_ifindex);
}

static void counter_add(Nd *nd, size_t *n, const char *link, const char *name, uint64_t value) {
        Patchpanel__Ipc__ForwarderCounter *c = &nd->counters[*n];

        patchpanel__ipc__forwarder_counter__init(c);
        snprintf(nd->names[*n], sizeof nd->names[0], "%s", name);
        c->link = (char *) link;
        c->name = nd->names[*n];
        c->value = value;
        nd->counter_ptrs[*n] = c;
        (*n)++;
}

static void on_status(ForwarderStatus *st, void *userdata) {
        Nd *nd = userdata;
        const NdProxy *p = nd_daemon_proxy(nd->daemon);
        size_t n_links = nd_proxy_n_links(p), n = 0, k = 0;
        size_t max = 1 + n_links * (7 + _ND_DROP_MAX);

        nd->links = calloc(n_links ?: 1, sizeof *nd->links);
        nd->link_ptrs = calloc(n_links ?: 1, sizeof *nd->link_ptrs);
        nd->counters = calloc(max, sizeof *nd->counters);
        nd->counter_ptrs = calloc(max, sizeof *nd->counter_ptrs);
        nd->names = calloc(max, sizeof *nd->names);
        if (!nd->links || !nd->link_ptrs || !nd->counters || !nd->counter_ptrs || !nd->names)
                return;
        counter_add(nd, &n, "", "frames_elsewhere", nd_daemon_frames_elsewhere(nd->daemon));
        for (size_t i = 0; i < n_links; i++) {
                const NdLink *l = nd_proxy_link_at(p, i);
                const char *name = nd_daemon_link_name(nd->daemon, l->ifindex) ?: "";
                const NdLinkCounters *c = &l->counters;
                char buf[64];

                if (l->kind == ND_LINK_GUEST && l->uplink) {
                        ForwarderLink *fl = &nd->links[k];

                        patchpanel__ipc__forwarder_link__init(fl);
                        fl->guest = (char *) name;
                        fl->guest_ifindex = l->ifindex;
                        fl->uplink = (char *) (nd_daemon_link_name(nd->daemon, l->uplink) ?: "");
                        fl->uplink_ifindex = l->uplink;
                        nd->link_ptrs[k++] = fl;
                }
                counter_add(nd, &n, name, "received", c->received);
                counter_add(nd, &n, name, "proxied", c->proxied);
                /* NS answered by the proxy itself on the link (an uplink's: for guests
                 * whose proxy entries are not made yet; a guest link's: for the host). */
                counter_add(nd, &n, name, "answered", c->answered);
                if (l->kind == ND_LINK_GUEST) {
                        counter_add(nd, &n, name, "learned", c->learned);
                        counter_add(nd, &n, name, "learn_refused", c->learn_refused);
                        counter_add(nd, &n, name, "expired", c->expired);
                        counter_add(nd, &n, name, "addresses", l->n_addrs);
                }
                for (NdDrop r = 0; r < _ND_DROP_MAX; r++)
                        if (c->dropped[r]) {
                                snprintf(buf, sizeof buf, "drop.%s", nd_drop_to_string(r));
                                counter_add(nd, &n, name, buf, c->dropped[r]);
                        }
        }
        st->links = nd->link_ptrs;
        st->n_links = k;
        st->counters = nd->counter_ptrs;
        st->n_counters = n;
}

static void on_status_done(ForwarderStatus *st, void *userdata) {
        Nd *nd = userdata;

        (void) st;
        free(nd->links);
        free(nd->link_ptrs);
        free(nd->counters);
        free(nd->counter_ptrs);
        free(nd->names);
        nd->links = NULL;
        nd->link_ptrs = NULL;
        nd->counters = NULL;
        nd->counter_ptrs = NULL;
        nd->names = NULL;
}

static void supervised_address(NdDaemon *d, int guest_ifindex, const char *guest,
                               const struct in6_addr *addr, bool present, void *userdata) {
        Patchpanel__Ipc__NdAddress a = PATCHPANEL__IPC__ND_ADDRESS__INIT;
        ForwarderReport ev = PATCHPANEL__IPC__FORWARDER_REPORT__INIT;
        Nd *nd = userdata;
        int r;

        (void) d;
        a.guest = (char *) guest;
        a.guest_ifindex = guest_ifindex;
        a.address = (ProtobufCBinaryData) { .len = sizeof *addr, .data = (uint8_t *) addr };
        a.present = present;
        ev.msg_case = PATCHPANEL__IPC__FORWARDER_REPORT__MSG_ND_ADDRESS;
        ev.nd_address = &a;
        r = fwd_runtime_send(nd->rt, &ev);
        if (r < 0 && r != -ENOTCONN)
                log_warning_errno(r, "Cannot tell the manager of an address, ignoring: %m");
}

/* What became of an address reported with supervised_address(). */
static void on_nd_routed(const Patchpanel__Ipc__NdAddress *a, void *userdata) {
        struct in6_addr addr;
        Nd *nd = userdata;

        if (a->address.len != sizeof addr || a->guest_ifindex <= 0)
                log_fatal("The manager sent a malformed address (%zu bytes, ifindex %d)",
                          a->address.len, (int) a->guest_ifindex);
        memcpy(&addr, a->address.data, sizeof addr);
        if (a->present)
                nd_daemon_address_routed(nd->daemon, a->guest_ifindex, &addr);
        else
                nd_daemon_refuse_address(nd->daemon, a->guest_ifindex, &addr);
}

static void supervised_changed(NdDaemon *d, void *userdata) {
        Nd *nd = userdata;

        (void) d;
        if (nd->rt)
                fwd_runtime_status_changed(nd->rt);
}

/* Stage 2, with the event loop and the control channel fwd_main_supervised() made. */
static int supervised_setup(sd_event *e, FwdRuntime *rt, void *userdata) {
        const NdDaemonOps ops = {
                .address = supervised_address,
                .changed = supervised_changed,
                .userdata = userdata,
        };
        Nd *nd = userdata;
        int r;

        nd->event = e;
        nd->rt = rt;
        r = nd_daemon_new(e, &nd->config, &ops, &nd->daemon);
        /* The daemon has the sockets now, even when it failed (it closed them then). */
        nd->config.packet_fd = nd->config.netlink_fd = nd->config.monitor_fd = -EBADF;
        if (r >= 0)
                r = sd_event_add_signal(e, NULL, SIGUSR1 | SD_EVENT_SIGNAL_PROCMASK, on_usr1, nd);
        if (r < 0)
                log_fatal("Failed to set up: %s", strerror(-r));
        return 0;
}

static void supervised_done(void *userdata) {
        Nd *nd = userdata;

        if (nd->stats_json)
                nd_daemon_print_stats(nd->daemon, stdout, true);
        nd->daemon = nd_daemon_free(nd->daemon);
}

static int run_supervised(const Args *a) {
        static Nd nd;
        const FwdOptions o = { .control_fd = a->control_fd, .seccomp = a->seccomp };
        const FwdSupervised f = {
                .kind = PATCHPANEL__IPC__CHILD_KIND__CHILD_KIND_NDPROXY,
                .policy = seccomp_policy_ndproxyd,
                .cb = {
                        .link_add = on_link_add,
                        .link_remove = on_link_remove,
                        .status = on_status,
                        .status_done = on_status_done,
                        .nd_routed = on_nd_routed,
                        .userdata = &nd,
                },
                .setup = supervised_setup,
                .done = supervised_done,
        };
        int r;

        nd.stats_json = a->stats;
        nd.config = (NdDaemonConfig) { .address_lifetime_usec =
                                               (uint64_t) a->address_lifetime * 1000000u };
        if (open_sockets(&nd.config) < 0)
                return EXIT_FAILURE;
        r = fwd_main_supervised(&o, &f);
        /* Still here when the event loop or the control channel could not be made. */
        close_sockets(&nd.config);
        return r;
}

/* ---- standalone: the child ------------------------------------------------------------- */

/* A request to the parent, in flight or waiting to be asked again. The channel drops the
 * callbacks of requests the parent never answers (it died): the calls are kept in a list
 * of their own and freed at exit. */
typedef struct PrivCall PrivCall;
struct PrivCall {
        Nd *nd;
        bool uplink;                 /* NdPrivUplink, else NdPrivRoute */
        bool add;
        int ifindex;
        struct in6_addr addr;
        unsigned tries;
        sd_event_source *retry;
        LIST_FIELDS(PrivCall, calls);
};

/* The host may not have the uplink's prefix yet when a guest has it (both come from the
 * same RA): a route refused for that is asked for again, a second apart, this many times. */
#define PRIV_ROUTE_TRIES 8
#define PRIV_RETRY_USEC (1000 * 1000)

static PrivCall *priv_call_free(PrivCall *call) {
        if (!call)
                return NULL;
        LIST_REMOVE(calls, call->nd->calls, call);
        sd_event_source_disable_unref(call->retry);
        free(call);
        return NULL;
}

static void priv_send(PrivCall *call);

static int on_priv_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        PrivCall *call = userdata;

        (void) s;
        (void) usec;
        call->retry = sd_event_source_disable_unref(call->retry);
        priv_send(call);
        return 0;
}

static void on_priv_answer(const ProtobufCMessage *answer, int *fds, size_t n_fds, void *userdata) {
        const NdPrivResponse *resp = (const NdPrivResponse *) answer;
        PrivCall *call = userdata;
        Nd *nd = call->nd;

        (void) fds;
        (void) n_fds;
        if (resp->status >= 0) {
                if (!call->uplink && call->add)
                        nd_daemon_address_routed(nd->daemon, call->ifindex, &call->addr);
                priv_call_free(call);
                return;
        }
        if (call->uplink) {
                /* As the original: without its SLAAC, the host would lose IPv6. */
                log_error("The parent could not prepare the uplink: %s", resp->message);
                (void) sd_event_exit(nd->event, EXIT_FAILURE);
        } else if (call->add && resp->status == -ENETUNREACH && call->tries < PRIV_ROUTE_TRIES &&
                   sd_event_add_time_relative(nd->event, &call->retry, CLOCK_MONOTONIC,
                                              PRIV_RETRY_USEC, 0, on_priv_retry, call) >= 0) {
                log_debug("No route for a guest address yet (%s), asking again", resp->message);
                return;
        } else if (call->add) {
                log_warning("No route for a guest address: %s", resp->message);
                nd_daemon_refuse_address(nd->daemon, call->ifindex, &call->addr);
        } else
                log_warning("Cannot remove the route of a guest address: %s", resp->message);
        priv_call_free(call);
}

/* Ask the parent what @call says (again). */
static void priv_send(PrivCall *call) {
        Patchpanel__Ipc__NdPrivUplink uplink = PATCHPANEL__IPC__ND_PRIV_UPLINK__INIT;
        Patchpanel__Ipc__NdPrivRoute route = PATCHPANEL__IPC__ND_PRIV_ROUTE__INIT;
        NdPrivRequest req = PATCHPANEL__IPC__ND_PRIV_REQUEST__INIT;
        Nd *nd = call->nd;
        int r;

        call->tries++;
        if (call->uplink) {
                uplink.ifindex = call->ifindex;
                req.op_case = PATCHPANEL__IPC__ND_PRIV_REQUEST__OP_UPLINK;
                req.uplink = &uplink;
        } else {
                route.add = call->add;
                route.ifindex = call->ifindex;
                route.address = (ProtobufCBinaryData) { .len = sizeof call->addr,
                                                        .data = (uint8_t *) &call->addr };
                req.op_case = PATCHPANEL__IPC__ND_PRIV_REQUEST__OP_ROUTE;
                req.route = &route;
        }
        r = channel_call(nd->parent, &req.base, NULL, 0, on_priv_answer, call);
        if (r < 0) {
                priv_call_free(call);
                log_error_errno(r, "Cannot reach the parent: %m");
                (void) sd_event_exit(nd->event, EXIT_FAILURE);
        }
}

static void priv_ask(Nd *nd, bool uplink, bool add, int ifindex, const struct in6_addr *addr) {
        PrivCall *call = calloc(1, sizeof *call);

        if (!call) {
                log_error("Out of memory for a request to the parent");
                return;
        }
        *call = (PrivCall) { .nd = nd, .uplink = uplink, .add = add, .ifindex = ifindex };
        if (addr)
                call->addr = *addr;
        LIST_PREPEND(calls, nd->calls, call);
        priv_send(call);
}

static void standalone_address(NdDaemon *d, int guest_ifindex, const char *guest,
                               const struct in6_addr *addr, bool present, void *userdata) {
        (void) d;
        (void) guest;
        priv_ask(userdata, /* uplink= */ false, present, guest_ifindex, addr);
}

static void standalone_uplink(NdDaemon *d, int ifindex, void *userdata) {
        (void) d;
        priv_ask(userdata, /* uplink= */ true, false, ifindex, NULL);
}

static void on_parent_gone(Channel *c, const char *why, void *userdata) {
        Nd *nd = userdata;

        (void) c;
        log_debug("The parent's socket is gone (%s), exiting", why);
        (void) sd_event_exit(nd->event, 0);
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Nd *nd = userdata;

        (void) s;
        log_debug("Received signal %u, exiting", si->ssi_signo);
        (void) sd_event_exit(nd->event, 0);
        return 0;
}

/* The child's identity: started as root, become --user. */
static int become_user(const struct passwd *pw) {
        int r;

        if (geteuid() != 0)
                return 0;
        if (!pw)
                return log_error_errno(-ENOENT, "No such user for the packet-parsing process");
        r = privs_drop_to_user(pw->pw_uid, pw->pw_gid, NULL, 0);
        if (r < 0)
                log_warning_errno(r, "Cannot become %s (no CAP_SETUID?), staying uid 0 without "
                                  "any capability: %m", pw->pw_name);
#ifdef PP_SANITIZE
        (void) prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
        return 0;
}

static int run_child(const Args *a, NdDaemonConfig *config, int parent_fd,
                     const struct passwd *pw) {
        const ChannelConfig channel = {
                .send = &patchpanel__ipc__nd_priv_request__descriptor,
                .recv = &patchpanel__ipc__nd_priv_response__descriptor,
                .asking = true,
                .ordered = true,
                .on_dead = on_parent_gone,
        };
        NdDaemonOps ops = { .address = standalone_address, .uplink_appeared = standalone_uplink };
        ChannelConfig cc = channel;
        static Nd nd;
        int r;

        nd.stats_json = a->stats;
        ops.userdata = &nd;
        cc.userdata = &nd;
        /* The parent's end of life is ours. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0 || getppid() == 1)
                return EXIT_FAILURE;
        r = sd_event_default(&nd.event);
        if (r >= 0)
                r = channel_new(nd.event, parent_fd, &cc, &nd.parent);
        for (size_t i = 0; r >= 0 && i < 3; i++) {
                static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
                r = sd_event_add_signal(nd.event, NULL, sigs[i] | SD_EVENT_SIGNAL_PROCMASK,
                                        on_exit_signal, &nd);
        }
        if (r >= 0)
                r = sd_event_add_signal(nd.event, NULL, SIGUSR1 | SD_EVENT_SIGNAL_PROCMASK, on_usr1, &nd);
        if (r >= 0)
                r = nd_daemon_new(nd.event, config, &ops, &nd.daemon);
        if (r < 0)
                log_fatal("Failed to set up: %s", strerror(-r));
        if (become_user(pw) < 0 || fwd_sandbox(seccomp_policy_ndproxyd, a->seccomp) < 0)
                return EXIT_FAILURE;
        (void) nd_daemon_start_standalone(nd.daemon);
        r = sd_event_loop(nd.event);
        if (nd.stats_json)
                nd_daemon_print_stats(nd.daemon, stdout, true);
        nd.daemon = nd_daemon_free(nd.daemon);
        nd.parent = channel_free(nd.parent);
        while (nd.calls)
                priv_call_free(nd.calls);
        sd_event_unref(nd.event);
        return r < 0 ? EXIT_FAILURE : r;
}

static int run_standalone(const Args *a) {
        NdDaemonConfig config = {
                .address_lifetime_usec = (uint64_t) a->address_lifetime * 1000000u,
                .uplink = a->uplink,
                .downlinks = a->downlinks,
                .n_downlinks = a->n_downlinks,
        };
        const NdPrivConfig priv = {
                .uplink = a->uplink,
                .downlinks = a->downlinks,
                .n_downlinks = a->n_downlinks,
                .seccomp = a->seccomp,
        };
        const struct passwd *pw = geteuid() == 0 ? getpwnam(a->user) : NULL;
        int pair[2];
        pid_t pid;

        if (open_sockets(&config) < 0)
                return EXIT_FAILURE;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
                close_sockets(&config);
                return log_error_errno(-errno, "Failed to make the parent's socket: %m"), EXIT_FAILURE;
        }
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                close_sockets(&config);
                return log_error_errno(-errno, "Failed to fork: %m"), EXIT_FAILURE;
        }
        if (pid == 0) {
                safe_close(pair[0]);
                _exit(run_child(a, &config, pair[1], pw));
        }
        safe_close(pair[1]);
        close_sockets(&config);
        return nd_priv_run(pair[0], pid, &priv);
}

int main(int argc, char **argv) {
        sigset_t mask;
        Args args;

        log_setup("ndproxyd");
        if (parse_args(argc, argv, &args) < 0)
                return EXIT_FAILURE;
        /* The event loop takes these through signalfd; block them before any fork. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGUSR1);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        if (args.control_fd >= 0)
                return run_supervised(&args);
        return run_standalone(&args);
}
