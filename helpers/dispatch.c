/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The helper's one dispatch path: a table with, per operation, its message case, the fds it
 * carries, the check that turns the message into checked arguments (validate.h), and the
 * handler that acts on those arguments only. A request is received (the framing and the fd
 * count are checked), checked, handled, answered and freed; teardowns that arrive together
 * are handled as one run (their links cut off in one send, their elements in one batch),
 * each still checked and answered on its own; the links' deletion, and its wait for the
 * kernel's grace periods, is the link reaper's (link-reaper.h), off this thread. Results live in a HelperResult per request, never in static
 * storage.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connected-ns.h"
#include "guests.h"
#include "ipv6.h"
#include "routing.h"
#include "firewall.h"
#include "rules.h"
#include "helper.h"
#include "ifname.h"
#include "ipc.h"
#include "link.h"
#include "log.h"
#include "neighbor.h"
#include "validate.h"

/* Teardowns handled together at most. */
#define DISPATCH_RUN_MAX 128u

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

static int helper_datapath_start(Helper *h, bool ingress_firewall, bool guest_ipv6, ErrBuf *err) {
        FwConfig config = h->fw;
        unsigned n = 0;
        int r;

        config.ingress_firewall = ingress_firewall;
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
        if (r >= 0 && guest_ipv6)
                r = routing_guests_ipv6_add(h, err);
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
        helper_ipv6_stop(h);
        if (n > 0)
                log_debug("Deleted %u interfaces at stop", n);
        h->datapath_started = false;
        return r;
}

/* ---- the table ---------------------------------------------------------------------- */

/* The checked arguments of any operation. */
typedef union HelperArgs {
        struct {
                bool ingress_firewall;
                bool guest_ipv6;
        } datapath_start;
        NsConnectArgs ns_connect;
        NsDisconnectArgs ns_disconnect;
        UplinkArgs uplink;
        VmTapAddArgs vm_tap_add;
        TapArgs tap;
        ArcAddArgs arc_add;
        ArcRemoveArgs arc_remove;
        ArcUplinkAddArgs arc_uplink_add;
        ArcUplinkRemoveArgs arc_uplink_remove;
        PortRuleArgs port_rule;
        CountersGetArgs counters_get;
        VpnIntentArgs vpn_intent;
        AdbSideloadArgs adb_sideload;
        NeighborProbeArgs neighbor_probe;
        GuestLinkArgs guest_link;
        GuestRoute6Args guest_route6;
} HelperArgs;

/* What one request answers with; it lives until its answer is sent. */
typedef struct HelperResult {
        IpcNsConnectResult ns_connect;
        IpcTapResult tap;
        char tap_name[IFNAMSIZ];
        IpcArcAddResult arc_add;
        char arc_taps[ARC_VM_N_TAPS][IFNAMSIZ];
        char *arc_tap_ptrs[ARC_VM_N_TAPS];
        HelperCounters counters;
} HelperResult;

typedef struct HelperOp {
        int op_case;
        const char *name;
        size_t (*n_fds)(const HelperRequest *req); /* NULL: none */
        int (*check)(const Helper *h, const HelperRequest *req, const int *fds, HelperArgs *ret,
                     ErrBuf *err);
        int (*handle)(Helper *h, const HelperArgs *a, HelperResult *res, HelperResponse *resp,
                      ErrBuf *err);
        /* Instead of handle: a run of these requests at once; status[i], errs[i] each's. */
        void (*handle_run)(Helper *h, const HelperArgs *const *a, size_t n, int *status,
                           ErrBuf *errs);
} HelperOp;

static size_t fds_one(const HelperRequest *req) {
        (void) req;
        return 1;
}

static size_t fds_arc_add(const HelperRequest *req) {
        return req->arc_add->vm ? 0 : 1; /* a container's pidfd */
}

static size_t fds_arc_uplink_add(const HelperRequest *req) {
        return req->arc_uplink_add->vm ? 0 : 1;
}

