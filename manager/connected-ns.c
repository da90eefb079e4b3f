/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "bus.h"
#include "connected-ns.h"
#include "ifname.h"
#include "log.h"
#include "service.pb-c.h"

static const char *const state_names[_CONNECTED_NS_STATE_MAX] = {
        [CONNECTED_NS_CONNECTING] = "connecting",
        [CONNECTED_NS_CONNECTED] = "connected",
        [CONNECTED_NS_DISCONNECTING] = "disconnecting",
};

const char *connected_ns_state_to_string(ConnectedNsState s) {
        if (s < 0 || s >= _CONNECTED_NS_STATE_MAX)
                return NULL;
        return state_names[s];
}

ConnectedNs *connected_ns_free(ConnectedNs *ns) {
        Manager *m;

        if (!ns)
                return NULL;
        m = ns->manager;
        if (ns->call) {
                /* Never leave a caller without an answer. */
                (void) bus_reply_errno(ns->call, -ECANCELED, "The namespace was disconnected");
                ns->call = sd_bus_message_unref(ns->call);
        }
        registry_guest_remove(m->registry, TAKE_PTR(ns->link));
        sd_event_source_disable_unref(ns->lifeline);
        safe_close(ns->lifeline_fd);
        if (ns->subnet_quarantined)
                log_warning("%s: keeping its subnet out of use: its teardown failed and it may "
                            "still be configured", ns->host_ifname);
        else if (pool_release(m->pools[POOL_NETNS], &ns->subnet) < 0)
                log_warning("%s: subnet was not allocated, ignoring", ns->host_ifname);
        mac_generator_release(m->macs, &ns->host_mac);
        mac_generator_release(m->macs, &ns->peer_mac);
        LIST_REMOVE(namespaces, m->namespaces, ns);
        m->n_namespaces--;
        free(ns->status_json);
        free(ns);
        return NULL;
}

static uint32_t manager_next_ns_id(Manager *m) {
        /* Ids, and so interface names, are not reused within a run, so a late event about
         * an old interface can never be taken for a new one; they wrap only after a
         * billion connections, skipping any still in use. */
        for (;;) {
                uint32_t id = m->next_ns_id;
                m->next_ns_id = id >= CONNECTED_NS_ID_MAX ? 0 : id + 1;
                if (!connected_ns_find(m, id))
                        return id;
        }
}

static void ns_on_disconnected(const HelperResponse *resp, void *userdata) {
        ConnectedNs *ns = userdata;

        if (resp->status < 0) {
                log_error("%s: teardown failed: %s", ns->host_ifname, resp->message);
                ns->subnet_quarantined = true;
        } else
                log_info("%s: disconnected (pid %d)", ns->host_ifname, (int) ns->pid);
        connected_ns_free(ns);
}

void connected_ns_disconnect(ConnectedNs *ns, const char *why) {
        IpcNsDisconnect op = PATCHPANEL__IPC__NS_DISCONNECT__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;
        int r;

        if (ns->state == CONNECTED_NS_DISCONNECTING)
                return;
        /* Only connected namespaces have a lifeline watch or a known veth; one still
         * connecting is dealt with when the helper answers. */
        if (ns->state == CONNECTED_NS_CONNECTING)
                return;

        log_info("%s: disconnecting: %s", ns->host_ifname, why);
        ns->state = CONNECTED_NS_DISCONNECTING;
        ns->lifeline = sd_event_source_disable_unref(ns->lifeline);
        ns->lifeline_fd = safe_close(ns->lifeline_fd);

        op.ns_id = ns->id;
        req.op_case = OP(NS_DISCONNECT);
        req.ns_disconnect = &op;
        r = helper_link_call(ns->manager->helper, &req, NULL, 0, ns_on_disconnected, ns);
        if (r < 0) {
                /* Only when the helper is gone, and with it everything it built. */
                log_error_errno(r, "%s: cannot ask for teardown: %m", ns->host_ifname);
                connected_ns_free(ns);
        }
}

static int ns_on_lifeline(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ConnectedNs *ns = userdata;

        (void) s;
        (void) fd;
        (void) revents;
        connected_ns_disconnect(ns, "the client closed its lifeline");
        return 0;
}

static void on_link_vanished(const char *name, int ifindex, void *userdata) {
        Manager *m = userdata;
        ConnectedNs *ns;
        uint32_t id;

        /* At stop the helper deletes every link at once; nothing to follow up. */
        if (m->stopping || ifname_parse_connected_ns_host(name, &id) < 0)
                return;
        ns = connected_ns_find(m, id);
        if (!ns)
                return;
        switch (ns->state) {
        case CONNECTED_NS_CONNECTING:
                ns->vanished_ifindex = ifindex;
                break;
        case CONNECTED_NS_CONNECTED:
                if (ns->host_ifindex == ifindex)
                        connected_ns_disconnect(ns, "its interface vanished (the namespace is gone)");
                break;
        default:
                break;
        }
}

