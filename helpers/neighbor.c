/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include "neighbor.h"
#include "nl-util.h"
#include "routing.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cb *, nl_cb_put);

typedef struct NeighborEntry {
        bool found;
        uint16_t state;
} NeighborEntry;

static int on_entry(struct nl_msg *msg, void *userdata) {
        struct nlmsghdr *h = nlmsg_hdr(msg);
        NeighborEntry *e = userdata;
        struct ndmsg ndm;

        if (h->nlmsg_type != RTM_NEWNEIGH || nlmsg_datalen(h) < (int) sizeof ndm)
                return NL_SKIP;
        memcpy(&ndm, nlmsg_data(h), sizeof ndm);
        e->found = true;
        e->state = ndm.ndm_state;
        return NL_OK;
}

/* An RTM_*NEIGH request for the neighbour: its ndmsg and NDA_DST. */
static struct nl_msg *neighbor_msg(const NeighborProbeArgs *a, int type, int flags,
                                   uint16_t state, uint8_t ntf) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = nlmsg_alloc_simple(type, flags);
        struct ndmsg ndm = {
                .ndm_family = (uint8_t) a->family,
                .ndm_ifindex = a->uplink.ifindex,
                .ndm_state = state,
                .ndm_flags = ntf,
        };

        if (!msg || nlmsg_append(msg, &ndm, sizeof ndm, NLMSG_ALIGNTO) < 0 ||
            nla_put(msg, NDA_DST, a->family == AF_INET ? 4 : 16, a->addr) < 0)
                return NULL;
        return TAKE_PTR(msg);
}

/* The kernel's entry for the neighbour (RTM_GETNEIGH of one entry): found or not. */
static int neighbor_get(Helper *h, const NeighborProbeArgs *a, NeighborEntry *ret, ErrBuf *err) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = neighbor_msg(a, RTM_GETNEIGH, 0, 0, 0);
        struct nl_cb *own = nl_socket_get_cb(h->nl); /* a reference, given back below */
        _cleanup_(nl_cb_putp) struct nl_cb *cb = nl_cb_clone(own);
        int r;

        nl_cb_put(own);
        if (!msg || !cb)
                return errbuf_set(err, -ENOMEM, "out of memory for a neighbour request");
        nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_entry, ret);
        /* The answer is the entry, then the ACK; or only an error, ENOENT for none. Both
         * are read, so that the socket's next request meets its own answer. */
        r = nl_send_auto(h->nl, msg);
        if (r >= 0)
                r = nl_recvmsgs(h->nl, cb);
        if (r >= 0)
                r = nl_wait_for_ack(h->nl);
        r = nlerr_to_errno(r < 0 ? r : 0);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return errbuf_set(err, r, "cannot read the neighbour entry: %s", strerror(-r));
        return 0;
}

static int neighbor_update(Helper *h, const NeighborProbeArgs *a, int flags, uint16_t state,
                           uint8_t ntf, ErrBuf *err) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = neighbor_msg(a, RTM_NEWNEIGH, flags, state, ntf);
        int r;

        if (!msg)
                return errbuf_set(err, -ENOMEM, "out of memory for a neighbour request");
        r = nl_send_auto(h->nl, msg);
        if (r >= 0)
                r = nl_wait_for_ack(h->nl);
        r = nlerr_to_errno(r < 0 ? r : 0);
        if (r < 0)
                return errbuf_set(err, r, "cannot %s the neighbour: %s",
                                  ntf & NTF_USE ? "resolve" : "probe", strerror(-r));
        return 0;
}

/* ---- whether the neighbour is one of the link's ------------------------------------------ */

/* What the dumps found of the neighbour on its link. */
typedef struct PlaceScan {
        const NeighborProbeArgs *a;
        NeighborPlace place;
        bool gateway;
} PlaceScan;

static size_t family_len(int family) {
        return family == AF_INET ? 4 : 16;
}

static bool attr_is_addr(const struct nlattr *nla, int family) {
        return nla && nla_len(nla) == (int) family_len(family);
}

