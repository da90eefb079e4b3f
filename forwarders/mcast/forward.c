/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One received datagram, from any socket of mcastd, to its copies: mcast_fwd_decide() says
 * where they go and what each looks like, mcast_fwd_prepare() gives each one's bytes, the
 * socket of its kind sends it, and mcast_fwd_sent() counts how that went.
 */
#include <errno.h>
#include <sys/socket.h>

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

ssize_t mcastd_recvmsg(int fd, void *buf, size_t size, void *from, socklen_t from_size,
                       void *control, size_t control_size, struct msghdr *ret_msg) {
        struct iovec iov = { .iov_base = buf, .iov_len = size };
        ssize_t n;

        *ret_msg = (struct msghdr) { .msg_name = from, .msg_namelen = from_size, .msg_iov = &iov,
                                     .msg_iovlen = 1, .msg_control = control,
                                     .msg_controllen = control_size };
        n = recvmsg(fd, ret_msg, MSG_DONTWAIT);
        ret_msg->msg_iov = NULL; /* it was ours */
        ret_msg->msg_iovlen = 0;
        return n < 0 ? -errno : n;
}

void mcastd_receive(Mcastd *m, int fd, McastdReceiveFn receive, void *userdata) {
        for (unsigned i = 0; i < MCASTD_RX_BATCH; i++) {
                McastInput in = {};
                int r = receive(fd, userdata, &in);

                if (r == -EAGAIN || r == -EINTR)
                        break;
                if (r == -EMSGSIZE) {
                        (void) mcast_fwd_count_drop(m->fwd, in.ifindex, in.proto, MCAST_DIR_IN,
                                                    MCAST_DROP_TOO_BIG);
                        mcastd_changed(m);
                        continue;
                }
                if (r < 0) {
                        log_debug_errno(r, "A receive failed, ignoring: %m");
                        break;
                }
                if (r > 0)
                        mcastd_forward(m, &in);
        }
}

/* A defer source: pending as soon as it is enabled, dispatched in the next turn of the loop
 * after everything of this one. A burst of link pairs (a restarted mcastd gets all of them
 * in one read) makes one report, not one per pair. (A post source would not do: it is made
 * pending only by a dispatch that starts while it is already enabled, so the last change
 * before a quiet spell would wait for the next event.) */
static int on_status_due(sd_event_source *s, void *userdata) {
        Mcastd *m = userdata;

        (void) s;
        fwd_runtime_status_changed(m->rt);
        return 0;
}

int mcastd_status_setup(Mcastd *m) {
        int r;

        if (!m->rt)
                return 0;
        r = sd_event_add_defer(m->event, &m->status_due, on_status_due, m);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(m->status_due, SD_EVENT_OFF);
}

void mcastd_changed(Mcastd *m) {
        if (m->status_due)
                (void) sd_event_source_set_enabled(m->status_due, SD_EVENT_ONESHOT);
}
