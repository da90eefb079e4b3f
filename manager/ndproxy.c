/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "list.h"
#include "log.h"
#include "ndproxy.h"
#include "route6.h"

typedef Patchpanel__Ipc__ForwarderLink ForwarderLink;
typedef Patchpanel__Ipc__ForwarderReport ForwarderReport;

/* A guest link ndproxyd serves (or served), by name. */
typedef struct NdGuest NdGuest;
struct NdGuest {
        NdGuests *owner;
        char ifname[IFNAMSIZ];
        int ifindex;                 /* as ndproxyd resolved it; 0 until known */
        char uplink[IFNAMSIZ];       /* the pair's uplink; "" while unpaired */
        int uplink_ifindex;
        bool ipv6_enabled;
        struct in6_addr addrs[ND_GUEST_ADDRS_MAX];
        size_t n_addrs;
        /* link_fill()'s storage, until link_done(). */
        ProtobufCBinaryData told[ND_GUEST_ADDRS_MAX];
        LIST_FIELDS(NdGuest, guests);
};

/* A helper request in flight (or waiting to be asked again) for one address. The helper's
 * channel drops the callbacks of requests it never answers (the helper died): the calls
 * are kept here, and freed with the rest. */
typedef struct Route6Call Route6Call;
struct Route6Call {
        NdGuests *owner;
        char ifname[IFNAMSIZ];
        struct in6_addr addr;
        bool add;
        /* A removal names the links as they were when it was asked for: the guest's
         * record may be gone by the time it is sent (again). */
        int ifindex;
        char uplink[IFNAMSIZ];
        int uplink_ifindex;
        unsigned tries;
        sd_event_source *retry;
        LIST_FIELDS(Route6Call, calls);
};

struct NdGuests {
        Manager *manager;
        NdGuest *guests;
        Route6Call *calls;
};

/* The host may not have the uplink's prefix yet when a guest has it (both come from the
 * same RA): a route refused for that is asked for again, a second apart, this many times. */
#define ROUTE6_TRIES 8
#define ROUTE6_RETRY_USEC (1000 * 1000)

static const char *addr_str(const struct in6_addr *a, char buf[static INET6_ADDRSTRLEN]) {
        return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

static NdGuest *guest_find(NdGuests *g, const char *ifname) {
        LIST_FOREACH(guests, n, g->guests)
                if (strcmp(n->ifname, ifname) == 0)
                        return n;
        return NULL;
}

static ssize_t guest_addr_index(const NdGuest *n, const struct in6_addr *a) {
        for (size_t i = 0; i < n->n_addrs; i++)
                if (memcmp(&n->addrs[i], a, sizeof *a) == 0)
                        return (ssize_t) i;
        return -1;
}

static NdGuest *guest_of_address(NdGuests *g, const struct in6_addr *a) {
        LIST_FOREACH(guests, n, g->guests)
                if (guest_addr_index(n, a) >= 0)
                        return n;
        return NULL;
}

static void guest_forget_address(NdGuest *n, const struct in6_addr *a) {
        ssize_t i = guest_addr_index(n, a);

        if (i >= 0)
                n->addrs[i] = n->addrs[--n->n_addrs];
}

static NdGuest *guest_free(NdGuest *n) {
        if (!n)
                return NULL;
        LIST_REMOVE(guests, n->owner->guests, n);
        free(n);
        return NULL;
}

static Route6Call *route6_call_free(Route6Call *call) {
        if (!call)
                return NULL;
        LIST_REMOVE(calls, call->owner->calls, call);
        sd_event_source_disable_unref(call->retry);
        free(call);
        return NULL;
}

static void route6_send(Route6Call *call);

static int on_route6_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Route6Call *call = userdata;

        (void) s;
        (void) usec;
        call->retry = sd_event_source_disable_unref(call->retry);
        route6_send(call);
        return 0;
}

/* Tell ndproxyd what became of an address it reported: routed (the kernel answers for it
 * now) or refused for good. A restarted ndproxyd hears of it with its links instead. */
