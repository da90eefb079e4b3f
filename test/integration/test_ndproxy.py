"""IPv6 for every guest through ndproxyd, the RFC 4389 ND proxy (issue 9).

radvd in the lan namespace advertises 2001:db8:1::/64 on eth0's link. An ARC container, a
Termina "VM" (a namespace behind the TAP, taprelay.py) and a connected namespace each get
a SLAAC address in that prefix through the proxy, reach the lan's router over IPv6 and are
reached from it; the RA they see carries the Proxy flag and their router's MAC is the
host's; the host has a /128 route to each (and accepts each as the guest's source) while
it runs, keeps its own SLAAC address and default route, and removes the routes when the
guests go. ndproxyd killed with SIGKILL is restarted at once with what it learned.
Standalone, `ndproxyd eth0 lxdbr0` in a "VM" namespace serves a bridge made after it
started. With --ndproxy=off nothing of it exists.
"""

import ipaddress
import os
import signal
import subprocess
import textwrap
import time

import pytest

import pplab

PREFIX = ipaddress.IPv6Network("2001:db8:1::/64")
ROUTER = "2001:db8:1::1"
GUEST_TABLE = "999"
SLAAC_TIMEOUT = 25


def global_addrs(ns, ifname):
    """The addresses of ifname in PREFIX that finished duplicate address detection."""
    out = []
    for link in ns.ip_json("-6", "addr", "show", "dev", ifname):
        for a in link.get("addr_info", []):
            if (a.get("scope") == "global" and not a.get("tentative") and
                    ipaddress.IPv6Address(a["local"]) in PREFIX):
                out.append(a["local"])
    return out


def wait_slaac(ns, ifname, what):
    """The first SLAAC address of ifname in ns, waiting for it."""
    found = {}

    def check():
        addrs = global_addrs(ns, ifname)
        if addrs:
            found["a"] = addrs[0]
            return None
        return ns.out("ip", "-6", "addr", "show", "dev", ifname)
    err = pplab.poll(check, timeout=SLAAC_TIMEOUT, interval=0.1, what=f"SLAAC of {what}")
    assert err is None, err
    return found["a"]


def guest_routes(lab):
    """{address: device} of the host's /128 routes to guests."""
    return {r["dst"]: r["dev"] for r in lab.host.ip_json("-6", "route", "show", "table", GUEST_TABLE)
            if r["dst"] != "default"}


def proxy_entries(ns, dev):
    """The addresses of the kernel's proxy neighbour entries on dev in ns."""
    return {line.split()[0] for line in ns.out("ip", "-6", "neigh", "show", "proxy", "dev",
                                                 dev).splitlines() if line.strip()}


def accepts_source(lab, link, addr):
    """Whether the anti-spoofing set accepts addr from link."""
    return lab.host.ok("nft", "get", "element", "inet", "patchpanel", "guest_src6",
                       f'{{ "{link}" . {addr} }}')


def ndproxyd(lab):
    return next(c for c in lab.status()["children"] if c["name"] == "ndproxyd")


def counter(child, link, name):
    return next((c["value"] for c in child["counters"] if c["link"] == link and c["name"] == name),
                None)


class Guest:
    """A guest as the tests see it: its namespace, its interface there, the host side of
    its link (what ndproxyd serves) and its SLAAC address once it has one."""

    def __init__(self, kind, ns, ifname, host_link, stop):
        self.kind = kind
        self.ns = ns
        self.ifname = ifname
        self.host_link = host_link
        self.stop = stop
        self.addr = None

    def __repr__(self):
        return f"{self.kind}({self.host_link}, {self.addr})"


@pytest.fixture(scope="module")
def v6lab():
    from conftest import finish_lab, make_lab  # pylint: disable=import-outside-toplevel
    lab = make_lab()
    try:
        radvd = lab.lan.add_peer(pplab.Radvd(prefix=str(PREFIX)))
        assert radvd.address == ROUTER
        wait_slaac(lab.host, "eth0", "the host's uplink")
    except BaseException:
        finish_lab(lab)
        raise
    yield lab
    finish_lab(lab)


