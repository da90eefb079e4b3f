#!/usr/bin/python3
"""ND proxy benchmark: ndproxyd side by side with ndppd (static rules) and the kernel's
proxy_ndp (proxy_delay=0), each in a topology of its own, in one run; prints the figures
and their ratios (machines here are noisy: the ratios are what to read).

    lan (lan0 2001:db8:1::1/64, radvd) == host (eth0 | veth-g) == guest (eth0, ::100)

Every system gives the guest 2001:db8:1::100 on the lan's /64 and the host a /128 route
to it: ndproxyd learns both itself (the guest autoconfigures from the proxied RA with the
token ::100); for the baselines the address, the route and the proxy entries are
configured by hand, as their users do.

Measured:
  first contact  the first ping6 from the lan's router to the guest's address while no
                 neighbour cache has that address (the lan's and the host's entries for
                 it flushed before each trial; the guest keeps its own, as a running
                 guest does), its round trip: the issue's measure;
  cold           the same with every neighbour cache of the three flushed, the guest's
                 too: the guest must resolve the router again for its reply (the
                 baselines answer that from their hand-made reverse entries; ndproxyd
                 relays it to the router);
  link up        from the guest link coming up to the lan reaching its global address
                 (ndproxyd: RS, proxied RA, SLAAC, DAD, learning; baselines: the address
                 configured at once, DAD);
  NS rate        NS for the guest's address flooded from the lan at rising rates for a
                 while each: the highest rate answered without loss (>= 99 % of the NS get
                 their NA back), and the proxy's CPU time per 10 000 NS there;
  idle wakeups   context switches of the proxy's processes over a quiet while (quiet but
                 for radvd's periodic RAs, every 3 to 10 s, which a proxy relays).

Run as root: everything happens inside network namespaces created and deleted here.

    PP_BUILD_DIR=build ./test/bench/bench_ndproxy.py [--trials 10] [--rates 1000,...]
        [--flood-seconds 1] [--idle-seconds 10] [--json out.json]
"""

import argparse
import ipaddress
import json
import re
import secrets
import subprocess
import sys
import textwrap
import time
from pathlib import Path

sys.dont_write_bytecode = True
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lib"))
sys.path.insert(0, str(HERE))

import pplab  # noqa: E402  pylint: disable=wrong-import-position
from bench_connect import Failure, environment, f2, log, ratio, stats  # noqa: E402

PREFIX = ipaddress.IPv6Network("2001:db8:1::/64")
ROUTER = "2001:db8:1::1"
GUEST = "2001:db8:1::100"
SYSTEMS = ("ndproxyd", "ndppd", "kernel")
TICK_MS = 10.0  # /proc/PID/stat counts CPU time in 1/100 s
# radvd allows less than 3 s between two RAs only for a Mobile IPv6 home agent: a guest's RS
# is then answered at once, whenever the last RA went out (the flags mean nothing to Linux).
RADVD_FAST = ("AdvHomeAgentFlag on; AdvHomeAgentInfo on; AdvMobRtrSupportFlag on; "
              "MinDelayBetweenRAs 0.05;")

# NS for the guest's address from the lan's router, to its solicited-node group, paced to
# a rate for a while; prints how many it sent.
FLOODER = textwrap.dedent("""
    import socket, struct, sys, time
    ifname, src_mac, rate, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    src = socket.inet_pton(socket.AF_INET6, "%(router)s")
    target = socket.inet_pton(socket.AF_INET6, "%(guest)s")
    dst = socket.inet_pton(socket.AF_INET6, "ff02::1:ff00:0")[:13] + target[13:]
    mac = bytes.fromhex(src_mac.replace(":", ""))
    body = bytes([135, 0, 0, 0]) + bytes(4) + target + bytes([1, 1]) + mac
    pseudo = src + dst + struct.pack("!I", len(body)) + bytes(3) + bytes([58]) + body
    s = sum(struct.unpack("!%%dH" %% (len(pseudo) // 2), pseudo))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    body = body[:2] + struct.pack("!H", ~s & 0xffff) + body[4:]
    ip6 = struct.pack("!IHBB", 6 << 28, len(body), 58, 255) + src + dst
    frame = bytes([0x33, 0x33]) + dst[12:] + mac + b"\\x86\\xdd" + ip6 + body
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((ifname, 0))
    n, t0 = 0, time.perf_counter()
    end = t0 + seconds
    while True:
        now = time.perf_counter()
        if now >= end:
            break
        due = int((now - t0) * rate) + 1
        while n < due:
            sock.send(frame)
            n += 1
    print(n)
""" % {"router": ROUTER, "guest": GUEST})


