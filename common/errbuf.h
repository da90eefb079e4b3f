/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * A precise, human-readable reason for a failure, carried next to the negative errno from
 * where the failure is detected to where it is reported (a D-Bus error, an IPC response).
 */

#include "macro.h"

typedef struct ErrBuf {
        char msg[512];
} ErrBuf;

/* Format the reason into e (if non-NULL) and return r, which must be a negative errno. */
int errbuf_set(ErrBuf *e, int r, const char *format, ...) _printf_(3, 4);
