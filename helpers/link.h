/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* Link, address and route operations over rtnetlink (libnl), in whatever netns the given
 * socket was opened in. */

#include <stdbool.h>
#include <stdint.h>

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
int link_set_up(struct nl_sock *sk, int ifindex, ErrBuf *err);
/* Return: 0, -ENODEV if there is no such link. */
int link_delete(struct nl_sock *sk, const char *name);
/* Delete every link whose name match() accepts; how many in *ret_n. */
int link_delete_matching(struct nl_sock *sk, bool (*match)(const char *name), unsigned *ret_n);

int addr_add_ipv4(struct nl_sock *sk, int ifindex, uint32_t addr, unsigned prefix_len,
                  ErrBuf *err);
/* Return: 0, -EEXIST if the main table already has a default route. */
int route_add_default_ipv4(struct nl_sock *sk, int ifindex, uint32_t gateway, ErrBuf *err);