@pytest.fixture(scope="module")
def guests(v6lab):
    """ARC, Termina and a connected namespace, each with its SLAAC address."""
    lab = v6lab
    closers = []
    out = {}
    try:
        arc = pplab.ArcContainer(lab)
        closers.append(arc.close)
        out["arc"] = Guest("arc", arc.ns, "eth0", "arc_eth0", arc.shutdown)

        resp = lab.termina_vm_startup(31)
        closers.append(lambda: lab.termina_vm_shutdown(31))
        vm = lab.vm(resp.device.ifname)
        closers.append(vm.delete)
        vm.configure(resp.device)
        vm.sysctl("net.ipv6.conf.eth0.disable_ipv6", 0)  # VmNetns starts it without
        out["termina"] = Guest("termina", vm, "eth0", resp.device.ifname,
                               lambda: lab.termina_vm_shutdown(31))

        ns, proc = lab.client("v6ns")
        resp, lifeline = lab.connect_namespace(proc.pid)
        closers.append(lifeline.close)
        out["netns"] = Guest("netns", ns, resp.peer_ifname, resp.host_ifname, lifeline.close)

        for g in out.values():
            g.addr = wait_slaac(g.ns, g.ifname, g.kind)
        yield out
    finally:
        for close in reversed(closers):
            try:
                close()
            except Exception:  # pylint: disable=broad-except
                pass


def test_each_guest_gets_an_address_in_the_lan_prefix(guests):
    addrs = [g.addr for g in guests.values()]
    assert len(set(addrs)) == 3, guests
    for g in guests.values():
        assert ipaddress.IPv6Address(g.addr) in PREFIX, g


def test_ping6_both_ways(v6lab, guests):
    lab = v6lab
    for g in guests.values():
        ok = g.ns.ok("ping", "-6", "-n", "-q", "-c", "2", "-i", "0.2", "-W", "2", ROUTER)
        assert ok, f"{g} cannot reach the lan's router\n{lab.log()[-3000:]}"
        ok = lab.lan.ok("ping", "-6", "-n", "-q", "-c", "2", "-i", "0.2", "-W", "2", g.addr)
        assert ok, f"the lan's router cannot reach {g}\n{lab.log()[-3000:]}"


def test_default_routes_point_at_the_proxy(v6lab, guests):
    lab = v6lab
    for g in guests.values():
        routes = g.ns.ip_json("-6", "route", "show", "default", "dev", g.ifname)
        assert routes and routes[0]["gateway"].startswith("fe80:"), (g, routes)
        assert routes[0].get("protocol") == "ra", (g, routes)
        router_ll = routes[0]["gateway"]
        g.ns.ok("ping", "-6", "-n", "-q", "-c", "1", "-W", "2", ROUTER)
        # The router's MAC, as the guest knows it, is the host side of its link.
        neigh = g.ns.ip_json("-6", "neigh", "show", router_ll, "dev", g.ifname)
        want = lab.host.mac(g.host_link)
        assert neigh and neigh[0].get("lladdr") == want, (g, neigh, want)


def test_the_ra_they_see_carries_the_proxy_flag(v6lab, guests):
    for g in guests.values():
        out = g.ns.out("rdisc6", "-1", "-w", "2000", g.ifname)
        assert "Neighbor discovery proxy  :          Yes" in out, (g, out)
        assert "2001:db8:1::/64" in out, (g, out)
        # Its link-layer option names the host's side of the link, not the router.
        assert v6lab.host.mac(g.host_link).upper() in out, (g, out)


