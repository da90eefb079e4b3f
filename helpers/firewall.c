/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "firewall.h"
#include "fwmark.h"
#include "ifname.h"
#include "json.h"
#include "log.h"
#include "macro.h"
#include "nft-msg.h"
#include "rtnl.h"

/* The static ruleset; per-guest, per-uplink and per-rule data live in the sets and maps.
 * Where a chain depends on the configuration, fw_tables_replace() fills it in. */
static const char table_head[] =
        "table inet " FW_TABLE " {\n"
        "  map guest_mark { type ifname : mark; }\n"
        "  map guest_source { type ifname : verdict; }\n"
        "  set guest_ifs { type ifname; }\n"
        "  set guest_src4 { type ifname . ipv4_addr; }\n"
        "  set guest_net4 { type ifname . ipv4_addr; flags interval; }\n"
        "  set guest_src6 { type ifname . ipv6_addr; }\n"
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
         * an uplink). Every guest link may send from fe80::/64 and from :: (duplicate
         * address detection, RFC 4862 5.4): one rule for all, not elements per guest. */
        "  chain antispoof {\n"
        "    type filter hook prerouting priority raw; policy accept;\n"
        "    iifname != @guest_ifs accept\n"
        "    iifname . ip saddr @guest_src4 accept\n"
        "    iifname . ip saddr @guest_net4 accept\n"
        "    meta nfproto ipv4 counter name \"spoofed\" drop\n"
        "    ip6 saddr { fe80::/64, :: } accept\n"
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

/* ---- the backend ------------------------------------------------------------------------- */

/* Room for the largest batch: a message of ~200 bytes per operation. */
#define FW_NL_SEND_SIZE (FW_BATCH_OPS_MAX * 256 + 1024)
/* A dump's parts are at most 32 KiB (the kernel's largest for a reader this size). */
#define FW_NL_RECV_SIZE 65536
/* Every ack of the largest batch, with the kernel's overhead per message. */
#define FW_NL_RCVBUF (4 << 20)
/* How long the kernel may take to answer (it answers within the send; this is a guard). */
#define FW_NL_TIMEOUT_MS 5000

struct Fw {
        struct nft_ctx *nft;   /* libnftables: the tables at start and stop, foreign drops */
        int fd;                /* nfnetlink, in the namespace fw_open() ran in */
        uint32_t seq;          /* the next message's sequence number */
        uint8_t *send_buf;     /* FW_NL_SEND_SIZE */
        uint8_t *recv_buf;     /* FW_NL_RECV_SIZE */
};

