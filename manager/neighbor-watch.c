/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "neighbor-watch.h"

typedef struct UplinkAddr {
        NeighborAddr addr;
        unsigned prefix_len;
        bool marked;
} UplinkAddr;

typedef struct UplinkGateway {
        NeighborAddr gw;
        uint32_t metric;
        bool marked;
} UplinkGateway;

typedef struct WatchedUplink WatchedUplink;
struct WatchedUplink {
        int ifindex;
        char name[IFNAMSIZ];
        bool up;
        UplinkAddr addrs[NEIGHBOR_UPLINK_ADDRS_MAX];
        size_t n_addrs;
        UplinkGateway gws[NEIGHBOR_UPLINK_GATEWAYS_MAX];
        size_t n_gws;
        LIST_FIELDS(WatchedUplink, uplinks);
};

struct NeighborTable {
        WatchedUplink *uplinks;
        DnsServer dns[DNS_SERVERS_MAX];
        size_t n_dns;
        NeighborWatch *watches;
        size_t n_watches;
        NeighborEventFn fn;
        void *userdata;
};

static const char *const role_names[_NEIGHBOR_ROLE_MAX] = {
        [NEIGHBOR_ROLE_GATEWAY] = "gateway",
        [NEIGHBOR_ROLE_DNS_SERVER] = "dns_server",
        [NEIGHBOR_ROLE_GATEWAY_AND_DNS_SERVER] = "gateway_and_dns_server",
};

static const char *const event_names[_NEIGHBOR_EVENT_MAX] = {
        [NEIGHBOR_EVENT_FAILED] = "failed",
        [NEIGHBOR_EVENT_REACHABLE] = "reachable",
};

const char *neighbor_role_to_string(NeighborRole r) {
        if (r < 0 || r >= _NEIGHBOR_ROLE_MAX)
                return NULL;
        return role_names[r];
}

const char *neighbor_event_type_to_string(NeighborEventType t) {
        if (t < 0 || t >= _NEIGHBOR_EVENT_MAX)
                return NULL;
        return event_names[t];
}

const char *neighbor_nud_to_string(bool have_entry, uint16_t nud) {
        static const struct {
                uint16_t bit;
                const char *name;
        } names[] = {
                { NUD_INCOMPLETE, "incomplete" }, { NUD_REACHABLE, "reachable" },
                { NUD_STALE, "stale" },           { NUD_DELAY, "delay" },
                { NUD_PROBE, "probe" },           { NUD_FAILED, "failed" },
                { NUD_NOARP, "noarp" },           { NUD_PERMANENT, "permanent" },
        };

        if (!have_entry || nud == NUD_NONE)
                return "none";
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (nud & names[i].bit)
                        return names[i].name;
        return "unknown";
}

const char *neighbor_addr_to_string(const NeighborAddr *a, char buf[static NEIGHBOR_ADDR_STRLEN]) {
        if ((a->family != AF_INET && a->family != AF_INET6) ||
            !inet_ntop(a->family, a->bytes, buf, NEIGHBOR_ADDR_STRLEN))
                snprintf(buf, NEIGHBOR_ADDR_STRLEN, "?");
        return buf;
}

static size_t addr_len(int family) {
        return family == AF_INET ? 4 : 16;
}

bool neighbor_addr_equal(const NeighborAddr *a, const NeighborAddr *b) {
        return a->family == b->family && memcmp(a->bytes, b->bytes, addr_len(a->family)) == 0;
}

bool neighbor_addr_in_prefix(const NeighborAddr *a, const NeighborAddr *p, unsigned prefix_len) {
        return a->family == p->family && prefix_len <= 8 * addr_len(a->family) &&
               addr_bytes_in_prefix(a->bytes, p->bytes, prefix_len);
}

static bool addr_is_ipv6_link_local(const NeighborAddr *a) {
        return a->family == AF_INET6 && ipv6_bytes_are_link_local(a->bytes);
}

NeighborTable *neighbor_table_new(NeighborEventFn fn, void *userdata) {
        NeighborTable *t = calloc(1, sizeof *t);

        if (t)
                neighbor_table_set_event_fn(t, fn, userdata);
        return t;
}

static void watch_free(NeighborTable *t, NeighborWatch *w) {
        LIST_REMOVE(watches, t->watches, w);
        t->n_watches--;
        free(w);
}

