"""GetTrafficCounters end to end: real traffic from the host's own processes (by uid), from
connected namespaces, from Termina and PluginVM VMs and from an ARC container, counted per
(source, uplink) in both directions; IPv4 and IPv6 summed; the devices filter; counters
that outlive an uplink and the daemon; bad input.

The lab has two uplinks: eth0 (lan, 192.0.2.1, the default route) and eth1 (lan2,
198.51.100.1). A UDP echo server on each lan answers every datagram with itself, so what
goes out comes back and both tx and rx can be checked. An IPv4 datagram of SIZE bytes of
payload is SIZE + 28 bytes on the wire as the counters see it (IP header included), an
IPv6 one SIZE + 48. Background traffic (neighbour discovery and the like) only ever adds,
so the checks compare deltas with >=, and the bulk (half of what was sent) must not go to
another source."""

import signal
import subprocess

import pytest

import pplab

LAB_UPLINKS = 2  # the conftest lab gets eth1 <-> lan2 too

INVALID_ARGUMENT = pplab.INVALID_ARGUMENT

ECHO_PORT = 7007
COUNT = 20
SIZE = 1000
V4_OVERHEAD = 20 + 8
V6_OVERHEAD = 40 + 8

# Answers each UDP datagram, IPv4 or IPv6, with the same bytes.
ECHO_SERVER = """
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
while True:
    data, peer = s.recvfrom(65535)
    s.sendto(data, peer)
"""

# Sends COUNT datagrams of SIZE zero bytes to ADDR:PORT one after the other, each waiting
# for its echo (up to two seconds), and prints how many came back.
ECHO_CLIENT = """
import socket, sys
addr, port, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect((addr, port))
got = 0
for _ in range(count):
    s.send(bytes(size))
    try:
        while len(s.recv(65535)) != size:
            pass
        got += 1
    except OSError:
        pass
print(got)
"""


# ---- helpers (candidates for pplab) ------------------------------------------------------

def ensure_echo_server(ns, port=ECHO_PORT):
    """A UDP echo server on port in ns (started unless one already listens there); it is
    ended with the namespace."""
    if ns.out("ss", "-Hlun", f"sport = :{port}").strip():
        return
    ns.spawn("/usr/bin/python3", "-c", ECHO_SERVER, port, stdout=subprocess.DEVNULL)
    err = ns.wait_listening(port, udp=True)
    assert err is None, err


def echo(ns, addr, count=COUNT, size=SIZE, uid=None, port=ECHO_PORT):
    """Send count datagrams of size bytes from ns (as uid) to the echo server at addr;
    returns how many echoes came back."""
    p = ns.exec(*pplab.as_uid(uid), "/usr/bin/python3", "-c", ECHO_CLIENT, addr, str(port),
                str(count), str(size), timeout=count * 2 + 20)
    assert p.returncode == 0, f"echo client in {ns.name} failed: {p.stdout}{p.stderr}"
    return int(p.stdout.strip())


def wire_bytes(count, size=SIZE, v6=False):
    return count * (size + (V6_OVERHEAD if v6 else V4_OVERHEAD))


def counters(lab, devices=()):
    """GetTrafficCounters as {(source, device): (rx_bytes, tx_bytes, rx_packets,
    tx_packets)}."""
    return {k: (c.rx_bytes, c.tx_bytes, c.rx_packets, c.tx_packets)
            for k, c in lab.traffic_counters(devices).items()}


def delta(before, after):
    """What each (source, device) gained, as {key: (rx_bytes, tx_bytes, rx_packets,
    tx_packets)}; a counter must never go down."""
    out = {}
    for key, now in after.items():
        old = before.get(key, (0, 0, 0, 0))
        assert all(n >= o for n, o in zip(now, old)), f"{key} went down: {old} -> {now}"
        out[key] = tuple(n - o for n, o in zip(now, old))
    missing = set(before) - set(after)
    assert not missing, f"counters vanished: {sorted(missing)}"
    return out


