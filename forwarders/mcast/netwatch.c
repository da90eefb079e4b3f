/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "log.h"
#include "netwatch.h"
#include "nl-util.h"

typedef struct WatchedLink {
        int ifindex;
        char name[IFNAMSIZ];
        bool seen;               /* listed by the dump in progress */
        size_t n_addrs;
        McastAddr addrs[NETWATCH_ADDRS_MAX];
} WatchedLink;

typedef enum DumpPhase {
        DUMP_NONE,
        DUMP_LINKS,
        DUMP_ADDRS,
} DumpPhase;

struct NetWatch {
        struct nl_sock *nl;
        sd_event_source *io;
        NetWatchCallbacks cb;
        bool quiet;              /* reading the tables in netwatch_new(): tell nobody */
        DumpPhase dump;
        bool dump_again;         /* events were lost during a dump */
        WatchedLink *links;
        size_t n_links, n_alloc;
};

static WatchedLink *link_get(const NetWatch *w, int ifindex) {
        for (size_t i = 0; i < w->n_links; i++)
                if (w->links[i].ifindex == ifindex)
                        return &w->links[i];
        return NULL;
}

int netwatch_find(const NetWatch *w, const char *name) {
        for (size_t i = 0; i < w->n_links; i++)
                if (strcmp(w->links[i].name, name) == 0)
                        return w->links[i].ifindex;
        return 0;
}

const char *netwatch_name(const NetWatch *w, int ifindex) {
        const WatchedLink *l = link_get(w, ifindex);

        return l ? l->name : NULL;
}

size_t netwatch_addresses(const NetWatch *w, int ifindex, McastAddr *ret, size_t max) {
        const WatchedLink *l = link_get(w, ifindex);
        size_t n = 0;

        if (!l)
                return 0;
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < l->n_addrs && n < max; i++)
                        if ((l->addrs[i].family == AF_INET) == (pass == 0))
                                ret[n++] = l->addrs[i];
        return n;
}

static void link_forget(NetWatch *w, WatchedLink *l) {
        if (!w->quiet && w->cb.link_gone)
                w->cb.link_gone(l->ifindex, w->cb.userdata);
        /* The callback may not keep pointers into the table: it moves. */
        l = link_get(w, l->ifindex);
        if (!l)
                return;
        *l = w->links[--w->n_links];
}

static void on_link(NetWatch *w, bool add, int ifindex, const char *name) {
        WatchedLink *l = link_get(w, ifindex);

        if (!add) {
                if (l)
                        link_forget(w, l);
                return;
        }
        if (l) {
                l->seen = true;
                if (strcmp(l->name, name) == 0)
                        return; /* flags or the like: nothing mcastd follows */
                /* Renamed: to its users a different link. */
                link_forget(w, l);
        }
        if (w->n_links == w->n_alloc) {
                size_t n = w->n_alloc ? w->n_alloc * 2 : 32;
                WatchedLink *a = reallocarray(w->links, n, sizeof *a);

                if (!a) {
                        log_error("Out of memory for link %s, ignoring it", name);
                        return;
                }
                w->links = a;
                w->n_alloc = n;
        }
        l = &w->links[w->n_links++];
        *l = (WatchedLink) { .ifindex = ifindex, .seen = true };
        snprintf(l->name, sizeof l->name, "%s", name);
        if (!w->quiet && w->cb.link_new)
                w->cb.link_new(ifindex, l->name, w->cb.userdata);
}

static bool addr_equal(const McastAddr *a, const McastAddr *b) {
        if (a->family != b->family)
                return false;
        return a->family == AF_INET ? a->in4 == b->in4 : memcmp(&a->in6, &b->in6, sizeof a->in6) == 0;
}

/* The index of the last IPv6 address of a full table, if it has one. */
static bool last_ipv6(const WatchedLink *l, size_t *ret) {
        for (size_t i = l->n_addrs; i > 0; i--)
                if (l->addrs[i - 1].family == AF_INET6) {
                        *ret = i - 1;
                        return true;
                }
        return false;
}

