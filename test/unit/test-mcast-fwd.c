/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * forwarders/mcast/mcast-fwd.h: the forwarding decisions. A fixed topology of two uplinks
 * with guests behind them; datagrams are decided, prepared and counted as mcastd would, and
 * the loop-prevention rules of the theory of operation are checked one by one, ending with
 * two forwarders on one LAN segment simulated until nothing moves any more.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mcast-captures.h"
#include "mcast-fwd.h"
#include "mcast-test.h"

/*
 * eth0  (2)  uplink 198.51.100.10/24, fe80::1      guests: arc_eth0 (10) all services,
 *                                                           vmtap0 (11) mDNS and SSDP
 * wlan0 (3)  uplink 192.0.2.20/24                  guest:  arc_wlan0 (12) all services
 */
#define ETH0 2
#define WLAN0 3
#define ARC_ETH0 10
#define VMTAP0 11
#define ARC_WLAN0 12

#define ETH0_ADDR 0xc633640au      /* 198.51.100.10 */
#define ETH0_BCAST 0xc63364ffu     /* 198.51.100.255 */
#define LAN_HOST 0xc633644du       /* 198.51.100.77 */
#define WLAN0_ADDR 0xc0000214u     /* 192.0.2.20 */
#define ARC_ETH0_HOST 0x64735c01u  /* 100.115.92.1/30 */
#define ARC_ETH0_GUEST 0x64735c02u
#define ARC_ETH0_BCAST 0x64735c03u
#define VMTAP0_HOST 0x64735c05u    /* 100.115.92.5/30 */
#define VMTAP0_GUEST 0x64735c06u
#define ARC_WLAN0_HOST 0x64735c09u /* 100.115.92.9/30 */
#define ARC_WLAN0_BCAST 0x64735c0bu

#define T0 1000000000u             /* a monotonic time, in microseconds */

static McastAddr addr4(uint32_t a, uint8_t prefix_len) {
        return (McastAddr) { .family = AF_INET, .prefix_len = prefix_len, .in4 = a };
}

static McastAddr addr6(const char *s) {
        McastAddr a = { .family = AF_INET6, .prefix_len = 64 };

        assert_int_equal(inet_pton(AF_INET6, s, &a.in6), 1);
        return a;
}

static McastLinkConfig link_config(int ifindex, const char *name, McastRole role, int uplink,
                                   unsigned services) {
        McastLinkConfig c = { .ifindex = ifindex, .role = role, .uplink_ifindex = uplink,
                              .services = services };

        strncpy(c.ifname, name, sizeof c.ifname - 1);
        return c;
}

static void add_link(McastFwd *f, int ifindex, const char *name, McastRole role, int uplink,
                     unsigned services, McastAddr a) {
        McastLinkConfig c = link_config(ifindex, name, role, uplink, services);

        assert_int_equal(mcast_fwd_set_link(f, &c), 0);
        if (a.family != 0)
                assert_int_equal(mcast_fwd_set_addresses(f, ifindex, &a, 1), 0);
}

static int setup(void **state) {
        McastFwd *f = mcast_fwd_new();
        McastAddr eth0[] = { addr4(ETH0_ADDR, 24), addr6("fe80::1") };

        if (!f)
                return -1;
        add_link(f, ETH0, "eth0", MCAST_ROLE_UPLINK, 0, MCAST_SERVICES_ALL, (McastAddr) {});
        assert_int_equal(mcast_fwd_set_addresses(f, ETH0, eth0, ELEMENTSOF(eth0)), 0);
        add_link(f, WLAN0, "wlan0", MCAST_ROLE_UPLINK, 0, MCAST_SERVICES_ALL,
                 addr4(WLAN0_ADDR, 24));
        add_link(f, ARC_ETH0, "arc_eth0", MCAST_ROLE_GUEST, ETH0, MCAST_SERVICES_ALL,
                 addr4(ARC_ETH0_HOST, 30));
        add_link(f, VMTAP0, "vmtap0", MCAST_ROLE_GUEST, ETH0, MCAST_SERVICES_MULTICAST,
                 addr4(VMTAP0_HOST, 30));
        add_link(f, ARC_WLAN0, "arc_wlan0", MCAST_ROLE_GUEST, WLAN0, MCAST_SERVICES_ALL,
                 addr4(ARC_WLAN0_HOST, 30));
        *state = f;
        return 0;
}

static int teardown(void **state) {
        mcast_fwd_free(*state);
        return 0;
}

#define TOPO_TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

/* ---- datagrams ---- */

/* An mDNS response "g.local A @a" (cache-flush), 33 bytes. */
static size_t mdns_response_a(uint8_t *buf, uint32_t a) {
        const uint8_t m[] = { U16(0), U16(0x8400), U16(0), U16(1), U16(0), U16(0),
                              1, 'g', 5, 'l', 'o', 'c', 'a', 'l', 0,
                              U16(1), U16(0x8001), U32(120), U16(4), U32(a) };

        memcpy(buf, m, sizeof m);
        return sizeof m;
}

static const uint8_t mdns_query[] = { U16(0), U16(0), U16(1), U16(0), U16(0), U16(0),
                                      1, 'g', 5, 'l', 'o', 'c', 'a', 'l', 0, U16(1), U16(1) };

static const char msearch[] = "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
                              "MAN: \"ssdp:discover\"\r\nMX: 2\r\nST: ssdp:all\r\n\r\n";

static McastInput mdns_in(int ifindex, uint32_t src, uint16_t port, const uint8_t *data,
                          size_t len) {
        return (McastInput) { .ifindex = ifindex, .socket_ifindex = ifindex,
                              .proto = MCAST_PROTO_MDNS, .family = AF_INET, .src4 = src,
                              .src_port = port, .data = data, .len = len };
}

static McastInput ssdp_in(int ifindex, uint32_t src, uint16_t port) {
        return (McastInput) { .ifindex = ifindex, .socket_ifindex = ifindex,
                              .proto = MCAST_PROTO_SSDP, .family = AF_INET, .src4 = src,
                              .src_port = port, .data = (const uint8_t *) msearch,
                              .len = sizeof msearch - 1 };
}

/* A UDP broadcast @src:4000 -> @dst:5000 with a checksum, as an AF_PACKET socket gets it. */
static size_t bcast_packet(uint8_t *buf, uint32_t src, uint32_t dst) {
        const uint8_t p[] = { 0x45, 0, U16(33), U16(1), U16(0), 64, 17, U16(0), U32(src),
                              U32(dst), U16(4000), U16(5000), U16(13), U16(0),
                              'h', 'e', 'l', 'l', 'o' };
        uint32_t pseudo = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 17 + 13;
        uint16_t c;

        memcpy(buf, p, sizeof p);
        c = inet_checksum(buf, 20, 0);
        buf[10] = (uint8_t) (c >> 8);
        buf[11] = (uint8_t) c;
        c = inet_checksum(buf + 20, 13, pseudo);
        buf[26] = (uint8_t) (c >> 8);
        buf[27] = (uint8_t) c;
        return sizeof p;
}

static McastInput bcast_in(int ifindex, const uint8_t *data, size_t len) {
        return (McastInput) { .ifindex = ifindex, .socket_ifindex = ifindex,
                              .proto = MCAST_PROTO_BCAST, .family = AF_INET, .data = data,
                              .len = len };
}

static uint64_t counter(McastFwd *f, int ifindex, McastProto p, McastDir d, McastDrop reason) {
        McastCounters c;

        assert_int_equal(mcast_fwd_get_counters(f, ifindex, p, d, &c), 0);
        return c.dropped[reason];
}

