/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <net/if_arp.h>
#include <linux/filter.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "ifname.h"
#include "link-monitor.h"
#include "macro.h"
#include "log.h"
#include "nl-util.h"

const char *const link_monitor_default_uplinks[] = {
        "eth*", "en*", "usb*",                  /* ethernet, old and predictable names */
        "wlan*", "wl*", "mlan*",                /* wifi */
        "wwan*", "ww*", "rmnet*", "mbimmux*", "qmapmux*", /* cellular */
        NULL,
};

static const struct {
        const char *pattern;
        UplinkTechnology technology;
} technology_patterns[] = {
        { "eth*", UPLINK_ETHERNET }, { "en*", UPLINK_ETHERNET }, { "usb*", UPLINK_ETHERNET },
        { "wlan*", UPLINK_WIFI },    { "wl*", UPLINK_WIFI },     { "mlan*", UPLINK_WIFI },
        { "wwan*", UPLINK_CELLULAR }, { "ww*", UPLINK_CELLULAR }, { "rmnet*", UPLINK_CELLULAR },
        { "mbimmux*", UPLINK_CELLULAR }, { "qmapmux*", UPLINK_CELLULAR },
};

static const char *const technology_names[_UPLINK_TECHNOLOGY_MAX] = {
        [UPLINK_ETHERNET] = "ethernet",
        [UPLINK_WIFI] = "wifi",
        [UPLINK_CELLULAR] = "cellular",
};

/* A default route of the main table. */
typedef struct DefaultRoute DefaultRoute;
struct DefaultRoute {
        int ifindex;
        uint32_t metric;
        LIST_FIELDS(DefaultRoute, defaults);
};

struct LinkMonitor {
        struct nl_sock *nl;
        sd_event_source *io;
        sd_event_source *announce;
        char **patterns;
        Uplink *uplinks;
        VpnLink *vpns;
        DefaultRoute *defaults;
        char default_ifname[IFNAMSIZ];
        int physical_ifindex;     /* the best default route through an uplink */
        LinkMonitorCallbacks cb;
        void *userdata;
        bool quiet; /* reading the initial state: no callbacks yet */

        /* A dump of the link table in progress after lost events, and the ifindexes it
         * has listed so far. */
        bool dumping;
        bool dump_again;
        uint64_t generation; /* dumps requested so far */
        int *seen;
        size_t n_seen, cap_seen;
};

const char *uplink_technology_to_string(UplinkTechnology t) {
        if (t < 0 || t >= _UPLINK_TECHNOLOGY_MAX)
                return NULL;
        return technology_names[t];
}

UplinkTechnology uplink_technology_from_name(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(technology_patterns); i++)
                if (fnmatch(technology_patterns[i].pattern, name, 0) == 0)
                        return technology_patterns[i].technology;
        return UPLINK_ETHERNET;
}

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
        /* The daemon's own links never are, whatever the patterns (they are told apart by
         * their alias too, but that is set a moment after they appear). */
        if (ifname_is_own(name))
                return false;
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

Uplink *link_monitor_find_uplink(const LinkMonitor *m, const char *name) {
        LIST_FOREACH(uplinks, u, m->uplinks)
                if (strcmp(u->name, name) == 0)
                        return u;
        return NULL;
}

Uplink *link_monitor_uplinks(const LinkMonitor *m) {
        return m->uplinks;
}

const VpnLink *link_monitor_vpns(const LinkMonitor *m) {
        return m->vpns;
}

const char *link_monitor_default_ifname(const LinkMonitor *m) {
        return m->default_ifname[0] ? m->default_ifname : NULL;
}

const Uplink *link_monitor_physical_default(const LinkMonitor *m) {
        return m->physical_ifindex ? find_by_ifindex(m, m->physical_ifindex) : NULL;
}


uint64_t link_monitor_generation(const LinkMonitor *m) {
        return m->generation;
}

/* ---- default route ---------------------------------------------------------------------- */

static const char *ifname_of(const LinkMonitor *m, int ifindex) {
        const Uplink *u = find_by_ifindex(m, ifindex);

        if (u)
                return u->name;
        LIST_FOREACH(vpns, v, m->vpns)
                if (v->ifindex == ifindex)
                        return v->name;
        return NULL;
}

