/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest datapaths. Each operation validates every field, builds its links one by one, and
 * ends with one nftables batch; on any failure it deletes the links it created, so nothing
 * of a failed request remains. Links on the host side are marked ours from their creation
 * (PP_LINK_GROUP; link.h says how, TAPs included) and carry PP_LINK_ALIAS once configured;
 * removals touch only links that carry a mark.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "firewall.h"
#include "fwmark.h"
#include "guests.h"
#include "ifname.h"
#include "link.h"
#include "log.h"
#include "netns.h"
#include "nl-util.h"
#include "validate.h"

/* Links created so far by one request, deleted again if it fails. */
typedef struct Undo {
        struct nl_sock *nl;
        char names[ARC_VM_N_TAPS + 2][IFNAMSIZ];
        unsigned n;
} Undo;

static void undo_push(Undo *u, const char *name) {
        if (u->n < ELEMENTSOF(u->names))
                snprintf(u->names[u->n++], IFNAMSIZ, "%s", name);
}

static void undo_run(Undo *u) {
        while (u->n > 0) {
                const char *name = u->names[--u->n];
                if (link_delete(u->nl, name) < 0)
                        log_warning("Failed to delete %s while rolling back, ignoring", name);
        }
}

/* Links to delete together (one kernel grace period for all). */
typedef struct Doomed {
        char names[ARC_VM_N_TAPS + 2 + 2 * ARC_N_UPLINK_SLOTS][IFNAMSIZ];
        unsigned n;
} Doomed;

/* Add a link to the batch only if it is ours; gone already is fine. */
static int doom_if_ours(Helper *h, Doomed *d, const char *name, ErrBuf *err) {
        int r = link_is_ours(h->nl, name, NULL);

        if (r == -ENODEV)
                return 0;
        if (r == -EPERM)
                return errbuf_set(err, r, "%s is not the daemon's", name);
        if (r < 0)
                return errbuf_set(err, r, "cannot look at %s: %s", name, strerror(-r));
        if (d->n < ELEMENTSOF(d->names))
                snprintf(d->names[d->n++], IFNAMSIZ, "%s", name);
        return 0;
}

static int doomed_delete(Helper *h, Doomed *d, ErrBuf *err) {
        int r = link_delete_many(h->nl, h->ioctl_fd, d->names, d->n, NULL);
        if (r < 0)
                return errbuf_set(err, r, "cannot delete %s and others: %s", d->names[0],
                                  strerror(-r));
        return 0;
}

/* Delete one link only if it is ours. */
static int delete_ours(Helper *h, const char *name, ErrBuf *err) {
        Doomed d = {};
        int r = doom_if_ours(h, &d, name, err);
        return r < 0 ? r : doomed_delete(h, &d, err);
}

/* A bridge, ours, up, with address .1 of s. */
static int bridge_add(Helper *h, Undo *u, const char *name, const Subnet *s, int *ret_ifindex,
                      ErrBuf *err) {
        int ifindex, r;

        r = link_create_bridge(h->nl, name, err);
        if (r < 0)
                return r;
        undo_push(u, name);
        r = link_get_ifindex_ioctl(h->ioctl_fd, name, &ifindex);
        if (r < 0)
                return errbuf_set(err, r, "%s vanished after its creation", name);
        r = link_configure(h->nl, ifindex, &(LinkConfig) { .up = true, .mark = true,
                                                           .master = -1 }, err);
        if (r < 0)
                return r;
        r = addr_add_ipv4(h->nl, ifindex, subnet_addr(s, 0), s->prefix_len, err);
        if (r < 0)
                return r;
        *ret_ifindex = ifindex;
        return 0;
}

/*
 * A veth from the host (a port of bridge master, IPv4 nothing, IPv6 off) into the netns of
 * a process, where it is called peer, gets .2 of s and mac, and goes up.
 */
static int veth_into_guest(Helper *h, Undo *u, const char *host, int master, int pidfd,
                           pid_t pid, const char *peer, const MacAddr *mac, const Subnet *s,
                           ErrBuf *err) {
        _cleanup_(nl_socket_freep) struct nl_sock *ns_nl = NULL;
        _cleanup_close_ int netns_fd = -EBADF;
        int host_ifindex, peer_ifindex, r;

        r = netns_open_pidfd(pidfd, pid, h->host_netns_fd, &netns_fd, &ns_nl, NULL, err);
        if (r < 0)
                return r;
        /* A bridge port: the kernel's random MAC will do on the host side. */
        r = link_create_veth(h->nl, host, NULL, peer, mac, netns_fd, false, err);
        if (r < 0)
                return r;
        undo_push(u, host);
        r = link_get_ifindex_ioctl(h->ioctl_fd, host, &host_ifindex);
        if (r < 0)
                return errbuf_set(err, r, "%s vanished after its creation", host);
        r = link_get_ifindex(ns_nl, peer, &peer_ifindex);
        if (r < 0)
                return errbuf_set(err, r, "%s vanished after its creation", peer);
        r = link_disable_ipv6(host, err);
        if (r < 0)
                return r;
        r = link_configure(h->nl, host_ifindex, &(LinkConfig) { .up = true, .mark = true,
                                                                .master = master }, err);
        if (r < 0)
                return r;
        r = addr_add_ipv4(ns_nl, peer_ifindex, subnet_addr(s, 1), s->prefix_len, err);
        if (r < 0)
                return r;
        return link_configure(ns_nl, peer_ifindex, &(LinkConfig) { .up = true, .master = -1 }, err);
}

