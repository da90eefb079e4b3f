/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * mcastd, the daemon around ppmcast: mcast-fwd.h decides what happens to a datagram, this
 * side owns the sockets, the links and the clock. One object per file:
 *
 *   Mcastd      main.c        the process: its mode, start-up stages, event loop
 *   McLink      links.c       a link served, wanted by name: an uplink, or a guest link
 *                             behind one; active (in the forwarder, its sockets open) while
 *                             the kernel has it
 *   (forward)   forward.c     a received datagram through mcast_fwd_decide() to its copies
 *   UdpSock     udp.c         a link's socket for one protocol and family
 *   ReplyProxy  udp.c         a socket bound to a legacy asker's port on an egress link,
 *                             relaying the unicast answers back to the asker
 *   BcastSock   bcast-sock.c  the broadcast forwarder's one AF_PACKET socket
 *   NetWatch    netwatch.c    links and addresses over rtnetlink
 *   (status)    status.c      counters out: ForwarderStatus, SIGUSR1 and --stats
 *
 * Everything runs in one thread on one sd-event loop; nothing blocks and nothing wakes up
 * while no packet and no link event arrives (a ReplyProxy's expiry timer exists only while
 * the proxy does, the status timer only after a change).
 */

#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "forwarder.h"
#include "list.h"
#include "mcast-fwd.h"
#include "netwatch.h"

/* The UDP protocols, as indexes of McLink.socks (MCAST_PROTO_MDNS, MCAST_PROTO_SSDP). */
#define MCASTD_UDP_PROTOS 2
/* Families, as indexes of McLink.socks. */
#define MCASTD_V4 0
#define MCASTD_V6 1

/* Datagrams read per wake-up of one socket, so that one busy link cannot starve others. */
#define MCASTD_RX_BATCH 64u

/* How many ReplyProxy sockets at most; the oldest goes first. */
#define MCASTD_PROXIES_MAX 64u

typedef struct Mcastd Mcastd;
typedef struct McLink McLink;
typedef struct McPair McPair;
typedef struct UdpSock UdpSock;
typedef struct ReplyProxy ReplyProxy;
typedef struct BcastSock BcastSock;

struct McLink {
        Mcastd *m;
        char name[IFNAMSIZ];
        int want_ifindex;        /* the ifindex the manager named; 0: whichever has the name */
        int ifindex;             /* > 0 while active */
        McastRole role;
        McLink *uplink;          /* a guest link's */
        unsigned want_services;  /* MCAST_SERVICE_*: a guest's from its kind, an uplink's the
                                  * union of its guests' */
        unsigned services;       /* what it carries while active: what its sockets allow */
        unsigned users;          /* uplink: guest links behind it, +1 if named by the user;
                                  * guest link: pairs that name it */
        UdpSock *socks[MCASTD_UDP_PROTOS][2];
        LIST_FIELDS(McLink, links);
};

/* A pair the manager told: a guest link behind an uplink. */
struct McPair {
        ForwarderLink link;      /* as told; its strings point at the names below */
        char uplink[IFNAMSIZ];
        char guest[IFNAMSIZ];
        McLink *guest_link;
        LIST_FIELDS(McPair, pairs);
};

struct Mcastd {
        sd_event *event;
        McastFwd *fwd;
        NetWatch *netwatch;
        BcastSock *bcast;        /* supervised only: it needs CAP_NET_RAW at start */
        FwdRuntime *rt;          /* supervised only: the manager's channel */
        sd_event_source *status_due; /* supervised only: a status report is due */
        McLink *links;
        McPair *pairs;           /* supervised: the pairs the manager told, in order */
        ReplyProxy *proxies;     /* most recently used first */
        unsigned n_proxies;
        uint64_t reply_sockets_refused; /* legacy queries sent without a reply path */
};

/* ---- links.c ---- */

/*
 * mcastd_services_of_kind() - what a guest link of a kind carries (ipc.proto,
 * ForwarderLink): ARC and ARCVM mDNS, SSDP and broadcast, Termina and PluginVM mDNS and
 * SSDP, others nothing.
 * @kind: the guest's kind
 *
 * Return: MCAST_SERVICE_* bits, 0 for a kind mcastd does not serve.
 */
unsigned mcastd_services_of_kind(Patchpanel__Ipc__GuestKind kind);

/*
 * mcastd_pair_add() - the manager added a link pair: serve the guest link behind the
 * uplink, now if the kernel has both, else as soon as it does.
 * @m: the daemon
 * @l: the pair, as received
 *
 * Return: 0, -EINVAL for a pair that is not well-formed (a protocol violation), -EEXIST
 * for a guest link already behind another uplink, -ENOMEM.
 */
