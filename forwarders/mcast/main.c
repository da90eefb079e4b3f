/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mcastd: mDNS and SSDP between an uplink and the guests behind it (and among those
 * guests), over IPv4 and IPv6, and the broadcast forwarder for ARC (reference §8.2, §8.3).
 * Two modes share every code path after start-up:
 *
 *   supervised   mcastd --control-fd=FD, started by patchpanel-launcher for patchpaneld,
 *                which sends ForwarderLink pairs (proto/ipc.proto says what each guest
 *                kind carries) and gets ForwarderStatus reports with the counters;
 *   standalone   mcastd UPLINK DOWNLINK... (or --links=UPLINK:DOWNLINK...), without
 *                manager or D-Bus, mDNS and SSDP only; links that do not exist yet are
 *                served when rtnetlink says they appear.
 *
 * Theory of operation, each stage shrinking what the process can do:
 *   1. arguments; the forwarding object (mcast-fwd.h) with its rate limits;
 *   2. the sockets that need a privilege or the start-up policy: supervised, the
 *      broadcast forwarder's AF_PACKET socket (CAP_NET_RAW, handed by the launcher as an
 *      ambient capability), unbound and passing nothing until links come; the rtnetlink
 *      socket, with the links and addresses read to their end;
 *   3. supervised, the control channel to the manager; standalone, the signals that end
 *      the process; both, SIGUSR1 for the counters;
 *   4. fwd_sandbox(): every capability dropped for good, no_new_privs, then
 *      seccomp/mcastd.policy - before the first packet is read (no handler has run yet);
 *   5. links: supervised, hello, and the manager's pairs follow; standalone, the command
 *      line's. Per link, the UDP sockets need no privilege;
 *   6. the loop, until SIGTERM/SIGINT/SIGHUP or the manager's socket closes; --stats
 *      prints the counters on the way out.
 */
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mcastd.h"
#include "options.h"
#include "rate-limit.h"

extern const char seccomp_policy_mcastd[];

#define LINKS_ARG_MAX 64

typedef struct Args {
        FwdOptions fwd;
        bool stats;
        RateLimits rates;
        char *links[LINKS_ARG_MAX + 1];   /* --links, split: uplink first */
        char links_buf[LINKS_ARG_MAX * IFNAMSIZ];
} Args;

