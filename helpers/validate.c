/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "route6.h"
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
        if (ret)
                *ret = m;
        return 0;
}

int validate_ns_id(uint32_t id, ErrBuf *err) {
        if (id > CONNECTED_NS_ID_MAX)
                return errbuf_set(err, -ERANGE, "namespace id %u is out of range", id);
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

int validate_tap_name(const char *ifname, ErrBuf *err) {
        if (!ifname_is_vm_tap(ifname))
                return errbuf_set(err, -EINVAL, "not a TAP name of the daemon");
        return 0;
}

int validate_uplink(const char *ifname, int ifindex, bool allow_none, UplinkArgs *ret,
                    ErrBuf *err) {
        uint32_t table;

        if (allow_none && ifindex == 0) {
                if (ifname && ifname[0])
                        return errbuf_set(err, -EINVAL, "an uplink name without an ifindex");
                if (ret)
                        *ret = (UplinkArgs) {};
                return 0;
        }
        if (!ifname_is_valid(ifname))
                return errbuf_set(err, -EINVAL, "invalid uplink name");
        if (fwmark_routing_table(ifindex, &table) < 0)
                return errbuf_set(err, -ERANGE, "uplink ifindex %d is out of range", ifindex);
        if (ret) {
                *ret = (UplinkArgs) { .ifindex = ifindex };
                snprintf(ret->ifname, sizeof ret->ifname, "%s", ifname);
        }
        return 0;
}

int validate_ns_connect(const PoolLayout *pools, const IpcNsConnect *m, pid_t self,
                        pid_t manager, NsConnectArgs *ret, ErrBuf *err) {
        NsConnectArgs a = { .ns_id = m->ns_id, .pid = m->pid, .pidfd = -EBADF,
                            .route_on_vpn = m->route_on_vpn };
        UplinkArgs out;
        int r;

        r = validate_ns_id(m->ns_id, err);
        if (r < 0)
                return r;
        (void) ifname_connected_ns_host(m->ns_id, a.host);
        (void) ifname_connected_ns_peer(m->ns_id, a.peer);
        r = validate_pid(m->pid, self, manager, err);
        if (r < 0)
                return r;
        if (m->subnet_prefix_len > 32)
                return errbuf_set(err, -EINVAL, "prefix length %u is out of range",
                                  m->subnet_prefix_len);
        r = validate_subnet(pools, POOL_NETNS, m->subnet_base, m->subnet_prefix_len, &a.subnet,
                            NULL);
        if (r < 0) {
                char s[IPV4_STRLEN];
                return errbuf_set(err, -EINVAL, "subnet %s/%u is not in the namespace pool",
                                  ipv4_to_string(m->subnet_base, s), m->subnet_prefix_len);
        }
        r = validate_mac(&m->host_mac, "host", &a.host_mac, err);
        if (r < 0)
                return r;
        r = validate_mac(&m->peer_mac, "peer", &a.peer_mac, err);
        if (r < 0)
                return r;
        if (!traffic_source_is_valid((int) m->source) || m->source == TRAFFIC_SOURCE_UNKNOWN)
                return errbuf_set(err, -EINVAL, "traffic source %u is not valid", m->source);
        a.source = (TrafficSource) m->source;
        r = validate_uplink(m->outbound_ifname, m->outbound_ifindex, true, &out, err);
        if (r < 0)
                return r;
        a.outbound_ifindex = out.ifindex;
        memcpy(a.outbound_ifname, out.ifname, sizeof a.outbound_ifname);
        if (ret)
                *ret = a;
        return 0;
}

int validate_ns_disconnect(const IpcNsDisconnect *m, NsDisconnectArgs *ret, ErrBuf *err) {
        int r = validate_ns_id(m->ns_id, err);

        if (r < 0)
                return r;
        if (ret) {
                *ret = (NsDisconnectArgs) { .ns_id = m->ns_id };
                (void) ifname_connected_ns_host(m->ns_id, ret->host);
        }
        return 0;
}

int validate_vm_tap_add(const PoolLayout *pools, const IpcVmTapAdd *m, VmTapAddArgs *ret,
                        ErrBuf *err) {
        VmTapAddArgs a = { .kind = m->kind };
        int r;

        switch (m->kind) {
        case PATCHPANEL__IPC__VM_KIND__VM_KIND_TERMINA:
                r = validate_subnet(pools, POOL_TERMINA, m->subnet_base, m->subnet_prefix_len,
                                    &a.subnet, err);
                if (r >= 0 && (m->lxd_subnet_base || m->lxd_subnet_prefix_len))
                        r = validate_subnet(pools, POOL_LXD, m->lxd_subnet_base,
                                            m->lxd_subnet_prefix_len, &a.lxd, err);
                break;
        case PATCHPANEL__IPC__VM_KIND__VM_KIND_PLUGINVM:
                r = validate_subnet(pools, POOL_PLUGINVM, m->subnet_base, m->subnet_prefix_len,
                                    &a.subnet, err);
                if (r >= 0 && (m->lxd_subnet_base || m->lxd_subnet_prefix_len))
                        r = errbuf_set(err, -EINVAL, "a PluginVM has no container subnet");
                break;
        default:
                r = errbuf_set(err, -EINVAL, "unknown VM kind %d", (int) m->kind);
        }
        if (r < 0)
                return r;
        r = validate_mac(&m->mac, "TAP", &a.mac, err);
        if (r < 0)
                return r;
        if (ret)
                *ret = a;
        return 0;
}

int validate_vm_tap_remove(const IpcVmTapRemove *m, TapArgs *ret, ErrBuf *err) {
        int r = validate_tap_name(m->ifname, err);

        if (r < 0)
                return r;
        if (ret)
                snprintf(ret->ifname, sizeof ret->ifname, "%s", m->ifname);
        return 0;
}

int validate_arc_add(const IpcArcAdd *m, pid_t self, pid_t manager, ArcAddArgs *ret,
                     ErrBuf *err) {
        ArcAddArgs a = { .vm = m->vm, .pidfd = -EBADF };
        int r;

        if (!m->vm) {
                r = validate_pid(m->pid, self, manager, err);
                if (r < 0)
                        return r;
                r = validate_mac(&m->guest_mac, "arc0", &a.guest_mac, err);
                if (r < 0)
                        return r;
                a.pid = m->pid;
        }
        if (ret)
                *ret = a;
        return 0;
}

int validate_arc_remove(const IpcArcRemove *m, ArcRemoveArgs *ret, ErrBuf *err) {
        ArcRemoveArgs a = { .vm = m->vm, .n_taps = m->n_taps, .n_uplinks = m->n_uplinks };

        if (!m->vm && m->n_taps > 0)
                return errbuf_set(err, -EINVAL, "the container has no TAPs");
        if (m->vm && m->n_taps != ARC_VM_N_TAPS)
                return errbuf_set(err, -EINVAL, "ARCVM has %d TAPs, not %zu", ARC_VM_N_TAPS,
                                  m->n_taps);
        for (size_t i = 0; i < m->n_taps; i++) {
                int r = validate_tap_name(m->taps[i], err);
                if (r < 0)
                        return r;
                snprintf(a.taps[i], IFNAMSIZ, "%s", m->taps[i]);
        }
        if (m->n_uplinks > ARC_N_UPLINK_SLOTS)
                return errbuf_set(err, -EINVAL, "ARC has at most %d uplinks, not %zu",
                                  ARC_N_UPLINK_SLOTS, m->n_uplinks);
        for (size_t i = 0; i < m->n_uplinks; i++) {
                if (!ifname_is_valid(m->uplinks[i]))
                        return errbuf_set(err, -EINVAL, "invalid uplink name");
                snprintf(a.uplinks[i], IFNAMSIZ, "%s", m->uplinks[i]);
        }
        if (ret)
                *ret = a;
        return 0;
}

int validate_arc_uplink_add(const PoolLayout *pools, const IpcArcUplinkAdd *m, pid_t self,
                            pid_t manager, ArcUplinkAddArgs *ret, ErrBuf *err) {
        ArcUplinkAddArgs a = { .vm = m->vm, .pidfd = -EBADF };
        int r;

        r = validate_uplink(m->uplink_ifname, m->uplink_ifindex, false, &a.uplink, err);
        if (r >= 0)
                r = validate_subnet(pools, POOL_ARC_NET, m->subnet_base, m->subnet_prefix_len,
                                    &a.subnet, err);
        if (r < 0)
                return r;
        (void) ifname_prefixed(ARC_UPLINK_BRIDGE_PREFIX, a.uplink.ifname, a.bridge);
        (void) ifname_prefixed(ARC_UPLINK_VETH_PREFIX, a.uplink.ifname, a.veth);
        if (m->vm) {
                r = validate_tap_name(m->tap_ifname, err);
                if (r < 0)
                        return r;
                snprintf(a.tap, sizeof a.tap, "%s", m->tap_ifname);
        } else {
                r = validate_pid(m->pid, self, manager, err);
                if (r < 0)
                        return r;
                r = validate_mac(&m->guest_mac, "guest", &a.guest_mac, err);
                if (r < 0)
                        return r;
                a.pid = m->pid;
        }
        if (ret)
                *ret = a;
        return 0;
}

int validate_arc_uplink_remove(const IpcArcUplinkRemove *m, ArcUplinkRemoveArgs *ret,
                               ErrBuf *err) {
        ArcUplinkRemoveArgs a = { .vm = m->vm };

        if (!ifname_is_valid(m->uplink_ifname))
                return errbuf_set(err, -EINVAL, "invalid uplink name");
        snprintf(a.uplink, sizeof a.uplink, "%s", m->uplink_ifname);
        (void) ifname_prefixed(ARC_UPLINK_BRIDGE_PREFIX, a.uplink, a.bridge);
        (void) ifname_prefixed(ARC_UPLINK_VETH_PREFIX, a.uplink, a.veth);
        if (m->vm) {
                int r = validate_tap_name(m->tap_ifname, err);
                if (r < 0)
                        return r;
                snprintf(a.tap, sizeof a.tap, "%s", m->tap_ifname);
        }
        if (ret)
                *ret = a;
        return 0;
}

int validate_port_rule(const PoolLayout *pools, const IpcPortRule *m, PortRuleArgs *ret,
                       ErrBuf *err) {
        PortRuleArgs a = { .create = m->create };
        int r;

        /* Range checks before anything narrows: 65536 must not become 0. */
        if (m->input_dst_port > 65535 || m->dst_port > 65535)
                return errbuf_set(err, -EINVAL, "port above 65535");
        if (!m->ifname || strlen(m->ifname) >= sizeof a.rule.key.ifname)
                return errbuf_set(err, -EINVAL, "interface name too long");
        if ((unsigned) m->type > 0xff || (unsigned) m->proto > 0xff)
                return errbuf_set(err, -EINVAL, "rule type or protocol out of range");
        a.rule.key.type = (uint8_t) m->type;
        a.rule.key.proto = (uint8_t) m->proto;
        a.rule.key.port = (uint16_t) m->input_dst_port;
        a.rule.key.input_dst_ip = m->input_dst_ip;
        strcpy(a.rule.key.ifname, m->ifname);
        a.rule.dst_ip = m->dst_ip;
        a.rule.dst_port = (uint16_t) m->dst_port;
        r = port_rule_validate(pools, &a.rule, err);
        if (r < 0)
                return r;
        if (ret)
                *ret = a;
        return 0;
}

int validate_counters_get(const IpcCountersGet *m, CountersGetArgs *ret, ErrBuf *err) {
        for (size_t i = 0; i < m->n_ifnames; i++)
                if (!m->ifnames[i] || m->ifnames[i][0] == '\0' ||
                    strlen(m->ifnames[i]) >= IFNAMSIZ)
                        return errbuf_set(err, -EINVAL, "invalid device name");
        if (ret)
                *ret = (CountersGetArgs) { .ifnames = m->ifnames, .n_ifnames = m->n_ifnames };
        return 0;
}

int validate_vpn_intent(const IpcVpnIntent *m, VpnIntentArgs *ret, ErrBuf *err) {
        if (m->policy >= _VPN_POLICY_MAX)
                return errbuf_set(err, -EINVAL, "VPN policy %u is not DEFAULT_ROUTING, "
                                  "ROUTE_ON_VPN or BYPASS_VPN", m->policy);
        if (ret)
                *ret = (VpnIntentArgs) { .policy = (VpnPolicy) m->policy, .fd = -EBADF };
        return 0;
}

int validate_adb_sideload(const IpcAdbSideload *m, AdbSideloadArgs *ret, ErrBuf *err) {
        int r = validate_tap_name(m->ifname, err);

        if (r < 0)
                return r;
        if (ret) {
                *ret = (AdbSideloadArgs) { .enable = m->enable };
                snprintf(ret->tap, sizeof ret->tap, "%s", m->ifname);
        }
        return 0;
}

/* Unicast addresses a neighbour can have (RFC 6890's special ranges that cannot be one). */
static bool ipv4_is_neighbor(const uint8_t *a) {
        if (a[0] == 0 || a[0] == 127 || a[0] >= 224)
                return false; /* "this network", loopback, multicast, reserved and broadcast */
        return true;
}

static bool ipv6_is_neighbor(const uint8_t *a) {
        static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
        static const uint8_t zero[15] = {};

        if (a[0] == 0xff)
                return false; /* multicast */
        if (memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1))
                return false; /* unspecified, loopback */
        if (memcmp(a, mapped, 12) == 0)
                return false; /* an IPv4 address in IPv6 clothes */
        return true;
}

