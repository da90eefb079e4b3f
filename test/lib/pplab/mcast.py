"""Multicast and broadcast tools for the mcastd tests and benchmark: datagrams sent and
received inside a namespace (mDNS answers with a unique name each, SSDP M-SEARCH with its
unicast replies, UDP broadcasts), and packet captures (tcpdump) read back as a list of
datagrams, so a test can count exactly what crossed a link.

    got = mdns_listen(guest_ns, "eth0", seconds=2)        # a Popen; .result() later
    mdns_send(lan_ns, "lan0", "probe-1")                 # probe-1.local A 192.0.2.1
    with Capture(ns, "eth0", "udp port 5353") as cap: ...
    [p for p in cap.packets if b"probe-1" in p.payload]

Everything runs with /usr/bin/python3 from the standard library (TOOL below) or tcpdump,
in the namespace given, and sends with IP_MULTICAST_IF / IPV6_MULTICAST_IF, so a
namespace without routes can send too. Use documentation prefixes only.
"""

import json
import signal
import socket
import struct
import subprocess
import time
from dataclasses import dataclass

from .netns import poll

MDNS_GROUP4, MDNS_GROUP6, MDNS_PORT = "224.0.0.251", "ff02::fb", 5353
SSDP_GROUP4, SSDP_GROUP6, SSDP_PORT = "239.255.255.250", "ff02::c", 1900

