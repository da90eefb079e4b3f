"""pplab: throw-away network labs for patchpanel, shared by the integration tests, the
benchmarks and scripts/run.

A lab is a "host" network namespace that runs the whole suite (patchpaneld and its helper)
on a private system bus, and a "lan" namespace as its upstream router:

    lan (lan0 192.0.2.1/24) ==veth== host (eth0 192.0.2.2/24, default via 192.0.2.1)

and, with Lab(uplinks=2), a second uplink and its router, without a default route:

    lan2 (lan0 198.51.100.1/24) ==veth== host (eth1 198.51.100.2/24)

Uplinks can be added and removed at run time (add_uplink(), remove_uplink()). The lans have
no route back to the guest pools, so a guest reaches them only through patchpanel's
masquerade. Client namespaces are created on demand, and so are VMs: lab.vm(tap) makes a
namespace whose eth0 is relayed to a TAP patchpanel built (taprelay.py), so a VM guest sends
real frames. Every name carries a random tag, so labs never collide, and close() removes
all of it even after a failure. Only documentation prefixes are used; the root namespace is
never touched.
"""

import asyncio
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
POLICY_FILE = REPO / "systemd" / "org.chromium.PatchPanel.conf"

TAPRELAY = Path(__file__).resolve().parent / "taprelay.py"

LAN_ADDR = "192.0.2.1"
HOST_UPLINK_ADDR = "192.0.2.2"
LAN2_ADDR = "198.51.100.1"
HOST_UPLINK2_ADDR = "198.51.100.2"

BUS_NAME = "org.chromium.PatchPanel"
BUS_PATH = "/org/chromium/PatchPanel"
BUS_INTERFACE = "org.chromium.PatchPanel"
STATUS_INTERFACE = "org.chromium.PatchPanel.Status"

INVALID_ARGUMENT = "org.chromium.PatchPanel.Error.InvalidArgument"
FAILED = "org.chromium.PatchPanel.Error.Failed"
EXHAUSTED = "org.chromium.PatchPanel.Error.Exhausted"

# NetworkDevice.GuestType and NetworkDeviceChangedSignal.Event values.
ARC, ARCVM, TERMINA_VM, PLUGIN_VM = 1, 2, 3, 4
DEVICE_ADDED, DEVICE_REMOVED = 1, 2

# Routing of uplinks (common/fwmark.h, helpers/routing.c).
RTPROT_PATCHPANEL = 177
RULE_PRIORITY = 1000


def build_dir():
    """The build whose binaries are under test: $PP_BUILD_DIR, else ./build."""
    return Path(os.environ.get("PP_BUILD_DIR", REPO / "build")).resolve()


def import_protos(build=None):
    """Make the generated service_pb2 importable and return the module."""
    p = str((Path(build) if build else build_dir()) / "python")
    if p not in sys.path:
        sys.path.insert(0, p)
    import service_pb2  # noqa: E402  pylint: disable=import-outside-toplevel
    return service_pb2


def as_uid(uid):
    """The command prefix that runs what follows as uid (with gid uid and no supplementary
    groups); nothing for None."""
    return [] if uid is None else ["setpriv", f"--reuid={uid}", f"--regid={uid}",
                                   "--clear-groups"]


def run(args, check=True, timeout=30, **kw):
    """Run a command and return the CompletedProcess (text). Raise with its output on
    failure when check is set."""
    kw.setdefault("text", True)
    p = subprocess.run([str(a) for a in args], capture_output=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed ({p.returncode}): "
                           f"{p.stdout}{p.stderr}")
    return p


def poll(check, timeout=5.0, interval=0.02, what="condition"):
    """Call check() until it returns None (success) or timeout; return None or the last
    result (a readable description of what is still wrong)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is None:
            return None
        if time.monotonic() >= deadline:
            return f"{what} after {timeout}s: {result}"
        time.sleep(interval)


def wire_to_ip(value):
    """IPv4 uint32 fields carry in_addr.s_addr, i.e. the address bytes in network order
    read as a little-endian integer on this host."""
    return socket.inet_ntoa(struct.pack("=I", value))


def subnet_of(subnet):
    """An IPv4Subnet message as an ipaddress network."""
    return ipaddress.ip_network(f"{wire_to_ip(subnet.base_addr)}/{subnet.prefix_len}")


def device_key(dev):
    """A NetworkDevice as a comparable tuple: (ifname, guest address, subnet, guest type)."""
    return (dev.ifname, wire_to_ip(dev.ipv4_addr), str(subnet_of(dev.ipv4_subnet)),
            dev.guest_type)


def routing_table(ifindex):
    """The routing table patchpanel keeps for the uplink with this ifindex."""
    return 1000 + ifindex


# A TCP and UDP server on each port given: it answers every connection or datagram with
# "<name> <local address the client reached>" and a newline.
NAME_SERVER = """
import socket, sys, threading
name = sys.argv[1]
def tcp(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        c.sendall(f"{name} {c.getsockname()[0]}\\n".encode())
        c.close()
def udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, 8, 1)  # IP_PKTINFO: answer with the address hit
    s.bind(("0.0.0.0", port))
    while True:
        _, anc, _, peer = s.recvmsg(512, 256)
        info = anc[0][2]  # struct in_pktinfo: ifindex, spec_dst, addr (the one hit)
        local = socket.inet_ntoa(info[8:12])
        # Answer from the address hit, which need not be the one routing would pick.
        reply = [(socket.IPPROTO_IP, 8, bytes(4) + info[8:12] + bytes(4))]
        s.sendmsg([f"{name} {local}\\n".encode()], reply, 0, peer)
