/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/veth.h>
#include <netlink/route/nexthop.h>
#include <string.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "addr.h"
#include "ifname.h"
#include "link.h"
#include "nl-util.h"

int nl_open(struct nl_sock **ret, ErrBuf *err) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = nl_socket_alloc();
        int r;

        if (!sk)
                return errbuf_set(err, -ENOMEM, "out of memory for a netlink socket");
        r = nl_connect(sk, NETLINK_ROUTE);
        if (r < 0)
                return errbuf_set(err, nlerr_to_errno(r), "cannot open rtnetlink: %s",
                                  nl_geterror(r));
        *ret = TAKE_PTR(sk);
        return 0;
}

static struct nl_addr *nl_addr_mac(const MacAddr *m) {
        return nl_addr_build(AF_LLC, m->b, sizeof m->b);
}

/* The attributes of one end: name, MAC (if given), our group, netns (if another). */
static int veth_put_end(struct nl_msg *msg, const char *name, const MacAddr *mac,
                        int netns_fd) {
        if (nla_put_string(msg, IFLA_IFNAME, name) < 0 ||
            nla_put_u32(msg, IFLA_GROUP, PP_LINK_GROUP) < 0)
                return -ENOMEM;
        if (mac && nla_put(msg, IFLA_ADDRESS, sizeof mac->b, mac->b) < 0)
                return -ENOMEM;
        if (netns_fd >= 0 && nla_put_u32(msg, IFLA_NET_NS_FD, (uint32_t) netns_fd) < 0)
                return -ENOMEM;
        return 0;
}

int link_create_veth(struct nl_sock *sk, const char *host, const MacAddr *host_mac,
                     const char *peer, const MacAddr *peer_mac, int peer_netns_fd, bool host_up,
                     ErrBuf *err) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg =
                nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE |
                                                NLM_F_EXCL);
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
        /* Not IFF_UP: the kernel configures the peer before the pair is joined, and a veth
         * without its peer refuses to go up (ENOTCONN). link_configure() does it after. */
        struct ifinfomsg peer_ifi = { .ifi_family = AF_UNSPEC };
        struct nlattr *info, *data, *peer_info;
        int r;

        if (host_up) {
                ifi.ifi_flags = IFF_UP;
                ifi.ifi_change = IFF_UP;
        }
        /* Built by hand: libnl leaves the peer's group out. Both ends carry PP_LINK_GROUP
         * from the RTM_NEWLINK that creates them (the kernel ignores an alias there), so
         * at no moment is either end not recognisably ours. */
        if (!msg || nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0 ||
            veth_put_end(msg, host, host_mac, -EBADF) < 0 ||
            !(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
            nla_put_string(msg, IFLA_INFO_KIND, "veth") < 0 ||
            !(data = nla_nest_start(msg, IFLA_INFO_DATA)) ||
            !(peer_info = nla_nest_start(msg, VETH_INFO_PEER)) ||
            nlmsg_append(msg, &peer_ifi, sizeof peer_ifi, NLMSG_ALIGNTO) < 0 ||
            veth_put_end(msg, peer, peer_mac, peer_netns_fd) < 0)
                return errbuf_set(err, -ENOMEM, "out of memory for a veth");
        nla_nest_end(msg, peer_info);
        nla_nest_end(msg, data);
        nla_nest_end(msg, info);

        r = nl_send_auto(sk, msg);
        if (r >= 0)
                r = nl_wait_for_ack(sk);
        if (r < 0) {
                r = nlerr_to_errno(r);
                if (r == -EEXIST)
                        return errbuf_set(err, r, "interface %s or %s already exists", host, peer);
                return errbuf_set(err, r, "cannot create veth %s/%s: %s", host, peer,
                                  strerror(-r));
        }
        return 0;
}

int link_get_ifindex(struct nl_sock *sk, const char *name, int *ret) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        int r = rtnl_link_get_kernel(sk, 0, name, &link);

        if (r < 0) {
                r = nlerr_to_errno(r);
                return r == -ENOENT ? -ENODEV : r;
        }
        *ret = rtnl_link_get_ifindex(link);
        return 0;
}

int link_get_ifindex_ioctl(int ioctl_fd, const char *name, int *ret) {
        struct ifreq ifr = {};

        if (strlen(name) >= sizeof ifr.ifr_name)
                return -EINVAL;
        strcpy(ifr.ifr_name, name);
        if (ioctl(ioctl_fd, SIOCGIFINDEX, &ifr) < 0)
                return -errno;
        *ret = ifr.ifr_ifindex;
        return 0;
}

