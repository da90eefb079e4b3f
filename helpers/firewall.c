/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <nftables/libnftables.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "firewall.h"
#include "fwmark.h"
#include "ifname.h"
#include "json.h"
#include "log.h"
#include "macro.h"

/* The static ruleset; per-guest, per-uplink and per-rule data live in the sets and maps.
 * Where a chain depends on the configuration, fw_tables_replace() fills it in. */
static const char table_head[] =
        "table inet " FW_TABLE " {\n"
        "  map guest_mark { type ifname : mark; }\n"
        "  map guest_source { type ifname : verdict; }\n"
        "  set guest_ifs { type ifname; }\n"
        "  set guest_src4 { type ifname . ipv4_addr; flags interval; }\n"
        "  set guest_src6 { type ifname . ipv6_addr; flags interval; }\n"
        "  counter spoofed { }\n"
        "  set uplinks { type ifname; }\n"
        "  map uplink_post { type ifname : verdict; }\n"
        "  map arc_dnat { type ifname : ipv4_addr; }\n"
        "  set access { type ifname . inet_proto . inet_service; }\n"
        "  set access_any { type inet_proto . inet_service; }\n"
        "  map port_fwd { type ifname . inet_proto . inet_service : ipv4_addr . inet_service; }\n"
        "  map port_fwd_ip { type ifname . inet_proto . ipv4_addr . inet_service :"
        " ipv4_addr . inet_service; }\n"
        "  set lockdown { type inet_proto . inet_service; }\n"
        /* A guest link accepts only its own sources; the rest is counted and dropped
         * before conntrack sees it, whatever its destination (another guest, the host,
         * an uplink). */
        "  chain antispoof {\n"
        "    type filter hook prerouting priority raw; policy accept;\n"
        "    iifname != @guest_ifs accept\n"
        "    iifname . ip saddr != @guest_src4 counter name \"spoofed\" drop\n"
        "    iifname . ip6 saddr != @guest_src6 counter name \"spoofed\" drop\n"
        "  }\n"
        /* Neighbor Discovery from a guest to an address not the host's is the ND proxy's
         * to relay (ndproxyd reads it before this hook); the kernel must not route it on
         * (with hop limit 254 nobody accepts it), nor answer with redirects. */
        "  chain guest_nd {\n"
        "    type filter hook prerouting priority raw; policy accept;\n"
        "    iifname @guest_ifs icmpv6 type { nd-router-solicit, nd-router-advert,"
        " nd-neighbor-solicit, nd-neighbor-advert, nd-redirect }"
        " fib daddr type != { local, multicast } drop\n"
        "  }\n"
        /* A connection that comes in on an uplink is pinned to it, so that its answers
         * leave where it came in (whatever the default route, a VPN included). A guest's
         * packets carry their connection's mark; a new connection of the guest's gets the
         * guest link's mark; the first answer of one that came in from outside keeps its
         * pin and gets the guest's source. */
        "  chain prerouting {\n"
        "    type filter hook prerouting priority mangle; policy accept;\n"
        "    iifname @uplinks ct state new ct mark & 0xffff0000 == 0 iifname vmap @uplink_post\n"
        "    iifname @guest_ifs ct mark != 0 meta mark set ct mark\n"
        "    iifname @guest_ifs ct mark == 0 meta mark set iifname map @guest_mark\n"
        "    iifname @guest_ifs meta mark & 0x00003f00 == 0 iifname vmap @guest_source\n"
        "    iifname @guest_ifs ct mark & 0x00003f00 == 0 ct mark set meta mark\n"
        "  }\n"
        /* The host's own traffic: restore the connection's mark, which re-routes the packet
         * if it changed; else tag the source by the socket's owner (SYSTEM when there is
         * none), keeping the socket's VPN bits; then save it into the connection (its first
         * packet, or the first answer of an inbound one, whose pin the restored mark
         * carries; never from an ICMP error the host sends about someone else's
         * connection). */
        "  chain output {\n"
        "    type route hook output priority mangle; policy accept;\n"
        "    ct mark != 0 meta mark set ct mark\n"
        "    meta mark & 0x00003f00 == 0 meta skuid vmap @uid_source\n"
        "    meta mark & 0x00003f00 == 0 meta mark set meta mark | 0x%08x\n"
        "    ct state new,established ct mark & 0x00003f00 == 0 ct mark set meta mark\n"
        "  }\n"
        /* Only the allowed user reaches LOCKDOWN ports. */
        "  chain output_filter {\n"
        "    type filter hook output priority filter; policy accept;\n"
        "    oifname \"lo\" meta l4proto . th dport @lockdown meta skuid != %" PRIu32
        " meta l4proto tcp reject with tcp reset\n"
        "    oifname \"lo\" meta l4proto . th dport @lockdown meta skuid != %" PRIu32 " reject\n"
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
        /* Port forwards first: they win over ARC's catch-all. */
        "  chain prerouting_nat {\n"
        "    type nat hook prerouting priority dstnat; policy accept;\n"
        "    meta nfproto ipv4 dnat ip to iifname . meta l4proto . ip daddr . th dport map @port_fwd_ip\n"
        "    meta nfproto ipv4 dnat ip to iifname . meta l4proto . th dport map @port_fwd\n"
        "    iifname @arc_dnat socket transparent 0 accept\n"
        "    iifname @arc_dnat socket transparent 1 accept\n"
        "    meta l4proto { tcp, udp } dnat ip to iifname map @arc_dnat\n"
        "  }\n"
        "  chain postrouting_nat {\n"
        "    type nat hook postrouting priority srcnat; policy accept;\n"
        "    meta nfproto ipv4 meta mark & 0x00000001 == 0x00000001 oifname != @guest_ifs masquerade\n"
        "  }\n";

