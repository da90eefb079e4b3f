"""The lab's own machinery, mostly without the daemon: each peer (radvd, avahi-daemon with
its browse/publish helpers, a GSSDP responder and gssdp-discover, socat, iperf3) starts in
one of two plain namespaces joined by a veth, carries real traffic to the other, and
leaves nothing when stopped; every process a lab starts carries its tag; and pplab.reap
ends what a killed lab left behind.

    a (va 198.51.100.10/24, 2001:db8:1::1/64 with radvd) ==veth== b (vb 198.51.100.11/24)
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

import pplab
import pplab.reap
from pplab import (AvahiDaemon, GssdpResponder, Iperf3Server, Radvd, Socat, gssdp_discover,
                   iperf3_client)

pytestmark = pytest.mark.lab

A_ADDR = "198.51.100.10"
B_ADDR = "198.51.100.11"
PREFIX6 = "2001:db8:1::/64"
SSDP_TARGET = "urn:schemas-upnp-org:device:pplab:1"


def build_topology(topo):
    """Two namespaces on one veth, each with a multicast route (neither has a default
    route, and unbound multicast sends need one)."""
    a, b = topo.add_netns("a"), topo.add_netns("b")
    topo.link(a, "va", b, "vb", a_addrs=[f"{A_ADDR}/24"], b_addrs=[f"{B_ADDR}/24"])
    for ns, ifname in ((a, "va"), (b, "vb")):
        ns.out("ip", "route", "add", "224.0.0.0/4", "dev", ifname)
    return types.SimpleNamespace(topo=topo, a=a, b=b)


@pytest.fixture(scope="module")
def net():
    with pplab.Topology() as topo:
        yield build_topology(topo)


@pytest.fixture(autouse=True)
def skip_if_broken(request):
    """Skip, rather than fail in a confusing way, when the two namespaces no longer reach
    each other (an earlier test broke the topology)."""
    if "net" in request.fixturenames:
        net = request.getfixturevalue("net")
        if not net.b.ping(A_ADDR):
            pytest.skip(f"{net.b.name} no longer reaches {A_ADDR}")


def gone(pids):
    """None when no process of pids is left running, else which are."""
    left = []
    for pid in pids:
        try:
            if not pplab.proc_status(pid)["State"].startswith("Z"):
                left.append(pid)
        except FileNotFoundError:
            pass
    return None if not left else f"still running: {left}"


def stop_and_check(peer):
    pids = [p.pid for p in peer.procs]
    assert pids, f"{peer.kind} has no process"
    peer.stop()
    left = gone(pids)
    assert left is None, f"{peer.kind} in {peer.ns.name}: {left}"


# ---- peers -------------------------------------------------------------------------------

def test_radvd_gives_the_other_side_a_slaac_address(net):
    radvd = net.a.add_peer(Radvd(prefix=PREFIX6))
    try:
        def slaac():
            for l in net.b.ip_json("-6", "addr", "show", "dev", "vb"):
                for a in l.get("addr_info", []):
                    if a["local"].startswith("2001:db8:1:") and not a.get("tentative"):
                        return None
            return "no address in 2001:db8:1::/64 yet"
        err = pplab.poll(slaac, timeout=15, interval=0.1, what=f"SLAAC in {net.b.name}")
        assert err is None, f"{err}\n{radvd.log()}"
        routes = net.b.ip_json("-6", "route", "show", "default")
        assert routes and routes[0].get("protocol") == "ra", routes
        assert net.b.ping(radvd.address), f"{net.b.name} cannot ping {radvd.address}"
    finally:
        stop_and_check(radvd)
        net.b.out("ip", "-6", "addr", "flush", "dev", "vb", "scope", "global")
        net.b.exec("ip", "-6", "route", "flush", "proto", "ra")


def test_avahi_services_are_browsed_and_resolved_across_the_link(net):
    responder = net.a.add_peer(AvahiDaemon(
        services=[("pplab-web", "_http._tcp", 8080, ["path=/pplab"])], dbus=True))
    querier = net.b.add_peer(AvahiDaemon(dbus=True))
    try:
        responder.publish("pplab-printer", "_ipp._tcp", 631, "note=dynamic")
        seen = {}

        def found(stype, name):
            def check():
                for s in querier.browse(stype):
                    if s["name"] == name and s["protocol"] == "IPv4":
                        seen[name] = s
                        return None
                return f"{name} not browsed"
            return check
        for stype, name in (("_http._tcp", "pplab-web"), ("_ipp._tcp", "pplab-printer")):
            err = pplab.poll(found(stype, name), timeout=10, interval=0.2,
                             what=f"avahi-browse in {net.b.name}")
            assert err is None, f"{err}\n{querier.log()}"
        web, printer = seen["pplab-web"], seen["pplab-printer"]
        assert (web["address"], web["port"], web["txt"]) == (A_ADDR, 8080, '"path=/pplab"'), web
        assert (printer["address"], printer["port"]) == (A_ADDR, 631), printer
        host = f"{responder.host_name}.local"
        resolved = querier.resolve(host)
        assert resolved == A_ADDR, f"{host} resolved to {resolved}"
    finally:
        stop_and_check(querier)
        stop_and_check(responder)


def test_gssdp_responder_is_discovered(net):
    location = f"http://{A_ADDR}:8080/desc.xml"
    responder = net.a.add_peer(GssdpResponder(targets=[SSDP_TARGET], location=location))
    try:
        found = gssdp_discover(net.b, SSDP_TARGET, seconds=2)
        want = {"usn": f"uuid:{responder.uuid}::{SSDP_TARGET}", "location": location}
        assert want in found, f"{found}\n{responder.log()}"
    finally:
        stop_and_check(responder)


@pytest.mark.parametrize("udp", [False, True], ids=["tcp", "udp"])
def test_socat_echoes(net, udp):
    echo = net.a.add_peer(Socat.echo(7000, udp=udp))
    try:
        proto = "UDP" if udp else "TCP"
        got = net.b.exec("socat", "-T2", "-", f"{proto}:{A_ADDR}:7000",
                         input="pplab echo\n", timeout=10)
        assert got.stdout == "pplab echo\n", got
    finally:
        stop_and_check(echo)


def test_iperf3_carries_traffic(net):
    server = net.a.add_peer(Iperf3Server(port=5201))
    try:
        result = iperf3_client(net.b, A_ADDR, 5201, seconds=1)
        received = result["end"]["sum_received"]["bytes"]
        assert received > 1_000_000, result["end"]["sum_received"]
    finally:
        stop_and_check(server)


def test_two_of_a_kind_run_side_by_side(net):
    """Private directories and names: two iperf3 servers in one namespace, and two
    avahi-daemons, one per namespace, each with its own files."""
    peers = [net.a.add_peer(Iperf3Server(port=5301)), net.a.add_peer(Iperf3Server(port=5302)),
             net.a.add_peer(AvahiDaemon()), net.b.add_peer(AvahiDaemon())]
    try:
        dirs = {p.dir for p in peers}
        assert len(dirs) == len(peers), dirs
        assert peers[2].host_name != peers[3].host_name
        for port in (5301, 5302):
            assert iperf3_client(net.b, A_ADDR, port, seconds=1)["end"]["sum_received"]["bytes"]
    finally:
        for p in reversed(peers):
            stop_and_check(p)


def test_namespace_delete_stops_its_peers():
    with pplab.Topology() as topo:
        t = build_topology(topo)
        peers = [t.a.add_peer(Socat.echo(7000)), t.b.add_peer(AvahiDaemon(dbus=True))]
        pids = [p.pid for peer in peers for p in peer.procs]
        t.a.delete()
        t.b.delete()
        left = gone(pids)
        assert left is None, left


# ---- tags and reaping --------------------------------------------------------------------

def test_every_process_of_a_lab_carries_its_tag(fresh_lab):
    lab = fresh_lab()
    _, sleeper = lab.client()
    echo = lab.lan.add_peer(Socat.echo(7000))
    manager, helper = lab.daemon_pids()
    found = {p.pid: p.why for p in pplab.reap.find({lab.tag}).procs}
    want = {"dbus-daemon": lab.bus_proc.pid, "patchpaneld": manager,
            "patchpanel-helper": helper, "sleeper": sleeper.pid, "socat": echo.pid}
    by_env = f"{pplab.TAG_ENV}={lab.tag}"
    wrong = {k: found.get(pid) for k, pid in want.items() if found.get(pid) != by_env}
    assert not wrong, f"not tagged {by_env}: {wrong}"


# A lab whose holder dies without cleaning up: it builds a topology with peers (one of them
# with a bus outside any namespace), starts a plain process outside the lab that only its
# owner variable marks, prints its tag and PIDs, and waits to be killed. Started without
# PPLAB_OWNER, it is its own owner.
CRASHING_HOLDER = textwrap.dedent("""
    import json, subprocess, sys, time
    sys.path.insert(0, sys.argv[1])
    import pplab
    topo = pplab.Topology()
    topo.start()
    a, b = topo.add_netns("a"), topo.add_netns("b")
    topo.link(a, "va", b, "vb", a_addrs=["198.51.100.10/24"], b_addrs=["198.51.100.11/24"])
    peers = [a.add_peer(pplab.Socat.echo(7000)), a.add_peer(pplab.Iperf3Server()),
             b.add_peer(pplab.AvahiDaemon(dbus=True))]
    sleeper = b.sleeper()
    plain = subprocess.Popen(["sleep", "600"], start_new_session=True)
    pids = [p.pid for peer in peers for p in peer.procs] + [sleeper.pid]
    print(json.dumps({"tag": topo.tag, "pids": pids, "dir": str(topo.dir),
                      "owner": pplab.OWNER, "plain": plain.pid}), flush=True)
    time.sleep(600)
