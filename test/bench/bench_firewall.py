#!/usr/bin/python3
"""Firewall benchmark: ModifyPortRule and GetTrafficCounters through patchpanel, side by
side with iptables doing what the original patchpanel did for the same job (fork+exec of
iptables per rule, and a listing of the mangle table's counting chains).

Run as root: everything happens inside network namespaces created and deleted here (the
root namespace is never touched), with 192.0.2.0/24 as the lab's uplink and /30s of
198.51.100.0/24 and 203.0.113.0/24 for the extra uplinks of part 2.

    PP_BUILD_DIR=build ./test/bench/bench_firewall.py [--rules 10,1000,10000] [--n 50]
        [--uplinks 100] [--calls 200] [--iptables nft,legacy] [--only rules|counters]
        [--daemon-arg ARG] [--json out.json]

1. ModifyPortRule: with N rules of its type already present (N from --rules), one rule is
   created and then deleted, --n times, for ACCESS (tcp port on eth0) and FORWARDING (tcp
   port on eth0 -> 100.115.92.130). patchpanel = the D-Bus round trip seen by the client,
   with N ACCESS and N FORWARDING rules in place (loaded through D-Bus, many calls in
   flight). iptables = the commands the original ran for that rule and operation
   (reference §5: ACCESS is `iptables -I INPUT -p tcp --dport P -i eth0 -j ACCEPT -w` then
   the same with ip6tables; FORWARDING is a DNAT in nat PREROUTING then an ACCEPT in filter
   FORWARD; DELETE is -D of both), forked by a thread living inside a scratch namespace
   whose tables already hold N such rules of each kind (loaded with iptables-restore).
   The time of the first command alone is reported too.
2. GetTrafficCounters: --uplinks veth pairs eth100.. in the lab's host namespace (their
   peers all in one extra namespace), each tracked as an uplink and carrying a ping, so
   the counters' sets have elements for every one; then --calls calls, timed as the D-Bus
   round trip. Peer: what the original ran to read the same counters (reference §6):
   `iptables -t mangle -L -x -v -n -w` and the ip6tables equivalent, over chains
   rx_<if>/tx_<if> with one counting rule per traffic source (and a catch-all) for every
   interface, in a scratch namespace; timed as the two execs, parsing left out.

Both iptables backends are run by default: iptables-nft (Debian's `iptables`) and
iptables-legacy, each in a namespace of its own.

The floor (patchpanel-floor, floor.c) runs in the same run: one process putting the same
element in the daemon's own set through one binary nftables batch, and dumping the
counters' sets as large as the daemon's were, with no D-Bus and no IPC. Beside it, a bare
D-Bus round trip (Peer.Ping of patchpaneld, answered by sd-bus), the least any method
costs.

Exit status: 0 when every system worked and everything was cleaned up (timing targets are
reported, never asserted), 1 on a functional failure, 130 on Ctrl-C.
"""

import argparse
import contextlib
import ipaddress
import json
import os
import re
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
import nlwatch  # noqa: E402  pylint: disable=wrong-import-position
from bench_connect import (Failure, Progress, Scratch, environment, f2, log, ms,  # noqa: E402
                           must, ratio, run_floor, stats, sweep, timed_run)

LEVELS = (10, 1000, 10000)
TYPES = ("ACCESS", "FORWARDING")
OPS = ("create", "delete")
BACKENDS = ("nft", "legacy")

# The rules: preloaded rule i has input port FIRST_PORT + i, the measured ones PROBE_PORT +
# round; all on eth0 over TCP, FORWARDING ones to the same guest address (a ConnectNamespace
# /30 of the default pools) and the same port.
IFNAME = "eth0"
FWD_DST = "100.115.92.130"
FIRST_PORT = 1024          # permission_broker forwards only ports above 1023
PROBE_PORT = 40000
MAX_LEVEL = 32000          # of each type: all of them within the daemon's cap of 65536
MAX_ROUNDS = 65535 - PROBE_PORT + 1
# Calls in flight at once: the bus allows 128 pending replies per connection, and dbus-next
# stalls for good when its socket fills (EAGAIN) with many hundreds queued.
CHUNK = 100

# Part 2: uplink k is eth<100+k> (host, .1 of its /30) <-> p<k> (peers namespace, .2).
UPLINK_NETS = [n for base in ("198.51.100.0/24", "203.0.113.0/24")
               for n in ipaddress.ip_network(base).subnets(new_prefix=30)]
# The original's traffic sources in 2021 (reference §6): fwmark bits 8-13, one counting
# rule each in every rx_/tx_ chain, then a catch-all.
SOURCES = (0x01, 0x02, 0x03, 0x04, 0x05, 0x20, 0x21, 0x22, 0x23, 0x24)


