/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The helper's request path up to the kernel (helpers/dispatch.c, helpers/validate.c): the
 * bytes of a HelperRequest as the manager sends them, decoded as ipc_recv() does, the fd
 * count the dispatch table expects, and the table's check that turns the request into its
 * argument struct. Nothing here touches the kernel: the handlers are not called.
 *
 * What must hold: a request decodes or is refused; a request the check accepts has
 * arguments the handlers may rely on (names NUL-terminated, derived names of our own
 * prefixes, subnets in their pool, the fds where the table says); every refusal says why
 * in printable ASCII.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "helper.h"
#include "ifname.h"
#include "ipc-msg.h"
#include "validate.h"

static Helper helper;

static void check_reason(const ErrBuf *err) {
        size_t n = strnlen(err->msg, sizeof err->msg);

        FUZZ_CHECK(n > 0 && n < sizeof err->msg);
        for (size_t i = 0; i < n; i++)
                FUZZ_CHECK(err->msg[i] >= 0x20 && err->msg[i] < 0x7f);
}

static void check_name(const char *name, const char *prefix) {
        FUZZ_CHECK(strnlen(name, IFNAMSIZ) < IFNAMSIZ);
        if (prefix)
                FUZZ_CHECK(strncmp(name, prefix, strlen(prefix)) == 0);
}