def ticks(pid):
    """utime + stime of a process, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def switches(pid):
    st = pplab.proc_status(pid)
    return int(st["voluntary_ctxt_switches"]) + int(st["nonvoluntary_ctxt_switches"])


class Setup:
    """One system in a topology of its own."""

    def __init__(self, kind, build):
        self.kind = kind
        self.build = build
        self.topo = pplab.Topology(tag="ppbn" + secrets.token_hex(2))
        self.proc = None
        self.lan = self.host = self.guest = None

    def __enter__(self):
        try:
            self.topo.start()
            self.lan = self.topo.add_netns("lan")
            self.host = self.topo.add_netns("host")
            self.guest = self.topo.add_netns("guest")
            self.topo.link(self.lan, "lan0", self.host, "eth0")
            self.topo.link(self.host, "veth-g", self.guest, "eth0", up=False)
            self.lan.add_peer(pplab.Radvd(prefix=str(PREFIX), extra_options=RADVD_FAST))
            self.host.sysctl("net.ipv6.conf.eth0.accept_ra", 2)
            self.host.sysctl("net.ipv6.conf.all.forwarding", 1)
            self.host.out("ip", "link", "set", "veth-g", "up")
            # The host has IPv6 on its uplink before any guest comes.
            err = pplab.poll(lambda: None if self.host.ip_json(
                "-6", "route", "show", str(PREFIX), "dev", "eth0") else "no prefix",
                timeout=20, what="the host's SLAAC")
            if err:
                raise Failure(err)
            getattr(self, f"start_{self.kind}")()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.topo.close()

    # ---- the systems ---------------------------------------------------------------------

    def guest_static(self):
        """The address, a route to the host, the host's route back: what a user of a
        baseline configures."""
        self.guest.out("ip", "link", "set", "eth0", "up")
        ll = self.link_local(self.host, "veth-g")
        self.guest.out("ip", "-6", "addr", "add", f"{GUEST}/64", "dev", "eth0", "nodad")
        self.guest.out("ip", "-6", "route", "add", "default", "via", ll, "dev", "eth0")
        self.host.out("ip", "-6", "route", "add", f"{GUEST}/128", "dev", "veth-g")

    def start_ndproxyd(self):
        log_path = self.topo.dir / "ndproxyd.log"
        with open(log_path, "w") as out:
            self.proc = self.host.spawn(self.build / "bin" / "ndproxyd", "eth0", "veth-g",
                                        stdout=out, stderr=subprocess.STDOUT)
        self.guest.out("ip", "token", "set", "::100/64", "dev", "eth0")
        self.guest.out("ip", "link", "set", "eth0", "up")
        err = pplab.poll(self.learned, timeout=20, interval=0.05, what="ndproxyd learning")
        if err:
            raise Failure(f"{err}\n{log_path.read_text()}\n"
                          f"{self.guest.out('ip', '-6', 'addr')}{self.host.out('ip', '-6', 'route')}")

    def learned(self):
        """None once the host routes the guest's address and the guest has it (past DAD)."""
        if not self.host.ip_json("-6", "route", "show", GUEST):
            return "no route yet"
        addrs = [a for l in self.guest.ip_json("-6", "addr", "show", "dev", "eth0")
                 for a in l.get("addr_info", []) if a["local"] == GUEST]
        return None if addrs and not addrs[0].get("tentative") else "no address yet"

    def start_ndppd(self):
        conf = self.topo.dir / "ndppd.conf"
        conf.write_text(textwrap.dedent(f"""\
            proxy eth0 {{
              rule {GUEST}/128 {{
                static
              }}
            }}
            proxy veth-g {{
              rule {ROUTER}/128 {{
                static
              }}
            }}
            """))
        log_path = self.topo.dir / "ndppd.log"
        with open(log_path, "w") as out:
            self.proc = self.host.spawn("ndppd", "-c", conf, "-p", self.topo.dir / "ndppd.pid",
                                        stdout=out, stderr=subprocess.STDOUT)
        self.guest_static()
        err = pplab.poll(lambda: None if "iface" in log_path.read_text() or
                         self.proc.poll() is not None else "starting", timeout=5)
        if self.proc.poll() is not None:
            raise Failure(f"ndppd exited: {log_path.read_text()} {err}")

    def start_kernel(self):
        for link in ("eth0", "veth-g"):
            self.host.sysctl(f"net.ipv6.conf.{link}.proxy_ndp", 1)
            self.host.sysctl(f"net.ipv6.neigh.{link}.proxy_delay", 0)
        self.host.out("ip", "-6", "neigh", "add", "proxy", GUEST, "dev", "eth0", "router")
        self.host.out("ip", "-6", "neigh", "add", "proxy", ROUTER, "dev", "veth-g", "router")
        self.guest_static()

    # ---- helpers -------------------------------------------------------------------------

    @staticmethod
    def link_local(ns, ifname):
        """The link-local address of ifname, once it has one (a veth gets it with its
        carrier)."""
        found = {}

        def check():
            for l in ns.ip_json("-6", "addr", "show", "dev", ifname):
                for a in l.get("addr_info", []):
                    if a.get("scope") == "link":
                        found["a"] = a["local"]
                        return None
            return "none"
        if pplab.poll(check, timeout=5):
            raise Failure(f"no link-local address on {ifname} in {ns.name}")
        return found["a"]

    def pids(self):
        """The proxy's processes (ndproxyd: its parent and its child)."""
        if not self.proc:
            return []
        pids = [self.proc.pid]
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
        return pids

    def flush_neighbours(self, everywhere):
        if everywhere:
            for ns in (self.lan, self.host, self.guest):
                ns.exec("ip", "-6", "neigh", "flush", "all")
        else:
            for ns in (self.lan, self.host):
                ns.exec("ip", "-6", "neigh", "flush", "to", GUEST)

    def reachable(self):
        return self.lan.ok("ping", "-6", "-n", "-q", "-c", "1", "-W", "1", GUEST)