def assert_counted(d, source, device, tx, rx, all_counters=None):
    """(source, device) gained at least tx and rx bytes (and as many packets of at most
    SIZE + 48 bytes); no other source of device gained as much as half of that."""
    rx_b, tx_b, rx_p, tx_p = d.get((source, device), (0, 0, 0, 0))
    assert tx_b >= tx, f"{source} on {device}: tx grew by {tx_b}, sent {tx}: {d}"
    assert rx_b >= rx, f"{source} on {device}: rx grew by {rx_b}, echoed {rx}: {d}"
    assert tx_p >= tx // (SIZE + V6_OVERHEAD) and rx_p >= rx // (SIZE + V6_OVERHEAD), d
    for (src, dev), (orx, otx, _, _) in d.items():
        if dev == device and src != source:
            assert otx < tx / 2 and orx < max(rx, tx) / 2, \
                f"{src} on {device} got the bulk of {source}'s traffic: {d}" \
                + (f"\ncounters now: {all_counters}" if all_counters else "")


def echo_counted(lab, ns, addr, source, device="eth0", uid=None, port=ECHO_PORT,
                 inbound=False):
    """Echo COUNT datagrams from ns (as uid) to addr and check that (source, device) counted
    them: sent as tx and answered as rx, or the other way round for traffic that came in
    from outside (inbound; its first datagram counts before its connection has a source).
    Returns the delta of the counters."""
    before = counters(lab)
    got = echo(ns, addr, uid=uid, port=port)
    assert got >= COUNT // 2, f"only {got} of {COUNT} echoes came back"
    after = counters(lab)
    d = delta(before, after)
    tx, rx = ((wire_bytes(got), wire_bytes(COUNT - 1)) if inbound
              else (wire_bytes(COUNT), wire_bytes(got)))
    assert_counted(d, source, device, tx, rx, after)
    return d


def wait_acct_uplink(lab, ifname, present=True):
    """Wait until the counters' table counts ifname as an uplink (or no longer does)."""
    def check():
        elems = lab.nft_elements("uplinks", "patchpanel_acct")
        return None if (ifname in elems) == present else sorted(elems)
    err = pplab.poll(check, timeout=10, interval=0.05,
                     what=f"{ifname} {'not yet' if present else 'still'} counted")
    assert err is None, f"{err}\n{lab.log()}"


def some_traffic(lab):
    """A few echoes over each uplink, so that each has entries."""
    for uplink, lan in lab.uplink_lans.items():
        ensure_echo_server(lan)
        addr = pplab.LAN_ADDR if uplink == "eth0" else pplab.LAN2_ADDR
        assert echo(lab.host, addr, count=2) > 0, f"no echo over {uplink}"


def host_sends(lab, uid, source):
    """The host sends COUNT echoes to the lan as uid; they are counted for source on
    eth0."""
    ensure_echo_server(lab.lan)
    echo_counted(lab, lab.host, pplab.LAN_ADDR, source, uid=uid)


# ---- the host's own traffic, by uid ------------------------------------------------------

@pytest.mark.parametrize("uid,source", [(None, "SYSTEM"), (1234, "USER"),
                                        (1000, "USER"), (60000, "USER"),
                                        (60001, "SYSTEM"), (999, "SYSTEM")])
def test_host_traffic_by_uid(lab, uid, source):
    """Default map: 1000-60000 are USER; root and the rest SYSTEM (no chronos here, so no
    CHROME user)."""
    host_sends(lab, uid=uid, source=source)


