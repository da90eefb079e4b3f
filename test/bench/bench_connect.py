#!/usr/bin/python3
"""ConnectNamespace benchmark: patchpanel against the CNI bridge plugin and a shell
baseline (fork ip/iptables per step, like the original patchpanel), then how patchpanel's
connect latency and ruleset scale with the number of connected namespaces.

Run as root: everything happens inside network namespaces created and deleted here (the
root namespace is never touched), with 192.0.2.0/24 as the uplink, 198.51.100.0/24 for
CNI and 100.115.x /30s for patchpanel and the shell baseline.

    PP_BUILD_DIR=build ./test/bench/bench_connect.py [--n 50] [--k 1000] [--concurrent 200]
        [--json out.json] [--teardown burst|sequential] [--window 5]
        [--only per-op|concurrent|scaling]

What is timed: patchpanel connect = the ConnectNamespace D-Bus round trip seen by the
client; patchpanel disconnect = lifeline closed -> RTM_DELLINK of the host veth, seen by
an rtnetlink socket inside the host namespace (its full teardown, up to the nftables commit
that removes the guest, is reported too); CNI ADD/DEL = the whole `ip netns exec cnihost
... bridge` exec; shell = the sum of its ip/iptables/nsenter execs, forked by a thread
that lives inside the shell's host namespace; floor = patchpanel-floor (floor.c), one
process doing the same kernel work through raw rtnetlink and nfnetlink, no D-Bus and no
IPC, in namespaces of its own: what patchpanel spends above it is its own. Concurrent =
--concurrent clients calling ConnectNamespace at once, over one bus connection per 25 of
them, timed from the first call sent to the last reply.

Exit status: 0 when every system worked and everything was cleaned up (timing targets are
reported, never asserted), 1 on a functional failure, 130 on Ctrl-C.
"""

import argparse
import ipaddress
import json
import os
import platform
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lib"))
sys.path.insert(0, str(HERE))

import pplab  # noqa: E402  pylint: disable=wrong-import-position
import nlwatch  # noqa: E402  pylint: disable=wrong-import-position

POOL_ARG = "--netns-pool=100.115.96.0/30x1024"
UP_ADDR = "192.0.2.1"          # the upstream router in every lab
HOST_UP_ADDR = "192.0.2.2"
CNI_SUBNET = "198.51.100.0/24"
CNI_GW = "198.51.100.1"
SHELL_POOL = ipaddress.ip_network("100.115.160.0/20")  # /30s, inside the shell's own netns
CNI = Path("/usr/lib/cni")
CHECKPOINTS = (1, 10, 100, 500, 1000)
PROBE_AT = (10, 100, 500)   # plus k itself
PROBES = 40


class Failure(Exception):
    """A functional failure: a system did not work, or something was left behind."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Progress:
    def __init__(self, what, total):
        self.what, self.total, self.tty = what, total, sys.stderr.isatty()
        self.step = max(1, total // 10)

    def __call__(self, i):
        if self.tty:
            sys.stderr.write(f"\r  {self.what} {i}/{self.total}")
            if i == self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        elif i == self.total or i % self.step == 0:
            log(f"  {self.what} {i}/{self.total}")


def ms(ns):
    return ns / 1e6


def stats(xs):
    if not xs:
        return {"n": 0, "median": None, "p95": None, "mean": None, "min": None, "max": None}
    p95 = statistics.quantiles(xs, n=20, method="inclusive")[18] if len(xs) > 1 else xs[0]
    return {"n": len(xs), "median": statistics.median(xs), "p95": p95,
            "mean": statistics.fmean(xs), "min": min(xs), "max": max(xs)}


def f2(x):
    return "-" if x is None else f"{x:.2f}"


def ratio(a, b):
    return a / b if a is not None and b else None


def timed_run(args, stdin=None):
    """Run a command; return (elapsed ns, CompletedProcess). The clock covers exactly the
    fork, exec and wait of the command."""
    t0 = time.monotonic_ns()
    p = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=30,
                       check=False)
    return time.monotonic_ns() - t0, p


def must(p, what):
    if p.returncode != 0:
        raise Failure(f"{what} failed ({p.returncode}): {p.stdout}{p.stderr}".strip())
    return p


class Scratch:
    """Namespaces this script makes itself (not a pplab.Lab's), and their removal."""

    def __init__(self, tag):
        self.tag = tag
        self.namespaces = []
        self.dirs = []

    def netns(self, suffix):
        ns = pplab.Netns(f"{self.tag}-{suffix}")
        self.namespaces.append(ns)
        return ns

    def tempdir(self, what):
        d = Path(tempfile.mkdtemp(prefix=f"{self.tag}-{what}-"))
        self.dirs.append(d)
        return d

    def uplinked_host(self, host_suffix, up_suffix):
        """host (eth0 192.0.2.2/24, default via 192.0.2.1) == up (up0 192.0.2.1/24), as in
        pplab; the veth is created inside `up`, never in the root namespace."""
        up = self.netns(up_suffix)
        host = self.netns(host_suffix)
        pplab.run(["ip", "-n", up.name, "link", "add", "name", "up0", "type", "veth",
                   "peer", "name", "eth0", "netns", host.name])
        up.out("ip", "link", "set", "up0", "up")
        up.out("ip", "addr", "add", f"{UP_ADDR}/24", "dev", "up0")
        host.out("ip", "link", "set", "eth0", "up")
        host.out("ip", "addr", "add", f"{HOST_UP_ADDR}/24", "dev", "eth0")
        host.out("ip", "route", "add", "default", "via", UP_ADDR)
        return host, up

    def delete_all(self):
        for ns in reversed(self.namespaces):
            ns.delete()
        self.namespaces = []
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)
        self.dirs = []


def cpu_ms(pids):
    """User+system CPU time (ms) consumed so far by each named pid (10 ms ticks)."""
    hz = os.sysconf("SC_CLK_TCK")
    out = {}
    for name, pid in pids.items():
        try:
            f = Path(f"/proc/{pid}/stat").read_text()
            f = f[f.rfind(")") + 2:].split()
            out[name] = (int(f[11]) + int(f[12])) * 1000 / hz
        except (OSError, TypeError):
            out[name] = 0.0
    return out


def suite_pids(lab):
    mgr, helper = lab.daemon_pids()
    return {"manager": mgr, "helper": helper, "dbus-daemon": lab.bus_proc.pid,
            "benchmark (client)": os.getpid()}


def cpu_per_op(before, after, n):
    return {k: (after[k] - before[k]) / n for k in before}


def fmt_cpu(c):
    return ", ".join(f"{k} {v:.2f}" for k, v in c.items())


# ---- the floor ---------------------------------------------------------------------------

