/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The helper's nftables backend (libnftables, in process). The daemon owns `table inet
 * patchpanel` and touches nothing else: no other table, no base policy. Everything
 * per-guest or per-uplink is an element of a set or map (plus one small chain per uplink),
 * so the number of rules does not grow with guests and adding one costs the same whether
 * it is the first or the thousandth. Every request is one atomic batch, built only from
 * validated fields.
 *
 *   map guest_mark   ifname -> fwmark     mark of new connections from a guest link:
 *                                         SNAT bit | source | routing tag if pinned
 *   set guest_ifs    ifname               guest links: forwarded, never masqueraded into
 *   map uplink_post  ifname -> verdict    uplink -> chain uplink_<ifindex>, which writes
 *                                         the uplink's routing tag into the conntrack mark
 *                                         of new connections leaving through it (pinning)
 *   map arc_dnat     ifname -> ipv4_addr  uplink -> ARC's address behind it: inbound
 *                                         TCP/UDP not for a host socket goes to ARC
 *
 * Conntrack carries each connection's mark: set from the packet's mark when the connection
 * starts, it is restored onto every later packet of a guest's or the host's connection, so
 * a connection keeps its uplink when the default route moves.
 */

#include <stdbool.h>
#include <stddef.h>
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

/* A batch of commands, applied at once by fw_batch_commit(). */
typedef struct FwBatch {
        char buf[4096];
        size_t len;
        bool invalid; /* a field did not validate, or the batch overflowed */
} FwBatch;

/* Forward and masquerade traffic from @ifname, and mark its new connections with @mark. */
void fw_batch_guest_add(FwBatch *b, const char *ifname, uint32_t mark);
void fw_batch_guest_remove(FwBatch *b, const char *ifname);
/* Pin connections leaving through an uplink to it (conntrack mark = @tag). */
void fw_batch_uplink_add(FwBatch *b, const char *ifname, int ifindex, uint32_t tag);
void fw_batch_uplink_remove(FwBatch *b, const char *ifname, int ifindex);
/* Send inbound TCP/UDP on @uplink that no host socket wants to @addr (ARC). */
void fw_batch_arc_dnat_add(FwBatch *b, const char *uplink, uint32_t addr);
void fw_batch_arc_dnat_remove(FwBatch *b, const char *uplink);

/* Apply a batch atomically. */
int fw_batch_commit(struct nft_ctx *nft, const FwBatch *b, const char *what, ErrBuf *err);
/* Apply a batch of removals: if some object is already gone, remove the others one by one;
 * what is missing is fine, any other refusal is returned. */
int fw_batch_commit_removal(struct nft_ctx *nft, const FwBatch *b, const char *what,
                            ErrBuf *err);