static int fw_nl_open(Fw *fw) {
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        int one = 1, size = FW_NL_RCVBUF;

        fw->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
        if (fw->fd < 0)
                return -errno;
        if (bind(fw->fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return -errno;
        /* Acks and errors carry only the header of the message they answer. */
        (void) setsockopt(fw->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
        /* Room for every ack of the largest batch: the helper has CAP_NET_ADMIN. */
        if (setsockopt(fw->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
                (void) setsockopt(fw->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        fw->seq = (uint32_t) time(NULL);
        return 0;
}

int fw_open(Fw **ret) {
        _cleanup_free_ Fw *fw = calloc(1, sizeof *fw);
        int r;

        if (!fw)
                return -ENOMEM;
        fw->fd = -EBADF;
        fw->send_buf = malloc(FW_NL_SEND_SIZE);
        fw->recv_buf = malloc(FW_NL_RECV_SIZE);
        fw->nft = nft_ctx_new(NFT_CTX_DEFAULT);
        if (!fw->send_buf || !fw->recv_buf || !fw->nft) {
                r = -ENOMEM;
                goto fail;
        }
        /* No file is ever read: commands come only from this file's builders. */
        nft_ctx_clear_include_paths(fw->nft);
        if (nft_ctx_buffer_output(fw->nft) < 0 || nft_ctx_buffer_error(fw->nft) < 0) {
                r = -ENOMEM;
                goto fail;
        }
        r = fw_nl_open(fw);
        if (r < 0)
                goto fail;
        *ret = TAKE_PTR(fw);
        return 0;
fail:
        fw_close(TAKE_PTR(fw));
        return r;
}

void fw_close(Fw *fw) {
        fw_guests_clear(/* release= */ true);
        if (!fw)
                return;
        if (fw->nft)
                nft_ctx_free(fw->nft);
        if (fw->fd >= 0)
                close(fw->fd);
        free(fw->send_buf);
        free(fw->recv_buf);
        free(fw);
}

/* ---- libnftables: the tables at start and stop ------------------------------------------ */

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

int fw_tables_replace(Fw *fw, const FwConfig *config, ErrBuf *err) {
        struct nft_ctx *nft = fw->nft;
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

int fw_tables_remove(Fw *fw, ErrBuf *err) {
        struct nft_ctx *nft = fw->nft;
        int r = fw_run(nft, "add table inet " FW_TABLE "\ndelete table inet " FW_TABLE "\n",
                       "remove the tables", err);
        int k = fw_run_removal(nft, acct_removal, "remove the counters' chains", r < 0 ? NULL : err);
        if (r >= 0)
                fw_guests_clear(/* release= */ false);
        return r < 0 ? r : k;
}

/* ---- batches: typed operations ----------------------------------------------------------- */

/* The sets and maps a batch may change, with their layouts, as the tables define them. */
static const struct {
        const char *table, *name;
        uint8_t key_len;   /* bytes, in the register layout */
        uint8_t data_len;  /* a map's value; 0: none */
        bool verdict;      /* a verdict map (jump) */
        bool interval;     /* elements have a key end */
} fw_sets[_FW_SET_MAX] = {
        [FW_SET_GUEST_MARK] = { FW_TABLE, "guest_mark", 16, 4 },
        [FW_SET_GUEST_SOURCE] = { FW_TABLE, "guest_source", 16, 0, .verdict = true },
        [FW_SET_GUEST_IFS] = { FW_TABLE, "guest_ifs", 16, 0 },
        [FW_SET_GUEST_SRC4] = { FW_TABLE, "guest_src4", 16 + 4, 0 },
        [FW_SET_GUEST_NET4] = { FW_TABLE, "guest_net4", 16 + 4, 0, .interval = true },
        [FW_SET_GUEST_SRC6] = { FW_TABLE, "guest_src6", 16 + 16, 0 },
        [FW_SET_UPLINKS] = { FW_TABLE, "uplinks", 16, 0 },
        [FW_SET_UPLINK_POST] = { FW_TABLE, "uplink_post", 16, 0, .verdict = true },
        [FW_SET_ARC_DNAT] = { FW_TABLE, "arc_dnat", 16, 4 },
        [FW_SET_ACCESS] = { FW_TABLE, "access", 16 + 4 + 4, 0 },
        [FW_SET_ACCESS_ANY] = { FW_TABLE, "access_any", 4 + 4, 0 },
        [FW_SET_PORT_FWD] = { FW_TABLE, "port_fwd", 16 + 4 + 4, 8 },
        [FW_SET_PORT_FWD_IP] = { FW_TABLE, "port_fwd_ip", 16 + 4 + 4 + 4, 8 },
        [FW_SET_LOCKDOWN] = { FW_TABLE, "lockdown", 4 + 4, 0 },
        [FW_SET_ADB_SIDELOAD] = { FW_TABLE, "adb_sideload", 16, 0 },
        [FW_SET_ACCT_UPLINKS] = { FW_ACCT_TABLE, "uplinks", 16, 0 },
};

const char *fw_set_to_string(FwSet s) {
        return s >= 0 && s < _FW_SET_MAX ? fw_sets[s].name : NULL;
}

static const char *const fw_op_type_table[_FW_OP_TYPE_MAX] = {
        [FW_OP_ELEM_ADD] = "add element",
        [FW_OP_ELEM_DELETE] = "delete element",
        [FW_OP_CHAIN_ADD] = "add chain",
        [FW_OP_CHAIN_FLUSH] = "flush chain",
        [FW_OP_CHAIN_DELETE] = "delete chain",
        [FW_OP_RULE_CT_MARK] = "add rule",
};

const char *fw_op_type_to_string(FwOpType t) {
        return t >= 0 && t < _FW_OP_TYPE_MAX ? fw_op_type_table[t] : NULL;
}

/* "add element to uplinks of patchpanel_acct", "flush chain uplink_3": what the kernel
 * refused, for the error text. */
static void fw_op_describe(const FwOp *op, char *buf, size_t size) {
        const char *verb = fw_op_type_to_string(op->type);

        if (op->type == FW_OP_ELEM_ADD || op->type == FW_OP_ELEM_DELETE)
                snprintf(buf, size, "%s %s %s of %s", verb,
                         op->type == FW_OP_ELEM_ADD ? "to" : "from", fw_sets[op->set].name,
                         fw_sets[op->set].table);
        else
                snprintf(buf, size, "%s %s", verb, op->chain);
}

/* A new operation at the end of the batch, or NULL (and the batch invalid) when full. */
static FwOp *fw_batch_op(FwBatch *b, FwOpType type) {
        FwOp *op;

        if (b->invalid)
                return NULL;
        if (b->n_ops >= ELEMENTSOF(b->ops)) {
                b->invalid = true;
                return NULL;
        }
        op = &b->ops[b->n_ops++];
        memset(op, 0, sizeof *op);
        op->type = type;
        return op;
}

/* An element operation; its key is filled in by the caller with the fw_key_*() below. */
static NftElem *fw_batch_elem(FwBatch *b, bool add, FwSet set) {
        FwOp *op = fw_batch_op(b, add ? FW_OP_ELEM_ADD : FW_OP_ELEM_DELETE);

        if (!op)
                return NULL;
        op->set = set;
        return &op->elem;
}

static void fw_key_ifname(NftElem *e, const char *name) {
        e->key_len = (uint8_t) (e->key_len + nft_key_ifname(e->key + e->key_len, name));
}

static void fw_key_ipv4(NftElem *e, uint32_t addr) {
        e->key_len = (uint8_t) (e->key_len + nft_key_ipv4(e->key + e->key_len, addr));
}

static void fw_key_ipv6(NftElem *e, const uint8_t addr[16]) {
        e->key_len = (uint8_t) (e->key_len + nft_key_ipv6(e->key + e->key_len, addr));
}

static void fw_key_proto(NftElem *e, uint8_t proto) {
        e->key_len = (uint8_t) (e->key_len + nft_key_proto(e->key + e->key_len, proto));
}

static void fw_key_port(NftElem *e, uint16_t port) {
        e->key_len = (uint8_t) (e->key_len + nft_key_port(e->key + e->key_len, port));
}

static void fw_chain_op(FwBatch *b, FwOpType type, int ifindex, uint32_t value) {
        FwOp *op = fw_batch_op(b, type);

        if (!op)
                return;
        snprintf(op->chain, sizeof op->chain, "uplink_%d", ifindex);
        op->value = value;
}

/* Every name that reaches a key goes through here: an interface name, so that it fits
 * the key (IFNAMSIZ with its NUL) and names what it should. */
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

/* One IPv4 source of a guest link: a /32 in the exact set, a prefix in the interval one
 * (from its first address to its last). */
static void fw_batch_guest_src4(FwBatch *b, bool add, const char *ifname, const Subnet *p) {
        NftElem *e = fw_batch_elem(b, add, p->prefix_len == 32 ? FW_SET_GUEST_SRC4
                                                                : FW_SET_GUEST_NET4);

        if (!e)
                return;
        fw_key_ifname(e, ifname);
        fw_key_ipv4(e, p->base);
        if (p->prefix_len == 32)
                return;
        e->key_end_len = (uint8_t) nft_key_ifname(e->key_end, ifname);
        e->key_end_len = (uint8_t) (e->key_end_len +
                                    nft_key_ipv4(e->key_end + e->key_end_len,
                                                 p->base | ~ipv4_netmask(p->prefix_len)));
}

static void fw_batch_guest_src6_elem(FwBatch *b, bool add, const char *ifname,
                                     const struct in6_addr *a) {
        NftElem *e = fw_batch_elem(b, add, FW_SET_GUEST_SRC6);

        if (!e)
                return;
        fw_key_ifname(e, ifname);
        fw_key_ipv6(e, a->s6_addr);
}

void fw_batch_guest_add(FwBatch *b, const char *ifname, uint32_t mark,
                        const FwGuestSources *src) {
        const char *source = traffic_source_to_string(fwmark_get_source(mark));
        NftElem *e;

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
        e = fw_batch_elem(b, /* add= */ true, FW_SET_GUEST_MARK);
        if (e) {
                fw_key_ifname(e, ifname);
                e->data_len = (uint8_t) nft_key_u32_host(e->data, mark);
        }
        e = fw_batch_elem(b, /* add= */ true, FW_SET_GUEST_SOURCE);
        if (e) {
                fw_key_ifname(e, ifname);
                snprintf(e->jump, sizeof e->jump, "source_%s", source);
        }
        e = fw_batch_elem(b, /* add= */ true, FW_SET_GUEST_IFS);
        if (e)
                fw_key_ifname(e, ifname);
        for (size_t i = 0; i < src->n_v4; i++)
                fw_batch_guest_src4(b, /* add= */ true, ifname, &src->v4[i]);
        fw_batch_note_guest(b, ifname, /* add= */ true, src);
}

void fw_batch_guest_remove(FwBatch *b, const char *ifname) {
        static const FwSet sets[] = { FW_SET_GUEST_MARK, FW_SET_GUEST_SOURCE, FW_SET_GUEST_IFS };
        const FwGuestRecord *g;

        if (!fw_batch_name_ok(b, ifname))
                return;
        /* One element a message: a removal that finds one missing goes on without it. */
        for (size_t i = 0; i < ELEMENTSOF(sets); i++) {
                NftElem *e = fw_batch_elem(b, /* add= */ false, sets[i]);
                if (e)
                        fw_key_ifname(e, ifname);
        }
        g = fw_guests_find(ifname);
        for (size_t i = 0; g && i < g->src.n_v4; i++)
                fw_batch_guest_src4(b, /* add= */ false, ifname, &g->src.v4[i]);
        for (size_t i = 0; g && i < g->n_src6; i++)
                fw_batch_guest_src6_elem(b, /* add= */ false, ifname, &g->src6[i]);
        fw_batch_note_guest(b, ifname, /* add= */ false, NULL);
}

void fw_batch_guest_src6(FwBatch *b, const char *ifname, const struct in6_addr *addr, bool add) {
        const FwGuestRecord *g;

        if (!fw_batch_name_ok(b, ifname))
                return;
        g = fw_guests_find(ifname);
        if (!g || b->n_src6 >= ELEMENTSOF(b->src6) ||
            (add && fw_record_src6_index(g, addr) < 0 && g->n_src6 >= FW_GUEST_SOURCES6_MAX)) {
                b->invalid = true;
                return;
        }
        fw_batch_guest_src6_elem(b, add, ifname, addr);
        if (b->invalid)
                return;
        snprintf(b->src6[b->n_src6].ifname, sizeof b->src6[0].ifname, "%s", ifname);
        memcpy(b->src6[b->n_src6].addr, addr, sizeof b->src6[0].addr);
        b->src6[b->n_src6].add = add;
        b->n_src6++;
}

/* An element keyed by an interface name alone, added or deleted. */
static NftElem *fw_batch_ifname_elem(FwBatch *b, bool add, FwSet set, const char *ifname) {
        NftElem *e = fw_batch_elem(b, add, set);

        if (e)
                fw_key_ifname(e, ifname);
        return e;
}

void fw_batch_uplink_add(FwBatch *b, const char *ifname, int ifindex, uint32_t tag) {
        NftElem *e;

        if (!fw_batch_name_ok(b, ifname) || ifindex <= 0) {
                b->invalid = true;
                return;
        }
        fw_chain_op(b, FW_OP_CHAIN_ADD, ifindex, 0);
        fw_chain_op(b, FW_OP_CHAIN_FLUSH, ifindex, 0);
        fw_chain_op(b, FW_OP_RULE_CT_MARK, ifindex, tag & FWMARK_ROUTING_MASK);
        e = fw_batch_ifname_elem(b, /* add= */ true, FW_SET_UPLINK_POST, ifname);
        if (e)
                snprintf(e->jump, sizeof e->jump, "uplink_%d", ifindex);
        fw_batch_ifname_elem(b, /* add= */ true, FW_SET_UPLINKS, ifname);
        fw_batch_ifname_elem(b, /* add= */ true, FW_SET_ACCT_UPLINKS, ifname);
}

void fw_batch_uplink_remove(FwBatch *b, const char *ifname, int ifindex) {
        if (!fw_batch_name_ok(b, ifname) || ifindex <= 0) {
                b->invalid = true;
                return;
        }
        /* A chain goes only once empty and no longer jumped to. */
        fw_batch_ifname_elem(b, /* add= */ false, FW_SET_UPLINK_POST, ifname);
        fw_chain_op(b, FW_OP_CHAIN_FLUSH, ifindex, 0);
        fw_chain_op(b, FW_OP_CHAIN_DELETE, ifindex, 0);
        fw_batch_ifname_elem(b, /* add= */ false, FW_SET_UPLINKS, ifname);
        fw_batch_ifname_elem(b, /* add= */ false, FW_SET_ACCT_UPLINKS, ifname);
}

void fw_batch_arc_dnat_add(FwBatch *b, const char *uplink, uint32_t addr) {
        NftElem *e;

        if (!fw_batch_name_ok(b, uplink))
                return;
        e = fw_batch_ifname_elem(b, /* add= */ true, FW_SET_ARC_DNAT, uplink);
        if (e)
                e->data_len = (uint8_t) nft_key_ipv4(e->data, addr);
}

void fw_batch_arc_dnat_remove(FwBatch *b, const char *uplink) {
        if (!fw_batch_name_ok(b, uplink))
                return;
        fw_batch_ifname_elem(b, /* add= */ false, FW_SET_ARC_DNAT, uplink);
}

void fw_batch_adb_sideload(FwBatch *b, const char *tap, bool enable) {
        if (!fw_batch_name_ok(b, tap))
                return;
        fw_batch_ifname_elem(b, enable, FW_SET_ADB_SIDELOAD, tap);
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
        uint8_t proto;
        NftElem *e;

        if (k->proto != PORT_PROTO_TCP && k->proto != PORT_PROTO_UDP) {
                b->invalid = true;
                return;
        }
        proto = k->proto == PORT_PROTO_TCP ? IPPROTO_TCP : IPPROTO_UDP;
        switch (k->type) {
        case PORT_RULE_ACCESS:
                if (!k->ifname[0]) {
                        e = fw_batch_elem(b, create, FW_SET_ACCESS_ANY);
                } else {
                        if (!fw_batch_name_ok(b, k->ifname))
                                return;
                        e = fw_batch_elem(b, create, FW_SET_ACCESS);
                        if (e)
                                fw_key_ifname(e, k->ifname);
                }
                if (e) {
                        fw_key_proto(e, proto);
                        fw_key_port(e, k->port);
                }
                return;
        case PORT_RULE_LOCKDOWN:
                e = fw_batch_elem(b, create, FW_SET_LOCKDOWN);
                if (e) {
                        fw_key_proto(e, proto);
                        fw_key_port(e, k->port);
                }
                return;
        case PORT_RULE_FORWARDING:
                if (!fw_batch_name_ok(b, k->ifname))
                        return;
                e = fw_batch_elem(b, create, k->input_dst_ip ? FW_SET_PORT_FWD_IP : FW_SET_PORT_FWD);
                if (!e)
                        return;
                fw_key_ifname(e, k->ifname);
                fw_key_proto(e, proto);
                if (k->input_dst_ip)
                        fw_key_ipv4(e, k->input_dst_ip);
                fw_key_port(e, k->port);
                if (create) {
                        e->data_len = (uint8_t) nft_key_ipv4(e->data, rule->dst_ip);
                        e->data_len = (uint8_t) (e->data_len +
                                                 nft_key_port(e->data + e->data_len, rule->dst_port));
                }
                return;
        default:
                b->invalid = true;
        }
}

/* ---- batches: to the kernel -------------------------------------------------------------- */

/* An operation fits its set's layout (a builder's slip is caught before the kernel). */
static bool fw_op_is_valid(const FwOp *op) {
        bool add = op->type == FW_OP_ELEM_ADD;

        if (op->type < 0 || op->type >= _FW_OP_TYPE_MAX)
                return false;
        if (op->type != FW_OP_ELEM_ADD && op->type != FW_OP_ELEM_DELETE)
                return op->chain[0] != '\0' && memchr(op->chain, '\0', sizeof op->chain);
        if (op->set < 0 || op->set >= _FW_SET_MAX)
                return false;
        return op->elem.key_len == fw_sets[op->set].key_len &&
               op->elem.key_end_len == (fw_sets[op->set].interval ? op->elem.key_len : 0) &&
               op->elem.data_len == (add ? fw_sets[op->set].data_len : 0) &&
               (op->elem.jump[0] != '\0') == (add && fw_sets[op->set].verdict) &&
               memchr(op->elem.jump, '\0', sizeof op->elem.jump);
}

static void fw_op_put(NftWriter *w, const FwOp *op) {
        switch (op->type) {
        case FW_OP_ELEM_ADD:
        case FW_OP_ELEM_DELETE:
                nft_put_setelem(w, op->type == FW_OP_ELEM_ADD, NFPROTO_INET, fw_sets[op->set].table,
                                fw_sets[op->set].name, &op->elem);
                return;
        case FW_OP_CHAIN_ADD:
        case FW_OP_CHAIN_DELETE:
                nft_put_chain(w, op->type == FW_OP_CHAIN_ADD, NFPROTO_INET, FW_TABLE, op->chain);
                return;
        case FW_OP_CHAIN_FLUSH:
                nft_put_chain_flush(w, NFPROTO_INET, FW_TABLE, op->chain);
                return;
        case FW_OP_RULE_CT_MARK:
                nft_put_rule_ct_mark(w, NFPROTO_INET, FW_TABLE, op->chain, ~FWMARK_ROUTING_MASK,
                                     op->value);
                return;
        default:
                w->overflow = true; /* unreachable: fw_op_is_valid() came first */
        }
}

ssize_t fw_batch_to_netlink(const FwBatch *b, const bool *skip, void *buf, size_t size,
                            uint32_t first_seq, size_t *ret_n_sent) {
        NftWriter w;
        size_t n = 0;

        if (b->invalid || b->n_ops > ELEMENTSOF(b->ops))
                return -EINVAL;
        for (size_t i = 0; i < b->n_ops; i++)
                if (!fw_op_is_valid(&b->ops[i]))
                        return -EINVAL;
        nft_writer_init(&w, buf, size, first_seq);
        nft_put_batch_begin(&w);
        for (size_t i = 0; i < b->n_ops; i++) {
                if (skip && skip[i])
                        continue;
                fw_op_put(&w, &b->ops[i]);
                n++;
        }
        nft_put_batch_end(&w);
        if (w.overflow)
                return -ENOBUFS;
        *ret_n_sent = n;
        return (ssize_t) w.len;
}

/* Wait until the socket is readable, or FW_NL_TIMEOUT_MS. */
static int fw_nl_wait(Fw *fw) {
        struct pollfd p = { .fd = fw->fd, .events = POLLIN };
        int r = poll(&p, 1, FW_NL_TIMEOUT_MS);

        if (r < 0)
                return errno == EINTR ? 0 : -errno;
        return r == 0 ? -ETIMEDOUT : 0;
}

/* One datagram from the kernel into recv_buf. Return: its length, or a negative errno. */
static ssize_t fw_nl_recv(Fw *fw) {
        for (;;) {
                ssize_t n = recv(fw->fd, fw->recv_buf, FW_NL_RECV_SIZE, MSG_DONTWAIT | MSG_TRUNC);
                int r;

                if (n > FW_NL_RECV_SIZE)
                        return -EMSGSIZE;
                if (n >= 0)
                        return n;
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return -errno;
                r = fw_nl_wait(fw);
                if (r < 0)
                        return r;
        }
}

/* sendmsg(), as every other netlink request of the helper's: the crash tests kill it at
 * its nth sendmsg() (test_crash_links.py), the nftables batch included. */
static int fw_nl_send(Fw *fw, const void *buf, size_t len) {
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
        struct msghdr msg = { .msg_name = &kernel, .msg_namelen = sizeof kernel,
                              .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n = sendmsg(fw->fd, &msg, 0);

        if (n < 0)
                return -errno;
        return (size_t) n == len ? 0 : -EMSGSIZE;
}

/*
 * Send a batch (without the operations in @skip) and wait for every answer: @errs[i] is
 * the kernel's answer to operation i (0: done, or a negative errno; the kernel applies all
 * or nothing, so one refusal means none was applied). Return: 0 once every operation sent
 * is answered, or a negative errno when the exchange itself failed, or when the kernel
 * refused the whole batch (then in @ret_whole).
 */
static int fw_nl_batch(Fw *fw, const FwBatch *b, const bool *skip, int *errs, int *ret_whole) {
        size_t n_sent, answered = 0, index[FW_BATCH_OPS_MAX];
        uint32_t first = fw->seq;
        ssize_t len = fw_batch_to_netlink(b, skip, fw->send_buf, FW_NL_SEND_SIZE, first, &n_sent);
        int r;

        *ret_whole = 0;
        if (len < 0)
                return (int) len;
        fw->seq += (uint32_t) n_sent + 2;
        for (size_t i = 0, k = 0; i < b->n_ops; i++) {
                errs[i] = 0;
                if (!skip || !skip[i])
                        index[k++] = i;
        }
        if (n_sent == 0)
                return 0;
        r = fw_nl_send(fw, fw->send_buf, (size_t) len);
        if (r < 0)
                return r;

        /* The kernel answers within the send (each message's ack or error, in order, then
         * nothing more); an error for BATCH_BEGIN or BATCH_END is about the whole batch. */
        while (answered < n_sent) {
                ssize_t n = fw_nl_recv(fw);
                size_t left;

                if (n < 0)
                        return (int) n;
                left = (size_t) n;
                NLMSG_FOREACH_WHOLE(nlh, fw->recv_buf, left) {
                        uint32_t k = nlh->nlmsg_seq - first;
                        const struct nlmsgerr *e = NLMSG_DATA(nlh);

                        if (k > n_sent + 1 || nlh->nlmsg_type != NLMSG_ERROR ||
                            nlh->nlmsg_len < NLMSG_LENGTH(sizeof e->error))
                                continue; /* not an answer to this batch */
                        if (k == 0 || k == n_sent + 1) {
                                *ret_whole = e->error < 0 ? e->error : -EPROTO;
                                return *ret_whole;
                        }
                        errs[index[k - 1]] = e->error;
                        answered++;
                }
        }
        return 0;
}

static int fw_nl_batch_error(ErrBuf *err, const char *what, int r, int whole) {
        if (whole < 0)
                return errbuf_set(err, -EIO, "nftables refused to %s: %s", what, strerror(-whole));
        return errbuf_set(err, r, "cannot %s: nfnetlink: %s", what, strerror(-r));
}

int fw_batch_commit(Fw *fw, const FwBatch *b, const char *what, ErrBuf *err) {
        int errs[FW_BATCH_OPS_MAX], whole, r;

        if (b->invalid)
                return errbuf_set(err, -EINVAL, "cannot %s: invalid field", what);
        if (b->n_ops == 0)
                return 0;
        /* Without its record a guest's sources could not be removed: room first. */
        if (fw_guests_reserve(b->n_guests) < 0)
                return errbuf_set(err, -ENOMEM, "cannot %s: out of memory", what);
        r = fw_nl_batch(fw, b, NULL, errs, &whole);
        if (r < 0)
                return fw_nl_batch_error(err, what, r, whole);
        for (size_t i = 0; i < b->n_ops; i++)
                if (errs[i] < 0) {
                        char op[96];
                        fw_op_describe(&b->ops[i], op, sizeof op);
                        return errbuf_set(err, -EIO, "nftables refused to %s: %s: %s", what, op,
                                          strerror(-errs[i]));
                }
        fw_guests_apply(b);
        return 0;
}

int fw_batch_commit_removal(Fw *fw, const FwBatch *b, const char *what, ErrBuf *err) {
        bool skip[FW_BATCH_OPS_MAX] = {};
        int errs[FW_BATCH_OPS_MAX], whole, r = 0;

        if (b->invalid)
                return errbuf_set(err, -EINVAL, "cannot %s: invalid field", what);
        /* All or nothing: when something is already gone, the kernel applies none of it.
         * Each round leaves out what was refused (missing is fine, the first other refusal
         * is returned) and sends the rest again, until the kernel takes all it is sent. */
        for (size_t round = 0; round <= b->n_ops; round++) {
                bool refused = false;
                int k = fw_nl_batch(fw, b, skip, errs, &whole);

                if (k < 0)
                        return r < 0 ? r : fw_nl_batch_error(err, what, k, whole);
                for (size_t i = 0; i < b->n_ops; i++) {
                        if (skip[i] || errs[i] == 0)
                                continue;
                        skip[i] = refused = true;
                        if (errs[i] != -ENOENT && r == 0) {
                                char op[96];
                                fw_op_describe(&b->ops[i], op, sizeof op);
                                r = errbuf_set(err, -EIO, "nftables refused to %s: %s: %s", what,
                                               op, strerror(-errs[i]));
                        }
                }
                if (!refused)
                        break;
        }
        /* Kept when something may remain, to be removed by a later try. */
        if (r >= 0)
                fw_guests_apply(b);
        return r;
}

/* ---- the counters ------------------------------------------------------------------------ */

/* Every element of one set, through fn. Return: 0, or a negative errno; *ret_interrupted
 * when the ruleset changed during the dump (the kernel's NLM_F_DUMP_INTR). */
static int fw_nl_dump_set(Fw *fw, const char *table, const char *set, nft_elem_fn fn,
                          void *userdata, bool *ret_interrupted) {
        uint8_t req[256] __attribute__((aligned(NLMSG_ALIGNTO)));
        uint32_t seq;
        NftWriter w;
        int r;

        *ret_interrupted = false;
        nft_writer_init(&w, req, sizeof req, fw->seq++);
        seq = nft_put_getsetelem(&w, NFPROTO_INET, table, set);
        if (w.overflow)
                return -ENOBUFS;
        r = fw_nl_send(fw, req, w.len);
        if (r < 0)
                return r;
        for (;;) {
                ssize_t n = fw_nl_recv(fw);
                size_t left;

                if (n < 0)
                        return (int) n;
                left = (size_t) n;
                NLMSG_FOREACH_WHOLE(nlh, fw->recv_buf, left) {
                        if (nlh->nlmsg_seq != seq)
                                continue; /* an answer to something earlier */
                        if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
                                *ret_interrupted = true;
                        if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_DONE) {
                                int e = 0;
                                if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof e))
                                        memcpy(&e, NLMSG_DATA(nlh), sizeof e);
                                /* The rest of the dump is dropped with the datagram. */
                                return e < 0 ? e : r;
                        }
                        if (r >= 0)
                                r = nft_setelem_msg_parse(nlh, nlh->nlmsg_len, fn, userdata);
                }
        }
}

typedef struct FwCounterCollect {
        char *const *ifnames;
        size_t n_ifnames;
        bool tx;
        FwCounter *v;
        size_t n, cap;
} FwCounterCollect;

static bool ifname_wanted(const char *ifname, char *const *ifnames, size_t n) {
        if (n == 0)
                return true;
        for (size_t i = 0; i < n; i++)
                if (strcmp(ifnames[i], ifname) == 0)
                        return true;
        return false;
}

/* One element of tx or rx: key ifname . mark . nfproto (16 + 4 + 4 bytes), a counter. */
static int fw_counter_elem(const NftElemSeen *e, void *userdata) {
        FwCounterCollect *c = userdata;
        FwCounter one = {};
        uint32_t mark;

        if (e->key_len != NFT_IFNAME_KEY + 8 || !e->has_counter ||
            memchr(e->key, '\0', NFT_IFNAME_KEY) == NULL)
                return -EBADMSG;
        memcpy(one.ifname, e->key, NFT_IFNAME_KEY);
        if (!ifname_wanted(one.ifname, c->ifnames, c->n_ifnames))
                return 0;
        memcpy(&mark, e->key + NFT_IFNAME_KEY, sizeof mark);
        one.source = (uint32_t) fwmark_get_source(mark);
        if (c->tx) {
                one.tx_packets = e->packets;
                one.tx_bytes = e->bytes;
        } else {
                one.rx_packets = e->packets;
                one.rx_bytes = e->bytes;
        }
        if (c->n == c->cap) {
                size_t want = c->cap ? c->cap * 2 : 64;
                FwCounter *grown = reallocarray(c->v, want, sizeof *grown);
                if (!grown)
                        return -ENOMEM;
                c->v = grown;
                c->cap = want;
        }
        c->v[c->n++] = one;
        return 0;
}

static int counter_cmp(const void *a, const void *b) {
        const FwCounter *x = a, *y = b;
        int c = strcmp(x->ifname, y->ifname);
        return c ? c : (x->source > y->source) - (x->source < y->source);
}

int fw_counters_read(Fw *fw, char *const *ifnames, size_t n_ifnames, FwCounter **ret,
                     size_t *ret_n, ErrBuf *err) {
        static const char *const sets[] = { "rx", "tx" };
        FwCounterCollect c = { .ifnames = ifnames, .n_ifnames = n_ifnames };
        size_t k = 0;
        int r = 0;

        /* Both sets, read again from the start if the ruleset changed meanwhile. */
        for (unsigned attempt = 0; attempt < 3; attempt++) {
                bool interrupted = false;

                c.n = 0;
                for (size_t s = 0; s < ELEMENTSOF(sets) && r >= 0; s++) {
                        bool intr;
                        c.tx = strcmp(sets[s], "tx") == 0;
                        r = fw_nl_dump_set(fw, FW_ACCT_TABLE, sets[s], fw_counter_elem, &c, &intr);
                        if (r == -EBADMSG)
                                r = errbuf_set(err, r, "cannot read the counters: unexpected "
                                               "element in set %s", sets[s]);
                        else if (r < 0)
                                r = errbuf_set(err, -EIO, "nftables refused to read the "
                                               "counters: set %s: %s", sets[s], strerror(-r));
                        interrupted = interrupted || intr;
                }
                if (r < 0 || !interrupted)
                        break;
        }
        if (r < 0) {
                free(c.v);
                return r;
        }

        /* One entry per (ifname, source): the kernel keeps IPv4 and IPv6 apart. */
        if (c.n > 0)
                qsort(c.v, c.n, sizeof *c.v, counter_cmp);
        for (size_t i = 0; i < c.n; i++) {
                if (k > 0 && counter_cmp(&c.v[k - 1], &c.v[i]) == 0) {
                        c.v[k - 1].rx_bytes += c.v[i].rx_bytes;
                        c.v[k - 1].rx_packets += c.v[i].rx_packets;
                        c.v[k - 1].tx_bytes += c.v[i].tx_bytes;
                        c.v[k - 1].tx_packets += c.v[i].tx_packets;
                } else
                        c.v[k++] = c.v[i];
        }
        *ret = c.v;
        *ret_n = k;
        return 0;
}

/* ---- reading the ruleset (libnftables, JSON): other tables' drop policies ----------------------------------------------------------------- */

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

static bool is_own_table(const char *family, const char *table) {
        return strcmp(family, "inet") == 0 &&
               (strcmp(table, FW_TABLE) == 0 || strcmp(table, FW_ACCT_TABLE) == 0);
}

int fw_foreign_drops(Fw *fw, ForeignDrop *ret, size_t *ret_n, ErrBuf *err) {
        struct nft_ctx *nft = fw->nft;
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