int link_configure(struct nl_sock *sk, int ifindex, const LinkConfig *c, ErrBuf *err) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *orig = rtnl_link_alloc();
        _cleanup_(rtnl_link_putp) struct rtnl_link *change = rtnl_link_alloc();
        _cleanup_(nl_addr_putp) struct nl_addr *mac = NULL;
        int r;

        if (!orig || !change)
                return errbuf_set(err, -ENOMEM, "out of memory for a link");
        rtnl_link_set_ifindex(orig, ifindex);
        if (c->mac) {
                mac = nl_addr_mac(c->mac);
                if (!mac)
                        return errbuf_set(err, -ENOMEM, "out of memory for a MAC address");
                rtnl_link_set_addr(change, mac);
        }
        if (c->mark) {
                rtnl_link_set_group(change, PP_LINK_GROUP);
                rtnl_link_set_ifalias(change, PP_LINK_ALIAS);
        }
        if (c->master >= 0)
                rtnl_link_set_master(change, c->master);
        if (c->up)
                rtnl_link_set_flags(change, IFF_UP);
        r = rtnl_link_change(sk, orig, change, 0);
        if (r < 0) {
                r = nlerr_to_errno(r);
                return errbuf_set(err, r, "cannot configure interface %d: %s", ifindex,
                                  strerror(-r));
        }
        return 0;
}

int link_create_bridge(struct nl_sock *sk, const char *name, ErrBuf *err) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = rtnl_link_alloc();
        int r;

        if (!link)
                return errbuf_set(err, -ENOMEM, "out of memory for a bridge");
        rtnl_link_set_name(link, name);
        rtnl_link_set_group(link, PP_LINK_GROUP); /* ours from its creation */
        r = rtnl_link_set_type(link, "bridge");
        if (r >= 0)
                r = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
        if (r < 0) {
                r = nlerr_to_errno(r);
                if (r == -EEXIST)
                        return errbuf_set(err, r, "interface %s already exists", name);
                return errbuf_set(err, r, "cannot create bridge %s: %s", name, strerror(-r));
        }
        return 0;
}

int tap_create(struct nl_sock *sk, int ioctl_fd, uid_t owner, char ret_name[static IFNAMSIZ],
               int *ret_ifindex, ErrBuf *err) {
        _cleanup_close_ int tun_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
        int ifindex, r;

        if (tun_fd < 0)
                return errbuf_set(err, -errno, "cannot open /dev/net/tun: %m");
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", VM_TAP_TEMPLATE);
        if (ioctl(tun_fd, TUNSETIFF, &ifr) < 0)
                return errbuf_set(err, -errno, "cannot create a TAP: %m");
        /* Until it is persistent, the TAP lives only as long as tun_fd: if this process
         * fails or dies from here on, the kernel deletes it. Nothing to undo. */
        if (ioctl(tun_fd, TUNSETOWNER, (unsigned long) owner) < 0)
                return errbuf_set(err, -errno, "cannot give %s to uid %u: %m", ifr.ifr_name,
                                  (unsigned) owner);
        r = link_get_ifindex_ioctl(ioctl_fd, ifr.ifr_name, &ifindex);
        if (r < 0)
                return errbuf_set(err, r, "%s vanished after its creation", ifr.ifr_name);
        r = link_configure(sk, ifindex, &(LinkConfig) { .mark = true, .master = -1 }, err);
        if (r < 0)
                return r;
        /* Marked: from here on it may outlive this process, the start-up sweep finds it. */
        if (ioctl(tun_fd, TUNSETPERSIST, 1UL) < 0)
                return errbuf_set(err, -errno, "cannot make %s persistent: %m", ifr.ifr_name);
        snprintf(ret_name, IFNAMSIZ, "%s", ifr.ifr_name);
        *ret_ifindex = ifindex;
        return 0;
}

bool link_mark_is_ours(const char *alias, uint32_t group) {
        return group == PP_LINK_GROUP || group == PP_DELETE_GROUP ||
               (alias && strcmp(alias, PP_LINK_ALIAS) == 0);
}

