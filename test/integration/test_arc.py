"""The ARC container end to end: ArcStartup/ArcShutdown over D-Bus, the management link and
one link per uplink into the container's namespace, traffic out of each uplink through NAT,
inbound DNAT to the container unless the host listens, uplinks that come and go while ARC
runs, bad input, and teardown that leaves nothing behind.

The container is a namespace with a sleeping process in it. patchpanel gives it addresses
but no routes (Android makes its own), so the tests add the routes a container would.
The lab has two uplinks: eth0 (lan, 192.0.2.1, the default route) and eth1 (lan2,
198.51.100.1)."""

import ipaddress

import pytest

import pplab

INVALID_ARGUMENT = pplab.INVALID_ARGUMENT
MARK_ARC = 0x2001  # SNAT | ARC (README "Datapath")
UPLINKS = (("eth0", pplab.LAN_ADDR, pplab.HOST_UPLINK_ADDR),
           ("eth1", pplab.LAN2_ADDR, pplab.HOST_UPLINK2_ADDR))
SHARED_ADDR = "192.0.2.200"  # on both lans; reachable over eth1 only by policy routing


LAB_UPLINKS = 2  # the conftest lab gets eth1 <-> lan2 too


class Arc(pplab.ArcContainer):
    """ARC on both of the module's uplinks."""

    def __init__(self, lab, uplinks=("eth0", "eth1")):
        super().__init__(lab, uplinks)


@pytest.fixture
def arc(lab, baseline):
    a = Arc(lab)
    yield a
    a.close()


def host_addrs(lab, ns, ifname):
    return [f"{a['local']}/{a['prefixlen']}" for l in ns.ip_json("-4", "addr", "show", "dev",
                                                                  ifname)
            for a in l.get("addr_info", [])]


def assert_nat(lab, src, dst, uplink_addr):
    flows = lab.host.out("conntrack", "-L", "-s", src, "-d", dst)
    assert f"src={dst} dst={uplink_addr}" in flows, f"no NAT of {src} -> {dst}: {flows!r}"


# ---- links, addresses, marks -----------------------------------------------------------------

def test_arc_links_addresses_and_marks(lab, arc):
    host, ns = lab.host, arc.ns
    links = host.links()
    assert links["arcbr0"]["linkinfo"]["info_kind"] == "bridge"
    assert host_addrs(lab, host, "arcbr0") == ["100.115.92.1/30"]
    assert host.master("vetharc0") == "arcbr0"
    assert ns.addrs("arc0") == ["100.115.92.2"]
    assert host_addrs(lab, ns, "arc0") == ["100.115.92.2/30"]
    marks = lab.nft_elements("guest_mark")
    assert marks["arcbr0"] == MARK_ARC
    dnat = lab.nft_elements("arc_dnat")

    for uplink, _, _ in UPLINKS:
        guest, gateway, net = arc.link(uplink)
        bridge, veth = f"arc_{uplink}", f"veth{uplink}"
        assert links[bridge]["linkinfo"]["info_kind"] == "bridge"
        assert links[bridge].get("ifalias") == "patchpanel"
        assert host_addrs(lab, host, bridge) == [f"{gateway}/30"]
        assert host.master(veth) == bridge
        assert links[veth].get("ifalias") == "patchpanel"
        # The host ends carry no address and no IPv6.
        assert host.addrs(veth) == []
        assert host.out("cat", f"/proc/sys/net/ipv6/conf/{veth}/disable_ipv6").strip() == "1"
        # In the container, a link named like the uplink with the guest address.
        assert host_addrs(lab, ns, uplink) == [f"{guest}/30"]
        assert "UP" in ns.links()[uplink]["flags"]
        assert marks[bridge] == MARK_ARC | lab.routing_tag(uplink)
        assert dnat[uplink] == guest
    assert sorted(n for n in ns.links() if n != "lo") == ["arc0", "eth0", "eth1"]
    # patchpanel gives the container no routes: only the kernel's on-link ones.
    assert {r.get("protocol") for r in ns.routes()} == {"kernel"}, ns.routes()
    assert not [r for r in ns.routes() if r["dst"] == "default"]