/* An address of the link (RTM_NEWADDR): its prefixes go into the place. */
static int on_address(struct nl_msg *msg, void *userdata) {
        struct nlmsghdr *h = nlmsg_hdr(msg);
        PlaceScan *s = userdata;
        const int family = s->a->family;
        struct nlattr *tb[IFA_MAX + 1];
        const struct nlattr *local;
        struct ifaddrmsg ifa;
        LinkPrefix p[2];
        size_t n = 0;
        NeighborPlace place;

        if (h->nlmsg_type != RTM_NEWADDR || nlmsg_parse(h, sizeof ifa, tb, IFA_MAX, NULL) < 0)
                return NL_SKIP;
        memcpy(&ifa, nlmsg_data(h), sizeof ifa);
        if (ifa.ifa_family != family || ifa.ifa_index != (uint32_t) s->a->uplink.ifindex)
                return NL_SKIP;
        /* IFA_LOCAL is the link's own; IFA_ADDRESS the same, or the peer's on a
         * point-to-point address (IPv6 gives only IFA_ADDRESS when there is none). */
        local = tb[IFA_LOCAL] ?: tb[IFA_ADDRESS];
        if (attr_is_addr(local, family)) {
                p[n] = (LinkPrefix) { .family = family, .prefix_len = ifa.ifa_prefixlen,
                                      .own = true };
                memcpy(p[n++].addr, nla_data(local), family_len(family));
        }
        if (attr_is_addr(tb[IFA_LOCAL], family) && attr_is_addr(tb[IFA_ADDRESS], family) &&
            nla_memcmp(tb[IFA_ADDRESS], nla_data(tb[IFA_LOCAL]), family_len(family)) != 0) {
                p[n] = (LinkPrefix) { .family = family, .prefix_len = ifa.ifa_prefixlen };
                memcpy(p[n++].addr, nla_data(tb[IFA_ADDRESS]), family_len(family));
        }
        place = neighbor_place(s->a, p, n);
        if (place > s->place)
                s->place = place;
        return NL_OK;
}

static bool is_the_gateway(const PlaceScan *s, const struct nlattr *gw) {
        return attr_is_addr(gw, s->a->family) &&
               memcmp(nla_data(gw), s->a->addr, family_len(s->a->family)) == 0;
}

/* RTNH_ALIGN() and RTNH_LENGTH(0) of linux/rtnetlink.h, in size_t. */
#define NH_ALIGN(len) (((size_t) (len) + 3u) & ~(size_t) 3u)
#define NH_HDRLEN NH_ALIGN(sizeof(struct rtnexthop))

/* A route (RTM_NEWROUTE): a default route of the main table whose gateway is the neighbour,
 * through the link; alone or as one of its nexthops. What the manager watches as gateways
 * (neighbor_nl_decode() in manager/neighbor-watch.c). */
static int on_route(struct nl_msg *msg, void *userdata) {
        struct nlmsghdr *h = nlmsg_hdr(msg);
        PlaceScan *s = userdata;
        struct nlattr *tb[RTA_MAX + 1];
        struct rtmsg rtm;
        uint32_t table, oif;

        if (h->nlmsg_type != RTM_NEWROUTE || nlmsg_parse(h, sizeof rtm, tb, RTA_MAX, NULL) < 0)
                return NL_SKIP;
        memcpy(&rtm, nlmsg_data(h), sizeof rtm);
        table = rtm.rtm_table;
        if (tb[RTA_TABLE] && nla_len(tb[RTA_TABLE]) == sizeof table)
                table = nla_get_u32(tb[RTA_TABLE]);
        if (rtm.rtm_family != s->a->family || table != RT_TABLE_MAIN || rtm.rtm_dst_len != 0 ||
            rtm.rtm_type != RTN_UNICAST)
                return NL_SKIP;
        if (tb[RTA_MULTIPATH]) {
                const uint8_t *p = nla_data(tb[RTA_MULTIPATH]);
                int len = nla_len(tb[RTA_MULTIPATH]);
                size_t left = len < 0 ? 0 : (size_t) len;

                while (left >= sizeof(struct rtnexthop)) {
                        struct nlattr *nh_tb[RTA_MAX + 1];
                        struct rtnexthop nh;
                        size_t step;

                        memcpy(&nh, p, sizeof nh);
                        if (nh.rtnh_len < NH_HDRLEN || nh.rtnh_len > left)
                                break;
                        if (nh.rtnh_ifindex == s->a->uplink.ifindex &&
                            nla_parse(nh_tb, RTA_MAX, (struct nlattr *) (p + NH_HDRLEN),
                                      (int) (nh.rtnh_len - NH_HDRLEN), NULL) >= 0 &&
                            is_the_gateway(s, nh_tb[RTA_GATEWAY]))
                                s->gateway = true;
                        step = NH_ALIGN(nh.rtnh_len);
                        left -= step < left ? step : left;
                        p += step;
                }
                return NL_OK;
        }
        if (!tb[RTA_OIF] || nla_len(tb[RTA_OIF]) != sizeof oif)
                return NL_SKIP;
        oif = nla_get_u32(tb[RTA_OIF]);
        if (oif == (uint32_t) s->a->uplink.ifindex && is_the_gateway(s, tb[RTA_GATEWAY]))
                s->gateway = true;
        return NL_OK;
}

