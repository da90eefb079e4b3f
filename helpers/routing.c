/* SPDX-License-Identifier: BSD-3-Clause */
#include <assert.h>
#include <errno.h>
#include <linux/fib_rules.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/rule.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firewall.h"
#include "fwmark.h"
#include "ifname.h"
#include "link.h"
#include "log.h"
#include "nl-util.h"
#include "route6.h"
#include "routing.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_rule *, rtnl_rule_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cb *, nl_cb_put);

#define ROUTES_MAX 4096u

int routing_check_uplink(Helper *h, const UplinkArgs *u, bool must_exist, uint32_t *ret_table,
                         ErrBuf *err) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        const char *ifname = u->ifname, *name, *alias;
        int ifindex = u->ifindex, r;

        if (fwmark_routing_table(ifindex, ret_table) < 0)
                return errbuf_set(err, -ERANGE, "uplink ifindex %d is out of range", ifindex);
        if (!must_exist)
                return 0;
        r = rtnl_link_get_kernel(h->nl, ifindex, NULL, &link);
        if (r < 0)
                return errbuf_set(err, -ENODEV, "uplink %s (ifindex %d) does not exist", ifname,
                                  ifindex);
        name = rtnl_link_get_name(link);
        if (!name || strcmp(name, ifname) != 0)
                return errbuf_set(err, -EINVAL, "ifindex %d is %s, not %s", ifindex,
                                  name ?: "nameless", ifname);
        alias = rtnl_link_get_ifalias(link);
        if (link_mark_is_ours(alias, rtnl_link_get_group(link)))
                return errbuf_set(err, -EINVAL, "%s is a guest link, not an uplink", ifname);
        if (rtnl_link_get_flags(link) & IFF_LOOPBACK)
                return errbuf_set(err, -EINVAL, "%s is the loopback link, not an uplink", ifname);
        return 0;
}

/* ---- the uplinks set up ----------------------------------------------------------------- */

/* The index of the uplink of @ifindex in h->uplinks, or h->n_uplinks. */
static size_t uplink_index(const Helper *h, int ifindex) {
        size_t i = 0;

        while (i < h->n_uplinks && h->uplinks[i].ifindex != ifindex)
                i++;
        return i;
}

bool routing_uplink_is_set_up(const Helper *h, const UplinkArgs *u) {
        size_t i = uplink_index(h, u->ifindex);

        return i < h->n_uplinks && strcmp(h->uplinks[i].ifname, u->ifname) == 0;
}

static void uplink_remember(Helper *h, const UplinkArgs *u) {
        size_t i = uplink_index(h, u->ifindex);

        assert(i < ELEMENTSOF(h->uplinks)); /* room checked by routing_uplink_add() */
        if (i == h->n_uplinks)
                h->n_uplinks++;
        h->uplinks[i] = (HelperUplink) { .ifindex = u->ifindex };
        snprintf(h->uplinks[i].ifname, sizeof h->uplinks[i].ifname, "%s", u->ifname);
}

static void uplink_forget(Helper *h, int ifindex) {
        size_t i = uplink_index(h, ifindex);

        if (i < h->n_uplinks)
                h->uplinks[i] = h->uplinks[--h->n_uplinks];
}

/* ---- rules ------------------------------------------------------------------------------ */

/* A rule of ours: what it matches (all optional) and where it sends packets. */
typedef struct RuleSpec {
        int family;
        uint32_t prio;
        uint32_t table;
        uint32_t mark, mask;        /* fwmark match when mask != 0 */
        const char *oif;            /* outgoing interface match */
        uint32_t dst;               /* IPv4 destination match when dst_len != 0 */
        uint8_t dst_len;
        int suppress_prefixlength;  /* > 0: ignore the table's routes of this length or less */
} RuleSpec;