def test_host_routes_and_sources_while_they_run(v6lab, guests):
    lab = v6lab
    routes = guest_routes(lab)
    for g in guests.values():
        assert routes.get(g.addr) == g.host_link, (g, routes)
        assert accepts_source(lab, g.host_link, g.addr), g
        # Only from its own link.
        other = next(o for o in guests.values() if o is not g)
        assert not accepts_source(lab, other.host_link, g.addr), g
    # The kernel answers the uplink's NS for each, at once.
    err = pplab.poll(lambda: None if proxy_entries(lab.host, "eth0") == {g.addr for g in guests.values()}
                     else proxy_entries(lab.host, "eth0"), timeout=5, what="proxy entries")
    assert err is None, err
    assert lab.host.out("sysctl", "-n", "net.ipv6.conf.eth0.proxy_ndp").strip() == "1"
    assert lab.host.out("sysctl", "-n", "net.ipv6.neigh.eth0.proxy_delay").strip() == "0"
    # IPv6 lookups see the guests' routes before any uplink's table.
    assert f"990:\tfrom all lookup {GUEST_TABLE} proto 177" in lab.host.out("ip", "-6", "rule")
    # And the host reaches them itself.
    for g in guests.values():
        assert lab.host.ok("ping", "-6", "-n", "-q", "-c", "1", "-W", "2", g.addr), g


def test_the_host_keeps_its_own_address_and_default_route(v6lab, guests):
    lab = v6lab
    assert lab.host.out("sysctl", "-n", "net.ipv6.conf.all.forwarding").strip() == "1"
    assert lab.host.out("sysctl", "-n", "net.ipv6.conf.eth0.accept_ra").strip() == "2"
    # Past a router lifetime (30 s would be too long to wait: the next RA must renew it).
    before = global_addrs(lab.host, "eth0")
    assert before
    deadline = time.monotonic() + 12
    renewed = None
    while time.monotonic() < deadline and renewed is None:
        d = lab.host.ip_json("-6", "route", "show", "default")
        if d and d[0].get("protocol") == "ra" and d[0].get("expires", 0) > 20:
            renewed = d
        time.sleep(0.5)
    assert renewed, lab.host.out("ip", "-6", "route")
    assert global_addrs(lab.host, "eth0") == before
    assert lab.host.ok("ping", "-6", "-n", "-q", "-c", "1", "-W", "2", ROUTER)


def test_the_kernel_answers_the_routers_ns_for_learned_guests(v6lab, guests):
    """The lan's router forgets each guest and pings it: its NS for the guest's address is
    answered with the uplink's MAC by the kernel (the guest's proxy entry); ndproxyd's
    socket filter keeps the NS away from it, so it neither answers nor relays it (the guest
    never answers an NS it did not get)."""
    lab = v6lab
    host_mac = lab.host.ip_json("link", "show", "eth0")[0]["address"]
    err = pplab.poll(lambda: None if proxy_entries(lab.host, "eth0") >= {g.addr for g in guests.values()}
                     else "not yet", timeout=5, what="proxy entries")
    assert err is None, err
    # Counters reach the status at most a second after they change.
    time.sleep(1.2)
    c = ndproxyd(lab)
    before = counter(c, "eth0", "answered")
    assert before is not None, c
    dropped = {g.host_link: counter(c, g.host_link, "drop.answered") or 0 for g in guests.values()}
    for g in guests.values():
        lab.lan.out("ip", "-6", "neigh", "flush", "to", g.addr)
        assert lab.lan.ok("ping", "-6", "-n", "-q", "-c", "1", "-W", "2", g.addr), g
        neigh = lab.lan.ip_json("-6", "neigh", "show", g.addr)
        assert neigh and neigh[0].get("lladdr") == host_mac, (g, neigh)
    time.sleep(1.2)
    c = ndproxyd(lab)
    assert counter(c, "eth0", "answered") == before and all(
        (counter(c, link, "drop.answered") or 0) == n for link, n in dropped.items()), \
        " ".join(f"{x['link']}:{x['name']}={x['value']}" for x in c["counters"])



