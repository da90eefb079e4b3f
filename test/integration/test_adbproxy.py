"""adb-proxy with the real adb client (Debian's adb) against a fake adbd in the ARC
container: from the lan through the ingress firewall's ACCESS set, from a Termina VM through
the DNAT on its TAP, over the container's adbd socket and over the TCP fallback; off by
default and silent while ARC is stopped; ARC stopping mid-transfer; 500 connections at once,
half of them stalled; fds back to where they were; SIGKILL and the restart; ARCVM over vsock
where this kernel has no transport to it."""

import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import tempfile
from pathlib import Path

import pytest

import pplab

ADB_PORT = 5555
ARC_ADDR = "100.115.92.2"   # the ARC pool's .2: arc0 in the container
SHELL_50MB = "yes 0123456789abcdef | head -c 50000000"


def expected_50mb():
    h = hashlib.sha256()
    line = b"0123456789abcdef\n" * 4096
    left = 50_000_000
    while left:
        chunk = line[:left]
        h.update(chunk)
        left -= len(chunk)
    return h.hexdigest()


def proxy(lab):
    """adb-proxy's entry of GetStatus' children, its counters as a dict under "c"."""
    for c in lab.status()["children"]:
        if c["name"] == "adb-proxy":
            c["c"] = {x["name"]: x["value"] for x in c.get("counters", [])}
            return c
    return None


def wait_proxy(lab, check, what, timeout=10.0):
    """Poll adb-proxy's status until check(status) is None; return the last status."""
    seen = {}

    def probe():
        st = proxy(lab)
        seen["st"] = st
        if st is None or st["state"] != "running" or "listening" not in st["c"]:
            return f"adb-proxy: {st and st['state']} {st and st['c']}"
        return check(st)
    err = pplab.poll(probe, timeout=timeout, interval=0.05, what=what)
    assert err is None, f"{err}\n{lab.log()[-3000:]}"
    return seen["st"]


def listening(lab):
    """Whether anything listens on tcp/5555 in the host namespace."""
    return bool(lab.host.out("ss", "-Hltn", f"sport = :{ADB_PORT}").strip())


def access_open(lab):
    return ("tcp", ADB_PORT) in lab.nft_elements("access_any")


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def local_vsock_cid():
    """This machine's own vsock cid: a connection to it fails at once (no loopback
    transport here), so no packet leaves the machine."""
    try:
        with open("/dev/vsock", "rb") as f:
            return struct.unpack("I", fcntl.ioctl(f, 0x7B9, b"\0" * 4))[0]
    except OSError:
        return 3