def stats90(xs):
    """stats() plus the 90th percentile."""
    out = stats(xs)
    out["p90"] = (statistics.quantiles(xs, n=10, method="inclusive")[8] if len(xs) > 1
                  else (xs[0] if xs else None))
    return out


def x1(v):
    return "-" if v is None else f"{v:.1f}x"


def iptables_cmds(backend):
    """The binaries of one backend: iptables, ip6tables, iptables-restore, ip6tables-restore."""
    return (f"iptables-{backend}", f"ip6tables-{backend}", f"iptables-{backend}-restore",
            f"ip6tables-{backend}-restore")


@contextlib.contextmanager
def explained(lab):
    """A call answered with a D-Bus error is a functional failure: add what the daemon's
    log says (a helper that died, say) and whether patchpaneld is still there."""
    try:
        yield
    except pplab.DBusError as e:
        lines = [l for l in lab.log().splitlines() if ": error:" in l or ": warning:" in l]
        state = "running" if lab.daemon.poll() is None else f"exited {lab.daemon.returncode}"
        raise Failure(f"{e} (patchpaneld {state}; last errors and warnings in its log: "
                      f"{lines[-3:]})") from e


# ---- 1a. ModifyPortRule through patchpanel -----------------------------------------------

def rule_request(pb, op, rtype, port):
    """A serialized ModifyPortRuleRequest for the rule with this input port."""
    R = pb.ModifyPortRuleRequest
    fields = {"op": getattr(R, op.upper()), "type": getattr(R, rtype), "proto": R.TCP,
              "input_ifname": IFNAME, "input_dst_port": port}
    if rtype == "FORWARDING":
        fields.update(dst_ip=FWD_DST, dst_port=port)
    return R(**fields).SerializeToString()


def rule_success(pb, body, what):
    resp = pb.ModifyPortRuleResponse()
    resp.ParseFromString(bytes(body[0]))
    if not resp.success:
        raise Failure(f"ModifyPortRule {what} answered success=false")


def modify_many(lab, op, rtype, ports, what):
    """CREATE or DELETE the rules with these input ports, CHUNK calls in flight at a time;
    every one must succeed."""
    bus, pb = lab.bus(), lab.pb
    ports = list(ports)
    prog = Progress(what, len(ports)) if len(ports) >= 1000 else None
    for i in range(0, len(ports), CHUNK):
        chunk = ports[i:i + CHUNK]
        bodies = bus.call_many([("ModifyPortRule", "ay", [rule_request(pb, op, rtype, p)], ())
                                for p in chunk])
        for port, body in zip(chunk, bodies):
            if isinstance(body, Exception):
                raise Failure(f"ModifyPortRule {op} {rtype} port {port}: {body}")
            rule_success(pb, body, f"{op} {rtype} port {port}")
        if prog:
            prog(i + len(chunk))


def ping_ns(bus):
    """One D-Bus Peer.Ping of patchpaneld (sd-bus answers it, none of our code runs)."""
    t0 = time.monotonic_ns()
    bus.call("Ping", "", [], interface="org.freedesktop.DBus.Peer")
    return time.monotonic_ns() - t0


def rule_elements(lab, rtype):
    """How many elements the daemon's set (ACCESS) or map (FORWARDING) holds."""
    return len(lab.nft_elements("access" if rtype == "ACCESS" else "port_fwd"))


