/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The UDP side of mcastd: per link one socket for each protocol (mDNS, SSDP) and family,
 * the ReplyProxies that carry answers to legacy queries back, and the one-shot sockets that
 * send a guest's broadcast to the LAN. None of them needs a capability: SO_BINDTODEVICE on
 * a socket not yet bound to a device is unprivileged (Linux >= 5.7), and every port bound
 * here is the protocol's own (5353, 1900: above 1023) or a sender's (>= 1024 for
 * broadcast; a legacy asker's own port, whatever it is, for a ReplyProxy - which is why
 * such a proxy is bound to a port only when the kernel lets an unprivileged process do so).
 *
 * A link's socket is bound to the group's address (224.0.0.251:5353, [ff02::fb%link]:5353,
 * ...) on its link, not to the wildcard address: it receives that group's datagrams on
 * that link and never a unicast datagram, so an avahi-daemon on the host (bound to
 * 0.0.0.0:5353) keeps getting its unicast answers, and both see every multicast datagram.
 * The same socket sends the link's copies: to the group, out of that link only
 * (IP_MULTICAST_IF / IPV6_MULTICAST_IF as well as the device binding), with multicast
 * loopback off, so no socket of this host - ours included - ever receives a copy we sent
 * (theory of operation in mcast-fwd.c, loop prevention 1), and with the protocol's hop
 * limit: 255 for mDNS (RFC 6762 §11), 2 for SSDP (UDA 1.1 §1.1.2).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "mcastd.h"
#include "time-util.h"

#define RX_BUFFER_SIZE (1024 * 1024)     /* capped by net.core.rmem_max */
#define PROXY_ASKERS_MAX 4u
#define PROXY_MDNS_USEC (2 * 1000 * 1000) /* legacy answers come at once (RFC 6762 §6.7) */

struct UdpSock {
        Mcastd *m;
        McLink *link;
        McastProto proto;
        int family;
        int fd;
        sd_event_source *io;
};

typedef struct Asker {
        int ifindex;
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } addr;
} Asker;

struct ReplyProxy {
        Mcastd *m;
        int ifindex;             /* the egress link it is bound to */
        McastProto proto;
        int family;
        uint16_t port;
        int fd;
        sd_event_source *io;
        sd_event_source *timer;
        Asker askers[PROXY_ASKERS_MAX];
        size_t n_askers;
        LIST_FIELDS(ReplyProxy, proxies);
};

/* One receive buffer for every socket: one thread, one datagram at a time. The mDNS limit
 * is the larger one (RFC 6762 §17); a datagram beyond it arrives cut (MSG_TRUNC). */
static uint8_t rx_buffer[DNS_MESSAGE_MAX];

static uint16_t proto_port(McastProto p) {
        return p == MCAST_PROTO_MDNS ? MDNS_PORT : SSDP_PORT;
}

static int proto_hops(McastProto p) {
        return p == MCAST_PROTO_MDNS ? MDNS_HOP_LIMIT : SSDP_HOP_LIMIT;
}

static void group_sockaddr(McastProto p, int family, int ifindex, struct sockaddr_storage *ret,
                           socklen_t *ret_len) {
        static const struct in6_addr mdns6 = MDNS_GROUP6_INIT, ssdp6 = SSDP_GROUP6_INIT;

        memset(ret, 0, sizeof *ret);
        if (family == AF_INET) {
                struct sockaddr_in *sin = (struct sockaddr_in *) ret;

                sin->sin_family = AF_INET;
                sin->sin_port = htons(proto_port(p));
                sin->sin_addr.s_addr = htonl(p == MCAST_PROTO_MDNS ? MDNS_GROUP4 : SSDP_GROUP4);
                *ret_len = sizeof *sin;
        } else {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ret;

                sin6->sin6_family = AF_INET6;
                sin6->sin6_port = htons(proto_port(p));
                sin6->sin6_addr = p == MCAST_PROTO_MDNS ? mdns6 : ssdp6;
                sin6->sin6_scope_id = (uint32_t) ifindex;
                *ret_len = sizeof *sin6;
        }
}

