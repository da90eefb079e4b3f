/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * forwarders/ndproxy/nd-proxy.c: the link table and its errors, where each type of frame
 * goes (RS up, RA down, NS/NA across, shortcuts to the link of a learned address), the
 * destination MAC rule of each copy, learning, counters, and the copies themselves.
 *
 * The topology of most tests:
 *
 *   U  (2, uplink)   02:00:5e:00:53:10     U2 (5, uplink)  02:00:5e:00:53:11
 *   G1 (3, guest)    02:00:5e:00:53:20     G3 (6, guest)   02:00:5e:00:53:22   behind U2
 *   G2 (4, guest)    02:00:5e:00:53:21     G4 (7, guest)   02:00:5e:00:53:23   unpaired
 *   G1 and G2 behind U.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "macro.h"
#include "nd-captured.h"
#include "nd-frame.h"
#include "nd-proxy.h"

enum { U = 2, G1 = 3, G2 = 4, U2 = 5, G3 = 6, G4 = 7 };

static MacAddr mac(const char *s) {
        MacAddr m;

        tf_mac_at(m.b, s);
        return m;
}

static NdProxy *topology(unsigned flags) {
        static const struct { int ifindex; NdLinkKind kind; const char *mac; } links[] = {
                { U, ND_LINK_UPLINK, "02:00:5e:00:53:10" },
                { G1, ND_LINK_GUEST, "02:00:5e:00:53:20" },
                { G2, ND_LINK_GUEST, "02:00:5e:00:53:21" },
                { U2, ND_LINK_UPLINK, "02:00:5e:00:53:11" },
                { G3, ND_LINK_GUEST, "02:00:5e:00:53:22" },
                { G4, ND_LINK_GUEST, "02:00:5e:00:53:23" },
        };
        NdProxy *p = NULL;

        assert_int_equal(nd_proxy_new(flags, &p), 0);
        for (size_t i = 0; i < ELEMENTSOF(links); i++) {
                MacAddr m = mac(links[i].mac);

                assert_int_equal(nd_proxy_add_link(p, links[i].ifindex, links[i].kind, &m), 0);
        }
        assert_int_equal(nd_proxy_add_pair(p, U, G1), 0);
        assert_int_equal(nd_proxy_add_pair(p, U, G2), 0);
        assert_int_equal(nd_proxy_add_pair(p, U2, G3), 0);
        return p;
}

static int setup(void **state) {
        *state = topology(0);
        return 0;
}

static int teardown(void **state) {
        *state = nd_proxy_free(*state);
        return 0;
}

/* Feed a frame and return the decision, failing on a drop. */
static NdDecision input_ok(NdProxy *p, int ingress, const uint8_t *b, size_t len) {
        NdDecision d;
        NdPacket pkt;
        NdDrop drop = _ND_DROP_INVALID;

        if (nd_proxy_input(p, ingress, b, len, false, &pkt, &d, &drop) < 0)
                fail_msg("dropped on %d: %s", ingress, nd_drop_to_string(drop));
        return d;
}

static NdDrop input_dropped(NdProxy *p, int ingress, const uint8_t *b, size_t len) {
        NdDecision d;
        NdPacket pkt;
        NdDrop drop = _ND_DROP_INVALID;

        assert_int_equal(nd_proxy_input(p, ingress, b, len, false, &pkt, &d, &drop), -EBADMSG);
        return drop;
}

/* The egress ifindexes, in order, 0-terminated, compared with want. */
static void assert_egress(const NdDecision *d, const int *want) {
        size_t n = 0;

        while (want[n])
                n++;
        if (d->n_egress != n)
                fail_msg("%zu egress links, want %zu", d->n_egress, n);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(d->egress[i].ifindex, want[i]);
}

static const NdEgress *egress_to(const NdDecision *d, int ifindex) {
        for (size_t i = 0; i < d->n_egress; i++)
                if (d->egress[i].ifindex == ifindex)
                        return &d->egress[i];
        fail_msg("no copy to %d", ifindex);
        return NULL;
}

/* The router of an uplink advertises 2001:db8:1::/64 (L, A, valid 86400 s), which
 * learning asks for. */
static void advertise(NdProxy *p, int uplink) {
        NdDecision d;
        NdPacket pkt;
        NdDrop drop;
        TFrame f;

        tf_ra(&f);
        (void) nd_proxy_input(p, uplink, f.b, f.len, false, &pkt, &d, &drop);
        assert_true(nd_proxy_uplink_has_prefix(p, uplink, &(struct in6_addr) {
                .s6_addr = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x42 } }));
}

/* A frame as if the guest or router with this MAC sent it. */
static void from_mac(TFrame *f, const char *m) {
        tf_mac_at(f->b + F_ETH_SRC, m);
}

/* G1's guest's solicited NA for 2001:db8:1::a, to @dst. */
static void guest_na_to(TFrame *f, const char *dst) {
        tf_na(f, 0x60, true);
        from_mac(f, GUEST_MAC);
        tf_addr_at(f->b + F_IP6_SRC, "2001:db8:1::a");
        tf_addr_at(f->b + F_TARGET, "2001:db8:1::a");
        tf_addr_at(f->b + F_IP6_DST, dst);
        tf_fix(f);
}

/* ---- the table ------------------------------------------------------------------------- */

static void test_links(void **state) {
        MacAddr good = mac("02:00:5e:00:53:40"), group = mac("33:33:00:00:00:01"), zero = {};
        NdProxy *p = NULL;
        const NdLink *l;

        (void) state;
        assert_int_equal(nd_proxy_new(0x8, &p), -EINVAL);
        assert_null(p);
        assert_int_equal(nd_proxy_new(0, &p), 0);

        assert_int_equal(nd_proxy_add_link(p, 0, ND_LINK_GUEST, &good), -EINVAL);
        assert_int_equal(nd_proxy_add_link(p, -1, ND_LINK_GUEST, &good), -EINVAL);
        assert_int_equal(nd_proxy_add_link(p, 1, _ND_LINK_KIND_MAX, &good), -EINVAL);
        assert_int_equal(nd_proxy_add_link(p, 1, ND_LINK_GUEST, &group), -EINVAL);
        assert_int_equal(nd_proxy_add_link(p, 1, ND_LINK_GUEST, &zero), -EINVAL);
        assert_int_equal(nd_proxy_n_links(p), 0);

        for (int i = 1; i <= ND_PROXY_LINKS_MAX; i++)
                assert_int_equal(nd_proxy_add_link(p, i, ND_LINK_GUEST, &good), 0);
        assert_int_equal(nd_proxy_add_link(p, ND_PROXY_LINKS_MAX + 1, ND_LINK_GUEST, &good),
                         -ENOSPC);
        assert_int_equal(nd_proxy_add_link(p, 5, ND_LINK_UPLINK, &good), -EEXIST);

        /* Removal keeps the order of the others. */
        assert_int_equal(nd_proxy_remove_link(p, 2), 0);
        assert_int_equal(nd_proxy_remove_link(p, 2), -ENOENT);
        assert_int_equal(nd_proxy_n_links(p), ND_PROXY_LINKS_MAX - 1);
        assert_int_equal(nd_proxy_link_at(p, 0)->ifindex, 1);
        assert_int_equal(nd_proxy_link_at(p, 1)->ifindex, 3);
        assert_int_equal(nd_proxy_link_at(p, ND_PROXY_LINKS_MAX - 2)->ifindex, ND_PROXY_LINKS_MAX);
        assert_null(nd_proxy_link_at(p, ND_PROXY_LINKS_MAX - 1));
        assert_null(nd_proxy_get_link(p, 2));
        assert_null(nd_proxy_get_link(p, 0));

        /* A MAC change is what copies carry from then on. */
        good = mac("02:00:5e:00:53:41");
        assert_int_equal(nd_proxy_set_link_mac(p, 7, &good), 0);
        assert_int_equal(nd_proxy_set_link_mac(p, 7, &group), -EINVAL);
        assert_int_equal(nd_proxy_set_link_mac(p, 2, &good), -ENOENT);
        l = nd_proxy_get_link(p, 7);
        assert_non_null(l);
        assert_memory_equal(l->mac.b, good.b, MAC_LEN);
        assert_int_equal(l->kind, ND_LINK_GUEST);
        assert_string_equal(nd_link_kind_to_string(l->kind), "guest");
        assert_null(nd_link_kind_to_string(_ND_LINK_KIND_MAX));
        assert_string_equal(nd_dst_rule_to_string(ND_DST_NEIGHBOR_OR_DROP), "neighbor-or-drop");
        assert_null(nd_dst_rule_to_string(_ND_DST_RULE_INVALID));

        assert_null(nd_proxy_free(p));
        assert_null(nd_proxy_free(NULL));
}

