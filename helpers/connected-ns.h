/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include "helper.h"

int helper_ns_connect(Helper *h, const IpcNsConnect *m, int pidfd, IpcNsConnectResult *ret,
                      ErrBuf *err);
int helper_ns_disconnect(Helper *h, const IpcNsDisconnect *m, ErrBuf *err);
/* Several teardowns at once: every link in one go, the nftables elements in few batches.
 * status[i] and errs[i] are each one's result. */
void helper_ns_disconnect_many(Helper *h, const IpcNsDisconnect **ms, size_t n, int *status,
                               ErrBuf *errs);
