"""SetVpnIntent and VPN routing: with a tun interface carrying the default route, traffic
marked ROUTE_ON_VPN (and unmarked traffic) goes through it, traffic marked BYPASS_VPN goes
through the physical uplink; connected namespaces follow their route_on_vpn; connections
that come in on the uplink answer through it; guests' own traffic with the host stays
local."""

import os
import socket
import struct
import subprocess
import time

import pytest

import pplab

VPN_ADDR = "198.51.100.9"       # the tun's own address
FAR_ADDR = "198.51.100.77"      # somewhere beyond both the VPN and the lan
SO_MARK = 36
OTHER_BITS = 0x10               # a bit of nobody's (reserved bits 1-7): must survive

# Owns tun `name`: prints one line per IPv4 packet the host routes into it, "<src> <dst>
# <protocol>", and injects each packet given in hex on a line of stdin, as if it came in
# through the tunnel.
TUN_READER = r"""
import fcntl, os, select, socket, struct, sys
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", sys.argv[1].encode(), 0x0001 | 0x1000))
print("ready", flush=True)
while True:
    ready, _, _ = select.select([fd, sys.stdin], [], [])
    if sys.stdin in ready:
        line = sys.stdin.readline()
        if not line:
            break
        os.write(fd, bytes.fromhex(line.strip()))
    if fd in ready:
        p = os.read(fd, 65536)
        if len(p) >= 20 and p[0] >> 4 == 4:
            print(socket.inet_ntoa(p[12:16]), socket.inet_ntoa(p[16:20]), p[9], flush=True)
"""

# Creates a UDP socket in its own network namespace and sends it over the unix socket
# whose fd is argv[1].
SOCKET_MAKER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
socket.send_fds(socket.socket(fileno=int(sys.argv[1])), [b"s"], [s.fileno()])
"""


class Tun:
    """tun0 in the lab's host, owned by a reader process, with an address; as_default()
    makes it carry the default route (eth0's default moves behind it)."""

    def __init__(self, lab, name="tun0"):
        self.lab = lab
        self.name = name
        self.lines = []
        self.proc = lab.host.spawn("/usr/bin/python3", "-c", TUN_READER, name,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"
        os.set_blocking(self.proc.stdout.fileno(), False)
        lab.host.out("ip", "addr", "add", f"{VPN_ADDR}/32", "dev", name)
        lab.host.out("ip", "link", "set", name, "up")
        self.default = False

    def as_default(self):
        # The lab's eth0 default has metric 0: give it a worse one, and the tun a better.
        self.lab.host.out("ip", "route", "del", "default", "via", pplab.LAN_ADDR)
        self.lab.host.out("ip", "route", "add", "default", "via", pplab.LAN_ADDR, "dev", "eth0",
                          "metric", "100")
        self.lab.host.out("ip", "route", "add", "default", "dev", self.name, "metric", "50")
        self.default = True

    def inject(self, packet):
        """Make the host receive an IP packet through the tunnel."""
        self.proc.stdin.write(packet.hex() + "\n")
        self.proc.stdin.flush()

    def packets(self):
        """(src, dst, proto) of every packet read so far."""
        try:
            chunk = self.proc.stdout.read() or ""
        except (BlockingIOError, TypeError):
            chunk = ""
        self.lines.extend(l for l in chunk.splitlines() if l)
        return [tuple(l.split()) for l in self.lines]

    def close(self):
        if self.default:
            self.lab.host.exec("ip", "route", "del", "default", "dev", self.name)
            self.lab.host.exec("ip", "route", "del", "default", "via", pplab.LAN_ADDR, "metric",
                               "100")
            self.lab.host.out("ip", "route", "replace", "default", "via", pplab.LAN_ADDR, "dev",
                              "eth0")
        self.proc.kill()
        self.proc.wait()
        self.lab.host.exec("ip", "link", "del", self.name)


@pytest.fixture
def tun(lab, baseline):
    t = Tun(lab)
    yield t
    t.close()


def udp_packet(src, dst, sport, dport, payload):
    """An IPv4 UDP datagram (no UDP checksum, which IPv4 allows)."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
    words = struct.unpack("!10H", header)
    total = sum(words)
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    header = header[:10] + struct.pack("!H", ~total & 0xffff) + header[12:]
    return header + udp


def host_socket(lab):
    """A UDP socket of the lab's host namespace, held by this process."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        subprocess.run(["ip", "netns", "exec", lab.host.name, "/usr/bin/python3", "-c",
                        SOCKET_MAKER, str(b.fileno())], pass_fds=[b.fileno()], check=True,
                       timeout=10, stdin=subprocess.DEVNULL)
        _, fds, _, _ = socket.recv_fds(a, 16, 1)
    finally:
        a.close()
        b.close()
    return socket.socket(fileno=fds[0])