static int check_datapath_start(const Helper *h, const HelperRequest *req, const int *fds,
                                HelperArgs *ret, ErrBuf *err) {
        (void) h;
        (void) fds;
        (void) err;
        ret->datapath_start.ingress_firewall = req->datapath_start->ingress_firewall;
        ret->datapath_start.guest_ipv6 = req->datapath_start->guest_ipv6;
        return 0;
}

static int handle_datapath_start(Helper *h, const HelperArgs *a, HelperResult *res,
                                 HelperResponse *resp, ErrBuf *err) {
        (void) res;
        (void) resp;
        return helper_datapath_start(h, a->datapath_start.ingress_firewall,
                                     a->datapath_start.guest_ipv6, err);
}

static int check_nothing(const Helper *h, const HelperRequest *req, const int *fds,
                         HelperArgs *ret, ErrBuf *err) {
        (void) h;
        (void) req;
        (void) fds;
        (void) ret;
        (void) err;
        return 0;
}

static int handle_datapath_stop(Helper *h, const HelperArgs *a, HelperResult *res,
                                HelperResponse *resp, ErrBuf *err) {
        (void) a;
        (void) res;
        (void) resp;
        return helper_datapath_stop(h, err);
}

static int check_ns_connect(const Helper *h, const HelperRequest *req, const int *fds,
                            HelperArgs *ret, ErrBuf *err) {
        int r = validate_ns_connect(&h->pools, req->ns_connect, h->self_pid, h->manager_pid,
                                    &ret->ns_connect, err);
        if (r >= 0)
                ret->ns_connect.pidfd = fds[0];
        return r;
}

static int handle_ns_connect(Helper *h, const HelperArgs *a, HelperResult *res,
                             HelperResponse *resp, ErrBuf *err) {
        int r;

        patchpanel__ipc__ns_connect_result__init(&res->ns_connect);
        r = helper_ns_connect(h, &a->ns_connect, &res->ns_connect, err);
        if (r >= 0) {
                resp->result_case = RESULT(NS_CONNECT);
                resp->ns_connect = &res->ns_connect;
        }
        return r;
}

static int check_ns_disconnect(const Helper *h, const HelperRequest *req, const int *fds,
                               HelperArgs *ret, ErrBuf *err) {
        (void) h;
        (void) fds;
        return validate_ns_disconnect(req->ns_disconnect, &ret->ns_disconnect, err);
}

static void handle_ns_disconnects(Helper *h, const HelperArgs *const *a, size_t n, int *status,
                                  ErrBuf *errs) {
        const NsDisconnectArgs *as[DISPATCH_RUN_MAX];

        for (size_t i = 0; i < n; i++)
                as[i] = &a[i]->ns_disconnect;
        helper_ns_disconnect_many(h, as, n, status, errs);
}

#define CHECK_UPLINK(name, field, allow_none)                                                \
        static int check_##name(const Helper *h, const HelperRequest *req, const int *fds,   \
                                HelperArgs *ret, ErrBuf *err) {                              \
                (void) h;                                                                    \
                (void) fds;                                                                  \
                return validate_uplink(req->field->ifname, req->field->ifindex, allow_none, \
                                       &ret->uplink, err);                                   \
        }
CHECK_UPLINK(uplink_sync, uplink_sync, false)
CHECK_UPLINK(uplink_remove, uplink_remove, false)
CHECK_UPLINK(vpn_bypass, vpn_bypass, true)

static int check_uplink_add(const Helper *h, const HelperRequest *req, const int *fds,
                            HelperArgs *ret, ErrBuf *err) {
        int r;

        (void) h;
        (void) fds;
        r = validate_uplink(req->uplink_add->ifname, req->uplink_add->ifindex, false,
                            &ret->uplink, err);
        if (r >= 0)
                ret->uplink.keep_slaac = req->uplink_add->keep_slaac;
        return r;
}