static void tell_routed(Manager *m, const NdGuest *n, const struct in6_addr *a, bool routed) {
        Patchpanel__Ipc__ForwarderControl msg = PATCHPANEL__IPC__FORWARDER_CONTROL__INIT;
        Patchpanel__Ipc__NdAddress e = PATCHPANEL__IPC__ND_ADDRESS__INIT;
        int r;

        e.guest = (char *) n->ifname;
        e.guest_ifindex = n->ifindex;
        e.address = (ProtobufCBinaryData) { .len = sizeof *a, .data = (uint8_t *) a };
        e.present = routed;
        msg.msg_case = PATCHPANEL__IPC__FORWARDER_CONTROL__MSG_ND_ROUTED;
        msg.nd_routed = &e;
        r = forwarders_send(m->forwarders, PATCHPANEL__IPC__CHILD_KIND__CHILD_KIND_NDPROXY, &msg);
        if (r < 0 && r != -ENOTCONN)
                log_warning_errno(r, "Cannot tell ndproxyd about an address of %s: %m", n->ifname);
}

static void on_route6_reply(const HelperResponse *resp, void *userdata) {
        Route6Call *call = userdata;
        char buf[INET6_ADDRSTRLEN];
        NdGuest *n = guest_find(call->owner, call->ifname);
        Manager *m = call->owner->manager;

        addr_str(&call->addr, buf);
        if (resp->status >= 0) {
                log_debug("%s/128 %s %s", buf, call->add ? "routed to" : "no longer routed to",
                          call->ifname);
                if (call->add && n && n->ifindex > 0 && guest_addr_index(n, &call->addr) >= 0)
                        tell_routed(m, n, &call->addr, true);
                route6_call_free(call);
                return;
        }
        if (call->add && resp->status == -ENETUNREACH && call->tries < ROUTE6_TRIES && n &&
            guest_addr_index(n, &call->addr) >= 0 && !m->stopping &&
            sd_event_add_time_relative(m->event, &call->retry, CLOCK_MONOTONIC, ROUTE6_RETRY_USEC,
                                       0, on_route6_retry, call) >= 0) {
                log_debug("No route for %s on %s yet (%s), asking again", buf, call->ifname,
                          resp->message);
                return;
        }
        log_warning("%s %s on %s: %s", call->add ? "No route for" : "Cannot remove the route of",
                    buf, call->ifname, resp->message);
        /* Not routed: not ours to tell a restarted ndproxyd either. */
        if (call->add && n && guest_addr_index(n, &call->addr) >= 0) {
                guest_forget_address(n, &call->addr);
                if (n->ifindex > 0)
                        tell_routed(m, n, &call->addr, false);
        }
        route6_call_free(call);
}

/* Ask the helper (again) for what @call says, if its guest link is still served. */
static void route6_send(Route6Call *call) {
        Patchpanel__Ipc__GuestRoute6 op = PATCHPANEL__IPC__GUEST_ROUTE6__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;
        NdGuest *n = guest_find(call->owner, call->ifname);
        Manager *m = call->owner->manager;
        int r;

        if (m->stopping || (call->add && (!n || !n->uplink[0] ||
                                          guest_addr_index(n, &call->addr) < 0))) {
                route6_call_free(call);
                return;
        }
        if (call->add) {
                call->ifindex = n->ifindex;
                snprintf(call->uplink, sizeof call->uplink, "%s", n->uplink);
                call->uplink_ifindex = n->uplink_ifindex;
        }
        call->tries++;
        op.add = call->add;
        op.guest_ifname = call->ifname;
        op.guest_ifindex = call->ifindex;
        op.uplink_ifname = call->uplink;
        op.uplink_ifindex = call->uplink_ifindex;
        op.address = (ProtobufCBinaryData) { .len = sizeof call->addr, .data = (uint8_t *) &call->addr };
        req.op_case = OP(GUEST_ROUTE6);
        req.guest_route6 = &op;
        r = helper_link_call(m->helper, &req, NULL, 0, on_route6_reply, call);
        if (r < 0) {
                log_error_errno(r, "Cannot ask the helper for a route of %s: %m", call->ifname);
                route6_call_free(call);
        }
}