static void test_pairs(void **state) {
        NdProxy *p = *state;

        assert_int_equal(nd_proxy_add_pair(p, U, 99), -ENOENT);
        assert_int_equal(nd_proxy_add_pair(p, 99, G4), -ENOENT);
        assert_int_equal(nd_proxy_add_pair(p, G1, G4), -EINVAL);    /* a guest as uplink */
        assert_int_equal(nd_proxy_add_pair(p, U, U2), -EINVAL);     /* an uplink as guest */
        assert_int_equal(nd_proxy_add_pair(p, U, U), -EINVAL);
        assert_int_equal(nd_proxy_add_pair(p, U, G1), -EEXIST);
        assert_int_equal(nd_proxy_add_pair(p, U2, G1), -EBUSY);     /* one uplink per guest */

        assert_int_equal(nd_proxy_remove_pair(p, U2, G1), -ENOENT);
        assert_int_equal(nd_proxy_remove_pair(p, U, G4), -ENOENT);
        assert_int_equal(nd_proxy_remove_pair(p, U, U), -ENOENT);
        assert_int_equal(nd_proxy_remove_pair(p, 0, G4), -ENOENT);  /* unpaired is 0 */
        assert_int_equal(nd_proxy_remove_pair(p, U, G1), 0);
        assert_int_equal(nd_proxy_get_link(p, G1)->uplink, 0);
        /* Following the default uplink: move G1 behind U2. */
        assert_int_equal(nd_proxy_add_pair(p, U2, G1), 0);
        assert_int_equal(nd_proxy_get_link(p, G1)->uplink, U2);

        /* An uplink that goes leaves its guests unpaired. */
        assert_int_equal(nd_proxy_remove_link(p, U2), 0);
        assert_int_equal(nd_proxy_get_link(p, G1)->uplink, 0);
        assert_int_equal(nd_proxy_get_link(p, G3)->uplink, 0);
        assert_int_equal(nd_proxy_get_link(p, G2)->uplink, U);
}

/* ---- where frames go ------------------------------------------------------------------- */

static void test_rs_goes_up(void **state) {
        NdProxy *p = *state;
        NdDecision d;
        TFrame f;

        tf_rs(&f, true);
        d = input_ok(p, G1, f.b, f.len);
        assert_egress(&d, (const int[]) { U, 0 });
        assert_int_equal(d.egress[0].rule, ND_DST_MULTICAST);
        assert_memory_equal(d.egress[0].dst_mac.b, mac("33:33:00:00:00:02").b, MAC_LEN);
        assert_memory_equal(d.egress[0].src_mac.b, mac("02:00:5e:00:53:10").b, MAC_LEN);

        assert_int_equal(input_dropped(p, U, f.b, f.len), ND_DROP_WRONG_DIRECTION);
        assert_int_equal(input_dropped(p, G4, f.b, f.len), ND_DROP_NO_PEER);
}

static void test_ra_goes_down(void **state) {
        NdProxy *p = *state;
        NdDecision d;
        TFrame f;

        d = input_ok(p, U, captured_ra_multicast, sizeof captured_ra_multicast);
        assert_egress(&d, (const int[]) { G1, G2, 0 });
        assert_int_equal(d.rewrite_flags, 0);
        for (size_t i = 0; i < d.n_egress; i++) {
                assert_int_equal(d.egress[i].rule, ND_DST_MULTICAST);
                assert_memory_equal(d.egress[i].dst_mac.b, mac("33:33:00:00:00:01").b, MAC_LEN);
        }
        d = input_ok(p, U2, captured_ra_multicast, sizeof captured_ra_multicast);
        assert_egress(&d, (const int[]) { G3, 0 });

        /* A rogue RA on a guest link reaches nobody. */
        tf_ra(&f);
        from_mac(&f, GUEST_MAC);
        assert_int_equal(input_dropped(p, G1, f.b, f.len), ND_DROP_WRONG_DIRECTION);

        /* An uplink without guests. */
        assert_int_equal(nd_proxy_remove_pair(p, U2, G3), 0);
        assert_int_equal(input_dropped(p, U2, f.b, f.len), ND_DROP_NO_PEER);
}

static void test_unicast_ra(void **state) {
        NdProxy *p = *state, *all = topology(ND_PROXY_RA_ALL_NODES);
        struct in6_addr all_nodes = tf_in6("ff02::1");
        NdDecision d;

        (void) state;
        /* As it came: to the guest's link-local address, looked up on each guest link. */
        d = input_ok(p, U, captured_ra_unicast, sizeof captured_ra_unicast);
        assert_egress(&d, (const int[]) { G1, G2, 0 });
        assert_int_equal(d.egress[0].rule, ND_DST_NEIGHBOR_OR_ALL_NODES);
        assert_memory_equal(d.egress[0].dst_mac.b, mac("33:33:00:00:00:01").b, MAC_LEN);
        assert_memory_equal(d.dst.s6_addr, captured_ra_unicast + F_IP6_DST, 16);

        /* Re-addressed to all-nodes. */
        d = input_ok(all, U, captured_ra_unicast, sizeof captured_ra_unicast);
        assert_egress(&d, (const int[]) { G1, G2, 0 });
        assert_int_equal(d.rewrite_flags, ND_REWRITE_RA_ALL_NODES);
        assert_memory_equal(&d.dst, &all_nodes, sizeof all_nodes);
        assert_int_equal(d.egress[1].rule, ND_DST_MULTICAST);
        assert_memory_equal(d.egress[1].dst_mac.b, mac("33:33:00:00:00:01").b, MAC_LEN);
        nd_proxy_free(all);
}

static void test_ns_na_go_across(void **state) {
        NdProxy *p = *state;
        NdDecision d;
        TFrame f;

        /* The router resolving a guest address nobody has announced yet: every guest link
         * behind U, to the solicited-node group. */
        tf_ns(&f, true);
        from_mac(&f, ROUTER_MAC);
        tf_addr_at(f.b + F_TARGET, "2001:db8:1::77");
        tf_addr_at(f.b + F_IP6_DST, "ff02::1:ff00:77");
        tf_fix(&f);
        d = input_ok(p, U, f.b, f.len);
        assert_egress(&d, (const int[]) { G1, G2, 0 });
        assert_memory_equal(d.egress[0].dst_mac.b, mac("33:33:ff:00:00:77").b, MAC_LEN);

        /* A guest resolving the router: the uplink and the other guest behind it. */
        d = input_ok(p, G1, captured_ns_multicast, sizeof captured_ns_multicast);
        assert_egress(&d, (const int[]) { U, G2, 0 });

        /* Unicast, destination not learned: towards the uplink only with a neighbour
         * entry, towards guests with all-nodes as fallback. */
        d = input_ok(p, G2, captured_ns_unicast, sizeof captured_ns_unicast);
        assert_egress(&d, (const int[]) { U, G1, 0 });
        assert_int_equal(egress_to(&d, U)->rule, ND_DST_NEIGHBOR_OR_DROP);
        assert_int_equal(egress_to(&d, G1)->rule, ND_DST_NEIGHBOR_OR_ALL_NODES);

        /* NA from the router to a guest's link-local address: all guest links. */
        d = input_ok(p, U, captured_na_solicited, sizeof captured_na_solicited);
        assert_egress(&d, (const int[]) { G1, G2, 0 });

        /* Nothing crosses to the other uplink's guests, nothing from an unpaired link. */
        d = input_ok(p, G3, captured_ns_multicast, sizeof captured_ns_multicast);
        assert_egress(&d, (const int[]) { U2, 0 });
        assert_int_equal(input_dropped(p, G4, captured_ns_multicast, sizeof captured_ns_multicast),
                         ND_DROP_NO_PEER);
}