static McastCounters counters(McastFwd *f, int ifindex, McastProto p, McastDir d) {
        McastCounters c;

        assert_int_equal(mcast_fwd_get_counters(f, ifindex, p, d, &c), 0);
        return c;
}

static void assert_egress(const McastDecision *d, const int *want, size_t n) {
        assert_int_equal(d->n_egress, n);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(d->egress[i].ifindex, want[i]);
}

/* ---- links ---- */

static void test_link_config_errors(void **state) {
        McastFwd *f = *state;
        McastLinkConfig c;

        c = link_config(0, "x", MCAST_ROLE_UPLINK, 0, 0);
        assert_int_equal(mcast_fwd_set_link(f, &c), -EINVAL);
        c = link_config(20, "x", MCAST_ROLE_UPLINK, ETH0, 0);
        assert_int_equal(mcast_fwd_set_link(f, &c), -EINVAL);
        c = link_config(20, "x", MCAST_ROLE_GUEST, 0, 0);
        assert_int_equal(mcast_fwd_set_link(f, &c), -EINVAL);
        c = link_config(20, "x", MCAST_ROLE_GUEST, 20, 0);
        assert_int_equal(mcast_fwd_set_link(f, &c), -EINVAL);
        c = link_config(20, "x", MCAST_ROLE_GUEST, ETH0, MCAST_SERVICES_ALL + 1);
        assert_int_equal(mcast_fwd_set_link(f, &c), -EINVAL);
        c = link_config(20, "x", (McastRole) 7, 0, 0);
        assert_int_equal(mcast_fwd_set_link(f, &c), -EINVAL);
        c = link_config(20, "x", MCAST_ROLE_UPLINK, 0, 0);
        memset(c.ifname, 'x', sizeof c.ifname);
        assert_int_equal(mcast_fwd_set_link(f, &c), -EINVAL);
        /* a guest behind an unknown link, or behind a guest */
        c = link_config(20, "x", MCAST_ROLE_GUEST, 99, 0);
        assert_int_equal(mcast_fwd_set_link(f, &c), -ENOENT);
        c = link_config(20, "x", MCAST_ROLE_GUEST, ARC_ETH0, 0);
        assert_int_equal(mcast_fwd_set_link(f, &c), -ENOENT);
        /* an uplink with guests cannot become a guest */
        c = link_config(ETH0, "eth0", MCAST_ROLE_GUEST, WLAN0, 0);
        assert_int_equal(mcast_fwd_set_link(f, &c), -EBUSY);
        assert_int_equal(mcast_fwd_list_links(f, NULL, 0), 5);
}

static void test_link_limit(void **state) {
        McastFwd *f = *state;
        McastLinkConfig c;

        for (int i = 5; i < (int) MCAST_LINKS_MAX; i++) {
                c = link_config(100 + i, "g", MCAST_ROLE_GUEST, WLAN0, MCAST_SERVICES_ALL);
                assert_int_equal(mcast_fwd_set_link(f, &c), 0);
        }
        c = link_config(99, "g", MCAST_ROLE_GUEST, WLAN0, MCAST_SERVICES_ALL);
        assert_int_equal(mcast_fwd_set_link(f, &c), -ENOSPC);
        /* changing an existing link needs no room */
        c = link_config(ARC_WLAN0, "arc_wlan0", MCAST_ROLE_GUEST, WLAN0, 0);
        assert_int_equal(mcast_fwd_set_link(f, &c), 0);
}

static void test_link_update_keeps_counters_and_moves_guest(void **state) {
        McastFwd *f = *state;
        uint8_t buf[64];
        size_t len = mdns_response_a(buf, ARC_ETH0_GUEST);
        McastInput in = mdns_in(ARC_ETH0, ARC_ETH0_GUEST, MDNS_PORT, buf, len);
        McastLinkConfig c;
        McastDecision d;
        uint32_t a;
        uint8_t plen;

        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 2);
        assert_int_equal(counters(f, ARC_ETH0, MCAST_PROTO_MDNS, MCAST_DIR_IN).forwarded, 1);

        /* Termina following the default uplink: arc_eth0 moves behind wlan0 */
        c = link_config(ARC_ETH0, "arc_eth0", MCAST_ROLE_GUEST, WLAN0, MCAST_SERVICES_ALL);
        assert_int_equal(mcast_fwd_set_link(f, &c), 0);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 2);
        assert_egress(&d, (const int[]) { ARC_WLAN0, WLAN0 }, 2);
        assert_int_equal(counters(f, ARC_ETH0, MCAST_PROTO_MDNS, MCAST_DIR_IN).forwarded, 2);
        /* and its address stayed */
        assert_int_equal(mcast_fwd_get_link(f, ARC_ETH0, &c, &a, &plen), 0);
        assert_int_equal(c.uplink_ifindex, WLAN0);
        assert_int_equal(a, ARC_ETH0_HOST);
        assert_int_equal(plen, 30);
        assert_string_equal(c.ifname, "arc_eth0");
}

static void test_remove_uplink_takes_guests(void **state) {
        McastFwd *f = *state;
        int links[8];

        assert_int_equal(mcast_fwd_remove_link(f, 99), -ENOENT);
        assert_int_equal(mcast_fwd_remove_link(f, VMTAP0), 1);
        assert_int_equal(mcast_fwd_remove_link(f, ETH0), 2);
        assert_int_equal(mcast_fwd_list_links(f, links, ELEMENTSOF(links)), 2);
        assert_int_equal(links[0], WLAN0);
        assert_int_equal(links[1], ARC_WLAN0);
        assert_int_equal(mcast_fwd_get_link(f, ARC_ETH0, NULL, NULL, NULL), -ENOENT);
        /* a datagram from a removed link is unknown, and counted as such */
        assert_int_equal(mcast_fwd_decide(f, &(McastInput) { .ifindex = ETH0,
                                          .proto = MCAST_PROTO_MDNS, .family = AF_INET,
                                          .data = mdns_query, .len = sizeof mdns_query },
                                          T0, &(McastDecision) {}),
                         -ENOENT);
        assert_int_equal(mcast_fwd_unknown_link(f), 1);
}

static void test_addresses(void **state) {
        McastFwd *f = *state;
        McastAddr many[MCAST_LINK_ADDRS_MAX + 1];
        McastAddr v6_first[] = { addr6("fe80::5"), addr4(0x0a000001, 8), addr4(0x0b000001, 8) };
        uint32_t a;
        uint8_t plen;

        for (size_t i = 0; i < ELEMENTSOF(many); i++)
                many[i] = addr4(0x0a000001 + (uint32_t) i, 8);
        assert_int_equal(mcast_fwd_set_addresses(f, ETH0, many, ELEMENTSOF(many)), -E2BIG);
        assert_int_equal(mcast_fwd_set_addresses(f, 99, many, 1), -ENOENT);
        assert_int_equal(mcast_fwd_set_addresses(f, ETH0, &(McastAddr) { .family = AF_UNIX }, 1),
                         -EINVAL);
        assert_int_equal(mcast_fwd_set_addresses(f, ETH0, &(McastAddr) { .family = AF_INET,
                                                 .prefix_len = 33, .in4 = 1 }, 1), -EINVAL);
        assert_int_equal(mcast_fwd_set_addresses(f, ETH0, &(McastAddr) { .family = AF_INET,
                                                 .prefix_len = 8 }, 1), -EINVAL);
        /* refused sets changed nothing */
        assert_int_equal(mcast_fwd_get_link(f, ETH0, NULL, &a, &plen), 0);
        assert_int_equal(a, ETH0_ADDR);

        /* the first IPv4 address is the link's */
        assert_int_equal(mcast_fwd_set_addresses(f, ETH0, v6_first, ELEMENTSOF(v6_first)), 0);
        assert_int_equal(mcast_fwd_get_link(f, ETH0, NULL, &a, &plen), 0);
        assert_int_equal(a, 0x0a000001);
        assert_int_equal(plen, 8);
        assert_int_equal(mcast_fwd_set_addresses(f, ETH0, NULL, 0), 0);
        assert_int_equal(mcast_fwd_get_link(f, ETH0, NULL, &a, &plen), 0);
        assert_int_equal(a, 0);
}

