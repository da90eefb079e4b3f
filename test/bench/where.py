#!/usr/bin/python3
"""Where the time of patchpanel's three timed operations goes: ConnectNamespace (and the
teardown its lifeline starts), ModifyPortRule and GetTrafficCounters, each run --n times in
one lab, three ways:

1. plain: the D-Bus round trip seen by the client, beside a D-Bus Peer.Ping of patchpaneld
   (sd-bus answers it without our code: the cost of the D-Bus hops alone), and the
   helper's own per-stage microseconds for ConnectNamespace (its debug log);
2. strace -f -T -yy of the manager and the helper: per operation and process, the system
   calls by kind (rtnetlink, nfnetlink, IPC, D-Bus, setns, /proc/sys, ...), their number,
   bytes and time. strace stops both processes at every call, so its times are inflated:
   read the counts and the bytes, and the split between kinds;
3. perf record -e cpu-clock of the manager, the helper and dbus-daemon (software clock:
   these VMs have no hardware counters): CPU per operation by process, library and
   function.

Run as root, in network namespaces made and removed here (the root namespace is never
touched):

    PP_BUILD_DIR=build ./test/bench/where.py [--n 30] [--rules 10000] [--uplinks 100]
        [--no-strace] [--no-perf] [--json out.json]

Exit status: 0 when every call worked and everything was cleaned up, 1 otherwise.
"""

import argparse
import collections
import json
import os
import re
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
import bench_firewall  # noqa: E402  pylint: disable=wrong-import-position
import nlwatch  # noqa: E402  pylint: disable=wrong-import-position
from bench_connect import (POOL_ARG, Failure, Scratch, connect_timed, log, ms,  # noqa: E402
                           pp_disconnect, sweep)
from bench_firewall import (FIRST_PORT, PROBE_PORT, add_uplinks, modify_many,  # noqa: E402
                            ping_all, rule_request, rule_success, uplink_names)

HELPER_STAGES = re.compile(r"Connected pid \d+: \S+ <-> \S+ in (\d+) us \(netns (\d+), "
                           r"veth (\d+), ifindexes (\d+), addresses and route (\d+), "
                           r"nftables (\d+)\)")
# The lab runs with bench_connect's pool (1024 /30s at 100.115.96.0), where FORWARDING
# rules must point: a guest address of the pools.
bench_firewall.FWD_DST = "100.115.96.2"
STAGE_NAMES = ("total", "netns", "veth", "ifindexes_sysctl_up", "addresses_route", "nftables")


def med(xs):
    return statistics.median(xs) if xs else None


def f3(x):
    return "-" if x is None else f"{x:.3f}"


# ---- the operations ----------------------------------------------------------------------

class Ops:
    """The lab and what each operation needs; every op returns (wall t0, wall t1, ms)."""

    def __init__(self, lab, watch, clients, rules_level):
        self.lab, self.watch, self.clients = lab, watch, clients
        self.bus, self.pb = lab.bus(), lab.pb
        self.held = []
        self.port = PROBE_PORT
        self.rules_level = rules_level

    def ping(self):
        w0, t0 = time.time(), time.monotonic_ns()
        self.bus.call("Ping", "", [], interface="org.freedesktop.DBus.Peer")
        return w0, time.time(), ms(time.monotonic_ns() - t0)

    def connect(self):
        _, proc = self.clients.pop()
        w0 = time.time()
        t0, t1, resp, lifeline = connect_timed(self.lab, proc.pid)
        self.held.append((resp, lifeline))
        return w0, time.time(), ms(t1 - t0)

    def disconnect(self):
        """Lifeline closed -> the nftables commit that removes the guest."""
        resp, lifeline = self.held.pop(0)
        w0 = time.time()
        _, teardown = pp_disconnect(self.watch, resp, lifeline)
        return w0, time.time(), ms(teardown)

    def _rule(self, op, rtype):
        req = rule_request(self.pb, op, rtype, self.port)
        w0, t0 = time.time(), time.monotonic_ns()
        body = self.bus.call("ModifyPortRule", "ay", [req])
        t = ms(time.monotonic_ns() - t0)
        rule_success(self.pb, body, f"{op} {rtype} port {self.port}")
        return w0, time.time(), t

    def access_create(self):
        return self._rule("create", "ACCESS")

    def access_delete(self):
        r = self._rule("delete", "ACCESS")
        self.port += 1
        return r

    def forwarding_create(self):
        return self._rule("create", "FORWARDING")

    def forwarding_delete(self):
        r = self._rule("delete", "FORWARDING")
        self.port += 1
        return r

    def counters(self):
        req = self.pb.TrafficCountersRequest().SerializeToString()
        w0, t0 = time.time(), time.monotonic_ns()
        self.bus.call("GetTrafficCounters", "ay", [req])
        return w0, time.time(), ms(time.monotonic_ns() - t0)