def so_mark(s):
    return s.getsockopt(socket.SOL_SOCKET, SO_MARK)


def route_dev(lab, mark):
    out = lab.host.ip_json("route", "get", FAR_ADDR, "mark", hex(mark))
    return out[0]["dev"]


def bypass_rules(lab):
    """The BYPASS_VPN rules: the main table without its catch-alls, then the physical
    default's table."""
    return [r for r in lab.host.ip_json("rule", "show") if r.get("priority") in (1010, 1011)]


def expect_bypass_to(lab, table):
    """Wait for the two bypass rules, the second into table (None: no rules)."""
    def check():
        rules = bypass_rules(lab)
        if table is None:
            return None if not rules else rules
        want = [(1010, "main"), (1011, str(table))]
        got = [(r["priority"], r["table"]) for r in rules]
        ok = got == want and all(r["fwmark"] == "0x4000" and r["fwmask"] == "0xc000"
                                 for r in rules)
        return None if ok else rules
    wait_for(check, f"the BYPASS_VPN rules into {table}")


def wait_for(check, what, timeout=5.0):
    err = pplab.poll(check, timeout=timeout, what=what)
    assert err is None, err


def test_vpn_intent_sets_only_the_vpn_bits(lab, baseline):
    s = host_socket(lab)
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_MARK, OTHER_BITS)
        for policy, bits in (("BYPASS_VPN", 0x4000), ("ROUTE_ON_VPN", 0x8000),
                             ("DEFAULT_ROUTING", 0)):
            assert lab.set_vpn_intent(s.fileno(), policy).success
            assert so_mark(s) == OTHER_BITS | bits, (policy, hex(so_mark(s)))
    finally:
        s.close()


def test_vpn_intent_refuses_what_is_not_a_socket(lab, baseline):
    r, w = os.pipe()
    try:
        with pytest.raises(pplab.DBusError) as e:
            lab.set_vpn_intent(r, "BYPASS_VPN")
        assert e.value.name == pplab.INVALID_ARGUMENT and "not a socket" in e.value.text
        with open("/dev/null", "rb") as f, pytest.raises(pplab.DBusError) as e:
            lab.set_vpn_intent(f.fileno(), "ROUTE_ON_VPN")
        assert e.value.name == pplab.INVALID_ARGUMENT
    finally:
        os.close(r)
        os.close(w)
    s = host_socket(lab)
    try:
        with pytest.raises(pplab.DBusError) as e:
            lab.set_vpn_intent(s.fileno(), 3)
        assert e.value.name == pplab.INVALID_ARGUMENT and "policy" in e.value.text
        # A request that does not decode.
        with pytest.raises(pplab.DBusError) as e:
            lab.bus().call("SetVpnIntent", "ayh", [b"\xff\xff", 0], [s.fileno()])
        assert e.value.name == pplab.INVALID_ARGUMENT
        assert so_mark(s) == 0
    finally:
        s.close()