/* ---- routes ---- */

static void test_routes(void **state) {
        McastFwd *f = *state;
        McastInput in;
        McastDecision d;

        /* LAN -> the guests behind that uplink, never another uplink's */
        in = mdns_in(ETH0, LAN_HOST, MDNS_PORT, mdns_query, sizeof mdns_query);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 2);
        assert_egress(&d, (const int[]) { ARC_ETH0, VMTAP0 }, 2);
        assert_int_equal(d.egress[0].kind, MCAST_EGRESS_AS_IS);
        assert_false(d.legacy_port);
        assert_true(d.mdns.is_query);

        /* a guest -> the other guests behind its uplink, then the uplink */
        in = mdns_in(ARC_ETH0, ARC_ETH0_GUEST, MDNS_PORT, mdns_query, sizeof mdns_query);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 2);
        assert_egress(&d, (const int[]) { VMTAP0, ETH0 }, 2);

        /* alone behind its uplink: just the uplink */
        in = mdns_in(ARC_WLAN0, 0x64735c0a, MDNS_PORT, mdns_query, sizeof mdns_query);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 1);
        assert_egress(&d, (const int[]) { WLAN0 }, 1);

        /* SSDP over IPv6 from the LAN */
        in = ssdp_in(ETH0, 0, SSDP_PORT);
        in.family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, "fe80::77", &in.src6), 1);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 2);
        assert_egress(&d, (const int[]) { ARC_ETH0, VMTAP0 }, 2);
        assert_int_equal(d.ssdp.kind, SSDP_MSEARCH);
        assert_int_equal(d.ssdp.mx, 2);
}

/* Loop prevention 2 and 3, for every link, protocol and family. */
static void test_never_back_to_ingress(void **state) {
        McastFwd *f = *state;
        const int links[] = { ETH0, WLAN0, ARC_ETH0, VMTAP0, ARC_WLAN0 };
        const McastProto protos[] = { MCAST_PROTO_MDNS, MCAST_PROTO_SSDP };
        const int families[] = { AF_INET, AF_INET6 };
        unsigned checked = 0;

        assert_int_equal(mcast_fwd_set_rate(f, MCAST_PROTO_MDNS, MCAST_DIR_IN,
                                            (McastRate) {}), 0);
        assert_int_equal(mcast_fwd_set_rate(f, MCAST_PROTO_SSDP, MCAST_DIR_IN,
                                            (McastRate) {}), 0);
        for (size_t i = 0; i < ELEMENTSOF(links); i++)
                for (size_t p = 0; p < ELEMENTSOF(protos); p++)
                        for (size_t fam = 0; fam < ELEMENTSOF(families); fam++) {
                                McastInput in = protos[p] == MCAST_PROTO_MDNS ?
                                        mdns_in(links[i], 0, MDNS_PORT, mdns_query,
                                                sizeof mdns_query) :
                                        ssdp_in(links[i], 0, SSDP_PORT);
                                McastLinkConfig ingress;
                                McastDecision d;
                                uint8_t plen;

                                in.family = families[fam];
                                /* a guest's own address, inside its link's subnet */
                                assert_int_equal(mcast_fwd_get_link(f, links[i], &ingress,
                                                                    &in.src4, &plen), 0);
                                in.src4 += 1;
                                assert_int_equal(inet_pton(AF_INET6, "fe80::99", &in.src6), 1);
                                assert_true(mcast_fwd_decide(f, &in, T0, &d) > 0);
                                for (size_t e = 0; e < d.n_egress; e++) {
                                        McastLinkConfig out;

                                        assert_int_not_equal(d.egress[e].ifindex, links[i]);
                                        assert_int_equal(mcast_fwd_get_link(f, d.egress[e].ifindex,
                                                                            &out, NULL, NULL), 0);
                                        if (ingress.role == MCAST_ROLE_UPLINK) {
                                                assert_int_equal(out.role, MCAST_ROLE_GUEST);
                                                assert_int_equal(out.uplink_ifindex,
                                                                 ingress.ifindex);
                                        } else if (out.role == MCAST_ROLE_GUEST)
                                                assert_int_equal(out.uplink_ifindex,
                                                                 ingress.uplink_ifindex);
                                        else
                                                assert_int_equal(out.ifindex,
                                                                 ingress.uplink_ifindex);
                                        checked++;
                                }
                        }
        assert_int_equal(checked, 2 * 2 * (2 + 1 + 2 + 2 + 1));
}

static void test_service_off_and_no_route(void **state) {
        McastFwd *f = *state;
        McastLinkConfig c = link_config(WLAN0, "wlan0", MCAST_ROLE_UPLINK, 0,
                                        MCAST_SERVICES_ALL & ~MCAST_SERVICE_MDNS4);
        McastInput in;
        McastDecision d;

        /* vmtap0 carries no broadcast */
        in = ssdp_in(VMTAP0, VMTAP0_GUEST, SSDP_PORT);
        in.proto = MCAST_PROTO_BCAST;
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 0);
        assert_int_equal(counter(f, VMTAP0, MCAST_PROTO_BCAST, MCAST_DIR_IN,
                                 MCAST_DROP_PROTOCOL_OFF), 1);

        /* mDNS over IPv4 off on wlan0: its only guest has nowhere to send to */
        assert_int_equal(mcast_fwd_set_link(f, &c), 0);
        in = mdns_in(ARC_WLAN0, 0x64735c0a, MDNS_PORT, mdns_query, sizeof mdns_query);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 0);
        assert_int_equal(d.n_egress, 0);
        assert_int_equal(counter(f, ARC_WLAN0, MCAST_PROTO_MDNS, MCAST_DIR_IN,
                                 MCAST_DROP_NO_ROUTE), 1);
        assert_int_equal(counters(f, ARC_WLAN0, MCAST_PROTO_MDNS, MCAST_DIR_IN).forwarded, 0);

        /* bad input */
        in.family = AF_UNIX;
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), -EINVAL);
        in = bcast_in(ARC_ETH0, mdns_query, sizeof mdns_query);
        in.family = AF_INET6;
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), -EINVAL);
        in.proto = _MCAST_PROTO_MAX;
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), -EINVAL);
}

/* ---- what arrives ---- */

