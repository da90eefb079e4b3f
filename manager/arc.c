/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "bus.h"
#include "netdevice.h"
#include "log.h"

typedef enum ArcDeviceState {
        ARC_DEVICE_ADDING,
        ARC_DEVICE_ACTIVE,
        ARC_DEVICE_REMOVING,
} ArcDeviceState;

struct ArcDevice {
        Arc *arc;
        unsigned slot;
        ArcDeviceState state;
        char uplink[IFNAMSIZ];
        int uplink_ifindex;
        char bridge[IFNAMSIZ];
        Subnet subnet;
        MacAddr guest_mac;
        bool mac_random;
        GuestLink *link;         /* in the registry while active */
};

static const UplinkTechnology slot_technology[ARC_N_CONFIGS] = {
        UPLINK_ETHERNET, UPLINK_ETHERNET, UPLINK_WIFI, UPLINK_WIFI, UPLINK_CELLULAR,
};

const char *arc_kind_to_string(ArcKind k) {
        return k == ARC_KIND_CONTAINER ? "container" : k == ARC_KIND_VM ? "VM" : NULL;
}

static GuestKind arc_guest_kind(const Arc *arc) {
        return arc->kind == ARC_KIND_VM ? GUEST_ARCVM : GUEST_ARC;
}

/* The device is up: into the registry (which announces it). */
static void arc_device_register(ArcDevice *d) {
        GuestLink info = {
                .kind = arc_guest_kind(d->arc),
                .device = true,
                .subnet = d->subnet,
                .guest_addr = subnet_addr(&d->subnet, 1),
                .uplink_ifindex = d->uplink_ifindex,
                .owner = d->arc->owner,
        };

        snprintf(info.ifname, sizeof info.ifname, "%s", d->bridge);
        snprintf(info.uplink, sizeof info.uplink, "%s", d->uplink);
        d->link = registry_guest_add(d->arc->manager->registry, &info);
}

static void arc_device_unregister(ArcDevice *d) {
        registry_guest_remove(d->arc->manager->registry, TAKE_PTR(d->link));
}

static void arc_device_free(ArcDevice *d) {
        Manager *m = d->arc->manager;

        arc_device_unregister(d);

        if (d->mac_random)
                mac_generator_release(m->macs, &d->guest_mac);
        free(d);
}

/* Take the device out of its slot: the slot and its subnet can be used again, as the
 * helper runs the removal before any later addition. */
static void arc_device_unslot(ArcDevice *d) {
        Arc *arc = d->arc;

        if (arc->slots[d->slot] == d) {
                arc->slots[d->slot] = NULL;
                (void) pool_release(arc->manager->pools[POOL_ARC_NET], &d->subnet);
        }
}

static void arc_device_on_removed(const HelperResponse *resp, void *userdata) {
        ArcDevice *d = userdata;

        if (resp->status < 0)
                log_error("%s: teardown failed: %s", d->bridge, resp->message);
        else
                log_info("%s: ARC's link to %s removed", d->bridge, d->uplink);
        arc_device_free(d);
}

static void arc_device_remove(ArcDevice *d) {
        Patchpanel__Ipc__ArcUplinkRemove op = PATCHPANEL__IPC__ARC_UPLINK_REMOVE__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;
        Arc *arc = d->arc;
        int r;

        if (d->state == ARC_DEVICE_REMOVING)
                return;
        d->state = ARC_DEVICE_REMOVING;
        arc_device_unslot(d);
        op.uplink_ifname = d->uplink;
        op.vm = arc->kind == ARC_KIND_VM;
        op.tap_ifname = op.vm ? arc->taps[d->slot + 1] : (char *) "";
        req.op_case = OP(ARC_UPLINK_REMOVE);
        req.arc_uplink_remove = &op;
        r = helper_link_call(arc->manager->helper, &req, NULL, 0, arc_device_on_removed, d);
        if (r < 0) {
                log_error_errno(r, "%s: cannot ask for teardown: %m", d->bridge);
                arc_device_free(d);
        }
}

static void arc_device_on_added(const HelperResponse *resp, void *userdata) {
        ArcDevice *d = userdata;

        if (d->state == ARC_DEVICE_REMOVING)
                return; /* its removal is queued behind this; the device lives until then */
        if (resp->status < 0) {
                log_error("ARC's link to %s failed: %s", d->uplink, resp->message);
                arc_device_unslot(d);
                arc_device_free(d);
                return;
        }
        d->state = ARC_DEVICE_ACTIVE;
        log_info("%s: ARC's link to %s, %s/%u", d->bridge, d->uplink,
                 ipv4_to_string(d->subnet.base, (char[IPV4_STRLEN]) {}), d->subnet.prefix_len);
        arc_device_register(d);
}

