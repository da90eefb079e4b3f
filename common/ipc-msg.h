/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* Short names for the messages of proto/ipc.proto and their cleanup bindings. */

#include "ipc.pb-c.h"
#include "macro.h"

typedef Patchpanel__Ipc__HelperRequest HelperRequest;
typedef Patchpanel__Ipc__HelperResponse HelperResponse;
typedef Patchpanel__Ipc__NsConnect IpcNsConnect;
typedef Patchpanel__Ipc__NsConnectResult IpcNsConnectResult;
typedef Patchpanel__Ipc__NsDisconnect IpcNsDisconnect;
typedef Patchpanel__Ipc__DatapathStart IpcDatapathStart;
typedef Patchpanel__Ipc__DatapathStop IpcDatapathStop;
typedef Patchpanel__Ipc__UplinkAdd IpcUplinkAdd;
typedef Patchpanel__Ipc__UplinkSync IpcUplinkSync;
typedef Patchpanel__Ipc__UplinkRemove IpcUplinkRemove;
typedef Patchpanel__Ipc__VmTapAdd IpcVmTapAdd;
typedef Patchpanel__Ipc__VmTapRemove IpcVmTapRemove;
typedef Patchpanel__Ipc__TapResult IpcTapResult;
typedef Patchpanel__Ipc__ArcAdd IpcArcAdd;
typedef Patchpanel__Ipc__ArcAddResult IpcArcAddResult;
typedef Patchpanel__Ipc__ArcRemove IpcArcRemove;
typedef Patchpanel__Ipc__ArcUplinkAdd IpcArcUplinkAdd;
typedef Patchpanel__Ipc__ArcUplinkRemove IpcArcUplinkRemove;
typedef Patchpanel__Ipc__PortRule IpcPortRule;
typedef Patchpanel__Ipc__CountersGet IpcCountersGet;
typedef Patchpanel__Ipc__Counter IpcCounter;
typedef Patchpanel__Ipc__CountersResult IpcCountersResult;
typedef Patchpanel__Ipc__VpnIntent IpcVpnIntent;
typedef Patchpanel__Ipc__VpnBypass IpcVpnBypass;
typedef Patchpanel__Ipc__NeighborProbe IpcNeighborProbe;
typedef Patchpanel__Ipc__ForeignChain IpcForeignChain;
typedef Patchpanel__Ipc__ForeignDrops IpcForeignDrops;
typedef Patchpanel__Ipc__AdbSideload IpcAdbSideload;
typedef Patchpanel__Ipc__GuestIpv6Enable IpcGuestIpv6Enable;
typedef Patchpanel__Ipc__GuestRoute6 IpcGuestRoute6;

#define HELPER_REQUEST_INIT PATCHPANEL__IPC__HELPER_REQUEST__INIT
#define HELPER_RESPONSE_INIT PATCHPANEL__IPC__HELPER_RESPONSE__INIT
#define OP(name) PATCHPANEL__IPC__HELPER_REQUEST__OP_##name
#define RESULT(name) PATCHPANEL__IPC__HELPER_RESPONSE__RESULT_##name

static inline void helper_request_free(HelperRequest *m) {
        patchpanel__ipc__helper_request__free_unpacked(m, NULL);
}
static inline void helper_response_free(HelperResponse *m) {
        patchpanel__ipc__helper_response__free_unpacked(m, NULL);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(HelperRequest *, helper_request_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(HelperResponse *, helper_response_free);