static int handle_uplink_add(Helper *h, const HelperArgs *a, HelperResult *res,
                             HelperResponse *resp, ErrBuf *err) {
        int r;

        (void) res;
        (void) resp;
        r = routing_uplink_add(h, &a->uplink, err);
        if (r >= 0 && a->uplink.keep_slaac)
                r = helper_uplink_keep_slaac(h, &a->uplink, err);
        return r;
}

static int handle_uplink_sync(Helper *h, const HelperArgs *a, HelperResult *res,
                              HelperResponse *resp, ErrBuf *err) {
        (void) res;
        (void) resp;
        return routing_uplink_sync(h, &a->uplink, err);
}

static int handle_uplink_remove(Helper *h, const HelperArgs *a, HelperResult *res,
                                HelperResponse *resp, ErrBuf *err) {
        (void) res;
        (void) resp;
        return routing_uplink_remove(h, &a->uplink, err);
}

static int handle_vpn_bypass(Helper *h, const HelperArgs *a, HelperResult *res,
                             HelperResponse *resp, ErrBuf *err) {
        (void) res;
        (void) resp;
        return routing_vpn_bypass(h, &a->uplink, err);
}

static int check_vm_tap_add(const Helper *h, const HelperRequest *req, const int *fds,
                            HelperArgs *ret, ErrBuf *err) {
        (void) fds;
        return validate_vm_tap_add(&h->pools, req->vm_tap_add, &ret->vm_tap_add, err);
}

static int handle_vm_tap_add(Helper *h, const HelperArgs *a, HelperResult *res,
                             HelperResponse *resp, ErrBuf *err) {
        int r;

        patchpanel__ipc__tap_result__init(&res->tap);
        r = helper_vm_tap_add(h, &a->vm_tap_add, res->tap_name, &res->tap.ifindex, err);
        if (r >= 0) {
                res->tap.ifname = res->tap_name;
                resp->result_case = RESULT(TAP);
                resp->tap = &res->tap;
        }
        return r;
}

static int check_vm_tap_remove(const Helper *h, const HelperRequest *req, const int *fds,
                               HelperArgs *ret, ErrBuf *err) {
        (void) h;
        (void) fds;
        return validate_vm_tap_remove(req->vm_tap_remove, &ret->tap, err);
}

static int handle_vm_tap_remove(Helper *h, const HelperArgs *a, HelperResult *res,
                                HelperResponse *resp, ErrBuf *err) {
        (void) res;
        (void) resp;
        return helper_vm_tap_remove(h, &a->tap, err);
}

static int check_arc_add(const Helper *h, const HelperRequest *req, const int *fds,
                         HelperArgs *ret, ErrBuf *err) {
        int r = validate_arc_add(req->arc_add, h->self_pid, h->manager_pid, &ret->arc_add, err);
        if (r >= 0 && !ret->arc_add.vm)
                ret->arc_add.pidfd = fds[0];
        return r;
}

static int handle_arc_add(Helper *h, const HelperArgs *a, HelperResult *res,
                          HelperResponse *resp, ErrBuf *err) {
        int r;

        patchpanel__ipc__arc_add_result__init(&res->arc_add);
        r = helper_arc_add(h, &a->arc_add, res->arc_taps, err);
        if (r < 0)
                return r;
        if (a->arc_add.vm) {
                for (unsigned i = 0; i < ARC_VM_N_TAPS; i++)
                        res->arc_tap_ptrs[i] = res->arc_taps[i];
                res->arc_add.taps = res->arc_tap_ptrs;
                res->arc_add.n_taps = ARC_VM_N_TAPS;
        }
        resp->result_case = RESULT(ARC_ADD);
        resp->arc_add = &res->arc_add;
        return 0;
}

static int check_arc_remove(const Helper *h, const HelperRequest *req, const int *fds,
                            HelperArgs *ret, ErrBuf *err) {
        (void) h;
        (void) fds;
        return validate_arc_remove(req->arc_remove, &ret->arc_remove, err);
}