int validate_neighbor_probe(const IpcNeighborProbe *m, NeighborProbeArgs *ret, ErrBuf *err) {
        NeighborProbeArgs a = {};
        int r;

        r = validate_uplink(m->ifname, m->ifindex, false, &a.uplink, err);
        if (r < 0)
                return r;
        /* By name here; by the link's flags and mark where the helper looks it up
         * (routing_check_uplink()). */
        if (strcmp(a.uplink.ifname, "lo") == 0)
                return errbuf_set(err, -EINVAL, "lo is the loopback link, not an uplink");
        if (ifname_is_own(a.uplink.ifname))
                return errbuf_set(err, -EINVAL, "%s is a link of the daemon's own, not an uplink",
                                  a.uplink.ifname);
        if (!m->addr.data || (m->addr.len != 4 && m->addr.len != 16))
                return errbuf_set(err, -EINVAL, "neighbour address has %zu bytes, expected 4 "
                                  "(IPv4) or 16 (IPv6)", m->addr.len);
        a.family = m->addr.len == 4 ? AF_INET : AF_INET6;
        memcpy(a.addr, m->addr.data, m->addr.len);
        if (a.family == AF_INET ? !ipv4_is_neighbor(a.addr) : !ipv6_is_neighbor(a.addr))
                return errbuf_set(err, -EINVAL, "neighbour address is not a unicast %s address",
                                  a.family == AF_INET ? "IPv4" : "IPv6");
        if (ret)
                *ret = a;
        return 0;
}

