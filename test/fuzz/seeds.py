#!/usr/bin/python3
"""Write the seed corpora of the fuzz targets (test/fuzz/corpus/<target>/seed-*): a few
valid inputs and a few near misses each, in each target's input format (see the comment at
the top of each fuzz-<target>.c). Run it again after a format changes:
    PP_BUILD_DIR=build test/fuzz/seeds.py
It only writes seed-* files; inputs added by hand (crash-*, a regression's input) stay."""

import os
import struct
import sys
from pathlib import Path

from seedio import write

HERE = Path(__file__).resolve().parent
BUILD = Path(os.environ.get("PP_BUILD_DIR", HERE.parents[1] / "build"))
sys.path.insert(0, str(BUILD / "python"))
import service_pb2 as pb  # noqa: E402  pylint: disable=wrong-import-position,import-error
import ipc_pb2  # noqa: E402  pylint: disable=wrong-import-position,import-error

# The order of BusMethod in common/bus-request.h.
METHODS = ["ArcStartup", "ArcShutdown", "ArcVmStartup", "ArcVmShutdown", "TerminaVmStartup",
           "TerminaVmShutdown", "PluginVmStartup", "PluginVmShutdown", "ConnectNamespace",
           "GetDevices", "GetTrafficCounters", "ModifyPortRule", "SetVpnIntent"]
# The order of types[] in fuzz-proto-check.c.
PROTO_TYPES = ["ArcStartupRequest", "ArcShutdownRequest", "ArcVmStartupRequest",
               "ArcVmStartupResponse", "TerminaVmStartupRequest", "TerminaVmStartupResponse",
               "PluginVmStartupRequest", "PluginVmStartupResponse", "GetDevicesRequest",
               "GetDevicesResponse", "NetworkDevice", "NetworkDeviceChangedSignal",
               "SetVpnIntentRequest", "TrafficCountersRequest", "TrafficCountersResponse",
               "ConnectNamespaceRequest", "ConnectNamespaceResponse", "ModifyPortRuleRequest"]


def request_seeds():
    R = pb.ModifyPortRuleRequest
    device = pb.NetworkDevice(ifname="arc_eth0", ipv4_addr=0x0a5c7364,
                              ipv4_subnet=pb.IPv4Subnet(base_addr=0x0a5c7364, prefix_len=30),
                              guest_type=pb.NetworkDevice.ARCVM)
    return {
        "ArcStartup": pb.ArcStartupRequest(pid=1234),
        "ArcShutdown": pb.ArcShutdownRequest(pid=1234),
        "ArcVmStartup": pb.ArcVmStartupRequest(cid=3),
        "ArcVmShutdown": pb.ArcVmShutdownRequest(cid=3),
        "TerminaVmStartup": pb.TerminaVmStartupRequest(cid=7),
        "TerminaVmShutdown": pb.TerminaVmShutdownRequest(cid=7),
        "PluginVmStartup": pb.PluginVmStartupRequest(id=42, subnet_index=2),
        "PluginVmShutdown": pb.PluginVmShutdownRequest(id=42),
        "ConnectNamespace": pb.ConnectNamespaceRequest(
            pid=1234, outbound_physical_device="eth0", allow_user_traffic=True,
            route_on_vpn=True, traffic_source=pb.TrafficCounter.ARC),
        "GetDevices": pb.GetDevicesRequest(),
        "GetTrafficCounters": pb.TrafficCountersRequest(devices=["eth0", "wlan0"]),
        "ModifyPortRule": R(op=R.CREATE, type=R.FORWARDING, proto=R.TCP, input_ifname="eth0",
                            input_dst_ip="192.0.2.10", input_dst_port=8080,
                            dst_ip="100.115.92.6", dst_port=80),
        "SetVpnIntent": pb.SetVpnIntentRequest(policy=pb.BYPASS_VPN),
        # Responses and nested types, for the string checks.
        "ArcVmStartupResponse": pb.ArcVmStartupResponse(devices=[device]),
        "GetDevicesResponse": pb.GetDevicesResponse(devices=[device, device]),
        "NetworkDevice": device,
        "NetworkDeviceChangedSignal": pb.NetworkDeviceChangedSignal(
            device=device, event=pb.NetworkDeviceChangedSignal.DEVICE_ADDED),
        "TrafficCountersResponse": pb.TrafficCountersResponse(counters=[pb.TrafficCounter(
            rx_bytes=1000, tx_bytes=2000, rx_packets=10, tx_packets=20,
            source=pb.TrafficCounter.USER, device="eth0")]),
        "ConnectNamespaceResponse": pb.ConnectNamespaceResponse(
            ipv4_subnet=pb.IPv4Subnet(base_addr=0x6473_5c80, prefix_len=30),
            peer_ifname="veth0", peer_ipv4_address=1, host_ifname="arc_ns0",
            host_ipv4_address=2),
        "TerminaVmStartupResponse": pb.TerminaVmStartupResponse(
            device=device, container_subnet=pb.IPv4Subnet(base_addr=1, prefix_len=28)),
        "PluginVmStartupResponse": pb.PluginVmStartupResponse(device=device),
    }