NeighborTable *neighbor_table_free(NeighborTable *t) {
        if (!t)
                return NULL;
        while (t->watches)
                watch_free(t, t->watches);
        while (t->uplinks) {
                WatchedUplink *u = t->uplinks;
                LIST_REMOVE(uplinks, t->uplinks, u);
                free(u);
        }
        free(t);
        return NULL;
}

void neighbor_table_set_event_fn(NeighborTable *t, NeighborEventFn fn, void *userdata) {
        t->fn = fn;
        t->userdata = userdata;
}

static WatchedUplink *uplink_find(const NeighborTable *t, int ifindex) {
        LIST_FOREACH(uplinks, u, t->uplinks)
                if (u->ifindex == ifindex)
                        return u;
        return NULL;
}

int neighbor_table_add_uplink(NeighborTable *t, const char *name, int ifindex, bool up) {
        WatchedUplink *u = uplink_find(t, ifindex);

        if (u)
                return 0;
        u = calloc(1, sizeof *u);
        if (!u)
                return -ENOMEM;
        u->ifindex = ifindex;
        u->up = up;
        snprintf(u->name, sizeof u->name, "%s", name);
        LIST_APPEND(uplinks, t->uplinks, u);
        return 1;
}

bool neighbor_table_remove_uplink(NeighborTable *t, int ifindex) {
        WatchedUplink *u = uplink_find(t, ifindex);

        if (!u)
                return false;
        LIST_FOREACH_SAFE(watches, w, n, t->watches)
                if (w->ifindex == ifindex)
                        watch_free(t, w);
        LIST_REMOVE(uplinks, t->uplinks, u);
        free(u);
        return true;
}

bool neighbor_table_has_uplink(const NeighborTable *t, int ifindex) {
        return uplink_find(t, ifindex) != NULL;
}

bool neighbor_table_set_up(NeighborTable *t, int ifindex, bool up) {
        WatchedUplink *u = uplink_find(t, ifindex);

        if (!u || u->up == up)
                return false;
        u->up = up;
        if (!up)
                u->n_gws = 0;
        return true;
}

bool neighbor_table_address(NeighborTable *t, int ifindex, const NeighborAddr *a,
                            unsigned prefix_len, bool present) {
        WatchedUplink *u = uplink_find(t, ifindex);

        if (!u)
                return false;
        for (size_t i = 0; i < u->n_addrs; i++) {
                UplinkAddr *x = &u->addrs[i];
                if (!neighbor_addr_equal(&x->addr, a))
                        continue;
                x->marked = false;
                if (!present) {
                        *x = u->addrs[--u->n_addrs];
                        return true;
                }
                if (x->prefix_len == prefix_len)
                        return false;
                x->prefix_len = prefix_len;
                return true;
        }
        if (!present || u->n_addrs >= ELEMENTSOF(u->addrs))
                return false;
        u->addrs[u->n_addrs++] = (UplinkAddr) { .addr = *a, .prefix_len = prefix_len };
        return true;
}

bool neighbor_table_gateway(NeighborTable *t, int ifindex, const NeighborAddr *gw,
                            uint32_t metric, bool present) {
        WatchedUplink *u = uplink_find(t, ifindex);

        if (!u)
                return false;
        for (size_t i = 0; i < u->n_gws; i++) {
                UplinkGateway *x = &u->gws[i];
                if (!neighbor_addr_equal(&x->gw, gw) || x->metric != metric)
                        continue;
                x->marked = false;
                if (present)
                        return false;
                *x = u->gws[--u->n_gws];
                return true;
        }
        if (!present || u->n_gws >= ELEMENTSOF(u->gws))
                return false;
        u->gws[u->n_gws++] = (UplinkGateway) { .gw = *gw, .metric = metric };
        return true;
}

bool neighbor_table_replace_gateways(NeighborTable *t, int family, uint32_t metric) {
        bool changed = false;

        LIST_FOREACH(uplinks, u, t->uplinks)
                for (size_t i = 0; i < u->n_gws;) {
                        if (u->gws[i].gw.family == family && u->gws[i].metric == metric) {
                                u->gws[i] = u->gws[--u->n_gws];
                                changed = true;
                        } else
                                i++;
                }
        return changed;
}

bool neighbor_table_set_dns(NeighborTable *t, const DnsServer *servers, size_t n) {
        if (n > ELEMENTSOF(t->dns))
                n = ELEMENTSOF(t->dns);
        if (dns_servers_equal(t->dns, t->n_dns, servers, n))
                return false;
        if (n > 0)
                memcpy(t->dns, servers, n * sizeof *servers);
        t->n_dns = n;
        return true;
}

