/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * adb-proxy: ADB over TCP into ARC. A developer runs `adb connect HOST:5555` from the LAN
 * (or from the Linux VM, through the DNAT on its TAP) and reaches ARC's adbd: the
 * container's adbd socket (falling back to TCP to ARC's address), or ARCVM's vsock. One
 * event loop for every connection; the bytes move by splice() (relay.c).
 *
 * Theory of operation:
 *   1. options, as patchpanel-launcher gives them (--control-fd=3, --log-level,
 *      --seccomp); SIGPIPE ignored (a peer that vanished is an error to handle, not a
 *      signal);
 *   2. the event loop, the control channel to patchpaneld, the relay and its epoll set:
 *      nothing of the network is open yet, and nothing is read from it;
 *   3. fwd_sandbox(): no capability (the launcher gave none), no_new_privs, our seccomp
 *      policy (seccomp/adb-proxy.policy); then hello;
 *   4. the manager's AdbProxyConfig: the connection cap (and the fd limit it takes), the
 *      idle timeout, the adbd socket's path;
 *   5. while patchpaneld serves us ARC's management link, [::]:5555 listens and each
 *      accepted connection gets a pair in the relay; when the link goes (ARC stopped), the
 *      listener and every pair close at once;
 *   6. SIGTERM or the control socket closing ends the loop; everything closes with it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "forwarder.h"
#include "log.h"
#include "options.h"
#include "relay.h"

extern const char seccomp_policy_adb_proxy[];

#define ADB_PORT 5555
#define LISTEN_BACKLOG 128
/* Accepted in one turn at most, so that the listener cannot crowd out the relay. */
#define ACCEPT_BATCH 64
/* The fds beside the pairs': stdio, control socket, sd-event's, the listener. */
#define FDS_RESERVED 64u
#define LISTEN_RETRY_USEC (5ull * 1000 * 1000)
#define ACCEPT_PAUSE_USEC (100ull * 1000)
/* Warnings anyone on the network can trigger: at most one in this interval. */
#define WARN_INTERVAL_USEC (5ull * 1000 * 1000)

typedef Patchpanel__Ipc__AdbProxyConfig AdbProxyConfig;
typedef Patchpanel__Ipc__ForwarderCounter ForwarderCounter;

typedef enum Counter {
        COUNTER_LISTENING,
        COUNTER_OPEN,
        COUNTER_TOTAL,
        COUNTER_REFUSED,
        COUNTER_UPSTREAM_FAILURES,
        COUNTER_IDLE_CLOSED,
        COUNTER_BYTES_TO_ARC,
        COUNTER_BYTES_FROM_ARC,
        COUNTER_COPY_FALLBACKS,
        COUNTER_HEAP_BYTES,
        _COUNTER_MAX,
} Counter;

static const char *const counter_names[_COUNTER_MAX] = {
        [COUNTER_LISTENING] = "listening",
        [COUNTER_OPEN] = "connections_open",
        [COUNTER_TOTAL] = "connections_total",
        [COUNTER_REFUSED] = "connections_refused",
        [COUNTER_UPSTREAM_FAILURES] = "upstream_failures",
        [COUNTER_IDLE_CLOSED] = "idle_closed",
        [COUNTER_BYTES_TO_ARC] = "bytes_to_arc",
        [COUNTER_BYTES_FROM_ARC] = "bytes_from_arc",
        [COUNTER_COPY_FALLBACKS] = "copy_fallbacks",
        [COUNTER_HEAP_BYTES] = "heap_bytes",
};

typedef struct AdbProxy {
        sd_event *event;
        FwdRuntime *rt;
        Relay *relay;
        sd_event_source *relay_source;
        sd_event_source *listen_source;
        sd_event_source *expire_timer;   /* relay_next_deadline() */
        sd_event_source *retry_timer;    /* listening again, or accepting again */
        int listen_fd;
        uint64_t armed;                  /* when expire_timer fires; UINT64_MAX: off */
        RelayCounters reported;          /* the counters the last status change saw */
        char socket_path[sizeof(((RelayTarget *) NULL)->path)];

        bool serving;                    /* ARC's management link is ours */
        ForwarderLink arc;               /* ... a copy, its name in arc_name */
        char arc_name[16];
        char arc_uplink[16];

        uint64_t warned;                 /* the last rate-limited warning */
        unsigned suppressed;             /* warnings since, not logged */

        ForwarderCounter counters[_COUNTER_MAX];
        ForwarderCounter *counter_ptrs[_COUNTER_MAX];
        ForwarderLink *link_ptr;
} AdbProxy;