def test_ndproxyd_holds_no_capability_under_its_policy(v6lab, guests):
    c = ndproxyd(v6lab)
    st = pplab.proc_status(c["pid"])
    for field in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
        assert int(st[field], 16) == 0, (field, st[field])
    assert st["NoNewPrivs"] == "1" and st["Seccomp"] == "2", st
    assert st["Uid"].split()[0] != "0"
    # Its counters are in the status, per link.
    for g in guests.values():
        assert counter(c, g.host_link, "addresses") >= 1, c
        assert counter(c, g.host_link, "proxied") > 0, c
    assert "ndproxyd" in v6lab.cli("status").stdout


def test_sigkill_restart_replays_what_it_learned(v6lab, guests):
    lab = v6lab
    old = ndproxyd(lab)
    routes = guest_routes(lab)
    os.kill(old["pid"], signal.SIGKILL)
    killed = time.monotonic()
    seen = {}

    def back():
        c = ndproxyd(lab)
        seen["c"] = c
        return None if c["state"] == "running" and c["pid"] not in (0, old["pid"]) else c["state"]
    err = pplab.poll(back, timeout=5, interval=0.01, what="ndproxyd back")
    took = time.monotonic() - killed
    assert err is None, f"{err}\n{lab.log()[-3000:]}"
    print(f"ndproxyd back after {took:.3f}s")
    # Restarted with no delay (the supervisor's choice; the wall clock is only printed).
    assert lab.restart_delay_ms("ndproxyd", old["pid"]) == 0, lab.log()[-3000:]
    # The routes never went; the new process was told the addresses (none relearned).
    assert guest_routes(lab) == routes

    def replayed():
        c = ndproxyd(lab)
        missing = [g.host_link for g in guests.values()
                   if (counter(c, g.host_link, "addresses") or 0) < 1]
        return f"not replayed to {missing}" if missing else None
    err = pplab.poll(replayed, timeout=5, what="addresses replayed")
    assert err is None, err
    c = ndproxyd(lab)
    assert all(counter(c, g.host_link, "learned") == 0 for g in guests.values()), c
    for g in guests.values():
        assert lab.lan.ok("ping", "-6", "-n", "-q", "-c", "1", "-W", "2", g.addr), g
        assert g.ns.ok("ping", "-6", "-n", "-q", "-c", "1", "-W", "2", ROUTER), g


def test_a_guest_cannot_claim_an_address_outside_the_prefix(v6lab, guests):
    """A connected namespace configures an address of another network and of another
    guest: neither gets a route, and its own keeps working."""
    lab = v6lab
    g = guests["netns"]
    other = guests["termina"].addr
    for addr in ("2001:db8:99::5", other):
        # Its duplicate address detection asks the proxy for it (an NS from ::).
        g.ns.out("ip", "-6", "addr", "add", f"{addr}/64", "dev", g.ifname)
    time.sleep(2.0)
    routes = guest_routes(lab)
    assert "2001:db8:99::5" not in routes, routes
    assert routes.get(other) == guests["termina"].host_link, routes
    for addr in ("2001:db8:99::5", other):
        g.ns.out("ip", "-6", "addr", "del", f"{addr}/64", "dev", g.ifname)
    assert lab.lan.ok("ping", "-6", "-n", "-q", "-c", "1", "-W", "2", guests["termina"].addr)


# UDP over IPv6 from any source: a header of our own (IPPROTO_RAW on an IPv6 socket is
# IPV6_HDRINCL), with the UDP checksum IPv6 requires.
SEND6 = textwrap.dedent("""
    import socket, struct, sys
    src, dst, dport, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    s6, d6 = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for i in range(n):
        payload = f"from {src} #{i}".encode()
        length = 8 + len(payload)
        pseudo = s6 + d6 + struct.pack("!I3xB", length, 17)
        udp = struct.pack("!HHHH", 40000, dport, length, 0) + payload
        data = pseudo + udp + b"\\0" * (len(udp) % 2)
        total = sum(struct.unpack(f"!{len(data) // 2}H", data))
        while total >> 16:
            total = (total & 0xFFFF) + (total >> 16)
        udp = udp[:6] + struct.pack("!H", (~total & 0xFFFF) or 0xFFFF) + udp[8:]
        ip = struct.pack("!IHBB", 6 << 28, length, 17, 64) + s6 + d6
        s.sendto(ip + udp, (dst, 0))
""")