int link_is_ours(struct nl_sock *sk, const char *name, int *ret_ifindex) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        int r = rtnl_link_get_kernel(sk, 0, name, &link);

        if (r < 0) {
                r = nlerr_to_errno(r);
                return r == -ENOENT ? -ENODEV : r;
        }
        if (!link_mark_is_ours(rtnl_link_get_ifalias(link), rtnl_link_get_group(link)))
                return -EPERM;
        if (ret_ifindex)
                *ret_ifindex = rtnl_link_get_ifindex(link);
        return 0;
}

int link_delete(struct nl_sock *sk, const char *name) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = rtnl_link_alloc();
        int r;

        if (!link)
                return -ENOMEM;
        rtnl_link_set_name(link, name);
        r = rtnl_link_delete(sk, link);
        if (r < 0) {
                r = nlerr_to_errno(r);
                return r == -ENOENT ? -ENODEV : r;
        }
        return 0;
}

int link_delete_many(struct nl_sock *sk, int ioctl_fd, char (*names)[IFNAMSIZ], unsigned n,
                     unsigned *ret_n) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
        unsigned grouped = 0;
        int r;

        /* Into one group, then delete the group: the kernel unregisters them together and
         * waits for one RCU grace period instead of one per link. */
        for (unsigned i = 0; i < n; i++) {
                _cleanup_(rtnl_link_putp) struct rtnl_link *orig = rtnl_link_alloc();
                _cleanup_(rtnl_link_putp) struct rtnl_link *change = rtnl_link_alloc();
                int ifindex;

                if (!orig || !change)
                        return -ENOMEM;
                r = link_get_ifindex_ioctl(ioctl_fd, names[i], &ifindex);
                if (r == -ENODEV)
                        continue; /* gone already, e.g. the peer of one before it */
                if (r < 0)
                        return r;
                rtnl_link_set_ifindex(orig, ifindex);
                rtnl_link_set_group(change, PP_DELETE_GROUP);
                r = nlerr_to_errno(rtnl_link_change(sk, orig, change, 0));
                if (r == -ENOENT || r == -ENODEV)
                        continue;
                if (r < 0)
                        return r;
                grouped++;
        }
        if (grouped > 0) {
                msg = nlmsg_alloc_simple(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK);
                if (!msg)
                        return -ENOMEM;
                if (nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0 ||
                    nla_put_u32(msg, IFLA_GROUP, PP_DELETE_GROUP) < 0)
                        return -ENOMEM;
                r = nl_send_auto(sk, msg);
                if (r >= 0)
                        r = nl_wait_for_ack(sk);
                r = nlerr_to_errno(r);
                /* The kernel answers ENODEV when no link is left in the group: every one of
                 * them vanished since it was grouped (their namespaces died). Gone is what
                 * was asked for. */
                if (r < 0 && r != -ENODEV)
                        return r;
        }
        if (ret_n)
                *ret_n = grouped;
        return 0;
}

struct match_ctx {
        bool (*match)(const char *name, const char *alias, uint32_t group);
        char (*names)[IFNAMSIZ];
        unsigned n, cap;
};

static void collect_link(struct nl_object *obj, void *userdata) {
        struct match_ctx *c = userdata;
        const char *name = rtnl_link_get_name((struct rtnl_link *) obj);
        const char *alias = rtnl_link_get_ifalias((struct rtnl_link *) obj);
        uint32_t group = rtnl_link_get_group((struct rtnl_link *) obj);

        if (!name || !c->match(name, alias, group) || c->n >= c->cap)
                return;
        snprintf(c->names[c->n], IFNAMSIZ, "%s", name);
        c->n++;
}

int link_delete_matching(struct nl_sock *sk, int ioctl_fd,
                         bool (*match)(const char *name, const char *alias, uint32_t group),
                         unsigned *ret_n) {
        _cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
        _cleanup_free_ char(*names)[IFNAMSIZ] = NULL;
        struct match_ctx c = { .match = match };
        unsigned deleted = 0;
        int r;

        r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
        if (r < 0)
                return nlerr_to_errno(r);
        c.cap = (unsigned) nl_cache_nitems(cache);
        names = calloc(c.cap ?: 1, IFNAMSIZ);
        if (!names)
                return -ENOMEM;
        c.names = names;
        nl_cache_foreach(cache, collect_link, &c);

        r = link_delete_many(sk, ioctl_fd, names, c.n, &deleted);
        if (ret_n)
                *ret_n = deleted;
        return r;
}

