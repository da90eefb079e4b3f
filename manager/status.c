/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GetStatus on org.chromium.PatchPanel.Status: a read-only snapshot of what the daemon
 * manages (uplinks, guests, connected namespaces, pools) as one JSON document, for
 * `patchpanel-cli status` and for people debugging a host. Not part of the original API.
 *
 * Its size does not grow with the number of connected namespaces: it carries the first
 * STATUS_NAMESPACES_PAGE_MAX of them and their total, and ListConnectedNamespaces gives
 * the rest a page at a time. A thousand namespaces made a 205 KB document, and carrying
 * it through dbus-daemon alone cost twice what a small one did (test/bench/FLOOR.md §6).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc.h"
#include "bus.h"
#include "bus-pid.h"
#include "coexist.h"
#include "connected-ns.h"
#include "log.h"
#include "port-rules.h"
#include "status.h"
#include "vm.h"

/*
 * The document is written into one growing buffer, by copies: no stdio stream, no
 * per-character calls. A write that finds no memory marks the buffer failed and the rest
 * write nothing; manager_status_json() then fails with -ENOMEM.
 *
 * It is valid UTF-8 by construction (D-Bus strings must be, and the reply goes out without
 * sd-bus scanning it again): everything but json_string() writes ASCII, and json_string()
 * writes a byte that does not start a well-formed UTF-8 sequence (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF) as U+FFFD. Names that reach the status
 * from outside (nftables tables, forwarders' reports) can hold any bytes.
 */
typedef struct Json {
        char *buf;
        size_t len, cap;
        bool failed;
        bool first; /* no comma before the next member */
} Json;

static bool json_reserve(Json *j, size_t n) {
        size_t cap;
        char *b;

        if (j->failed)
                return false;
        if (n <= j->cap - j->len)
                return true;
        cap = j->cap ? j->cap : 256;
        while (cap - j->len < n) {
                if (cap > SIZE_MAX / 2) {
                        j->failed = true;
                        return false;
                }
                cap *= 2;
        }
        b = realloc(j->buf, cap);
        if (!b) {
                j->failed = true;
                return false;
        }
        j->buf = b;
        j->cap = cap;
        return true;
}

static void json_put(Json *j, const char *s, size_t n) {
        if (!json_reserve(j, n))
                return;
        memcpy(j->buf + j->len, s, n);
        j->len += n;
}

static void json_putc(Json *j, char c) {
        if (!json_reserve(j, 1))
                return;
        j->buf[j->len++] = c;
}

static void json_puts(Json *j, const char *s) {
        json_put(j, s, strlen(s));
}

/* The length of the well-formed UTF-8 sequence of a non-ASCII character at @s (2 to 4),
 * or 0 if there is none. @s is NUL-terminated, so no check reads past its end. */
static size_t utf8_sequence(const unsigned char *s) {
        unsigned char lo = 0x80, hi = 0xbf;
        size_t n;

        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                n = 2;
        else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                n = 3;
                if (s[0] == 0xe0)
                        lo = 0xa0; /* overlong below */
                else if (s[0] == 0xed)
                        hi = 0x9f; /* surrogates above */
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                n = 4;
                if (s[0] == 0xf0)
                        lo = 0x90; /* overlong below */
                else if (s[0] == 0xf4)
                        hi = 0x8f; /* above U+10FFFF */
        } else
                return 0;
        if (s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < n; i++)
                if (s[i] < 0x80 || s[i] > 0xbf)
                        return 0;
        return n;
}

static void json_string(Json *j, const char *str) {
        const unsigned char *s = (const unsigned char *) (str ?: ""), *run = s;

        json_putc(j, '"');
        while (*s) {
                char esc[8];
                size_t n;

                if (*s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\') {
                        s++;
                        continue;
                }
                if (*s >= 0x80 && (n = utf8_sequence(s)) > 0) {
                        s += n;
                        continue;
                }
                /* What came before, as it is; then the escape. */
                json_put(j, (const char *) run, (size_t) (s - run));
                if (*s == '"' || *s == '\\')
                        snprintf(esc, sizeof esc, "\\%c", *s);
                else if (*s < 0x20)
                        snprintf(esc, sizeof esc, "\\u%04x", *s);
                else
                        snprintf(esc, sizeof esc, "\\ufffd");
                json_puts(j, esc);
                run = ++s;
        }
        json_put(j, (const char *) run, (size_t) (s - run));
        json_putc(j, '"');
}

