/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <nftables/libnftables.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "firewall.h"
#include "fwmark.h"
#include "ifname.h"
#include "macro.h"

/* The whole static ruleset. Per-guest and per-uplink data live in the sets and maps. */
static const char table_definition[] =
        "table inet " FW_TABLE " {\n"
        "  map guest_mark { type ifname : mark; }\n"
        "  set guest_ifs { type ifname; }\n"
        "  map uplink_post { type ifname : verdict; }\n"
        "  map arc_dnat { type ifname : ipv4_addr; }\n"
        "  chain prerouting {\n"
        "    type filter hook prerouting priority mangle; policy accept;\n"
        "    iifname @guest_ifs ct state established,related meta mark set ct mark\n"
        "    iifname @guest_ifs ct state new meta mark set iifname map @guest_mark\n"
        "    iifname @guest_ifs ct state new ct mark set meta mark\n"
        "  }\n"
        "  chain output {\n"
        "    type route hook output priority mangle; policy accept;\n"
        "    ct state established,related ct mark & 0xffff0000 != 0 meta mark set ct mark\n"
        "    ct state new ct mark set meta mark\n"
        "  }\n"
        "  chain postrouting {\n"
        "    type filter hook postrouting priority mangle; policy accept;\n"
        "    ct state new ct mark & 0xffff0000 == 0 oifname vmap @uplink_post\n"
        "  }\n"
        "  chain forward {\n"
        "    type filter hook forward priority filter; policy accept;\n"
        "    meta mark & 0x00000001 == 0x00000001 ct state invalid drop\n"
        "    iifname @guest_ifs accept\n"
        "    oifname @guest_ifs ct state established,related accept\n"
        "    oifname @guest_ifs ct status dnat accept\n"
        "  }\n"
        "  chain prerouting_nat {\n"
        "    type nat hook prerouting priority dstnat; policy accept;\n"
        "    iifname @arc_dnat socket transparent 0 accept\n"
        "    iifname @arc_dnat socket transparent 1 accept\n"
        "    meta l4proto { tcp, udp } dnat ip to iifname map @arc_dnat\n"
        "  }\n"
        "  chain postrouting_nat {\n"
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

/* Whether the last failed run failed only because an object was not there. */
static bool fw_error_is_missing(struct nft_ctx *nft) {
        const char *text = nft_ctx_get_error_buffer(nft);
        return text && strstr(text, "No such file or directory");
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

_printf_(2, 3) static void fw_batch_append(FwBatch *b, const char *format, ...) {
        va_list ap;
        int n;

        if (b->invalid)
                return;
        va_start(ap, format);
        n = vsnprintf(b->buf + b->len, sizeof b->buf - b->len, format, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= sizeof b->buf - b->len) {
                b->invalid = true;
                return;
        }
        b->len += (size_t) n;
}

/* Every name that reaches a command goes through here: quoted, and from a charset that
 * cannot end the quote. */
static bool fw_batch_name_ok(FwBatch *b, const char *ifname) {
        if (!ifname_is_valid(ifname))
                b->invalid = true;
        return !b->invalid;
}

void fw_batch_guest_add(FwBatch *b, const char *ifname, uint32_t mark) {
        if (!fw_batch_name_ok(b, ifname))
                return;
        fw_batch_append(b, "add element inet %s guest_mark { \"%s\" : 0x%08x }\n"
                           "add element inet %s guest_ifs { \"%s\" }\n",
                        FW_TABLE, ifname, mark, FW_TABLE, ifname);
}

void fw_batch_guest_remove(FwBatch *b, const char *ifname) {
        if (!fw_batch_name_ok(b, ifname))
                return;
        fw_batch_append(b, "delete element inet %s guest_mark { \"%s\" }\n"
                           "delete element inet %s guest_ifs { \"%s\" }\n",
                        FW_TABLE, ifname, FW_TABLE, ifname);
}

void fw_batch_uplink_add(FwBatch *b, const char *ifname, int ifindex, uint32_t tag) {
        if (!fw_batch_name_ok(b, ifname) || ifindex <= 0) {
                b->invalid = true;
                return;
        }
        fw_batch_append(b, "add chain inet %s uplink_%d\n"
                           "flush chain inet %s uplink_%d\n"
                           "add rule inet %s uplink_%d ct mark set ct mark & 0x0000ffff | 0x%08x\n"
                           "add element inet %s uplink_post { \"%s\" : jump uplink_%d }\n",
                        FW_TABLE, ifindex, FW_TABLE, ifindex, FW_TABLE, ifindex,
                        tag & FWMARK_ROUTING_MASK, FW_TABLE, ifname, ifindex);
}

void fw_batch_uplink_remove(FwBatch *b, const char *ifname, int ifindex) {
        if (!fw_batch_name_ok(b, ifname) || ifindex <= 0) {
                b->invalid = true;
                return;
        }
        /* A chain goes only once empty and no longer jumped to. */
        fw_batch_append(b, "delete element inet %s uplink_post { \"%s\" }\n"
                           "flush chain inet %s uplink_%d\n"
                           "delete chain inet %s uplink_%d\n",
                        FW_TABLE, ifname, FW_TABLE, ifindex, FW_TABLE, ifindex);
}

void fw_batch_arc_dnat_add(FwBatch *b, const char *uplink, uint32_t addr) {
        char a[IPV4_STRLEN];

        if (!fw_batch_name_ok(b, uplink))
                return;
        fw_batch_append(b, "add element inet %s arc_dnat { \"%s\" : %s }\n", FW_TABLE, uplink,
                        ipv4_to_string(addr, a));
}

void fw_batch_arc_dnat_remove(FwBatch *b, const char *uplink) {
        if (!fw_batch_name_ok(b, uplink))
                return;
        fw_batch_append(b, "delete element inet %s arc_dnat { \"%s\" }\n", FW_TABLE, uplink);
}

int fw_batch_commit(struct nft_ctx *nft, const FwBatch *b, const char *what, ErrBuf *err) {
        if (b->invalid)
                return errbuf_set(err, -EINVAL, "cannot %s: invalid field", what);
        if (b->len == 0)
                return 0;
        return fw_run(nft, b->buf, what, err);
}

int fw_batch_commit_removal(struct nft_ctx *nft, const FwBatch *b, const char *what,
                            ErrBuf *err) {
        char line[512];
        int r = 0;

        if (b->invalid)
                return errbuf_set(err, -EINVAL, "cannot %s: invalid field", what);
        if (b->len == 0 || fw_run(nft, b->buf, what, NULL) == 0)
                return 0;

        /* The batch is all or nothing: something was already gone. One command at a time. */
        for (const char *p = b->buf; *p;) {
                size_t n = strcspn(p, "\n");
                if (n + 2 > sizeof line)
                        return errbuf_set(err, -EINVAL, "cannot %s: command too long", what);
                memcpy(line, p, n);
                line[n] = '\n';
                line[n + 1] = '\0';
                p += n + (p[n] == '\n');
                if (fw_run(nft, line, what, r < 0 ? NULL : err) < 0 && !fw_error_is_missing(nft) &&
                    r == 0)
                        r = -EIO;
        }
        return r;
}