/* Once an address is known, frames for it go to its link alone. */
static void test_learned_address_shortcuts(void **state) {
        NdProxy *p = *state;
        struct in6_addr g1 = tf_in6("2001:db8:1::a"), g2 = tf_in6("2001:db8:1::b");
        NdDecision d;
        TFrame f;

        assert_int_equal(nd_proxy_add_address(p, G1, &g1), 1);
        assert_int_equal(nd_proxy_add_address(p, G2, &g2), 1);

        /* NS from the router for G2's address (multicast): G2 only. */
        tf_ns(&f, true);
        from_mac(&f, ROUTER_MAC);
        tf_addr_at(f.b + F_IP6_SRC, "2001:db8:1::1");
        tf_addr_at(f.b + F_TARGET, "2001:db8:1::b");
        tf_addr_at(f.b + F_IP6_DST, "ff02::1:ff00:b");
        tf_fix(&f);
        d = input_ok(p, U, f.b, f.len);
        assert_egress(&d, (const int[]) { G2, 0 });
        assert_int_equal(d.egress[0].rule, ND_DST_MULTICAST);

        /* The same from G1 (a guest resolving another): G2 only. */
        from_mac(&f, GUEST_MAC);
        tf_addr_at(f.b + F_IP6_SRC, "2001:db8:1::a");
        tf_fix(&f);
        d = input_ok(p, G1, f.b, f.len);
        assert_egress(&d, (const int[]) { G2, 0 });

        /* The router's NA to G1's global address: G1 only, by its neighbour entry. */
        d = input_ok(p, U, captured_na_solicited, sizeof captured_na_solicited);
        assert_egress(&d, (const int[]) { G1, G2, 0 });         /* to a link-local: all */
        tf_na(&f, 0xe0, true);                                   /* to 2001:db8:1::a */
        d = input_ok(p, U, f.b, f.len);
        assert_egress(&d, (const int[]) { G1, 0 });
        assert_int_equal(d.egress[0].rule, ND_DST_NEIGHBOR_OR_ALL_NODES);

        /* Unicast to an address of the ingress link itself: a local affair. */
        assert_int_equal(input_dropped(p, G1, f.b, f.len), ND_DROP_LOCAL_DESTINATION);

        /* A DAD NS for G1's own address from G1 again (re-DAD) goes everywhere else. */
        tf_dad(&f);
        d = input_ok(p, G1, f.b, f.len);
        assert_egress(&d, (const int[]) { U, G2, 0 });

        /* An address learned behind another uplink is no shortcut here. */
        assert_int_equal(nd_proxy_forget_address(p, G2, &g2), 0);
        assert_int_equal(nd_proxy_add_address(p, G3, &g2), 1);
        tf_ns(&f, true);
        from_mac(&f, ROUTER_MAC);
        tf_addr_at(f.b + F_TARGET, "2001:db8:1::b");
        tf_fix(&f);
        d = input_ok(p, U, f.b, f.len);
        assert_egress(&d, (const int[]) { G1, G2, 0 });
}

static void test_own_and_unknown(void **state) {
        NdProxy *p = *state;
        NdDecision d;
        NdPacket pkt;
        NdDrop drop;
        TFrame f;

        /* What this host sent on U, seen again by the packet socket. */
        tf_ns(&f, true);
        from_mac(&f, "02:00:5e:00:53:10");
        tf_fix(&f);
        assert_int_equal(input_dropped(p, U, f.b, f.len), ND_DROP_OWN_FRAME);
        assert_int_equal(nd_proxy_get_link(p, U)->counters.dropped[ND_DROP_OWN_FRAME], 1);

        assert_int_equal(nd_proxy_input(p, 42, f.b, f.len, false, &pkt, &d, &drop), -EBADMSG);
        assert_int_equal(drop, ND_DROP_UNKNOWN_LINK);
        assert_int_equal(nd_packet_parse(f.b, f.len, false, &pkt, &drop), 0);
        assert_int_equal(nd_proxy_decide(p, 42, &pkt, &d, &drop), -EBADMSG);
        assert_int_equal(drop, ND_DROP_UNKNOWN_LINK);
}

/* Every reason nd_proxy_decide() gives, as a table over the topology. */
static void test_decide_drop_reasons(void **state) {
        static const struct {
                const char *name;
                int ingress;
                const uint8_t *frame;
                size_t len;
                NdDrop want;
        } cases[] = {
                { "unknown link", 42, captured_ns_multicast, sizeof captured_ns_multicast,
                  ND_DROP_UNKNOWN_LINK },
                { "RS on an uplink", U, captured_rs_slla, sizeof captured_rs_slla,
                  ND_DROP_WRONG_DIRECTION },
                { "RA on a guest link", G1, captured_ra_multicast, sizeof captured_ra_multicast,
                  ND_DROP_WRONG_DIRECTION },
                { "RS on an unpaired guest link", G4, captured_rs_slla, sizeof captured_rs_slla,
                  ND_DROP_NO_PEER },
                { "NA on an unpaired guest link", G4, captured_na_bare, sizeof captured_na_bare,
                  ND_DROP_NO_PEER },
        };
        NdProxy *p = *state;
        bool covered[_ND_DROP_MAX] = {};

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                NdDecision d;
                NdPacket pkt;
                NdDrop drop = _ND_DROP_INVALID;

                assert_int_equal(nd_packet_parse(cases[i].frame, cases[i].len, false, &pkt, &drop), 0);
                if (nd_proxy_decide(p, cases[i].ingress, &pkt, &d, &drop) != -EBADMSG ||
                    drop != cases[i].want)
                        fail_msg("case \"%s\": got %s", cases[i].name, nd_drop_to_string(drop));
                covered[drop] = true;
        }
        /* OWN_FRAME, LOCAL_DESTINATION and FOR_HOST need a frame or state made for them:
         * tested above and in test_host_addresses. */
        covered[ND_DROP_OWN_FRAME] = covered[ND_DROP_LOCAL_DESTINATION] = true;
        covered[ND_DROP_FOR_HOST] = true;
        for (int r = ND_DROP_UNKNOWN_LINK; r <= ND_DROP_FOR_HOST; r++)
                if (!covered[r])
                        fail_msg("no case for %s", nd_drop_to_string(r));
}