int addr_add_ipv4(struct nl_sock *sk, int ifindex, uint32_t addr, unsigned prefix_len,
                  ErrBuf *err) {
        _cleanup_(rtnl_addr_putp) struct rtnl_addr *a = rtnl_addr_alloc();
        _cleanup_(nl_addr_putp) struct nl_addr *local = nl_addr_ipv4(addr, prefix_len);
        _cleanup_(nl_addr_putp) struct nl_addr *brd = NULL;
        char s[IPV4_STRLEN];
        int r;

        if (!a || !local)
                return errbuf_set(err, -ENOMEM, "out of memory for an address");
        brd = nl_addr_ipv4(addr | ~ipv4_netmask(prefix_len), 32);
        if (!brd)
                return errbuf_set(err, -ENOMEM, "out of memory for an address");
        rtnl_addr_set_ifindex(a, ifindex);
        rtnl_addr_set_family(a, AF_INET);
        r = rtnl_addr_set_local(a, local);
        if (r >= 0)
                r = rtnl_addr_set_broadcast(a, brd);
        if (r >= 0)
                r = rtnl_addr_add(sk, a, NLM_F_EXCL);
        if (r < 0) {
                r = nlerr_to_errno(r);
                return errbuf_set(err, r, "cannot add address %s/%u: %s",
                                  ipv4_to_string(addr, s), prefix_len, strerror(-r));
        }
        return 0;
}

int route_add_ipv4(struct nl_sock *sk, uint32_t dst_addr, unsigned prefix_len, uint32_t gateway,
                   int ifindex, ErrBuf *err) {
        _cleanup_(rtnl_route_putp) struct rtnl_route *route = rtnl_route_alloc();
        _cleanup_(nl_addr_putp) struct nl_addr *dst = nl_addr_ipv4(dst_addr, prefix_len);
        _cleanup_(nl_addr_putp) struct nl_addr *gw = nl_addr_ipv4(gateway, 32);
        struct rtnl_nexthop *nh;
        int r;

        if (!route || !dst || !gw)
                return errbuf_set(err, -ENOMEM, "out of memory for a route");
        nh = rtnl_route_nh_alloc();
        if (!nh)
                return errbuf_set(err, -ENOMEM, "out of memory for a route");
        rtnl_route_set_family(route, AF_INET);
        rtnl_route_set_table(route, RT_TABLE_MAIN);
        rtnl_route_set_protocol(route, RTPROT_STATIC);
        rtnl_route_set_scope(route, RT_SCOPE_UNIVERSE);
        rtnl_route_set_type(route, RTN_UNICAST);
        rtnl_route_set_dst(route, dst);
        rtnl_route_nh_set_ifindex(nh, ifindex);
        rtnl_route_nh_set_gateway(nh, gw);
        rtnl_route_add_nexthop(route, nh); /* route owns nh from here */
        r = rtnl_route_add(sk, route, NLM_F_EXCL);
        if (r < 0) {
                char a[IPV4_STRLEN];
                r = nlerr_to_errno(r);
                return errbuf_set(err, r, "cannot add the route to %s/%u: %s",
                                  ipv4_to_string(dst_addr, a), prefix_len, strerror(-r));
        }
        return 0;
}

int link_disable_ipv6(const char *ifname, ErrBuf *err) {
        _cleanup_close_ int fd = -EBADF;
        char path[128];

        if (!ifname_is_valid(ifname))
                return errbuf_set(err, -EINVAL, "invalid interface name");
        snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return 0; /* a kernel without IPv6 (ipv6.disable=1): nothing to disable */
        if (fd < 0)
                return errbuf_set(err, -errno, "cannot disable IPv6 on %s: %m", ifname);
        if (write(fd, "1", 1) != 1)
                return errbuf_set(err, -errno ?: -EIO, "cannot disable IPv6 on %s: %m", ifname);
        return 0;
}

int link_set_route_localnet(const char *ifname, bool on, ErrBuf *err) {
        _cleanup_close_ int fd = -EBADF;
        char path[128];

        if (!ifname_is_valid(ifname))
                return errbuf_set(err, -EINVAL, "invalid interface name");
        snprintf(path, sizeof path, "/proc/sys/net/ipv4/conf/%s/route_localnet", ifname);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return errbuf_set(err, -ENODEV, "no link %s", ifname);
        if (fd < 0)
                return errbuf_set(err, -errno, "cannot set route_localnet on %s: %m", ifname);
        if (write(fd, on ? "1" : "0", 1) != 1)
                return errbuf_set(err, -errno ?: -EIO, "cannot set route_localnet on %s: %m",
                                  ifname);
        return 0;
}