static void test_ingress_checks(void **state) {
        McastFwd *f = *state;
        uint8_t bad[] = { 0, 0, 0, 0, 0, 1 }; /* a DNS header cut short */
        uint8_t buf[64];
        size_t len;
        McastInput in;
        McastDecision d;

        /* the socket bound to another link: rule 1 */
        in = mdns_in(ARC_ETH0, ARC_ETH0_GUEST, MDNS_PORT, mdns_query, sizeof mdns_query);
        in.socket_ifindex = ETH0;
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 0);
        assert_int_equal(counter(f, ARC_ETH0, MCAST_PROTO_MDNS, MCAST_DIR_IN,
                                 MCAST_DROP_WRONG_SOCKET), 1);

        /* malformed: counted under the parser's reason */
        in = mdns_in(ETH0, LAN_HOST, MDNS_PORT, bad, sizeof bad);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 0);
        assert_int_equal(counter(f, ETH0, MCAST_PROTO_MDNS, MCAST_DIR_IN,
                                 MCAST_DROP_DNS_SHORT_HEADER), 1);
        in = ssdp_in(ETH0, LAN_HOST, SSDP_PORT);
        in.len -= 2;
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 0);
        assert_int_equal(counter(f, ETH0, MCAST_PROTO_SSDP, MCAST_DIR_IN,
                                 MCAST_DROP_SSDP_UNTERMINATED), 1);

        /* the host's own packets, on any link, either family: rule 4 */
        in = mdns_in(ETH0, ETH0_ADDR, MDNS_PORT, mdns_query, sizeof mdns_query);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 0);
        in = mdns_in(ARC_ETH0, ARC_ETH0_HOST, MDNS_PORT, mdns_query, sizeof mdns_query);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 0);
        in = ssdp_in(ETH0, 0, SSDP_PORT);
        in.family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, "fe80::1", &in.src6), 1);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 0);
        assert_int_equal(counter(f, ETH0, MCAST_PROTO_MDNS, MCAST_DIR_IN,
                                 MCAST_DROP_SOURCE_IS_HOST), 1);
        assert_int_equal(counter(f, ARC_ETH0, MCAST_PROTO_MDNS, MCAST_DIR_IN,
                                 MCAST_DROP_SOURCE_IS_HOST), 1);
        assert_int_equal(counter(f, ETH0, MCAST_PROTO_SSDP, MCAST_DIR_IN,
                                 MCAST_DROP_SOURCE_IS_HOST), 1);

        /* a guest link's IPv4 sources are inside its subnet */
        in = mdns_in(ARC_ETH0, VMTAP0_GUEST, MDNS_PORT, mdns_query, sizeof mdns_query);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 0);
        assert_int_equal(counter(f, ARC_ETH0, MCAST_PROTO_MDNS, MCAST_DIR_IN,
                                 MCAST_DROP_SOURCE_OUTSIDE_SUBNET), 1);
        /* the LAN's are anything valid */
        in = mdns_in(ETH0, 0x0a0b0c0d, MDNS_PORT, mdns_query, sizeof mdns_query);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 2);
        in = mdns_in(ETH0, 0, MDNS_PORT, mdns_query, sizeof mdns_query);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 0);
        in = ssdp_in(ETH0, 0, SSDP_PORT);
        in.family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, "ff02::fb", &in.src6), 1);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 0);
        assert_int_equal(counter(f, ETH0, MCAST_PROTO_MDNS, MCAST_DIR_IN,
                                 MCAST_DROP_SOURCE_INVALID), 1);
        assert_int_equal(counter(f, ETH0, MCAST_PROTO_SSDP, MCAST_DIR_IN,
                                 MCAST_DROP_SOURCE_INVALID), 1);

        /* RFC 6762 §6: a multicast response must come from 5353; a query need not */
        len = mdns_response_a(buf, LAN_HOST);
        in = mdns_in(ETH0, LAN_HOST, 40000, buf, len);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 0);
        assert_int_equal(counter(f, ETH0, MCAST_PROTO_MDNS, MCAST_DIR_IN,
                                 MCAST_DROP_MDNS_RESPONSE_PORT), 1);
}

static void test_legacy_ports(void **state) {
        McastFwd *f = *state;
        McastInput in;
        McastDecision d;

        in = mdns_in(ARC_ETH0, ARC_ETH0_GUEST, 40000, cap_mdns_legacy_query_v4,
                     sizeof cap_mdns_legacy_query_v4);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 2);
        assert_true(d.legacy_port);
        in = ssdp_in(ARC_ETH0, ARC_ETH0_GUEST, 43437);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 2);
        assert_true(d.legacy_port);
        in = ssdp_in(ARC_ETH0, ARC_ETH0_GUEST, SSDP_PORT);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 2);
        assert_false(d.legacy_port);
}

/* ---- answers to legacy queries ---- */

static const char ssdp_ok[] = "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\n"
                              "ST: upnp:rootdevice\r\nUSN: uuid:x::upnp:rootdevice\r\n"
                              "LOCATION: http://198.51.100.77/d.xml\r\n\r\n";

static McastInput ssdp_reply_in(int ifindex, uint32_t src, const char *msg) {
        return (McastInput) { .ifindex = ifindex, .socket_ifindex = ifindex,
                              .proto = MCAST_PROTO_SSDP, .family = AF_INET, .src4 = src,
                              .src_port = 49152, .data = (const uint8_t *) msg,
                              .len = strlen(msg) };
}

/* A LAN device answers an M-SEARCH that arc_eth0's guest sent from an ephemeral port. */
static void test_reply_from_lan_to_guest(void **state) {
        McastFwd *f = *state;
        McastInput in = ssdp_reply_in(ETH0, LAN_HOST, ssdp_ok);
        const uint8_t *data;
        uint8_t out[16];
        McastDecision d;
        size_t n;

        assert_int_equal(mcast_fwd_decide_reply(f, &in, ARC_ETH0, T0, &d), 1);
        assert_egress(&d, (const int[]) { ARC_ETH0 }, 1);
        assert_int_equal(d.egress[0].kind, MCAST_EGRESS_AS_IS);
        assert_false(d.legacy_port);
        assert_int_equal(mcast_fwd_prepare(&in, &d, 0, out, sizeof out, &data, &n), 0);
        assert_ptr_equal(data, in.data);
        mcast_fwd_sent(f, &d, 0, 0);
        assert_int_equal(counters(f, ETH0, MCAST_PROTO_SSDP, MCAST_DIR_IN).forwarded, 1);
        assert_int_equal(counters(f, ARC_ETH0, MCAST_PROTO_SSDP, MCAST_DIR_OUT).forwarded, 1);
        /* Only to the asker: the other guest behind eth0 hears nothing. */
        assert_int_equal(counters(f, VMTAP0, MCAST_PROTO_SSDP, MCAST_DIR_OUT).forwarded, 0);
}

/* A guest answers a LAN host's legacy mDNS query: the answer names the uplink. */
static void test_reply_from_guest_rewritten_for_the_lan(void **state) {
        McastFwd *f = *state;
        uint8_t buf[64], out[64];
        size_t len = mdns_response_a(buf, VMTAP0_GUEST), n;
        McastInput in = mdns_in(VMTAP0, VMTAP0_GUEST, MDNS_PORT, buf, len);
        const uint8_t *data;
        McastDecision d;

        assert_int_equal(mcast_fwd_decide_reply(f, &in, ETH0, T0, &d), 1);
        assert_egress(&d, (const int[]) { ETH0 }, 1);
        assert_int_equal(d.egress[0].kind, MCAST_EGRESS_MDNS_REWRITTEN);
        assert_int_equal(mcast_fwd_prepare(&in, &d, 0, out, sizeof out, &data, &n), 0);
        assert_memory_equal(out + len - 4, ((uint8_t[]) { 198, 51, 100, 10 }), 4);
        /* From another port than 5353 too: a unicast answer is not held to it. */
        in.src_port = 40000;
        assert_int_equal(mcast_fwd_decide_reply(f, &in, ETH0, T0, &d), 1);
}

typedef struct ReplyRefusal {
        const char *name;
        McastInput in;
        int asker;
        int count_on;        /* the link whose counter says why */
        McastDir dir;
        McastDrop want;
} ReplyRefusal;

