/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "connected-ns.h"
#include "guests.h"
#include "routing.h"
#include "firewall.h"
#include "rules.h"
#include "helper.h"
#include "ifname.h"
#include "link.h"
#include "log.h"

/* Ours: every link carrying our mark (link_mark_is_ours()), and ConnectNamespace veths,
 * whose names are ours alone (runs before the mark came with creation could die between
 * creating one and marking it). */
static bool is_own_link(const char *name, const char *alias, uint32_t group) {
        uint32_t id;
        return link_mark_is_ours(alias, group) || ifname_parse_connected_ns_host(name, &id) == 0;
}

/* The only sysctl writes the helper makes; paths are constants, never from a request. */
static int sysctl_write(const char *path, const char *value, ErrBuf *err) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        size_t n = strlen(value);

        if (fd < 0)
                return errbuf_set(err, -errno, "cannot open %s: %m", path);
        if (write(fd, value, n) != (ssize_t) n)
                return errbuf_set(err, -errno ?: -EIO, "cannot write %s: %m", path);
        return 0;
}

static int helper_datapath_start(Helper *h, const IpcDatapathStart *m, ErrBuf *err) {
        FwConfig config = h->fw;
        unsigned n = 0;
        int r;

        config.ingress_firewall = m->ingress_firewall;
        r = fw_tables_replace(h->nft, &config, err);
        if (r < 0)
                return r;
        /* From here on there is something to remove at exit, even if a later step fails. */
        h->datapath_started = true;
        /* Interfaces of an earlier run that ended without its teardown (a crash, SIGKILL):
         * their owners' lifelines died with that run. */
        r = link_delete_matching(h->nl, h->ioctl_fd, is_own_link, &n);
        if (r < 0)
                return errbuf_set(err, r, "cannot delete leftover interfaces: %s", strerror(-r));
        if (n > 0)
                log_info("Deleted %u interfaces left behind by an earlier run", n);
        r = routing_remove_all(h, err);
        if (r < 0)
                return r;
        r = routing_guests_add(h, err);
        if (r < 0)
                return r;
        /* The manager hears of foreign drop policies right after this answer. */
        h->foreign_dirty = true;
        h->foreign_sent = false;
        return sysctl_write("/proc/sys/net/ipv4/ip_forward", "1", err);
}

int helper_datapath_stop(Helper *h, ErrBuf *err) {
        unsigned n = 0;
        int r, k;

        r = link_delete_matching(h->nl, h->ioctl_fd, is_own_link, &n);
        if (r < 0)
                errbuf_set(err, r, "cannot delete interfaces: %s", strerror(-r));
        k = routing_remove_all(h, r < 0 ? NULL : err);
        if (k < 0 && r == 0)
                r = k;
        k = fw_tables_remove(h->nft, r < 0 ? NULL : err);
        if (k < 0 && r == 0)
                r = k;
        if (n > 0)
                log_debug("Deleted %u interfaces at stop", n);
        h->datapath_started = false;
        return r;
}

size_t helper_request_n_fds(const HelperRequest *req) {
        switch (req->op_case) {
        case OP(NS_CONNECT):
                return 1;
        case OP(ARC_ADD):
                return req->arc_add->vm ? 0 : 1;
        case OP(ARC_UPLINK_ADD):
                return req->arc_uplink_add->vm ? 0 : 1;
        case OP(VPN_INTENT):
                return 1;
        default:
                return 0;
        }
}

