/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ifname.h"
#include "macro.h"

static bool ifname_char_ok(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '-';
}

bool ifname_is_valid_strict(const char *s, bool underscore) {
        size_t n;

        if (!s)
                return false;
        n = strnlen(s, IFNAMSIZ);
        if (n == 0 || n > IFNAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!ifname_char_ok(s[i]) || (s[i] == '_' && !underscore))
                        return false;
        if (s[0] == '-' || s[0] == '.' || s[n - 1] == '-' || s[n - 1] == '.')
                return false;
        return true;
}

bool ifname_is_valid(const char *s) {
        return ifname_is_valid_strict(s, true);
}

bool ifname_has_prefix(const char *s, const char *prefix) {
        return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static int ifname_format(const char *prefix, uint32_t id, char ret[static IFNAMSIZ]) {
        if (id > CONNECTED_NS_ID_MAX)
                return -ERANGE;
        int n = snprintf(ret, IFNAMSIZ, "%s%u", prefix, id);
        if (n < 0 || n >= IFNAMSIZ)
                return -ERANGE;
        return 0;
}

int ifname_connected_ns_host(uint32_t id, char ret[static IFNAMSIZ]) {
        return ifname_format(CONNECTED_NS_HOST_PREFIX, id, ret);
}

int ifname_connected_ns_peer(uint32_t id, char ret[static IFNAMSIZ]) {
        return ifname_format(CONNECTED_NS_PEER_PREFIX, id, ret);
}

int ifname_parse_connected_ns_host(const char *s, uint32_t *ret_id) {
        const char *p;
        uint64_t v = 0;

        if (!ifname_has_prefix(s, CONNECTED_NS_HOST_PREFIX))
                return -EINVAL;
        p = s + strlen(CONNECTED_NS_HOST_PREFIX);
        if (*p == '\0' || (p[0] == '0' && p[1] != '\0'))
                return -EINVAL;
        for (; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                v = v * 10 + (uint64_t) (*p - '0');
                if (v > CONNECTED_NS_ID_MAX)
                        return -ERANGE;
        }
        *ret_id = (uint32_t) v;
        return 0;
}

int ifname_prefixed(const char *prefix, const char *base, char ret[static IFNAMSIZ]) {
        size_t np = strlen(prefix), nb;

        if (!ifname_is_valid(base) || np >= IFNAME_MAX)
                return -EINVAL;
        nb = strlen(base);
        memcpy(ret, prefix, np);
        if (np + nb <= IFNAME_MAX) {
                memcpy(ret + np, base, nb + 1);
                return 0;
        }
        /* Keep prefix, the first IFNAME_MAX - np - 1 characters of base, and its last. */
        size_t keep = IFNAME_MAX - np - 1;
        memcpy(ret + np, base, keep);
        ret[np + keep] = base[nb - 1];
        ret[IFNAME_MAX] = '\0';
        return 0;
}

bool ifname_is_vm_tap(const char *s) {
        const char *p;

        if (!ifname_has_prefix(s, VM_TAP_PREFIX))
                return false;
        p = s + strlen(VM_TAP_PREFIX);
        if (*p == '\0' || strlen(s) > IFNAME_MAX)
                return false;
        for (; *p; p++)
                if (*p < '0' || *p > '9')
                        return false;
        return true;
}

bool ifname_is_own(const char *s) {
        static const char *const own[] = { ARC_UPLINK_BRIDGE_PREFIX, CONNECTED_NS_HOST_PREFIX,
                                           ARC_BRIDGE, ARC_HOST_VETH, VM_TAP_PREFIX };

        for (size_t i = 0; i < ELEMENTSOF(own); i++)
                if (ifname_has_prefix(s, own[i]))
                        return true;
        return false;
}
