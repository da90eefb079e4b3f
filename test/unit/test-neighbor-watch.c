/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * manager/neighbor-watch.h: which neighbours of the uplinks are watched, the verdicts told
 * about them (FAILED once per failure, REACHABLE on recovery, a rate limit), and the
 * decoding of the rtnetlink messages that feed it. No socket: the table is driven with
 * plain values, and the decoder with messages laid out byte by byte here.
 *
 * The uplink of most tests: eth0, ifindex 2, 192.0.2.2/24 and 2001:db8:1::2/64, default
 * routes via 192.0.2.1 and fe80::1.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "neighbor-watch.h"

#define ETH0 2
#define SEC 1000000ull

typedef struct Told {
        char addr[NEIGHBOR_ADDR_STRLEN];
        NeighborRole role;
        NeighborEventType type;
} Told;

typedef struct Fixture {
        NeighborTable *t;
        Told told[64];
        size_t n_told;
} Fixture;

static void on_event(const NeighborWatch *w, NeighborEventType type, void *userdata) {
        Fixture *f = userdata;

        assert_true(f->n_told < ELEMENTSOF(f->told));
        neighbor_addr_to_string(&w->addr, f->told[f->n_told].addr);
        f->told[f->n_told].role = w->role;
        f->told[f->n_told].type = type;
        f->n_told++;
}

static NeighborAddr addr(const char *s) {
        NeighborAddr a = { .family = strchr(s, ':') ? AF_INET6 : AF_INET };

        assert_int_equal(inet_pton(a.family, s, a.bytes), 1);
        return a;
}

static DnsServer dns(const char *s, const char *scope) {
        NeighborAddr a = addr(s);
        DnsServer d = { .family = a.family };

        memcpy(d.addr, a.bytes, sizeof d.addr);
        snprintf(d.scope, sizeof d.scope, "%s", scope ? scope : "");
        return d;
}

static void set_address(Fixture *f, const char *a, unsigned prefix_len) {
        NeighborAddr x = addr(a);
        assert_true(neighbor_table_address(f->t, ETH0, &x, prefix_len, true));
}

static bool gateway(Fixture *f, const char *gw, bool present) {
        NeighborAddr x = addr(gw);
        return neighbor_table_gateway(f->t, ETH0, &x, /* metric= */ 0, present);
}

static void update(Fixture *f) {
        assert_int_equal(neighbor_table_update_watches(f->t, NULL), 0);
}

/* The live watch of this address on eth0, or NULL. */
static NeighborWatch *find(Fixture *f, const char *a) {
        NeighborAddr x = addr(a);

        LIST_FOREACH(watches, w, neighbor_table_watches(f->t))
                if (w->ifindex == ETH0 && w->role != 0 && neighbor_addr_equal(&w->addr, &x))
                        return w;
        return NULL;
}

static size_t n_live(Fixture *f) {
        size_t n = 0;

        LIST_FOREACH(watches, w, neighbor_table_watches(f->t))
                n += w->role != 0;
        return n;
}

/* Live watches on any uplink. */
static size_t n_live_all(Fixture *f) {
        size_t n = 0;

        LIST_FOREACH(watches, w, neighbor_table_watches(f->t))
                n += w->role != 0;
        return n;
}

static void nud(Fixture *f, const char *a, uint16_t state, uint64_t now) {
        NeighborAddr x = addr(a);
        (void) neighbor_table_on_neighbor(f->t, ETH0, &x, true, state, now);
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof *f);

        assert_non_null(f);
        f->t = neighbor_table_new(on_event, f);
        assert_non_null(f->t);
        assert_int_equal(neighbor_table_add_uplink(f->t, "eth0", ETH0, true), 1);
        assert_int_equal(neighbor_table_add_uplink(f->t, "eth0", ETH0, true), 0);
        set_address(f, "192.0.2.2", 24);
        set_address(f, "2001:db8:1::2", 64);
        set_address(f, "fe80::2", 64);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;

        neighbor_table_free(f->t);
        free(f);
        return 0;
}

/* ---- which neighbours are watched --------------------------------------------------------- */

static void test_gateways_are_watched(void **state) {
        Fixture *f = *state;

        assert_true(gateway(f, "192.0.2.1", true));
        assert_true(gateway(f, "fe80::1", true));
        assert_false(gateway(f, "fe80::1", true)); /* known: no change */
        update(f);
        assert_int_equal(n_live(f), 2);
        assert_int_equal(find(f, "192.0.2.1")->role, NEIGHBOR_ROLE_GATEWAY);
        assert_int_equal(find(f, "fe80::1")->role, NEIGHBOR_ROLE_GATEWAY);
        assert_string_equal(find(f, "fe80::1")->ifname, "eth0");
        assert_false(find(f, "fe80::1")->have_entry);
}

/* DNS servers: where each one is watched, if at all. Cases differ only in data. */
static void test_dns_servers_on_the_uplink(void **state) {
        static const struct {
                const char *server, *scope;
                bool watched;
        } cases[] = {
                { "192.0.2.53", NULL, true },          /* on 192.0.2.0/24 */
                { "192.0.2.254", NULL, true },
                { "192.0.2.2", NULL, false },          /* the uplink's own address */
                { "192.0.2.0", NULL, false },          /* the subnet's network address */
                { "192.0.2.255", NULL, false },        /* its broadcast address */
                { "198.51.100.53", NULL, false },      /* elsewhere: through the gateway */
                { "127.0.0.53", NULL, false },         /* resolved's stub */
                { "2001:db8:1::53", NULL, true },      /* on 2001:db8:1::/64 */
                { "2001:db8:1::2", NULL, false },      /* own */
                { "2001:db8:2::53", NULL, false },     /* another prefix */
                { "fe80::53", "eth0", true },          /* link-local, scoped to it by name */
                { "fe80::54", "2", true },             /* ... by ifindex */
                { "fe80::55", "eth1", false },         /* scoped to another link */
                { "fe80::56", "3", false },
                { "fe80::57", "02x", false },
                { "fe80::58", NULL, false },           /* unscoped: no link to watch it on */
        };
        Fixture *f = *state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                DnsServer d = dns(cases[i].server, cases[i].scope);
                NeighborWatch *w;

                assert_true(neighbor_table_set_dns(f->t, &d, 1));
                update(f);
                w = find(f, cases[i].server);
                if (cases[i].watched != (w != NULL))
                        fail_msg("%s%%%s: %s", cases[i].server, cases[i].scope ?: "",
                                 w ? "watched" : "not watched");
                if (w)
                        assert_int_equal(w->role, NEIGHBOR_ROLE_DNS_SERVER);
                assert_int_equal(n_live(f), cases[i].watched ? 1 : 0);
                neighbor_table_sweep_retired(f->t);
        }
}

/*
 * systemd-resolved's DNS property, one (ifindex, family, address bytes) per server, turned
 * into servers (dns_server_from_resolved()) and into the watches of each uplink (the
 * table). A second uplink, eth1 (ifindex 3, 198.51.100.2/24, no IPv6 address), and a link
 * that is no uplink (7). Cases differ only in data.
 */
#define ETH1 3
#define NOT_AN_UPLINK 7