static uint64_t proxy_now(AdbProxy *p) {
        uint64_t now = 0;

        (void) sd_event_now(p->event, CLOCK_MONOTONIC, &now);
        return now;
}

/* A warning anyone on the network can cause: at most one per interval, then a count. */
_printf_(2, 3) static void proxy_warn(AdbProxy *p, const char *format, ...) {
        uint64_t now = proxy_now(p);
        char text[512];
        va_list ap;

        if (p->warned != 0 && now - p->warned < WARN_INTERVAL_USEC) {
                p->suppressed++;
                return;
        }
        va_start(ap, format);
        vsnprintf(text, sizeof text, format, ap);
        va_end(ap);
        if (p->suppressed > 0)
                log_warning("%s (and %u more warnings like it)", text, p->suppressed);
        else
                log_warning("%s", text);
        p->warned = now;
        p->suppressed = 0;
}

/* ---- status ------------------------------------------------------------------------------ */

static void proxy_status_changed(AdbProxy *p) {
        const RelayCounters *c = relay_counters(p->relay);

        if (memcmp(c, &p->reported, sizeof *c) == 0)
                return;
        p->reported = *c;
        fwd_runtime_status_changed(p->rt);
}

static void on_status(ForwarderStatus *st, void *userdata) {
        AdbProxy *p = userdata;
        const RelayCounters *c = relay_counters(p->relay);
        /* What the process has allocated (not counters, but what the cost of a connection
         * is measured by). */
        struct mallinfo2 mi = mallinfo2();
        const uint64_t values[_COUNTER_MAX] = {
                [COUNTER_LISTENING] = p->listen_fd >= 0,
                [COUNTER_OPEN] = c->open,
                [COUNTER_TOTAL] = c->total,
                [COUNTER_REFUSED] = c->refused,
                [COUNTER_UPSTREAM_FAILURES] = c->upstream_failures,
                [COUNTER_IDLE_CLOSED] = c->idle_closed,
                [COUNTER_BYTES_TO_ARC] = c->bytes_up,
                [COUNTER_BYTES_FROM_ARC] = c->bytes_down,
                [COUNTER_COPY_FALLBACKS] = c->copy_fallbacks,
                [COUNTER_HEAP_BYTES] = mi.uordblks + mi.hblkhd,
        };

        for (size_t i = 0; i < _COUNTER_MAX; i++) {
                patchpanel__ipc__forwarder_counter__init(&p->counters[i]);
                p->counters[i].link = (char *) "";
                p->counters[i].name = (char *) counter_names[i];
                p->counters[i].value = values[i];
                p->counter_ptrs[i] = &p->counters[i];
        }
        st->counters = p->counter_ptrs;
        st->n_counters = _COUNTER_MAX;
        if (p->serving) {
                p->link_ptr = &p->arc;
                st->links = &p->link_ptr;
                st->n_links = 1;
        }
}

/* ---- the relay's timers and events ----------------------------------------------------- */

/* The timer for relay_expire(), armed lazily: activity only moves deadlines later, so the
 * timer is moved only when something is due sooner than it fires (a new pair's connect
 * timeout), and a timer that fires early finds nothing due and is armed again. Moving it
 * on every byte would cost a timerfd_settime() per wake-up. */
static void proxy_arm_expiry(AdbProxy *p) {
        uint64_t when = relay_next_deadline(p->relay);

        if (when >= p->armed)
                return;
        p->armed = when;
        if (sd_event_source_set_time(p->expire_timer, when) < 0 ||
            sd_event_source_set_enabled(p->expire_timer, SD_EVENT_ONESHOT) < 0) {
                /* Timeouts are late, not lost: the next event tries again. */
                log_warning("Cannot arm the relay's timer, ignoring");
                p->armed = UINT64_MAX;
        }
}

static int on_expire(sd_event_source *s, uint64_t usec, void *userdata) {
        AdbProxy *p = userdata;

        (void) s;
        p->armed = UINT64_MAX;
        (void) relay_expire(p->relay, usec);
        proxy_arm_expiry(p);
        proxy_status_changed(p);
        return 0;
}

static int on_relay(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        AdbProxy *p = userdata;
        int r;

        (void) s;
        (void) fd;
        (void) revents;
        r = relay_dispatch(p->relay, proxy_now(p));
        if (r < 0)
                log_fatal("The relay's epoll set failed: %s", strerror(-r));
        proxy_arm_expiry(p);
        proxy_status_changed(p);
        return 0;
}