/* Built by hand: libnl's rule objects cannot carry suppress_prefixlength. */
static int rule_add(Helper *h, const RuleSpec *spec, ErrBuf *err) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWRULE,
                                                                        NLM_F_CREATE | NLM_F_EXCL);
        struct fib_rule_hdr frh = {
                .family = (uint8_t) spec->family,
                .dst_len = spec->dst_len,
                .table = spec->table < 256 ? (uint8_t) spec->table : RT_TABLE_UNSPEC,
                .action = FR_ACT_TO_TBL,
        };
        int r;

        if (!msg || nlmsg_append(msg, &frh, sizeof frh, NLMSG_ALIGNTO) < 0)
                return errbuf_set(err, -ENOMEM, "out of memory for a rule");
        r = nla_put_u32(msg, FRA_PRIORITY, spec->prio);
        if (r >= 0)
                r = nla_put_u32(msg, FRA_TABLE, spec->table);
        if (r >= 0)
                r = nla_put_u8(msg, FRA_PROTOCOL, RTPROT_PATCHPANEL);
        if (r >= 0 && spec->mask) {
                r = nla_put_u32(msg, FRA_FWMARK, spec->mark);
                if (r >= 0)
                        r = nla_put_u32(msg, FRA_FWMASK, spec->mask);
        }
        if (r >= 0 && spec->oif)
                r = nla_put_string(msg, FRA_OIFNAME, spec->oif);
        if (r >= 0 && spec->dst_len) {
                uint32_t dst = htonl(spec->dst);
                r = nla_put(msg, FRA_DST, sizeof dst, &dst);
        }
        if (r >= 0 && spec->suppress_prefixlength > 0)
                r = nla_put_u32(msg, FRA_SUPPRESS_PREFIXLEN, (uint32_t) spec->suppress_prefixlength);
        if (r < 0)
                return errbuf_set(err, -ENOMEM, "out of memory for a rule");
        r = nl_send_auto_complete(h->nl, msg);
        if (r >= 0)
                r = nl_wait_for_ack(h->nl);
        r = nlerr_to_errno(r);
        if (r == -EEXIST)
                return 0;
        if (r < 0)
                return errbuf_set(err, r, "cannot add a rule to table %u: %s", spec->table,
                                  strerror(-r));
        return 0;
}

typedef struct RuleScan {
        uint32_t table; /* 0: every table */
        uint32_t prio;  /* 0: every priority */
        struct rtnl_rule *found[256];
        unsigned n;
} RuleScan;

static void rule_collect(struct nl_object *obj, void *userdata) {
        struct rtnl_rule *rule = (struct rtnl_rule *) obj;
        RuleScan *s = userdata;
        uint8_t proto;

        if (rtnl_rule_get_protocol(rule, &proto) < 0 || proto != RTPROT_PATCHPANEL)
                return;
        if (s->table && rtnl_rule_get_table(rule) != s->table)
                return;
        if (s->prio && rtnl_rule_get_prio(rule) != s->prio)
                return;
        if (s->n < ELEMENTSOF(s->found)) {
                nl_object_get(obj);
                s->found[s->n++] = rule;
        }
}

static int rules_delete(Helper *h, uint32_t table, uint32_t prio, ErrBuf *err) {
        _cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
        RuleScan s = { .table = table, .prio = prio };
        int r, first = 0;

        r = rtnl_rule_alloc_cache(h->nl, AF_UNSPEC, &cache);
        if (r < 0)
                return errbuf_set(err, nlerr_to_errno(r), "cannot list rules");
        nl_cache_foreach(cache, rule_collect, &s);
        for (unsigned i = 0; i < s.n; i++) {
                r = nlerr_to_errno(rtnl_rule_delete(h->nl, s.found[i], 0));
                if (r < 0 && r != -ENOENT && first == 0)
                        first = errbuf_set(err, r, "cannot delete a rule: %s", strerror(-r));
                rtnl_rule_put(s.found[i]);
        }
        return first;
}

/* ---- routes ----------------------------------------------------------------------------- */

typedef struct RouteScan {
        int ifindex;
        uint32_t table;
        struct rtnl_route **want; /* copies for the uplink's table of its main-table routes */
        struct rtnl_route **have; /* routes of ours in its table */
        unsigned n_want, n_have;
        bool all_ours;            /* collect every route of ours in any table into have */
        int error;
} RouteScan;

static struct nl_addr *nh_gateway(struct rtnl_nexthop *nh) {
        return nh ? rtnl_route_nh_get_gateway(nh) : NULL;
}

static int route_oif(struct rtnl_route *r) {
        struct rtnl_nexthop *nh;

        if (rtnl_route_get_nnexthops(r) != 1)
                return 0;
        nh = rtnl_route_nexthop_n(r, 0);
        return nh ? rtnl_route_nh_get_ifindex(nh) : 0;
}

static struct nl_addr *route_gateway(struct rtnl_route *r) {
        return rtnl_route_get_nnexthops(r) == 1 ? nh_gateway(rtnl_route_nexthop_n(r, 0)) : NULL;
}

/* A route for the uplink's table: the unreachable default of family (src NULL), or a copy of
 * a main-table route through one of its nexthops. */
