/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <net/if_arp.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "macro.h"
#include "nd-netlink.h"

/* The kernel's clock_t for neighbour ages (USER_HZ). */
#define ND_USER_HZ 100

/* A request: header, family header, attributes. */
typedef struct NlRequest {
        struct nlmsghdr h;
        union {
                struct ifinfomsg ifi;
                struct ndmsg nd;
                struct ifaddrmsg ifa;
        };
        uint8_t attrs[64];
} NlRequest;

static uint32_t nl_seq;

static int nl_socket(unsigned groups, bool nonblock, int *ret_fd) {
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };
        _cleanup_close_ int fd = -EBADF;
        int one = 1;

        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0),
                    NETLINK_ROUTE);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return -errno;
        /* Errors of requests come back with only their header (no copy of the request);
         * the kernel checks requests strictly (unknown flags are errors, not ignored). */
        (void) setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
        if (!groups)
                (void) setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int nd_netlink_open(int *ret_fd) {
        return nl_socket(0, false, ret_fd);
}

int nd_netlink_open_monitor(int *ret_fd) {
        return nl_socket(RTMGRP_LINK | RTMGRP_IPV6_IFADDR, true, ret_fd);
}

static void nl_attr_put(NlRequest *req, uint16_t type, const void *data, size_t len) {
        struct rtattr *a = (struct rtattr *) ((uint8_t *) req + NLMSG_ALIGN(req->h.nlmsg_len));

        a->rta_type = type;
        a->rta_len = (unsigned short) RTA_LENGTH(len);
        memcpy(RTA_DATA(a), data, len);
        req->h.nlmsg_len = NLMSG_ALIGN(req->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/*
 * Send a request and hand each answer message to @fn until the answer ends (an ACK or an
 * error for a single request, NLMSG_DONE for a dump). @fn returns < 0 to fail the whole.
 */
static int nl_transact(int fd, NlRequest *req,
                       int (*fn)(const struct nlmsghdr *h, void *userdata), void *userdata) {
        uint8_t buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        bool dump = req->h.nlmsg_flags & NLM_F_DUMP;
        int result = 0;

        req->h.nlmsg_seq = ++nl_seq;
        if (sendto(fd, req, req->h.nlmsg_len, 0, (struct sockaddr *) &kernel, sizeof kernel) < 0)
                return -errno;
        for (;;) {
                ssize_t n = recv(fd, buf, sizeof buf, 0);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, (size_t) n);
                     h = NLMSG_NEXT(h, n)) {
                        if (h->nlmsg_seq != req->h.nlmsg_seq)
                                continue; /* an answer to an earlier request we gave up on */
                        if (h->nlmsg_type == NLMSG_DONE)
                                return result;
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                const struct nlmsgerr *e = NLMSG_DATA(h);

                                if (h->nlmsg_len < NLMSG_LENGTH(sizeof *e))
                                        return -EBADMSG;
                                /* An ACK ends a single request; an error ends any. */
                                if (e->error != 0 || !dump)
                                        return e->error ?: result;
                                continue;
                        }
                        if (result >= 0 && fn) {
                                int r = fn(h, userdata);
                                if (r < 0)
                                        result = r;
                        }
                        if (!dump && !(h->nlmsg_flags & NLM_F_MULTI))
                                return result;
                }
        }
}

static void attrs_parse(struct rtattr **tb, size_t max, struct rtattr *a, size_t len) {
        memset(tb, 0, (max + 1) * sizeof *tb);
        for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
                if (a->rta_type <= max && !tb[a->rta_type])
                        tb[a->rta_type] = a;
}

static int link_parse(const struct nlmsghdr *h, NdLinkInfo *ret) {
        const struct ifinfomsg *ifi = NLMSG_DATA(h);
        struct rtattr *tb[IFLA_MAX + 1];
        NdLinkInfo l = {};
        int len = (int) h->nlmsg_len - (int) NLMSG_LENGTH(sizeof *ifi);

        if (len < 0)
                return -EBADMSG;
        attrs_parse(tb, IFLA_MAX, IFLA_RTA(ifi), (size_t) len);
        l.ifindex = ifi->ifi_index;
        l.type = ifi->ifi_type;
        l.flags = ifi->ifi_flags;
        if (tb[IFLA_IFNAME]) {
                size_t n = RTA_PAYLOAD(tb[IFLA_IFNAME]);
                if (n > sizeof l.name)
                        n = sizeof l.name;
                memcpy(l.name, RTA_DATA(tb[IFLA_IFNAME]), n);
                l.name[sizeof l.name - 1] = '\0';
        }
        if (tb[IFLA_ADDRESS] && RTA_PAYLOAD(tb[IFLA_ADDRESS]) == MAC_LEN) {
                memcpy(l.mac.b, RTA_DATA(tb[IFLA_ADDRESS]), MAC_LEN);
                l.has_mac = true;
        }
        *ret = l;
        return 0;
}

static int on_link(const struct nlmsghdr *h, void *userdata) {
        if (h->nlmsg_type != RTM_NEWLINK)
                return 0;
        return link_parse(h, userdata);
}

