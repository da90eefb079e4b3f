/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "log.h"
#include "vm.h"

const char *vm_kind_to_string(Patchpanel__Ipc__VmKind k) {
        switch (k) {
        case PATCHPANEL__IPC__VM_KIND__VM_KIND_TERMINA:
                return "termina";
        case PATCHPANEL__IPC__VM_KIND__VM_KIND_PLUGINVM:
                return "pluginvm";
        default:
                return NULL;
        }
}

static PoolKind vm_pool(Patchpanel__Ipc__VmKind k) {
        return k == PATCHPANEL__IPC__VM_KIND__VM_KIND_TERMINA ? POOL_TERMINA : POOL_PLUGINVM;
}

VmGuest *manager_find_vm(Manager *m, Patchpanel__Ipc__VmKind kind, uint64_t id) {
        LIST_FOREACH(vms, vm, m->vms)
                if (vm->kind == kind && vm->id == id)
                        return vm;
        return NULL;
}

static void vm_guest_device(const VmGuest *vm, DeviceInfo *ret) {
        *ret = (DeviceInfo) {
                .guest_addr = subnet_addr(&vm->subnet, 1),
                .subnet = vm->subnet,
                .kind = vm->kind == PATCHPANEL__IPC__VM_KIND__VM_KIND_TERMINA ? GUEST_TERMINA
                                                                             : GUEST_PLUGINVM,
        };
        snprintf(ret->ifname, sizeof ret->ifname, "%s", vm->tap);
}

/* Its TAP is up: into the registry (which announces the device). */
static void vm_guest_register(VmGuest *vm) {
        DeviceInfo d;
        GuestLink info;

        vm_guest_device(vm, &d);
        info = (GuestLink) { .ifindex = vm->ifindex, .kind = d.kind, .device = true,
                             .subnet = d.subnet, .guest_addr = d.guest_addr, .owner = vm->owner };
        snprintf(info.ifname, sizeof info.ifname, "%s", vm->tap);
        vm->link = registry_guest_add(vm->manager->registry, &info);
}

VmGuest *vm_guest_free(VmGuest *vm) {
        Manager *m;

        if (!vm)
                return NULL;
        m = vm->manager;
        if (vm->call) {
                (void) bus_reply_errno(vm->call, -ECANCELED, "The VM's networking was torn down");
                vm->call = sd_bus_message_unref(vm->call);
        }
        (void) pool_release(m->pools[vm_pool(vm->kind)], &vm->subnet);
        if (vm->lxd.prefix_len)
                (void) pool_release(m->pools[POOL_LXD], &vm->lxd);
        if (vm->mac_random)
                mac_generator_release(m->macs, &vm->mac);
        registry_guest_remove(m->registry, TAKE_PTR(vm->link));
        LIST_REMOVE(vms, m->vms, vm);
        free(vm);
        return NULL;
}

static int vm_reply_started(VmGuest *vm, sd_bus_message *call) {
        Patchpanel__NetworkDevice dev;
        Patchpanel__IPv4Subnet subnet, lxd = PATCHPANEL__IPV4_SUBNET__INIT;
        DeviceInfo info;

        vm_guest_device(vm, &info);
        device_to_proto(&info, &dev, &subnet);
        if (vm->kind == PATCHPANEL__IPC__VM_KIND__VM_KIND_TERMINA) {
                Patchpanel__TerminaVmStartupResponse resp =
                        PATCHPANEL__TERMINA_VM_STARTUP_RESPONSE__INIT;
                resp.device = &dev;
                lxd.base_addr = ipv4_to_wire(vm->lxd.base);
                lxd.prefix_len = vm->lxd.prefix_len;
                resp.container_subnet = &lxd;
                return bus_reply_proto(call, &resp.base);
        }
        Patchpanel__PluginVmStartupResponse resp = PATCHPANEL__PLUGIN_VM_STARTUP_RESPONSE__INIT;
        resp.device = &dev;
        return bus_reply_proto(call, &resp.base);
}

static void vm_on_started(const HelperResponse *resp, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        VmGuest *vm = userdata;
        int r;

        call = TAKE_PTR(vm->call);
        if (resp->status < 0 || resp->result_case != RESULT(TAP)) {
                log_info("%s VM %" PRIu64 ": start failed: %s", vm_kind_to_string(vm->kind), vm->id,
                         resp->message);
                (void) bus_reply_errno(call, resp->status < 0 ? resp->status : -EIO,
                                       resp->message);
                vm_guest_free(vm);
                return;
        }
        snprintf(vm->tap, sizeof vm->tap, "%s", resp->tap->ifname);
        vm->ifindex = resp->tap->ifindex;
        vm->state = VM_GUEST_RUNNING;
        if (vm->manager->stopping) {
                (void) bus_reply_errno(call, -ECANCELED, "The daemon is shutting down");
                return;
        }
        r = vm_reply_started(vm, call);
        if (r < 0)
                log_warning_errno(r, "%s: cannot send the reply: %m", vm->tap);
        log_info("%s: %s VM %" PRIu64 " started", vm->tap, vm_kind_to_string(vm->kind), vm->id);
        vm_guest_register(vm);
}