static struct rtnl_route *route_for_table(struct rtnl_route *src, struct rtnl_nexthop *via,
                                          int family, uint32_t table) {
        _cleanup_(rtnl_route_putp) struct rtnl_route *r = rtnl_route_alloc();
        _cleanup_(nl_addr_putp) struct nl_addr *any = NULL;
        struct rtnl_nexthop *nh;

        if (!r)
                return NULL;
        rtnl_route_set_family(r, (uint8_t) family);
        rtnl_route_set_table(r, table);
        rtnl_route_set_protocol(r, RTPROT_PATCHPANEL);
        if (!src) {
                any = nl_addr_build(family, NULL, 0);
                if (!any)
                        return NULL;
                nl_addr_set_prefixlen(any, 0);
                rtnl_route_set_dst(r, any);
                rtnl_route_set_type(r, RTN_UNREACHABLE);
                rtnl_route_set_scope(r, RT_SCOPE_UNIVERSE);
                rtnl_route_set_priority(r, UINT32_MAX);
                return TAKE_PTR(r);
        }
        rtnl_route_set_dst(r, rtnl_route_get_dst(src));
        rtnl_route_set_tos(r, rtnl_route_get_tos(src));
        rtnl_route_set_priority(r, rtnl_route_get_priority(src));
        rtnl_route_set_type(r, rtnl_route_get_type(src));
        rtnl_route_set_scope(r, rtnl_route_get_scope(src));
        if (rtnl_route_get_pref_src(src))
                rtnl_route_set_pref_src(r, rtnl_route_get_pref_src(src));
        nh = rtnl_route_nh_alloc();
        if (!nh)
                return NULL;
        rtnl_route_nh_set_ifindex(nh, rtnl_route_nh_get_ifindex(via));
        if (nh_gateway(via))
                rtnl_route_nh_set_gateway(nh, nh_gateway(via));
        /* A gateway on no prefix of the link (a /32 address, a provider's onlink default)
         * is refused without it; the other nexthop flags are the kernel's to set. */
        if (rtnl_route_nh_get_flags(via) & RTNH_F_ONLINK)
                rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
        rtnl_route_add_nexthop(r, nh);
        return TAKE_PTR(r);
}

static void route_collect(struct nl_object *obj, void *userdata) {
        struct rtnl_route *route = (struct rtnl_route *) obj;
        RouteScan *s = userdata;
        uint8_t family = rtnl_route_get_family(route);
        int n;

        if (family != AF_INET && family != AF_INET6)
                return;
        if (rtnl_route_get_protocol(route) == RTPROT_PATCHPANEL &&
            (s->all_ours || rtnl_route_get_table(route) == s->table)) {
                if (s->n_have < ROUTES_MAX) {
                        nl_object_get(obj);
                        s->have[s->n_have++] = route;
                }
                return;
        }
        if (s->all_ours || rtnl_route_get_table(route) != RT_TABLE_MAIN ||
            rtnl_route_get_type(route) != RTN_UNICAST)
                return;
        /* libnl merges IPv6 routes of the same destination and metric on several links into
         * one object with several nexthops: take the nexthop through our uplink. */
        n = rtnl_route_get_nnexthops(route);
        for (int i = 0; i < n; i++) {
                struct rtnl_nexthop *nh = rtnl_route_nexthop_n(route, i);
                if (!nh || rtnl_route_nh_get_ifindex(nh) != s->ifindex)
                        continue;
                if (s->n_want >= ROUTES_MAX)
                        return;
                s->want[s->n_want] = route_for_table(route, nh, family, s->table);
                if (!s->want[s->n_want]) {
                        s->error = -ENOMEM;
                        return;
                }
                s->n_want++;
        }
}

static void route_scan_free(RouteScan *s) {
        for (unsigned i = 0; i < s->n_want; i++)
                rtnl_route_put(s->want[i]);
        for (unsigned i = 0; i < s->n_have; i++)
                rtnl_route_put(s->have[i]);
        free(s->want);
        free(s->have);
}

static int route_dump_message(struct nl_msg *msg, void *userdata) {
        /* Parsed one by one: a libnl cache would fold routes that differ only in their
         * device (IPv6 fe80::/64 on every link) into one. */
        (void) nl_msg_parse(msg, route_collect, userdata);
        return NL_OK;
}

