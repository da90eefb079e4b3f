/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * ARC, as a container (ArcStartup, by pid) or a VM (ArcVmStartup, by cid); one at a time.
 *
 * Its management link: bridge arcbr0 (.1 of the ARC pool) with, for the container, a veth
 * to arc0 (.2) in its netns, or, for the VM, the first of six TAPs. Then one link per
 * uplink, on a bridge arc_<uplink> with a /30 of the ARC per-uplink pool: a veth to an
 * interface named like the uplink in the container, or the VM's TAP for that slot. The five
 * per-uplink slots are fixed by technology (ethernet, ethernet, wifi, wifi, cellular), so a
 * VM always finds the same uplink kind behind the same TAP and MAC.
 *
 * Requests for one ARC go to the helper in order and it serves them in order: a removal
 * queued before an addition has happened by the time the addition runs, so a slot is free
 * for reuse as soon as its removal is queued.
 */

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "ifname.h"
#include "mac.h"
#include "manager.h"
#include "pool.h"
#include "registry.h"

#define ARC_N_CONFIGS ARC_N_UPLINK_SLOTS

typedef enum ArcKind {
        ARC_KIND_CONTAINER,
        ARC_KIND_VM,
        _ARC_KIND_MAX,
        _ARC_KIND_INVALID = -22,
} ArcKind;

typedef enum ArcState {
        ARC_STARTING,
        ARC_RUNNING,
        ARC_STOPPING,
        _ARC_STATE_MAX,
        _ARC_STATE_INVALID = -22,
} ArcState;

typedef struct ArcDevice ArcDevice;

struct Arc {
        Manager *manager;
        ArcKind kind;
        ArcState state;
        pid_t pid;               /* container */
        int pidfd;               /* container: pins its process for later uplinks */
        uint32_t cid;            /* VM */
        MacAddr arc0_mac;        /* container: random */
        Subnet management;       /* arcbr0's, from the ARC pool */
        char taps[ARC_VM_N_TAPS][IFNAMSIZ]; /* VM: arc0's, then one per slot */
        ArcDevice *slots[ARC_N_CONFIGS];
        ArcDevice *leaving[ARC_N_CONFIGS]; /* going with the whole of ARC, in ArcRemove */
        sd_bus_message *call;    /* Startup or Shutdown awaiting its reply */
        GuestLink *link;         /* arcbr0 in the registry while ARC runs */
        uid_t owner;             /* who started it */
};

const char *arc_kind_to_string(ArcKind k);

/*
 * arc_start() - ask the helper for ARC's management link, then its uplinks; @call is
 * answered when the management link is up.
 * @pidfd: container only, taken over in every case
 * @owner: the caller's uid: only it, or root, may stop this ARC
 * Return: 0, -EEXIST if an ARC runs already, another negative errno.
 */
int arc_start(Manager *m, ArcKind kind, pid_t pid, int pidfd, uint32_t cid, uid_t owner,
              sd_bus_message *call);
/* Return: 0, -ENOENT if no such ARC runs (nothing changes), -EPERM if @caller is neither
 * its owner nor root, -EBUSY while it starts or stops. */
int arc_stop(Manager *m, ArcKind kind, pid_t pid, uint32_t cid, uid_t caller,
             sd_bus_message *call);
Arc *arc_free(Arc *arc);

/* Follow the registry's uplinks: ARC gets a link to each while it runs. */
int arc_setup(Manager *m);

int bus_method_arc_startup(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_method_arc_shutdown(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_method_arc_vm_startup(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_method_arc_vm_shutdown(sd_bus_message *msg, void *userdata, sd_bus_error *error);
