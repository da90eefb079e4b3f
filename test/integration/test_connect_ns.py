"""ConnectNamespace end to end: D-Bus call, kernel state, traffic through NAT, teardown."""

import ipaddress
import os
import signal
import socket
import struct
import subprocess
import sys
import textwrap

import pytest

import pplab

INVALID_ARGUMENT = "org.chromium.PatchPanel.Error.InvalidArgument"
EXHAUSTED = "org.chromium.PatchPanel.Error.Exhausted"


def wire_to_ip(value):
    """IPv4 uint32 fields carry in_addr.s_addr, i.e. the address bytes in network order
    read as a little-endian integer on this host."""
    return socket.inet_ntoa(struct.pack("=I", value))


def nft_map(lab, name):
    """Elements of one of our sets or maps: {key: value or None}."""
    data = lab.host.nft_json("list", "map" if name.endswith("mark") else "set", "inet",
                             "patchpanel", name)
    for item in data["nftables"]:
        obj = item.get("map") or item.get("set")
        if obj:
            out = {}
            for e in obj.get("elem", []):
                if isinstance(e, list):
                    out[e[0]] = e[1]
                else:
                    out[e] = None
            return out
    return {}


def wait_for_baseline(lab, baseline, timeout=1.0):
    return pplab.poll(lambda: None if lab.datapath_state() == baseline else
                      lab.datapath_state(), timeout=timeout, what="leftovers")


@pytest.fixture
def baseline(lab):
    """The datapath state before a test; the test must return to it."""
    state = lab.datapath_state()
    yield state
    after = wait_for_baseline(lab, state, timeout=5)
    assert after is None, f"the test left state behind: {after}"


def test_connect_pings_lan_through_nat(lab, baseline):
    ns, proc = lab.client()
    resp, lifeline = lab.connect_namespace(proc.pid)
    try:
        assert ns.ping(pplab.LAN_ADDR), "the namespace cannot reach the lan router"
        peer = wire_to_ip(resp.peer_ipv4_address)
        # The lan has no route to the guest pool: only masquerade makes replies come back.
        flows = lab.host.out("conntrack", "-L", "-p", "icmp", "-s", peer)
        assert f"dst={pplab.LAN_ADDR}" in flows and f"dst={pplab.HOST_UPLINK_ADDR}" in flows, flows
        assert not lab.lan.ok("ping", "-c1", "-W1", peer), "the lan should not route to guests"
    finally:
        lifeline.close()


def test_response_matches_kernel_state(lab, baseline):
    ns, proc = lab.client()
    resp, lifeline = lab.connect_namespace(proc.pid)
    try:
        subnet = ipaddress.ip_network(f"{wire_to_ip(resp.ipv4_subnet.base_addr)}/"
                                      f"{resp.ipv4_subnet.prefix_len}")
        host_addr = wire_to_ip(resp.host_ipv4_address)
        peer_addr = wire_to_ip(resp.peer_ipv4_address)
        assert subnet.prefixlen == 30
        assert subnet.subnet_of(ipaddress.ip_network("100.115.92.128/26"))
        assert host_addr == str(subnet.network_address + 1)
        assert peer_addr == str(subnet.network_address + 2)
        assert resp.host_ifname.startswith("arc_ns")
        assert resp.peer_ifname == "veth" + resp.host_ifname[len("arc_ns"):]

        host_links = lab.host.links()
        assert resp.host_ifname in host_links
        assert "UP" in host_links[resp.host_ifname]["flags"]
        assert lab.host.addrs(resp.host_ifname) == [host_addr]
        # IPv6 for the namespace through the ND proxy (--ndproxy=on, the default): on for the
        # host side too, once ndproxyd serves the link, but never an address of the host's
        # there from RAs, and no RA taken from the namespace (test_ndproxy.py has the rest).
        conf = f"/proc/sys/net/ipv6/conf/{resp.host_ifname}"

        def ipv6_on():
            got = [lab.host.out("cat", f"{conf}/{k}").strip()
                   for k in ("disable_ipv6", "accept_ra", "autoconf")]
            return None if got == ["0", "0", "0"] else got
        err = pplab.poll(ipv6_on, timeout=5, what="IPv6 on the host side")
        assert err is None, err
        assert all(a.get("scope") == "link"
                   for l in lab.host.ip_json("-6", "addr", "show", "dev", resp.host_ifname)
                   for a in l.get("addr_info", [])), resp.host_ifname

        peer_links = ns.links()
        assert resp.peer_ifname in peer_links
        assert "UP" in peer_links[resp.peer_ifname]["flags"]
        assert ns.addrs(resp.peer_ifname) == [peer_addr]
        default = [r for r in ns.routes() if r["dst"] == "default"]
        assert default == [{"dst": "default", "gateway": host_addr, "dev": resp.peer_ifname,
                            "protocol": "static", "flags": []}], default

        # Source SYSTEM (UNKNOWN defaults to it) in bits 8-13, SNAT in bit 0, and
        # route_on_vpn unset: bypass a VPN (bit 14).
        assert nft_map(lab, "guest_mark")[resp.host_ifname] == 0x4401
        assert resp.host_ifname in nft_map(lab, "guest_ifs")
    finally:
        lifeline.close()