void neighbor_table_mark(NeighborTable *t, NeighborDump d) {
        switch (d) {
        case NEIGHBOR_DUMP_ADDRESSES:
                LIST_FOREACH(uplinks, u, t->uplinks)
                        for (size_t i = 0; i < u->n_addrs; i++)
                                u->addrs[i].marked = true;
                break;
        case NEIGHBOR_DUMP_ROUTES:
                LIST_FOREACH(uplinks, u, t->uplinks)
                        for (size_t i = 0; i < u->n_gws; i++)
                                u->gws[i].marked = true;
                break;
        case NEIGHBOR_DUMP_NEIGHBORS:
                LIST_FOREACH(watches, w, t->watches)
                        w->marked = true;
                break;
        default:
                break;
        }
}

bool neighbor_table_sweep(NeighborTable *t, NeighborDump d) {
        bool changed = false;

        switch (d) {
        case NEIGHBOR_DUMP_ADDRESSES:
                LIST_FOREACH(uplinks, u, t->uplinks)
                        for (size_t i = 0; i < u->n_addrs;) {
                                if (u->addrs[i].marked) {
                                        u->addrs[i] = u->addrs[--u->n_addrs];
                                        changed = true;
                                } else
                                        i++;
                        }
                break;
        case NEIGHBOR_DUMP_ROUTES:
                LIST_FOREACH(uplinks, u, t->uplinks)
                        for (size_t i = 0; i < u->n_gws;) {
                                if (u->gws[i].marked) {
                                        u->gws[i] = u->gws[--u->n_gws];
                                        changed = true;
                                } else
                                        i++;
                        }
                break;
        case NEIGHBOR_DUMP_NEIGHBORS:
                /* Not listed: the kernel has no entry. That is no verdict. */
                LIST_FOREACH(watches, w, t->watches)
                        if (w->marked) {
                                w->marked = false;
                                w->have_entry = false;
                                w->nud = NUD_NONE;
                        }
                break;
        default:
                break;
        }
        return changed;
}

/* ---- which neighbours are watched --------------------------------------------------------- */

static bool uplink_has_address(const WatchedUplink *u, const NeighborAddr *a) {
        for (size_t i = 0; i < u->n_addrs; i++)
                if (neighbor_addr_equal(&u->addrs[i].addr, a))
                        return true;
        return false;
}

/* Whether the scope of a link-local server ("eth0", "3") names this uplink. */
static bool scope_names(const char *scope, const WatchedUplink *u) {
        char *end;
        long v;

        if (strcmp(scope, u->name) == 0)
                return true;
        if (!scope[0])
                return false;
        errno = 0;
        v = strtol(scope, &end, 10);
        return errno == 0 && *end == '\0' && v == u->ifindex;
}

/* Whether the DNS server is a neighbour of the uplink: a server of any link, or of this
 * one (resolved's per-link servers), on one of its prefixes (not its network or broadcast
 * address, not one of its own), or link-local and scoped to it. */
static bool dns_on_uplink(const WatchedUplink *u, const DnsServer *s) {
        NeighborAddr a = { .family = s->family };

        if (s->ifindex > 0 && s->ifindex != u->ifindex)
                return false;
        memcpy(a.bytes, s->addr, sizeof a.bytes);
        if (addr_is_ipv6_link_local(&a))
                return s->ifindex > 0 || scope_names(s->scope, u);
        if (uplink_has_address(u, &a))
                return false;
        for (size_t i = 0; i < u->n_addrs; i++) {
                const UplinkAddr *x = &u->addrs[i];
                if (addr_is_ipv6_link_local(&x->addr) ||
                    !neighbor_addr_in_prefix(&a, &x->addr, x->prefix_len))
                        continue;
                if (a.family == AF_INET) {
                        uint32_t v;
                        memcpy(&v, a.bytes, 4);
                        if (ipv4_is_net_or_broadcast(ntohl(v), x->prefix_len))
                                continue;
                }
                return true;
        }
        return false;
}

static NeighborWatch *watch_find(const NeighborTable *t, int ifindex, const NeighborAddr *a) {
        LIST_FOREACH(watches, w, t->watches)
                if (w->ifindex == ifindex && neighbor_addr_equal(&w->addr, a))
                        return w;
        return NULL;
}

