#!/usr/bin/python3
"""Guest startup benchmark: TerminaVmStartup/Shutdown and ArcVmStartup/Shutdown through
patchpanel, side by side with a shell baseline that does the same TAP, bridge, address,
route and nftables work by command (fork+exec per step, as the original patchpanel did with
ip and iptables). Prints per-operation median and p95 and the ratios.

Run as root: everything happens inside network namespaces created and deleted here.

    PP_BUILD_DIR=build ./test/bench/bench_guests.py [--n 30] [--json out.json]

What is timed: patchpanel = the D-Bus round trip seen by the client; shell = the sum of its
commands, forked by a thread living inside the baseline's host namespace (no `ip netns
exec` per step). Both end in the same kernel state: for Termina a persistent TAP with an
address, a MAC, a route to the container subnet and two nftables elements; for ARCVM a
bridge arcbr0, six TAPs with stable MACs (the first on arcbr0), a bridge for the uplink
with its TAP, and five nftables elements.
"""

import argparse
import json
import secrets
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lib"))
sys.path.insert(0, str(HERE))

import pplab  # noqa: E402  pylint: disable=wrong-import-position
import nlwatch  # noqa: E402  pylint: disable=wrong-import-position
from bench_connect import (Failure, Scratch, environment, f2, log, ms, ratio,  # noqa: E402
                           stats)

# The table the daemon installs (helpers/firewall.c), for the baseline to add elements to.
SHELL_TABLE = """
table inet patchpanel {
  map guest_mark { type ifname : mark; }
  set guest_ifs { type ifname; }
  map arc_dnat { type ifname : ipv4_addr; }
}
"""


def call(lab, member, req, resp_cls):
    body = lab.bus().call(member, "ay", [req.SerializeToString()])
    resp = resp_cls()
    resp.ParseFromString(bytes(body[0]))
    return resp


def timed(fn, *args):
    t0 = time.monotonic_ns()
    out = fn(*args)
    return time.monotonic_ns() - t0, out


def bench_patchpanel(n):
    res = {"termina_start": [], "termina_stop": [], "arcvm_start": [], "arcvm_stop": []}
    log("[patchpanel] lab")
    with pplab.Lab(log_level="info", tag="ppbg" + secrets.token_hex(2)) as lab:
        pb = lab.pb
        baseline = lab.datapath_state()

        def termina(cid):
            t, resp = timed(call, lab, "TerminaVmStartup", pb.TerminaVmStartupRequest(cid=cid),
                            pb.TerminaVmStartupResponse)
            if not resp.device.ifname.startswith("vmtap"):
                raise Failure(f"TerminaVmStartup answered {resp}")
            t2, _ = timed(call, lab, "TerminaVmShutdown", pb.TerminaVmShutdownRequest(cid=cid),
                          pb.TerminaVmShutdownResponse)
            return t, t2

        def arcvm(cid):
            t, resp = timed(call, lab, "ArcVmStartup", pb.ArcVmStartupRequest(cid=cid),
                            pb.ArcVmStartupResponse)
            if len(resp.devices) != 6:
                raise Failure(f"ArcVmStartup answered {resp}")
            # The uplink's bridge follows the reply; wait for it (untimed) so that every
            # round does the whole job before its shutdown.
            err = pplab.poll(lambda: None if "arc_eth0" in lab.host.links() else "no bridge",
                             timeout=5, what="arc_eth0")
            if err:
                raise Failure(err)
            t2, _ = timed(call, lab, "ArcVmShutdown", pb.ArcVmShutdownRequest(cid=cid),
                          pb.ArcVmShutdownResponse)
            return t, t2

        termina(1000)  # warm-up, untimed
        arcvm(1000)
        for i in range(n):
            a, b = termina(i + 1)
            res["termina_start"].append(ms(a))
            res["termina_stop"].append(ms(b))
        for i in range(n):
            a, b = arcvm(i + 1)
            res["arcvm_start"].append(ms(a))
            res["arcvm_stop"].append(ms(b))
        err = pplab.poll(lambda: None if lab.datapath_state() == baseline else "busy",
                         timeout=10, what="teardown")
        if err:
            raise Failure(f"patchpanel left state behind: {err}")
    return res


def sh(steps):
    """Run each command; the time of all of them."""
    t0 = time.monotonic_ns()
    for s in steps:
        p = subprocess.run(s, capture_output=True, text=True, timeout=30, check=False)
        if p.returncode != 0:
            raise Failure(f"{' '.join(s)}: {p.stdout}{p.stderr}")
    return time.monotonic_ns() - t0