/* Connected: its link into the registry, bound to its pinned uplink if it has one. */
static void ns_register(ConnectedNs *ns) {
        GuestLink info = {
                .ifindex = ns->host_ifindex,
                .kind = GUEST_NETNS,
                .subnet = ns->subnet,
                .guest_addr = subnet_addr(&ns->subnet, 1),
                .uplink_ifindex = ns->outbound_ifindex,
                .owner = ns->owner,
        };

        snprintf(info.ifname, sizeof info.ifname, "%s", ns->host_ifname);
        snprintf(info.uplink, sizeof info.uplink, "%s", ns->outbound_ifname);
        ns->link = registry_guest_add(ns->manager->registry, &info);
}

static int ns_reply_connected(ConnectedNs *ns, sd_bus_message *call) {
        Patchpanel__ConnectNamespaceResponse resp = PATCHPANEL__CONNECT_NAMESPACE_RESPONSE__INIT;
        Patchpanel__IPv4Subnet subnet = PATCHPANEL__IPV4_SUBNET__INIT;

        subnet.base_addr = ipv4_to_wire(ns->subnet.base);
        subnet.prefix_len = ns->subnet.prefix_len;
        resp.ipv4_subnet = &subnet;
        resp.peer_ifname = ns->peer_ifname;
        resp.peer_ipv4_address = ipv4_to_wire(subnet_addr(&ns->subnet, 1));
        resp.host_ifname = ns->host_ifname;
        resp.host_ipv4_address = ipv4_to_wire(subnet_addr(&ns->subnet, 0));
        return bus_reply_proto(call, &resp.base);
}

static void ns_on_connected(const HelperResponse *resp, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        ConnectedNs *ns = userdata;
        char a[IPV4_STRLEN];
        int r;

        if (resp->status < 0) {
                log_info("%s: connecting pid %d failed: %s", ns->host_ifname, (int) ns->pid,
                         resp->message);
                (void) bus_reply_errno(ns->call, resp->status, resp->message);
                ns->call = sd_bus_message_unref(ns->call);
                connected_ns_free(ns);
                return;
        }
        if (resp->result_case != RESULT(NS_CONNECT)) {
                log_error("%s: the helper's answer has no result", ns->host_ifname);
                (void) bus_reply_errno(ns->call, -EIO, "Internal error");
                ns->call = sd_bus_message_unref(ns->call);
                ns->state = CONNECTED_NS_CONNECTED;
                connected_ns_disconnect(ns, "internal error");
                return;
        }

        ns->host_ifindex = resp->ns_connect->host_ifindex;
        ns->link_generation = registry_link_generation(ns->manager->registry);
        ns->state = CONNECTED_NS_CONNECTED;
        call = TAKE_PTR(ns->call);

        if (ns->manager->stopping) {
                /* The datapath goes with everything else in the DatapathStop queued after. */
                (void) bus_reply_errno(call, -ECANCELED, "The daemon is shutting down");
                return;
        }
        if (ns->vanished_ifindex == ns->host_ifindex) {
                const char *why = "the namespace vanished while connecting";
                (void) bus_reply_errno(call, -ECONNRESET, why);
                connected_ns_disconnect(ns, why);
                return;
        }
        /* A lifeline closed meanwhile is seen at once: the watch below fires right away. */

        /* No events requested: EPOLLHUP and EPOLLERR are always reported, and they are what
         * a closed peer end of a pipe or socket raises. Data the client might write to the
         * pipe never wakes us. */
        r = sd_event_add_io(ns->manager->event, &ns->lifeline, ns->lifeline_fd, 0,
                            ns_on_lifeline, ns);
        if (r < 0) {
                (void) bus_reply_errno(call, r, "Cannot watch the lifeline fd");
                connected_ns_disconnect(ns, "cannot watch the lifeline");
                return;
        }

        r = ns_reply_connected(ns, call);
        if (r < 0)
                log_warning_errno(r, "%s: cannot send the reply: %m", ns->host_ifname);
        ns_register(ns);
        log_info("%s: connected pid %d, %s/%u, source %s", ns->host_ifname, (int) ns->pid,
                 ipv4_to_string(ns->subnet.base, a), ns->subnet.prefix_len,
                 traffic_source_to_string(ns->source));
}