def test_lockdown_user_is_chrome_and_uid_source_overrides(fresh_lab):
    lab = fresh_lab(daemon_args=["--lockdown-user=nobody",
                                 "--uid-source=2000-2999=update-engine",
                                 "--uid-source=4321=chrome",
                                 "--uid-source=5000=system",
                                 "--uid-source=6000-6001=host-vpn"])
    host_sends(lab, uid=65534, source="CHROME")
    host_sends(lab, uid=4321, source="CHROME")
    host_sends(lab, uid=2500, source="UPDATE_ENGINE")
    # Carved out of the middle of the users' range: its neighbours stay USER.
    host_sends(lab, uid=1999, source="USER")
    host_sends(lab, uid=3000, source="USER")
    host_sends(lab, uid=5000, source="SYSTEM")
    host_sends(lab, uid=6001, source="VPN")
    host_sends(lab, uid=None, source="SYSTEM")


@pytest.fixture
def ipv6(lab):
    """2001:db8::2/64 on eth0, 2001:db8::1/64 on the lan's lan0."""
    lab.host.out("ip", "-6", "addr", "add", "2001:db8::2/64", "dev", "eth0", "nodad")
    try:
        lab.lan.out("ip", "-6", "addr", "add", "2001:db8::1/64", "dev", "lan0", "nodad")
        yield "2001:db8::1"
    finally:
        lab.lan.exec("ip", "-6", "addr", "del", "2001:db8::1/64", "dev", "lan0")
        lab.host.exec("ip", "-6", "addr", "del", "2001:db8::2/64", "dev", "eth0")


@pytest.mark.parametrize("uid,source", [(None, "SYSTEM"), (1234, "USER")])
def test_ipv4_and_ipv6_are_summed(lab, ipv6, uid, source):
    """IPv6 echoes add to the same (source, eth0) entry as IPv4 ones."""
    ensure_echo_server(lab.lan)
    before = counters(lab)
    got4 = echo(lab.host, pplab.LAN_ADDR, uid=uid)
    got6 = echo(lab.host, ipv6, uid=uid)
    assert got4 >= COUNT // 2 and got6 >= COUNT // 2, (got4, got6)
    after = counters(lab)
    assert_counted(delta(before, after), source, "eth0",
                   wire_bytes(COUNT) + wire_bytes(COUNT, v6=True),
                   wire_bytes(got4) + wire_bytes(got6, v6=True), after)
    # One entry per (source, device): no second one for the other family.
    resp = lab.pb.TrafficCountersResponse()
    resp.ParseFromString(lab.call_raw("GetTrafficCounters", b""))
    keys = [(c.source, c.device) for c in resp.counters]
    assert len(keys) == len(set(keys)), keys