/* ---- raw rtnetlink (nl-util.h): one request per step, several steps per sendmsg() ---- */

static void veth_end_attrs(RtnlBatch *b, struct nlmsghdr *nlh, const char *name,
                           const MacAddr *mac, int netns_fd) {
        rtnl_put_str(b, nlh, IFLA_IFNAME, name);
        rtnl_put_u32(b, nlh, IFLA_GROUP, PP_LINK_GROUP);
        if (mac)
                rtnl_put_attr(b, nlh, IFLA_ADDRESS, mac->b, sizeof mac->b);
        if (netns_fd >= 0)
                rtnl_put_u32(b, nlh, IFLA_NET_NS_FD, (uint32_t) netns_fd);
}

typedef struct VethEcho {
        const char *host;
        int host_ifindex, peer_ifindex;
} VethEcho;

/* The kernel's echo of the creation: the host end, whose IFLA_LINK is its peer. */
static int veth_echo(const struct nlmsghdr *nlh, void *userdata) {
        struct nlattr *tb[IFLA_MAX + 1];
        VethEcho *v = userdata;
        const struct ifinfomsg *ifi;
        char name[IFNAMSIZ];

        if (nlh->nlmsg_type != RTM_NEWLINK ||
            nlmsg_parse((struct nlmsghdr *) nlh, sizeof *ifi, tb, IFLA_MAX, NULL) < 0 ||
            !tb[IFLA_IFNAME] || !tb[IFLA_LINK] || nla_len(tb[IFLA_LINK]) < (int) sizeof(uint32_t))
                return 0; /* not what is needed: the indexes come another way */
        ifi = nlmsg_data(nlh);
        nla_strlcpy(name, tb[IFLA_IFNAME], sizeof name);
        if (strcmp(name, v->host) != 0 || ifi->ifi_index <= 0)
                return 0;
        v->host_ifindex = ifi->ifi_index;
        v->peer_ifindex = (int) nla_get_u32(tb[IFLA_LINK]);
        return 0;
}

int link_veth_create(Rtnl *rt, const char *host, const MacAddr *host_mac, const char *peer,
                     const MacAddr *peer_mac, int peer_netns_fd, int host_ioctl_fd,
                     int peer_ioctl_fd, int *ret_host_ifindex, int *ret_peer_ifindex,
                     ErrBuf *err) {
        /* Not IFF_UP: the kernel configures the peer before the pair is joined, and a veth
         * without its peer refuses to go up (ENOTCONN); IPv6 goes off before it is up. */
        const struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
        RtnlBatch b = {};
        VethEcho echo = { .host = host };
        struct nlattr *info, *data, *peer_info;
        struct nlmsghdr *nlh;
        int r;

        /* Both ends carry PP_LINK_GROUP from the request that creates them, so at no
         * moment is either end not recognisably ours. */
        nlh = rtnl_batch_put(&b, rt, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO,
                             &ifi, sizeof ifi);
        veth_end_attrs(&b, nlh, host, host_mac, -EBADF);
        info = rtnl_nest_start(&b, nlh, IFLA_LINKINFO);
        rtnl_put_str(&b, nlh, IFLA_INFO_KIND, "veth");
        data = rtnl_nest_start(&b, nlh, IFLA_INFO_DATA);
        peer_info = rtnl_nest_start(&b, nlh, VETH_INFO_PEER);
        rtnl_put_raw(&b, nlh, &ifi, sizeof ifi);
        veth_end_attrs(&b, nlh, peer, peer_mac, peer_netns_fd);
        rtnl_nest_end(nlh, peer_info);
        rtnl_nest_end(nlh, data);
        rtnl_nest_end(nlh, info);

        r = rtnl_batch_send(rt, &b);
        if (r >= 0)
                r = rtnl_batch_wait(rt, &b, veth_echo, &echo);
        if (r >= 0)
                r = b.error[0];
        if (r < 0) {
                if (r == -EEXIST)
                        return errbuf_set(err, r, "interface %s or %s already exists", host, peer);
                return errbuf_set(err, r, "cannot create veth %s/%s: %s", host, peer,
                                  strerror(-r));
        }
        if (echo.host_ifindex <= 0 || echo.peer_ifindex <= 0) {
                /* No echo (Linux < 6.3): ask. */
                r = link_get_ifindex_ioctl(host_ioctl_fd, host, &echo.host_ifindex);
                if (r < 0)
                        return errbuf_set(err, r, "%s vanished after its creation", host);
                r = link_get_ifindex_ioctl(peer_ioctl_fd, peer, &echo.peer_ifindex);
                if (r < 0)
                        return errbuf_set(err, r, "%s vanished after its creation", peer);
        }
        *ret_host_ifindex = echo.host_ifindex;
        *ret_peer_ifindex = echo.peer_ifindex;
        return 0;
}