""")


@pytest.fixture
def crashed_lab():
    """The tag, PIDs and directory of a topology whose holder was killed with SIGKILL."""
    lib = str(Path(pplab.__file__).resolve().parents[1])
    env = {k: v for k, v in os.environ.items() if k != pplab.OWNER_ENV}
    holder = subprocess.Popen([sys.executable, "-c", CRASHING_HOLDER, lib],
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        left = json.loads(holder.stdout.readline())
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
    yield left
    # Whatever the test did, nothing of it may stay.
    pplab.reap.reap_tags({left["tag"]}, pplab.reap.owned_by(left["owner"]))


def reaped(left):
    """None when the crashed lab's processes, namespaces, directory and record are gone."""
    problems = []
    err = gone(left["pids"])
    if err:
        problems.append(err)
    names = pplab.reap.tagged_namespaces({left["tag"]})
    if names:
        problems.append(f"namespaces {names}")
    if Path(left["dir"]).exists() and os.environ.get("PP_KEEP_LOGS") is None:
        problems.append(f"directory {left['dir']}")
    if left["tag"] in pplab.tags.registered():
        problems.append("still registered")
    return "; ".join(problems) or None


def run_reaper(*args):
    env = {**os.environ, "PYTHONPATH": str(Path(pplab.__file__).resolve().parents[1])}
    return subprocess.run([sys.executable, "-m", "pplab.reap", *args], capture_output=True,
                          text=True, timeout=60, env=env)