def bus_request(requests):
    seeds = {}
    for i, method in enumerate(METHODS):
        seeds[method] = bytes([i]) + requests[method].SerializeToString()
    R = pb.ModifyPortRuleRequest
    port = METHODS.index("ModifyPortRule")
    seeds["ModifyPortRule-access"] = bytes([port]) + R(
        op=R.CREATE, type=R.ACCESS, proto=R.UDP, input_dst_port=53).SerializeToString()
    seeds["ModifyPortRule-lockdown"] = bytes([port]) + R(
        op=R.DELETE, type=R.LOCKDOWN, proto=R.TCP, input_dst_port=5555).SerializeToString()
    seeds["ConnectNamespace-bad-name"] = bytes([METHODS.index("ConnectNamespace")]) + \
        pb.ConnectNamespaceRequest(pid=99, outbound_physical_device="-bad\x7f").SerializeToString()
    # A string with a NUL inside, and bytes that are not UTF-8, written by hand.
    seeds["GetTrafficCounters-nul"] = bytes([METHODS.index("GetTrafficCounters")]) + \
        b"\x0a\x09eth0\x00junk"
    seeds["GetTrafficCounters-latin1"] = bytes([METHODS.index("GetTrafficCounters")]) + \
        b"\x0a\x04\xe9th0"
    seeds["ArcStartup-truncated"] = bytes([0]) + b"\x08"
    return seeds


def proto_check(requests):
    seeds = {}
    for name, msg in requests.items():
        kind = type(msg).__name__
        if kind in PROTO_TYPES:
            seeds[name] = bytes([PROTO_TYPES.index(kind)]) + msg.SerializeToString()
    nested = PROTO_TYPES.index("GetDevicesResponse")
    seeds["nested-bad-utf8"] = bytes([nested]) + b"\x0a\x06\x0a\x04\xc0\xafab"
    seeds["overlong-varint"] = bytes([0]) + b"\x08" + b"\xff" * 11
    return seeds


def json_seeds():
    return {
        "status": b'{"version":"0.1.0","pools":[{"name":"netns","in_use":2,"size":16}],'
                  b'"devices":[],"uplinks":{"eth0":{"ifindex":2,"default":true}},"x":null}',
        "nft": b'{"nftables":[{"metainfo":{"version":"1.0.6","json_schema_version":1}},'
               b'{"set":{"family":"inet","name":"uplinks","table":"patchpanel",'
               b'"elem":["eth0","eth1"]}},{"counter":{"packets":18446744073709551615,'
               b'"bytes":9007199254740993}}]}',
        "escapes": b'["a\\"b\\\\c\\/d\\n\\t\\r\\b\\f\\u0041\\u00e9", -0.5e+3, 1E-2, 0]',
        "bad": b'{"a":[1,2,}',
    }


