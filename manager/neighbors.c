/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The neighbour monitor's sockets, files and timer around neighbor-watch.c's logic.
 *
 * Theory of operation:
 *   1. neighbors_setup() (manager_new()): the table and the registry subscription; nothing
 *      is opened, so unit tests drive the monitor with neighbors_handle_message().
 *   2. neighbors_start() (manager_setup(), still root): the rtnetlink subscription, with a
 *      receive buffer beyond net.core.rmem_max; the inotify watch of the DNS files; the
 *      probe timer. No dump yet: the uplinks arrive from the registry on the first turn of
 *      the loop, and each new one asks for dumps. The first read of the DNS servers is on
 *      that turn too, once the bus is there to ask systemd-resolved.
 *   3. Events and dump answers go through the same path: decoded, fed to the table; a
 *      change of what is wanted schedules one update of the watches per loop turn, so that
 *      a route deleted and re-added, or a rewritten file, is seen as a whole. Dumps run one
 *      at a time (the kernel allows one per socket), each marking what it re-reads first
 *      and dropping what it did not list at its end.
 *   4. The DNS servers: resolv.conf is read at every change of either file; when it names
 *      only resolved's stub, resolved is asked on the bus (one question at a time, a newer
 *      one cancelling an older; neighbors-bus.c), and its file is read instead if that
 *      fails. Until the answer comes, the servers known stay.
 *   5. Every probe interval: held-back verdicts are told, retired watches freed, and the
 *      helper is asked to probe each watch that wants it; a round starts only when the
 *      previous one has been answered.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "manager.h"
#include "neighbors.h"
#include "nl-util.h"
#include "time-util.h"

/* The two DNS files: the one configured, and resolved's (its merged list). */
#define DNS_FILES 2

struct NeighborMonitor {
        Manager *manager;
        NeighborTable *table;
        uint64_t interval;
        char *dns_files[DNS_FILES];
        char dns_source[256];
        bool dns_loaded;          /* read (or tried) once */

        struct nl_sock *nl;
        sd_event_source *nl_io;
        unsigned dumps_wanted;    /* bits of NeighborDump */
        NeighborDump dumping;     /* the dump in progress, or _NEIGHBOR_DUMP_INVALID */
        bool dump_interrupted;    /* its table changed under it: do it again */

        int inotify_fd;
        sd_event_source *inotify_io;
        int dir_wd[DNS_FILES], file_wd[DNS_FILES];
        sd_event_source *dns_reload;
        sd_bus_slot *resolved_call; /* the question to systemd-resolved in flight */
        bool resolved_failed;       /* the last one failed: said, not again until it answers */

        sd_event_source *update;
        sd_event_source *tick;
        unsigned n_inflight;      /* probes the helper has not answered yet */
        char last_refusal[256];   /* the helper's last refusal said, until a probe passes */

        NeighborEventFn fn;
        void *userdata;
        NeighborResolvedFn resolved_fn;
        void *resolved_userdata;
};

static const int dump_requests[_NEIGHBOR_DUMP_MAX] = {
        [NEIGHBOR_DUMP_ADDRESSES] = RTM_GETADDR,
        [NEIGHBOR_DUMP_ROUTES] = RTM_GETROUTE,
        [NEIGHBOR_DUMP_NEIGHBORS] = RTM_GETNEIGH,
};

static void monitor_on_verdict(const NeighborWatch *w, NeighborEventType type, void *userdata) {
        NeighborMonitor *nm = userdata;
        char a[NEIGHBOR_ADDR_STRLEN];

        if (type == NEIGHBOR_EVENT_FAILED)
                log_warning("Neighbour %s (%s) of %s stopped answering",
                            neighbor_addr_to_string(&w->addr, a), neighbor_role_to_string(w->role),
                            w->ifname);
        else
                log_info("Neighbour %s (%s) of %s answers again",
                         neighbor_addr_to_string(&w->addr, a), neighbor_role_to_string(w->role),
                         w->ifname);
        if (nm->fn)
                nm->fn(w, type, nm->userdata);
}

/* ---- updates and dumps -------------------------------------------------------------------- */

static int on_update(sd_event_source *s, void *userdata) {
        NeighborMonitor *nm = userdata;

        (void) s;
        nm->update = sd_event_source_disable_unref(nm->update);
        neighbors_update(nm);
        return 0;
}

