/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Theory of operation of the privileged parent (nd-priv.h says what it does):
 *   1. just forked, still as started (root, or the unit's user with its capabilities):
 *      open rtnetlink, read the earlier forwarding setting, remove the /128 routes of its
 *      downlinks that a killed run left;
 *   2. keep CAP_NET_ADMIN only (routes; sysctls of the netns), and CAP_KILL when the child
 *      runs as another user (to pass SIGUSR1 on), no_new_privs, its seccomp policy: from
 *      here on it can do nothing but answer the child;
 *   3. per request: decode (the channel), check every field against the command line and
 *      the kernel, act, answer; a malformed request ends both (the child is ours and
 *      broken or compromised);
 *   4. when the child ends (its socket closes, or it exits) or SIGTERM comes (which closes
 *      the child's socket, its end): delete every route it made, put the sysctls back, and
 *      exit with the child's status once it has exited.
 */
#include <arpa/inet.h>
#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "channel.h"
#include "ifname.h"
#include "ipc.pb-c.h"
#include "log.h"
#include "nd-priv.h"
#include "nl-util.h"
#include "pidfd-util.h"
#include "privs.h"
#include "reaper.h"
#include "route6.h"

typedef Patchpanel__Ipc__NdPrivRequest NdPrivRequest;
typedef Patchpanel__Ipc__NdPrivResponse NdPrivResponse;

/* Routes one child may hold at once: every downlink full of guests. */
#define PRIV_ROUTES_MAX 4096

typedef struct PrivRoute {
        int ifindex;
        int uplink;                  /* where its proxy entry is */
        struct in6_addr addr;
} PrivRoute;

/* A sysctl this run sets and puts back at exit: /proc/sys/net/ipv6/@dir/@link/@key, the
 * uplink's when @link is NULL. */
typedef struct PrivSysctl {
        const char *dir, *link, *key, *value;
        char before[16];             /* its earlier value when this run changed it, else "" */
} PrivSysctl;

/* In the order they are set: the uplink's proxy settings, then forwarding last (turning it
 * on drops the default routes of links that do not accept RAs while forwarding, so the
 * uplink's accept_ra=2 must come first; it stays at exit, as the host's SLAAC needs it). */
enum { SYSCTL_PROXY_NDP, SYSCTL_PROXY_DELAY, SYSCTL_FORWARDING, _SYSCTL_MAX };

typedef struct Priv {
        const NdPrivConfig *config;
        sd_event *event;
        Channel *child_channel;
        Reaper *child_reaper;
        pid_t child;
        int child_status;            /* the exit status to end with */
        struct nl_sock *nl;
        PrivSysctl sysctls[_SYSCTL_MAX];
        PrivRoute routes[PRIV_ROUTES_MAX];
        size_t n_routes;
} Priv;

static int sysctl_write(const char *path, const char *value, ErrBuf *err);

static void sysctl_path(const Priv *p, const PrivSysctl *c, char path[static 128]) {
        snprintf(path, 128, "/proc/sys/net/ipv6/%s/%s/%s", c->dir, c->link ?: p->config->uplink,
                 c->key);
}

/* Set @c, keeping the value it had before the first change. */
static int sysctl_set(Priv *p, PrivSysctl *c, ErrBuf *err) {
        _cleanup_close_ int fd = -EBADF;
        char path[128], before[sizeof c->before] = "";
        ssize_t n;

        sysctl_path(p, c, path);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        n = fd < 0 ? -1 : read(fd, before, sizeof before - 1);
        if (n > 0 && !c->before[0]) {
                before[n] = '\0';
                before[strcspn(before, "\n")] = '\0';
                if (strcmp(before, c->value) != 0)
                        memcpy(c->before, before, sizeof before);
        }
        return sysctl_write(path, c->value, err);
}

/* Every sysctl this run changed back as it found it. */
static void sysctls_restore(Priv *p) {
        for (size_t i = 0; i < ELEMENTSOF(p->sysctls); i++) {
                PrivSysctl *c = &p->sysctls[i];
                char path[128];
                ErrBuf err = {};

                if (!c->before[0])
                        continue;
                sysctl_path(p, c, path);
                if (sysctl_write(path, c->before, &err) < 0)
                        log_warning("%s, ignoring%s", err.msg,
                                    c->link ? "" : " (the uplink may be gone)");
                c->before[0] = '\0';
        }
}

static int sysctl_write(const char *path, const char *value, ErrBuf *err) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        size_t n = strlen(value);

        if (fd < 0)
                return errbuf_set(err, -errno, "cannot open %s: %m", path);
        if (write(fd, value, n) != (ssize_t) n)
                return errbuf_set(err, -errno ?: -EIO, "cannot write %s: %m", path);
        return 0;
}

/* The name of @ifindex now, checked to be the link named @want. */
static int link_is(Priv *p, int ifindex, const char *want, ErrBuf *err) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        const char *name;
        int r;

        if (ifindex <= 0)
                return errbuf_set(err, -EINVAL, "ifindex %d is not valid", ifindex);
        r = nlerr_to_errno(rtnl_link_get_kernel(p->nl, ifindex, NULL, &link));
        if (r < 0)
                return errbuf_set(err, r == -ENOENT ? -ENODEV : r, "no link with ifindex %d", ifindex);
        name = rtnl_link_get_name(link);
        if (!name || strcmp(name, want) != 0)
                return errbuf_set(err, -EPERM, "ifindex %d is %s, not %s", ifindex,
                                  name ?: "nameless", want);
        return 0;
}