typedef struct ResolvedEntry {
        int ifindex;
        int family;
        const char *addr;         /* its bytes: 4 for a dotted quad, 16 for IPv6 */
        int error;                /* what dns_server_from_resolved() says of it */
} ResolvedEntry;

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* "UPLINK ADDRESS ROLE, ..." of the live watches, sorted. */
static void live_watches(Fixture *f, char *buf, size_t size) {
        char lines[NEIGHBOR_WATCHES_MAX][IFNAMSIZ + NEIGHBOR_ADDR_STRLEN + 32];
        const char *sorted[NEIGHBOR_WATCHES_MAX];
        size_t n = 0;

        LIST_FOREACH(watches, w, neighbor_table_watches(f->t)) {
                char a[NEIGHBOR_ADDR_STRLEN];
                if (w->role == 0)
                        continue;
                snprintf(lines[n], sizeof lines[n], "%s %s %s", w->ifname,
                         neighbor_addr_to_string(&w->addr, a), neighbor_role_to_string(w->role));
                sorted[n] = lines[n];
                n++;
        }
        qsort(sorted, n, sizeof *sorted, compare_strings);
        buf[0] = '\0';
        for (size_t i = 0; i < n; i++)
                snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? ", " : "", sorted[i]);
}

static void test_resolved_servers_per_link(void **state) {
        static const struct {
                const char *name;
                ResolvedEntry entries[4];
                size_t n;
                const char *watched;
        } cases[] = {
                { "link server on its subnet", { { ETH0, AF_INET, "192.0.2.53", 0 } }, 1,
                  "eth0 192.0.2.53 dns_server" },
                { "link server on another link's subnet",
                  { { ETH1, AF_INET, "192.0.2.53", 0 } }, 1, "" },
                { "link server off its subnets", { { ETH0, AF_INET, "203.0.113.53", 0 } }, 1, "" },
                { "link server that is the uplink's own address",
                  { { ETH0, AF_INET, "192.0.2.2", 0 } }, 1, "" },
                { "link server, IPv6 on its prefix", { { ETH0, AF_INET6, "2001:db8:1::53", 0 } },
                  1, "eth0 2001:db8:1::53 dns_server" },
                { "link server, IPv6 on another link's prefix",
                  { { ETH1, AF_INET6, "2001:db8:1::53", 0 } }, 1, "" },
                { "global servers by subnet",
                  { { 0, AF_INET, "192.0.2.53", 0 }, { 0, AF_INET, "198.51.100.53", 0 },
                    { 0, AF_INET, "203.0.113.53", 0 }, { 0, AF_INET6, "2001:db8:1::53", 0 } }, 4,
                  "eth0 192.0.2.53 dns_server, eth0 2001:db8:1::53 dns_server, "
                  "eth1 198.51.100.53 dns_server" },
                { "link-local on its link", { { ETH0, AF_INET6, "fe80::53", 0 } }, 1,
                  "eth0 fe80::53 dns_server" },
                { "link-local on a link without other IPv6", { { ETH1, AF_INET6, "fe80::53", 0 } },
                  1, "eth1 fe80::53 dns_server" },
                { "global link-local: no link to watch it on", { { 0, AF_INET6, "fe80::53", 0 } },
                  1, "" },
                { "unknown ifindex ignored",
                  { { NOT_AN_UPLINK, AF_INET, "192.0.2.53", 0 },
                    { NOT_AN_UPLINK, AF_INET6, "fe80::53", 0 } }, 2, "" },
                { "IPv4 of 16 bytes", { { ETH0, AF_INET, "::ffff:192.0.2.53", -EBADMSG } }, 1, "" },
                { "IPv6 of 4 bytes", { { ETH0, AF_INET6, "192.0.2.53", -EBADMSG } }, 1, "" },
                { "another family", { { ETH0, AF_UNIX, "192.0.2.53", -EAFNOSUPPORT } }, 1, "" },
                { "negative ifindex", { { -1, AF_INET, "192.0.2.53", -EINVAL } }, 1, "" },
                { "a bad entry spoils no other",
                  { { ETH0, AF_INET6, "192.0.2.54", -EBADMSG }, { ETH0, AF_INET, "192.0.2.53", 0 } },
                  2, "eth0 192.0.2.53 dns_server" },
                { "global and per-link mixed",
                  { { 0, AF_INET, "192.0.2.1", 0 }, { ETH1, AF_INET, "192.0.2.54", 0 },
                    { ETH1, AF_INET, "198.51.100.53", 0 }, { ETH0, AF_INET6, "fe80::1", 0 } }, 4,
                  "eth0 192.0.2.1 dns_server, eth0 fe80::1 dns_server, "
                  "eth1 198.51.100.53 dns_server" },
                { "one address, a server of both links",
                  { { ETH0, AF_INET6, "fe80::53", 0 }, { ETH1, AF_INET6, "fe80::53", 0 } }, 2,
                  "eth0 fe80::53 dns_server, eth1 fe80::53 dns_server" },
        };
        Fixture *f = *state;
        NeighborAddr eth1_addr = addr("198.51.100.2");

        assert_int_equal(neighbor_table_add_uplink(f->t, "eth1", ETH1, true), 1);
        assert_true(neighbor_table_address(f->t, ETH1, &eth1_addr, 24, true));
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                DnsServer servers[ELEMENTSOF(cases[i].entries)];
                char got[1024];
                size_t n = 0;

                for (size_t k = 0; k < cases[i].n; k++) {
                        const ResolvedEntry *e = &cases[i].entries[k];
                        NeighborAddr a = addr(e->addr);
                        int r = dns_server_from_resolved(e->ifindex, e->family, a.bytes,
                                                         a.family == AF_INET ? 4 : 16, &servers[n]);
                        if (r != e->error)
                                fail_msg("%s: entry %zu: %d, expected %d", cases[i].name, k, r,
                                         e->error);
                        if (r >= 0)
                                n++;
                }
                neighbor_table_set_dns(f->t, servers, n);
                update(f);
                live_watches(f, got, sizeof got);
                if (strcmp(got, cases[i].watched) != 0)
                        fail_msg("%s: watched \"%s\", expected \"%s\"", cases[i].name, got,
                                 cases[i].watched);
                neighbor_table_sweep_retired(f->t);
        }
}

static void test_gateway_that_is_also_the_dns_server(void **state) {
        Fixture *f = *state;
        DnsServer d[2] = { dns("192.0.2.1", NULL), dns("192.0.2.53", NULL) };

        gateway(f, "192.0.2.1", true);
        assert_true(neighbor_table_set_dns(f->t, d, 2));
        assert_false(neighbor_table_set_dns(f->t, d, 2));
        update(f);
        assert_int_equal(n_live(f), 2);
        assert_int_equal(find(f, "192.0.2.1")->role, NEIGHBOR_ROLE_GATEWAY_AND_DNS_SERVER);
        assert_int_equal(find(f, "192.0.2.53")->role, NEIGHBOR_ROLE_DNS_SERVER);
        /* The DNS list changes: the gateway stays a gateway, the other goes. */
        assert_true(neighbor_table_set_dns(f->t, NULL, 0));
        update(f);
        assert_int_equal(n_live(f), 1);
        assert_int_equal(find(f, "192.0.2.1")->role, NEIGHBOR_ROLE_GATEWAY);
}

static void test_dns_servers_follow_the_addresses(void **state) {
        Fixture *f = *state;
        DnsServer d = dns("198.51.100.53", NULL);
        NeighborAddr a = addr("198.51.100.2");

        neighbor_table_set_dns(f->t, &d, 1);
        update(f);
        assert_null(find(f, "198.51.100.53"));
        assert_true(neighbor_table_address(f->t, ETH0, &a, 24, true));
        update(f);
        assert_non_null(find(f, "198.51.100.53"));
        /* The prefix shrinks to a /30 that leaves the server out. */
        assert_true(neighbor_table_address(f->t, ETH0, &a, 30, true));
        update(f);
        assert_null(find(f, "198.51.100.53"));
        assert_true(neighbor_table_address(f->t, ETH0, &a, 24, true));
        assert_true(neighbor_table_address(f->t, ETH0, &a, 24, false));
        assert_false(neighbor_table_address(f->t, ETH0, &a, 24, false));
        update(f);
        assert_null(find(f, "198.51.100.53"));
}