/* The ingress firewall: new inbound connections on uplinks, and on layer-3 links (tun,
 * wireguard: ARPHRD_NONE; ppp), only to ACCESS ports, and for what a host on a network
 * needs: ICMP (neighbour discovery, path MTU), IGMP (or snooping switches prune the host's
 * groups), mDNS (answers to multicast questions match no connection), SSDP to its group,
 * and the DHCP clients. A multicast mDNS or SSDP question sent from a port of its own (a
 * legacy mDNS query, an M-SEARCH: mcastd asks from the guest's port) gets its unicast
 * answers for 10 s: the port goes into mcast_askers as the question leaves (the answers
 * match no connection either, as the question went to a group). Loopback and guest links
 * are not guarded. */
static const char input_chain[] =
        "  set mcast_askers { type inet_service; flags dynamic,timeout; timeout 10s; }\n"
        "  chain output_mcast_askers {\n"
        "    type filter hook output priority filter; policy accept;\n"
        "    ip daddr { 224.0.0.251, 239.255.255.250 } udp dport { 5353, 1900 } "
        "udp sport != { 5353, 1900 } update @mcast_askers { udp sport }\n"
        "    ip6 daddr { ff02::fb, ff02::c } udp dport { 5353, 1900 } "
        "udp sport != { 5353, 1900 } update @mcast_askers { udp sport }\n"
        "  }\n"
        "  chain input {\n"
        "    type filter hook input priority filter; policy accept;\n"
        "    iifname != @uplinks meta iiftype != { ppp, 65534 } accept\n"
        "    ct state established,related accept\n"
        "    ct state invalid drop\n"
        "    meta l4proto { icmp, ipv6-icmp, igmp } accept\n"
        "    udp dport 5353 accept\n"
        "    udp dport 1900 meta pkttype multicast accept\n"
        "    udp sport { 5353, 1900 } udp dport @mcast_askers accept\n"
        "    meta nfproto ipv4 udp dport 68 accept\n"
        "    meta nfproto ipv6 udp dport 546 accept\n"
        "    meta l4proto . th dport @access_any accept\n"
        "    iifname . meta l4proto . th dport @access accept\n"
        "    drop\n"
        "  }\n";

/* ADB sideloading from Termina VMs (adb-proxy, reference §4.4): on the TAPs in
 * adb_sideload, new TCP connections to ARC's address port 5555 go to the host's loopback,
 * where adb-proxy listens (the TAP gets route_localnet, so that 127.0.0.1 is routable from
 * it). Before the port forwards, which never name a TAP. */
static const char adb_sideload_chain[] =
        "  set adb_sideload { type ifname; }\n"
        "  chain adb_sideload_nat {\n"
        "    type nat hook prerouting priority dstnat - 1; policy accept;\n"
        "    iifname @adb_sideload ip daddr %s tcp dport 5555 dnat ip to 127.0.0.1:5555\n"
        "  }\n";

/* The counters' table: created if missing, its sets (and their counters) kept if not. */
static const char acct_definition[] =
        "add table inet " FW_ACCT_TABLE "\n"
        "add set inet " FW_ACCT_TABLE " tx { type ifname . mark . nf_proto; flags dynamic;"
        " counter; size 65536; }\n"
        "add set inet " FW_ACCT_TABLE " rx { type ifname . mark . nf_proto; flags dynamic;"
        " counter; size 65536; }\n"
        "add set inet " FW_ACCT_TABLE " uplinks { type ifname; }\n"
        "flush set inet " FW_ACCT_TABLE " uplinks\n"
        "add chain inet " FW_ACCT_TABLE " postrouting { type filter hook postrouting priority 300;"
        " policy accept; }\n"
        "add chain inet " FW_ACCT_TABLE " input { type filter hook input priority 300;"
        " policy accept; }\n"
        "add chain inet " FW_ACCT_TABLE " forward { type filter hook forward priority 300;"
        " policy accept; }\n"
        "flush chain inet " FW_ACCT_TABLE " postrouting\n"
        "flush chain inet " FW_ACCT_TABLE " input\n"
        "flush chain inet " FW_ACCT_TABLE " forward\n"
        "add rule inet " FW_ACCT_TABLE " postrouting oifname @uplinks"
        " update @tx { oifname . meta mark & 0x00003f00 . meta nfproto }\n"
        "add rule inet " FW_ACCT_TABLE " input iifname @uplinks"
        " update @rx { iifname . ct mark & 0x00003f00 . meta nfproto }\n"
        "add rule inet " FW_ACCT_TABLE " forward iifname @uplinks"
        " update @rx { iifname . ct mark & 0x00003f00 . meta nfproto }\n";

