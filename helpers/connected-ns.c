/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ConnectNamespace in the helper. Theory of operation, in order:
 *
 *   1. every field was checked (validate_ns_connect()), and the pinned uplink is checked
 *      against the kernel here;
 *   2. from the pidfd the manager opened, handles on the client's netns and an rtnetlink
 *      socket there (netns.c);
 *      a pid in the helper's own netns is refused, or the client's default route would
 *      replace the host's;
 *   3. create the veth with the peer born in the client's netns, both ifindexes from the
 *      kernel's echo of that one request;
 *   4. IPv6 off on the host end (a /proc write: rtnetlink cannot);
 *   5. addresses on both ends, both up, default route in the client's netns via the host
 *      end: one sendmsg() per namespace, the acknowledgements read together, each step's
 *      own error kept;
 *   6. nftables elements last, in one batch.
 *
 * Any failure after 3 deletes the host end, which takes the peer, its address and its
 * route with it; nothing of a failed request remains.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <net/if.h>
#include <string.h>

#include "addr.h"
#include "connected-ns.h"
#include "firewall.h"
#include "fwmark.h"
#include "ifname.h"
#include "link.h"
#include "link-reaper.h"
#include "log.h"
#include "netns.h"
#include "nl-util.h"
#include "routing.h"
#include "time-util.h"
#include "validate.h"

/* The steps of one namespace's batch, in the order they are sent. */
enum {
        HOST_ADDR,
        HOST_UP,
        _HOST_STEP_MAX,
};

enum {
        PEER_ADDR,
        PEER_UP,
        PEER_ROUTE,
        _PEER_STEP_MAX,
};

/*
 * Addresses on both ends, both up (the host end with its alias), the client's default
 * route: one sendmsg() per namespace, both sent before either is waited for. The first
 * step that failed, in the order above, is the error.
 */
static int ns_configure(Rtnl *host_rt, Rtnl *ns_rt, LinkReaper *reaper, const NsConnectArgs *a,
                        int host_ifindex, int peer_ifindex, ErrBuf *err) {
        const Subnet *s = &a->subnet;
        RtnlBatch hb = {}, pb = {};
        char addr[IPV4_STRLEN];
        int r, i;

        link_msg_addr4(&hb, host_rt, host_ifindex, subnet_addr(s, 0), s->prefix_len);
        link_msg_up(&hb, host_rt, host_ifindex, /* alias= */ true);
        link_msg_addr4(&pb, ns_rt, peer_ifindex, subnet_addr(s, 1), s->prefix_len);
        link_msg_up(&pb, ns_rt, peer_ifindex, /* alias= */ false);
        link_msg_route4(&pb, ns_rt, 0, 0, subnet_addr(s, 0), peer_ifindex);

        r = rtnl_batch_send(host_rt, &hb);
        if (r >= 0)
                r = rtnl_batch_send(ns_rt, &pb);
        if (r >= 0)
                r = rtnl_batch_wait(host_rt, &hb, NULL, NULL);
        if (r >= 0)
                r = rtnl_batch_wait(ns_rt, &pb, NULL, NULL);
        if (r < 0)
                return errbuf_set(err, r, "cannot configure %s: %s", a->host, strerror(-r));

        i = rtnl_batch_first_error(&hb);
        if (i >= 0) {
                r = hb.error[i];
                if (i == HOST_ADDR)
                        return errbuf_set(err, r, "cannot add address %s/%u: %s",
                                          ipv4_to_string(subnet_addr(s, 0), addr),
                                          s->prefix_len, strerror(-r));
                return errbuf_set(err, r, "cannot configure interface %d: %s", host_ifindex,
                                  strerror(-r));
        }
        i = rtnl_batch_first_error(&pb);
        if (i == PEER_ROUTE && pb.error[i] == -EEXIST && link_reaper_wait_all(reaper)) {
                /* The namespace's default route may be the one of its previous connection,
                 * whose veth is cut off but not deleted yet; now it is. */
                log_debug("%s: a default route was in the way, again now that the links on "
                          "their way out are gone", a->host);
                pb = (RtnlBatch) {};
                link_msg_route4(&pb, ns_rt, 0, 0, subnet_addr(s, 0), peer_ifindex);
                r = rtnl_batch_send(ns_rt, &pb);
                if (r >= 0)
                        r = rtnl_batch_wait(ns_rt, &pb, NULL, NULL);
                if (r < 0)
                        return errbuf_set(err, r, "cannot configure %s: %s", a->host,
                                          strerror(-r));
                i = pb.error[0] < 0 ? PEER_ROUTE : -1;
                pb.error[PEER_ROUTE] = pb.error[0];
        }
        if (i < 0)
                return 0;
        r = pb.error[i];
        switch (i) {
        case PEER_ADDR:
                return errbuf_set(err, r, "cannot add address %s/%u: %s",
                                  ipv4_to_string(subnet_addr(s, 1), addr), s->prefix_len,
                                  strerror(-r));
        case PEER_UP:
                return errbuf_set(err, r, "cannot configure interface %d: %s", peer_ifindex,
                                  strerror(-r));
        default:
                if (r == -EEXIST)
                        return errbuf_set(err, r, "the network namespace of process %d already "
                                          "has a default route", (int) a->pid);
                return errbuf_set(err, r, "cannot add the route to 0.0.0.0/0: %s", strerror(-r));
        }
}