static int handle_arc_remove(Helper *h, const HelperArgs *a, HelperResult *res,
                             HelperResponse *resp, ErrBuf *err) {
        (void) res;
        (void) resp;
        return helper_arc_remove(h, &a->arc_remove, err);
}

static int check_arc_uplink_add(const Helper *h, const HelperRequest *req, const int *fds,
                                HelperArgs *ret, ErrBuf *err) {
        int r = validate_arc_uplink_add(&h->pools, req->arc_uplink_add, h->self_pid,
                                        h->manager_pid, &ret->arc_uplink_add, err);
        if (r >= 0 && !ret->arc_uplink_add.vm)
                ret->arc_uplink_add.pidfd = fds[0];
        return r;
}

static int handle_arc_uplink_add(Helper *h, const HelperArgs *a, HelperResult *res,
                                 HelperResponse *resp, ErrBuf *err) {
        (void) res;
        (void) resp;
        return helper_arc_uplink_add(h, &a->arc_uplink_add, err);
}

static int check_arc_uplink_remove(const Helper *h, const HelperRequest *req, const int *fds,
                                   HelperArgs *ret, ErrBuf *err) {
        (void) h;
        (void) fds;
        return validate_arc_uplink_remove(req->arc_uplink_remove, &ret->arc_uplink_remove, err);
}

static int handle_arc_uplink_remove(Helper *h, const HelperArgs *a, HelperResult *res,
                                    HelperResponse *resp, ErrBuf *err) {
        (void) res;
        (void) resp;
        return helper_arc_uplink_remove(h, &a->arc_uplink_remove, err);
}

static int check_port_rule(const Helper *h, const HelperRequest *req, const int *fds,
                           HelperArgs *ret, ErrBuf *err) {
        (void) fds;
        return validate_port_rule(&h->pools, req->port_rule, &ret->port_rule, err);
}

static int handle_port_rule(Helper *h, const HelperArgs *a, HelperResult *res,
                            HelperResponse *resp, ErrBuf *err) {
        (void) res;
        (void) resp;
        return helper_port_rule(h, &a->port_rule, err);
}

static int check_counters_get(const Helper *h, const HelperRequest *req, const int *fds,
                              HelperArgs *ret, ErrBuf *err) {
        (void) h;
        (void) fds;
        return validate_counters_get(req->counters_get, &ret->counters_get, err);
}

static int handle_counters_get(Helper *h, const HelperArgs *a, HelperResult *res,
                               HelperResponse *resp, ErrBuf *err) {
        int r = helper_counters_get(h, &a->counters_get, &res->counters, err);

        if (r >= 0) {
                resp->result_case = RESULT(COUNTERS);
                resp->counters = &res->counters.msg;
        }
        return r;
}

static int check_vpn_intent(const Helper *h, const HelperRequest *req, const int *fds,
                            HelperArgs *ret, ErrBuf *err) {
        int r;

        (void) h;
        r = validate_vpn_intent(req->vpn_intent, &ret->vpn_intent, err);
        if (r >= 0)
                ret->vpn_intent.fd = fds[0];
        return r;
}

static int handle_vpn_intent(Helper *h, const HelperArgs *a, HelperResult *res,
                             HelperResponse *resp, ErrBuf *err) {
        (void) res;
        (void) resp;
        return helper_vpn_intent(h, &a->vpn_intent, err);
}

static int check_adb_sideload(const Helper *h, const HelperRequest *req, const int *fds,
                              HelperArgs *ret, ErrBuf *err) {
        (void) h;
        (void) fds;
        return validate_adb_sideload(req->adb_sideload, &ret->adb_sideload, err);
}

static int handle_adb_sideload(Helper *h, const HelperArgs *a, HelperResult *res,
                               HelperResponse *resp, ErrBuf *err) {
        (void) res;
        (void) resp;
        return helper_adb_sideload(h, &a->adb_sideload, err);
}