def test_arc_slots_follow_the_order_of_the_uplinks(lab, arc):
    """eth0 appeared first (lower ifindex): it gets ARC's first ethernet slot
    (100.115.92.4/30), eth1 the second (100.115.92.8/30)."""
    got = {u: arc.link(u)[0] for u in ("eth0", "eth1")}
    assert got == {"eth0": "100.115.92.6", "eth1": "100.115.92.10"}, got


def test_status_reports_arc(lab, arc):
    status = lab.status()
    devices = sorted((d["ifname"], d["guest_address"], d["subnet"])
                     for d in status["arc"]["devices"])
    assert (status["arc"]["kind"], status["arc"]["state"], status["arc"]["pid"]) == \
        ("container", "running", arc.proc.pid), status["arc"]
    assert devices == [k[:3] for k in lab.get_devices()], status["arc"]
    pools = {p["name"]: p["in_use"] for p in status["pools"]}
    # arcbr0 holds the arc pool's only subnet, and each uplink's link one of arc-net.
    assert (pools["arc"], pools["arc-net"]) == (1, 2), pools


# ---- traffic -----------------------------------------------------------------------------------

def test_arc_reaches_each_lan_over_its_uplink(lab, arc):
    counters = []
    try:
        for uplink, lan_addr, host_addr in UPLINKS:
            lan = lab.uplink_lans[uplink]
            count = lan.counter("arc_echo", f"icmp type echo-request ip daddr {lan_addr}")
            counters.append(lan)
            net = str(ipaddress.ip_network(f"{lan_addr}/24", strict=False))
            arc.route(net, uplink)
            guest = arc.link(uplink)[0]
            lab.host.exec("conntrack", "-D", "-s", guest)
            assert arc.ns.ping(lan_addr, count=2), f"ARC cannot reach {lan_addr} over {uplink}"
            assert_nat(lab, guest, lan_addr, host_addr)
            assert count() == 2, f"{lan.name} saw {count()} echo requests"
    finally:
        for lan in counters:
            lan.delete_counters()


def test_each_link_is_routed_by_its_uplinks_table(lab, arc):
    """Both lans answer for SHARED_ADDR. The main table reaches it only over eth0; traffic
    from ARC's eth1 link must take eth1's table: unreachable until eth1 has a default
    route, then out of eth1 to lan2, never leaking over eth0."""
    lan, lan2 = lab.lan, lab.lan2
    for l in (lan, lan2):
        l.out("ip", "addr", "add", f"{SHARED_ADDR}/32", "dev", "lan0")
    at_lan = lan.counter("shared", f"icmp type echo-request ip daddr {SHARED_ADDR}")
    at_lan2 = lan2.counter("shared", f"icmp type echo-request ip daddr {SHARED_ADDR}")
    table = str(pplab.routing_table(lab.host.ifindex("eth1")))
    try:
        arc.route(f"{SHARED_ADDR}/32", "eth1")
        assert not arc.ns.ping(SHARED_ADDR), "eth1's table has no route to it yet"
        assert (at_lan(), at_lan2()) == (0, 0), "ARC's eth1 traffic leaked"

        lab.host.out("ip", "route", "add", "default", "via", pplab.LAN2_ADDR, "dev", "eth1",
                     "metric", "200")
        err = pplab.poll(lambda: None if lab.host.routes("default", "table", table, "via",
                                                         pplab.LAN2_ADDR) else "not mirrored",
                         timeout=2, what=f"eth1's default route in table {table}")
        assert err is None, err
        assert arc.ns.ping(SHARED_ADDR, count=2), "ARC cannot reach it over eth1"
        assert (at_lan(), at_lan2()) == (0, 2)

        arc.route(f"{SHARED_ADDR}/32", "eth0")
        assert arc.ns.ping(SHARED_ADDR, count=2), "ARC cannot reach it over eth0"
        assert (at_lan(), at_lan2()) == (2, 2)
    finally:
        lab.host.exec("ip", "route", "del", "default", "via", pplab.LAN2_ADDR, "dev", "eth1",
                      "metric", "200")
        for l in (lan, lan2):
            l.delete_counters()
            l.exec("ip", "addr", "del", f"{SHARED_ADDR}/32", "dev", "lan0")


