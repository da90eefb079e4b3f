/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include "neighbor.h"
#include "nl-util.h"
#include "routing.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cb *, nl_cb_put);

typedef struct NeighborEntry {
        bool found;
        uint16_t state;
} NeighborEntry;

static int on_entry(struct nl_msg *msg, void *userdata) {
        struct nlmsghdr *h = nlmsg_hdr(msg);
        NeighborEntry *e = userdata;
        struct ndmsg ndm;

        if (h->nlmsg_type != RTM_NEWNEIGH || nlmsg_datalen(h) < (int) sizeof ndm)
                return NL_SKIP;
        memcpy(&ndm, nlmsg_data(h), sizeof ndm);
        e->found = true;
        e->state = ndm.ndm_state;
        return NL_OK;
}

/* An RTM_*NEIGH request for the neighbour: its ndmsg and NDA_DST. */
static struct nl_msg *neighbor_msg(const NeighborProbeArgs *a, int type, int flags,
                                   uint16_t state, uint8_t ntf) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = nlmsg_alloc_simple(type, flags);
        struct ndmsg ndm = {
                .ndm_family = (uint8_t) a->family,
                .ndm_ifindex = a->uplink.ifindex,
                .ndm_state = state,
                .ndm_flags = ntf,
        };

        if (!msg || nlmsg_append(msg, &ndm, sizeof ndm, NLMSG_ALIGNTO) < 0 ||
            nla_put(msg, NDA_DST, a->family == AF_INET ? 4 : 16, a->addr) < 0)
                return NULL;
        return TAKE_PTR(msg);
}

/* The kernel's entry for the neighbour (RTM_GETNEIGH of one entry): found or not. */
static int neighbor_get(Helper *h, const NeighborProbeArgs *a, NeighborEntry *ret, ErrBuf *err) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = neighbor_msg(a, RTM_GETNEIGH, 0, 0, 0);
        struct nl_cb *own = nl_socket_get_cb(h->nl); /* a reference, given back below */
        _cleanup_(nl_cb_putp) struct nl_cb *cb = nl_cb_clone(own);
        int r;

        nl_cb_put(own);
        if (!msg || !cb)
                return errbuf_set(err, -ENOMEM, "out of memory for a neighbour request");
        nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_entry, ret);
        /* The answer is the entry, then the ACK; or only an error, ENOENT for none. Both
         * are read, so that the socket's next request meets its own answer. */
        r = nl_send_auto(h->nl, msg);
        if (r >= 0)
                r = nl_recvmsgs(h->nl, cb);
        if (r >= 0)
                r = nl_wait_for_ack(h->nl);
        r = nlerr_to_errno(r < 0 ? r : 0);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return errbuf_set(err, r, "cannot read the neighbour entry: %s", strerror(-r));
        return 0;
}

static int neighbor_update(Helper *h, const NeighborProbeArgs *a, int flags, uint16_t state,
                           uint8_t ntf, ErrBuf *err) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = neighbor_msg(a, RTM_NEWNEIGH, flags, state, ntf);
        int r;

        if (!msg)
                return errbuf_set(err, -ENOMEM, "out of memory for a neighbour request");
        r = nl_send_auto(h->nl, msg);
        if (r >= 0)
                r = nl_wait_for_ack(h->nl);
        r = nlerr_to_errno(r < 0 ? r : 0);
        if (r < 0)
                return errbuf_set(err, r, "cannot %s the neighbour: %s",
                                  ntf & NTF_USE ? "resolve" : "probe", strerror(-r));
        return 0;
}

int helper_neighbor_probe(Helper *h, const NeighborProbeArgs *a, ErrBuf *err) {
        NeighborEntry e = {};
        uint32_t table;
        int r;

        r = routing_check_uplink(h, &a->uplink, true, &table, err);
        if (r < 0)
                return r;
        r = neighbor_get(h, a, &e, err);
        if (r < 0)
                return r;
        if (e.found && (e.state & (NUD_PERMANENT | NUD_NOARP)))
                return errbuf_set(err, -EPERM, "the neighbour's entry on %s is static",
                                  a->uplink.ifname);
        if (e.found && (e.state & NUD_PROBE))
                return 0;
        /* No NLM_F_REPLACE: the entry keeps its link-layer address and router flag. */
        if (e.found && (e.state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY)))
                return neighbor_update(h, a, 0, NUD_PROBE, 0, err);
        /* As traffic would: the kernel takes the state it has and resolves it, creating a
         * dynamic entry if there is none (NUD_NONE asks for nothing static). */
        return neighbor_update(h, a, NLM_F_CREATE, NUD_NONE, NTF_USE, err);
}
