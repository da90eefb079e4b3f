/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "firewall.h"
#include "fwmark.h"
#include "link.h"
#include "ipc.h"
#include "log.h"
#include "rules.h"

int helper_port_rule(Helper *h, const PortRuleArgs *a, ErrBuf *err) {
        FwBatch b = {};
        char text[128];
        int r;

        port_rule_to_string(&a->rule, text, sizeof text);
        fw_batch_port_rule(&b, &a->rule, a->create);
        if (a->create)
                r = fw_batch_commit(h->nft, &b, "add the port rule", err);
        else
                r = fw_batch_commit_removal(h->nft, &b, "remove the port rule", err);
        if (r >= 0)
                log_debug("%s port rule %s", a->create ? "Added" : "Removed", text);
        return r;
}

int helper_adb_sideload(Helper *h, const AdbSideloadArgs *a, ErrBuf *err) {
        const PoolConfig *termina = &h->pools.pools[POOL_TERMINA];
        FwGuestSources src;
        FwBatch b = {};
        int r;

        fw_batch_adb_sideload(&b, a->tap, a->enable);
        if (!a->enable) {
                /* The TAP may be gone already (the VM stopped): what is left goes. */
                r = fw_batch_commit_removal(h->nft, &b, "end ADB from the VM", err);
                if (r < 0)
                        return r;
                r = link_set_route_localnet(a->tap, false, err);
                return r == -ENODEV ? 0 : r;
        }
        r = link_is_ours(h->nl, a->tap, NULL);
        if (r == -ENODEV)
                return errbuf_set(err, r, "no TAP %s", a->tap);
        if (r < 0)
                return errbuf_set(err, r, "%s is not the daemon's", a->tap);
        /* Loopback becomes routable from this TAP: only for a Termina VM's. */
        if (fw_guest_sources(a->tap, &src) < 0 || src.n_v4 == 0 ||
            src.v4[0].base < pool_config_first(termina) ||
            src.v4[0].base > pool_config_last(termina))
                return errbuf_set(err, -EPERM, "%s is not a Termina VM's TAP", a->tap);
        r = link_set_route_localnet(a->tap, true, err);
        if (r < 0)
                return r;
        r = fw_batch_commit(h->nft, &b, "allow ADB from the VM", err);
        if (r < 0)
                (void) link_set_route_localnet(a->tap, false, NULL);
        else
                log_debug("ADB from %s goes to adb-proxy", a->tap);
        return r;
}

void helper_counters_free(HelperCounters *c) {
        free(c->counters);
        free(c->msgs);
        free(c->ptrs);
        *c = (HelperCounters) {};
}

int helper_counters_get(Helper *h, const CountersGetArgs *a, HelperCounters *ret, ErrBuf *err) {
        HelperCounters c = {};
        size_t n = 0;
        int r;

        patchpanel__ipc__counters_result__init(&c.msg);
        r = fw_counters_read(h->nft, a->ifnames, a->n_ifnames, &c.counters, &n, err);
        if (r < 0)
                return r;
        c.msgs = calloc(n + 1, sizeof *c.msgs);
        c.ptrs = calloc(n + 1, sizeof *c.ptrs);
        if (!c.msgs || !c.ptrs) {
                helper_counters_free(&c);
                return errbuf_set(err, -ENOMEM, "out of memory for counters");
        }
        for (size_t i = 0; i < n; i++) {
                patchpanel__ipc__counter__init(&c.msgs[i]);
                c.msgs[i].ifname = c.counters[i].ifname;
                c.msgs[i].source = c.counters[i].source;
                c.msgs[i].rx_bytes = c.counters[i].rx_bytes;
                c.msgs[i].rx_packets = c.counters[i].rx_packets;
                c.msgs[i].tx_bytes = c.counters[i].tx_bytes;
                c.msgs[i].tx_packets = c.counters[i].tx_packets;
                c.ptrs[i] = &c.msgs[i];
        }
        c.msg.counters = c.ptrs;
        c.msg.n_counters = n;
        /* The answer is one datagram: refuse rather than fail to send it. */
        if (protobuf_c_message_get_packed_size(&c.msg.base) > IPC_MESSAGE_MAX - 1024) {
                helper_counters_free(&c);
                return errbuf_set(err, -EMSGSIZE, "%zu counters do not fit in one answer; ask "
                                  "for fewer devices", n);
        }
        *ret = c;
        return 0;
}

int helper_vpn_intent(Helper *h, const VpnIntentArgs *a, ErrBuf *err) {
        uint32_t old = 0, mark;
        socklen_t len = sizeof old;
        int fd = a->fd;

        (void) h;
        /* getsockopt() alone tells a socket from anything else (ENOTSOCK), without the
         * filesystem calls an fstat() of a caller's file could stall in. */
        if (getsockopt(fd, SOL_SOCKET, SO_MARK, &old, &len) < 0) {
                if (errno == ENOTSOCK)
                        return errbuf_set(err, -ENOTSOCK, "the fd is not a socket");
                return errbuf_set(err, -errno, "cannot read the socket's mark: %m");
        }
        mark = fwmark_apply(old, fwmark_from_vpn_policy(a->policy), FWMARK_VPN_MASK);
        if (mark != old && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0)
                return errbuf_set(err, -errno, "cannot set the socket's mark: %m");
        log_debug("Socket mark 0x%08x -> 0x%08x", old, mark);
        return 0;
}
