/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The helper's nftables backend (libnftables, in process). The daemon owns `table inet
 * patchpanel` and touches nothing else: no other table, no base policy. Everything
 * per-guest is an element of a set or map, so the ruleset has a fixed number of rules and
 * adding a guest costs the same whether it is the first or the thousandth. Every request is
 * one atomic batch; commands are built only from validated fields.
 *
 *   map guest_mark  ifname -> fwmark  (SNAT bit | source) for packets from a guest link
 *   set guest_ifs   ifname            guest links: forwarded, and never masqueraded into
 */

#include <stdint.h>

#include "errbuf.h"

struct nft_ctx;

#define FW_TABLE "patchpanel"

int fw_open(struct nft_ctx **ret);
void fw_close(struct nft_ctx *nft);

/* Replace the daemon's tables with empty fresh ones in one transaction. */
int fw_tables_replace(struct nft_ctx *nft, ErrBuf *err);
/* Remove the daemon's tables; fine if they are absent. */
int fw_tables_remove(struct nft_ctx *nft, ErrBuf *err);

/* Forward and masquerade traffic from @ifname, and tag it with @mark. */
int fw_guest_add(struct nft_ctx *nft, const char *ifname, uint32_t mark, ErrBuf *err);
/* Undo fw_guest_add(); elements already gone are fine, any other failure is returned. */
int fw_guest_remove(struct nft_ctx *nft, const char *ifname, ErrBuf *err);
