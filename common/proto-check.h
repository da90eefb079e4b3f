/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * protobuf-c hands string fields over as C strings: a string with a NUL inside arrives cut
 * at the NUL, silently ("eth0\0junk" would name eth0), and bytes that are not UTF-8 pass
 * although proto3 forbids them. Requests from outside are checked here, on the wire bytes,
 * before they are unpacked.
 */

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * proto_check_strings() - every string field of the serialized message (in nested messages
 * too) is valid UTF-8 without NUL.
 * Return: 0; -EILSEQ for a bad string; -EINVAL if the bytes are not a well-formed message
 * of that type.
 */
int proto_check_strings(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len);

/* Whether s[0..len) is valid UTF-8 (no overlong forms, surrogates or values beyond
 * U+10FFFF) without NUL. */
bool utf8_is_valid_text(const uint8_t *s, size_t len);

/*
 * str_escape() - s for a log line or a D-Bus error: printable ASCII as is, anything else
 * (control characters, bytes beyond ASCII) as \xNN, at most max characters of s.
 * Return: buf.
 */
const char *str_escape(const char *s, size_t max, char *buf, size_t size);
