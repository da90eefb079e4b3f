/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Theory of operation of the engine, per wake-up:
 *   packets  read a batch (nd-socket.c); per frame nd_proxy_input() decides (nd-proxy.c);
 *            a learned address is checked against the uplink's neighbour table, gets its
 *            solicited-node group joined on the uplink and goes to NdDaemonOps.address;
 *            each copy gets its Ethernet destination (computed for multicast; else the
 *            proxy's own cache, else the kernel's neighbour entry, else all-nodes towards
 *            a guest or nothing towards an uplink), is rewritten and sent.
 *   links    rtnetlink events: a served link that goes is forgotten, a new MAC is used
 *            from then on; standalone, a configured link that appears is served.
 *   addresses  the host's IPv6 addresses, which are the host's business and never
 *            proxied or learned, are read again whenever one changes.
 *   expiry   one timer, for the learned address seen longest ago: the kernel's
 *            neighbour entry on the guest link may vouch for it (confirmed since),
 *            else it is forgotten.
 * Nothing here runs on a clock while nothing happens: no polling, no periodic timer.
 *
 * Multicast groups (PACKET_ADD_MEMBERSHIP, never promiscuous): an uplink joins all-nodes
 * (its router's RAs) and the solicited-node group of each guest address learned behind it
 * (its router's NS for them); a guest link joins all-routers (RS) and all-nodes. Guest
 * links are software links (veth, TAP, bridge) that filter nothing, so a guest's NS for
 * an uplink neighbour's solicited-node group arrives without a group of its own.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if_arp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "ifname.h"
#include "log.h"
#include "nd-daemon.h"
#include "nd-netlink.h"
#include "nd-socket.h"
#include "time-util.h"

/* How long the proxy's own neighbour cache vouches for an entry. */
#define ND_NEIGHBOR_CACHE_USEC (60 * UINT64_C(1000000))
/* Soliciting an uplink's router for its prefixes, at most this often per uplink. */
#define ND_RS_INTERVAL_USEC (10 * UINT64_C(1000000))
#define ND_HOST_ADDRS_MAX 256
/* An address that was refused is not asked about again for this long (a guest repeating
 * its DAD NS would otherwise make every refusal cost a request and a route table dump). */
#define ND_REFUSED_HOLD_USEC (60 * UINT64_C(1000000))
#define ND_REFUSED_MAX 64

typedef struct NdRefused {
        int ifindex;
        struct in6_addr addr;
        uint64_t until;
} NdRefused;

typedef struct NdServed {
        int ifindex;                 /* 0: a free slot */
        char name[IFNAMSIZ];
        NdLinkKind kind;
        unsigned n_guests;           /* uplink: guest links paired with it */
        uint64_t last_rs;            /* uplink: when we last solicited its router */
} NdServed;

struct NdDaemon {
        sd_event *event;
        NdDaemonConfig config;
        NdDaemonOps ops;
        NdProxy *proxy;
        NdRing *ring;
        int packet_fd, netlink_fd, monitor_fd;
        sd_event_source *packet_src, *monitor_src, *expiry_src;
        NdServed served[ND_PROXY_LINKS_MAX];
        NdRefused refused[ND_REFUSED_MAX];   /* the oldest replaced when full */
        unsigned next_refused;
        uint64_t frames_elsewhere;   /* read from a link we do not serve */
        uint64_t rs_sent;
        uint8_t out[ND_RING_FRAME_SIZE];
        /* What the socket's filter keeps away now (nd_filter_build()). */
        NdKernelAnswered skips[ND_FILTER_SKIPS_MAX];
        size_t n_skips;
        struct in6_addr hosts[ND_FILTER_HOSTS_MAX];
        size_t n_hosts;
};

static const MacAddr all_nodes_mac = { .b = { 0x33, 0x33, 0, 0, 0, 0x01 } };
static const MacAddr all_routers_mac = { .b = { 0x33, 0x33, 0, 0, 0, 0x02 } };

static void daemon_tick(NdDaemon *d) {
        nd_proxy_set_clock(d->proxy, now_usec());
}

static NdServed *served_find(NdDaemon *d, int ifindex) {
        for (size_t i = 0; i < ELEMENTSOF(d->served); i++)
                if (d->served[i].ifindex == ifindex && ifindex > 0)
                        return &d->served[i];
        return NULL;
}

const char *nd_daemon_link_name(const NdDaemon *d, int ifindex) {
        const NdServed *s = served_find((NdDaemon *) d, ifindex);
        return s ? s->name : NULL;
}

const NdProxy *nd_daemon_proxy(const NdDaemon *d) {
        return d->proxy;
}

uint64_t nd_daemon_frames_elsewhere(const NdDaemon *d) {
        return d->frames_elsewhere;
}

/* The socket's filter in step with the addresses the kernel answers for, and the host's. */
static void filter_sync(NdDaemon *d) {
        NdKernelAnswered now[ND_FILTER_SKIPS_MAX];
        struct in6_addr hosts[ND_FILTER_HOSTS_MAX];
        size_t n = nd_proxy_kernel_answered(d->proxy, now, ELEMENTSOF(now));
        size_t h = nd_proxy_host_addresses(d->proxy, hosts, ELEMENTSOF(hosts));
        int r;

        if (n == d->n_skips && memcmp(now, d->skips, n * sizeof now[0]) == 0 &&
            h == d->n_hosts && memcmp(hosts, d->hosts, h * sizeof hosts[0]) == 0)
                return;
        r = nd_socket_set_filter(d->packet_fd, now, n, hosts, h);
        if (r < 0) {
                /* The old filter stays: an NS it keeps away now reaches the guest's
                 * neighbour anyway through the kernel's answer; one it lets through is
                 * relayed as before. */
                log_warning_errno(r, "Cannot update the socket filter, ignoring: %m");
                return;
        }
        memcpy(d->skips, now, n * sizeof now[0]);
        d->n_skips = n;
        memcpy(d->hosts, hosts, h * sizeof hosts[0]);
        d->n_hosts = h;
}

/* Counters changed: the status is told. */
static void status_changed(NdDaemon *d) {
        if (d->ops.changed)
                d->ops.changed(d, d->ops.userdata);
}

/* Links or learned addresses changed: the filter follows, the status is told. Frames never
 * change what the filter holds (an address they teach is not routed yet), so reading them
 * calls status_changed() alone. */
static void daemon_changed(NdDaemon *d) {
        filter_sync(d);
        status_changed(d);
}

static void group_of(const struct in6_addr *a, MacAddr *ret) {
        struct in6_addr sn = { .s6_addr = { 0xff, 0x02, [11] = 0x01, [12] = 0xff,
                                            [13] = a->s6_addr[13], [14] = a->s6_addr[14],
                                            [15] = a->s6_addr[15] } };
        (void) nd_multicast_mac(&sn, ret);
}

static void membership(NdDaemon *d, int ifindex, const MacAddr *group, bool join) {
        int r = nd_socket_membership(d->packet_fd, ifindex, group, join);
        char s[MAC_STRLEN];

        /* A link that is gone took its groups along. */
        if (r < 0 && r != -ENODEV && !(r == -EADDRNOTAVAIL && !join))
                log_warning_errno(r, "Failed to %s %s on ifindex %d, ignoring: %m",
                                  join ? "join" : "leave", mac_to_string(group, s), ifindex);
}

/* The solicited-node group of a guest address, on the uplink its guest link is behind. */
static void guest_address_group(NdDaemon *d, int guest, const struct in6_addr *a, bool join) {
        const NdLink *g = nd_proxy_get_link(d->proxy, guest);
        MacAddr m;

        if (!g || g->uplink == 0)
                return;
        group_of(a, &m);
        membership(d, g->uplink, &m, join);
}

/* ---- the expiry timer -------------------------------------------------------------------- */

static int on_expiry(sd_event_source *s, uint64_t usec, void *userdata);

static void expiry_arm(NdDaemon *d) {
        struct in6_addr a;
        uint64_t seen;
        int ifindex, r;

        if (nd_proxy_oldest_address(d->proxy, &ifindex, &a, &seen) < 0) {
                (void) sd_event_source_set_enabled(d->expiry_src, SD_EVENT_OFF);
                return;
        }
        if (!d->expiry_src) {
                r = sd_event_add_time(d->event, &d->expiry_src, CLOCK_MONOTONIC,
                                      seen + d->config.address_lifetime_usec,
                                      /* accuracy= */ 1000000, on_expiry, d);
                if (r < 0)
                        log_warning_errno(r, "Failed to arm the expiry timer, ignoring: %m");
                return;
        }
        (void) sd_event_source_set_time(d->expiry_src, seen + d->config.address_lifetime_usec);
        (void) sd_event_source_set_enabled(d->expiry_src, SD_EVENT_ONESHOT);
}

static void address_forgotten(NdDaemon *d, int guest, const struct in6_addr *a) {
        const NdServed *s = served_find(d, guest);

        if (d->ops.address)
                d->ops.address(d, guest, s ? s->name : "", a, false, d->ops.userdata);
}

static int on_expiry(sd_event_source *s, uint64_t usec, void *userdata) {
        NdDaemon *d = userdata;

        (void) s;
        (void) usec;
        daemon_tick(d);
        for (unsigned i = 0; i < ND_PROXY_LINKS_MAX * ND_PROXY_ADDRS_MAX; i++) {
                uint64_t seen, now = now_usec();
                NdNeighborInfo n;
                struct in6_addr a;
                char buf[INET6_ADDRSTRLEN];
                int guest;

                if (nd_proxy_oldest_address(d->proxy, &guest, &a, &seen) < 0 ||
                    seen + d->config.address_lifetime_usec > now)
                        break;
                /* Traffic confirms the kernel's neighbour entry: the guest is there. */
                if (nd_netlink_get_neighbor(d->netlink_fd, guest, &a, &n) >= 0 &&
                    nd_neighbor_usable(&n) && n.confirmed_ago_usec < d->config.address_lifetime_usec) {
                        (void) nd_proxy_touch_address(d->proxy, guest, &a, now - n.confirmed_ago_usec);
                        continue;
                }
                log_info("%s on %s: no sign of life for %llu s, forgetting it",
                         inet_ntop(AF_INET6, &a, buf, sizeof buf), nd_daemon_link_name(d, guest),
                         (unsigned long long) (d->config.address_lifetime_usec / 1000000));
                guest_address_group(d, guest, &a, false);
                (void) nd_proxy_expire_address(d->proxy, guest, &a);
                address_forgotten(d, guest, &a);
                daemon_changed(d);
        }
        expiry_arm(d);
        return 0;
}

/* ---- links ------------------------------------------------------------------------------- */

/* Ask the uplink's router for an RA now (from ::, RFC 4861 §6.3.7): its answer to an
 * unspecified source goes to all-nodes, so the guests and the proxy hear the prefixes
 * without waiting for the next periodic one. */
static void solicit_router(NdDaemon *d, NdServed *u) {
        const NdLink *l = nd_proxy_get_link(d->proxy, u->ifindex);
        static const struct in6_addr any = {}, all_routers = {
                .s6_addr = { 0xff, 0x02, [15] = 0x02 } };
        uint64_t now = now_usec();
        uint8_t *f = d->out;
        uint16_t sum;
        int r;

        if (!l || (u->last_rs != 0 && now - u->last_rs < ND_RS_INTERVAL_USEC))
                return;
        u->last_rs = now;
        memcpy(f, all_routers_mac.b, MAC_LEN);
        memcpy(f + MAC_LEN, l->mac.b, MAC_LEN);
        f[12] = 0x86;
        f[13] = 0xdd;
        memset(f + ND_IP6_OFF, 0, ND_IP6_HLEN + 8);
        f[ND_IP6_OFF] = 0x60;
        f[ND_IP6_OFF + 5] = 8;                          /* payload length */
        f[ND_IP6_OFF + 6] = IPPROTO_ICMPV6;
        f[ND_IP6_OFF + 7] = ND_HOP_LIMIT;
        memcpy(f + ND_IP6_OFF + 24, all_routers.s6_addr, 16);
        f[ND_ICMP6_OFF] = ND_ROUTER_SOLICIT;
        sum = nd_icmp6_checksum(&any, &all_routers, f + ND_ICMP6_OFF, 8);
        f[ND_ICMP6_OFF + 2] = (uint8_t) (sum >> 8);
        f[ND_ICMP6_OFF + 3] = (uint8_t) sum;
        r = nd_socket_send(d->packet_fd, u->ifindex, f, ND_ICMP6_OFF + 8);
        if (r < 0)
                log_debug_errno(r, "Failed to solicit the router on %s: %m", u->name);
        else
                d->rs_sent++;
}

/* The link as the kernel has it, if it is what we were told and the proxy can use it. */
static int link_lookup(NdDaemon *d, int ifindex, const char *name, NdLinkInfo *ret) {
        NdLinkInfo l;
        int r = nd_netlink_get_link(d->netlink_fd, ifindex, name, &l);

        if (r < 0)
                return r;
        if (name && strcmp(l.name, name) != 0)
                return log_warning_errno(-ENODEV, "ifindex %d is %s, not %s", ifindex, l.name,
                                         name);
        if (l.type != ARPHRD_ETHER || !l.has_mac || !mac_is_unicast(&l.mac) ||
            mac_is_zero(&l.mac))
                return log_warning_errno(-EPROTOTYPE, "%s is not an Ethernet link: the ND proxy "
                                         "cannot serve it", l.name);
        *ret = l;
        return 0;
}

static NdServed *link_serve(NdDaemon *d, const NdLinkInfo *info, NdLinkKind kind) {
        NdServed *s = served_find(d, info->ifindex);
        int r;

        if (s)
                return s->kind == kind ? s : NULL;
        s = served_find(d, 0);
        for (size_t i = 0; !s && i < ELEMENTSOF(d->served); i++)
                if (d->served[i].ifindex == 0)
                        s = &d->served[i];
        if (!s) {
                log_error("Too many links, not serving %s", info->name);
                return NULL;
        }
        r = nd_proxy_add_link(d->proxy, info->ifindex, kind, &info->mac);
        if (r < 0) {
                log_error_errno(r, "Cannot serve %s: %m", info->name);
                return NULL;
        }
        *s = (NdServed) { .ifindex = info->ifindex, .kind = kind };
        snprintf(s->name, sizeof s->name, "%s", info->name);
        membership(d, s->ifindex, &all_nodes_mac, true);
        if (kind == ND_LINK_GUEST)
                membership(d, s->ifindex, &all_routers_mac, true);
        log_info("Serving %s (%s, ifindex %d)", s->name, nd_link_kind_to_string(kind), s->ifindex);
        return s;
}

/* Stop serving a link; @report: tell NdDaemonOps.address of the addresses that go. */
static void link_unserve(NdDaemon *d, NdServed *s, bool report) {
        const NdLink *l = nd_proxy_get_link(d->proxy, s->ifindex);
        struct in6_addr addrs[ND_PROXY_ADDRS_MAX];
        size_t n = 0;

        if (l && l->kind == ND_LINK_GUEST) {
                n = l->n_addrs;
                memcpy(addrs, l->addrs, n * sizeof addrs[0]);
                for (size_t i = 0; i < n; i++)
                        guest_address_group(d, s->ifindex, &addrs[i], false);
                if (l->uplink) {
                        NdServed *u = served_find(d, l->uplink);
                        if (u && u->n_guests > 0)
                                u->n_guests--;
                }
        }
        /* An uplink's guests stay served, unpaired. */
        membership(d, s->ifindex, &all_nodes_mac, false);
        if (s->kind == ND_LINK_GUEST)
                membership(d, s->ifindex, &all_routers_mac, false);
        (void) nd_proxy_remove_link(d->proxy, s->ifindex);
        for (size_t i = 0; report && i < n; i++)
                address_forgotten(d, s->ifindex, &addrs[i]);
        log_info("No longer serving %s", s->name);
        *s = (NdServed) {};
        expiry_arm(d);
        daemon_changed(d);
}

static int pair(NdDaemon *d, NdServed *u, NdServed *g) {
        int r = nd_proxy_add_pair(d->proxy, u->ifindex, g->ifindex);

        if (r == -EEXIST)
                return 0;
        if (r < 0)
                return log_error_errno(r, "Cannot put %s behind %s: %m", g->name, u->name);
        u->n_guests++;
        log_info("%s is behind %s", g->name, u->name);
        /* Guests learn their prefix from an RA; get one now if none was heard yet. */
        if (nd_proxy_get_link(d->proxy, u->ifindex)->n_prefixes == 0)
                solicit_router(d, u);
        daemon_changed(d);
        return 0;
}

int nd_daemon_add_pair(NdDaemon *d, const char *uplink, int uplink_ifindex, const char *guest,
                       int guest_ifindex, const struct in6_addr *addrs, size_t n_addrs) {
        NdLinkInfo ui, gi;
        NdServed *u, *g;
        int r;

        daemon_tick(d);
        r = link_lookup(d, uplink_ifindex, uplink, &ui);
        if (r < 0)
                return log_warning_errno(r, "Not serving %s behind %s: %m", guest, uplink);
        r = link_lookup(d, guest_ifindex, guest, &gi);
        if (r < 0)
                return log_warning_errno(r, "Not serving %s behind %s: %m", guest, uplink);
        u = link_serve(d, &ui, ND_LINK_UPLINK);
        if (!u)
                return -EINVAL;
        g = link_serve(d, &gi, ND_LINK_GUEST);
        if (!g) {
                if (u->n_guests == 0)
                        link_unserve(d, u, false);
                return -EINVAL;
        }
        r = pair(d, u, g);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_addrs; i++) {
                r = nd_proxy_add_address(d->proxy, g->ifindex, &addrs[i]);
                if (r > 0) {
                        guest_address_group(d, g->ifindex, &addrs[i], true);
                        /* Its route exists, and its proxy entry with it. */
                        (void) nd_proxy_set_kernel_answers(d->proxy, g->ifindex, &addrs[i], true);
                }
                else if (r < 0)
                        log_warning_errno(r, "Cannot take back an address of %s, ignoring: %m",
                                          g->name);
        }
        expiry_arm(d);
        if (n_addrs > 0)
                daemon_changed(d);
        return 0;
}

static NdServed *served_find_name(NdDaemon *d, const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(d->served); i++)
                if (d->served[i].ifindex > 0 && strcmp(d->served[i].name, name) == 0)
                        return &d->served[i];
        return NULL;
}

