/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The D-Bus request string checks (common/proto-check.c) over any bytes.
 *
 * Input: byte 0 picks a message type of service.proto, the rest is its serialized form.
 * Besides surviving, the checks must hold what they promise:
 *  - a message proto_check_strings() accepts and protobuf-c unpacks has only strings that
 *    are UTF-8 without NUL, and packs again into bytes the check accepts;
 *  - utf8_is_valid_text() agrees with a decoder written from the table of well-formed
 *    byte sequences (Unicode 15, table 3-7), NUL excluded;
 *  - str_escape() writes printable ASCII only, terminated, within its buffer, and keeps
 *    printable input as it is.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto-check.h"
#include "service.pb-c.h"

static const ProtobufCMessageDescriptor *const types[] = {
        &patchpanel__arc_startup_request__descriptor,
        &patchpanel__arc_shutdown_request__descriptor,
        &patchpanel__arc_vm_startup_request__descriptor,
        &patchpanel__arc_vm_startup_response__descriptor,
        &patchpanel__termina_vm_startup_request__descriptor,
        &patchpanel__termina_vm_startup_response__descriptor,
        &patchpanel__plugin_vm_startup_request__descriptor,
        &patchpanel__plugin_vm_startup_response__descriptor,
        &patchpanel__get_devices_request__descriptor,
        &patchpanel__get_devices_response__descriptor,
        &patchpanel__network_device__descriptor,
        &patchpanel__network_device_changed_signal__descriptor,
        &patchpanel__set_vpn_intent_request__descriptor,
        &patchpanel__traffic_counters_request__descriptor,
        &patchpanel__traffic_counters_response__descriptor,
        &patchpanel__connect_namespace_request__descriptor,
        &patchpanel__connect_namespace_response__descriptor,
        &patchpanel__modify_port_rule_request__descriptor,
};

/* Well-formed UTF-8, as the table lists it: the first byte's range decides the ranges of
 * the ones after it. */
static bool reference_utf8(const uint8_t *s, size_t len) {
        static const struct {
                uint8_t first_lo, first_hi;
                uint8_t second_lo, second_hi;
                unsigned n; /* bytes in all */
        } rows[] = {
                { 0x01, 0x7f, 0, 0, 1 },       /* NUL is excluded on purpose */
                { 0xc2, 0xdf, 0x80, 0xbf, 2 },
                { 0xe0, 0xe0, 0xa0, 0xbf, 3 },
                { 0xe1, 0xec, 0x80, 0xbf, 3 },
                { 0xed, 0xed, 0x80, 0x9f, 3 },
                { 0xee, 0xef, 0x80, 0xbf, 3 },
                { 0xf0, 0xf0, 0x90, 0xbf, 4 },
                { 0xf1, 0xf3, 0x80, 0xbf, 4 },
                { 0xf4, 0xf4, 0x80, 0x8f, 4 },
        };
        size_t i = 0;

        while (i < len) {
                size_t row;

                for (row = 0; row < sizeof rows / sizeof rows[0]; row++)
                        if (s[i] >= rows[row].first_lo && s[i] <= rows[row].first_hi)
                                break;
                if (row == sizeof rows / sizeof rows[0])
                        return false;
                if (len - i < rows[row].n)
                        return false;
                if (rows[row].n >= 2 &&
                    (s[i + 1] < rows[row].second_lo || s[i + 1] > rows[row].second_hi))
                        return false;
                for (unsigned k = 2; k < rows[row].n; k++)
                        if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                                return false;
                i += rows[row].n;
        }
        return true;
}

/* Every string field of an unpacked message, nested ones too, is UTF-8 without NUL. */
static void check_strings(const ProtobufCMessage *m) {
        const ProtobufCMessageDescriptor *d = m->descriptor;

        for (unsigned i = 0; i < d->n_fields; i++) {
                const ProtobufCFieldDescriptor *f = &d->fields[i];
                const char *member = (const char *) m + f->offset;
                size_t n = 1;
                const void *const *values = (const void *const *) member;

                if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
                        continue;
                if (f->label == PROTOBUF_C_LABEL_REPEATED) {
                        n = *(const size_t *) ((const char *) m + f->quantifier_offset);
                        values = *(const void *const *const *) member;
                }
                for (size_t k = 0; k < n; k++) {
                        const void *v = values[k];

                        if (!v)
                                continue;
                        if (f->type == PROTOBUF_C_TYPE_STRING)
                                FUZZ_CHECK(utf8_is_valid_text(v, strlen(v)));
                        else
                                check_strings(v);
                }
        }
}

static void check_message(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                          size_t size) {
        ProtobufCMessage *m;
        uint8_t *packed;
        size_t n;
        int r;

        r = proto_check_strings(desc, data, size);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -EILSEQ);
        if (r < 0)
                return;
        m = protobuf_c_message_unpack(desc, NULL, size, data);
        if (!m)
                return;
        check_strings(m);
        n = protobuf_c_message_get_packed_size(m);
        packed = malloc(n ?: 1);
        FUZZ_CHECK(packed);
        FUZZ_CHECK(protobuf_c_message_pack(m, packed) == n);
        FUZZ_CHECK(proto_check_strings(desc, packed, n) == 0);
        free(packed);
        protobuf_c_message_free_unpacked(m, NULL);
}

static void check_escape(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1), out[64];
        size_t max = size > 0 ? data[0] % 40 : 0, len;
        bool printable = true;

        FUZZ_CHECK(s);
        memcpy(s, data, size);
        s[size] = '\0';
        str_escape(s, max, out, sizeof out);
        len = strlen(out);
        FUZZ_CHECK(len < sizeof out);
        for (size_t i = 0; i < len; i++)
                FUZZ_CHECK(out[i] >= 0x20 && out[i] < 0x7f);
        for (size_t i = 0; i < max && s[i]; i++)
                printable = printable && s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\';
        if (printable && strnlen(s, max) < sizeof out)
                FUZZ_CHECK(strncmp(out, s, max) == 0 && len == strnlen(s, max));
        free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size == 0)
                return 0;
        FUZZ_CHECK(utf8_is_valid_text(data + 1, size - 1) == reference_utf8(data + 1, size - 1));
        check_message(types[data[0] % (sizeof types / sizeof types[0])], data + 1, size - 1);
        check_escape(data, size);
        return 0;
}
