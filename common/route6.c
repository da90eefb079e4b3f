/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/route/neighbour.h>
#include <string.h>

#include "nl-util.h"
#include "route6.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_neigh *, rtnl_neigh_put);

bool route6_addr_is_guest_kind(const struct in6_addr *a) {
        return (a->s6_addr[0] & 0xe0) == 0x20 || (a->s6_addr[0] & 0xfe) == 0xfc;
}

static struct nl_addr *nl_addr_ipv6(const struct in6_addr *a, int prefix_len) {
        struct nl_addr *na = nl_addr_build(AF_INET6, a, sizeof *a);

        if (na)
                nl_addr_set_prefixlen(na, prefix_len);
        return na;
}

/* ---- the host's own addresses ------------------------------------------------------------ */

typedef struct AddrScan {
        struct nl_addr *want;
        bool found;
} AddrScan;

static void addr_match(struct nl_object *obj, void *userdata) {
        struct rtnl_addr *a = (struct rtnl_addr *) obj;
        AddrScan *s = userdata;
        struct nl_addr *local = rtnl_addr_get_local(a);

        if (local && nl_addr_get_family(local) == AF_INET6 &&
            nl_addr_get_len(local) == sizeof(struct in6_addr) &&
            memcmp(nl_addr_get_binary_addr(local), nl_addr_get_binary_addr(s->want),
                   sizeof(struct in6_addr)) == 0)
                s->found = true;
}

static int addr_is_local(struct nl_sock *nl, struct nl_addr *want) {
        _cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
        AddrScan s = { .want = want };
        int r = rtnl_addr_alloc_cache(nl, &cache);

        if (r < 0)
                return nlerr_to_errno(r);
        nl_cache_foreach(cache, addr_match, &s);
        return s.found;
}

/* ---- the uplink's neighbours ------------------------------------------------------------- */

static int neigh_known(struct nl_sock *nl, int ifindex, struct nl_addr *want) {
        _cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
        _cleanup_(rtnl_neigh_putp) struct rtnl_neigh *n = NULL;
        int r = rtnl_neigh_alloc_cache(nl, &cache);

        if (r < 0)
                return nlerr_to_errno(r);
        n = rtnl_neigh_get(cache, ifindex, want);
        if (!n || !rtnl_neigh_get_lladdr(n))
                return 0;
        return (rtnl_neigh_get_state(n) & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE |
                                           NUD_PERMANENT)) != 0;
}

/* ---- the main table's most specific route ------------------------------------------------ */

typedef struct RouteScan {
        struct nl_addr *want;
        uint8_t own_proto;
        int best_len;                /* -1: none yet */
        int best_ifindex;            /* 0: not one direct route through one link */
} RouteScan;

static void route_match(struct nl_object *obj, void *userdata) {
        struct rtnl_route *route = (struct rtnl_route *) obj;
        RouteScan *s = userdata;
        struct nl_addr *dst = rtnl_route_get_dst(route);
        struct rtnl_nexthop *nh;
        int len;

        if (rtnl_route_get_table(route) != RT_TABLE_MAIN ||
            rtnl_route_get_type(route) != RTN_UNICAST ||
            rtnl_route_get_protocol(route) == s->own_proto || !dst)
                return;
        len = (int) nl_addr_get_prefixlen(dst);
        if (len <= s->best_len || len < 1)
                return;
        /* dst contains want: compare the first len bits. */
        if (nl_addr_cmp_prefix(dst, s->want) != 0)
                return;
        s->best_len = len;
        s->best_ifindex = 0;
        nh = rtnl_route_get_nnexthops(route) == 1 ? rtnl_route_nexthop_n(route, 0) : NULL;
        if (nh && !rtnl_route_nh_get_gateway(nh))
                s->best_ifindex = rtnl_route_nh_get_ifindex(nh);
}

static int route_onlink_via(struct nl_sock *nl, struct nl_addr *want, uint8_t own_proto) {
        _cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
        RouteScan s = { .want = want, .own_proto = own_proto, .best_len = -1 };
        int r = rtnl_route_alloc_cache(nl, AF_INET6, 0, &cache);

        if (r < 0)
                return nlerr_to_errno(r);
        nl_cache_foreach(cache, route_match, &s);
        return s.best_ifindex;
}

int route6_check_guest_address(struct nl_sock *nl, const struct in6_addr *addr, int uplink,
                               uint8_t own_proto, ErrBuf *err) {
        _cleanup_(nl_addr_putp) struct nl_addr *want = nl_addr_ipv6(addr, 128);
        char s[INET6_ADDRSTRLEN];
        int r;

        inet_ntop(AF_INET6, addr, s, sizeof s);
        if (!route6_addr_is_guest_kind(addr))
                return errbuf_set(err, -EINVAL, "%s is neither global unicast nor unique local", s);
        if (!want)
                return errbuf_set(err, -ENOMEM, "out of memory");
        r = addr_is_local(nl, want);
        if (r < 0)
                return errbuf_set(err, r, "cannot list the host's addresses: %s", strerror(-r));
        if (r > 0)
                return errbuf_set(err, -EADDRINUSE, "%s is an address of the host", s);
        r = neigh_known(nl, uplink, want);
        if (r < 0)
                return errbuf_set(err, r, "cannot list neighbours: %s", strerror(-r));
        if (r > 0)
                return errbuf_set(err, -EADDRINUSE, "%s is a neighbour on the uplink already", s);
        r = route_onlink_via(nl, want, own_proto);
        if (r < 0)
                return errbuf_set(err, r, "cannot list routes: %s", strerror(-r));
        if (r != uplink)
                return errbuf_set(err, -ENETUNREACH, "%s is not in a prefix on-link on the uplink",
                                  s);
        return 0;
}

