/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <fnmatch.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "link-monitor.h"
#include "log.h"
#include "nl-util.h"

const char *const link_monitor_default_uplinks[] = {
        "eth*", "en*", "usb*",                  /* ethernet, old and predictable names */
        "wlan*", "wl*", "mlan*",                /* wifi */
        "wwan*", "ww*", "rmnet*", "mbimmux*", "qmapmux*", /* cellular */
        NULL,
};

struct LinkMonitor {
        struct nl_sock *nl;
        sd_event_source *io;
        char **patterns;
        Uplink *uplinks;
        LinkRemovedFn on_removed;
        LinkResyncFn on_resync;
        void *userdata;

        /* A dump of the link table in progress after lost events, and the ifindexes it
         * has listed so far. */
        bool dumping;
        bool dump_again;
        uint64_t generation; /* dumps requested so far */
        int *seen;
        size_t n_seen, cap_seen;
};

static void strv_free(char **l) {
        if (!l)
                return;
        for (char **p = l; *p; p++)
                free(*p);
        free(l);
}

static char **strv_copy(const char *const *l) {
        size_t n = 0;
        char **c;

        while (l[n])
                n++;
        c = calloc(n + 1, sizeof(char *));
        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!(c[i] = strdup(l[i]))) {
                        strv_free(c);
                        return NULL;
                }
        return c;
}

bool link_monitor_is_uplink_name(const LinkMonitor *m, const char *name) {
        for (char **p = m->patterns; *p; p++)
                if (fnmatch(*p, name, 0) == 0)
                        return true;
        return false;
}

static Uplink *find_by_ifindex(const LinkMonitor *m, int ifindex) {
        LIST_FOREACH(uplinks, u, m->uplinks)
                if (u->ifindex == ifindex)
                        return u;
        return NULL;
}

const Uplink *link_monitor_find_uplink(const LinkMonitor *m, const char *name) {
        LIST_FOREACH(uplinks, u, m->uplinks)
                if (strcmp(u->name, name) == 0)
                        return u;
        return NULL;
}

uint64_t link_monitor_generation(const LinkMonitor *m) {
        return m->generation;
}

const Uplink *link_monitor_uplinks(const LinkMonitor *m) {
        return m->uplinks;
}

static void uplink_remove(LinkMonitor *m, Uplink *u) {
        log_info("Uplink %s (ifindex %d) removed", u->name, u->ifindex);
        LIST_REMOVE(uplinks, m->uplinks, u);
        free(u);
}

static void on_link(LinkMonitor *m, bool added, int ifindex, const char *name) {
        Uplink *u = find_by_ifindex(m, ifindex);

        if (!added) {
                if (u)
                        uplink_remove(m, u);
                if (m->on_removed)
                        m->on_removed(name, ifindex, m->userdata);
                return;
        }

        /* A renamed link, or a name now carried by a new ifindex: remove, then add. */
        if (u && strcmp(u->name, name) != 0)
                uplink_remove(m, u), u = NULL;
        const Uplink *same_name = link_monitor_find_uplink(m, name);
        if (same_name && same_name->ifindex != ifindex)
                uplink_remove(m, (Uplink *) same_name);
        if (u || !link_monitor_is_uplink_name(m, name))
                return;

        u = calloc(1, sizeof *u);
        if (!u) {
                log_error("Out of memory tracking uplink %s, ignoring", name);
                return;
        }
        snprintf(u->name, sizeof u->name, "%s", name);
        u->ifindex = ifindex;
        LIST_PREPEND(uplinks, m->uplinks, u);
        log_info("Uplink %s (ifindex %d) added", u->name, u->ifindex);
}

static void seen_add(LinkMonitor *m, int ifindex) {
        if (m->n_seen == m->cap_seen) {
                size_t cap = m->cap_seen ? m->cap_seen * 2 : 64;
                int *n = realloc(m->seen, cap * sizeof(int));
                if (!n) {
                        /* Without the full list the resync could drop live links: redo it. */
                        m->dump_again = true;
                        return;
                }
                m->seen = n;
                m->cap_seen = cap;
        }
        m->seen[m->n_seen++] = ifindex;
}

bool link_monitor_seen(const int *seen, size_t n, int ifindex) {
        for (size_t i = 0; i < n; i++)
                if (seen[i] == ifindex)
                        return true;
        return false;
}

static int link_monitor_start_dump(LinkMonitor *m) {
        int r;

        m->generation++;
        m->dumping = true;
        m->dump_again = false;
        m->n_seen = 0;
        r = nl_rtgen_request(m->nl, RTM_GETLINK, AF_UNSPEC, NLM_F_DUMP);
        if (r < 0) {
                m->dumping = false;
                return nlerr_to_errno(r);
        }
        return 0;
}

/* The dump after lost events is complete: whatever it did not list is gone. */
static int on_nl_finish(struct nl_msg *msg, void *userdata) {
        LinkMonitor *m = userdata;

        (void) msg;
        if (!m->dumping)
                return NL_OK;
        m->dumping = false;
        if (m->dump_again) {
                (void) link_monitor_start_dump(m);
                return NL_OK;
        }
        for (Uplink *u = m->uplinks, *n; u; u = n) {
                n = u->uplinks_next;
                if (!link_monitor_seen(m->seen, m->n_seen, u->ifindex))
                        uplink_remove(m, u);
        }
        if (m->on_resync)
                m->on_resync(m->seen, m->n_seen, m->generation, m->userdata);
        return NL_OK;
}