static int check_neighbor_probe(const Helper *h, const HelperRequest *req, const int *fds,
                                HelperArgs *ret, ErrBuf *err) {
        (void) h;
        (void) fds;
        return validate_neighbor_probe(req->neighbor_probe, &ret->neighbor_probe, err);
}

static int handle_neighbor_probe(Helper *h, const HelperArgs *a, HelperResult *res,
                                 HelperResponse *resp, ErrBuf *err) {
        (void) res;
        (void) resp;
        return helper_neighbor_probe(h, &a->neighbor_probe, err);
}

static int check_guest_ipv6_enable(const Helper *h, const HelperRequest *req, const int *fds,
                                   HelperArgs *ret, ErrBuf *err) {
        (void) h;
        (void) fds;
        return validate_guest_ipv6_enable(req->guest_ipv6_enable, &ret->guest_link, err);
}

static int handle_guest_ipv6_enable(Helper *h, const HelperArgs *a, HelperResult *res,
                                    HelperResponse *resp, ErrBuf *err) {
        (void) res;
        (void) resp;
        return helper_guest_ipv6_enable(h, &a->guest_link, err);
}

static int check_guest_route6(const Helper *h, const HelperRequest *req, const int *fds,
                              HelperArgs *ret, ErrBuf *err) {
        (void) h;
        (void) fds;
        return validate_guest_route6(req->guest_route6, &ret->guest_route6, err);
}

static int handle_guest_route6(Helper *h, const HelperArgs *a, HelperResult *res,
                               HelperResponse *resp, ErrBuf *err) {
        (void) res;
        (void) resp;
        return helper_guest_route6(h, &a->guest_route6, err);
}