static void test_reply_refusals(void **state) {
        McastFwd *f = *state;
        uint8_t query[sizeof mdns_query];
        const ReplyRefusal cases[] = {
                { "M-SEARCH on a reply socket", ssdp_in(ETH0, LAN_HOST, 43437), ARC_ETH0,
                  ETH0, MCAST_DIR_IN, MCAST_DROP_NOT_A_REPLY },
                { "mDNS query on a reply socket",
                  mdns_in(ETH0, LAN_HOST, MDNS_PORT, query, sizeof query), ARC_ETH0, ETH0,
                  MCAST_DIR_IN, MCAST_DROP_NOT_A_REPLY },
                { "malformed", ssdp_reply_in(ETH0, LAN_HOST, "HTTP/1.1 200 OK\r\n"), ARC_ETH0,
                  ETH0, MCAST_DIR_IN, MCAST_DROP_SSDP_UNTERMINATED },
                { "from the host itself", ssdp_reply_in(ETH0, ETH0_ADDR, ssdp_ok), ARC_ETH0,
                  ETH0, MCAST_DIR_IN, MCAST_DROP_SOURCE_IS_HOST },
                { "from outside the guest's subnet", ssdp_reply_in(VMTAP0, LAN_HOST, ssdp_ok),
                  ETH0, VMTAP0, MCAST_DIR_IN, MCAST_DROP_SOURCE_OUTSIDE_SUBNET },
                { "asker unknown", ssdp_reply_in(ETH0, LAN_HOST, ssdp_ok), 99, ETH0,
                  MCAST_DIR_IN, MCAST_DROP_NO_ROUTE },
                { "asker on the same link", ssdp_reply_in(ETH0, LAN_HOST, ssdp_ok), ETH0, ETH0,
                  MCAST_DIR_IN, MCAST_DROP_NO_ROUTE },
        };

        memcpy(query, mdns_query, sizeof query);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const ReplyRefusal *c = &cases[i];
                uint64_t before = counter(f, c->count_on, c->in.proto, c->dir, c->want);
                McastDecision d;

                assert_int_equal(mcast_fwd_decide_reply(f, &c->in, c->asker, T0, &d), 0);
                if (counter(f, c->count_on, c->in.proto, c->dir, c->want) != before + 1)
                        fail_msg("%s: not counted as %s", c->name, mcast_drop_to_string(c->want));
        }
}

static void test_reply_wrong_socket_service_and_rates(void **state) {
        McastFwd *f = *state;
        McastInput in = ssdp_reply_in(ETH0, LAN_HOST, ssdp_ok);
        McastDecision d;

        in.socket_ifindex = WLAN0;
        assert_int_equal(mcast_fwd_decide_reply(f, &in, ARC_ETH0, T0, &d), 0);
        assert_int_equal(counter(f, ETH0, MCAST_PROTO_SSDP, MCAST_DIR_IN, MCAST_DROP_WRONG_SOCKET), 1);

        /* Broadcast has no answers to relay; unknown links are counted as such. */
        in = ssdp_reply_in(ETH0, LAN_HOST, ssdp_ok);
        in.proto = MCAST_PROTO_BCAST;
        assert_int_equal(mcast_fwd_decide_reply(f, &in, ARC_ETH0, T0, &d), -EINVAL);
        in = ssdp_reply_in(77, LAN_HOST, ssdp_ok);
        assert_int_equal(mcast_fwd_decide_reply(f, &in, ARC_ETH0, T0, &d), -ENOENT);
        assert_int_equal(mcast_fwd_unknown_link(f), 1);

        /* The asker's OUT bucket limits answers as it limits copies. */
        assert_int_equal(mcast_fwd_set_rate(f, MCAST_PROTO_SSDP, MCAST_DIR_OUT,
                                            (McastRate) { .per_sec = 1, .burst = 2 }), 0);
        in = ssdp_reply_in(ETH0, LAN_HOST, ssdp_ok);
        assert_int_equal(mcast_fwd_decide_reply(f, &in, ARC_ETH0, T0, &d), 1);
        assert_int_equal(mcast_fwd_decide_reply(f, &in, ARC_ETH0, T0, &d), 1);
        assert_int_equal(mcast_fwd_decide_reply(f, &in, ARC_ETH0, T0, &d), 0);
        assert_int_equal(counters(f, ARC_ETH0, MCAST_PROTO_SSDP, MCAST_DIR_OUT).rate_limited, 1);
        /* A second later one more fits. */
        assert_int_equal(mcast_fwd_decide_reply(f, &in, ARC_ETH0, T0 + 1000000, &d), 1);
}

/* ---- what leaves ---- */

static void test_mdns_answer_rewritten_toward_uplink_only(void **state) {
        McastFwd *f = *state;
        uint8_t buf[64], out[64];
        size_t len = mdns_response_a(buf, ARC_ETH0_GUEST), n;
        McastInput in = mdns_in(ARC_ETH0, ARC_ETH0_GUEST, MDNS_PORT, buf, len);
        const uint8_t *data;
        McastDecision d;

        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 2);
        assert_egress(&d, (const int[]) { VMTAP0, ETH0 }, 2);
        /* to the other guest as it is */
        assert_int_equal(d.egress[0].kind, MCAST_EGRESS_AS_IS);
        assert_int_equal(mcast_fwd_prepare(&in, &d, 0, out, sizeof out, &data, &n), 0);
        assert_ptr_equal(data, buf);
        assert_int_equal(n, len);
        /* to the LAN naming the uplink */
        assert_int_equal(d.egress[1].kind, MCAST_EGRESS_MDNS_REWRITTEN);
        assert_int_equal(d.egress[1].a_from, ARC_ETH0_GUEST);
        assert_int_equal(d.egress[1].a_to, ETH0_ADDR);
        assert_int_equal(mcast_fwd_prepare(&in, &d, 1, out, sizeof out, &data, &n), 0);
        assert_ptr_equal(data, out);
        assert_int_equal(n, len);
        assert_memory_equal(out + len - 4, ((uint8_t[]) { 198, 51, 100, 10 }), 4);
        assert_memory_equal(out, buf, len - 4);
        assert_memory_equal(buf + len - 4, ((uint8_t[]) { 100, 115, 92, 2 }), 4); /* input kept */
        /* the copy that does not fit is refused, and counted as too big */
        assert_int_equal(mcast_fwd_prepare(&in, &d, 1, out, len - 1, &data, &n), -ENOBUFS);
        mcast_fwd_sent(f, &d, 1, -ENOBUFS);
        assert_int_equal(counter(f, ETH0, MCAST_PROTO_MDNS, MCAST_DIR_OUT, MCAST_DROP_TOO_BIG), 1);
        /* bad calls */
        assert_int_equal(mcast_fwd_prepare(&in, &d, 2, out, sizeof out, &data, &n), -EINVAL);
        in.ifindex = VMTAP0;
        assert_int_equal(mcast_fwd_prepare(&in, &d, 0, out, sizeof out, &data, &n), -EINVAL);
}