static void test_other_links_are_ignored(void **state) {
        Fixture *f = *state;
        NeighborAddr gw = addr("192.0.2.1"), a = addr("192.0.2.9");

        assert_false(neighbor_table_gateway(f->t, 9, &gw, 0, true));
        assert_false(neighbor_table_address(f->t, 9, &a, 24, true));
        update(f);
        assert_int_equal(neighbor_table_n_watches(f->t), 0);
        assert_null(neighbor_table_on_neighbor(f->t, 9, &gw, true, NUD_FAILED, 0));
        assert_int_equal(f->n_told, 0);
}

static void test_watches_vanish_with_the_uplink(void **state) {
        Fixture *f = *state;

        gateway(f, "192.0.2.1", true);
        update(f);
        nud(f, "192.0.2.1", NUD_FAILED, 0);
        assert_int_equal(f->n_told, 1);
        assert_true(neighbor_table_remove_uplink(f->t, ETH0));
        assert_false(neighbor_table_remove_uplink(f->t, ETH0));
        assert_int_equal(neighbor_table_n_watches(f->t), 0);
        assert_false(neighbor_table_has_uplink(f->t, ETH0));
        /* Nothing is told for a neighbour of an uplink that is gone. */
        nud(f, "192.0.2.1", NUD_REACHABLE, 0);
        assert_int_equal(f->n_told, 1);
}

static void test_uplink_down_forgets_its_gateways(void **state) {
        Fixture *f = *state;

        gateway(f, "192.0.2.1", true);
        update(f);
        assert_false(neighbor_table_set_up(f->t, ETH0, true));
        assert_true(neighbor_table_set_up(f->t, ETH0, false));
        update(f);
        assert_int_equal(n_live(f), 0);
        assert_true(neighbor_table_set_up(f->t, ETH0, true));
        gateway(f, "192.0.2.1", true);
        update(f);
        assert_int_equal(n_live(f), 1);
        assert_int_equal(f->n_told, 0);
}

static void test_uplink_down_watches_nothing(void **state) {
        Fixture *f = *state;
        DnsServer d = dns("192.0.2.53", NULL);

        neighbor_table_set_dns(f->t, &d, 1);
        update(f);
        nud(f, "192.0.2.53", NUD_REACHABLE, 0);
        assert_true(neighbor_table_set_up(f->t, ETH0, false));
        update(f);
        assert_int_equal(n_live(f), 0);
        /* Its entries fail while it is down: nothing is told. */
        nud(f, "192.0.2.53", NUD_FAILED, SEC);
        assert_int_equal(f->n_told, 0);
        /* Up again: what failed while it was down is no failure. */
        assert_true(neighbor_table_set_up(f->t, ETH0, true));
        update(f);
        assert_int_equal(find(f, "192.0.2.53")->role, NEIGHBOR_ROLE_DNS_SERVER);
        assert_false(find(f, "192.0.2.53")->failed);
        neighbor_table_flush(f->t, 2 * SEC);
        assert_int_equal(f->n_told, 0);
}

static void test_replaced_default_route(void **state) {
        Fixture *f = *state;
        NeighborAddr gw = addr("192.0.2.254");

        gateway(f, "192.0.2.1", true);
        gateway(f, "fe80::1", true);
        /* `ip route replace default via 192.0.2.254`: one RTM_NEWROUTE, NLM_F_REPLACE. */
        assert_true(neighbor_table_replace_gateways(f->t, AF_INET, 0));
        assert_true(neighbor_table_gateway(f->t, ETH0, &gw, 0, true));
        update(f);
        assert_int_equal(n_live(f), 2);
        assert_non_null(find(f, "192.0.2.254"));
        assert_non_null(find(f, "fe80::1"));
}

static void test_two_routes_one_gateway(void **state) {
        Fixture *f = *state;
        NeighborAddr gw = addr("192.0.2.1");

        assert_true(neighbor_table_gateway(f->t, ETH0, &gw, 100, true));
        assert_true(neighbor_table_gateway(f->t, ETH0, &gw, 200, true));
        update(f);
        assert_int_equal(n_live(f), 1);
        assert_true(neighbor_table_gateway(f->t, ETH0, &gw, 100, false));
        update(f);
        assert_int_equal(n_live(f), 1);
        assert_true(neighbor_table_gateway(f->t, ETH0, &gw, 200, false));
        update(f);
        assert_int_equal(n_live(f), 0);
}

static void test_dumps_drop_what_they_do_not_list(void **state) {
        Fixture *f = *state;
        NeighborAddr gw = addr("192.0.2.1"), a = addr("192.0.2.2");

        gateway(f, "192.0.2.1", true);
        gateway(f, "192.0.2.99", true);
        update(f);
        nud(f, "192.0.2.1", NUD_REACHABLE, 0);
        /* A route dump that lists only 192.0.2.1. */
        neighbor_table_mark(f->t, NEIGHBOR_DUMP_ROUTES);
        assert_false(neighbor_table_gateway(f->t, ETH0, &gw, 0, true));
        assert_true(neighbor_table_sweep(f->t, NEIGHBOR_DUMP_ROUTES));
        update(f);
        assert_int_equal(n_live(f), 1);
        /* A neighbour dump that lists nothing: the entry is gone, which is no verdict. */
        neighbor_table_mark(f->t, NEIGHBOR_DUMP_NEIGHBORS);
        assert_false(neighbor_table_sweep(f->t, NEIGHBOR_DUMP_NEIGHBORS));
        assert_false(find(f, "192.0.2.1")->have_entry);
        /* An address dump that lists 192.0.2.2 only. */
        neighbor_table_mark(f->t, NEIGHBOR_DUMP_ADDRESSES);
        assert_false(neighbor_table_address(f->t, ETH0, &a, 24, true));
        assert_true(neighbor_table_sweep(f->t, NEIGHBOR_DUMP_ADDRESSES));
        assert_false(neighbor_table_sweep(f->t, NEIGHBOR_DUMP_ADDRESSES));
        assert_int_equal(f->n_told, 0);
}

static void test_watch_limit(void **state) {
        Fixture *f = *state;
        char gw[32];

        /* More uplinks than watches allowed, a gateway each: the table stops at the limit. */
        for (int i = 0; i < NEIGHBOR_WATCHES_MAX + 10; i++) {
                NeighborAddr a;
                snprintf(gw, sizeof gw, "2001:db8:%x::1", i);
                a = addr(gw);
                assert_true(neighbor_table_add_uplink(f->t, "ethx", 100 + i, true) >= 0);
                assert_true(neighbor_table_gateway(f->t, 100 + i, &a, 0, true));
        }
        assert_int_equal(neighbor_table_update_watches(f->t, NULL), 0);
        assert_int_equal(neighbor_table_n_watches(f->t), NEIGHBOR_WATCHES_MAX);
        assert_int_equal(n_live_all(f), NEIGHBOR_WATCHES_MAX);
        /* The first uplink gets a second gateway while the table is full: it goes
         * unwatched, and every watch there keeps its role. */
        {
                NeighborAddr a = addr("2001:db8:ffff::1");
                assert_true(neighbor_table_gateway(f->t, 100, &a, 0, true));
        }
        assert_int_equal(neighbor_table_update_watches(f->t, NULL), 0);
        assert_int_equal(n_live_all(f), NEIGHBOR_WATCHES_MAX);
}

/* ---- verdicts ----------------------------------------------------------------------------- */