def test_inbound_connections_reach_the_container_unless_the_host_listens(lab, arc):
    for uplink, lan_addr, _ in UPLINKS:
        arc.route(str(ipaddress.ip_network(f"{lan_addr}/24", strict=False)), uplink)
    container = arc.ns.name_server("container", 7001, 7003)
    host = lab.host.name_server("host", 7002, 7003)
    # The lab's ingress firewall guards the host's own ports: open them.
    opened = [(port, proto) for port in (7002, 7003) for proto in ("tcp", "udp")]
    for port, proto in opened:
        assert lab.modify_port_rule("create", "access", proto, port)
    try:
        for uplink, _, host_addr in UPLINKS:
            lan = lab.uplink_lans[uplink]
            guest = arc.link(uplink)[0]
            answers = {(port, udp): lan.ask(host_addr, port, udp)
                       for port in (7001, 7002, 7003) for udp in (False, True)}
            assert answers == {
                (7001, False): f"container {guest}", (7001, True): f"container {guest}",
                (7002, False): f"host {host_addr}", (7002, True): f"host {host_addr}",
                (7003, False): f"host {host_addr}", (7003, True): f"host {host_addr}",
            }, (uplink, answers)
        # Only for the uplinks: the host's own connections to itself are not redirected.
        assert lab.host.ask(pplab.HOST_UPLINK_ADDR, 7001) == ""
    finally:
        for port, proto in opened:
            lab.modify_port_rule("delete", "access", proto, port)
        for p in (container, host):
            p.kill()
            p.wait()


# ---- uplinks that come and go while ARC runs -------------------------------------------------

def test_uplink_that_goes_and_comes_back_while_arc_runs(fresh_lab):
    lab = fresh_lab(uplinks=2)
    baseline = lab.snapshot()
    a = Arc(lab)
    try:
        a.sig.wait_for(2)
        gone = a.link("eth1")
        lab.remove_uplink("eth1")
        removed = a.sig.wait_for(1)
        assert removed == [(pplab.DEVICE_REMOVED, ("arc_eth1", gone[0], str(gone[2]),
                                                   pplab.ARC))], removed
        links = lab.host.links()
        assert "arc_eth1" not in links and "vetheth1" not in links, sorted(links)
        assert "eth1" not in a.ns.links()
        assert "arc_eth1" not in lab.nft_elements("guest_mark")
        assert "eth1" not in lab.nft_elements("arc_dnat")
        eth0_guest, _, eth0_net = a.link("eth0")
        assert lab.get_devices() == lab.kernel_devices() == \
            [("arc_eth0", eth0_guest, str(eth0_net), pplab.ARC)]
        # eth0's link is untouched and still carries traffic.
        a.route("192.0.2.0/24", "eth0")
        assert a.ns.ping(pplab.LAN_ADDR)

        lab.add_uplink("eth1", pplab.LAN2_ADDR, pplab.HOST_UPLINK2_ADDR, lan_suffix="lan2")
        added = a.sig.wait_for(1)
        assert [e for e, _ in added] == [pplab.DEVICE_ADDED], added
        err = pplab.poll(lambda: None if a.link("eth1") else "no link", timeout=5)
        assert err is None, err
        guest, _, net = a.link("eth1")
        assert added[0][1] == ("arc_eth1", guest, str(net), pplab.ARC)
        assert lab.host.master("vetheth1") == "arc_eth1"
        assert host_addrs(lab, a.ns, "eth1") == [f"{guest}/30"]
        assert lab.nft_elements("guest_mark")["arc_eth1"] == MARK_ARC | lab.routing_tag("eth1")
        assert lab.nft_elements("arc_dnat")["eth1"] == guest
        assert lab.get_devices() == lab.kernel_devices()
        a.route("198.51.100.0/24", "eth1")
        lab.host.exec("conntrack", "-D", "-s", guest)
        assert a.ns.ping(pplab.LAN2_ADDR), "ARC cannot reach lan2 over the new eth1"
        assert_nat(lab, guest, pplab.LAN2_ADDR, pplab.HOST_UPLINK2_ADDR)

        a.shutdown()
        assert sorted(k[0] for _, k in a.sig.wait_for(2)) == ["arc_eth0", "arc_eth1"]
    finally:
        a.close()
    # eth1 has a new ifindex, and with it a new table: compare all but the routing.
    now = lab.snapshot()
    for snap in (baseline, now):
        for key in ("routes", "routes6", "rules", "rules6", "chains"):
            snap["datapath"].pop(key)
    assert pplab.snapshot_diff(baseline, now) is None, pplab.snapshot_diff(baseline, now)