# The tool every namespace runs: subcommands send, listen, msearch, bcast-send,
# bcast-listen, each printing JSON lines. Standard library only.
TOOL = r'''
import json, select, socket, struct, sys, time
IP_PKTINFO = 8

def labels(name):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"

def mdns_answer(name, addr, family):
    """An mDNS response, cache-flush, with one A (or AAAA) record of name."""
    if family == 4:
        rr = struct.pack("!HHIH", 1, 0x8001, 120, 4) + socket.inet_aton(addr)
    else:
        rr = struct.pack("!HHIH", 28, 0x8001, 120, 16) + socket.inet_pton(socket.AF_INET6, addr)
    return struct.pack("!6H", 0, 0x8400, 0, 1, 0, 0) + labels(name) + rr

def mdns_query(name):
    return struct.pack("!6H", 0x1234, 0, 1, 0, 0, 0) + labels(name) + struct.pack("!HH", 1, 1)

MALFORMED = {
    # A name whose compression pointer points forward (a loop in the making).
    "pointer-forward": struct.pack("!6H", 0, 0x8400, 0, 1, 0, 0) + b"\xc0\x20" +
        struct.pack("!HHIH", 1, 1, 120, 4) + bytes(4),
    # Fewer bytes than a DNS header.
    "short": b"\x00\x00\x84\x00\x00",
    # An answer count beyond what is there.
    "truncated": struct.pack("!6H", 0, 0x8400, 0, 3, 0, 0) + labels("x.local"),
}

def mcast_socket(family, ifname, port, group=None, ttl=255):
    idx = socket.if_nametoindex(ifname)
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    s = socket.socket(af, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == 4:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                     struct.pack("4s4si", b"\0" * 4, b"\0" * 4, idx))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
        s.bind(("0.0.0.0", port))
        if group:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                         struct.pack("4s4si", socket.inet_aton(group), b"\0" * 4, idx))
    else:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, ttl)
        s.bind(("::", port))
        if group:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                         socket.inet_pton(socket.AF_INET6, group) + struct.pack("@I", idx))
    return s, idx

def dest(family, group, port, idx):
    return (group, port) if family == 4 else (group, port, 0, idx)

def names_in(data):
    """The first name of a DNS message, as text (our probes have one record)."""
    out, off = [], 12
    while off < len(data) and data[off] and data[off] < 64:
        n = data[off]
        out.append(data[off + 1:off + 1 + n].decode(errors="replace"))
        off += 1 + n
    return ".".join(out)

def print_answers(s, seconds, describe):
    """Print describe(data) with the source of each datagram s gets within seconds."""
    s.settimeout(0.2)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            data, src = s.recvfrom(9000)
        except socket.timeout:
            continue
        print(json.dumps({"src": src[0], "sport": src[1], **describe(data)}), flush=True)

def ssdp_fields(data):
    head = data.decode(errors="replace").split("\r\n")
    return {"status": head[0], "headers": {l.split(":", 1)[0].strip().upper():
                                           l.split(":", 1)[1].strip()
                                           for l in head[1:] if ":" in l}}

cmd, args = sys.argv[1], json.loads(sys.argv[2])
if cmd == "send":
    fam = args.get("family", 4)
    s, idx = mcast_socket(fam, args["ifname"], args.get("sport", 5353), ttl=args.get("ttl", 255))
    group = "224.0.0.251" if fam == 4 else "ff02::fb"
    n, rate = args.get("count", 1), args.get("rate", 0)
    t0 = time.monotonic()
    sent = 0
    for i in range(n):
        if rate:
            due = t0 + i / rate
            while True:
                now = time.monotonic()
                if now >= due:
                    break
                if due - now > 0.002:
                    time.sleep(due - now - 0.001)
        if "malformed" in args:
            data = MALFORMED[args["malformed"]]
        elif args.get("query"):
            data = mdns_query(args["name"])
        else:
            name = args["name"] if n == 1 else f"{args['name']}-{i}-{time.monotonic_ns()}"
            data = mdns_answer(name + ".local", args.get("addr", "192.0.2.1"), fam)
        try:
            s.sendto(data, dest(fam, group, 5353, idx))
            sent += 1
        except BlockingIOError:
            pass
    print(json.dumps({"sent": sent, "seconds": time.monotonic() - t0}), flush=True)
elif cmd == "query":
    # A legacy query (from an ephemeral port) and the unicast answers to it.
    s, idx = mcast_socket(4, args["ifname"], 0)
    s.sendto(mdns_query(args["name"]), ("224.0.0.251", 5353))
    print_answers(s, args["seconds"], lambda d: {"len": len(d), "tail": d[-16:].hex(),
                                                 "data": d.hex()})
elif cmd == "listen":
    fam = args.get("family", 4)
    group = "224.0.0.251" if fam == 4 else "ff02::fb"
    s, idx = mcast_socket(fam, args["ifname"], 5353, group)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.setblocking(False)
    print(json.dumps({"ready": True}), flush=True)
    end = time.monotonic() + args["seconds"]
    quiet = args.get("quiet_after")
    last = time.monotonic()
    summary = args.get("summary", False)
    got, lat = [], []
    while True:
        now = time.monotonic()
        if now >= end or (quiet and got and now - last > quiet):
            break
        r, _, _ = select.select([s], [], [], min(0.05, end - now))
        while r:
            try:
                data, src = s.recvfrom(9000)
            except BlockingIOError:
                break
            now_ns = time.monotonic_ns()
            last = time.monotonic()
            name = names_in(data[:200])
            if summary:
                parts = name.split("-")
                got.append(name)
                if len(parts) >= 3 and parts[-1].split(".")[0].isdigit():
                    lat.append(now_ns - int(parts[-1].split(".")[0]))
            else:
                print(json.dumps({"src": src[0], "sport": src[1], "name": name,
                                  "len": len(data), "tail": data[-16:].hex()}), flush=True)
    if summary:
        print(json.dumps({"received": len(got), "unique": len(set(got)),
                          "latency_ns": sorted(lat)}), flush=True)
elif cmd == "msearch":
    fam = args.get("family", 4)
    s, idx = mcast_socket(fam, args["ifname"], 0, ttl=2)
    group = "239.255.255.250" if fam == 4 else "ff02::c"
    host = f"{group}:1900" if fam == 4 else f"[{group}]:1900"
    msg = (f"M-SEARCH * HTTP/1.1\r\nHOST: {host}\r\nMAN: \"ssdp:discover\"\r\n"
           f"MX: {args.get('mx', 1)}\r\nST: {args['st']}\r\n\r\n").encode()
    s.sendto(msg, dest(fam, group, 1900, idx))
    print(json.dumps({"port": s.getsockname()[1]}), flush=True)
    print_answers(s, args["seconds"], ssdp_fields)
elif cmd == "bcast-send":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, args["ifname"].encode())
    s.bind(("0.0.0.0", args["sport"]))
    s.sendto(args["payload"].encode(), (args["dst"], args["dport"]))
    answers = []
    if args.get("wait_answer"):
        s.settimeout(args["wait_answer"])
        try:
            data, src = s.recvfrom(2048)
            answers.append({"src": src[0], "sport": src[1], "payload": data.decode()})
        except socket.timeout:
            pass
    print(json.dumps({"sent": True, "answers": answers}), flush=True)
elif cmd == "raw-bcast":
    # A UDP broadcast built by hand, e.g. with a wrong checksum: IP_HDRINCL on the link.
    src = socket.inet_aton(args["src"])
    payload = args["payload"].encode()
    udp = struct.pack("!HHHH", args["sport"], args["dport"], 8 + len(payload), args["checksum"])
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp) + len(payload), 1, 0, 64, 17, 0,
                     src, socket.inet_aton("255.255.255.255"))
    csum = sum(struct.unpack("!10H", ip))
    csum = (csum & 0xffff) + (csum >> 16)
    csum = ~((csum & 0xffff) + (csum >> 16)) & 0xffff
    ip = ip[:10] + struct.pack("!H", csum) + ip[12:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, args["ifname"].encode())
    s.sendto(ip + udp + payload, ("255.255.255.255", 0))
    print(json.dumps({"sent": True}), flush=True)
elif cmd == "ssdp-raw":
    # Bytes to the SSDP group from port 1900, as they are (malformed ones too).
    fam = args.get("family", 4)
    s, idx = mcast_socket(fam, args["ifname"], 1900, ttl=2)
    group = "239.255.255.250" if fam == 4 else "ff02::c"
    s.sendto(bytes.fromhex(args["hex"]), dest(fam, group, 1900, idx))
    print(json.dumps({"sent": True}), flush=True)
elif cmd == "bcast-listen":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    s.bind(("0.0.0.0", args["port"]))
    print(json.dumps({"ready": True}), flush=True)
    end = time.monotonic() + args["seconds"]
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], 0.05)
        if not r:
            continue
        data, anc, _, src = s.recvmsg(2048, 256)
        dst = next((socket.inet_ntoa(d[8:12]) for l, t, d in anc if t == IP_PKTINFO), None)
        print(json.dumps({"src": src[0], "sport": src[1], "dst": dst,
                          "payload": data.decode(errors="replace")}), flush=True)
        if args.get("answer"):
            s.sendto(args["answer"].encode(), src)
'''