static void on_pair_closed(const RelayConnInfo *info, RelayCloseReason reason, void *userdata) {
        AdbProxy *p = userdata;

        if (reason == RELAY_CLOSE_UPSTREAM_FAILED || reason == RELAY_CLOSE_CONNECT_TIMEOUT ||
            reason == RELAY_CLOSE_RESOURCES)
                proxy_warn(p, "Connection %llu closed: %s: %s", (unsigned long long) info->id,
                           relay_close_reason_to_string(reason), strerror(info->error));
        else
                log_debug("Connection %llu closed (%s%s%s): %llu bytes to ARC, %llu from ARC",
                          (unsigned long long) info->id, relay_close_reason_to_string(reason),
                          info->error ? ": " : "", info->error ? strerror(info->error) : "",
                          (unsigned long long) info->bytes_up,
                          (unsigned long long) info->bytes_down);
}

static void on_target_failed(const RelayTarget *t, int error, void *userdata) {
        AdbProxy *p = userdata;
        char where[160];
        const char *hint = "";

        if (t->kind == RELAY_TARGET_VSOCK &&
            (error == -ENODEV || error == -EAFNOSUPPORT || error == -ESOCKTNOSUPPORT ||
             error == -ENETUNREACH || error == -EHOSTUNREACH))
                hint = " (this kernel has no vsock transport to that cid: no ARCVM there)";
        proxy_warn(p, "Cannot reach ARC's adbd at %s: %s%s",
                   relay_target_to_string(t, where, sizeof where), strerror(-error), hint);
}

/* ---- the listener ----------------------------------------------------------------------- */

static void proxy_close_listener(AdbProxy *p) {
        p->listen_source = sd_event_source_disable_unref(p->listen_source);
        p->listen_fd = safe_close(p->listen_fd);
        p->retry_timer = sd_event_source_disable_unref(p->retry_timer);
}

static int proxy_listen(AdbProxy *p);

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        AdbProxy *p = userdata;

        (void) s;
        (void) usec;
        p->retry_timer = sd_event_source_disable_unref(p->retry_timer);
        if (!p->serving)
                return 0;
        if (p->listen_fd >= 0) {
                /* A pause after running out of fds is over. */
                (void) sd_event_source_set_enabled(p->listen_source, SD_EVENT_ON);
                return 0;
        }
        (void) proxy_listen(p);
        return 0;
}

static void proxy_retry_in(AdbProxy *p, uint64_t usec) {
        if (p->retry_timer)
                return;
        if (sd_event_add_time_relative(p->event, &p->retry_timer, CLOCK_MONOTONIC, usec, 0,
                                       on_retry, p) < 0)
                log_error("Cannot arm a timer: the listener stays as it is");
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        AdbProxy *p = userdata;
        uint64_t now = proxy_now(p);
        int one = 1;

        (void) revents;
        for (unsigned i = 0; i < ACCEPT_BATCH; i++) {
                int client = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

                if (client < 0) {
                        if (errno == EAGAIN)
                                break;
                        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                            errno == ENOMEM) {
                                /* Level-triggered: pause rather than spin until fds free. */
                                proxy_warn(p, "Cannot accept a connection: %s; pausing",
                                           strerror(errno));
                                (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
                                proxy_retry_in(p, ACCEPT_PAUSE_USEC);
                                break;
                        }
                        continue; /* ECONNABORTED and the like: that one is gone */
                }
                (void) setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                if (relay_add(p->relay, client, now) == -EBUSY)
                        proxy_warn(p, "Refused a connection: %u connections are the limit",
                                   relay_get_config(p->relay)->max_conns);
        }
        proxy_arm_expiry(p);
        proxy_status_changed(p);
        return 0;
}

static int proxy_listen(AdbProxy *p) {
        struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT,
                                  .sin6_port = htons(ADB_PORT) };
        _cleanup_close_ int fd = -EBADF;
        int one = 1, zero = 0, r;

        fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return log_error_errno(-errno, "Cannot make the listening socket: %m");
        /* Dual stack whatever net.ipv6.bindv6only says: IPv4 clients, and the Termina VM's
         * DNAT to 127.0.0.1, come as v4-mapped addresses. */
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0)
                return log_error_errno(-errno, "Cannot set up the listening socket: %m");
        if (bind(fd, (struct sockaddr *) &a, sizeof a) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
                r = -errno;
                log_error_errno(r, "Cannot listen on [::]:%d: %m; trying again in %llu s",
                                ADB_PORT, LISTEN_RETRY_USEC / 1000000);
                proxy_retry_in(p, LISTEN_RETRY_USEC);
                return r;
        }
        r = sd_event_add_io(p->event, &p->listen_source, fd, EPOLLIN, on_accept, p);
        if (r < 0)
                return log_error_errno(r, "Cannot watch the listening socket: %m");
        p->listen_fd = TAKE_FD(fd);
        log_info("Listening on [::]:%d for %s", ADB_PORT, p->arc_name);
        fwd_runtime_status_changed(p->rt);
        return 0;
}

