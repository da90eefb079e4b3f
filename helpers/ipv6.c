/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "firewall.h"
#include "ipv6.h"
#include "link.h"
#include "log.h"
#include "route6.h"
#include "routing.h"

#define FORWARDING "/proc/sys/net/ipv6/conf/all/forwarding"

/* A per-link IPv6 sysctl of a checked name, in /proc/sys/net/ipv6/@dir/. */
static int ipv6_sysctl(const char *dir, const char *ifname, const char *key, const char *value,
                       ErrBuf *err) {
        _cleanup_close_ int fd = -EBADF;
        char path[128];
        size_t n = strlen(value);

        if (!ifname_is_valid(ifname))
                return errbuf_set(err, -EINVAL, "invalid interface name");
        snprintf(path, sizeof path, "/proc/sys/net/ipv6/%s/%s/%s", dir, ifname, key);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, value, n) != (ssize_t) n)
                return errbuf_set(err, -errno ?: -EIO, "cannot set %s of %s: %m", key, ifname);
        return 0;
}

static int link_sysctl(const char *ifname, const char *key, const char *value, ErrBuf *err) {
        return ipv6_sysctl("conf", ifname, key, value, err);
}

static int neigh_sysctl(const char *ifname, const char *key, const char *value, ErrBuf *err) {
        return ipv6_sysctl("neigh", ifname, key, value, err);
}

int helper_uplink_keep_slaac(Helper *h, const UplinkArgs *u, ErrBuf *err) {
        uint32_t table;
        int r;

        r = routing_check_uplink(h, u, true, &table, err);
        if (r < 0)
                return r;
        r = link_sysctl(u->ifname, "accept_ra", "2", err);
        if (r < 0)
                return r;
        /* The proxy entries of learned guest addresses: answered at once (RFC 4861's
         * random delay for proxies would hold every first contact with a guest). */
        r = link_sysctl(u->ifname, "proxy_ndp", "1", err);
        if (r < 0)
                return r;
        return neigh_sysctl(u->ifname, "proxy_delay", "0", err);
}

static int forwarding_on(Helper *h, ErrBuf *err) {
        _cleanup_close_ int fd = -EBADF;
        char before = 0;

        fd = open(FORWARDING, O_RDWR | O_CLOEXEC);
        if (fd < 0 || read(fd, &before, 1) != 1)
                return errbuf_set(err, -errno ?: -EIO, "cannot read " FORWARDING ": %m");
        if (before == '1')
                return 0;
        if (lseek(fd, 0, SEEK_SET) < 0 || write(fd, "1", 1) != 1)
                return errbuf_set(err, -errno ?: -EIO, "cannot turn IPv6 forwarding on: %m");
        if (!h->ipv6_forwarding_before)
                h->ipv6_forwarding_before = before;
        log_info("IPv6 forwarding on");
        return 0;
}

void helper_ipv6_stop(Helper *h) {
        _cleanup_close_ int fd = -EBADF;
        char v = h->ipv6_forwarding_before;

        if (!v)
                return;
        h->ipv6_forwarding_before = 0;
        fd = open(FORWARDING, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, &v, 1) != 1)
                log_warning_errno(-errno, "Cannot put IPv6 forwarding back, ignoring: %m");
}

/* The link is the daemon's guest link @a says, now. */
static int guest_link_check(Helper *h, const GuestLinkArgs *a, ErrBuf *err) {
        int ifindex, r = link_is_ours(h->nl, a->ifname, &ifindex);

        if (r == -ENODEV)
                return errbuf_set(err, r, "%s does not exist", a->ifname);
        if (r == -EPERM)
                return errbuf_set(err, r, "%s is not the daemon's", a->ifname);
        if (r < 0)
                return errbuf_set(err, r, "cannot look at %s: %s", a->ifname, strerror(-r));
        if (a->ifindex != 0 && ifindex != a->ifindex)
                return errbuf_set(err, -ENODEV, "%s is ifindex %d, not %d", a->ifname, ifindex,
                                  a->ifindex);
        return 0;
}

int helper_guest_ipv6_enable(Helper *h, const GuestLinkArgs *a, ErrBuf *err) {
        static const struct { const char *key, *value; } settings[] = {
                { "accept_dad", "0" },  /* the host's link-local at once: guests' NS need it */
                { "accept_ra", "0" },   /* never a route from a guest's RA */
                { "autoconf", "0" },    /* no address of the host on a guest link */
                { "disable_ipv6", "0" },
        };
        int r;

        r = guest_link_check(h, a, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(settings); i++) {
                r = link_sysctl(a->ifname, settings[i].key, settings[i].value, err);
                if (r < 0)
                        return r;
        }
        return forwarding_on(h, err);
}

int helper_guest_route6(Helper *h, const GuestRoute6Args *a, ErrBuf *err) {
        const char *owner = fw_guest_src6_owner(&a->addr);
        char s[INET6_ADDRSTRLEN];
        uint32_t table;
        FwBatch b = {};
        int r;

        inet_ntop(AF_INET6, &a->addr, s, sizeof s);
        if (!a->add) {
                /* The link may be gone (and the route with it): remove what is left. */
                if (owner && strcmp(owner, a->guest.ifname) == 0) {
                        fw_batch_guest_src6(&b, a->guest.ifname, &a->addr, false);
                        r = fw_batch_commit_removal(h->nft, &b, "forget a guest's address", err);
                        if (r < 0)
                                return r;
                }
                if (a->uplink.ifindex > 0) {
                        r = route6_proxy(h->nl, false, a->uplink.ifindex, &a->addr,
                                         RTPROT_PATCHPANEL, err);
                        if (r < 0)
                                return r;
                }
                return route6_host(h->nl, false, a->guest.ifindex, &a->addr, PP_GUEST_IPV6_TABLE,
                                   RTPROT_PATCHPANEL, err);
        }
        r = guest_link_check(h, &a->guest, err);
        if (r < 0)
                return r;
        r = routing_check_uplink(h, &a->uplink, true, &table, err);
        if (r < 0)
                return r;
        if (owner && strcmp(owner, a->guest.ifname) != 0)
                return errbuf_set(err, -EADDRINUSE, "%s belongs to %s", s, owner);
        r = route6_check_guest_address(h->nl, &a->addr, a->uplink.ifindex, RTPROT_PATCHPANEL, err);
        if (r < 0)
                return r;
        r = route6_host(h->nl, true, a->guest.ifindex, &a->addr, PP_GUEST_IPV6_TABLE,
                        RTPROT_PATCHPANEL, err);
        if (r < 0)
                return r;
        /* The kernel answers the uplink's NS for the address from here on. */
        r = route6_proxy(h->nl, true, a->uplink.ifindex, &a->addr, RTPROT_PATCHPANEL, err);
        if (r >= 0) {
                fw_batch_guest_src6(&b, a->guest.ifname, &a->addr, true);
                r = fw_batch_commit(h->nft, &b, "accept a guest's address", err);
                if (r < 0)
                        (void) route6_proxy(h->nl, false, a->uplink.ifindex, &a->addr,
                                            RTPROT_PATCHPANEL, NULL);
        }
        if (r < 0) {
                (void) route6_host(h->nl, false, a->guest.ifindex, &a->addr, PP_GUEST_IPV6_TABLE,
                                   RTPROT_PATCHPANEL, NULL);
                return r;
        }
        log_debug("%s/128 via %s", s, a->guest.ifname);
        return 0;
}
