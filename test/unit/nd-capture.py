#!/usr/bin/python3
"""Capture real Neighbor Discovery frames for the ND proxy's unit tests and fuzz corpus.

Two throw-away namespaces joined by a veth:

    router (r0 02:00:5e:00:53:01, 2001:db8:1::1/64, radvd)  ==  host (eth0 02:00:5e:00:53:02)

tcpdump listens on r0 before host's eth0 comes up, so it sees the host's DAD NS (with
Linux's nonce option, RFC 7527), its RSs, radvd's multicast and solicited RAs (prefix
information, RDNSS, MTU and source link-layer options), multicast and unicast NSs (a NUD
probe is forced by marking the router's entry stale) and solicited, unsolicited
(ndisc_notify) and option-less NAs. One frame of each kind is kept and written as C arrays
to test/unit/nd-captured.h and as files to test/fuzz/corpus/nd-packet/.

Run as root from anywhere: /usr/bin/python3 test/unit/nd-capture.py
Needs radvd, ndisc6 (rdisc6), tcpdump and iputils-ping. Everything it creates is removed.
"""

import ipaddress
import secrets
import struct
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "test" / "lib"))
from pplab import Netns, poll  # noqa: E402

HEADER = REPO / "test" / "unit" / "nd-captured.h"
CORPUS = REPO / "test" / "fuzz" / "corpus" / "nd-packet"

ROUTER_MAC = "02:00:5e:00:53:01"
HOST_MAC = "02:00:5e:00:53:02"
ROUTER_ADDRS = (ipaddress.IPv6Address("fe80::5eff:fe00:5301"),
                ipaddress.IPv6Address("2001:db8:1::1"))

RADVD_CONF = """interface r0 {
        AdvSendAdvert on; MinRtrAdvInterval 3; MaxRtrAdvInterval 4; AdvLinkMTU 1500;
        prefix 2001:db8:1::/64 { AdvOnLink on; AdvAutonomous on; };
        RDNSS 2001:db8:1::53 { };
};
"""

# name -> (description, predicate over (type, src, dst, icmp payload))
KINDS = {
    "rs_slla": ("RS from the host's link-local address, with a source link-layer option",
                lambda t, s, d, p: t == 133 and len(p) == 16),
    "rs_bare": ("RS without options (rdisc6)",
                lambda t, s, d, p: t == 133 and len(p) == 8),
    "ra_multicast": ("radvd's periodic RA to ff02::1: prefix information, RDNSS, MTU, "
                     "source link-layer",
                     lambda t, s, d, p: t == 134 and d.is_multicast),
    "ra_unicast": ("radvd's RA answering rdisc6, unicast to the host's link-local address",
                   lambda t, s, d, p: t == 134 and not d.is_multicast),
    "ns_dad": ("DAD NS from :: to the solicited-node group, with Linux's nonce option",
               lambda t, s, d, p: t == 135 and s.is_unspecified),
    "ns_multicast": ("address resolution NS to a solicited-node group, with a source "
                     "link-layer option",
                     lambda t, s, d, p: t == 135 and not s.is_unspecified
                     and d.is_multicast),
    "ns_unicast": ("NUD probe: unicast NS with a source link-layer option",
                   lambda t, s, d, p: t == 135 and not d.is_multicast),
    "na_solicited": ("the router's solicited NA (R, S, O) with a target link-layer option",
                     lambda t, s, d, p: t == 136 and p[4] & 0x40 and len(p) == 32),
    "na_unsolicited": ("the host's unsolicited NA to ff02::1 for its SLAAC address "
                       "(ndisc_notify), O set",
                       lambda t, s, d, p: t == 136 and d.is_multicast
                       and not ipaddress.IPv6Address(p[8:24]).is_link_local),
    "na_bare": ("the router's solicited NA (R, S) answering a NUD probe, without options",
                lambda t, s, d, p: t == 136 and len(p) == 24 and s in ROUTER_ADDRS),
}


def read_pcap(path):
    data = path.read_bytes()
    magic = struct.unpack_from("<I", data)[0]
    if magic != 0xa1b2c3d4:
        raise RuntimeError(f"unexpected pcap magic {magic:#x}")
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack_from("<IIII", data, off)
        off += 16
        if incl > len(data) - off:
            break
        yield data[off:off + incl]
        off += incl


def classify(frames):
    found = {}
    for f in frames:
        if len(f) < 58 or f[12:14] != b"\x86\xdd" or f[20] != 58:
            continue
        src = ipaddress.IPv6Address(f[22:38])
        dst = ipaddress.IPv6Address(f[38:54])
        payload = f[54:]
        for name, (_, match) in KINDS.items():
            if name not in found and match(payload[0], src, dst, payload):
                found[name] = f
                break
    return found


