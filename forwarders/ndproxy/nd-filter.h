/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* The classic BPF program of ndproxyd's packet socket (nd-socket.h says what it keeps),
 * built here, without a system call, so that it can be tested frame by frame. */

#include <linux/filter.h>
#include <stddef.h>

#include "nd-proxy.h"

/* Kernel-answered addresses the filter keeps away at most (11 instructions each; the
 * kernel takes 4096 in all); NS for any further ones reach the proxy, which relays them. */
#define ND_FILTER_SKIPS_MAX 256
#define ND_FILTER_LEN_MAX (26 + 11 * ND_FILTER_SKIPS_MAX)

/*
 * nd_filter_build() - the socket's classic BPF program (see above), keeping away the NS
 * for @skips (the first ND_FILTER_SKIPS_MAX). Pure: no system call.
 * @skips: the kernel-answered addresses and their uplinks
 * @n: how many
 * @ret: room for ND_FILTER_LEN_MAX instructions
 *
 * Return: the number of instructions.
 */
size_t nd_filter_build(const NdKernelAnswered *skips, size_t n, struct sock_filter *ret);