/* sendto() as 0 or a negative errno. */
static int send_datagram(int fd, const uint8_t *data, size_t len, const struct sockaddr *to,
                         socklen_t to_len) {
        ssize_t n = sendto(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL, to, to_len);

        return n < 0 ? -errno : 0;
}

static int setsockopt_int(int fd, int level, int name, int value) {
        return RET_NERRNO(setsockopt(fd, level, name, &value, sizeof value));
}

/* What every socket here needs before it is bound: sharing, its link, multicast out of
 * that link only and without loopback, the hop limits, the ingress link of what arrives. */
static int socket_prepare(int fd, int family, McastProto proto, int ifindex, const char *ifname) {
        int hops = proto_hops(proto), r;

        r = setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
        if (r >= 0)
                r = RET_NERRNO(setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t) strlen(ifname)));
        if (r < 0)
                return r;
        if (family == AF_INET) {
                struct ip_mreqn mif = { .imr_ifindex = ifindex };

                r = RET_NERRNO(setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mif, sizeof mif));
                if (r >= 0)
                        r = setsockopt_int(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0);
                if (r >= 0)
                        r = setsockopt_int(fd, IPPROTO_IP, IP_MULTICAST_TTL, hops);
                /* Unicast answers to legacy mDNS queries leave with 255 too (RFC 6762 §11). */
                if (r >= 0 && proto == MCAST_PROTO_MDNS)
                        r = setsockopt_int(fd, IPPROTO_IP, IP_TTL, hops);
                if (r >= 0)
                        r = setsockopt_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
        } else {
                r = setsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
                if (r >= 0)
                        r = setsockopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex);
                if (r >= 0)
                        r = setsockopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0);
                if (r >= 0)
                        r = setsockopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, hops);
                if (r >= 0 && proto == MCAST_PROTO_MDNS)
                        r = setsockopt_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, hops);
                if (r >= 0)
                        r = setsockopt_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
        }
        if (r >= 0)
                (void) setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, RX_BUFFER_SIZE);
        return r;
}

/* Read one datagram into rx_buffer and describe it (McastdReceiveFn's returns; proto and
 * socket_ifindex are the caller's to fill). */
static int udp_receive(int fd, int family, McastInput *ret) {
        union {
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } from = {};
        union {
                char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
                struct cmsghdr align;
        } control;
        struct msghdr msg;
        ssize_t n;

        n = mcastd_recvmsg(fd, rx_buffer, sizeof rx_buffer, &from, sizeof from, &control,
                           sizeof control, &msg);
        if (n < 0)
                return (int) n;
        *ret = (McastInput) { .family = family, .data = rx_buffer, .len = (size_t) n };
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                if (family == AF_INET && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
                    c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
                        struct in_pktinfo pi;

                        memcpy(&pi, CMSG_DATA(c), sizeof pi);
                        ret->ifindex = pi.ipi_ifindex;
                } else if (family == AF_INET6 && c->cmsg_level == IPPROTO_IPV6 &&
                           c->cmsg_type == IPV6_PKTINFO &&
                           c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
                        struct in6_pktinfo pi;

                        memcpy(&pi, CMSG_DATA(c), sizeof pi);
                        ret->ifindex = (int) pi.ipi6_ifindex;
                }
        }
        if (family == AF_INET && msg.msg_namelen >= sizeof from.in && from.in.sin_family == AF_INET) {
                ret->src4 = ntohl(from.in.sin_addr.s_addr);
                ret->src_port = ntohs(from.in.sin_port);
        } else if (family == AF_INET6 && msg.msg_namelen >= sizeof from.in6 &&
                   from.in6.sin6_family == AF_INET6) {
                ret->src6 = from.in6.sin6_addr;
                ret->src_port = ntohs(from.in6.sin6_port);
        } else
                return 0;
        return (msg.msg_flags & MSG_TRUNC) ? -EMSGSIZE : 1;
}

static int udp_sock_receive(int fd, void *userdata, McastInput *ret) {
        UdpSock *u = userdata;
        int r = udp_receive(fd, u->family, ret);

        ret->proto = u->proto;
        ret->socket_ifindex = u->link->ifindex;
        if (r == -EMSGSIZE)
                ret->ifindex = u->link->ifindex; /* counted on the socket's link */
        return r;
}

