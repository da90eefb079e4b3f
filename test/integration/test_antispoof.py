"""Guests cannot forge their source address (issue 8, part 3).

A connected namespace, an ARC container and a Termina VM each send UDP datagrams with
forged IPv4 sources (the upstream router, another guest, ARC's address on another of its
links, an address outside Termina's container /28, an arbitrary one) toward another guest,
the host and the uplink's router: none arrives, and the daemon's counter `spoofed` counts
every one. The same datagrams from the guest's own sources (for Termina also a container
behind it) arrive. The sources are set elements: one chain, whatever the number of guests.
"""

import ipaddress
import textwrap

import pytest

import pplab

FORGED_PORT, LEGIT_PORT = 40001, 40002
N = 3  # datagrams per source and destination

# UDP datagrams from any source: an IPv4 header of our own (IPPROTO_RAW implies
# IP_HDRINCL); the kernel fills in the header checksum, and routes by destination.
SEND = textwrap.dedent("""
    import socket, struct, sys
    src, dst, dport, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for i in range(n):
        payload = f"from {src} #{i}".encode()
        udp = struct.pack("!HHHH", 40000, dport, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
        s.sendto(ip + udp, (dst, 0))
""")


class Arrivals:
    """Counters, in a namespace, of the datagrams delivered there to the forged and the
    legitimate port (hook input: whatever reached the namespace's own stack)."""

    TABLE = "ppspoofrx"

    def __init__(self, ns):
        self.ns = ns
        ns.out("nft", f"add table inet {self.TABLE}")
        ns.out("nft", f"add chain inet {self.TABLE} input "
               "{ type filter hook input priority 10; policy accept; }")
        for name, port in (("forged", FORGED_PORT), ("legit", LEGIT_PORT)):
            ns.out("nft", f"add counter inet {self.TABLE} {name}")
            ns.out("nft", f"add rule inet {self.TABLE} input udp dport {port} "
                   f"counter name {name}")

    def read(self, name):
        data = self.ns.nft_json("list", "counter", "inet", self.TABLE, name)
        return next(i["counter"]["packets"] for i in data["nftables"] if "counter" in i)

    def close(self):
        self.ns.exec("nft", "delete", "table", "inet", self.TABLE)


def spoofed(lab):
    data = lab.host.nft_json("list", "counter", "inet", "patchpanel", "spoofed")
    return next(i["counter"]["packets"] for i in data["nftables"] if "counter" in i)


class Guests:
    """The senders and the other guest, each with its own sources and forged ones."""

    def __init__(self, lab):
        self.lab = lab
        self.closers = []
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def _build(self):
        lab = self.lab
        # A connected namespace that sends, another that receives.
        self.ns, proc = lab.client("spoofer")
        resp, lifeline = lab.connect_namespace(proc.pid)
        self.closers.append(lifeline.close)
        self.ns_addr = pplab.wire_to_ip(resp.peer_ipv4_address)
        self.ns_link = resp.host_ifname
        self.other, proc = lab.client("victim")
        resp, lifeline = lab.connect_namespace(proc.pid)
        self.closers.append(lifeline.close)
        self.other_addr = pplab.wire_to_ip(resp.peer_ipv4_address)

        # ARC, with its default route through its link to eth0.
        self.arc = pplab.ArcContainer(lab)
        self.closers.append(self.arc.close)
        self.arc.route("default", "eth0")
        self.arc_addr, _, _ = self.arc.link("eth0")
        self.arc0_addr = next(a for a in self.arc.ns.addrs("arc0"))

        # A Termina VM, with a container behind it.
        resp = lab.termina_vm_startup(21)
        self.closers.append(lambda: lab.termina_vm_shutdown(21))
        dev = resp.device
        self.tap = dev.ifname
        self.vm_addr = pplab.wire_to_ip(dev.ipv4_addr)
        self.lxd = pplab.subnet_of(resp.container_subnet)
        self.vm = lab.vm(self.tap)
        self.closers.append(self.vm.delete)
        self.vm.configure(dev)

    def senders(self):
        """name -> (namespace, own sources, forged sources)."""
        lxd = self.lxd
        outside_lxd = str(lxd.network_address + lxd.num_addresses)
        common = [pplab.LAN_ADDR, self.other_addr, "198.51.100.77"]
        return {
            "connected-ns": (self.ns, [self.ns_addr],
                             common + [str(ipaddress.ip_address(self.ns_addr) - 1)]),
            "arc": (self.arc.ns, [self.arc_addr], common + [self.arc0_addr]),
            "termina": (self.vm, [self.vm_addr, str(lxd.network_address + 5)],
                        common + [outside_lxd, self.ns_addr]),
        }

    def close(self):
        for close in reversed(self.closers):
            try:
                close()
            except Exception:  # pylint: disable=broad-except
                pass
        for ns in (getattr(self, "ns", None), getattr(self, "other", None)):
            if ns:
                ns.delete()
                self.lab.clients.remove(ns)