static void guest_route6(NdGuest *n, const struct in6_addr *a, bool add) {
        Route6Call *call;

        if (n->owner->manager->stopping)
                return; /* DatapathStop removes every route at once */
        call = malloc(sizeof *call);
        if (!call) {
                log_error("Out of memory for a route of %s", n->ifname);
                return;
        }
        *call = (Route6Call) { .owner = n->owner, .addr = *a, .add = add, .ifindex = n->ifindex,
                               .uplink_ifindex = n->uplink_ifindex };
        snprintf(call->ifname, sizeof call->ifname, "%s", n->ifname);
        snprintf(call->uplink, sizeof call->uplink, "%s", n->uplink);
        LIST_PREPEND(calls, n->owner->calls, call);
        route6_send(call);
}

/* Every learned address of the link loses its route (it moved, or goes). */
static void guest_drop_addresses(NdGuest *n) {
        for (size_t i = 0; i < n->n_addrs; i++)
                if (n->ifindex > 0 && n->uplink[0])
                        guest_route6(n, &n->addrs[i], false);
        n->n_addrs = 0;
}

static void on_ipv6_enabled(const HelperResponse *resp, void *userdata) {
        (void) userdata;
        /* The helper's message names the link. */
        if (resp->status < 0)
                log_error("No IPv6 for a guest link: %s", resp->message);
}

static void guest_enable_ipv6(NdGuest *n, int ifindex) {
        Patchpanel__Ipc__GuestIpv6Enable op = PATCHPANEL__IPC__GUEST_IPV6_ENABLE__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;
        int r;

        op.ifname = n->ifname;
        op.ifindex = ifindex;
        req.op_case = OP(GUEST_IPV6_ENABLE);
        req.guest_ipv6_enable = &op;
        r = helper_link_call(n->owner->manager->helper, &req, NULL, 0, on_ipv6_enabled, NULL);
        if (r < 0) {
                log_error_errno(r, "Cannot ask the helper for IPv6 on %s: %m", n->ifname);
                return;
        }
        n->ipv6_enabled = true;
}

/* ---- the supervisor's hooks -------------------------------------------------------------- */

static void on_pair_added(const ForwarderLink *l, void *userdata) {
        NdGuests *g = userdata;
        NdGuest *n = guest_find(g, l->guest);

        if (!n) {
                n = calloc(1, sizeof *n);
                if (!n) {
                        log_error("Out of memory for the guest link %s", l->guest);
                        return;
                }
                n->owner = g;
                snprintf(n->ifname, sizeof n->ifname, "%s", l->guest);
                LIST_PREPEND(guests, g->guests, n);
        }
        if (l->guest_ifindex > 0)
                n->ifindex = l->guest_ifindex;
        /* Behind another uplink than before (the default changed while ndproxyd was
         * down): the addresses of the old prefix go. */
        if (n->uplink[0] && (strcmp(n->uplink, l->uplink) != 0 ||
                             n->uplink_ifindex != l->uplink_ifindex))
                guest_drop_addresses(n);
        snprintf(n->uplink, sizeof n->uplink, "%s", l->uplink);
        n->uplink_ifindex = l->uplink_ifindex;
        if (!n->ipv6_enabled)
                guest_enable_ipv6(n, l->guest_ifindex);
}

static void on_link_fill(ForwarderLink *l, void *userdata) {
        NdGuest *n = guest_find(userdata, l->guest);

        if (!n || n->n_addrs == 0)
                return;
        for (size_t i = 0; i < n->n_addrs; i++)
                n->told[i] = (ProtobufCBinaryData) { .len = sizeof n->addrs[i],
                                                     .data = (uint8_t *) &n->addrs[i] };
        l->ipv6_addresses = n->told;
        l->n_ipv6_addresses = n->n_addrs;
}

static void on_link_done(ForwarderLink *l, void *userdata) {
        (void) userdata;
        l->ipv6_addresses = NULL;
        l->n_ipv6_addresses = 0;
}

static void on_pair_removed(const ForwarderLink *l, void *userdata) {
        NdGuest *n = guest_find(userdata, l->guest);

        if (!n)
                return;
        guest_drop_addresses(n);
        n->uplink[0] = '\0';
        n->uplink_ifindex = 0;
}