def lan_udp6_counter(lab, port):
    data = lab.lan.nft_json("list", "counter", "inet", "ppspoof6", f"p{port}")
    return next(i["counter"]["packets"] for i in data["nftables"] if "counter" in i)


def host_spoofed(lab):
    data = lab.host.nft_json("list", "counter", "inet", "patchpanel", "spoofed")
    return next(i["counter"]["packets"] for i in data["nftables"] if "counter" in i)


def test_forged_ipv6_sources_are_dropped_and_counted(v6lab, guests):
    """A connected namespace sends to the lan's router from an address of the prefix it
    never took, from another guest's address and from the router's own: none arrives,
    `spoofed` counts each; from its own learned address the same datagrams arrive."""
    lab, g, n = v6lab, guests["netns"], 3
    forged = ["2001:db8:1::dead", guests["termina"].addr, ROUTER]
    lab.lan.out("nft", "add table inet ppspoof6")
    lab.lan.out("nft", "add chain inet ppspoof6 input "
                "{ type filter hook input priority 10; policy accept; }")
    try:
        for port in (40011, 40012):
            lab.lan.out("nft", f"add counter inet ppspoof6 p{port}")
            lab.lan.out("nft", f"add rule inet ppspoof6 input udp dport {port} "
                        f"counter name p{port}")
        before = host_spoofed(lab)
        for src in forged:
            g.ns.out("/usr/bin/python3", "-c", SEND6, src, ROUTER, "40011", str(n))
        g.ns.out("/usr/bin/python3", "-c", SEND6, g.addr, ROUTER, "40012", str(n))
        err = pplab.poll(lambda: None if lan_udp6_counter(lab, 40012) == n else "not yet",
                         timeout=5, what="the guest's own datagrams")
        assert err is None, err
        assert lan_udp6_counter(lab, 40011) == 0
        assert host_spoofed(lab) - before == n * len(forged)
    finally:
        lab.lan.exec("nft", "delete", "table", "inet", "ppspoof6")


def test_routes_go_with_the_guests(v6lab, guests):
    """Last: the guests shut down (ARC, Termina, the namespace's owner closes its
    lifeline), and their routes and accepted sources go with them."""
    lab = v6lab
    for g in guests.values():
        assert guest_routes(lab).get(g.addr) == g.host_link, g
        g.stop()
    err = pplab.poll(lambda: guest_routes(lab) or None, timeout=5, what="routes gone")
    assert err is None, err
    assert not proxy_entries(lab.host, "eth0")
    # The sources go in the same helper request as their links, a moment after.
    err = pplab.poll(lambda: [g for g in guests.values()
                              if accepts_source(lab, g.host_link, g.addr)] or None,
                     timeout=5, what="sources gone")
    assert err is None, err
    # ndproxyd serves nothing now.
    err = pplab.poll(lambda: ndproxyd(lab)["links"] or None, timeout=5, what="links gone")
    assert err is None, err


# ---- following the default uplink ----------------------------------------------------------

