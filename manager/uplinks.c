/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the manager does when the host's network changes: an uplink that appears gets its
 * policy routing (and ARC a link to it); one that goes loses both, and namespaces pinned to
 * it are disconnected rather than left to leak through another uplink; route changes are
 * batched once per event-loop turn into resyncs of the uplinks' tables.
 */
#include <errno.h>

#include "arc.h"
#include "connected-ns.h"
#include "log.h"
#include "manager.h"
#include "vpn.h"

static void on_uplink_helper_reply(const HelperResponse *resp, void *userdata) {
        (void) userdata;
        if (resp->status < 0)
                log_error("Uplink routing: %s", resp->message);
}

static void uplink_request(Manager *m, HelperRequest *req) {
        int r = helper_channel_call(m->helper, req, NULL, 0, on_uplink_helper_reply, NULL);
        if (r < 0)
                log_error_errno(r, "Cannot ask the helper for uplink routing: %m");
}

static void on_link_removed(const char *name, int ifindex, void *userdata) {
        connected_ns_on_link_removed(userdata, name, ifindex);
}

static void on_resync(const int *ifindexes, size_t n, uint64_t generation, void *userdata) {
        Manager *m = userdata;

        LIST_FOREACH_SAFE(namespaces, ns, next, m->namespaces)
                if (ns->state == CONNECTED_NS_CONNECTED && ns->link_generation < generation &&
                    !link_monitor_seen(ifindexes, n, ns->host_ifindex))
                        connected_ns_disconnect(ns, "its interface vanished while link events were lost");
}

static void on_uplink_added(Uplink *u, void *userdata) {
        Patchpanel__Ipc__UplinkAdd op = PATCHPANEL__IPC__UPLINK_ADD__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;
        Manager *m = userdata;

        if (m->stopping)
                return;
        op.ifname = u->name;
        op.ifindex = u->ifindex;
        req.op_case = OP(UPLINK_ADD);
        req.uplink_add = &op;
        uplink_request(m, &req);
        u->sync_pending = false;
        /* After the uplink's routing in the helper's queue, which it serves in order. */
        arc_on_uplink_added(m, u);
}

static void on_uplink_removed(Uplink *u, void *userdata) {
        Patchpanel__Ipc__UplinkRemove op = PATCHPANEL__IPC__UPLINK_REMOVE__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;
        Manager *m = userdata;

        if (m->stopping)
                return;
        arc_on_uplink_removed(m, u);
        LIST_FOREACH_SAFE(namespaces, ns, next, m->namespaces)
                if (ns->outbound_ifindex == u->ifindex)
                        connected_ns_disconnect(ns, "the uplink it was pinned to is gone");
        vpn_on_uplink_removed(m, u->ifindex);
        op.ifname = u->name;
        op.ifindex = u->ifindex;
        req.op_case = OP(UPLINK_REMOVE);
        req.uplink_remove = &op;
        uplink_request(m, &req);
}

static int on_uplink_sync(sd_event_source *s, void *userdata) {
        Manager *m = userdata;

        (void) s;
        m->uplink_sync = sd_event_source_disable_unref(m->uplink_sync);
        if (m->stopping)
                return 0;
        for (Uplink *u = link_monitor_uplinks(m->links); u; u = u->uplinks_next) {
                Patchpanel__Ipc__UplinkSync op = PATCHPANEL__IPC__UPLINK_SYNC__INIT;
                HelperRequest req = HELPER_REQUEST_INIT;

                if (!u->sync_pending)
                        continue;
                u->sync_pending = false;
                op.ifname = u->name;
                op.ifindex = u->ifindex;
                req.op_case = OP(UPLINK_SYNC);
                req.uplink_sync = &op;
                uplink_request(m, &req);
        }
        return 0;
}

static void on_uplink_routes_changed(Uplink *u, void *userdata) {
        Manager *m = userdata;
        int r;

        u->sync_pending = true;
        if (m->uplink_sync)
                return;
        /* Once per event-loop turn, however many route events came in it. */
        r = sd_event_add_defer(m->event, &m->uplink_sync, on_uplink_sync, m);
        if (r < 0)
                log_error_errno(r, "Cannot schedule the routing resync of %s: %m", u->name);
}

static void on_default_changed(const char *old, const char *new, void *userdata) {
        (void) old;
        (void) new;
        /* New connections follow the main table by themselves; established ones keep their
         * uplink through their conntrack mark. Only the VPN bypass depends on the default. */
        vpn_routing_update(userdata);
}

const LinkMonitorCallbacks manager_link_callbacks = {
        .link_removed = on_link_removed,
        .resync = on_resync,
        .uplink_added = on_uplink_added,
        .uplink_removed = on_uplink_removed,
        .uplink_routes_changed = on_uplink_routes_changed,
        .default_changed = on_default_changed,
};
