/* SPDX-License-Identifier: BSD-3-Clause */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forwarders.h"
#include "ipc.h"
#include "log.h"

typedef Patchpanel__Ipc__ForwarderControl ForwarderControl;
typedef Patchpanel__Ipc__ForwarderReport ForwarderReport;
typedef Patchpanel__Ipc__ForwarderLink ForwarderLink;

/* Which guest links a kind serves, and behind which uplinks (NULL: any). */
typedef bool (*ForwarderWantsFn)(const GuestLink *l);
/* Whether a kind serves links behind this uplink. */
typedef bool (*ForwarderUplinkFn)(const Uplink *u);

/* One guest link behind one uplink, as told to a forwarder. */
typedef struct Pair Pair;
struct Pair {
        char guest[IFNAMSIZ];
        int guest_ifindex;
        char uplink[IFNAMSIZ];
        int uplink_ifindex;
        GuestKind kind;
        Subnet subnet;
        uint32_t guest_addr;
        uint32_t cid;
        bool keep; /* still wanted, while comparing */
        LIST_FIELDS(Pair, pairs);
};

typedef struct Forwarder Forwarder;
struct Forwarder {
        Forwarders *owner;
        const char *name;
        ChildKind kind;
        ForwarderWantsFn wants;
        bool no_uplink;      /* its links are not served behind an uplink (adb-proxy) */
        /* Sends what it must know before any link (NULL: nothing). */
        int (*configure)(Forwarder *f);
        ForwarderUplinkFn uplink_ok;  /* behind which uplinks it serves (NULL: any) */
        ForwarderUplinkFn default_ok; /* which physical default it follows (NULL: any) */
        ForwarderHooks hooks;
        Child *child;
        Pair *told;          /* what the running child has been told */
        /* told is exactly what the registry wants (the last full sync completed and every
         * change since was applied): a guest link's coming or going can be applied alone. */
        bool in_step;
        uint8_t *status;     /* its last ForwarderStatus, packed */
        size_t status_len;
};

#define FORWARDERS_MAX 8

struct Forwarders {
        sd_event *event;
        Registry *registry;
        LauncherLink *launcher;
        ForwardersConfig config;
        Forwarder fwd[FORWARDERS_MAX];
        size_t n_fwd;
        bool stopping;
};

static bool wants_every_guest_link(const GuestLink *l) {
        return !l->management;
}

/* adb-proxy: ARC's own link, while ARC runs. */
static bool wants_arc_management(const GuestLink *l) {
        return l->management && (l->kind == GUEST_ARC || l->kind == GUEST_ARCVM);
}

static int adb_proxy_configure(Forwarder *f) {
        const AdbProxyOptions *o = &f->owner->config.adb;
        Patchpanel__Ipc__AdbProxyConfig config = PATCHPANEL__IPC__ADB_PROXY_CONFIG__INIT;
        ForwarderControl msg = PATCHPANEL__IPC__FORWARDER_CONTROL__INIT;

        config.socket_path = (char *) o->socket_path;
        config.max_connections = o->max_connections;
        config.idle_timeout_sec = o->idle_timeout_sec;
        msg.msg_case = PATCHPANEL__IPC__FORWARDER_CONTROL__MSG_ADB_CONFIG;
        msg.adb_config = &config;
        return child_send(f->child, &msg.base, NULL, 0);
}

/* RATE_LIMIT_PROTOCOLS' order is the IPC enum's, after its UNSPECIFIED. */
static_assert(RATE_LIMIT_N_PROTOCOLS == 3 &&
              PATCHPANEL__IPC__MCAST_PROTOCOL__MCAST_PROTOCOL_MDNS == 1 &&
              PATCHPANEL__IPC__MCAST_PROTOCOL__MCAST_PROTOCOL_SSDP == 2 &&
              PATCHPANEL__IPC__MCAST_PROTOCOL__MCAST_PROTOCOL_BROADCAST == 3,
              "mdns, ssdp, broadcast");