# ---- the measurements ----------------------------------------------------------------------

def first_contact(s, trials, everywhere=False):
    out = []
    # Once the links' addresses are past DAD.
    if pplab.poll(lambda: None if s.reachable() else "no", timeout=10):
        raise Failure(f"{s.kind}: the guest is not reachable at all")
    for _ in range(trials):
        s.flush_neighbours(everywhere)
        time.sleep(0.05)
        p = s.lan.exec("ping", "-6", "-n", "-c", "1", "-W", "2", GUEST)
        m = re.search(r"time=([0-9.]+) ms", p.stdout)
        if m:
            out.append(float(m.group(1)))
        # Apart by more than ndproxyd's hold on relaying the same asker's NS again
        # (ND_PROXY_RELAY_HOLD_USEC, 1 s): each trial is a first contact for it too.
        time.sleep(1.2)
    return out


def link_up(s, trials):
    out = []
    for _ in range(trials):
        s.guest.out("ip", "link", "set", "eth0", "down")
        s.flush_neighbours(everywhere=True)
        time.sleep(0.3)
        t0 = time.monotonic()
        s.guest.out("ip", "link", "set", "eth0", "up")
        if s.kind != "ndproxyd":
            # What the user of a baseline does: the address and the route, at once.
            s.guest.out("ip", "-6", "addr", "add", f"{GUEST}/64", "dev", "eth0")
            s.guest.out("ip", "-6", "route", "replace", "default", "via",
                        s.link_local(s.host, "veth-g"), "dev", "eth0")
        # Asked again and again (a fresh ping each time: one that saw its neighbour
        # resolution fail gives up), until an answer comes or 15 s passed.
        while time.monotonic() - t0 < 15:
            if s.lan.ok("ping", "-6", "-n", "-q", "-c", "1", "-W", "0.05", GUEST):
                out.append((time.monotonic() - t0) * 1000)
                break
        time.sleep(0.5)
    return out


def ns_rate(s, rates, seconds):
    """Per offered rate: sent, answered, and the proxy's CPU ticks."""
    # Hop limit 255 only: a host that routes the guest's answer on as a packet (ndproxyd
    # standalone does not stop its kernel from doing so) sends 254, which nobody accepts.
    read = s.lan.counter("na", "icmpv6 type nd-neighbor-advert ip6 hoplimit 255")
    mac = s.lan.mac("lan0")
    rows = []
    try:
        for rate in rates:
            s.flush_neighbours(everywhere=True)
            before_na = read()
            before_cpu = sum(ticks(p) for p in s.pids())
            p = s.lan.exec("/usr/bin/python3", "-c", FLOODER, "lan0", mac, str(rate),
                           str(seconds), timeout=seconds + 60)
            if p.returncode != 0:
                raise Failure(f"flooder: {p.stderr}")
            sent = int(p.stdout.strip())
            time.sleep(0.3)  # stragglers
            answered = read() - before_na
            cpu = sum(ticks(p) for p in s.pids()) - before_cpu
            rows.append({"rate": rate, "sent": sent, "answered": answered, "cpu_ticks": cpu,
                         "achieved": sent / seconds})
            log(f"  {s.kind}: {rate}/s offered, {sent} sent, {answered} answered, "
                f"{cpu * TICK_MS:.0f} ms CPU")
            if answered < 0.99 * sent:
                break  # past its limit: higher rates tell nothing more
    finally:
        s.lan.delete_counters()
    return rows