static int uplink_ifindex(Priv *p, ErrBuf *err) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        int r = nlerr_to_errno(rtnl_link_get_kernel(p->nl, 0, p->config->uplink, &link));

        if (r < 0)
                return errbuf_set(err, -ENODEV, "%s does not exist", p->config->uplink);
        return rtnl_link_get_ifindex(link);
}

/* Which of our downlinks @ifindex is. */
static int downlink_check(Priv *p, int ifindex, ErrBuf *err) {
        for (size_t i = 0; i < p->config->n_downlinks; i++)
                if (link_is(p, ifindex, p->config->downlinks[i], NULL) >= 0)
                        return 0;
        return errbuf_set(err, -EPERM, "ifindex %d is not a downlink of this ndproxyd", ifindex);
}

static int handle_uplink(Priv *p, const Patchpanel__Ipc__NdPrivUplink *m, ErrBuf *err) {
        char path[128];
        int r;

        r = link_is(p, m->ifindex, p->config->uplink, err);
        if (r < 0)
                return r;
        /* First keep the host's SLAAC: turning forwarding on drops the default routes of
         * links that do not accept RAs while forwarding (accept_ra=2). */
        snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/accept_ra", p->config->uplink);
        r = sysctl_write(path, "2", err);
        if (r < 0)
                return r;
        /* Then the kernel's answers for learned guest addresses (their proxy entries,
         * handle_route()), at once; then forwarding. */
        for (size_t i = 0; i < ELEMENTSOF(p->sysctls); i++) {
                r = sysctl_set(p, &p->sysctls[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static PrivRoute *route_find(Priv *p, int ifindex, const struct in6_addr *a) {
        for (size_t i = 0; i < p->n_routes; i++)
                if (p->routes[i].ifindex == ifindex && memcmp(&p->routes[i].addr, a, sizeof *a) == 0)
                        return &p->routes[i];
        return NULL;
}

static int handle_route(Priv *p, const Patchpanel__Ipc__NdPrivRoute *m, ErrBuf *err) {
        struct in6_addr a;
        PrivRoute *known;
        int uplink, r;

        /* A wrong length is the child breaking the protocol. */
        if (m->address.len != sizeof a)
                log_fatal("The child sent an address of %zu bytes", m->address.len);
        memcpy(&a, m->address.data, sizeof a);
        r = downlink_check(p, m->ifindex, err);
        if (r < 0)
                return r;
        known = route_find(p, m->ifindex, &a);
        if (!m->add) {
                r = known ? route6_proxy(p->nl, false, known->uplink, &a, RTPROT_NDPROXYD, err) : 0;
                if (r >= 0)
                        r = route6_host(p->nl, false, m->ifindex, &a, RT_TABLE_MAIN,
                                        RTPROT_NDPROXYD, err);
                if (r >= 0 && known)
                        *known = p->routes[--p->n_routes];
                return r;
        }
        uplink = uplink_ifindex(p, err);
        if (uplink < 0)
                return uplink;
        r = route6_check_guest_address(p->nl, &a, uplink, RTPROT_NDPROXYD, err);
        if (r < 0)
                return r;
        if (!known && p->n_routes >= PRIV_ROUTES_MAX)
                return errbuf_set(err, -ENOSPC, "too many routes");
        r = route6_host(p->nl, true, m->ifindex, &a, RT_TABLE_MAIN, RTPROT_NDPROXYD, err);
        if (r < 0)
                return r;
        if (known && known->uplink != uplink)
                (void) route6_proxy(p->nl, false, known->uplink, &a, RTPROT_NDPROXYD, NULL);
        r = route6_proxy(p->nl, true, uplink, &a, RTPROT_NDPROXYD, err);
        if (r < 0) {
                if (!known)
                        (void) route6_host(p->nl, false, m->ifindex, &a, RT_TABLE_MAIN,
                                           RTPROT_NDPROXYD, NULL);
                return r;
        }
        if (!known)
                known = &p->routes[p->n_routes++];
        *known = (PrivRoute) { .ifindex = m->ifindex, .uplink = uplink, .addr = a };
        return 0;
}

static void on_request(Channel *c, const ProtobufCMessage *msg, int *fds, size_t n_fds,
                       void *userdata) {
        const NdPrivRequest *req = (const NdPrivRequest *) msg;
        NdPrivResponse resp = PATCHPANEL__IPC__ND_PRIV_RESPONSE__INIT;
        Priv *p = userdata;
        ErrBuf err = {};
        int r;

        (void) fds;
        if (n_fds != 0 || req->id == 0)
                log_fatal("Bad request from the child (id %llu, %zu fds)",
                          (unsigned long long) req->id, n_fds);
        switch (req->op_case) {
        case PATCHPANEL__IPC__ND_PRIV_REQUEST__OP_UPLINK:
                r = handle_uplink(p, req->uplink, &err);
                break;
        case PATCHPANEL__IPC__ND_PRIV_REQUEST__OP_ROUTE:
                r = handle_route(p, req->route, &err);
                break;
        default:
                log_fatal("Unknown request %d from the child", (int) req->op_case);
        }
        resp.id = req->id;
        resp.status = r < 0 ? r : 0;
        if (r < 0) {
                resp.message = err.msg;
                log_warning("Refused a request of the child: %s", err.msg);
        }
        r = channel_send(c, &resp.base, NULL, 0);
        if (r < 0 && r != -ENOTCONN)
                log_warning_errno(r, "Cannot answer the child: %m");
}

static void priv_cleanup(Priv *p) {
        ErrBuf err = {};

        for (size_t i = 0; i < p->n_routes; i++)
                if (route6_proxy(p->nl, false, p->routes[i].uplink, &p->routes[i].addr,
                                 RTPROT_NDPROXYD, &err) < 0 ||
                    route6_host(p->nl, false, p->routes[i].ifindex, &p->routes[i].addr,
                                RT_TABLE_MAIN, RTPROT_NDPROXYD, &err) < 0)
                        log_warning("%s, ignoring", err.msg);
        if (p->n_routes > 0)
                log_info("Removed %zu routes to guests", p->n_routes);
        p->n_routes = 0;
        sysctls_restore(p);
}

static void on_child_exit(Reaper *r, const siginfo_t *si, void *userdata) {
        Priv *p = userdata;
        char how[96];

        (void) r;
        exit_to_string(si->si_code, si->si_status, how, sizeof how);
        if (si->si_code == CLD_EXITED) {
                p->child_status = si->si_status;
                log_debug("The child %s", how);
        } else {
                p->child_status = EXIT_FAILURE;
                log_error("The child %s", how);
        }
        p->child = 0;
        priv_cleanup(p);
        (void) sd_event_exit(p->event, 0);
}

static void on_child_gone(Channel *c, const char *why, void *userdata) {
        Priv *p = userdata;

        (void) c;
        log_debug("The child's socket closed (%s)", why);
        /* Its exit follows; until then nothing more can be asked. */
        priv_cleanup(p);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Priv *p = userdata;

        (void) s;
        if (p->child <= 0)
                return 0;
        /* SIGUSR1 asks for the counters, which the child has. */
        if (si->ssi_signo == SIGUSR1) {
                if (kill(p->child, SIGUSR1) < 0)
                        log_warning_errno(-errno, "Cannot pass SIGUSR1 on to the child (pid %d): %m",
                                          (int) p->child);
                return 0;
        }
        /* Its end of the socket closing is the child's end. */
        log_debug("Received signal %u, ending the child", si->ssi_signo);
        channel_close(p->child_channel);
        return 0;
}

/* Routes of our downlinks and proxy entries on our uplink that a killed run left (they
 * exist only while we do). */
static void remove_leftovers(Priv *p) {
        int ifindexes[64], uplink = uplink_ifindex(p, NULL);
        size_t n = 0;
        unsigned removed = 0;

        if (uplink > 0 && route6_proxy_delete_proto(p->nl, RTPROT_NDPROXYD, &uplink, 1,
                                                    &removed) >= 0 && removed > 0)
                log_info("Removed %u proxy entries an earlier run left", removed);
        removed = 0;

        for (size_t i = 0; i < p->config->n_downlinks && n < ELEMENTSOF(ifindexes); i++) {
                _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
                if (rtnl_link_get_kernel(p->nl, 0, p->config->downlinks[i], &link) >= 0)
                        ifindexes[n++] = rtnl_link_get_ifindex(link);
        }
        if (n > 0 && route6_delete_proto(p->nl, RT_TABLE_MAIN, RTPROT_NDPROXYD, ifindexes, n,
                                         &removed) >= 0 && removed > 0)
                log_info("Removed %u routes an earlier run left", removed);
}

static int priv_setup(Priv *p, int channel_fd) {
        int caps[] = {
                CAP_NET_ADMIN, /* routes, and the sysctls of the network namespace */
                CAP_KILL,      /* SIGUSR1 to the child, another user when we started as root */
        };
        size_t n_caps = ELEMENTSOF(caps);
        const ChannelConfig config = {
                .send = &patchpanel__ipc__nd_priv_response__descriptor,
                .recv = &patchpanel__ipc__nd_priv_request__descriptor,
                .on_message = on_request,
                .on_dead = on_child_gone,
                .userdata = p,
        };
        unsigned line = 0;
        int pidfd, r;

        p->nl = nl_socket_alloc();
        if (!p->nl)
                return log_error_errno(-ENOMEM, "Failed to open rtnetlink: %m");
        r = nlerr_to_errno(nl_connect(p->nl, NETLINK_ROUTE));
        if (r < 0)
                return log_error_errno(r, "Failed to open rtnetlink: %m");
        remove_leftovers(p);
        pidfd = (int) syscall(SYS_pidfd_open, p->child, 0);
        if (pidfd < 0)
                return log_error_errno(-errno, "Failed to watch the child: %m");
        r = reaper_new(p->event, pidfd, on_child_exit, p, &p->child_reaper);
        if (r < 0) {
                safe_close(pidfd);
                return log_error_errno(r, "Failed to watch the child: %m");
        }
        for (size_t i = 0; i < 4; i++) {
                static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
                r = sd_event_add_signal(p->event, NULL, sigs[i] | SD_EVENT_SIGNAL_PROCMASK,
                                        on_signal, p);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch signals: %m");
        }
        r = channel_new(p->event, channel_fd, &config, &p->child_channel);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the child's channel: %m");

        /* Started by a unit as its own user, the child is the same user: no CAP_KILL. */
        capng_get_caps_process();
        if (!capng_have_capability(CAPNG_PERMITTED, CAP_KILL))
                n_caps--;
        r = privs_keep_effective(caps, n_caps);
        if (r < 0)
                return log_error_errno(r, "Failed to keep only CAP_NET_ADMIN: %m");
        if (privs_set_no_new_privs() < 0)
                return log_error_errno(-errno, "Failed to set no_new_privs: %m");
#ifdef PP_SANITIZE
        (void) prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
        r = seccomp_policy_load(seccomp_policy_ndproxyd_priv, p->config->seccomp, &line);
        if (r < 0)
                return log_error_errno(r, "Failed to load the seccomp policy (line %u): %m", line);
        return 0;
}

int nd_priv_run(int channel_fd, pid_t child, const NdPrivConfig *config) {
        static Priv p;
        int r;

        p = (Priv) {
                .config = config,
                .child = child,
                .child_status = EXIT_FAILURE,
                .sysctls = {
                        [SYSCTL_PROXY_NDP] = { .dir = "conf", .key = "proxy_ndp", .value = "1" },
                        [SYSCTL_PROXY_DELAY] = { .dir = "neigh", .key = "proxy_delay", .value = "0" },
                        [SYSCTL_FORWARDING] = { .dir = "conf", .link = "all", .key = "forwarding",
                                                .value = "1" },
                },
        };
        r = sd_event_new(&p.event);
        if (r >= 0)
                r = priv_setup(&p, channel_fd);
        else
                safe_close(channel_fd);
        if (r < 0) {
                (void) kill(child, SIGKILL);
                (void) waitpid(child, NULL, 0);
                p.child_status = EXIT_FAILURE;
        } else {
                r = sd_event_loop(p.event);
                if (r < 0)
                        log_error_errno(r, "Event loop failed: %m");
        }
        priv_cleanup(&p);
        channel_free(p.child_channel);
        reaper_free(p.child_reaper);
        sd_event_unref(p.event);
        nl_socket_free(p.nl);
        return p.child_status;
}