int nd_daemon_remove_pair(NdDaemon *d, const char *uplink, int uplink_ifindex,
                          const char *guest, int guest_ifindex) {
        NdServed *u = served_find(d, uplink_ifindex);
        NdServed *g = guest_ifindex > 0 ? served_find(d, guest_ifindex) : served_find_name(d, guest);

        (void) uplink;
        if (g && g->kind == ND_LINK_GUEST)
                link_unserve(d, g, /* report= */ false);
        if (u && u->kind == ND_LINK_UPLINK && u->n_guests == 0)
                link_unserve(d, u, false);
        return 0;
}

static void refused_note(NdDaemon *d, int ifindex, const struct in6_addr *addr) {
        d->refused[d->next_refused] = (NdRefused) { .ifindex = ifindex, .addr = *addr,
                                                    .until = now_usec() + ND_REFUSED_HOLD_USEC };
        d->next_refused = (d->next_refused + 1) % ND_REFUSED_MAX;
}

static bool refused_lately(NdDaemon *d, int ifindex, const struct in6_addr *addr) {
        uint64_t now = now_usec();

        for (size_t i = 0; i < ND_REFUSED_MAX; i++)
                if (d->refused[i].ifindex == ifindex && d->refused[i].until > now &&
                    memcmp(&d->refused[i].addr, addr, sizeof *addr) == 0)
                        return true;
        return false;
}

