#!/usr/bin/python3
"""Write the seed corpora of the mcast fuzz targets, corpus/mcast-{dns,ssdp,bcast}/seed-*:
the real packets of test/unit/mcast-captures.h plus hand-built valid inputs and near
misses, each in its target's input format (see the top of fuzz-mcast-*.c). Run it again
after the captures or a format change; it only rewrites seed-* files.
    /usr/bin/python3 test/fuzz/mcast_seeds.py"""

import re
import struct
from pathlib import Path

from seedio import write

HERE = Path(__file__).resolve().parent
CAPTURES = HERE.parent / "unit" / "mcast-captures.h"


def captures():
    text = CAPTURES.read_text()
    out = {}
    for name, body in re.findall(r"static const uint8_t (\w+)\[\d+\] = \{(.*?)\};", text, re.S):
        out[name] = bytes(int(x, 16) for x in re.findall(r"0x([0-9a-f]{2})", body))
    flags = dict(re.findall(r"#define (\w+)_CSUM_NOT_READY (\d)", text))
    return out, {k.lower(): int(v) for k, v in flags.items()}


def name(*labels):
    return b"".join(bytes([len(x)]) + x.encode() for x in labels) + b"\0"


def hdr(flags, qd=0, an=0, ns=0, ar=0):
    return struct.pack("!6H", 0, flags, qd, an, ns, ar)


def rr(rtype, rclass, ttl, rdata):
    return struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def ptr(off):
    return struct.pack("!H", 0xC000 | off)


def dns_seeds():
    a_local = name("a", "local")  # at offset 12
    return {
        "query-a": hdr(0, 1) + a_local + struct.pack("!HH", 1, 1),
        "response-compressed": hdr(0x8400, an=3) + a_local
        + rr(1, 0x8001, 120, bytes([192, 0, 2, 11])) + b"\x03www" + ptr(12)
        + rr(1, 0x8001, 120, bytes([192, 0, 2, 12])) + ptr(14) + rr(12, 1, 4500, ptr(12)),
        "response-srv-txt-nsec": hdr(0x8400, an=3) + a_local
        + rr(33, 0x8001, 120, struct.pack("!HHH", 0, 0, 631) + ptr(12))
        + ptr(12) + rr(16, 0x8001, 4500, b"\x03a=b\x00")
        + ptr(12) + rr(47, 0x8001, 120, ptr(12) + b"\x00\x04\x40\x00\x00\x08"),
        "response-soa-mx-hinfo": hdr(0x8400, an=3) + a_local
        + rr(6, 1, 120, ptr(12) + ptr(14) + struct.pack("!5I", 1, 2, 3, 4, 5))
        + ptr(12) + rr(15, 1, 120, b"\x00\x0a" + ptr(12))
        + ptr(12) + rr(13, 1, 120, b"\x03x86\x05Linux"),
        "probe-authority": hdr(0, 1, ns=1) + a_local + struct.pack("!HH", 255, 1)
        + ptr(12) + rr(1, 1, 120, bytes([192, 0, 2, 11])),
        "near-miss-pointer-forward": hdr(0, 1) + ptr(18) + struct.pack("!HH", 1, 1) + a_local,
        "near-miss-pointer-header": hdr(0, 2) + a_local + struct.pack("!HH", 1, 1) + ptr(4)
        + struct.pack("!HH", 1, 1),
        "near-miss-a-length": hdr(0x8400, an=1) + a_local + rr(1, 1, 120, bytes([192, 0, 2])),
        "near-miss-trailing": hdr(0, 1) + a_local + struct.pack("!HH", 1, 1) + b"\0",
    }


SSDP_SEEDS = {
    "msearch-minimal": b'M-SEARCH * HTTP/1.1\r\nMAN: "ssdp:discover"\r\nST: ssdp:all\r\n'
                       b"MX: 120\r\n\r\n",
    "msearch-lower-case": b"M-SEARCH * HTTP/1.1\r\nhost: 239.255.255.250:1900\r\n"
                          b"man: ssdp:discover\r\nst: upnp:rootdevice\r\nmx: 1\r\n\r\n",
    "notify-update": b"NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\nNTS: ssdp:update\r\n"
                     b"USN: uuid:1::upnp:rootdevice\r\nNEXTBOOTID.UPNP.ORG: 2\r\n\r\n",
    "response-no-reason": b"HTTP/1.1 200\r\nST: ssdp:all\r\nUSN: uuid:1\r\nEXT:\r\n\r\n",
    "near-miss-bare-lf": b'M-SEARCH * HTTP/1.1\nMAN: "ssdp:discover"\nST: ssdp:all\n\n',
    "near-miss-duplicate": b'M-SEARCH * HTTP/1.1\r\nMAN: "ssdp:discover"\r\nST: a\r\nst: b\r\n\r\n',
}


def csum(data, start=0):
    if len(data) % 2:
        data += b"\0"
    s = start + sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_bcast(src, dst, payload, sport=4000, dport=5000, zero_csum=False, frag=0, options=b""):
    ihl = 20 + len(options)
    total = ihl + 8 + len(payload)
    s = bytes(map(int, src.split(".")))
    d = bytes(map(int, dst.split(".")))
    ip = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl // 4, 0, total, 1, frag, 64, 17, 0, s, d)
    ip += options
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    if not zero_csum:
        pseudo = s + d + struct.pack("!BBH", 0, 17, len(udp))
        c = csum(pseudo + udp) or 0xFFFF
        udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    return ip + udp


def bcast_seeds():
    # first byte: bit 0 checksum not ready, bit 1 from the guest link (fuzz-mcast-bcast.c)
    return {
        "guest-subnet": b"\x02" + udp_bcast("100.115.92.2", "100.115.92.3", b"hello"),
        "guest-limited": b"\x02" + udp_bcast("100.115.92.2", "255.255.255.255", b"hi"),
        "guest-zero-checksum": b"\x02" + udp_bcast("100.115.92.2", "100.115.92.3", b"x",
                                                   zero_csum=True),
        "uplink-option-nop": b"\x00" + udp_bcast("192.0.2.11", "192.0.2.255", b"opt",
                                                 options=b"\x01\x01\x01\x00"),
        "near-miss-fragment": b"\x00" + udp_bcast("192.0.2.11", "192.0.2.255", b"f",
                                                  frag=0x2000),
        "near-miss-port": b"\x00" + udp_bcast("192.0.2.11", "255.255.255.255", b"dhcp",
                                              sport=68, dport=67),
    }


def main():
    caps, not_ready = captures()
    dns = {k[len("cap_mdns_"):].replace("_", "-"): v for k, v in caps.items()
           if k.startswith("cap_mdns_")}
    dns.update(dns_seeds())
    ssdp = {k[len("cap_ssdp_"):].replace("_", "-"): v for k, v in caps.items()
            if k.startswith("cap_ssdp_")}
    ssdp.update(SSDP_SEEDS)
    bcast = {k[len("cap_bcast_"):].replace("_", "-"): bytes([not_ready[k]]) + v
             for k, v in caps.items() if k.startswith("cap_bcast_")}
    bcast.update(bcast_seeds())
    write("mcast-dns", dns)
    write("mcast-ssdp", ssdp)
    write("mcast-bcast", bcast)


if __name__ == "__main__":
    main()