static void schedule_update(NeighborMonitor *nm) {
        int r;

        if (nm->update || !nm->manager->event)
                return;
        r = sd_event_add_defer(nm->manager->event, &nm->update, on_update, nm);
        if (r < 0)
                log_error_errno(r, "Cannot schedule the update of the neighbour watches: %m");
}

static void request_dump(NeighborMonitor *nm, NeighborDump d);

void neighbors_update(NeighborMonitor *nm) {
        bool created = false;
        int r;

        r = neighbor_table_update_watches(nm->table, &created);
        if (r < 0)
                log_error_errno(r, "Cannot make every neighbour watch, ignoring: %m");
        /* A new watch's entry may be there already: read it rather than wait. */
        if (created)
                request_dump(nm, NEIGHBOR_DUMP_NEIGHBORS);
}

static void start_next_dump(NeighborMonitor *nm) {
        int r;

        if (!nm->nl || nm->dumping != _NEIGHBOR_DUMP_INVALID)
                return;
        for (NeighborDump d = 0; d < _NEIGHBOR_DUMP_MAX; d++) {
                if (!(nm->dumps_wanted & (1u << d)))
                        continue;
                nm->dumps_wanted &= ~(1u << d);
                neighbor_table_mark(nm->table, d);
                nm->dump_interrupted = false;
                r = nl_rtgen_request(nm->nl, dump_requests[d], AF_UNSPEC, NLM_F_DUMP);
                if (r < 0) {
                        log_error("Cannot re-read the kernel's tables for the neighbour "
                                  "monitor: %s, ignoring", nl_geterror(r));
                        continue;
                }
                nm->dumping = d;
                return;
        }
}

static void request_dump(NeighborMonitor *nm, NeighborDump d) {
        nm->dumps_wanted |= 1u << d;
        start_next_dump(nm);
}

/* The dump in progress is complete: what it did not list is gone. */
static int on_nl_finish(struct nl_msg *msg, void *userdata) {
        NeighborMonitor *nm = userdata;
        NeighborDump d = nm->dumping;

        (void) msg;
        if (d == _NEIGHBOR_DUMP_INVALID)
                return NL_OK;
        nm->dumping = _NEIGHBOR_DUMP_INVALID;
        if (nm->dump_interrupted)
                nm->dumps_wanted |= 1u << d; /* its list is unreliable: nothing is dropped */
        else if (neighbor_table_sweep(nm->table, d))
                schedule_update(nm);
        start_next_dump(nm);
        return NL_OK;
}

void neighbors_handle_message(NeighborMonitor *nm, const struct nlmsghdr *h) {
        NeighborNlMsg items[NEIGHBOR_NEXTHOPS_MAX];
        bool changed = false;
        int n;

        if ((h->nlmsg_flags & NLM_F_DUMP_INTR) && nm->dumping != _NEIGHBOR_DUMP_INVALID)
                nm->dump_interrupted = true;
        n = neighbor_nl_decode(h, items);
        if (n < 0) {
                log_warning("Malformed rtnetlink message of type %u, ignoring", h->nlmsg_type);
                return;
        }
        for (int i = 0; i < n; i++) {
                const NeighborNlMsg *x = &items[i];
                switch (x->kind) {
                case NEIGHBOR_NL_ADDRESS:
                        changed |= neighbor_table_address(nm->table, x->ifindex, &x->addr,
                                                          x->prefix_len, x->present);
                        /* The kernel drops the IPv4 routes that needed the address without
                         * a word: read the routes again. */
                        if (!x->present && x->addr.family == AF_INET &&
                            neighbor_table_has_uplink(nm->table, x->ifindex))
                                request_dump(nm, NEIGHBOR_DUMP_ROUTES);
                        break;
                case NEIGHBOR_NL_GATEWAY:
                        if (x->replace && i == 0)
                                changed |= neighbor_table_replace_gateways(nm->table, x->addr.family,
                                                                           x->metric);
                        changed |= neighbor_table_gateway(nm->table, x->ifindex, &x->addr,
                                                          x->metric, x->present);
                        break;
                case NEIGHBOR_NL_NEIGHBOR:
                        (void) neighbor_table_on_neighbor(nm->table, x->ifindex, &x->addr,
                                                          x->present, x->nud, now_usec());
                        break;
                default:
                        break;
                }
        }
        if (changed)
                schedule_update(nm);
}