def test_tcp_download_as_user(lab):
    """A TCP download by uid 1234: the bulk comes in, and is USER's through the
    connection's mark."""
    size = 300000
    server = lab.lan.spawn("socat", "TCP-LISTEN:7101,reuseaddr",
                           f"SYSTEM:head -c {size} /dev/zero", stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        err = lab.lan.wait_listening(7101)
        assert err is None, err
        before = counters(lab)
        got = lab.host.exec(*pplab.as_uid(1234), "socat", "-T5", "-u",
                            f"TCP:{pplab.LAN_ADDR}:7101,connect-timeout=5", "-", text=False,
                            timeout=20)
        assert len(got.stdout) == size, f"got {len(got.stdout)} bytes: {got.stderr}"
        after = counters(lab)
        d = delta(before, after)
        rx, tx, rx_p, tx_p = d.get(("USER", "eth0"), (0, 0, 0, 0))
        # Packets: GRO on the veth merges segments, so only bytes are exact.
        assert rx >= size and rx_p > 0, d
        assert tx > 0 and tx_p > 0, d  # SYN and ACKs
        for (src, dev), (orx, _, _, _) in d.items():
            assert src == "USER" or dev != "eth0" or orx < size / 2, d
    finally:
        server.kill()
        server.wait()


def test_inbound_connection_to_a_user_server(lab):
    """The lan talks to a server of uid 1234 on the host: its answers are USER's, and so is
    what comes in after the first datagram (which arrives before the connection has a
    source)."""
    port = 7102
    server = lab.host.spawn(*pplab.as_uid(1234), "/usr/bin/python3", "-c", ECHO_SERVER, port,
                            stdout=subprocess.DEVNULL)
    assert lab.modify_port_rule("create", "access", "udp", port, ifname="eth0")
    try:
        err = lab.host.wait_listening(port, udp=True)
        assert err is None, err
        echo_counted(lab, lab.lan, pplab.HOST_UPLINK_ADDR, "USER", port=port, inbound=True)
    finally:
        lab.modify_port_rule("delete", "access", "udp", port, ifname="eth0")
        server.kill()
        server.wait()


# ---- guests ------------------------------------------------------------------------------

@pytest.mark.parametrize("source", ["USER", "ARC", "SYSTEM", "CHROME"])
def test_connected_namespace_counts_as_its_source(lab, baseline, source):
    ensure_echo_server(lab.lan)
    ns, proc = lab.client()
    value = lab.pb.TrafficCounter.Source.Value(source)
    _, lifeline = lab.connect_namespace(proc.pid, traffic_source=value)
    try:
        echo_counted(lab, ns, pplab.LAN_ADDR, source)
    finally:
        lifeline.close()


def test_connected_namespace_unknown_source_is_system(lab, baseline):
    ensure_echo_server(lab.lan)
    ns, proc = lab.client()
    _, lifeline = lab.connect_namespace(proc.pid)
    try:
        d = echo_counted(lab, ns, pplab.LAN_ADDR, "SYSTEM")
        assert ("UNKNOWN", "eth0") not in d or d[("UNKNOWN", "eth0")][1] < wire_bytes(COUNT) / 2
    finally:
        lifeline.close()


@pytest.mark.parametrize("kind,source", [("termina", "CROSVM"), ("pluginvm", "PLUGINVM")])
def test_vm_counts_as_its_source(lab, baseline, kind, source):
    ensure_echo_server(lab.lan)
    if kind == "termina":
        resp = lab.termina_vm_startup(41)
        shutdown = lambda: lab.termina_vm_shutdown(41)  # noqa: E731
    else:
        resp = lab.plugin_vm_startup(42)
        shutdown = lambda: lab.plugin_vm_shutdown(42)  # noqa: E731
    try:
        vm = lab.vm(resp.device.ifname)
        try:
            vm.configure(resp.device)
            echo_counted(lab, vm, pplab.LAN_ADDR, source)
        finally:
            vm.delete()
    finally:
        shutdown()


@pytest.fixture
def arc(lab, baseline):
    """An ARC container with a default route over its eth0 link and an echo server;
    yields its Netns."""
    a = pplab.ArcContainer(lab)
    try:
        a.route("default", "eth0")
        ensure_echo_server(a.ns)
        yield a.ns
    finally:
        a.close()


def test_arc_container_counts_as_arc(lab, arc):
    ensure_echo_server(lab.lan)
    echo_counted(lab, arc, pplab.LAN_ADDR, "ARC")


def test_inbound_connection_to_arc_counts_as_arc(lab, arc):
    """The lan talks to the container through the uplink's inbound DNAT. ARC's answers
    are ARC's (the reference marks every packet coming in from a guest interface, not only
    new connections), and what comes in after the first datagram too (the mark its answers
    carry is saved into the connection on the way out and restored on the way in)."""
    echo_counted(lab, lab.lan, pplab.HOST_UPLINK_ADDR, "ARC", inbound=True)


# ---- the devices filter ------------------------------------------------------------------

def test_traffic_through_eth1_lands_on_eth1(lab):
    ensure_echo_server(lab.lan2)
    d = echo_counted(lab, lab.host, pplab.LAN2_ADDR, "USER", device="eth1", uid=1234)
    rx0, tx0, _, _ = d.get(("USER", "eth0"), (0, 0, 0, 0))
    assert tx0 < wire_bytes(COUNT) / 2 and rx0 < wire_bytes(COUNT) / 2, d


def test_devices_filter(lab):
    some_traffic(lab)
    everything = lab.traffic_counters()
    assert {dev for _, dev in everything} >= {"eth0", "eth1"}, everything

    only1 = lab.traffic_counters(["eth1"])
    assert only1 and {dev for _, dev in only1} == {"eth1"}, only1
    assert {k for k in everything if k[1] == "eth1"} == set(only1)

    both = lab.traffic_counters(["eth1", "eth0"])
    assert {dev for _, dev in both} == {"eth0", "eth1"}, both

    assert lab.traffic_counters(["nosuchdev0"]) == {}
    mixed = lab.traffic_counters(["nosuchdev0", "eth0", "eth0"])
    assert {dev for _, dev in mixed} == {"eth0"}, mixed
    # Asking twice for one device lists it once, and does not count it twice.
    resp = lab.pb.TrafficCountersResponse()
    resp.ParseFromString(lab.call_raw("GetTrafficCounters", lab.pb.TrafficCountersRequest(
        devices=["eth0", "eth0"]).SerializeToString()))
    keys = [(c.source, c.device) for c in resp.counters]
    assert len(keys) == len(set(keys)), keys
    e0 = lab.traffic_counters(["eth0"])
    assert all(e0[k].tx_bytes >= mixed[k].tx_bytes for k in mixed), (mixed, e0)
    # Not an uplink: nothing is ever counted for it.
    assert lab.traffic_counters(["lo"]) == {}


# ---- cumulative ---------------------------------------------------------------------------

def test_counters_survive_an_uplink_flap(lab):
    ensure_echo_server(lab.lan2)
    got = echo(lab.host, pplab.LAN2_ADDR, uid=1234)
    assert got >= COUNT // 2
    first = counters(lab, ["eth1"])
    assert first.get(("USER", "eth1"), (0, 0))[1] >= wire_bytes(COUNT), first

    lab.remove_uplink("eth1")
    try:
        wait_acct_uplink(lab, "eth1", present=False)
        gone = counters(lab, ["eth1"])
        delta(first, gone)  # still reported, nothing lost
        assert ("USER", "eth1") in gone, gone
        assert ("USER", "eth1") in lab.traffic_counters(), "a vanished uplink is not listed"
    finally:
        if "eth1" not in lab.uplink_lans:
            lab.add_uplink("eth1", pplab.LAN2_ADDR, pplab.HOST_UPLINK2_ADDR, lan_suffix="lan2")
    wait_acct_uplink(lab, "eth1")
    ensure_echo_server(lab.lan2)
    got = echo(lab.host, pplab.LAN2_ADDR, uid=1234)
    assert got >= COUNT // 2, f"only {got} of {COUNT} echoes came back over the new eth1"
    after = counters(lab, ["eth1"])
    assert_counted(delta(first, after), "USER", "eth1", wire_bytes(COUNT), wire_bytes(got),
                   after)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["term", "kill"])