/* mcastd's rate limits, when the command line set any. */
static int mcast_configure(Forwarder *f) {
        const ForwardersConfig *c = &f->owner->config;
        Patchpanel__Ipc__McastRate rates[RATE_LIMIT_N_PROTOCOLS];
        Patchpanel__Ipc__McastRate *list[RATE_LIMIT_N_PROTOCOLS];
        Patchpanel__Ipc__McastConfig config = PATCHPANEL__IPC__MCAST_CONFIG__INIT;
        ForwarderControl msg = PATCHPANEL__IPC__FORWARDER_CONTROL__INIT;

        for (size_t p = 0; p < RATE_LIMIT_N_PROTOCOLS; p++) {
                if (!c->mcast_rates.set[p])
                        continue;
                patchpanel__ipc__mcast_rate__init(&rates[config.n_rates]);
                /* The IPC enum is the protocols' order, after its UNSPECIFIED. */
                rates[config.n_rates].protocol = (Patchpanel__Ipc__McastProtocol) (p + 1);
                rates[config.n_rates].per_sec = c->mcast_rates.rate[p].per_sec;
                rates[config.n_rates].burst = c->mcast_rates.rate[p].burst;
                list[config.n_rates] = &rates[config.n_rates];
                config.n_rates++;
        }
        if (config.n_rates == 0)
                return 0;
        config.rates = list;
        msg.msg_case = PATCHPANEL__IPC__FORWARDER_CONTROL__MSG_MCAST_CONFIG;
        msg.mcast_config = &config;
        return child_send(f->child, &msg.base, NULL, 0);
}

/* mcastd (reference §8.2, §8.3): ARC's link on every uplink, and the VMs' links, which
 * follow the physical default uplink. */
static bool mcast_wants(const GuestLink *l) {
        switch (l->kind) {
        case GUEST_ARC:
        case GUEST_ARCVM:
                return l->device && !l->management && l->uplink[0];
        case GUEST_TERMINA:
        case GUEST_PLUGINVM:
                return true;
        default:
                return false;
        }
}

/* ndproxyd: every guest's link to an uplink (ARC's per-uplink links; Termina, PluginVM and
 * connected namespaces), never ARC's own; behind ethernet or wifi only, as the original
 * (a cellular carrier's /64 is the host's alone). mcastd: the VMs' multicast only while the
 * default is ethernet or wifi, as the original. */
static bool uplink_is_ethernet_or_wifi(const Uplink *u) {
        return u->technology == UPLINK_ETHERNET || u->technology == UPLINK_WIFI;
}

static Patchpanel__Ipc__GuestKind guest_kind_to_ipc(GuestKind k) {
        /* The IPC enum is ours in the same order, after its UNSPECIFIED. */
        return (Patchpanel__Ipc__GuestKind) (k + 1);
}

static void pair_to_ipc(const Pair *p, ForwarderLink *ret) {
        patchpanel__ipc__forwarder_link__init(ret);
        ret->uplink = (char *) p->uplink;
        ret->uplink_ifindex = p->uplink_ifindex;
        ret->guest = (char *) p->guest;
        ret->guest_ifindex = p->guest_ifindex;
        ret->guest_kind = guest_kind_to_ipc(p->kind);
        ret->guest_ipv4 = p->guest_addr;
        ret->prefix_len = p->subnet.prefix_len;
        ret->cid = p->cid;
}

static int forwarder_tell(Forwarder *f, const Pair *p, bool add) {
        ForwarderControl msg = PATCHPANEL__IPC__FORWARDER_CONTROL__INIT;
        ForwarderLink link;
        int r;

        pair_to_ipc(p, &link);
        if (add) {
                if (f->hooks.pair_added)
                        f->hooks.pair_added(&link, f->hooks.userdata);
                if (f->hooks.link_fill)
                        f->hooks.link_fill(&link, f->hooks.userdata);
                msg.msg_case = PATCHPANEL__IPC__FORWARDER_CONTROL__MSG_LINK_ADD;
                msg.link_add = &link;
        } else {
                if (f->hooks.pair_removed)
                        f->hooks.pair_removed(&link, f->hooks.userdata);
                msg.msg_case = PATCHPANEL__IPC__FORWARDER_CONTROL__MSG_LINK_REMOVE;
                msg.link_remove = &link;
        }
        r = child_send(f->child, &msg.base, NULL, 0);
        if (add && f->hooks.link_done)
                f->hooks.link_done(&link, f->hooks.userdata);
        return r;
}

/* The pair a guest link makes, if the forwarder serves it and it has an uplink to be
 * served behind. */
