/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* D-Bus glue shared by the method handlers: requests and replies are protobuf messages
 * carried as `ay`. */

#include <protobuf-c/protobuf-c.h>
#include <systemd/sd-bus.h>

#include "bus-names.h"
#include "bus-request.h"
#include "errbuf.h"

static inline void protobuf_message_freep(ProtobufCMessage **m) {
        if (*m)
                protobuf_c_message_free_unpacked(*m, NULL);
}

/* Read an `ay` argument and decode it (bus_request_decode()); a D-Bus InvalidArgument
 * error if it is larger than BUS_REQUEST_MAX or does not parse. */
int bus_message_read_proto(sd_bus_message *m, const ProtobufCMessageDescriptor *desc,
                           ProtobufCMessage **ret, sd_bus_error *error);

/*
 * bus_error_set_invalid() - a refusal by one of bus-request.h's checks as a D-Bus error.
 * @error: set to org.chromium.PatchPanel.Error.InvalidArgument
 * @err: the reason
 *
 * Return: a negative errno, for a method handler to return.
 */
int bus_error_set_invalid(sd_bus_error *error, const ErrBuf *err);

/* Reply to a call with one serialized message as `ay`. */
int bus_reply_proto(sd_bus_message *call, const ProtobufCMessage *msg);
/*
 * bus_emit_proto() - emit the daemon's signal @member carrying one serialized message.
 * @bus: the daemon's bus connection
 * @member: the signal's name on PP_BUS_INTERFACE at PP_BUS_PATH
 * @msg: its argument, sent as `ay`
 *
 * Return: 0 or more when queued, a negative errno otherwise.
 */
int bus_emit_proto(sd_bus *bus, const char *member, const ProtobufCMessage *msg);

/* The D-Bus error name for a negative errno from validation or the helper. */
const char *bus_error_name_from_errno(int r);
/* Reply to a call with an error built from a negative errno and a message. */
int bus_reply_errno(sd_bus_message *call, int r, const char *message);