static const char *const neighbor_place_names[_NEIGHBOR_PLACE_MAX] = {
        [NEIGHBOR_PLACE_OFF_PREFIX] = "off-prefix",
        [NEIGHBOR_PLACE_NET_OR_BROADCAST] = "network-or-broadcast",
        [NEIGHBOR_PLACE_LINK_LOCAL] = "link-local",
        [NEIGHBOR_PLACE_ON_PREFIX] = "on-prefix",
        [NEIGHBOR_PLACE_OWN] = "own",
};

const char *neighbor_place_to_string(NeighborPlace p) {
        if (p < 0 || p >= _NEIGHBOR_PLACE_MAX)
                return NULL;
        return neighbor_place_names[p];
}


/* What one prefix says of @a (OFF_PREFIX: nothing). */
static NeighborPlace neighbor_place_one(const NeighborProbeArgs *a, const LinkPrefix *p) {
        size_t len = a->family == AF_INET ? 4 : 16;
        uint32_t v;

        if (p->family != a->family || p->prefix_len > 8 * len)
                return NEIGHBOR_PLACE_OFF_PREFIX;
        if (p->own && memcmp(p->addr, a->addr, len) == 0)
                return NEIGHBOR_PLACE_OWN;
        if (!addr_bytes_in_prefix(a->addr, p->addr, p->prefix_len))
                return NEIGHBOR_PLACE_OFF_PREFIX;
        if (a->family == AF_INET) {
                memcpy(&v, a->addr, sizeof v);
                if (ipv4_is_net_or_broadcast(ntohl(v), p->prefix_len))
                        return NEIGHBOR_PLACE_NET_OR_BROADCAST;
        }
        return NEIGHBOR_PLACE_ON_PREFIX;
}