static void json_sep(Json *j) {
        if (!j->first)
                json_putc(j, ',');
        j->first = false;
}

static void json_key(Json *j, const char *key) {
        json_sep(j);
        json_string(j, key);
        json_putc(j, ':');
}

static void json_open(Json *j, const char *key, char c) {
        if (key)
                json_key(j, key);
        else
                json_sep(j);
        json_putc(j, c);
        j->first = true;
}

static void json_close(Json *j, char c) {
        json_putc(j, c);
        j->first = false;
}

static void json_str(Json *j, const char *key, const char *v) {
        json_key(j, key);
        json_string(j, v);
}

_printf_(3, 4) static void json_fmt(Json *j, const char *key, const char *format, ...) {
        char buf[64];
        va_list ap;

        va_start(ap, format);
        vsnprintf(buf, sizeof buf, format, ap);
        va_end(ap);
        json_str(j, key, buf);
}

static void json_int(Json *j, const char *key, long long v) {
        char buf[24];
        int n = snprintf(buf, sizeof buf, "%lld", v);

        json_key(j, key);
        json_put(j, buf, (size_t) n);
}

static void json_bool(Json *j, const char *key, bool v) {
        json_key(j, key);
        json_puts(j, v ? "true" : "false");
}

static void json_subnet(Json *j, const char *key, const Subnet *s) {
        char a[IPV4_STRLEN];
        json_fmt(j, key, "%s/%u", ipv4_to_string(s->base, a), s->prefix_len);
}

static void status_uplinks(Manager *m, Json *j) {
        json_open(j, "uplinks", '[');
        for (const Uplink *u = registry_uplinks(m->registry); u; u = u->uplinks_next) {
                json_open(j, NULL, '{');
                json_str(j, "name", u->name);
                json_int(j, "ifindex", u->ifindex);
                json_str(j, "technology", uplink_technology_to_string(u->technology));
                json_bool(j, "up", u->up);
                json_int(j, "routing_table", 1000 + u->ifindex);
                json_close(j, '}');
        }
        json_close(j, ']');
        json_str(j, "default_interface", registry_default_ifname(m->registry) ?: "");
        json_open(j, "vpn_links", '[');
        for (const VpnLink *v = registry_vpns(m->registry); v; v = v->vpns_next) {
                json_open(j, NULL, '{');
                json_str(j, "name", v->name);
                json_int(j, "ifindex", v->ifindex);
                json_str(j, "kind", v->kind);
                json_close(j, '}');
        }
        json_close(j, ']');
}

/* Whether @viewer sees every guest's details: root does. */
static bool sees_all(uid_t viewer) {
        return viewer == 0;
}

/* Whether the status shows this guest's details to @viewer: its owner and root. */
static bool visible(uid_t owner, uid_t viewer) {
        return sees_all(viewer) || viewer == owner;
}

/*
 * A connected namespace as a JSON object, kept with the namespace: of its fields only the
 * state ever changes (the rest are fixed when it is created), so the text is written again
 * only when the state is not the one it was written for. With a thousand namespaces the
 * document is then mostly copies. NULL when out of memory.
 */