static int on_nl_message(struct nl_msg *msg, void *userdata) {
        neighbors_handle_message(userdata, nlmsg_hdr(msg));
        return NL_OK;
}

static int on_nl_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        NeighborMonitor *nm = userdata;

        (void) s;
        (void) fd;
        (void) revents;
        for (;;) {
                int r = nl_recvmsgs_default(nm->nl);
                if (r >= 0)
                        continue;
                if (r == -NLE_AGAIN)
                        break;
                if (r == -NLE_DUMP_INTR)
                        continue; /* on_nl_finish() has asked for it again */
                if (r == -NLE_NOMEM) {
                        /* The receive buffer overran: events were lost. Read it all again. */
                        log_warning("Neighbour monitor events were lost, re-reading the tables");
                        for (NeighborDump d = 0; d < _NEIGHBOR_DUMP_MAX; d++)
                                request_dump(nm, d);
                        continue;
                }
                log_warning("Failed to read neighbour monitor events: %s, ignoring",
                            nl_geterror(r));
                break;
        }
        return 0;
}

static int open_netlink(NeighborMonitor *nm) {
        int size = 4 * 1024 * 1024, r;

        nm->nl = nl_socket_alloc();
        if (!nm->nl)
                return -ENOMEM;
        nl_socket_disable_seq_check(nm->nl);
        nl_socket_modify_cb(nm->nl, NL_CB_VALID, NL_CB_CUSTOM, on_nl_message, nm);
        nl_socket_modify_cb(nm->nl, NL_CB_FINISH, NL_CB_CUSTOM, on_nl_finish, nm);
        r = nl_connect(nm->nl, NETLINK_ROUTE);
        if (r >= 0)
                r = nl_socket_add_memberships(nm->nl, RTNLGRP_NEIGH, RTNLGRP_IPV4_IFADDR,
                                              RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE,
                                              RTNLGRP_IPV6_ROUTE, 0);
        if (r >= 0)
                r = nl_socket_set_nonblocking(nm->nl);
        if (r < 0)
                return nlerr_to_errno(r);
        /* Room for a burst of neighbour events on a busy LAN; FORCE works while root. */
        if (setsockopt(nl_socket_get_fd(nm->nl), SOL_SOCKET, SO_RCVBUFFORCE, &size,
                       sizeof size) < 0)
                (void) nl_socket_set_buffer_size(nm->nl, size, 0);
        return sd_event_add_io(nm->manager->event, &nm->nl_io, nl_socket_get_fd(nm->nl), EPOLLIN,
                               on_nl_io, nm);
}

/* ---- DNS servers ------------------------------------------------------------------------ */