NeighborPlace neighbor_place(const NeighborProbeArgs *a, const LinkPrefix *prefixes,
                             size_t n_prefixes) {
        NeighborPlace place = NEIGHBOR_PLACE_OFF_PREFIX;

        if (a->family == AF_INET6 && ipv6_bytes_are_link_local(a->addr))
                place = NEIGHBOR_PLACE_LINK_LOCAL;
        for (size_t i = 0; i < n_prefixes; i++) {
                NeighborPlace p = neighbor_place_one(a, &prefixes[i]);
                if (p > place)
                        place = p;
        }
        return place;
}

int validate_neighbor_place(const NeighborProbeArgs *a, NeighborPlace place, bool gateway,
                            ErrBuf *err) {
        char s[INET6_ADDRSTRLEN];

        switch (place) {
        case NEIGHBOR_PLACE_ON_PREFIX:
        case NEIGHBOR_PLACE_LINK_LOCAL:
                return 0;
        case NEIGHBOR_PLACE_OWN:
                return errbuf_set(err, -EINVAL, "%s is an address of %s itself, not a neighbour",
                                  inet_ntop(a->family, a->addr, s, sizeof s), a->uplink.ifname);
        case NEIGHBOR_PLACE_NET_OR_BROADCAST:
                if (gateway)
                        return 0;
                return errbuf_set(err, -EINVAL, "%s is the network or broadcast address of a "
                                  "prefix of %s, and no default route's gateway through it",
                                  inet_ntop(a->family, a->addr, s, sizeof s), a->uplink.ifname);
        case NEIGHBOR_PLACE_OFF_PREFIX:
                if (gateway)
                        return 0;
                return errbuf_set(err, -EINVAL, "%s is on none of the prefixes of %s, not "
                                  "link-local, and no default route's gateway through it",
                                  inet_ntop(a->family, a->addr, s, sizeof s), a->uplink.ifname);
        default:
                return errbuf_set(err, -EINVAL, "no place for the neighbour on %s",
                                  a->uplink.ifname);
        }
}