static const char *status_namespace(ConnectedNs *ns, size_t *ret_len) {
        Json j = { .first = true };

        if (ns->status_json && ns->status_json_state == ns->state) {
                *ret_len = ns->status_json_len;
                return ns->status_json;
        }
        json_open(&j, NULL, '{');
        json_int(&j, "pid", ns->pid);
        json_int(&j, "owner_uid", ns->owner);
        json_str(&j, "state", connected_ns_state_to_string(ns->state));
        json_str(&j, "host_ifname", ns->host_ifname);
        json_str(&j, "peer_ifname", ns->peer_ifname);
        json_subnet(&j, "subnet", &ns->subnet);
        json_str(&j, "source", traffic_source_to_string(ns->source));
        json_str(&j, "outbound", ns->outbound_ifname);
        json_bool(&j, "route_on_vpn", ns->route_on_vpn);
        json_close(&j, '}');
        if (j.failed) {
                free(j.buf);
                return NULL;
        }
        free(ns->status_json);
        ns->status_json = j.buf;
        ns->status_json_len = j.len;
        ns->status_json_state = ns->state;
        *ret_len = j.len;
        return ns->status_json;
}

/* How many connected namespaces @viewer sees: all for root, without a walk. */
static unsigned status_namespaces_visible(Manager *m, uid_t viewer) {
        unsigned n = 0;

        if (sees_all(viewer))
                return m->n_namespaces;
        LIST_FOREACH(namespaces, ns, m->namespaces)
                n += visible(ns->owner, viewer);
        return n;
}

/*
 * The member "connected_namespaces": of the namespaces @viewer sees, in the order of the
 * list (the newest first), at most @limit from the @offset-th on. The list is a linked
 * list, so reaching the offset walks the namespaces before it; the walk ends once the page
 * is full. Between two calls namespaces may come (at the front) or go: pages are not a
 * snapshot.
 */
static void status_namespaces_page(Manager *m, Json *j, uid_t viewer, unsigned offset,
                                   unsigned limit) {
        json_open(j, "connected_namespaces", '[');
        for (ConnectedNs *ns = m->namespaces; ns && limit > 0; ns = ns->namespaces_next) {
                const char *frag;
                size_t len;

                if (!visible(ns->owner, viewer))
                        continue;
                if (offset > 0) {
                        offset--;
                        continue;
                }
                frag = status_namespace(ns, &len);
                if (!frag) {
                        j->failed = true;
                        return;
                }
                json_sep(j);
                json_put(j, frag, len);
                limit--;
        }
        json_close(j, ']');
}

static void status_guests(Manager *m, Json *j, uid_t viewer) {
        char a[IPV4_STRLEN];

        json_key(j, "arc");
        if (!m->arc || !visible(m->arc->owner, viewer))
                json_puts(j, "null");
        else {
                Arc *arc = m->arc;
                static const char *const states[] = { "starting", "running", "stopping" };

                json_putc(j, '{');
                j->first = true;
                json_str(j, "kind", arc->kind == ARC_KIND_VM ? "vm" : "container");
                json_str(j, "state", states[arc->state]);
                if (arc->kind == ARC_KIND_VM)
                        json_int(j, "cid", arc->cid);
                else
                        json_int(j, "pid", arc->pid);
                json_int(j, "owner_uid", arc->owner);
                json_open(j, "devices", '[');
                for (GuestLink *l = registry_guests(m->registry); l; l = l->guests_next) {
                        if (!l->device || (l->kind != GUEST_ARC && l->kind != GUEST_ARCVM))
                                continue;
                        json_open(j, NULL, '{');
                        json_str(j, "ifname", l->ifname);
                        json_str(j, "guest_address", ipv4_to_string(l->guest_addr, a));
                        json_subnet(j, "subnet", &l->subnet);
                        json_close(j, '}');
                }
                json_close(j, ']');
                json_close(j, '}');
        }

        json_open(j, "vms", '[');
        LIST_FOREACH(vms, vm, m->vms) {
                static const char *const states[] = { "starting", "running", "stopping" };
                if (!visible(vm->owner, viewer))
                        continue;
                json_open(j, NULL, '{');
                json_str(j, "kind", vm_kind_to_string(vm->kind));
                json_int(j, "id", (long long) vm->id);
                json_int(j, "owner_uid", vm->owner);
                json_str(j, "state", states[vm->state]);
                json_str(j, "tap", vm->tap);
                json_subnet(j, "subnet", &vm->subnet);
                if (vm->lxd.prefix_len)
                        json_subnet(j, "container_subnet", &vm->lxd);
                json_close(j, '}');
        }
        json_close(j, ']');

        status_namespaces_page(m, j, viewer, /* offset= */ 0, STATUS_NAMESPACES_PAGE_MAX);
        json_int(j, "connected_namespaces_total", status_namespaces_visible(m, viewer));
}