static int on_udp_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        UdpSock *u = userdata;

        (void) s;
        (void) revents;
        mcastd_receive(u->m, fd, udp_sock_receive, u);
        return 0;
}

int udp_sock_open(Mcastd *m, McLink *l, McastProto proto, int family, UdpSock **ret) {
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_storage group;
        socklen_t len;
        UdpSock *u;
        int r;

        fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        r = socket_prepare(fd, family, proto, l->ifindex, l->name);
        if (r < 0)
                return r;
        group_sockaddr(proto, family, l->ifindex, &group, &len);
        if (bind(fd, (struct sockaddr *) &group, len) < 0)
                return -errno;
        if (family == AF_INET) {
                struct ip_mreqn mreq = {
                        .imr_multiaddr = ((struct sockaddr_in *) &group)->sin_addr,
                        .imr_ifindex = l->ifindex,
                };

                r = RET_NERRNO(setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq));
        } else {
                struct ipv6_mreq mreq = {
                        .ipv6mr_multiaddr = ((struct sockaddr_in6 *) &group)->sin6_addr,
                        .ipv6mr_interface = (unsigned) l->ifindex,
                };

                r = RET_NERRNO(setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq, sizeof mreq));
        }
        if (r < 0)
                return r;

        u = calloc(1, sizeof *u);
        if (!u)
                return -ENOMEM;
        *u = (UdpSock) { .m = m, .link = l, .proto = proto, .family = family, .fd = TAKE_FD(fd) };
        r = sd_event_add_io(m->event, &u->io, u->fd, EPOLLIN, on_udp_readable, u);
        if (r < 0) {
                udp_sock_free(u);
                return r;
        }
        *ret = u;
        return 0;
}

UdpSock *udp_sock_free(UdpSock *u) {
        if (!u)
                return NULL;
        sd_event_source_disable_unref(u->io);
        safe_close(u->fd);
        free(u);
        return NULL;
}

/* ---- answers to legacy queries ---- */

static ReplyProxy *reply_proxy_free(ReplyProxy *p) {
        if (!p)
                return NULL;
        LIST_REMOVE(proxies, p->m->proxies, p);
        p->m->n_proxies--;
        sd_event_source_disable_unref(p->io);
        sd_event_source_disable_unref(p->timer);
        safe_close(p->fd);
        free(p);
        return NULL;
}

static int on_proxy_expired(sd_event_source *s, uint64_t usec, void *userdata) {
        ReplyProxy *p = userdata;

        (void) s;
        (void) usec;
        log_debug("Reply socket on port %u of ifindex %d closes", p->port, p->ifindex);
        reply_proxy_free(p);
        return 0;
}

/* An answer to the asker: from the asker link's own socket, to its address and port. */
static int reply_send(Mcastd *m, const ReplyProxy *p, const Asker *a, const uint8_t *data,
                      size_t len) {
        McLink *l = mcastd_link_active(m, a->ifindex);
        UdpSock *u = l ? l->socks[p->proto][p->family == AF_INET ? MCASTD_V4 : MCASTD_V6] : NULL;
        socklen_t alen = p->family == AF_INET ? sizeof a->addr.in : sizeof a->addr.in6;

        if (!u)
                return -ENOTCONN;
        return send_datagram(u->fd, data, len, &a->addr.sa, alen);
}

static int on_proxy_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        static McastDecision d;
        static uint8_t out[DNS_MESSAGE_MAX];
        ReplyProxy *p = userdata;
        Mcastd *m = p->m;

        (void) s;
        (void) revents;
        for (unsigned i = 0; i < MCASTD_RX_BATCH; i++) {
                McastInput in;
                int r = udp_receive(fd, p->family, &in);

                if (r == -EMSGSIZE) {
                        (void) mcast_fwd_count_drop(m->fwd, p->ifindex, p->proto, MCAST_DIR_IN,
                                                    MCAST_DROP_TOO_BIG);
                        continue;
                }
                if (r <= 0)
                        break;
                in.proto = p->proto;
                in.socket_ifindex = p->ifindex;
                for (size_t k = 0; k < p->n_askers; k++) {
                        const uint8_t *data;
                        size_t len;

                        r = mcast_fwd_decide_reply(m->fwd, &in, p->askers[k].ifindex,
                                                   now_usec(), &d);
                        if (r <= 0)
                                continue;
                        r = mcast_fwd_prepare(&in, &d, 0, out, sizeof out, &data, &len);
                        if (r >= 0)
                                r = reply_send(m, p, &p->askers[k], data, len);
                        mcast_fwd_sent(m->fwd, &d, 0, r);
                }
        }
        mcastd_changed(m);
        return 0;
}