/* 1 uplink and 63 guests: an RA makes 63 copies, a guest's NS 63 too (uplink + 62). */
static void test_most_copies(void **state) {
        NdProxy *p = NULL;
        NdDecision d;
        MacAddr m = mac("02:00:5e:00:53:10");

        (void) state;
        assert_int_equal(nd_proxy_new(0, &p), 0);
        assert_int_equal(nd_proxy_add_link(p, 1, ND_LINK_UPLINK, &m), 0);
        for (int i = 2; i <= ND_PROXY_LINKS_MAX; i++) {
                m.b[5] = (uint8_t) i;
                m.b[4] = 0x54;
                assert_int_equal(nd_proxy_add_link(p, i, ND_LINK_GUEST, &m), 0);
                assert_int_equal(nd_proxy_add_pair(p, 1, i), 0);
        }
        d = input_ok(p, 1, captured_ra_multicast, sizeof captured_ra_multicast);
        assert_int_equal(d.n_egress, ND_PROXY_EGRESS_MAX);
        d = input_ok(p, 2, captured_ns_multicast, sizeof captured_ns_multicast);
        assert_int_equal(d.n_egress, ND_PROXY_EGRESS_MAX);
        assert_int_equal(d.egress[0].ifindex, 1);
        assert_int_equal(d.egress[ND_PROXY_EGRESS_MAX - 1].ifindex, ND_PROXY_LINKS_MAX);
        nd_proxy_free(p);
}

/* ---- learning and the address table ---------------------------------------------------- */

static void test_learning(void **state) {
        NdProxy *p = *state;
        struct in6_addr a = tf_in6("2001:db8:1::5eff:fe00:5302"), dad = tf_in6("2001:db8:1::a"),
                dropped = tf_in6("2001:db8:1::c");
        NdDecision d;
        TFrame f;

        advertise(p, U);
        /* The guest's unsolicited NA for its SLAAC address, once. */
        d = input_ok(p, G1, captured_na_unsolicited, sizeof captured_na_unsolicited);
        assert_true(d.learned);
        assert_int_equal(d.learned_ifindex, G1);
        assert_memory_equal(&d.learned_addr, &a, sizeof a);
        assert_int_equal(d.learn_error, 0);
        d = input_ok(p, G1, captured_na_unsolicited, sizeof captured_na_unsolicited);
        assert_false(d.learned);
        assert_int_equal(d.learn_error, 0);
        assert_int_equal(nd_proxy_find_address(p, &a), G1);
        assert_int_equal(nd_proxy_get_link(p, G1)->counters.learned, 1);

        /* Another guest claiming it is refused and counted. */
        d = input_ok(p, G2, captured_na_unsolicited, sizeof captured_na_unsolicited);
        assert_false(d.learned);
        assert_int_equal(d.learn_error, -EEXIST);
        assert_int_equal(nd_proxy_get_link(p, G2)->counters.learn_refused, 1);
        assert_int_equal(nd_proxy_find_address(p, &a), G1);

        /* DAD NS from a guest: learned. */
        tf_dad(&f);
        d = input_ok(p, G2, f.b, f.len);
        assert_true(d.learned);
        assert_int_equal(nd_proxy_find_address(p, &dad), G2);

        /* Nothing from the uplink, from a link-local target, from a dropped frame, or
         * from an unpaired guest. */
        d = input_ok(p, U, captured_na_solicited, sizeof captured_na_solicited);
        assert_false(d.learned);
        d = input_ok(p, G1, captured_ns_dad, sizeof captured_ns_dad);     /* fe80:: target */
        assert_false(d.learned);
        tf_na(&f, 0x20, true);
        from_mac(&f, GUEST_MAC);
        tf_addr_at(f.b + F_TARGET, "2001:db8:1::c");
        f.b[F_IP6_HLIM] = 64;
        tf_fix(&f);
        assert_int_equal(input_dropped(p, G1, f.b, f.len), ND_DROP_HOP_LIMIT);
        assert_int_equal(input_dropped(p, G4, captured_na_unsolicited,
                                       sizeof captured_na_unsolicited), ND_DROP_NO_PEER);
        assert_int_equal(nd_proxy_find_address(p, &dropped), -ENOENT);
        assert_int_equal(nd_proxy_get_link(p, G4)->n_addrs, 0);
}

static void test_address_table(void **state) {
        NdProxy *p = *state;
        struct in6_addr a = tf_in6("2001:db8:1::100"), ll = tf_in6("fe80::1");
        const NdLink *g;
        NdDecision d;
        TFrame f;

        assert_int_equal(nd_proxy_add_address(p, 99, &a), -ENOENT);
        assert_int_equal(nd_proxy_add_address(p, U, &a), -EINVAL);
        assert_int_equal(nd_proxy_add_address(p, G1, &ll), -EINVAL);
        assert_int_equal(nd_proxy_forget_address(p, G1, &a), -ENOENT);
        assert_int_equal(nd_proxy_forget_address(p, 99, &a), -ENOENT);
        assert_int_equal(nd_proxy_find_address(p, &a), -ENOENT);

        /* Replay after a restart: the same calls, also for an unpaired link. */
        assert_int_equal(nd_proxy_add_address(p, G4, &a), 1);
        assert_int_equal(nd_proxy_add_address(p, G4, &a), 0);
        assert_int_equal(nd_proxy_add_address(p, G1, &a), -EEXIST);

        /* Full: ND_PROXY_ADDRS_MAX per link, then -ENOSPC, also from learning. */
        for (int i = 1; i < ND_PROXY_ADDRS_MAX; i++) {
                struct in6_addr b = a;

                b.s6_addr[15] = (uint8_t) i;
                assert_int_equal(nd_proxy_add_address(p, G4, &b), 1);
        }
        g = nd_proxy_get_link(p, G4);
        assert_int_equal(g->n_addrs, ND_PROXY_ADDRS_MAX);
        assert_memory_equal(&g->addrs[0], &a, sizeof a);            /* oldest first */
        a.s6_addr[14] = 0x77;
        assert_int_equal(nd_proxy_add_address(p, G4, &a), -ENOSPC);
        assert_int_equal(nd_proxy_add_pair(p, U2, G4), 0);
        advertise(p, U2);
        tf_na(&f, 0x20, true);
        from_mac(&f, GUEST_MAC);
        tf_addr_at(f.b + F_TARGET, "2001:db8:1::7777");
        tf_fix(&f);
        d = input_ok(p, G4, f.b, f.len);
        assert_false(d.learned);
        assert_int_equal(d.learn_error, -ENOSPC);

        /* Forgetting keeps the order of the rest. */
        a = g->addrs[1];
        assert_int_equal(nd_proxy_forget_address(p, G4, &g->addrs[0]), 0);
        assert_memory_equal(&g->addrs[0], &a, sizeof a);
        assert_int_equal(g->n_addrs, ND_PROXY_ADDRS_MAX - 1);

        /* A guest link that goes takes its addresses along. */
        assert_int_equal(nd_proxy_remove_link(p, G4), 0);
        assert_int_equal(nd_proxy_find_address(p, &a), -ENOENT);
}

/* ---- prefixes, aging and the neighbour cache --------------------------------------------- */

/* An RA from U's router with one prefix information option. */
static void ra_with_prefix(NdProxy *p, int uplink, const char *prefix, uint8_t len, uint8_t flags,
                           uint32_t valid) {
        NdDecision d;
        NdPacket pkt;
        NdDrop drop;
        TFrame f;

        tf_start(&f, "33:33:00:00:00:01", ROUTER_MAC, "fe80::1", "ff02::1", 134);
        tf_u8(&f, 64);
        tf_u8(&f, 0);
        tf_be16(&f, 1800);
        tf_be32(&f, 0);
        tf_be32(&f, 0);
        tf_opt_prefix(&f, prefix, len, flags, valid, valid);
        tf_fix(&f);
        assert_int_equal(nd_proxy_input(p, uplink, f.b, f.len, false, &pkt, &d, &drop), 0);
}

/* The guest on G's unsolicited NA for target. */
static NdDecision guest_na(NdProxy *p, int g, const char *target) {
        TFrame f;

        tf_start(&f, "33:33:00:00:00:01", GUEST_MAC, target, "ff02::1", 136);
        tf_u8(&f, 0x20);                        /* O */
        tf_zero(&f, 3);
        tf_addr(&f, target);
        tf_opt_lladdr(&f, 2, GUEST_MAC);
        tf_fix(&f);
        return input_ok(p, g, f.b, f.len);
}