/* ---- what the manager tells us ---------------------------------------------------------- */

/* The fd limit for the cap: raised (up to the hard limit) or lowered to what it takes; a
 * hard limit that is too low lowers the cap instead. */
static void proxy_fit_fd_limit(RelayConfig *config) {
        const RelayConfig no_pairs = { .spare_pipes = config->spare_pipes };
        uint64_t fixed = relay_fd_budget(&no_pairs) + FDS_RESERVED;
        uint64_t want = relay_fd_budget(config) + FDS_RESERVED;
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
                log_warning_errno(-errno, "Cannot read the fd limit, keeping it: %m");
                return;
        }
        if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max) {
                uint64_t room = rl.rlim_max > fixed ? rl.rlim_max - fixed : 0;
                unsigned cap = (unsigned) (room / RELAY_FDS_PER_CONN);

                log_warning("The fd limit (%llu) is too low for %u connections: allowing %u",
                            (unsigned long long) rl.rlim_max, config->max_conns, cap);
                config->max_conns = cap;
                want = rl.rlim_max;
        }
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                log_warning_errno(-errno, "Cannot set the fd limit to %llu, ignoring: %m",
                                  (unsigned long long) want);
        else
                log_debug("fd limit %llu for %u connections", (unsigned long long) want,
                          config->max_conns);
}

static void proxy_set_upstream(AdbProxy *p) {
        RelayUpstream u = {};

        if (p->serving && p->arc.guest_kind == PATCHPANEL__IPC__GUEST_KIND__GUEST_KIND_ARCVM)
                u.targets[u.n_targets++] = (RelayTarget) { .kind = RELAY_TARGET_VSOCK,
                                                           .cid = p->arc.cid, .port = ADB_PORT };
        else if (p->serving) {
                if (p->socket_path[0]) {
                        RelayTarget *t = &u.targets[u.n_targets++];
                        *t = (RelayTarget) { .kind = RELAY_TARGET_UNIX };
                        memcpy(t->path, p->socket_path, sizeof t->path);
                }
                u.targets[u.n_targets++] = (RelayTarget) {
                        .kind = RELAY_TARGET_TCP, .port = ADB_PORT,
                        .addr.s_addr = htonl(p->arc.guest_ipv4) };
        }
        relay_set_upstream(p->relay, &u);
}

static void on_adb_config(const AdbProxyConfig *c, void *userdata) {
        AdbProxy *p = userdata;
        RelayConfig config = *relay_get_config(p->relay);

        /* The manager checked all of it: anything else is a broken manager. */
        if (!c->socket_path || c->socket_path[0] != '/' ||
            strlen(c->socket_path) >= sizeof p->socket_path || c->max_connections == 0 ||
            c->max_connections > 65536)
                log_fatal("Invalid configuration from the manager");
        memcpy(p->socket_path, c->socket_path, strlen(c->socket_path) + 1);
        config.max_conns = c->max_connections;
        config.idle_timeout_usec = (uint64_t) c->idle_timeout_sec * 1000000;
        proxy_fit_fd_limit(&config);
        relay_set_config(p->relay, &config);
        proxy_set_upstream(p);
        proxy_arm_expiry(p);
        log_debug("Configured: adbd socket %s, at most %u connections, idle timeout %u s",
                  p->socket_path, config.max_conns, c->idle_timeout_sec);
        /* The first status: what a freshly started adb-proxy has. */
        fwd_runtime_status_changed(p->rt);
}

static bool is_arc(const ForwarderLink *l) {
        return l->guest_kind == PATCHPANEL__IPC__GUEST_KIND__GUEST_KIND_ARC ||
               l->guest_kind == PATCHPANEL__IPC__GUEST_KIND__GUEST_KIND_ARCVM;
}