def test_counters_survive_a_daemon_restart(fresh_lab, sig):
    lab = fresh_lab()
    ensure_echo_server(lab.lan)
    start = counters(lab)
    got = echo(lab.host, pplab.LAN_ADDR, uid=1234)
    first = counters(lab)
    assert_counted(delta(start, first), "USER", "eth0", wire_bytes(COUNT), wire_bytes(got),
                   first)

    _, helper = lab.daemon_pids()
    status = lab.stop_daemon(sig)
    assert status == (0 if sig == signal.SIGTERM else -signal.SIGKILL), lab.log()
    assert lab.helper_gone(helper), "the helper outlived the manager"
    lab.start_daemon()
    again = counters(lab)
    delta(first, again)  # nothing lost, nothing went down
    assert ("USER", "eth0") in again, again

    got = echo(lab.host, pplab.LAN_ADDR, uid=1234)
    assert got >= COUNT // 2
    after = counters(lab)
    assert_counted(delta(again, after), "USER", "eth0", wire_bytes(COUNT), wire_bytes(got),
                   after)


# ---- bad input ----------------------------------------------------------------------------

@pytest.mark.parametrize("devices", [[""], ["eth0", ""], ["a" * 16], ["x" * 300],
                                     ["eth0"] * 513, [f"d{i}" for i in range(10000)]],
                         ids=["empty", "empty-second", "16-chars", "300-chars", "513",
                              "10000"])
