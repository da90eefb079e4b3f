/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The helper's nftables backend. The daemon owns two tables and touches nothing else: no
 * other table, no base policy. Everything per guest, per uplink or per port rule is an
 * element of a set or map (plus one small chain per uplink), so the number of rules does
 * not grow with guests or rules, and adding one costs the same whether it is the first or
 * the ten-thousandth. Every request is one atomic batch, built only from validated fields.
 *
 * Two ways to the kernel. Per request (FwBatch, the counters): binary nf_tables messages
 * (nft-msg.c) built from the typed operations a batch records, sent as one nfnetlink batch
 * over one socket kept open, every message acknowledged; the counters are two dumps of
 * the counters' sets. Rare (the tables at start and stop, the scan for other tables' drop
 * policies): libnftables, text and JSON, where a whole ruleset is easier to read as the
 * nft language and its cost (a cache refresh, a parse) does not matter.
 *
 * table inet patchpanel, replaced at start and removed at stop:
 *   map guest_mark   ifname -> fwmark     mark of new connections from a guest link:
 *                                         SNAT bit | source | VPN intent | routing tag
 *   map guest_source ifname -> verdict    its source alone (chains source_<name>), for
 *                                         connections that came in from outside
 *   set guest_ifs    ifname               guest links: forwarded, never masqueraded into
 *   set guest_src4   ifname . ipv4_addr   the IPv4 addresses each guest link may send
 *                                         from: its guest's address (an ARC link: the
 *                                         container's or VM's address on it). Exact (a
 *                                         hash): one element per guest, whose cost does not
 *                                         grow with the number of guests
 *   set guest_net4   ifname . ipv4_addr   (interval) the prefixes a guest link may send
 *                                         from: Termina's containers' /28, the only guest
 *                                         that has one. Kept apart so that no other guest
 *                                         touches an interval set, whose every change
 *                                         copies its lookup tables
 *   set guest_src6   ifname . ipv6_addr   exact, the IPv6 addresses the ND proxy learns on
 *                                         a guest link, as it learns them
 *                                         (fw_batch_guest_src6()); fe80::/64 and :: (duplicate
 *                                         address detection), which every guest link may
 *                                         send from, are one rule, not elements
 *   counter spoofed                       packets from a guest link with a source not its
 *                                         own, dropped in chain antispoof (priority raw,
 *                                         before conntrack: they never make a connection)
 *   chain guest_nd                        Neighbor Discovery from a guest link to an
 *                                         address not the host's: the ND proxy's to relay,
 *                                         never routed by the kernel (priority raw)
 *   set uplinks      ifname               the uplinks: what the ingress firewall guards
 *   map uplink_post  ifname -> verdict    uplink -> chain uplink_<ifindex>, which writes
 *                                         the uplink's routing tag into the conntrack mark
 *                                         of new connections leaving or entering through
 *                                         it (pinning)
 *   map arc_dnat     ifname -> ipv4_addr  uplink -> ARC's address behind it: inbound
 *                                         TCP/UDP not for a host socket goes to ARC
 *   set access       ifname . proto . port          ACCESS rules on one uplink
 *   set access_any   proto . port                   ACCESS rules on every uplink
 *   map port_fwd     ifname . proto . port -> ipv4 . port           FORWARDING rules
 *   map port_fwd_ip  ifname . proto . ipv4 . port -> ipv4 . port    ... for one address
 *   set lockdown     proto . port                   LOCKDOWN rules (loopback ports)
 *   set adb_sideload ifname                         Termina VMs' TAPs on which ARC's
 *                                                   address port 5555 goes to the host's
 *                                                   loopback port 5555 (adb-proxy), in
 *                                                   chain adb_sideload_nat
 *   map uid_source   uid -> verdict (interval)      source of the host's sockets by
 *                                                   owner, through chains source_<name>
 *
 * table inet patchpanel_acct, the traffic counters: two dynamic sets keyed by uplink,
 * source and IP family with a counter per element, updated after every other hook; it
 * outlives the daemon (only its chains go at stop) so counters are cumulative across
 * restarts for as long as the kernel runs.
 *
 * Conntrack carries each connection's mark: set from the packet's mark when the connection
 * starts, it is restored onto every later packet, so a connection keeps its uplink when the
 * default route moves and every packet of it counts for the right source.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "errbuf.h"
#include "foreign-drop.h"
#include "ipc-msg.h"
#include "nft-msg.h"
#include "pool.h"
#include "port-rule.h"
#include "source-map.h"

struct in6_addr;

/* The backend: a libnftables context and the nfnetlink socket (firewall.c). */
typedef struct Fw Fw;

#define FW_TABLE "patchpanel"
#define FW_ACCT_TABLE "patchpanel_acct"