static int route_scan(Helper *h, RouteScan *s, ErrBuf *err) {
        _cleanup_(nl_cb_putp) struct nl_cb *cb = NULL;
        int r;

        s->want = calloc(ROUTES_MAX, sizeof *s->want);
        s->have = calloc(ROUTES_MAX, sizeof *s->have);
        struct nl_cb *own = nl_socket_get_cb(h->nl); /* a reference, given back below */

        cb = nl_cb_clone(own);
        nl_cb_put(own);
        if (!s->want || !s->have || !cb)
                return errbuf_set(err, -ENOMEM, "out of memory for routes");
        nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, route_dump_message, s);
        r = nl_rtgen_request(h->nl, RTM_GETROUTE, AF_UNSPEC, NLM_F_DUMP);
        if (r >= 0)
                r = nl_recvmsgs(h->nl, cb);
        if (r < 0)
                return errbuf_set(err, nlerr_to_errno(r), "cannot list routes");
        if (s->error < 0)
                return errbuf_set(err, s->error, "out of memory for routes");
        return 0;
}

static bool addr_equal(struct nl_addr *a, struct nl_addr *b) {
        if (!a || !b)
                return a == b;
        return nl_addr_cmp(a, b) == 0;
}

/* Same destination, tos and metric: the kernel would consider them the same route. */
static bool route_same_key(struct rtnl_route *a, struct rtnl_route *b) {
        return rtnl_route_get_family(a) == rtnl_route_get_family(b) &&
               addr_equal(rtnl_route_get_dst(a), rtnl_route_get_dst(b)) &&
               rtnl_route_get_tos(a) == rtnl_route_get_tos(b) &&
               rtnl_route_get_priority(a) == rtnl_route_get_priority(b);
}

static bool route_same(struct rtnl_route *a, struct rtnl_route *b) {
        return route_same_key(a, b) && rtnl_route_get_type(a) == rtnl_route_get_type(b) &&
               rtnl_route_get_scope(a) == rtnl_route_get_scope(b) &&
               addr_equal(route_gateway(a), route_gateway(b)) &&
               addr_equal(rtnl_route_get_pref_src(a), rtnl_route_get_pref_src(b)) &&
               route_oif(a) == route_oif(b);
}

static int routes_sync(Helper *h, int ifindex, uint32_t table, ErrBuf *err) {
        RouteScan s = { .ifindex = ifindex, .table = table };
        bool *kept = NULL;
        int r, first = 0;

        r = route_scan(h, &s, err);
        if (r < 0)
                goto out;
        kept = calloc(s.n_have + 1, sizeof(bool));
        if (!kept) {
                r = errbuf_set(err, -ENOMEM, "out of memory for routes");
                goto out;
        }

        /* Add or replace what the table should have... */
        for (unsigned i = 0; i < s.n_want + 2; i++) {
                _cleanup_(rtnl_route_putp) struct rtnl_route *copy = NULL;
                bool present = false;

                if (i < s.n_want) {
                        copy = s.want[i];
                        nl_object_get(OBJ_CAST(copy));
                } else
                        copy = route_for_table(NULL, NULL, i == s.n_want ? AF_INET : AF_INET6,
                                               table);
                if (!copy) {
                        r = errbuf_set(err, -ENOMEM, "out of memory for a route");
                        goto out;
                }
                for (unsigned j = 0; j < s.n_have; j++)
                        if (route_same(copy, s.have[j])) {
                                kept[j] = present = true;
                                break;
                        }
                if (present)
                        continue;
                r = nlerr_to_errno(rtnl_route_add(h->nl, copy, NLM_F_CREATE | NLM_F_REPLACE));
                if (r < 0 && first == 0)
                        first = errbuf_set(err, r, "cannot add a route to table %u: %s", table,
                                           strerror(-r));
                /* Replaced in place: the old one of the same key is gone. */
                for (unsigned j = 0; j < s.n_have; j++)
                        if (route_same_key(copy, s.have[j]))
                                kept[j] = true;
        }
        /* ...then delete what it should not. */
        for (unsigned j = 0; j < s.n_have; j++) {
                if (kept[j])
                        continue;
                r = nlerr_to_errno(rtnl_route_delete(h->nl, s.have[j], 0));
                if (r < 0 && r != -ENOENT && r != -ESRCH && first == 0)
                        first = errbuf_set(err, r, "cannot delete a route from table %u: %s",
                                           table, strerror(-r));
        }
        r = first;
out:
        free(kept);
        route_scan_free(&s);
        return r;
}

