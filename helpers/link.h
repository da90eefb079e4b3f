/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* Link, address and route operations over rtnetlink (libnl), in whatever netns the given
 * socket was opened in. */

#include <stdbool.h>
#include <net/if.h>
#include <stdint.h>
#include <sys/types.h>

#include "errbuf.h"
#include "ifname.h"
#include "mac.h"
#include "rtnl.h"

struct nl_sock;

/* A connected rtnetlink socket in the calling thread's current netns. */
int nl_open(struct nl_sock **ret, ErrBuf *err);

/*
 * link_create_veth() - create a veth pair, both ends in PP_LINK_GROUP from their creation;
 * @host is up if @host_up, @peer must be set up after.
 * @sk: socket in the netns that gets @host
 * @host: name of the end that stays in @sk's netns
 * @host_mac: its MAC, or NULL for one the kernel picks
 * @peer: name of the end created directly in @peer_netns_fd
 * @peer_mac: its MAC
 * @peer_netns_fd: the netns of @peer
 * @host_up: whether @host goes up at once
 * @err: what went wrong, for the manager
 *
 * Return: 0, -EEXIST if either name is taken, or another negative errno.
 */
int link_create_veth(struct nl_sock *sk, const char *host, const MacAddr *host_mac,
                     const char *peer, const MacAddr *peer_mac, int peer_netns_fd, bool host_up,
                     ErrBuf *err);

/*
 * link_veth_create() - link_create_veth() in one request/answer on a raw socket: the pair,
 * both ends in PP_LINK_GROUP, @host down, @peer born in @peer_netns_fd, and both ifindexes
 * from the kernel's echo of the creation (NLM_F_ECHO, Linux >= 6.3; SIOCGIFINDEX before).
 * @rt: rtnetlink in the netns that gets @host
 * @host: name of the end that stays in @rt's netns
 * @host_mac: its MAC, or NULL for one the kernel picks
 * @peer: name of the end created directly in @peer_netns_fd
 * @peer_mac: its MAC
 * @peer_netns_fd: the netns of @peer
 * @host_ioctl_fd: a socket in @rt's netns, for the indexes if the kernel does not echo
 * @peer_ioctl_fd: one in @peer_netns_fd, likewise
 * @ret_host_ifindex: @host's ifindex
 * @ret_peer_ifindex: @peer's, in its netns
 * @err: what went wrong, for the manager
 *
 * Return: 0, -EEXIST if either name is taken, or another negative errno. The pair exists
 * if and only if the return is 0 or the indexes could not be had (-ENODEV: it vanished).
 */
int link_veth_create(Rtnl *rt, const char *host, const MacAddr *host_mac, const char *peer,
                     const MacAddr *peer_mac, int peer_netns_fd, int host_ioctl_fd,
                     int peer_ioctl_fd, int *ret_host_ifindex, int *ret_peer_ifindex,
                     ErrBuf *err);

/* Requests for a batch (nl-util.h): an IPv4 address with its broadcast, NLM_F_EXCL. */
void link_msg_addr4(RtnlBatch *b, Rtnl *rt, int ifindex, uint32_t addr, unsigned prefix_len);
/* The link up; with @alias, PP_LINK_ALIAS too (the kernel takes no alias at creation). */
void link_msg_up(RtnlBatch *b, Rtnl *rt, int ifindex, bool alias);
/* A unicast route in the main table via @gateway on @ifindex, NLM_F_EXCL. */
void link_msg_route4(RtnlBatch *b, Rtnl *rt, uint32_t dst, unsigned prefix_len,
                     uint32_t gateway, int ifindex);

/* Return: 0, -ENODEV if there is no such link. */
int link_get_ifindex(struct nl_sock *sk, const char *name, int *ret);
/*
 * link_get_ifindex_ioctl() - the same through SIOCGIFINDEX on any socket of the netns.
 * Cheaper than RTM_GETLINK for a veth whose peer is in another netns: the kernel's reply
 * to that carries the peer's netns id, whose lookup walks every netns id the host has
 * assigned, i.e. grows with the number of connected namespaces.
 * Return: 0, -ENODEV if there is no such link.
 */
int link_get_ifindex_ioctl(int ioctl_fd, const char *name, int *ret);
typedef struct LinkConfig {
        bool up;
        bool mark;           /* mark it ours: PP_LINK_GROUP and PP_LINK_ALIAS */
        const MacAddr *mac;  /* NULL: unchanged */
        int master;          /* > 0: enslave to that ifindex, 0: release, -1: unchanged */
} LinkConfig;