static void test_prefixes(void **state) {
        static const struct {
                const char *prefix;
                uint8_t len, flags;
                const char *inside;
                bool kept;
        } cases[] = {
                { "2001:db8:1::", 64, 0xc0, "2001:db8:1::77", true },     /* L A */
                { "2001:db8:2::", 64, 0x80, "2001:db8:2::77", true },     /* L only */
                { "2001:db8:3::", 64, 0x40, "2001:db8:3::77", true },     /* A only */
                { "2001:db8:4::", 64, 0x20, "2001:db8:4::77", false },    /* R only */
                { "2001:db8:5:ff::", 56, 0xc0, "2001:db8:5::1", true },   /* host bits cleared */
                { "fd00:1::", 48, 0xc0, "fd00:1:0:9::1", true },           /* ULA */
                { "fe80::", 64, 0xc0, "fe80::77", false },                 /* link-local */
                { "ff02::", 16, 0xc0, "ff02::77", false },                 /* multicast */
                { "2001:db8:6::", 0, 0xc0, "2001:db8:6::77", false },      /* ::/0 */
        };
        NdProxy *p = *state;
        struct in6_addr a;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                ra_with_prefix(p, U, cases[i].prefix, cases[i].len, cases[i].flags, 600);
                a = tf_in6(cases[i].inside);
                if (nd_proxy_uplink_has_prefix(p, U, &a) != cases[i].kept)
                        fail_msg("case %zu (%s/%u): kept %d", i, cases[i].prefix, cases[i].len,
                                 !cases[i].kept);
        }
        /* Only U's: not U2's, and not a guest link's. */
        a = tf_in6("2001:db8:1::77");
        assert_false(nd_proxy_uplink_has_prefix(p, U2, &a));
        assert_false(nd_proxy_uplink_has_prefix(p, G1, &a));
        assert_false(nd_proxy_uplink_has_prefix(p, 99, &a));
        /* An RA from a guest link teaches nothing. */
        ra_with_prefix(p, U2, "2001:db8:9::", 64, 0xc0, 600);
        assert_int_equal(nd_proxy_get_link(p, U2)->n_prefixes, 1);

        /* Valid lifetime 0 withdraws; a lifetime runs out on the clock; infinity never. */
        ra_with_prefix(p, U, "2001:db8:2::", 64, 0x80, 0);
        a = tf_in6("2001:db8:2::77");
        assert_false(nd_proxy_uplink_has_prefix(p, U, &a));
        nd_proxy_set_clock(p, 599u * 1000000u);
        a = tf_in6("2001:db8:3::77");
        assert_true(nd_proxy_uplink_has_prefix(p, U, &a));
        nd_proxy_set_clock(p, 600u * 1000000u);
        assert_false(nd_proxy_uplink_has_prefix(p, U, &a));
        ra_with_prefix(p, U, "2001:db8:7::", 64, 0xc0, UINT32_MAX);
        nd_proxy_set_clock(p, UINT64_C(1) << 62);
        a = tf_in6("2001:db8:7::1");
        assert_true(nd_proxy_uplink_has_prefix(p, U, &a));
        /* The clock never goes back. */
        nd_proxy_set_clock(p, 0);
        a = tf_in6("2001:db8:3::77");
        assert_false(nd_proxy_uplink_has_prefix(p, U, &a));
}

static void test_prefix_table_full(void **state) {
        NdProxy *p = *state;
        struct in6_addr a;
        char buf[64];

        /* Lifetimes 100, 200, ... : the ninth replaces the one that expires first. */
        for (unsigned i = 0; i <= ND_PROXY_PREFIXES_MAX; i++) {
                snprintf(buf, sizeof buf, "2001:db8:%x::", 0x10 + i);
                ra_with_prefix(p, U, buf, 64, 0xc0, 100 * (i + 1));
        }
        assert_int_equal(nd_proxy_get_link(p, U)->n_prefixes, ND_PROXY_PREFIXES_MAX);
        a = tf_in6("2001:db8:10::1");
        assert_false(nd_proxy_uplink_has_prefix(p, U, &a));
        a = tf_in6("2001:db8:18::1");
        assert_true(nd_proxy_uplink_has_prefix(p, U, &a));
        a = tf_in6("2001:db8:11::1");
        assert_true(nd_proxy_uplink_has_prefix(p, U, &a));
}

static void test_learning_needs_a_prefix(void **state) {
        NdProxy *p = *state;
        struct in6_addr a = tf_in6("2001:db8:1::a"), far = tf_in6("2001:db8:99::a");
        NdDecision d;

        /* No RA seen yet: not learned, refused and counted, but still proxied (the guest's
         * neighbours need it). */
        d = guest_na(p, G1, "2001:db8:1::a");
        assert_false(d.learned);
        assert_int_equal(d.learn_error, -ENETUNREACH);
        assert_int_equal(d.n_egress, 2);
        assert_int_equal(nd_proxy_get_link(p, G1)->counters.learn_refused, 1);

        advertise(p, U);
        d = guest_na(p, G1, "2001:db8:1::a");
        assert_true(d.learned);
        assert_int_equal(nd_proxy_find_address(p, &a), G1);
        /* Outside the uplink's prefixes: someone else's address, never routed here. */
        d = guest_na(p, G1, "2001:db8:99::a");
        assert_false(d.learned);
        assert_int_equal(d.learn_error, -ENETUNREACH);
        assert_int_equal(nd_proxy_find_address(p, &far), -ENOENT);
        /* G3 is behind U2, whose router has said nothing. */
        d = guest_na(p, G3, "2001:db8:1::b");
        assert_int_equal(d.learn_error, -ENETUNREACH);
        /* Replay needs no prefix: the route exists already. */
        assert_int_equal(nd_proxy_add_address(p, G3, &far), 1);
}

static void test_aging(void **state) {
        NdProxy *p = *state;
        struct in6_addr a = tf_in6("2001:db8:1::a"), b = tf_in6("2001:db8:1::b"), got;
        uint64_t seen;
        int ifindex;
        TFrame f;

        assert_int_equal(nd_proxy_oldest_address(p, &ifindex, &got, &seen), -ENOENT);
        advertise(p, U);
        nd_proxy_set_clock(p, 1000);
        assert_true(guest_na(p, G1, "2001:db8:1::a").learned);
        nd_proxy_set_clock(p, 2000);
        assert_true(guest_na(p, G2, "2001:db8:1::b").learned);
        assert_int_equal(nd_proxy_oldest_address(p, &ifindex, &got, &seen), 0);
        assert_int_equal(ifindex, G1);
        assert_memory_equal(&got, &a, sizeof a);
        assert_int_equal(seen, 1000);

        /* The guest's NA again renews it; so does any frame from the address. */
        nd_proxy_set_clock(p, 3000);
        assert_false(guest_na(p, G1, "2001:db8:1::a").learned);
        assert_int_equal(nd_proxy_oldest_address(p, &ifindex, &got, &seen), 0);
        assert_int_equal(ifindex, G2);
        assert_int_equal(seen, 2000);
        nd_proxy_set_clock(p, 4000);
        tf_ns(&f, true);
        tf_addr_at(f.b + F_IP6_SRC, "2001:db8:1::b");
        tf_fix(&f);
        (void) input_ok(p, G2, f.b, f.len);
        assert_int_equal(nd_proxy_oldest_address(p, &ifindex, &got, &seen), 0);
        assert_int_equal(ifindex, G1);
        assert_int_equal(seen, 3000);
        /* ... but not on another link, and not from the uplink. */
        (void) input_ok(p, G1, f.b, f.len);
        assert_int_equal(nd_proxy_get_link(p, G2)->addr_seen[0], 4000);

        /* The kernel's word: a newer sign renews, an older one changes nothing. */
        assert_int_equal(nd_proxy_touch_address(p, G1, &a, 5000), 0);
        assert_int_equal(nd_proxy_touch_address(p, G1, &a, 10), 0);
        assert_int_equal(nd_proxy_get_link(p, G1)->addr_seen[0], 5000);
        assert_int_equal(nd_proxy_touch_address(p, G2, &a, 5000), -ENOENT);
        assert_int_equal(nd_proxy_touch_address(p, 99, &a, 5000), -ENOENT);

        /* Expired: forgotten and counted; refused: forgotten and counted as refused. */
        assert_int_equal(nd_proxy_expire_address(p, G2, &b), 0);
        assert_int_equal(nd_proxy_expire_address(p, G2, &b), -ENOENT);
        assert_int_equal(nd_proxy_get_link(p, G2)->counters.expired, 1);
        assert_int_equal(nd_proxy_find_address(p, &b), -ENOENT);
        assert_int_equal(nd_proxy_refuse_address(p, G1, &a), 0);
        assert_int_equal(nd_proxy_refuse_address(p, G1, &a), -ENOENT);
        assert_int_equal(nd_proxy_get_link(p, G1)->counters.learn_refused, 1);
        assert_int_equal(nd_proxy_get_link(p, G1)->counters.learned, 0);
        assert_int_equal(nd_proxy_oldest_address(p, &ifindex, &got, &seen), -ENOENT);
}