int mcastd_pair_add(Mcastd *m, const ForwarderLink *l);

/*
 * mcastd_pair_remove() - the manager removed a link pair.
 * @m: the daemon
 * @l: the pair, as received
 *
 * Return: 0, or -ENOENT for a pair it was never told.
 */
int mcastd_pair_remove(Mcastd *m, const ForwarderLink *l);

/*
 * mcastd_standalone_links() - serve @downlinks behind @uplink with mDNS and SSDP, as the
 * command line says, for the whole life of the process.
 * @m: the daemon
 * @uplink: the uplink's name
 * @downlinks: the guest links' names
 * @n: how many
 *
 * Return: 0, or a negative errno.
 */
int mcastd_standalone_links(Mcastd *m, const char *uplink, char *const *downlinks, size_t n);

/*
 * mcastd_link_active() - the link served under an ifindex.
 * @m: the daemon
 * @ifindex: the kernel's ifindex
 *
 * Return: the link, or NULL if no active link has it.
 */
McLink *mcastd_link_active(const Mcastd *m, int ifindex);

/*
 * mcastd_links_free() - stop serving every link and forget every pair (at exit).
 * @m: the daemon
 */
void mcastd_links_free(Mcastd *m);

/*
 * mcastd_on_link_new() - NetWatchCallbacks.link_new: a link of that name may be served now
 * (and, for an uplink, its guest links).
 * @ifindex: the link's ifindex
 * @name: its name
 * @userdata: the Mcastd
 */
void mcastd_on_link_new(int ifindex, const char *name, void *userdata);

/*
 * mcastd_on_link_gone() - NetWatchCallbacks.link_gone: the link (and, for an uplink, its
 * guest links) waits for the kernel to have it again.
 * @ifindex: the link's ifindex
 * @userdata: the Mcastd
 */
void mcastd_on_link_gone(int ifindex, void *userdata);

/*
 * mcastd_on_addresses() - NetWatchCallbacks.addresses_changed: the forwarder takes the
 * link's addresses anew (the uplink's for the rewrite, a guest link's subnet).
 * @ifindex: the link's ifindex
 * @userdata: the Mcastd
 */
void mcastd_on_addresses(int ifindex, void *userdata);

/* ---- forward.c ---- */

/*
 * mcastd_forward() - a datagram received on one of the links: decide, then send every
 * copy and count how each went.
 * @m: the daemon
 * @in: the datagram
 */
void mcastd_forward(Mcastd *m, const McastInput *in);

/*
 * mcastd_recvmsg() - receive one datagram without blocking: its bytes into @buf, its source
 * into @from, its control messages into @control, read with the CMSG macros from @ret_msg.
 * Return: its length (cut to @size, and MSG_TRUNC in ret_msg->msg_flags), or a negative errno.
 */
ssize_t mcastd_recvmsg(int fd, void *buf, size_t size, void *from, socklen_t from_size,
                       void *control, size_t control_size, struct msghdr *ret_msg);

/*
 * A socket's receive function for mcastd_receive(): read one datagram and describe it.
 * Return: 1 to forward it; 0 to skip it (not ours); -EMSGSIZE for one cut short (@ret's
 * ifindex and proto say whose; it is counted as too big); -EAGAIN when none is left;
 * another negative errno.
 */
typedef int (*McastdReceiveFn)(int fd, void *userdata, McastInput *ret);

/*
 * mcastd_receive() - read what a socket has (MCASTD_RX_BATCH datagrams at most) and
 * forward each.
 * @m: the daemon
 * @fd: the socket
 * @receive: how to read it
 * @userdata: for @receive
 */
void mcastd_receive(Mcastd *m, int fd, McastdReceiveFn receive, void *userdata);

/*
 * mcastd_changed() - something the status shows changed (a link, a counter): supervised, a
 * report goes out at the next turn of the loop, or later within the runtime's limit of one
 * a second; standalone, nothing happens.
 * @m: the daemon
 */
void mcastd_changed(Mcastd *m);

/*
 * mcastd_status_setup() - supervised, the source mcastd_changed() arms (one report per turn
 * of the loop at most).
 * @m: the daemon, with its runtime
 *
 * Return: 0 or a negative errno.
 */
int mcastd_status_setup(Mcastd *m);

/* ---- udp.c ---- */

/*
 * udp_sock_open() - the socket of @l for one protocol and family: bound to the group's
 * address and port on @l (so it gets that group's datagrams on @l and never anyone's
 * unicast), joined to the group there, sending to the group with the protocol's hop limit
 * and without loopback, reporting the ingress link (PKTINFO).
 * @m: the daemon
 * @l: the link, active
 * @proto: MCAST_PROTO_MDNS or MCAST_PROTO_SSDP
 * @family: AF_INET or AF_INET6
 * @ret: the socket, reading from now on
 *
 * Return: 0 or a negative errno (logged by the caller).
 */