/* One dump of the host netns' @type of @family, each message to @fn. */
static int neighbor_dump(Helper *h, int type, int family, nl_recvmsg_msg_cb_t fn, void *userdata) {
        struct nl_cb *own = nl_socket_get_cb(h->nl); /* a reference, given back below */
        _cleanup_(nl_cb_putp) struct nl_cb *cb = nl_cb_clone(own);
        int r;

        nl_cb_put(own);
        if (!cb)
                return -ENOMEM;
        nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, fn, userdata);
        r = nl_rtgen_request(h->nl, type, family, NLM_F_DUMP);
        if (r >= 0)
                r = nl_recvmsgs(h->nl, cb);
        return nlerr_to_errno(r < 0 ? r : 0);
}

/* The neighbour must be the link's: on one of its prefixes, IPv6 link-local, or the
 * gateway of a default route through it (validate_neighbor_place()). The routes are read
 * only for an address the prefixes do not settle. */
static int neighbor_check_on_link(Helper *h, const NeighborProbeArgs *a, ErrBuf *err) {
        PlaceScan s = { .a = a, .place = neighbor_place(a, NULL, 0) };
        int r;

        r = neighbor_dump(h, RTM_GETADDR, a->family, on_address, &s);
        if (r < 0)
                return errbuf_set(err, r, "cannot list the addresses of %s: %s",
                                  a->uplink.ifname, strerror(-r));
        if (s.place == NEIGHBOR_PLACE_OFF_PREFIX || s.place == NEIGHBOR_PLACE_NET_OR_BROADCAST) {
                r = neighbor_dump(h, RTM_GETROUTE, a->family, on_route, &s);
                if (r < 0)
                        return errbuf_set(err, r, "cannot list the default routes: %s",
                                          strerror(-r));
        }
        return validate_neighbor_place(a, s.place, s.gateway, err);
}

/* ---- the probe ------------------------------------------------------------------------- */

int helper_neighbor_probe(Helper *h, const NeighborProbeArgs *a, ErrBuf *err) {
        NeighborEntry e = {};
        uint32_t table;
        int r;

        if (!routing_uplink_is_set_up(h, &a->uplink))
                return errbuf_set(err, -EINVAL, "%s (ifindex %d) is not an uplink the helper has "
                                  "set up", a->uplink.ifname, a->uplink.ifindex);
        r = routing_check_uplink(h, &a->uplink, true, &table, err);
        if (r < 0)
                return r;
        r = neighbor_check_on_link(h, a, err);
        if (r < 0)
                return r;
        r = neighbor_get(h, a, &e, err);
        if (r < 0)
                return r;
        if (e.found && (e.state & (NUD_PERMANENT | NUD_NOARP)))
                return errbuf_set(err, -EPERM, "the neighbour's entry on %s is static",
                                  a->uplink.ifname);
        if (e.found && (e.state & NUD_PROBE))
                return 0;
        /* No NLM_F_REPLACE: the entry keeps its link-layer address and router flag. */
        if (e.found && (e.state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY)))
                return neighbor_update(h, a, 0, NUD_PROBE, 0, err);
        /* As traffic would: the kernel takes the state it has and resolves it, creating a
         * dynamic entry if there is none (NUD_NONE asks for nothing static). */
        return neighbor_update(h, a, NLM_F_CREATE, NUD_NONE, NTF_USE, err);
}