int validate_guest_link(const char *ifname, int ifindex, GuestLinkArgs *ret, ErrBuf *err) {
        if (!ifname_is_valid(ifname))
                return errbuf_set(err, -EINVAL, "invalid guest link name");
        /* ARC's links to uplinks (arc_<uplink>) and connected namespaces (arc_ns<N>) share
         * the prefix; arcbr0, ARC's own link, has none of them. */
        if (!ifname_is_vm_tap(ifname) && !(ifname_has_prefix(ifname, ARC_UPLINK_BRIDGE_PREFIX) &&
                                           strlen(ifname) > strlen(ARC_UPLINK_BRIDGE_PREFIX)))
                return errbuf_set(err, -EINVAL, "%s is not a guest link of the daemon", ifname);
        if (ifindex <= 0)
                return errbuf_set(err, -EINVAL, "guest link ifindex %d is not valid", ifindex);
        if (ret) {
                *ret = (GuestLinkArgs) { .ifindex = ifindex };
                snprintf(ret->ifname, sizeof ret->ifname, "%s", ifname);
        }
        return 0;
}

int validate_guest_ipv6_enable(const IpcGuestIpv6Enable *m, GuestLinkArgs *ret, ErrBuf *err) {
        GuestLinkArgs a;
        int r;

        /* The manager may not know the ifindex of a link it did not make itself (ARC's
         * bridges): 0 then, and the helper finds the link by name. */
        if (m->ifindex == 0) {
                r = validate_guest_link(m->ifname, 1, &a, err);
                if (r >= 0 && ret) {
                        a.ifindex = 0;
                        *ret = a;
                }
                return r;
        }
        return validate_guest_link(m->ifname, m->ifindex, ret, err);
}

int validate_guest_route6(const IpcGuestRoute6 *m, GuestRoute6Args *ret, ErrBuf *err) {
        GuestRoute6Args a = { .add = m->add };
        char s[INET6_ADDRSTRLEN];
        int r;

        r = validate_guest_link(m->guest_ifname, m->guest_ifindex, &a.guest, err);
        if (r < 0)
                return r;
        r = validate_uplink(m->uplink_ifname, m->uplink_ifindex, false, &a.uplink, err);
        if (r < 0)
                return r;
        if (strcmp(a.guest.ifname, a.uplink.ifname) == 0 || a.guest.ifindex == a.uplink.ifindex)
                return errbuf_set(err, -EINVAL, "the guest link cannot be its own uplink");
        if (m->address.len != sizeof a.addr || !m->address.data)
                return errbuf_set(err, -EINVAL, "IPv6 address has %zu bytes, expected %zu",
                                  m->address.len, sizeof a.addr);
        memcpy(&a.addr, m->address.data, sizeof a.addr);
        if (!route6_addr_is_guest_kind(&a.addr))
                return errbuf_set(err, -EINVAL, "%s is neither global unicast nor unique local",
                                  inet_ntop(AF_INET6, &a.addr, s, sizeof s));
        if (ret)
                *ret = a;
        return 0;
}