def test_reaper_ends_a_dead_holders_lab_without_being_told_its_tag(crashed_lab):
    assert gone(crashed_lab["pids"]) is not None, "the peers died with their holder"
    dry = run_reaper("--dry-run")
    assert dry.returncode == 0, dry.stderr
    for pid in [*crashed_lab["pids"], crashed_lab["plain"]]:
        assert f"would end pid {pid} " in dry.stdout, dry.stdout
    assert gone(crashed_lab["pids"]) is not None, "--dry-run ended something"
    p = run_reaper()
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"netns {crashed_lab['tag']}-a" in p.stdout, p.stdout
    err = reaped(crashed_lab) or gone([crashed_lab["plain"]])
    assert err is None, f"{err}\n{p.stdout}"


def test_reaper_ends_a_lab_by_its_tag(crashed_lab):
    p = run_reaper(crashed_lab["tag"])
    assert p.returncode == 0, p.stdout + p.stderr
    err = reaped(crashed_lab)
    assert err is None, f"{err}\n{p.stdout}"
    # A tag names a lab: a process outside it, marked only by its owner, is not part of it.
    assert gone([crashed_lab["plain"]]) is not None, p.stdout


def test_reaper_leaves_live_labs_alone(net):
    """Without a tag, only what nobody holds is ended: this module's running topology
    stays."""
    echo = net.a.add_peer(Socat.echo(7100))
    try:
        p = run_reaper("--dry-run")
        assert p.returncode == 0, p.stderr
        assert net.topo.tag not in p.stdout, p.stdout
        assert f"pid {echo.pid} " not in p.stdout, p.stdout
    finally:
        stop_and_check(echo)


@pytest.mark.parametrize("bad", ["-x", "Bad-Tag", "a"])
def test_reaper_refuses_a_malformed_tag(bad):
    p = run_reaper(bad)
    assert p.returncode == 2 and "pplab.reap" in p.stderr, (p.returncode, p.stderr)