/* avahi-publish's real announcement from a guest at 192.0.2.11 behind eth0. */
static void test_mdns_captured_announcement_rewritten(void **state) {
        McastFwd *f = *state;
        McastInput in = mdns_in(VMTAP0, 0xc000020b, MDNS_PORT, cap_mdns_announce_v4,
                                sizeof cap_mdns_announce_v4);
        McastAddr guest_net = addr4(0xc0000201, 24);
        uint8_t out[512];
        const uint8_t *data;
        McastDecision d;
        MdnsInfo info;
        size_t n;

        assert_int_equal(mcast_fwd_set_addresses(f, VMTAP0, &guest_net, 1), 0);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 2);
        assert_egress(&d, (const int[]) { ARC_ETH0, ETH0 }, 2);
        assert_int_equal(d.egress[1].kind, MCAST_EGRESS_MDNS_REWRITTEN);
        assert_int_equal(mcast_fwd_prepare(&in, &d, 1, out, sizeof out, &data, &n), 0);
        assert_int_equal(n, sizeof cap_mdns_announce_v4);
        assert_int_equal(mdns_validate(out, n, &info, NULL), 0);
        /* the guest's address is gone, the uplink's is there, once */
        assert_null(memmem(out, n, (uint8_t[]) { 192, 0, 2, 11 }, 4));
        assert_non_null(memmem(out, n, (uint8_t[]) { 198, 51, 100, 10 }, 4));
        mcast_fwd_sent(f, &d, 0, 0);
        mcast_fwd_sent(f, &d, 1, 0);
        assert_int_equal(counters(f, ETH0, MCAST_PROTO_MDNS, MCAST_DIR_OUT).forwarded, 1);
        assert_int_equal(counters(f, ARC_ETH0, MCAST_PROTO_MDNS, MCAST_DIR_OUT).forwarded, 1);
}

/* Reference §8.2: with no IPv4 address on the uplink, no IPv4 copy goes to the LAN. */
static void test_uplink_without_ipv4(void **state) {
        McastFwd *f = *state;
        McastAddr v6 = addr6("fe80::1");
        uint8_t buf[64];
        size_t len = mdns_response_a(buf, ARC_ETH0_GUEST);
        McastInput in = mdns_in(ARC_ETH0, ARC_ETH0_GUEST, MDNS_PORT, buf, len);
        McastDecision d;

        assert_int_equal(mcast_fwd_set_addresses(f, ETH0, &v6, 1), 0);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 1);
        assert_egress(&d, (const int[]) { VMTAP0 }, 1);
        assert_int_equal(counter(f, ETH0, MCAST_PROTO_MDNS, MCAST_DIR_OUT,
                                 MCAST_DROP_NO_IPV4_ADDRESS), 1);
        assert_int_equal(counters(f, ARC_ETH0, MCAST_PROTO_MDNS, MCAST_DIR_IN).forwarded, 1);
        /* IPv6 still goes */
        in = ssdp_in(ARC_ETH0, 0, SSDP_PORT);
        in.family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, "fe80::2", &in.src6), 1);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 2);
        assert_egress(&d, (const int[]) { VMTAP0, ETH0 }, 2);
}

static void test_broadcast_from_lan(void **state) {
        McastFwd *f = *state;
        uint8_t pkt[64], out[BCAST_PACKET_MAX];
        size_t len = bcast_packet(pkt, LAN_HOST, ETH0_BCAST), n;
        McastInput in = bcast_in(ETH0, pkt, len);
        const uint8_t *data;
        McastDecision d;
        BcastPacket q;

        /* to ARC only (vmtap0 has no broadcast), readdressed to ARC's subnet */
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 1);
        assert_egress(&d, (const int[]) { ARC_ETH0 }, 1);
        assert_int_equal(d.egress[0].kind, MCAST_EGRESS_BCAST_PACKET);
        assert_int_equal(d.egress[0].dst4, ARC_ETH0_BCAST);
        assert_int_equal(mcast_fwd_prepare(&in, &d, 0, out, sizeof out, &data, &n), 0);
        assert_int_equal(bcast_parse(data, n, ARC_ETH0_BCAST, 0, &q, NULL), 0);
        assert_int_equal(q.saddr, LAN_HOST);
        assert_int_equal(q.daddr, ARC_ETH0_BCAST);

        /* 255.255.255.255 stays */
        len = bcast_packet(pkt, LAN_HOST, IPV4_LIMITED_BROADCAST);
        in = bcast_in(ETH0, pkt, len);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 1);
        assert_int_equal(d.egress[0].dst4, IPV4_LIMITED_BROADCAST);

        /* the host's own broadcast on the LAN is not relayed */
        len = bcast_packet(pkt, ETH0_ADDR, ETH0_BCAST);
        in = bcast_in(ETH0, pkt, len);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 0);
        assert_int_equal(counter(f, ETH0, MCAST_PROTO_BCAST, MCAST_DIR_IN,
                                 MCAST_DROP_SOURCE_IS_HOST), 1);

        /* the subnet broadcast of another subnet is not ours */
        len = bcast_packet(pkt, LAN_HOST, 0xc00002ff);
        in = bcast_in(ETH0, pkt, len);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 0);
        assert_int_equal(counter(f, ETH0, MCAST_PROTO_BCAST, MCAST_DIR_IN,
                                 MCAST_DROP_BCAST_DESTINATION), 1);
}

/* socat's real broadcast on wlan0's LAN, its UDP checksum left to the NIC. */
static void test_broadcast_captured_from_lan(void **state) {
        McastFwd *f = *state;
        McastInput in = bcast_in(WLAN0, cap_bcast_subnet_partial, sizeof cap_bcast_subnet_partial);
        uint8_t out[256];
        const uint8_t *data;
        McastDecision d;
        BcastPacket q;
        size_t n;

        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 0);
        assert_int_equal(counter(f, WLAN0, MCAST_PROTO_BCAST, MCAST_DIR_IN,
                                 MCAST_DROP_BCAST_UDP_CHECKSUM), 1);
        in.bcast_flags = BCAST_F_CSUM_NOT_READY;
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 1);
        assert_egress(&d, (const int[]) { ARC_WLAN0 }, 1);
        assert_int_equal(mcast_fwd_prepare(&in, &d, 0, out, sizeof out, &data, &n), 0);
        assert_int_equal(bcast_parse(data, n, ARC_WLAN0_BCAST, 0, &q, NULL), 0);
        assert_int_equal(q.daddr, ARC_WLAN0_BCAST);
}

static void test_broadcast_from_guest(void **state) {
        McastFwd *f = *state;
        uint8_t pkt[64], out[64];
        size_t len = bcast_packet(pkt, ARC_ETH0_GUEST, ARC_ETH0_BCAST), n;
        McastInput in = bcast_in(ARC_ETH0, pkt, len);
        const uint8_t *data;
        McastDecision d;

        /* the payload goes to the uplink's own broadcast address */
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 1);
        assert_egress(&d, (const int[]) { ETH0 }, 1);
        assert_int_equal(d.egress[0].kind, MCAST_EGRESS_BCAST_PAYLOAD);
        assert_int_equal(d.egress[0].dst4, ETH0_BCAST);
        assert_int_equal(d.bcast.sport, 4000);
        assert_int_equal(mcast_fwd_prepare(&in, &d, 0, out, sizeof out, &data, &n), 0);
        assert_int_equal(n, 5);
        assert_memory_equal(data, "hello", 5);

        len = bcast_packet(pkt, ARC_ETH0_GUEST, IPV4_LIMITED_BROADCAST);
        in = bcast_in(ARC_ETH0, pkt, len);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 1);
        assert_int_equal(d.egress[0].dst4, IPV4_LIMITED_BROADCAST);

        /* the reverse-direction checks: the host, the subnet's own addresses, outsiders */
        len = bcast_packet(pkt, ARC_ETH0_HOST, IPV4_LIMITED_BROADCAST);
        in = bcast_in(ARC_ETH0, pkt, len);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 0);
        len = bcast_packet(pkt, 0x64735c00, IPV4_LIMITED_BROADCAST);
        in = bcast_in(ARC_ETH0, pkt, len);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 0);
        len = bcast_packet(pkt, LAN_HOST, IPV4_LIMITED_BROADCAST);
        in = bcast_in(ARC_ETH0, pkt, len);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 0);
        assert_int_equal(counter(f, ARC_ETH0, MCAST_PROTO_BCAST, MCAST_DIR_IN,
                                 MCAST_DROP_SOURCE_IS_HOST), 1);
        assert_int_equal(counter(f, ARC_ETH0, MCAST_PROTO_BCAST, MCAST_DIR_IN,
                                 MCAST_DROP_SOURCE_INVALID), 1);
        assert_int_equal(counter(f, ARC_ETH0, MCAST_PROTO_BCAST, MCAST_DIR_IN,
                                 MCAST_DROP_SOURCE_OUTSIDE_SUBNET), 1);

        /* an uplink without an address takes no subnet broadcast */
        assert_int_equal(mcast_fwd_set_addresses(f, ETH0, NULL, 0), 0);
        len = bcast_packet(pkt, ARC_ETH0_GUEST, ARC_ETH0_BCAST);
        in = bcast_in(ARC_ETH0, pkt, len);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 0);
        assert_int_equal(counter(f, ETH0, MCAST_PROTO_BCAST, MCAST_DIR_OUT,
                                 MCAST_DROP_NO_IPV4_ADDRESS), 1);
}