def idle(s, seconds):
    pids = s.pids()
    if not pids:
        return None
    time.sleep(1.0)
    before = sum(switches(p) for p in pids)
    time.sleep(seconds)
    return sum(switches(p) for p in pids) - before


def sustained(rows):
    ok = [r for r in rows if r["sent"] and r["answered"] >= 0.99 * r["sent"]]
    if not ok:
        return None, None
    best = max(ok, key=lambda r: r["achieved"])
    cpu = best["cpu_ticks"] * TICK_MS * 10000 / best["sent"] if best["sent"] else None
    return best["achieved"], cpu


def bench(kind, args):
    log(f"[{kind}]")
    with Setup(kind, pplab.build_dir()) as s:
        res = {"first_contact_ms": first_contact(s, args.trials),
               "cold_ms": first_contact(s, args.trials, everywhere=True)}
        res["link_up_ms"] = link_up(s, max(1, args.trials // 3))
        # The flood needs the guest answering, with its address back after the link test.
        err = pplab.poll(lambda: None if s.reachable() else "unreachable", timeout=20)
        if err:
            raise Failure(f"{kind}: {err}")
        res["ns_rate"] = ns_rate(s, args.rates, args.flood_seconds)
        res["idle_wakeups"] = idle(s, args.idle_seconds)
        if s.proc and s.proc.poll() is not None:
            raise Failure(f"{kind} died during the run")
    return res


def report(results, args):
    rows = []
    for kind in SYSTEMS:
        r = results[kind]
        fc, lu = stats(r["first_contact_ms"]), stats(r["link_up_ms"])
        cold = stats(r["cold_ms"])
        rate, cpu = sustained(r["ns_rate"])
        rows.append((kind, fc["median"], fc["p95"], cold["median"], lu["median"], rate, cpu,
                     r["idle_wakeups"]))
        r["summary"] = {"first_contact_ms": fc, "cold_ms": cold, "link_up_ms": lu,
                        "sustained_ns_per_s": rate, "cpu_ms_per_10k_ns": cpu,
                        "idle_wakeups": r["idle_wakeups"]}
    print(f"\nND proxies, {args.trials} trials; NS flood {args.flood_seconds} s per rate; "
          f"idle {args.idle_seconds} s")
    print(f"{'':10} {'first ping ms':>14} {'(p95)':>8} {'cold ms':>8} {'link up ms':>11} "
          f"{'NS/s no loss':>13} {'CPU ms/10k NS':>14} {'idle wakeups':>13}")
    for kind, fcm, fcp, coldm, lum, rate, cpu, wake in rows:
        print(f"{kind:10} {f2(fcm):>14} {f2(fcp):>8} {f2(coldm):>8} {f2(lum):>11} "
              f"{f2(rate) if rate else 'n/a':>13} {f2(cpu) if cpu is not None else 'n/a':>14} "
              f"{wake if wake is not None else 'n/a (no process)':>13}")
    ours = results["ndproxyd"]["summary"]
    ratios = {}
    for other in ("kernel", "ndppd"):
        o = results[other]["summary"]
        ratios[other] = {
            "first_contact": ratio(ours["first_contact_ms"]["median"],
                                   o["first_contact_ms"]["median"]),
            "cold": ratio(ours["cold_ms"]["median"], o["cold_ms"]["median"]),
            "link_up": ratio(ours["link_up_ms"]["median"], o["link_up_ms"]["median"]),
            "ns_rate": ratio(ours["sustained_ns_per_s"], o["sustained_ns_per_s"]),
        }
        print(f"ndproxyd / {other:7}: first contact {f2(ratios[other]['first_contact'])}x, "
              f"cold {f2(ratios[other]['cold'])}x, "
              f"link up {f2(ratios[other]['link_up'])}x, "
              f"sustained NS rate {f2(ratios[other]['ns_rate'])}x")
    return ratios


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--rates", default="1000,2000,5000,10000,20000,40000,80000",
                    help="NS per second offered, comma-separated, rising")
    ap.add_argument("--flood-seconds", type=float, default=1.0)
    ap.add_argument("--idle-seconds", type=float, default=10.0)
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--json")
    args = ap.parse_args()
    args.rates = [int(x) for x in args.rates.split(",")]
    systems = args.systems.split(",")
    results = {}
    try:
        for kind in systems:
            results[kind] = bench(kind, args)
    except Failure as e:
        log(f"FAILED: {e}")
        return 1
    ratios = report(results, args) if set(systems) == set(SYSTEMS) else {}
    if args.json:
        Path(args.json).write_text(json.dumps({"environment": environment(), "args": vars(args),
                                               "results": results, "ratios": ratios},
                                              indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
