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