/* Recompute the default interface and the physical default; tell the manager if either
 * changed. */
static void default_update(LinkMonitor *m) {
        const DefaultRoute *best = NULL, *physical = NULL;
        char old[IFNAMSIZ];
        const char *name;
        int physical_ifindex;

        LIST_FOREACH(defaults, d, m->defaults) {
                if (ifname_of(m, d->ifindex) && (!best || d->metric < best->metric))
                        best = d;
                if (find_by_ifindex(m, d->ifindex) && (!physical || d->metric < physical->metric))
                        physical = d;
        }
        name = best ? ifname_of(m, best->ifindex) : NULL;
        physical_ifindex = physical ? physical->ifindex : 0;
        if (strcmp(m->default_ifname, name ?: "") == 0 && physical_ifindex == m->physical_ifindex)
                return;
        m->physical_ifindex = physical_ifindex;
        snprintf(old, sizeof old, "%s", m->default_ifname);
        snprintf(m->default_ifname, sizeof m->default_ifname, "%s", name ?: "");
        if (strcmp(old, m->default_ifname) != 0)
                log_info("Default route now through %s", name ?: "nothing");
        if (!m->quiet && m->cb.default_changed)
                m->cb.default_changed(old[0] ? old : NULL, name, m->userdata);
}

static void defaults_forget_ifindex(LinkMonitor *m, int ifindex) {
        LIST_FOREACH_SAFE(defaults, d, n, m->defaults)
                if (d->ifindex == ifindex) {
                        LIST_REMOVE(defaults, m->defaults, d);
                        free(d);
                }
}

static void on_default_route(LinkMonitor *m, bool added, int ifindex, uint32_t metric) {
        LIST_FOREACH_SAFE(defaults, d, n, m->defaults)
                if (d->ifindex == ifindex && d->metric == metric) {
                        LIST_REMOVE(defaults, m->defaults, d);
                        free(d);
                }
        if (added) {
                DefaultRoute *d = calloc(1, sizeof *d);
                if (!d) {
                        log_error("Out of memory tracking a default route, ignoring");
                        return;
                }
                d->ifindex = ifindex;
                d->metric = metric;
                LIST_PREPEND(defaults, m->defaults, d);
        }
        default_update(m);
}

/* ---- links ------------------------------------------------------------------------------ */

static void uplink_remove(LinkMonitor *m, Uplink *u) {
        log_info("Uplink %s (ifindex %d) removed", u->name, u->ifindex);
        if (!m->quiet && m->cb.uplink_removed)
                m->cb.uplink_removed(u, m->userdata);
        LIST_REMOVE(uplinks, m->uplinks, u);
        free(u);
}

static void vpn_update(LinkMonitor *m, bool present, int ifindex, const char *name,
                       const char *kind) {
        LIST_FOREACH_SAFE(vpns, v, n, m->vpns)
                if (v->ifindex == ifindex) {
                        LIST_REMOVE(vpns, m->vpns, v);
                        free(v);
                }
        if (present) {
                VpnLink *v = calloc(1, sizeof *v);
                if (!v) {
                        log_error("Out of memory tracking VPN link %s, ignoring", name);
                        return;
                }
                snprintf(v->name, sizeof v->name, "%s", name);
                snprintf(v->kind, sizeof v->kind, "%s", kind);
                v->ifindex = ifindex;
                LIST_PREPEND(vpns, m->vpns, v);
        }
}