# Interleaved so that every op sees the same state: the connects first (their teardowns
# after), the rule pairs, the counters.
PLAN = (("ping", 1), ("connect", 1), ("access_create", 1), ("access_delete", 1),
        ("forwarding_create", 1), ("forwarding_delete", 1), ("counters", 1))


def run_plan(ops, n):
    """n rounds of PLAN, then n disconnects; return {op: [(w0, w1, ms)]}."""
    out = collections.defaultdict(list)
    for _ in range(n):
        for name, _ in PLAN:
            out[name].append(getattr(ops, name)())
    for _ in range(n):
        out["disconnect"].append(ops.disconnect())
    return out


# ---- strace ------------------------------------------------------------------------------

LINE = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(.*)$")
CALL = re.compile(r"^(\w+)\((.*)\)\s+=\s+(-?\d+|\?|0x[0-9a-f]+)(.*?)(?:<(\d+\.\d+)>)?$")
RESUMED = re.compile(r"^<\.\.\. (\w+) resumed>(.*)\)\s+=\s+(-?\d+|\?|0x[0-9a-f]+)(.*?)"
                     r"(?:<(\d+\.\d+)>)?$")
FD = re.compile(r"^(\d+)<([^>]*)>")
SOCK_INODE = re.compile(r"(NETLINK|UNIX[-A-Z]*):\[(\d+)")
NETLINK_PROTOCOLS = {0: "rtnl", 12: "nfnl", 16: "genl", 15: "uevent"}
UNIX_TYPES = {1: "unix-stream", 2: "unix-dgram", 5: "unix-seqpacket"}


def socket_kinds(pid):
    """{socket inode: kind} for the sockets of pid's network namespace: netlink ones by
    protocol, unix ones by type (the D-Bus connection is a stream, the IPC seqpacket)."""
    kinds = {}
    try:
        for line in Path(f"/proc/{pid}/net/netlink").read_text().splitlines()[1:]:
            f = line.split()
            kinds[int(f[-1])] = NETLINK_PROTOCOLS.get(int(f[1]), f"netlink{f[1]}")
        for line in Path(f"/proc/{pid}/net/unix").read_text().splitlines()[1:]:
            f = line.split()
            kinds[int(f[6])] = UNIX_TYPES.get(int(f[4], 16), "unix")
    except (OSError, ValueError, IndexError):
        pass
    return kinds


def fd_kind(args, kinds):
    """What the first argument is, from strace -yy's decoration and the socket table."""
    m = FD.match(args)
    if not m:
        return ""
    what = m.group(2)
    s = SOCK_INODE.search(what)
    if s:
        return kinds.get(int(s.group(2)), s.group(1).lower())
    for key, kind in (("/proc/sys", "sysctl"), ("pidfd", "pidfd"), ("net:[", "netns"),
                      ("pipe:", "pipe"), ("eventpoll", "epoll"), ("/dev/null", "null")):
        if key in what:
            return kind
    return "file" if what.startswith("/") else "other"


FD_CALLS = ("sendmsg", "recvmsg", "sendto", "recvfrom", "write", "read", "writev", "readv",
            "close", "fstat", "newfstatat", "ioctl", "setns", "setsockopt", "getsockopt", "bind",
            "getsockname")


def classify(name, args, kinds):
    """A short class for one call: the syscall with the kind of what it works on."""
    if name in ("openat", "open"):
        path = re.search(r'"([^"]*)"', args)
        p = path.group(1) if path else ""
        if p.startswith("/proc/sys"):
            return "openat /proc/sys"
        if p.startswith("/proc"):
            return "openat /proc"
        return "openat"
    if name in FD_CALLS:
        kind = fd_kind(args, kinds)
        return f"{name} {kind}" if kind else name
    return name