/* The servers of one file; -errno if it cannot be read. */
static int dns_read(const char *path, DnsServer *ret, size_t *ret_n) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;

        if (fd < 0)
                return -errno;
        buf = malloc(RESOLV_CONF_SIZE_MAX);
        if (!buf)
                return -ENOMEM;
        while (len < RESOLV_CONF_SIZE_MAX) {
                ssize_t n = read(fd, buf + len, RESOLV_CONF_SIZE_MAX - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        *ret_n = resolv_conf_parse(buf, len, ret, RESOLV_CONF_SERVERS_MAX);
        return 0;
}

/* Only systemd-resolved's stub listeners (127.0.0.53, 127.0.0.54): resolved runs. */
static bool dns_only_stub(const DnsServer *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (s[i].family != AF_INET || s[i].addr[0] != 127 || s[i].addr[1] != 0 ||
                    s[i].addr[2] != 0 || (s[i].addr[3] != 53 && s[i].addr[3] != 54))
                        return false;
        return n > 0;
}

/* Take the servers of a source, or (@r < 0) none: it could not be read. */
static void dns_apply(NeighborMonitor *nm, const char *source, const DnsServer *servers,
                      size_t n, int r) {
        if (r < 0) {
                /* Said once, not at every reload while it stays so. */
                if (nm->dns_source[0] || !nm->dns_loaded)
                        log_info("No DNS servers to watch: cannot read %s: %s", source,
                                 strerror(-r));
                nm->dns_source[0] = '\0';
                n = 0;
        } else
                snprintf(nm->dns_source, sizeof nm->dns_source, "%s", source);
        nm->dns_loaded = true;
        if (neighbor_table_set_dns(nm->table, servers, n)) {
                log_info("%zu DNS servers from %s", n, source);
                schedule_update(nm);
        }
}

static void dns_load_file(NeighborMonitor *nm, const char *path) {
        DnsServer servers[RESOLV_CONF_SERVERS_MAX];
        size_t n = 0;
        int r;

        r = dns_read(path, servers, &n);
        dns_apply(nm, path, servers, n, r);
}

static void dns_load(NeighborMonitor *nm) {
        DnsServer servers[RESOLV_CONF_SERVERS_MAX];
        size_t n = 0;
        int r;

        /* A question still out is about the files as they were. */
        nm->resolved_call = sd_bus_slot_unref(nm->resolved_call);
        r = dns_read(nm->dns_files[0], servers, &n);
        if (r < 0 || !dns_only_stub(servers, n)) {
                dns_apply(nm, nm->dns_files[0], servers, n, r);
                return;
        }
        /* resolved runs: the servers of each link, from itself; without a bus (there is
         * one, after start-up), the merged list of its file. */
        if (!nm->resolved_fn || !nm->manager->bus) {
                dns_load_file(nm, nm->dns_files[1]);
                return;
        }
        r = nm->resolved_fn(nm->resolved_userdata, &nm->resolved_call);
        if (r < 0) {
                char why[128];
                snprintf(why, sizeof why, "cannot ask: %s", strerror(-r));
                neighbors_on_resolved_dns(nm, why, NULL, 0);
        }
}

void neighbors_on_resolved_dns(NeighborMonitor *nm, const char *error, const DnsServer *servers,
                               size_t n) {
        nm->resolved_call = sd_bus_slot_unref(nm->resolved_call);
        if (error) {
                if (!nm->resolved_failed)
                        log_info("Cannot have the DNS servers of each link from %s (%s), "
                                 "reading %s instead", NEIGHBOR_DNS_SOURCE_RESOLVED, error,
                                 nm->dns_files[1]);
                nm->resolved_failed = true;
                dns_load_file(nm, nm->dns_files[1]);
                return;
        }
        if (nm->resolved_failed)
                log_info("%s answers again", NEIGHBOR_DNS_SOURCE_RESOLVED);
        nm->resolved_failed = false;
        dns_apply(nm, NEIGHBOR_DNS_SOURCE_RESOLVED, servers, n, 0);
}

static const char *base_name(const char *path) {
        const char *slash = strrchr(path, '/');
        return slash ? slash + 1 : path;
}

static void dir_of(const char *path, char buf[static 256]) {
        const char *slash = strrchr(path, '/');

        if (!slash)
                snprintf(buf, 256, ".");
        else if (slash == path)
                snprintf(buf, 256, "/");
        else
                snprintf(buf, 256, "%.*s", (int) (slash - path), path);
}

/* Watch each file (following a symlink to what it names) and its directory (for a file
 * replaced by a rename, or created). Again after every reload: the file may be a new one.
 * What does not exist (resolved's directory without resolved) is not watched. */
static void dns_watch(NeighborMonitor *nm) {
        for (size_t i = 0; i < DNS_FILES && nm->inotify_fd >= 0; i++) {
                char dir[256];

                dir_of(nm->dns_files[i], dir);
                nm->dir_wd[i] = inotify_add_watch(nm->inotify_fd, dir,
                                                  IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM |
                                                  IN_DELETE | IN_CLOSE_WRITE | IN_ONLYDIR);
                nm->file_wd[i] = inotify_add_watch(nm->inotify_fd, nm->dns_files[i],
                                                   IN_CLOSE_WRITE | IN_MODIFY | IN_MOVE_SELF |
                                                   IN_DELETE_SELF);
        }
}

static int on_dns_reload(sd_event_source *s, void *userdata) {
        NeighborMonitor *nm = userdata;

        (void) s;
        nm->dns_reload = sd_event_source_disable_unref(nm->dns_reload);
        dns_watch(nm);
        dns_load(nm);
        return 0;
}

static void schedule_dns_reload(NeighborMonitor *nm) {
        int r;

        if (nm->dns_reload)
                return;
        r = sd_event_add_defer(nm->manager->event, &nm->dns_reload, on_dns_reload, nm);
        if (r < 0)
                log_error_errno(r, "Cannot schedule a reload of the DNS servers: %m");
}

void neighbors_dns_changed(NeighborMonitor *nm) {
        schedule_dns_reload(nm);
}

static bool dns_event_matters(const NeighborMonitor *nm, const struct inotify_event *ev) {
        if (ev->mask & IN_Q_OVERFLOW)
                return true;
        for (size_t i = 0; i < DNS_FILES; i++) {
                if (ev->wd == nm->file_wd[i] && nm->file_wd[i] >= 0)
                        return true;
                if (ev->wd == nm->dir_wd[i] && nm->dir_wd[i] >= 0 && ev->len > 0 &&
                    strcmp(ev->name, base_name(nm->dns_files[i])) == 0)
                        return true;
        }
        return false;
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        NeighborMonitor *nm = userdata;
        _Alignas(struct inotify_event) char buf[4096];
        bool reload = false;

        (void) s;
        (void) revents;
        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                for (size_t off = 0; off + sizeof(struct inotify_event) <= (size_t) n;) {
                        const struct inotify_event *ev = (const struct inotify_event *) (buf + off);
                        if (ev->len > (size_t) n - off - sizeof *ev)
                                break; /* the kernel never does this */
                        reload |= dns_event_matters(nm, ev);
                        off += sizeof *ev + ev->len;
                }
        }
        if (reload)
                schedule_dns_reload(nm);
        return 0;
}