/* The neighbours the monitor watches (neighbors.h) and what the kernel says of each. */
static void status_neighbors(Manager *m, Json *j) {
        char a[NEIGHBOR_ADDR_STRLEN];

        json_open(j, "neighbor_monitor", '{');
        json_int(j, "probe_interval_ms",
                 (long long) (neighbors_probe_interval_usec(m->neighbors) / 1000));
        json_str(j, "dns_source", neighbors_dns_source(m->neighbors));
        json_open(j, "neighbors", '[');
        LIST_FOREACH(watches, w, neighbor_table_watches(neighbors_table(m->neighbors))) {
                if (w->role == 0)
                        continue;
                json_open(j, NULL, '{');
                json_str(j, "uplink", w->ifname);
                json_int(j, "ifindex", w->ifindex);
                json_str(j, "address", neighbor_addr_to_string(&w->addr, a));
                json_str(j, "role", neighbor_role_to_string(w->role));
                json_str(j, "state", neighbor_nud_to_string(w->have_entry, w->nud));
                json_bool(j, "failed", w->failed);
                json_close(j, '}');
        }
        json_close(j, ']');
        json_close(j, '}');
}

static void status_pools(Manager *m, Json *j) {
        json_open(j, "pools", '[');
        for (PoolKind k = 0; k < _POOL_KIND_MAX; k++) {
                const PoolConfig *c = pool_get_config(m->pools[k]);
                char buf[48];
                json_open(j, NULL, '{');
                json_str(j, "name", pool_kind_to_string(k));
                json_str(j, "subnets", pool_config_to_string(c, buf, sizeof buf));
                json_int(j, "in_use", pool_n_allocated(m->pools[k]));
                json_close(j, '}');
        }
        json_close(j, ']');
}

/* The first STATUS_RULES_MAX rules: enough to debug with, bounded in size. */
#define STATUS_RULES_MAX 1000u

typedef struct RulesWalk {
        Json *j;
        size_t n;
} RulesWalk;

static void status_rule(const PortRule *rule, bool active, void *userdata) {
        RulesWalk *w = userdata;
        Json *j = w->j;
        char a[IPV4_STRLEN];

        if (w->n++ >= STATUS_RULES_MAX)
                return;
        json_open(j, NULL, '{');
        json_str(j, "type", port_rule_type_to_string(rule->key.type));
        json_str(j, "proto", port_proto_to_string(rule->key.proto));
        json_str(j, "ifname", rule->key.ifname);
        json_int(j, "port", rule->key.port);
        if (rule->key.input_dst_ip)
                json_str(j, "input_dst_ip", ipv4_to_string(rule->key.input_dst_ip, a));
        if (rule->key.type == PORT_RULE_FORWARDING) {
                json_str(j, "dst_ip", ipv4_to_string(rule->dst_ip, a));
                json_int(j, "dst_port", rule->dst_port);
        }
        json_bool(j, "active", active);
        json_close(j, '}');
}