def test_a_new_uplink_gets_a_link_while_arc_runs(fresh_lab):
    lab = fresh_lab(uplinks=1)
    a = Arc(lab, uplinks=("eth0",))
    try:
        a.sig.wait_for(1)
        assert [k[0] for k in lab.get_devices()] == ["arc_eth0"]
        lab.add_uplink("wlan0", pplab.LAN2_ADDR, pplab.HOST_UPLINK2_ADDR, lan_suffix="lan2")
        added = a.sig.wait_for(1)
        assert [(e, k[0]) for e, k in added] == [(pplab.DEVICE_ADDED, "arc_wlan0")], added
        # A wifi uplink takes the first wifi slot: 100.115.92.12/30.
        assert a.link("wlan0")[0] == "100.115.92.14"
        assert "wlan0" in a.ns.links()
        a.route("198.51.100.0/24", "wlan0")
        assert a.ns.ping(pplab.LAN2_ADDR)
        lab.remove_uplink("wlan0")
        removed = a.sig.wait_for(1)
        assert [(e, k[0]) for e, k in removed] == [(pplab.DEVICE_REMOVED, "arc_wlan0")]
    finally:
        a.close()


# ---- bad input: a precise error, and nothing changes ------------------------------------------

def expect_error(lab, name, fragment, fn, *args):
    before = lab.snapshot()
    with pytest.raises(pplab.DBusError) as e:
        fn(*args)
    assert e.value.name == name, e.value
    assert fragment in e.value.text, e.value
    changed = pplab.snapshot_diff(before, lab.snapshot())
    assert changed is None, f"{e.value} changed the state: {changed}"


@pytest.mark.parametrize("pid", [0, 1, -3])
def test_arc_startup_pid_must_be_above_one(lab, baseline, pid):
    expect_error(lab, INVALID_ARGUMENT, f"Invalid pid {pid}: it must be > 1", lab.arc_startup,
                 pid)


def test_arc_startup_of_processes_that_do_not_exist(lab, baseline):
    expect_error(lab, INVALID_ARGUMENT, "does not exist", lab.arc_startup, 4194304 + 12345)
    _, proc = lab.client()
    proc.kill()
    proc.wait()
    expect_error(lab, INVALID_ARGUMENT, f"Process {proc.pid} does not exist", lab.arc_startup,
                 proc.pid)


def test_arc_startup_of_the_daemon_itself(lab, baseline):
    for pid in lab.daemon_pids():
        expect_error(lab, INVALID_ARGUMENT, f"Invalid pid {pid}: it is a patchpanel process",
                     lab.arc_startup, pid)


def test_arc_startup_in_the_host_namespace_is_refused_and_rolled_back(lab, baseline):
    proc = lab.host.sleeper()
    try:
        expect_error(lab, INVALID_ARGUMENT, f"process {proc.pid} is in the daemon's own network "
                     "namespace", lab.arc_startup, proc.pid)
    finally:
        proc.kill()
        proc.wait()
    # Nothing is left half started: a real container can start.
    a = Arc(lab)
    a.close()


def test_second_arc_and_wrong_shutdowns(lab, arc):
    _, other = lab.client()
    expect_error(lab, INVALID_ARGUMENT, "ARC is already running", lab.arc_startup, other.pid)
    expect_error(lab, INVALID_ARGUMENT, "ARC is already running", lab.arc_startup, arc.proc.pid)
    expect_error(lab, INVALID_ARGUMENT, "ARC is already running", lab.arc_vm_startup, 9)
    for _ in range(2):
        expect_error(lab, INVALID_ARGUMENT, "No such ARC container is running",
                     lab.arc_shutdown, other.pid)
    expect_error(lab, INVALID_ARGUMENT, "No such ARCVM is running", lab.arc_vm_shutdown, 0)
    arc.shutdown()
    for _ in range(2):
        expect_error(lab, INVALID_ARGUMENT, "No such ARC container is running",
                     lab.arc_shutdown, arc.proc.pid)