int helper_ns_connect(Helper *h, const NsConnectArgs *a, IpcNsConnectResult *ret, ErrBuf *err) {
        _cleanup_(rtnl_close) Rtnl ns_rt = RTNL_NULL;
        _cleanup_close_ int netns_fd = -EBADF;
        const char *host = a->host, *peer = a->peer;
        const Subnet *s = &a->subnet;
        int host_ifindex, peer_ifindex, r;
        uint64_t t[6];
        uint32_t tag = 0;

        if (a->outbound_ifindex != 0) {
                UplinkArgs out = { .ifindex = a->outbound_ifindex };
                uint32_t table;

                memcpy(out.ifname, a->outbound_ifname, sizeof out.ifname);
                r = routing_check_uplink(h, &out, true, &table, err);
                if (r < 0)
                        return r;
                (void) fwmark_routing_tag(a->outbound_ifindex, &tag);
        }

        t[0] = now_usec();
        r = netns_open_pidfd(a->pidfd, a->pid, h->host_netns_fd, &netns_fd, NULL, &ns_rt, err);
        if (r < 0)
                return r;

        t[1] = now_usec();
        /* Ids, and so names, come back only after a wrap; if one does while its last link
         * is still on its way out, that link must be gone first. */
        if (link_reaper_wait_name(h->reaper, host))
                log_debug("Waited for the previous %s to be deleted", host);
        r = link_veth_create(&h->rtnl, host, &a->host_mac, peer, &a->peer_mac, netns_fd,
                             h->ioctl_fd, ns_rt.fd, &host_ifindex, &peer_ifindex, err);
        if (r == -ENODEV)
                goto fail; /* created, then gone before its indexes were known */
        if (r < 0)
                return r;
        t[2] = now_usec();

        /* IPv4 only on the host side: without IPv6 no DAD, router solicitations or MLD,
         * kernel work that would contend for the RTNL lock with every later request. Before
         * the host end goes up; rtnetlink has no way to set it (test/bench/FLOOR.md). */
        r = link_disable_ipv6(host, err);
        if (r < 0)
                goto fail;
        t[3] = now_usec();
        r = ns_configure(&h->rtnl, &ns_rt, h->reaper, a, host_ifindex, peer_ifindex, err);
        if (r < 0)
                goto fail;
        t[4] = now_usec();
        FwBatch b = {};
        /* Pinned traffic follows its uplink's tag; the rest asks to use or avoid a VPN. */
        fw_batch_guest_add(&b, host,
                           FWMARK_SNAT | fwmark_from_source(a->source) | tag |
                           (tag ? 0 : fwmark_from_vpn_policy(a->route_on_vpn ? VPN_POLICY_ROUTE_ON_VPN
                                                                           : VPN_POLICY_BYPASS_VPN)),
                           &(FwGuestSources) { .v4 = { { .base = subnet_addr(s, 1),
                                                         .prefix_len = 32 } },
                                               .n_v4 = 1 });
        r = fw_batch_commit(h->nft, &b, "add the namespace", err);
        if (r < 0)
                goto fail;

        t[5] = now_usec();
        ret->host_ifindex = host_ifindex;
        ret->peer_ifindex = peer_ifindex;
        log_debug("Connected pid %d: %s <-> %s in %llu us (netns %llu, veth %llu, ifindexes %llu, "
                  "addresses and route %llu, nftables %llu)", (int) a->pid, host, peer,
                  (unsigned long long) (t[5] - t[0]), (unsigned long long) (t[1] - t[0]),
                  (unsigned long long) (t[2] - t[1]), (unsigned long long) (t[3] - t[2]),
                  (unsigned long long) (t[4] - t[3]), (unsigned long long) (t[5] - t[4]));
        return 0;

fail:
        if (link_delete(h->nl, host) < 0)
                log_warning("Failed to delete %s while rolling back, ignoring", host);
        return r;
}

