/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* Names of the D-Bus API, shared by the daemon and the client library. */

#define PP_BUS_NAME "org.chromium.PatchPanel"
#define PP_BUS_PATH "/org/chromium/PatchPanel"
#define PP_BUS_INTERFACE "org.chromium.PatchPanel"
/* Read-only status, not part of the original API. */
#define PP_BUS_STATUS_INTERFACE "org.chromium.PatchPanel.Status"

#define PP_ERROR_INVALID_ARGUMENT "org.chromium.PatchPanel.Error.InvalidArgument"
#define PP_ERROR_FAILED "org.chromium.PatchPanel.Error.Failed"
#define PP_ERROR_EXHAUSTED "org.chromium.PatchPanel.Error.Exhausted"