int route6_host(struct nl_sock *nl, bool add, int ifindex, const struct in6_addr *addr,
                uint32_t table, uint8_t proto, ErrBuf *err) {
        _cleanup_(rtnl_route_putp) struct rtnl_route *route = rtnl_route_alloc();
        _cleanup_(nl_addr_putp) struct nl_addr *dst = nl_addr_ipv6(addr, 128);
        struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
        char s[INET6_ADDRSTRLEN];
        int r;

        if (!route || !dst || !nh) {
                if (nh)
                        rtnl_route_nh_free(nh);
                return errbuf_set(err, -ENOMEM, "out of memory for a route");
        }
        inet_ntop(AF_INET6, addr, s, sizeof s);
        rtnl_route_set_family(route, AF_INET6);
        rtnl_route_set_table(route, table);
        rtnl_route_set_protocol(route, proto);
        rtnl_route_set_scope(route, RT_SCOPE_UNIVERSE);
        rtnl_route_set_type(route, RTN_UNICAST);
        r = rtnl_route_set_dst(route, dst);
        if (r < 0) {
                rtnl_route_nh_free(nh);
                return errbuf_set(err, nlerr_to_errno(r), "bad route to %s", s);
        }
        rtnl_route_nh_set_ifindex(nh, ifindex);
        rtnl_route_add_nexthop(route, nh); /* route owns nh from here */
        if (add)
                r = nlerr_to_errno(rtnl_route_add(nl, route, NLM_F_CREATE | NLM_F_REPLACE));
        else {
                r = nlerr_to_errno(rtnl_route_delete(nl, route, 0));
                if (r == -ENOENT || r == -ESRCH || r == -ENODEV)
                        r = 0;
        }
        if (r < 0)
                return errbuf_set(err, r, "cannot %s the route to %s/128: %s",
                                  add ? "add" : "delete", s, strerror(-r));
        return 0;
}

typedef struct ProtoScan {
        struct nl_sock *nl;
        uint32_t table;
        uint8_t proto;
        const int *ifindexes;
        size_t n_ifindexes;
        unsigned n;
        int error;
} ProtoScan;

static void route_delete_if_ours(struct nl_object *obj, void *userdata) {
        struct rtnl_route *route = (struct rtnl_route *) obj;
        ProtoScan *s = userdata;
        int r;

        if (rtnl_route_get_protocol(route) != s->proto || rtnl_route_get_table(route) != s->table)
                return;
        if (s->ifindexes) {
                struct rtnl_nexthop *nh = rtnl_route_get_nnexthops(route) == 1 ?
                                          rtnl_route_nexthop_n(route, 0) : NULL;
                bool ours = false;

                for (size_t i = 0; nh && i < s->n_ifindexes; i++)
                        ours |= rtnl_route_nh_get_ifindex(nh) == s->ifindexes[i];
                if (!ours)
                        return;
        }
        r = nlerr_to_errno(rtnl_route_delete(s->nl, route, 0));
        if (r < 0 && r != -ENOENT && r != -ESRCH && s->error == 0)
                s->error = r;
        else if (r >= 0)
                s->n++;
}

int route6_delete_proto(struct nl_sock *nl, uint32_t table, uint8_t proto, const int *ifindexes,
                        size_t n_ifindexes, unsigned *ret_n) {
        _cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
        ProtoScan s = { .nl = nl, .table = table, .proto = proto, .ifindexes = ifindexes,
                        .n_ifindexes = n_ifindexes };
        int r = rtnl_route_alloc_cache(nl, AF_INET6, 0, &cache);

        if (r < 0)
                return nlerr_to_errno(r);
        nl_cache_foreach(cache, route_delete_if_ours, &s);
        if (ret_n)
                *ret_n = s.n;
        return s.error;
}

/* ---- proxy neighbour entries ------------------------------------------------------------- */

