#!/usr/bin/python3
"""adb-proxy benchmark: TCP from the lan into the ARC container through adb-proxy, side by
side with the kernel forwarding the same traffic directly (ARC's catch-all DNAT on the
uplink), and with socat relaying it (default 8 KiB buffer, and -b 262144), in one run:

  throughput   iperf3, both directions (-R), rounds interleaved so that noise spreads
               over every path alike; the receiver's rate, median of the rounds;
  conn/s       connections a second, each connect, one byte from ARC, close (32 at once);
  idle memory  heap per idle connection: adb-proxy's heap in use (malloc's count, which
               it reports in its status) before and after N idle connections, divided by N,
               and its new private dirty anonymous pages likewise (less than the heap
               where freed memory is reused); socat for comparison (a process per
               connection: its PSS).

Run as root: everything happens inside network namespaces created and deleted here.

    PP_BUILD_DIR=build ./test/bench/bench_adbproxy.py [--seconds 5] [--rounds 3]
        [--conn-seconds 3] [--idle 500] [--json out.json]

Topology (pplab.Lab): lan (192.0.2.1) == host (eth0 192.0.2.2, patchpaneld --adb-proxy=on,
socat) == ARC container (arc0 100.115.92.2, its eth0 behind arc_eth0). The servers run in
the container: iperf3 on 5555 (what adb-proxy and socat relay to) and 5201 (what the
catch-all DNAT delivers, the direct path). The adbd socket is absent, so adb-proxy, like
socat, relays TCP to TCP.
"""

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lib"))
sys.path.insert(0, str(HERE))

import pplab  # noqa: E402  pylint: disable=wrong-import-position
from bench_connect import Failure, environment, log  # noqa: E402

ADB_PORT = 5555
DIRECT_PORT = 5201
SOCAT_PORT = 6201
SOCAT_BIG_PORT = 6202
ARC_ADDR = "100.115.92.2"
HOST = pplab.HOST_UPLINK_ADDR
PATHS = ("direct", "adb-proxy", "socat -b 256k", "socat")

# In the container: per connection, one byte and close ("byte"), or hold it open ("hold").
SERVER = r"""
import asyncio, sys
mode, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
async def byte(r, w):
    w.write(b"x")
    w.close()
async def hold(r, w):
    await r.read()
    w.close()
async def main():
    for p in ports:
        await asyncio.start_server(byte if mode == "byte" else hold, "0.0.0.0", p,
                                   backlog=4096, reuse_address=True)
    print("ready", flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""

# In the lan: connections a second to addr:port for some seconds, `parallel` at once.
CONN_RATE = r"""
import asyncio, sys, time
addr, port, seconds, parallel = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
done = errors = 0
async def worker(end):
    global done, errors
    while time.monotonic() < end:
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(addr, port), 5)
            if await asyncio.wait_for(r.read(1), 5) == b"x":
                done += 1
            else:
                errors += 1
            w.close()
        except (OSError, asyncio.TimeoutError):
            errors += 1
async def main():
    end = time.monotonic() + seconds
    t0 = time.monotonic()
    await asyncio.gather(*(worker(end) for _ in range(parallel)))
    print(done / (time.monotonic() - t0), errors)
