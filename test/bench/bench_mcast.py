#!/usr/bin/python3
"""mDNS forwarding benchmark: mcastd against avahi-daemon's reflector, side by side in one
run, each on a topology of its own built the same way, measured alternately; prints each
figure and the ratio.

    lan (lan0 192.0.2.1/24) ==veth== host (eth0 192.0.2.2/24 | vg 198.51.100.1/24) ==veth== guest (eth0)

In host runs either `mcastd eth0 vg` (standalone: the forwarding path is the one patchpanel
supervises) with --rate-limit=mdns=0, since what is measured is the forwarding and not the
default limit of 2000 datagrams a second per link and direction; or avahi-daemon with
enable-reflector=yes on eth0 and vg. A third topology runs mcastd as shipped (its default
limit), measured at 10,000 a second and idle only, to show what the limit does. The traffic is mcast-probe's (test/bench/mcast-probe.c):
mDNS answers from the lan with one distinct A record each, counted by name in the guest.

Measures:
  lossless rate   the highest rate of a ladder at which a run of --seconds delivers every
                  probe to the guest
  loss at 10k/s   probes not delivered in a run of --seconds at 10,000 a second
  CPU per packet  the forwarder's CPU time (schedstat) over that run, per probe delivered
                  (and per probe sent: a reflector that loses many did less work)
  added latency   p50 and p99 from the lan to the guest minus from the lan to the host
                  itself (a receiver on host's eth0 sees the same datagrams directly), at
                  200 a second
  idle wakeups    the forwarder's context switches over --idle seconds without traffic,
                  after start-up and again after all the traffic above (timers that traffic
                  arms must have ended by then)

Run as root (everything happens in network namespaces made and deleted here):

    PP_BUILD_DIR=build ./test/bench/bench_mcast.py [--seconds 2] [--idle 10] [--json out.json]
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lib"))

import pplab  # noqa: E402  pylint: disable=wrong-import-position

LADDER = [250, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000]
SMOKE_LADDER = [100, 500]


class Failure(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class System:
    """One topology and its forwarder."""

    def __init__(self, kind, build, topo, limit=False):
        self.kind = kind
        self.build = build
        self.probe = build / "test-bin" / "mcast-probe"
        self.lan = topo.add_netns("lan")
        self.host = topo.add_netns("host")
        self.guest = topo.add_netns("guest")
        topo.link(self.lan, "lan0", self.host, "eth0", a_addrs=["192.0.2.1/24"],
                  b_addrs=["192.0.2.2/24"])
        topo.link(self.host, "vg", self.guest, "eth0", a_addrs=["198.51.100.1/24"],
                  b_addrs=["198.51.100.2/24"])
        self.seq = 0
        self.pid = None
        self.dir = topo.dir
        self.log_path = topo.dir / f"{kind}.log"
        if kind.startswith("mcastd"):
            limit_args = [] if limit else ["--rate-limit=mdns=0"]
            with open(self.log_path, "w") as out:
                p = self.host.spawn(build / "bin" / "mcastd", *limit_args, "eth0",
                                    "vg", stdout=out, stderr=subprocess.STDOUT)
            self.pid = p.pid  # `ip netns exec` execs it
            err = pplab.poll(lambda: None if "vg: served" in self.log_path.read_text()
                             else "not serving", timeout=10, what="mcastd")
        else:
            peer = self.host.add_peer(pplab.AvahiDaemon(reflector=True,
                                                        interfaces=["eth0", "vg"]))
            self.pid = peer.pid  # sh execs avahi-daemon after its mounts
            self.peer = peer
            err = None
        if err:
            raise Failure(f"{kind}: {err}")

    def cpu_ns(self):
        return int(Path(f"/proc/{self.pid}/schedstat").read_text().split()[0])

    def switches(self):
        st = pplab.proc_status(self.pid)
        return int(st["voluntary_ctxt_switches"]) + int(st["nonvoluntary_ctxt_switches"])

    def run(self, rate, seconds, direct=False):
        """Probes from the lan at rate for seconds; the guest's receiver (and the host's,
        with direct, both dumping each probe's latency) counts them. Returns (sent, guest
        result, host result or None)."""
        first, count = self.seq, int(rate * seconds)
        self.seq += count + 1
        args = [str(self.probe), "recv", "eth0", str(seconds + 20), "1.0", str(first), str(count)]
        dumps = [self.dir / f"lat-guest-{first}", self.dir / f"lat-host-{first}"]
        recv = [self.guest.spawn(*args, *([dumps[0]] if direct else []), stdout=subprocess.PIPE,
                                 text=True)]
        if direct:
            recv.append(self.host.spawn(*args, dumps[1], stdout=subprocess.PIPE, text=True))
        for r in recv:
            if '"ready"' not in r.stdout.readline():
                raise Failure(f"{self.kind}: a receiver did not start")
        sent = self.lan.exec(str(self.probe), "send", "lan0", str(rate), str(seconds),
                             str(first), timeout=seconds + 30)
        if sent.returncode != 0:
            raise Failure(f"{self.kind}: mcast-probe send: {sent.stderr}")
        results = []
        for r in recv:
            out, _ = r.communicate(timeout=seconds + 60)
            results.append(json.loads(out.strip().splitlines()[-1]))
        if direct:
            lat = [dict(tuple(map(int, l.split())) for l in d.read_text().splitlines())
                   for d in dumps]
            results[0]["added_ns"] = sorted(lat[0][k] - lat[1][k] for k in lat[0] if k in lat[1])
        return json.loads(sent.stdout)["sent"], results[0], results[1] if direct else None


def lossless(systems, ladder, seconds):
    """Climb the ladder on each system, alternately, until a rung loses probes."""
    best = {s.kind: 0 for s in systems}
    lost = {s.kind: False for s in systems}
    for rate in ladder:
        for s in systems:
            if lost[s.kind]:
                continue
            sent, got, _ = s.run(rate, seconds)
            ok = got["received"] == sent
            log(f"  {s.kind:7} {rate:>7}/s: {got['received']}/{sent} delivered"
                f"{'' if ok else ' (loss)'}")
            if ok:
                best[s.kind] = rate
            else:
                lost[s.kind] = True
        if all(lost.values()):
            break
    return best


def at_rate(systems, rate, seconds):
    out = {}
    for s in systems:
        cpu0 = s.cpu_ns()
        sent, got, _ = s.run(rate, seconds)
        cpu = s.cpu_ns() - cpu0
        loss = 1 - got["received"] / sent if sent else None
        out[s.kind] = {"sent": sent, "received": got["received"], "loss": loss,
                       "cpu_us_per_packet": cpu / 1e3 / got["received"] if got["received"]
                       else None,
                       "cpu_us_per_sent": cpu / 1e3 / sent if sent else None}
        log(f"  {s.kind:7} {rate}/s: {got['received']}/{sent} delivered, "
            f"{out[s.kind]['cpu_us_per_packet'] or 0:.1f} us CPU per packet delivered "
            f"({out[s.kind]['cpu_us_per_sent'] or 0:.1f} per packet sent)")
    return out


def pct(xs, p):
    return xs[int((len(xs) - 1) * p)] if xs else None


def latency(systems, rate, seconds):
    """The same probes reach the host's own eth0 directly and the guest through the
    forwarder: per probe, the difference is what the forwarder added."""
    out = {}
    for s in systems:
        _, guest, host = s.run(rate, seconds, direct=True)
        added = guest["added_ns"]
        out[s.kind] = {"guest_us": guest["latency_us"], "direct_us": host["latency_us"],
                       "pairs": len(added),
                       "added_p50_us": pct(added, 0.5) / 1e3 if added else None,
                       "added_p99_us": pct(added, 0.99) / 1e3 if added else None}
        log(f"  {s.kind:7} added latency p50 {out[s.kind]['added_p50_us']:.1f} us, "
            f"p99 {out[s.kind]['added_p99_us']:.1f} us over {len(added)} probes")
    return out


def idle(systems, seconds):
    before = {s.kind: s.switches() for s in systems}
    time.sleep(seconds)
    out = {s.kind: s.switches() - before[s.kind] for s in systems}
    for k, v in out.items():
        log(f"  {k:7} {v} wakeups in {seconds} s idle")
    return out


def ratio(a, b):
    return a / b if a is not None and b else None


def report(res):
    m, a = "mcastd", "avahi"
    rows = [
        ("lossless rate (probes/s)", res["lossless"][m], res["lossless"][a], "higher"),
        ("loss at 10k/s (%)", res["at_10k"][m]["loss"] * 100, res["at_10k"][a]["loss"] * 100,
         "lower"),
        ("CPU per delivered packet (us)", res["at_10k"][m]["cpu_us_per_packet"],
         res["at_10k"][a]["cpu_us_per_packet"], "lower"),
        ("CPU per sent packet (us)", res["at_10k"][m]["cpu_us_per_sent"],
         res["at_10k"][a]["cpu_us_per_sent"], "lower"),
        ("added latency p50 (us)", res["latency"][m]["added_p50_us"],
         res["latency"][a]["added_p50_us"], "lower"),
        ("added latency p99 (us)", res["latency"][m]["added_p99_us"],
         res["latency"][a]["added_p99_us"], "lower"),
        (f"idle wakeups in {res['idle_seconds']} s", res["idle"][m], res["idle"][a], "lower"),
        ("  the same after traffic", res["idle_after"][m], res["idle_after"][a], "lower"),
        ("loss at 10k/s, default limit (%)", res["at_10k_default"]["loss"] * 100,
         res["at_10k"][a]["loss"] * 100, "lower"),
    ]
    print(f"{'measure':32} {'mcastd':>12} {'avahi':>12}  ratio")
    for name, x, y, better in rows:
        if better == "higher":
            r = ratio(x, y)
            note = f"{r:.1f}x avahi's" if r is not None else "-"
        else:
            r = ratio(y, x)
            note = f"avahi {r:.1f}x mcastd's" if r is not None else \
                ("mcastd 0" if x == 0 else "-")
        print(f"{name:32} {x if x is not None else '-':>12.6g} "
              f"{y if y is not None else '-':>12.6g}  {note}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="length of each run")
    ap.add_argument("--idle", type=float, default=10.0, help="idle window for wakeups")
    ap.add_argument("--smoke", action="store_true",
                    help="tiny numbers: checks that everything runs and cleans up")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    if os.geteuid() != 0:
        log("bench_mcast: needs root (network namespaces)")
        return 77
    build = pplab.build_dir()
    ladder = SMOKE_LADDER if args.smoke else LADDER
    seconds = 0.3 if args.smoke else args.seconds
    idle_seconds = 1.0 if args.smoke else args.idle
    fast = 1000 if args.smoke else 10000
    res = {"environment": {"kernel": platform.release(), "cpus": os.cpu_count(),
                           "loadavg": os.getloadavg()},
           "seconds": seconds, "idle_seconds": idle_seconds}
    with pplab.Topology() as tm, pplab.Topology() as ta, pplab.Topology() as td:
        systems = [System("mcastd", build, tm), System("avahi", build, ta)]
        shipped = System("mcastd-default", build, td, limit=True)
        log("[idle] after start-up")
        time.sleep(0.5 if args.smoke else 3.0)  # avahi announces itself at first
        res["idle"] = idle(systems, idle_seconds)
        log("[lossless rate]")
        res["lossless"] = lossless(systems, ladder, seconds)
        log(f"[{fast}/s]")
        res["at_10k"] = at_rate(systems, fast, seconds)
        log("[latency]")
        res["latency"] = latency(systems, 200, max(seconds, 1.0))
        log(f"[{fast}/s, mcastd with its default rate limit]")
        res["at_10k_default"] = at_rate([shipped], fast, seconds)[shipped.kind]
        log("[idle] after the traffic")
        time.sleep(0.5 if args.smoke else 2.0)
        res["idle_after"] = idle(systems + [shipped], idle_seconds)
        for s in systems:
            if s.kind == "mcastd" and res["lossless"]["mcastd"] == 0:
                raise Failure(f"mcastd delivered nothing:\n{s.log_path.read_text()}")
    report(res)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as e:
        log(f"bench_mcast: {e}")
        sys.exit(1)