static void status_firewall(Manager *m, Json *j) {
        RulesWalk w = { .j = j };
        char fix[2048];

        json_open(j, "firewall", '{');
        json_bool(j, "ingress_firewall", m->config.ingress_firewall);
        json_int(j, "lockdown_uid", m->config.lockdown_uid);
        json_int(j, "port_rules_count", (long long) port_rules_count(m->port_rules));
        json_open(j, "port_rules", '[');
        port_rules_foreach(m->port_rules, status_rule, &w);
        json_close(j, ']');
        json_str(j, "vpn_bypass_uplink", m->vpn_bypass_ifname);
        json_open(j, "foreign_drops", '[');
        for (size_t i = 0; i < m->n_foreign_drops; i++) {
                const ForeignDrop *d = &m->foreign_drops[i];
                json_open(j, NULL, '{');
                json_str(j, "family", d->family);
                json_str(j, "table", d->table);
                json_str(j, "chain", d->chain);
                json_str(j, "hook", d->hook);
                json_int(j, "priority", d->priority);
                json_str(j, "fix", foreign_drop_fix(d, fix, sizeof fix));
                json_close(j, '}');
        }
        json_close(j, ']');
        json_close(j, '}');
}

static void status_child(Json *j, const ChildInfo *info) {
        json_str(j, "name", info->name);
        json_str(j, "state", child_state_to_string(info->state));
        json_int(j, "pid", info->pid);
        json_int(j, "starts", info->starts);
        json_int(j, "failures_in_a_row", info->failures);
        json_int(j, "restart_in_ms", (long long) (info->restart_in_usec / 1000));
        json_str(j, "last_end", info->last_end);
}

/* A forwarder's last report: the links it serves and its counters. */
static void status_forwarder_report(Json *j, const uint8_t *buf, size_t len) {
        Patchpanel__Ipc__ForwarderStatus *st = NULL;

        json_open(j, "links", '[');
        if (buf)
                st = patchpanel__ipc__forwarder_status__unpack(NULL, len, buf);
        for (size_t i = 0; st && i < st->n_links; i++) {
                json_open(j, NULL, '{');
                json_str(j, "guest", st->links[i]->guest);
                json_str(j, "uplink", st->links[i]->uplink);
                json_close(j, '}');
        }
        json_close(j, ']');
        json_open(j, "counters", '[');
        for (size_t i = 0; st && i < st->n_counters; i++) {
                json_open(j, NULL, '{');
                json_str(j, "link", st->counters[i]->link);
                json_str(j, "name", st->counters[i]->name);
                json_int(j, "value", (long long) st->counters[i]->value);
                json_close(j, '}');
        }
        json_close(j, ']');
        if (st)
                patchpanel__ipc__forwarder_status__free_unpacked(st, NULL);
}

static void status_forwarder(const char *kind, const ChildInfo *info, const uint8_t *status,
                             size_t status_len, void *userdata) {
        Json *j = userdata;

        (void) kind;
        json_open(j, NULL, '{');
        status_child(j, info);
        status_forwarder_report(j, status, status_len);
        json_close(j, '}');
}

static void status_children(Manager *m, Json *j) {
        ChildInfo info;

        json_open(j, "children", '[');
        json_open(j, NULL, '{');
        helper_link_info(m->helper, &info);
        status_child(j, &info);
        json_close(j, '}');
        json_open(j, NULL, '{');
        launcher_link_info(m->launcher, &info);
        status_child(j, &info);
        json_close(j, '}');
        forwarders_foreach(m->forwarders, status_forwarder, j);
        json_close(j, ']');
}

/* GetStatus's document into @j, whose text the caller frees (also when a write failed). */
static void status_document(Manager *m, uid_t viewer, Json *j) {
        size_t n = m->n_namespaces < STATUS_NAMESPACES_PAGE_MAX ? m->n_namespaces
                                                                : STATUS_NAMESPACES_PAGE_MAX;

        /* Room for the namespaces it lists at once (~180 bytes each) and the rest. */
        (void) json_reserve(j, 4096 + n * 192);
        json_putc(j, '{');
        json_int(j, "pid", getpid());
        status_uplinks(m, j);
        status_neighbors(m, j);
        status_guests(m, j, viewer);
        status_pools(m, j);
        status_firewall(m, j);
        status_children(m, j);
        json_putc(j, '}');
}

