/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mcastd's counters as the world sees them. Supervised, each report (ForwarderStatus) lists
 * the pairs the manager told and, per link, for each protocol it carries and each direction:
 *
 *   <proto>_<dir>_forwarded       always (in: datagrams accepted; out: copies sent)
 *   <proto>_<dir>_rate_limited    when not 0
 *   <proto>_<dir>_dropped         when not 0, all reasons
 *   <proto>_<dir>_drop_<reason>   each reason that is not 0 (mcast-drop.h's names, '-'
 *                                 written '_')
 *   waiting                       1 for a link the kernel does not have (yet)
 *
 * with <proto> mdns, ssdp or broadcast and <dir> in or out, plus for the process ("" as
 * the link) unknown_link, reply_sockets and reply_sockets_refused when not 0. Standalone,
 * SIGUSR1 and --stats print mcast_fwd_dump()'s text.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mcastd.h"

typedef Patchpanel__Ipc__ForwarderCounter ForwarderCounter;

typedef struct NamedCounter {
        ForwarderCounter counter;
        char name[64];
} NamedCounter;

typedef struct StatusStore {
        ForwarderLink **links;
        ForwarderCounter **counter_ptrs;
        NamedCounter *counters;
        size_t n_counters, n_alloc;
} StatusStore;

static StatusStore store;

static void counter_add(const char *link, const char *name, uint64_t value) {
        NamedCounter *c;

        if (store.n_counters == store.n_alloc) {
                size_t n = store.n_alloc ? store.n_alloc * 2 : 64;
                NamedCounter *a = reallocarray(store.counters, n, sizeof *a);

                if (!a)
                        return;
                store.counters = a;
                store.n_alloc = n;
        }
        c = &store.counters[store.n_counters++];
        patchpanel__ipc__forwarder_counter__init(&c->counter);
        snprintf(c->name, sizeof c->name, "%s", name);
        for (char *p = c->name; *p; p++)
                if (*p == '-')
                        *p = '_';
        c->counter.link = (char *) link;
        c->counter.value = value;
}

static unsigned proto_services(McastProto p) {
        return mcast_service_bit(p, AF_INET) | mcast_service_bit(p, AF_INET6);
}

static void link_counters(const Mcastd *m, const McLink *l) {
        char name[64];

        if (l->ifindex <= 0) {
                counter_add(l->name, "waiting", 1);
                return;
        }
        for (McastProto p = 0; p < _MCAST_PROTO_MAX; p++) {
                if (!(l->services & proto_services(p)))
                        continue;
                for (McastDir d = 0; d < _MCAST_DIR_MAX; d++) {
                        const char *ps = mcast_proto_to_string(p), *ds = mcast_dir_to_string(d);
                        McastCounters c;
                        uint64_t dropped;

                        if (mcast_fwd_get_counters(m->fwd, l->ifindex, p, d, &c) < 0)
                                continue;
                        snprintf(name, sizeof name, "%s_%s_forwarded", ps, ds);
                        counter_add(l->name, name, c.forwarded);
                        if (c.rate_limited > 0) {
                                snprintf(name, sizeof name, "%s_%s_rate_limited", ps, ds);
                                counter_add(l->name, name, c.rate_limited);
                        }
                        dropped = mcast_counters_dropped(&c);
                        if (dropped == 0)
                                continue;
                        snprintf(name, sizeof name, "%s_%s_dropped", ps, ds);
                        counter_add(l->name, name, dropped);
                        for (McastDrop r = 0; r < _MCAST_DROP_MAX; r++)
                                if (c.dropped[r] > 0) {
                                        snprintf(name, sizeof name, "%s_%s_drop_%s", ps, ds,
                                                 mcast_drop_to_string(r));
                                        counter_add(l->name, name, c.dropped[r]);
                                }
                }
        }
}

void mcastd_status(ForwarderStatus *ret, void *userdata) {
        Mcastd *m = userdata;
        size_t n_pairs = 0, i = 0;

        store.n_counters = 0;
        LIST_FOREACH(pairs, p, m->pairs)
                n_pairs++;
        free(store.links);
        store.links = calloc(n_pairs ?: 1, sizeof *store.links);
        if (store.links) {
                LIST_FOREACH(pairs, p, m->pairs)
                        store.links[i++] = &p->link;
                ret->links = store.links;
                ret->n_links = i;
        }
        LIST_FOREACH(links, l, m->links)
                link_counters(m, l);
        if (mcast_fwd_unknown_link(m->fwd) > 0)
                counter_add("", "unknown_link", mcast_fwd_unknown_link(m->fwd));
        if (m->n_proxies > 0)
                counter_add("", "reply_sockets", m->n_proxies);
        if (m->reply_sockets_refused > 0)
                counter_add("", "reply_sockets_refused", m->reply_sockets_refused);

        free(store.counter_ptrs);
        store.counter_ptrs = calloc(store.n_counters ?: 1, sizeof *store.counter_ptrs);
        if (!store.counter_ptrs)
                return;
        for (size_t k = 0; k < store.n_counters; k++) {
                store.counters[k].counter.name = store.counters[k].name;
                store.counter_ptrs[k] = &store.counters[k].counter;
        }
        ret->counters = store.counter_ptrs;
        ret->n_counters = store.n_counters;
}

void mcastd_status_done(ForwarderStatus *st, void *userdata) {
        (void) st;
        (void) userdata;
        free(store.links);
        store.links = NULL;
        free(store.counter_ptrs);
        store.counter_ptrs = NULL;
}

void mcastd_dump(const Mcastd *m, FILE *out) {
        LIST_FOREACH(links, l, m->links) {
                fprintf(out, "%s %s", l->name, mcast_role_to_string(l->role));
                if (l->uplink)
                        fprintf(out, " behind %s", l->uplink->name);
                if (l->ifindex > 0)
                        fprintf(out, ": ifindex %d, services 0x%x\n", l->ifindex, l->services);
                else
                        fprintf(out, ": waiting for the link\n");
        }
        (void) mcast_fwd_dump(m->fwd, out);
        if (m->reply_sockets_refused > 0)
                fprintf(out, "legacy queries sent without a way back: %" PRIu64 "\n",
                        m->reply_sockets_refused);
        fflush(out);
}