/* ---- rate limits ---- */

static void test_rate_limit_in(void **state) {
        McastFwd *f = *state;
        McastInput in = mdns_in(ARC_ETH0, ARC_ETH0_GUEST, MDNS_PORT, mdns_query,
                                sizeof mdns_query);
        McastInput lan = mdns_in(ETH0, LAN_HOST, MDNS_PORT, mdns_query, sizeof mdns_query);
        McastDecision d;

        assert_int_equal(mcast_fwd_set_rate(f, MCAST_PROTO_MDNS, MCAST_DIR_IN,
                                            (McastRate) { .per_sec = 10, .burst = 5 }), 0);
        for (int i = 0; i < 5; i++)
                assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 2);
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 0);
        assert_int_equal(mcast_fwd_decide(f, &in, T0 + 99999, &d), 0);
        /* 100 ms: one more token */
        assert_int_equal(mcast_fwd_decide(f, &in, T0 + 100000, &d), 2);
        assert_int_equal(mcast_fwd_decide(f, &in, T0 + 100000, &d), 0);
        assert_int_equal(counters(f, ARC_ETH0, MCAST_PROTO_MDNS, MCAST_DIR_IN).rate_limited, 3);
        assert_int_equal(counters(f, ARC_ETH0, MCAST_PROTO_MDNS, MCAST_DIR_IN).forwarded, 6);
        /* the flood on arc_eth0 costs the LAN nothing: its own bucket */
        assert_int_equal(mcast_fwd_decide(f, &lan, T0 + 100000, &d), 2);
        /* nor other protocols */
        in = ssdp_in(ARC_ETH0, ARC_ETH0_GUEST, SSDP_PORT);
        assert_int_equal(mcast_fwd_decide(f, &in, T0 + 100000, &d), 2);

        /* a long idle time refills to the burst, not beyond, without overflow */
        in = mdns_in(ARC_ETH0, ARC_ETH0_GUEST, MDNS_PORT, mdns_query, sizeof mdns_query);
        for (int i = 0; i < 5; i++)
                assert_int_equal(mcast_fwd_decide(f, &in, UINT64_MAX - 1, &d), 2);
        assert_int_equal(mcast_fwd_decide(f, &in, UINT64_MAX - 1, &d), 0);
        /* time going backwards adds nothing */
        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 0);

        /* per_sec 0 turns the limit off (OUT too: its buckets saw the clock run backwards) */
        assert_int_equal(mcast_fwd_set_rate(f, MCAST_PROTO_MDNS, MCAST_DIR_IN, (McastRate) {}), 0);
        assert_int_equal(mcast_fwd_set_rate(f, MCAST_PROTO_MDNS, MCAST_DIR_OUT, (McastRate) {}), 0);
        for (int i = 0; i < 10000; i++)
                assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 2);

        assert_int_equal(mcast_fwd_set_rate(f, MCAST_PROTO_MDNS, MCAST_DIR_IN,
                                            (McastRate) { .per_sec = 1 }), -EINVAL);
        assert_int_equal(mcast_fwd_set_rate(f, _MCAST_PROTO_MAX, MCAST_DIR_IN,
                                            (McastRate) {}), -EINVAL);
        assert_int_equal(mcast_fwd_set_rate(f, MCAST_PROTO_MDNS, _MCAST_DIR_MAX,
                                            (McastRate) {}), -EINVAL);
}

/* A guest flooding at once: each other link receives at most its burst (rule 5). */
static void test_rate_limit_bounds_amplification(void **state) {
        McastFwd *f = *state;
        McastInput in = ssdp_in(ARC_ETH0, ARC_ETH0_GUEST, SSDP_PORT);
        McastDecision d;
        uint64_t copies = 0;

        assert_int_equal(mcast_fwd_set_rate(f, MCAST_PROTO_SSDP, MCAST_DIR_IN, (McastRate) {}), 0);
        assert_int_equal(mcast_fwd_set_rate(f, MCAST_PROTO_SSDP, MCAST_DIR_OUT,
                                            (McastRate) { .per_sec = 100, .burst = 20 }), 0);
        /* 10000 in 20 ms: 20 each at once, plus one per 10 ms */
        for (int i = 0; i < 10000; i++) {
                int n = mcast_fwd_decide(f, &in, T0 + 2 * (uint64_t) i, &d);

                assert_true(n >= 0);
                copies += (uint64_t) n;
        }
        assert_int_equal(copies, 2 * 21);
        assert_int_equal(counters(f, VMTAP0, MCAST_PROTO_SSDP, MCAST_DIR_OUT).rate_limited,
                         10000 - 21);
        assert_int_equal(counters(f, ETH0, MCAST_PROTO_SSDP, MCAST_DIR_OUT).rate_limited,
                         10000 - 21);
        assert_int_equal(counters(f, ARC_ETH0, MCAST_PROTO_SSDP, MCAST_DIR_IN).forwarded, 10000);
}

/* ---- counters ---- */

static void test_counters_and_dump(void **state) {
        McastFwd *f = *state;
        McastInput in = mdns_in(ETH0, LAN_HOST, MDNS_PORT, mdns_query, sizeof mdns_query);
        McastDecision d;
        McastCounters c;
        char *text = NULL;
        size_t size = 0;
        FILE *out;

        assert_int_equal(mcast_fwd_decide(f, &in, T0, &d), 2);
        mcast_fwd_sent(f, &d, 0, 0);
        mcast_fwd_sent(f, &d, 1, -ENETDOWN);
        mcast_fwd_sent(f, &d, 2, 0); /* no such copy: ignored */
        assert_int_equal(counters(f, ARC_ETH0, MCAST_PROTO_MDNS, MCAST_DIR_OUT).forwarded, 1);
        assert_int_equal(counter(f, VMTAP0, MCAST_PROTO_MDNS, MCAST_DIR_OUT,
                                 MCAST_DROP_SEND_FAILED), 1);
        assert_int_equal(mcast_fwd_count_drop(f, ETH0, MCAST_PROTO_SSDP, MCAST_DIR_IN,
                                              MCAST_DROP_TOO_BIG), 0);
        assert_int_equal(mcast_fwd_count_drop(f, 99, MCAST_PROTO_SSDP, MCAST_DIR_IN,
                                              MCAST_DROP_TOO_BIG), -ENOENT);
        assert_int_equal(mcast_fwd_count_drop(f, ETH0, MCAST_PROTO_SSDP, MCAST_DIR_IN,
                                              _MCAST_DROP_MAX), -EINVAL);

        /* summed over the protocols */
        assert_int_equal(mcast_fwd_get_counters(f, ETH0, _MCAST_PROTO_INVALID, MCAST_DIR_IN, &c),
                         0);
        assert_int_equal(c.forwarded, 1);
        assert_int_equal(c.dropped[MCAST_DROP_TOO_BIG], 1);
        assert_int_equal(mcast_counters_dropped(&c), 1);
        assert_int_equal(mcast_fwd_get_counters(f, 99, MCAST_PROTO_MDNS, MCAST_DIR_IN, &c),
                         -ENOENT);
        assert_int_equal(mcast_fwd_get_counters(f, ETH0, MCAST_PROTO_MDNS, _MCAST_DIR_MAX, &c),
                         -EINVAL);

        out = open_memstream(&text, &size);
        assert_non_null(out);
        assert_int_equal(mcast_fwd_dump(f, out), 0);
        fclose(out);
        assert_non_null(strstr(text, "eth0 uplink mdns in: forwarded 1 rate-limited 0 dropped 0\n"));
        assert_non_null(strstr(text, "eth0 uplink ssdp in: forwarded 0 rate-limited 0 dropped 1\n"
                                     "  too-big 1\n"));
        assert_non_null(strstr(text, "vmtap0 guest mdns out: forwarded 0 rate-limited 0 "
                                     "dropped 1\n  send-failed 1\n"));
        assert_null(strstr(text, "wlan0"));
        free(text);
}