void nd_daemon_address_routed(NdDaemon *d, int guest_ifindex, const struct in6_addr *addr) {
        if (nd_proxy_get_link(d->proxy, guest_ifindex) &&
            nd_proxy_set_kernel_answers(d->proxy, guest_ifindex, addr, true) >= 0)
                daemon_changed(d);
}

void nd_daemon_refuse_address(NdDaemon *d, int guest_ifindex, const struct in6_addr *addr) {
        refused_note(d, guest_ifindex, addr);
        if (nd_proxy_get_link(d->proxy, guest_ifindex) &&
            nd_proxy_refuse_address(d->proxy, guest_ifindex, addr) >= 0) {
                guest_address_group(d, guest_ifindex, addr, false);
                expiry_arm(d);
                daemon_changed(d);
        }
}

/* Standalone: serve a configured link that exists now. */
static void standalone_consider(NdDaemon *d, const NdLinkInfo *info) {
        NdServed *u = NULL;
        NdLinkInfo l;
        bool is_uplink = strcmp(info->name, d->config.uplink) == 0, is_downlink = false;

        for (size_t i = 0; i < d->config.n_downlinks; i++)
                if (strcmp(info->name, d->config.downlinks[i]) == 0)
                        is_downlink = true;
        if ((!is_uplink && !is_downlink) || served_find(d, info->ifindex))
                return;
        if (link_lookup(d, info->ifindex, info->name, &l) < 0)
                return;
        if (is_uplink) {
                u = link_serve(d, &l, ND_LINK_UPLINK);
                if (!u)
                        return;
                if (d->ops.uplink_appeared)
                        d->ops.uplink_appeared(d, u->ifindex, d->ops.userdata);
                for (size_t i = 0; i < ELEMENTSOF(d->served); i++)
                        if (d->served[i].ifindex && d->served[i].kind == ND_LINK_GUEST)
                                (void) pair(d, u, &d->served[i]);
                return;
        }
        NdServed *g = link_serve(d, &l, ND_LINK_GUEST);
        for (size_t i = 0; g && i < ELEMENTSOF(d->served); i++)
                if (d->served[i].ifindex && d->served[i].kind == ND_LINK_UPLINK)
                        (void) pair(d, &d->served[i], g);
}