/* A sequence of kernel states and the verdicts it must lead to, in order. */
typedef struct Sequence {
        const char *name;
        uint16_t states[16];       /* 0xffff: the entry is deleted; ends at 0 */
        NeighborEventType told[8]; /* ends at 0 */
} Sequence;

#define DEL 0xffff

static const Sequence sequences[] = {
        { "reachable is no news", { NUD_REACHABLE, NUD_STALE, NUD_REACHABLE }, { 0 } },
        { "failure told once", { NUD_REACHABLE, NUD_PROBE, NUD_FAILED, NUD_INCOMPLETE, NUD_FAILED,
                                 NUD_FAILED }, { NEIGHBOR_EVENT_FAILED } },
        { "failure, then recovery", { NUD_STALE, NUD_PROBE, NUD_FAILED, NUD_INCOMPLETE, NUD_REACHABLE },
          { NEIGHBOR_EVENT_FAILED, NEIGHBOR_EVENT_REACHABLE } },
        { "stale after a failure is not a recovery", { NUD_FAILED, NUD_STALE, NUD_PROBE, NUD_FAILED },
          { NEIGHBOR_EVENT_FAILED } },
        { "a deleted entry is not a recovery", { NUD_FAILED, DEL, NUD_INCOMPLETE, NUD_FAILED },
          { NEIGHBOR_EVENT_FAILED } },
        { "a deleted entry is not a failure", { NUD_REACHABLE, DEL, NUD_INCOMPLETE, DEL }, { 0 } },
        { "two failures, two recoveries", { NUD_FAILED, NUD_REACHABLE, NUD_STALE, NUD_FAILED,
                                            NUD_REACHABLE },
          { NEIGHBOR_EVENT_FAILED, NEIGHBOR_EVENT_REACHABLE, NEIGHBOR_EVENT_FAILED,
            NEIGHBOR_EVENT_REACHABLE } },
        { "failed at first sight", { NUD_FAILED }, { NEIGHBOR_EVENT_FAILED } },
        { "an administrator's static entry ends a failure", { NUD_FAILED, NUD_PERMANENT },
          { NEIGHBOR_EVENT_FAILED, NEIGHBOR_EVENT_REACHABLE } },
};

static void test_sequences(void **state) {
        Fixture *f = *state;

        gateway(f, "192.0.2.1", true);
        for (size_t i = 0; i < ELEMENTSOF(sequences); i++) {
                const Sequence *s = &sequences[i];
                NeighborAddr a = addr("192.0.2.1");
                size_t n = 0;

                /* A fresh watch per sequence. */
                assert_true(neighbor_table_remove_uplink(f->t, ETH0));
                assert_int_equal(neighbor_table_add_uplink(f->t, "eth0", ETH0, true), 1);
                gateway(f, "192.0.2.1", true);
                update(f);
                f->n_told = 0;
                for (size_t k = 0; s->states[k]; k++)
                        (void) neighbor_table_on_neighbor(f->t, ETH0, &a, s->states[k] != DEL,
                                                          s->states[k] == DEL ? 0 : s->states[k],
                                                          (uint64_t) k * SEC);
                while (s->told[n])
                        n++;
                if (f->n_told != n)
                        fail_msg("%s: %zu verdicts, expected %zu", s->name, f->n_told, n);
                for (size_t k = 0; k < n; k++) {
                        if (f->told[k].type != s->told[k])
                                fail_msg("%s: verdict %zu is %s", s->name, k,
                                         neighbor_event_type_to_string(f->told[k].type));
                        assert_string_equal(f->told[k].addr, "192.0.2.1");
                        assert_int_equal(f->told[k].role, NEIGHBOR_ROLE_GATEWAY);
                }
        }
}

static void test_rate_limit_holds_back_then_tells_the_latest(void **state) {
        Fixture *f = *state;
        uint64_t now = 100 * SEC;

        gateway(f, "192.0.2.1", true);
        update(f);
        /* Five failures and recoveries in five seconds: the first four verdicts are told. */
        for (int i = 0; i < 5; i++) {
                nud(f, "192.0.2.1", NUD_FAILED, now++);
                nud(f, "192.0.2.1", NUD_REACHABLE, now++);
        }
        assert_int_equal(f->n_told, NEIGHBOR_SIGNAL_BURST);
        assert_int_equal(f->told[3].type, NEIGHBOR_EVENT_REACHABLE);
        /* It fails again, within the window: held back. */
        nud(f, "192.0.2.1", NUD_FAILED, now++);
        assert_int_equal(f->n_told, NEIGHBOR_SIGNAL_BURST);
        neighbor_table_flush(f->t, now);
        assert_int_equal(f->n_told, NEIGHBOR_SIGNAL_BURST);
        /* Once the window has passed, the latest verdict is told, once. */
        neighbor_table_flush(f->t, 100 * SEC + NEIGHBOR_SIGNAL_WINDOW_USEC);
        assert_int_equal(f->n_told, NEIGHBOR_SIGNAL_BURST + 1);
        assert_int_equal(f->told[4].type, NEIGHBOR_EVENT_FAILED);
        neighbor_table_flush(f->t, 100 * SEC + 2 * NEIGHBOR_SIGNAL_WINDOW_USEC);
        assert_int_equal(f->n_told, NEIGHBOR_SIGNAL_BURST + 1);
}

static void test_rate_limit_forgets_what_came_back(void **state) {
        Fixture *f = *state;
        uint64_t now = 100 * SEC;

        gateway(f, "192.0.2.1", true);
        update(f);
        for (int i = 0; i < 2; i++) {
                nud(f, "192.0.2.1", NUD_FAILED, now++);
                nud(f, "192.0.2.1", NUD_REACHABLE, now++);
        }
        /* A failure and its recovery while held back: nothing is owed. */
        nud(f, "192.0.2.1", NUD_FAILED, now++);
        nud(f, "192.0.2.1", NUD_REACHABLE, now++);
        neighbor_table_flush(f->t, now + NEIGHBOR_SIGNAL_WINDOW_USEC);
        assert_int_equal(f->n_told, NEIGHBOR_SIGNAL_BURST);
}

static void test_retired_watch_keeps_its_state(void **state) {
        Fixture *f = *state;

        gateway(f, "192.0.2.1", true);
        update(f);
        nud(f, "192.0.2.1", NUD_FAILED, 0);
        assert_int_equal(f->n_told, 1);
        /* The route is deleted and added again (a DHCP client renewing its lease). */
        gateway(f, "192.0.2.1", false);
        update(f);
        assert_null(find(f, "192.0.2.1"));
        /* Retired: the kernel's word is kept but not told. */
        nud(f, "192.0.2.1", NUD_INCOMPLETE, SEC);
        assert_int_equal(f->n_told, 1);
        gateway(f, "192.0.2.1", true);
        update(f);
        assert_true(find(f, "192.0.2.1")->failed);
        /* Still the same failure: not told again; its recovery is. */
        nud(f, "192.0.2.1", NUD_FAILED, 2 * SEC);
        assert_int_equal(f->n_told, 1);
        nud(f, "192.0.2.1", NUD_REACHABLE, 3 * SEC);
        assert_int_equal(f->n_told, 2);
        assert_int_equal(f->told[1].type, NEIGHBOR_EVENT_REACHABLE);
}

static void test_recovery_while_retired_is_told_when_revived(void **state) {
        Fixture *f = *state;

        gateway(f, "192.0.2.1", true);
        update(f);
        nud(f, "192.0.2.1", NUD_FAILED, 0);
        gateway(f, "192.0.2.1", false);
        update(f);
        nud(f, "192.0.2.1", NUD_REACHABLE, SEC);
        assert_int_equal(f->n_told, 1);
        gateway(f, "192.0.2.1", true);
        update(f);
        neighbor_table_flush(f->t, 2 * SEC);
        assert_int_equal(f->n_told, 2);
        assert_int_equal(f->told[1].type, NEIGHBOR_EVENT_REACHABLE);
}