def run_floor(*args):
    """Run patchpanel-floor (floor.c) with these arguments and return its JSON. It works in
    network namespaces of its own, which end with it (its clients die with it too)."""
    binary = pplab.build_dir() / "bin" / "patchpanel-floor"
    with tempfile.NamedTemporaryFile(prefix="pp-floor-", suffix=".json") as out:
        cmd = [str(binary), *map(str, args), "--json", out.name]
        log(f"[floor] {' '.join(cmd[1:-2])}")
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, check=False)
        if p.returncode != 0:
            raise Failure(f"patchpanel-floor {' '.join(map(str, args))} failed "
                          f"({p.returncode}): {p.stderr.strip()}")
        return json.loads(Path(out.name).read_text())


def floor_stage(fl, part, stage, key="median"):
    return fl[part]["stages"][stage][key]


# ---- 1a. patchpanel ----------------------------------------------------------------------

def connect_timed(lab, pid):
    """One ConnectNamespace call, timed around the D-Bus round trip only."""
    lifeline = pplab.Lifeline()
    req = lab.connect_ns_request(pid)
    bus = lab.bus()
    try:
        t0 = time.monotonic_ns()
        body = bus.call("ConnectNamespace", "ayh", [req, 0], [lifeline.write_fd])
        t1 = time.monotonic_ns()
    except BaseException:
        lifeline.close()
        raise
    lifeline.close_sent_end()
    resp = lab.pb.ConnectNamespaceResponse()
    resp.ParseFromString(bytes(body[0]))
    return t0, t1, resp, lifeline


def pp_disconnect(watch, resp, lifeline, times=None):
    """Close the lifeline; return (ns until the host veth is gone, ns until everything is:
    the veth and the daemon's nftables commit that removes the guest, whichever is last).
    With times, times["cut"] is the ns until the guest was cut off: its host veth down or
    gone, whichever came first (a helper may delete the link after it answers)."""
    name = resp.host_ifname
    pos = watch.mark()
    t0 = time.monotonic_ns()
    lifeline.close()
    ev, _ = watch.wait(lambda e: e.kind == "dellink" and e.name == name, pos)
    if ev is None:
        raise Failure(f"{name} still in the host 5 s after its lifeline closed")
    # The commit that removes the guest: after the link is gone (a helper that deletes
    # first), or before it (one that cuts the link off, removes the elements, then deletes).
    gen, _ = watch.wait(lambda e: e.kind == "gen", pos)
    if gen is None:
        raise Failure(f"no nftables commit after {name}'s lifeline closed")
    if times is not None:
        cut, _ = watch.wait(lambda e: e.name == name and (e.kind == "dellink" or
                                                          (e.kind == "newlink" and not e.up)),
                            pos)
        times["cut"] = cut.t - t0
    return ev.t - t0, max(ev.t, gen.t) - t0


def stage_times(watch, pos, t0, t1, ifname):
    """Where one connect's time went, from the host's link and nftables events."""
    evs = watch.since(pos)
    link = next((e.t for e in evs if e.kind == "newlink" and e.name == ifname), None)
    gen = next((e.t for e in evs if e.kind == "gen" and (link is None or e.t >= link)), None)
    if link is None or gen is None:
        return None
    return {"call_to_veth": ms(link - t0), "veth_to_nft": ms(gen - link),
            "nft_to_reply": ms(t1 - gen)}


def bench_patchpanel(n, scratch_tag):
    out = {"connect_ms": [], "disconnect_ms": [], "teardown_ms": [], "cutoff_ms": [],
           "stages": []}
    log(f"[patchpanel] lab with {POOL_ARG}, {n} client namespaces")
    with pplab.Lab(daemon_args=[POOL_ARG], log_level="info", tag=f"{scratch_tag}p") as lab:
        watch = nlwatch.NetlinkWatcher(lab.host.name)
        try:
            prog = Progress("client namespaces", n + 1)
            clients = []
            for i in range(n + 1):
                clients.append(lab.client())
                prog(i + 1)
            lab.bus().name_has_owner()  # connect and authenticate before timing
            baseline = lab.datapath_state()

            # Warm-up, untimed: first call through every path.
            (_, proc), clients = clients[0], clients[1:]
            _, _, resp, lifeline = connect_timed(lab, proc.pid)
            pp_disconnect(watch, resp, lifeline)

            held = []
            pids = suite_pids(lab)
            cpu0 = cpu_ms(pids)
            try:
                for _, proc in clients:
                    pos = watch.mark()
                    t0, t1, resp, lifeline = connect_timed(lab, proc.pid)
                    held.append((resp, lifeline))
                    out["connect_ms"].append(ms(t1 - t0))
                    st = stage_times(watch, pos, t0, t1, resp.host_ifname)
                    if st:
                        out["stages"].append(st)
                out["cpu_ms_per_connect"] = cpu_per_op(cpu0, cpu_ms(pids), len(clients))
                for ns in (clients[0][0], clients[-1][0]):
                    if not ns.ping(pplab.LAN_ADDR):
                        raise Failure(f"patchpanel: {ns.name} cannot ping {pplab.LAN_ADDR}")
                out["ping_ok"] = True
                while held:
                    resp, lifeline = held.pop(0)
                    times = {}
                    gone, teardown = pp_disconnect(watch, resp, lifeline, times)
                    out["disconnect_ms"].append(ms(gone))
                    out["teardown_ms"].append(ms(teardown))
                    out["cutoff_ms"].append(ms(times["cut"]))
            finally:
                for _, lifeline in held:
                    lifeline.close()
            left = pplab.poll(lambda: None if lab.datapath_state() == baseline
                              else lab.datapath_state(), timeout=5, what="leftovers")
            if left:
                raise Failure(f"patchpanel left state behind: {left}")
            out["netlink_overruns"] = watch.overruns
        finally:
            watch.close()
    return out


# ---- 1b. CNI bridge plugin ---------------------------------------------------------------

def bench_behind_teardown(n, scratch_tag, out):
    """n rounds of: connect A; close A's lifeline and at once connect B, timed. B's
    request reaches the helper right behind A's teardown: a helper that waits for the
    kernel's unregistration of A's veth before it answers anything else makes B wait too.
    Compared with plain connects of the same lab, one at a time with nothing pending."""
    out.update({"behind_ms": [], "alone_ms": []})
    log(f"[behind a teardown] lab with {POOL_ARG}, {2 * n + 1} client namespaces")
    with pplab.Lab(daemon_args=[POOL_ARG], log_level="info", tag=f"{scratch_tag}t") as lab:
        watch = nlwatch.NetlinkWatcher(lab.host.name)
        try:
            clients = [lab.client() for _ in range(2 * n + 1)]
            lab.bus().name_has_owner()
            baseline = lab.datapath_state()
            _, _, resp, lifeline = connect_timed(lab, clients[-1][1].pid)  # warm-up
            pp_disconnect(watch, resp, lifeline)
            for i in range(n):
                a, b = clients[2 * i][1].pid, clients[2 * i + 1][1].pid
                t0, t1, ra, la = connect_timed(lab, a)
                out["alone_ms"].append(ms(t1 - t0))
                pos = watch.mark()
                la.close()
                t0, t1, rb, lb = connect_timed(lab, b)
                out["behind_ms"].append(ms(t1 - t0))
                if watch.wait(lambda e, name=ra.host_ifname: e.kind == "dellink" and
                              e.name == name, pos)[0] is None:
                    raise Failure(f"{ra.host_ifname} still there 5 s after its lifeline closed")
                pp_disconnect(watch, rb, lb)
            err = pplab.poll(lambda: None if lab.datapath_state() == baseline else
                             lab.datapath_state(), timeout=10, what="leftovers")
            if err:
                raise Failure("after the rounds behind a teardown, the host is not back to "
                              f"its initial state: {err}")
        finally:
            watch.close()
    a, b = stats(out["alone_ms"]), stats(out["behind_ms"])
    out["alone"], out["behind"] = a, b
    print(f"\n-- connect right behind a teardown ({n} rounds, ms) --")
    print(f"  connect alone: median {f2(a['median'])}, p95 {f2(a['p95'])}; right behind "
          f"another's teardown: median {f2(b['median'])}, p95 {f2(b['p95'])} "
          f"({f2(ratio(b['median'], a['median']))}x)")


