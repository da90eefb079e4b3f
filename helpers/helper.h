/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <sys/types.h>

#include "errbuf.h"
#include "firewall.h"
#include "ipc-msg.h"
#include "rtnl.h"
#include "pool.h"

struct nl_sock;
typedef struct LinkReaper LinkReaper;

/* Uplinks the helper keeps in mind at most (routing_uplink_add()). */
#define HELPER_UPLINKS_MAX 1024u

/* An uplink the manager has told the helper of, and the helper has set up. */
typedef struct HelperUplink {
        int ifindex;
        char ifname[IFNAMSIZ];
} HelperUplink;

/* A request as received, with the fds that came with it (owned here until freed). */
typedef struct Received {
        HelperRequest *req;
        int fds[1];
        size_t n_fds;
} Received;

typedef struct Helper {
        int ipc_fd;          /* socket to the manager; its close ends the helper */
        int host_netns_fd;   /* the netns the helper started in, to return to after setns() */
        pid_t self_pid;
        pid_t manager_pid;
        PoolLayout pools;    /* from the command line, fixed before the first request */
        FwConfig fw;         /* the same for the firewall's uids; DatapathStart adds the rest */
        uid_t tap_owner;     /* owner of the TAPs it makes, fixed at start as the above */
        struct nl_sock *nl;  /* rtnetlink in the host netns */
        Rtnl rtnl;           /* the same, raw, for batches of requests (rtnl.h) */
        LinkReaper *reaper;  /* deletes cut-off links on a thread of its own; NULL: inline */
        int ioctl_fd;        /* AF_UNIX datagram socket in the host netns, for SIOCGIFINDEX */
        int signal_fd;       /* SIGTERM, SIGINT, SIGHUP */
        Fw *nft;             /* the nftables backend (firewall.c) */
        bool datapath_started;
        char ipv6_forwarding_before; /* net.ipv6.conf.all.forwarding before we set it, or 0 */
        Received stashed;    /* read ahead while batching; served next */
        /* Set up by UplinkAdd and not removed since: the links the helper calls uplinks
         * where a request only makes sense for one (NeighborProbe). */
        HelperUplink uplinks[HELPER_UPLINKS_MAX];
        size_t n_uplinks;
        int nfmon_fd;        /* nftables events (nfmon.c) */
        bool foreign_dirty;  /* the foreign chains may have changed: look again */
        bool foreign_sent;   /* the manager has heard of foreign[] */
        ForeignDrop foreign[FOREIGN_DROPS_MAX];
        size_t n_foreign;
} Helper;

/* How many fds must come with a request (proto/ipc.proto says which carry one), or -1 for
 * an operation the helper does not know. */
int helper_request_n_fds(const HelperRequest *req);

/*
 * helper_request_check() - turn a request into its checked arguments, without touching the
 * kernel: the first half of every request's dispatch, and what the fuzzer drives.
 * @fds: the request's fds (already counted against helper_request_n_fds())
 * @ret: storage for the arguments, at least helper_args_size() bytes
 * Return: 0, or a negative errno with the reason in @err.
 */
int helper_request_check(const Helper *h, const HelperRequest *req, const int *fds, void *ret,
                         ErrBuf *err);
size_t helper_args_size(void);

/*
 * helper_dispatch_ipc() - receive, check, act, answer, free: one request, or a run of
 * teardowns that arrived together. A protocol violation by the manager ends the helper.
 * Return: 0 to go on, 1 when the manager has closed the socket or a signal asks to stop.
 */
int helper_dispatch_ipc(Helper *h);

/* Send an event (id 0). Return: 0, or 1 when the helper must stop. */
int helper_send_event(Helper *h, HelperResponse *ev);

/* Delete every interface and table the helper owns; used on DatapathStop and at exit. */
int helper_datapath_stop(Helper *h, ErrBuf *err);
