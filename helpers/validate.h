/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Checks of every field of every request, before the helper touches the kernel. Pure
 * functions of the request and the helper's fixed configuration, so unit tests reach them
 * without privileges. Checks that need the kernel (does the pid exist, which netns is it
 * in) happen where the helper acts on them.
 */

#include <sys/types.h>

#include "errbuf.h"
#include "ipc-msg.h"
#include "mac.h"
#include "pool.h"

/* pid > 1 and neither the helper's nor the manager's. */
int validate_pid(pid_t pid, pid_t self, pid_t manager, ErrBuf *err);
/* Six bytes, unicast, not all zero. */
int validate_mac(const ProtobufCBinaryData *b, const char *what, MacAddr *ret, ErrBuf *err);
int validate_ns_id(uint32_t id, ErrBuf *err);

int validate_ns_connect(const PoolLayout *pools, const IpcNsConnect *m, pid_t self,
                        pid_t manager, ErrBuf *err);
int validate_ns_disconnect(const IpcNsDisconnect *m, ErrBuf *err);

int validate_uplink(const char *ifname, int ifindex, ErrBuf *err);
/* A subnet that must be exactly one of pool's. */
int validate_subnet(const PoolLayout *pools, PoolKind pool, uint32_t base, uint32_t prefix_len,
                    Subnet *ret, ErrBuf *err);
int validate_vm_tap_add(const PoolLayout *pools, const IpcVmTapAdd *m, ErrBuf *err);
/* A TAP name the daemon hands out: vmtap<N>. */
int validate_tap_name(const char *ifname, ErrBuf *err);
int validate_arc_add(const IpcArcAdd *m, pid_t self, pid_t manager, ErrBuf *err);
int validate_arc_remove(const IpcArcRemove *m, ErrBuf *err);
int validate_arc_uplink_add(const PoolLayout *pools, const IpcArcUplinkAdd *m, pid_t self,
                            pid_t manager, ErrBuf *err);
int validate_arc_uplink_remove(const IpcArcUplinkRemove *m, ErrBuf *err);