static int on_nl_message(struct nl_msg *msg, void *userdata) {
        LinkMonitor *m = userdata;
        struct nlmsghdr *h = nlmsg_hdr(msg);
        struct ifinfomsg *ifi;
        struct nlattr *a;
        char name[IFNAMSIZ];

        if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
                return NL_OK;
        if (!nlmsg_valid_hdr(h, sizeof *ifi))
                return NL_OK;
        ifi = nlmsg_data(h);
        /* AF_BRIDGE messages are about bridge ports: an RTM_DELLINK of that family means a
         * port left its bridge, not that the link is gone. */
        if (ifi->ifi_family != AF_UNSPEC)
                return NL_OK;
        a = nlmsg_find_attr(h, sizeof *ifi, IFLA_IFNAME);
        if (!a || ifi->ifi_index <= 0)
                return NL_OK;
        nla_strlcpy(name, a, sizeof name);
        if (m->dumping && (h->nlmsg_flags & NLM_F_MULTI) && h->nlmsg_type == RTM_NEWLINK)
                seen_add(m, ifi->ifi_index);
        on_link(m, h->nlmsg_type == RTM_NEWLINK, ifi->ifi_index, name);
        return NL_OK;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        LinkMonitor *m = userdata;

        (void) s;
        (void) fd;
        (void) revents;
        for (;;) {
                int r = nl_recvmsgs_default(m->nl);
                if (r >= 0)
                        continue;
                if (r == -NLE_AGAIN)
                        break;
                if (r == -NLE_NOMEM || (r == -NLE_DUMP_INTR && m->dumping)) {
                        /* The kernel dropped events (receive buffer overrun): read the whole
                         * link table again, then drop what it no longer lists. */
                        log_warning("Link events were lost, re-reading the link table");
                        if (r == -NLE_DUMP_INTR) {
                                /* The table changed under the dump: its list is unreliable. */
                                m->dumping = false;
                                if (link_monitor_start_dump(m) < 0)
                                        log_error("Failed to re-read the link table, ignoring");
                        } else if (m->dumping)
                                m->dump_again = true;
                        else if (link_monitor_start_dump(m) < 0)
                                log_error("Failed to re-read the link table, ignoring");
                        continue;
                }
                log_warning("Failed to read link events: %s, ignoring", nl_geterror(r));
                break;
        }
        return 0;
}

int link_monitor_new(sd_event *e, char *const *patterns, LinkRemovedFn on_removed,
                     LinkResyncFn on_resync, void *userdata, LinkMonitor **ret) {
        LinkMonitor *m;
        int r;

        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->on_removed = on_removed;
        m->on_resync = on_resync;
        m->userdata = userdata;
        m->patterns = strv_copy(patterns ? (const char *const *) patterns : link_monitor_default_uplinks);
        m->nl = nl_socket_alloc();
        if (!m->patterns || !m->nl) {
                link_monitor_free(m);
                return -ENOMEM;
        }
        nl_socket_disable_seq_check(m->nl);
        nl_socket_modify_cb(m->nl, NL_CB_VALID, NL_CB_CUSTOM, on_nl_message, m);
        nl_socket_modify_cb(m->nl, NL_CB_FINISH, NL_CB_CUSTOM, on_nl_finish, m);
        r = nl_connect(m->nl, NETLINK_ROUTE);
        if (r >= 0)
                r = nl_socket_add_membership(m->nl, RTNLGRP_LINK);
        if (r >= 0) {
                /* Room for bursts of events; FORCE works while the manager is still root,
                 * the plain size (capped by net.core.rmem_max) otherwise. */
                int size = 4 * 1024 * 1024;
                if (setsockopt(nl_socket_get_fd(m->nl), SOL_SOCKET, SO_RCVBUFFORCE, &size,
                               sizeof size) < 0)
                        (void) nl_socket_set_buffer_size(m->nl, size, 0);
        }
        /* Subscribed first, then the dump, read to its end before the daemon answers
         * anyone: nothing can slip between the two, and the uplink list is complete. */
        if (r >= 0)
                r = nl_rtgen_request(m->nl, RTM_GETLINK, AF_UNSPEC, NLM_F_DUMP);
        if (r >= 0)
                r = nl_recvmsgs_default(m->nl);
        if (r >= 0)
                r = nl_socket_set_nonblocking(m->nl);
        if (r < 0) {
                r = nlerr_to_errno(r);
                link_monitor_free(m);
                return r;
        }
        r = sd_event_add_io(e, &m->io, nl_socket_get_fd(m->nl), EPOLLIN, on_io, m);
        if (r < 0) {
                link_monitor_free(m);
                return r;
        }
        *ret = m;
        return 0;
}

LinkMonitor *link_monitor_free(LinkMonitor *m) {
        if (!m)
                return NULL;
        sd_event_source_disable_unref(m->io);
        nl_socket_free(m->nl);
        while (m->uplinks) {
                Uplink *u = m->uplinks;
                LIST_REMOVE(uplinks, m->uplinks, u);
                free(u);
        }
        strv_free(m->patterns);
        free(m->seen);
        free(m);
        return NULL;
}