@pytest.fixture(scope="module")
def guests(lab):
    before = lab.datapath_state()
    g = Guests(lab)
    yield g
    g.close()
    left = pplab.poll(lambda: pplab.snapshot_diff(before, lab.datapath_state()), timeout=5,
                      what="guests gone")
    assert left is None, left


def source_elements(lab, name):
    """The (ifname, prefix) elements of guest_src4 or guest_src6, prefixes as "a/len"
    (a bare address for a single one)."""
    def plain(v):
        if isinstance(v, dict) and "prefix" in v:
            return f"{v['prefix']['addr']}/{v['prefix']['len']}"
        if isinstance(v, dict) and "range" in v:
            return "-".join(v["range"])
        return v
    data = lab.host.nft_json("list", "set", "inet", "patchpanel", name)
    out = set()
    for item in data["nftables"]:
        for e in item.get("set", {}).get("elem", []):
            e = e["elem"]["val"] if isinstance(e, dict) and "elem" in e else e
            out.add(tuple(plain(x) for x in e["concat"]))
    return out


def test_sources_are_elements_not_rules(lab, guests):
    # Addresses in the exact set, the one prefix (Termina's containers) in the interval set
    # of its own; the victim's link has its element too; nothing else is there.
    src4 = source_elements(lab, "guest_src4")
    want = {(guests.ns_link, guests.ns_addr), ("arc_eth0", guests.arc_addr),
            ("arcbr0", guests.arc0_addr), (guests.tap, guests.vm_addr)}
    assert want < src4 and len(src4) == len(want) + 1, src4
    assert source_elements(lab, "guest_net4") == {(guests.tap, str(guests.lxd))}
    # fe80::/64 and :: are one rule for every guest link, not elements per link; nothing
    # learned by the ND proxy here.
    assert source_elements(lab, "guest_src6") == set()
    chain = lab.host.nft_json("list", "chain", "inet", "patchpanel", "antispoof")
    rules = [i for i in chain["nftables"] if "rule" in i]
    assert len(rules) == 6, rules


@pytest.mark.parametrize("sender", ["connected-ns", "arc", "termina"])
def test_forged_sources_are_dropped_and_counted(lab, guests, sender):
    ns, own, forged = guests.senders()[sender]
    dests = {"another guest": (guests.other, guests.other_addr),
             "the host": (lab.host, pplab.HOST_UPLINK_ADDR),
             "the uplink": (lab.lan, pplab.LAN_ADDR)}
    arrivals = {name: Arrivals(dest_ns) for name, (dest_ns, _) in dests.items()}
    try:
        dropped_before = spoofed(lab)
        for name, (_, addr) in dests.items():
            for src in forged:
                ns.out("/usr/bin/python3", "-c", SEND, src, addr, str(FORGED_PORT), str(N))
        for name, (_, addr) in dests.items():
            for src in own:
                ns.out("/usr/bin/python3", "-c", SEND, src, addr, str(LEGIT_PORT), str(N))
        # The legitimate ones, sent last, arrive: anything forged would have by then.
        want = N * len(own)
        for name, rx in arrivals.items():
            err = pplab.poll(lambda rx=rx: None if rx.read("legit") == want else
                             rx.read("legit"), timeout=5, what=f"{sender} -> {name}")
            assert err is None, f"legitimate traffic from {sender} to {name} lost: {err}"
        got = {name: rx.read("forged") for name, rx in arrivals.items()}
        assert all(n == 0 for n in got.values()), f"forged datagrams from {sender} arrived: {got}"
        dropped = spoofed(lab) - dropped_before
        assert dropped == N * len(forged) * len(dests), (sender, dropped)
    finally:
        for rx in arrivals.values():
            rx.close()