def test_bypass_rules_follow_the_physical_default(lab, tun):
    table = pplab.routing_table(lab.host.ifindex("eth0"))
    # No VPN yet: bypassing changes nothing.
    expect_bypass_to(lab, table)
    assert lab.status()["firewall"]["vpn_bypass_uplink"] == "eth0"
    assert route_dev(lab, 0x4000) == route_dev(lab, 0) == "eth0"

    # A VPN takes the default route: the kernel's choice per mark is bypass -> eth0,
    # route-on-VPN and unmarked -> tun0, and a source-tagged mark keeps its VPN choice.
    tun.as_default()
    expect_bypass_to(lab, table)
    assert route_dev(lab, 0x4000) == "eth0"
    assert route_dev(lab, 0x8000) == "tun0"
    assert route_dev(lab, 0) == "tun0"
    assert route_dev(lab, 0x4400) == "eth0"

    # A VPN that covers the address space with two /1s instead (OpenVPN's def1), the
    # default route untouched: bypassing still goes around it.
    lab.host.out("ip", "route", "del", "default", "dev", "tun0")
    for half in ("0.0.0.0/1", "128.0.0.0/1"):
        lab.host.out("ip", "route", "add", half, "dev", "tun0")
    try:
        assert route_dev(lab, 0) == "tun0"
        assert route_dev(lab, 0x4000) == "eth0"
        # On-link destinations stay on their link either way.
        assert lab.host.ip_json("route", "get", pplab.LAN_ADDR, "mark", "0x4000")[0]["dev"] == "eth0"
    finally:
        for half in ("0.0.0.0/1", "128.0.0.0/1"):
            lab.host.exec("ip", "route", "del", half, "dev", "tun0")
        lab.host.out("ip", "route", "add", "default", "dev", "tun0", "metric", "50")

    # No physical default any more: no bypass rules; back: back.
    lab.host.out("ip", "route", "del", "default", "via", pplab.LAN_ADDR, "metric", "100")
    expect_bypass_to(lab, None)
    lab.host.out("ip", "route", "add", "default", "via", pplab.LAN_ADDR, "dev", "eth0",
                 "metric", "100")
    expect_bypass_to(lab, table)


def test_inbound_connections_answer_through_their_uplink(lab, tun):
    """With the VPN as the default route, a client beyond eth0's router reaches the host (an
    ACCESS port) and a connected namespace (a FORWARDING rule): their answers go back out
    eth0, not into the tunnel."""
    tun.as_default()
    lab.lan.out("ip", "addr", "add", f"{FAR_ADDR}/32", "dev", "lan0")
    host_server = lab.host.name_server("host", 7100)
    ns, proc = lab.client()
    resp, lifeline = lab.connect_namespace(proc.pid, route_on_vpn=True)
    guest = pplab.wire_to_ip(resp.peer_ipv4_address)
    ns_server = ns.name_server("ns", 7101)
    rules = [("access", "tcp", 7100, {}), ("access", "udp", 7100, {}),
             ("forwarding", "tcp", 7101, {"ifname": "eth0", "dst_ip": guest, "dst_port": 7101}),
             ("forwarding", "udp", 7101, {"ifname": "eth0", "dst_ip": guest, "dst_port": 7101})]
    try:
        for kind, proto, port, kw in rules:
            assert lab.modify_port_rule("create", kind, proto, port, **kw)
        for port, name in ((7100, f"host {pplab.HOST_UPLINK_ADDR}"), (7101, f"ns {guest}")):
            for proto in ("TCP", "UDP"):
                got = lab.lan.exec("socat", "-T3", "-", f"{proto}:{pplab.HOST_UPLINK_ADDR}:{port},"
                                   f"bind={FAR_ADDR}", input="?\n", timeout=10).stdout.strip()
                assert got == name, (port, proto, got)
        assert not [p for p in tun.packets() if p[1] == FAR_ADDR], tun.packets()
    finally:
        for kind, proto, port, kw in rules:
            lab.modify_port_rule("delete", kind, proto, port, **kw)
        lifeline.close()
        for p in (host_server, ns_server):
            p.kill()
            p.wait()
        lab.lan.exec("ip", "addr", "del", f"{FAR_ADDR}/32", "dev", "lan0")


def test_guests_traffic_with_the_host_stays_local(lab, tun):
    """A namespace that bypasses the VPN (and one pinned to eth0) still talks with the host
    and with each other: answers to guests never follow a routing tag or VPN intent out
    of an uplink."""
    tun.as_default()
    a, pa = lab.client()
    b, pb = lab.client()
    ra, la = lab.connect_namespace(pa.pid, route_on_vpn=False)
    rb, lb = lab.connect_namespace(pb.pid, outbound_physical_device="eth0")
    try:
        assert a.ping(pplab.wire_to_ip(ra.host_ipv4_address), count=2)
        assert b.ping(pplab.wire_to_ip(rb.host_ipv4_address), count=2)
        assert a.ping(pplab.wire_to_ip(rb.peer_ipv4_address), count=2)
        assert b.ping(pplab.wire_to_ip(ra.peer_ipv4_address), count=2)
        table = pplab.routing_table(lab.host.ifindex("eth0"))
        rule = [r for r in lab.host.ip_json("rule", "show") if r.get("priority") == 990]
        assert [(r["dst"], r["dstlen"], r["table"]) for r in rule] == [("100.115.92.0", 23, "main")], rule
        assert table
    finally:
        la.close()
        lb.close()


