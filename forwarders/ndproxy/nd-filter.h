/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* The classic BPF program of ndproxyd's packet socket (nd-socket.h says what it keeps),
 * built here, without a system call, so that it can be tested frame by frame. */

#include <linux/filter.h>
#include <stddef.h>

#include "nd-proxy.h"

/* Kernel-answered addresses (11 instructions each) and host addresses (9 each) the filter
 * holds at most, the kernel taking 4096 instructions in all; frames for any further ones
 * reach the proxy, which deals with them as before. */
#define ND_FILTER_SKIPS_MAX 256
#define ND_FILTER_HOSTS_MAX 64
#define ND_FILTER_LEN_MAX (16 + 10 + 11 * ND_FILTER_SKIPS_MAX + 1 + 11 + 9 * ND_FILTER_HOSTS_MAX + 1)

/*
 * nd_filter_build() - the socket's classic BPF program (nd-socket.h), keeping away the NS
 * for @skips and the NA to @hosts (the first ND_FILTER_SKIPS_MAX and ND_FILTER_HOSTS_MAX).
 * Pure: no system call.
 * @skips: the kernel-answered addresses and their uplinks
 * @n_skips: how many
 * @hosts: the host's own addresses
 * @n_hosts: how many
 * @ret: room for ND_FILTER_LEN_MAX instructions
 *
 * Return: the number of instructions.
 */
size_t nd_filter_build(const NdKernelAnswered *skips, size_t n_skips,
                       const struct in6_addr *hosts, size_t n_hosts, struct sock_filter *ret);