static void on_link(LinkMonitor *m, bool added, int ifindex, const char *name, const char *kind,
                    unsigned type, unsigned flags, bool ours) {
        Uplink *u = find_by_ifindex(m, ifindex);
        /* VPN links are layer 3: tun (not tap: a guest's TAP is ethernet), wireguard, ppp. */
        bool vpn = !ours && ((strcmp(kind, "tun") == 0 && type != ARPHRD_ETHER) ||
                             strcmp(kind, "wireguard") == 0 || type == ARPHRD_PPP);

        vpn_update(m, added && vpn, ifindex, name, kind[0] ? kind : "ppp");
        if (!added) {
                if (u)
                        uplink_remove(m, u);
                defaults_forget_ifindex(m, ifindex);
                default_update(m);
                if (!m->quiet && m->cb.link_removed)
                        m->cb.link_removed(name, ifindex, m->userdata);
                return;
        }

        /* A renamed link, or a name now carried by a new ifindex: remove, then add. */
        if (u && strcmp(u->name, name) != 0) {
                uplink_remove(m, u);
                u = NULL;
        }
        Uplink *same_name = link_monitor_find_uplink(m, name);
        if (same_name && same_name->ifindex != ifindex)
                uplink_remove(m, same_name);

        if (u) {
                bool up = flags & IFF_UP;
                if (up != u->up) {
                        /* The kernel drops an interface's routes when it goes down, without
                         * telling anyone route by route. */
                        u->up = up;
                        if (!up)
                                defaults_forget_ifindex(m, ifindex);
                        default_update(m);
                        if (!m->quiet && m->cb.uplink_routes_changed)
                                m->cb.uplink_routes_changed(u, m->userdata);
                }
                return;
        }
        if (vpn || ours || !link_monitor_is_uplink_name(m, name))
                return;

        u = calloc(1, sizeof *u);
        if (!u) {
                log_error("Out of memory tracking uplink %s, ignoring", name);
                return;
        }
        snprintf(u->name, sizeof u->name, "%s", name);
        u->ifindex = ifindex;
        u->technology = uplink_technology_from_name(name);
        u->up = flags & IFF_UP;
        /* In the order they came (ifindex order at start): ARC gives the first ethernet
         * uplink the first ethernet slot. */
        LIST_APPEND(uplinks, m->uplinks, u);
        log_info("Uplink %s (ifindex %d, %s) added", u->name, u->ifindex,
                 uplink_technology_to_string(u->technology));
        if (!m->quiet && m->cb.uplink_added)
                m->cb.uplink_added(u, m->userdata);
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
        LIST_FOREACH_SAFE(uplinks, u, n, m->uplinks)
                if (!link_monitor_seen(m->seen, m->n_seen, u->ifindex))
                        uplink_remove(m, u);
        if (m->cb.resync)
                m->cb.resync(m->seen, m->n_seen, m->generation, m->userdata);
        return NL_OK;
}

static void on_link_message(LinkMonitor *m, struct nlmsghdr *h) {
        struct nlattr *tb[IFLA_MAX + 1], *info[IFLA_INFO_MAX + 1];
        struct ifinfomsg *ifi;
        char name[IFNAMSIZ], kind[16] = "", alias[32] = "";

        if (nlmsg_parse(h, sizeof *ifi, tb, IFLA_MAX, NULL) < 0)
                return;
        ifi = nlmsg_data(h);
        /* AF_BRIDGE messages are about bridge ports: an RTM_DELLINK of that family means a
         * port left its bridge, not that the link is gone. */
        if (ifi->ifi_family != AF_UNSPEC || !tb[IFLA_IFNAME] || ifi->ifi_index <= 0)
                return;
        nla_strlcpy(name, tb[IFLA_IFNAME], sizeof name);
        if (tb[IFLA_LINKINFO] &&
            nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) >= 0 &&
            info[IFLA_INFO_KIND])
                nla_strlcpy(kind, info[IFLA_INFO_KIND], sizeof kind);
        if (tb[IFLA_IFALIAS])
                nla_strlcpy(alias, tb[IFLA_IFALIAS], sizeof alias);
        if (m->dumping && (h->nlmsg_flags & NLM_F_MULTI) && h->nlmsg_type == RTM_NEWLINK)
                seen_add(m, ifi->ifi_index);
        on_link(m, h->nlmsg_type == RTM_NEWLINK, ifi->ifi_index, name, kind, ifi->ifi_type,
                ifi->ifi_flags, strcmp(alias, PP_LINK_ALIAS) == 0);
}