def bench_rules_patchpanel(levels, n, tag, daemon_args):
    out = {t: {} for t in TYPES}
    log(f"[patchpanel] lab; rule counts {', '.join(map(str, levels))}")
    with pplab.Lab(log_level="info", tag=f"{tag}r", daemon_args=daemon_args) as lab, \
            explained(lab):
        pb, bus = lab.pb, lab.bus()
        bus.name_has_owner()  # connect and authenticate before timing
        baseline = lab.datapath_state()
        loaded = 0

        def one(op, rtype, port):
            """One ModifyPortRule call, timed around the D-Bus round trip only."""
            req = rule_request(pb, op, rtype, port)
            t0 = time.monotonic_ns()
            body = bus.call("ModifyPortRule", "ay", [req])
            t = time.monotonic_ns() - t0
            rule_success(pb, body, f"{op} {rtype} port {port}")
            return t

        for rtype in TYPES:  # warm-up, untimed: the first call through every path
            one("create", rtype, PROBE_PORT)
            one("delete", rtype, PROBE_PORT)
        out["ping_ms"] = [ms(ping_ns(bus)) for _ in range(n)]
        for level in levels:
            for rtype in TYPES:
                modify_many(lab, "create", rtype, range(FIRST_PORT + loaded, FIRST_PORT + level),
                            f"{rtype} rules loaded")
            loaded = level
            # Untimed, once the loads are in: a burst of thousands of calls leaves work behind
            # (the kernel's set resizes, the daemon's and the bus's buffers) that would land on
            # whichever type is measured first.
            time.sleep(0.5)
            for rtype in TYPES:
                for r in range(min(n, 20)):
                    one("create", rtype, PROBE_PORT + r)
                    one("delete", rtype, PROBE_PORT + r)
            for rtype in TYPES:
                if rule_elements(lab, rtype) != level:
                    raise Failure(f"patchpanel holds {rule_elements(lab, rtype)} {rtype} "
                                  f"elements, expected {level}")
                res = {"create": [], "delete": []}
                for r in range(n):
                    res["create"].append(ms(one("create", rtype, PROBE_PORT + r)))
                    res["delete"].append(ms(one("delete", rtype, PROBE_PORT + r)))
                out[rtype][level] = res
                if rule_elements(lab, rtype) != level:
                    raise Failure(f"patchpanel: {rtype} probes left elements behind")
            log(f"  {level} rules of each type: measured")
        # Every rule goes again, through D-Bus; then the host must be as it was. (After a
        # failure nothing is deleted: the lab goes with everything in it.)
        for rtype in TYPES:
            modify_many(lab, "delete", rtype, range(FIRST_PORT, FIRST_PORT + loaded),
                        f"{rtype} rules deleted")
        left = pplab.poll(lambda: pplab.snapshot_diff(baseline, lab.datapath_state()),
                          timeout=10, interval=0.05, what="state not back")
        if left:
            raise Failure(f"patchpanel left state behind after deleting every rule: {left}")
    return out


# ---- 1b. the same rules with iptables ----------------------------------------------------

def rule_args(rtype, port):
    """The original's commands for one rule, without the -I/-A/-D: [(tool, args)], tool 0
    for iptables and 1 for ip6tables (reference §5)."""
    if rtype == "ACCESS":
        args = ["-p", "tcp", "--dport", str(port), "-i", IFNAME, "-j", "ACCEPT"]
        return [(0, ["-t", "filter", "INPUT", *args]), (1, ["-t", "filter", "INPUT", *args])]
    return [(0, ["-t", "nat", "PREROUTING", "-i", IFNAME, "-p", "tcp", "--dport", str(port),
                 "-j", "DNAT", "--to-destination", f"{FWD_DST}:{port}"]),
            (0, ["-t", "filter", "FORWARD", "-i", IFNAME, "-p", "tcp", "-d", FWD_DST,
                 "--dport", str(port), "-j", "ACCEPT"])]


def restore_text(rtype, ports, family):
    """iptables-restore input (--noflush) appending the rules for these ports."""
    tables = {}
    for port in ports:
        for tool, (_, table, chain, *args) in rule_args(rtype, port):
            if tool == family:
                tables.setdefault(table, []).append(f"-A {chain} {' '.join(args)}")
    return "".join(f"*{t}\n" + "\n".join(lines) + "\nCOMMIT\n" for t, lines in tables.items())


def count_rules(tool, table, chain):
    p = must(subprocess.run([tool, "-w", "-t", table, "-S", chain], capture_output=True,
                            text=True, timeout=60, check=False), f"{tool} -S {chain}")
    return sum(1 for line in p.stdout.splitlines() if line.startswith("-A "))


