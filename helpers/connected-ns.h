/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include "helper.h"

#include "validate.h"

int helper_ns_connect(Helper *h, const NsConnectArgs *a, IpcNsConnectResult *ret, ErrBuf *err);
/* Several teardowns at once: every link in one go, the nftables elements in few batches.
 * status[i] and errs[i] are each one's result. */
void helper_ns_disconnect_many(Helper *h, const NsDisconnectArgs *const *as, size_t n,
                               int *status, ErrBuf *errs);