@pytest.mark.parametrize("source,mark", [(1, 0x101), (2, 0x201), (3, 0x2001), (8, 0x401)])
def test_traffic_source_sets_the_mark(lab, baseline, source, mark):
    _, proc = lab.client()
    resp, lifeline = lab.connect_namespace(proc.pid, traffic_source=source, route_on_vpn=True)
    try:
        # route_on_vpn: bit 15.
        assert nft_map(lab, "guest_mark")[resp.host_ifname] == mark | 0x8000
    finally:
        lifeline.close()


def test_lifeline_close_leaves_nothing_within_a_second(lab, baseline):
    ns, proc = lab.client()
    resp, lifeline = lab.connect_namespace(proc.pid)
    assert resp.host_ifname in lab.host.links()
    lifeline.close()
    left = wait_for_baseline(lab, baseline, timeout=1.0)
    assert left is None, left
    assert resp.peer_ifname not in ns.links()


def test_reconnect_right_after_the_teardown(lab, baseline):
    """A teardown is answered once the guest is cut off; its veth (and the client's default
    route through it) may be deleted a little later. The same namespace connecting again
    at once must get a working connection, not "already has a default route"."""
    ns, proc = lab.client()
    for _ in range(10):
        resp, lifeline = lab.connect_namespace(proc.pid)
        lifeline.close()
        err = pplab.poll(lambda: "still connected" if resp.host_ifname in
                         nft_map(lab, "guest_ifs") else None, timeout=2, what="teardown")
        assert err is None, err
    resp, lifeline = lab.connect_namespace(proc.pid)
    try:
        assert ns.ping(pplab.LAN_ADDR)
    finally:
        lifeline.close()


CLIENT = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, sys.argv[1])
    import pplab
    lab = pplab.Lab.__new__(pplab.Lab)
    lab.pb = pplab.import_protos()
    lab._bus = pplab.Bus(sys.argv[2])
    resp, lifeline = lab.connect_namespace(int(sys.argv[3]))
    print(resp.host_ifname, flush=True)
    os.kill(os.getpid(), 19)  # SIGSTOP: hold the lifeline until killed