for p in sys.argv[2:]:
    threading.Thread(target=tcp, args=(int(p),), daemon=True).start()
    threading.Thread(target=udp, args=(int(p),), daemon=True).start()
threading.Event().wait()
"""

# Ask a server: TCP connect, or one UDP datagram (from sport, if given), and print the
# answer; nothing when refused or unanswered within two seconds.
NAME_CLIENT = """
import socket, sys
addr, port, udp, sport = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "udp", int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
s.settimeout(2)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if sport:
    s.bind(("0.0.0.0", sport))
try:
    if udp:
        s.sendto(b"?", (addr, port))
        print(s.recv(512).decode().strip())
    else:
        s.connect((addr, port))
        print(s.recv(512).decode().strip())
except OSError:
    pass
"""


class Netns:
    """A network namespace and helpers to act inside it."""

    def __init__(self, name, create=True):
        self.name = name
        self.procs = []
        if create:
            run(["ip", "netns", "add", name])
            try:
                self.out("ip", "link", "set", "lo", "up")
            except BaseException:
                run(["ip", "netns", "del", name], check=False)
                raise

    def exec(self, *args, check=False, timeout=30, **kw):
        return run(["ip", "netns", "exec", self.name, *args], check=check, timeout=timeout, **kw)

    def out(self, *args, timeout=30):
        """Output of a command that must succeed."""
        return self.exec(*args, check=True, timeout=timeout).stdout

    def ok(self, *args, timeout=30):
        return self.exec(*args, timeout=timeout).returncode == 0

    def ip_json(self, *args):
        text = self.out("ip", "-j", *args)
        return json.loads(text) if text.strip() else []

    def links(self):
        return {l["ifname"]: l for l in self.ip_json("-d", "link", "show")}

    def addrs(self, ifname):
        return [a["local"] for l in self.ip_json("-4", "addr", "show", "dev", ifname)
                for a in l.get("addr_info", [])]

    def routes(self, *args):
        return self.ip_json("-4", "route", "show", *args)

    def nft(self, *args):
        return self.out("nft", *args)

    def nft_json(self, *args):
        return json.loads(self.out("nft", "-j", *args))

    def ping(self, addr, count=1, wait=1, interface=None):
        """Whether addr answers; interface (a name or a source address) goes to ping -I."""
        iface = ["-I", interface] if interface else []
        return self.ok("ping", "-n", "-q", "-c", str(count), "-i", "0.2", "-W", str(wait),
                       *iface, addr, timeout=count * wait + 10)

    def ifindex(self, ifname):
        return self.ip_json("link", "show", "dev", ifname)[0]["ifindex"]

    def mac(self, ifname):
        return self.ip_json("link", "show", "dev", ifname)[0]["address"]

    def master(self, ifname):
        """The bridge ifname is a port of, or None."""
        return self.ip_json("link", "show", "dev", ifname)[0].get("master")

    def name_server(self, name, *ports):
        """Start NAME_SERVER (TCP and UDP on each port) and wait until it listens; it is
        ended by delete(), or earlier by kill() on the returned Popen."""
        p = self.spawn("/usr/bin/python3", "-c", NAME_SERVER, name, *ports,
                       stdout=subprocess.DEVNULL)
        for port in ports:
            for udp in (False, True):
                err = self.wait_listening(port, udp=udp)
                if err:
                    raise RuntimeError(err)
        return p

    def ask(self, addr, port, udp=False, sport=0):
        """The answer of a NAME_SERVER at addr:port ("" if none) over TCP or UDP."""
        return self.exec("/usr/bin/python3", "-c", NAME_CLIENT, addr, str(port),
                         "udp" if udp else "tcp", str(sport), timeout=10).stdout.strip()

    def wait_listening(self, port, udp=False, timeout=5.0):
        """Wait until a socket listens on port (TCP, or UDP); None, or what went wrong."""
        args = ("ss", "-Hlun" if udp else "-Hltn", f"sport = :{port}")
        return poll(lambda: None if self.out(*args).strip() else "nothing listens",
                    timeout=timeout, what=f"port {port} in {self.name}")

    def sysctl(self, key, value):
        self.out("sysctl", "-qw", f"{key}={value}")

    def counter(self, name, match):
        """An nftables counter of the packets this namespace receives that match (nft
        syntax, e.g. "icmp type echo-request ip daddr 192.0.2.1"); returns a function
        reading it. Several counters can coexist; delete_counters() removes them all."""
        table = "pplabcount"
        self.exec("nft", "add table inet pplabcount")
        self.exec("nft", "add chain inet pplabcount input "
                  "{ type filter hook prerouting priority -300; policy accept; }")
        self.out("nft", f"add counter inet {table} {name}")
        self.out("nft", f"add rule inet {table} input {match} counter name {name}")

        def read():
            data = self.nft_json("list", "counter", "inet", table, name)
            return next(i["counter"]["packets"] for i in data["nftables"] if "counter" in i)
        return read

    def delete_counters(self):
        self.exec("nft", "delete table inet pplabcount")

    def spawn(self, *args, **kw):
        """Start a long-running process inside the namespace; it is ended by delete()."""
        # A session of its own: a terminal's Ctrl-C reaches only whoever runs the lab.
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(["ip", "netns", "exec", self.name, *map(str, args)],
                             start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def sleeper(self, uid=None):
        """A process that lives in this namespace until killed (as uid, if given); its pid
        is what ConnectNamespace takes. Returns once the process is inside the namespace:
        until `ip netns exec` has switched, the pid is still in the caller's namespace."""
        p = self.spawn(*as_uid(uid), "sleep", "infinity", stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        want = os.stat(f"/run/netns/{self.name}").st_ino

        def inside():
            try:
                return None if os.stat(f"/proc/{p.pid}/ns/net").st_ino == want else "not yet"
            except FileNotFoundError:
                return "gone"
        err = poll(inside, timeout=5, interval=0.002, what=f"process in {self.name}")
        if err:
            raise RuntimeError(err)
        return p

    def delete(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.procs = []
        run(["ip", "netns", "del", self.name], check=False)


class DBusError(Exception):
    def __init__(self, name, text):
        super().__init__(f"{name}: {text}")
        self.name = name
        self.text = text


class Bus:
    """A blocking wrapper around a dbus-next connection to the lab's private bus."""

    def __init__(self, address):
        from dbus_next.aio import MessageBus  # pylint: disable=import-outside-toplevel
        self.loop = asyncio.new_event_loop()

        async def connect():
            # dbus-next binds to the loop running when the bus object is made.
            return await MessageBus(bus_address=address, negotiate_unix_fd=True).connect()
        self.bus = self.loop.run_until_complete(connect())

    def _message(self, member, signature, body, fds, interface=BUS_INTERFACE):
        from dbus_next import Message  # pylint: disable=import-outside-toplevel
        return Message(destination=BUS_NAME, path=BUS_PATH, interface=interface,
                       member=member, signature=signature, body=body, unix_fds=list(fds))

    async def _call(self, member, signature, body, fds, interface=BUS_INTERFACE):
        from dbus_next import MessageType  # pylint: disable=import-outside-toplevel
        reply = await self.bus.call(self._message(member, signature, body, fds, interface))
        if reply.message_type == MessageType.ERROR:
            raise DBusError(reply.error_name, reply.body[0] if reply.body else "")
        return reply.body

    def call(self, member, signature, body, fds=(), interface=BUS_INTERFACE):
        """Call a method; return its body or raise DBusError."""
        return self.loop.run_until_complete(self._call(member, signature, body, fds,
                                                       interface))

    def call_many(self, calls):
        """Make many calls at once, all in flight together; return each body or
        DBusError, in order."""
        async def gather():
            return await asyncio.gather(*(self._call(*c) for c in calls),
                                        return_exceptions=True)
        return self.loop.run_until_complete(gather())

    def bus_call(self, member, signature="", body=()):
        """A call to the bus daemon itself; returns the body."""
        from dbus_next import Message, MessageType  # pylint: disable=import-outside-toplevel
        reply = self.loop.run_until_complete(self.bus.call(Message(
            destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
            interface="org.freedesktop.DBus", member=member, signature=signature,
            body=list(body))))
        if reply.message_type == MessageType.ERROR:
            raise DBusError(reply.error_name, reply.body[0] if reply.body else "")
        return reply.body

    def run_for(self, seconds):
        """Let the connection process what arrives (signals) for a while."""
        self.loop.run_until_complete(asyncio.sleep(seconds))

    def name_has_owner(self, name=BUS_NAME):
        from dbus_next import Message  # pylint: disable=import-outside-toplevel
        reply = self.loop.run_until_complete(self.bus.call(Message(
            destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
            interface="org.freedesktop.DBus", member="NameHasOwner", signature="s",
            body=[name])))
        return bool(reply.body and reply.body[0])

    def close(self):
        self.bus.disconnect()
        try:
            self.loop.run_until_complete(self.bus.wait_for_disconnect())
        except Exception:  # pylint: disable=broad-except
            pass
        self.loop.close()


class SignalCollector:
    """Collects NetworkDeviceChanged signals on a bus connection from its creation on, as
    (event, device_key(device)) pairs. Signals are read while the connection's loop runs:
    in wait_for(), or during any call on the same Bus."""

    MATCH = (f"type='signal',sender='{BUS_NAME}',path='{BUS_PATH}',"
             f"interface='{BUS_INTERFACE}',member='NetworkDeviceChanged'")

    def __init__(self, bus, pb):
        self.bus = bus
        self.pb = pb
        self.events = []
        self.bus.bus.add_message_handler(self._on_message)
        self.bus.bus_call("AddMatch", "s", [self.MATCH])

    def _on_message(self, msg):
        from dbus_next import MessageType  # pylint: disable=import-outside-toplevel
        if msg.message_type != MessageType.SIGNAL or msg.member != "NetworkDeviceChanged" or \
                msg.interface != BUS_INTERFACE:
            return None
        sig = self.pb.NetworkDeviceChangedSignal()
        sig.ParseFromString(bytes(msg.body[0]))
        self.events.append((sig.event, device_key(sig.device)))
        return None

    def take(self):
        """The events collected so far, which are then forgotten."""
        out, self.events = self.events, []
        return out

    def wait_for(self, count, timeout=5.0):
        """Wait until at least count events are collected; return them all (and forget
        them). Fewer are returned on timeout."""
        deadline = time.monotonic() + timeout
        while len(self.events) < count and time.monotonic() < deadline:
            self.bus.run_for(0.01)
        return self.take()

    def quiet(self, seconds=0.2):
        """The events that arrive within seconds (expected: none)."""
        self.bus.run_for(seconds)
        return self.take()

    def close(self):
        self.bus.bus.remove_message_handler(self._on_message)
        try:
            self.bus.bus_call("RemoveMatch", "s", [self.MATCH])
        except DBusError:
            pass


class VmNetns(Netns):
    """A VM stand-in: a namespace whose eth0 is relayed to a TAP of the host namespace by
    taprelay.py, through a veth whose host end (relay_ifname) has no address, ARP off and
    IPv6 disabled, so that the host's stack never uses it. The test configures eth0 as the
    guest would (configure())."""

    def __init__(self, name, host, tap, relay_ifname, log_path):
        super().__init__(name)
        self.host = host
        self.tap = tap
        self.relay_ifname = relay_ifname
        self.relay = None
        try:
            run(["ip", "link", "add", "name", relay_ifname, "netns", host.name, "type", "veth",
                 "peer", "name", "eth0", "netns", name])
            host.sysctl(f"net.ipv6.conf.{relay_ifname}.disable_ipv6", 1)
            host.out("ip", "link", "set", relay_ifname, "arp", "off", "up")
            self.sysctl("net.ipv6.conf.eth0.disable_ipv6", 1)
            self.out("ip", "link", "set", "eth0", "up")
            with open(log_path, "w") as log:
                self.relay = subprocess.Popen(
                    ["ip", "netns", "exec", host.name, "/usr/bin/python3", str(TAPRELAY), tap,
                     relay_ifname], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=log, text=True, start_new_session=True)
            self.procs.append(self.relay)
            line = self.relay.stdout.readline().strip()
            if line != "ready":
                raise RuntimeError(f"taprelay on {tap} did not start: "
                                   f"{Path(log_path).read_text()}")
            # The TAP has a carrier once a queue is attached.
            err = poll(lambda: None if "LOWER_UP" in host.ip_json("link", "show", "dev", tap)
                       [0]["flags"] else "no carrier", timeout=5, what=f"{tap} carrier")
            if err:
                raise RuntimeError(err)
        except BaseException:
            self.delete()
            raise

    def configure(self, device):
        """Configure eth0 from a NetworkDevice: its address in its subnet, default route
        via the host side (.1 of the subnet)."""
        net = subnet_of(device.ipv4_subnet)
        self.out("ip", "addr", "add", f"{wire_to_ip(device.ipv4_addr)}/{net.prefixlen}",
                 "dev", "eth0")
        self.out("ip", "route", "add", "default", "via", str(net.network_address + 1))

    def relay_running(self):
        return self.relay is not None and self.relay.poll() is None

    def delete(self):
        if self.relay and self.relay.stdout:
            self.relay.stdout.close()
        super().delete()
        # The veth goes with the namespace, but the kernel destroys a namespace lazily.
        self.host.exec("ip", "link", "del", self.relay_ifname)


class ArcContainer:
    """A running ARC container: a client namespace with a process, ArcStartup on it, and
    its per-uplink addressing from GetDevices. Android makes its own routes, patchpanel
    gives the container none: route() adds them."""

    def __init__(self, lab, uplinks=("eth0",)):
        self.lab = lab
        self.ns, self.proc = lab.client()
        self.sig = lab.signals()
        lab.arc_startup(self.proc.pid)
        self.running = True
        err = poll(lambda: None if all(self.link(u) for u in uplinks) else "not yet",
                   timeout=5, what=f"ARC's links to {uplinks}")
        if err:
            self.close()
            raise RuntimeError(f"{err}\n{lab.log()}")

    def link(self, uplink):
        """(guest address, host address, subnet) of ARC's link to uplink, from
        GetDevices; None if there is none."""
        for name, guest, subnet, kind in self.lab.get_devices():
            if name == f"arc_{uplink}":
                assert kind == ARC
                net = ipaddress.ip_network(subnet)
                return guest, str(net.network_address + 1), net
        return None

    def route(self, dst, uplink):
        """A route in the container to dst ("default" too) through its link to uplink."""
        _, gateway, _ = self.link(uplink)
        self.ns.out("ip", "route", "replace", dst, "via", gateway, "dev", uplink)

    def shutdown(self):
        if self.running:
            self.running = False
            self.lab.arc_shutdown(self.proc.pid)

    def close(self):
        try:
            self.shutdown()
        finally:
            self.sig.close()
            self.ns.delete()
            if self.ns in self.lab.clients:
                self.lab.clients.remove(self.ns)


class Lifeline:
    """The client's side of a ConnectNamespace lifeline: a pipe whose write end goes to
    the daemon. Closing the read end disconnects the namespace."""

    def __init__(self):
        self.read_fd, self.write_fd = os.pipe()

    def close(self):
        for fd in (self.read_fd, self.write_fd):
            if fd >= 0:
                os.close(fd)
        self.read_fd = self.write_fd = -1

    def close_sent_end(self):
        """After the call, the write end belongs to the daemon; drop ours."""
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1


class Lab:
    """Host + lan namespaces, a private bus, and the suite running in host."""

    def __init__(self, build=None, daemon_args=(), tag=None, log_level="debug",
                 extra_policy="", uplinks=1, ingress_firewall=True):
        self.build = Path(build) if build else build_dir()
        self.n_uplinks = uplinks  # 1: eth0 and lan; 2: also eth1 and lan2
        self.extra_policy = extra_policy  # more <policy> XML for the private bus
        self.tag = tag or "pp" + secrets.token_hex(3)
        # The ingress firewall is on in labs, as on a host that wants its ACCESS rules to
        # mean something; Lab(ingress_firewall=False) runs the daemon's default.
        self.daemon_args = (["--ingress-firewall=on"] if ingress_firewall else []) + list(daemon_args)
        self.log_level = log_level
        self.dir = None
        self.bus_proc = None
        self.bus_address = None
        self.daemon = None
        self.daemon_log = None
        self.host = None
        self.uplink_lans = {}  # host uplink name -> its lan Netns
        self.clients = []
        self._n_clients = 0
        self._n_vms = 0
        self._bus = None
        self.pb = import_protos(self.build)

    # ---- set-up ------------------------------------------------------------------------

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self, daemon=True):
        self.dir = Path(tempfile.mkdtemp(prefix=f"{self.tag}-"))
        # The daemon runs as an unprivileged user that must reach the bus socket.
        os.chmod(self.dir, 0o755)
        self._start_bus()
        self.host = Netns(f"{self.tag}-host")
        self.add_uplink("eth0", LAN_ADDR, HOST_UPLINK_ADDR, default_route=True,
                        lan_suffix="lan")
        if self.n_uplinks >= 2:
            self.add_uplink("eth1", LAN2_ADDR, HOST_UPLINK2_ADDR, lan_suffix="lan2")
        if daemon:
            self.start_daemon()

    @property
    def lan(self):
        """The router behind eth0 (192.0.2.1)."""
        return self.uplink_lans.get("eth0")

    @property
    def lan2(self):
        """The router behind eth1 (198.51.100.1), when there is one."""
        return self.uplink_lans.get("eth1")

    def add_uplink(self, name, lan_addr, host_addr, prefix_len=24, default_route=False,
                   lan_suffix=None):
        """A new uplink `name` in host (host_addr/prefix_len, up, a default route via the
        lan if asked) and its router, a namespace with lan0 (lan_addr) at the other end of
        the veth; returns the router's Netns. Works before and while the daemon runs."""
        lan = Netns(f"{self.tag}-{lan_suffix or 'lan-' + name}")
        try:
            run(["ip", "link", "add", "name", "lan0", "netns", lan.name, "type", "veth",
                 "peer", "name", name, "netns", self.host.name])
            lan.out("ip", "link", "set", "lan0", "up")
            lan.out("ip", "addr", "add", f"{lan_addr}/{prefix_len}", "dev", "lan0")
            self.host.out("ip", "link", "set", name, "up")
            self.host.out("ip", "addr", "add", f"{host_addr}/{prefix_len}", "dev", name)
            if default_route:
                self.host.out("ip", "route", "add", "default", "via", lan_addr, "dev", name)
        except BaseException:
            self.host.exec("ip", "link", "del", name)
            lan.delete()
            raise
        self.uplink_lans[name] = lan
        return lan

    def remove_uplink(self, name):
        """Delete the uplink `name` (the veth) and its router namespace."""
        self.host.out("ip", "link", "del", name)
        self.uplink_lans.pop(name).delete()

    def _start_bus(self):
        sock = self.dir / "system_bus_socket"
        conf = self.dir / "bus.conf"
        conf.write_text(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={sock}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus"/>
  </policy>
  <include>{POLICY_FILE}</include>
  {self.extra_policy}
</busconfig>
""")
        self.bus_proc = subprocess.Popen(["dbus-daemon", f"--config-file={conf}", "--nofork",
                                          "--nopidfile"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.bus_address = f"unix:path={sock}"
        err = poll(lambda: None if sock.exists() else "no socket", timeout=5,
                   what="dbus-daemon did not start")
        if err:
            raise RuntimeError(err)

    def daemon_command(self, extra=()):
        cmd = ["ip", "netns", "exec", self.host.name, "env",
                f"DBUS_SYSTEM_BUS_ADDRESS={self.bus_address}",
                self.build / "bin" / "patchpaneld",
                f"--helper={self.build / 'bin' / 'patchpanel-helper'}",
                f"--log-level={self.log_level}", *self.daemon_args, *extra]
        if os.environ.get("PP_STRACE"):
            cmd[4:4] = ["strace", "-f", "-o", str(self.dir / "strace.txt")]
        return cmd

    def start_daemon(self, extra=(), wait=True):
        """Start patchpaneld the way a user does, inside host; wait until its datapath is
        ready unless told not to."""
        self.daemon_log = self.dir / f"patchpaneld-{int(time.monotonic() * 1000)}.log"
        log = open(self.daemon_log, "w")  # pylint: disable=consider-using-with
        self.daemon = subprocess.Popen([str(a) for a in self.daemon_command(extra)],
                                       stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        if wait:
            err = poll(lambda: None if "Datapath ready" in self.log() else
                       (f"exited {self.daemon.returncode}" if self.daemon.poll() is not None
                        else "not ready"),
                       timeout=10, what="patchpaneld did not get ready")
            # Ready also means the uplinks there at start are set up, so that a snapshot
            # taken now is the one to come back to (unless --uplinks chose others).
            if not err and not any(str(a).startswith("--uplinks") for a in
                                   [*self.daemon_args, *extra]):
                err = poll(lambda: None if set(self.uplink_lans) <= set(self.nft_elements("uplinks"))
                           else "not all uplinks", timeout=10,
                           what="patchpaneld did not set up the uplinks")
            if err:
                raise RuntimeError(f"{err}\n{self.log()}")
        return self.daemon

    def helper_gone(self, helper, timeout=5.0):
        """Wait for a helper process to be gone (or a zombie awaiting its reaper); if it
        is still running after timeout, kill it and return False."""
        def gone():
            try:
                return None if proc_status(helper)["State"].startswith("Z") else "running"
            except FileNotFoundError:
                return None
        if poll(gone, timeout=timeout) is None:
            return True
        try:
            os.kill(helper, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return False

    def log(self):
        """The daemon's log so far (bytes that are not UTF-8 replaced)."""
        if not self.daemon_log or not self.daemon_log.exists():
            return ""
        return self.daemon_log.read_text(errors="replace")

    def stop_daemon(self, sig=signal.SIGTERM, timeout=10):
        """Signal patchpaneld and wait for it; return its exit status."""
        if not self.daemon or self.daemon.poll() is not None:
            return self.daemon.returncode if self.daemon else None
        self.daemon.send_signal(sig)
        try:
            return self.daemon.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.daemon.wait()
            raise

    def daemon_pids(self):
        """(manager pid, helper pid) of the running suite."""
        mgr = self.daemon.pid if self.daemon else None
        # `ip netns exec` execs env, which execs patchpaneld: the Popen pid is the manager.
        helper = None
        if mgr:
            children = Path(f"/proc/{mgr}/task/{mgr}/children")
            if children.exists():
                for pid in children.read_text().split():
                    comm = Path(f"/proc/{pid}/comm").read_text().strip()
                    if comm.startswith("patchpanel-hel"):
                        helper = int(pid)
        return mgr, helper

    # ---- clients -----------------------------------------------------------------------

    def client(self, suffix=None):
        """A new client namespace with a process in it; returns (Netns, Popen)."""
        self._n_clients += 1
        ns = Netns(f"{self.tag}-{suffix or f'c{self._n_clients}'}")
        self.clients.append(ns)
        return ns, ns.sleeper()

    def vm(self, tap):
        """A VM behind the TAP `tap` of host: a new namespace whose eth0 exchanges frames
        with the TAP (taprelay.py). Returns its VmNetns, unconfigured; it is removed with
        the lab, or earlier by its delete()."""
        self._n_vms += 1
        vm = VmNetns(f"{self.tag}-vm{self._n_vms}", self.host, tap, f"vmrelay{self._n_vms}",
                     self.dir / f"taprelay-{self._n_vms}.log")
        self.clients.append(vm)
        return vm

    def cli(self, *args, timeout=20):
        """Run patchpanel-cli against the lab's bus; returns the CompletedProcess."""
        return subprocess.run([str(self.build / "bin" / "patchpanel-cli"), *map(str, args)],
                              capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": self.bus_address})

    def bus(self):
        if not self._bus:
            self._bus = Bus(self.bus_address)
        return self._bus

    def signals(self, bus=None):
        """A collector of NetworkDeviceChanged signals on bus (default: the lab's)."""
        return SignalCollector(bus or self.bus(), self.pb)

    # ---- typed calls -------------------------------------------------------------------

    def call_raw(self, method, request_bytes, bus=None):
        """Call a method of the `ay` -> `ay` kind with the given bytes; return the reply's
        bytes or raise DBusError."""
        body = (bus or self.bus()).call(method, "ay", [request_bytes])
        return bytes(body[0])

    def request(self, method, bus=None, **fields):
        """Call `method` with a <method>Request built from fields; return the parsed
        <method>Response or raise DBusError."""
        req = getattr(self.pb, f"{method}Request")(**fields)
        resp = getattr(self.pb, f"{method}Response")()
        resp.ParseFromString(self.call_raw(method, req.SerializeToString(), bus))
        return resp

    def termina_vm_startup(self, cid):
        return self.request("TerminaVmStartup", cid=cid)

    def termina_vm_shutdown(self, cid):
        return self.request("TerminaVmShutdown", cid=cid)

    def plugin_vm_startup(self, vm_id, subnet_index=0):
        return self.request("PluginVmStartup", id=vm_id, subnet_index=subnet_index)

    def plugin_vm_shutdown(self, vm_id):
        return self.request("PluginVmShutdown", id=vm_id)

    def arc_vm_startup(self, cid):
        return self.request("ArcVmStartup", cid=cid)

    def arc_vm_shutdown(self, cid):
        return self.request("ArcVmShutdown", cid=cid)

    def arc_startup(self, pid):
        return self.request("ArcStartup", pid=pid)

    def arc_shutdown(self, pid):
        return self.request("ArcShutdown", pid=pid)

    def modify_port_rule(self, op, rule_type, proto, port, ifname="", input_dst_ip="",
                         dst_ip="", dst_port=0, bus=None):
        """ModifyPortRule; op "create"/"delete", rule_type "access"/"lockdown"/"forwarding",
        proto "tcp"/"udp" (or the enum values); returns the response's success."""
        R = self.pb.ModifyPortRuleRequest
        enum = lambda v: getattr(R, v.upper()) if isinstance(v, str) else v  # noqa: E731
        return self.request("ModifyPortRule", bus=bus, op=enum(op), type=enum(rule_type),
                            proto=enum(proto), input_dst_port=port, input_ifname=ifname,
                            input_dst_ip=input_dst_ip, dst_ip=dst_ip, dst_port=dst_port).success

    def traffic_counters(self, devices=(), bus=None):
        """GetTrafficCounters as {(source name, device): TrafficCounter}."""
        req = self.pb.TrafficCountersRequest(devices=list(devices))
        resp = self.pb.TrafficCountersResponse()
        resp.ParseFromString(self.call_raw("GetTrafficCounters", req.SerializeToString(), bus))
        names = self.pb.TrafficCounter.Source
        return {(names.Name(c.source), c.device): c for c in resp.counters}

    def set_vpn_intent(self, fd, policy, bus=None):
        """SetVpnIntent for the socket fd; policy "DEFAULT_ROUTING"/"ROUTE_ON_VPN"/
        "BYPASS_VPN" or its value. Returns the response; raises DBusError."""
        if isinstance(policy, str):
            policy = self.pb.VpnRoutingPolicy.Value(policy)
        req = self.pb.SetVpnIntentRequest(policy=policy)
        body = (bus or self.bus()).call("SetVpnIntent", "ayh", [req.SerializeToString(), 0],
                                        [fd])
        resp = self.pb.SetVpnIntentResponse()
        resp.ParseFromString(bytes(body[0]))
        return resp

    def get_devices(self):
        """GetDevices as a sorted list of device_key() tuples."""
        return sorted(device_key(d) for d in self.request("GetDevices").devices)

    def status(self):
        """GetStatus (org.chromium.PatchPanel.Status) as parsed JSON."""
        return json.loads(self.bus().call("GetStatus", "", [], interface=STATUS_INTERFACE)[0])

    def pools_in_use(self):
        """{pool name: subnets in use} from GetStatus."""
        return {p["name"]: p["in_use"] for p in self.status()["pools"]}

    def connect_ns_request(self, pid, **fields):
        req = self.pb.ConnectNamespaceRequest(pid=pid, **fields)
        return req.SerializeToString()

    def connect_namespace(self, pid, lifeline=None, bus=None, **fields):
        """ConnectNamespace through D-Bus; returns (response, lifeline). Raises DBusError."""
        lifeline = lifeline or Lifeline()
        body = (bus or self.bus()).call("ConnectNamespace", "ayh",
                                        [self.connect_ns_request(pid, **fields), 0],
                                        [lifeline.write_fd])
        lifeline.close_sent_end()
        resp = self.pb.ConnectNamespaceResponse()
        resp.ParseFromString(bytes(body[0]))
        return resp, lifeline

    # ---- state -------------------------------------------------------------------------

    def routing_tag(self, uplink):
        """The fwmark bits (16-31) that pin traffic to uplink."""
        return routing_table(self.host.ifindex(uplink)) << 16

    def datapath_state(self):
        """What patchpanel owns in host, for leak checks: our links, the elements of our
        sets and maps, routes and rules."""
        links = sorted(n for n in self.host.links()
                       if n.startswith(("arc_", "arcbr", "vmtap", "veth")))
        elements = {}
        chains = []
        # Our main table; the counters' table only ever grows.
        listing = self.host.exec("nft", "-j", "list", "table", "inet", "patchpanel")
        if listing.returncode == 0:
            for item in json.loads(listing.stdout)["nftables"]:
                for kind in ("set", "map"):
                    if kind in item:
                        elements[item[kind]["name"]] = len(item[kind].get("elem", []))
                if "chain" in item:
                    chains.append(item["chain"]["name"])

        def stable(route):
            # Whether a link has a carrier comes and goes (a TAP gets one when its VM
            # attaches): it says nothing about what was left behind.
            route["flags"] = [f for f in route.get("flags", []) if f != "linkdown"]
            return json.dumps(route, sort_keys=True)
        routes = sorted(stable(r) for r in self.host.routes("table", "all"))
        routes6 = sorted(stable(r) for r in self.host.ip_json(
            "-6", "route", "show", "table", "all", "proto", str(RTPROT_PATCHPANEL)))
        rules = self.host.out("ip", "rule", "show")
        rules6 = self.host.out("ip", "-6", "rule", "show")
        return {"links": links, "elements": elements, "chains": sorted(chains),
                "routes": routes, "routes6": routes6, "rules": rules, "rules6": rules6}

    def nft_elements(self, name, table="patchpanel"):
        """Elements of one of our sets or maps in host: {key: value, or None for a set};
        concatenations become tuples, e.g. {("eth0", "tcp", 8080): ("100.115.92.130", 80)}."""
        def plain(v):
            if isinstance(v, dict) and "concat" in v:
                return tuple(plain(x) for x in v["concat"])
            if isinstance(v, dict) and "elem" in v:
                return plain(v["elem"]["val"])
            return v
        data = self.host.nft_json("list", "table", "inet", table)
        for item in data["nftables"]:
            obj = item.get("map") or item.get("set")
            if obj and obj["name"] == name:
                out = {}
                for e in obj.get("elem", []):
                    if isinstance(e, list):
                        out[plain(e[0])] = plain(e[1])
                    else:
                        out[plain(e)] = None
                return out
        raise KeyError(f"no set or map {name} in table inet {table}")

    def kernel_devices(self):
        """The guest devices GetDevices should list, read from the kernel as device_key()
        tuples: each ARC bridge arc_<uplink> (ARC when the container's vetharc0 exists,
        else ARCVM) and each VM TAP with an address (Termina in 100.115.92.0/24, PluginVM
        in 100.115.93.0/24); the guest address is the one after the host side's."""
        links = self.host.links()
        arc_type = ARC if "vetharc0" in links else ARCVM
        out = []
        for name in links:
            if not name.startswith(("arc_", "vmtap")):
                continue
            for a in self.host.ip_json("-4", "addr", "show", "dev", name):
                for info in a.get("addr_info", []):
                    iface = ipaddress.ip_interface(f"{info['local']}/{info['prefixlen']}")
                    if name.startswith("arc_"):
                        kind = arc_type
                    elif iface.ip in ipaddress.ip_network("100.115.93.0/24"):
                        kind = PLUGIN_VM
                    else:
                        kind = TERMINA_VM
                    out.append((name, str(iface.ip + 1), str(iface.network), kind))
        return sorted(out)

    def snapshot(self):
        """Everything a test must leave as it found it: the datapath_state() in the kernel
        and, from the daemon, the subnets in use per pool and the devices."""
        return {"datapath": self.datapath_state(), "pools": self.pools_in_use(),
                "devices": self.get_devices()}

    def wait_for_snapshot(self, snap, timeout=5.0):
        """None once snapshot() equals snap, else (after timeout) what differs."""
        return poll(lambda: snapshot_diff(snap, self.snapshot()), timeout=timeout,
                    interval=0.05, what="state not back")

    # ---- teardown ----------------------------------------------------------------------

    def close(self):
        if self._bus:
            try:
                self._bus.close()
            except Exception:  # pylint: disable=broad-except
                pass
            self._bus = None
        if self.daemon and self.daemon.poll() is None:
            try:
                self.stop_daemon()
            except Exception:  # pylint: disable=broad-except
                pass
        for ns in self.clients:
            ns.delete()
        self.clients = []
        for ns in (self.host, *self.uplink_lans.values()):
            if ns:
                ns.delete()
        self.host = None
        self.uplink_lans = {}
        if self.bus_proc and self.bus_proc.poll() is None:
            self.bus_proc.terminate()
            try:
                self.bus_proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.bus_proc.kill()
                self.bus_proc.wait()
        if self.dir and os.environ.get("PP_KEEP_LOGS") is None:
            shutil.rmtree(self.dir, ignore_errors=True)


def snapshot_diff(expected, now):
    """None if two snapshot()s (or datapath_state()s) are equal, else a readable list of
    what was expected but is missing ("-") and what is there but was not expected ("+")."""
    if expected == now:
        return None
    out = []

    def walk(path, a, b):
        if a == b:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b), key=str):
                walk(f"{path}.{k}", a.get(k), b.get(k))
        elif isinstance(a, list) and isinstance(b, list):
            out.extend(f"{path} - {x}" for x in a if x not in b)
            out.extend(f"{path} + {x}" for x in b if x not in a)
        elif isinstance(a, str) and isinstance(b, str) and "\n" in a + b:
            walk(path, a.splitlines(), b.splitlines())
        else:
            out.append(f"{path}: {a!r} -> {b!r}")
    walk("", expected, now)
    return out or ["(order differs)"]


def proc_status(pid):
    """The fields of /proc/PID/status as a dict."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        fields[k] = v.strip()
    return fields