/* PROTO=PER_SEC[/BURST]: mdns, ssdp or broadcast; 0 turns the limit off. */
/* UPLINK:DOWNLINK[:DOWNLINK...] (interface names cannot hold ':'), as a unit instance. */
static int parse_links(const Option *o, const char *arg, ErrBuf *err) {
        Args *a = o->data;
        char *save = NULL;
        size_t n = 0;

        if (strlen(arg) >= sizeof a->links_buf)
                return errbuf_set(err, -EINVAL, "too long");
        snprintf(a->links_buf, sizeof a->links_buf, "%s", arg);
        for (char *t = strtok_r(a->links_buf, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
                if (n >= LINKS_ARG_MAX)
                        return errbuf_set(err, -E2BIG, "too many links");
                a->links[n++] = t;
        }
        a->links[n] = NULL;
        if (n < 2)
                return errbuf_set(err, -EINVAL, "expected UPLINK:DOWNLINK[:DOWNLINK...]");
        return 0;
}

static int on_usr1(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        (void) s;
        (void) si;
        log_info("Counters:");
        mcastd_dump(userdata, stderr);
        return 0;
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        (void) userdata;
        log_debug("Received signal %u, exiting", si->ssi_signo);
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static void on_pair_add(const ForwarderLink *l, void *userdata) {
        int r = mcastd_pair_add(userdata, l);

        /* The manager speaks the protocol or is broken (STYLE.md: exiting is for that). */
        if (r == -EINVAL)
                log_fatal("The manager sent a malformed link pair");
        if (r < 0)
                log_warning_errno(r, "Cannot serve %s behind %s, ignoring: %m", l->guest, l->uplink);
}

static void on_pair_remove(const ForwarderLink *l, void *userdata) {
        int r = mcastd_pair_remove(userdata, l);

        if (r < 0)
                log_warning_errno(r, "The manager removed %s behind %s, which it never added, "
                                  "ignoring: %m", l->guest ?: "?", l->uplink ?: "?");
}

/* The IPC protocols are ours in the same order, after its UNSPECIFIED. */
static_assert(PATCHPANEL__IPC__MCAST_PROTOCOL__MCAST_PROTOCOL_MDNS == MCAST_PROTO_MDNS + 1 &&
              PATCHPANEL__IPC__MCAST_PROTOCOL__MCAST_PROTOCOL_SSDP == MCAST_PROTO_SSDP + 1 &&
              PATCHPANEL__IPC__MCAST_PROTOCOL__MCAST_PROTOCOL_BROADCAST == MCAST_PROTO_BCAST + 1,
              "McastProtocol is McastProto + 1");

/* The rate limits of patchpaneld's --mcast-rate-limit, which it checked: for every link,
 * both directions. */
static void on_mcast_config(const Patchpanel__Ipc__McastConfig *c, void *userdata) {
        Mcastd *m = userdata;

        for (size_t i = 0; i < c->n_rates; i++) {
                const Patchpanel__Ipc__McastRate *rate = c->rates[i];
                RateLimit r = { .per_sec = rate->per_sec, .burst = rate->burst };
                int p = (int) rate->protocol - 1;

                if (p < 0 || p >= _MCAST_PROTO_MAX || rate_limit_check(r, &(ErrBuf) {}) < 0)
                        log_fatal("The manager sent a malformed rate limit");
                for (McastDir d = 0; d < _MCAST_DIR_MAX; d++)
                        (void) mcast_fwd_set_rate(m->fwd, (McastProto) p, d,
                                                  (McastRate) { r.per_sec, r.burst });
                log_debug("%s: %u a second, bursts of %u", mcast_proto_to_string((McastProto) p),
                          r.per_sec, r.burst);
        }
}

/* Stages 2 and 3. */
static int mcastd_setup(Mcastd *m, const Args *a) {
        const NetWatchCallbacks nw = {
                .link_new = mcastd_on_link_new,
                .link_gone = mcastd_on_link_gone,
                .addresses_changed = mcastd_on_addresses,
                .userdata = m,
        };
        const FwdCallbacks cb = {
                .link_add = on_pair_add,
                .link_remove = on_pair_remove,
                .status = mcastd_status,
                .status_done = mcastd_status_done,
                .mcast_config = on_mcast_config,
                .userdata = m,
        };
        int r;

        for (McastProto p = 0; p < _MCAST_PROTO_MAX; p++)
                for (McastDir d = 0; d < _MCAST_DIR_MAX && a->rates.set[p]; d++)
                        (void) mcast_fwd_set_rate(m->fwd, p, d,
                                                  (McastRate) { a->rates.rate[p].per_sec,
                                                                a->rates.rate[p].burst });
        if (a->fwd.control_fd >= 0) {
                r = bcast_sock_open(m, &m->bcast);
                if (r < 0)
                        log_error_errno(r, "No broadcast forwarding: cannot open its socket "
                                        "(CAP_NET_RAW?): %m");
        }
        r = netwatch_new(m->event, &nw, &m->netwatch);
        if (r < 0)
                return log_error_errno(r, "Failed to read the links and addresses: %m");
        if (a->fwd.control_fd >= 0) {
                r = fwd_runtime_new(m->event, a->fwd.control_fd,
                                    PATCHPANEL__IPC__CHILD_KIND__CHILD_KIND_MCAST, &cb, &m->rt);
                if (r >= 0)
                        r = mcastd_status_setup(m);
                if (r < 0)
                        return log_error_errno(r, "Failed to set up the control channel: %m");
        } else
                for (size_t i = 0; i < 3; i++) {
                        static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };

                        r = sd_event_add_signal(m->event, NULL, sigs[i] | SD_EVENT_SIGNAL_PROCMASK,
                                                on_exit_signal, m);
                        if (r < 0)
                                return log_error_errno(r, "Failed to watch signals: %m");
                }
        r = sd_event_add_signal(m->event, NULL, SIGUSR1 | SD_EVENT_SIGNAL_PROCMASK, on_usr1, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch SIGUSR1: %m");
        return 0;
}

static void mcastd_done(Mcastd *m) {
        mcastd_links_free(m);
        reply_proxies_free_all(m);
        m->status_due = sd_event_source_disable_unref(m->status_due);
        m->rt = fwd_runtime_free(m->rt);
        m->netwatch = netwatch_free(m->netwatch);
        m->bcast = bcast_sock_free(m->bcast);
        m->fwd = mcast_fwd_free(m->fwd);
        m->event = sd_event_unref(m->event);
}

static int parse_args(int argc, char **argv, Args *a) {
        const Option options[] = {
                { "control-fd", 0, "FD", "supervised: the socket to patchpaneld",
                  option_parse_fd, &a->fwd.control_fd },
                { "links", 0, "UP:DOWN[:DOWN...]", "standalone: the uplink and the downlinks,\n"
                  "as an alternative to the operands", parse_links, a },
                { "rate-limit", 0, "PROTO=N[/BURST]", "datagrams a second each link may send\n"
                  "and be sent, per protocol (mdns, ssdp, broadcast;\n0: no limit; default: "
                  "2000 for mdns and ssdp,\n1000 for broadcast); repeatable",
                  rate_limit_option_parse, &a->rates },
                { "stats", 0, NULL, "print the counters when exiting (SIGUSR1: any time)",
                  option_parse_flag, &a->stats },
                OPTION_LOG_LEVEL(&a->fwd.log_level),
                OPTION_SECCOMP(&a->fwd.seccomp),
        };
        const OptionsSpec spec = {
                .usage = "mcastd [OPTIONS] UPLINK DOWNLINK...\n       mcastd --control-fd=FD [OPTIONS]",
                .description = "Forwards mDNS and SSDP between UPLINK and the DOWNLINKs (and among\n"
                               "the DOWNLINKs); links may appear later. Started by patchpanel, it\n"
                               "also forwards ARC's UDP broadcasts.",
                .options = options,
                .n_options = ELEMENTSOF(options),
        };
        int first, r;

        r = options_parse(&spec, argc, argv, &first);
        if (r < 0)
                return r;
        if (a->fwd.control_fd >= 0 ? (first < argc || a->links[0]) :
            (a->links[0] ? first < argc : argc - first < 2)) {
                options_usage(&spec, stderr);
                return -EINVAL;
        }
        if (!a->links[0])
                for (int i = first; i < argc && i - first < LINKS_ARG_MAX; i++)
                        a->links[i - first] = argv[i];
        return 0;
}

int main(int argc, char **argv) {
        static Args a = { .fwd = { .control_fd = -EBADF, .seccomp = SECCOMP_MODE_ENFORCE } };
        static Mcastd m;
        size_t n_down = 0;
        int r;

        log_setup("mcastd");
        if (parse_args(argc, argv, &a) < 0)
                return EXIT_FAILURE;
        r = sd_event_default(&m.event);
        if (r < 0)
                log_fatal("Failed to get an event loop: %s", strerror(-r));
        m.fwd = mcast_fwd_new();
        if (!m.fwd)
                log_fatal("Out of memory");
        if (mcastd_setup(&m, &a) < 0 || fwd_sandbox(seccomp_policy_mcastd, a.fwd.seccomp) < 0) {
                mcastd_done(&m);
                return EXIT_FAILURE;
        }
        if (m.rt)
                r = fwd_runtime_hello(m.rt);
        else {
                while (a.links[1 + n_down])
                        n_down++;
                r = mcastd_standalone_links(&m, a.links[0], &a.links[1], n_down);
        }
        if (r < 0) {
                log_error_errno(r, "Failed to start: %m");
                mcastd_done(&m);
                return EXIT_FAILURE;
        }
        log_info("Running %s, %s broadcast", m.rt ? "for patchpaneld" : "standalone",
                 m.bcast ? "with" : "without");
        r = sd_event_loop(m.event);
        if (a.stats)
                mcastd_dump(&m, stdout);
        mcastd_done(&m);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