static void on_addr(NetWatch *w, bool add, int ifindex, const McastAddr *a) {
        WatchedLink *l = link_get(w, ifindex);
        size_t i;

        if (!l)
                return;
        for (i = 0; i < l->n_addrs; i++)
                if (addr_equal(&l->addrs[i], a))
                        break;
        if (add) {
                if (i < l->n_addrs) {
                        if (l->addrs[i].prefix_len == a->prefix_len)
                                return;
                        l->addrs[i].prefix_len = a->prefix_len;
                } else if (l->n_addrs < NETWATCH_ADDRS_MAX)
                        l->addrs[l->n_addrs++] = *a;
                else if (a->family == AF_INET && last_ipv6(l, &i)) {
                        /* The IPv4 address is the one the A records and the broadcasts
                         * need: it takes the place of an IPv6 one. */
                        log_warning("%s has more than %u addresses, forgetting an IPv6 one "
                                    "for an IPv4 one", l->name, NETWATCH_ADDRS_MAX);
                        l->addrs[i] = *a;
                } else {
                        log_warning("%s has more than %u addresses, ignoring one", l->name,
                                    NETWATCH_ADDRS_MAX);
                        return;
                }
        } else {
                if (i == l->n_addrs)
                        return;
                memmove(&l->addrs[i], &l->addrs[i + 1], (l->n_addrs - i - 1) * sizeof l->addrs[0]);
                l->n_addrs--;
        }
        if (!w->quiet && w->dump != DUMP_ADDRS && w->cb.addresses_changed)
                w->cb.addresses_changed(ifindex, w->cb.userdata);
}

static void on_link_message(NetWatch *w, struct nlmsghdr *h) {
        struct nlattr *tb[IFLA_MAX + 1];
        struct ifinfomsg *ifi;
        char name[IFNAMSIZ];

        if (nlmsg_parse(h, sizeof *ifi, tb, IFLA_MAX, NULL) < 0)
                return;
        ifi = nlmsg_data(h);
        /* AF_BRIDGE messages are about bridge ports, not about the link itself. */
        if (ifi->ifi_family != AF_UNSPEC || ifi->ifi_index <= 0 || !tb[IFLA_IFNAME])
                return;
        nla_strlcpy(name, tb[IFLA_IFNAME], sizeof name);
        on_link(w, h->nlmsg_type == RTM_NEWLINK, ifi->ifi_index, name);
}

static void on_addr_message(NetWatch *w, struct nlmsghdr *h) {
        struct nlattr *tb[IFA_MAX + 1], *a;
        struct ifaddrmsg *ifa;
        McastAddr addr = {};

        if (nlmsg_parse(h, sizeof *ifa, tb, IFA_MAX, NULL) < 0)
                return;
        ifa = nlmsg_data(h);
        addr.family = ifa->ifa_family;
        addr.prefix_len = ifa->ifa_prefixlen;
        if (ifa->ifa_family == AF_INET) {
                /* IFA_ADDRESS is the peer's on a point-to-point link; IFA_LOCAL is ours. */
                a = tb[IFA_LOCAL] ?: tb[IFA_ADDRESS];
                if (!a || nla_len(a) != 4 || addr.prefix_len > 32)
                        return;
                uint32_t be;
                memcpy(&be, nla_data(a), 4);
                addr.in4 = ntohl(be);
                if (addr.in4 == 0)
                        return;
        } else if (ifa->ifa_family == AF_INET6) {
                a = tb[IFA_ADDRESS] ?: tb[IFA_LOCAL];
                if (!a || nla_len(a) != 16 || addr.prefix_len > 128)
                        return;
                memcpy(&addr.in6, nla_data(a), 16);
        } else
                return;
        on_addr(w, h->nlmsg_type == RTM_NEWADDR, (int) ifa->ifa_index, &addr);
}

static int on_nl_message(struct nl_msg *msg, void *userdata) {
        NetWatch *w = userdata;
        struct nlmsghdr *h = nlmsg_hdr(msg);

        switch (h->nlmsg_type) {
        case RTM_NEWLINK:
        case RTM_DELLINK:
                on_link_message(w, h);
                break;
        case RTM_NEWADDR:
        case RTM_DELADDR:
                on_addr_message(w, h);
                break;
        default:
                break;
        }
        return NL_OK;
}

static int dump_start(NetWatch *w, DumpPhase phase) {
        int r;

        w->dump = phase;
        if (phase == DUMP_LINKS) {
                w->dump_again = false;
                for (size_t i = 0; i < w->n_links; i++)
                        w->links[i].seen = false;
        } else
                /* Every address comes again; until the dump ends nobody is told. */
                for (size_t i = 0; i < w->n_links; i++)
                        w->links[i].n_addrs = 0;
        r = nl_rtgen_request(w->nl, phase == DUMP_LINKS ? RTM_GETLINK : RTM_GETADDR, AF_UNSPEC,
                             NLM_F_DUMP);
        if (r < 0) {
                w->dump = DUMP_NONE;
                return nlerr_to_errno(r);
        }
        return 0;
}