def test_bad_devices_are_invalid_argument(lab, devices):
    some_traffic(lab)
    with pytest.raises(pplab.DBusError) as e:
        lab.traffic_counters(devices)
    assert e.value.name == INVALID_ARGUMENT, e.value
    # The daemon is still there and answers.
    assert lab.traffic_counters(["eth0"])


def test_limits_are_inclusive(lab):
    some_traffic(lab)
    assert lab.traffic_counters(["a" * 15]) == {}
    assert set(lab.traffic_counters(["eth0"] + [f"n{i}" for i in range(511)])) == \
        set(lab.traffic_counters(["eth0"]))


@pytest.mark.parametrize("raw", [b"\x0a", b"\x0a\x05ab", b"\xff\xff\xff\xff\xff", b"\x0b",
                                 b"\x0a\x80\x80\x80\x80\x10eth0"],
                         ids=["truncated-tag", "truncated-string", "bad-varint",
                              "bad-wire-type", "huge-length"])
def test_malformed_request_is_invalid_argument(lab, raw):
    with pytest.raises(pplab.DBusError) as e:
        lab.call_raw("GetTrafficCounters", raw)
    assert e.value.name == INVALID_ARGUMENT, e.value
    assert lab.traffic_counters() is not None


def test_concurrent_requests(lab):
    """Many requests in flight at once, filtered differently: each gets its own answer."""
    some_traffic(lab)
    bus = lab.bus()
    req = lambda devices: ("GetTrafficCounters", "ay", [  # noqa: E731
        lab.pb.TrafficCountersRequest(devices=devices).SerializeToString()], ())
    asks = [[], ["eth0"], ["eth1"], ["nosuchdev0"], [""]] * 20
    answers = bus.call_many([req(d) for d in asks])
    for devices, answer in zip(asks, answers):
        if devices == [""]:
            assert isinstance(answer, pplab.DBusError) and answer.name == INVALID_ARGUMENT
            continue
        assert not isinstance(answer, Exception), answer
        resp = lab.pb.TrafficCountersResponse()
        resp.ParseFromString(bytes(answer[0]))
        got = {c.device for c in resp.counters}
        if devices == ["nosuchdev0"]:
            assert got == set(), got
        elif devices:
            assert got == set(devices), (devices, got)
        else:
            assert got >= {"eth0", "eth1"}, got


def test_wrong_signature_is_refused(lab):
    with pytest.raises(pplab.DBusError) as e:
        lab.bus().call("GetTrafficCounters", "s", ["eth0"])
    # Refused by sd-bus before the handler runs.
    assert e.value.name in ("org.freedesktop.DBus.Error.InvalidArgs", INVALID_ARGUMENT), e.value
    assert lab.traffic_counters() is not None


def test_a_counters_table_that_does_not_fit_is_started_again(fresh_lab):
    """A counters' table left by another version (here: sets without counters) must not
    keep the daemon from starting: the counters start again, and say so."""
    lab = fresh_lab(uplinks=1)
    assert lab.stop_daemon() == 0, lab.log()
    for name in ("tx", "rx"):
        lab.host.out("nft", "delete", "set", "inet", "patchpanel_acct", name)
        lab.host.out("nft", "add", "set", "inet", "patchpanel_acct", name,
                     "{ type ifname . mark . nf_proto; flags dynamic; size 1024; }")
    lab.start_daemon()
    assert "did not fit: they start again" in lab.log()
    ensure_echo_server(lab.lan)
    echo_counted(lab, lab.host, pplab.LAN_ADDR, "SYSTEM")