def port_rule():
    def request(rule_type, proto, port, dst_port, ifname=b"", in_ip=b"", dst_ip=b""):
        return (b"\x00" + bytes([rule_type, proto]) + struct.pack("<II", port, dst_port) +
                ifname + b"\x00" + in_ip + b"\x00" + dst_ip)

    def rule(rule_type, proto, port, in_ip, ifname, dst_ip, dst_port):
        key = struct.pack("=BBHI16s", rule_type, proto, port, in_ip, ifname)
        return b"\x01" + key + struct.pack("=IH2x", dst_ip, dst_port)

    return {
        "forwarding": request(3, 1, 8080, 80, b"eth0", b"192.0.2.10", b"100.115.92.6"),
        "access": request(1, 2, 53, 0, b"wlan0"),
        "lockdown": request(2, 1, 5555, 0),
        "bad-port": request(1, 1, 70000, 0),
        "bad-ip": request(3, 1, 22, 22, b"eth0", b"", b"100.115.92.0"),
        "rule-forwarding": rule(3, 1, 8080, 0xc000020a, b"eth0", 0x64735c06, 80),
        "rule-access": rule(1, 2, 53, 0, b"", 0, 0),
    }


def helper_request():
    """HelperRequests as the manager sends them (addresses in host byte order)."""
    R = ipc_pb2.HelperRequest
    mac = bytes([0x42, 0x37, 0x05, 0x13, 0x17, 0x01])
    netns = 0x64735c80  # 100.115.92.128, the namespace pool's first /30
    seeds = {
        "datapath-start": R(id=1, datapath_start=ipc_pb2.DatapathStart(ingress_firewall=True)),
        "ns-connect": R(id=2, ns_connect=ipc_pb2.NsConnect(
            ns_id=3, pid=4321, subnet_base=netns, subnet_prefix_len=30, host_mac=mac,
            peer_mac=mac, source=8)),
        "ns-connect-pinned": R(id=3, ns_connect=ipc_pb2.NsConnect(
            ns_id=4, pid=4321, subnet_base=netns + 4, subnet_prefix_len=30, host_mac=mac,
            peer_mac=mac, source=2, outbound_ifindex=2, outbound_ifname="eth0")),
        "ns-connect-bad-subnet": R(id=4, ns_connect=ipc_pb2.NsConnect(
            ns_id=4, pid=4321, subnet_base=netns + 1, subnet_prefix_len=30, host_mac=mac,
            peer_mac=mac, source=2)),
        "ns-disconnect": R(id=5, ns_disconnect=ipc_pb2.NsDisconnect(ns_id=3)),
        "uplink-add": R(id=6, uplink_add=ipc_pb2.UplinkAdd(ifname="eth0", ifindex=2)),
        "vm-tap-add": R(id=7, vm_tap_add=ipc_pb2.VmTapAdd(
            kind=1, subnet_base=0x64735c18, subnet_prefix_len=30, lxd_subnet_base=0x64735cc0,
            lxd_subnet_prefix_len=28, mac=mac)),
        "vm-tap-remove": R(id=8, vm_tap_remove=ipc_pb2.VmTapRemove(ifname="vmtap3")),
        "arc-add": R(id=9, arc_add=ipc_pb2.ArcAdd(pid=4321, guest_mac=mac)),
        "arc-add-vm": R(id=10, arc_add=ipc_pb2.ArcAdd(vm=True)),
        "arc-remove-vm": R(id=11, arc_remove=ipc_pb2.ArcRemove(
            vm=True, taps=[f"vmtap{i}" for i in range(6)], uplinks=["eth0", "wlan0"])),
        "arc-uplink-add": R(id=12, arc_uplink_add=ipc_pb2.ArcUplinkAdd(
            uplink_ifname="eth0", uplink_ifindex=2, subnet_base=0x64735c04,
            subnet_prefix_len=30, vm=True, tap_ifname="vmtap1")),
        "arc-uplink-remove": R(id=13, arc_uplink_remove=ipc_pb2.ArcUplinkRemove(
            uplink_ifname="eth0")),
        "port-rule": R(id=14, port_rule=ipc_pb2.PortRule(
            create=True, type=3, proto=1, ifname="eth0", input_dst_port=8080,
            dst_ip=0x64735c86, dst_port=80)),
        "counters-get": R(id=15, counters_get=ipc_pb2.CountersGet(ifnames=["eth0"])),
        "vpn-intent": R(id=16, vpn_intent=ipc_pb2.VpnIntent(policy=2)),
        "vpn-bypass-none": R(id=17, vpn_bypass=ipc_pb2.VpnBypass()),
        "neighbor-probe-v4": R(id=18, neighbor_probe=ipc_pb2.NeighborProbe(
            ifname="eth0", ifindex=2, addr=bytes([192, 0, 2, 1]))),
        "neighbor-probe-v6": R(id=19, neighbor_probe=ipc_pb2.NeighborProbe(
            ifname="eth0", ifindex=2, addr=bytes([0xfe, 0x80] + [0] * 13 + [1]))),
    }
    return {name: req.SerializeToString() for name, req in seeds.items()}