static int proxy_request(struct nl_sock *nl, bool add, int ifindex, const struct in6_addr *addr,
                         uint8_t proto) {
        struct ndmsg ndm = {
                .ndm_family = AF_INET6,
                .ndm_ifindex = ifindex,
                .ndm_flags = NTF_PROXY,
                .ndm_state = NUD_PERMANENT,
        };
        struct nl_msg *msg = nlmsg_alloc_simple(add ? RTM_NEWNEIGH : RTM_DELNEIGH,
                                                add ? NLM_F_CREATE | NLM_F_REPLACE : 0);

        if (!msg)
                return -ENOMEM;
        if (nlmsg_append(msg, &ndm, sizeof ndm, NLMSG_ALIGNTO) < 0 ||
            nla_put(msg, NDA_DST, sizeof *addr, addr) < 0 ||
            (add && nla_put_u8(msg, NDA_PROTOCOL, proto) < 0)) {
                nlmsg_free(msg);
                return -ENOMEM;
        }
        return nlerr_to_errno(nl_send_sync(nl, msg)); /* frees msg */
}

int route6_proxy(struct nl_sock *nl, bool add, int ifindex, const struct in6_addr *addr,
                 uint8_t proto, ErrBuf *err) {
        char s[INET6_ADDRSTRLEN];
        int r = proxy_request(nl, add, ifindex, addr, proto);

        if (!add && (r == -ENOENT || r == -ENODEV))
                r = 0;
        if (r < 0) {
                inet_ntop(AF_INET6, addr, s, sizeof s);
                return errbuf_set(err, r, "cannot %s the proxy entry of %s: %s",
                                  add ? "add" : "delete", s, strerror(-r));
        }
        return 0;
}

/* Proxy entries one sweep deletes before it looks again. */
#define PROXY_SWEEP_MAX 256

typedef struct ProxyScan {
        uint8_t proto;
        const int *ifindexes;
        size_t n_ifindexes;
        size_t n;
        bool more;                   /* found more than fit */
        struct { int ifindex; struct in6_addr addr; } found[PROXY_SWEEP_MAX];
} ProxyScan;

static int proxy_entry(struct nl_msg *msg, void *userdata) {
        struct nlmsghdr *nlh = nlmsg_hdr(msg);
        struct nlattr *tb[NDA_MAX + 1];
        ProxyScan *s = userdata;
        const struct ndmsg *ndm;
        bool ours = s->ifindexes == NULL;

        if (nlh->nlmsg_type != RTM_NEWNEIGH ||
            nlmsg_parse(nlh, sizeof *ndm, tb, NDA_MAX, NULL) < 0)
                return NL_SKIP;
        ndm = nlmsg_data(nlh);
        if (ndm->ndm_family != AF_INET6 || !(ndm->ndm_flags & NTF_PROXY) || !tb[NDA_DST] ||
            nla_len(tb[NDA_DST]) != sizeof(struct in6_addr) || !tb[NDA_PROTOCOL] ||
            nla_get_u8(tb[NDA_PROTOCOL]) != s->proto)
                return NL_SKIP;
        for (size_t i = 0; !ours && i < s->n_ifindexes; i++)
                ours = ndm->ndm_ifindex == s->ifindexes[i];
        if (!ours)
                return NL_SKIP;
        if (s->n == PROXY_SWEEP_MAX) {
                s->more = true;
                return NL_SKIP;
        }
        s->found[s->n].ifindex = ndm->ndm_ifindex;
        memcpy(&s->found[s->n].addr, nla_data(tb[NDA_DST]), sizeof(struct in6_addr));
        s->n++;
        return NL_OK;
}

int route6_proxy_delete_proto(struct nl_sock *nl, uint8_t proto, const int *ifindexes,
                              size_t n_ifindexes, unsigned *ret_n) {
        /* The kernel dumps its proxy entries when the request's flags are NTF_PROXY. */
        struct ndmsg ndm = { .ndm_family = AF_INET6, .ndm_flags = NTF_PROXY };
        _cleanup_free_ ProxyScan *s = malloc(sizeof *s);
        unsigned removed = 0;
        int r = 0;

        if (!s)
                return -ENOMEM;
        do {
                /* nl_socket_get_cb() hands out a reference of its own. */
                struct nl_cb *own = nl_socket_get_cb(nl), *cb = own ? nl_cb_clone(own) : NULL;

                *s = (ProxyScan) { .proto = proto, .ifindexes = ifindexes,
                                   .n_ifindexes = n_ifindexes };
                nl_cb_put(own);
                if (!cb)
                        return -ENOMEM;
                nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, proxy_entry, s);
                /* nl_send_simple() returns the bytes it sent. */
                r = nl_send_simple(nl, RTM_GETNEIGH, NLM_F_DUMP, &ndm, sizeof ndm);
                r = r < 0 ? nlerr_to_errno(r) : nlerr_to_errno(nl_recvmsgs(nl, cb));
                nl_cb_put(cb);
                if (r < 0)
                        break;
                for (size_t i = 0; i < s->n; i++) {
                        int k = proxy_request(nl, false, s->found[i].ifindex, &s->found[i].addr, 0);
                        if (k >= 0)
                                removed++;
                        else if (k != -ENOENT && k != -ENODEV) {
                                r = k;
                                s->more = false;
                        }
                }
        } while (s->more && s->n > 0);
        if (ret_n)
                *ret_n = removed;
        return r < 0 ? r : 0;
}
