/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "log.h"
#include "manager.h"
#include "port-rules.h"
#include "service.pb-c.h"

/*
 * A rule is wanted by a client (ModifyPortRule) and/or by the daemon itself (adb-proxy's
 * ACCESS tcp/5555, port_rules_hold()): one nftables element serves both, and it stays
 * while either wants it. At most one request for a rule is with the helper at a time;
 * when it answers, the rule is brought in step with what is wanted by then.
 */
typedef struct Rule Rule;
struct Rule {
        PortRule rule;
        bool client;          /* a client created it (or its CREATE is in flight) */
        bool internal;        /* the daemon holds it */
        bool applied;         /* the element is in the kernel */
        bool busy;            /* a request is with the helper (creating iff !applied) */
        sd_bus_message *call; /* the client's request in flight */
        PortRules *table;
        Rule *next;           /* in its bucket */
};

struct PortRules {
        Manager *manager;     /* for requests made when the helper answers */
        Rule **buckets;
        size_t n_buckets;     /* a power of two */
        size_t n;
};

/* FNV-1a over the key's bytes: the key is zero-padded, so equal keys hash equally. */
static size_t key_hash(const PortRuleKey *k) {
        const uint8_t *p = (const uint8_t *) k;
        uint64_t h = UINT64_C(0xcbf29ce484222325);

        for (size_t i = 0; i < sizeof *k; i++) {
                h ^= p[i];
                h *= UINT64_C(0x100000001b3);
        }
        return (size_t) (h ^ (h >> 32));
}

PortRules *port_rules_new(void) {
        PortRules *t = calloc(1, sizeof *t);

        if (!t)
                return NULL;
        t->n_buckets = 64;
        t->buckets = calloc(t->n_buckets, sizeof *t->buckets);
        if (!t->buckets) {
                free(t);
                return NULL;
        }
        return t;
}

static void rule_free(Rule *r) {
        if (r->call) {
                (void) bus_reply_errno(r->call, -ECANCELED, "The daemon is shutting down");
                sd_bus_message_unref(r->call);
        }
        free(r);
}

PortRules *port_rules_free(PortRules *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_buckets; i++)
                while (t->buckets[i]) {
                        Rule *r = t->buckets[i];
                        t->buckets[i] = r->next;
                        rule_free(r);
                }
        free(t->buckets);
        free(t);
        return NULL;
}

size_t port_rules_count(const PortRules *t) {
        return t->n;
}

void port_rules_foreach(const PortRules *t, void (*fn)(const PortRule *rule, bool active,
                                                       void *userdata), void *userdata) {
        for (size_t i = 0; i < t->n_buckets; i++)
                for (Rule *r = t->buckets[i]; r; r = r->next)
                        fn(&r->rule, r->applied && !r->busy, userdata);
}

static Rule **rule_slot(PortRules *t, const PortRuleKey *k) {
        Rule **p = &t->buckets[key_hash(k) & (t->n_buckets - 1)];

        while (*p && memcmp(&(*p)->rule.key, k, sizeof *k) != 0)
                p = &(*p)->next;
        return p;
}

/* Keep at most two rules per bucket on average. */
static void rules_grow(PortRules *t) {
        size_t n = t->n_buckets * 2;
        Rule **b;

        if (t->n < t->n_buckets * 2)
                return;
        b = calloc(n, sizeof *b);
        if (!b)
                return; /* still correct, only slower */
        for (size_t i = 0; i < t->n_buckets; i++)
                while (t->buckets[i]) {
                        Rule *r = t->buckets[i];
                        size_t j = key_hash(&r->rule.key) & (n - 1);
                        t->buckets[i] = r->next;
                        r->next = b[j];
                        b[j] = r;
                }
        free(t->buckets);
        t->buckets = b;
        t->n_buckets = n;
}

static void rule_unlink(Rule *r) {
        Rule **p = rule_slot(r->table, &r->rule.key);

        if (*p == r) {
                *p = r->next;
                r->table->n--;
        }
}

static int reply_success(sd_bus_message *call, bool success) {
        Patchpanel__ModifyPortRuleResponse resp = PATCHPANEL__MODIFY_PORT_RULE_RESPONSE__INIT;

        resp.success = success;
        return bus_reply_proto(call, &resp.base);
}

static int send_rule(Manager *m, Rule *r, bool create);

/* Neither wanted nor in the kernel: out of the table. */
static void rule_maybe_drop(Rule *r) {
        if (r->client || r->internal || r->applied || r->busy)
                return;
        rule_unlink(r);
        free(r);
}

static void on_rule_applied(const HelperResponse *resp, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        Rule *r = userdata;
        Manager *m;
        char text[128];
        bool create = !r->applied, ok = resp->status >= 0;

        call = TAKE_PTR(r->call);
        r->busy = false;
        port_rule_to_string(&r->rule, text, sizeof text);
        if (!ok)
                log_warning("Port rule %s: %s failed: %s", text, create ? "CREATE" : "DELETE",
                            resp->message);
        else {
                log_info("Port rule %s %s", text, create ? "created" : "deleted");
                r->applied = create;
        }
        if (call) {
                /* A client's CREATE that failed leaves no client rule; a DELETE that failed
                 * leaves it in place. */
                if (!ok)
                        r->client = !create;
                (void) reply_success(call, ok);
        }
        /* What is wanted may have changed meanwhile (the daemon's hold came or went). */
        m = r->table->manager;
        if (ok && m && (r->client || r->internal) != r->applied)
                (void) send_rule(m, r, !r->applied);
        rule_maybe_drop(r);
}