asyncio.run(main())
"""

# In the lan: n idle connections, held until stdin closes.
IDLE_CLIENTS = r"""
import socket, sys
addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
socks = [socket.create_connection((addr, port)) for _ in range(n)]
print("connected", flush=True)
sys.stdin.readline()
"""


def private_dirty_anon(pid):
    """Private dirty bytes of the heap and anonymous mappings of pid."""
    total, anon = 0, False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        first = line.split()[0]
        if "-" in first and not first.endswith(":"):
            f = line.split()
            anon = len(f) < 6 or f[5] in ("[heap]",)
        elif anon and first == "Private_Dirty:":
            total += int(line.split()[1]) * 1024
    return total


def pss(pid):
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


def proxy_status(lab):
    for c in lab.status()["children"]:
        if c["name"] == "adb-proxy":
            c["c"] = {x["name"]: x["value"] for x in c.get("counters", [])}
            return c
    raise Failure("adb-proxy is not supervised")


def wait_for(check, what, timeout=10):
    err = pplab.poll(check, timeout=timeout, interval=0.05, what=what)
    if err:
        raise Failure(err)


def iperf(lab, port, seconds, reverse):
    r = pplab.iperf3_client(lab.lan, HOST, port=port, seconds=seconds, reverse=reverse)
    return r["end"]["sum_received"]["bits_per_second"] / 1e9


def path_port(path):
    return {"direct": DIRECT_PORT, "adb-proxy": ADB_PORT, "socat": SOCAT_PORT,
            "socat -b 256k": SOCAT_BIG_PORT}[path]


def bench_throughput(lab, arc, seconds, rounds):
    out = {f"{p}{' -R' if rev else ''}": [] for rev in (False, True) for p in PATHS}
    servers = [arc.ns.add_peer(pplab.Iperf3Server(port=p)) for p in (ADB_PORT, DIRECT_PORT)]
    try:
        for rnd in range(rounds):
            for rev in (False, True):
                for p in PATHS:
                    gbps = iperf(lab, path_port(p), seconds, rev)
                    out[f"{p}{' -R' if rev else ''}"].append(gbps)
                    log(f"  round {rnd + 1} {p}{' -R' if rev else ''}: {gbps:.2f} Gbit/s")
    finally:
        for s in servers:
            s.stop()
            arc.ns.peers.remove(s)
    return out


def start_server(arc, mode):
    p = arc.ns.spawn("/usr/bin/python3", "-c", SERVER, mode, str(ADB_PORT), str(DIRECT_PORT),
                     stdout=subprocess.PIPE, text=True)
    if p.stdout.readline().strip() != "ready":
        raise Failure("the container's server did not start")
    return p


def stop(p):
    p.kill()
    p.wait()


def bench_conn_rate(lab, arc, seconds):
    out = {}
    server = start_server(arc, "byte")
    try:
        for p in PATHS:
            r = lab.lan.exec("/usr/bin/python3", "-c", CONN_RATE, HOST, str(path_port(p)),
                             str(seconds), "32", timeout=seconds + 60)
            f = r.stdout.split()
            if len(f) != 2:
                raise Failure(f"conn/s through {p}: {r.stdout}{r.stderr}")
            out[p] = {"per_second": float(f[0]), "errors": int(f[1])}
            log(f"  {p}: {float(f[0]):.0f} connections/s ({f[1]} errors)")
            # TIME_WAIT of the last run must not crowd the next one's ports.
            time.sleep(1)
    finally:
        stop(server)
    return out


def socat_children(socat_pid):
    p = Path(f"/proc/{socat_pid}/task/{socat_pid}/children")
    return [int(x) for x in p.read_text().split()] if p.exists() else []


def bench_idle(lab, arc, socat_big, n):
    out = {}
    server = start_server(arc, "hold")
    try:
        # A fresh adb-proxy (killed, restarted by patchpaneld): the earlier parts left
        # freed memory in its heap, which new pairs would reuse unseen.
        old = proxy_status(lab)["pid"]
        os.kill(old, signal.SIGKILL)
        wait_for(lambda: None if proxy_status(lab)["pid"] != old and
                 proxy_status(lab)["c"].get("listening") == 1 else "restarting",
                 "adb-proxy restarted", timeout=20)
        st = proxy_status(lab)
        pid = st["pid"]
        heap_before = st["c"]["heap_bytes"]
        before = private_dirty_anon(pid)
        fds_before = len(os.listdir(f"/proc/{pid}/fd"))
        clients = lab.lan.spawn("/usr/bin/python3", "-c", IDLE_CLIENTS, HOST, str(ADB_PORT),
                                str(n), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            if clients.stdout.readline().strip() != "connected":
                raise Failure("idle clients did not connect")
            wait_for(lambda: None if proxy_status(lab)["c"]["connections_open"] == n else
                     proxy_status(lab)["c"], f"{n} idle pairs")
            # The status is at most a second old: one more, then read.
            time.sleep(1.1)
            heap_after = proxy_status(lab)["c"]["heap_bytes"]
            after = private_dirty_anon(pid)
            fds = len(os.listdir(f"/proc/{pid}/fd"))
        finally:
            clients.stdin.close()
            clients.wait(timeout=30)
        out["adb-proxy"] = {"heap_bytes_per_conn": (heap_after - heap_before) / n,
                            "dirty_bytes_per_conn": (after - before) / n,
                            "fds_per_conn": (fds - fds_before) / n}
        log(f"  adb-proxy: {(heap_after - heap_before) / n:.0f} bytes of heap (malloc's count), "
            f"{(after - before) / n:.0f} bytes of new dirty anonymous memory, "
            f"{(fds - fds_before) / n:.2f} fds per idle connection")
        wait_for(lambda: None if proxy_status(lab)["c"]["connections_open"] == 0 else "open",
                 "idle pairs closed", timeout=20)

        # socat: a process per connection; n is more than it needs to show the cost.
        k = min(n, 50)
        clients = lab.lan.spawn("/usr/bin/python3", "-c", IDLE_CLIENTS, HOST,
                                str(SOCAT_BIG_PORT), str(k), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        try:
            if clients.stdout.readline().strip() != "connected":
                raise Failure("idle clients did not connect to socat")
            wait_for(lambda: None if len(socat_children(socat_big.pid)) >= k else "forking",
                     "socat's children")
            kids = socat_children(socat_big.pid)
            total = sum(pss(c) for c in kids)
        finally:
            clients.stdin.close()
            clients.wait(timeout=30)
        out["socat -b 256k"] = {"pss_bytes_per_conn": total / max(len(kids), 1)}
        log(f"  socat -b 256k: {total / max(len(kids), 1) / 1024:.0f} KiB PSS per idle "
            "connection (a process each)")
    finally:
        stop(server)
    return out


def median(xs):
    return statistics.median(xs) if xs else 0.0


def report(res, seconds, rounds, n_idle):
    t = res.get("throughput")
    if t:
        print(f"\n-- throughput, Gbit/s (iperf3 {seconds} s, median of {rounds}) --")
        print(f"{'path':<16}{'lan->ARC':>10}{'ARC->lan':>10}{'vs direct':>11}{'vs socat 256k':>15}")
        for p in PATHS:
            up, down = median(t[p]), median(t[f"{p} -R"])
            d = (up / median(t["direct"]), down / median(t["direct -R"]))
            s = (up / median(t["socat -b 256k"]), down / median(t["socat -b 256k -R"]))
            print(f"{p:<16}{up:>10.2f}{down:>10.2f}{f'{d[0]:.2f}/{d[1]:.2f}':>11}"
                  f"{f'{s[0]:.2f}/{s[1]:.2f}':>15}")
        print("  ratios: lan->ARC / ARC->lan")
    c = res.get("conn_rate")
    if c:
        print("\n-- connections a second (connect, 1 byte, close; 32 at once) --")
        for p in PATHS:
            print(f"{p:<16}{c[p]['per_second']:>10.0f}   "
                  f"{c[p]['per_second'] / c['direct']['per_second']:.2f}x direct   "
                  f"errors {c[p]['errors']}")
    i = res.get("idle")
    if i:
        print(f"\n-- idle connections ({n_idle}) --")
        print(f"adb-proxy       {i['adb-proxy']['heap_bytes_per_conn']:.0f} bytes of heap "
              f"(malloc's own count; {i['adb-proxy']['dirty_bytes_per_conn']:.0f} bytes of new "
              f"dirty anonymous pages), {i['adb-proxy']['fds_per_conn']:.2f} fds per connection "
              "(no pipe while idle)")
        print(f"socat -b 256k   {i['socat -b 256k']['pss_bytes_per_conn'] / 1024:.0f} KiB PSS "
              "per connection (a process each)")
    sys.stdout.flush()


def run(args):
    sock_dir = Path(f"/tmp/ppadbbench-{secrets.token_hex(3)}")
    daemon = ["--adb-proxy=on", f"--adb-socket={sock_dir}/absent.sock",
              f"--adb-max-connections={max(args.idle + 64, 512)}"]
    res = {}
    with pplab.Lab(log_level="info", tag="ppab" + secrets.token_hex(2),
                   daemon_args=daemon) as lab:
        arc = pplab.ArcContainer(lab)
        try:
            # The container answers the lan only on its link to eth0 (the DNAT's way).
            arc.route("default", "eth0")
            for port in (SOCAT_PORT, SOCAT_BIG_PORT):
                if not lab.modify_port_rule("create", "access", "tcp", port):
                    raise Failure(f"cannot open port {port}")
            # socat's default backlog (5) would drop SYNs at 32 connections at once.
            lab.host.add_peer(pplab.Socat(f"TCP6-LISTEN:{SOCAT_PORT},reuseaddr,fork,backlog=128",
                                          f"TCP:{ARC_ADDR}:{ADB_PORT}", options=()))
            socat_big = lab.host.add_peer(pplab.Socat(
                f"TCP6-LISTEN:{SOCAT_BIG_PORT},reuseaddr,fork,backlog=128",
                f"TCP:{ARC_ADDR}:{ADB_PORT}"))
            wait_for(lambda: None if proxy_status(lab)["c"].get("listening") == 1 else "no",
                     "adb-proxy listening")
            if "throughput" in args.parts:
                log("[throughput]")
                res["throughput"] = bench_throughput(lab, arc, args.seconds, args.rounds)
            if "conn" in args.parts:
                log("[connections a second]")
                res["conn_rate"] = bench_conn_rate(lab, arc, args.conn_seconds)
            if "idle" in args.parts:
                log("[idle connections]")
                res["idle"] = bench_idle(lab, arc, socat_big, args.idle)
            st = proxy_status(lab)
            res["proxy_counters"] = st["c"]
            if st["c"].get("copy_fallbacks"):
                raise Failure(f"adb-proxy fell back to copying: {st['c']}")
        finally:
            arc.close()
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5, help="per iperf3 run")
    ap.add_argument("--rounds", type=int, default=3, help="iperf3 rounds per path")
    ap.add_argument("--conn-seconds", type=float, default=3, help="per connection-rate run")
    ap.add_argument("--idle", type=int, default=500, help="idle connections for memory")
    ap.add_argument("--parts", default="throughput,conn,idle",
                    help="what to measure, of throughput,conn,idle")
    ap.add_argument("--json", help="write the raw numbers here")
    args = ap.parse_args()
    args.parts = args.parts.split(",")

    env = environment()
    print("== adb-proxy benchmark ==")
    print(f"kernel {env['kernel']}, {env['cpus']} CPUs, loadavg "
          f"{' '.join(f'{x:.2f}' for x in env['loadavg'])}; patchpanel {env['patchpanel']}")
    started = time.monotonic()
    status = 0
    res = {"environment": env}
    try:
        res.update(run(args))
        report(res, args.seconds, args.rounds, args.idle)
    except (Failure, pplab.peers.PeerError, RuntimeError, subprocess.SubprocessError) as e:
        print(f"FAILED: {e}")
        status = 1
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    print(f"\ntotal wall time: {time.monotonic() - started:.1f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