int nd_daemon_start_standalone(NdDaemon *d) {
        NdLinkInfo l;

        daemon_tick(d);
        if (nd_netlink_get_link(d->netlink_fd, 0, d->config.uplink, &l) >= 0)
                standalone_consider(d, &l);
        else
                log_info("Waiting for %s to appear", d->config.uplink);
        for (size_t i = 0; i < d->config.n_downlinks; i++) {
                if (nd_netlink_get_link(d->netlink_fd, 0, d->config.downlinks[i], &l) >= 0)
                        standalone_consider(d, &l);
                else
                        log_info("Waiting for %s to appear", d->config.downlinks[i]);
        }
        return 0;
}

static void on_link_event(const NdLinkInfo *l, bool removed, void *userdata) {
        NdDaemon *d = userdata;
        NdServed *s = served_find(d, l->ifindex);

        if (s && (removed || (l->name[0] && strcmp(l->name, s->name) != 0))) {
                /* Gone or renamed: its routes went with it, or belong to another name. */
                link_unserve(d, s, /* report= */ d->config.uplink != NULL);
                s = NULL;
        }
        if (s && l->has_mac && mac_is_unicast(&l->mac) && !mac_is_zero(&l->mac)) {
                const NdLink *pl = nd_proxy_get_link(d->proxy, s->ifindex);
                if (pl && memcmp(pl->mac.b, l->mac.b, MAC_LEN) != 0) {
                        (void) nd_proxy_set_link_mac(d->proxy, s->ifindex, &l->mac);
                        log_info("%s has a new MAC", s->name);
                }
        }
        if (!removed && !s && d->config.uplink)
                standalone_consider(d, l);
}

