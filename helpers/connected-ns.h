/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include "helper.h"

int helper_ns_connect(Helper *h, const IpcNsConnect *m, int pidfd, IpcNsConnectResult *ret,
                      ErrBuf *err);
int helper_ns_disconnect(Helper *h, const IpcNsDisconnect *m, ErrBuf *err);