""")


def test_client_death_leaves_nothing_within_a_second(lab, baseline):
    _, proc = lab.client()
    lib = lab.pylib
    client = subprocess.Popen([sys.executable, "-c", CLIENT, str(lib), lab.bus_address,
                               str(proc.pid)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PP_BUILD_DIR": str(lab.build)})
    try:
        host_ifname = client.stdout.readline().strip()
        assert host_ifname.startswith("arc_ns"), host_ifname
        assert host_ifname in lab.host.links()
    finally:
        client.send_signal(signal.SIGKILL)
        client.wait()
        client.stdout.close()
    left = wait_for_baseline(lab, baseline, timeout=1.0)
    assert left is None, left


def test_namespace_gone_leaves_nothing(lab, baseline):
    ns, proc = lab.client()
    resp, lifeline = lab.connect_namespace(proc.pid)
    try:
        ns.delete()  # the process ends and the namespace with it: the veth goes too
        left = wait_for_baseline(lab, baseline, timeout=2.0)
        assert left is None, left
    finally:
        lifeline.close()


def test_pool_exhausted_then_freed_slot_is_reused(lab, baseline):
    held = []
    try:
        for _ in range(16):
            _, proc = lab.client()
            held.append(lab.connect_namespace(proc.pid))
        subnets = {r.ipv4_subnet.base_addr for r, _ in held}
        assert len(subnets) == 16

        _, proc = lab.client()
        with pytest.raises(pplab.DBusError) as e:
            lab.connect_namespace(proc.pid)
        assert e.value.name == EXHAUSTED, e.value

        freed, lifeline = held.pop(5)
        lifeline.close()
        resp = None
        err = pplab.poll(lambda: None if len(nft_map(lab, "guest_ifs")) == 15 else "busy",
                         timeout=2, what="slot not freed")
        assert err is None, err
        resp, lifeline = lab.connect_namespace(proc.pid)
        held.append((resp, lifeline))
        assert resp.ipv4_subnet.base_addr == freed.ipv4_subnet.base_addr
    finally:
        for _, lifeline in held:
            lifeline.close()


# ---- bad input: a precise error, and nothing changes -------------------------------------

def expect_error(lab, baseline, name, fragment, pid, fds=None, **fields):
    lifeline = pplab.Lifeline()
    try:
        with pytest.raises(pplab.DBusError) as e:
            lab.bus().call("ConnectNamespace", "ayh",
                           [lab.connect_ns_request(pid, **fields), 0],
                           fds if fds is not None else [lifeline.write_fd])
        assert e.value.name == name, e.value
        assert fragment in e.value.text, e.value
    finally:
        lifeline.close()
    assert lab.datapath_state() == baseline


@pytest.mark.parametrize("pid,fragment", [(0, "must be > 1"), (1, "must be > 1"),
                                          (-7, "must be > 1"),
                                          (4194304 + 12345, "does not exist")])
def test_bad_pid(lab, baseline, pid, fragment):
    expect_error(lab, baseline, INVALID_ARGUMENT, fragment, pid)


def test_pid_of_the_daemon_itself(lab, baseline):
    manager, helper = lab.daemon_pids()
    expect_error(lab, baseline, INVALID_ARGUMENT, "patchpanel process", manager)
    expect_error(lab, baseline, INVALID_ARGUMENT, "patchpanel process", helper)


def test_pid_in_the_host_namespace(lab, baseline):
    proc = lab.host.sleeper()
    expect_error(lab, baseline, INVALID_ARGUMENT, "own network namespace", proc.pid)


def test_pid_that_has_exited(lab, baseline):
    _, proc = lab.client()
    proc.kill()
    proc.wait()
    expect_error(lab, baseline, INVALID_ARGUMENT, "does not exist", proc.pid)


def test_unknown_outbound_device(lab, baseline):
    _, proc = lab.client()
    expect_error(lab, baseline, INVALID_ARGUMENT, "Unknown outbound_physical_device", proc.pid,
                 outbound_physical_device="eth9")
    expect_error(lab, baseline, INVALID_ARGUMENT, "Invalid outbound_physical_device", proc.pid,
                 outbound_physical_device="../eth0")


def test_pinned_namespace_carries_no_vpn_intent(lab, baseline):
    """Traffic pinned to an uplink goes there by its routing tag, VPN or not."""
    _, proc = lab.client()
    resp, lifeline = lab.connect_namespace(proc.pid, outbound_physical_device="eth0",
                                           route_on_vpn=True)
    try:
        mark = nft_map(lab, "guest_mark")[resp.host_ifname]
        assert mark & 0xc000 == 0 and mark & 0xffff0000 == lab.routing_tag("eth0"), hex(mark)
    finally:
        lifeline.close()


def test_bridge_port_events_do_not_remove_an_uplink(lab, baseline):
    """Enslaving an uplink to a bridge and releasing it sends an AF_BRIDGE RTM_DELLINK;
    the uplink is still there and must stay known."""
    lab.host.out("ip", "link", "add", "name", "ppbr0", "type", "bridge")
    try:
        lab.host.out("ip", "link", "set", "eth0", "master", "ppbr0")
        lab.host.out("ip", "link", "set", "eth0", "nomaster")
    finally:
        lab.host.out("ip", "link", "del", "ppbr0")
        lab.host.exec("ip", "route", "replace", "default", "via", pplab.LAN_ADDR)
    ns, proc = lab.client()
    # Still a known uplink: connecting pinned to it works.
    resp, lifeline = lab.connect_namespace(proc.pid, outbound_physical_device="eth0")
    try:
        assert ns.ping(pplab.LAN_ADDR)
    finally:
        lifeline.close()


def test_invalid_traffic_source(lab, baseline):
    _, proc = lab.client()
    expect_error(lab, baseline, INVALID_ARGUMENT, "traffic_source", proc.pid, traffic_source=42)


def test_malformed_request_bytes(lab, baseline):
    lifeline = pplab.Lifeline()
    try:
        with pytest.raises(pplab.DBusError) as e:
            lab.bus().call("ConnectNamespace", "ayh", [b"\x08\xff\xff\xff", 0],
                           [lifeline.write_fd])
        assert e.value.name == INVALID_ARGUMENT and "Malformed" in e.value.text, e.value
    finally:
        lifeline.close()
    assert lab.datapath_state() == baseline


def test_oversized_request(lab, baseline):
    lifeline = pplab.Lifeline()
    try:
        with pytest.raises(pplab.DBusError) as e:
            # 100 KiB of an unknown field: decodable, and refused before decoding.
            junk = b"\x7a" + bytes([0x80, 0xa0, 0x06]) + b"x" * 102400
            lab.bus().call("ConnectNamespace", "ayh", [junk, 0], [lifeline.write_fd])
        assert e.value.name == INVALID_ARGUMENT and "larger than" in e.value.text, e.value
    finally:
        lifeline.close()
    assert lab.datapath_state() == baseline


def test_missing_fd(lab, baseline):
    _, proc = lab.client()
    with pytest.raises(pplab.DBusError) as e:
        lab.bus().call("ConnectNamespace", "ay", [lab.connect_ns_request(proc.pid)])
    assert e.value.name == "org.freedesktop.DBus.Error.InvalidArgs", e.value
    assert lab.datapath_state() == baseline


def test_fd_that_is_not_a_pipe_or_socket(lab, baseline):
    _, proc = lab.client()
    with open("/dev/null", "rb") as f:
        expect_error(lab, baseline, INVALID_ARGUMENT, "pipe or a socket", proc.pid,
                     fds=[f.fileno()])


def test_fd_already_hung_up(lab, baseline):
    _, proc = lab.client()
    lifeline = pplab.Lifeline()
    os.close(lifeline.read_fd)
    lifeline.read_fd = -1
    try:
        expect_error(lab, baseline, INVALID_ARGUMENT, "already closed", proc.pid,
                     fds=[lifeline.write_fd])
    finally:
        lifeline.close()


def test_kernel_failure_midway_rolls_back(lab, baseline):
    """The namespace already has a default route: the helper has created the veth and the
    addresses when the route fails, and must undo them."""
    ns, proc = lab.client()
    ns.out("ip", "link", "add", "name", "side0", "type", "veth", "peer", "name", "side1")
    ns.out("ip", "link", "set", "side0", "up")
    ns.out("ip", "addr", "add", "198.51.100.2/24", "dev", "side0")
    ns.out("ip", "route", "add", "default", "via", "198.51.100.1")
    before = set(ns.links())
    expect_error(lab, baseline, INVALID_ARGUMENT, "already has a default route", proc.pid)
    assert set(ns.links()) == before
    # The subnet went back to the pool: the next namespace gets a working connection.
    other, proc2 = lab.client()
    resp, lifeline = lab.connect_namespace(proc2.pid)
    try:
        assert other.ping(pplab.LAN_ADDR)
    finally:
        lifeline.close()


def test_cli_connects_and_disconnects_on_interrupt(lab, baseline):
    ns, proc = lab.client()
    cli = subprocess.Popen([lab.build / "bin" / "patchpanel-cli", "connect-ns",
                            f"--pid={proc.pid}", "--json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": lab.bus_address})
    try:
        import json  # pylint: disable=import-outside-toplevel
        out = json.loads(cli.stdout.readline())
        assert out["host_ifname"] in lab.host.links()
        assert ns.ping(pplab.LAN_ADDR)
    finally:
        cli.send_signal(signal.SIGINT)
        assert cli.wait(timeout=5) == 0
        cli.stdout.close()
        cli.stderr.close()
    left = wait_for_baseline(lab, baseline, timeout=1.0)
    assert left is None, left


def test_cli_reports_errors(lab):
    p = pplab.run([lab.build / "bin" / "patchpanel-cli", "connect-ns", "--pid=1"], check=False,
                  env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": lab.bus_address})
    assert p.returncode == 1
    assert INVALID_ARGUMENT in p.stderr and "must be > 1" in p.stderr, p.stderr