static void on_link_add(const ForwarderLink *l, void *userdata) {
        AdbProxy *p = userdata;
        char where[160];

        if (!is_arc(l) || strlen(l->guest) >= sizeof p->arc_name ||
            strlen(l->uplink) >= sizeof p->arc_uplink) {
                log_warning("Not ARC's link, ignoring: %s (kind %d)", l->guest,
                            (int) l->guest_kind);
                return;
        }
        if (l->guest_kind == PATCHPANEL__IPC__GUEST_KIND__GUEST_KIND_ARCVM && l->cid < 3) {
                log_error("ARCVM's cid %u is not a guest's: not listening", l->cid);
                return;
        }
        if (p->serving)
                relay_close_all(p->relay);
        p->arc = *l;
        memcpy(p->arc_name, l->guest, strlen(l->guest) + 1);
        memcpy(p->arc_uplink, l->uplink, strlen(l->uplink) + 1);
        p->arc.guest = p->arc_name;
        p->arc.uplink = p->arc_uplink;
        p->serving = true;
        proxy_set_upstream(p);
        if (l->guest_kind == PATCHPANEL__IPC__GUEST_KIND__GUEST_KIND_ARCVM)
                log_info("ARCVM runs: adb goes to %s",
                         relay_target_to_string(&(RelayTarget) { .kind = RELAY_TARGET_VSOCK,
                                                                 .cid = l->cid, .port = ADB_PORT },
                                                where, sizeof where));
        else
                log_info("The ARC container runs: adb goes to unix:%s, else %s", p->socket_path,
                         relay_target_to_string(&(RelayTarget) {
                                                        .kind = RELAY_TARGET_TCP, .port = ADB_PORT,
                                                        .addr.s_addr = htonl(l->guest_ipv4) },
                                                where, sizeof where));
        if (p->listen_fd < 0)
                (void) proxy_listen(p);
        fwd_runtime_status_changed(p->rt);
}

static void on_link_remove(const ForwarderLink *l, void *userdata) {
        AdbProxy *p = userdata;

        if (!p->serving || strcmp(l->guest, p->arc_name) != 0)
                return;
        p->serving = false;
        proxy_close_listener(p);
        relay_close_all(p->relay);
        proxy_set_upstream(p);
        proxy_arm_expiry(p);
        log_info("ARC stopped: not listening, every connection closed");
        proxy_status_changed(p);
        fwd_runtime_status_changed(p->rt);
}

/* ---- set-up ----------------------------------------------------------------------------- */

/* Stage 2, with the event loop and the control channel fwd_main_supervised() made. */
static int proxy_setup(sd_event *e, FwdRuntime *rt, void *userdata) {
        const RelayCallbacks relay_cb = {
                .closed = on_pair_closed,
                .target_failed = on_target_failed,
                .userdata = userdata,
        };
        AdbProxy *p = userdata;
        int r;

        p->event = e;
        p->rt = rt;
        r = relay_new(NULL, NULL, &relay_cb, &p->relay);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the relay: %m");
        r = sd_event_add_io(p->event, &p->relay_source, relay_fd(p->relay), EPOLLIN, on_relay, p);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the relay: %m");
        r = sd_event_add_time(p->event, &p->expire_timer, CLOCK_MONOTONIC, UINT64_MAX,
                              100 * 1000, on_expire, p);
        if (r >= 0)
                r = sd_event_source_set_enabled(p->expire_timer, SD_EVENT_OFF);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the relay's timer: %m");
        p->armed = UINT64_MAX;
        return 0;
}

static void proxy_done(void *userdata) {
        AdbProxy *p = userdata;

        proxy_close_listener(p);
        sd_event_source_disable_unref(p->relay_source);
        sd_event_source_disable_unref(p->expire_timer);
        p->relay = relay_free(p->relay);
}

int main(int argc, char **argv) {
        static AdbProxy p = { .listen_fd = -EBADF };
        FwdOptions o = { .control_fd = -EBADF, .seccomp = SECCOMP_MODE_ENFORCE };
        const Option options[] = {
                FWD_OPTIONS_SUPERVISED(&o),
        };
        const OptionsSpec spec = {
                .usage = "adb-proxy --control-fd=FD [OPTIONS]",
                .description = "ADB over TCP into ARC; patchpaneld starts it when its ADB proxy is on.",
                .options = options,
                .n_options = ELEMENTSOF(options),
        };
        const FwdSupervised f = {
                .kind = PATCHPANEL__IPC__CHILD_KIND__CHILD_KIND_ADBPROXY,
                .policy = seccomp_policy_adb_proxy,
                .cb = {
                        .link_add = on_link_add,
                        .link_remove = on_link_remove,
                        .status = on_status,
                        .adb_config = on_adb_config,
                        .userdata = &p,
                },
                .setup = proxy_setup,
                .done = proxy_done,
        };
        int first;

        log_setup("adb-proxy");
        if (options_parse(&spec, argc, argv, &first) < 0 || first != argc || o.control_fd < 0) {
                if (o.control_fd < 0)
                        options_usage(&spec, stderr);
                return EXIT_FAILURE;
        }
        signal(SIGPIPE, SIG_IGN);
        return fwd_main_supervised(&o, &f);
}