/* Delete the routes of ours in one table, or (table 0) in all. */
static int routes_delete(Helper *h, uint32_t table, ErrBuf *err) {
        RouteScan s = { .ifindex = -1, .table = table, .all_ours = table == 0 };
        int r, first = 0;

        r = route_scan(h, &s, err);
        for (unsigned j = 0; r >= 0 && j < s.n_have; j++) {
                int k = nlerr_to_errno(rtnl_route_delete(h->nl, s.have[j], 0));
                if (k < 0 && k != -ENOENT && k != -ESRCH && first == 0)
                        first = errbuf_set(err, k, "cannot delete a route: %s", strerror(-k));
        }
        route_scan_free(&s);
        return r < 0 ? r : first;
}

/* ---- uplinks ---------------------------------------------------------------------------- */

int routing_uplink_add(Helper *h, const UplinkArgs *u, ErrBuf *err) {
        const char *ifname = u->ifname;
        int ifindex = u->ifindex, r;
        uint32_t table, tag;
        FwBatch b = {};

        r = routing_check_uplink(h, u, true, &table, err);
        if (r < 0)
                return r;
        if (uplink_index(h, ifindex) == ELEMENTSOF(h->uplinks))
                return errbuf_set(err, -ENOSPC, "the helper keeps at most %zu uplinks",
                                  ELEMENTSOF(h->uplinks));
        (void) fwmark_routing_tag(ifindex, &tag);

        r = routes_sync(h, ifindex, table, err);
        for (int family = AF_INET; r >= 0 && family != 0; family = family == AF_INET ? AF_INET6 : 0) {
                r = rule_add(h, &(RuleSpec) { .family = family, .prio = PP_RULE_PRIORITY,
                                              .table = table, .mark = tag,
                                              .mask = FWMARK_ROUTING_MASK }, err);
                if (r >= 0)
                        r = rule_add(h, &(RuleSpec) { .family = family, .prio = PP_RULE_PRIORITY,
                                                      .table = table, .oif = ifname }, err);
        }
        if (r >= 0) {
                fw_batch_uplink_add(&b, ifname, ifindex, tag);
                r = fw_batch_commit(h->nft, &b, "pin connections to the uplink", err);
        }
        if (r < 0) {
                (void) rules_delete(h, table, PP_RULE_PRIORITY, NULL);
                (void) routes_delete(h, table, NULL);
                return r;
        }
        uplink_remember(h, u);
        log_debug("Uplink %s: table %u, routing tag 0x%08x", ifname, table, tag);
        return 0;
}

int routing_uplink_sync(Helper *h, const UplinkArgs *u, ErrBuf *err) {
        uint32_t table;
        int r;

        r = routing_check_uplink(h, u, true, &table, err);
        if (r == -ENODEV) {
                /* Unplugged: its route events came before the manager heard it is gone, and
                 * the removal comes next. Nothing to bring in step. */
                log_debug("Uplink %s is gone, nothing to sync", u->ifname);
                return 0;
        }
        if (r < 0)
                return r;
        return routes_sync(h, u->ifindex, table, err);
}

int routing_uplink_remove(Helper *h, const UplinkArgs *u, ErrBuf *err) {
        const char *ifname = u->ifname;
        int ifindex = u->ifindex, r, k;
        uint32_t table;
        FwBatch b = {};

        r = routing_check_uplink(h, u, false, &table, err);
        if (r < 0)
                return r;
        /* No longer an uplink to the helper, even if what follows fails half way. */
        uplink_forget(h, ifindex);
        /* The uplink's rules, and the VPN bypass into its table if it was the physical
         * default. */
        r = rules_delete(h, table, 0, err);
        k = routes_delete(h, table, r < 0 ? NULL : err);
        if (r == 0)
                r = k;
        fw_batch_uplink_remove(&b, ifname, ifindex);
        k = fw_batch_commit_removal(h->nft, &b, "unpin the uplink", r < 0 ? NULL : err);
        return r < 0 ? r : k;
}