static void test_names(void **state) {
        (void) state;
        assert_string_equal(mcast_proto_to_string(MCAST_PROTO_BCAST), "broadcast");
        assert_string_equal(mcast_dir_to_string(MCAST_DIR_OUT), "out");
        assert_string_equal(mcast_role_to_string(MCAST_ROLE_GUEST), "guest");
        assert_null(mcast_proto_to_string(_MCAST_PROTO_MAX));
        assert_null(mcast_dir_to_string(_MCAST_DIR_INVALID));
        assert_null(mcast_role_to_string(_MCAST_ROLE_MAX));
        assert_int_equal(mcast_service_bit(MCAST_PROTO_MDNS, AF_INET6), MCAST_SERVICE_MDNS6);
        assert_int_equal(mcast_service_bit(MCAST_PROTO_BCAST, AF_INET6), 0);
        assert_int_equal(mcast_service_bit(_MCAST_PROTO_INVALID, AF_INET), 0);
}

/*
 * Rule 3, end to end: two hosts, A and B, each with mcastd, share one LAN segment (with a
 * third machine). A's two guests and B's one guest each sit on a segment of their own. A
 * packet is delivered to every socket on a segment except the sender's own (multicast loop
 * off, rule 1); each forwarder decides and its copies go out on the egress link's segment.
 * The simulation runs until nothing moves: every segment must have seen the packet exactly
 * once, whoever sent it first.
 */
enum { SEG_LAN, SEG_A1, SEG_A2, SEG_B1, _SEG_MAX };

typedef struct SimLink {
        int host;       /* 0 = A, 1 = B, -1 = not a forwarder's (the LAN machine, a guest) */
        int ifindex;
        int segment;
} SimLink;

static const SimLink sim_links[] = {
        { 0, 2, SEG_LAN }, { 0, 10, SEG_A1 }, { 0, 11, SEG_A2 },
        { 1, 7, SEG_LAN }, { 1, 20, SEG_B1 },
};

static void simulate(int first_segment, unsigned seen[_SEG_MAX]) {
        McastFwd *fwd[2] = { mcast_fwd_new(), mcast_fwd_new() };
        struct { int segment; int from_host; } queue[64];
        size_t head = 0, tail = 0;
        unsigned steps = 0;

        assert_non_null(fwd[0]);
        assert_non_null(fwd[1]);
        add_link(fwd[0], 2, "eth0", MCAST_ROLE_UPLINK, 0, MCAST_SERVICES_ALL,
                 addr4(0xc6336401, 24));
        add_link(fwd[0], 10, "a1", MCAST_ROLE_GUEST, 2, MCAST_SERVICES_ALL, (McastAddr) {});
        add_link(fwd[0], 11, "a2", MCAST_ROLE_GUEST, 2, MCAST_SERVICES_ALL, (McastAddr) {});
        add_link(fwd[1], 7, "eth0", MCAST_ROLE_UPLINK, 0, MCAST_SERVICES_ALL,
                 addr4(0xc6336402, 24));
        add_link(fwd[1], 20, "b1", MCAST_ROLE_GUEST, 7, MCAST_SERVICES_ALL, (McastAddr) {});

        queue[tail++] = (typeof(queue[0])) { first_segment, -1 };
        while (head < tail) {
                int segment = queue[head].segment, from = queue[head].from_host;

                head++;
                seen[segment]++;
                assert_true(++steps < 32);
                for (size_t i = 0; i < ELEMENTSOF(sim_links); i++) {
                        const SimLink *l = &sim_links[i];
                        McastInput in = mdns_in(l->ifindex, 0x0a000001, MDNS_PORT, mdns_query,
                                                sizeof mdns_query);
                        McastDecision d;
                        int n;

                        if (l->segment != segment || l->host == from)
                                continue;
                        n = mcast_fwd_decide(fwd[l->host], &in, T0, &d);
                        assert_true(n >= 0);
                        for (int e = 0; e < n; e++)
                                for (size_t j = 0; j < ELEMENTSOF(sim_links); j++)
                                        if (sim_links[j].host == l->host &&
                                            sim_links[j].ifindex == d.egress[e].ifindex) {
                                                assert_true(tail < ELEMENTSOF(queue));
                                                queue[tail++] = (typeof(queue[0])) {
                                                        sim_links[j].segment, l->host };
                                        }
                }
        }
        mcast_fwd_free(fwd[0]);
        mcast_fwd_free(fwd[1]);
}

static void test_two_forwarders_one_segment(void **state) {
        (void) state;
        for (int first = 0; first < _SEG_MAX; first++) {
                unsigned seen[_SEG_MAX] = {};

                simulate(first, seen);
                /* From the LAN: both hosts' guests, once. From a guest of A: A's other
                 * guest and the LAN, and through B's uplink B's guest, once each. */
                for (int s = 0; s < _SEG_MAX; s++)
                        if (s != first)
                                assert_int_equal(seen[s], 1);
                assert_int_equal(seen[first], 1);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                TOPO_TEST(test_link_config_errors),
                TOPO_TEST(test_link_limit),
                TOPO_TEST(test_link_update_keeps_counters_and_moves_guest),
                TOPO_TEST(test_remove_uplink_takes_guests),
                TOPO_TEST(test_addresses),
                TOPO_TEST(test_routes),
                TOPO_TEST(test_never_back_to_ingress),
                TOPO_TEST(test_service_off_and_no_route),
                TOPO_TEST(test_ingress_checks),
                TOPO_TEST(test_legacy_ports),
                TOPO_TEST(test_reply_from_lan_to_guest),
                TOPO_TEST(test_reply_from_guest_rewritten_for_the_lan),
                TOPO_TEST(test_reply_refusals),
                TOPO_TEST(test_reply_wrong_socket_service_and_rates),
                TOPO_TEST(test_mdns_answer_rewritten_toward_uplink_only),
                TOPO_TEST(test_mdns_captured_announcement_rewritten),
                TOPO_TEST(test_uplink_without_ipv4),
                TOPO_TEST(test_broadcast_from_lan),
                TOPO_TEST(test_broadcast_captured_from_lan),
                TOPO_TEST(test_broadcast_from_guest),
                TOPO_TEST(test_rate_limit_in),
                TOPO_TEST(test_rate_limit_bounds_amplification),
                TOPO_TEST(test_counters_and_dump),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_two_forwarders_one_segment),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