static bool forwarder_pair_of(Forwarder *f, const GuestLink *l, Pair *ret) {
        const Uplink *u = NULL;

        if (!f->wants(l))
                return false;
        *ret = (Pair) { .guest_ifindex = l->ifindex, .kind = l->kind, .subnet = l->subnet,
                        .guest_addr = l->guest_addr, .cid = l->cid };
        snprintf(ret->guest, sizeof ret->guest, "%s", l->ifname);
        /* Served whatever the uplinks do: a change of default route changes nothing. */
        if (f->no_uplink)
                return true;
        if (l->uplink[0]) {
                if (f->uplink_ok) {
                        u = registry_find_uplink(f->owner->registry, l->uplink);
                        if (!u || !f->uplink_ok(u))
                                return false;
                }
                snprintf(ret->uplink, sizeof ret->uplink, "%s", l->uplink);
                ret->uplink_ifindex = l->uplink_ifindex;
                return true;
        }
        u = registry_physical_default(f->owner->registry);
        if (!u || (f->default_ok && !f->default_ok(u)) || (f->uplink_ok && !f->uplink_ok(u)))
                return false;
        snprintf(ret->uplink, sizeof ret->uplink, "%s", u->name);
        ret->uplink_ifindex = u->ifindex;
        return true;
}

static bool pair_equal(const Pair *a, const Pair *b) {
        /* The ifindex first: it tells most pairs apart without a string compare. */
        return a->guest_ifindex == b->guest_ifindex && strcmp(a->guest, b->guest) == 0 &&
               strcmp(a->uplink, b->uplink) == 0 && a->uplink_ifindex == b->uplink_ifindex &&
               a->kind == b->kind && a->subnet.base == b->subnet.base &&
               a->subnet.prefix_len == b->subnet.prefix_len && a->guest_addr == b->guest_addr &&
               a->cid == b->cid;
}

static void forwarder_forget_told(Forwarder *f) {
        f->in_step = false;
        while (f->told) {
                Pair *p = f->told;
                LIST_REMOVE(pairs, f->told, p);
                free(p);
        }
}

/* Bring what the child knows in step with the registry: removals first, then additions. */
static void forwarder_sync(Forwarder *f) {
        bool failed = false;
        Pair want;

        f->in_step = false;
        if (child_state(f->child) != CHILD_RUNNING)
                return;
        LIST_FOREACH(pairs, p, f->told)
                p->keep = false;
        for (GuestLink *l = registry_guests(f->owner->registry); l; l = l->guests_next) {
                if (!forwarder_pair_of(f, l, &want))
                        continue;
                LIST_FOREACH(pairs, p, f->told)
                        if (!p->keep && pair_equal(p, &want)) {
                                p->keep = true;
                                break;
                        }
        }
        LIST_FOREACH_SAFE(pairs, p, next, f->told)
                if (!p->keep) {
                        (void) forwarder_tell(f, p, false);
                        LIST_REMOVE(pairs, f->told, p);
                        free(p);
                }
        for (GuestLink *l = registry_guests(f->owner->registry); l; l = l->guests_next) {
                bool known = false;
                Pair *p;

                if (!forwarder_pair_of(f, l, &want))
                        continue;
                LIST_FOREACH(pairs, t, f->told)
                        if (pair_equal(t, &want)) {
                                known = true;
                                break;
                        }
                if (known)
                        continue;
                p = malloc(sizeof *p);
                if (!p) {
                        log_error("%s: out of memory for the link %s", f->name, l->ifname);
                        failed = true;
                        continue;
                }
                *p = want;
                LIST_PREPEND(pairs, f->told, p);
                if (forwarder_tell(f, p, true) < 0)
                        return; /* it is gone; the restart tells it all again */
        }
        f->in_step = !failed;
}

/*
 * A guest link came (@added) or went, and nothing else changed. Of what a full sync
 * compares, only that link's pair can differ from what the forwarder was told: the other
 * links' pairs depend on themselves and the uplinks only. So only it is looked at, instead
 * of every guest link against every pair told (with a thousand connected namespaces that
 * full comparison per connect was most of the manager's CPU). A forwarder not known to be
 * in step gets the full sync.
 */
static void forwarder_guest_changed(Forwarder *f, const GuestLink *l, bool added) {
        Pair want, *p;

        if (!f->in_step || child_state(f->child) != CHILD_RUNNING) {
                forwarder_sync(f);
                return;
        }
        if (!added) {
                /* Out of the registry already; guest links are kernel links of one
                 * namespace, so no other one has its name and ifindex. */
                LIST_FOREACH_SAFE(pairs, t, next, f->told)
                        if (t->guest_ifindex == l->ifindex && strcmp(t->guest, l->ifname) == 0) {
                                (void) forwarder_tell(f, t, false);
                                LIST_REMOVE(pairs, f->told, t);
                                free(t);
                        }
                return;
        }
        if (!forwarder_pair_of(f, l, &want))
                return;
        LIST_FOREACH(pairs, t, f->told)
                if (pair_equal(t, &want))
                        return;
        p = malloc(sizeof *p);
        if (!p) {
                log_error("%s: out of memory for the link %s", f->name, l->ifname);
                f->in_step = false;
                return;
        }
        *p = want;
        LIST_PREPEND(pairs, f->told, p);
        if (forwarder_tell(f, p, true) < 0)
                f->in_step = false; /* it is gone; the restart tells it all again */
}