static void test_neighbor_cache(void **state) {
        NdProxy *p = *state;
        struct in6_addr router = tf_in6("2001:db8:1::1"), guest = tf_in6("2001:db8:1::a");
        MacAddr m;
        TFrame f;

        assert_int_equal(nd_proxy_lookup_neighbor(p, U, &router, UINT64_MAX, &m), -ENOENT);
        /* The router resolves a guest: its NS teaches the proxy the router's MAC on U. */
        nd_proxy_set_clock(p, 1000);
        tf_ns(&f, true);
        from_mac(&f, ROUTER_MAC);
        tf_mac_at(f.b + F_NSNA_OPTS + 2, ROUTER_MAC);
        tf_addr_at(f.b + F_IP6_SRC, "2001:db8:1::1");
        tf_addr_at(f.b + F_TARGET, "2001:db8:1::a");
        tf_addr_at(f.b + F_IP6_DST, "ff02::1:ff00:a");
        tf_fix(&f);
        (void) input_ok(p, U, f.b, f.len);
        assert_int_equal(nd_proxy_lookup_neighbor(p, U, &router, 0, &m), 0);
        assert_memory_equal(m.b, mac(ROUTER_MAC).b, MAC_LEN);
        /* Only on that link; and too old is not found. */
        assert_int_equal(nd_proxy_lookup_neighbor(p, G1, &router, UINT64_MAX, &m), -ENOENT);
        nd_proxy_set_clock(p, 2000);
        assert_int_equal(nd_proxy_lookup_neighbor(p, U, &router, 999, &m), -ENOENT);
        assert_int_equal(nd_proxy_lookup_neighbor(p, U, &router, 1000, &m), 0);

        /* An NA's target and TLLA. */
        tf_na(&f, 0x60, true);
        from_mac(&f, GUEST_MAC);
        tf_addr_at(f.b + F_IP6_SRC, "2001:db8:1::a");
        tf_addr_at(f.b + F_TARGET, "2001:db8:1::a");
        tf_addr_at(f.b + F_IP6_DST, "2001:db8:1::1");
        tf_mac_at(f.b + F_NSNA_OPTS + 2, "02:00:5e:00:53:0b");
        tf_fix(&f);
        (void) input_ok(p, G1, f.b, f.len);
        assert_int_equal(nd_proxy_lookup_neighbor(p, G1, &guest, UINT64_MAX, &m), 0);
        assert_memory_equal(m.b, mac("02:00:5e:00:53:0b").b, MAC_LEN);

        /* A dropped frame teaches nothing; :: is never cached. */
        tf_dad(&f);
        (void) input_ok(p, G2, f.b, f.len);
        assert_int_equal(nd_proxy_lookup_neighbor(p, G2, &(struct in6_addr) {}, UINT64_MAX, &m),
                         -ENOENT);

        /* Full: the least recently seen entry makes room. */
        for (unsigned i = 0; i < ND_PROXY_NEIGHBORS_MAX; i++) {
                nd_proxy_set_clock(p, 10000 + i);
                tf_ns(&f, true);
                tf_addr_at(f.b + F_IP6_SRC, "2001:db8:1::1000");
                f.b[F_IP6_SRC + 14] = (uint8_t) (i >> 8);
                f.b[F_IP6_SRC + 15] = (uint8_t) i;
                tf_fix(&f);
                (void) input_ok(p, G1, f.b, f.len);
        }
        assert_int_equal(nd_proxy_lookup_neighbor(p, U, &router, UINT64_MAX, &m), -ENOENT);
        router = tf_in6("2001:db8:1::ff");
        assert_int_equal(nd_proxy_lookup_neighbor(p, G1, &router, UINT64_MAX, &m), 0);

        /* A link that goes takes its entries along. */
        assert_int_equal(nd_proxy_remove_link(p, G1), 0);
        assert_int_equal(nd_proxy_lookup_neighbor(p, G1, &router, UINT64_MAX, &m), -ENOENT);
}

static void test_host_addresses(void **state) {
        static const char *const host[] = { "2001:db8:1::1", "fe80::99", "2001:db8:1::2" };
        NdProxy *p = *state;
        struct in6_addr addrs[ND_PROXY_HOST_ADDRS_MAX + 1], a;
        NdDecision d;
        TFrame f;

        for (size_t i = 0; i < ELEMENTSOF(host); i++)
                addrs[i] = tf_in6(host[i]);
        assert_int_equal(nd_proxy_set_host_addresses(p, addrs, ELEMENTSOF(host)), 0);

        /* A guest resolving the host's 2001:db8:1::1, which the host has on the uplink
         * (where the guest's NS never reaches the kernel): the proxy answers, copies go
         * nowhere. From an unpaired guest link or from the uplink: the kernel's. */
        d = input_ok(p, G1, captured_ns_multicast, sizeof captured_ns_multicast);
        assert_true(d.answer);
        assert_int_equal(d.n_egress, 0);
        assert_memory_equal(&d.dst, captured_ns_multicast + F_IP6_SRC, 16);
        assert_int_equal(input_dropped(p, G4, captured_ns_multicast, sizeof captured_ns_multicast),
                         ND_DROP_FOR_HOST);
        tf_ns(&f, true);
        from_mac(&f, ROUTER_MAC);
        tf_addr_at(f.b + F_IP6_SRC, "2001:db8:1::77");
        tf_fix(&f);
        assert_int_equal(input_dropped(p, U, f.b, f.len), ND_DROP_FOR_HOST);
        /* A link-local target is another link's: the guest's own link answers it. */
        tf_ns(&f, true);
        tf_addr_at(f.b + F_TARGET, "fe80::99");
        tf_fix(&f);
        assert_int_equal(input_dropped(p, G1, f.b, f.len), ND_DROP_FOR_HOST);
        assert_int_equal(nd_proxy_count_answered(p, G1), 0);
        assert_int_equal(nd_proxy_get_link(p, G1)->counters.answered, 1);
        assert_int_equal(nd_proxy_count_answered(p, 99), -ENOENT);
        /* Unicast to the host's link-local address (a guest's NA to the host). */
        guest_na_to(&f, "fe80::99");
        assert_int_equal(input_dropped(p, G1, f.b, f.len), ND_DROP_FOR_HOST);
        /* The same NA to a router that is not the host is proxied. */
        tf_addr_at(f.b + F_IP6_DST, "fe80::1");
        tf_fix(&f);
        d = input_ok(p, G1, f.b, f.len);
        assert_egress(&d, (const int[]) { U, G2, 0 });
        /* Multicast to all-nodes is not the host's alone. */
        assert_int_equal(input_ok(p, U, captured_ra_multicast, sizeof captured_ra_multicast).n_egress, 2);

        /* No guest may claim one: not by learning, not by replay. */
        advertise(p, U);
        d = guest_na(p, G2, "2001:db8:1::2");
        assert_false(d.learned);
        assert_int_equal(d.learn_error, -EADDRINUSE);
        a = tf_in6("2001:db8:1::2");
        assert_int_equal(nd_proxy_add_address(p, G2, &a), -EADDRINUSE);

        /* The set replaces the last; too many keep the first ND_PROXY_HOST_ADDRS_MAX. */
        assert_int_equal(nd_proxy_set_host_addresses(p, NULL, 0), 0);
        assert_int_equal(nd_proxy_add_address(p, G2, &a), 1);
        for (size_t i = 0; i < ELEMENTSOF(addrs); i++) {
                addrs[i] = tf_in6("2001:db8:2::");
                addrs[i].s6_addr[14] = (uint8_t) (i >> 8);
                addrs[i].s6_addr[15] = (uint8_t) i;
        }
        assert_int_equal(nd_proxy_set_host_addresses(p, addrs, ELEMENTSOF(addrs)), -E2BIG);
        assert_int_equal(nd_proxy_add_address(p, G1, &addrs[ND_PROXY_HOST_ADDRS_MAX - 1]),
                         -EADDRINUSE);
        assert_int_equal(nd_proxy_add_address(p, G1, &addrs[ND_PROXY_HOST_ADDRS_MAX]), 1);
}