def nlmsg(msg_type, flags, header, attrs):
    """A netlink message: nlmsghdr, the family header, then (type, bytes) attributes."""
    body = header + bytes(-len(header) % 4)
    for attr_type, value in attrs:
        body += struct.pack("=HH", 4 + len(value), attr_type) + value + bytes(-len(value) % 4)
    return struct.pack("=IHHII", 16 + len(body), msg_type, flags, 0, 0) + body


def neighbor_nl():
    """Messages of the kinds neighbor_nl_decode() reads (linux/rtnetlink.h numbers)."""
    RTM_NEWADDR, RTM_NEWROUTE, RTM_DELROUTE, RTM_NEWNEIGH, RTM_DELNEIGH = 20, 24, 25, 28, 29
    IFA_ADDRESS, IFA_LOCAL, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_MULTIPATH, RTA_TABLE = \
        1, 2, 4, 5, 6, 9, 15
    NDA_DST = 1
    AF_INET, AF_INET6 = 2, 10
    v4 = bytes([192, 0, 2, 1])
    v6 = bytes([0xfe, 0x80] + [0] * 13 + [1])
    ifaddr = lambda family, plen: struct.pack("=BBBBI", family, plen, 0, 0, 2)  # noqa: E731
    rtmsg = lambda family: struct.pack("=BBBBBBBBI", family, 0, 0, 0, 254, 3, 0, 1, 0)  # noqa: E731
    ndmsg = lambda family, state: struct.pack("=BBHiHBB", family, 0, 0, 2, state, 0, 0)  # noqa: E731
    u32 = lambda v: struct.pack("=I", v)  # noqa: E731
    nexthop = lambda ifindex, gw: (struct.pack("=HBBi", 8 + 4 + len(gw), 0, 0, ifindex)  # noqa: E731
                                   + struct.pack("=HH", 4 + len(gw), RTA_GATEWAY) + gw)
    return {
        "addr-v4": nlmsg(RTM_NEWADDR, 0, ifaddr(AF_INET, 24),
                         [(IFA_ADDRESS, bytes([192, 0, 2, 2])), (IFA_LOCAL, bytes([192, 0, 2, 2]))]),
        "addr-v6": nlmsg(RTM_NEWADDR, 0, ifaddr(AF_INET6, 64), [(IFA_ADDRESS, v6)]),
        "route-v4": nlmsg(RTM_NEWROUTE, 0, rtmsg(AF_INET),
                          [(RTA_TABLE, u32(254)), (RTA_PRIORITY, u32(100)), (RTA_GATEWAY, v4),
                           (RTA_OIF, u32(2))]),
        "route-v6-replace": nlmsg(RTM_NEWROUTE, 0x100, rtmsg(AF_INET6),
                                  [(RTA_GATEWAY, v6), (RTA_OIF, u32(2))]),
        "route-del": nlmsg(RTM_DELROUTE, 0, rtmsg(AF_INET), [(RTA_GATEWAY, v4), (RTA_OIF, u32(2))]),
        "route-multipath": nlmsg(RTM_NEWROUTE, 0, rtmsg(AF_INET),
                                 [(RTA_MULTIPATH, nexthop(2, v4) + nexthop(3, bytes([198, 51, 100, 1])))]),
        "neigh-failed": nlmsg(RTM_NEWNEIGH, 0, ndmsg(AF_INET, 0x20), [(NDA_DST, v4)]),
        "neigh-reachable-v6": nlmsg(RTM_NEWNEIGH, 0, ndmsg(AF_INET6, 0x02), [(NDA_DST, v6)]),
        "neigh-del": nlmsg(RTM_DELNEIGH, 0, ndmsg(AF_INET, 0x04), [(NDA_DST, v4)]),
        "neigh-short": nlmsg(RTM_NEWNEIGH, 0, b"\x02\x00", []),
    }