/* Delete the links now, waiting for the kernel's unregistration: one group, one grace
 * period for all of them; one at a time if that fails. */
static void ns_delete_now(Helper *h, char (*names)[IFNAMSIZ], size_t n, int *status,
                          ErrBuf *errs) {
        int r = link_delete_many(h->nl, h->ioctl_fd, names, (unsigned) n, NULL);

        if (r >= 0)
                return;
        log_warning("Failed to delete %s and %zu others at once (%s), one at a time now",
                    names[0], n - 1, strerror(-r));
        for (size_t i = 0; i < n; i++) {
                int k = link_delete(h->nl, names[i]);

                if (k < 0 && k != -ENODEV)
                        status[i] = errbuf_set(&errs[i], k, "cannot delete %s: %s", names[i],
                                               strerror(-k));
        }
}

/* Cut the links off (down, into PP_DELETE_GROUP), for the reaper to delete: the answer,
 * and every request after it, does not wait for the kernel's unregistration. A link that
 * cannot be cut off is deleted now. The names cut off go to @handed, *ret_n_handed of them. */
static void ns_cut_off(Helper *h, char (*names)[IFNAMSIZ], size_t n, int *status,
                       ErrBuf *errs, char (*handed)[IFNAMSIZ], unsigned *ret_n_handed) {
        _cleanup_free_ int *cut = calloc(n, sizeof *cut);
        unsigned n_handed = 0;
        int r;

        *ret_n_handed = 0;
        if (!cut)
                return ns_delete_now(h, names, n, status, errs);
        r = link_cut_off_many(&h->rtnl, (const char (*)[IFNAMSIZ]) names, (unsigned) n, cut);
        if (r < 0) {
                log_warning("Failed to cut %s and %zu others off (%s), deleting them now",
                            names[0], n - 1, strerror(-r));
                return ns_delete_now(h, names, n, status, errs);
        }
        for (size_t i = 0; i < n; i++) {
                if (cut[i] == 0) {
                        memcpy(handed[n_handed++], names[i], IFNAMSIZ);
                        continue;
                }
                if (cut[i] == -ENODEV)
                        continue;
                log_warning("Failed to cut %s off (%s), deleting it now", names[i],
                            strerror(-cut[i]));
                r = link_delete(h->nl, names[i]);
                if (r < 0 && r != -ENODEV)
                        status[i] = errbuf_set(&errs[i], r, "cannot delete %s: %s", names[i],
                                               strerror(-r));
        }
        *ret_n_handed = n_handed;
}

void helper_ns_disconnect_many(Helper *h, const NsDisconnectArgs *const *as, size_t n,
                               int *status, ErrBuf *errs) {
        _cleanup_free_ char(*names)[IFNAMSIZ] = calloc(n ?: 1, IFNAMSIZ);
        _cleanup_free_ char(*handed)[IFNAMSIZ] = calloc(n ?: 1, IFNAMSIZ);
        unsigned n_handed = 0;
        ErrBuf err = {};

        if (!names || !handed) {
                for (size_t i = 0; i < n; i++)
                        status[i] = errbuf_set(&errs[i], -ENOMEM, "out of memory");
                return;
        }
        for (size_t i = 0; i < n; i++) {
                status[i] = 0;
                memcpy(names[i], as[i]->host, IFNAMSIZ);
        }

        /* Links first, then elements. A link gone already, or going while this runs (its
         * namespace died and takes it along when the kernel gets to it), is torn down: only
         * a link that may still be there fails its namespace, whose subnet the manager then
         * keeps out of use. */
        if (h->reaper)
                ns_cut_off(h, names, n, status, errs, handed, &n_handed);
        else
                ns_delete_now(h, names, n, status, errs);
        for (size_t start = 0; start < n; start += 16) {
                size_t end = start + 16 < n ? start + 16 : n;
                FwBatch b = {};
                int k;

                for (size_t i = start; i < end; i++)
                        fw_batch_guest_remove(&b, names[i]);
                k = fw_batch_commit_removal(h->nft, &b, "remove the namespaces", &err);
                for (size_t i = start; i < end; i++) {
                        if (status[i] < 0)
                                continue; /* its link failed: that is its error */
                        status[i] = k < 0 ? k : 0;
                        if (k < 0)
                                errs[i] = err;
                }
        }
        /* Cut off and out of the sets: the links' deletion, and its wait for the kernel,
         * is the reaper's from here on. */
        link_reaper_hand(h->reaper, (const char (*)[IFNAMSIZ]) handed, n_handed);
}