static void read_host_addresses(NdDaemon *d) {
        struct in6_addr addrs[ND_HOST_ADDRS_MAX];
        size_t n = 0;
        int r = nd_netlink_host_addresses(d->netlink_fd, addrs, ELEMENTSOF(addrs), &n);

        if (r < 0) {
                log_warning_errno(r, "Failed to read the host's addresses, ignoring: %m");
                return;
        }
        r = nd_proxy_set_host_addresses(d->proxy, addrs, n);
        if (r < 0)
                log_warning_errno(r, "The host has more addresses than the proxy keeps: %m");
        filter_sync(d);
}

static void on_addresses_changed(void *userdata) {
        read_host_addresses(userdata);
}

static void on_overrun(void *userdata) {
        NdDaemon *d = userdata;

        log_warning("Lost link events: checking every link again");
        read_host_addresses(d);
        for (size_t i = 0; i < ELEMENTSOF(d->served); i++) {
                NdServed *s = &d->served[i];
                NdLinkInfo l;

                if (s->ifindex && nd_netlink_get_link(d->netlink_fd, s->ifindex, NULL, &l) < 0)
                        link_unserve(d, s, d->config.uplink != NULL);
        }
        if (d->config.uplink)
                (void) nd_daemon_start_standalone(d);
}

static int on_monitor(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        const NdNetlinkEvents cb = {
                .link = on_link_event,
                .addresses_changed = on_addresses_changed,
                .overrun = on_overrun,
                .userdata = userdata,
        };
        int r;

        (void) s;
        (void) revents;
        daemon_tick(userdata);
        r = nd_netlink_read_events(fd, &cb);
        if (r < 0)
                log_warning_errno(r, "Failed to read link events, ignoring: %m");
        return 0;
}

