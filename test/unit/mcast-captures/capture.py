#!/usr/bin/python3
"""Capture real mDNS, SSDP and UDP broadcast traffic between two network namespaces, for
the packet library's unit tests (test/unit/mcast-captures.h is generated from the result
by gen_header.py).

    capture.py OUTDIR
    gen_header.py OUTDIR > test/unit/mcast-captures.h

recording/ holds the run the committed header was generated from.

Topology (documentation prefixes only; nothing touches the root namespace's links):

    mcap-a  va 192.0.2.10/24 2001:db8:a::10/64  <-veth->  vb 192.0.2.11/24 2001:db8:a::11/64  mcap-b

mcap-a: avahi-daemon without D-Bus publishing a static _http._tcp service, a GSSDP root
device, and an AF_PACKET recorder on va (sniff.py). mcap-b: avahi-daemon on a private
D-Bus, avahi-browse / avahi-resolve / avahi-publish, a legacy-unicast mDNS query (from an
ephemeral port), gssdp-discover, socat broadcasts, and a recorder on vb. The recorders
write OUTDIR/a.jsonl and OUTDIR/b.jsonl. Run as root; everything is removed at the end,
also on failure.
"""
import os
import pathlib
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
NS_A, NS_B = "mcap-a", "mcap-b"
PY = "/usr/bin/python3"

AVAHI_CONF = """[server]
host-name={name}
use-ipv4=yes
use-ipv6=yes
enable-dbus={dbus}
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
[reflector]
enable-reflector=no
"""

SERVICE = """<?xml version="1.0" standalone='no'?>
<service-group><name>tb-web</name><service><type>_http._tcp</type><port>8080</port>
<txt-record>path=/tb</txt-record></service></service-group>
"""

BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={sock}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
</busconfig>
"""


# ETHTOOL_STXCSUM off through SIOCETHTOOL, without needing ethtool(8).
TX_CSUM_OFF = """
import array, fcntl, socket, struct, sys
ev = array.array("I", [0x17, 0])
ifr = struct.pack("16sP", sys.argv[1].encode(), ev.buffer_info()[0])
s = socket.socket()
fcntl.ioctl(s.fileno(), 0x8946, ifr)
"""


def sh(*args, check=True):
    return subprocess.run(args, check=check, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True).stdout


def ns(name, *args, check=True, env=None):
    return subprocess.run(["ip", "netns", "exec", name, *args], check=check, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout


class Harness:
    def __init__(self, out):
        self.out = pathlib.Path(out)
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="mcap-"))
        self.procs = []

    def spawn(self, name, args, env=None, wait_ready=False):
        log = open(self.dir / f"{name}.log", "w")
        p = subprocess.Popen(args, stdout=subprocess.PIPE if wait_ready else log,
                             stderr=log, env=env, text=True)
        self.procs.append(p)
        if wait_ready:
            line = p.stdout.readline()
            if line.strip() != "ready":
                raise RuntimeError(f"{name} did not start: {line!r}")
        return p

    def topology(self):
        for n in (NS_A, NS_B):
            sh("ip", "netns", "add", n)
            ns(n, "ip", "link", "set", "lo", "up")
        sh("ip", "-n", NS_A, "link", "add", "name", "va", "type", "veth",
           "peer", "name", "vb", "netns", NS_B)
        for n, dev, v4, v6 in ((NS_A, "va", "192.0.2.10/24", "2001:db8:a::10/64"),
                               (NS_B, "vb", "192.0.2.11/24", "2001:db8:a::11/64")):
            ns(n, "sysctl", "-qw", f"net.ipv6.conf.{dev}.accept_dad=0")
            ns(n, "ip", "addr", "add", v4, "dev", dev)
            ns(n, "ip", "addr", "add", v6, "dev", dev, "nodad")
            ns(n, "ip", "link", "set", dev, "up")
            ns(n, "ip", "route", "add", "224.0.0.0/4", "dev", dev)

    def avahi(self, netns, name, dbus_env=None):
        d = self.dir / name
        (d / "services").mkdir(parents=True)
        if dbus_env is None:
            (d / "services" / "tb-web.service").write_text(SERVICE)
        (d / "avahi.conf").write_text(AVAHI_CONF.format(name=name,
                                                       dbus="yes" if dbus_env else "no"))
        script = (f"mount -t tmpfs tmpfs /run/avahi-daemon && "
                  f"mount --bind {d}/services /etc/avahi/services && "
                  f"exec avahi-daemon --no-drop-root --no-chroot --no-rlimits -f {d}/avahi.conf")
        return self.spawn(f"avahi-{name}", ["ip", "netns", "exec", netns, "sh", "-c", script],
                          env=dbus_env)

    def bus(self):
        sock = self.dir / "bus.sock"
        conf = self.dir / "bus.conf"
        conf.write_text(BUS_CONF.format(sock=sock))
        self.spawn("dbus", ["dbus-daemon", f"--config-file={conf}", "--nofork", "--nopidfile"])
        for _ in range(50):
            if sock.exists():
                break
            time.sleep(0.1)
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={sock}")
        return env

    def legacy_query(self):
        """A legacy unicast mDNS query (RFC 6762 §6.7): from an ephemeral port, so the
        responder answers by unicast with the question repeated."""
        q = struct.pack("!HHHHHH", 0x1234, 0, 1, 0, 0, 0)
        for label in ("_http", "_tcp", "local"):
            q += bytes([len(label)]) + label.encode()
        q += b"\x00" + struct.pack("!HH", 12, 1)
        code = ("import socket,sys;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);"
                "s.settimeout(2);s.sendto(bytes.fromhex(sys.argv[1]),('224.0.0.251',5353));"
                "print(len(s.recvfrom(9000)[0]))")
        return ns(NS_B, PY, "-c", code, q.hex(), check=False)

    def run(self):
        os.makedirs("/run/avahi-daemon", exist_ok=True)
        self.topology()
        sniff = [PY, str(HERE / "sniff.py")]
        self.spawn("sniff-a", ["ip", "netns", "exec", NS_A, *sniff, "va", "40",
                               str(self.out / "a.jsonl")], wait_ready=True)
        self.spawn("sniff-b", ["ip", "netns", "exec", NS_B, *sniff, "vb", "40",
                               str(self.out / "b.jsonl")], wait_ready=True)

        # mDNS
        self.avahi(NS_A, "mcap-a")
        env = self.bus()
        self.avahi(NS_B, "mcap-b", dbus_env=env)
        time.sleep(4)  # probing and announcing (RFC 6762 §8)
        print(ns(NS_B, "avahi-browse", "-rtp", "_http._tcp", env=env, check=False))
        print(ns(NS_B, "avahi-resolve", "-4", "-n", "mcap-a.local", env=env, check=False))
        print(ns(NS_B, "avahi-resolve", "-6", "-n", "mcap-a.local", env=env, check=False))
        pub = self.spawn("publish", ["ip", "netns", "exec", NS_B, "avahi-publish", "-s",
                                     "tb-pub", "_ipp._tcp", "631", "note=x"], env=env)
        time.sleep(3)
        pub.terminate()
        pub.wait()
        print("legacy:", self.legacy_query())

        # SSDP
        self.spawn("ssdp-responder", ["ip", "netns", "exec", NS_A, PY,
                                      str(HERE / "ssdp_responder.py"), "va", "6"],
                   wait_ready=True)
        print(ns(NS_B, "gssdp-discover", "-i", "vb", "-t",
                 "urn:schemas-upnp-org:device:tbtest:1", "-n", "3", check=False))
        time.sleep(4)

        # UDP broadcast, to the limited and to the subnet broadcast address. Over a veth
        # the sender leaves the UDP checksum to the "NIC" (the receiver's packet socket sees
        # TP_STATUS_CSUMNOTREADY and a partial sum); with transmit checksumming off on vb it
        # is complete. One more carries an IP option (router alert), one a zero checksum is
        # not possible from socat.
        def bcast(netns, dev, dst, dport, sport, text, extra=""):
            ns(netns, "sh", "-c", f"echo '{text}' | socat -u - "
               f"UDP-DATAGRAM:{dst}:{dport},broadcast,bind=:{sport},so-bindtodevice={dev}{extra}")
        for dst in ("255.255.255.255", "192.0.2.255"):
            bcast(NS_B, "vb", dst, 5000, 4000, f"hello {dst}")
            bcast(NS_A, "va", dst, 5001, 4001, f"reply {dst}")
        ns(NS_B, PY, "-c", TX_CSUM_OFF, "vb")
        bcast(NS_B, "vb", "255.255.255.255", 5000, 4000, "full checksum")
        bcast(NS_B, "vb", "192.0.2.255", 5000, 4000, "with option", ",ipoptions=x94040000")
        time.sleep(1)

    def cleanup(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(self.procs):
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for n in (NS_A, NS_B):
            subprocess.run(["ip", "netns", "del", n], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)


def main():
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    h = Harness(out)
    try:
        h.run()
    finally:
        h.cleanup()


if __name__ == "__main__":
    main()
