/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "proto-check.h"

#define NESTING_MAX 16

bool utf8_is_valid_text(const uint8_t *s, size_t len) {
        for (size_t i = 0; i < len;) {
                uint8_t c = s[i];
                uint32_t cp;
                size_t n;

                if (c == 0)
                        return false;
                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf) {
                        n = 1;
                        cp = c & 0x1f;
                } else if (c >= 0xe0 && c <= 0xef) {
                        n = 2;
                        cp = c & 0x0f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        n = 3;
                        cp = c & 0x07;
                } else
                        return false; /* a continuation byte, or 0xc0/0xc1/0xf5.. */
                if (len - i <= n)
                        return false;
                for (size_t k = 1; k <= n; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (s[i + k] & 0x3f);
                }
                if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                i += n + 1;
        }
        return true;
}

static int read_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *ret) {
        uint64_t v = 0;

        for (unsigned shift = 0; shift < 64; shift += 7) {
                if (*pos >= len)
                        return -EINVAL;
                uint8_t b = p[(*pos)++];
                v |= (uint64_t) (b & 0x7f) << shift;
                if (!(b & 0x80)) {
                        *ret = v;
                        return 0;
                }
        }
        return -EINVAL;
}

static int check(const ProtobufCMessageDescriptor *desc, const uint8_t *p, size_t len,
                 unsigned depth) {
        size_t pos = 0;

        if (depth > NESTING_MAX)
                return -EINVAL;
        while (pos < len) {
                const ProtobufCFieldDescriptor *f;
                uint64_t key, n;
                int r;

                r = read_varint(p, len, &pos, &key);
                if (r < 0 || key >> 3 == 0 || key >> 3 > UINT32_MAX)
                        return -EINVAL;
                f = protobuf_c_message_descriptor_get_field(desc, (unsigned) (key >> 3));
                switch (key & 7) {
                case 0:
                        r = read_varint(p, len, &pos, &n);
                        if (r < 0)
                                return r;
                        break;
                case 1:
                case 5:
                        n = (key & 7) == 1 ? 8 : 4;
                        if (len - pos < n)
                                return -EINVAL;
                        pos += n;
                        break;
                case 2:
                        r = read_varint(p, len, &pos, &n);
                        if (r < 0 || n > len - pos)
                                return -EINVAL;
                        if (f && f->type == PROTOBUF_C_TYPE_STRING &&
                            !utf8_is_valid_text(p + pos, (size_t) n))
                                return -EILSEQ;
                        if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                                r = check(f->descriptor, p + pos, (size_t) n, depth + 1);
                                if (r < 0)
                                        return r;
                        }
                        pos += (size_t) n;
                        break;
                default:
                        return -EINVAL; /* groups: not in proto3, and protobuf-c refuses them */
                }
        }
        return 0;
}

int proto_check_strings(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                        size_t len) {
        return check(desc, data, len, 0);
}

const char *str_escape(const char *s, size_t max, char *buf, size_t size) {
        size_t o = 0;

        if (size == 0)
                return buf;
        for (size_t i = 0; s && s[i] && i < max; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c >= 0x20 && c < 0x7f && c != '\\') {
                        if (o + 2 > size)
                                break;
                        buf[o++] = (char) c;
                } else {
                        if (o + 5 > size)
                                break;
                        o += (size_t) snprintf(buf + o, size - o, "\\x%02x", c);
                }
        }
        buf[o] = '\0';
        return buf;
}