static void check_args(const HelperRequest *req, const void *args, int fd) {
        switch (req->op_case) {
        case OP(NS_CONNECT): {
                const NsConnectArgs *a = args;
                FUZZ_CHECK(a->pidfd == fd);
                FUZZ_CHECK(a->pid > 1 && a->pid != helper.self_pid && a->pid != helper.manager_pid);
                check_name(a->host, "arc_ns");
                check_name(a->peer, "veth");
                check_name(a->outbound_ifname, NULL);
                FUZZ_CHECK(pool_config_has_subnet(&helper.pools.pools[POOL_NETNS], &a->subnet));
                FUZZ_CHECK(mac_is_unicast(&a->host_mac) && !mac_is_zero(&a->host_mac));
                FUZZ_CHECK((a->outbound_ifindex == 0) == (a->outbound_ifname[0] == '\0'));
                break;
        }
        case OP(NS_DISCONNECT):
                check_name(((const NsDisconnectArgs *) args)->host, "arc_ns");
                break;
        case OP(VM_TAP_ADD): {
                const VmTapAddArgs *a = args;
                PoolKind k = a->kind == PATCHPANEL__IPC__VM_KIND__VM_KIND_TERMINA ? POOL_TERMINA
                                                                                 : POOL_PLUGINVM;
                FUZZ_CHECK(pool_config_has_subnet(&helper.pools.pools[k], &a->subnet));
                FUZZ_CHECK(a->lxd.prefix_len == 0 ||
                           pool_config_has_subnet(&helper.pools.pools[POOL_LXD], &a->lxd));
                break;
        }
        case OP(VM_TAP_REMOVE):
                FUZZ_CHECK(ifname_is_vm_tap(((const TapArgs *) args)->ifname));
                break;
        case OP(ARC_ADD): {
                const ArcAddArgs *a = args;
                FUZZ_CHECK(a->vm ? a->pidfd == -EBADF : a->pidfd == fd);
                break;
        }
        case OP(ARC_REMOVE): {
                const ArcRemoveArgs *a = args;
                FUZZ_CHECK(a->n_taps == (a->vm ? ARC_VM_N_TAPS : 0));
                FUZZ_CHECK(a->n_uplinks <= ARC_N_UPLINK_SLOTS);
                for (size_t i = 0; i < a->n_taps; i++)
                        FUZZ_CHECK(ifname_is_vm_tap(a->taps[i]));
                for (size_t i = 0; i < a->n_uplinks; i++)
                        FUZZ_CHECK(ifname_is_valid(a->uplinks[i]));
                break;
        }
        case OP(ARC_UPLINK_ADD): {
                const ArcUplinkAddArgs *a = args;
                check_name(a->bridge, "arc_");
                check_name(a->veth, "veth");
                FUZZ_CHECK(ifname_is_valid(a->uplink.ifname));
                FUZZ_CHECK(pool_config_has_subnet(&helper.pools.pools[POOL_ARC_NET], &a->subnet));
                FUZZ_CHECK(a->vm ? ifname_is_vm_tap(a->tap) : a->pidfd == fd);
                break;
        }
        case OP(ARC_UPLINK_REMOVE): {
                const ArcUplinkRemoveArgs *a = args;
                check_name(a->bridge, "arc_");
                FUZZ_CHECK(!a->vm || ifname_is_vm_tap(a->tap));
                break;
        }
        case OP(UPLINK_ADD):
        case OP(UPLINK_SYNC):
        case OP(UPLINK_REMOVE):
                FUZZ_CHECK(ifname_is_valid(((const UplinkArgs *) args)->ifname));
                break;
        case OP(NEIGHBOR_PROBE): {
                const NeighborProbeArgs *a = args;
                LinkPrefix own = { .family = a->family, .own = true };
                NeighborPlace place;
                ErrBuf err = {};
                int r;

                FUZZ_CHECK(ifname_is_valid(a->uplink.ifname));
                FUZZ_CHECK(!ifname_is_own(a->uplink.ifname) && strcmp(a->uplink.ifname, "lo") != 0);
                FUZZ_CHECK(a->uplink.ifindex > 0);
                FUZZ_CHECK(a->family == AF_INET || a->family == AF_INET6);
                /* Where it lies on a link with no address: only link-local, or nowhere,
                 * and nowhere is no place to probe but a gateway's. */
                place = neighbor_place(a, NULL, 0);
                FUZZ_CHECK(place == NEIGHBOR_PLACE_OFF_PREFIX || place == NEIGHBOR_PLACE_LINK_LOCAL);
                r = validate_neighbor_place(a, place, false, &err);
                FUZZ_CHECK((r == 0) == (place == NEIGHBOR_PLACE_LINK_LOCAL));
                if (r < 0)
                        check_reason(&err);
                FUZZ_CHECK(validate_neighbor_place(a, place, true, NULL) == 0);
                /* On a link whose own address it is, never. */
                memcpy(own.addr, a->addr, sizeof own.addr);
                own.prefix_len = (uint8_t) (a->family == AF_INET ? 32 : 128);
                place = neighbor_place(a, &own, 1);
                FUZZ_CHECK(place == NEIGHBOR_PLACE_OWN);
                r = validate_neighbor_place(a, place, true, &err);
                FUZZ_CHECK(r == -EINVAL);
                check_reason(&err);
                break;
        }
        case OP(VPN_INTENT):
                FUZZ_CHECK(((const VpnIntentArgs *) args)->fd == fd);
                FUZZ_CHECK(((const VpnIntentArgs *) args)->policy < _VPN_POLICY_MAX);
                break;
        default:
                break;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _Alignas(max_align_t) uint8_t args[1024];
        HelperRequest *req;
        int fds[1] = { 42 };
        ErrBuf err = {};
        int n_fds, r;

        if (helper.self_pid == 0) {
                FUZZ_CHECK(pool_layout_init(&helper.pools, POOL_DEFAULT_BASE) == 0);
                helper.self_pid = 100;
                helper.manager_pid = 99;
                FUZZ_CHECK(helper_args_size() <= sizeof args);
        }
        req = patchpanel__ipc__helper_request__unpack(NULL, size, data);
        if (!req)
                return 0;
        n_fds = helper_request_n_fds(req);
        /* The receive side refuses a request with another count before any check. */
        if (n_fds >= 0) {
                FUZZ_CHECK(n_fds <= 1);
                memset(args, 0xa5, sizeof args);
                r = helper_request_check(&helper, req, n_fds ? fds : NULL, args, &err);
                if (r < 0) {
                        FUZZ_CHECK(r > -4096);
                        check_reason(&err);
                } else
                        check_args(req, args, n_fds ? fds[0] : -EBADF);
        }
        helper_request_free(req);
        return 0;
}