/* ---- probes ----------------------------------------------------------------------------- */

static void on_probe_reply(const HelperResponse *resp, void *userdata) {
        NeighborMonitor *nm = userdata;

        if (nm->n_inflight > 0)
                nm->n_inflight--;
        /* A refusal says the helper and we disagree on what an uplink's neighbour is: worth
         * seeing, once (not at every probe round, until one passes). Anything else is a
         * race with the link going, or the kernel's to tell. */
        if ((resp->status == -EINVAL || resp->status == -EPERM) &&
            strncmp(nm->last_refusal, resp->message ?: "", sizeof nm->last_refusal - 1) != 0) {
                log_warning("The helper refused a neighbour probe: %s", resp->message);
                snprintf(nm->last_refusal, sizeof nm->last_refusal, "%s", resp->message ?: "");
        } else if (resp->status < 0)
                log_debug("Neighbour probe failed: %s", resp->message);
        else
                nm->last_refusal[0] = '\0';
}

static void probe_one(NeighborMonitor *nm, const NeighborWatch *w) {
        IpcNeighborProbe op = PATCHPANEL__IPC__NEIGHBOR_PROBE__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;
        int r;

        op.ifname = (char *) w->ifname;
        op.ifindex = w->ifindex;
        op.addr.data = (uint8_t *) w->addr.bytes;
        op.addr.len = w->addr.family == AF_INET ? 4 : 16;
        req.op_case = OP(NEIGHBOR_PROBE);
        req.neighbor_probe = &op;
        r = helper_link_call(nm->manager->helper, &req, NULL, 0, on_probe_reply, nm);
        if (r < 0) {
                log_debug_errno(r, "Cannot ask the helper for a neighbour probe: %m");
                return;
        }
        nm->n_inflight++;
}

void neighbors_probe(NeighborMonitor *nm) {
        neighbor_table_flush(nm->table, now_usec());
        neighbor_table_sweep_retired(nm->table);
        /* The helper is behind (or the last round is still out): skip a round. */
        if (nm->n_inflight > 0 || nm->manager->stopping)
                return;
        LIST_FOREACH(watches, w, neighbor_table_watches(nm->table))
                if (neighbor_watch_wants_probe(w))
                        probe_one(nm, w);
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        NeighborMonitor *nm = userdata;
        uint64_t now = usec;
        int r;

        neighbors_probe(nm);
        /* From now, not from when it was due: a loop that stalled (a suspended host) does
         * not catch up with a burst of rounds. */
        (void) sd_event_now(nm->manager->event, CLOCK_MONOTONIC, &now);
        r = sd_event_source_set_time(s, now + nm->interval);
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ON);
        if (r < 0)
                log_error_errno(r, "Cannot re-arm the neighbour probe timer: %m");
        return 0;
}

/* ---- the registry's uplinks --------------------------------------------------------------- */

static void on_uplink_added(Uplink *u, void *userdata) {
        NeighborMonitor *nm = userdata;
        int r;

        r = neighbor_table_add_uplink(nm->table, u->name, u->ifindex, u->up);
        if (r < 0) {
                log_error_errno(r, "Cannot watch the neighbours of %s: %m", u->name);
                return;
        }
        if (r == 0)
                return;
        /* Its addresses, routes and neighbours may predate our hearing of it. */
        for (NeighborDump d = 0; d < _NEIGHBOR_DUMP_MAX; d++)
                request_dump(nm, d);
}

