/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Termina and PluginVM guests: a TAP per VM with a /30 (Termina) or /29 (PluginVM) whose .1
 * is the host side, masquerade, forwarding and the VM's source mark; Termina also gets an
 * LXD container /28 routed via the VM. The VM monitor opens the TAP by the name returned.
 *
 *   STARTING ── helper ok ──> RUNNING ── Shutdown ──> STOPPING ──> freed
 *       └── helper failed ──────────────────────────────────────────┘
 */

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "netdevice.h"
#include "ipc-msg.h"
#include "list.h"
#include "mac.h"
#include "manager.h"
#include "pool.h"
#include "registry.h"

typedef enum VmGuestState {
        VM_GUEST_STARTING,
        VM_GUEST_RUNNING,
        VM_GUEST_STOPPING,
        _VM_GUEST_STATE_MAX,
        _VM_GUEST_STATE_INVALID = -22,
} VmGuestState;

struct VmGuest {
        Manager *manager;
        Patchpanel__Ipc__VmKind kind;
        uint64_t id;             /* Termina: the cid; PluginVM: the id */
        VmGuestState state;
        Subnet subnet;
        Subnet lxd;              /* prefix_len 0: none */
        MacAddr mac;
        bool mac_random;         /* from the generator, to give back */
        char tap[IFNAMSIZ];
        int ifindex;
        sd_bus_message *call;    /* Startup or Shutdown awaiting its reply */
        GuestLink *link;         /* its TAP in the registry while it runs */
        uid_t owner;             /* who started it */
        LIST_FIELDS(VmGuest, vms);
};

const char *vm_kind_to_string(Patchpanel__Ipc__VmKind k);
VmGuest *manager_find_vm(Manager *m, Patchpanel__Ipc__VmKind kind, uint64_t id);

/*
 * vm_guest_start() - allocate and ask the helper for the TAP; @call is answered when it does.
 * @subnet_index: PluginVM only, 1-based, 0 for any (and then a random MAC)
 * @owner: the caller's uid: only it, or root, may stop the VM
 *
 * Return: 0; -EEXIST if this VM runs already; -ENOSPC if a pool is exhausted; -ERANGE for a
 * subnet_index beyond the pool; -EBUSY if that subnet is taken; another negative errno.
 * Nothing is left allocated on failure.
 */
int vm_guest_start(Manager *m, Patchpanel__Ipc__VmKind kind, uint64_t id, uint32_t subnet_index,
                   uid_t owner, sd_bus_message *call);
/* Return: 0, -ENOENT if no such VM runs, -EPERM if @caller is neither its owner nor root,
 * -EBUSY while it starts or stops (nothing changes on failure). */
int vm_guest_stop(Manager *m, Patchpanel__Ipc__VmKind kind, uint64_t id, uid_t caller,
                  sd_bus_message *call);
VmGuest *vm_guest_free(VmGuest *vm);

int bus_method_termina_vm_startup(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_method_termina_vm_shutdown(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_method_plugin_vm_startup(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_method_plugin_vm_shutdown(sd_bus_message *msg, void *userdata, sd_bus_error *error);