void link_msg_addr4(RtnlBatch *b, Rtnl *rt, int ifindex, uint32_t addr, unsigned prefix_len) {
        const struct ifaddrmsg ifa = {
                .ifa_family = AF_INET,
                .ifa_prefixlen = (uint8_t) prefix_len,
                .ifa_index = (uint32_t) ifindex,
        };
        struct nlmsghdr *nlh = rtnl_batch_put(b, rt, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL,
                                              &ifa, sizeof ifa);
        uint32_t local = htonl(addr), brd = htonl(addr | ~ipv4_netmask(prefix_len));

        rtnl_put_attr(b, nlh, IFA_LOCAL, &local, sizeof local);
        rtnl_put_attr(b, nlh, IFA_ADDRESS, &local, sizeof local);
        rtnl_put_attr(b, nlh, IFA_BROADCAST, &brd, sizeof brd);
}

void link_msg_up(RtnlBatch *b, Rtnl *rt, int ifindex, bool alias) {
        const struct ifinfomsg ifi = {
                .ifi_family = AF_UNSPEC,
                .ifi_index = ifindex,
                .ifi_flags = IFF_UP,
                .ifi_change = IFF_UP,
        };
        struct nlmsghdr *nlh = rtnl_batch_put(b, rt, RTM_NEWLINK, 0, &ifi, sizeof ifi);

        if (alias)
                rtnl_put_str(b, nlh, IFLA_IFALIAS, PP_LINK_ALIAS);
}

void link_msg_route4(RtnlBatch *b, Rtnl *rt, uint32_t dst, unsigned prefix_len,
                     uint32_t gateway, int ifindex) {
        const struct rtmsg rtm = {
                .rtm_family = AF_INET,
                .rtm_dst_len = (uint8_t) prefix_len,
                .rtm_table = RT_TABLE_MAIN,
                .rtm_protocol = RTPROT_STATIC,
                .rtm_scope = RT_SCOPE_UNIVERSE,
                .rtm_type = RTN_UNICAST,
        };
        struct nlmsghdr *nlh = rtnl_batch_put(b, rt, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL,
                                              &rtm, sizeof rtm);
        uint32_t gw = htonl(gateway), d = htonl(dst);

        if (prefix_len > 0)
                rtnl_put_attr(b, nlh, RTA_DST, &d, sizeof d);
        rtnl_put_attr(b, nlh, RTA_GATEWAY, &gw, sizeof gw);
        rtnl_put_u32(b, nlh, RTA_OIF, (uint32_t) ifindex);
}

int link_cut_off_many(Rtnl *rt, const char (*names)[IFNAMSIZ], unsigned n, int *status) {
        /* Down (IFF_UP in ifi_change, not in ifi_flags); by name, which with ifi_index 0
         * selects the link rather than renaming it. */
        const struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_change = IFF_UP };

        for (unsigned start = 0; start < n; start += RTNL_BATCH_MAX) {
                unsigned end = n - start > RTNL_BATCH_MAX ? start + RTNL_BATCH_MAX : n;
                RtnlBatch b = {};
                int r;

                for (unsigned i = start; i < end; i++) {
                        struct nlmsghdr *nlh = rtnl_batch_put(&b, rt, RTM_SETLINK, 0, &ifi,
                                                              sizeof ifi);
                        rtnl_put_str(&b, nlh, IFLA_IFNAME, names[i]);
                        rtnl_put_u32(&b, nlh, IFLA_GROUP, PP_DELETE_GROUP);
                }
                r = rtnl_batch_send(rt, &b);
                if (r >= 0)
                        r = rtnl_batch_wait(rt, &b, NULL, NULL);
                if (r < 0)
                        return r;
                for (unsigned i = start; i < end; i++)
                        status[i] = b.error[i - start];
        }
        return 0;
}
