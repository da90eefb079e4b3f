/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "firewall.h"
#include "fwmark.h"
#include "ipc.h"
#include "log.h"
#include "rules.h"

int helper_port_rule(Helper *h, const IpcPortRule *m, ErrBuf *err) {
        PortRule rule = {};
        FwBatch b = {};
        char text[128];
        int r;

        /* Range checks before anything narrows: 65536 must not become 0. */
        if (m->input_dst_port > 65535 || m->dst_port > 65535)
                return errbuf_set(err, -EINVAL, "port above 65535");
        if (!m->ifname || strlen(m->ifname) >= sizeof rule.key.ifname)
                return errbuf_set(err, -EINVAL, "interface name too long");
        if ((unsigned) m->type > 0xff || (unsigned) m->proto > 0xff)
                return errbuf_set(err, -EINVAL, "rule type or protocol out of range");
        rule.key.type = (uint8_t) m->type;
        rule.key.proto = (uint8_t) m->proto;
        rule.key.port = (uint16_t) m->input_dst_port;
        rule.key.input_dst_ip = m->input_dst_ip;
        strcpy(rule.key.ifname, m->ifname);
        rule.dst_ip = m->dst_ip;
        rule.dst_port = (uint16_t) m->dst_port;
        r = port_rule_validate(&h->pools, &rule, err);
        if (r < 0)
                return r;

        port_rule_to_string(&rule, text, sizeof text);
        fw_batch_port_rule(&b, &rule, m->create);
        if (m->create)
                r = fw_batch_commit(h->nft, &b, "add the port rule", err);
        else
                r = fw_batch_commit_removal(h->nft, &b, "remove the port rule", err);
        if (r >= 0)
                log_debug("%s port rule %s", m->create ? "Added" : "Removed", text);
        return r;
}

int helper_counters_get(Helper *h, const IpcCountersGet *m, IpcCountersResult *ret,
                        ErrBuf *err) {
        /* What the last answer pointed to; it has been sent by now. */
        static FwCounter *counters;
        static IpcCounter *msgs;
        static IpcCounter **ptrs;
        size_t n = 0;
        int r;

        free(counters);
        free(msgs);
        free(ptrs);
        counters = NULL;
        msgs = NULL;
        ptrs = NULL;

        for (size_t i = 0; i < m->n_ifnames; i++)
                if (!m->ifnames[i] || m->ifnames[i][0] == '\0' ||
                    strlen(m->ifnames[i]) >= IFNAMSIZ)
                        return errbuf_set(err, -EINVAL, "invalid device name");
        r = fw_counters_read(h->nft, m->ifnames, m->n_ifnames, &counters, &n, err);
        if (r < 0)
                return r;
        msgs = calloc(n + 1, sizeof *msgs);
        ptrs = calloc(n + 1, sizeof *ptrs);
        if (!msgs || !ptrs)
                return errbuf_set(err, -ENOMEM, "out of memory for counters");
        for (size_t i = 0; i < n; i++) {
                patchpanel__ipc__counter__init(&msgs[i]);
                msgs[i].ifname = counters[i].ifname;
                msgs[i].source = counters[i].source;
                msgs[i].rx_bytes = counters[i].rx_bytes;
                msgs[i].rx_packets = counters[i].rx_packets;
                msgs[i].tx_bytes = counters[i].tx_bytes;
                msgs[i].tx_packets = counters[i].tx_packets;
                ptrs[i] = &msgs[i];
        }
        ret->counters = ptrs;
        ret->n_counters = n;
        /* The answer is one datagram: refuse rather than fail to send it. */
        if (protobuf_c_message_get_packed_size(&ret->base) > IPC_MESSAGE_MAX - 1024) {
                ret->n_counters = 0;
                return errbuf_set(err, -EMSGSIZE, "%zu counters do not fit in one answer; ask "
                                  "for fewer devices", n);
        }
        return 0;
}

int helper_vpn_intent(Helper *h, const IpcVpnIntent *m, int fd, ErrBuf *err) {
        uint32_t old = 0, mark;
        socklen_t len = sizeof old;

        (void) h;
        if (m->policy >= _VPN_POLICY_MAX)
                return errbuf_set(err, -EINVAL, "VPN policy %u is not DEFAULT_ROUTING, "
                                  "ROUTE_ON_VPN or BYPASS_VPN", m->policy);
        /* getsockopt() alone tells a socket from anything else (ENOTSOCK), without the
         * filesystem calls an fstat() of a caller's file could stall in. */
        if (getsockopt(fd, SOL_SOCKET, SO_MARK, &old, &len) < 0) {
                if (errno == ENOTSOCK)
                        return errbuf_set(err, -ENOTSOCK, "the fd is not a socket");
                return errbuf_set(err, -errno, "cannot read the socket's mark: %m");
        }
        mark = fwmark_apply(old, fwmark_from_vpn_policy((VpnPolicy) m->policy), FWMARK_VPN_MASK);
        if (mark != old && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0)
                return errbuf_set(err, -errno, "cannot set the socket's mark: %m");
        log_debug("Socket mark 0x%08x -> 0x%08x", old, mark);
        return 0;
}