/* The router's NS for a guest address, from asker, at the proxy clock's now. */
static NdDecision router_ns(NdProxy *p, const char *target, const char *asker, uint64_t now) {
        TFrame f;

        nd_proxy_set_clock(p, now);
        tf_ns(&f, true);
        from_mac(&f, ROUTER_MAC);
        tf_mac_at(f.b + F_NSNA_OPTS + 2, ROUTER_MAC);
        tf_addr_at(f.b + F_IP6_SRC, asker);
        tf_addr_at(f.b + F_TARGET, target);
        tf_addr_at(f.b + F_IP6_DST, "ff02::1:ff00:a");
        tf_fix(&f);
        return input_ok(p, U, f.b, f.len);
}

/* The uplink's router advertises its prefix, and at 10 s G1's guest answers for
 * 2001:db8:1::a: the proxy learns it. */
static void learn_guest_at_10s(NdProxy *p) {
        advertise(p, U);
        nd_proxy_set_clock(p, 10 * UINT64_C(1000000));
        assert_true(guest_na(p, G1, "2001:db8:1::a").learned);
}

static void test_answer_for_a_fresh_guest(void **state) {
        const uint64_t s = 1000000;
        NdProxy *p = *state;
        NdDecision d;
        TFrame f;

        learn_guest_at_10s(p);

        /* Answered at once, and relayed so that the guest learns the asker. */
        d = router_ns(p, "2001:db8:1::a", "2001:db8:1::1", 11 * s);
        assert_true(d.answer);
        assert_false(d.answer_router);
        assert_egress(&d, (const int[]) { G1, 0 });
        /* The same asker again within a second: answered, not relayed. */
        d = router_ns(p, "2001:db8:1::a", "2001:db8:1::1", 11 * s + s / 2);
        assert_true(d.answer);
        assert_int_equal(d.n_egress, 0);
        /* Another asker, or the same a second later: relayed again. */
        d = router_ns(p, "2001:db8:1::a", "2001:db8:1::2", 11 * s + s / 2);
        assert_egress(&d, (const int[]) { G1, 0 });
        d = router_ns(p, "2001:db8:1::a", "2001:db8:1::2", 12 * s + s / 2);
        assert_egress(&d, (const int[]) { G1, 0 });

        /* The guest's own answer to that asker is not relayed: the asker has one. Its
         * answer to someone else, or unsolicited, is. */
        guest_na_to(&f, "2001:db8:1::2");
        assert_int_equal(input_dropped(p, G1, f.b, f.len), ND_DROP_ANSWERED);
        tf_addr_at(f.b + F_IP6_DST, "2001:db8:1::3");
        tf_fix(&f);
        d = input_ok(p, G1, f.b, f.len);
        (void) egress_to(&d, U);

        /* No sign of life for longer than ND_PROXY_FRESH_USEC: relayed, not answered. */
        d = router_ns(p, "2001:db8:1::a", "2001:db8:1::1", 13 * s + ND_PROXY_FRESH_USEC);
        assert_false(d.answer);
        assert_egress(&d, (const int[]) { G1, 0 });

        /* An address nobody learned: relayed to every guest, never answered. */
        d = router_ns(p, "2001:db8:1::77", "2001:db8:1::1", 14 * s + ND_PROXY_FRESH_USEC);
        assert_false(d.answer);
        assert_egress(&d, (const int[]) { G1, G2, 0 });

        /* DAD from the uplink for a fresh guest's address: the guest defends it itself. */
        nd_proxy_set_clock(p, 15 * s + ND_PROXY_FRESH_USEC);
        assert_false(guest_na(p, G1, "2001:db8:1::a").learned);   /* fresh again */
        tf_dad(&f);
        from_mac(&f, ROUTER_MAC);
        d = input_ok(p, U, f.b, f.len);
        assert_false(d.answer);
        assert_egress(&d, (const int[]) { G1, 0 });
        assert_int_equal(nd_proxy_get_link(p, G1)->counters.dropped[ND_DROP_ANSWERED], 1);
}

static void test_kernel_answers_for_a_routed_guest(void **state) {
        const uint64_t s = 1000000;
        struct in6_addr a = tf_in6("2001:db8:1::a");
        NdKernelAnswered ka[4];
        NdProxy *p = *state;
        NdDecision d;
        TFrame f;

        learn_guest_at_10s(p);
        assert_int_equal(nd_proxy_kernel_answered(p, ka, ELEMENTSOF(ka)), 0);
        assert_int_equal(nd_proxy_set_kernel_answers(p, G1, &a, true), 0);
        assert_int_equal(nd_proxy_set_kernel_answers(p, G2, &a, true), -ENOENT);
        assert_int_equal(nd_proxy_set_kernel_answers(p, 99, &a, true), -ENOENT);
        /* What the socket filter keeps away: this address, on G1's uplink. */
        assert_int_equal(nd_proxy_kernel_answered(p, ka, ELEMENTSOF(ka)), 1);
        assert_int_equal(ka[0].uplink, U);
        assert_memory_equal(&ka[0].addr, &a, sizeof a);
        assert_int_equal(nd_proxy_kernel_answered(p, ka, 0), 0);

        /* Its proxy entry answers: the proxy only relays, once per asker per second. */
        d = router_ns(p, "2001:db8:1::a", "2001:db8:1::1", 11 * s);
        assert_false(d.answer);
        assert_egress(&d, (const int[]) { G1, 0 });
        d = router_ns(p, "2001:db8:1::a", "2001:db8:1::1", 11 * s + s / 2);
        assert_false(d.answer);
        assert_int_equal(d.n_egress, 0);
        /* The guest's answer to that asker is dropped: the kernel's went first. */
        guest_na_to(&f, "2001:db8:1::1");
        assert_int_equal(input_dropped(p, G1, f.b, f.len), ND_DROP_ANSWERED);

        /* The kernel answers as long as the address is learned, fresh or not. */
        d = router_ns(p, "2001:db8:1::a", "2001:db8:1::1", 13 * s + ND_PROXY_FRESH_USEC);
        assert_false(d.answer);
        assert_egress(&d, (const int[]) { G1, 0 });
        d = router_ns(p, "2001:db8:1::a", "2001:db8:1::1", 13 * s + s / 2 + ND_PROXY_FRESH_USEC);
        assert_int_equal(d.n_egress, 0);

        /* Forgotten and learned again: the proxy answers itself until the new route and
         * proxy entry are made. */
        assert_int_equal(nd_proxy_remove_pair(p, U, G1), 0);
        assert_int_equal(nd_proxy_kernel_answered(p, ka, ELEMENTSOF(ka)), 0);  /* unpaired */
        assert_int_equal(nd_proxy_add_pair(p, U, G1), 0);
        assert_int_equal(nd_proxy_kernel_answered(p, ka, ELEMENTSOF(ka)), 1);
        assert_int_equal(nd_proxy_forget_address(p, G1, &a), 0);
        assert_int_equal(nd_proxy_kernel_answered(p, ka, ELEMENTSOF(ka)), 0);
        nd_proxy_set_clock(p, 20 * s + ND_PROXY_FRESH_USEC);
        assert_true(guest_na(p, G1, "2001:db8:1::a").learned);
        d = router_ns(p, "2001:db8:1::a", "2001:db8:1::1", 21 * s + ND_PROXY_FRESH_USEC);
        assert_true(d.answer);
        assert_int_equal(nd_proxy_set_kernel_answers(p, G1, &a, false), 0);
}