/* What goes at stop: everything of the counters' table but the counters. */
static const char acct_removal[] =
        "flush chain inet " FW_ACCT_TABLE " postrouting\n"
        "flush chain inet " FW_ACCT_TABLE " input\n"
        "flush chain inet " FW_ACCT_TABLE " forward\n"
        "delete chain inet " FW_ACCT_TABLE " postrouting\n"
        "delete chain inet " FW_ACCT_TABLE " input\n"
        "delete chain inet " FW_ACCT_TABLE " forward\n"
        "delete set inet " FW_ACCT_TABLE " uplinks\n";

/* The sources of each guest link, as fw_batch_guest_add() put them in guest_src4, so that
 * fw_batch_guest_remove() can name the elements from the link's name alone. The helper has
 * one set of tables, and so one record; it starts empty with them. Looked up by a scan: a
 * few thousand guests at most, next to an nftables transaction per lookup. */
typedef struct FwGuestRecord {
        char ifname[IFNAMSIZ];
        FwGuestSources src;
        struct in6_addr src6[FW_GUEST_SOURCES6_MAX]; /* learned by the ND proxy */
        size_t n_src6;
} FwGuestRecord;

static struct {
        FwGuestRecord *v;
        size_t n, cap;
} fw_guests;

static FwGuestRecord *fw_guests_find(const char *ifname) {
        for (size_t i = 0; i < fw_guests.n; i++)
                if (strcmp(fw_guests.v[i].ifname, ifname) == 0)
                        return &fw_guests.v[i];
        return NULL;
}

/* Room for n more, so that recording a batch that was applied cannot fail. */
static int fw_guests_reserve(size_t n) {
        size_t want = fw_guests.cap ? fw_guests.cap : 64;
        FwGuestRecord *grown;

        while (want - fw_guests.n < n)
                want *= 2;
        if (want == fw_guests.cap)
                return 0;
        grown = reallocarray(fw_guests.v, want, sizeof *grown);
        if (!grown)
                return -ENOMEM;
        fw_guests.v = grown;
        fw_guests.cap = want;
        return 0;
}

static void fw_guests_put(const char *ifname, const FwGuestSources *src) {
        FwGuestRecord *g = fw_guests_find(ifname);

        if (!g) {
                assert(fw_guests.n < fw_guests.cap); /* fw_guests_reserve() came first */
                g = &fw_guests.v[fw_guests.n++];
                snprintf(g->ifname, sizeof g->ifname, "%s", ifname);
        }
        g->src = *src;
        g->n_src6 = 0;
}

static ssize_t fw_record_src6_index(const FwGuestRecord *g, const struct in6_addr *a) {
        for (size_t i = 0; i < g->n_src6; i++)
                if (memcmp(&g->src6[i], a, sizeof *a) == 0)
                        return (ssize_t) i;
        return -1;
}

const char *fw_guest_src6_owner(const struct in6_addr *addr) {
        for (size_t i = 0; i < fw_guests.n; i++)
                if (fw_record_src6_index(&fw_guests.v[i], addr) >= 0)
                        return fw_guests.v[i].ifname;
        return NULL;
}

static void fw_guests_drop(const char *ifname) {
        FwGuestRecord *g = fw_guests_find(ifname);

        if (g)
                *g = fw_guests.v[--fw_guests.n];
}

static void fw_guests_clear(bool release) {
        fw_guests.n = 0;
        if (release) {
                free(fw_guests.v);
                fw_guests.v = NULL;
                fw_guests.cap = 0;
        }
}

/* What an applied batch changed, into the record (after fw_guests_reserve()). */
static void fw_guests_apply(const FwBatch *b) {
        for (size_t i = 0; i < b->n_guests; i++) {
                if (b->guests[i].add)
                        fw_guests_put(b->guests[i].ifname, &b->guests[i].src);
                else
                        fw_guests_drop(b->guests[i].ifname);
        }
        for (size_t i = 0; i < b->n_src6; i++) {
                FwGuestRecord *g = fw_guests_find(b->src6[i].ifname);
                ssize_t k;
                struct in6_addr a;

                if (!g)
                        continue;
                memcpy(&a, b->src6[i].addr, sizeof a);
                k = fw_record_src6_index(g, &a);
                if (b->src6[i].add && k < 0 && g->n_src6 < FW_GUEST_SOURCES6_MAX)
                        g->src6[g->n_src6++] = a;
                else if (!b->src6[i].add && k >= 0)
                        g->src6[k] = g->src6[--g->n_src6];
        }
}

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
        fw_guests_clear(/* release= */ true);
}