/* A page of ListConnectedNamespaces into @j, as status_document(). */
static void status_namespaces_document(Manager *m, uid_t viewer, unsigned offset,
                                       unsigned limit, Json *j) {
        (void) json_reserve(j, 64 + (size_t) limit * 192);
        json_putc(j, '{');
        json_int(j, "total", status_namespaces_visible(m, viewer));
        json_int(j, "offset", offset);
        status_namespaces_page(m, j, viewer, offset, limit);
        json_putc(j, '}');
}

/* @j's text, NUL-terminated, into *@ret (free()); -ENOMEM if a write failed. */
static int json_take_string(Json *j, char **ret) {
        json_putc(j, 0);
        if (j->failed) {
                free(j->buf);
                return -ENOMEM;
        }
        *ret = TAKE_PTR(j->buf);
        return 0;
}

int manager_status_json(Manager *m, uid_t viewer, char **ret) {
        Json j = { .first = true };

        status_document(m, viewer, &j);
        return json_take_string(&j, ret);
}

int manager_status_namespaces_json(Manager *m, uid_t viewer, unsigned offset, unsigned limit,
                                   char **ret) {
        Json j = { .first = true };

        if (limit == 0 || limit > STATUS_NAMESPACES_PAGE_MAX)
                return -EINVAL;
        status_namespaces_document(m, viewer, offset, limit, &j);
        return json_take_string(&j, ret);
}

/* The document goes into the reply as it is: it is valid UTF-8 by construction (above),
 * so sd-bus need not scan it, nor measure it, again. */
static int status_reply(sd_bus_message *call, const char *json, size_t len) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        char *s;
        int r;

        if (memchr(json, 0, len))
                return -EINVAL; /* cannot happen: no writer puts a NUL */
        r = sd_bus_message_new_method_return(call, &reply);
        if (r >= 0)
                r = sd_bus_message_append_string_space(reply, len, &s);
        if (r < 0)
                return r;
        memcpy(s, json, len);
        return sd_bus_send(NULL, reply, NULL);
}

/* Answer @call with the document written into @j, or with why there is none; frees the
 * text. */
static void status_answer(sd_bus_message *call, Json *j) {
        int r = j->failed ? -ENOMEM : status_reply(call, j->buf, j->len);

        free(j->buf);
        if (r < 0)
                (void) sd_bus_reply_method_errorf(call, PP_ERROR_FAILED, "Cannot build the status: %s",
                                                  strerror(-r));
}

static void status_for_caller(Manager *m, sd_bus_message *call, uid_t uid, void *userdata) {
        Json j = { .first = true };

        (void) userdata;
        status_document(m, uid, &j);
        status_answer(call, &j);
}

int bus_method_get_status(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        /* Guests' details only for their owners (and root): who is asking? */
        return bus_caller_uid(userdata, msg, status_for_caller, NULL, NULL, error);
}

/* The page a ListConnectedNamespaces call asks for, kept while the bus says who asks. */
typedef struct StatusPage {
        unsigned offset, limit;
} StatusPage;

static void status_page_for_caller(Manager *m, sd_bus_message *call, uid_t uid,
                                   void *userdata) {
        const StatusPage *page = userdata;
        Json j = { .first = true };

        status_namespaces_document(m, uid, page->offset, page->limit, &j);
        status_answer(call, &j);
}

int bus_method_list_connected_namespaces(sd_bus_message *msg, void *userdata,
                                         sd_bus_error *error) {
        StatusPage *page;
        uint32_t offset, limit;
        int r;

        r = sd_bus_message_read(msg, "uu", &offset, &limit);
        if (r < 0)
                return r;
        if (limit == 0 || limit > STATUS_NAMESPACES_PAGE_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "limit must be 1 to %u namespaces a page, not %" PRIu32,
                                         STATUS_NAMESPACES_PAGE_MAX, limit);
        page = malloc(sizeof *page);
        if (!page)
                return -ENOMEM;
        *page = (StatusPage) { .offset = offset, .limit = limit };
        /* The same namespaces as GetStatus shows this caller. */
        return bus_caller_uid(userdata, msg, status_page_for_caller, page, free, error);
}