static void test_swept_watch_starts_afresh(void **state) {
        Fixture *f = *state;

        gateway(f, "192.0.2.1", true);
        update(f);
        nud(f, "192.0.2.1", NUD_FAILED, 0);
        gateway(f, "192.0.2.1", false);
        update(f);
        neighbor_table_sweep_retired(f->t);
        assert_int_equal(neighbor_table_n_watches(f->t), 0);
        gateway(f, "192.0.2.1", true);
        update(f);
        assert_false(find(f, "192.0.2.1")->failed);
}

static void test_uplink_flap_tells_nothing(void **state) {
        Fixture *f = *state;

        for (unsigned i = 0; i < 50; i++) {
                gateway(f, "192.0.2.1", true);
                update(f);
                nud(f, "192.0.2.1", NUD_REACHABLE, (uint64_t) i * SEC);
                /* Down: routes and entries go (the kernel flushes the entries). */
                neighbor_table_set_up(f->t, ETH0, false);
                {
                        NeighborAddr gw = addr("192.0.2.1");
                        (void) neighbor_table_on_neighbor(f->t, ETH0, &gw, false, 0,
                                                          (uint64_t) i * SEC);
                }
                update(f);
                neighbor_table_set_up(f->t, ETH0, true);
        }
        assert_int_equal(f->n_told, 0);
}

static void test_probe_wanted(void **state) {
        static const struct {
                bool have_entry;
                uint16_t nud;
                bool wanted;
        } cases[] = {
                { false, 0, true },            /* no entry: resolve it */
                { true, NUD_NONE, true },
                { true, NUD_REACHABLE, true }, /* confirm it */
                { true, NUD_STALE, true },
                { true, NUD_DELAY, true },
                { true, NUD_FAILED, true },    /* resolve it again: has it come back? */
                { true, NUD_PROBE, false },    /* the kernel is at it */
                { true, NUD_INCOMPLETE, false },
                { true, NUD_PERMANENT, false }, /* static: never fails */
                { true, NUD_NOARP, false },
        };
        NeighborWatch w = { .role = NEIGHBOR_ROLE_GATEWAY };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                w.have_entry = cases[i].have_entry;
                w.nud = cases[i].nud;
                if (neighbor_watch_wants_probe(&w) != cases[i].wanted)
                        fail_msg("case %zu (%s)", i, neighbor_nud_to_string(w.have_entry, w.nud));
        }
        w.role = 0;
        w.nud = NUD_STALE;
        assert_false(neighbor_watch_wants_probe(&w));
}

static void test_strings(void **state) {
        (void) state;
        assert_string_equal(neighbor_role_to_string(NEIGHBOR_ROLE_GATEWAY), "gateway");
        assert_string_equal(neighbor_role_to_string(NEIGHBOR_ROLE_GATEWAY_AND_DNS_SERVER),
                            "gateway_and_dns_server");
        assert_null(neighbor_role_to_string(0));
        assert_null(neighbor_role_to_string(_NEIGHBOR_ROLE_MAX));
        assert_string_equal(neighbor_event_type_to_string(NEIGHBOR_EVENT_REACHABLE), "reachable");
        assert_null(neighbor_event_type_to_string(0));
        assert_string_equal(neighbor_nud_to_string(true, NUD_STALE), "stale");
        assert_string_equal(neighbor_nud_to_string(false, NUD_STALE), "none");
        /* The proto's values. */
        assert_int_equal(NEIGHBOR_ROLE_GATEWAY, 1);
        assert_int_equal(NEIGHBOR_ROLE_DNS_SERVER, 2);
        assert_int_equal(NEIGHBOR_ROLE_GATEWAY_AND_DNS_SERVER, 3);
        assert_int_equal(NEIGHBOR_EVENT_FAILED, 1);
        assert_int_equal(NEIGHBOR_EVENT_REACHABLE, 2);
}

static void test_prefix_match(void **state) {
        NeighborAddr a = addr("192.0.2.130"), p = addr("192.0.2.129");

        (void) state;
        assert_true(neighbor_addr_in_prefix(&a, &p, 25));
        assert_true(neighbor_addr_in_prefix(&a, &p, 30));
        assert_false(neighbor_addr_in_prefix(&a, &p, 31));
        assert_true(neighbor_addr_in_prefix(&a, &p, 0));
        assert_false(neighbor_addr_in_prefix(&a, &p, 33));
        p = addr("2001:db8::1");
        assert_false(neighbor_addr_in_prefix(&a, &p, 0)); /* families differ */
        a = addr("2001:db8::ffff");
        assert_true(neighbor_addr_in_prefix(&a, &p, 112));
        assert_false(neighbor_addr_in_prefix(&a, &p, 113));
        assert_false(neighbor_addr_in_prefix(&a, &p, 128));
        assert_false(neighbor_addr_in_prefix(&a, &p, 129));
}

/* ---- rtnetlink messages ------------------------------------------------------------------- */

/* NLMSG_ALIGN() and NLA_ALIGN(), in size_t. */
#define ALIGN4(len) (((size_t) (len) + 3u) & ~(size_t) 3u)
#define HDRLEN ALIGN4(sizeof(struct nlmsghdr))
#define ATTR_HDRLEN ALIGN4(sizeof(struct nlattr))

/* A message laid out by hand: the netlink header, the family header, then attributes. */
typedef struct Msg {
        _Alignas(struct nlmsghdr) uint8_t b[512];
        size_t len;
} Msg;

static struct nlmsghdr *msg_start(Msg *m, uint16_t type, uint16_t flags, const void *hdr,
                                  size_t hdr_len) {
        struct nlmsghdr *h = (struct nlmsghdr *) m->b;

        memset(m, 0, sizeof *m);
        h->nlmsg_type = type;
        h->nlmsg_flags = flags;
        memcpy(m->b + HDRLEN, hdr, hdr_len);
        m->len = HDRLEN + ALIGN4(hdr_len);
        h->nlmsg_len = (uint32_t) m->len;
        return h;
}

/* An attribute: struct nlattr { len, type } and the value, padded to 4. */
static void msg_attr(Msg *m, uint16_t type, const void *data, size_t len) {
        struct nlmsghdr *h = (struct nlmsghdr *) m->b;
        struct nlattr a = { .nla_len = (uint16_t) (ATTR_HDRLEN + len), .nla_type = type };

        memcpy(m->b + m->len, &a, sizeof a);
        memcpy(m->b + m->len + ATTR_HDRLEN, data, len);
        m->len += ALIGN4(ATTR_HDRLEN + len);
        h->nlmsg_len = (uint32_t) m->len;
}

static void msg_u32(Msg *m, uint16_t type, uint32_t v) {
        msg_attr(m, type, &v, sizeof v);
}

static void msg_addr(Msg *m, uint16_t type, const char *s) {
        NeighborAddr a = addr(s);
        msg_attr(m, type, a.bytes, a.family == AF_INET ? 4 : 16);
}

static struct nlmsghdr *neigh_msg(Msg *m, uint16_t type, uint8_t family, int ifindex,
                                  uint16_t state, uint8_t flags) {
        struct ndmsg ndm = { .ndm_family = family, .ndm_ifindex = ifindex, .ndm_state = state,
                             .ndm_flags = flags };
        return msg_start(m, type, 0, &ndm, sizeof ndm);
}