/* Run one batch; on failure the first line of nft's error text goes into err, and
 * *ret_missing (if given) says whether it failed only because an object was not there.
 * The error text is read once: libnftables hands it out once, then "" until the next
 * error. */
static int fw_run_full(struct nft_ctx *nft, const char *cmd, const char *what, ErrBuf *err,
                       bool *ret_missing) {
        if (ret_missing)
                *ret_missing = false;
        if (nft_run_cmd_from_buffer(nft, cmd) == 0)
                return 0;

        const char *text = nft_ctx_get_error_buffer(nft);
        size_t n = text ? strcspn(text, "\n") : 0;
        if (ret_missing)
                *ret_missing = text && strstr(text, "No such file or directory");
        return errbuf_set(err, -EIO, "nftables refused to %s: %.*s", what, (int) n,
                          text ? text : "");
}

static int fw_run(struct nft_ctx *nft, const char *cmd, const char *what, ErrBuf *err) {
        return fw_run_full(nft, cmd, what, err, NULL);
}

/* Check a transaction, then apply it. */
static int fw_run_checked(struct nft_ctx *nft, const char *text, const char *what, ErrBuf *err) {
        int r;

        nft_ctx_set_dry_run(nft, true);
        r = fw_run(nft, text, what, err);
        nft_ctx_set_dry_run(nft, false);
        if (r >= 0)
                r = fw_run(nft, text, what, err);
        return r;
}

/* One chain per source, setting its bits and keeping the others (routing tag, VPN
 * intent), for the uid -> source map and guest_source; then the uid map. Every uid is
 * written as a number, which the helper's NSS stubs (nss-none.c) make nftables read as one. */
static void fw_print_sources(FILE *f, const SourceMap *map) {
        for (int s = 1; s < _TRAFFIC_SOURCE_MAX; s++)
                if (traffic_source_is_valid(s))
                        fprintf(f, "  chain source_%s { meta mark set meta mark & 0x%08x | 0x%08x; }\n",
                                traffic_source_to_string((TrafficSource) s), ~FWMARK_SOURCE_MASK,
                                fwmark_from_source((TrafficSource) s));
        fputs("  map uid_source { type uid : verdict; flags interval;", f);
        for (size_t i = 0; i < map->n; i++) {
                const UidRange *u = &map->ranges[i];
                fprintf(f, "%s %" PRIu32, i == 0 ? " elements = {" : ",", u->first);
                if (u->last != u->first)
                        fprintf(f, "-%" PRIu32, u->last);
                fprintf(f, " : jump source_%s", traffic_source_to_string(u->source));
        }
        fputs(map->n ? " }; }\n" : " }\n", f);
}

/* The whole transaction of fw_tables_replace(), starting the counters afresh if asked. */
static char *fw_tables_text(const FwConfig *config, bool reset_counters) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        if (!f)
                return NULL;
        /* "add" then "delete" makes the delete succeed whether or not an old table exists;
         * the new definition follows in the same transaction. */
        fprintf(f, "add table inet %s\ndelete table inet %s\n", FW_TABLE, FW_TABLE);
        fprintf(f, table_head, fwmark_from_source(TRAFFIC_SOURCE_SYSTEM), config->lockdown_uid,
                config->lockdown_uid);
        if (config->ingress_firewall)
                fputs(input_chain, f);
        if (config->arc_addr) {
                char a[IPV4_STRLEN];
                fprintf(f, adb_sideload_chain, ipv4_to_string(config->arc_addr, a));
        }
        fw_print_sources(f, &config->uid_sources);
        fputs("}\n", f);
        if (reset_counters)
                fprintf(f, "add table inet %s\ndelete table inet %s\n", FW_ACCT_TABLE,
                        FW_ACCT_TABLE);
        fputs(acct_definition, f);
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}

int fw_tables_replace(struct nft_ctx *nft, const FwConfig *config, ErrBuf *err) {
        const SourceMap *map = &config->uid_sources;
        _cleanup_free_ char *text = NULL, *retry = NULL;
        int r;

        if (source_map_validate(map->ranges, map->n) < 0 || config->lockdown_uid == UINT32_MAX)
                return errbuf_set(err, -EINVAL, "invalid uids for the host's sockets");
        text = fw_tables_text(config, false);
        if (!text)
                return errbuf_set(err, -ENOMEM, "out of memory for the tables");
        r = fw_run_checked(nft, text, "install the tables", err);
        if (r >= 0)
                fw_guests_clear(/* release= */ false); /* a table with no guest */
        if (r != -EIO)
                return r;
        /* A counters' table an earlier version left may not fit this one's definition:
         * better counters that start again than a daemon that cannot start. */
        retry = fw_tables_text(config, true);
        if (!retry || fw_run_checked(nft, retry, "install the tables", NULL) < 0)
                return r;
        fw_guests_clear(/* release= */ false);
        log_warning("The traffic counters left by an earlier version did not fit: they start again");
        return 0;
}

