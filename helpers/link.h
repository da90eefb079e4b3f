/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* Link, address and route operations over rtnetlink (libnl), in whatever netns the given
 * socket was opened in. */

#include <stdbool.h>
#include <net/if.h>
#include <stdint.h>
#include <sys/types.h>

#include "errbuf.h"
#include "mac.h"

struct nl_sock;

/* A connected rtnetlink socket in the calling thread's current netns. */
int nl_open(struct nl_sock **ret, ErrBuf *err);

/*
 * link_create_veth() - create a veth pair; @host is up if @host_up, @peer must be set up
 * after.
 * @sk: socket in the netns that gets @host
 * @host: name of the end that stays in @sk's netns
 * @host_mac: its MAC, or NULL for one the kernel picks
 * @peer: name of the end created directly in @peer_netns_fd
 *
 * Return: 0, -EEXIST if either name is taken, or another negative errno.
 */
int link_create_veth(struct nl_sock *sk, const char *host, const MacAddr *host_mac,
                     const char *peer, const MacAddr *peer_mac, int peer_netns_fd, bool host_up,
                     ErrBuf *err);

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
        bool alias;          /* mark it ours with PP_LINK_ALIAS */
        const MacAddr *mac;  /* NULL: unchanged */
        int master;          /* > 0: enslave to that ifindex, 0: release, -1: unchanged */
} LinkConfig;

/* Apply everything in one RTM_NEWLINK. */
int link_configure(struct nl_sock *sk, int ifindex, const LinkConfig *c, ErrBuf *err);
/* A bridge, down. Return: 0, -EEXIST if the name is taken. */
int link_create_bridge(struct nl_sock *sk, const char *name, ErrBuf *err);
/*
 * tap_create() - a persistent TAP named by the kernel from VM_TAP_TEMPLATE, owned by @owner
 * (the VM monitor opens it later), down, without address.
 */
int tap_create(uid_t owner, char ret_name[static IFNAMSIZ], ErrBuf *err);
/* 0 if the link exists and carries PP_LINK_ALIAS; -ENODEV if it does not exist, -EPERM if it
 * is someone else's. */
int link_is_ours(struct nl_sock *sk, const char *name, int *ret_ifindex);
/* Return: 0, -ENODEV if there is no such link. */
int link_delete(struct nl_sock *sk, const char *name);
/* The link group (IFLA_GROUP) links pass through on their way out: no link of anyone else's
 * should ever be in it. */
#define PP_DELETE_GROUP UINT32_C(0x70706e6c) /* "ppnl" */

/*
 * link_delete_many() - delete links in one go (one kernel grace period for all of them,
 * instead of ~20 ms each). Names already gone are skipped; how many went in *ret_n.
 */
int link_delete_many(struct nl_sock *sk, int ioctl_fd, char (*names)[IFNAMSIZ], unsigned n,
                     unsigned *ret_n);
/* Delete every link whose name and alias (may be NULL) match() accepts; how many in *ret_n. */
int link_delete_matching(struct nl_sock *sk, int ioctl_fd,
                         bool (*match)(const char *name, const char *alias), unsigned *ret_n);

int addr_add_ipv4(struct nl_sock *sk, int ifindex, uint32_t addr, unsigned prefix_len,
                  ErrBuf *err);
/* A route in the main table. Return: 0, -EEXIST if it is there already. */
int route_add_ipv4(struct nl_sock *sk, uint32_t dst, unsigned prefix_len, uint32_t gateway,
                   int ifindex, ErrBuf *err);

/* Disable IPv6 on a link that is down, before it starts any IPv6 work. */
int link_disable_ipv6(const char *ifname, ErrBuf *err);
