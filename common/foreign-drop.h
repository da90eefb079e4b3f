/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * A base chain of another table that drops by default at a hook guests' traffic (or an
 * inbound connection to an ACCESS port) crosses: found by the helper in the ruleset,
 * reported to the manager, which logs it with a fix and shows it in the status. Names are
 * escaped to printable ASCII (common/proto-check.h's str_escape()): they come from whoever
 * wrote that table.
 */

#define FOREIGN_DROP_NAME_MAX 256 /* nftables' NFT_NAME_MAXLEN */
#define FOREIGN_DROPS_MAX 32u

typedef struct ForeignDrop {
        char family[8];
        char table[FOREIGN_DROP_NAME_MAX];
        char chain[FOREIGN_DROP_NAME_MAX];
        char hook[16];
        int priority;
} ForeignDrop;

/* Fill d from strings, escaped. */
void foreign_drop_set(ForeignDrop *d, const char *family, const char *table, const char *chain,
                      const char *hook, int priority);
