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