static int send_rule(Manager *m, Rule *r, bool create) {
        IpcPortRule op = PATCHPANEL__IPC__PORT_RULE__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;
        const PortRuleKey *k = &r->rule.key;
        int e;

        op.create = create;
        op.type = (Patchpanel__Ipc__PortRuleType) k->type;
        op.proto = (Patchpanel__Ipc__PortProto) k->proto;
        op.ifname = (char *) k->ifname;
        op.input_dst_ip = k->input_dst_ip;
        op.input_dst_port = k->port;
        op.dst_ip = r->rule.dst_ip;
        op.dst_port = r->rule.dst_port;
        req.op_case = OP(PORT_RULE);
        req.port_rule = &op;
        e = helper_link_call(m->helper, &req, NULL, 0, on_rule_applied, r);
        if (e >= 0) {
                r->busy = true;
                r->table->manager = m;
        }
        return e;
}

/* A new rule in slot, wanted by nobody yet. */
static Rule *rule_new(PortRules *t, Rule **slot, const PortRule *rule) {
        Rule *r = calloc(1, sizeof *r);

        if (!r)
                return NULL;
        *r = (Rule) { .rule = *rule, .table = t };
        *slot = r;
        t->n++;
        return r;
}

int port_rules_hold(Manager *m, const PortRule *rule, bool hold) {
        PortRules *t = m->port_rules;
        Rule **slot = rule_slot(t, &rule->key), *r = *slot;
        int e;

        if (!r) {
                if (!hold)
                        return 0;
                r = rule_new(t, slot, rule);
                if (!r)
                        return -ENOMEM;
                rules_grow(t);
        }
        r->internal = hold;
        if (r->busy || (r->client || r->internal) == r->applied)
                return 0; /* done, or done when the helper answers */
        e = send_rule(m, r, !r->applied);
        if (e < 0)
                r->internal = r->internal && r->applied;
        rule_maybe_drop(r);
        return e;
}

/* Answer false and say why in the log. */
static int refuse(sd_bus_message *msg, const char *op, const char *what, const char *why) {
        log_warning("ModifyPortRule %s %s refused: %s", op, what, why);
        return reply_success(msg, false) < 0 ? -EIO : 1;
}

int bus_method_modify_port_rule(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(protobuf_message_freep) ProtobufCMessage *unpacked = NULL;
        Patchpanel__ModifyPortRuleRequest *req;
        Manager *m = userdata;
        PortRules *t = m->port_rules;
        PortRule rule;
        ErrBuf err = {};
        char text[128];
        const char *op;
        Rule **slot, *r;
        int k;

        k = bus_message_read_proto(msg, &patchpanel__modify_port_rule_request__descriptor,
                                   &unpacked, error);
        if (k < 0)
                return k;
        req = (Patchpanel__ModifyPortRuleRequest *) unpacked;
        op = req->op == PATCHPANEL__MODIFY_PORT_RULE_REQUEST__OPERATION__CREATE   ? "CREATE"
             : req->op == PATCHPANEL__MODIFY_PORT_RULE_REQUEST__OPERATION__DELETE ? "DELETE"
                                                                                   : "INVALID";
        k = bus_request_check_port_rule(req, &m->config.pools, &rule, &err);
        if (k < 0)
                return refuse(msg, op, "request", err.msg);
        if (m->stopping)
                return refuse(msg, op, "request", "the daemon is shutting down");
        port_rule_to_string(&rule, text, sizeof text);

        slot = rule_slot(t, &rule.key);
        r = *slot;
        if (req->op == PATCHPANEL__MODIFY_PORT_RULE_REQUEST__OPERATION__CREATE) {
                if (r && r->client)
                        return refuse(msg, op, text, r->busy ? "a request for it is in flight"
                                                             : "the rule exists already");
                if (r && r->busy)
                        return refuse(msg, op, text, "a request for it is in flight");
                if (!r && t->n >= PORT_RULES_MAX)
                        return refuse(msg, op, text, "too many port rules");
                if (!r) {
                        r = rule_new(t, slot, &rule);
                        if (!r)
                                return -ENOMEM;
                }
                r->client = true;
                /* The daemon holds the same element already: it is the client's too now. */
                if (r->applied)
                        return reply_success(msg, true) < 0 ? -EIO : 1;
                k = send_rule(m, r, true);
                if (k < 0) {
                        r->client = false;
                        rule_maybe_drop(r);
                        return refuse(msg, op, text, "the helper cannot be reached");
                }
                r->call = sd_bus_message_ref(msg);
                rules_grow(t);
                return 1;
        }

        if (!r || !r->client)
                return refuse(msg, op, text, "no such rule");
        if (r->busy)
                return refuse(msg, op, text, "a request for it is in flight");
        /* A DELETE that names a destination must name the rule's. */
        if (rule.key.type == PORT_RULE_FORWARDING &&
            (r->rule.dst_ip != rule.dst_ip || r->rule.dst_port != rule.dst_port))
                return refuse(msg, op, text, "the rule forwards somewhere else");
        r->client = false;
        /* The daemon still holds it: the element stays, the client's rule is gone. */
        if (r->internal)
                return reply_success(msg, true) < 0 ? -EIO : 1;
        k = send_rule(m, r, false);
        if (k < 0) {
                r->client = true;
                return refuse(msg, op, text, "the helper cannot be reached");
        }
        r->call = sd_bus_message_ref(msg);
        return 1;
}