def parse_strace(path, kinds):
    """[(t, pid, class, ret, dt)] from a strace -f -ttt -T -yy log; sockets made during the
    trace (the helper's in a client's netns) are learnt from their socket() calls."""
    raw, pending = [], {}
    kinds = dict(kinds)
    for line in Path(path).read_text(errors="replace").splitlines():
        m = LINE.match(line)
        if not m:
            continue
        pid, t, rest = int(m.group(1)), float(m.group(2)), m.group(3)
        if rest.endswith("<unfinished ...>"):
            c = re.match(r"^(\w+)\((.*)", rest)
            if c:
                pending[pid] = (t, c.group(1), c.group(2))
            continue
        r = RESUMED.match(rest)
        if r:
            t0, name, args = pending.pop(pid, (t, r.group(1), ""))
            args += r.group(2)
            ret, deco, dt = r.group(3), r.group(4), r.group(5)
        else:
            c = CALL.match(rest)
            if not c:
                continue
            t0, name, args, ret, deco, dt = t, c.group(1), c.group(2), c.group(3), c.group(4), \
                c.group(5)
        if name == "socket":
            s = SOCK_INODE.search(deco)
            proto = re.search(r"NETLINK_(\w+)", args)
            if s and proto:
                kinds[int(s.group(2))] = {"ROUTE": "rtnl", "NETFILTER": "nfnl"}.get(
                    proto.group(1), proto.group(1).lower())
        raw.append((t0, pid, name, args, ret, float(dt) if dt else 0.0))
    raw.sort(key=lambda x: x[0])
    return [(t, pid, classify(name, args, kinds), ret, dt) for t, pid, name, args, ret, dt in raw]