def bench_cni(n, scratch):
    out = {"connect_ms": [], "disconnect_ms": []}
    log(f"[cni] cnihost/cniup namespaces, {n} container namespaces")
    host, _ = scratch.uplinked_host("cnihost", "cniup")
    data = scratch.tempdir("cni")
    conf = json.dumps({
        "cniVersion": "1.0.0", "name": f"{scratch.tag}net", "type": "bridge",
        "bridge": "tbbr0", "isGateway": True, "ipMasq": True,
        "ipam": {"type": "host-local", "dataDir": str(data / "ipam"),
                 "ranges": [[{"subnet": CNI_SUBNET, "gateway": CNI_GW}]],
                 "routes": [{"dst": "0.0.0.0/0"}]}})
    prog = Progress("container namespaces", n + 1)
    containers = []
    for i in range(n + 1):
        containers.append(scratch.netns(f"k{i}"))
        prog(i + 1)

    def cmd(command, ns):
        return ["ip", "netns", "exec", host.name, "env", f"CNI_COMMAND={command}",
                f"CNI_CONTAINERID={ns.name}", f"CNI_NETNS={nlwatch.netns_path(ns.name)}",
                "CNI_IFNAME=eth0", f"CNI_PATH={CNI}", str(CNI / "bridge")]

    def add(ns):
        t, p = timed_run(cmd("ADD", ns), conf)
        must(p, f"CNI ADD {ns.name}")
        return t

    def delete(ns):
        t, p = timed_run(cmd("DEL", ns), conf)
        must(p, f"CNI DEL {ns.name}")
        return t

    # Warm-up, untimed: the first ADD creates the bridge and turns on forwarding.
    warm, containers = containers[0], containers[1:]
    add(warm)
    delete(warm)

    added = []
    try:
        for ns in containers:
            out["connect_ms"].append(ms(add(ns)))
            added.append(ns)
        for ns in (containers[0], containers[-1]):
            if not ns.ping(UP_ADDR):
                raise Failure(f"CNI: {ns.name} cannot ping {UP_ADDR}")
        out["ping_ok"] = True
        while added:
            out["disconnect_ms"].append(ms(delete(added[0])))
            added.pop(0)
    finally:
        for ns in added:  # after a failure: best effort, the namespaces go anyway
            timed_run(cmd("DEL", ns), conf)
    left = [l for l in host.out("iptables-save", "-t", "nat").splitlines() if "CNI-" in l]
    if left:
        raise Failure(f"CNI left nat rules behind: {left}")
    # ip netns exec costs a few ms of every ADD/DEL above; measured here for reference.
    t = [timed_run(["ip", "netns", "exec", host.name, "true"])[0] for _ in range(10)]
    out["netns_exec_true_ms"] = stats([ms(x) for x in t])["median"]
    return out


# ---- 1c. shell baseline ------------------------------------------------------------------

def shell_addrs(i):
    net = list(SHELL_POOL.subnets(new_prefix=30))[i]
    return str(net.network_address + 1), str(net.network_address + 2)