static void arc_device_add(Arc *arc, const Uplink *u) {
        Patchpanel__Ipc__ArcUplinkAdd op = PATCHPANEL__IPC__ARC_UPLINK_ADD__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;
        Manager *m = arc->manager;
        int fds[1], slot = -1, r;
        ArcDevice *d;

        for (unsigned i = 0; i < ARC_N_CONFIGS; i++)
                if (arc->slots[i] && arc->slots[i]->uplink_ifindex == u->ifindex)
                        return; /* has one */
        for (unsigned i = 0; i < ARC_N_CONFIGS && slot < 0; i++)
                if (!arc->slots[i] && slot_technology[i] == u->technology)
                        slot = (int) i;
        if (slot < 0) {
                log_warning("ARC has no free %s slot for %s, ignoring",
                            uplink_technology_to_string(u->technology), u->name);
                return;
        }

        d = calloc(1, sizeof *d);
        if (!d)
                return (void) log_error("Out of memory for ARC's link to %s", u->name);
        *d = (ArcDevice) { .arc = arc, .slot = (unsigned) slot, .uplink_ifindex = u->ifindex };
        snprintf(d->uplink, sizeof d->uplink, "%s", u->name);
        (void) ifname_prefixed(ARC_UPLINK_BRIDGE_PREFIX, u->name, d->bridge);
        r = pool_allocate(m->pools[POOL_ARC_NET], (uint32_t) slot + 1, &d->subnet);
        if (r < 0) {
                free(d);
                return (void) log_error_errno(r, "ARC slot %d's subnet is taken: %m", slot);
        }
        if (arc->kind == ARC_KIND_VM)
                d->guest_mac = mac_stable((uint8_t) (slot + 2));
        else {
                r = mac_generator_random(m->macs, &d->guest_mac);
                if (r < 0) {
                        (void) pool_release(m->pools[POOL_ARC_NET], &d->subnet);
                        free(d);
                        return (void) log_error_errno(r, "No MAC for ARC's link: %m");
                }
                d->mac_random = true;
        }
        arc->slots[slot] = d;

        op.uplink_ifname = d->uplink;
        op.uplink_ifindex = u->ifindex;
        op.subnet_base = d->subnet.base;
        op.subnet_prefix_len = d->subnet.prefix_len;
        op.vm = arc->kind == ARC_KIND_VM;
        op.pid = arc->pid;
        op.guest_mac = (ProtobufCBinaryData) { .len = MAC_LEN, .data = d->guest_mac.b };
        op.tap_ifname = op.vm ? arc->taps[slot + 1] : (char *) "";
        req.op_case = OP(ARC_UPLINK_ADD);
        req.arc_uplink_add = &op;
        if (!op.vm) {
                fds[0] = fcntl(arc->pidfd, F_DUPFD_CLOEXEC, 3);
                if (fds[0] < 0) {
                        log_error_errno(-errno, "Cannot pass ARC's process on: %m");
                        arc_device_unslot(d);
                        arc_device_free(d);
                        return;
                }
        }
        r = helper_link_call(m->helper, &req, fds, op.vm ? 0 : 1, arc_device_on_added, d);
        if (r < 0) {
                log_error_errno(r, "Cannot ask for ARC's link to %s: %m", u->name);
                arc_device_unslot(d);
                arc_device_free(d);
        }
}

static void arc_on_uplink_added(Uplink *u, void *userdata) {
        Manager *m = userdata;

        if (m->arc && m->arc->state == ARC_RUNNING && !m->stopping)
                arc_device_add(m->arc, u);
}

static void arc_on_uplink_removed(Uplink *u, void *userdata) {
        Manager *m = userdata;
        Arc *arc = m->arc;

        if (!arc)
                return;
        for (unsigned i = 0; i < ARC_N_CONFIGS; i++)
                if (arc->slots[i] && arc->slots[i]->uplink_ifindex == u->ifindex)
                        arc_device_remove(arc->slots[i]);
}

Arc *arc_free(Arc *arc) {
        if (!arc)
                return NULL;
        if (arc->call) {
                (void) bus_reply_errno(arc->call, -ECANCELED, "ARC's networking was torn down");
                sd_bus_message_unref(arc->call);
        }
        /* Devices still here have no request in flight only at exit; the helper goes with
         * everything it built. */
        for (unsigned i = 0; i < ARC_N_CONFIGS; i++) {
                if (arc->slots[i]) {
                        ArcDevice *d = arc->slots[i];
                        arc_device_unslot(d);
                        arc_device_free(d);
                }
                if (arc->leaving[i])
                        arc_device_free(arc->leaving[i]);
        }
        registry_guest_remove(arc->manager->registry, TAKE_PTR(arc->link));
        if (arc->kind == ARC_KIND_CONTAINER)
                mac_generator_release(arc->manager->macs, &arc->arc0_mac);
        if (arc->management.prefix_len)
                (void) pool_release(arc->manager->pools[POOL_ARC], &arc->management);
        safe_close(arc->pidfd);
        if (arc->manager->arc == arc)
                arc->manager->arc = NULL;
        free(arc);
        return NULL;
}

