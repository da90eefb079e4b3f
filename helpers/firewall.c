/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <nftables/libnftables.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "firewall.h"
#include "fwmark.h"
#include "ifname.h"
#include "macro.h"

/* The whole static ruleset. Per-guest data lives only in the sets and maps. */
static const char table_definition[] =
        "table inet " FW_TABLE " {\n"
        "  map guest_mark { type ifname : mark; }\n"
        "  set guest_ifs { type ifname; }\n"
        "  chain prerouting {\n"
        "    type filter hook prerouting priority mangle; policy accept;\n"
        "    meta mark set iifname map @guest_mark\n"
        "  }\n"
        "  chain forward {\n"
        "    type filter hook forward priority filter; policy accept;\n"
        "    meta mark & 0x00000001 == 0x00000001 ct state invalid drop\n"
        "    iifname @guest_ifs accept\n"
        "    oifname @guest_ifs ct state established,related accept\n"
        "  }\n"
        "  chain postrouting {\n"
        "    type nat hook postrouting priority srcnat; policy accept;\n"
        "    meta nfproto ipv4 meta mark & 0x00000001 == 0x00000001 oifname != @guest_ifs masquerade\n"
        "  }\n"
        "}\n";

int fw_open(struct nft_ctx **ret) {
        struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);

        if (!nft)
                return -ENOMEM;
        /* No file is ever read: commands come only from this file's builders. */
        nft_ctx_clear_include_paths(nft);
        if (nft_ctx_buffer_output(nft) < 0 || nft_ctx_buffer_error(nft) < 0) {
                nft_ctx_free(nft);
                return -ENOMEM;
        }
        *ret = nft;
        return 0;
}

void fw_close(struct nft_ctx *nft) {
        if (nft)
                nft_ctx_free(nft);
}

/* Run one batch; on failure the first line of nft's error text goes into err. */
static int fw_run(struct nft_ctx *nft, const char *cmd, const char *what, ErrBuf *err) {
        if (nft_run_cmd_from_buffer(nft, cmd) == 0)
                return 0;

        const char *text = nft_ctx_get_error_buffer(nft);
        size_t n = text ? strcspn(text, "\n") : 0;
        return errbuf_set(err, -EIO, "nftables refused to %s: %.*s", what, (int) n,
                          text ? text : "");
}

int fw_tables_replace(struct nft_ctx *nft, ErrBuf *err) {
        char cmd[sizeof table_definition + 128];
        int r;

        /* "add" then "delete" makes the delete succeed whether or not an old table exists;
         * the new definition follows in the same transaction. */
        snprintf(cmd, sizeof cmd, "add table inet %s\ndelete table inet %s\n%s", FW_TABLE,
                 FW_TABLE, table_definition);

        nft_ctx_set_dry_run(nft, true);
        r = fw_run(nft, cmd, "check the tables", err);
        nft_ctx_set_dry_run(nft, false);
        if (r < 0)
                return r;
        return fw_run(nft, cmd, "install the tables", err);
}

int fw_tables_remove(struct nft_ctx *nft, ErrBuf *err) {
        return fw_run(nft, "add table inet " FW_TABLE "\ndelete table inet " FW_TABLE "\n",
                      "remove the tables", err);
}

int fw_guest_add(struct nft_ctx *nft, const char *ifname, uint32_t mark, ErrBuf *err) {
        char cmd[256];

        if (!ifname_is_valid(ifname))
                return errbuf_set(err, -EINVAL, "invalid interface name");
        snprintf(cmd, sizeof cmd,
                 "add element inet %s guest_mark { \"%s\" : 0x%08x }\n"
                 "add element inet %s guest_ifs { \"%s\" }\n",
                 FW_TABLE, ifname, mark, FW_TABLE, ifname);
        return fw_run(nft, cmd, "add the guest", err);
}

/* Whether the last failed run failed only because an element was not there. */
static bool fw_error_is_missing(struct nft_ctx *nft) {
        const char *text = nft_ctx_get_error_buffer(nft);
        return text && strstr(text, "No such file or directory");
}

int fw_guest_remove(struct nft_ctx *nft, const char *ifname, ErrBuf *err) {
        static const char *const sets[] = { "guest_mark", "guest_ifs" };
        char cmd[256];
        int r = 0;

        if (!ifname_is_valid(ifname))
                return errbuf_set(err, -EINVAL, "invalid interface name");
        snprintf(cmd, sizeof cmd,
                 "delete element inet %s guest_mark { \"%s\" }\n"
                 "delete element inet %s guest_ifs { \"%s\" }\n",
                 FW_TABLE, ifname, FW_TABLE, ifname);
        if (fw_run(nft, cmd, "remove the guest", NULL) == 0)
                return 0;

        /* The batch is all or nothing: if some element was already gone, remove the others
         * one at a time. Missing ones are fine; any other refusal is reported. */
        for (size_t i = 0; i < ELEMENTSOF(sets); i++) {
                snprintf(cmd, sizeof cmd, "delete element inet %s %s { \"%s\" }\n", FW_TABLE,
                         sets[i], ifname);
                if (fw_run(nft, cmd, "remove the guest", r < 0 ? NULL : err) < 0 &&
                    !fw_error_is_missing(nft) && r == 0)
                        r = -EIO;
        }
        return r;
}