/* A main-table route through @oif came or went; @is_default: an IPv4 unicast default. */
static void on_route(LinkMonitor *m, bool added, int oif, uint32_t metric, bool is_default) {
        Uplink *u;

        if (is_default)
                on_default_route(m, added, oif, metric);
        u = find_by_ifindex(m, oif);
        if (u && !m->quiet && m->cb.uplink_routes_changed)
                m->cb.uplink_routes_changed(u, m->userdata);
}

static void on_route_message(LinkMonitor *m, struct nlmsghdr *h) {
        struct nlattr *tb[RTA_MAX + 1];
        struct rtmsg *rtm;
        uint32_t table, metric = 0;
        int oif;

        if (nlmsg_parse(h, sizeof *rtm, tb, RTA_MAX, NULL) < 0)
                return;
        rtm = nlmsg_data(h);
        table = tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
        if (table != RT_TABLE_MAIN || !tb[RTA_OIF])
                return;
        oif = (int) nla_get_u32(tb[RTA_OIF]);
        if (tb[RTA_PRIORITY])
                metric = nla_get_u32(tb[RTA_PRIORITY]);
        on_route(m, h->nlmsg_type == RTM_NEWROUTE, oif, metric,
                 rtm->rtm_family == AF_INET && rtm->rtm_dst_len == 0 &&
                         rtm->rtm_type == RTN_UNICAST);
}