/* ---- frames ------------------------------------------------------------------------------ */

/* A learned address: checked against the uplink's neighbours, then announced. */
static void on_learned(NdDaemon *d, const NdDecision *dec) {
        const NdLink *g = nd_proxy_get_link(d->proxy, dec->learned_ifindex);
        char buf[INET6_ADDRSTRLEN];
        NdNeighborInfo n;

        inet_ntop(AF_INET6, &dec->learned_addr, buf, sizeof buf);
        if (refused_lately(d, dec->learned_ifindex, &dec->learned_addr)) {
                (void) nd_proxy_refuse_address(d->proxy, dec->learned_ifindex, &dec->learned_addr);
                return;
        }
        if (g && g->uplink &&
            nd_netlink_get_neighbor(d->netlink_fd, g->uplink, &dec->learned_addr, &n) >= 0 &&
            nd_neighbor_usable(&n)) {
                log_warning("%s claims %s, which a neighbour on %s has: not routing it",
                            nd_daemon_link_name(d, dec->learned_ifindex), buf,
                            nd_daemon_link_name(d, g->uplink));
                refused_note(d, dec->learned_ifindex, &dec->learned_addr);
                (void) nd_proxy_refuse_address(d->proxy, dec->learned_ifindex, &dec->learned_addr);
                return;
        }
        log_info("Learned %s on %s", buf, nd_daemon_link_name(d, dec->learned_ifindex));
        guest_address_group(d, dec->learned_ifindex, &dec->learned_addr, true);
        expiry_arm(d);
        if (d->ops.address)
                d->ops.address(d, dec->learned_ifindex,
                               nd_daemon_link_name(d, dec->learned_ifindex) ?: "",
                               &dec->learned_addr, true, d->ops.userdata);
}