/* ---- VM TAPs ---------------------------------------------------------------------------- */

int helper_vm_tap_add(Helper *h, const VmTapAddArgs *a, char ret_name[static IFNAMSIZ],
                      int *ret_ifindex, ErrBuf *err) {
        Undo u = { .nl = h->nl };
        char tap[IFNAMSIZ];
        const Subnet *s = &a->subnet, *lxd = &a->lxd;
        TrafficSource source;
        FwGuestSources src = {};
        FwBatch b = {};
        int ifindex, r;

        source = a->kind == PATCHPANEL__IPC__VM_KIND__VM_KIND_TERMINA ? TRAFFIC_SOURCE_CROSVM
                                                                      : TRAFFIC_SOURCE_PLUGINVM;

        r = tap_create(h->nl, h->ioctl_fd, h->tap_owner, tap, &ifindex, err);
        if (r < 0)
                return r;
        undo_push(&u, tap);
        r = link_configure(h->nl, ifindex, &(LinkConfig) { .up = true, .mac = &a->mac,
                                                           .master = -1 }, err);
        if (r < 0)
                goto fail;
        r = addr_add_ipv4(h->nl, ifindex, subnet_addr(s, 0), s->prefix_len, err);
        if (r < 0)
                goto fail;
        if (lxd->prefix_len) {
                r = route_add_ipv4(h->nl, lxd->base, lxd->prefix_len, subnet_addr(s, 1), ifindex,
                                   err);
                if (r < 0)
                        goto fail;
        }
        /* The VM's address, and Termina's containers behind it. */
        src.v4[src.n_v4++] = (Subnet) { .base = subnet_addr(s, 1), .prefix_len = 32 };
        if (lxd->prefix_len)
                src.v4[src.n_v4++] = *lxd;
        /* VMs' traffic goes through the host's VPN, as the original's did. */
        fw_batch_guest_add(&b, tap, FWMARK_SNAT | fwmark_from_source(source) | FWMARK_ROUTE_ON_VPN,
                           &src);
        r = fw_batch_commit(h->nft, &b, "add the VM", err);
        if (r < 0)
                goto fail;

        memcpy(ret_name, tap, IFNAMSIZ);
        *ret_ifindex = ifindex;
        return 0;
fail:
        undo_run(&u);
        return r;
}

int helper_vm_tap_remove(Helper *h, const TapArgs *a, ErrBuf *err) {
        FwBatch b = {};
        int r, k;

        r = delete_ours(h, a->ifname, err);
        fw_batch_guest_remove(&b, a->ifname);
        k = fw_batch_commit_removal(h->nft, &b, "remove the VM", r < 0 ? NULL : err);
        return r < 0 ? r : k;
}

/* ---- ARC -------------------------------------------------------------------------------- */

static uint32_t arc_mark(uint32_t tag) {
        return FWMARK_SNAT | fwmark_from_source(TRAFFIC_SOURCE_ARC) | tag;
}

int helper_arc_add(Helper *h, const ArcAddArgs *a, char taps[][IFNAMSIZ], ErrBuf *err) {
        Undo u = { .nl = h->nl };
        Subnet s = { .base = h->pools.pools[POOL_ARC].base,
                     .prefix_len = h->pools.pools[POOL_ARC].prefix_len };
        FwBatch b = {};
        int br, r;

        r = bridge_add(h, &u, ARC_BRIDGE, &s, &br, err);
        if (r < 0)
                goto fail;
        if (!a->vm) {
                r = veth_into_guest(h, &u, ARC_HOST_VETH, br, a->pidfd, a->pid, ARC_GUEST_IFNAME,
                                    &a->guest_mac, &s, err);
                if (r < 0)
                        goto fail;
        } else {
                for (unsigned i = 0; i < ARC_VM_N_TAPS; i++) {
                        MacAddr mac = mac_stable((uint8_t) (i + 1));
                        int ifindex;

                        r = tap_create(h->nl, h->ioctl_fd, h->tap_owner, taps[i],
                                       &ifindex, err);
                        if (r < 0)
                                goto fail;
                        undo_push(&u, taps[i]);
                        r = link_disable_ipv6(taps[i], err);
                        if (r < 0)
                                goto fail;
                        /* arc0's TAP on arcbr0; the others wait for their uplink's bridge. */
                        r = link_configure(h->nl, ifindex, &(LinkConfig) {
                                                   .up = true, .mac = &mac,
                                                   .master = i == 0 ? br : -1 }, err);
                        if (r < 0)
                                goto fail;
                }
        }
        /* arc0's address, the container's or the VM's. */
        fw_batch_guest_add(&b, ARC_BRIDGE, arc_mark(0), &(FwGuestSources) {
                                   .v4 = { { .base = subnet_addr(&s, 1), .prefix_len = 32 } },
                                   .n_v4 = 1 });
        r = fw_batch_commit(h->nft, &b, "add ARC", err);
        if (r < 0)
                goto fail;
        return 0;
fail:
        undo_run(&u);
        return r;
}