/* ---- counters and the copies ----------------------------------------------------------- */

static void test_counters(void **state) {
        NdProxy *p = *state;
        const NdLinkCounters *c = &nd_proxy_get_link(p, G1)->counters;
        TFrame f;

        tf_rs(&f, true);
        (void) input_ok(p, G1, f.b, f.len);
        f.b[F_IP6_HLIM] = 1;
        assert_int_equal(input_dropped(p, G1, f.b, f.len), ND_DROP_HOP_LIMIT);
        assert_int_equal(input_dropped(p, G1, f.b, 3), ND_DROP_SHORT_FRAME);
        assert_int_equal(input_dropped(p, G1, captured_ra_multicast, sizeof captured_ra_multicast),
                         ND_DROP_WRONG_DIRECTION);
        assert_int_equal(c->received, 4);
        assert_int_equal(c->dropped[ND_DROP_HOP_LIMIT], 1);
        assert_int_equal(c->dropped[ND_DROP_SHORT_FRAME], 1);
        assert_int_equal(c->dropped[ND_DROP_WRONG_DIRECTION], 1);
        assert_int_equal(c->proxied, 0);

        /* What the daemon reports for the egress side. */
        assert_int_equal(nd_proxy_count_sent(p, U), 0);
        assert_int_equal(nd_proxy_count_drop(p, U, ND_DROP_NO_NEIGHBOR), 0);
        assert_int_equal(nd_proxy_count_drop(p, U, ND_DROP_SEND_FAILED), 0);
        assert_int_equal(nd_proxy_count_drop(p, U, _ND_DROP_MAX), -EINVAL);
        assert_int_equal(nd_proxy_count_drop(p, U, _ND_DROP_INVALID), -EINVAL);
        assert_int_equal(nd_proxy_count_drop(p, 99, ND_DROP_NO_NEIGHBOR), -ENOENT);
        assert_int_equal(nd_proxy_count_sent(p, 99), -ENOENT);
        c = &nd_proxy_get_link(p, U)->counters;
        assert_int_equal(c->proxied, 1);
        assert_int_equal(c->dropped[ND_DROP_NO_NEIGHBOR], 1);
        assert_int_equal(c->dropped[ND_DROP_SEND_FAILED], 1);
        assert_int_equal(c->received, 0);
}

/* The whole path: every copy of every captured frame is a valid frame of the same type,
 * from the egress link's MAC, with its link-layer option rewritten. */
static void test_copies(void **state) {
        static const struct { const uint8_t *b; size_t len; int ingress; } frames[] = {
                { captured_rs_slla, sizeof captured_rs_slla, G1 },
                { captured_ra_multicast, sizeof captured_ra_multicast, U },
                { captured_ra_unicast, sizeof captured_ra_unicast, U },
                { captured_ns_dad, sizeof captured_ns_dad, G1 },
                { captured_ns_multicast, sizeof captured_ns_multicast, G2 },
                { captured_ns_unicast, sizeof captured_ns_unicast, U },
                { captured_na_solicited, sizeof captured_na_solicited, U },
                { captured_na_unsolicited, sizeof captured_na_unsolicited, G1 },
                { captured_na_bare, sizeof captured_na_bare, U },
        };
        NdProxy *p = topology(ND_PROXY_RA_ALL_NODES);

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(frames); i++) {
                NdDecision d;
                NdPacket pkt, copy;
                NdDrop drop;

                assert_int_equal(nd_proxy_input(p, frames[i].ingress, frames[i].b, frames[i].len,
                                                false, &pkt, &d, &drop), 0);
                assert_true(d.n_egress > 0);
                for (size_t j = 0; j < d.n_egress; j++) {
                        const NdEgress *e = &d.egress[j];
                        MacAddr dst = e->rule == ND_DST_NEIGHBOR_OR_DROP ?
                                      mac("02:00:5e:00:53:01") : e->dst_mac;
                        uint8_t out[256];
                        size_t len;

                        assert_int_equal(nd_packet_rewrite(frames[i].b, &pkt, &e->src_mac, &dst,
                                                           d.rewrite_flags, out, sizeof out,
                                                           &len), 0);
                        assert_int_equal(nd_packet_parse(out, len, false, &copy, &drop), 0);
                        assert_int_equal(copy.type, pkt.type);
                        assert_memory_equal(copy.eth_src.b, e->src_mac.b, MAC_LEN);
                        assert_memory_equal(copy.eth_dst.b, dst.b, MAC_LEN);
                        assert_memory_equal(&copy.dst, &d.dst, sizeof d.dst);
                        if (pkt.lladdr_off)
                                assert_memory_equal(copy.lladdr.b, e->src_mac.b, MAC_LEN);
                        assert_int_equal(tf_checksum(out, len),
                                         out[F_ICMP_CSUM] << 8 | out[F_ICMP_CSUM + 1]);
                }
        }
        nd_proxy_free(p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_links),
                cmocka_unit_test_setup_teardown(test_pairs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rs_goes_up, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ra_goes_down, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unicast_ra, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ns_na_go_across, setup, teardown),
                cmocka_unit_test_setup_teardown(test_learned_address_shortcuts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_own_and_unknown, setup, teardown),
                cmocka_unit_test_setup_teardown(test_decide_drop_reasons, setup, teardown),
                cmocka_unit_test(test_most_copies),
                cmocka_unit_test_setup_teardown(test_learning, setup, teardown),
                cmocka_unit_test_setup_teardown(test_address_table, setup, teardown),
                cmocka_unit_test_setup_teardown(test_prefixes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_prefix_table_full, setup, teardown),
                cmocka_unit_test_setup_teardown(test_learning_needs_a_prefix, setup, teardown),
                cmocka_unit_test_setup_teardown(test_aging, setup, teardown),
                cmocka_unit_test_setup_teardown(test_neighbor_cache, setup, teardown),
                cmocka_unit_test_setup_teardown(test_host_addresses, setup, teardown),
                cmocka_unit_test_setup_teardown(test_answer_for_a_fresh_guest, setup, teardown),
                cmocka_unit_test_setup_teardown(test_kernel_answers_for_a_routed_guest, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_counters, setup, teardown),
                cmocka_unit_test(test_copies),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