/* ARC runs: its own link into the registry (not a device; the forwarders of ARC see it). */
static void arc_register_management(Arc *arc) {
        GuestLink info = {
                .kind = arc_guest_kind(arc),
                .management = true,
                .subnet = arc->management,
                .guest_addr = subnet_addr(&arc->management, 1),
                .owner = arc->owner,
                .cid = arc->kind == ARC_KIND_VM ? arc->cid : 0,
        };

        snprintf(info.ifname, sizeof info.ifname, "%s", ARC_BRIDGE);
        arc->link = registry_guest_add(arc->manager->registry, &info);
}

static const RegistrySubscriber arc_subscriber = {
        .uplink_added = arc_on_uplink_added,
        .uplink_removed = arc_on_uplink_removed,
};

int arc_setup(Manager *m) {
        return registry_subscribe(m->registry, &arc_subscriber, m);
}

static int arc_reply_started(Arc *arc, sd_bus_message *call) {
        if (arc->kind == ARC_KIND_CONTAINER) {
                Patchpanel__ArcStartupResponse resp = PATCHPANEL__ARC_STARTUP_RESPONSE__INIT;
                return bus_reply_proto(call, &resp.base);
        }

        /* The VM's TAPs in order, each with the address the guest uses behind it. */
        Patchpanel__ArcVmStartupResponse resp = PATCHPANEL__ARC_VM_STARTUP_RESPONSE__INIT;
        NetworkDevice devs[ARC_VM_N_TAPS], *ptrs[ARC_VM_N_TAPS];
        Patchpanel__IPv4Subnet subnets[ARC_VM_N_TAPS];
        const PoolLayout *l = &arc->manager->config.pools;

        for (unsigned i = 0; i < ARC_VM_N_TAPS; i++) {
                const PoolConfig *c = &l->pools[i == 0 ? POOL_ARC : POOL_ARC_NET];
                Subnet s = { .base = c->base + (i == 0 ? 0 : (i - 1) * 4u), .prefix_len = c->prefix_len };
                DeviceInfo info = {
                        .guest_addr = subnet_addr(&s, 1),
                        .subnet = s,
                        .kind = GUEST_ARCVM,
                };
                snprintf(info.ifname, sizeof info.ifname, "%s", arc->taps[i]);
                device_to_proto(&info, &devs[i], &subnets[i]);
                /* device_to_proto() points at info's name, which is gone after this loop. */
                devs[i].ifname = arc->taps[i];
                ptrs[i] = &devs[i];
        }
        resp.devices = ptrs;
        resp.n_devices = ARC_VM_N_TAPS;
        return bus_reply_proto(call, &resp.base);
}

static void arc_on_started(const HelperResponse *resp, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        Arc *arc = userdata;
        Manager *m = arc->manager;
        int r;

        call = TAKE_PTR(arc->call);
        if (resp->status < 0 || resp->result_case != RESULT(ARC_ADD) ||
            (arc->kind == ARC_KIND_VM && resp->arc_add->n_taps != ARC_VM_N_TAPS)) {
                log_info("ARC %s: start failed: %s", arc_kind_to_string(arc->kind), resp->message);
                (void) bus_reply_errno(call, resp->status < 0 ? resp->status : -EIO,
                                       resp->message);
                arc_free(arc);
                return;
        }
        if (arc->kind == ARC_KIND_VM)
                for (unsigned i = 0; i < ARC_VM_N_TAPS; i++)
                        snprintf(arc->taps[i], IFNAMSIZ, "%s", resp->arc_add->taps[i]);
        arc->state = ARC_RUNNING;
        arc_register_management(arc);
        if (m->stopping) {
                (void) bus_reply_errno(call, -ECANCELED, "The daemon is shutting down");
                return;
        }
        r = arc_reply_started(arc, call);
        if (r < 0)
                log_warning_errno(r, "ARC: cannot send the reply: %m");
        log_info("ARC %s started", arc_kind_to_string(arc->kind));
        for (Uplink *u = registry_uplinks(m->registry); u; u = u->uplinks_next)
                arc_device_add(arc, u);
}