static void forwarders_sync(Forwarders *fs) {
        if (fs->stopping)
                return;
        for (size_t i = 0; i < fs->n_fwd; i++)
                forwarder_sync(&fs->fwd[i]);
}

static int forwarder_spawn(Child *c, int control, void *userdata) {
        Forwarder *f = userdata;
        return launcher_link_spawn(f->owner->launcher, f->kind, control, c);
}

static void forwarder_on_ready(Child *c, void *userdata) {
        Forwarder *f = userdata;

        log_info("%s is up (pid %d)", f->name, (int) child_pid(c));
        /* A new process knows nothing: tell it everything, its configuration first. */
        forwarder_forget_told(f);
        if (f->configure && f->configure(f) < 0)
                return; /* it is gone; the restart tells it all again */
        forwarder_sync(f);
}

static void forwarder_on_event(Child *c, const ProtobufCMessage *msg, int *fds, size_t n_fds,
                               void *userdata) {
        const ForwarderReport *ev = (const ForwarderReport *) msg;
        Forwarder *f = userdata;
        uint8_t *buf;
        size_t len;

        (void) fds;
        if (n_fds != 0) {
                log_warning("%s sent fds with an event, ignoring it", f->name);
                return;
        }
        switch (ev->msg_case) {
        case PATCHPANEL__IPC__FORWARDER_REPORT__MSG_HELLO:
                if (ev->hello->kind != f->kind) {
                        log_error("%s says it is kind %d: ending it", f->name, (int) ev->hello->kind);
                        channel_close(child_channel(c));
                        return;
                }
                child_set_ready(c);
                break;
        case PATCHPANEL__IPC__FORWARDER_REPORT__MSG_STATE:
                len = protobuf_c_message_get_packed_size(&ev->state->base);
                buf = malloc(len ?: 1);
                if (!buf)
                        return;
                protobuf_c_message_pack(&ev->state->base, buf);
                free(f->status);
                f->status = buf;
                f->status_len = len;
                break;
        default:
                if (f->hooks.report) {
                        f->hooks.report(ev, f->hooks.userdata);
                        break;
                }
                log_warning("%s sent an unknown event %d, ignoring it", f->name, (int) ev->msg_case);
        }
}

static void forwarder_on_down(Child *c, const char *why, void *userdata) {
        Forwarder *f = userdata;

        (void) c;
        log_error("%s is not restarted any more (%s): its forwarding is off until patchpaneld "
                  "restarts", f->name, why);
        forwarder_forget_told(f);
}

static void on_guest_added(const GuestLink *l, void *userdata) {
        Forwarders *fs = userdata;

        if (fs->stopping)
                return;
        for (size_t i = 0; i < fs->n_fwd; i++)
                forwarder_guest_changed(&fs->fwd[i], l, true);
}

static void on_guest_removed(const GuestLink *l, void *userdata) {
        Forwarders *fs = userdata;

        if (fs->stopping)
                return;
        for (size_t i = 0; i < fs->n_fwd; i++)
                forwarder_guest_changed(&fs->fwd[i], l, false);
}

static void on_uplink_changed(Uplink *u, void *userdata) {
        (void) u;
        forwarders_sync(userdata);
}

static void on_default_changed(const char *old, const char *new, void *userdata) {
        (void) old;
        (void) new;
        forwarders_sync(userdata);
}

static const RegistrySubscriber forwarders_subscriber = {
        .guest_added = on_guest_added,
        .guest_removed = on_guest_removed,
        .uplink_added = on_uplink_changed,
        .uplink_removed = on_uplink_changed,
        .default_changed = on_default_changed,
};

static int forwarders_add(Forwarders *fs, const char *name, ChildKind kind, ForwarderWantsFn wants,
                          ForwarderUplinkFn uplink_ok) {
        Forwarder *f = &fs->fwd[fs->n_fwd];
        ChildConfig config = {
                .name = name,
                .policy = CHILD_POLICY_RESTART,
                .backoff = fs->config.backoff,
                .send = &patchpanel__ipc__forwarder_control__descriptor,
                .recv = &patchpanel__ipc__forwarder_report__descriptor,
                .spawn = forwarder_spawn,
                .on_ready = forwarder_on_ready,
                .on_event = forwarder_on_event,
                .on_down = forwarder_on_down,
                .userdata = f,
        };

        if (fs->n_fwd >= FORWARDERS_MAX)
                return -E2BIG;
        *f = (Forwarder) { .owner = fs, .name = name, .kind = kind, .wants = wants,
                           .uplink_ok = uplink_ok };
        fs->n_fwd++;
        return child_new(fs->event, &config, &f->child);
}

