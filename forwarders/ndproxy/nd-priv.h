/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * ndproxyd standalone, the privileged half: the parent process keeps CAP_NET_ADMIN (and
 * CAP_KILL to pass SIGUSR1 on to a child of another user), reads no packet, and does on request of the unprivileged child only what
 * proto/ipc.proto's NdPriv* messages name, each checked against its own command line and
 * the kernel:
 *   NdPrivUplink  the uplink it was started for, by ifindex: accept_ra=2 on it, proxy_ndp=1
 *                 and neigh proxy_delay=0 there, then net.ipv6.conf.all.forwarding=1
 *                 (the earlier values back at exit);
 *   NdPrivRoute   a /128 route through one of its downlinks for a guest address that
 *                 passes route6_check_guest_address(), and the address's proxy entry on the
 *                 uplink (the kernel answers the uplink's NS for it); or their removal.
 * Routes and proxy entries carry RTPROT_NDPROXYD; every one it made goes when it exits,
 * and at start it removes those of its links that a killed run left. The child's end of the socket
 * closing, or the child's exit, ends the parent (with the child's status).
 */

#include <sys/types.h>

#include "seccomp-policy.h"

typedef struct NdPrivConfig {
        const char *uplink;
        char *const *downlinks;
        size_t n_downlinks;
        SeccompMode seccomp;
} NdPrivConfig;

/*
 * nd_priv_run() - the parent's life: sandbox, serve the child on @channel_fd, clean up.
 * @channel_fd: the parent's end of the socketpair (taken over)
 * @child: the child's pid
 * @config: the names it serves
 *
 * Return: the exit status for the process.
 */
int nd_priv_run(int channel_fd, pid_t child, const NdPrivConfig *config);

/* The parent's seccomp policy (seccomp/ndproxyd-priv.policy). */
extern const char seccomp_policy_ndproxyd_priv[];
