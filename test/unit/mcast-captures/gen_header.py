#!/usr/bin/python3
"""Turn the recordings of capture.py into test/unit/mcast-captures.h: real packets, chosen by
what they are, each with a comment that says where it came from and what it holds.

    gen_header.py CAPTUREDIR > test/unit/mcast-captures.h

mDNS and SSDP packets are kept as UDP payloads (what a UDP socket hands mcastd), broadcast
packets as whole IPv4 packets with the PACKET_AUXDATA status (what its AF_PACKET SOCK_DGRAM
socket hands it).
"""
import ipaddress
import json
import pathlib
import struct
import sys

TYPES = {1: "A", 2: "NS", 5: "CNAME", 12: "PTR", 16: "TXT", 28: "AAAA", 33: "SRV", 47: "NSEC",
         255: "ANY"}


def records(path):
    for line in open(path):
        r = json.loads(line)
        b = bytes.fromhex(r["hex"])
        if r["proto"] == 0x0800 and b[9] == 17:
            src, dst = ipaddress.ip_address(b[12:16]), ipaddress.ip_address(b[16:20])
            l4 = b[(b[0] & 15) * 4:]
        elif r["proto"] == 0x86DD and b[6] == 17:
            src, dst = ipaddress.ip_address(b[8:24]), ipaddress.ip_address(b[24:40])
            l4 = b[40:]
        else:
            continue
        sport, dport = struct.unpack("!HH", l4[:4])
        yield dict(r, ip=b, src=src, dst=dst, sport=sport, dport=dport, payload=l4[8:])


def dns_name(b, off):
    labels = []
    while True:
        n = b[off]
        if n >= 0xC0:
            rest, _ = dns_name(b, ((n & 0x3F) << 8) | b[off + 1])
            return ".".join(labels + [rest]).strip("."), off + 2
        if n == 0:
            return ".".join(labels), off + 1
        labels.append(b[off + 1:off + 1 + n].decode("latin1"))
        off += 1 + n


def dns_summary(p):
    _id, flags, qd, an, ns, ar = struct.unpack("!6H", p[:12])
    off, out = 12, []
    for _ in range(qd):
        name, off = dns_name(p, off)
        t, c = struct.unpack("!HH", p[off:off + 4])
        off += 4
        out.append(f"Q {name} {TYPES.get(t, t)}{' QU' if c & 0x8000 else ''}")
    for i in range(an + ns + ar):
        sect = "an" if i < an else "ns" if i < an + ns else "ar"
        name, off = dns_name(p, off)
        t, c, ttl, rdlen = struct.unpack("!HHIH", p[off:off + 10])
        rd = p[off + 10:off + 10 + rdlen]
        val = ""
        if t == 1:
            val = " " + str(ipaddress.ip_address(rd))
        elif t == 28:
            val = " " + str(ipaddress.ip_address(rd))
        off += 10 + rdlen
        out.append(f"{sect} {name} {TYPES.get(t, t)}{' flush' if c & 0x8000 else ''} "
                   f"ttl {ttl}{val}")
    return flags, (qd, an, ns, ar), out


def c_array(name, data, comment):
    lines = ["/*"] + [" * " + c if c else " *" for c in comment] + [" */"]
    lines.append(f"static const uint8_t {name}[{len(data)}] = {{")
    for i in range(0, len(data), 12):
        lines.append("        " + " ".join(f"0x{x:02x}," for x in data[i:i + 12]))
    lines.append("};")
    return "\n".join(lines) + "\n"


def pick(recs, what, pred):
    for r in recs:
        if pred(r):
            return r
    raise SystemExit(f"gen_header: no packet for {what}")


def mdns(r, dns_pred):
    if 5353 not in (r["sport"], r["dport"]) or len(r["payload"]) < 12:
        return False
    flags, counts, rrs = dns_summary(r["payload"])
    return dns_pred(flags, counts, rrs)