/* The Ethernet destination of a copy; false when there is none to send it to. */
static bool copy_destination(NdDaemon *d, const NdDecision *dec, const NdEgress *e, MacAddr *ret) {
        NdNeighborInfo n;

        if (e->rule == ND_DST_MULTICAST) {
                *ret = e->dst_mac;
                return true;
        }
        if (nd_proxy_lookup_neighbor(d->proxy, e->ifindex, &dec->dst, ND_NEIGHBOR_CACHE_USEC,
                                     ret) >= 0)
                return true;
        if (nd_netlink_get_neighbor(d->netlink_fd, e->ifindex, &dec->dst, &n) >= 0 &&
            nd_neighbor_usable(&n)) {
                *ret = n.mac;
                return true;
        }
        if (e->rule == ND_DST_NEIGHBOR_OR_ALL_NODES) {
                *ret = e->dst_mac;
                return true;
        }
        return false;
}

/* The proxy's answer to an NS, with our MAC on the link it came from: for the host (a
 * guest asks for its address), or for a guest seen alive lately (the uplink asks). */
static void answer_ns(NdDaemon *d, int ifindex, const NdPacket *ns, bool router) {
        const NdLink *l = nd_proxy_get_link(d->proxy, ifindex);
        size_t len;
        int r;

        if (!l)
                return;
        r = nd_packet_build_na(ns, &l->mac, router, d->out, sizeof d->out, &len);
        if (r >= 0)
                r = nd_socket_send(d->packet_fd, ifindex, d->out, len);
        if (r < 0) {
                log_debug_errno(r, "Failed to answer an NS on %s: %m",
                                nd_daemon_link_name(d, ifindex));
                (void) nd_proxy_count_drop(d->proxy, ifindex, ND_DROP_SEND_FAILED);
        } else
                (void) nd_proxy_count_answered(d->proxy, ifindex);
}

static void handle_frame(NdDaemon *d, const NdFrame *f) {
        NdDecision dec;
        NdPacket pkt;
        NdDrop drop;

        if (!served_find(d, f->ifindex)) {
                d->frames_elsewhere++;
                return;
        }
        if (nd_proxy_input(d->proxy, f->ifindex, f->data, f->len, f->vlan_tagged, &pkt, &dec,
                           &drop) < 0) {
                log_debug("Dropped a frame from %s: %s", nd_daemon_link_name(d, f->ifindex),
                          nd_drop_to_string(drop));
                return;
        }
        if (dec.learned)
                on_learned(d, &dec);
        if (dec.answer)
                answer_ns(d, f->ifindex, &pkt, dec.answer_router);
        for (size_t i = 0; i < dec.n_egress; i++) {
                const NdEgress *e = &dec.egress[i];
                MacAddr dst;
                size_t len;
                int r;

                if (!copy_destination(d, &dec, e, &dst)) {
                        (void) nd_proxy_count_drop(d->proxy, e->ifindex, ND_DROP_NO_NEIGHBOR);
                        continue;
                }
                r = nd_packet_rewrite(f->data, &pkt, &e->src_mac, &dst, dec.rewrite_flags, d->out,
                                      sizeof d->out, &len);
                if (r >= 0)
                        r = nd_socket_send(d->packet_fd, e->ifindex, d->out, len);
                if (r < 0) {
                        log_debug_errno(r, "Failed to send a copy on %s: %m",
                                        nd_daemon_link_name(d, e->ifindex));
                        (void) nd_proxy_count_drop(d->proxy, e->ifindex, ND_DROP_SEND_FAILED);
                } else
                        (void) nd_proxy_count_sent(d->proxy, e->ifindex);
        }
}

static int on_packets(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        NdDaemon *d = userdata;
        bool counted = false;
        NdFrame f;

        (void) s;
        (void) fd;
        (void) revents;
        daemon_tick(d);
        /* A ring's worth at most per wake-up, then let the other sources run. */
        for (unsigned n = 0; n < ND_RING_FRAMES && nd_ring_next(d->ring, &f) > 0; n++) {
                counted |= served_find(d, f.ifindex) != NULL;
                handle_frame(d, &f);
                nd_ring_release(d->ring);
        }
        if (counted)
                status_changed(d);
        return 0;
}