int routing_vpn_bypass(Helper *h, const UplinkArgs *u, ErrBuf *err) {
        const char *ifname = u->ifname;
        int ifindex = u->ifindex, r;
        uint32_t table = 0;

        if (ifindex != 0) {
                r = routing_check_uplink(h, u, true, &table, err);
                if (r < 0)
                        return r;
        }
        /* One pair of bypass rules per family: the old ones go first. */
        r = rules_delete(h, 0, PP_BYPASS_RULE_PRIORITY, err);
        if (r >= 0)
                r = rules_delete(h, 0, PP_BYPASS_RULE_PRIORITY + 1, err);
        if (r < 0 || ifindex == 0)
                return r;
        /* The main table's routes but its defaults and halves of the address space (where
         * a VPN puts its catch-all routes), then the physical default's table. */
        for (int family = AF_INET; r >= 0 && family != 0; family = family == AF_INET ? AF_INET6 : 0) {
                r = rule_add(h, &(RuleSpec) { .family = family, .prio = PP_BYPASS_RULE_PRIORITY,
                                              .table = RT_TABLE_MAIN, .mark = FWMARK_BYPASS_VPN,
                                              .mask = FWMARK_VPN_MASK,
                                              .suppress_prefixlength = 1 }, err);
                if (r >= 0)
                        r = rule_add(h, &(RuleSpec) { .family = family,
                                                      .prio = PP_BYPASS_RULE_PRIORITY + 1,
                                                      .table = table, .mark = FWMARK_BYPASS_VPN,
                                                      .mask = FWMARK_VPN_MASK }, err);
        }
        if (r < 0) {
                (void) rules_delete(h, 0, PP_BYPASS_RULE_PRIORITY, NULL);
                (void) rules_delete(h, 0, PP_BYPASS_RULE_PRIORITY + 1, NULL);
                return r;
        }
        log_debug("Traffic bypassing a VPN goes to %s (table %u)", ifname, table);
        return 0;
}

/* The smallest set of prefixes covering first..last (inclusive), into ret. */
static size_t range_to_prefixes(uint32_t first, uint32_t last, Subnet *ret, size_t max) {
        size_t n = 0;
        uint64_t at = first;

        while (at <= last && n < max) {
                unsigned len = 32;
                /* The largest aligned block at `at` that stays within the range. */
                while (len > 0) {
                        uint64_t size = UINT64_C(1) << (32 - (len - 1));
                        if (at % size != 0 || at + size - 1 > last)
                                break;
                        len--;
                }
                ret[n++] = (Subnet) { .base = (uint32_t) at, .prefix_len = (uint8_t) len };
                at += UINT64_C(1) << (32 - len);
        }
        return n;
}

int routing_guests_add(Helper *h, ErrBuf *err) {
        typedef struct { uint32_t first, last; } Range;
        Range ranges[_POOL_KIND_MAX];
        size_t n = 0;
        int r;

        /* The pools as ranges, neighbours merged (the default layout is one /23). */
        for (PoolKind k = 0; k < _POOL_KIND_MAX; k++) {
                Range x = { pool_config_first(&h->pools.pools[k]), pool_config_last(&h->pools.pools[k]) };
                size_t i = n;
                while (i > 0 && ranges[i - 1].first > x.first) {
                        ranges[i] = ranges[i - 1];
                        i--;
                }
                ranges[i] = x;
                n++;
        }
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
                if (m > 0 && ranges[i].first <= (uint64_t) ranges[m - 1].last + 1) {
                        if (ranges[i].last > ranges[m - 1].last)
                                ranges[m - 1].last = ranges[i].last;
                } else
                        ranges[m++] = ranges[i];
        }
        for (size_t i = 0; i < m; i++) {
                Subnet prefixes[64];
                size_t k = range_to_prefixes(ranges[i].first, ranges[i].last, prefixes,
                                             ELEMENTSOF(prefixes));
                for (size_t j = 0; j < k; j++) {
                        r = rule_add(h, &(RuleSpec) { .family = AF_INET,
                                                      .prio = PP_GUEST_RULE_PRIORITY,
                                                      .table = RT_TABLE_MAIN,
                                                      .dst = prefixes[j].base,
                                                      .dst_len = prefixes[j].prefix_len }, err);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int routing_guests_ipv6_add(Helper *h, ErrBuf *err) {
        return rule_add(h, &(RuleSpec) { .family = AF_INET6, .prio = PP_GUEST_RULE_PRIORITY,
                                         .table = PP_GUEST_IPV6_TABLE }, err);
}

int routing_remove_all(Helper *h, ErrBuf *err) {
        int r = rules_delete(h, 0, 0, err);
        int k = routes_delete(h, 0, r < 0 ? NULL : err);

        h->n_uplinks = 0;

        if (r >= 0)
                r = k;
        /* The proxy entries of guest addresses (helper_guest_route6()) go with their routes. */
        k = route6_proxy_delete_proto(h->nl, RTPROT_PATCHPANEL, NULL, 0, NULL);
        if (k < 0 && r >= 0)
                r = errbuf_set(err, k, "cannot delete proxy neighbour entries: %s", strerror(-k));
        return r;
}
