/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Which neighbours of the uplinks are watched, and what is said about them: the logic of
 * the neighbour monitor (neighbors.c) without any socket, so unit tests drive it with
 * plain values and decoded netlink messages.
 *
 * Inputs, each kept per uplink: its IPv4 and IPv6 addresses with their prefixes, the
 * gateways of the main table's default routes through it, and the host's DNS servers.
 * The watched neighbours follow from them: every gateway (GATEWAY), every DNS server on one
 * of the uplink's prefixes, or a link-local one scoped to it (DNS_SERVER), both for an
 * address that is both (GATEWAY_AND_DNS_SERVER); never one of the uplink's own addresses,
 * and none at all while the uplink is down. A DNS server of one link (DnsServer.ifindex,
 * from systemd-resolved) counts on that uplink only, and a link-local one is scoped to it;
 * a server of any link (ifindex 0) counts on every uplink whose prefix it is on.
 *
 * Verdicts follow the kernel's neighbour states: NUD_FAILED is a failure, told once
 * (FAILED) until the neighbour is NUD_REACHABLE again (REACHABLE, told only after a
 * failure); every other state (STALE, DELAY, PROBE, INCOMPLETE, no entry) changes nothing.
 * Each watch may tell at most NEIGHBOR_SIGNAL_BURST verdicts per
 * NEIGHBOR_SIGNAL_WINDOW_USEC: beyond that it stays quiet, and once the window has passed
 * it tells the latest verdict if that differs from the last one told.
 *
 * A watch that is no longer wanted is retired (role 0), not freed, until
 * neighbor_table_sweep_retired() (the monitor's next probe round): a default route deleted
 * and added again, a resolv.conf rewritten, keep their neighbours' state. A retired watch
 * follows the kernel's word but tells nothing and is not probed; a recovery it sees counts,
 * a failure does not (an uplink that is down fails every neighbour).
 */

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "list.h"
#include "macro.h"
#include "resolv-conf.h"

struct nlmsghdr;

#define NEIGHBOR_UPLINK_ADDRS_MAX 32
#define NEIGHBOR_UPLINK_GATEWAYS_MAX 8
#define NEIGHBOR_WATCHES_MAX 256
#define NEIGHBOR_SIGNAL_BURST 4u
#define NEIGHBOR_SIGNAL_WINDOW_USEC (30u * 1000u * 1000u)
/* Nexthops of one multipath route considered at most. */
#define NEIGHBOR_NEXTHOPS_MAX 8

/* An IPv4 or IPv6 address, network byte order (the first 4 bytes for IPv4). */
typedef struct NeighborAddr {
        int family;
        uint8_t bytes[16];
} NeighborAddr;

#define NEIGHBOR_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

/* Bits; the values are NeighborReachabilityEventSignal.Role's. */
typedef enum NeighborRole {
        NEIGHBOR_ROLE_GATEWAY = 1 << 0,
        NEIGHBOR_ROLE_DNS_SERVER = 1 << 1,
        NEIGHBOR_ROLE_GATEWAY_AND_DNS_SERVER = NEIGHBOR_ROLE_GATEWAY | NEIGHBOR_ROLE_DNS_SERVER,
        _NEIGHBOR_ROLE_MAX,
        _NEIGHBOR_ROLE_INVALID = -22,
} NeighborRole;

/* The values are NeighborReachabilityEventSignal.EventType's. */
typedef enum NeighborEventType {
        NEIGHBOR_EVENT_FAILED = 1,
        NEIGHBOR_EVENT_REACHABLE = 2,
        _NEIGHBOR_EVENT_MAX,
        _NEIGHBOR_EVENT_INVALID = -22,
} NeighborEventType;

typedef struct NeighborWatch NeighborWatch;
struct NeighborWatch {
        int ifindex;
        char ifname[IFNAMSIZ];
        NeighborAddr addr;
        NeighborRole role;        /* 0: retired, freed by the next sweep */
        bool have_entry;          /* the kernel has an entry for it */
        uint16_t nud;             /* the entry's state (NUD_*), when there is one */
        bool failed;              /* NUD_FAILED seen, and no NUD_REACHABLE since */
        NeighborEventType told;   /* the last verdict told, 0 for none */
        uint64_t window_start;    /* the rate limit's window, CLOCK_MONOTONIC usec */
        unsigned n_in_window;
        bool marked;              /* a neighbour dump has not listed it yet */
        LIST_FIELDS(NeighborWatch, watches);
};

typedef struct NeighborTable NeighborTable;

/* A verdict to tell (the signal); @w stays valid during the call. */
typedef void (*NeighborEventFn)(const NeighborWatch *w, NeighborEventType type, void *userdata);

const char *neighbor_role_to_string(NeighborRole r);
const char *neighbor_event_type_to_string(NeighborEventType t);
/* "reachable", "stale", ... for a NUD_* state; "none" without an entry. */
const char *neighbor_nud_to_string(bool have_entry, uint16_t nud);
/* Into buf; returns buf ("?" for an unknown family). */
const char *neighbor_addr_to_string(const NeighborAddr *a, char buf[static NEIGHBOR_ADDR_STRLEN]);
bool neighbor_addr_equal(const NeighborAddr *a, const NeighborAddr *b);
/* Whether a and p share their first prefix_len bits (same family). */
bool neighbor_addr_in_prefix(const NeighborAddr *a, const NeighborAddr *p, unsigned prefix_len);

NeighborTable *neighbor_table_new(NeighborEventFn fn, void *userdata);
NeighborTable *neighbor_table_free(NeighborTable *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(NeighborTable *, neighbor_table_free);
void neighbor_table_set_event_fn(NeighborTable *t, NeighborEventFn fn, void *userdata);

/* ---- inputs: each returns whether it changed what is wanted (then call
 * neighbor_table_update_watches()) ---- */

/* An uplink to watch the neighbours of. Return: 1 if new, 0 if known, -ENOMEM. */
int neighbor_table_add_uplink(NeighborTable *t, const char *name, int ifindex, bool up);
/* Whether its up state is news; going down forgets its gateways (the kernel dropped its
 * IPv4 routes without a word). */
bool neighbor_table_set_up(NeighborTable *t, int ifindex, bool up);
/* It is gone: its watches go at once, silently. */
bool neighbor_table_remove_uplink(NeighborTable *t, int ifindex);
bool neighbor_table_has_uplink(const NeighborTable *t, int ifindex);
/* An address of an uplink came (@present) or went; others' are ignored. */
bool neighbor_table_address(NeighborTable *t, int ifindex, const NeighborAddr *a,
                            unsigned prefix_len, bool present);
/* A default route of the main table through an uplink, via @gw, came or went. */
bool neighbor_table_gateway(NeighborTable *t, int ifindex, const NeighborAddr *gw,
                            uint32_t metric, bool present);
/* A default route of this family and metric replaced another: forget the gateways of the
 * routes of that key, whatever their uplink (the replacing route's come next). */
bool neighbor_table_replace_gateways(NeighborTable *t, int family, uint32_t metric);
/* The host's DNS servers now (copied; at most DNS_SERVERS_MAX). */
bool neighbor_table_set_dns(NeighborTable *t, const DnsServer *servers, size_t n);

/* What a dump re-reads: before it, mark(); what it lists comes through the calls above
 * (and neighbor_table_on_neighbor()); when it is complete, sweep() drops what it did not
 * list. */
typedef enum NeighborDump {
        NEIGHBOR_DUMP_ADDRESSES,
        NEIGHBOR_DUMP_ROUTES,
        NEIGHBOR_DUMP_NEIGHBORS,
        _NEIGHBOR_DUMP_MAX,
        _NEIGHBOR_DUMP_INVALID = -22,
} NeighborDump;

void neighbor_table_mark(NeighborTable *t, NeighborDump d);
bool neighbor_table_sweep(NeighborTable *t, NeighborDump d);

/*
 * neighbor_table_update_watches() - make the watches what the inputs want: new ones
 * created (without state until the kernel says something), retired ones revived, those no
 * longer wanted retired, roles brought up to date.
 * @ret_created: whether any watch was created (its state is unknown: worth a dump)
 * Return: 0, or -ENOMEM (the watches that fit were made).
 */
int neighbor_table_update_watches(NeighborTable *t, bool *ret_created);
/* Free the retired watches. */
void neighbor_table_sweep_retired(NeighborTable *t);

/*
 * neighbor_table_on_neighbor() - the kernel's word on a neighbour: an entry in state @nud
 * (@present), or no entry any more. Tells the verdict it leads to, if any, through the
 * event function.
 * @now: CLOCK_MONOTONIC usec, for the rate limit
 * Return: the watch it concerns, or NULL if none does.
 */
NeighborWatch *neighbor_table_on_neighbor(NeighborTable *t, int ifindex, const NeighborAddr *a,
                                          bool present, uint16_t nud, uint64_t now);
/* Tell the verdicts the rate limit held back whose window has passed. */
void neighbor_table_flush(NeighborTable *t, uint64_t now);

/* Whether the periodic probe should ask the kernel about it: an entry the kernel would
 * confirm (REACHABLE, STALE, DELAY), one that failed or none (to resolve it again); not
 * one being resolved or probed, nor a static one. */
bool neighbor_watch_wants_probe(const NeighborWatch *w);

/* The live watches (retired ones included: check role). */
NeighborWatch *neighbor_table_watches(const NeighborTable *t);
size_t neighbor_table_n_watches(const NeighborTable *t);

/* ---- rtnetlink messages, decoded ---- */

typedef enum NeighborNlKind {
        NEIGHBOR_NL_ADDRESS,  /* addr/prefix_len of ifindex */
        NEIGHBOR_NL_GATEWAY,  /* a main-table default route via addr through ifindex */
        NEIGHBOR_NL_NEIGHBOR, /* the neighbour addr of ifindex in state nud */
        _NEIGHBOR_NL_KIND_MAX,
        _NEIGHBOR_NL_KIND_INVALID = -22,
} NeighborNlKind;

typedef struct NeighborNlMsg {
        NeighborNlKind kind;
        bool present;         /* RTM_NEW*, else RTM_DEL* */
        bool replace;         /* a route that replaced the one of its key (NLM_F_REPLACE) */
        int ifindex;
        NeighborAddr addr;
        unsigned prefix_len;  /* addresses */
        uint32_t metric;      /* routes */
        uint16_t nud;         /* neighbours */
} NeighborNlMsg;

/*
 * neighbor_nl_decode() - what an rtnetlink message says that the table wants to know.
 * @h: the message, its nlmsg_len bytes readable
 * @ret: room for NEIGHBOR_NEXTHOPS_MAX items (a multipath default route gives one each)
 *
 * Only RTM_{NEW,DEL}{ADDR,ROUTE,NEIGH} of IPv4 and IPv6 give anything: addresses; default
 * unicast routes of the main table with a gateway; neighbour entries that are not proxies.
 *
 * Return: how many items (0 for a message of no interest), or -EBADMSG for one that is
 * malformed (too short, an attribute of the wrong size).
 */
int neighbor_nl_decode(const struct nlmsghdr *h, NeighborNlMsg *ret);
