/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The neighbour monitor's rtnetlink decoder (neighbor_nl_decode() in manager/neighbor-watch.c)
 * and the table it feeds. Input: one netlink message as the kernel would send it (the
 * nlmsghdr's length is set to the input's, so that the whole input is the message).
 *
 * What must hold: a message decodes to at most NEIGHBOR_NEXTHOPS_MAX items or is refused
 * with -EBADMSG; each item is of a known kind, IPv4 or IPv6, with an ifindex > 0 and a
 * prefix length its family allows; feeding the items to a table with that uplink never
 * crashes and tells each verdict of a known type.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "neighbor-watch.h"

static void on_event(const NeighborWatch *w, NeighborEventType type, void *userdata) {
        (void) userdata;
        FUZZ_CHECK(w->role > 0 && w->role < _NEIGHBOR_ROLE_MAX);
        FUZZ_CHECK(type == NEIGHBOR_EVENT_FAILED || type == NEIGHBOR_EVENT_REACHABLE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _Alignas(struct nlmsghdr) uint8_t buf[65536];
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        struct nlmsghdr *h = (struct nlmsghdr *) buf;
        NeighborTable *t;
        int n;

        if (size < sizeof *h || size > sizeof buf)
                return 0;
        memcpy(buf, data, size);
        h->nlmsg_len = (uint32_t) size;
        n = neighbor_nl_decode(h, out);
        FUZZ_CHECK(n == -EBADMSG || (n >= 0 && n <= NEIGHBOR_NEXTHOPS_MAX));
        if (n <= 0)
                return 0;
        t = neighbor_table_new(on_event, NULL);
        FUZZ_CHECK(t);
        for (int i = 0; i < n; i++) {
                const NeighborNlMsg *x = &out[i];
                FUZZ_CHECK(x->kind >= 0 && x->kind < _NEIGHBOR_NL_KIND_MAX);
                FUZZ_CHECK(x->addr.family == AF_INET || x->addr.family == AF_INET6);
                FUZZ_CHECK(x->ifindex > 0);
                FUZZ_CHECK(x->prefix_len <= (x->addr.family == AF_INET ? 32u : 128u));
                FUZZ_CHECK(neighbor_table_add_uplink(t, "eth0", x->ifindex, true) >= 0);
                switch (x->kind) {
                case NEIGHBOR_NL_ADDRESS:
                        (void) neighbor_table_address(t, x->ifindex, &x->addr, x->prefix_len,
                                                      x->present);
                        break;
                case NEIGHBOR_NL_GATEWAY:
                        (void) neighbor_table_gateway(t, x->ifindex, &x->addr, x->metric, x->present);
                        break;
                default:
                        break;
                }
                FUZZ_CHECK(neighbor_table_update_watches(t, NULL) == 0);
                (void) neighbor_table_on_neighbor(t, x->ifindex, &x->addr, x->present, x->nud, 0);
        }
        neighbor_table_free(t);
        return 0;
}