/* A dump ended: after the links, forget the ones it did not list and read the addresses;
 * after the addresses, tell about every link (they may all have changed). */
static int on_nl_finish(struct nl_msg *msg, void *userdata) {
        NetWatch *w = userdata;

        (void) msg;
        if (w->quiet) {
                /* netwatch_new() reads the tables one after the other itself. */
                w->dump = DUMP_NONE;
                return NL_OK;
        }
        switch (w->dump) {
        case DUMP_LINKS:
                if (w->dump_again) {
                        (void) dump_start(w, DUMP_LINKS);
                        break;
                }
                for (size_t i = 0; i < w->n_links;)
                        if (!w->links[i].seen)
                                link_forget(w, &w->links[i]);
                        else
                                i++;
                if (dump_start(w, DUMP_ADDRS) < 0)
                        log_error("Failed to re-read the addresses, ignoring");
                break;
        case DUMP_ADDRS:
                w->dump = DUMP_NONE;
                if (w->dump_again) {
                        (void) dump_start(w, DUMP_LINKS);
                        break;
                }
                if (!w->quiet && w->cb.addresses_changed)
                        for (size_t i = 0; i < w->n_links; i++)
                                w->cb.addresses_changed(w->links[i].ifindex, w->cb.userdata);
                break;
        default:
                break;
        }
        return NL_OK;
}

static void on_lost_events(NetWatch *w) {
        log_warning("Link or address events were lost, reading both tables again");
        if (w->dump != DUMP_NONE)
                w->dump_again = true;
        else if (dump_start(w, DUMP_LINKS) < 0)
                log_error("Failed to re-read the links, ignoring");
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        NetWatch *w = userdata;

        (void) s;
        (void) fd;
        (void) revents;
        for (;;) {
                int r = nl_recvmsgs_default(w->nl);

                if (r >= 0)
                        continue;
                if (r == -NLE_AGAIN)
                        break;
                if (r == -NLE_NOMEM || r == -NLE_DUMP_INTR) {
                        if (r == -NLE_DUMP_INTR)
                                w->dump = DUMP_NONE; /* its list is unreliable: start over */
                        on_lost_events(w);
                        continue;
                }
                log_warning("Failed to read link events: %s, ignoring", nl_geterror(r));
                break;
        }
        return 0;
}

static int dump_now(NetWatch *w, DumpPhase phase) {
        int r = dump_start(w, phase);

        if (r < 0)
                return r;
        r = nl_recvmsgs_default(w->nl);
        return r < 0 ? nlerr_to_errno(r) : 0;
}

int netwatch_new(sd_event *e, const NetWatchCallbacks *cb, NetWatch **ret) {
        _cleanup_(netwatch_freep) NetWatch *w = NULL;
        int size = 1024 * 1024, r;

        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->cb = *cb;
        w->quiet = true;
        w->nl = nl_socket_alloc();
        if (!w->nl)
                return -ENOMEM;
        nl_socket_disable_seq_check(w->nl);
        nl_socket_modify_cb(w->nl, NL_CB_VALID, NL_CB_CUSTOM, on_nl_message, w);
        nl_socket_modify_cb(w->nl, NL_CB_FINISH, NL_CB_CUSTOM, on_nl_finish, w);
        r = nl_connect(w->nl, NETLINK_ROUTE);
        if (r >= 0)
                r = nl_socket_add_memberships(w->nl, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR,
                                              RTNLGRP_IPV6_IFADDR, 0);
        if (r < 0)
                return nlerr_to_errno(r);
        /* Room for bursts (a guest with its links appearing at once); FORCE while we may
         * still hold the capability, the plain size otherwise. */
        if (setsockopt(nl_socket_get_fd(w->nl), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
                (void) nl_socket_set_buffer_size(w->nl, size, 0);
        /* Subscribed first, then the tables, read to their end: nothing slips between. */
        r = dump_now(w, DUMP_LINKS);
        if (r >= 0)
                r = dump_now(w, DUMP_ADDRS);
        if (r < 0)
                return r;
        w->dump = DUMP_NONE;
        r = nl_socket_set_nonblocking(w->nl);
        if (r < 0)
                return nlerr_to_errno(r);
        r = sd_event_add_io(e, &w->io, nl_socket_get_fd(w->nl), EPOLLIN, on_io, w);
        if (r < 0)
                return r;
        w->quiet = false;
        *ret = TAKE_PTR(w);
        return 0;
}

NetWatch *netwatch_free(NetWatch *w) {
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->io);
        nl_socket_free(w->nl);
        free(w->links);
        free(w);
        return NULL;
}
