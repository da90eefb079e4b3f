/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The /128 routes the ND proxy asks for, and the checks every process that makes one does
 * before it does (patchpanel-helper for patchpaneld, ndproxyd's privileged parent when it
 * runs standalone): a guest may only get a route for an address that can be its own on
 * the multilink subnet, never for one that belongs to the host, to a neighbour on the
 * uplink, or that lies outside the prefixes on-link on the uplink (which would steal the
 * host's traffic to that address). Over libnl, in the netns of the socket given.
 */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "errbuf.h"

struct nl_sock;

/* The routing protocol of routes ndproxyd's parent makes standalone ("ndproxyd"), so that
 * what a killed run left is found and removed by the next. */
#define RTPROT_NDPROXYD 178

/* Whether @a is global unicast (2000::/3) or unique local (fc00::/7). */
bool route6_addr_is_guest_kind(const struct in6_addr *a);

/*
 * route6_check_guest_address() - whether @addr may get a /128 route towards a guest link
 * served behind @uplink.
 * @nl: rtnetlink in the netns of the links
 * @addr: the address
 * @uplink: the uplink's ifindex
 * @own_proto: the protocol of the caller's own /128 routes, which the check looks past
 * @err: why not
 *
 * Return: 0; -EINVAL for an address of another kind; -EADDRINUSE if the host has it or the
 * uplink's neighbour table knows it (someone on the uplink's link has it); -ENETUNREACH
 * if the most specific route to it in the main table is not a direct one through @uplink;
 * another negative errno if the kernel could not be asked.
 */
int route6_check_guest_address(struct nl_sock *nl, const struct in6_addr *addr, int uplink,
                               uint8_t own_proto, ErrBuf *err);

/*
 * route6_host() - add (or replace) the route @addr/128 through @ifindex in @table with
 * protocol @proto, or delete it.
 * Return: 0 (deleting one that is not there included) or a negative errno.
 */
int route6_host(struct nl_sock *nl, bool add, int ifindex, const struct in6_addr *addr,
                uint32_t table, uint8_t proto, ErrBuf *err);

/*
 * route6_delete_proto() - delete every IPv6 route of protocol @proto in @table through one
 * of @ifindexes (what a killed run left behind).
 * @ifindexes: the links, or NULL for all
 * @n_ifindexes: how many
 * @ret_n: how many routes went (may be NULL)
 * Return: 0 or a negative errno.
 */
int route6_delete_proto(struct nl_sock *nl, uint32_t table, uint8_t proto, const int *ifindexes,
                        size_t n_ifindexes, unsigned *ret_n);

/*
 * route6_proxy() - add (or replace) the kernel's proxy neighbour entry for @addr on
 * @ifindex, tagged with protocol @proto, or delete it. With proxy_ndp on the link (and
 * forwarding), the kernel itself answers the link's NS for @addr with the link's own MAC:
 * what the ND proxy relays to a guest it has learned, answered without a trip through
 * user space.
 * Return: 0 (deleting one that is not there, or on a link that is gone, included) or a
 * negative errno.
 */
int route6_proxy(struct nl_sock *nl, bool add, int ifindex, const struct in6_addr *addr,
                 uint8_t proto, ErrBuf *err);

/*
 * route6_proxy_delete_proto() - delete every IPv6 proxy neighbour entry of protocol
 * @proto on one of @ifindexes (NULL: on any link).
 * @ret_n: how many went (may be NULL)
 * Return: 0 or a negative errno.
 */
int route6_proxy_delete_proto(struct nl_sock *nl, uint8_t proto, const int *ifindexes,
                              size_t n_ifindexes, unsigned *ret_n);