/* Remember who asked (a few per proxy: a port several guests happen to share). */
static void proxy_add_asker(ReplyProxy *p, const McastInput *in) {
        Asker a = { .ifindex = in->ifindex };

        if (in->family == AF_INET) {
                a.addr.in.sin_family = AF_INET;
                a.addr.in.sin_addr.s_addr = htonl(in->src4);
                a.addr.in.sin_port = htons(in->src_port);
        } else {
                a.addr.in6.sin6_family = AF_INET6;
                a.addr.in6.sin6_addr = in->src6;
                a.addr.in6.sin6_port = htons(in->src_port);
                if (IN6_IS_ADDR_LINKLOCAL(&in->src6))
                        a.addr.in6.sin6_scope_id = (uint32_t) in->ifindex;
        }
        for (size_t i = 0; i < p->n_askers; i++)
                if (memcmp(&p->askers[i], &a, sizeof a) == 0)
                        return;
        if (p->n_askers == PROXY_ASKERS_MAX) {
                memmove(&p->askers[0], &p->askers[1], (PROXY_ASKERS_MAX - 1) * sizeof a);
                p->n_askers--;
        }
        p->askers[p->n_askers++] = a;
}

static uint64_t proxy_lifetime(const McastDecision *d) {
        if (d->proto == MCAST_PROTO_MDNS)
                return PROXY_MDNS_USEC;
        /* Devices answer an M-SEARCH within MX seconds (UDA 1.1 §1.3.3), one more for the
         * way; an MX of 0 or none (a unicast search) gets that one. */
        return (uint64_t) (d->ssdp.mx + 1) * 1000 * 1000;
}

/* The proxy on @egress for the asker's port, made or refreshed; NULL if the port cannot be
 * had (another socket holds it without sharing). */