def nla(attr_type, payload, nested=False):
    """One netlink attribute, padded to 4 bytes (NLA_F_NESTED on a nest, as libmnl sets)."""
    n = 4 + len(payload)
    return struct.pack("<HH", n, attr_type | (0x8000 if nested else 0)) + payload + \
        b"\0" * (-n % 4)


def nft_setelem():
    """NFT_MSG_NEWSETELEM messages of a dump of the counters' sets (fuzz-nft-setelem.c)."""
    NEWSETELEM = 10 << 8 | 12
    KEY, EXPR, EXPRESSIONS, LIST_ELEM, DATA_VALUE = 1, 7, 11, 1, 1
    EXPR_NAME, EXPR_DATA, CTR_BYTES, CTR_PACKETS = 1, 2, 1, 2

    def key(ifname, mark, nfproto):
        return ifname.encode().ljust(16, b"\0") + struct.pack("<I", mark) + bytes([nfproto, 0, 0, 0])

    def counter(name=b"counter\0", packets=3, byts=1500):
        data = nla(CTR_BYTES, struct.pack(">Q", byts)) + nla(CTR_PACKETS, struct.pack(">Q", packets))
        return nla(EXPR_NAME, name) + nla(EXPR_DATA, data, True)

    def elem(k, expr, as_list=False):
        body = nla(KEY, nla(DATA_VALUE, k), True)
        if as_list:
            body += nla(EXPRESSIONS, nla(LIST_ELEM, expr, True), True)
        else:
            body += nla(EXPR, expr, True)
        return nla(LIST_ELEM, body, True)

    def msg(elems):
        attrs = nla(1, b"patchpanel_acct\0") + nla(2, b"tx\0") + nla(3, b"".join(elems), True)
        body = b"\x01\x00\x00\x00" + attrs
        return struct.pack("<IHHII", 16 + len(body), NEWSETELEM, 0x2, 7, 0) + body

    return {
        "two": msg([elem(key("eth0", 0x100, 2), counter()),
                    elem(key("eth1", 0x200, 10), counter(packets=1, byts=64), True)]),
        "one": msg([elem(key("wlan0", 0x0, 2), counter())]),
        "not-counter": msg([elem(key("eth0", 0x100, 2), counter(name=b"limit\0"))]),
        "empty": msg([]),
        "no-packets": msg([elem(key("eth0", 0x100, 2),
                                nla(EXPR_NAME, b"counter\0") +
                                nla(EXPR_DATA, nla(CTR_BYTES, struct.pack(">Q", 9)), True))]),
    }


def resolv_conf():
    return {
        "plain": b"nameserver 192.0.2.53\nnameserver 2001:db8::53\n",
        "resolved-stub": b"# This is /run/systemd/resolve/stub-resolv.conf\nnameserver 127.0.0.53\n"
                         b"options edns0 trust-ad\nsearch .\n",
        "scoped": b"nameserver fe80::1%eth0\nnameserver fe80::2%3\n",
        "comments": b"; x\n# nameserver 192.0.2.1\nnameserver\t198.51.100.53 extra\r\n",
        "garbage": b"nameserver 999.1.1.1\nnameserver fe80::1%\nnameserver\n",
    }


def main():
    write("helper-request", helper_request())
    requests = request_seeds()
    write("bus-request", bus_request(requests))
    write("proto-check", proto_check(requests))
    write("json", json_seeds())
    write("port-rule", port_rule())
    write("neighbor-nl", neighbor_nl())
    write("resolv-conf", resolv_conf())
    write("nft-setelem", nft_setelem())


if __name__ == "__main__":
    main()