def _json_lines(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def tool(ns, cmd, timeout=30, **args):
    """Run a TOOL subcommand in ns to its end; return its JSON lines."""
    p = ns.exec("/usr/bin/python3", "-c", TOOL, cmd, json.dumps(args), timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"mcast tool {cmd} in {ns.name} failed: {p.stderr}")
    return _json_lines(p.stdout)


class Listener:
    """A TOOL listener (listen, bcast-listen) running in a namespace until its time is up;
    result() waits for it and returns its JSON lines (the "ready" line left out)."""

    def __init__(self, ns, cmd, **args):
        self.ns = ns
        self.proc = ns.spawn("/usr/bin/python3", "-c", TOOL, cmd, json.dumps(args),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if '"ready"' not in line:
            self.proc.kill()
            raise RuntimeError(f"{cmd} in {ns.name} did not start: {line}"
                               f"{self.proc.stderr.read()}")

    def result(self, timeout=60):
        out, err = self.proc.communicate(timeout=timeout)
        if self.proc.returncode != 0:
            raise RuntimeError(f"listener in {self.ns.name} failed: {err}")
        return _json_lines(out)


def mdns_listen(ns, ifname, seconds=2.0, family=4, **kw):
    """Listen for mDNS on ifname in ns for seconds (started and ready on return)."""
    return Listener(ns, "listen", ifname=ifname, seconds=seconds, family=family, **kw)


def mdns_send(ns, ifname, name, family=4, **kw):
    """Send the mDNS answer "<name>.local A addr" (kw: addr, count, rate, sport, ttl (the
    IP TTL or hop limit, 255 unless given), malformed=pointer-forward|short|truncated,
    query=True) from ns out of ifname."""
    return tool(ns, "send", ifname=ifname, name=name, family=family, **kw)[-1]


def mdns_query(ns, ifname, name, seconds=2.0):
    """A legacy mDNS query for name's A record from an ephemeral port out of ifname; returns
    the unicast answers (src, sport, len, tail: the last 16 bytes in hex, data: all of it in
    hex)."""
    return tool(ns, "query", timeout=seconds + 20, ifname=ifname, name=name, seconds=seconds)


def msearch(ns, ifname, st, seconds=3.0, family=4, mx=1):
    """An SSDP M-SEARCH for st from an ephemeral port; returns (port, the unicast
    replies as dicts with src, sport, status, headers)."""
    lines = tool(ns, "msearch", timeout=seconds + 20, ifname=ifname, st=st, seconds=seconds,
                 family=family, mx=mx)
    return lines[0]["port"], lines[1:]


def _dns_name(msg, off):
    """(name as text, offset after it) of the DNS name at off in msg (RFC 1035 §4.1.4
    pointers followed, at most 20 of them)."""
    labels, end, hops = [], None, 0
    while True:
        n = msg[off]
        if n >= 0xc0:
            if hops == 20:
                raise ValueError("pointer loop")
            hops += 1
            end = off + 2 if end is None else end
            off = ((n & 0x3f) << 8) | msg[off + 1]
        elif n == 0:
            return ".".join(labels), off + 1 if end is None else end
        else:
            labels.append(msg[off + 1:off + 1 + n].decode(errors="replace"))
            off += 1 + n


def a_records(msg):
    """The A records of a DNS message, in every section, as [(name, IPv4 address)]."""
    qd, an, ns, ar = struct.unpack("!4H", msg[4:12])
    off = 12
    for _ in range(qd):
        off = _dns_name(msg, off)[1] + 4
    out = []
    for _ in range(an + ns + ar):
        name, off = _dns_name(msg, off)
        rtype, _, _, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        if rtype == 1 and rdlen == 4:
            out.append((name, socket.inet_ntoa(msg[off + 10:off + 14])))
        off += 10 + rdlen
    return out


def raw_broadcast(ns, ifname, src, sport, dport, payload, checksum):
    """A UDP broadcast to 255.255.255.255 built by hand, with the UDP checksum given."""
    return tool(ns, "raw-bcast", ifname=ifname, src=src, sport=sport, dport=dport,
                payload=payload, checksum=checksum)


def ssdp_raw(ns, ifname, data, family=4):
    """Send data (bytes) to 239.255.255.250:1900 (ff02::c) from port 1900 out of ifname."""
    return tool(ns, "ssdp-raw", ifname=ifname, hex=data.hex(), family=family)


def ssdp_notify(ns, ifname, name, family=4):
    """Send an SSDP NOTIFY ssdp:alive whose NT and USN carry name, from port 1900."""
    host = "239.255.255.250:1900" if family == 4 else "[ff02::c]:1900"
    return ssdp_raw(ns, ifname, (
        f"NOTIFY * HTTP/1.1\r\nHOST: {host}\r\nCACHE-CONTROL: max-age=60\r\n"
        f"LOCATION: http://{name}.invalid/desc.xml\r\nNT: urn:pplab:{name}\r\n"
        f"NTS: ssdp:alive\r\nUSN: uuid:{name}::urn:pplab:{name}\r\n\r\n").encode(),
        family=family)


def bcast_listen(ns, port, seconds=2.0, answer=None):
    """Receive UDP datagrams on port in ns (with the destination address each had)."""
    return Listener(ns, "bcast-listen", port=port, seconds=seconds, answer=answer)


def bcast_send(ns, ifname, dst, sport, dport, payload, wait_answer=0):
    """Send one UDP broadcast from ns out of ifname; returns the answers received on the
    sending socket within wait_answer seconds."""
    return tool(ns, "bcast-send", ifname=ifname, dst=dst, sport=sport, dport=dport,
                payload=payload, wait_answer=wait_answer)[-1]["answers"]


# ---- captures ---------------------------------------------------------------------------

@dataclass
class Datagram:
    """A UDP datagram as a capture saw it."""
    family: int
    src: str
    dst: str
    ttl: int
    sport: int
    dport: int
    payload: bytes
    outgoing: bool = False
    time: float = 0.0  # as the capture stamped it (the wall clock, time.time())


@dataclass
class GroupReport:
    """An IGMPv3 membership report (RFC 3376 §4.2) as a capture saw it: its group records
    as (group, record type), e.g. (MDNS_GROUP4, IGMP_CHANGE_TO_EXCLUDE) for a join."""
    src: str
    records: list
    time: float = 0.0  # as the capture stamped it (the wall clock, time.time())


IGMP_CHANGE_TO_INCLUDE, IGMP_CHANGE_TO_EXCLUDE = 3, 4  # leave and join (RFC 3376 §4.2.12)


def _pcap_frames(data):
    """(time stamp, EtherType, layer 3 bytes) of each frame of a pcap file (Ethernet link
    type, one VLAN tag)."""
    if len(data) < 24:
        return
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    nano = magic in (0xa1b23c4d, 0x4d3cb2a1)
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(frame) < 14:
            continue
        etype = struct.unpack("!H", frame[12:14])[0]
        l3 = frame[14:]
        if etype == 0x8100 and len(frame) >= 18:
            etype = struct.unpack("!H", frame[16:18])[0]
            l3 = frame[18:]
        yield sec + frac / (1e9 if nano else 1e6), etype, l3


def _parse_pcap(data):
    """UDP datagrams of a pcap file (IPv4 and IPv6)."""
    out = []
    for stamp, etype, l3 in _pcap_frames(data):
        if etype == 0x0800 and len(l3) >= 20 and l3[9] == 17:
            ihl = (l3[0] & 0xf) * 4
            udp = l3[ihl:]
            if len(udp) < 8:
                continue
            sport, dport, ulen = struct.unpack("!HHH", udp[:6])
            out.append(Datagram(4, socket.inet_ntoa(l3[12:16]), socket.inet_ntoa(l3[16:20]),
                                l3[8], sport, dport, udp[8:ulen], time=stamp))
        elif etype == 0x86dd and len(l3) >= 48 and l3[6] == 17:
            udp = l3[40:]
            sport, dport, ulen = struct.unpack("!HHH", udp[:6])
            out.append(Datagram(6, socket.inet_ntop(socket.AF_INET6, l3[8:24]),
                                socket.inet_ntop(socket.AF_INET6, l3[24:40]), l3[7], sport,
                                dport, udp[8:ulen], time=stamp))
    return out


def _parse_igmp(data):
    """IGMPv3 membership reports of a pcap file."""
    out = []
    for stamp, etype, l3 in _pcap_frames(data):
        if etype != 0x0800 or len(l3) < 20 or l3[9] != 2:
            continue
        igmp = l3[(l3[0] & 0xf) * 4:]
        if len(igmp) < 8 or igmp[0] != 0x22:
            continue
        records, off = [], 8
        for _ in range(struct.unpack("!H", igmp[6:8])[0]):
            if off + 8 > len(igmp):
                break
            rtype, aux, nsrc = struct.unpack("!BBH", igmp[off:off + 4])
            records.append((socket.inet_ntoa(igmp[off + 4:off + 8]), rtype))
            off += 8 + 4 * nsrc + 4 * aux
        out.append(GroupReport(socket.inet_ntoa(l3[12:16]), records, time=stamp))
    return out


class Capture:
    """tcpdump on one link of a namespace, both directions, with a filter; the datagrams
    it saw are in .packets after stop() (or the with block), its IGMPv3 reports in
    .reports."""

    def __init__(self, ns, ifname, bpf="udp"):
        self.ns = ns
        self.ifname = ifname
        self.path = ns.workdir / f"cap-{ns.name}-{ifname}-{time.monotonic_ns()}.pcap"
        self.packets = []
        self.reports = []
        # -Z root: the file is written where only root may write. Immediate mode: without
        # it a packet waits in the kernel's ring until its block is full or a second has
        # passed, and one captured less than a second before stop() would be lost.
        self.proc = ns.spawn("tcpdump", "-Z", "root", "-i", ifname, "--immediate-mode", "-U",
                             "-n", "-s", "2048", "-w", self.path, bpf,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()
        if "listening on" not in line:
            self.proc.kill()
            raise RuntimeError(f"tcpdump on {ifname} in {ns.name}: {line}")

    def stop(self):
        if self.proc.poll() is None:
            # A moment for the last packets to be written, then tcpdump flushes on SIGINT.
            time.sleep(0.2)
            self.proc.send_signal(signal.SIGINT)
            self.proc.communicate(timeout=10)
        data = self.path.read_bytes() if self.path.exists() else b""
        self.packets = _parse_pcap(data)
        self.reports = _parse_igmp(data)
        return self.packets

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def count(self, marker):
        """How many datagrams carried marker (bytes) in their payload."""
        return sum(1 for p in self.packets if marker in p.payload)


def wait_for(check, timeout=10.0, what="condition"):
    """poll() with a name, for the tests: None or what is still wrong."""
    return poll(check, timeout=timeout, interval=0.1, what=what)