int forwarders_new(sd_event *e, Registry *registry, LauncherLink *launcher,
                   const ForwardersConfig *config, Forwarders **ret) {
        _cleanup_(forwarders_freep) Forwarders *fs = NULL;
        int r;

        fs = calloc(1, sizeof *fs);
        if (!fs)
                return -ENOMEM;
        *fs = (Forwarders) { .event = sd_event_ref(e), .registry = registry, .launcher = launcher,
                             .config = *config };
        if (fs->config.backoff.max_failures == 0)
                fs->config.backoff = child_backoff_default;
        if (config->test_child) {
                r = forwarders_add(fs, "pp-testchild", PATCHPANEL__IPC__CHILD_KIND__CHILD_KIND_TEST,
                                   wants_every_guest_link, NULL);
                if (r < 0)
                        return r;
        }
        if (config->ndproxy) {
                r = forwarders_add(fs, "ndproxyd", PATCHPANEL__IPC__CHILD_KIND__CHILD_KIND_NDPROXY,
                                   wants_every_guest_link, uplink_is_ethernet_or_wifi);
                if (r < 0)
                        return r;
        }
        if (config->adb.enabled) {
                r = forwarders_add(fs, "adb-proxy", PATCHPANEL__IPC__CHILD_KIND__CHILD_KIND_ADBPROXY,
                                   wants_arc_management, NULL);
                if (r < 0)
                        return r;
                fs->fwd[fs->n_fwd - 1].no_uplink = true;
                fs->fwd[fs->n_fwd - 1].configure = adb_proxy_configure;
        }
        if (config->mcast) {
                r = forwarders_add(fs, "mcastd", PATCHPANEL__IPC__CHILD_KIND__CHILD_KIND_MCAST,
                                   mcast_wants, NULL);
                if (r < 0)
                        return r;
                fs->fwd[fs->n_fwd - 1].default_ok = uplink_is_ethernet_or_wifi;
                fs->fwd[fs->n_fwd - 1].configure = mcast_configure;
        }
        r = registry_subscribe(registry, &forwarders_subscriber, fs);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(fs);
        return 0;
}

Forwarders *forwarders_free(Forwarders *fs) {
        if (!fs)
                return NULL;
        for (size_t i = 0; i < fs->n_fwd; i++) {
                Forwarder *f = &fs->fwd[i];
                child_free(f->child);
                forwarder_forget_told(f);
                free(f->status);
        }
        sd_event_unref(fs->event);
        free(fs);
        return NULL;
}

/* The enabled forwarder of @kind, or NULL. */
static Forwarder *forwarder_of(Forwarders *fs, ChildKind kind) {
        for (size_t i = 0; i < fs->n_fwd; i++)
                if (fs->fwd[i].kind == kind)
                        return &fs->fwd[i];
        return NULL;
}

int forwarders_set_hooks(Forwarders *fs, ChildKind kind, const ForwarderHooks *hooks) {
        Forwarder *f = forwarder_of(fs, kind);

        if (!f)
                return -ENOENT;
        f->hooks = *hooks;
        return 0;
}

int forwarders_send(Forwarders *fs, ChildKind kind, const ForwarderControl *msg) {
        Forwarder *f = forwarder_of(fs, kind);

        return f ? child_send(f->child, &msg->base, NULL, 0) : -ENOENT;
}

void forwarders_start(Forwarders *fs) {
        for (size_t i = 0; i < fs->n_fwd; i++)
                (void) child_start(fs->fwd[i].child);
}

void forwarders_stop(Forwarders *fs) {
        fs->stopping = true;
        for (size_t i = 0; i < fs->n_fwd; i++)
                child_stop(fs->fwd[i].child, 0, NULL, NULL);
}

void forwarders_on_exit(Forwarders *fs, pid_t pid, int code, int status) {
        for (size_t i = 0; i < fs->n_fwd; i++)
                child_note_exit(fs->fwd[i].child, pid, code, status);
}

void forwarders_foreach(const Forwarders *fs, ForwarderVisitFn fn, void *userdata) {
        for (size_t i = 0; i < fs->n_fwd; i++) {
                const Forwarder *f = &fs->fwd[i];
                ChildInfo info;

                child_info(f->child, &info);
                fn(f->name, &info, f->status, f->status_len, userdata);
        }
}