int helper_arc_remove(Helper *h, const ArcRemoveArgs *a, ErrBuf *err) {
        FwBatch b = {};
        Doomed d = {};
        int r = 0, k;

        for (size_t i = 0; i < a->n_taps; i++) {
                k = doom_if_ours(h, &d, a->taps[i], r < 0 ? NULL : err);
                if (k < 0 && r == 0)
                        r = k;
        }
        if (!a->vm) {
                k = doom_if_ours(h, &d, ARC_HOST_VETH, r < 0 ? NULL : err);
                if (k < 0 && r == 0)
                        r = k;
        }
        k = doom_if_ours(h, &d, ARC_BRIDGE, r < 0 ? NULL : err);
        if (k < 0 && r == 0)
                r = k;
        for (size_t i = 0; i < a->n_uplinks; i++) {
                char bridge[IFNAMSIZ], veth[IFNAMSIZ];

                (void) ifname_prefixed(ARC_UPLINK_BRIDGE_PREFIX, a->uplinks[i], bridge);
                (void) ifname_prefixed(ARC_UPLINK_VETH_PREFIX, a->uplinks[i], veth);
                k = doom_if_ours(h, &d, bridge, r < 0 ? NULL : err);
                if (k >= 0 && !a->vm)
                        k = doom_if_ours(h, &d, veth, r < 0 ? NULL : err);
                if (k < 0 && r == 0)
                        r = k;
                fw_batch_guest_remove(&b, bridge);
                fw_batch_arc_dnat_remove(&b, a->uplinks[i]);
        }
        k = doomed_delete(h, &d, r < 0 ? NULL : err);
        if (k < 0 && r == 0)
                r = k;
        fw_batch_guest_remove(&b, ARC_BRIDGE);
        k = fw_batch_commit_removal(h->nft, &b, "remove ARC", r < 0 ? NULL : err);
        return r < 0 ? r : k;
}

int helper_arc_uplink_add(Helper *h, const ArcUplinkAddArgs *a, ErrBuf *err) {
        Undo u = { .nl = h->nl };
        const Subnet *s = &a->subnet;
        uint32_t tag;
        FwBatch b = {};
        int br, r;

        (void) fwmark_routing_tag(a->uplink.ifindex, &tag);
        r = bridge_add(h, &u, a->bridge, s, &br, err);
        if (r < 0)
                goto fail;
        if (a->vm) {
                int tap;
                r = link_is_ours(h->nl, a->tap, &tap);
                if (r < 0) {
                        errbuf_set(err, r, "TAP %s is missing or not the daemon's", a->tap);
                        goto fail;
                }
                r = link_configure(h->nl, tap, &(LinkConfig) { .up = true, .master = br }, err);
        } else
                r = veth_into_guest(h, &u, a->veth, br, a->pidfd, a->pid, a->uplink.ifname,
                                    &a->guest_mac, s, err);
        if (r < 0)
                goto fail;

        /* ARC's address on this link. */
        fw_batch_guest_add(&b, a->bridge, arc_mark(tag), &(FwGuestSources) {
                                   .v4 = { { .base = subnet_addr(s, 1), .prefix_len = 32 } },
                                   .n_v4 = 1 });
        fw_batch_arc_dnat_add(&b, a->uplink.ifname, subnet_addr(s, 1));
        r = fw_batch_commit(h->nft, &b, "add ARC's uplink", err);
        if (r < 0)
                goto fail;
        log_debug("ARC on %s: %s", a->uplink.ifname, a->bridge);
        return 0;
fail:
        if (a->vm) {
                int tap;
                if (link_is_ours(h->nl, a->tap, &tap) == 0)
                        (void) link_configure(h->nl, tap, &(LinkConfig) { .master = 0 }, NULL);
        }
        undo_run(&u);
        return r;
}

int helper_arc_uplink_remove(Helper *h, const ArcUplinkRemoveArgs *a, ErrBuf *err) {
        FwBatch b = {};
        Doomed d = {};
        int r = 0, k;

        if (a->vm) {
                int tap;
                /* The TAP stays (ArcRemove deletes it); it only leaves the bridge. */
                if (link_is_ours(h->nl, a->tap, &tap) == 0)
                        r = link_configure(h->nl, tap, &(LinkConfig) { .master = 0 }, err);
        } else
                r = doom_if_ours(h, &d, a->veth, err);
        k = doom_if_ours(h, &d, a->bridge, r < 0 ? NULL : err);
        if (k < 0 && r == 0)
                r = k;
        k = doomed_delete(h, &d, r < 0 ? NULL : err);
        if (k < 0 && r == 0)
                r = k;
        fw_batch_guest_remove(&b, a->bridge);
        fw_batch_arc_dnat_remove(&b, a->uplink);
        k = fw_batch_commit_removal(h->nft, &b, "remove ARC's uplink", r < 0 ? NULL : err);
        return r < 0 ? r : k;
}
