/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "fwmark.h"
#include "ifname.h"
#include "validate.h"

int validate_pid(pid_t pid, pid_t self, pid_t manager, ErrBuf *err) {
        if (pid <= 1)
                return errbuf_set(err, -EINVAL, "pid %d is not allowed: it must be > 1", (int) pid);
        if (pid == self)
                return errbuf_set(err, -EINVAL, "pid %d is the helper itself", (int) pid);
        if (pid == manager)
                return errbuf_set(err, -EINVAL, "pid %d is the manager itself", (int) pid);
        return 0;
}

int validate_mac(const ProtobufCBinaryData *b, const char *what, MacAddr *ret, ErrBuf *err) {
        MacAddr m;

        if (b->len != MAC_LEN || !b->data)
                return errbuf_set(err, -EINVAL, "%s MAC address has %zu bytes, expected %d", what,
                                  b->len, MAC_LEN);
        memcpy(m.b, b->data, MAC_LEN);
        if (mac_is_zero(&m) || !mac_is_unicast(&m))
                return errbuf_set(err, -EINVAL, "%s MAC address is not a unicast address", what);
        *ret = m;
        return 0;
}

int validate_ns_id(uint32_t id, ErrBuf *err) {
        if (id > CONNECTED_NS_ID_MAX)
                return errbuf_set(err, -ERANGE, "namespace id %u is out of range", id);
        return 0;
}

int validate_ns_connect(const PoolLayout *pools, const IpcNsConnect *m, pid_t self,
                        pid_t manager, ErrBuf *err) {
        MacAddr mac;
        Subnet s;
        int r;

        r = validate_ns_id(m->ns_id, err);
        if (r < 0)
                return r;
        r = validate_pid(m->pid, self, manager, err);
        if (r < 0)
                return r;
        if (m->subnet_prefix_len > 32)
                return errbuf_set(err, -EINVAL, "prefix length %u is out of range",
                                  m->subnet_prefix_len);
        s = (Subnet) { .base = m->subnet_base, .prefix_len = (uint8_t) m->subnet_prefix_len };
        if (!pool_config_has_subnet(&pools->pools[POOL_NETNS], &s)) {
                char a[IPV4_STRLEN];
                return errbuf_set(err, -EINVAL, "subnet %s/%u is not in the namespace pool",
                                  ipv4_to_string(s.base, a), m->subnet_prefix_len);
        }
        r = validate_mac(&m->host_mac, "host", &mac, err);
        if (r < 0)
                return r;
        r = validate_mac(&m->peer_mac, "peer", &mac, err);
        if (r < 0)
                return r;
        if (!traffic_source_is_valid((int) m->source) || m->source == TRAFFIC_SOURCE_UNKNOWN)
                return errbuf_set(err, -EINVAL, "traffic source %u is not valid", m->source);
        return 0;
}

int validate_ns_disconnect(const IpcNsDisconnect *m, ErrBuf *err) {
        return validate_ns_id(m->ns_id, err);
}