int udp_sock_open(Mcastd *m, McLink *l, McastProto proto, int family, UdpSock **ret);

/*
 * udp_sock_free() - close a link's socket (leaving its group).
 * @u: the socket, or NULL
 *
 * Return: NULL.
 */
UdpSock *udp_sock_free(UdpSock *u);

/*
 * udp_send_copy() - send a copy of an mDNS or SSDP datagram to its group on @egress: from
 * the link's own socket, or, for a query from another port (d->legacy_port), from a
 * ReplyProxy bound to that port on @egress, which relays the answers to the asker.
 * @m: the daemon
 * @in: the datagram as received (for the asker's address and port)
 * @d: its decision
 * @egress: the link of the copy
 * @data: the copy's bytes
 * @len: how many
 *
 * Return: 0 or a negative errno.
 */
int udp_send_copy(Mcastd *m, const McastInput *in, const McastDecision *d, McLink *egress,
                  const uint8_t *data, size_t len);

/*
 * udp_send_broadcast_payload() - a guest's UDP broadcast to the LAN: its payload from a
 * socket bound to the same source port on @uplink, connected to the destination (so it
 * never matches an answer) and closed right after, so that an answer to it finds ARC
 * through the NAT (reference §8.3).
 * @uplink: the link to send on
 * @sport: the guest's source port
 * @dst4: 255.255.255.255 or the uplink's subnet broadcast
 * @dport: the destination port
 * @data: the UDP payload
 * @len: its length
 *
 * Return: 0 or a negative errno.
 */
int udp_send_broadcast_payload(McLink *uplink, uint16_t sport, uint32_t dst4, uint16_t dport,
                               const uint8_t *data, size_t len);

/*
 * reply_proxies_forget_link() - a link goes: close the ReplyProxies bound on it and forget
 * the askers on it (a proxy left without asker closes too).
 * @m: the daemon
 * @ifindex: the link
 */
void reply_proxies_forget_link(Mcastd *m, int ifindex);

/*
 * reply_proxies_free_all() - close every ReplyProxy (at exit).
 * @m: the daemon
 */
void reply_proxies_free_all(Mcastd *m);

/* ---- bcast-sock.c ---- */

/*
 * bcast_sock_open() - the broadcast forwarder's socket: one AF_PACKET SOCK_DGRAM socket for
 * IPv4, bound to no interface, with a classic BPF filter that passes only UDP broadcasts
 * between ports >= 1024, unfragmented, received as broadcast frames on the links that
 * carry broadcast (none yet: bcast_sock_set_links()). Needs CAP_NET_RAW: call it before
 * the sandbox.
 * @m: the daemon
 * @ret: the socket
 *
 * Return: 0 or a negative errno.
 */
int bcast_sock_open(Mcastd *m, BcastSock **ret);

/*
 * bcast_sock_free() - close the broadcast socket.
 * @b: the socket, or NULL
 *
 * Return: NULL.
 */
BcastSock *bcast_sock_free(BcastSock *b);

/*
 * bcast_sock_set_links() - the links whose broadcasts the filter passes (attached anew,
 * atomically: a packet sees the old filter or the new one).
 * @b: the socket
 * @ifindexes: the links
 * @n: how many, at most MCAST_LINKS_MAX
 *
 * Return: 0 or a negative errno.
 */
int bcast_sock_set_links(BcastSock *b, const int *ifindexes, size_t n);

/*
 * bcast_sock_send() - send a rewritten IPv4 packet as an Ethernet broadcast on a link.
 * @b: the socket
 * @ifindex: the guest link
 * @pkt: the packet, from its IPv4 header
 * @len: its length
 *
 * Return: 0 or a negative errno.
 */
int bcast_sock_send(BcastSock *b, int ifindex, const uint8_t *pkt, size_t len);

/* ---- status.c ---- */

/*
 * mcastd_status() - FwdCallbacks.status: the pairs told and the counters per link (status.c
 * lists their names), in storage that lives until mcastd_status_done().
 * @ret: the report to fill
 * @userdata: the Mcastd
 */
void mcastd_status(ForwarderStatus *ret, void *userdata);

/*
 * mcastd_status_done() - FwdCallbacks.status_done: the report was sent; free its storage.
 * @st: the report
 * @userdata: the Mcastd
 */
void mcastd_status_done(ForwarderStatus *st, void *userdata);

/*
 * mcastd_dump() - the counters as text, a line per link, protocol and direction.
 * @m: the daemon
 * @out: where to
 */
void mcastd_dump(const Mcastd *m, FILE *out);