def bench_shell(n, scratch):
    out = {"connect_ms": [], "disconnect_ms": []}
    log(f"[shell] shhost/shup namespaces, {n} client namespaces")
    host, _ = scratch.uplinked_host("shhost", "shup")
    host.out("sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
    host.out("iptables", "-t", "nat", "-A", "POSTROUTING", "-m", "mark", "--mark", "1/1",
             "-j", "MASQUERADE")
    prog = Progress("client namespaces", n + 1)
    clients = []
    for i in range(n + 1):
        ns = scratch.netns(f"s{i}")
        clients.append((ns, ns.sleeper()))
        prog(i + 1)
    rules = lambda dev: [  # noqa: E731
        ["-t", "mangle", "PREROUTING", "-i", dev, "-j", "MARK", "--set-mark", "1/1"],
        ["-t", "filter", "FORWARD", "-i", dev, "-j", "ACCEPT"],
        ["-t", "filter", "FORWARD", "-o", dev, "-j", "ACCEPT"]]

    # Runs in a thread inside shhost: every command is one fork+exec, as in a daemon that
    # lives in that namespace; no `ip netns exec` wrapper.
    def connect(i, pid):
        dev, peer = f"arc_ns{i}", f"veth{i}"
        h, p = shell_addrs(i)
        steps = [["ip", "link", "add", "name", dev, "type", "veth", "peer", "name", peer,
                  "netns", str(pid)],
                 ["ip", "addr", "add", f"{h}/30", "dev", dev],
                 ["ip", "link", "set", dev, "up"],
                 ["nsenter", "-t", str(pid), "-n", "ip", "addr", "add", f"{p}/30", "dev", peer],
                 ["nsenter", "-t", str(pid), "-n", "ip", "link", "set", peer, "up"],
                 ["nsenter", "-t", str(pid), "-n", "ip", "route", "add", "default", "via", h]]
        steps += [["iptables", r[0], r[1], "-A", *r[2:]] for r in rules(dev)]
        t0 = time.monotonic_ns()
        for s in steps:
            must(subprocess.run(s, capture_output=True, text=True, timeout=30, check=False),
                 " ".join(s))
        return time.monotonic_ns() - t0

    def disconnect(i):
        dev = f"arc_ns{i}"
        steps = [["iptables", r[0], r[1], "-D", *r[2:]] for r in rules(dev)]
        steps.append(["ip", "link", "del", dev])
        t0 = time.monotonic_ns()
        for s in steps:
            must(subprocess.run(s, capture_output=True, text=True, timeout=30, check=False),
                 " ".join(s))
        return time.monotonic_ns() - t0

    def job(stop):
        connected = []
        try:
            connect(0, clients[0][1].pid)  # warm-up, untimed
            disconnect(0)
            for i, (_, proc) in enumerate(clients[1:], start=1):
                if stop.is_set():
                    return
                out["connect_ms"].append(ms(connect(i, proc.pid)))
                connected.append(i)
            for ns in (clients[1][0], clients[-1][0]):
                if not ns.ping(UP_ADDR):
                    raise Failure(f"shell: {ns.name} cannot ping {UP_ADDR}")
            out["ping_ok"] = True
            while connected and not stop.is_set():
                out["disconnect_ms"].append(ms(disconnect(connected[0])))
                connected.pop(0)
        finally:
            for i in connected:
                subprocess.run(["ip", "link", "del", f"arc_ns{i}"], capture_output=True,
                               check=False)

    nlwatch.NetnsWorker(host.name, job).run()
    left = [l for l in host.links() if l.startswith("arc_ns")]
    left += [l for l in host.out("iptables-save").splitlines() if "arc_ns" in l]
    if left:
        raise Failure(f"shell baseline left state behind: {left}")
    return out


# ---- 2. concurrency ----------------------------------------------------------------------

PER_CONNECTION = 25  # calls in flight per bus connection: c clients use c / 25 connections


def burst(lab, member, signature, bodies, fds):
    """All calls at once over ceil(len / PER_CONNECTION) fresh bus connections, from one
    event loop; return (t0, [reply time], [reply or exception]) in monotonic ns."""
    import asyncio  # pylint: disable=import-outside-toplevel
    from dbus_next import Message, MessageType  # pylint: disable=import-outside-toplevel
    from dbus_next.aio import MessageBus  # pylint: disable=import-outside-toplevel

    n = len(bodies)
    conns = max(1, -(-n // PER_CONNECTION))
    interface = "org.freedesktop.DBus.Peer" if member == "Ping" else pplab.BUS_INTERFACE

    async def go():
        buses = [await MessageBus(bus_address=lab.bus_address, negotiate_unix_fd=True).connect()
                 for _ in range(conns)]
        done = [None] * n
        try:
            msgs = [Message(destination=pplab.BUS_NAME, path=pplab.BUS_PATH, interface=interface,
                            member=member, signature=signature, body=body, unix_fds=list(fd))
                    for body, fd in zip(bodies, fds)]

            async def one(i):
                reply = await buses[i % conns].call(msgs[i])
                done[i] = time.monotonic_ns()
                if reply.message_type == MessageType.ERROR:
                    raise pplab.DBusError(reply.error_name, reply.body[0] if reply.body else "")
                return reply.body
            t0 = time.monotonic_ns()
            replies = await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)
            return t0, done, replies
        finally:
            for b in buses:
                b.disconnect()

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(go())
    finally:
        loop.close()


def bench_concurrent(c, scratch_tag, out):
    """c clients connect at once, with a pool of 1024; then all disconnect at once."""
    out.update({"clients": c, "connections": max(1, -(-c // PER_CONNECTION))})
    log(f"[concurrent] fresh lab, {c} client namespaces connecting at once")
    with pplab.Lab(daemon_args=[POOL_ARG], log_level="info", tag=f"{scratch_tag}b") as lab:
        watch = nlwatch.NetlinkWatcher(lab.host.name)
        lifelines = []
        try:
            clients = [lab.client() for _ in range(c + 1)]
            lab.bus().name_has_owner()
            baseline = lab.datapath_state()
            (_, spare), clients = clients[0], clients[1:]
            _, _, resp, lifeline = connect_timed(lab, spare.pid)  # warm-up, untimed
            pp_disconnect(watch, resp, lifeline)

            # The D-Bus part alone: c Peer.Ping calls at once, answered by sd-bus.
            t0, done, _ = burst(lab, "Ping", "", [[] for _ in range(c)], [() for _ in range(c)])
            out["ping_burst_s"] = (max(done) - t0) / 1e9

            lifelines = [pplab.Lifeline() for _ in clients]
            bodies = [[lab.connect_ns_request(proc.pid), 0] for _, proc in clients]
            pids = suite_pids(lab)
            cpu0 = cpu_ms(pids)
            t0, done, replies = burst(lab, "ConnectNamespace", "ayh", bodies,
                                      [(l.write_fd,) for l in lifelines])
            out["cpu_ms_per_connect"] = cpu_per_op(cpu0, cpu_ms(pids), c)
            for l in lifelines:
                l.close_sent_end()
            failed = [r for r in replies if isinstance(r, Exception)]
            if failed:
                raise Failure(f"{len(failed)} of {c} concurrent connects failed, e.g. {failed[0]}")
            names = set()
            for body in replies:
                resp = lab.pb.ConnectNamespaceResponse()
                resp.ParseFromString(bytes(body[0]))
                names.add(resp.host_ifname)
            if len(names) != c:
                raise Failure(f"{c} concurrent connects gave {len(names)} distinct links")
            wall = (max(done) - t0) / 1e9
            out.update({"wall_s": wall, "per_s": c / wall,
                        "latency_ms": stats([ms(t - t0) for t in done])})
            for ns, _ in (clients[0], clients[-1]):
                if not ns.ping(pplab.LAN_ADDR):
                    raise Failure(f"concurrent: {ns.name} cannot ping {pplab.LAN_ADDR}")

            pos = watch.mark()
            t0 = time.monotonic_ns()
            for l in lifelines:
                l.close()
            lifelines = []
            wait_all_gone(lab, watch, names, pos)
            left = pplab.poll(lambda: None if lab.datapath_state() == baseline else "not yet",
                              timeout=30, interval=0.05, what="host state")
            out["disconnect_all_s"] = (time.monotonic_ns() - t0) / 1e9
            if left:
                raise Failure("after the concurrent clients disconnected, the host is not "
                              "back to its initial state")
        finally:
            for l in lifelines:
                l.close()
            watch.close()
    fl = run_floor("--only", "connect", "--n", 10, "--burst", c)
    out["floor"] = {"sequential_per_s": 1000 / floor_stage(fl, "connect", "total"),
                    "burst": fl["burst"],
                    "burst_per_s": c / (fl["burst"]["links_ms"] + fl["burst"]["nft_ms"]) * 1000}
    report_concurrent(out)


def report_concurrent(out):
    c = out["clients"]
    print(f"\n-- 2. concurrency: {c} clients call ConnectNamespace at once (pool 1024, "
          f"{out['connections']} bus connections) --")
    lat = out["latency_ms"]
    print(f"  all {c} answered after {out['wall_s'] * 1000:.1f} ms: {out['per_s']:.0f} connects/s; "
          f"latency from the burst's start: median {f2(lat['median'])}, p95 {f2(lat['p95'])}, "
          f"max {f2(lat['max'])}")
    print(f"  the D-Bus part alone, {c} Peer.Ping calls at once: {out['ping_burst_s'] * 1000:.1f} "
          f"ms ({c / out['ping_burst_s']:.0f}/s)")
    print(f"  CPU ms per connect: {fmt_cpu(out['cpu_ms_per_connect'])}")
    print(f"  all {c} disconnected at once: host back to its initial state after "
          f"{out['disconnect_all_s']:.2f} s")
    fl = out["floor"]
    b = fl["burst"]
    print(f"  floor: one after another {fl['sequential_per_s']:.0f} connects/s (1 / its median); "
          f"{c} at once, links one by one then one nftables batch: {fl['burst_per_s']:.0f}/s "
          f"(links {b['links_ms']:.1f} ms, batch {b['nft_ms']:.1f} ms); all {c} torn down as one "
          f"link group and one batch in {b['del_links_ms'] + b['del_nft_ms']:.1f} ms")
    print(f"  patchpanel / floor (burst): {fl['burst_per_s'] / out['per_s']:.1f}x the time")
    print(f"target: >= 1000 connects/s: {'MET' if out['per_s'] >= 1000 else 'NOT MET'}")
    sys.stdout.flush()


# ---- 3. scaling --------------------------------------------------------------------------

def nft_counts(lab):
    data = lab.host.nft_json("list", "table", "inet", "patchpanel")["nftables"]
    rules = sum(1 for o in data if "rule" in o)
    elements = {}
    for o in data:
        for kind in ("set", "map"):
            if kind in o:
                elements[o[kind]["name"]] = len(o[kind].get("elem", []))
    return {"rules": rules, "elements": elements}


def window(n, k, half):
    """1-based bounds of the window k-half..k+half, shifted (not shrunk) to fit 1..n, so
    the first and last checkpoints get as many samples as the others."""
    size = min(n, 2 * half + 1)
    lo = min(max(1, k - half), n - size + 1)
    return lo, lo + size - 1


def window_median(series, k, half):
    lo, hi = window(len(series), k, half)
    return statistics.median(series[lo - 1:hi])


def scaling_summary(out, half):
    """Checkpoints and ratio from the connect series gathered so far."""
    series, k = out["connect_ms"], len(out["connect_ms"])
    if not k:
        return
    out["checkpoints"] = {c: window_median(series, c, half)
                          for c in sorted(set(c for c in CHECKPOINTS if c <= k) | {k})}
    if k >= 10:
        out["ratio_last_to_10"] = out["checkpoints"][k] / out["checkpoints"][10]
    if k >= 20:
        fit = statistics.linear_regression(range(1, k + 1), series)
        out["slope_us_per_ns"] = fit.slope * 1000
    block = max(1, k // 10)
    out["block_medians"] = {f"{i + 1}-{min(k, i + block)}": statistics.median(series[i:i + block])
                            for i in range(0, k, block)}
    out["probe_medians"] = {c: statistics.median(xs) for c, xs in sorted(out["probes"].items())}
    if 10 in out["probe_medians"] and k in out["probe_medians"] and k > 10:
        out["probe_ratio"] = out["probe_medians"][k] / out["probe_medians"][10]
    out["rules_constant"] = len({c["rules"] for key, c in out["counts"].items()
                                 if key != "after_disconnect"}) == 1
    out["stage_checkpoints"] = {}
    for c in sorted({min(10, k), k}):
        lo, hi = window(k, c, half)
        sts = [st for st in out["stages"][lo - 1:hi] if st]
        if sts:
            out["stage_checkpoints"][c] = {key: statistics.median(st[key] for st in sts)
                                           for key in sts[0]}


def probe(lab, watch, pid, count):
    """The latency of one more connect while the others stay connected, measured count
    times (connect a spare namespace, disconnect it and wait for its teardown, repeat):
    many samples at the same k, instead of one sample at each k of a noisy series."""
    xs = []
    for _ in range(count):
        t0, t1, resp, lifeline = connect_timed(lab, pid)
        xs.append(ms(t1 - t0))
        pp_disconnect(watch, resp, lifeline)
    return xs


def status_median(lab, count=20):
    """The median of count GetStatus round trips (ms)."""
    bus, xs = lab.bus(), []
    for _ in range(count):
        t0 = time.monotonic_ns()
        bus.call("GetStatus", "", [], interface=pplab.STATUS_INTERFACE)
        xs.append(ms(time.monotonic_ns() - t0))
    return statistics.median(xs)


def status_bus_floor(lab, count=20):
    """What the bus alone costs for a document of GetStatus's size: the medians (ms) of a
    bare Peer.Ping of patchpaneld and of one carrying a string that long (sd-bus answers
    Ping without our code, whatever it carries), and the document's bytes."""
    bus = lab.bus()
    size = len(bus.call("GetStatus", "", [], interface=pplab.STATUS_INTERFACE)[0].encode())
    payload = "x" * size

    def median_of(signature, body):
        xs = []
        for _ in range(count):
            t0 = time.monotonic_ns()
            bus.call("Ping", signature, body, interface="org.freedesktop.DBus.Peer")
            xs.append(ms(time.monotonic_ns() - t0))
        return statistics.median(xs)
    return {"bytes": size, "ping": median_of("", []), "ping_doc": median_of("s", [payload])}


def wait_all_gone(lab, watch, names, pos):
    """Wait for a DELLINK of every name after pos, as long as they keep coming; return
    the last one. Raise Failure with a diagnosis when they stop."""
    def gone():
        return sum(1 for e in watch.since(pos) if e.kind == "dellink" and e.name in names)
    progress = -1
    while True:
        last, _ = watch.wait(lambda e: e.kind == "dellink" and e.name in names, pos,
                             timeout=10, count=len(names))
        if last:
            return last
        n = gone()
        if n == progress:
            break
        progress = n
    links = [l for l in lab.host.links() if l.startswith("arc_ns")]
    where = []
    for what, pid in zip(("manager", "helper"), lab.daemon_pids()):
        try:
            where.append(f"{what} in {Path(f'/proc/{pid}/wchan').read_text() or 'userspace'}")
        except (OSError, TypeError):
            where.append(f"{what} gone")
    raise Failure(f"after closing {len(names)} lifelines at once: {progress} links went "
                  f"away, then none for 10 s; {len(links)} arc_ns links still in the host; "
                  f"{', '.join(where)} (netlink overruns: {watch.overruns})")


def bench_scaling(k, half, scratch_tag, out, teardown="burst"):
    """Fills `out` as it goes, so a failure still leaves what was measured."""
    out.update({"k": k, "window": half, "teardown": teardown, "connect_ms": [],
                "stages": [], "counts": {}, "probes": {}, "status_ms": {}, "status_bus": {}})
    log(f"[scaling] fresh lab, {k} client namespaces")
    with pplab.Lab(daemon_args=[POOL_ARG], log_level="info", tag=f"{scratch_tag}s") as lab:
        watch = nlwatch.NetlinkWatcher(lab.host.name)
        held = []
        try:
            prog = Progress("client namespaces", k)
            clients = []
            t0 = time.monotonic()
            for i in range(k):
                clients.append(lab.client())
                prog(i + 1)
            out["namespace_setup_s"] = time.monotonic() - t0
            _, spare = lab.client()  # for the probes, never among the k
            lab.bus().name_has_owner()
            baseline = lab.datapath_state()
            out["counts"]["before"] = nft_counts(lab)

            prog = Progress("connects", k)
            pids = suite_pids(lab)
            cpu0 = cpu_ms(pids)
            for i, (_, proc) in enumerate(clients, start=1):
                pos = watch.mark()
                t0, t1, resp, lifeline = connect_timed(lab, proc.pid)
                held.append((resp, lifeline))
                out["connect_ms"].append(ms(t1 - t0))
                out["stages"].append(stage_times(watch, pos, t0, t1, resp.host_ifname))
                if i == 10:
                    out["counts"]["after_10"] = nft_counts(lab)
                if i in (10, k):
                    out["status_ms"][i] = status_median(lab)
                    out["status_bus"][i] = status_bus_floor(lab)
                if i in PROBE_AT or i == k:
                    cpu_probe = cpu_ms(pids)
                    out["probes"][i] = probe(lab, watch, spare.pid, PROBES)
                    # The probes' own CPU is not the k connects'.
                    cpu0 = {p: cpu0[p] + cpu_ms(pids)[p] - cpu_probe[p] for p in cpu0}
                prog(i)
            out["cpu_ms_per_connect"] = cpu_per_op(cpu0, cpu_ms(pids), k)
            out["counts"][f"after_{k}"] = nft_counts(lab)
            scaling_summary(out, half)
            report_scaling_connects(out)
            links = [l for l in lab.host.links() if l.startswith("arc_ns")]
            if len(links) != k:
                raise Failure(f"{k} namespaces connected but {len(links)} arc_ns links")
            if not clients[-1][0].ping(pplab.LAN_ADDR):
                raise Failure(f"scaling: the {k}th namespace cannot ping {pplab.LAN_ADDR}")

            # Disconnect all; time until the host is back where it started.
            log(f"  disconnecting all {k} ({teardown})")
            names = {r.host_ifname for r, _ in held}
            pos = watch.mark()
            t0 = time.monotonic_ns()
            if teardown == "burst":
                for _, lifeline in held:
                    lifeline.close()
                held = []
                last = wait_all_gone(lab, watch, names, pos)
            else:
                out["disconnect_ms"] = []
                while held:
                    resp, lifeline = held[0]
                    gone, _ = pp_disconnect(watch, resp, lifeline)
                    held.pop(0)
                    out["disconnect_ms"].append(ms(gone))
                last = [e for e in watch.since(pos) if e.kind == "dellink" and e.name in names][-1]
            out["disconnect_all_links_gone_s"] = (last.t - t0) / 1e9
            # The helper batches teardowns that arrive together: count elements, not commits.
            def guests_left():
                el = nft_counts(lab)["elements"]
                return None if not el.get("guest_ifs") and not el.get("guest_mark") else "left"
            if pplab.poll(guests_left, timeout=30, interval=0.05) is None:
                out["disconnect_all_nft_done_s"] = (time.monotonic_ns() - t0) / 1e9
            left = pplab.poll(lambda: None if lab.datapath_state() == baseline
                              else "not yet", timeout=30, interval=0.05, what="host state")
            out["disconnect_all_verified_s"] = (time.monotonic_ns() - t0) / 1e9
            if left:
                state = lab.datapath_state()
                raise Failure(f"after disconnecting all: {len(state['links'])} links left, "
                              f"elements {state['elements']}")
            out["counts"]["after_disconnect"] = nft_counts(lab)
            scaling_summary(out, half)
            out["netlink_overruns"] = watch.overruns
        finally:
            for _, lifeline in held:
                lifeline.close()
            watch.close()
            log(f"  removing {k} client namespaces")
            t0 = time.monotonic()
    out["lab_close_s"] = time.monotonic() - t0
    report_scaling_teardown(out)
    if k >= 20:
        fl = run_floor("--only", "connect", "--n", k, "--window", half)
        out["floor"] = fl
        sc = fl["scaling"]
        cp = out.get("checkpoints", {})
        print(f"  floor, the same {k} connects kept: connect at k=10 {f2(sc['k10'])}, at k={k} "
              f"{f2(sc['kn'])}: ratio {sc['kn'] / sc['k10']:.2f}")
        if 10 in cp and k in cp:
            print(f"  patchpanel / floor: at k=10 {cp[10] / sc['k10']:.1f}x, at k={k} "
                  f"{cp[k] / sc['kn']:.1f}x")
        sys.stdout.flush()


# ---- last-resort cleanup -----------------------------------------------------------------

def sweep(tag):
    """Remove whatever an interruption left behind; return what was found. Everything
    named with this run's random tag is ours (a namespace can escape pplab when Ctrl-C
    lands between `ip netns add` and its bookkeeping), and so is any child still alive."""
    found = []
    for line in pplab.run(["ip", "netns", "list"], check=False).stdout.splitlines():
        name = line.split()[0] if line.strip() else ""
        if not name.startswith(tag):
            continue
        found.append(f"netns {name}")
        for pid in pplab.run(["ip", "netns", "pids", name], check=False).stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        pplab.run(["ip", "netns", "del", name], check=False)
    me = os.getpid()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2:].split()
        if int(fields[1]) == me:
            pid = int(stat.parent.name)
            found.append(f"process {pid} {text[text.find('(') + 1:text.rfind(')')]}")
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
    for d in Path(tempfile.gettempdir()).glob(f"{tag}*"):
        found.append(f"dir {d}")
        shutil.rmtree(d, ignore_errors=True)
    return found


# ---- report ------------------------------------------------------------------------------

def environment():
    def version(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10,
                                  check=False).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"
    return {
        "kernel": platform.release(), "cpus": os.cpu_count(), "loadavg": os.getloadavg(),
        "patchpanel": version(["git", "-C", str(pplab.REPO), "describe", "--always",
                               "--dirty"]),
        "build": str(pplab.build_dir()),
        "iptables": version(["iptables", "-V"]),
        "cni_plugins": version(["dpkg-query", "-W", "-f", "${Version}",
                                "containernetworking-plugins"]),
    }


def report_per_op(res, n):
    pp, cni, sh = res["patchpanel"], res["cni"], res["shell"]
    rows = [("patchpanel (D-Bus call)", pp), ("CNI bridge (plugin exec)", cni),
            ("shell ip+iptables", sh)]
    print(f"\n-- 1. per operation: {n} sequential connects, then {n} disconnects (ms) --")
    print(f"{'system':26} {'connect median':>14} {'p95':>7} {'mean':>7}   "
          f"{'disconnect median':>17} {'p95':>7} {'mean':>7}")
    for name, r in rows:
        c, d = r["connect"], r["disconnect"]
        print(f"{name:26} {f2(c['median']):>14} {f2(c['p95']):>7} {f2(c['mean']):>7}   "
              f"{f2(d['median']):>17} {f2(d['p95']):>7} {f2(d['mean']):>7}")
    print("  patchpanel disconnect = lifeline closed -> host veth gone (RTM_DELLINK); "
          "CNI and shell = the commands' exec time")
    t = pp["teardown"]
    print(f"  patchpanel full teardown (-> veth gone and nftables commit removing the guest, "
          f"both): median {f2(t['median'])}, p95 {f2(t['p95'])}, mean {f2(t['mean'])}")
    if pp.get("cutoff"):
        t = pp["cutoff"]
        print(f"  patchpanel cut-off (-> host veth down or gone, whichever first): "
              f"median {f2(t['median'])}, p95 {f2(t['p95'])}, mean {f2(t['mean'])}")
    if pp.get("stage_medians"):
        s = pp["stage_medians"]
        print(f"  patchpanel connect stages (median): call -> host veth created "
              f"{f2(s['call_to_veth'])}, -> nftables commit {f2(s['veth_to_nft'])}, "
              f"-> reply received {f2(s['nft_to_reply'])}")
    if pp.get("cpu_ms_per_connect"):
        print(f"  patchpanel CPU ms per connect (10 ms ticks over {n}): "
              f"{fmt_cpu(pp['cpu_ms_per_connect'])}")
    print(f"  (`ip netns exec cnihost true` alone: {f2(cni.get('netns_exec_true_ms'))} ms, "
          f"included in each CNI ADD/DEL)")
    fl = res["floor"]
    print(f"  floor (patchpanel-floor: one process, raw rtnetlink and nfnetlink, no D-Bus, no "
          f"IPC), median (p90):\n    connect {f2(floor_stage(fl, 'connect', 'total'))} "
          f"({f2(floor_stage(fl, 'connect', 'total', 'p90'))}) = " +
          ", ".join(f"{st} {f2(floor_stage(fl, 'connect', st))}"
                    for st in ("netns", "veth", "sysctl", "addr_up_route", "nft")) +
          f"\n    teardown {f2(floor_stage(fl, 'disconnect', 'total'))} "
          f"({f2(floor_stage(fl, 'disconnect', 'total', 'p90'))}) = link deleted "
          f"{f2(floor_stage(fl, 'disconnect', 'link'))}, nftables "
          f"{f2(floor_stage(fl, 'disconnect', 'nft'))}")
    r = res["ratios"]

    def x(v):
        return "-" if v is None else f"{v:.1f}x"
    print(f"ratios of medians: connect: CNI ADD / patchpanel = {x(r['cni_connect'])}, "
          f"shell / patchpanel = {x(r['shell_connect'])}, "
          f"patchpanel / floor = {x(r['floor_connect'])}")
    print(f"                   disconnect: CNI DEL / patchpanel = {x(r['cni_disconnect'])}, "
          f"shell / patchpanel = {x(r['shell_disconnect'])}")
    print(f"                   disconnect vs patchpanel full teardown: CNI DEL = "
          f"{x(r['cni_disconnect_vs_teardown'])}, shell = "
          f"{x(r['shell_disconnect_vs_teardown'])}; patchpanel full teardown / floor "
          f"teardown = {x(r['floor_teardown'])}")
    print("pings to the upstream router from the first and last connected namespace: " +
          ", ".join(f"{k} {'OK' if res[k].get('ping_ok') else 'FAILED'}"
                    for k in ("patchpanel", "cni", "shell")))
    t = res["targets"]
    print("targets (issue 14): " + "; ".join(
        f"{what}: {'MET' if t[key] else 'NOT MET'}" for key, what in (
            ("connect_double_floor", "connect <= 2x floor"),
            ("connect_fifteenth_of_cni", "connect <= 1/15 of CNI ADD"),
            ("teardown_floor", "full teardown <= 1.5x floor teardown"))))


def report_scaling_connects(s):
    k = s["k"]
    print(f"\n-- 3. scaling: {k} namespaces connected one after another, all kept (ms) --")
    print(f"  connect latency at k (median of k-{s['window']}..k+{s['window']}, shifted "
          f"inside 1..{k} at the ends): " +
          ", ".join(f"k={c}: {f2(v)}" for c, v in s["checkpoints"].items()))
    print(f"  all {k}: {fmt_stats(stats(s['connect_ms']))}")
    if "ratio_last_to_10" in s:
        print(f"  {k}th / 10th ratio: {s['ratio_last_to_10']:.2f}"
              + (f"   (linear fit over all {k}: {s['slope_us_per_ns']:+.2f} us per "
                 f"namespace already connected)" if "slope_us_per_ns" in s else ""))
    if s.get("probe_medians"):
        print(f"  one more connect with k connected (median of {PROBES} connect+teardown "
              f"probes each): " +
              ", ".join(f"k={c}: {f2(v)}" for c, v in s["probe_medians"].items()))
    if "probe_ratio" in s:
        print(f"  probes {k} / 10 ratio: {s['probe_ratio']:.2f}")
        print(f"target: {k}th / 10th <= 1.2 (probes): "
              f"{'MET' if s['probe_ratio'] <= 1.2 else 'NOT MET'}")
    elif "ratio_last_to_10" in s:
        print(f"target: {k}th / 10th <= 1.2: "
              f"{'MET' if s['ratio_last_to_10'] <= 1.2 else 'NOT MET'}")
    if k >= 50:
        print("  trend, median per block of connects: " +
              ", ".join(f"{b}: {f2(v)}" for b, v in s["block_medians"].items()))
    if "cpu_ms_per_connect" in s:
        print(f"  CPU ms per connect over all {k}: {fmt_cpu(s['cpu_ms_per_connect'])}")
    for c, st in s["stage_checkpoints"].items():
        print(f"  where the time goes at k={c} (medians): call -> host veth created "
              f"{f2(st['call_to_veth'])}, -> nftables commit {f2(st['veth_to_nft'])}, "
              f"-> reply received {f2(st['nft_to_reply'])}")
    print_counts(s)
    print(f"target: rule count constant: {'MET' if s['rules_constant'] else 'NOT MET'}")
    st = s.get("status_ms", {})
    if 10 in st and k in st and k > 10:
        print(f"  GetStatus (median of 20): with 10 connected {f2(st[10])}, with {k} "
              f"{f2(st[k])}: ratio {st[k] / st[10]:.2f}")
        print(f"target: GetStatus with {k} < 3x with 10: "
              f"{'MET' if st[k] < 3 * st[10] else 'NOT MET'}")
        sb = s.get("status_bus", {})
        if 10 in sb and k in sb:
            print(f"  the bus alone (Peer.Ping carrying a string of the document's size): "
                  f"{sb[10]['bytes']} bytes {f2(sb[10]['ping_doc'])}, {sb[k]['bytes']} bytes "
                  f"{f2(sb[k]['ping_doc'])} (bare Ping {f2(sb[k]['ping'])}): ratio "
                  f"{sb[k]['ping_doc'] / sb[10]['ping_doc']:.2f} before any of our code")
    sys.stdout.flush()


def print_counts(s):
    for key, c in s["counts"].items():
        el = ", ".join(f"{n} {v}" for n, v in sorted(c["elements"].items()))
        print(f"  nftables {key.replace('_', ' '):>18}: {c['rules']} rules; elements: {el}")


def report_scaling_teardown(s):
    k = s["k"]
    print(f"  nftables {'after disconnect':>18}: "
          f"{s['counts']['after_disconnect']['rules']} rules; elements: " +
          ", ".join(f"{n} {v}" for n, v in
                    sorted(s["counts"]["after_disconnect"]["elements"].items())))
    how = "lifelines closed at once" if s["teardown"] == "burst" else \
        "one at a time, each after the previous teardown"
    if s.get("disconnect_ms"):
        print(f"  disconnect latency with up to {k} connected (lifeline closed -> host veth "
              f"gone): {fmt_stats(stats(s['disconnect_ms']))}")
    print(f"  disconnect all {k} ({how}): links gone after "
          f"{s['disconnect_all_links_gone_s']:.2f} s, nftables done after "
          f"{s.get('disconnect_all_nft_done_s', float('nan')):.2f} s, host verified back to "
          f"its initial state (no arc_ns links, empty sets) after "
          f"{s['disconnect_all_verified_s']:.2f} s")
    print(f"  (untimed: creating the {k} client namespaces took {s['namespace_setup_s']:.1f} s, "
          f"removing them with the lab {s['lab_close_s']:.1f} s)")


def fmt_stats(st):
    return (f"median {f2(st['median'])}, p95 {f2(st['p95'])}, mean {f2(st['mean'])}, "
            f"min {f2(st['min'])}, max {f2(st['max'])}")


def run_per_op(n, tag, scratch):
    raw = {"patchpanel": bench_patchpanel(n, tag)}
    try:
        raw["cni"] = bench_cni(n, scratch)
    finally:
        scratch.delete_all()
    try:
        raw["shell"] = bench_shell(n, scratch)
    finally:
        scratch.delete_all()
    floor = run_floor("--only", "connect", "--n", max(2, n))
    per_op = {}
    for name, r in raw.items():
        per_op[name] = {**r, "connect": stats(r["connect_ms"]),
                        "disconnect": stats(r["disconnect_ms"])}
    pp = per_op["patchpanel"]
    pp["teardown"] = stats(pp["teardown_ms"])
    if pp.get("cutoff_ms"):
        pp["cutoff"] = stats(pp["cutoff_ms"])
    if pp["stages"]:
        pp["stage_medians"] = {key: statistics.median(s[key] for s in pp["stages"])
                               for key in pp["stages"][0]}
    med = {k: (v["connect"]["median"], v["disconnect"]["median"]) for k, v in per_op.items()}
    per_op["ratios"] = {
        "cni_connect": ratio(med["cni"][0], med["patchpanel"][0]),
        "shell_connect": ratio(med["shell"][0], med["patchpanel"][0]),
        "cni_disconnect": ratio(med["cni"][1], med["patchpanel"][1]),
        "shell_disconnect": ratio(med["shell"][1], med["patchpanel"][1]),
        # Like for like: CNI and shell DEL return only after the kernel has finished
        # unregistering the veth, as patchpanel's helper does before its nft commit.
        "cni_disconnect_vs_teardown": ratio(med["cni"][1], pp["teardown"]["median"]),
        "shell_disconnect_vs_teardown": ratio(med["shell"][1], pp["teardown"]["median"]),
        "floor_connect": ratio(med["patchpanel"][0], floor_stage(floor, "connect", "total")),
        "floor_teardown": ratio(pp["teardown"]["median"],
                                floor_stage(floor, "disconnect", "total"))}
    per_op["floor"] = floor
    r = per_op["ratios"]
    per_op["targets"] = {"connect_tenth_of_cni": med["patchpanel"][0] * 10 <= med["cni"][0],
                         "connect_fifteenth_of_cni": med["patchpanel"][0] * 15 <= med["cni"][0],
                         "connect_double_floor": r["floor_connect"] <= 2,
                         "teardown_floor": r["floor_teardown"] <= 1.5}
    report_per_op(per_op, n)
    sys.stdout.flush()
    return per_op


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--n", type=int, default=50, help="operations per system (default 50)")
    ap.add_argument("--k", type=int, default=1000, help="namespaces for scaling (default 1000)")
    ap.add_argument("--window", type=int, default=5,
                    help="half-width of the scaling windows (default 5: median of k-5..k+5)")
    ap.add_argument("--json", type=Path, help="write the raw numbers here")
    ap.add_argument("--teardown", choices=("burst", "sequential"), default="burst",
                    help="scaling: close all lifelines at once (default), or one at a time "
                         "waiting for each teardown")
    ap.add_argument("--concurrent", type=int, default=200,
                    help="clients connecting at once (default 200)")
    ap.add_argument("--only", choices=("per-op", "concurrent", "scaling", "behind-teardown"),
                    help="run only one part (behind-teardown runs only when asked for)")
    args = ap.parse_args()
    if not 2 <= args.n <= 250:
        ap.error("--n must be within 2..250 (CNI uses one /24)")
    if not 1 <= args.k <= 1024:
        ap.error("--k must be within 1..1024 (the pool has 1024 subnets)")
    if not 1 <= args.concurrent <= 1023:
        ap.error("--concurrent must be within 1..1023 (the pool has 1024 subnets)")
    if os.geteuid() != 0:
        ap.error("run as root")

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = max(args.k, 2 * args.concurrent)  # a client process's fds, or two per lifeline
    if soft < need + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, need + 4096), hard))

    def on_term(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)

    start = time.monotonic()
    tag = "bc" + secrets.token_hex(2)
    env = environment()
    print("== ConnectNamespace benchmark ==")
    print(f"kernel {env['kernel']}, {env['cpus']} CPUs, loadavg "
          f"{' '.join(f'{x:.2f}' for x in env['loadavg'])}; patchpanel {env['patchpanel']} "
          f"({env['build']}); {env['iptables']}; CNI plugins {env['cni_plugins']}",
          flush=True)
    result = {"env": env, "n": args.n, "k": args.k}
    scratch = Scratch(tag)
    status = 0
    try:
        if args.only in (None, "per-op"):
            result["per_op"] = run_per_op(args.n, tag, scratch)
        if args.only in (None, "concurrent"):
            result["concurrent"] = {}
            bench_concurrent(args.concurrent, tag, result["concurrent"])
        if args.only in (None, "scaling"):
            result["scaling"] = {}
            bench_scaling(args.k, args.window, tag, result["scaling"], args.teardown)
        if args.only == "behind-teardown":
            result["behind_teardown"] = {}
            bench_behind_teardown(min(args.n, 100), tag, result["behind_teardown"])
    except Failure as e:
        print(f"\nFAILED: {e}", flush=True)
        result["failure"] = str(e)
        status = 1
    except KeyboardInterrupt:
        log("\ninterrupted; cleaning up")
        status = 130
    finally:
        scratch.delete_all()
        leftovers = sweep(tag)
        if leftovers:
            print(f"{'FAILED: ' if status == 0 else ''}left behind, now removed: "
                  f"{', '.join(leftovers)}", flush=True)
            status = status or 1
        wall = time.monotonic() - start
        result["wall_s"] = wall
        if args.json:
            args.json.write_text(json.dumps(result, indent=1, default=str) + "\n")
        print(f"\ntotal wall time: {wall:.1f} s (loadavg now "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())})", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
