/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The links mcastd serves. A link is wanted by name: told by the manager as half of a
 * ForwarderLink pair (with the ifindex the manager knows it by, 0 if it does not), or named
 * on the command line. It is active - in the forwarder (mcast_fwd_set_link()), with its
 * sockets open and its addresses set - while the kernel has a link of that name (and that
 * ifindex, when one was named); a guest link also needs its uplink active. Links that do
 * not exist yet are simply waiting: NetWatch says when they appear, and when they go they
 * wait again. Nothing retries and nothing polls.
 *
 * An uplink exists as long as a guest link is behind it (or the command line names it);
 * it carries the union of its guests' services.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ifname.h"
#include "log.h"
#include "mcastd.h"

#define log_link_debug(l, fmt, ...) log_debug("%s: " fmt, (l)->name, ##__VA_ARGS__)
#define log_link_info(l, fmt, ...) log_info("%s: " fmt, (l)->name, ##__VA_ARGS__)
#define log_link_warning_errno(l, r, fmt, ...) \
        log_warning_errno(r, "%s: " fmt, (l)->name, ##__VA_ARGS__)

unsigned mcastd_services_of_kind(Patchpanel__Ipc__GuestKind kind) {
        switch (kind) {
        case PATCHPANEL__IPC__GUEST_KIND__GUEST_KIND_ARC:
        case PATCHPANEL__IPC__GUEST_KIND__GUEST_KIND_ARCVM:
                return MCAST_SERVICES_ALL;
        case PATCHPANEL__IPC__GUEST_KIND__GUEST_KIND_TERMINA:
        case PATCHPANEL__IPC__GUEST_KIND__GUEST_KIND_PLUGINVM:
                return MCAST_SERVICES_MULTICAST;
        default:
                return 0;
        }
}

static McLink *link_by_name(const Mcastd *m, const char *name) {
        LIST_FOREACH(links, l, m->links)
                if (strcmp(l->name, name) == 0)
                        return l;
        return NULL;
}

McLink *mcastd_link_active(const Mcastd *m, int ifindex) {
        if (ifindex <= 0)
                return NULL;
        LIST_FOREACH(links, l, m->links)
                if (l->ifindex == ifindex)
                        return l;
        return NULL;
}

/* The broadcast socket passes the active links that carry broadcast. */
static void bcast_filter_update(Mcastd *m) {
        int ifindexes[MCAST_LINKS_MAX];
        size_t n = 0;
        int r;

        if (!m->bcast)
                return;
        LIST_FOREACH(links, l, m->links)
                if (l->ifindex > 0 && (l->services & MCAST_SERVICE_BCAST4) &&
                    n < ELEMENTSOF(ifindexes))
                        ifindexes[n++] = l->ifindex;
        r = bcast_sock_set_links(m->bcast, ifindexes, n);
        if (r < 0)
                log_error_errno(r, "Failed to update the broadcast filter, ignoring: %m");
}

static void link_set_addresses(McLink *l) {
        McastAddr addrs[MCAST_LINK_ADDRS_MAX];
        size_t n = netwatch_addresses(l->m->netwatch, l->ifindex, addrs, ELEMENTSOF(addrs));
        int r = mcast_fwd_set_addresses(l->m->fwd, l->ifindex, addrs, n);

        if (r < 0)
                log_link_warning_errno(l, r, "Failed to take its addresses, ignoring: %m");
}

static int link_configure(McLink *l) {
        McastLinkConfig c = {
                .ifindex = l->ifindex,
                .role = l->role,
                .uplink_ifindex = l->uplink ? l->uplink->ifindex : 0,
                .services = l->services,
        };

        snprintf(c.ifname, sizeof c.ifname, "%s", l->name);
        return mcast_fwd_set_link(l->m->fwd, &c);
}

/* Open the sockets of the services wanted, close the others; services is what works. */
static void link_sync_sockets(McLink *l) {
        unsigned services = 0;

        for (McastProto p = 0; p < MCASTD_UDP_PROTOS; p++)
                for (int f = 0; f < 2; f++) {
                        int family = f == MCASTD_V4 ? AF_INET : AF_INET6;
                        unsigned bit = mcast_service_bit(p, family);
                        int r;

                        if (!(l->want_services & bit)) {
                                l->socks[p][f] = udp_sock_free(l->socks[p][f]);
                                continue;
                        }
                        if (!l->socks[p][f]) {
                                r = udp_sock_open(l->m, l, p, family, &l->socks[p][f]);
                                if (r < 0) {
                                        log_link_warning_errno(l, r, "No %s over IPv%c here: %m",
                                                               mcast_proto_to_string(p),
                                                               family == AF_INET ? '4' : '6');
                                        continue;
                                }
                        }
                        services |= bit;
                }
        if ((l->want_services & MCAST_SERVICE_BCAST4) && l->m->bcast)
                services |= MCAST_SERVICE_BCAST4;
        l->services = services;
}

static void link_activate(McLink *l);

static void link_deactivate(McLink *l) {
        Mcastd *m = l->m;
        int ifindex = l->ifindex;

        if (ifindex <= 0)
                return;
        if (l->role == MCAST_ROLE_UPLINK)
                LIST_FOREACH(links, g, m->links)
                        if (g->uplink == l)
                                link_deactivate(g);
        for (McastProto p = 0; p < MCASTD_UDP_PROTOS; p++)
                for (int f = 0; f < 2; f++)
                        l->socks[p][f] = udp_sock_free(l->socks[p][f]);
        reply_proxies_forget_link(m, ifindex);
        (void) mcast_fwd_remove_link(m->fwd, ifindex);
        l->ifindex = 0;
        l->services = 0;
        log_link_debug(l, "no longer served");
        bcast_filter_update(m);
        mcastd_changed(m);
}

/* Serve the link if the kernel has it (and, for a guest link, its uplink is served). */
static void link_activate(McLink *l) {
        Mcastd *m = l->m;
        int ifindex, r;

        if (l->ifindex > 0 || (l->uplink && l->uplink->ifindex <= 0))
                return;
        ifindex = netwatch_find(m->netwatch, l->name);
        if (ifindex <= 0)
                return;
        if (l->want_ifindex > 0 && ifindex != l->want_ifindex) {
                log_link_debug(l, "has ifindex %d, not the %d it was named with: waiting",
                               ifindex, l->want_ifindex);
                return;
        }
        l->ifindex = ifindex;
        link_sync_sockets(l);
        r = link_configure(l);
        if (r < 0) {
                log_link_warning_errno(l, r, "Cannot be served: %m");
                for (McastProto p = 0; p < MCASTD_UDP_PROTOS; p++)
                        for (int f = 0; f < 2; f++)
                                l->socks[p][f] = udp_sock_free(l->socks[p][f]);
                l->ifindex = 0;
                l->services = 0;
                return;
        }
        link_set_addresses(l);
        if (l->uplink)
                log_link_info(l, "served behind %s (ifindex %d, services 0x%x)", l->uplink->name,
                              ifindex, l->services);
        else
                log_link_info(l, "served as an uplink (ifindex %d, services 0x%x)", ifindex,
                              l->services);
        if (l->role == MCAST_ROLE_UPLINK)
                LIST_FOREACH(links, g, m->links)
                        if (g->uplink == l)
                                link_activate(g);
        bcast_filter_update(m);
        mcastd_changed(m);
}

/* An uplink carries what its guests do; follow a change while it is served. */
static void uplink_update_services(McLink *up) {
        unsigned want = 0;

        LIST_FOREACH(links, g, up->m->links)
                if (g->uplink == up)
                        want |= g->want_services;
        if (want == up->want_services)
                return;
        up->want_services = want;
        if (up->ifindex <= 0)
                return;
        link_sync_sockets(up);
        if (link_configure(up) < 0)
                log_link_debug(up, "cannot change its services, ignoring");
        bcast_filter_update(up->m);
}

static McLink *link_new(Mcastd *m, const char *name, int want_ifindex, McastRole role,
                        McLink *uplink, unsigned services) {
        McLink *l = calloc(1, sizeof *l);

        if (!l)
                return NULL;
        *l = (McLink) { .m = m, .want_ifindex = want_ifindex, .role = role, .uplink = uplink,
                        .want_services = services };
        snprintf(l->name, sizeof l->name, "%s", name);
        /* Uplinks first, so a walk over the list meets an uplink before its guests. */
        if (role == MCAST_ROLE_UPLINK)
                LIST_PREPEND(links, m->links, l);
        else
                LIST_APPEND(links, m->links, l);
        return l;
}

static void link_free(McLink *l) {
        link_deactivate(l);
        LIST_REMOVE(links, l->m->links, l);
        free(l);
}

/* One user less of an uplink: without any, it goes. */
static void uplink_put(McLink *up) {
        if (--up->users == 0)
                link_free(up);
        else
                uplink_update_services(up);
}

/* One user less of a guest link: without any, it goes, and its uplink has one less. */
static void guest_put(McLink *g) {
        McLink *up = g->uplink;

        if (--g->users > 0)
                return;
        link_free(g);
        uplink_put(up);
}

/* The uplink called @name, made if needed (one more user). */
static McLink *uplink_get(Mcastd *m, const char *name, int want_ifindex) {
        McLink *up = link_by_name(m, name);

        if (up) {
                if (up->role != MCAST_ROLE_UPLINK)
                        return NULL;
                if (want_ifindex > 0 && up->want_ifindex != want_ifindex) {
                        /* The manager knows it under another ifindex now: the old one went. */
                        link_deactivate(up);
                        up->want_ifindex = want_ifindex;
                }
        } else {
                up = link_new(m, name, want_ifindex, MCAST_ROLE_UPLINK, NULL, 0);
                if (!up)
                        return NULL;
        }
        up->users++;
        return up;
}

static bool pair_matches(const McPair *p, const ForwarderLink *l) {
        return strcmp(p->guest, l->guest) == 0 && strcmp(p->uplink, l->uplink) == 0;
}

int mcastd_pair_add(Mcastd *m, const ForwarderLink *l) {
        unsigned services = mcastd_services_of_kind(l->guest_kind);
        McLink *up, *g;
        McPair *p;

        if (!l->uplink || !l->guest || !ifname_is_valid(l->uplink) ||
            !ifname_is_valid(l->guest) || strcmp(l->uplink, l->guest) == 0 ||
            l->uplink_ifindex < 0 || l->guest_ifindex < 0)
                return -EINVAL;
        if (services == 0)
                return -EOPNOTSUPP;
        g = link_by_name(m, l->guest);
        if (g && (g->role != MCAST_ROLE_GUEST || strcmp(g->uplink->name, l->uplink) != 0))
                return -EEXIST;
        up = link_by_name(m, l->uplink);
        if (up && up->role != MCAST_ROLE_UPLINK)
                return -EEXIST;
        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        if (g) {
                /* Told twice: one more user of the guest link, the uplink keeps one. */
                up = g->uplink;
                g->want_services |= services;
        } else {
                up = uplink_get(m, l->uplink, l->uplink_ifindex);
                if (up)
                        g = link_new(m, l->guest, l->guest_ifindex, MCAST_ROLE_GUEST, up,
                                     services);
                if (!g) {
                        if (up)
                                uplink_put(up);
                        free(p);
                        return -ENOMEM;
                }
        }
        g->users++;

        p->link = *l;
        snprintf(p->uplink, sizeof p->uplink, "%s", l->uplink);
        snprintf(p->guest, sizeof p->guest, "%s", l->guest);
        p->link.uplink = p->uplink;
        p->link.guest = p->guest;
        p->guest_link = g;
        LIST_APPEND(pairs, m->pairs, p);

        uplink_update_services(up);
        link_activate(up);
        link_activate(g);
        mcastd_changed(m);
        return 0;
}

int mcastd_pair_remove(Mcastd *m, const ForwarderLink *l) {
        if (!l->uplink || !l->guest)
                return -EINVAL;
        LIST_FOREACH(pairs, p, m->pairs)
                if (pair_matches(p, l)) {
                        McLink *g = p->guest_link;

                        LIST_REMOVE(pairs, m->pairs, p);
                        free(p);
                        guest_put(g);
                        mcastd_changed(m);
                        return 0;
                }
        return -ENOENT;
}

int mcastd_standalone_links(Mcastd *m, const char *uplink, char *const *downlinks, size_t n) {
        McLink *up;

        if (!ifname_is_valid(uplink))
                return log_error_errno(-EINVAL, "Not an interface name: %s", uplink);
        up = uplink_get(m, uplink, 0);
        if (!up)
                return log_error_errno(-ENOMEM, "Out of memory");
        up->want_services = MCAST_SERVICES_MULTICAST;
        for (size_t i = 0; i < n; i++) {
                McLink *g;

                if (!ifname_is_valid(downlinks[i]))
                        return log_error_errno(-EINVAL, "Not an interface name: %s", downlinks[i]);
                if (link_by_name(m, downlinks[i]))
                        return log_error_errno(-EINVAL, "%s is named twice", downlinks[i]);
                g = link_new(m, downlinks[i], 0, MCAST_ROLE_GUEST, up, MCAST_SERVICES_MULTICAST);
                if (!g)
                        return log_error_errno(-ENOMEM, "Out of memory");
                g->users = 1;
                up->users++;
        }
        link_activate(up);
        LIST_FOREACH(links, l, m->links)
                if (l->ifindex <= 0)
                        log_link_info(l, "waiting for it to appear");
        return 0;
}

void mcastd_links_free(Mcastd *m) {
        while (m->pairs) {
                McPair *p = m->pairs;

                LIST_REMOVE(pairs, m->pairs, p);
                free(p);
        }
        /* Guests first: an uplink's deactivation would walk them. */
        for (int pass = 0; pass < 2; pass++)
                LIST_FOREACH_SAFE(links, l, next, m->links)
                        if ((l->role == MCAST_ROLE_GUEST) == (pass == 0)) {
                                link_deactivate(l);
                                LIST_REMOVE(links, m->links, l);
                                free(l);
                        }
}

void mcastd_on_link_new(int ifindex, const char *name, void *userdata) {
        Mcastd *m = userdata;
        McLink *l = link_by_name(m, name);

        (void) ifindex;
        if (l)
                link_activate(l); /* an uplink takes its guests along */
}

void mcastd_on_link_gone(int ifindex, void *userdata) {
        McLink *l = mcastd_link_active(userdata, ifindex);

        if (!l)
                return;
        log_link_info(l, "is gone; served again when it comes back");
        link_deactivate(l);
}

void mcastd_on_addresses(int ifindex, void *userdata) {
        McLink *l = mcastd_link_active(userdata, ifindex);

        if (l) {
                link_set_addresses(l);
                mcastd_changed(l->m);
        }
}