static struct nlmsghdr *route_msg(Msg *m, uint16_t type, uint16_t flags, uint8_t family,
                                  uint8_t table, uint8_t dst_len, uint8_t rtype) {
        struct rtmsg rtm = { .rtm_family = family, .rtm_table = table, .rtm_dst_len = dst_len,
                             .rtm_type = rtype, .rtm_protocol = RTPROT_BOOT };
        return msg_start(m, type, flags, &rtm, sizeof rtm);
}

static struct nlmsghdr *addr_msg(Msg *m, uint16_t type, uint8_t family, uint8_t prefix_len,
                                 uint32_t ifindex) {
        struct ifaddrmsg ifa = { .ifa_family = family, .ifa_prefixlen = prefix_len,
                                 .ifa_index = ifindex };
        return msg_start(m, type, 0, &ifa, sizeof ifa);
}

static int decode(Msg *m, NeighborNlMsg *out) {
        memset(out, 0xa5, NEIGHBOR_NEXTHOPS_MAX * sizeof *out);
        return neighbor_nl_decode((struct nlmsghdr *) m->b, out);
}

static void assert_addr(const NeighborNlMsg *x, const char *s) {
        char buf[NEIGHBOR_ADDR_STRLEN];
        assert_string_equal(neighbor_addr_to_string(&x->addr, buf), s);
}

static void test_decode_neighbor_ipv4(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        neigh_msg(&m, RTM_NEWNEIGH, AF_INET, ETH0, NUD_FAILED, 0);
        msg_addr(&m, NDA_DST, "192.0.2.1");
        msg_attr(&m, NDA_LLADDR, "\x02\x00\x00\x00\x00\x01", 6);
        assert_int_equal(decode(&m, out), 1);
        assert_int_equal(out[0].kind, NEIGHBOR_NL_NEIGHBOR);
        assert_true(out[0].present);
        assert_int_equal(out[0].ifindex, ETH0);
        assert_int_equal(out[0].nud, NUD_FAILED);
        assert_addr(&out[0], "192.0.2.1");
}

static void test_decode_neighbor_ipv6_deleted(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        neigh_msg(&m, RTM_DELNEIGH, AF_INET6, ETH0, NUD_STALE, NTF_ROUTER);
        msg_addr(&m, NDA_DST, "fe80::1");
        assert_int_equal(decode(&m, out), 1);
        assert_false(out[0].present);
        assert_addr(&out[0], "fe80::1");
}

static void test_decode_neighbor_proxy_ignored(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        neigh_msg(&m, RTM_NEWNEIGH, AF_INET6, ETH0, NUD_NONE, NTF_PROXY);
        msg_addr(&m, NDA_DST, "2001:db8::5");
        assert_int_equal(decode(&m, out), 0);
}

static void test_decode_neighbor_bridge_fdb_ignored(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        neigh_msg(&m, RTM_NEWNEIGH, AF_BRIDGE, ETH0, NUD_PERMANENT, NTF_SELF);
        msg_attr(&m, NDA_LLADDR, "\x02\x00\x00\x00\x00\x01", 6);
        assert_int_equal(decode(&m, out), 0);
}

static void test_decode_neighbor_without_dst(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        neigh_msg(&m, RTM_NEWNEIGH, AF_INET, ETH0, NUD_REACHABLE, 0);
        assert_int_equal(decode(&m, out), -EBADMSG);
}

static void test_decode_neighbor_dst_wrong_size(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        /* An IPv6 address in an IPv4 entry. */
        neigh_msg(&m, RTM_NEWNEIGH, AF_INET, ETH0, NUD_REACHABLE, 0);
        msg_addr(&m, NDA_DST, "2001:db8::1");
        assert_int_equal(decode(&m, out), -EBADMSG);
}

static void test_decode_neighbor_ifindex_0(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        neigh_msg(&m, RTM_NEWNEIGH, AF_INET, 0, NUD_REACHABLE, 0);
        msg_addr(&m, NDA_DST, "192.0.2.1");
        assert_int_equal(decode(&m, out), -EBADMSG);
}

static void test_decode_neighbor_truncated_header(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;
        struct nlmsghdr *h;

        (void) state;
        h = neigh_msg(&m, RTM_NEWNEIGH, AF_INET, ETH0, NUD_REACHABLE, 0);
        /* Room for the netlink header and half an ndmsg. */
        h->nlmsg_len = (uint32_t) (HDRLEN + sizeof(struct ndmsg) / 2);
        assert_int_equal(decode(&m, out), -EBADMSG);
}

static void test_decode_neighbor_attribute_past_the_end(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;
        struct nlmsghdr *h;

        (void) state;
        h = neigh_msg(&m, RTM_NEWNEIGH, AF_INET, ETH0, NUD_REACHABLE, 0);
        msg_addr(&m, NDA_DST, "192.0.2.1");
        /* The message ends two bytes into the address: the attribute does not fit. */
        h->nlmsg_len -= 2;
        assert_int_equal(decode(&m, out), -EBADMSG);
}

static void test_decode_default_route_ipv4(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        route_msg(&m, RTM_NEWROUTE, 0, AF_INET, RT_TABLE_MAIN, 0, RTN_UNICAST);
        msg_u32(&m, RTA_TABLE, RT_TABLE_MAIN);
        msg_u32(&m, RTA_PRIORITY, 100);
        msg_addr(&m, RTA_GATEWAY, "192.0.2.1");
        msg_u32(&m, RTA_OIF, ETH0);
        assert_int_equal(decode(&m, out), 1);
        assert_int_equal(out[0].kind, NEIGHBOR_NL_GATEWAY);
        assert_true(out[0].present);
        assert_false(out[0].replace);
        assert_int_equal(out[0].ifindex, ETH0);
        assert_int_equal(out[0].metric, 100);
        assert_addr(&out[0], "192.0.2.1");
}

static void test_decode_default_route_ipv6_replaced(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        route_msg(&m, RTM_NEWROUTE, NLM_F_REPLACE, AF_INET6, RT_TABLE_MAIN, 0, RTN_UNICAST);
        msg_addr(&m, RTA_GATEWAY, "fe80::1");
        msg_u32(&m, RTA_OIF, ETH0);
        assert_int_equal(decode(&m, out), 1);
        assert_true(out[0].replace);
        assert_int_equal(out[0].metric, 0);
        assert_addr(&out[0], "fe80::1");
}

static void test_decode_route_deleted(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        route_msg(&m, RTM_DELROUTE, NLM_F_REPLACE, AF_INET, RT_TABLE_MAIN, 0, RTN_UNICAST);
        msg_addr(&m, RTA_GATEWAY, "192.0.2.1");
        msg_u32(&m, RTA_OIF, ETH0);
        assert_int_equal(decode(&m, out), 1);
        assert_false(out[0].present);
        assert_false(out[0].replace);
}

/* Routes of no interest: each differs from a default route in one field. */
static void test_decode_routes_ignored(void **state) {
        static const struct {
                uint8_t family, table, dst_len, type;
                uint32_t table_attr; /* 0: none */
                bool gateway, oif;
        } cases[] = {
                { AF_INET, 200, 0, RTN_UNICAST, 0, true, true },            /* another table */
                { AF_INET, RT_TABLE_UNSPEC, 0, RTN_UNICAST, 1002, true, true }, /* ours, per uplink */
                { AF_INET, RT_TABLE_MAIN, 24, RTN_UNICAST, 0, true, true }, /* not a default */
                { AF_INET, RT_TABLE_MAIN, 0, RTN_BLACKHOLE, 0, false, false },
                { AF_INET, RT_TABLE_MAIN, 0, RTN_UNICAST, 0, false, true }, /* on-link */
                { AF_INET, RT_TABLE_MAIN, 0, RTN_UNICAST, 0, true, false }, /* nexthop object */
                { AF_BRIDGE, RT_TABLE_MAIN, 0, RTN_UNICAST, 0, true, true },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
                Msg m;

                route_msg(&m, RTM_NEWROUTE, 0, cases[i].family, cases[i].table, cases[i].dst_len,
                          cases[i].type);
                if (cases[i].table_attr)
                        msg_u32(&m, RTA_TABLE, cases[i].table_attr);
                if (cases[i].gateway)
                        msg_addr(&m, RTA_GATEWAY, "192.0.2.1");
                if (cases[i].oif)
                        msg_u32(&m, RTA_OIF, ETH0);
                if (decode(&m, out) != 0)
                        fail_msg("case %zu decoded", i);
        }
}