def bench_rules_iptables(backend, levels, n, scratch):
    tools = iptables_cmds(backend)
    out = {t: {} for t in TYPES}
    log(f"[iptables-{backend}] scratch namespace; rule counts {', '.join(map(str, levels))}")
    ns = scratch.netns(f"rules-{backend}")

    def op(verb, rtype, port):
        """The original's commands for one rule: (total ns, first command's ns)."""
        times = []
        for tool, args in rule_args(rtype, port):
            table, chain, rest = args[:2], args[2], args[3:]
            cmd = [tools[tool], "-w", *table, verb, chain, *rest]
            t, p = timed_run(cmd)
            must(p, " ".join(cmd))
            times.append(t)
        return sum(times), times[0]

    def expect(rtype, level):
        counts = [count_rules(tools[tool], args[1], args[2])
                  for tool, args in rule_args(rtype, FIRST_PORT)]
        if counts != [level] * len(counts):
            raise Failure(f"iptables-{backend}: {rtype} chains hold {counts} rules, "
                          f"expected {level} each")

    # Runs in a thread inside the scratch namespace: every command is one fork+exec, as in
    # a daemon that lives there; no `ip netns exec` wrapper.
    def job(stop):
        loaded = 0
        for rtype in TYPES:  # warm-up, untimed
            op("-I", rtype, PROBE_PORT)
            op("-D", rtype, PROBE_PORT)
        for level in levels:
            for family in (0, 1):
                text = "".join(restore_text(rtype, range(FIRST_PORT + loaded, FIRST_PORT + level),
                                            family) for rtype in TYPES)
                if text:
                    must(subprocess.run([tools[2 + family], "-w", "--noflush"], input=text,
                                        capture_output=True, text=True, timeout=300,
                                        check=False), tools[2 + family])
            loaded = level
            for rtype in TYPES:
                expect(rtype, level)
                res = {"create": [], "delete": [], "create_first": [], "delete_first": []}
                for r in range(n):
                    if stop.is_set():
                        return
                    for verb, name in (("-I", "create"), ("-D", "delete")):
                        total, first = op(verb, rtype, PROBE_PORT + r)
                        res[name].append(ms(total))
                        res[f"{name}_first"].append(ms(first))
                out[rtype][level] = res
                expect(rtype, level)
            log(f"  {level} rules of each type: measured")

    nlwatch.NetnsWorker(ns.name, job).run()
    return out


# ---- 2a. GetTrafficCounters through patchpanel -------------------------------------------

def uplink_names(k):
    return f"eth{100 + k}", f"p{k}"


def uplink_addrs(k):
    net = UPLINK_NETS[k]
    return str(net.network_address + 1), str(net.network_address + 2)


def add_uplinks(lab, peers, count):
    """count veth pairs between host and peers, addressed and up, by two `ip -batch`."""
    host_cmds, peer_cmds = [], []
    for k in range(count):
        (dev, peer), (a, b) = uplink_names(k), uplink_addrs(k)
        peer_cmds += [f"link add name {peer} type veth peer name {dev} netns {lab.host.name}",
                      f"addr add {b}/30 dev {peer}", f"link set {peer} up"]
        host_cmds += [f"addr add {a}/30 dev {dev}", f"link set {dev} up"]
    pplab.run(["ip", "-n", peers.name, "-batch", "-"], input="\n".join(peer_cmds) + "\n")
    pplab.run(["ip", "-n", lab.host.name, "-batch", "-"], input="\n".join(host_cmds) + "\n")