/* Scratch of the update: the roles wanted, by watch, as they are found. */
typedef struct Wanted {
        NeighborWatch *w;
        NeighborRole role;
} Wanted;

/* The watch of @a on @u is wanted in @role: found or made (if there is room), and noted. */
static int want(NeighborTable *t, Wanted *wanted, size_t *n, const WatchedUplink *u,
                const NeighborAddr *a, NeighborRole role, bool *created) {
        NeighborWatch *w = watch_find(t, u->ifindex, a);

        for (size_t i = 0; w && i < *n; i++)
                if (wanted[i].w == w) {
                        wanted[i].role |= role;
                        return 0;
                }
        if (!w) {
                /* Full: this one goes unwatched; those there are keep their state. */
                if (t->n_watches >= NEIGHBOR_WATCHES_MAX)
                        return 0;
                w = calloc(1, sizeof *w);
                if (!w)
                        return -ENOMEM;
                *w = (NeighborWatch) { .ifindex = u->ifindex, .addr = *a };
                snprintf(w->ifname, sizeof w->ifname, "%s", u->name);
                LIST_APPEND(watches, t->watches, w);
                t->n_watches++;
                *created = true;
        }
        if (*n >= NEIGHBOR_WATCHES_MAX)
                return 0;
        wanted[(*n)++] = (Wanted) { .w = w, .role = role };
        return 0;
}

int neighbor_table_update_watches(NeighborTable *t, bool *ret_created) {
        _cleanup_free_ Wanted *wanted = calloc(NEIGHBOR_WATCHES_MAX, sizeof *wanted);
        bool created = false;
        size_t n = 0;
        int r = 0;

        if (!wanted)
                return -ENOMEM;
        LIST_FOREACH(uplinks, u, t->uplinks) {
                /* Nothing answers through a link that is down: not a failure to tell. */
                if (!u->up)
                        continue;
                for (size_t i = 0; r >= 0 && i < u->n_gws; i++)
                        r = want(t, wanted, &n, u, &u->gws[i].gw, NEIGHBOR_ROLE_GATEWAY, &created);
                for (size_t i = 0; r >= 0 && i < t->n_dns; i++) {
                        NeighborAddr a = { .family = t->dns[i].family };
                        if (!dns_on_uplink(u, &t->dns[i]))
                                continue;
                        memcpy(a.bytes, t->dns[i].addr, sizeof a.bytes);
                        r = want(t, wanted, &n, u, &a, NEIGHBOR_ROLE_DNS_SERVER, &created);
                }
        }
        if (ret_created)
                *ret_created = created;
        /* Out of memory half way: what is wanted is not known, nothing is retired. */
        if (r < 0)
                return r;
        /* Everything not wanted now is retired; what is wanted gets its role (back). */
        LIST_FOREACH(watches, w, t->watches) {
                NeighborRole role = 0;
                for (size_t i = 0; i < n; i++)
                        if (wanted[i].w == w)
                                role = wanted[i].role;
                w->role = role;
        }
        return 0;
}

void neighbor_table_sweep_retired(NeighborTable *t) {
        LIST_FOREACH_SAFE(watches, w, n, t->watches)
                if (w->role == 0)
                        watch_free(t, w);
}

/* ---- verdicts ----------------------------------------------------------------------------- */

/* Tell the current verdict if it is news and the rate limit allows. */
static void watch_tell(NeighborTable *t, NeighborWatch *w, uint64_t now) {
        NeighborEventType v;

        if (w->role == 0)
                return;
        if (w->failed)
                v = NEIGHBOR_EVENT_FAILED;
        else if (w->told == NEIGHBOR_EVENT_FAILED)
                v = NEIGHBOR_EVENT_REACHABLE;
        else
                return;
        if (v == w->told)
                return;
        if (now - w->window_start >= NEIGHBOR_SIGNAL_WINDOW_USEC || now < w->window_start) {
                w->window_start = now;
                w->n_in_window = 0;
        }
        if (w->n_in_window >= NEIGHBOR_SIGNAL_BURST)
                return; /* neighbor_table_flush() tells it once the window has passed */
        w->n_in_window++;
        w->told = v;
        if (t->fn)
                t->fn(w, v, t->userdata);
}