static void test_decode_route_table_attribute_wins(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        /* rtm_table says "unspec" (a table above 255), RTA_TABLE says main. */
        route_msg(&m, RTM_NEWROUTE, 0, AF_INET, RT_TABLE_UNSPEC, 0, RTN_UNICAST);
        msg_u32(&m, RTA_TABLE, RT_TABLE_MAIN);
        msg_addr(&m, RTA_GATEWAY, "192.0.2.1");
        msg_u32(&m, RTA_OIF, ETH0);
        assert_int_equal(decode(&m, out), 1);
}

static void test_decode_route_oif_wrong_size(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        uint16_t oif = ETH0;
        Msg m;

        (void) state;
        route_msg(&m, RTM_NEWROUTE, 0, AF_INET, RT_TABLE_MAIN, 0, RTN_UNICAST);
        msg_addr(&m, RTA_GATEWAY, "192.0.2.1");
        msg_attr(&m, RTA_OIF, &oif, sizeof oif);
        assert_int_equal(decode(&m, out), -EBADMSG);
}

static void test_decode_route_oif_0(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        route_msg(&m, RTM_NEWROUTE, 0, AF_INET, RT_TABLE_MAIN, 0, RTN_UNICAST);
        msg_addr(&m, RTA_GATEWAY, "192.0.2.1");
        msg_u32(&m, RTA_OIF, 0);
        assert_int_equal(decode(&m, out), -EBADMSG);
}

static void test_decode_route_gateway_wrong_size(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        route_msg(&m, RTM_NEWROUTE, 0, AF_INET6, RT_TABLE_MAIN, 0, RTN_UNICAST);
        msg_addr(&m, RTA_GATEWAY, "192.0.2.1");
        msg_u32(&m, RTA_OIF, ETH0);
        assert_int_equal(decode(&m, out), -EBADMSG);
}

static void test_decode_route_table_wrong_size(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        uint8_t table = RT_TABLE_MAIN;
        Msg m;

        (void) state;
        route_msg(&m, RTM_NEWROUTE, 0, AF_INET, RT_TABLE_MAIN, 0, RTN_UNICAST);
        msg_attr(&m, RTA_TABLE, &table, sizeof table);
        assert_int_equal(decode(&m, out), -EBADMSG);
}

static void test_decode_route_priority_wrong_size(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        uint64_t prio = 5;
        Msg m;

        (void) state;
        route_msg(&m, RTM_NEWROUTE, 0, AF_INET, RT_TABLE_MAIN, 0, RTN_UNICAST);
        msg_attr(&m, RTA_PRIORITY, &prio, sizeof prio);
        msg_addr(&m, RTA_GATEWAY, "192.0.2.1");
        msg_u32(&m, RTA_OIF, ETH0);
        assert_int_equal(decode(&m, out), -EBADMSG);
}

/* RTA_MULTIPATH: nexthops of struct rtnexthop { len, flags, hops, ifindex } and their
 * RTA_GATEWAY, each padded to 4. */
typedef struct Nexthop {
        uint16_t len;          /* rtnh_len as written (0: the right one) */
        int ifindex;
        const char *gateway;   /* NULL: none */
} Nexthop;

static void msg_multipath(Msg *m, const Nexthop *nh, size_t n, size_t trailing) {
        uint8_t buf[256] = {};
        size_t len = 0;

        for (size_t i = 0; i < n; i++) {
                struct rtnexthop r = { .rtnh_ifindex = nh[i].ifindex };
                size_t start = len;
                len += sizeof r;
                if (nh[i].gateway) {
                        NeighborAddr a = addr(nh[i].gateway);
                        size_t alen = a.family == AF_INET ? 4 : 16;
                        struct nlattr at = { .nla_len = (uint16_t) (ATTR_HDRLEN + alen),
                                             .nla_type = RTA_GATEWAY };
                        memcpy(buf + len, &at, sizeof at);
                        memcpy(buf + len + ATTR_HDRLEN, a.bytes, alen);
                        len += ALIGN4(ATTR_HDRLEN + alen);
                }
                r.rtnh_len = nh[i].len ? nh[i].len : (uint16_t) (len - start);
                memcpy(buf + start, &r, sizeof r);
        }
        msg_attr(m, RTA_MULTIPATH, buf, len + trailing);
}

static void test_decode_multipath(void **state) {
        const Nexthop nh[] = { { 0, ETH0, "192.0.2.1" }, { 0, 3, "198.51.100.1" }, { 0, 4, NULL } };
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        route_msg(&m, RTM_NEWROUTE, 0, AF_INET, RT_TABLE_MAIN, 0, RTN_UNICAST);
        msg_u32(&m, RTA_PRIORITY, 7);
        msg_multipath(&m, nh, ELEMENTSOF(nh), 0);
        assert_int_equal(decode(&m, out), 2);
        assert_int_equal(out[0].ifindex, ETH0);
        assert_addr(&out[0], "192.0.2.1");
        assert_int_equal(out[1].ifindex, 3);
        assert_addr(&out[1], "198.51.100.1");
        assert_int_equal(out[1].metric, 7);
}

static void test_decode_multipath_more_than_kept(void **state) {
        Nexthop nh[NEIGHBOR_NEXTHOPS_MAX + 2];
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(nh); i++)
                nh[i] = (Nexthop) { 0, (int) i + 1, "192.0.2.1" };
        route_msg(&m, RTM_NEWROUTE, 0, AF_INET, RT_TABLE_MAIN, 0, RTN_UNICAST);
        msg_multipath(&m, nh, ELEMENTSOF(nh), 0);
        assert_int_equal(decode(&m, out), NEIGHBOR_NEXTHOPS_MAX);
}

/* Malformed RTA_MULTIPATH, each on an IPv4 default route in the main table. */
static void test_decode_multipath_malformed(void **state) {
        static const struct {
                const char *name;
                Nexthop nh[2];
                size_t n;
                size_t trailing; /* bytes after the last nexthop */
        } cases[] = {
                { "nexthop too long",
                  { { 0, ETH0, "192.0.2.1" }, { 64, 3, "198.51.100.1" } }, 2, 0 },
                { "nexthop too short", { { 4, ETH0, NULL } }, 1, 0 },
                /* Four bytes after the last nexthop: less than a struct rtnexthop. */
                { "trailing bytes", { { 0, ETH0, "192.0.2.1" } }, 1, 4 },
                { "ifindex 0", { { 0, 0, "192.0.2.1" } }, 1, 0 },
                { "gateway wrong size", { { 0, ETH0, "fe80::1" } }, 1, 0 },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
                Msg m;
                int r;

                route_msg(&m, RTM_NEWROUTE, 0, AF_INET, RT_TABLE_MAIN, 0, RTN_UNICAST);
                msg_multipath(&m, cases[i].nh, cases[i].n, cases[i].trailing);
                r = decode(&m, out);
                if (r != -EBADMSG)
                        fail_msg("case %zu (%s) decoded to %d, not -EBADMSG", i, cases[i].name, r);
        }
}

