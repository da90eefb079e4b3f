/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz-mcast-dns: the input is an mDNS payload (a UDP datagram's data).
 *
 * Invariants:
 *  - mdns_validate() returns 0 or -EBADMSG with a DNS drop reason;
 *  - the reader agrees: a valid message reads to its end, and every name in it prints;
 *  - mdns_rewrite_a() (from = the first A record's address) refuses exactly what
 *    mdns_validate() refuses, for the same reason, without touching a byte; otherwise it
 *    keeps the length, changes only A RDATA (at most 4 bytes per rewritten record), never
 *    rewrites a query, and its result still validates, with the same counts;
 *  - through mcast_fwd_decide() as a datagram from a guest, no copy goes back to the guest
 *    and every prepared copy validates with the input's length;
 *  - through mcast_fwd_decide_reply() as a guest's unicast answer to a LAN asker, a copy
 *    goes to the uplink only, only for an answer, and validates with the input's length.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "dns.h"
#include "fuzz.h"
#include "mcast-fwd.h"

#define UPLINK 2
#define GUEST 10
#define OTHER_GUEST 11
#define UPLINK_ADDR 0xc6336401u /* 198.51.100.1 */

static McastFwd *fwd_get(void) {
        static McastFwd *f;
        McastAddr up = { .family = AF_INET, .prefix_len = 24, .in4 = UPLINK_ADDR };
        /* /0: any source counts as the guest's, so the rewrite is reached */
        McastAddr guest = { .family = AF_INET, .prefix_len = 0, .in4 = 0x64735c01 };

        if (f)
                return f;
        f = mcast_fwd_new();
        FUZZ_CHECK(f);
        FUZZ_CHECK(mcast_fwd_set_link(f, &(McastLinkConfig) { .ifindex = UPLINK, .ifname = "up",
                                      .role = MCAST_ROLE_UPLINK,
                                      .services = MCAST_SERVICES_ALL }) == 0);
        FUZZ_CHECK(mcast_fwd_set_link(f, &(McastLinkConfig) { .ifindex = GUEST, .ifname = "g1",
                                      .role = MCAST_ROLE_GUEST, .uplink_ifindex = UPLINK,
                                      .services = MCAST_SERVICES_ALL }) == 0);
        FUZZ_CHECK(mcast_fwd_set_link(f, &(McastLinkConfig) { .ifindex = OTHER_GUEST,
                                      .ifname = "g2", .role = MCAST_ROLE_GUEST,
                                      .uplink_ifindex = UPLINK,
                                      .services = MCAST_SERVICES_ALL }) == 0);
        FUZZ_CHECK(mcast_fwd_set_addresses(f, UPLINK, &up, 1) == 0);
        FUZZ_CHECK(mcast_fwd_set_addresses(f, GUEST, &guest, 1) == 0);
        for (McastDir d = 0; d < _MCAST_DIR_MAX; d++)
                FUZZ_CHECK(mcast_fwd_set_rate(f, MCAST_PROTO_MDNS, d, (McastRate) {}) == 0);
        return f;
}

static bool is_dns_reason(McastDrop r) {
        return r >= MCAST_DROP_DNS_SHORT_HEADER && r <= MCAST_DROP_DNS_TRAILING_BYTES;
}

/* The address of the first A record, or 192.0.2.11. */
static uint32_t first_a(const uint8_t *data, size_t size) {
        DnsReader r;
        DnsRecord rr;

        if (dns_reader_init(&r, data, size, NULL) < 0)
                return 0xc000020b;
        while (dns_reader_next(&r, &rr, NULL) > 0)
                if (rr.type == DNS_TYPE_A && rr.section != DNS_SECTION_QUESTION &&
                    rr.rdlength == 4) {
                        const uint8_t *p = data + rr.rdata_offset;

                        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 |
                                (uint32_t) p[2] << 8 | p[3];
                }
        return 0xc000020b;
}

static void check_reader(const uint8_t *data, size_t size) {
        char name[DNS_NAME_STRLEN];
        DnsReader r;
        DnsRecord rr;
        unsigned n = 0;
        int k;

        FUZZ_CHECK(dns_reader_init(&r, data, size, NULL) == 0);
        while ((k = dns_reader_next(&r, &rr, NULL)) > 0) {
                FUZZ_CHECK(rr.name_offset < size);
                FUZZ_CHECK(rr.rdata_offset + rr.rdlength <= size);
                FUZZ_CHECK(dns_name_to_string(data, size, rr.name_offset, name, sizeof name) > 0);
                FUZZ_CHECK(strlen(name) < sizeof name);
                n++;
        }
        FUZZ_CHECK(k == 0);
        FUZZ_CHECK(n == r.total);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        McastDrop reason = _MCAST_DROP_INVALID, reason2 = _MCAST_DROP_INVALID;
        uint32_t from = first_a(data, size);
        MdnsInfo info = {}, info2;
        uint8_t *copy;
        size_t changed = 0;
        int r, n;

        r = mdns_validate(data, size, &info, &reason);
        FUZZ_CHECK(r == 0 || r == -EBADMSG);
        if (r < 0)
                FUZZ_CHECK(is_dns_reason(reason));
        else
                check_reader(data, size);

        /* an exact-size heap copy, so ASan sees any read or write past it */
        copy = malloc(size ? size : 1);
        FUZZ_CHECK(copy);
        if (size)
                memcpy(copy, data, size);
        n = mdns_rewrite_a(copy, size, from, UPLINK_ADDR, &reason2);
        if (r < 0) {
                FUZZ_CHECK(n == -EBADMSG);
                FUZZ_CHECK(reason2 == reason);
                FUZZ_CHECK(size == 0 || memcmp(copy, data, size) == 0);
        } else {
                FUZZ_CHECK(n >= 0 && (unsigned) n <= info.n_a);
                if (info.is_query)
                        FUZZ_CHECK(n == 0);
                for (size_t i = 0; i < size; i++)
                        changed += copy[i] != data[i];
                FUZZ_CHECK(changed <= 4 * (size_t) n);
                FUZZ_CHECK(mdns_validate(copy, size, &info2, NULL) == 0);
                FUZZ_CHECK(info2.n_a == info.n_a && info2.n_records == info.n_records &&
                           info2.is_query == info.is_query);
                /* nothing left to rewrite, unless the two addresses are the same */
                if (from != UPLINK_ADDR)
                        FUZZ_CHECK(mdns_rewrite_a(copy, size, from, UPLINK_ADDR, NULL) == 0);
        }
        free(copy);

        /* The forwarder, as a datagram from a guest. */
        {
                McastFwd *f = fwd_get();
                McastInput in = { .ifindex = GUEST, .socket_ifindex = GUEST,
                                  .proto = MCAST_PROTO_MDNS, .family = AF_INET, .src4 = from,
                                  .src_port = MDNS_PORT, .data = data, .len = size };
                static uint8_t out[DNS_MESSAGE_MAX];
                McastDecision d;
                int k = mcast_fwd_decide(f, &in, 0, &d);

                FUZZ_CHECK(k >= 0);
                if (r < 0)
                        FUZZ_CHECK(k == 0);
                for (int i = 0; i < k; i++) {
                        const uint8_t *p;
                        size_t len;

                        FUZZ_CHECK(d.egress[i].ifindex != GUEST);
                        FUZZ_CHECK(mcast_fwd_prepare(&in, &d, (size_t) i, out, sizeof out, &p,
                                                     &len) == 0);
                        FUZZ_CHECK(len == size);
                        FUZZ_CHECK(mdns_validate(p, len, NULL, NULL) == 0);
                        mcast_fwd_sent(f, &d, (size_t) i, 0);
                }

                /* The same bytes as the unicast answer to a LAN host's legacy query. */
                in.src_port = 40000;
                k = mcast_fwd_decide_reply(f, &in, UPLINK, 0, &d);
                FUZZ_CHECK(k == 0 || k == 1);
                if (r < 0 || info.is_query)
                        FUZZ_CHECK(k == 0);
                if (k == 1) {
                        const uint8_t *p;
                        size_t len;

                        FUZZ_CHECK(d.n_egress == 1 && d.egress[0].ifindex == UPLINK);
                        FUZZ_CHECK(mcast_fwd_prepare(&in, &d, 0, out, sizeof out, &p, &len) == 0);
                        FUZZ_CHECK(len == size);
                        FUZZ_CHECK(mdns_validate(p, len, NULL, NULL) == 0);
                        mcast_fwd_sent(f, &d, 0, 0);
                }
        }
        return 0;
}