NeighborWatch *neighbor_table_on_neighbor(NeighborTable *t, int ifindex, const NeighborAddr *a,
                                          bool present, uint16_t nud, uint64_t now) {
        NeighborWatch *w = watch_find(t, ifindex, a);

        if (!w)
                return NULL;
        w->marked = false;
        if (!present) {
                w->have_entry = false;
                w->nud = NUD_NONE;
                return w;
        }
        w->have_entry = true;
        w->nud = nud;
        /* A retired watch (its uplink down, its route between delete and add) may see a
         * recovery, but what fails then is no failure of a neighbour in use. */
        if ((nud & NUD_FAILED) && w->role != 0)
                w->failed = true;
        else if (nud & (NUD_REACHABLE | NUD_PERMANENT | NUD_NOARP))
                w->failed = false;
        watch_tell(t, w, now);
        return w;
}

void neighbor_table_flush(NeighborTable *t, uint64_t now) {
        LIST_FOREACH(watches, w, t->watches)
                watch_tell(t, w, now);
}

bool neighbor_watch_wants_probe(const NeighborWatch *w) {
        if (w->role == 0)
                return false;
        if (!w->have_entry || w->nud == NUD_NONE)
                return true;
        return w->nud & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_FAILED);
}

NeighborWatch *neighbor_table_watches(const NeighborTable *t) {
        return t->watches;
}

size_t neighbor_table_n_watches(const NeighborTable *t) {
        return t->n_watches;
}

/* ---- rtnetlink messages --------------------------------------------------------------------- */

static int attr_addr(const struct nlattr *nla, int family, NeighborAddr *ret) {
        if (nla_len(nla) < 0 || (size_t) nla_len(nla) != addr_len(family))
                return -EBADMSG;
        *ret = (NeighborAddr) { .family = family };
        memcpy(ret->bytes, nla_data(nla), addr_len(family));
        return 0;
}

static int attr_u32(const struct nlattr *nla, uint32_t *ret) {
        if (nla_len(nla) != (int) sizeof(uint32_t))
                return -EBADMSG;
        memcpy(ret, nla_data(nla), sizeof *ret);
        return 0;
}

static bool family_ok(int family) {
        return family == AF_INET || family == AF_INET6;
}

static int decode_address(const struct nlmsghdr *h, NeighborNlMsg *ret) {
        struct nlattr *tb[IFA_MAX + 1];
        struct ifaddrmsg ifa;
        const struct nlattr *a;

        if (nlmsg_parse((struct nlmsghdr *) h, sizeof ifa, tb, IFA_MAX, NULL) < 0)
                return -EBADMSG;
        memcpy(&ifa, nlmsg_data(h), sizeof ifa);
        if (!family_ok(ifa.ifa_family))
                return 0;
        if (ifa.ifa_index == 0 || ifa.ifa_index > INT_MAX ||
            ifa.ifa_prefixlen > 8 * addr_len(ifa.ifa_family))
                return -EBADMSG;
        /* IFA_LOCAL is the address itself; IFA_ADDRESS the peer's on a point-to-point link. */
        a = tb[IFA_LOCAL] ?: tb[IFA_ADDRESS];
        if (!a)
                return -EBADMSG;
        *ret = (NeighborNlMsg) { .kind = NEIGHBOR_NL_ADDRESS, .present = h->nlmsg_type == RTM_NEWADDR,
                                 .ifindex = (int) ifa.ifa_index, .prefix_len = ifa.ifa_prefixlen };
        return attr_addr(a, ifa.ifa_family, &ret->addr) < 0 ? -EBADMSG : 1;
}

/* RTNH_ALIGN() and RTNH_LENGTH(0) of linux/rtnetlink.h, in size_t. */
#define NH_ALIGN(len) (((size_t) (len) + 3u) & ~(size_t) 3u)
#define NH_HDRLEN NH_ALIGN(sizeof(struct rtnexthop))

