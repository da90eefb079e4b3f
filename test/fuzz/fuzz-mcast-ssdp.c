/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz-mcast-ssdp: the input is an SSDP payload (a UDP datagram's data).
 *
 * Invariants:
 *  - ssdp_validate() returns 0 or -EBADMSG with an SSDP drop reason;
 *  - an accepted message is at most SSDP_MESSAGE_MAX bytes, holds no NUL, starts with one of
 *    the three start lines its kind names, ends with the empty line, has at most
 *    SSDP_HEADERS_MAX headers and an MX of at most SSDP_MX_MAX; one more byte after it is
 *    refused as a body;
 *  - through mcast_fwd_decide() from the LAN, copies go to guests only and are the input;
 *  - through mcast_fwd_decide_reply(), only an accepted "HTTP/1.1 200" answer goes back,
 *    to the asker's link alone, as it is.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "mcast-fwd.h"
#include "ssdp.h"

static McastFwd *fwd_get(void) {
        static McastFwd *f;

        if (f)
                return f;
        f = mcast_fwd_new();
        FUZZ_CHECK(f);
        FUZZ_CHECK(mcast_fwd_set_link(f, &(McastLinkConfig) { .ifindex = 2, .ifname = "up",
                                      .role = MCAST_ROLE_UPLINK,
                                      .services = MCAST_SERVICES_ALL }) == 0);
        FUZZ_CHECK(mcast_fwd_set_link(f, &(McastLinkConfig) { .ifindex = 10, .ifname = "g1",
                                      .role = MCAST_ROLE_GUEST, .uplink_ifindex = 2,
                                      .services = MCAST_SERVICES_ALL }) == 0);
        FUZZ_CHECK(mcast_fwd_set_rate(f, MCAST_PROTO_SSDP, MCAST_DIR_IN, (McastRate) {}) == 0);
        FUZZ_CHECK(mcast_fwd_set_rate(f, MCAST_PROTO_SSDP, MCAST_DIR_OUT, (McastRate) {}) == 0);
        return f;
}

static bool starts_with(const uint8_t *data, size_t size, const char *s) {
        size_t n = strlen(s);

        return size >= n && memcmp(data, s, n) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        McastDrop reason = _MCAST_DROP_INVALID;
        SsdpInfo info = {};
        uint8_t *longer;
        int r;

        r = ssdp_validate(data, size, &info, &reason);
        FUZZ_CHECK(r == 0 || r == -EBADMSG);
        if (r < 0) {
                FUZZ_CHECK(reason >= MCAST_DROP_SSDP_TOO_LONG &&
                           reason <= MCAST_DROP_SSDP_HEADER_VALUE);
        } else {
                FUZZ_CHECK(size <= SSDP_MESSAGE_MAX && size >= 4);
                FUZZ_CHECK(!memchr(data, 0, size));
                FUZZ_CHECK(memcmp(data + size - 4, "\r\n\r\n", 4) == 0);
                FUZZ_CHECK(info.n_headers <= SSDP_HEADERS_MAX);
                FUZZ_CHECK(info.mx <= SSDP_MX_MAX);
                FUZZ_CHECK(info.kind >= 0 && info.kind < _SSDP_KIND_MAX);
                switch (info.kind) {
                case SSDP_MSEARCH:
                        FUZZ_CHECK(starts_with(data, size, "M-SEARCH * HTTP/1.1\r\n"));
                        break;
                case SSDP_NOTIFY:
                        FUZZ_CHECK(starts_with(data, size, "NOTIFY * HTTP/1.1\r\n"));
                        break;
                case SSDP_RESPONSE:
                        FUZZ_CHECK(info.mx == 0);
                        FUZZ_CHECK(starts_with(data, size, "HTTP/1.1 200"));
                        break;
                default:
                        break;
                }
                if (size < SSDP_MESSAGE_MAX) {
                        longer = malloc(size + 1);
                        FUZZ_CHECK(longer);
                        memcpy(longer, data, size);
                        longer[size] = 'x';
                        FUZZ_CHECK(ssdp_validate(longer, size + 1, NULL, &reason) == -EBADMSG);
                        FUZZ_CHECK(reason == MCAST_DROP_SSDP_BODY);
                        free(longer);
                }
        }

        {
                McastFwd *f = fwd_get();
                McastInput in = { .ifindex = 2, .socket_ifindex = 2, .proto = MCAST_PROTO_SSDP,
                                  .family = AF_INET, .src4 = 0xc0000202, .src_port = 1900,
                                  .data = data, .len = size };
                McastDecision d;
                int k = mcast_fwd_decide(f, &in, 0, &d);

                FUZZ_CHECK(k == (r == 0 ? 1 : 0));
                for (int i = 0; i < k; i++) {
                        const uint8_t *p;
                        size_t len;

                        FUZZ_CHECK(d.egress[i].ifindex == 10);
                        FUZZ_CHECK(mcast_fwd_prepare(&in, &d, (size_t) i, NULL, 0, &p, &len) == 0);
                        FUZZ_CHECK(p == data && len == size);
                }

                /* The same bytes as a LAN device's unicast answer to a guest's M-SEARCH. */
                k = mcast_fwd_decide_reply(f, &in, 10, 0, &d);
                FUZZ_CHECK(k == (r == 0 && info.kind == SSDP_RESPONSE ? 1 : 0));
                if (k == 1) {
                        const uint8_t *p;
                        size_t len;

                        FUZZ_CHECK(d.n_egress == 1 && d.egress[0].ifindex == 10);
                        FUZZ_CHECK(mcast_fwd_prepare(&in, &d, 0, NULL, 0, &p, &len) == 0);
                        FUZZ_CHECK(p == data && len == size);
                }
        }
        return 0;
}
