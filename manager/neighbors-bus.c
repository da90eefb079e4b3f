/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>

#include "bus.h"
#include "log.h"
#include "manager.h"
#include "neighbors-bus.h"
#include "service.pb-c.h"

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

int neighbors_bus_setup(Manager *m) {
        neighbors_set_event_fn(m->neighbors, neighbors_emit, m);
        return 0;
}