static void test_decode_address_ipv4_local(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        /* Point-to-point: IFA_ADDRESS is the peer, IFA_LOCAL ours. */
        addr_msg(&m, RTM_NEWADDR, AF_INET, 32, ETH0);
        msg_addr(&m, IFA_ADDRESS, "198.51.100.1");
        msg_addr(&m, IFA_LOCAL, "198.51.100.2");
        assert_int_equal(decode(&m, out), 1);
        assert_int_equal(out[0].kind, NEIGHBOR_NL_ADDRESS);
        assert_int_equal(out[0].prefix_len, 32);
        assert_addr(&out[0], "198.51.100.2");
}

static void test_decode_address_ipv6_deleted(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        addr_msg(&m, RTM_DELADDR, AF_INET6, 64, ETH0);
        msg_addr(&m, IFA_ADDRESS, "2001:db8:1::2");
        assert_int_equal(decode(&m, out), 1);
        assert_false(out[0].present);
        assert_int_equal(out[0].prefix_len, 64);
        assert_addr(&out[0], "2001:db8:1::2");
}

static void test_decode_address_prefix_too_long(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        addr_msg(&m, RTM_NEWADDR, AF_INET, 33, ETH0);
        msg_addr(&m, IFA_ADDRESS, "192.0.2.2");
        assert_int_equal(decode(&m, out), -EBADMSG);
}

static void test_decode_address_ifindex_0(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        addr_msg(&m, RTM_NEWADDR, AF_INET, 24, 0);
        msg_addr(&m, IFA_ADDRESS, "192.0.2.2");
        assert_int_equal(decode(&m, out), -EBADMSG);
}

static void test_decode_address_ifindex_above_int(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        addr_msg(&m, RTM_NEWADDR, AF_INET, 24, 0x80000000u);
        msg_addr(&m, IFA_ADDRESS, "192.0.2.2");
        assert_int_equal(decode(&m, out), -EBADMSG);
}

static void test_decode_address_missing(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        addr_msg(&m, RTM_NEWADDR, AF_INET6, 64, ETH0);
        msg_attr(&m, IFA_LABEL, "eth0", 5);
        assert_int_equal(decode(&m, out), -EBADMSG);
}

static void test_decode_address_wrong_size(void **state) {
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        addr_msg(&m, RTM_NEWADDR, AF_INET6, 64, ETH0);
        msg_addr(&m, IFA_ADDRESS, "192.0.2.2");
        assert_int_equal(decode(&m, out), -EBADMSG);
}

static void test_decode_other_messages_ignored(void **state) {
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ETH0 };
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        (void) state;
        msg_start(&m, RTM_NEWLINK, 0, &ifi, sizeof ifi);
        assert_int_equal(decode(&m, out), 0);
        msg_start(&m, NLMSG_DONE, 0, &ifi, sizeof ifi);
        assert_int_equal(decode(&m, out), 0);
}

/* What a decoded neighbour message does to the table, end to end. */
static void test_decoded_failure_is_told(void **state) {
        Fixture *f = *state;
        NeighborNlMsg out[NEIGHBOR_NEXTHOPS_MAX];
        Msg m;

        route_msg(&m, RTM_NEWROUTE, 0, AF_INET6, RT_TABLE_MAIN, 0, RTN_UNICAST);
        msg_addr(&m, RTA_GATEWAY, "fe80::1");
        msg_u32(&m, RTA_OIF, ETH0);
        assert_int_equal(decode(&m, out), 1);
        assert_true(neighbor_table_gateway(f->t, out[0].ifindex, &out[0].addr, out[0].metric,
                                           out[0].present));
        update(f);
        neigh_msg(&m, RTM_NEWNEIGH, AF_INET6, ETH0, NUD_FAILED, NTF_ROUTER);
        msg_addr(&m, NDA_DST, "fe80::1");
        assert_int_equal(decode(&m, out), 1);
        assert_non_null(neighbor_table_on_neighbor(f->t, out[0].ifindex, &out[0].addr,
                                                   out[0].present, out[0].nud, 0));
        assert_int_equal(f->n_told, 1);
        assert_string_equal(f->told[0].addr, "fe80::1");
        assert_int_equal(f->told[0].role, NEIGHBOR_ROLE_GATEWAY);
        assert_int_equal(f->told[0].type, NEIGHBOR_EVENT_FAILED);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_gateways_are_watched),
                T(test_dns_servers_on_the_uplink),
                T(test_resolved_servers_per_link),
                T(test_gateway_that_is_also_the_dns_server),
                T(test_dns_servers_follow_the_addresses),
                T(test_other_links_are_ignored),
                T(test_watches_vanish_with_the_uplink),
                T(test_uplink_down_forgets_its_gateways),
                T(test_uplink_down_watches_nothing),
                T(test_replaced_default_route),
                T(test_two_routes_one_gateway),
                T(test_dumps_drop_what_they_do_not_list),
                T(test_watch_limit),
                T(test_sequences),
                T(test_rate_limit_holds_back_then_tells_the_latest),
                T(test_rate_limit_forgets_what_came_back),
                T(test_retired_watch_keeps_its_state),
                T(test_recovery_while_retired_is_told_when_revived),
                T(test_swept_watch_starts_afresh),
                T(test_uplink_flap_tells_nothing),
                cmocka_unit_test(test_probe_wanted),
                cmocka_unit_test(test_strings),
                cmocka_unit_test(test_prefix_match),
                cmocka_unit_test(test_decode_neighbor_ipv4),
                cmocka_unit_test(test_decode_neighbor_ipv6_deleted),
                cmocka_unit_test(test_decode_neighbor_proxy_ignored),
                cmocka_unit_test(test_decode_neighbor_bridge_fdb_ignored),
                cmocka_unit_test(test_decode_neighbor_without_dst),
                cmocka_unit_test(test_decode_neighbor_dst_wrong_size),
                cmocka_unit_test(test_decode_neighbor_ifindex_0),
                cmocka_unit_test(test_decode_neighbor_truncated_header),
                cmocka_unit_test(test_decode_neighbor_attribute_past_the_end),
                cmocka_unit_test(test_decode_default_route_ipv4),
                cmocka_unit_test(test_decode_default_route_ipv6_replaced),
                cmocka_unit_test(test_decode_route_deleted),
                cmocka_unit_test(test_decode_routes_ignored),
                cmocka_unit_test(test_decode_route_table_attribute_wins),
                cmocka_unit_test(test_decode_route_oif_wrong_size),
                cmocka_unit_test(test_decode_route_oif_0),
                cmocka_unit_test(test_decode_route_gateway_wrong_size),
                cmocka_unit_test(test_decode_route_table_wrong_size),
                cmocka_unit_test(test_decode_route_priority_wrong_size),
                cmocka_unit_test(test_decode_multipath),
                cmocka_unit_test(test_decode_multipath_more_than_kept),
                cmocka_unit_test(test_decode_multipath_malformed),
                cmocka_unit_test(test_decode_address_ipv4_local),
                cmocka_unit_test(test_decode_address_ipv6_deleted),
                cmocka_unit_test(test_decode_address_prefix_too_long),
                cmocka_unit_test(test_decode_address_ifindex_0),
                cmocka_unit_test(test_decode_address_ifindex_above_int),
                cmocka_unit_test(test_decode_address_missing),
                cmocka_unit_test(test_decode_address_wrong_size),
                cmocka_unit_test(test_decode_other_messages_ignored),
                T(test_decoded_failure_is_told),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
