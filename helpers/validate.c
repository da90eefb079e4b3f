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

int validate_uplink(const char *ifname, int ifindex, ErrBuf *err) {
        uint32_t table;

        if (!ifname_is_valid(ifname))
                return errbuf_set(err, -EINVAL, "invalid uplink name");
        if (fwmark_routing_table(ifindex, &table) < 0)
                return errbuf_set(err, -ERANGE, "uplink ifindex %d is out of range", ifindex);
        return 0;
}

int validate_subnet(const PoolLayout *pools, PoolKind pool, uint32_t base, uint32_t prefix_len,
                    Subnet *ret, ErrBuf *err) {
        Subnet s = { .base = base, .prefix_len = (uint8_t) (prefix_len > 32 ? 0 : prefix_len) };
        char a[IPV4_STRLEN];

        if (prefix_len > 32 || !pool_config_has_subnet(&pools->pools[pool], &s))
                return errbuf_set(err, -EINVAL, "subnet %s/%u is not in the %s pool",
                                  ipv4_to_string(base, a), prefix_len, pool_kind_to_string(pool));
        if (ret)
                *ret = s;
        return 0;
}

int validate_vm_tap_add(const PoolLayout *pools, const IpcVmTapAdd *m, ErrBuf *err) {
        MacAddr mac;
        int r;

        switch (m->kind) {
        case PATCHPANEL__IPC__VM_KIND__VM_KIND_TERMINA:
                r = validate_subnet(pools, POOL_TERMINA, m->subnet_base, m->subnet_prefix_len,
                                    NULL, err);
                if (r >= 0 && (m->lxd_subnet_base || m->lxd_subnet_prefix_len))
                        r = validate_subnet(pools, POOL_LXD, m->lxd_subnet_base,
                                            m->lxd_subnet_prefix_len, NULL, err);
                break;
        case PATCHPANEL__IPC__VM_KIND__VM_KIND_PLUGINVM:
                r = validate_subnet(pools, POOL_PLUGINVM, m->subnet_base, m->subnet_prefix_len,
                                    NULL, err);
                if (r >= 0 && (m->lxd_subnet_base || m->lxd_subnet_prefix_len))
                        r = errbuf_set(err, -EINVAL, "a PluginVM has no container subnet");
                break;
        default:
                r = errbuf_set(err, -EINVAL, "unknown VM kind %d", (int) m->kind);
        }
        if (r < 0)
                return r;
        return validate_mac(&m->mac, "TAP", &mac, err);
}

int validate_tap_name(const char *ifname, ErrBuf *err) {
        if (!ifname_is_vm_tap(ifname))
                return errbuf_set(err, -EINVAL, "not a TAP name of the daemon");
        return 0;
}

int validate_arc_add(const IpcArcAdd *m, pid_t self, pid_t manager, ErrBuf *err) {
        MacAddr mac;

        if (m->vm)
                return 0;
        int r = validate_pid(m->pid, self, manager, err);
        if (r < 0)
                return r;
        return validate_mac(&m->guest_mac, "arc0", &mac, err);
}

int validate_arc_remove(const IpcArcRemove *m, ErrBuf *err) {
        if (!m->vm && m->n_taps > 0)
                return errbuf_set(err, -EINVAL, "the container has no TAPs");
        if (m->vm && m->n_taps != ARC_VM_N_TAPS)
                return errbuf_set(err, -EINVAL, "ARCVM has %d TAPs, not %zu", ARC_VM_N_TAPS,
                                  m->n_taps);
        for (size_t i = 0; i < m->n_taps; i++) {
                int r = validate_tap_name(m->taps[i], err);
                if (r < 0)
                        return r;
        }
        if (m->n_uplinks > ARC_N_UPLINK_SLOTS)
                return errbuf_set(err, -EINVAL, "ARC has at most %d uplinks, not %zu",
                                  ARC_N_UPLINK_SLOTS, m->n_uplinks);
        for (size_t i = 0; i < m->n_uplinks; i++)
                if (!ifname_is_valid(m->uplinks[i]))
                        return errbuf_set(err, -EINVAL, "invalid uplink name");
        return 0;
}

int validate_arc_uplink_add(const PoolLayout *pools, const IpcArcUplinkAdd *m, pid_t self,
                            pid_t manager, ErrBuf *err) {
        MacAddr mac;
        int r;

        r = validate_uplink(m->uplink_ifname, m->uplink_ifindex, err);
        if (r >= 0)
                r = validate_subnet(pools, POOL_ARC_NET, m->subnet_base, m->subnet_prefix_len,
                                    NULL, err);
        if (r < 0)
                return r;
        if (m->vm)
                return validate_tap_name(m->tap_ifname, err);
        r = validate_pid(m->pid, self, manager, err);
        if (r < 0)
                return r;
        return validate_mac(&m->guest_mac, "guest", &mac, err);
}

int validate_arc_uplink_remove(const IpcArcUplinkRemove *m, ErrBuf *err) {
        if (!ifname_is_valid(m->uplink_ifname))
                return errbuf_set(err, -EINVAL, "invalid uplink name");
        if (m->vm)
                return validate_tap_name(m->tap_ifname, err);
        return 0;
}