/* Run removals; if the batch fails because something is already gone, one at a time. */
static int fw_run_removal(struct nft_ctx *nft, const char *cmds, const char *what, ErrBuf *err) {
        char line[512];
        int r = 0;

        if (cmds[0] == '\0' || fw_run(nft, cmds, what, NULL) == 0)
                return 0;

        /* The batch is all or nothing: something was already gone. One command at a time. */
        for (const char *p = cmds; *p;) {
                size_t n = strcspn(p, "\n");
                if (n + 2 > sizeof line)
                        return errbuf_set(err, -EINVAL, "cannot %s: command too long", what);
                memcpy(line, p, n);
                line[n] = '\n';
                line[n + 1] = '\0';
                p += n + (p[n] == '\n');
                bool missing;

                if (fw_run_full(nft, line, what, r < 0 ? NULL : err, &missing) < 0 && !missing &&
                    r == 0)
                        r = -EIO;
        }
        return r;
}

int fw_tables_remove(struct nft_ctx *nft, ErrBuf *err) {
        int r = fw_run(nft, "add table inet " FW_TABLE "\ndelete table inet " FW_TABLE "\n",
                       "remove the tables", err);
        int k = fw_run_removal(nft, acct_removal, "remove the counters' chains", r < 0 ? NULL : err);
        if (r >= 0)
                fw_guests_clear(/* release= */ false);
        return r < 0 ? r : k;
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

/* Note a guest for the record, applied once the batch is. */
static void fw_batch_note_guest(FwBatch *b, const char *ifname, bool add,
                                const FwGuestSources *src) {
        if (b->invalid)
                return;
        if (b->n_guests >= ELEMENTSOF(b->guests)) {
                b->invalid = true;
                return;
        }
        snprintf(b->guests[b->n_guests].ifname, sizeof b->guests[b->n_guests].ifname, "%s",
                 ifname);
        b->guests[b->n_guests].add = add;
        b->guests[b->n_guests].src = src ? *src : (FwGuestSources) {};
        b->n_guests++;
}

/* The IPv6 sources every guest link has: link-local, and :: for duplicate address
 * detection (RFC 4862 5.4). */
static const char *const guest_src6_fixed[] = { "fe80::/64", "::" };

void fw_batch_guest_add(FwBatch *b, const char *ifname, uint32_t mark,
                        const FwGuestSources *src) {
        const char *source = traffic_source_to_string(fwmark_get_source(mark));
        char a[IPV4_STRLEN];

        if (!fw_batch_name_ok(b, ifname))
                return;
        if (!source || fwmark_get_source(mark) == TRAFFIC_SOURCE_UNKNOWN || !src ||
            src->n_v4 == 0 || src->n_v4 > ELEMENTSOF(src->v4)) {
                b->invalid = true;
                return;
        }
        for (size_t i = 0; i < src->n_v4; i++) {
                const Subnet *p = &src->v4[i];
                if (p->prefix_len < 1 || p->prefix_len > 32 ||
                    (p->base & ~ipv4_netmask(p->prefix_len)) != 0) {
                        b->invalid = true;
                        return;
                }
        }
        fw_batch_append(b, "add element inet %s guest_mark { \"%s\" : 0x%08x }\n"
                           "add element inet %s guest_source { \"%s\" : jump source_%s }\n"
                           "add element inet %s guest_ifs { \"%s\" }\n",
                        FW_TABLE, ifname, mark, FW_TABLE, ifname, source, FW_TABLE, ifname);
        for (size_t i = 0; i < src->n_v4; i++)
                fw_batch_append(b, "add element inet %s guest_src4 { \"%s\" . %s/%u }\n",
                                FW_TABLE, ifname, ipv4_to_string(src->v4[i].base, a),
                                src->v4[i].prefix_len);
        for (size_t i = 0; i < ELEMENTSOF(guest_src6_fixed); i++)
                fw_batch_append(b, "add element inet %s guest_src6 { \"%s\" . %s }\n", FW_TABLE,
                                ifname, guest_src6_fixed[i]);
        fw_batch_note_guest(b, ifname, /* add= */ true, src);
}

void fw_batch_guest_remove(FwBatch *b, const char *ifname) {
        const FwGuestRecord *g;
        char a[IPV4_STRLEN];

        if (!fw_batch_name_ok(b, ifname))
                return;
        /* One element a line: a removal that finds one missing goes on line by line. */
        fw_batch_append(b, "delete element inet %s guest_mark { \"%s\" }\n"
                           "delete element inet %s guest_source { \"%s\" }\n"
                           "delete element inet %s guest_ifs { \"%s\" }\n",
                        FW_TABLE, ifname, FW_TABLE, ifname, FW_TABLE, ifname);
        g = fw_guests_find(ifname);
        for (size_t i = 0; g && i < g->src.n_v4; i++)
                fw_batch_append(b, "delete element inet %s guest_src4 { \"%s\" . %s/%u }\n",
                                FW_TABLE, ifname, ipv4_to_string(g->src.v4[i].base, a),
                                g->src.v4[i].prefix_len);
        for (size_t i = 0; i < ELEMENTSOF(guest_src6_fixed); i++)
                fw_batch_append(b, "delete element inet %s guest_src6 { \"%s\" . %s }\n",
                                FW_TABLE, ifname, guest_src6_fixed[i]);
        for (size_t i = 0; g && i < g->n_src6; i++) {
                char a6[INET6_ADDRSTRLEN];
                fw_batch_append(b, "delete element inet %s guest_src6 { \"%s\" . %s }\n",
                                FW_TABLE, ifname, inet_ntop(AF_INET6, &g->src6[i], a6, sizeof a6));
        }
        fw_batch_note_guest(b, ifname, /* add= */ false, NULL);
}

void fw_batch_guest_src6(FwBatch *b, const char *ifname, const struct in6_addr *addr, bool add) {
        const FwGuestRecord *g;
        char a6[INET6_ADDRSTRLEN];

        if (!fw_batch_name_ok(b, ifname))
                return;
        g = fw_guests_find(ifname);
        if (!g || b->n_src6 >= ELEMENTSOF(b->src6) ||
            (add && fw_record_src6_index(g, addr) < 0 && g->n_src6 >= FW_GUEST_SOURCES6_MAX)) {
                b->invalid = true;
                return;
        }
        fw_batch_append(b, "%s element inet %s guest_src6 { \"%s\" . %s }\n",
                        add ? "add" : "delete", FW_TABLE, ifname,
                        inet_ntop(AF_INET6, addr, a6, sizeof a6));
        if (b->invalid)
                return;
        snprintf(b->src6[b->n_src6].ifname, sizeof b->src6[0].ifname, "%s", ifname);
        memcpy(b->src6[b->n_src6].addr, addr, sizeof b->src6[0].addr);
        b->src6[b->n_src6].add = add;
        b->n_src6++;
}

void fw_batch_uplink_add(FwBatch *b, const char *ifname, int ifindex, uint32_t tag) {
        if (!fw_batch_name_ok(b, ifname) || ifindex <= 0) {
                b->invalid = true;
                return;
        }
        fw_batch_append(b, "add chain inet %s uplink_%d\n"
                           "flush chain inet %s uplink_%d\n"
                           "add rule inet %s uplink_%d ct mark set ct mark & 0x0000ffff | 0x%08x\n"
                           "add element inet %s uplink_post { \"%s\" : jump uplink_%d }\n"
                           "add element inet %s uplinks { \"%s\" }\n"
                           "add element inet %s uplinks { \"%s\" }\n",
                        FW_TABLE, ifindex, FW_TABLE, ifindex, FW_TABLE, ifindex,
                        tag & FWMARK_ROUTING_MASK, FW_TABLE, ifname, ifindex, FW_TABLE, ifname,
                        FW_ACCT_TABLE, ifname);
}

void fw_batch_uplink_remove(FwBatch *b, const char *ifname, int ifindex) {
        if (!fw_batch_name_ok(b, ifname) || ifindex <= 0) {
                b->invalid = true;
                return;
        }
        /* A chain goes only once empty and no longer jumped to. */
        fw_batch_append(b, "delete element inet %s uplink_post { \"%s\" }\n"
                           "flush chain inet %s uplink_%d\n"
                           "delete chain inet %s uplink_%d\n"
                           "delete element inet %s uplinks { \"%s\" }\n"
                           "delete element inet %s uplinks { \"%s\" }\n",
                        FW_TABLE, ifname, FW_TABLE, ifindex, FW_TABLE, ifindex, FW_TABLE, ifname,
                        FW_ACCT_TABLE, ifname);
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

void fw_batch_adb_sideload(FwBatch *b, const char *tap, bool enable) {
        if (!fw_batch_name_ok(b, tap))
                return;
        fw_batch_append(b, "%s element inet %s adb_sideload { \"%s\" }\n",
                        enable ? "add" : "delete", FW_TABLE, tap);
}

int fw_guest_sources(const char *ifname, FwGuestSources *ret) {
        const FwGuestRecord *g = fw_guests_find(ifname);

        if (!g)
                return -ENOENT;
        *ret = g->src;
        return 0;
}

void fw_batch_port_rule(FwBatch *b, const PortRule *rule, bool create) {
        const PortRuleKey *k = &rule->key;
        const char *verb = create ? "add" : "delete";
        const char *proto = k->proto == PORT_PROTO_TCP ? "tcp" : "udp";
        char in[IPV4_STRLEN], out[IPV4_STRLEN], value[48] = "";

        if (k->proto != PORT_PROTO_TCP && k->proto != PORT_PROTO_UDP) {
                b->invalid = true;
                return;
        }
        switch (k->type) {
        case PORT_RULE_ACCESS:
                if (!k->ifname[0]) {
                        fw_batch_append(b, "%s element inet %s access_any { %s . %u }\n", verb,
                                        FW_TABLE, proto, k->port);
                        return;
                }
                if (!fw_batch_name_ok(b, k->ifname))
                        return;
                fw_batch_append(b, "%s element inet %s access { \"%s\" . %s . %u }\n", verb,
                                FW_TABLE, k->ifname, proto, k->port);
                return;
        case PORT_RULE_LOCKDOWN:
                fw_batch_append(b, "%s element inet %s lockdown { %s . %u }\n", verb, FW_TABLE,
                                proto, k->port);
                return;
        case PORT_RULE_FORWARDING:
                if (!fw_batch_name_ok(b, k->ifname))
                        return;
                if (create)
                        snprintf(value, sizeof value, " : %s . %u",
                                 ipv4_to_string(rule->dst_ip, out), rule->dst_port);
                if (k->input_dst_ip)
                        fw_batch_append(b, "%s element inet %s port_fwd_ip { \"%s\" . %s . %s . %u%s }\n",
                                        verb, FW_TABLE, k->ifname, proto,
                                        ipv4_to_string(k->input_dst_ip, in), k->port, value);
                else
                        fw_batch_append(b, "%s element inet %s port_fwd { \"%s\" . %s . %u%s }\n",
                                        verb, FW_TABLE, k->ifname, proto, k->port, value);
                return;
        default:
                b->invalid = true;
        }
}

int fw_batch_commit(struct nft_ctx *nft, const FwBatch *b, const char *what, ErrBuf *err) {
        int r;

        if (b->invalid)
                return errbuf_set(err, -EINVAL, "cannot %s: invalid field", what);
        if (b->len == 0)
                return 0;
        /* Without its record a guest's sources could not be removed: room first. */
        if (fw_guests_reserve(b->n_guests) < 0)
                return errbuf_set(err, -ENOMEM, "cannot %s: out of memory", what);
        r = fw_run(nft, b->buf, what, err);
        if (r < 0)
                return r;
        fw_guests_apply(b);
        return 0;
}

int fw_batch_commit_removal(struct nft_ctx *nft, const FwBatch *b, const char *what,
                            ErrBuf *err) {
        int r;

        if (b->invalid)
                return errbuf_set(err, -EINVAL, "cannot %s: invalid field", what);
        r = fw_run_removal(nft, b->buf, what, err);
        /* Kept when something may remain, to be removed by a later try. */
        if (r >= 0)
                fw_guests_apply(b);
        return r;
}

/* ---- reading the ruleset ----------------------------------------------------------------- */

/* Run a listing with JSON output and parse what it printed. */
static int fw_list_json(struct nft_ctx *nft, const char *cmd, const char *what, JsonValue **ret,
                        ErrBuf *err) {
        unsigned flags = nft_ctx_output_get_flags(nft);
        const char *text;
        int r;

        nft_ctx_output_set_flags(nft, flags | NFT_CTX_OUTPUT_JSON);
        r = fw_run(nft, cmd, what, err);
        nft_ctx_output_set_flags(nft, flags);
        if (r < 0)
                return r;
        text = nft_ctx_get_output_buffer(nft);
        r = json_parse(text ? text : "", ret);
        if (r < 0)
                return errbuf_set(err, r, "cannot %s: unreadable listing", what);
        return 0;
}

static const JsonValue *fw_json_items(const JsonValue *doc) {
        const JsonValue *items = json_get(doc, "nftables");
        return items && items->type == JSON_ARRAY ? items->child : NULL;
}

static bool ifname_wanted(const char *ifname, char *const *ifnames, size_t n) {
        if (n == 0)
                return true;
        for (size_t i = 0; i < n; i++)
                if (strcmp(ifnames[i], ifname) == 0)
                        return true;
        return false;
}

static int counter_cmp(const void *a, const void *b) {
        const FwCounter *x = a, *y = b;
        int c = strcmp(x->ifname, y->ifname);
        return c ? c : (x->source > y->source) - (x->source < y->source);
}

/* One element of tx or rx: {"elem": {"val": {"concat": [ifname, mark, family]},
 * "counter": {"packets": N, "bytes": N}}}. */
static int counter_from_elem(const JsonValue *e, FwCounter *c, uint64_t *packets,
                             uint64_t *bytes) {
        const JsonValue *elem = json_get(e, "elem"), *concat, *name, *mark;
        const JsonValue *counter = json_get(elem, "counter");
        uint64_t m;

        concat = json_get(json_get(elem, "val"), "concat");
        if (!concat || concat->type != JSON_ARRAY || !counter)
                return -EINVAL;
        name = concat->child;
        mark = name ? name->next : NULL;
        if (!name || name->type != JSON_STRING || strlen(name->string) >= sizeof c->ifname ||
            json_value_u64(mark, &m) < 0 || json_get_u64(counter, "packets", packets) < 0 ||
            json_get_u64(counter, "bytes", bytes) < 0)
                return -EINVAL;
        snprintf(c->ifname, sizeof c->ifname, "%s", name->string);
        c->source = (uint32_t) fwmark_get_source((uint32_t) m);
        return 0;
}

int fw_counters_read(struct nft_ctx *nft, char *const *ifnames, size_t n_ifnames,
                     FwCounter **ret, size_t *ret_n, ErrBuf *err) {
        _cleanup_(json_freep) JsonValue *doc = NULL;
        _cleanup_free_ FwCounter *all = NULL;
        size_t n = 0, cap = 0, k = 0;
        int r;

        r = fw_list_json(nft, "list table inet " FW_ACCT_TABLE "\n", "read the counters", &doc, err);
        if (r < 0)
                return r;

        /* Every element of both sets, then one entry per (ifname, source): the kernel keeps
         * IPv4 and IPv6 apart. */
        for (const JsonValue *item = fw_json_items(doc); item; item = item->next) {
                const JsonValue *set = json_get(item, "set"), *elems;
                const char *name = json_get_string(set, "name");
                bool tx = strcmp(name, "tx") == 0;

                if (!set || (!tx && strcmp(name, "rx") != 0))
                        continue;
                elems = json_get(set, "elem");
                for (const JsonValue *e = elems ? elems->child : NULL; e; e = e->next) {
                        FwCounter c = {};
                        uint64_t packets, bytes;

                        if (counter_from_elem(e, &c, &packets, &bytes) < 0)
                                return errbuf_set(err, -EINVAL, "cannot read the counters: "
                                                  "unexpected element in set %s", name);
                        if (!ifname_wanted(c.ifname, ifnames, n_ifnames))
                                continue;
                        if (tx) {
                                c.tx_packets = packets;
                                c.tx_bytes = bytes;
                        } else {
                                c.rx_packets = packets;
                                c.rx_bytes = bytes;
                        }
                        if (n == cap) {
                                size_t want = cap ? cap * 2 : 64;
                                FwCounter *grown = reallocarray(all, want, sizeof *all);
                                if (!grown)
                                        return errbuf_set(err, -ENOMEM, "out of memory for counters");
                                all = grown;
                                cap = want;
                        }
                        all[n++] = c;
                }
        }

        if (n > 0)
                qsort(all, n, sizeof *all, counter_cmp);
        for (size_t i = 0; i < n; i++) {
                if (k > 0 && counter_cmp(&all[k - 1], &all[i]) == 0) {
                        all[k - 1].rx_bytes += all[i].rx_bytes;
                        all[k - 1].rx_packets += all[i].rx_packets;
                        all[k - 1].tx_bytes += all[i].tx_bytes;
                        all[k - 1].tx_packets += all[i].tx_packets;
                } else
                        all[k++] = all[i];
        }
        *ret = TAKE_PTR(all);
        *ret_n = k;
        return 0;
}

static bool is_own_table(const char *family, const char *table) {
        return strcmp(family, "inet") == 0 &&
               (strcmp(table, FW_TABLE) == 0 || strcmp(table, FW_ACCT_TABLE) == 0);
}

int fw_foreign_drops(struct nft_ctx *nft, ForeignDrop *ret, size_t *ret_n, ErrBuf *err) {
        /* The hooks a guest's packets, or an inbound connection to an ACCESS port, cross. */
        static const char *const hooks[] = { "prerouting", "input", "forward", "postrouting" };
        _cleanup_(json_freep) JsonValue *doc = NULL;
        size_t n = 0;
        int r;

        r = fw_list_json(nft, "list chains\n", "list the chains", &doc, err);
        if (r < 0)
                return r;
        for (const JsonValue *item = fw_json_items(doc); item; item = item->next) {
                const JsonValue *chain = json_get(item, "chain");
                const char *family = json_get_string(chain, "family");
                const char *table = json_get_string(chain, "table");
                const char *hook = json_get_string(chain, "hook");
                bool wanted = false;

                if (!chain || strcmp(json_get_string(chain, "policy"), "drop") != 0 ||
                    is_own_table(family, table))
                        continue;
                if (strcmp(family, "ip") != 0 && strcmp(family, "ip6") != 0 &&
                    strcmp(family, "inet") != 0)
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(hooks); i++)
                        wanted = wanted || strcmp(hook, hooks[i]) == 0;
                if (!wanted || n >= FOREIGN_DROPS_MAX)
                        continue;
                foreign_drop_set(&ret[n++], family, table, json_get_string(chain, "name"), hook,
                                 (int) json_get_int(chain, "prio"));
        }
        *ret_n = n;
        return 0;
}