def start_strace(pid, out):
    return subprocess.Popen(["strace", "-f", "-qq", "-ttt", "-T", "-yy", "-s", "0", "-o", str(out),
                             "-p", str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop_tracer(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def per_op_syscalls(calls, windows, slack=0.0005):
    """For each op: per class, calls per op, bytes per op (for send/recv), ms per op."""
    out = {}
    for op, ws in windows.items():
        agg = collections.defaultdict(lambda: [0, 0, 0.0])
        spans = sorted((w0 - slack, w1 + slack) for w0, w1, _ in ws)
        i = 0
        for t, _, cls, ret, dt in calls:  # calls are in time order
            while i < len(spans) and spans[i][1] < t:
                i += 1
            if i == len(spans):
                break
            if spans[i][0] <= t <= spans[i][1]:
                a = agg[cls]
                a[0] += 1
                if cls.split()[0] in ("sendmsg", "recvmsg", "sendto", "recvfrom", "write",
                                      "read", "writev", "readv") and ret.lstrip("-").isdigit() \
                        and int(ret) > 0:
                    a[1] += int(ret)
                a[2] += dt * 1000
        n = len(ws)
        out[op] = {cls: {"calls": c / n, "bytes": b / n, "ms": s / n}
                   for cls, (c, b, s) in sorted(agg.items(), key=lambda kv: -kv[1][2])}
    return out


def report_syscalls(who, table):
    print(f"\n  {who}: system calls per operation under strace (calls, bytes, ms inside the "
          f"calls; strace inflates the ms)")
    for op, classes in table.items():
        total = sum(v["calls"] for v in classes.values())
        tms = sum(v["ms"] for v in classes.values())
        top = ", ".join(f"{cls} {v['calls']:.1f}" + (f"/{v['bytes'] / 1024:.1f}K"
                                                     if v["bytes"] else "")
                        for cls, v in list(classes.items())[:9])
        print(f"    {op:<18} {total:6.1f} calls {tms:7.2f} ms: {top}")


# ---- perf --------------------------------------------------------------------------------

def perf_report(data, sort, limit):
    p = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children",
                        "--sort", sort, "-n", "-g", "none", "--percent-limit", str(limit)],
                       capture_output=True, text=True, timeout=300, check=False)
    rows = []
    for line in p.stdout.splitlines():
        m = re.match(r"^\s+(\d+\.\d+)%\s+(\d+)\s+(.*)$", line)
        if m:
            rows.append((float(m.group(1)), int(m.group(2)), " ".join(m.group(3).split())))
    return rows


PERF_HZ = 5000
PERF_SESSIONS = (("connect", ("connect",)), ("disconnect", ("disconnect",)),
                 ("ACCESS create+delete", ("access_create", "access_delete")),
                 ("FORWARDING create+delete", ("forwarding_create", "forwarding_delete")),
                 ("counters", ("counters",)))
# Libraries by role, for the helper: what the nftables text path costs lives in these.
NFT_TEXT_DSOS = ("libnftables", "libjansson", "libgmp", "libnftnl", "libmnl", "libxtables")


def perf_profile(data, n):
    """CPU ms per operation by process, and by library within each, from a recording."""
    per = collections.defaultdict(lambda: collections.defaultdict(float))
    for _, samples, what in perf_report(data, "comm,dso", 0):
        comm, _, dso = what.partition(" ")
        per[comm][dso] += samples * 1000 / PERF_HZ / n
    return {comm: dict(sorted(d.items(), key=lambda kv: -kv[1])) for comm, d in per.items()}


def report_profile(what, prof):
    parts = []
    for comm, dsos in sorted(prof.items(), key=lambda kv: -sum(kv[1].values())):
        total = sum(dsos.values())
        kernel = sum(v for k, v in dsos.items() if "kernel" in k)
        nft = sum(v for k, v in dsos.items() if any(k.startswith(d) for d in NFT_TEXT_DSOS))
        libc = sum(v for k, v in dsos.items() if k.startswith("libc."))
        parts.append(f"{comm} {total:.3f} (kernel {kernel:.3f}, libc {libc:.3f}"
                     + (f", libnftables+jansson+gmp+nftnl {nft:.3f}" if nft else "") + ")")
    print(f"  {what:<26} " + "; ".join(parts))


# ---- main --------------------------------------------------------------------------------

def one_phase(lab, watch, clients, n, rules_level, what):
    ops = Ops(lab, watch, clients, rules_level)
    log(f"  {what}: {n} rounds of ping, connect, 2 ACCESS and 2 FORWARDING ops, counters; "
        f"then {n} disconnects")
    return run_plan(ops, n)


def summarize(res):
    return {op: {"median": med([x[2] for x in xs]), "n": len(xs)} for op, xs in res.items()}


def main():  # pylint: disable=too-many-locals,too-many-statements,too-many-branches
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--n", type=int, default=30, help="rounds per phase (default 30)")
    ap.add_argument("--rules", type=int, default=10000,
                    help="ACCESS and FORWARDING rules in place (default 10000)")
    ap.add_argument("--uplinks", type=int, default=100,
                    help="extra uplinks with traffic, for the counters (default 100)")
    ap.add_argument("--no-strace", action="store_true")
    ap.add_argument("--no-perf", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if os.geteuid() != 0:
        ap.error("run as root")
    if not 2 <= args.n <= 300:
        ap.error("--n must be within 2..300")
    for tool, off in (("strace", args.no_strace), ("perf", args.no_perf)):
        if not off and not shutil.which(tool):
            ap.error(f"{tool} is missing (scripts/install-deps installs it), or pass --no-{tool}")

    def on_term(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)

    tag = "bw" + secrets.token_hex(2)
    scratch = Scratch(tag)
    tmp = Path(tempfile.mkdtemp(prefix=f"{tag}-trace-"))
    phases = 1 + (not args.no_strace) + (not args.no_perf)
    result = {"n": args.n, "rules": args.rules, "uplinks": args.uplinks}
    status = 0
    tracers = []
    print("== where the time goes: ConnectNamespace, ModifyPortRule, GetTrafficCounters ==")
    try:
        with pplab.Lab(daemon_args=[POOL_ARG], log_level="debug", tag=f"{tag}l") as lab:
            watch = nlwatch.NetlinkWatcher(lab.host.name)
            try:
                clients = [lab.client() for _ in range(phases * args.n + 3)]
                lab.bus().name_has_owner()
                mgr, helper = lab.daemon_pids()
                dbus = lab.bus_proc.pid
                # The state every phase runs in: rules in place, uplinks that counted.
                for rtype in ("ACCESS", "FORWARDING"):
                    modify_many(lab, "create", rtype, range(FIRST_PORT, FIRST_PORT + args.rules),
                                f"{rtype} rules loaded")
                peers = scratch.netns("peers")
                add_uplinks(lab, peers, args.uplinks)
                devs = {uplink_names(k)[0] for k in range(args.uplinks)}
                err = pplab.poll(lambda: None if devs <= {u["name"] for u in lab.status()["uplinks"]
                                                          if u["up"]} else "not yet",
                                 timeout=60, interval=0.1, what="uplinks")
                if err:
                    raise Failure(f"uplinks not tracked: {err}")
                ping_all(lab.host, args.uplinks)
                one_phase(lab, watch, clients, 3, args.rules, "warm-up")

                # 1. plain
                log_pos = len(lab.log())
                plain = one_phase(lab, watch, clients, args.n, args.rules, "plain")
                stages = [tuple(int(x) / 1000 for x in m.groups())
                          for m in HELPER_STAGES.finditer(lab.log()[log_pos:])]
                result["plain"] = summarize(plain)
                result["helper_connect_stages_ms"] = {
                    name: med([s[i] for s in stages]) for i, name in enumerate(STAGE_NAMES)}
                print(f"\n-- 1. plain, {args.n} of each (ms, medians; {args.rules} rules of each "
                      f"type, {args.uplinks} extra uplinks) --")
                for op, s in result["plain"].items():
                    print(f"  {op:<18} {f3(s['median']):>8}")
                hs = result["helper_connect_stages_ms"]
                print("  helper's own ConnectNamespace stages (debug log, median ms): " +
                      ", ".join(f"{k} {f3(v)}" for k, v in hs.items()))
                ping = result["plain"]["ping"]["median"]
                conn = result["plain"]["connect"]["median"]
                if hs.get("total") is not None:
                    print(f"  connect: D-Bus round trip {f3(conn)} = helper {f3(hs['total'])} + "
                          f"outside the helper {f3(conn - hs['total'])} (of which a bare D-Bus "
                          f"Ping of patchpaneld is {f3(ping)})")

                # 2. strace
                if not args.no_strace:
                    out_m, out_h = tmp / "manager.strace", tmp / "helper.strace"
                    kinds_m, kinds_h = socket_kinds(mgr), socket_kinds(helper)
                    tracers = [start_strace(mgr, out_m), start_strace(helper, out_h)]
                    time.sleep(1.0)  # attached
                    traced = one_phase(lab, watch, clients, args.n, args.rules, "strace")
                    time.sleep(0.2)
                    for t in tracers:
                        stop_tracer(t)
                    tracers = []
                    windows = {op: xs for op, xs in traced.items()}
                    result["strace"] = {
                        "manager": per_op_syscalls(parse_strace(out_m, kinds_m), windows),
                        "helper": per_op_syscalls(parse_strace(out_h, kinds_h), windows),
                        "op_ms": summarize(traced)}
                    print(f"\n-- 2. strace -f -T -yy of the manager and the helper, {args.n} of "
                          f"each --")
                    report_syscalls("patchpaneld (manager)", result["strace"]["manager"])
                    report_syscalls("patchpanel-helper", result["strace"]["helper"])

                # 3. perf, one recording per kind of operation
                if not args.no_perf:
                    ops = Ops(lab, watch, clients, args.rules)
                    result["perf"] = {}
                    print(f"\n-- 3. perf record -e cpu-clock -F {PERF_HZ} of patchpaneld, the "
                          f"helper and dbus-daemon, one recording per kind of operation, {args.n} "
                          f"of each: CPU ms per operation --")
                    for what, steps in PERF_SESSIONS:
                        data = tmp / f"perf-{what}.data"
                        rec = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F",
                                                str(PERF_HZ), "-g", "-o", str(data), "-p",
                                                f"{mgr},{helper},{dbus}"],
                                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                        tracers = [rec]
                        time.sleep(1.0)  # attached
                        for _ in range(args.n):
                            for step in steps:
                                getattr(ops, step)()
                        time.sleep(0.1)
                        stop_tracer(rec)
                        tracers = []
                        prof = perf_profile(data, args.n)
                        err = rec.stderr.read().decode(errors="replace").strip()
                        if not prof and "Captured and wrote" not in err:
                            raise Failure(f"perf recorded nothing for {what}: {err[-300:]}")
                        if not prof:
                            # perf ran and wrote its file, but the operations' CPU time fell
                            # between its samples (a few tenths of a ms with --n 2).
                            print(f"  {what:26} no sample at {PERF_HZ} Hz: less CPU than one "
                                  f"sampling period per run", flush=True)
                            continue
                        result["perf"][what] = prof
                        report_profile(what, prof)
            finally:
                for t in tracers:
                    stop_tracer(t)
                watch.close()
    except (Failure, pplab.DBusError) as e:
        print(f"\nFAILED: {e}", flush=True)
        status = 1
    except KeyboardInterrupt:
        log("\ninterrupted; cleaning up")
        status = 130
    finally:
        scratch.delete_all()
        shutil.rmtree(tmp, ignore_errors=True)
        left = sweep(tag)
        if left:
            print(f"left behind, now removed: {', '.join(left)}", flush=True)
            status = status or 1
        if args.json:
            args.json.write_text(json.dumps(result, indent=1, default=str) + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