int arc_start(Manager *m, ArcKind kind, pid_t pid, int pidfd, uint32_t cid, uid_t owner,
              sd_bus_message *call) {
        _cleanup_close_ int process = pidfd;
        Patchpanel__Ipc__ArcAdd op = PATCHPANEL__IPC__ARC_ADD__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;
        int fds[1], r;
        Arc *arc;

        if (m->arc)
                return -EEXIST;
        arc = calloc(1, sizeof *arc);
        if (!arc)
                return -ENOMEM;
        *arc = (Arc) { .manager = m, .kind = kind, .state = ARC_STARTING, .pid = pid,
                       .cid = cid, .pidfd = -EBADF, .owner = owner };
        /* The management link's /30: the ARC pool's only subnet, accounted like the rest. */
        r = pool_allocate(m->pools[POOL_ARC], 1, &arc->management);
        if (r < 0) {
                free(arc);
                return r;
        }
        if (kind == ARC_KIND_CONTAINER) {
                r = mac_generator_random(m->macs, &arc->arc0_mac);
                if (r < 0) {
                        (void) pool_release(m->pools[POOL_ARC], &arc->management);
                        free(arc);
                        return r;
                }
                fds[0] = fcntl(process, F_DUPFD_CLOEXEC, 3);
                if (fds[0] < 0) {
                        r = -errno;
                        mac_generator_release(m->macs, &arc->arc0_mac);
                        (void) pool_release(m->pools[POOL_ARC], &arc->management);
                        free(arc);
                        return r;
                }
                arc->pidfd = TAKE_FD(process);
        }
        m->arc = arc;

        op.vm = kind == ARC_KIND_VM;
        op.pid = pid;
        op.guest_mac = (ProtobufCBinaryData) { .len = op.vm ? 0 : MAC_LEN, .data = arc->arc0_mac.b };
        req.op_case = OP(ARC_ADD);
        req.arc_add = &op;
        r = helper_link_call(m->helper, &req, fds, op.vm ? 0 : 1, arc_on_started, arc);
        if (r < 0) {
                arc_free(arc);
                return r;
        }
        arc->call = sd_bus_message_ref(call);
        return 0;
}

static void arc_on_stopped(const HelperResponse *resp, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        Arc *arc = userdata;
        int r;

        call = TAKE_PTR(arc->call);
        for (unsigned i = 0; i < ARC_N_CONFIGS; i++) {
                ArcDevice *d = arc->leaving[i];
                if (!d)
                        continue;
                arc_device_free(d);
                arc->leaving[i] = NULL;
        }
        if (resp->status < 0)
                log_error("ARC %s: teardown failed: %s", arc_kind_to_string(arc->kind),
                          resp->message);
        else
                log_info("ARC %s stopped", arc_kind_to_string(arc->kind));
        if (arc->kind == ARC_KIND_CONTAINER) {
                Patchpanel__ArcShutdownResponse reply = PATCHPANEL__ARC_SHUTDOWN_RESPONSE__INIT;
                r = bus_reply_proto(call, &reply.base);
        } else {
                Patchpanel__ArcVmShutdownResponse reply = PATCHPANEL__ARC_VM_SHUTDOWN_RESPONSE__INIT;
                r = bus_reply_proto(call, &reply.base);
        }
        if (r < 0)
                log_warning_errno(r, "ARC: cannot send the reply: %m");
        arc_free(arc);
}

int arc_stop(Manager *m, ArcKind kind, pid_t pid, uint32_t cid, uid_t caller,
             sd_bus_message *call) {
        Patchpanel__Ipc__ArcRemove op = PATCHPANEL__IPC__ARC_REMOVE__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;
        Arc *arc = m->arc;
        char *taps[ARC_VM_N_TAPS], *uplinks[ARC_N_CONFIGS];
        int r;

        if (!arc || arc->kind != kind || (kind == ARC_KIND_CONTAINER ? arc->pid != pid : arc->cid != cid))
                return -ENOENT;
        if (caller != 0 && caller != arc->owner)
                return -EPERM;
        if (arc->state != ARC_RUNNING)
                return -EBUSY;

        /* The per-uplink links go in the same request as the management link: one kernel
         * grace period for all. An addition still in flight runs before it. */
        arc->state = ARC_STOPPING;
        for (unsigned i = 0; i < ARC_N_CONFIGS; i++) {
                ArcDevice *d = arc->slots[i];
                if (!d)
                        continue;
                d->state = ARC_DEVICE_REMOVING;
                arc_device_unslot(d);
                arc->leaving[i] = d;
                uplinks[op.n_uplinks++] = d->uplink;
        }
        op.uplinks = uplinks;

        op.vm = kind == ARC_KIND_VM;
        if (op.vm) {
                for (unsigned i = 0; i < ARC_VM_N_TAPS; i++)
                        taps[i] = arc->taps[i];
                op.taps = taps;
                op.n_taps = ARC_VM_N_TAPS;
        }
        req.op_case = OP(ARC_REMOVE);
        req.arc_remove = &op;
        r = helper_link_call(m->helper, &req, NULL, 0, arc_on_stopped, arc);
        if (r < 0)
                return r;
        arc->call = sd_bus_message_ref(call);
        return 0;
}