def test_termina_follows_the_default_uplink(fresh_lab):
    """Termina is served behind the physical default uplink: when the default moves to
    eth1, the address it had behind eth0 loses its route and it autoconfigures one in
    eth1's prefix, which gets one."""
    lab = fresh_lab(uplinks=2)
    lab.lan.add_peer(pplab.Radvd(prefix=str(PREFIX)))
    lab.lan2.add_peer(pplab.Radvd(prefix="2001:db8:2::/64"))
    resp = lab.termina_vm_startup(41)
    tap = resp.device.ifname
    vm = lab.vm(tap)
    try:
        vm.configure(resp.device)
        vm.sysctl("net.ipv6.conf.eth0.disable_ipv6", 0)
        first = wait_slaac(vm, "eth0", "Termina behind eth0")
        err = pplab.poll(lambda: None if guest_routes(lab).get(first) == tap else guest_routes(lab),
                         timeout=10, what="route behind eth0")
        assert err is None, err

        # The default route (one, replaced) now goes through eth1.
        lab.host.out("ip", "route", "replace", "default", "via", pplab.LAN2_ADDR, "dev", "eth1")

        def moved():
            c = ndproxyd(lab)
            links = sorted((l["guest"], l["uplink"]) for l in c["links"])
            return None if links == [(tap, "eth1")] else links
        err = pplab.poll(moved, timeout=10, what="Termina behind eth1")
        assert err is None, f"{err}\n{lab.log()[-3000:]}"
        err = pplab.poll(lambda: None if first not in guest_routes(lab) else guest_routes(lab),
                         timeout=10, what="the old route gone")
        assert err is None, err

        found = {}

        def second():
            for link in vm.ip_json("-6", "addr", "show", "dev", "eth0"):
                for a in link.get("addr_info", []):
                    if a["local"].startswith("2001:db8:2:") and not a.get("tentative"):
                        found["a"] = a["local"]
                        return None if guest_routes(lab).get(a["local"]) == tap else "no route"
            return "no address"
        err = pplab.poll(second, timeout=SLAAC_TIMEOUT, what="SLAAC behind eth1")
        assert err is None, f"{err}\n{lab.log()[-3000:]}"
        assert lab.lan2.ok("ping", "-6", "-n", "-q", "-c", "2", "-i", "0.2", "-W", "2", found["a"])
    finally:
        vm.delete()
        lab.termina_vm_shutdown(41)


# ---- --ndproxy=off ------------------------------------------------------------------------

def test_ndproxy_off_keeps_the_datapath_as_it_was(fresh_lab):
    lab = fresh_lab(daemon_args=["--ndproxy=off"])
    names = [c["name"] for c in lab.status()["children"]]
    assert "ndproxyd" not in names, names
    ns, proc = lab.client()
    resp, lifeline = lab.connect_namespace(proc.pid)
    try:
        host = resp.host_ifname
        assert lab.host.out("sysctl", "-n", f"net.ipv6.conf.{host}.disable_ipv6").strip() == "1"
        assert lab.host.out("sysctl", "-n", "net.ipv6.conf.all.forwarding").strip() == "0"
        assert GUEST_TABLE not in lab.host.out("ip", "-6", "rule")
        assert lab.host.out("sysctl", "-n", "net.ipv6.conf.eth0.accept_ra").strip() != "2"
    finally:
        lifeline.close()


# ---- standalone ---------------------------------------------------------------------------

# As ndproxyd@.service runs it: its own user, CAP_NET_RAW and CAP_NET_ADMIN ambient and
# nothing else in its bounding set.
AS_UNIT = ["setpriv", "--reuid=61234", "--regid=61234", "--clear-groups",
           "--inh-caps=-all,+net_raw,+net_admin", "--ambient-caps=-all,+net_raw,+net_admin",
           "--bounding-set=-all,+net_raw,+net_admin"]
CAP_KILL, CAP_NET_ADMIN = 1 << 5, 1 << 12