static void on_uplink_removed(Uplink *u, void *userdata) {
        NeighborMonitor *nm = userdata;

        (void) neighbor_table_remove_uplink(nm->table, u->ifindex);
        schedule_update(nm);
}

static void on_uplink_routes_changed(Uplink *u, void *userdata) {
        NeighborMonitor *nm = userdata;

        /* Up or down: routes went without a word, or may come back. */
        if (!neighbor_table_set_up(nm->table, u->ifindex, u->up))
                return;
        request_dump(nm, NEIGHBOR_DUMP_ROUTES);
        schedule_update(nm);
}

static const RegistrySubscriber neighbors_subscriber = {
        .uplink_added = on_uplink_added,
        .uplink_removed = on_uplink_removed,
        .uplink_routes_changed = on_uplink_routes_changed,
};

/* ---- life --------------------------------------------------------------------------------- */

int neighbors_setup(Manager *m) {
        const NeighborConfig *c = &m->config.neighbors;
        NeighborMonitor *nm = calloc(1, sizeof *nm);

        if (!nm)
                return -ENOMEM;
        *nm = (NeighborMonitor) {
                .manager = m,
                .interval = c->probe_interval_usec ?: NEIGHBOR_PROBE_INTERVAL_DEFAULT_USEC,
                .dumping = _NEIGHBOR_DUMP_INVALID,
                .inotify_fd = -EBADF,
                .dir_wd = { -1, -1 },
                .file_wd = { -1, -1 },
        };
        m->neighbors = nm;
        nm->table = neighbor_table_new(monitor_on_verdict, nm);
        nm->dns_files[0] = strdup(c->resolv_conf ?: NEIGHBOR_RESOLV_CONF_DEFAULT);
        nm->dns_files[1] = strdup(c->resolved_conf ?: NEIGHBOR_RESOLVED_CONF_DEFAULT);
        if (!nm->table || !nm->dns_files[0] || !nm->dns_files[1])
                return -ENOMEM;
        return registry_subscribe(m->registry, &neighbors_subscriber, nm);
}

int neighbors_start(Manager *m) {
        NeighborMonitor *nm = m->neighbors;
        int r;

        r = open_netlink(nm);
        if (r < 0)
                return r;
        nm->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (nm->inotify_fd < 0)
                return -errno;
        r = sd_event_add_io(m->event, &nm->inotify_io, nm->inotify_fd, EPOLLIN, on_inotify, nm);
        if (r < 0)
                return r;
        dns_watch(nm);
        /* The first read on the loop's first turn, when the bus is there. */
        schedule_dns_reload(nm);
        return sd_event_add_time_relative(m->event, &nm->tick, CLOCK_MONOTONIC, nm->interval,
                                          /* accuracy= */ 0, on_tick, nm);
}

void neighbors_free(Manager *m) {
        NeighborMonitor *nm = m->neighbors;

        if (!nm)
                return;
        sd_event_source_disable_unref(nm->tick);
        sd_event_source_disable_unref(nm->update);
        sd_event_source_disable_unref(nm->dns_reload);
        sd_bus_slot_unref(nm->resolved_call);
        sd_event_source_disable_unref(nm->inotify_io);
        sd_event_source_disable_unref(nm->nl_io);
        safe_close(nm->inotify_fd);
        nl_socket_free(nm->nl);
        neighbor_table_free(nm->table);
        for (size_t i = 0; i < DNS_FILES; i++)
                free(nm->dns_files[i]);
        free(nm);
        m->neighbors = NULL;
}

void neighbors_set_event_fn(NeighborMonitor *nm, NeighborEventFn fn, void *userdata) {
        nm->fn = fn;
        nm->userdata = userdata;
}

void neighbors_set_resolved_fn(NeighborMonitor *nm, NeighborResolvedFn fn, void *userdata) {
        nm->resolved_fn = fn;
        nm->resolved_userdata = userdata;
}

NeighborTable *neighbors_table(NeighborMonitor *nm) {
        return nm->table;
}

uint64_t neighbors_probe_interval_usec(const NeighborMonitor *nm) {
        return nm->interval;
}

const char *neighbors_dns_source(const NeighborMonitor *nm) {
        return nm->dns_source;
}
