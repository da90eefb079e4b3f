/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>

#include "log.h"
#include "manager.h"
#include "uplinks.h"

#define SYNC_MAX 1024

/* Uplinks whose routes changed since the last resync, by ifindex. */
struct UplinkRouting {
        Manager *manager;
        sd_event_source *sync;
        int pending[SYNC_MAX];
        size_t n_pending;
};

static void on_helper_reply(const HelperResponse *resp, void *userdata) {
        (void) userdata;
        if (resp->status < 0)
                log_error("Uplink routing: %s", resp->message);
}

static void uplink_request(Manager *m, HelperRequest *req) {
        int r = helper_link_call(m->helper, req, NULL, 0, on_helper_reply, NULL);
        if (r < 0)
                log_error_errno(r, "Cannot ask the helper for uplink routing: %m");
}

static void routing_forget(UplinkRouting *ur, int ifindex) {
        for (size_t i = 0; i < ur->n_pending; i++)
                if (ur->pending[i] == ifindex) {
                        ur->pending[i] = ur->pending[--ur->n_pending];
                        return;
                }
}

static void on_uplink_added(Uplink *u, void *userdata) {
        Patchpanel__Ipc__UplinkAdd op = PATCHPANEL__IPC__UPLINK_ADD__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;
        UplinkRouting *ur = userdata;

        if (ur->manager->stopping)
                return;
        op.ifname = u->name;
        op.ifindex = u->ifindex;
        /* Guests get IPv6 through ndproxyd: the host keeps its own once it forwards. */
        op.keep_slaac = ur->manager->config.forwarders.ndproxy;
        req.op_case = OP(UPLINK_ADD);
        req.uplink_add = &op;
        uplink_request(ur->manager, &req);
        /* The addition copies the routes there are now. */
        routing_forget(ur, u->ifindex);
}

static void on_uplink_removed(Uplink *u, void *userdata) {
        Patchpanel__Ipc__UplinkRemove op = PATCHPANEL__IPC__UPLINK_REMOVE__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;
        UplinkRouting *ur = userdata;

        routing_forget(ur, u->ifindex);
        if (ur->manager->stopping)
                return;
        op.ifname = u->name;
        op.ifindex = u->ifindex;
        req.op_case = OP(UPLINK_REMOVE);
        req.uplink_remove = &op;
        uplink_request(ur->manager, &req);
}

static int on_sync(sd_event_source *s, void *userdata) {
        UplinkRouting *ur = userdata;
        Manager *m = ur->manager;

        (void) s;
        ur->sync = sd_event_source_disable_unref(ur->sync);
        if (m->stopping)
                return 0;
        for (Uplink *u = registry_uplinks(m->registry); u; u = u->uplinks_next) {
                Patchpanel__Ipc__UplinkSync op = PATCHPANEL__IPC__UPLINK_SYNC__INIT;
                HelperRequest req = HELPER_REQUEST_INIT;
                size_t before = ur->n_pending;

                routing_forget(ur, u->ifindex);
                if (ur->n_pending == before)
                        continue;
                op.ifname = u->name;
                op.ifindex = u->ifindex;
                req.op_case = OP(UPLINK_SYNC);
                req.uplink_sync = &op;
                uplink_request(m, &req);
        }
        ur->n_pending = 0;
        return 0;
}

static void on_uplink_routes_changed(Uplink *u, void *userdata) {
        UplinkRouting *ur = userdata;
        int r;

        routing_forget(ur, u->ifindex);
        if (ur->n_pending < SYNC_MAX)
                ur->pending[ur->n_pending++] = u->ifindex;
        if (ur->sync)
                return;
        /* Once per event-loop turn, however many route events came in it. */
        r = sd_event_add_defer(ur->manager->event, &ur->sync, on_sync, ur);
        if (r < 0)
                log_error_errno(r, "Cannot schedule the routing resync of %s: %m", u->name);
}

static const RegistrySubscriber uplinks_subscriber = {
        .uplink_added = on_uplink_added,
        .uplink_removed = on_uplink_removed,
        .uplink_routes_changed = on_uplink_routes_changed,
};

int uplinks_setup(Manager *m) {
        UplinkRouting *ur = calloc(1, sizeof *ur);

        if (!ur)
                return -ENOMEM;
        ur->manager = m;
        m->routing = ur;
        return registry_subscribe(m->registry, &uplinks_subscriber, ur);
}

void uplinks_free(Manager *m) {
        if (!m->routing)
                return;
        sd_event_source_disable_unref(m->routing->sync);
        free(m->routing);
        m->routing = NULL;
}