int nd_netlink_get_link(int fd, int ifindex, const char *name, NdLinkInfo *ret) {
        NlRequest req = {
                .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
                       .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST },
                .ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex },
        };
        uint32_t mask = RTEXT_FILTER_SKIP_STATS;
        NdLinkInfo l = {};
        int r;

        if (ifindex <= 0) {
                if (!name || !name[0] || strlen(name) >= IFNAMSIZ)
                        return -EINVAL;
                nl_attr_put(&req, IFLA_IFNAME, name, strlen(name) + 1);
        }
        nl_attr_put(&req, IFLA_EXT_MASK, &mask, sizeof mask);
        r = nl_transact(fd, &req, on_link, &l);
        if (r == -ENODEV || (r >= 0 && l.ifindex == 0))
                return -ENODEV;
        if (r < 0)
                return r;
        *ret = l;
        return 0;
}

static int on_neighbor(const struct nlmsghdr *h, void *userdata) {
        const struct ndmsg *nd = NLMSG_DATA(h);
        struct rtattr *tb[NDA_MAX + 1];
        NdNeighborInfo *n = userdata;
        int len = (int) h->nlmsg_len - (int) NLMSG_LENGTH(sizeof *nd);

        if (h->nlmsg_type != RTM_NEWNEIGH || len < 0)
                return 0;
        attrs_parse(tb, NDA_MAX, (struct rtattr *) ((uint8_t *) nd + NLMSG_ALIGN(sizeof *nd)),
                    (size_t) len);
        *n = (NdNeighborInfo) { .state = nd->ndm_state, .confirmed_ago_usec = UINT64_MAX };
        if (tb[NDA_LLADDR] && RTA_PAYLOAD(tb[NDA_LLADDR]) == MAC_LEN) {
                memcpy(n->mac.b, RTA_DATA(tb[NDA_LLADDR]), MAC_LEN);
                n->has_mac = true;
        }
        if (tb[NDA_CACHEINFO] && RTA_PAYLOAD(tb[NDA_CACHEINFO]) >= sizeof(struct nda_cacheinfo)) {
                struct nda_cacheinfo ci;

                memcpy(&ci, RTA_DATA(tb[NDA_CACHEINFO]), sizeof ci);
                n->confirmed_ago_usec = (uint64_t) ci.ndm_confirmed * (1000000 / ND_USER_HZ);
        }
        return 0;
}

int nd_netlink_get_neighbor(int fd, int ifindex, const struct in6_addr *addr,
                            NdNeighborInfo *ret) {
        NlRequest req = {
                .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
                       .nlmsg_type = RTM_GETNEIGH, .nlmsg_flags = NLM_F_REQUEST },
                .nd = { .ndm_family = AF_INET6, .ndm_ifindex = ifindex },
        };
        NdNeighborInfo n = { .state = 0 };
        int r;

        nl_attr_put(&req, NDA_DST, addr, sizeof *addr);
        r = nl_transact(fd, &req, on_neighbor, &n);
        if (r == -ENOENT || (r >= 0 && n.state == 0))
                return -ENOENT;
        if (r < 0)
                return r;
        *ret = n;
        return 0;
}

bool nd_neighbor_usable(const NdNeighborInfo *n) {
        return n->has_mac && (n->state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE |
                                          NUD_PERMANENT));
}

typedef struct AddrList {
        struct in6_addr *v;
        size_t max, n;
} AddrList;

static int on_address(const struct nlmsghdr *h, void *userdata) {
        const struct ifaddrmsg *ifa = NLMSG_DATA(h);
        struct rtattr *tb[IFA_MAX + 1];
        AddrList *l = userdata;
        int len = (int) h->nlmsg_len - (int) NLMSG_LENGTH(sizeof *ifa);
        struct rtattr *a;

        if (h->nlmsg_type != RTM_NEWADDR || len < 0 || ifa->ifa_family != AF_INET6)
                return 0;
        attrs_parse(tb, IFA_MAX, IFA_RTA(ifa), (size_t) len);
        a = tb[IFA_LOCAL] ?: tb[IFA_ADDRESS];
        if (!a || RTA_PAYLOAD(a) != sizeof(struct in6_addr) || l->n >= l->max)
                return 0;
        memcpy(&l->v[l->n++], RTA_DATA(a), sizeof(struct in6_addr));
        return 0;
}

int nd_netlink_host_addresses(int fd, struct in6_addr *ret, size_t max, size_t *ret_n) {
        NlRequest req = {
                .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)),
                       .nlmsg_type = RTM_GETADDR, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
                .ifa = { .ifa_family = AF_INET6 },
        };
        AddrList l = { .v = ret, .max = max };
        int r = nl_transact(fd, &req, on_address, &l);

        if (r < 0)
                return r;
        *ret_n = l.n;
        return 0;
}

int nd_netlink_read_events(int fd, const NdNetlinkEvents *cb) {
        uint8_t buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));

        for (;;) {
                bool addresses = false;
                ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);

                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return 0;
                        if (errno == ENOBUFS) {
                                if (cb->overrun)
                                        cb->overrun(cb->userdata);
                                continue;
                        }
                        return -errno;
                }
                for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, (size_t) n);
                     h = NLMSG_NEXT(h, n)) {
                        NdLinkInfo l;

                        switch (h->nlmsg_type) {
                        case RTM_NEWLINK:
                        case RTM_DELLINK:
                                if (link_parse(h, &l) >= 0 && cb->link)
                                        cb->link(&l, h->nlmsg_type == RTM_DELLINK, cb->userdata);
                                break;
                        case RTM_NEWADDR:
                        case RTM_DELADDR:
                                addresses = true;
                                break;
                        default:
                                break;
                        }
                }
                if (addresses && cb->addresses_changed)
                        cb->addresses_changed(cb->userdata);
        }
}