/* An NdAddress from ndproxyd: checked, then routed or unrouted. */
static void on_report(const ForwarderReport *ev, void *userdata) {
        const Patchpanel__Ipc__NdAddress *e = ev->nd_address;
        NdGuests *g = userdata;
        char buf[INET6_ADDRSTRLEN];
        struct in6_addr a;
        NdGuest *n, *other;

        if (ev->msg_case != PATCHPANEL__IPC__FORWARDER_REPORT__MSG_ND_ADDRESS) {
                log_warning("ndproxyd sent an unknown event %d, ignoring it", (int) ev->msg_case);
                return;
        }
        /* ndproxyd faces the network: what it says is checked, never trusted. */
        if (e->address.len != sizeof a || !e->guest) {
                log_warning("ndproxyd sent a malformed address, ignoring it");
                return;
        }
        memcpy(&a, e->address.data, sizeof a);
        addr_str(&a, buf);
        n = guest_find(g, e->guest);
        if (!n || !n->uplink[0] || e->guest_ifindex <= 0 ||
            (n->ifindex > 0 && n->ifindex != e->guest_ifindex)) {
                log_warning("ndproxyd reports %s on %s (ifindex %d), a link it does not serve: "
                            "ignoring it", buf, e->guest, e->guest_ifindex);
                return;
        }
        if (!route6_addr_is_guest_kind(&a)) {
                log_warning("ndproxyd reports %s on %s, not a global or unique local address: "
                            "ignoring it", buf, e->guest);
                return;
        }
        n->ifindex = e->guest_ifindex;
        if (!e->present) {
                if (guest_addr_index(n, &a) < 0)
                        return;
                log_info("%s on %s: forgotten by ndproxyd, removing its route", buf, n->ifname);
                guest_forget_address(n, &a);
                guest_route6(n, &a, false);
                return;
        }
        other = guest_of_address(g, &a);
        if (other == n)
                return;
        if (other) {
                log_warning("%s claims %s, which %s has: ignoring it", n->ifname, buf, other->ifname);
                return;
        }
        if (n->n_addrs >= ND_GUEST_ADDRS_MAX) {
                log_warning("%s has %d IPv6 addresses already: no route for %s", n->ifname,
                            ND_GUEST_ADDRS_MAX, buf);
                return;
        }
        log_info("%s learned on %s, routing it there", buf, n->ifname);
        n->addrs[n->n_addrs++] = a;
        guest_route6(n, &a, true);
}

/* A guest link that goes takes its routes along (the kernel's) and its anti-spoofing
 * elements (the helper's, with the guest), but not the proxy entries of its addresses on
 * the uplink: the removals go to the helper, then our record. */
static void on_guest_removed(const GuestLink *l, void *userdata) {
        NdGuest *n = guest_find(userdata, l->ifname);

        if (!n)
                return;
        guest_drop_addresses(n);
        guest_free(n);
}

static const RegistrySubscriber nd_guests_subscriber = {
        .guest_removed = on_guest_removed,
};

int nd_guests_setup(Manager *m) {
        const ForwarderHooks hooks = {
                .pair_added = on_pair_added,
                .link_fill = on_link_fill,
                .link_done = on_link_done,
                .pair_removed = on_pair_removed,
                .report = on_report,
        };
        ForwarderHooks h = hooks;
        NdGuests *g;
        int r;

        if (!m->config.forwarders.ndproxy)
                return 0;
        g = calloc(1, sizeof *g);
        if (!g)
                return -ENOMEM;
        g->manager = m;
        m->nd_guests = g;
        h.userdata = g;
        r = forwarders_set_hooks(m->forwarders, PATCHPANEL__IPC__CHILD_KIND__CHILD_KIND_NDPROXY, &h);
        if (r >= 0)
                r = registry_subscribe(m->registry, &nd_guests_subscriber, g);
        return r;
}

NdGuests *nd_guests_free(NdGuests *g) {
        if (!g)
                return NULL;
        while (g->calls)
                route6_call_free(g->calls);
        while (g->guests)
                guest_free(g->guests);
        free(g);
        return NULL;
}
