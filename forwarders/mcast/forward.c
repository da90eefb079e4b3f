/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One received datagram, from any socket of mcastd, to its copies: mcast_fwd_decide() says
 * where they go and what each looks like, mcast_fwd_prepare() gives each one's bytes, the
 * socket of its kind sends it, and mcast_fwd_sent() counts how that went.
 */
#include <errno.h>

#include "log.h"
#include "mcastd.h"
#include "time-util.h"

/* A rewritten copy: an mDNS message or a whole broadcast IPv4 packet. */
static uint8_t copy_buffer[BCAST_PACKET_MAX];

static int send_copy(Mcastd *m, const McastInput *in, const McastDecision *d, size_t i,
                     const uint8_t *data, size_t len) {
        const McastEgress *e = &d->egress[i];
        McLink *l = mcastd_link_active(m, e->ifindex);

        if (!l)
                return -ENOTCONN;
        switch (e->kind) {
        case MCAST_EGRESS_AS_IS:
        case MCAST_EGRESS_MDNS_REWRITTEN:
                return udp_send_copy(m, in, d, l, data, len);
        case MCAST_EGRESS_BCAST_PACKET:
                return m->bcast ? bcast_sock_send(m->bcast, e->ifindex, data, len) : -ENOTCONN;
        case MCAST_EGRESS_BCAST_PAYLOAD:
                return udp_send_broadcast_payload(l, d->bcast.sport, e->dst4, d->bcast.dport,
                                                  data, len);
        default:
                return -EINVAL;
        }
}

void mcastd_forward(Mcastd *m, const McastInput *in) {
        static McastDecision d;
        int n;

        n = mcast_fwd_decide(m->fwd, in, now_usec(), &d);
        if (n == -ENOENT)
                log_debug("A datagram from ifindex %d, which is not served, ignoring", in->ifindex);
        for (int i = 0; i < n; i++) {
                const uint8_t *data;
                size_t len;
                int r;

                r = mcast_fwd_prepare(in, &d, (size_t) i, copy_buffer, sizeof copy_buffer, &data,
                                      &len);
                if (r >= 0)
                        r = send_copy(m, in, &d, (size_t) i, data, len);
                if (r < 0)
                        log_debug_errno(r, "A %s copy to ifindex %d failed: %m",
                                        mcast_proto_to_string(in->proto), d.egress[i].ifindex);
                mcast_fwd_sent(m->fwd, &d, (size_t) i, r);
        }
        mcastd_changed(m);
}

/* Once per turn of the loop, after everything that turn dispatched: a burst of link pairs
 * (a restarted mcastd gets all of them at once) makes one report, not one per pair. */
static int on_status_post(sd_event_source *s, void *userdata) {
        Mcastd *m = userdata;

        (void) s;
        fwd_runtime_status_changed(m->rt);
        return 0;
}

int mcastd_status_setup(Mcastd *m) {
        int r;

        if (!m->rt)
                return 0;
        r = sd_event_add_post(m->event, &m->status_post, on_status_post, m);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(m->status_post, SD_EVENT_OFF);
}

void mcastd_changed(Mcastd *m) {
        if (m->status_post)
                (void) sd_event_source_set_enabled(m->status_post, SD_EVENT_ONESHOT);
}