#define SINGLE(NAME, name, fds) \
        { OP(NAME), #name, fds, check_##name, handle_##name, NULL }

static const HelperOp helper_ops[] = {
        { OP(DATAPATH_START), "datapath_start", NULL, check_datapath_start,
          handle_datapath_start, NULL },
        { OP(DATAPATH_STOP), "datapath_stop", NULL, check_nothing, handle_datapath_stop, NULL },
        SINGLE(NS_CONNECT, ns_connect, fds_one),
        { OP(NS_DISCONNECT), "ns_disconnect", NULL, check_ns_disconnect, NULL,
          handle_ns_disconnects },
        SINGLE(UPLINK_ADD, uplink_add, NULL),
        SINGLE(UPLINK_SYNC, uplink_sync, NULL),
        SINGLE(UPLINK_REMOVE, uplink_remove, NULL),
        SINGLE(VM_TAP_ADD, vm_tap_add, NULL),
        SINGLE(VM_TAP_REMOVE, vm_tap_remove, NULL),
        SINGLE(ARC_ADD, arc_add, fds_arc_add),
        SINGLE(ARC_REMOVE, arc_remove, NULL),
        SINGLE(ARC_UPLINK_ADD, arc_uplink_add, fds_arc_uplink_add),
        SINGLE(ARC_UPLINK_REMOVE, arc_uplink_remove, NULL),
        SINGLE(PORT_RULE, port_rule, NULL),
        SINGLE(COUNTERS_GET, counters_get, NULL),
        SINGLE(VPN_INTENT, vpn_intent, fds_one),
        SINGLE(VPN_BYPASS, vpn_bypass, NULL),
        SINGLE(ADB_SIDELOAD, adb_sideload, NULL),
        SINGLE(NEIGHBOR_PROBE, neighbor_probe, NULL),
        SINGLE(GUEST_IPV6_ENABLE, guest_ipv6_enable, NULL),
        SINGLE(GUEST_ROUTE6, guest_route6, NULL),
};

static const HelperOp *helper_op_find(int op_case) {
        for (size_t i = 0; i < ELEMENTSOF(helper_ops); i++)
                if (helper_ops[i].op_case == op_case)
                        return &helper_ops[i];
        return NULL;
}

int helper_request_n_fds(const HelperRequest *req) {
        const HelperOp *op = helper_op_find((int) req->op_case);

        if (!op)
                return -1;
        return op->n_fds ? (int) op->n_fds(req) : 0;
}

size_t helper_args_size(void) {
        return sizeof(HelperArgs);
}

int helper_request_check(const Helper *h, const HelperRequest *req, const int *fds, void *ret,
                         ErrBuf *err) {
        const HelperOp *op = helper_op_find((int) req->op_case);

        if (!op)
                return errbuf_set(err, -EOPNOTSUPP, "unknown operation %d", (int) req->op_case);
        return op->check(h, req, fds, ret, err);
}

/* ---- the channel ------------------------------------------------------------------------ */

static void helper_cleanup(Helper *h) {
        ErrBuf err = {};

        if (h->datapath_started && helper_datapath_stop(h, &err) < 0)
                log_warning("Teardown at exit incomplete: %s", err.msg);
}

/*
 * Receive one request with its fds: 1 with one, 0 when none is queued, -EPIPE when the
 * manager has closed the socket. A protocol violation ends the helper.
 */
static int helper_receive(Helper *h, Received *ret) {
        HelperRequest *req = NULL;
        int fds[1] = { -EBADF };
        size_t n_fds = 0;
        int r, want;

        r = ipc_recv(h->ipc_fd, &patchpanel__ipc__helper_request__descriptor,
                     (ProtobufCMessage **) &req, fds, ELEMENTSOF(fds), &n_fds);
        if (r == -EAGAIN || r == -EINTR)
                return 0;
        if (r == 0)
                return -EPIPE;
        if (r < 0) {
                /* The manager broke the protocol: it is buggy or compromised. */
                helper_cleanup(h);
                log_fatal("Bad message from the manager: %s", strerror(-r));
        }
        want = helper_request_n_fds(req);
        if (want >= 0 && n_fds != (size_t) want) {
                for (size_t i = 0; i < n_fds; i++)
                        safe_close(fds[i]);
                helper_cleanup(h);
                log_fatal("Request %llu of type %d came with %zu fds, expected %d",
                          (unsigned long long) req->id, (int) req->op_case, n_fds, want);
        }
        *ret = (Received) { .req = req, .fds = { fds[0] }, .n_fds = n_fds };
        return 1;
}

static void received_free(Received *rc) {
        for (size_t i = 0; i < rc->n_fds; i++)
                safe_close(rc->fds[i]);
        if (rc->req)
                helper_request_free(rc->req);
        *rc = (Received) {};
}

/* Send one message: 0, or 1 when the helper must stop (the manager is gone, or SIGTERM). */
static int helper_send(Helper *h, HelperResponse *resp) {
        int r;

        for (;;) {
                r = ipc_send(h->ipc_fd, &resp->base, NULL, 0);
                if (r != -EAGAIN && r != -EINTR)
                        break;
                /* The manager is behind on reading; wait for room rather than drop a reply,
                 * but not past a SIGTERM. */
                struct pollfd p[2] = {
                        { .fd = h->ipc_fd, .events = POLLOUT },
                        { .fd = h->signal_fd, .events = POLLIN },
                };
                if (poll(p, 2, -1) > 0 && (p[1].revents & POLLIN))
                        return 1;
        }
        if (r == -EPIPE || r == -ECONNRESET)
                return 1;
        if (r < 0) {
                helper_cleanup(h);
                log_fatal("Failed to answer the manager: %s", strerror(-r));
        }
        return 0;
}

int helper_send_event(Helper *h, HelperResponse *ev) {
        ev->id = 0;
        return helper_send(h, ev);
}

static void response_set_status(HelperResponse *resp, int r, ErrBuf *err) {
        resp->status = r < 0 ? r : 0;
        if (r < 0) {
                if (err->msg[0] == '\0')
                        errbuf_set(err, r, "%s", strerror(-r));
                resp->message = err->msg;
                log_debug("Request %llu failed: %s", (unsigned long long) resp->id, err->msg);
        }
}

/* A run of requests of @op's kind that arrived together, first among them @first. */
static int helper_dispatch_run(Helper *h, const HelperOp *op, Received *first) {
        _cleanup_free_ Received *run = calloc(DISPATCH_RUN_MAX, sizeof *run);
        _cleanup_free_ HelperArgs *args = calloc(DISPATCH_RUN_MAX, sizeof *args);
        _cleanup_free_ const HelperArgs **ok = calloc(DISPATCH_RUN_MAX, sizeof *ok);
        _cleanup_free_ size_t *ok_index = calloc(DISPATCH_RUN_MAX, sizeof *ok_index);
        _cleanup_free_ int *status = calloc(DISPATCH_RUN_MAX, sizeof *status);
        _cleanup_free_ int *ok_status = calloc(DISPATCH_RUN_MAX, sizeof *ok_status);
        _cleanup_free_ ErrBuf *errs = calloc(DISPATCH_RUN_MAX, sizeof *errs);
        _cleanup_free_ ErrBuf *ok_errs = calloc(DISPATCH_RUN_MAX, sizeof *ok_errs);
        size_t n = 0, n_ok = 0;
        int stop = 0, r;

        if (!run || !args || !ok || !ok_index || !status || !ok_status || !errs || !ok_errs) {
                received_free(first);
                return 0;
        }
        run[n++] = *first;
        *first = (Received) {};
        while (n < DISPATCH_RUN_MAX) {
                Received next;
                r = helper_receive(h, &next);
                if (r == -EPIPE)
                        stop = 1;
                if (r <= 0)
                        break;
                if ((int) next.req->op_case != op->op_case) {
                        h->stashed = next; /* served right after this run */
                        break;
                }
                run[n++] = next;
        }

        /* Each is checked on its own; those that pass are handled together. */
        for (size_t i = 0; i < n; i++) {
                status[i] = op->check(h, run[i].req, run[i].fds, &args[i], &errs[i]);
                if (status[i] < 0)
                        continue;
                ok[n_ok] = &args[i];
                ok_index[n_ok++] = i;
        }
        if (n_ok > 0)
                op->handle_run(h, ok, n_ok, ok_status, ok_errs);
        for (size_t j = 0; j < n_ok; j++) {
                status[ok_index[j]] = ok_status[j];
                errs[ok_index[j]] = ok_errs[j];
        }
        for (size_t i = 0; i < n; i++) {
                HelperResponse resp = HELPER_RESPONSE_INIT;

                resp.id = run[i].req->id;
                response_set_status(&resp, status[i], &errs[i]);
                if (!stop)
                        stop = helper_send(h, &resp);
                received_free(&run[i]);
        }
        if (n > 1)
                log_debug("Handled %zu %s requests in one run", n, op->name);
        return stop;
}

int helper_dispatch_ipc(Helper *h) {
        HelperResponse resp = HELPER_RESPONSE_INIT;
        HelperResult res = {};
        HelperArgs args = {};
        const HelperOp *op;
        ErrBuf err = {};
        Received rc;
        int r;

        if (h->stashed.req) {
                rc = h->stashed;
                h->stashed = (Received) {};
        } else {
                r = helper_receive(h, &rc);
                if (r == 0)
                        return 0;
                if (r < 0)
                        return 1;
        }

        op = helper_op_find((int) rc.req->op_case);
        if (op && op->handle_run)
                return helper_dispatch_run(h, op, &rc);
        resp.id = rc.req->id;
        if (!op)
                r = errbuf_set(&err, -EOPNOTSUPP, "unknown operation %d", (int) rc.req->op_case);
        else {
                r = op->check(h, rc.req, rc.fds, &args, &err);
                if (r >= 0)
                        r = op->handle(h, &args, &res, &resp, &err);
        }
        response_set_status(&resp, r, &err);
        r = helper_send(h, &resp);
        helper_counters_free(&res.counters);
        received_free(&rc);
        return r;
}