/* Apply everything in one RTM_NEWLINK. */
int link_configure(struct nl_sock *sk, int ifindex, const LinkConfig *c, ErrBuf *err);
/* A bridge, down, in PP_LINK_GROUP from its creation. Return: 0, -EEXIST if the name is
 * taken. */
int link_create_bridge(struct nl_sock *sk, const char *name, ErrBuf *err);
/*
 * tap_create() - a persistent TAP named by the kernel from VM_TAP_TEMPLATE, owned by @owner
 * (the VM monitor opens it later), marked ours, down, without address.
 * @sk: rtnetlink in the helper's netns
 * @ioctl_fd: any socket of that netns
 * @owner: the uid that may open it
 * @ret_name: its name
 * @ret_ifindex: its ifindex
 * @err: what went wrong, for the manager
 *
 * The TUN ioctls cannot mark a link as they create it, so the TAP is born bound to a
 * descriptor of this process, which the kernel deletes it with; it is marked, and only then
 * made persistent. Killed at any point, the helper leaves either nothing or a marked TAP.
 *
 * Return: 0 or a negative errno.
 */
int tap_create(struct nl_sock *sk, int ioctl_fd, uid_t owner, char ret_name[static IFNAMSIZ],
               int *ret_ifindex, ErrBuf *err);
/*
 * link_mark_is_ours() - whether a link with this alias (may be NULL) and group is the
 * daemon's: PP_LINK_GROUP, PP_DELETE_GROUP (on its way out) or PP_LINK_ALIAS.
 * @alias: IFLA_IFALIAS, or NULL if the link has none
 * @group: IFLA_GROUP
 *
 * Return: true if it is ours.
 */
bool link_mark_is_ours(const char *alias, uint32_t group);
/* 0 if the link exists and carries our mark (link_mark_is_ours()); -ENODEV if it does not
 * exist, -EPERM if it is someone else's. */
int link_is_ours(struct nl_sock *sk, const char *name, int *ret_ifindex);
/* Return: 0, -ENODEV if there is no such link. */
int link_delete(struct nl_sock *sk, const char *name);

/*
 * link_delete_many() - delete links in one go (one kernel grace period for all of them,
 * instead of ~20 ms each).
 * @sk: rtnetlink in the links' netns
 * @ioctl_fd: any socket of that netns
 * @names: the links
 * @n: how many
 * @ret_n: how many were there to delete (NULL: not wanted)
 *
 * A link that is gone, before or while this runs (a veth whose namespace died takes its
 * host end along, at a moment of the kernel's choosing), counts as deleted.
 *
 * Return: 0 once none of them exists any more, or the first real failure.
 */
int link_delete_many(struct nl_sock *sk, int ioctl_fd, char (*names)[IFNAMSIZ], unsigned n,
                     unsigned *ret_n);
/*
 * link_cut_off_many() - take links down and move them into PP_DELETE_GROUP, for a later
 * deletion of the whole group (link-reaper.h): what goes through them stops at once, and
 * the RCU grace periods of their unregistration are waited for elsewhere.
 * @rt: rtnetlink in the links' netns
 * @names: the links, by name
 * @n: how many
 * @status: for each, 0 (cut off, in the group), -ENODEV (gone already) or another
 *          negative errno (still there, as it was)
 *
 * Return: 0, or a negative errno if the socket failed (@status then says nothing).
 */
int link_cut_off_many(Rtnl *rt, const char (*names)[IFNAMSIZ], unsigned n, int *status);
/* Delete every link whose name, alias (may be NULL) and group match() accepts; how many in
 * *ret_n. */
int link_delete_matching(struct nl_sock *sk, int ioctl_fd,
                         bool (*match)(const char *name, const char *alias, uint32_t group),
                         unsigned *ret_n);

int addr_add_ipv4(struct nl_sock *sk, int ifindex, uint32_t addr, unsigned prefix_len,
                  ErrBuf *err);
/* A route in the main table. Return: 0, -EEXIST if it is there already. */
int route_add_ipv4(struct nl_sock *sk, uint32_t dst, unsigned prefix_len, uint32_t gateway,
                   int ifindex, ErrBuf *err);

/* net.ipv4.conf.<ifname>.route_localnet: whether 127.0.0.0/8 is routed from and to it.
 * Return: 0, -ENODEV if there is no such link. */
int link_set_route_localnet(const char *ifname, bool on, ErrBuf *err);
/* Disable IPv6 on a link that is down, before it starts any IPv6 work. */
int link_disable_ipv6(const char *ifname, ErrBuf *err);