static int on_nl_message(struct nl_msg *msg, void *userdata) {
        LinkMonitor *m = userdata;
        struct nlmsghdr *h = nlmsg_hdr(msg);

        switch (h->nlmsg_type) {
        case RTM_NEWLINK:
        case RTM_DELLINK:
                on_link_message(m, h);
                break;
        case RTM_NEWROUTE:
        case RTM_DELROUTE:
                on_route_message(m, h);
                break;
        default:
                break;
        }
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

/* First turn of the event loop: report the state read at start. */
static int on_announce(sd_event_source *s, void *userdata) {
        LinkMonitor *m = userdata;

        (void) s;
        m->announce = sd_event_source_disable_unref(m->announce);
        m->quiet = false;
        if (m->cb.uplink_added)
                LIST_FOREACH_SAFE(uplinks, u, n, m->uplinks)
                        m->cb.uplink_added(u, m->userdata);
        if (m->default_ifname[0] && m->cb.default_changed)
                m->cb.default_changed(NULL, m->default_ifname, m->userdata);
        return 0;
}

/* ---- what the kernel need not wake us for ----------------------------------------------- */

/*
 * The program, instruction by instruction. Netlink headers are in host order and BPF loads
 * in network order, so every constant a half-word or word load is compared with goes
 * through htons()/htonl(). Offsets are those of the first message in the datagram: the
 * kernel sends each notification alone, and what comes in several per datagram (dumps,
 * NLM_F_MULTI) or answers a request (NLMSG_ERROR, NLMSG_DONE) is always let through.
 */
#define NLH_TYPE offsetof(struct nlmsghdr, nlmsg_type)
#define NLH_FLAGS offsetof(struct nlmsghdr, nlmsg_flags)
#define BODY sizeof(struct nlmsghdr)
#define J(code, k, jt, jf) BPF_JUMP(BPF_JMP | (code) | BPF_K, (k), (jt), (jf))
#define S(code, k) BPF_STMT((code), (k))

static const struct sock_filter filter_template[] = {
        /* 0 */ S(BPF_LD | BPF_H | BPF_ABS, NLH_TYPE),
        /* 1 */ J(BPF_JEQ, 0 /* RTM_NEWLINK */, 6, 0),
        /* 2 */ J(BPF_JEQ, 0 /* RTM_NEWROUTE */, 1, 0),
        /* 3 */ J(BPF_JEQ, 0 /* RTM_DELROUTE */, 0, 16),
        /* Routes: only the main table's (RTM_F_* aside, rtm_table is the table when it is
         * below 256 and RT_TABLE_COMPAT otherwise, so this is exact). */
        /* 4 */ S(BPF_LD | BPF_H | BPF_ABS, NLH_FLAGS),
        /* 5 */ J(BPF_JSET, 0 /* NLM_F_MULTI */, 14, 0),
        /* 6 */ S(BPF_LD | BPF_B | BPF_ABS, BODY + offsetof(struct rtmsg, rtm_table)),
        /* 7 */ J(BPF_JEQ, RT_TABLE_MAIN, 12, 13),
        /* New links: AF_UNSPEC only (the rest are bridge ports and per-family details,
         * which on_link_message() skips), and none of the daemon's own: a link in
         * PP_LINK_GROUP, or in PP_DELETE_GROUP on its way out, is never an uplink or a
         * VPN, and its removal still comes through. */
        /* 8 */ S(BPF_LD | BPF_H | BPF_ABS, NLH_FLAGS),
        /* 9 */ J(BPF_JSET, 0 /* NLM_F_MULTI */, 10, 0),
        /* 10 */ S(BPF_LD | BPF_B | BPF_ABS, BODY + offsetof(struct ifinfomsg, ifi_family)),
        /* 11 */ J(BPF_JEQ, AF_UNSPEC, 0, 9),
        /* A = where the attributes start, X = the type looked for; A = its offset or 0 */
        /* 12 */ S(BPF_LD | BPF_IMM, BODY + NLMSG_ALIGN(sizeof(struct ifinfomsg))),
        /* 13 */ S(BPF_LDX | BPF_IMM, IFLA_GROUP),
        /* 14 */ S(BPF_LD | BPF_W | BPF_ABS, (uint32_t) (SKF_AD_OFF + SKF_AD_NLATTR)),
        /* 15 */ J(BPF_JEQ, 0, 4, 0),
        /* 16 */ S(BPF_MISC | BPF_TAX, 0),
        /* 17 */ S(BPF_LD | BPF_W | BPF_IND, sizeof(struct nlattr)),
        /* 18 */ J(BPF_JEQ, 0 /* PP_LINK_GROUP */, 2, 0),
        /* 19 */ J(BPF_JEQ, 0 /* PP_DELETE_GROUP */, 1, 0),
        /* 20 */ S(BPF_RET | BPF_K, UINT32_MAX), /* keep it */
        /* 21 */ S(BPF_RET | BPF_K, 0),          /* drop it */
};

size_t link_monitor_filter(struct sock_filter *prog, size_t n) {
        if (n < ELEMENTSOF(filter_template))
                return 0;
        memcpy(prog, filter_template, sizeof filter_template);
        prog[1].k = htons(RTM_NEWLINK);
        prog[2].k = htons(RTM_NEWROUTE);
        prog[3].k = htons(RTM_DELROUTE);
        prog[5].k = htons(NLM_F_MULTI);
        prog[9].k = htons(NLM_F_MULTI);
        prog[18].k = htonl(PP_LINK_GROUP);
        prog[19].k = htonl(PP_DELETE_GROUP);
        return ELEMENTSOF(filter_template);
}

static int attach_filter(int fd) {
        struct sock_filter prog[ELEMENTSOF(filter_template)];
        struct sock_fprog fprog = {
                .len = (unsigned short) link_monitor_filter(prog, ELEMENTSOF(prog)),
                .filter = prog,
        };

        if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) < 0)
                return -errno;
        return 0;
}

/* Send a dump request and process the whole answer now. */
static int dump_now(LinkMonitor *m, int type, int family) {
        int r = nl_rtgen_request(m->nl, type, family, NLM_F_DUMP);
        if (r >= 0)
                r = nl_recvmsgs_default(m->nl);
        return r;
}

/* A monitor that knows no link yet and watches nothing. */
static LinkMonitor *link_monitor_alloc(char *const *patterns, const LinkMonitorCallbacks *cb,
                                       void *userdata) {
        LinkMonitor *m = calloc(1, sizeof *m);

        if (!m)
                return NULL;
        m->cb = *cb;
        m->userdata = userdata;
        m->patterns = strv_copy(patterns ? (const char *const *) patterns : link_monitor_default_uplinks);
        if (!m->patterns)
                return link_monitor_free(m);
        return m;
}