void helper_dispatch_request(Helper *h, const HelperRequest *req, const int *fds,
                             HelperResponse *resp, ErrBuf *err) {
        /* Results live until the response is packed, after this returns. */
        static IpcNsConnectResult ns_result;
        static IpcTapResult tap_result;
        static char tap_name[IFNAMSIZ];
        static IpcArcAddResult arc_result;
        static char arc_taps[ARC_VM_N_TAPS][IFNAMSIZ];
        static char *arc_tap_ptrs[ARC_VM_N_TAPS];
        static IpcCountersResult counters_result;
        int r;

        resp->id = req->id;
        switch (req->op_case) {
        case OP(DATAPATH_START):
                r = helper_datapath_start(h, req->datapath_start, err);
                break;
        case OP(DATAPATH_STOP):
                r = helper_datapath_stop(h, err);
                break;
        case OP(NS_CONNECT):
                patchpanel__ipc__ns_connect_result__init(&ns_result);
                r = helper_ns_connect(h, req->ns_connect, fds[0], &ns_result, err);
                if (r >= 0) {
                        resp->result_case = RESULT(NS_CONNECT);
                        resp->ns_connect = &ns_result;
                }
                break;
        case OP(NS_DISCONNECT):
                r = helper_ns_disconnect(h, req->ns_disconnect, err);
                break;
        case OP(UPLINK_ADD):
                r = routing_uplink_add(h, req->uplink_add->ifname, req->uplink_add->ifindex, err);
                break;
        case OP(UPLINK_SYNC):
                r = routing_uplink_sync(h, req->uplink_sync->ifname, req->uplink_sync->ifindex,
                                        err);
                break;
        case OP(UPLINK_REMOVE):
                r = routing_uplink_remove(h, req->uplink_remove->ifname,
                                          req->uplink_remove->ifindex, err);
                break;
        case OP(VM_TAP_ADD):
                patchpanel__ipc__tap_result__init(&tap_result);
                tap_result.ifname = tap_name;
                r = helper_vm_tap_add(h, req->vm_tap_add, &tap_result, err);
                if (r >= 0) {
                        resp->result_case = RESULT(TAP);
                        resp->tap = &tap_result;
                }
                break;
        case OP(VM_TAP_REMOVE):
                r = helper_vm_tap_remove(h, req->vm_tap_remove, err);
                break;
        case OP(ARC_ADD):
                r = helper_arc_add(h, req->arc_add, req->arc_add->vm ? -EBADF : fds[0], arc_taps,
                                   err);
                if (r >= 0) {
                        patchpanel__ipc__arc_add_result__init(&arc_result);
                        if (req->arc_add->vm) {
                                for (unsigned i = 0; i < ARC_VM_N_TAPS; i++)
                                        arc_tap_ptrs[i] = arc_taps[i];
                                arc_result.taps = arc_tap_ptrs;
                                arc_result.n_taps = ARC_VM_N_TAPS;
                        }
                        resp->result_case = RESULT(ARC_ADD);
                        resp->arc_add = &arc_result;
                }
                break;
        case OP(ARC_REMOVE):
                r = helper_arc_remove(h, req->arc_remove, err);
                break;
        case OP(ARC_UPLINK_ADD):
                r = helper_arc_uplink_add(h, req->arc_uplink_add,
                                          req->arc_uplink_add->vm ? -EBADF : fds[0], err);
                break;
        case OP(ARC_UPLINK_REMOVE):
                r = helper_arc_uplink_remove(h, req->arc_uplink_remove, err);
                break;
        case OP(PORT_RULE):
                r = helper_port_rule(h, req->port_rule, err);
                break;
        case OP(COUNTERS_GET):
                patchpanel__ipc__counters_result__init(&counters_result);
                r = helper_counters_get(h, req->counters_get, &counters_result, err);
                if (r >= 0) {
                        resp->result_case = RESULT(COUNTERS);
                        resp->counters = &counters_result;
                }
                break;
        case OP(VPN_INTENT):
                r = helper_vpn_intent(h, req->vpn_intent, fds[0], err);
                break;
        case OP(VPN_BYPASS):
                r = routing_vpn_bypass(h, req->vpn_bypass->ifname, req->vpn_bypass->ifindex, err);
                break;
        default:
                r = errbuf_set(err, -EOPNOTSUPP, "unknown operation %d", (int) req->op_case);
        }

        resp->status = r < 0 ? r : 0;
        if (r < 0) {
                if (err->msg[0] == '\0')
                        errbuf_set(err, r, "%s", strerror(-r));
                resp->message = err->msg;
                log_debug("Request %llu failed: %s", (unsigned long long) req->id, err->msg);
        }
}