def capture(workdir):
    tag = secrets.token_hex(3)
    router = Netns(f"ndcap-r-{tag}")
    host = None
    radvd = tcpdump = None
    pcap = workdir / "nd.pcap"
    try:
        host = Netns(f"ndcap-h-{tag}")
        router.out("ip", "link", "add", "name", "r0", "address", ROUTER_MAC, "type", "veth",
                   "peer", "name", "eth0", "netns", host.name, "address", HOST_MAC)
        router.sysctl("net.ipv6.conf.all.forwarding", 1)
        host.sysctl("net.ipv6.conf.eth0.ndisc_notify", 1)
        host.sysctl("net.ipv6.neigh.eth0.delay_first_probe_time", 1)
        router.out("ip", "link", "set", "r0", "up")
        router.out("ip", "addr", "add", "2001:db8:1::1/64", "dev", "r0", "nodad")
        (workdir / "radvd.conf").write_text(RADVD_CONF)

        tcpdump = router.spawn("tcpdump", "-q", "-n", "-i", "r0", "-s", "0", "-U",
                               "-w", pcap, "icmp6", stderr=open(workdir / "tcpdump.log", "w"))
        err = poll(lambda: None if "listening" in (workdir / "tcpdump.log").read_text()
                   else "not yet", timeout=10, what="tcpdump")
        if err:
            raise RuntimeError(err)

        host.out("ip", "link", "set", "eth0", "up")
        radvd = router.spawn("radvd", "-n", "-C", workdir / "radvd.conf",
                             "-p", workdir / "radvd.pid", "-m", "logfile",
                             "-l", workdir / "radvd.log")
        err = poll(lambda: None if any(a.startswith("2001:db8:1:") for a in
                                       host_addrs(host)) else "no SLAAC address yet",
                   timeout=15, what="SLAAC in host")
        if err:
            raise RuntimeError(err)
        host.exec("rdisc6", "-1", "eth0")
        host.exec("ping", "-n", "-c", "2", "-i", "0.5", "2001:db8:1::1")
        # A stale entry makes the next packet go through DELAY and PROBE: a unicast NS.
        host.out("ip", "neigh", "change", "2001:db8:1::1", "dev", "eth0", "lladdr", ROUTER_MAC,
                 "nud", "stale")
        host.exec("ping", "-n", "-c", "3", "-i", "1", "2001:db8:1::1")
        # radvd's periodic RA comes every 3 to 4 s.
        err = poll(lambda: missing(classify(read_pcap(pcap))) or None, timeout=15,
                   interval=0.2, what="every kind of frame")
        if err:
            raise RuntimeError(err)
    finally:
        for p in (radvd, tcpdump):
            if p and p.poll() is None:
                p.terminate()
                p.wait(timeout=5)
        if host:
            host.delete()
        router.delete()
    return pcap


def missing(found):
    return ", ".join(k for k in KINDS if k not in found)


def host_addrs(ns):
    return [a["local"] for l in ns.ip_json("-6", "addr", "show", "dev", "eth0")
            for a in l.get("addr_info", [])]


def c_array(name, desc, frame):
    lines = [f"/* {desc} ({len(frame)} bytes) */",
             f"static const uint8_t captured_{name}[] = {{"]
    for i in range(0, len(frame), 12):
        lines.append("        " + ", ".join(f"0x{b:02x}" for b in frame[i:i + 12]) + ",")
    lines.append("};")
    return "\n".join(lines)


def main():
    with tempfile.TemporaryDirectory(prefix="ndcap.") as tmp:
        found = classify(read_pcap(capture(Path(tmp))))
    if missing(found):
        sys.exit(f"nd-capture: not captured: {missing(found)}")

    out = ["/* SPDX-License-Identifier: BSD-3-Clause */",
           "/*",
           " * Generated by test/unit/nd-capture.py: Neighbor Discovery frames captured with",
           " * tcpdump on a veth between radvd's router (r0 " + ROUTER_MAC + ", fe80::5eff:fe00:5301,",
           " * 2001:db8:1::1) and a Linux host (eth0 " + HOST_MAC + ", fe80::5eff:fe00:5302,",
           " * SLAAC 2001:db8:1::5eff:fe00:5302). Do not edit; re-run the script instead.",
           " */",
           "#pragma once",
           "",
           "#include <stdint.h>",
           ""]
    for name, (desc, _) in KINDS.items():
        out.append(c_array(name, desc, found[name]))
        out.append("")
    HEADER.write_text("\n".join(out))

    CORPUS.mkdir(parents=True, exist_ok=True)
    for name in KINDS:
        (CORPUS / f"captured-{name.replace('_', '-')}").write_bytes(found[name])
    print(f"nd-capture: {len(found)} frames -> {HEADER.relative_to(REPO)}, "
          f"{CORPUS.relative_to(REPO)}/captured-*")


if __name__ == "__main__":
    main()
