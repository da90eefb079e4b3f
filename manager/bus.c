/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "log.h"
#include "macro.h"

int bus_message_read_proto(sd_bus_message *m, const ProtobufCMessageDescriptor *desc,
                           ProtobufCMessage **ret, sd_bus_error *error) {
        const void *data = NULL;
        size_t size = 0;
        ErrBuf err;
        int r;

        r = sd_bus_message_read_array(m, 'y', &data, &size);
        if (r < 0)
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "Cannot read the request bytes: %s", strerror(-r));
        r = bus_request_decode(desc, data, size, ret, &err);
        if (r < 0)
                return bus_error_set_invalid(error, &err);
        return 0;
}

int bus_error_set_invalid(sd_bus_error *error, const ErrBuf *err) {
        return sd_bus_error_set(error, PP_ERROR_INVALID_ARGUMENT, err->msg);
}

/* Append @msg, serialized, to @m as `ay`. */
static int bus_message_append_proto(sd_bus_message *m, const ProtobufCMessage *msg) {
        size_t len = protobuf_c_message_get_packed_size(msg);
        _cleanup_free_ uint8_t *buf = malloc(len ?: 1);

        if (!buf)
                return -ENOMEM;
        protobuf_c_message_pack(msg, buf);
        return sd_bus_message_append_array(m, 'y', buf, len);
}

int bus_reply_proto(sd_bus_message *call, const ProtobufCMessage *msg) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(call, &reply);
        if (r < 0)
                return r;
        r = bus_message_append_proto(reply, msg);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

int bus_emit_proto(sd_bus *bus, const char *member, const ProtobufCMessage *msg) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *sig = NULL;
        int r;

        r = sd_bus_message_new_signal(bus, &sig, PP_BUS_PATH, PP_BUS_INTERFACE, member);
        if (r < 0)
                return r;
        r = bus_message_append_proto(sig, msg);
        if (r < 0)
                return r;
        return sd_bus_send(bus, sig, NULL);
}

const char *bus_error_name_from_errno(int r) {
        switch (-abs_errno(r)) {
        case -EINVAL:
        case -ERANGE:
        case -ESRCH:
        case -ENODEV:
        case -EEXIST:
        case -EBADF:
        case -ENOTSOCK:
                return PP_ERROR_INVALID_ARGUMENT;
        case -ENOSPC:
                return PP_ERROR_EXHAUSTED;
        default:
                return PP_ERROR_FAILED;
        }
}

int bus_reply_errno(sd_bus_message *call, int r, const char *message) {
        return sd_bus_reply_method_errorf(call, bus_error_name_from_errno(r), "%s",
                                          message && *message ? message : strerror(abs_errno(r)));
}
