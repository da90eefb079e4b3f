/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* libnl glue: cleanup bindings, one line per type, and libnl errors as errno values. */

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

#include "macro.h"
#include "rtnl.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_sock *, nl_socket_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_addr *, nl_addr_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cache *, nl_cache_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_msg *, nlmsg_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_link *, rtnl_link_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_addr *, rtnl_addr_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_route *, rtnl_route_put);

/* A negative libnl error code (-NLE_*) as a negative errno. */
int nlerr_to_errno(int nlerr);

/* An AF_INET nl_addr for a host-order address with a prefix length. */
struct nl_addr *nl_addr_ipv4(uint32_t addr, unsigned prefix_len);