static ReplyProxy *reply_proxy_get(Mcastd *m, McLink *egress, const McastInput *in,
                                   const McastDecision *d) {
        uint64_t expires = now_usec() + proxy_lifetime(d);
        _cleanup_close_ int fd = -EBADF;
        union {
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } any = {};
        ReplyProxy *p;
        int r;

        LIST_FOREACH(proxies, q, m->proxies)
                if (q->ifindex == egress->ifindex && q->proto == in->proto &&
                    q->family == in->family && q->port == in->src_port) {
                        LIST_REMOVE(proxies, m->proxies, q);
                        LIST_PREPEND(proxies, m->proxies, q);
                        proxy_add_asker(q, in);
                        (void) sd_event_source_set_time(q->timer, expires);
                        return q;
                }

        fd = socket(in->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return NULL;
        if (socket_prepare(fd, in->family, in->proto, egress->ifindex, egress->name) < 0)
                return NULL;
        if (in->family == AF_INET) {
                any.in.sin_family = AF_INET;
                any.in.sin_port = htons(in->src_port);
        } else {
                any.in6.sin6_family = AF_INET6;
                any.in6.sin6_port = htons(in->src_port);
        }
        if (bind(fd, (struct sockaddr *) &any, in->family == AF_INET ? sizeof any.in :
                 sizeof any.in6) < 0) {
                log_debug_errno(-errno, "%s: cannot bind port %u for answers: %m", egress->name,
                                in->src_port);
                return NULL;
        }
        if (m->n_proxies >= MCASTD_PROXIES_MAX) {
                ReplyProxy *oldest = m->proxies;

                while (oldest->proxies_next)
                        oldest = oldest->proxies_next;
                reply_proxy_free(oldest);
        }
        p = calloc(1, sizeof *p);
        if (!p)
                return NULL;
        *p = (ReplyProxy) { .m = m, .ifindex = egress->ifindex, .proto = in->proto,
                            .family = in->family, .port = in->src_port, .fd = TAKE_FD(fd) };
        LIST_PREPEND(proxies, m->proxies, p);
        m->n_proxies++;
        r = sd_event_add_io(m->event, &p->io, p->fd, EPOLLIN, on_proxy_readable, p);
        if (r >= 0)
                r = sd_event_add_time(m->event, &p->timer, CLOCK_MONOTONIC, expires, 0,
                                      on_proxy_expired, p);
        if (r < 0) {
                reply_proxy_free(p);
                return NULL;
        }
        proxy_add_asker(p, in);
        return p;
}

void reply_proxies_forget_link(Mcastd *m, int ifindex) {
        LIST_FOREACH_SAFE(proxies, p, next, m->proxies) {
                if (p->ifindex == ifindex) {
                        reply_proxy_free(p);
                        continue;
                }
                for (size_t i = 0; i < p->n_askers;)
                        if (p->askers[i].ifindex == ifindex) {
                                memmove(&p->askers[i], &p->askers[i + 1],
                                        (p->n_askers - i - 1) * sizeof p->askers[0]);
                                p->n_askers--;
                        } else
                                i++;
                if (p->n_askers == 0)
                        reply_proxy_free(p);
        }
}

void reply_proxies_free_all(Mcastd *m) {
        while (m->proxies)
                reply_proxy_free(m->proxies);
}

/* ---- sending ---- */

int udp_send_copy(Mcastd *m, const McastInput *in, const McastDecision *d, McLink *egress,
                  const uint8_t *data, size_t len) {
        UdpSock *u = egress->socks[in->proto][in->family == AF_INET ? MCASTD_V4 : MCASTD_V6];
        struct sockaddr_storage group;
        socklen_t glen;
        int fd;

        if (!u)
                return -ENOTCONN;
        fd = u->fd;
        /* Never the other protocol's port: for as long as the proxy lives it would take the
         * host's own unicast datagrams to that port. */
        if (d->legacy_port && (in->src_port == MDNS_PORT || in->src_port == SSDP_PORT))
                m->reply_sockets_refused++;
        else if (d->legacy_port) {
                ReplyProxy *p = reply_proxy_get(m, egress, in, d);

                if (p)
                        fd = p->fd;
                else
                        m->reply_sockets_refused++; /* sent, but its answers cannot come back */
        }
        group_sockaddr(in->proto, in->family, egress->ifindex, &group, &glen);
        return send_datagram(fd, data, len, (struct sockaddr *) &group, glen);
}

int udp_send_broadcast_payload(McLink *uplink, uint16_t sport, uint32_t dst4, uint16_t dport,
                               const uint8_t *data, size_t len) {
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_in from = { .sin_family = AF_INET, .sin_port = htons(sport) };
        struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(dport),
                                  .sin_addr.s_addr = htonl(dst4) };
        int r;

        fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        r = setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
        if (r >= 0)
                r = setsockopt_int(fd, SOL_SOCKET, SO_BROADCAST, 1);
        if (r >= 0)
                r = RET_NERRNO(setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, uplink->name,
                                          (socklen_t) strlen(uplink->name)));
        if (r < 0)
                return r;
        /* The sender's port, so its answer comes back to it (through ARC's NAT); if the
         * host holds that port, the broadcast still goes, from another. */
        if (bind(fd, (struct sockaddr *) &from, sizeof from) < 0)
                log_debug_errno(-errno, "%s: cannot send from port %u, sending from another: %m",
                                uplink->name, sport);
        /* Connected to the broadcast address, the socket matches no answer (they come from
         * a host's own address): while it exists, an answer still finds no host socket and
         * goes on to ARC, instead of to this socket, which closes without reading it. */
        if (connect(fd, (struct sockaddr *) &to, sizeof to) < 0)
                return -errno;
        return send_datagram(fd, data, len, NULL, 0);
}