typedef struct FwConfig {
        bool ingress_firewall;
        uint32_t lockdown_uid;  /* the one uid that may connect to LOCKDOWN ports */
        SourceMap uid_sources;  /* source of the host's sockets by owner */
        uint32_t arc_addr;      /* ARC's address (.2 of the ARC pool), adb sideloading's
                                 * destination; 0: no adb_sideload chain */
} FwConfig;

/* Open libnftables and the nfnetlink socket, in the current network namespace (the host's):
 * the socket stays there whatever namespace the helper enters later. */
int fw_open(Fw **ret);
void fw_close(Fw *fw);

/* Replace the daemon's table with an empty fresh one, and set up the counters' table,
 * keeping the counters an earlier run left, in one transaction. */
int fw_tables_replace(Fw *fw, const FwConfig *config, ErrBuf *err);
/* Remove the daemon's table and the counters' chains; fine if they are absent. */
int fw_tables_remove(Fw *fw, ErrBuf *err);

/* The IPv4 sources a guest link may send from (anti-spoofing): addresses (/32) and
 * prefixes. */
#define FW_GUEST_SOURCES_MAX 2
typedef struct FwGuestSources {
        Subnet v4[FW_GUEST_SOURCES_MAX];
        size_t n_v4;
} FwGuestSources;

/* How many guests one batch may add or remove. */
#define FW_BATCH_GUESTS_MAX 16
/* Learned IPv6 sources per guest link (the ND proxy's ND_PROXY_ADDRS_MAX), and per batch. */
#define FW_GUEST_SOURCES6_MAX 32
#define FW_BATCH_SOURCES6_MAX 4

/* What a batch does, one nf_tables message each. */
typedef enum FwOpType {
        FW_OP_ELEM_ADD,
        FW_OP_ELEM_DELETE,
        FW_OP_CHAIN_ADD,      /* a regular chain, if missing */
        FW_OP_CHAIN_FLUSH,
        FW_OP_CHAIN_DELETE,
        FW_OP_RULE_CT_MARK,   /* append "ct mark set ct mark & 0x0000ffff | value" */
        _FW_OP_TYPE_MAX,
        _FW_OP_TYPE_INVALID = -EINVAL,
} FwOpType;

/* The sets and maps a batch changes (firewall.c: their tables and layouts). */
typedef enum FwSet {
        FW_SET_GUEST_MARK,
        FW_SET_GUEST_SOURCE,
        FW_SET_GUEST_IFS,
        FW_SET_GUEST_SRC4,
        FW_SET_GUEST_NET4,
        FW_SET_GUEST_SRC6,
        FW_SET_UPLINKS,
        FW_SET_UPLINK_POST,
        FW_SET_ARC_DNAT,
        FW_SET_ACCESS,
        FW_SET_ACCESS_ANY,
        FW_SET_PORT_FWD,
        FW_SET_PORT_FWD_IP,
        FW_SET_LOCKDOWN,
        FW_SET_ADB_SIDELOAD,
        FW_SET_ACCT_UPLINKS,
        _FW_SET_MAX,
        _FW_SET_INVALID = -EINVAL,
} FwSet;

/* fw_op_type_to_string() - "add element", "flush chain", ...; NULL for none. */
const char *fw_op_type_to_string(FwOpType t);
/* fw_set_to_string() - the set's name in its table; NULL for none. */
const char *fw_set_to_string(FwSet s);

/* One operation: an element of a set (key, key end, data or jump in elem), or a chain of
 * the daemon's table (and the value of its rule). */
typedef struct FwOp {
        FwOpType type;
        FwSet set;
        NftElem elem;
        char chain[NFT_CHAIN_NAME_MAX];
        uint32_t value;
} FwOp;

/* How many operations one batch holds: 16 guests with their learned addresses. */
#define FW_BATCH_OPS_MAX 320

/* A batch of operations, applied at once by fw_batch_commit(). */
typedef struct FwBatch {
        FwOp ops[FW_BATCH_OPS_MAX];
        size_t n_ops;
        bool invalid; /* a field did not validate, or the batch overflowed */
        /* Guests whose sources the firewall remembers (added) or forgets (removed) once
         * the batch is applied: a guest's removal needs only its link's name. */
        struct {
                char ifname[16];
                bool add;
                FwGuestSources src;
        } guests[FW_BATCH_GUESTS_MAX];
        size_t n_guests;
        /* Learned IPv6 sources added or removed, likewise. */
        struct {
                char ifname[16];
                uint8_t addr[16];            /* a struct in6_addr */
                bool add;
        } src6[FW_BATCH_SOURCES6_MAX];
        size_t n_src6;
} FwBatch;