/* ---- set-up ------------------------------------------------------------------------------ */

int nd_daemon_new(sd_event *e, const NdDaemonConfig *config, const NdDaemonOps *ops,
                  NdDaemon **ret) {
        NdDaemon *d;
        int r;

        d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;
        *d = (NdDaemon) { .event = sd_event_ref(e), .config = *config, .ops = *ops,
                          .packet_fd = config->packet_fd, .netlink_fd = config->netlink_fd,
                          .monitor_fd = config->monitor_fd };
        if (d->config.address_lifetime_usec == 0)
                d->config.address_lifetime_usec = ND_ADDRESS_LIFETIME_DEFAULT_USEC;
        r = nd_ring_new(d->packet_fd, &d->ring);
        if (r >= 0)
                r = nd_proxy_new(ND_PROXY_RA_ALL_NODES, &d->proxy);
        if (r >= 0)
                r = sd_event_add_io(e, &d->packet_src, d->packet_fd, EPOLLIN, on_packets, d);
        if (r >= 0)
                r = sd_event_add_io(e, &d->monitor_src, d->monitor_fd, EPOLLIN, on_monitor, d);
        if (r < 0) {
                nd_daemon_free(d);
                return r;
        }
        daemon_tick(d);
        read_host_addresses(d);
        *ret = d;
        return 0;
}

NdDaemon *nd_daemon_free(NdDaemon *d) {
        if (!d)
                return NULL;
        sd_event_source_disable_unref(d->packet_src);
        sd_event_source_disable_unref(d->monitor_src);
        sd_event_source_disable_unref(d->expiry_src);
        safe_close(d->packet_fd);
        safe_close(d->netlink_fd);
        safe_close(d->monitor_fd);
        nd_proxy_free(d->proxy);
        nd_ring_free(d->ring);
        sd_event_unref(d->event);
        free(d);
        return NULL;
}

/* ---- counters ---------------------------------------------------------------------------- */

void nd_daemon_print_stats(const NdDaemon *d, FILE *f, bool json) {
        const NdProxy *p = d->proxy;

        if (json)
                fprintf(f, "{\"frames_elsewhere\":%llu,\"rs_sent\":%llu,\"links\":[",
                        (unsigned long long) d->frames_elsewhere, (unsigned long long) d->rs_sent);
        else
                fprintf(f, "ndproxyd: %zu links; %llu frames from other links; %llu RS sent\n",
                        nd_proxy_n_links(p), (unsigned long long) d->frames_elsewhere,
                        (unsigned long long) d->rs_sent);
        for (size_t i = 0; i < nd_proxy_n_links(p); i++) {
                const NdLink *l = nd_proxy_link_at(p, i);
                const NdLinkCounters *c = &l->counters;
                const char *name = nd_daemon_link_name(d, l->ifindex) ?: "?";

                if (json)
                        fprintf(f, "%s{\"name\":\"%s\",\"kind\":\"%s\",\"received\":%llu,"
                                "\"proxied\":%llu,\"learned\":%llu,\"learn_refused\":%llu,"
                                "\"expired\":%llu,\"answered\":%llu,\"addresses\":%zu,\"dropped\":{",
                                i ? "," : "", name, nd_link_kind_to_string(l->kind),
                                (unsigned long long) c->received, (unsigned long long) c->proxied,
                                (unsigned long long) c->learned,
                                (unsigned long long) c->learn_refused,
                                (unsigned long long) c->expired,
                                (unsigned long long) c->answered, l->n_addrs);
                else
                        fprintf(f, "  %s (%s): received %llu, proxied %llu, answered %llu, "
                                "learned %llu, refused %llu, expired %llu, addresses %zu",
                                name, nd_link_kind_to_string(l->kind),
                                (unsigned long long) c->received, (unsigned long long) c->proxied,
                                (unsigned long long) c->answered, (unsigned long long) c->learned,
                                (unsigned long long) c->learn_refused,
                                (unsigned long long) c->expired, l->n_addrs);
                bool first = true;
                for (NdDrop r = 0; r < _ND_DROP_MAX; r++) {
                        const char *sep = json ? (first ? "" : ",") : (first ? "; dropped: " : ", ");

                        if (!c->dropped[r])
                                continue;
                        fprintf(f, json ? "%s\"%s\":%llu" : "%s%s %llu", sep, nd_drop_to_string(r),
                                (unsigned long long) c->dropped[r]);
                        first = false;
                }
                fputs(json ? "}}" : "\n", f);
        }
        if (json)
                fputs("]}\n", f);
        fflush(f);
}