def ping_all(host, count):
    """One ping over every uplink to its peer, all at once, from a thread inside host."""
    def job(_stop):
        procs = []
        for k in range(count):
            dev, _ = uplink_names(k)
            procs.append((dev, subprocess.Popen(
                ["ping", "-n", "-q", "-c", "1", "-W", "2", "-I", dev, uplink_addrs(k)[1]],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
        return [dev for dev, p in procs if p.wait(timeout=30) != 0]
    failed = nlwatch.NetnsWorker(host.name, job).run()
    if failed:
        raise Failure(f"no answer to a ping over {len(failed)} uplinks: {failed[:5]}")


def bench_counters_patchpanel(count, calls, tag, scratch, daemon_args):
    out = {"call_ms": []}
    log(f"[patchpanel] lab with {count} more uplinks, {calls} GetTrafficCounters calls")
    with pplab.Lab(log_level="info", tag=f"{tag}c", daemon_args=daemon_args) as lab, \
            explained(lab):
        pb, bus = lab.pb, lab.bus()
        bus.name_has_owner()
        baseline = lab.datapath_state()
        uplinks0 = sorted(u["name"] for u in lab.status()["uplinks"])
        devs = [uplink_names(k)[0] for k in range(count)]
        peers = scratch.netns("peers")
        try:
            t0 = time.monotonic()
            add_uplinks(lab, peers, count)

            # Tracked by the daemon, and counted: in the counters' own set of uplinks.
            def tracked():
                have = {u["name"] for u in lab.status()["uplinks"] if u["up"]}
                items = lab.host.nft_json("list", "set", "inet", "patchpanel_acct",
                                          "uplinks")["nftables"]
                counted = {e for o in items if "set" in o for e in o["set"].get("elem", [])}
                missing = [d for d in devs if d not in have or d not in counted]
                return f"{len(missing)} not uplinks yet, e.g. {missing[:3]}" if missing else None
            err = pplab.poll(tracked, timeout=60, interval=0.1, what="uplinks")
            if err:
                raise Failure(err)
            out["uplinks_tracked_s"] = time.monotonic() - t0
            ping_all(lab.host, count)

            # Every device must show traffic both ways before anything is timed.
            req = pb.TrafficCountersRequest().SerializeToString()

            def read():
                resp = pb.TrafficCountersResponse()
                resp.ParseFromString(bytes(bus.call("GetTrafficCounters", "ay", [req])[0]))
                return resp

            def counted():
                seen = {}
                for c in read().counters:
                    rx, tx = seen.get(c.device, (0, 0))
                    seen[c.device] = (rx + c.rx_packets, tx + c.tx_packets)
                quiet = [d for d in devs if not all(seen.get(d, (0, 0)))]
                return f"{len(quiet)} devices without rx and tx, e.g. {quiet[:3]}" \
                    if quiet else None
            err = pplab.poll(counted, timeout=10, interval=0.1, what="counters")
            if err:
                raise Failure(f"GetTrafficCounters: {err}")

            for _ in range(5):  # warm-up, untimed
                read()
            out["ping_ms"] = [ms(ping_ns(bus)) for _ in range(min(calls, 50))]
            for _ in range(calls):
                t0 = time.monotonic_ns()
                body = bus.call("GetTrafficCounters", "ay", [req])
                out["call_ms"].append(ms(time.monotonic_ns() - t0))
            resp = pb.TrafficCountersResponse()
            resp.ParseFromString(bytes(body[0]))
            out["counters_returned"] = len(resp.counters)
            out["devices_returned"] = len({c.device for c in resp.counters})
            acct = lab.host.nft_json("list", "table", "inet", "patchpanel_acct")["nftables"]
            out["set_elements"] = sum(len(o["set"].get("elem", [])) for o in acct
                                      if "set" in o and o["set"]["name"] in ("rx", "tx"))
        finally:
            # The veths go with the peers' namespace; the daemon must then forget them.
            peers.delete()
            scratch.namespaces.remove(peers)
        left = pplab.poll(lambda: None if not any(d in lab.host.links() for d in devs) else
                          "veths still in host", timeout=30, interval=0.1, what="veths")
        left = left or pplab.poll(
            lambda: None if sorted(u["name"] for u in lab.status()["uplinks"]) == uplinks0
            else "uplinks still tracked", timeout=10, interval=0.05, what="uplinks")
        left = left or pplab.poll(lambda: pplab.snapshot_diff(baseline, lab.datapath_state()),
                                  timeout=10, interval=0.05, what="state not back")
        if left:
            raise Failure(f"patchpanel left state behind after the uplinks went: {left}")
    return out


# ---- 2b. the original's counters with iptables -------------------------------------------

def counter_chains_text(count):
    """iptables-restore input for the mangle table as the original kept it (the same for
    ip6tables): per interface, chains rx_<if> and tx_<if> with one RETURN rule per source
    and a catch-all, jumped to from FORWARD and INPUT (rx) and POSTROUTING (tx)."""
    lines = ["*mangle"]
    for k in range(count):
        dev, _ = uplink_names(k)
        lines += [f":rx_{dev} - [0:0]", f":tx_{dev} - [0:0]",
                  f"-A FORWARD -i {dev} -j rx_{dev}", f"-A INPUT -i {dev} -j rx_{dev}",
                  f"-A POSTROUTING -o {dev} -j tx_{dev}"]
        for chain in (f"rx_{dev}", f"tx_{dev}"):
            lines += [f"-A {chain} -m mark --mark 0x{s << 8:08x}/0x00003f00 -j RETURN"
                      for s in SOURCES]
            lines.append(f"-A {chain}")
    return "\n".join(lines) + "\nCOMMIT\n"


def counting_rules(listing):
    """How many rules a `-L -x -v -n` listing shows in chains rx_*/tx_*."""
    n, inside = 0, False
    for line in listing.splitlines():
        if line.startswith("Chain "):
            inside = re.match(r"Chain (rx|tx)_[\w.]+ ", line) is not None
        elif inside and line.strip() and not line.lstrip().startswith("pkts"):
            n += 1
    return n


def bench_counters_iptables(backend, count, calls, scratch):
    tools = iptables_cmds(backend)
    out = {"call_ms": [], "first_ms": []}
    log(f"[iptables-{backend}] scratch namespace, counting chains for {count} interfaces")
    ns = scratch.netns(f"counters-{backend}")
    reads = [[tools[family], "-w", "-t", "mangle", "-L", "-x", "-v", "-n"] for family in (0, 1)]

    def job(stop):
        text = counter_chains_text(count)
        for family in (0, 1):
            must(subprocess.run([tools[2 + family], "-w", "--noflush"], input=text,
                                capture_output=True, text=True, timeout=300, check=False),
                 tools[2 + family])
        want = count * 2 * (len(SOURCES) + 1)
        out["listing_bytes"] = 0
        for cmd in reads:  # warm-up, untimed, and a check of what a listing holds
            p = must(timed_run(cmd)[1], " ".join(cmd))
            if counting_rules(p.stdout) != want:
                raise Failure(f"{cmd[0]} lists {counting_rules(p.stdout)} counting rules, "
                              f"expected {want}")
            out["listing_bytes"] += len(p.stdout)
        out["counting_rules_per_family"] = want
        for _ in range(calls):
            if stop.is_set():
                return
            times = []
            for cmd in reads:
                t, p = timed_run(cmd)
                must(p, " ".join(cmd))
                times.append(t)
            out["call_ms"].append(ms(sum(times)))
            out["first_ms"].append(ms(times[0]))

    nlwatch.NetnsWorker(ns.name, job).run()
    return out


# ---- report ------------------------------------------------------------------------------

def summarize_rules(raw, levels):
    """Stats per system, type, level and op; ratios iptables / patchpanel (medians); and
    flatness, median at the largest count / median at the smallest."""
    out = {"stats": {}, "ratios": {}, "flatness": {}}
    lo, hi = levels[0], levels[-1]
    for system, res in raw.items():
        st = out["stats"][system] = {}
        for rtype in TYPES:
            st[rtype] = {level: {key: stats90(xs) for key, xs in res[rtype][level].items()}
                         for level in levels}
            for op in OPS:
                out["flatness"].setdefault(system, {}).setdefault(rtype, {})[op] = ratio(
                    st[rtype][hi][op]["median"], st[rtype][lo][op]["median"])
    pp = out["stats"]["patchpanel"]
    for system in raw:
        if system == "patchpanel":
            continue
        for rtype in TYPES:
            for level in levels:
                for op in OPS:
                    s = out["stats"][system][rtype][level]
                    out["ratios"].setdefault(system, {}).setdefault(rtype, {}).setdefault(
                        level, {})[op] = {
                            "all": ratio(s[op]["median"], pp[rtype][level][op]["median"]),
                            "first": ratio(s[f"{op}_first"]["median"],
                                           pp[rtype][level][op]["median"])}
    medians = [pp[t][lv][op]["median"] for t in TYPES for lv in levels for op in OPS]
    p90s = [pp[t][lv][op]["p90"] for t in TYPES for lv in levels for op in OPS]
    out["patchpanel_worst"] = {"median": max(medians), "p90": max(p90s)}
    return out


def report_rules(summary, levels, n, floor=None, ping=None):
    others = [s for s in summary["stats"] if s != "patchpanel"]
    print(f"\n-- 1. ModifyPortRule: one rule created, then deleted, {n} rounds, with N rules "
          f"of its type present (ms) --")
    head = f"{'type':<11}{'N':>6} {'op':<7}{'patchpanel':>10}{'p90':>7}"
    if floor:
        head += f" | {'floor':>7}{'pp/fl':>7}"
    for s in others:
        head += f" | {s:>15}{'p90':>7}{'1st cmd':>8}{'ratio':>7}"
    print(head)
    pp = summary["stats"]["patchpanel"]
    for rtype in TYPES:
        for level in levels:
            for op in OPS:
                p = pp[rtype][level][op]
                line = f"{rtype:<11}{level:>6} {op:<7}{f2(p['median']):>10}{f2(p['p90']):>7}"
                if floor:
                    fm = floor[rtype][str(level)][op]["median"]
                    line += f" | {fm:>7.3f}{x1(ratio(p['median'], fm)):>7}"
                for s in others:
                    o = summary["stats"][s][rtype][level]
                    r = summary["ratios"][s][rtype][level][op]["all"]
                    line += (f" | {f2(o[op]['median']):>15}{f2(o[op]['p90']):>7}"
                             f"{f2(o[f'{op}_first']['median']):>8}{x1(r):>7}")
                print(line)
    print("  patchpanel = D-Bus round trip (median, p90); iptables = the original's two commands "
          "for the rule,\n  forked from inside the scratch namespace (median, p90, the first "
          "command alone); ratio = iptables / patchpanel (medians)")
    if floor:
        print("  floor = the element in one binary nftables batch (patchpanel-floor); pp/fl = "
              "patchpanel / floor (medians)")
    if ping:
        print(f"  a bare D-Bus round trip (Peer.Ping of patchpaneld): median {f2(ping)} ms, the "
              f"least any method costs")
    lo, hi = levels[0], levels[-1]
    print(f"flatness, median with {hi} rules / median with {lo} (flat = 1.0):")
    for rtype in TYPES:
        for op in OPS:
            fl = ""
            if floor:
                fl = (f", floor {f2(ratio(floor[rtype][str(hi)][op]['median'], floor[rtype][str(lo)][op]['median']))}")
            print(f"  {rtype:<11}{op:<7}" + ", ".join(
                f"{s} {f2(summary['flatness'][s][rtype][op])}" for s in summary["flatness"]) + fl)
    w = summary["patchpanel_worst"]
    print(f"target <= 1 ms per rule and flat: patchpanel's slowest median {f2(w['median'])} ms, "
          f"slowest p90 {f2(w['p90'])} ms over all rows; flatness above")
    if floor:
        pp = summary["stats"]["patchpanel"]
        worst = max(ratio(pp[t][lv][op]["median"], floor[t][str(lv)][op]["median"])
                    for t in TYPES for lv in levels for op in OPS)
        flat = max(summary["flatness"]["patchpanel"][t][op] for t in TYPES for op in OPS)
        print(f"targets (issue 14): <= 3x floor: {'MET' if worst <= 3 else 'NOT MET'} (worst "
              f"{worst:.1f}x); flat, {hi} vs {lo} <= 1.1: {'MET' if flat <= 1.1 else 'NOT MET'} "
              f"(worst {flat:.2f})")
    sys.stdout.flush()


def report_counters(res, count, calls, floor=None):
    print(f"\n-- 2. GetTrafficCounters with {count} more uplinks that carried traffic, "
          f"{calls} calls (ms) --")
    pp = stats90(res["patchpanel"]["call_ms"])
    print(f"{'system':<48}{'median':>8}{'p90':>8}{'mean':>8}{'1st cmd':>9}{'ratio':>8}")
    print(f"{'patchpanel (D-Bus call)':<48}{f2(pp['median']):>8}{f2(pp['p90']):>8}"
          f"{f2(pp['mean']):>8}{'':>9}{'':>8}")
    out = {"patchpanel": pp}
    if floor:
        fr = floor["counters"]["read"]
        out["floor"] = {**fr, "ratio": ratio(pp["median"], fr["median"])}
        print(f"{'floor (2 set dumps, decoded and summed)':<48}{f2(fr['median']):>8}"
              f"{f2(fr['p90']):>8}{f2(fr['mean']):>8}{'':>9}{'':>8}")
    for system, r in res.items():
        if system == "patchpanel":
            continue
        st, first = stats90(r["call_ms"]), stats90(r["first_ms"])
        out[system] = {**st, "first": first, "ratio": ratio(st["median"], pp["median"])}
        print(f"{system + ' -t mangle -L -x -v -n, v4 + v6':<48}{f2(st['median']):>8}"
              f"{f2(st['p90']):>8}{f2(st['mean']):>8}{f2(first['median']):>9}"
              f"{x1(out[system]['ratio']):>8}")
    p = res["patchpanel"]
    print(f"  patchpanel answered {p['counters_returned']} counters for "
          f"{p['devices_returned']} devices, from {p['set_elements']} elements of its "
          f"counters' sets; the {count} uplinks were tracked {p['uplinks_tracked_s']:.2f} s "
          f"after they were made")
    print("  iptables = its listing of the mangle table, then ip6tables' (the first command "
          "alone: 1st cmd);\n  ratio = iptables / patchpanel (medians)")
    for system, r in res.items():
        if system != "patchpanel":
            print(f"  {system}: {r['counting_rules_per_family']} counting rules in "
                  f"{2 * count} chains per family, listings of {r['listing_bytes']} bytes "
                  f"(v4 + v6)")
    if p.get("ping_ms"):
        print(f"  a bare D-Bus round trip (Peer.Ping of patchpaneld): median "
              f"{f2(statistics.median(p['ping_ms']))} ms")
    print(f"target <= 5 ms: patchpanel median {f2(pp['median'])} ms, p90 {f2(pp['p90'])} ms")
    if floor:
        fl = out["floor"]
        nft = out.get("iptables-nft", {}).get("ratio")
        print(f"  floor: {floor['counters']['elements']} elements dumped, "
              f"{floor['counters']['counters']} counters; patchpanel / floor = "
              f"{x1(fl['ratio'])}")
        print(f"targets (issue 14): <= 3x floor: {'MET' if fl['ratio'] <= 3 else 'NOT MET'}; "
              f">= 25x faster than iptables(-nft) listing: "
              f"{'MET' if nft and nft >= 25 else 'NOT MET'} ({x1(nft)})")
    sys.stdout.flush()
    return out


# ---- main --------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--rules", default=",".join(map(str, LEVELS)),
                    help="rule counts to measure at, ascending (default 10,1000,10000)")
    ap.add_argument("--n", type=int, default=50,
                    help="create+delete rounds per rule type and count (default 50)")
    ap.add_argument("--uplinks", type=int, default=100,
                    help="extra uplinks for GetTrafficCounters (default 100)")
    ap.add_argument("--calls", type=int, default=200,
                    help="GetTrafficCounters calls, and listings per backend (default 200)")
    ap.add_argument("--iptables", default=",".join(BACKENDS),
                    help="iptables backends to compare with (default nft,legacy)")
    ap.add_argument("--only", choices=("rules", "counters"), help="run only one part")
    ap.add_argument("--daemon-arg", action="append", default=[], metavar="ARG",
                    help="one more patchpaneld argument, e.g. --daemon-arg=--seccomp=log "
                         "(repeatable)")
    ap.add_argument("--json", type=Path, help="write the raw numbers here")
    args = ap.parse_args()
    try:
        levels = [int(x) for x in args.rules.split(",")]
    except ValueError:
        ap.error("--rules takes numbers separated by commas")
    if levels != sorted(set(levels)) or levels[0] < 1 or levels[-1] > MAX_LEVEL:
        ap.error(f"--rules must be ascending, within 1..{MAX_LEVEL}")
    if not 2 <= args.n <= MAX_ROUNDS:
        ap.error(f"--n must be within 2..{MAX_ROUNDS}")
    if not 1 <= args.uplinks <= len(UPLINK_NETS):
        ap.error(f"--uplinks must be within 1..{len(UPLINK_NETS)}")
    if args.calls < 2:
        ap.error("--calls must be at least 2")
    backends = [b for b in args.iptables.split(",") if b]
    if any(b not in BACKENDS for b in backends):
        ap.error(f"--iptables takes {', '.join(BACKENDS)}")
    if os.geteuid() != 0:
        ap.error("run as root")

    def on_term(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)

    start = time.monotonic()
    tag = "bf" + secrets.token_hex(2)
    env = environment()
    env.pop("cni_plugins", None)
    env["iptables_legacy"] = subprocess.run(["iptables-legacy", "-V"], capture_output=True,
                                            text=True, check=False).stdout.strip()
    print("== Firewall benchmark: ModifyPortRule and GetTrafficCounters ==")
    print(f"kernel {env['kernel']}, {env['cpus']} CPUs, loadavg "
          f"{' '.join(f'{x:.2f}' for x in env['loadavg'])}; patchpanel {env['patchpanel']} "
          f"({env['build']}); {env['iptables']}; {env['iptables_legacy']}", flush=True)
    if args.daemon_arg:
        print(f"patchpaneld with {' '.join(args.daemon_arg)}", flush=True)
    result = {"env": env, "rules": levels, "n": args.n, "uplinks": args.uplinks,
              "calls": args.calls, "backends": backends, "daemon_args": args.daemon_arg}
    scratch = Scratch(tag)
    status = 0
    try:
        if args.only != "counters":
            raw = {"patchpanel": bench_rules_patchpanel(levels, args.n, tag, args.daemon_arg)}
            for b in backends:
                try:
                    raw[f"iptables-{b}"] = bench_rules_iptables(b, levels, args.n, scratch)
                finally:
                    scratch.delete_all()
            result["rules_raw"] = raw
            result["rules_summary"] = summarize_rules(raw, levels)
            floor = run_floor("--only", "rules", "--rules", ",".join(map(str, levels)),
                              "--rounds", args.n)
            result["rules_floor"] = floor["rules"]
            report_rules(result["rules_summary"], levels, args.n, floor["rules"],
                         statistics.median(raw["patchpanel"]["ping_ms"]))
        if args.only != "rules":
            res = {}
            try:
                res["patchpanel"] = bench_counters_patchpanel(args.uplinks, args.calls, tag,
                                                              scratch, args.daemon_arg)
                for b in backends:
                    res[f"iptables-{b}"] = bench_counters_iptables(b, args.uplinks,
                                                                   args.calls, scratch)
            finally:
                scratch.delete_all()
            result["counters_raw"] = res
            floor = run_floor("--only", "counters", "--counter-elements",
                              max(2, res["patchpanel"]["set_elements"]), "--counter-uplinks",
                              max(1, res["patchpanel"]["devices_returned"]), "--calls", args.calls)
            result["counters_floor"] = floor["counters"]
            result["counters_summary"] = report_counters(res, args.uplinks, args.calls, floor)
    except (Failure, pplab.DBusError) as e:  # a call answered with an error is a failure too
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