def main():
    d = pathlib.Path(sys.argv[1])
    a = list(records(d / "a.jsonl"))   # recorded in mcap-a: what mcap-b sent, and mcap-a's own
    from_b = [r for r in a if str(r["src"]) in ("192.0.2.11", "2001:db8:a::11")]
    from_a = [r for r in a if str(r["src"]) in ("192.0.2.10", "2001:db8:a::10")]
    v4 = ipaddress.IPv4Address

    mdns_sel = [
        ("cap_mdns_probe_v4", "avahi-daemon probing its host name (RFC 6762 §8.1)", from_b,
         lambda r: isinstance(r["src"], v4) and mdns(r, lambda f, c, rr: f == 0 and c[2] > 0
                                                       and c[0] == 3)),
        ("cap_mdns_host_v4", "avahi-daemon announcing its host records", from_b,
         lambda r: isinstance(r["src"], v4) and mdns(r, lambda f, c, rr: f & 0x8000 and c[1] == 4)),
        ("cap_mdns_announce_v4", "avahi-publish announcing _ipp._tcp (RFC 6762 §8.3)", from_b,
         lambda r: isinstance(r["src"], v4) and mdns(
             r, lambda f, c, rr: f & 0x8000 and c[1] == 6 and "ttl 0" not in " ".join(rr))),
        ("cap_mdns_goodbye_v4", "avahi-publish leaving: goodbye records with TTL 0 (§10.1)",
         from_b, lambda r: isinstance(r["src"], v4) and mdns(
             r, lambda f, c, rr: f & 0x8000 and "ttl 0" in " ".join(rr))),
        ("cap_mdns_announce_v6", "the same announcement over IPv6 (AAAA only)", from_b,
         lambda r: not isinstance(r["src"], v4) and mdns(
             r, lambda f, c, rr: f & 0x8000 and c[1] == 5 and "ttl 0" not in " ".join(rr))),
        ("cap_mdns_browse_v6", "avahi-browse: a PTR query with a known answer (§7.1)", from_b,
         lambda r: not isinstance(r["src"], v4) and mdns(
             r, lambda f, c, rr: f == 0 and c == (1, 1, 0, 0))),
        ("cap_mdns_legacy_query_v4", "a legacy unicast query from an ephemeral port (§6.7)",
         from_b, lambda r: r["sport"] != 5353 and mdns(r, lambda f, c, rr: f == 0)),
        ("cap_mdns_legacy_answer_v4", "avahi-daemon's unicast answer to it, question repeated",
         from_a, lambda r: r["dport"] != 5353 and mdns(r, lambda f, c, rr: f & 0x8000)),
        ("cap_mdns_service_v4", "avahi-daemon answering with its static _http._tcp service",
         from_a, lambda r: isinstance(r["src"], v4) and mdns(
             r, lambda f, c, rr: f & 0x8000 and c[1] == 6)),
    ]
    ssdp_sel = [
        ("cap_ssdp_notify_alive", "GSSDP 1.6.2 announcing a device: NOTIFY ssdp:alive", from_a,
         lambda r: r["payload"].startswith(b"NOTIFY") and b"ssdp:alive" in r["payload"]
         and b"NT: urn:schemas-upnp-org:device:tbtest:1" in r["payload"]),
        ("cap_ssdp_notify_byebye", "GSSDP withdrawing it: NOTIFY ssdp:byebye", from_a,
         lambda r: r["payload"].startswith(b"NOTIFY") and b"ssdp:byebye" in r["payload"]),
        ("cap_ssdp_msearch", "gssdp-discover searching: M-SEARCH from an ephemeral port", from_b,
         lambda r: r["payload"].startswith(b"M-SEARCH")),
        ("cap_ssdp_response", "GSSDP's unicast answer to the M-SEARCH: HTTP/1.1 200 OK", from_a,
         lambda r: r["payload"].startswith(b"HTTP/1.1 200 OK")),
    ]
    bcast_sel = [
        ("cap_bcast_limited_partial", b"hello 255.255.255.255\n"),
        ("cap_bcast_subnet_partial", b"hello 192.0.2.255\n"),
        ("cap_bcast_limited_full", b"full checksum\n"),
        ("cap_bcast_option_full", b"with option\n"),
    ]

    out = ["/* SPDX-License-Identifier: BSD-3-Clause */",
           "/* Generated by test/unit/mcast-captures/gen_header.py from a run of capture.py:",
           " * real packets from avahi-daemon 0.8, GSSDP 1.6.2 and socat 1.7.4.4 between two",
           " * network namespaces, mcap-a (192.0.2.10, 2001:db8:a::10) and mcap-b (192.0.2.11,",
           " * 2001:db8:a::11), recorded by an AF_PACKET socket in mcap-a. Do not edit. */",
           "#pragma once", "", "#include <stdint.h>", ""]
    for name, what, recs, pred in mdns_sel:
        r = pick(recs, name, pred)
        flags, counts, rrs = dns_summary(r["payload"])
        comment = [f"{what}.", f"{r['src']}:{r['sport']} -> {r['dst']}:{r['dport']}, "
                   f"flags 0x{flags:04x}, qd {counts[0]} an {counts[1]} ns {counts[2]} "
                   f"ar {counts[3]}:"] + ["  " + x for x in rrs]
        out.append(c_array(name, r["payload"], comment))
    for name, what, recs, pred in ssdp_sel:
        r = pick(recs, name, pred)
        first = r["payload"].split(b"\r\n")[0].decode()
        comment = [f"{what}.", f"{r['src']}:{r['sport']} -> {r['dst']}:{r['dport']}: {first}"]
        out.append(c_array(name, r["payload"], comment))
    for name, text in bcast_sel:
        r = pick(from_b, name, lambda r: r["payload"] == text)
        ip = r["ip"]
        partial = bool(r["tp_status"] & 8)
        comment = [f"socat broadcast {r['src']}:{r['sport']} -> {r['dst']}:{r['dport']} "
                   f"{text.decode()!r},", "as mcap-a's packet socket saw it",
                   f"(tp_status 0x{r['tp_status']:x}, IHL {ip[0] & 15}"
                   + ("; TP_STATUS_CSUMNOTREADY:" if partial else "; checksum complete)."),
                   *(["the UDP checksum field holds only the pseudo-header sum)."]
                     if partial else [])]
        out.append(c_array(name, ip, comment))
        out.append(f"#define {name.upper()}_CSUM_NOT_READY {1 if partial else 0}\n")
    print("\n".join(out), end="")


if __name__ == "__main__":
    main()
