"""SetVpnIntent and VPN routing: with a tun interface carrying the default route, traffic
marked ROUTE_ON_VPN (and unmarked traffic) goes through it, traffic marked BYPASS_VPN goes
through the physical uplink; connected namespaces follow their route_on_vpn."""

import os
import socket
import subprocess
import time

import pytest

import pplab

VPN_ADDR = "198.51.100.9"       # the tun's own address
FAR_ADDR = "198.51.100.77"      # somewhere beyond both the VPN and the lan
SO_MARK = 36
OTHER_BITS = 0x10               # a bit of nobody's (reserved bits 1-7): must survive

# Owns tun `name` and prints one line per IPv4 packet the host routes into it:
# "<src> <dst> <protocol>".
TUN_READER = r"""
import fcntl, os, socket, struct, sys
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", sys.argv[1].encode(), 0x0001 | 0x1000))
print("ready", flush=True)
while True:
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
                                   stdout=subprocess.PIPE, text=True)
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
    return [r for r in lab.host.ip_json("rule", "show") if r.get("priority") == 1010]


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


def test_bypass_rule_follows_the_default_route(lab, tun):
    assert bypass_rules(lab) == []
    tun.as_default()
    table = pplab.routing_table(lab.host.ifindex("eth0"))
    wait_for(lambda: None if len(bypass_rules(lab)) == 1 else bypass_rules(lab),
             "the BYPASS_VPN rule")
    rule = bypass_rules(lab)[0]
    assert rule["fwmark"] == "0x4000" and rule["fwmask"] == "0xc000", rule
    assert rule["table"] == str(table), rule
    assert lab.status()["firewall"]["vpn_bypass_uplink"] == "eth0"
    # The kernel's choice per mark: bypass -> eth0; route-on-VPN and unmarked -> tun0.
    assert route_dev(lab, 0x4000) == "eth0"
    assert route_dev(lab, 0x8000) == "tun0"
    assert route_dev(lab, 0) == "tun0"
    # The host's own traffic tagged as a source keeps its VPN choice.
    assert route_dev(lab, 0x4400) == "eth0"

    # No VPN default any more: no rule.
    lab.host.out("ip", "route", "del", "default", "dev", "tun0")
    wait_for(lambda: None if not bypass_rules(lab) else bypass_rules(lab),
             "the BYPASS_VPN rule to go")
    lab.host.out("ip", "route", "add", "default", "dev", "tun0", "metric", "50")
    wait_for(lambda: None if len(bypass_rules(lab)) == 1 else bypass_rules(lab),
             "the BYPASS_VPN rule back")


def test_marked_sockets_take_the_expected_interfaces(lab, tun):
    tun.as_default()
    wait_for(lambda: None if bypass_rules(lab) else "no rule", "the BYPASS_VPN rule")
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
    wait_for(lambda: None if bypass_rules(lab) else "no rule", "the BYPASS_VPN rule")
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