@pytest.fixture(scope="module")
def sock_dir():
    d = Path(tempfile.mkdtemp(prefix="pp-adbsock-"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def alab(sock_dir):
    from conftest import finish_lab, make_lab  # pylint: disable=import-outside-toplevel
    lab = make_lab(daemon_args=["--adb-proxy=on", f"--adb-socket={sock_dir / 'adb.sock'}"])
    yield lab
    finish_lab(lab)


@pytest.fixture
def arc(alab, sock_dir):
    """ARC running, its fake adbd on the adbd socket (product ppunix) and on ARC's address
    (product pptcp), adb-proxy listening for it."""
    a = pplab.ArcContainer(alab)
    try:
        a.unix = a.ns.add_peer(pplab.FakeAdbd(unix=str(sock_dir / "adb.sock"), name="ppunix"))
        a.tcp = a.ns.add_peer(pplab.FakeAdbd(tcp=[f"{ARC_ADDR}:{ADB_PORT}"], name="pptcp"))
        wait_proxy(alab, lambda st: None if st["c"].get("listening") == 1 else "not listening",
                   "adb-proxy listening")
        yield a
    finally:
        a.close()
    wait_proxy(alab, lambda st: None if st["c"].get("listening") == 0 and
               st["c"].get("connections_open") == 0 else st["c"], "adb-proxy quiet")


@pytest.fixture
def lan_adb(alab):
    server = alab.lan.add_peer(pplab.AdbServer())
    yield server
    server.stop()
    alab.lan.peers.remove(server)


def test_off_by_default(fresh_lab):
    lab = fresh_lab()
    a = pplab.ArcContainer(lab)
    try:
        assert proxy(lab) is None
        assert not listening(lab)
        assert not access_open(lab)
        assert "adb-proxy" not in lab.log()
    finally:
        a.close()


# Three connections at once; for each, when (seconds after connecting) it saw its end.
THREE_CONNECTIONS = r"""
import json, selectors, socket, sys, time
t0 = time.monotonic()
socks = [socket.create_connection((sys.argv[1], int(sys.argv[2]))) for _ in range(3)]
ends = [None] * 3
sel = selectors.DefaultSelector()
for i, s in enumerate(socks):
    sel.register(s, selectors.EVENT_READ, i)
while sel.get_map() and time.monotonic() - t0 < 15:
    for key, _ in sel.select(1):
        try:
            data = key.fileobj.recv(1)
        except OSError:
            data = b"?"
        ends[key.data] = [repr(data), round(time.monotonic() - t0, 1)]
        sel.unregister(key.fileobj)
print(json.dumps(ends))
"""


def test_connection_cap_and_idle_timeout(fresh_lab, sock_dir):
    lab = fresh_lab(daemon_args=["--adb-proxy=on", "--adb-max-connections=2",
                                 "--adb-idle-timeout=2",
                                 f"--adb-socket={sock_dir / 'cap.sock'}"])
    a = pplab.ArcContainer(lab)
    try:
        a.ns.add_peer(pplab.FakeAdbd(unix=str(sock_dir / "cap.sock")))
        wait_proxy(lab, lambda st: None if st["c"]["listening"] == 1 else "no", "listening")
        p = lab.lan.exec("/usr/bin/python3", "-c", THREE_CONNECTIONS, pplab.HOST_UPLINK_ADDR,
                         str(ADB_PORT), timeout=30)
        ends = json.loads(p.stdout)
        # The third is over the cap: closed at once. The first two are idle (adbd says
        # nothing until the client speaks): closed by the idle timeout, not before.
        assert ends[2][0] == "b''" and ends[2][1] < 1.5, ends
        for data, when in ends[:2]:
            assert data == "b''" and 1.5 <= when <= 6, ends
        st = wait_proxy(lab, lambda st: None if st["c"]["idle_closed"] == 2 and
                        st["c"]["connections_open"] == 0 else st["c"], "counted")
        assert st["c"]["connections_refused"] == 1
        assert st["c"]["connections_total"] == 2
        assert "2 connections are the limit" in lab.log()
    finally:
        a.close()


def test_on_but_arc_stopped(alab):
    st = wait_proxy(alab, lambda st: None, "adb-proxy running")
    assert st["c"]["listening"] == 0
    assert not listening(alab)
    assert not access_open(alab)
    # No capability, its own filter on top of the launcher's, nothing of the manager's.
    s = pplab.proc_status(st["pid"])
    for field in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
        assert int(s[field], 16) == 0, (field, s[field])
    assert s["NoNewPrivs"] == "1" and s["Seccomp"] == "2" and s["Seccomp_filters"] == "2"
    assert s["Uid"].split()[0] != "0"


def test_adb_from_the_lan(alab, arc, lan_adb):
    target = f"{pplab.HOST_UPLINK_ADDR}:{ADB_PORT}"
    assert listening(alab) and access_open(alab)
    before = proxy(alab)["c"]
    assert lan_adb.connect(target) is None
    devices = lan_adb.devices()
    # The adbd socket first: the container's.
    assert devices.get(target, "").startswith("device product:ppunix"), devices
    p = lan_adb.adb("-s", target, "shell", "echo hi")
    assert p.stdout.strip() == "hi", p
    digest, n = lan_adb.shell_sha256(target, SHELL_50MB)
    assert (digest, n) == (expected_50mb(), 50_000_000)
    st = wait_proxy(alab, lambda st: None if st["c"]["bytes_from_arc"] >= before["bytes_from_arc"] +
                    50_000_000 else st["c"], "counters")
    assert st["c"]["connections_total"] >= before["connections_total"] + 1
    assert st["c"]["connections_open"] >= 1
    assert st["c"]["bytes_to_arc"] > before["bytes_to_arc"]
    # The CLI shows them.
    out = alab.cli("status").stdout
    assert "adb-proxy" in out and "connections_total=" in out and "bytes_from_arc=" in out, out
    lan_adb.adb("disconnect", target)


def test_tcp_fallback_when_the_socket_is_gone(alab, arc, lan_adb):
    target = f"{pplab.HOST_UPLINK_ADDR}:{ADB_PORT}"
    arc.unix.stop()
    assert lan_adb.connect(target) is None
    devices = lan_adb.devices()
    assert devices.get(target, "").startswith("device product:pptcp"), devices
    p = lan_adb.adb("-s", target, "shell", "echo fallback")
    assert p.stdout.strip() == "fallback", p
    assert "Cannot reach ARC's adbd at unix:" in alab.log()
    lan_adb.adb("disconnect", target)


def test_a_clients_access_rule_and_adb_proxys_share_the_element(alab, sock_dir):
    """ModifyPortRule ACCESS tcp/5555 and adb-proxy's opening are one nftables element:
    neither's end takes it from the other."""
    assert not access_open(alab)
    assert alab.modify_port_rule("create", "access", "tcp", ADB_PORT)
    assert access_open(alab)
    a = pplab.ArcContainer(alab)
    try:
        wait_proxy(alab, lambda st: None if st["c"]["listening"] == 1 else "no", "listening")
        # The client's rule is there already: a duplicate is still refused.
        assert not alab.modify_port_rule("create", "access", "tcp", ADB_PORT)
        assert access_open(alab)
    finally:
        a.close()
    wait_proxy(alab, lambda st: None if st["c"]["listening"] == 0 else "still", "stopped")
    # ARC is gone, the client's rule is not.
    assert access_open(alab)
    # The other way round: ARC first, the client's rule comes and goes, ARC's stays.
    assert alab.modify_port_rule("delete", "access", "tcp", ADB_PORT)
    assert not access_open(alab)
    a = pplab.ArcContainer(alab)
    try:
        err = pplab.poll(lambda: None if access_open(alab) else "closed", timeout=5,
                         what="adb-proxy's opening")
        assert err is None, err
        assert alab.modify_port_rule("create", "access", "tcp", ADB_PORT)
        assert alab.modify_port_rule("delete", "access", "tcp", ADB_PORT)
        assert access_open(alab)
        assert not alab.modify_port_rule("delete", "access", "tcp", ADB_PORT)
    finally:
        a.close()
    err = pplab.poll(lambda: None if not access_open(alab) else "open", timeout=5,
                     what="the element gone with ARC")
    assert err is None, err


def test_adb_from_the_termina_vm(alab, arc):
    resp = alab.termina_vm_startup(cid=77)
    tap = resp.device.ifname
    vm = alab.vm(tap)
    try:
        vm.configure(resp.device)
        err = pplab.poll(lambda: None if tap in alab.nft_elements("adb_sideload") else "no",
                         timeout=5, what="the DNAT on the TAP")
        assert err is None, err
        assert alab.host.out("sysctl", "-n", f"net.ipv4.conf.{tap}.route_localnet").strip() == "1"
        before = proxy(alab)["c"]
        server = vm.add_peer(pplab.AdbServer())
        target = f"{ARC_ADDR}:{ADB_PORT}"
        assert server.connect(target) is None
        assert server.devices().get(target, "").startswith("device product:ppunix")
        assert server.adb("-s", target, "shell", "echo from-vm").stdout.strip() == "from-vm"
        digest, n = server.shell_sha256(target, SHELL_50MB, timeout=300)
        assert (digest, n) == (expected_50mb(), 50_000_000)
        # Through adb-proxy, not forwarded to ARC directly.
        st = wait_proxy(alab, lambda st: None if st["c"]["bytes_from_arc"] >=
                        before["bytes_from_arc"] + 50_000_000 else st["c"], "counters")
        assert st["c"]["connections_total"] == before["connections_total"] + 1
        server.adb("disconnect", target)
    finally:
        vm.delete()
        alab.clients.remove(vm)
        alab.termina_vm_shutdown(cid=77)
    err = pplab.poll(lambda: None if not alab.nft_elements("adb_sideload") else "still there",
                     timeout=5, what="the DNAT gone with the VM")
    assert err is None, err


def test_arc_stops_mid_transfer(alab, arc, lan_adb):
    target = f"{pplab.HOST_UPLINK_ADDR}:{ADB_PORT}"
    assert lan_adb.connect(target) is None
    before = proxy(alab)["c"]
    transfer = lan_adb.ns.spawn("adb", "-P", "5037", "-s", target, "shell",
                                "yes | head -c 20000000000", stdout=open(os.devnull, "wb"),
                                stderr=open(os.devnull, "wb"), env=lan_adb.home_env())
    wait_proxy(alab, lambda st: None if st["c"]["bytes_from_arc"] > before["bytes_from_arc"] +
               20_000_000 else "not yet", "transfer under way")
    arc.shutdown()
    # The listener goes, every pair closes, and the client sees its connection end.
    wait_proxy(alab, lambda st: None if st["c"]["listening"] == 0 and
               st["c"]["connections_open"] == 0 else st["c"], "closed")
    assert not listening(alab)
    assert transfer.wait(timeout=10) is not None
    assert not access_open(alab)


URGENT_CLIENT = r"""
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.send(b"x")
s.send(b"!", socket.MSG_OOB)
s.send(b"after")
time.sleep(2)
s.close()
"""


def test_urgent_data_neither_kills_nor_spins(alab, arc, lan_adb):
    """A client's send(MSG_OOB) stops splice() in front of the byte while the socket stays
    readable: adb-proxy must neither spin on it nor be killed by its seccomp policy for the
    ioctl that recognises it; the pair goes on by copying."""
    target = f"{pplab.HOST_UPLINK_ADDR}:{ADB_PORT}"
    before = proxy(alab)
    cpu = pplab.cpu_seconds(before["pid"])
    alab.lan.out("/usr/bin/python3", "-c", URGENT_CLIENT, pplab.HOST_UPLINK_ADDR, str(ADB_PORT))
    after = proxy(alab)
    assert after["pid"] == before["pid"], alab.log()[-3000:]
    # Two seconds with the urgent byte in the way: a spin would burn about that much.
    assert pplab.cpu_seconds(after["pid"]) - cpu < 0.5
    assert after["c"]["copy_fallbacks"] >= before["c"].get("copy_fallbacks", 0) + 1, after["c"]
    assert lan_adb.connect(target) is None
    assert lan_adb.adb("-s", target, "shell", "echo still").stdout.strip() == "still"
    lan_adb.adb("disconnect", target)


def test_sigkill_and_the_restart(alab, arc, lan_adb):
    target = f"{pplab.HOST_UPLINK_ADDR}:{ADB_PORT}"
    old = proxy(alab)["pid"]
    os.kill(old, signal.SIGKILL)
    st = wait_proxy(alab, lambda st: None if st["pid"] != old and
                    st["c"].get("listening") == 1 else f"pid {st['pid']} {st['c']}",
                    "adb-proxy back and listening", timeout=15)
    assert st["pid"] != old
    assert listening(alab)
    assert lan_adb.connect(target) is None
    assert lan_adb.adb("-s", target, "shell", "echo back").stdout.strip() == "back"
    lan_adb.adb("disconnect", target)


# 500 TCP connections from the lan through the proxy to a server on the adbd socket that
# sends each of them CHUNK bytes: half of them never read (their bytes stay stuck in
# pipes and socket buffers), the other half must get all of theirs, meanwhile.
MANY_CLIENTS = r"""
import json, selectors, socket, sys, time
addr, port, n, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
socks = []
for i in range(n):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((addr, port))
    s.setblocking(False)
    socks.append(s)
print("connected", flush=True)
readers = socks[1::2]
got = {s: 0 for s in readers}
sel = selectors.DefaultSelector()
for s in readers:
    sel.register(s, selectors.EVENT_READ)
deadline = time.monotonic() + 60
while sel.get_map() and time.monotonic() < deadline:
    for key, _ in sel.select(1):
        data = key.fileobj.recv(65536)
        got[key.fileobj] += len(data)
        if not data or got[key.fileobj] >= chunk:
            sel.unregister(key.fileobj)
done = sum(1 for v in got.values() if v >= chunk)
print(json.dumps({"readers": len(readers), "done": done}), flush=True)
sys.stdin.readline()
"""

# The adbd socket's stand-in for the test above: CHUNK bytes to each connection, then it
# waits for the client's end.
BULK_SERVER = r"""
import asyncio, os, sys
path, chunk = sys.argv[1], int(sys.argv[2])
async def serve(r, w):
    w.write(b"x" * chunk)
    try:
        await w.drain()
        await r.read()
    except ConnectionError:
        pass
    w.close()
async def main():
    s = await asyncio.start_unix_server(serve, path=path, backlog=1024)
    os.chmod(path, 0o666)
    print("ready", flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


def test_500_connections_half_stalled(alab, arc, sock_dir):
    chunk = 256 * 1024
    arc.unix.stop()
    st = proxy(alab)
    baseline = fd_count(st["pid"])
    server = arc.ns.spawn("/usr/bin/python3", "-c", BULK_SERVER, str(sock_dir / "adb.sock"),
                          str(chunk), stdout=__import__("subprocess").PIPE, text=True)
    assert server.stdout.readline().strip() == "ready"
    clients = alab.lan.spawn("/usr/bin/python3", "-c", MANY_CLIENTS, pplab.HOST_UPLINK_ADDR,
                             str(ADB_PORT), "500", str(chunk),
                             stdin=__import__("subprocess").PIPE,
                             stdout=__import__("subprocess").PIPE, text=True)
    try:
        assert clients.stdout.readline().strip() == "connected"
        result = json.loads(clients.stdout.readline())
        assert result == {"readers": 250, "done": 250}, result
        st = wait_proxy(alab, lambda st: None if st["c"]["connections_open"] == 500
                        else st["c"], "500 open")
        assert st["c"]["connections_refused"] == 0
        peak = fd_count(st["pid"])
        assert peak >= baseline + 1000
    finally:
        clients.stdin.close()
        clients.wait(timeout=20)
    wait_proxy(alab, lambda st: None if st["c"]["connections_open"] == 0 else st["c"],
               "every pair closed", timeout=20)
    err = pplab.poll(lambda: None if fd_count(st["pid"]) == baseline else fd_count(st["pid"]),
                     timeout=10, what="fds back to the baseline")
    assert err is None, f"{err} (baseline {baseline}, peak {peak})"
    server.kill()
    server.wait()


def test_arcvm_without_vsock_transport(alab):
    cid = local_vsock_cid()
    pid = wait_proxy(alab, lambda st: None, "running")["pid"]
    alab.arc_vm_startup(cid)
    try:
        wait_proxy(alab, lambda st: None if st["c"]["listening"] == 1 else "no", "listening")
        before = proxy(alab)["c"]
        # The client's connection is closed at once; adb-proxy says why, and carries on.
        answer = alab.lan.exec("/usr/bin/python3", "-c", (
            "import socket,sys\n"
            "s=socket.create_connection((sys.argv[1],int(sys.argv[2])),timeout=5)\n"
            "s.settimeout(5)\n"
            "print(repr(s.recv(1)))\n"), pplab.HOST_UPLINK_ADDR, str(ADB_PORT))
        assert answer.stdout.strip() in ("b''",) or "reset" in answer.stderr, answer
        st = wait_proxy(alab, lambda st: None if st["c"]["upstream_failures"] >
                        before["upstream_failures"] else st["c"], "the failure counted")
        assert st["pid"] == pid
        assert f"vsock:{cid}:{ADB_PORT}" in alab.log()
    finally:
        alab.arc_vm_shutdown(cid)
    wait_proxy(alab, lambda st: None if st["c"]["listening"] == 0 else "still", "not listening")


# ---- the helper's AdbSideload, driven directly -------------------------------------------

def ip4(text):
    return struct.unpack("!I", socket.inet_aton(text))[0]


def test_the_helper_checks_adb_sideload():
    with pplab.Topology() as topo:
        ns = topo.add_netns("helper")
        h = pplab.DirectHelper(ns, pplab.build_dir())
        try:
            pb = h.pb
            assert h.call(datapath_start=pb.DatapathStart()).status == 0
            termina = h.call(vm_tap_add=pb.VmTapAdd(
                kind=pb.VM_KIND_TERMINA, subnet_base=ip4("100.115.92.24"), subnet_prefix_len=30,
                lxd_subnet_base=ip4("100.115.92.192"), lxd_subnet_prefix_len=28,
                mac=bytes.fromhex("02005e005301")))
            plugin = h.call(vm_tap_add=pb.VmTapAdd(
                kind=pb.VM_KIND_PLUGINVM, subnet_base=ip4("100.115.93.0"), subnet_prefix_len=29,
                mac=bytes.fromhex("02005e005302")))
            assert termina.status == 0 and plugin.status == 0, (termina, plugin)
            tap, other = termina.tap.ifname, plugin.tap.ifname

            def sideload(name, enable=True):
                return h.call(adb_sideload=pb.AdbSideload(ifname=name, enable=enable))

            def localnet(name):
                return ns.out("sysctl", "-n", f"net.ipv4.conf.{name}.route_localnet").strip()

            r = sideload(tap)
            assert r.status == 0, r
            assert pplab.nft_elements(ns, "adb_sideload") == {tap: None}
            assert localnet(tap) == "1"
            # A PluginVM's TAP, a TAP that is not there, a name that is not a TAP: refused,
            # and nothing changes.
            for name, why in ((other, "is not a Termina VM's TAP"), ("vmtap999", "no TAP"),
                              ("eth0", "not a TAP name"), ("lo", "not a TAP name"),
                              ("vmtap1\" }", "not a TAP name")):
                r = sideload(name)
                assert r.status < 0 and why in r.message, (name, r)
            assert pplab.nft_elements(ns, "adb_sideload") == {tap: None}
            assert localnet(other) == "0"
            # Off again; and off for what is gone is fine.
            assert sideload(tap, False).status == 0
            assert sideload("vmtap999", False).status == 0
            assert pplab.nft_elements(ns, "adb_sideload") == {}
            assert localnet(tap) == "0"
            nat = ns.out("nft", "list", "chain", "inet", "patchpanel", "adb_sideload_nat")
            assert f"ip daddr {ARC_ADDR} tcp dport {ADB_PORT} dnat ip to 127.0.0.1:{ADB_PORT}" \
                in nat, nat
        finally:
            log = h.close()
        assert h.proc.returncode == 0, log
