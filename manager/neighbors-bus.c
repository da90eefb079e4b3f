/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "log.h"
#include "manager.h"
#include "neighbors-bus.h"
#include "neighbors.h"
#include "service.pb-c.h"

#define RESOLVED_BUS_PATH "/org/freedesktop/resolve1"
#define RESOLVED_BUS_INTERFACE "org.freedesktop.resolve1.Manager"

typedef Patchpanel__NeighborReachabilityEventSignal NeighborSignal;

/* Our values are the proto's (neighbor-watch.h); the switches make the compiler say so
 * if either side ever moves. */
static Patchpanel__NeighborReachabilityEventSignal__Role signal_role(NeighborRole r) {
        switch (r) {
        case NEIGHBOR_ROLE_GATEWAY:
                return PATCHPANEL__NEIGHBOR_REACHABILITY_EVENT_SIGNAL__ROLE__GATEWAY;
        case NEIGHBOR_ROLE_DNS_SERVER:
                return PATCHPANEL__NEIGHBOR_REACHABILITY_EVENT_SIGNAL__ROLE__DNS_SERVER;
        case NEIGHBOR_ROLE_GATEWAY_AND_DNS_SERVER:
                return PATCHPANEL__NEIGHBOR_REACHABILITY_EVENT_SIGNAL__ROLE__GATEWAY_AND_DNS_SERVER;
        default:
                return PATCHPANEL__NEIGHBOR_REACHABILITY_EVENT_SIGNAL__ROLE__INVALID_ROLE;
        }
}

static Patchpanel__NeighborReachabilityEventSignal__EventType signal_type(NeighborEventType t) {
        switch (t) {
        case NEIGHBOR_EVENT_FAILED:
                return PATCHPANEL__NEIGHBOR_REACHABILITY_EVENT_SIGNAL__EVENT_TYPE__FAILED;
        case NEIGHBOR_EVENT_REACHABLE:
                return PATCHPANEL__NEIGHBOR_REACHABILITY_EVENT_SIGNAL__EVENT_TYPE__REACHABLE;
        default:
                return PATCHPANEL__NEIGHBOR_REACHABILITY_EVENT_SIGNAL__EVENT_TYPE__INVALID_EVENT_TYPE;
        }
}

static void neighbors_emit(const NeighborWatch *w, NeighborEventType type, void *userdata) {
        NeighborSignal sig = PATCHPANEL__NEIGHBOR_REACHABILITY_EVENT_SIGNAL__INIT;
        char addr[NEIGHBOR_ADDR_STRLEN];
        Manager *m = userdata;
        int r;

        if (!m->bus)
                return;
        sig.ifindex = w->ifindex;
        sig.ip_addr = (char *) neighbor_addr_to_string(&w->addr, addr);
        sig.role = signal_role(w->role);
        sig.type = signal_type(type);
        r = bus_emit_proto(m->bus, "NeighborReachabilityEvent", &sig.base);
        if (r < 0)
                log_warning_errno(r, "Cannot emit NeighborReachabilityEvent for %s on %s, "
                                  "ignoring: %m", addr, w->ifname);
}

/* The servers of a DNS property's value (v of a(iiay)); entries that do not make a server
 * are counted in @ret_bad and skipped, those beyond @max dropped. Return: 0, or a negative
 * errno for a value of another shape. */
static int read_dns_property(sd_bus_message *reply, DnsServer *ret, size_t max, size_t *ret_n,
                             unsigned *ret_bad) {
        unsigned bad = 0;
        size_t n = 0;
        int r;

        r = sd_bus_message_enter_container(reply, 'v', "a(iiay)");
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(iiay)");
        if (r < 0)
                return r;
        for (;;) {
                int32_t ifindex, family;
                const void *bytes;
                size_t len;

                r = sd_bus_message_enter_container(reply, 'r', "iiay");
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = sd_bus_message_read(reply, "ii", &ifindex, &family);
                if (r >= 0)
                        r = sd_bus_message_read_array(reply, 'y', &bytes, &len);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
                if (n >= max)
                        continue;
                if (dns_server_from_resolved(ifindex, family, bytes, len, &ret[n]) < 0)
                        bad++;
                else
                        n++;
        }
        r = sd_bus_message_exit_container(reply);
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;
        *ret_n = n;
        *ret_bad = bad;
        return 0;
}

static int on_resolved_dns(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        DnsServer servers[DNS_SERVERS_MAX];
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        Manager *m = userdata;
        unsigned bad = 0;
        size_t n = 0;
        int r;

        (void) ret_error;
        if (e) {
                neighbors_on_resolved_dns(m->neighbors, e->message ?: e->name, NULL, 0);
                return 0;
        }
        r = read_dns_property(reply, servers, ELEMENTSOF(servers), &n, &bad);
        if (r < 0) {
                char why[128];
                snprintf(why, sizeof why, "a DNS property of another shape: %s", strerror(-r));
                neighbors_on_resolved_dns(m->neighbors, why, NULL, 0);
                return 0;
        }
        if (bad > 0)
                log_warning("%u DNS servers of %s are malformed (a family that is neither "
                            "IPv4 nor IPv6, an address of the wrong length or a negative "
                            "ifindex), ignoring them", bad, NEIGHBOR_DNS_SOURCE_RESOLVED);
        neighbors_on_resolved_dns(m->neighbors, NULL, servers, n);
        return 0;
}

static int neighbors_bus_get_dns(void *userdata, sd_bus_slot **ret_slot) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *q = NULL;
        Manager *m = userdata;
        int r;

        if (!m->bus)
                return -ENOTCONN;
        r = sd_bus_message_new_method_call(m->bus, &q, NEIGHBOR_DNS_SOURCE_RESOLVED,
                                           RESOLVED_BUS_PATH, "org.freedesktop.DBus.Properties",
                                           "Get");
        if (r < 0)
                return r;
        /* Ask the resolved that runs; starting one is not ours to do. */
        r = sd_bus_message_set_auto_start(q, false);
        if (r >= 0)
                r = sd_bus_message_append(q, "ss", RESOLVED_BUS_INTERFACE, "DNS");
        if (r >= 0)
                r = sd_bus_call_async(m->bus, ret_slot, q, on_resolved_dns, m,
                                      NEIGHBORS_RESOLVED_TIMEOUT_USEC);
        return r;
}

static int on_resolved_owner_changed(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        Manager *m = userdata;

        (void) msg;
        (void) e;
        neighbors_dns_changed(m->neighbors);
        return 0;
}

int neighbors_bus_watch_resolved(Manager *m) {
        return sd_bus_add_match_async(m->bus, NULL,
                                      "type='signal',sender='org.freedesktop.DBus',"
                                      "path='/org/freedesktop/DBus',"
                                      "interface='org.freedesktop.DBus',"
                                      "member='NameOwnerChanged',"
                                      "arg0='" NEIGHBOR_DNS_SOURCE_RESOLVED "'",
                                      on_resolved_owner_changed, NULL, m);
}

int neighbors_bus_setup(Manager *m) {
        neighbors_set_event_fn(m->neighbors, neighbors_emit, m);
        neighbors_set_resolved_fn(m->neighbors, neighbors_bus_get_dns, m);
        return 0;
}
