/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>

#include "log.h"
#include "registry.h"

#define SUBSCRIBERS_MAX 16

struct Registry {
        LinkMonitor *links;
        GuestLink *guests;
        size_t n_guests;
        struct {
                const RegistrySubscriber *s;
                void *userdata;
        } subscribers[SUBSCRIBERS_MAX];
        size_t n_subscribers;
};

static const char *const guest_kind_names[_GUEST_KIND_MAX] = {
        [GUEST_ARC] = "arc",
        [GUEST_ARCVM] = "arcvm",
        [GUEST_TERMINA] = "termina",
        [GUEST_PLUGINVM] = "pluginvm",
        [GUEST_NETNS] = "netns",
};

const char *guest_kind_to_string(GuestKind k) {
        if (k < 0 || k >= _GUEST_KIND_MAX)
                return NULL;
        return guest_kind_names[k];
}

/* Tell every subscriber that has the callback: in order, or in reverse for removals. */
#define NOTIFY(r, reverse, cb, ...)                                                         \
        do {                                                                                \
                for (size_t _i = 0; _i < (r)->n_subscribers; _i++) {                         \
                        size_t _k = (reverse) ? (r)->n_subscribers - 1 - _i : _i;           \
                        if ((r)->subscribers[_k].s->cb)                                     \
                                (r)->subscribers[_k].s->cb(__VA_ARGS__,                     \
                                                           (r)->subscribers[_k].userdata);  \
                }                                                                           \
        } while (0)

static void on_link_removed(const char *name, int ifindex, void *userdata) {
        Registry *r = userdata;
        NOTIFY(r, true, link_vanished, name, ifindex);
}

static void on_resync(const int *ifindexes, size_t n, uint64_t generation, void *userdata) {
        Registry *r = userdata;
        NOTIFY(r, false, resync, ifindexes, n, generation);
}

static void on_uplink_added(Uplink *u, void *userdata) {
        Registry *r = userdata;
        NOTIFY(r, false, uplink_added, u);
}

static void on_uplink_removed(Uplink *u, void *userdata) {
        Registry *r = userdata;
        NOTIFY(r, true, uplink_removed, u);
}

static void on_uplink_routes_changed(Uplink *u, void *userdata) {
        Registry *r = userdata;
        NOTIFY(r, false, uplink_routes_changed, u);
}

static void on_default_changed(const char *old, const char *new, void *userdata) {
        Registry *r = userdata;
        NOTIFY(r, false, default_changed, old, new);
}

static const LinkMonitorCallbacks link_callbacks = {
        .link_removed = on_link_removed,
        .resync = on_resync,
        .uplink_added = on_uplink_added,
        .uplink_removed = on_uplink_removed,
        .uplink_routes_changed = on_uplink_routes_changed,
        .default_changed = on_default_changed,
};

Registry *registry_new(void) {
        return calloc(1, sizeof(Registry));
}

Registry *registry_free(Registry *r) {
        if (!r)
                return NULL;
        /* Guests free their links before this; any left are only memory now. */
        while (r->guests) {
                GuestLink *l = r->guests;
                LIST_REMOVE(guests, r->guests, l);
                free(l);
        }
        link_monitor_free(r->links);
        free(r);
        return NULL;
}

int registry_watch_links(Registry *r, sd_event *e, char *const *uplink_patterns) {
        return link_monitor_new(e, uplink_patterns, &link_callbacks, r, &r->links);
}

int registry_watch_fake_links(Registry *r, char *const *uplink_patterns,
                              LinkMonitor **ret_links) {
        int k = link_monitor_new_fake(uplink_patterns, &link_callbacks, r, &r->links);

        if (k < 0)
                return k;
        *ret_links = r->links;
        return 0;
}

int registry_subscribe(Registry *r, const RegistrySubscriber *s, void *userdata) {
        if (r->n_subscribers >= SUBSCRIBERS_MAX)
                return -ENOMEM;
        r->subscribers[r->n_subscribers].s = s;
        r->subscribers[r->n_subscribers].userdata = userdata;
        r->n_subscribers++;
        return 0;
}

void registry_unsubscribe_all(Registry *r) {
        r->n_subscribers = 0;
}

GuestLink *registry_guest_add(Registry *r, const GuestLink *info) {
        GuestLink *l = malloc(sizeof *l);

        if (!l) {
                log_error("Out of memory for the guest link %s", info->ifname);
                return NULL;
        }
        *l = *info;
        /* At the end: listings keep the order guests came in. */
        LIST_APPEND(guests, r->guests, l);
        r->n_guests++;
        NOTIFY(r, false, guest_added, l);
        return l;
}

void registry_guest_remove(Registry *r, GuestLink *l) {
        if (!l)
                return;
        /* Out of the list first: a subscriber that looks at the registry sees it gone. */
        LIST_REMOVE(guests, r->guests, l);
        r->n_guests--;
        NOTIFY(r, true, guest_removed, l);
        free(l);
}

GuestLink *registry_guests(const Registry *r) {
        return r->guests;
}

size_t registry_n_guests(const Registry *r) {
        return r->n_guests;
}

Uplink *registry_uplinks(const Registry *r) {
        return r->links ? link_monitor_uplinks(r->links) : NULL;
}

Uplink *registry_find_uplink(const Registry *r, const char *name) {
        return r->links ? link_monitor_find_uplink(r->links, name) : NULL;
}

const VpnLink *registry_vpns(const Registry *r) {
        return r->links ? link_monitor_vpns(r->links) : NULL;
}

const char *registry_default_ifname(const Registry *r) {
        return r->links ? link_monitor_default_ifname(r->links) : NULL;
}

const Uplink *registry_physical_default(const Registry *r) {
        return r->links ? link_monitor_physical_default(r->links) : NULL;
}

uint64_t registry_link_generation(const Registry *r) {
        return r->links ? link_monitor_generation(r->links) : 0;
}

bool registry_is_uplink_name(const Registry *r, const char *name) {
        return r->links && link_monitor_is_uplink_name(r->links, name);
}