int link_monitor_new(sd_event *e, char *const *patterns, const LinkMonitorCallbacks *cb,
                     void *userdata, LinkMonitor **ret) {
        LinkMonitor *m;
        int r;

        m = link_monitor_alloc(patterns, cb, userdata);
        if (!m)
                return -ENOMEM;
        m->quiet = true;
        m->nl = nl_socket_alloc();
        if (!m->nl) {
                link_monitor_free(m);
                return -ENOMEM;
        }
        nl_socket_disable_seq_check(m->nl);
        nl_socket_modify_cb(m->nl, NL_CB_VALID, NL_CB_CUSTOM, on_nl_message, m);
        nl_socket_modify_cb(m->nl, NL_CB_FINISH, NL_CB_CUSTOM, on_nl_finish, m);
        r = nl_connect(m->nl, NETLINK_ROUTE);
        if (r >= 0)
                r = nl_socket_add_memberships(m->nl, RTNLGRP_LINK, RTNLGRP_IPV4_ROUTE,
                                              RTNLGRP_IPV6_ROUTE, 0);
        if (r >= 0) {
                /* Room for bursts of events; FORCE works while the manager is still root,
                 * the plain size (capped by net.core.rmem_max) otherwise. */
                int size = 4 * 1024 * 1024;
                if (setsockopt(nl_socket_get_fd(m->nl), SOL_SOCKET, SO_RCVBUFFORCE, &size,
                               sizeof size) < 0)
                        (void) nl_socket_set_buffer_size(m->nl, size, 0);
                /* Only an optimisation: without it every event is read and judged here. */
                int k = attach_filter(nl_socket_get_fd(m->nl));
                if (k < 0)
                        log_warning_errno(k, "Cannot filter link events in the kernel, "
                                          "reading them all: %m");
        }
        /* Subscribed first, then the dumps, read to their end before the daemon answers
         * anyone: nothing can slip between the two, and the state is complete. */
        if (r >= 0)
                r = dump_now(m, RTM_GETLINK, AF_UNSPEC);
        if (r >= 0)
                r = dump_now(m, RTM_GETROUTE, AF_INET);
        if (r >= 0)
                r = nl_socket_set_nonblocking(m->nl);
        if (r < 0) {
                r = nlerr_to_errno(r);
                link_monitor_free(m);
                return r;
        }
        r = sd_event_add_io(e, &m->io, nl_socket_get_fd(m->nl), EPOLLIN, on_io, m);
        if (r >= 0)
                r = sd_event_add_defer(e, &m->announce, on_announce, m);
        if (r < 0) {
                link_monitor_free(m);
                return r;
        }
        *ret = m;
        return 0;
}

int link_monitor_new_fake(char *const *patterns, const LinkMonitorCallbacks *cb,
                          void *userdata, LinkMonitor **ret) {
        LinkMonitor *m = link_monitor_alloc(patterns, cb, userdata);

        if (!m)
                return -ENOMEM;
        *ret = m;
        return 0;
}

int link_monitor_fake_link(LinkMonitor *m, bool added, int ifindex, const char *name,
                           const char *kind, unsigned type, unsigned flags) {
        if (m->nl)
                return -EBUSY; /* the kernel's links only */
        on_link(m, added, ifindex, name, kind, type, flags, /* ours= */ false);
        return 0;
}

int link_monitor_fake_route(LinkMonitor *m, bool added, int oif, uint32_t metric,
                            bool is_default) {
        if (m->nl)
                return -EBUSY;
        on_route(m, added, oif, metric, is_default);
        return 0;
}

LinkMonitor *link_monitor_free(LinkMonitor *m) {
        if (!m)
                return NULL;
        sd_event_source_disable_unref(m->io);
        sd_event_source_disable_unref(m->announce);
        nl_socket_free(m->nl);
        m->quiet = true;
        while (m->uplinks) {
                Uplink *u = m->uplinks;
                LIST_REMOVE(uplinks, m->uplinks, u);
                free(u);
        }
        while (m->vpns) {
                VpnLink *v = m->vpns;
                LIST_REMOVE(vpns, m->vpns, v);
                free(v);
        }
        while (m->defaults) {
                DefaultRoute *d = m->defaults;
                LIST_REMOVE(defaults, m->defaults, d);
                free(d);
        }
        strv_free(m->patterns);
        free(m->seen);
        free(m);
        return NULL;
}