@pytest.mark.parametrize("as_unit", [False, True], ids=["as-root", "as-the-unit"])
def test_standalone_serves_a_bridge_made_after_it_started(as_unit):
    """`ndproxyd eth0 lxdbr0` in a "VM" namespace whose uplink is the lan, lxdbr0 created
    afterwards with a container behind it: the container reaches the lan over IPv6, the
    VM has its /128 route, the parsing child holds no capability (and runs as nobody when
    started as root), and SIGTERM removes the route and restores forwarding. Started as
    the systemd unit starts it, the same with the unit's user and capabilities."""
    build = pplab.build_dir()
    with pplab.Topology() as topo:
        lan, vm, ct = topo.add_netns("lan"), topo.add_netns("vm"), topo.add_netns("ct")
        topo.link(lan, "lan0", vm, "eth0")
        lan.add_peer(pplab.Radvd(prefix=str(PREFIX)))
        wait_slaac(vm, "eth0", "the VM")
        log = topo.dir / "ndproxyd.log"
        links = ["eth0:lxdbr0"] if as_unit else ["eth0", "lxdbr0"]
        with open(log, "w") as out:
            nd = vm.spawn(*(AS_UNIT if as_unit else []), build / "bin" / "ndproxyd",
                          "--log-level=debug", *links, stdout=out, stderr=subprocess.STDOUT)
        err = pplab.poll(lambda: None if "Waiting for lxdbr0" in log.read_text() else "not yet",
                         timeout=5, what="ndproxyd waiting")
        assert err is None, log.read_text()
        vm.out("ip", "link", "add", "name", "lxdbr0", "type", "bridge")
        vm.out("ip", "link", "set", "lxdbr0", "up")
        topo.link(vm, "vethct", ct, "eth0")
        vm.out("ip", "link", "set", "vethct", "master", "lxdbr0")
        addr = wait_slaac(ct, "eth0", "the container")
        assert ct.ok("ping", "-6", "-n", "-q", "-c", "2", "-i", "0.2", "-W", "2", ROUTER), \
            log.read_text()
        assert lan.ok("ping", "-6", "-n", "-q", "-c", "1", "-W", "2", addr), log.read_text()
        routes = vm.ip_json("-6", "route", "show", addr)
        assert routes and routes[0]["dev"] == "lxdbr0", routes
        assert proxy_entries(vm, "eth0") == {addr}
        assert vm.out("sysctl", "-n", "net.ipv6.conf.eth0.proxy_ndp").strip() == "1"
        assert vm.out("sysctl", "-n", "net.ipv6.neigh.eth0.proxy_delay").strip() == "0"
        assert vm.out("sysctl", "-n", "net.ipv6.conf.eth0.accept_ra").strip() == "2"
        assert vm.out("sysctl", "-n", "net.ipv6.conf.all.forwarding").strip() == "1"

        # Two processes: the parent with CAP_NET_ADMIN (and CAP_KILL when the child is
        # another user: started as root, the child is nobody), the child with nothing;
        # both under seccomp.
        parent = pplab.proc_status(nd.pid)
        kids = open(f"/proc/{nd.pid}/task/{nd.pid}/children").read().split()
        assert len(kids) == 1, kids
        child = pplab.proc_status(int(kids[0]))
        want = CAP_NET_ADMIN if as_unit else CAP_NET_ADMIN | CAP_KILL
        assert int(parent["CapEff"], 16) == want, parent["CapEff"]
        assert int(parent["CapAmb"], 16) == 0, parent["CapAmb"]
        for field in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
            assert int(child[field], 16) == 0, (field, child)
        assert child["Uid"].split()[0] == ("61234" if as_unit else "65534"), child["Uid"]
        assert parent["Seccomp"] == "2" and child["Seccomp"] == "2"
        assert child["NoNewPrivs"] == "1" and parent["NoNewPrivs"] == "1"

        nd.send_signal(signal.SIGTERM)
        assert nd.wait(timeout=10) == 0, log.read_text()
        assert not vm.ip_json("-6", "route", "show", addr), "the route outlived ndproxyd"
        assert not proxy_entries(vm, "eth0"), "the proxy entry outlived ndproxyd"
        assert vm.out("sysctl", "-n", "net.ipv6.conf.eth0.proxy_ndp").strip() == "0"
        assert vm.out("sysctl", "-n", "net.ipv6.neigh.eth0.proxy_delay").strip() != "0"
        assert vm.out("sysctl", "-n", "net.ipv6.conf.all.forwarding").strip() == "0"
        assert "Removed 1 routes to guests" in log.read_text(), log.read_text()