def bench_shell(n, scratch):
    res = {"termina_start": [], "termina_stop": [], "arcvm_start": [], "arcvm_stop": []}
    log("[shell] scratch host namespace")
    host, _ = scratch.uplinked_host("shhost", "shup")

    def termina_start():
        return sh([["ip", "tuntap", "add", "dev", "vmtap0", "mode", "tap", "user", "0"],
                   ["ip", "link", "set", "vmtap0", "address", "02:11:22:33:44:55", "up"],
                   ["ip", "addr", "add", "100.115.92.25/30", "dev", "vmtap0"],
                   ["ip", "route", "add", "100.115.92.192/28", "via", "100.115.92.26",
                    "dev", "vmtap0"],
                   ["nft", 'add element inet patchpanel guest_mark { "vmtap0" : 0x2101 }; '
                           'add element inet patchpanel guest_ifs { "vmtap0" }']])

    def termina_stop():
        return sh([["ip", "link", "del", "vmtap0"],
                   ["nft", 'delete element inet patchpanel guest_mark { "vmtap0" }; '
                           'delete element inet patchpanel guest_ifs { "vmtap0" }']])

    def arcvm_start():
        steps = [["ip", "link", "add", "name", "arcbr0", "type", "bridge"],
                 ["ip", "addr", "add", "100.115.92.1/30", "dev", "arcbr0"],
                 ["ip", "link", "set", "arcbr0", "up"]]
        for k in range(6):
            steps.append(["ip", "tuntap", "add", "dev", f"vmtap{k}", "mode", "tap", "user", "0"])
            steps.append(["ip", "link", "set", f"vmtap{k}", "address",
                          f"42:37:05:13:17:{k + 1:02x}", "up"] +
                         (["master", "arcbr0"] if k == 0 else []))
        steps += [["ip", "link", "add", "name", "arc_eth0", "type", "bridge"],
                  ["ip", "addr", "add", "100.115.92.5/30", "dev", "arc_eth0"],
                  ["ip", "link", "set", "arc_eth0", "up"],
                  ["ip", "link", "set", "vmtap1", "master", "arc_eth0"],
                  ["nft", 'add element inet patchpanel guest_mark { "arcbr0" : 0x2001, '
                          '"arc_eth0" : 0x03ea2001 }; '
                          'add element inet patchpanel guest_ifs { "arcbr0", "arc_eth0" }; '
                          'add element inet patchpanel arc_dnat { "eth0" : 100.115.92.6 }']]
        return sh(steps)

    def arcvm_stop():
        steps = [["ip", "link", "del", f"vmtap{k}"] for k in range(6)]
        steps += [["ip", "link", "del", "arc_eth0"], ["ip", "link", "del", "arcbr0"],
                  ["nft", 'delete element inet patchpanel guest_mark { "arcbr0", "arc_eth0" }; '
                          'delete element inet patchpanel guest_ifs { "arcbr0", "arc_eth0" }; '
                          'delete element inet patchpanel arc_dnat { "eth0" }']]
        return sh(steps)

    def job(stop):
        subprocess.run(["nft", "-f", "-"], input=SHELL_TABLE, text=True, check=True)
        termina_start()  # warm-up, untimed
        termina_stop()
        arcvm_start()
        arcvm_stop()
        for _ in range(n):
            if stop.is_set():
                return
            res["termina_start"].append(ms(termina_start()))
            res["termina_stop"].append(ms(termina_stop()))
        for _ in range(n):
            if stop.is_set():
                return
            res["arcvm_start"].append(ms(arcvm_start()))
            res["arcvm_stop"].append(ms(arcvm_stop()))

    nlwatch.NetnsWorker(host.name, job).run()
    left = [l for l in host.links() if l.startswith(("vmtap", "arc"))]
    if left:
        raise Failure(f"shell baseline left links behind: {left}")
    return res


def report(res, n):
    print(f"\n-- {n} rounds each (ms) --")
    print(f"{'operation':<22}{'patchpanel median':>18}{'p95':>8}{'shell median':>14}{'p95':>8}"
          f"{'shell/patchpanel':>18}")
    for op in ("termina_start", "termina_stop", "arcvm_start", "arcvm_stop"):
        p, s = stats(res["patchpanel"][op]), stats(res["shell"][op])
        r = ratio(s["median"], p["median"])
        print(f"{op:<22}{f2(p['median']):>18}{f2(p['p95']):>8}{f2(s['median']):>14}"
              f"{f2(s['p95']):>8}{(f'{r:.1f}x' if r else '-'):>18}")
    print("  patchpanel = D-Bus round trip; shell = its ip/nft commands, forked from inside "
          "the namespace")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30, help="rounds per operation")
    ap.add_argument("--json", help="write the raw numbers here")
    args = ap.parse_args()

    env = environment()
    print("== Guest startup benchmark ==")
    print(f"kernel {env['kernel']}, {env['cpus']} CPUs, loadavg "
          f"{' '.join(f'{x:.2f}' for x in env['loadavg'])}; patchpanel {env['patchpanel']}")
    started = time.monotonic()
    scratch = Scratch("ppbs" + secrets.token_hex(2))
    res = {"environment": env}
    status = 0
    try:
        res["patchpanel"] = bench_patchpanel(args.n)
        res["shell"] = bench_shell(args.n, scratch)
        report(res, args.n)
    except Failure as e:
        print(f"FAILED: {e}")
        status = 1
    finally:
        scratch.delete_all()
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    print(f"\ntotal wall time: {time.monotonic() - started:.1f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