/* The nexthops of RTA_MULTIPATH: struct rtnexthop, then its attributes, each aligned. */
static int decode_multipath(const struct nlattr *mp, int family, const NeighborNlMsg *base,
                            NeighborNlMsg *ret) {
        const uint8_t *p = nla_data(mp);
        size_t left = nla_len(mp) < 0 ? 0 : (size_t) nla_len(mp);
        int n = 0;

        while (left > 0) {
                struct nlattr *tb[RTA_MAX + 1];
                struct rtnexthop nh;
                size_t step;

                if (left < sizeof nh)
                        return -EBADMSG;
                memcpy(&nh, p, sizeof nh);
                if (nh.rtnh_len < sizeof nh || nh.rtnh_len > left || nh.rtnh_ifindex <= 0)
                        return -EBADMSG;
                if (nla_parse(tb, RTA_MAX, (struct nlattr *) (p + NH_HDRLEN),
                              (int) (nh.rtnh_len - NH_HDRLEN), NULL) < 0)
                        return -EBADMSG;
                if (tb[RTA_GATEWAY] && n < NEIGHBOR_NEXTHOPS_MAX) {
                        ret[n] = *base;
                        ret[n].ifindex = nh.rtnh_ifindex;
                        if (attr_addr(tb[RTA_GATEWAY], family, &ret[n].addr) < 0)
                                return -EBADMSG;
                        n++;
                }
                step = NH_ALIGN(nh.rtnh_len);
                left -= step < left ? step : left;
                p += step;
        }
        return n;
}

static int decode_route(const struct nlmsghdr *h, NeighborNlMsg *ret) {
        struct nlattr *tb[RTA_MAX + 1];
        NeighborNlMsg base;
        struct rtmsg rtm;
        uint32_t table, oif;

        if (nlmsg_parse((struct nlmsghdr *) h, sizeof rtm, tb, RTA_MAX, NULL) < 0)
                return -EBADMSG;
        memcpy(&rtm, nlmsg_data(h), sizeof rtm);
        if (!family_ok(rtm.rtm_family))
                return 0;
        table = rtm.rtm_table;
        if (tb[RTA_TABLE] && attr_u32(tb[RTA_TABLE], &table) < 0)
                return -EBADMSG;
        if (table != RT_TABLE_MAIN || rtm.rtm_dst_len != 0 || rtm.rtm_type != RTN_UNICAST)
                return 0;
        base = (NeighborNlMsg) { .kind = NEIGHBOR_NL_GATEWAY,
                                 .present = h->nlmsg_type == RTM_NEWROUTE,
                                 .replace = h->nlmsg_type == RTM_NEWROUTE &&
                                            (h->nlmsg_flags & NLM_F_REPLACE) };
        if (tb[RTA_PRIORITY] && attr_u32(tb[RTA_PRIORITY], &base.metric) < 0)
                return -EBADMSG;
        if (tb[RTA_MULTIPATH])
                return decode_multipath(tb[RTA_MULTIPATH], rtm.rtm_family, &base, ret);
        if (!tb[RTA_GATEWAY] || !tb[RTA_OIF])
                return 0; /* on-link, blackhole, through a nexthop object: no neighbour */
        if (attr_u32(tb[RTA_OIF], &oif) < 0 || oif == 0 || oif > INT_MAX)
                return -EBADMSG;
        *ret = base;
        ret->ifindex = (int) oif;
        return attr_addr(tb[RTA_GATEWAY], rtm.rtm_family, &ret->addr) < 0 ? -EBADMSG : 1;
}

static int decode_neighbor(const struct nlmsghdr *h, NeighborNlMsg *ret) {
        struct nlattr *tb[NDA_MAX + 1];
        struct ndmsg ndm;

        if (nlmsg_parse((struct nlmsghdr *) h, sizeof ndm, tb, NDA_MAX, NULL) < 0)
                return -EBADMSG;
        memcpy(&ndm, nlmsg_data(h), sizeof ndm);
        if (!family_ok(ndm.ndm_family) || (ndm.ndm_flags & NTF_PROXY))
                return 0;
        if (ndm.ndm_ifindex <= 0 || !tb[NDA_DST])
                return -EBADMSG;
        *ret = (NeighborNlMsg) { .kind = NEIGHBOR_NL_NEIGHBOR, .present = h->nlmsg_type == RTM_NEWNEIGH,
                                 .ifindex = ndm.ndm_ifindex, .nud = ndm.ndm_state };
        return attr_addr(tb[NDA_DST], ndm.ndm_family, &ret->addr) < 0 ? -EBADMSG : 1;
}

int neighbor_nl_decode(const struct nlmsghdr *h, NeighborNlMsg *ret) {
        switch (h->nlmsg_type) {
        case RTM_NEWADDR:
        case RTM_DELADDR:
                return decode_address(h, ret);
        case RTM_NEWROUTE:
        case RTM_DELROUTE:
                return decode_route(h, ret);
        case RTM_NEWNEIGH:
        case RTM_DELNEIGH:
                return decode_neighbor(h, ret);
        default:
                return 0;
        }
}