/*
 * fw_batch_to_netlink() - a batch's operations as one nfnetlink batch: BATCH_BEGIN, one
 * message per operation (each asking for its ack), BATCH_END.
 * @b: a valid batch
 * @skip: operations to leave out (NULL: none)
 * @buf: where to write, @size bytes
 * @first_seq: the sequence number of BATCH_BEGIN; the operations sent follow in order
 * @ret_n_sent: how many operations went in
 *
 * Return: the length written, or -ENOBUFS when it does not fit, -EINVAL for an invalid
 * batch or an operation that is none.
 */
ssize_t fw_batch_to_netlink(const FwBatch *b, const bool *skip, void *buf, size_t size,
                            uint32_t first_seq, size_t *ret_n_sent);

/*
 * fw_batch_guest_add() - forward and masquerade traffic from a guest link, mark its new
 * connections, and accept from it only the sources that are its own.
 * @b: the batch
 * @ifname: the guest link (a bridge for ARC)
 * @mark: the mark of its new connections
 * @src: its IPv4 sources (at least one; each an aligned prefix: a /32 goes to guest_src4,
 *       a shorter one to guest_net4); IPv6 link-local and :: are the antispoof chain's
 *
 * A field that does not validate makes the batch invalid.
 */
void fw_batch_guest_add(FwBatch *b, const char *ifname, uint32_t mark,
                        const FwGuestSources *src);
/*
 * fw_batch_guest_remove() - every element fw_batch_guest_add() added for @ifname.
 * @b: the batch
 * @ifname: the guest link
 */
void fw_batch_guest_remove(FwBatch *b, const char *ifname);
/*
 * fw_batch_guest_src6() - accept (or no longer) an IPv6 source the ND proxy learned on a
 * guest link; fw_batch_guest_remove() removes them all with the link.
 * @b: the batch
 * @ifname: a guest link fw_batch_guest_add() added
 * @addr: the address
 * @add: accept it, or no longer
 *
 * An unknown guest link, or more than FW_GUEST_SOURCES6_MAX on one, makes the batch
 * invalid.
 */
void fw_batch_guest_src6(FwBatch *b, const char *ifname, const struct in6_addr *addr, bool add);
/* The guest link an IPv6 source was learned on, or NULL. */
const char *fw_guest_src6_owner(const struct in6_addr *addr);
/* Guard an uplink, count its traffic, and pin connections leaving through it to it
 * (conntrack mark = @tag). */
void fw_batch_uplink_add(FwBatch *b, const char *ifname, int ifindex, uint32_t tag);
void fw_batch_uplink_remove(FwBatch *b, const char *ifname, int ifindex);
/* Send inbound TCP/UDP on @uplink that no host socket wants to @addr (ARC). */
void fw_batch_arc_dnat_add(FwBatch *b, const char *uplink, uint32_t addr);
void fw_batch_arc_dnat_remove(FwBatch *b, const char *uplink);
/* ADB from a Termina VM: its TAP in (or out of) adb_sideload. */
void fw_batch_adb_sideload(FwBatch *b, const char *tap, bool enable);
/* The sources fw_batch_guest_add() gave a guest link. Return: 0, -ENOENT for none. */
int fw_guest_sources(const char *ifname, FwGuestSources *ret);
/* The element of a port rule, which must have passed port_rule_validate(). */
void fw_batch_port_rule(FwBatch *b, const PortRule *rule, bool create);

/* Apply a batch atomically. */
int fw_batch_commit(Fw *fw, const FwBatch *b, const char *what, ErrBuf *err);
/* Apply a batch of removals: if some object is already gone, remove the others one by one;
 * what is missing is fine, any other refusal is returned. */
int fw_batch_commit_removal(Fw *fw, const FwBatch *b, const char *what,
                            ErrBuf *err);

/* One uplink's traffic of one source (fwmark.h), IPv4 and IPv6 together. */
typedef struct FwCounter {
        char ifname[16];
        uint32_t source;
        uint64_t rx_bytes, rx_packets, tx_bytes, tx_packets;
} FwCounter;

/*
 * fw_counters_read() - every counter, in two dumps: the counters' sets rx and tx.
 * @ifnames: only these uplinks (n_ifnames == 0: all)
 * @ret: sorted by ifname, then source; the caller frees it
 */
int fw_counters_read(Fw *fw, char *const *ifnames, size_t n_ifnames,
                     FwCounter **ret, size_t *ret_n, ErrBuf *err);

/* The foreign drop policies in the ruleset now (at most FOREIGN_DROPS_MAX). */
int fw_foreign_drops(Fw *fw, ForeignDrop *ret, size_t *ret_n, ErrBuf *err);