int connected_ns_connect(Manager *m, const ConnectedNsParams *p, int lifeline_fd, int pidfd,
                         sd_bus_message *call) {
        _cleanup_close_ int fd = lifeline_fd, process = pidfd;
        IpcNsConnect op = PATCHPANEL__IPC__NS_CONNECT__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;
        ConnectedNs *ns;
        int r;

        ns = calloc(1, sizeof *ns);
        if (!ns)
                return -ENOMEM;
        r = pool_allocate(m->pools[POOL_NETNS], 0, &ns->subnet);
        if (r < 0) {
                free(ns);
                return r;
        }
        r = mac_generator_random(m->macs, &ns->host_mac);
        if (r >= 0) {
                r = mac_generator_random(m->macs, &ns->peer_mac);
                if (r < 0)
                        mac_generator_release(m->macs, &ns->host_mac);
        }
        if (r < 0) {
                (void) pool_release(m->pools[POOL_NETNS], &ns->subnet);
                free(ns);
                return r;
        }

        ns->manager = m;
        ns->state = CONNECTED_NS_CONNECTING;
        ns->id = manager_next_ns_id(m);
        ns->pid = p->pid;
        ns->source = p->source;
        ns->allow_user_traffic = p->allow_user_traffic;
        ns->route_on_vpn = p->route_on_vpn;
        ns->outbound_ifindex = p->outbound_ifindex;
        ns->owner = p->owner;
        snprintf(ns->outbound_ifname, sizeof ns->outbound_ifname, "%s", p->outbound_ifname);
        (void) ifname_connected_ns_host(ns->id, ns->host_ifname);
        (void) ifname_connected_ns_peer(ns->id, ns->peer_ifname);
        ns->lifeline_fd = TAKE_FD(fd);
        LIST_PREPEND(namespaces, m->namespaces, ns);
        m->n_namespaces++;

        op.ns_id = ns->id;
        op.pid = ns->pid;
        op.subnet_base = ns->subnet.base;
        op.subnet_prefix_len = ns->subnet.prefix_len;
        op.host_mac = (ProtobufCBinaryData) { .len = MAC_LEN, .data = ns->host_mac.b };
        op.peer_mac = (ProtobufCBinaryData) { .len = MAC_LEN, .data = ns->peer_mac.b };
        op.source = (uint32_t) ns->source;
        op.outbound_ifindex = ns->outbound_ifindex;
        op.outbound_ifname = ns->outbound_ifname;
        op.route_on_vpn = ns->route_on_vpn;
        req.op_case = OP(NS_CONNECT);
        req.ns_connect = &op;
        r = helper_link_call(m->helper, &req, (int[]) { TAKE_FD(process) }, 1, ns_on_connected, ns);
        if (r < 0) {
                connected_ns_free(ns);
                return r;
        }
        ns->call = sd_bus_message_ref(call);
        return 0;
}

ConnectedNs *connected_ns_find(Manager *m, uint32_t id) {
        LIST_FOREACH(namespaces, ns, m->namespaces)
                if (ns->id == id)
                        return ns;
        return NULL;
}

/* After lost link events: a namespace whose veth is not among the links that exist now is
 * gone. */
static void on_resync(const int *ifindexes, size_t n, uint64_t generation, void *userdata) {
        Manager *m = userdata;

        LIST_FOREACH_SAFE(namespaces, ns, next, m->namespaces)
                if (ns->state == CONNECTED_NS_CONNECTED && ns->link_generation < generation &&
                    !link_monitor_seen(ifindexes, n, ns->host_ifindex))
                        connected_ns_disconnect(ns, "its interface vanished while link events were lost");
}

/* Namespaces pinned to an uplink that goes are disconnected rather than left to leak
 * through another one. */
static void on_uplink_removed(Uplink *u, void *userdata) {
        Manager *m = userdata;

        if (m->stopping)
                return;
        LIST_FOREACH_SAFE(namespaces, ns, next, m->namespaces)
                if (ns->outbound_ifindex == u->ifindex)
                        connected_ns_disconnect(ns, "the uplink it was pinned to is gone");
}

static const RegistrySubscriber connected_ns_subscriber = {
        .link_vanished = on_link_vanished,
        .resync = on_resync,
        .uplink_removed = on_uplink_removed,
};

int connected_ns_setup(Manager *m) {
        return registry_subscribe(m->registry, &connected_ns_subscriber, m);
}

void connected_ns_stop_watching(Manager *m) {
        LIST_FOREACH(namespaces, ns, m->namespaces)
                if (ns->state == CONNECTED_NS_CONNECTED)
                        ns->lifeline = sd_event_source_disable_unref(ns->lifeline);
}