int vm_guest_start(Manager *m, Patchpanel__Ipc__VmKind kind, uint64_t id, uint32_t subnet_index,
                   uid_t owner, sd_bus_message *call) {
        Patchpanel__Ipc__VmTapAdd op = PATCHPANEL__IPC__VM_TAP_ADD__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;
        VmGuest *vm;
        int r;

        if (manager_find_vm(m, kind, id))
                return -EEXIST;
        vm = calloc(1, sizeof *vm);
        if (!vm)
                return -ENOMEM;
        *vm = (VmGuest) { .manager = m, .kind = kind, .id = id, .state = VM_GUEST_STARTING,
                          .owner = owner };

        r = pool_allocate(m->pools[vm_pool(kind)], subnet_index, &vm->subnet);
        if (r < 0) {
                free(vm);
                return r == -EEXIST ? -EBUSY : r;
        }
        if (kind == PATCHPANEL__IPC__VM_KIND__VM_KIND_TERMINA) {
                r = pool_allocate(m->pools[POOL_LXD], 0, &vm->lxd);
                if (r < 0) {
                        (void) pool_release(m->pools[vm_pool(kind)], &vm->subnet);
                        free(vm);
                        return r;
                }
        }
        if (subnet_index > 0 && subnet_index <= UINT8_MAX)
                /* The same MAC every time this subnet is asked for: the guest keeps its
                 * address assignments across restarts. */
                vm->mac = mac_stable((uint8_t) subnet_index);
        else {
                r = mac_generator_random(m->macs, &vm->mac);
                vm->mac_random = r >= 0;
        }
        LIST_PREPEND(vms, m->vms, vm);
        if (r < 0) {
                vm_guest_free(vm);
                return r;
        }

        op.kind = kind;
        op.subnet_base = vm->subnet.base;
        op.subnet_prefix_len = vm->subnet.prefix_len;
        op.lxd_subnet_base = vm->lxd.base;
        op.lxd_subnet_prefix_len = vm->lxd.prefix_len;
        op.mac = (ProtobufCBinaryData) { .len = MAC_LEN, .data = vm->mac.b };
        req.op_case = OP(VM_TAP_ADD);
        req.vm_tap_add = &op;
        r = helper_link_call(m->helper, &req, NULL, 0, vm_on_started, vm);
        if (r < 0) {
                vm_guest_free(vm);
                return r;
        }
        vm->call = sd_bus_message_ref(call);
        return 0;
}

static void vm_on_stopped(const HelperResponse *resp, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        VmGuest *vm = userdata;
        int r;

        call = TAKE_PTR(vm->call);
        registry_guest_remove(vm->manager->registry, TAKE_PTR(vm->link));
        if (resp->status < 0) {
                log_error("%s: teardown failed: %s", vm->tap, resp->message);
                /* Keep its subnets out of use: they may still be configured. */
                vm->subnet.prefix_len = vm->lxd.prefix_len = 0;
        }
        if (vm->kind == PATCHPANEL__IPC__VM_KIND__VM_KIND_TERMINA) {
                Patchpanel__TerminaVmShutdownResponse reply =
                        PATCHPANEL__TERMINA_VM_SHUTDOWN_RESPONSE__INIT;
                r = bus_reply_proto(call, &reply.base);
        } else {
                Patchpanel__PluginVmShutdownResponse reply =
                        PATCHPANEL__PLUGIN_VM_SHUTDOWN_RESPONSE__INIT;
                r = bus_reply_proto(call, &reply.base);
        }
        if (r < 0)
                log_warning_errno(r, "%s: cannot send the reply: %m", vm->tap);
        log_info("%s: %s VM %" PRIu64 " stopped", vm->tap, vm_kind_to_string(vm->kind), vm->id);
        vm_guest_free(vm);
}

int vm_guest_stop(Manager *m, Patchpanel__Ipc__VmKind kind, uint64_t id, uid_t caller,
                  sd_bus_message *call) {
        Patchpanel__Ipc__VmTapRemove op = PATCHPANEL__IPC__VM_TAP_REMOVE__INIT;
        HelperRequest req = HELPER_REQUEST_INIT;
        VmGuest *vm = manager_find_vm(m, kind, id);
        int r;

        if (!vm)
                return -ENOENT;
        if (caller != 0 && caller != vm->owner)
                return -EPERM;
        if (vm->state != VM_GUEST_RUNNING)
                return -EBUSY;
        op.ifname = vm->tap;
        req.op_case = OP(VM_TAP_REMOVE);
        req.vm_tap_remove = &op;
        r = helper_link_call(m->helper, &req, NULL, 0, vm_on_stopped, vm);
        if (r < 0)
                return r;
        vm->state = VM_GUEST_STOPPING;
        vm->call = sd_bus_message_ref(call);
        return 0;
}