def test_marked_sockets_take_the_expected_interfaces(lab, tun):
    tun.as_default()
    at_lan = lab.lan.counter("vpnbypass", f"ip daddr {FAR_ADDR} udp dport 9")
    try:
        sockets = {p: host_socket(lab) for p in ("BYPASS_VPN", "ROUTE_ON_VPN", "DEFAULT_ROUTING")}
        for policy, s in sockets.items():
            assert lab.set_vpn_intent(s.fileno(), policy).success
        sent = {"BYPASS_VPN": 3, "ROUTE_ON_VPN": 2, "DEFAULT_ROUTING": 1}
        for policy, n in sent.items():
            for _ in range(n):
                sockets[policy].sendto(b"x" * 32, (FAR_ADDR, 9))

        # Bypass: out of eth0 to the lan router, with eth0's address.
        wait_for(lambda: None if at_lan() == 3 else at_lan(), "bypassing packets at the lan")
        # The other two through the tunnel, from the tunnel's address.
        def through_tun():
            got = [p for p in tun.packets() if p[1] == FAR_ADDR and p[2] == "17"]
            return None if len(got) == 3 else got
        wait_for(through_tun, "packets through the VPN")
        assert all(p[0] == VPN_ADDR for p in tun.packets() if p[1] == FAR_ADDR)
        time.sleep(0.2)
        assert at_lan() == 3
        for s in sockets.values():
            s.close()
    finally:
        lab.lan.delete_counters()


def test_connected_namespaces_follow_route_on_vpn(lab, tun):
    tun.as_default()
    at_lan = lab.lan.counter("nsbypass", f"ip daddr {FAR_ADDR} icmp type echo-request")
    ns_vpn, p1 = lab.client()
    ns_direct, p2 = lab.client()
    _, l1 = lab.connect_namespace(p1.pid, route_on_vpn=True)
    _, l2 = lab.connect_namespace(p2.pid, route_on_vpn=False)
    try:
        ns_vpn.ping(FAR_ADDR, count=2, wait=1)
        ns_direct.ping(FAR_ADDR, count=3, wait=1)
        # route_on_vpn: into the tunnel, masqueraded to the tunnel's address.
        pings = lambda: [p for p in tun.packets() if p[1] == FAR_ADDR and p[2] == "1"]  # noqa: E731
        wait_for(lambda: None if len(pings()) == 2 else pings(), "the namespace's pings in the VPN")
        assert all(p[0] == VPN_ADDR for p in pings())
        # Not on VPN: through eth0.
        wait_for(lambda: None if at_lan() == 3 else at_lan(), "the other namespace's pings at the lan")
    finally:
        l1.close()
        l2.close()
        lab.lan.delete_counters()


def test_ingress_firewall_guards_vpn_links(lab, tun):
    """A tunnel is a way in too: new inbound connections through it are dropped like on
    an uplink, until an ACCESS rule for every uplink opens the port."""
    peer = "198.51.100.50"
    lab.host.out("ip", "route", "add", f"{peer}/32", "dev", "tun0")
    server = lab.host.name_server("host", 7200)

    def answers():
        return [p for p in tun.packets() if p[0] == VPN_ADDR and p[1] == peer and p[2] == "17"]
    try:
        tun.inject(udp_packet(peer, VPN_ADDR, 40000, 7200, b"?"))
        time.sleep(1)
        assert answers() == [], "the ingress firewall let a new connection in through tun0"
        assert lab.modify_port_rule("create", "access", "udp", 7200)
        try:
            tun.inject(udp_packet(peer, VPN_ADDR, 40001, 7200, b"?"))
            wait_for(lambda: None if answers() else tun.packets(), "the answer through tun0")
        finally:
            assert lab.modify_port_rule("delete", "access", "udp", 7200)
    finally:
        server.kill()
        server.wait()
        lab.host.exec("ip", "route", "del", f"{peer}/32", "dev", "tun0")
