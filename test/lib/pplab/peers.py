"""Peers: real third-party daemons a test adds to a namespace in a line, as users meet them
next to patchpanel (spec/testbed-recipes.md has the recipes and their gotchas).

    lab.lan.add_peer(Radvd(prefix="2001:db8:1::/64"))
    b = ns_b.add_peer(AvahiDaemon(dbus=True)); b.browse("_http._tcp")
    arc.ns.add_peer(FakeAdbd(unix=path)); lan.add_peer(AdbServer()).connect("192.0.2.2:5555")
    ns.add_peer(Iperf3Server(port=5201)); iperf3_client(other, "198.51.100.10", 5201)

Each peer writes its configuration into a directory of its own under the namespace's
workdir (so several run at once, in one namespace or many), starts as a child of this
process in the namespace (Netns.spawn: tagged, waited for), is ready when start() returns
(polling a condition, never a fixed sleep), and stops by PID with its namespace or earlier
by stop(). Daemons that insist on fixed paths (avahi's /run/avahi-daemon and
/etc/avahi/services) get private bind mounts: `ip netns exec` gives each command a mount
namespace of its own, so the mounts are seen by that daemon alone.
"""

import ipaddress
import json
import os
import re
import subprocess
import textwrap
from pathlib import Path

from . import tags
from .client import bus_config
from .netns import poll

SIGTERM_WAIT = 5.0


class PeerError(RuntimeError):
    pass


class Peer:
    """A daemon inside a namespace. Subclasses set kind and implement launch() (write the
    configuration into self.dir, start the processes with self.spawn()) and ready() (None
    once usable, else what is still missing)."""

    kind = "peer"
    ready_timeout = 10.0

    def __init__(self):
        self.ns = None
        self.dir = None
        self.procs = []
        self.log_path = None

    # ---- life cycle --------------------------------------------------------------------

    def start(self, ns):
        """Start inside ns and wait until ready (Netns.add_peer() calls this); on failure
        stop what was started and raise PeerError with the log."""
        self.ns = ns
        n = 1
        while (ns.workdir / f"{ns.name}-{self.kind}{n}").exists():
            n += 1
        self.dir = ns.workdir / f"{ns.name}-{self.kind}{n}"
        self.dir.mkdir(mode=0o755)
        self.log_path = self.dir / "log"
        try:
            self.launch()
            err = poll(self._ready_or_dead, timeout=self.ready_timeout, interval=0.05,
                       what=f"{self.kind} in {ns.name} not ready")
            if err:
                raise PeerError(f"{err}\n{self.log()}")
        except BaseException:
            self.stop()
            raise
        return self

    def _ready_or_dead(self):
        for p in self.procs:
            if p.poll() is not None:
                raise PeerError(f"{self.kind} in {self.ns.name} exited with {p.returncode}:"
                                f"\n{self.log()}")
        return self.ready()

    def launch(self):
        raise NotImplementedError

    def ready(self):
        return None

    def spawn(self, *args, env=None, log=None):
        """Start a process of this peer in its namespace, output to log (default: the
        peer's log); it is stopped by stop()."""
        with open(log or self.log_path, "ab") as out:
            p = self.ns.spawn(*args, stdout=out, stderr=subprocess.STDOUT, env=env)
        self.procs.append(p)
        return p

    @property
    def pid(self):
        """The PID of the peer's (first) process."""
        return self.procs[0].pid if self.procs else None

    def running(self):
        return bool(self.procs) and all(p.poll() is None for p in self.procs)

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except (OSError, AttributeError):
            return ""

    def stop(self):
        """End the peer's processes, last started first: SIGTERM, then SIGKILL for one
        still there after SIGTERM_WAIT seconds; each is waited for."""
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=SIGTERM_WAIT)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs = []

    # ---- helpers -----------------------------------------------------------------------

    def write(self, name, text, mode=0o644):
        path = self.dir / name
        path.write_text(text)
        path.chmod(mode)
        return path

    def only_link(self):
        """The namespace's one link besides lo (for peers not told an interface)."""
        links = [n for n in self.ns.links() if n != "lo"]
        if len(links) != 1:
            raise PeerError(f"{self.kind}: say which interface of {self.ns.name}: {links}")
        return links[0]

    def listening(self, port, udp=False):
        """None once something listens on port in the namespace, else why not."""
        args = ("ss", "-Hlun" if udp else "-Hltn", f"sport = :{port}")
        return None if self.ns.out(*args).strip() else f"nothing listens on {port}"


# ---- radvd ---------------------------------------------------------------------------------

class Radvd(Peer):
    """radvd sending Router Advertisements of prefix on interface (default: the only link),
    every 3-10 s and at once on a Router Solicitation. The namespace becomes a router
    (forwarding on) and, with router_address, gets <prefix>::1 on the interface."""

    kind = "radvd"

    def __init__(self, prefix="2001:db8:1::/64", interface=None, router_address=True,
                 extra_options=""):
        super().__init__()
        self.prefix = ipaddress.IPv6Network(prefix)
        self.interface = interface
        self.router_address = router_address
        self.extra_options = extra_options

    @property
    def address(self):
        """The router's address in the prefix (<prefix>::1)."""
        return str(self.prefix.network_address + 1)

    def launch(self):
        self.interface = self.interface or self.only_link()
        self.ns.sysctl("net.ipv6.conf.all.forwarding", 1)
        if self.router_address:
            have = self.ns.out("ip", "-6", "addr", "show", "dev", self.interface)
            if f"{self.address}/" not in have:
                self.ns.out("ip", "-6", "addr", "add",
                            f"{self.address}/{self.prefix.prefixlen}", "dev", self.interface,
                            "nodad")
        conf = self.write("radvd.conf", textwrap.dedent(f"""\
            interface {self.interface} {{
                AdvSendAdvert on;
                MinRtrAdvInterval 3;
                MaxRtrAdvInterval 10;
                {self.extra_options}
                prefix {self.prefix} {{
                    AdvOnLink on;
                    AdvAutonomous on;
                }};
            }};
            """))
        # -n: no fork, so that we stay its parent; -d 2 logs when the interface is armed.
        self.spawn("radvd", "-n", "-C", conf, "-p", self.dir / "radvd.pid", "-m", "stderr",
                   "-d", "2")

    def ready(self):
        if f"next iface is {self.interface}" not in self.log():
            return "interface not armed yet"
        return None


# ---- avahi ---------------------------------------------------------------------------------

AVAHI_BUS_POLICY = """  <policy context="default">
    <allow user="*"/>
    <allow own="org.freedesktop.Avahi"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>"""


class AvahiDaemon(Peer):
    """avahi-daemon as an mDNS responder (services: [(name, type, port, txt list)],
    published from static service files), a reflector (reflector=True), and with dbus=True
    a querier: it then gets a private system bus of its own (org.freedesktop.Avahi can be
    owned once per bus) that browse(), resolve() and publish() use.

    Several can run at once: each sees only its own /run/avahi-daemon and
    /etc/avahi/services (bind mounts in the mount namespace `ip netns exec` makes), and
    has its own host name (all namespaces share one UTS host name)."""

    kind = "avahi"

    def __init__(self, host_name=None, services=(), interfaces=None, reflector=False,
                 dbus=False, ipv6=False):
        super().__init__()
        self.host_name = host_name
        self.services = list(services)
        self.interfaces = interfaces
        self.reflector = reflector
        self.dbus = dbus
        self.ipv6 = ipv6
        self.bus_address = None

    def launch(self):
        self.host_name = self.host_name or re.sub(r"[^a-z0-9-]", "-", self.dir.name.lower())
        run_dir = self.dir / "run"
        services = self.dir / "services"
        run_dir.mkdir()
        services.mkdir()
        for i, (name, stype, port, txt) in enumerate(self.services):
            records = "".join(f"<txt-record>{t}</txt-record>" for t in txt)
            self.write(f"services/s{i}.service",
                       "<?xml version=\"1.0\" standalone='no'?>\n<service-group>"
                       f"<name>{name}</name><service><type>{stype}</type><port>{port}</port>"
                       f"{records}</service></service-group>\n")
        allow = f"allow-interfaces={','.join(self.interfaces)}\n" if self.interfaces else ""
        conf = self.write("avahi-daemon.conf", textwrap.dedent(f"""\
            [server]
            host-name={self.host_name}
            use-ipv4=yes
            use-ipv6={'yes' if self.ipv6 else 'no'}
            enable-dbus={'yes' if self.dbus else 'no'}
            """) + allow + textwrap.dedent(f"""\
            [wide-area]
            enable-wide-area=no
            [publish]
            publish-hinfo=no
            publish-workstation=no
            [reflector]
            enable-reflector={'yes' if self.reflector else 'no'}
            """))
        env = None
        if self.dbus:
            env = self._start_bus()
        # The bind mounts live in the mount namespace `ip netns exec` made for this
        # command alone; exec keeps the PID ours. The mount point is avahi's own, made
        # when its package is installed: a reboot since (a fresh /run) takes it away.
        os.makedirs("/run/avahi-daemon", exist_ok=True)
        self.spawn("sh", "-c", 'mount --bind "$1" /run/avahi-daemon && '
                   'mount --bind "$2" /etc/avahi/services && '
                   'exec avahi-daemon --no-drop-root --no-chroot --no-rlimits -f "$3"',
                   "sh", run_dir, services, conf, env=env)

    def _start_bus(self):
        sock = self.dir / "bus.sock"
        conf = self.write("bus.conf", bus_config(sock, AVAHI_BUS_POLICY))
        # The bus needs no namespace: a path socket is reached from any.
        with open(self.dir / "bus.log", "wb") as out:
            p = subprocess.Popen(["dbus-daemon", f"--config-file={conf}", "--nofork",
                                  "--nopidfile"], stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.STDOUT, start_new_session=True,
                                 env=tags.tagged_env(self.ns.tag))
        self.procs.append(p)
        err = poll(lambda: None if sock.exists() else "no socket", timeout=5,
                   what=f"avahi's bus in {self.ns.name}")
        if err:
            raise PeerError(err)
        self.bus_address = f"unix:path={sock}"
        return {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": self.bus_address}

    def ready(self):
        if "Server startup complete" not in self.log():
            return "not started up"
        missing = len(self.services) - self.log().count("successfully established")
        return f"{missing} services not established" if missing > 0 else None

    def _client_env(self):
        if not self.dbus:
            raise PeerError("avahi's clients need AvahiDaemon(dbus=True)")
        return {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": self.bus_address}

    def browse(self, service_type, timeout=10):
        """avahi-browse -rtp service_type: the resolved services seen until "all for now",
        as dicts (interface, protocol, name, type, domain, host, address, port, txt)."""
        p = self.ns.exec("avahi-browse", "-rtp", service_type, env=self._client_env(),
                         timeout=timeout)
        # avahi-browse exits 0 even when it finds nothing: what counts is its output.
        out = []
        for line in p.stdout.splitlines():
            f = line.split(";")
            if f[0] == "=" and len(f) >= 10:
                out.append({"interface": f[1], "protocol": f[2], "name": f[3],
                            "type": f[4], "domain": f[5], "host": f[6], "address": f[7],
                            "port": int(f[8]), "txt": f[9]})
        return out

    def resolve(self, host_name, timeout=10):
        """The IPv4 address avahi-resolve finds for host_name ("x.local"), or None."""
        p = self.ns.exec("avahi-resolve", "-4", "-n", host_name, env=self._client_env(),
                         timeout=timeout)
        f = p.stdout.split()
        return f[1] if len(f) == 2 and f[0] == host_name else None

    def publish(self, name, service_type, port, *txt):
        """Publish a service through avahi-publish (a dynamic responder, as applications
        use avahi); returns once it is established. It runs until the peer stops."""
        log = self.dir / f"publish-{len(self.procs)}.log"
        p = self.spawn("avahi-publish", "-s", name, service_type, str(port), *txt,
                       env=self._client_env(), log=log)

        def established():
            if p.poll() is not None:
                raise PeerError(f"avahi-publish exited {p.returncode}: {log.read_text()}")
            return None if "Established under name" in log.read_text() else "not yet"
        err = poll(established, timeout=10, what=f"avahi-publish {name}")
        if err:
            raise PeerError(err)
        return p


# ---- SSDP (GSSDP) --------------------------------------------------------------------------

GSSDP_RESPONDER = """
import sys
import gi
gi.require_version("GSSDP", "1.6")
from gi.repository import Gio, GLib, GSSDP
iface, family, location, uuid, *targets = sys.argv[1:]
if family == "6":  # the link's link-local address, ff02::c
    client = GSSDP.Client(interface=iface, address_family=Gio.SocketFamily.IPV6,
                          uda_version=GSSDP.UDAVersion.VERSION_1_0)
    client.init(None)
else:
    client = GSSDP.Client.new_full(iface, None, 0, GSSDP.UDAVersion.VERSION_1_0)
group = GSSDP.ResourceGroup.new(client)
for target in ["upnp:rootdevice", *targets]:
    group.add_resource_simple(target, f"uuid:{uuid}::{target}", location)
group.set_available(True)
print("ready", flush=True)
GLib.MainLoop().run()
"""

SSDP_PORT = 1900


class GssdpResponder(Peer):
    """A UPnP device's SSDP side through libgssdp (PyGObject): announces
    upnp:rootdevice and each of targets on interface (default: the only link) over IPv4
    or, with family=6, IPv6 (ff02::c), answers M-SEARCH, and gives location as its
    description URL."""

    kind = "gssdp"

    def __init__(self, targets=("urn:schemas-upnp-org:device:pplab:1",), interface=None,
                 location="http://198.51.100.10:8080/desc.xml", uuid=None, family=4):
        super().__init__()
        self.family = family
        self.targets = list(targets)
        self.interface = interface
        self.location = location
        self.uuid = uuid

    def launch(self):
        self.interface = self.interface or self.only_link()
        self.uuid = self.uuid or f"pplab-{self.dir.name}"
        script = self.write("responder.py", GSSDP_RESPONDER)
        self.spawn("/usr/bin/python3", script, self.interface, str(self.family), self.location,
                   self.uuid, *self.targets)

    def ready(self):
        if "ready" not in self.log().split():
            return "not announced"
        return self.listening(SSDP_PORT, udp=True)


def gssdp_discover(ns, target, interface=None, seconds=3):
    """Run gssdp-discover (the GSSDP control point of gupnp-tools) in ns for seconds;
    return the resources it saw available as [{"usn": ..., "location": ...}]."""
    interface = interface or next(n for n in ns.links() if n != "lo")
    p = ns.exec("gssdp-discover", "-i", interface, "-t", target, "-n", str(seconds),
                timeout=seconds + 20)
    out, cur = [], None
    for line in p.stdout.splitlines():
        line = line.strip()
        if line == "resource available":
            cur = {}
            out.append(cur)
        elif cur is not None and line.startswith("USN:"):
            cur["usn"] = line.split(None, 1)[1]
        elif cur is not None and line.startswith("Location:"):
            cur["location"] = line.split(None, 1)[1]
    return out


# ---- socat ---------------------------------------------------------------------------------

class Socat(Peer):
    """socat between two addresses, e.g. Socat("TCP-LISTEN:7000,reuseaddr,fork", "PIPE")
    (an echo server) or a relay to another host; ready once its listening side listens
    (when the first address is a *-LISTEN or *-RECV* one)."""

    kind = "socat"
    LISTEN = re.compile(r"^(TCP|UDP)[46]?-(LISTEN|RECVFROM|RECV):(\d+)", re.IGNORECASE)

    def __init__(self, left, right, options=("-b", "262144")):
        super().__init__()
        self.left = left
        self.right = right
        self.options = list(options)

    @classmethod
    def echo(cls, port, udp=False):
        """An echo server on port (TCP, or UDP)."""
        if udp:
            return cls(f"UDP-RECVFROM:{port},reuseaddr,fork", "PIPE")
        return cls(f"TCP-LISTEN:{port},reuseaddr,fork", "PIPE")

    def launch(self):
        self.spawn("socat", *self.options, self.left, self.right)

    def ready(self):
        m = self.LISTEN.match(self.left)
        if not m:
            return None
        return self.listening(int(m.group(3)), udp=m.group(1).upper() == "UDP")


# ---- iperf3 --------------------------------------------------------------------------------

class Iperf3Server(Peer):
    """iperf3 -s on port (bound to bind, if given); ready once it listens."""

    kind = "iperf3"

    def __init__(self, port=5201, bind=None):
        super().__init__()
        self.port = port
        self.bind = bind

    def launch(self):
        bind = ["-B", self.bind] if self.bind else []
        self.spawn("iperf3", "-s", "-p", str(self.port), *bind)

    def ready(self):
        return self.listening(self.port)


def iperf3_client(ns, addr, port=5201, seconds=1, reverse=False, udp=False):
    """Run an iperf3 client in ns against addr:port; return the parsed JSON result (raises
    when iperf3 fails). The receiver's rate is result["end"]["sum_received"]
    ["bits_per_second"] for TCP, result["end"]["sum"]["bits_per_second"] for UDP."""
    args = ["iperf3", "-c", addr, "-p", str(port), "-t", str(seconds), "-J"]
    if reverse:
        args.append("-R")
    if udp:
        args += ["-u", "-b", "100M"]
    p = ns.exec(*args, timeout=seconds + 30)
    try:
        result = json.loads(p.stdout)
    except json.JSONDecodeError as e:
        raise PeerError(f"iperf3 client in {ns.name}: {p.stdout}{p.stderr}") from e
    if p.returncode != 0 or "error" in result:
        raise PeerError(f"iperf3 client in {ns.name}: {result.get('error', p.stderr)}")
    return result



# ---- adb -----------------------------------------------------------------------------------

FAKE_ADBD = Path(__file__).resolve().parents[1] / "fake_adbd.py"
ADB_SERVER_PORT = 5037
SHA256_STDIN = """
import hashlib, sys
h, n = hashlib.sha256(), 0
for b in iter(lambda: sys.stdin.buffer.read(1 << 20), b""):
    h.update(b)
    n += len(b)
print(h.hexdigest(), n)
"""


class FakeAdbd(Peer):
    """ARC's adbd stand-in (test/lib/fake_adbd.py): CNXN, `adb devices`, the legacy
    shell: service, on a UNIX socket (unix=PATH, made connectable by anyone, as the proxy
    runs unprivileged) and/or TCP addresses (tcp=["100.115.92.2:5555"]). `adb devices -l`
    shows it as product:<name>, which tells the tests which one answered."""

    kind = "adbd"

    def __init__(self, unix=None, tcp=(), name="ppfake"):
        super().__init__()
        self.unix = unix
        self.tcp = list(tcp)
        self.name = name

    def launch(self):
        args = ["--name", self.name]
        if self.unix:
            args += ["--unix", self.unix]
        for t in self.tcp:
            args += ["--tcp", t]
        self.spawn("/usr/bin/python3", FAKE_ADBD, *args)

    def ready(self):
        return None if "ready" in self.log().split() else "not listening"


class AdbServer(Peer):
    """Debian's adb client: its server (`adb server nodaemon`, so that it stays our child
    and ends with the peer) on 127.0.0.1:5037 of the namespace, with a HOME of its own for
    its keys; adb() runs a command against it. `adb connect` exits 0 even when it fails:
    connect() reads its output instead."""

    kind = "adb"
    ready_timeout = 20.0

    def home_env(self):
        return {**os.environ, "HOME": str(self.dir / "home")}

    def launch(self):
        (self.dir / "home").mkdir(mode=0o700)
        self.spawn("adb", "-L", f"tcp:{ADB_SERVER_PORT}", "server", "nodaemon",
                   env=self.home_env())

    def ready(self):
        return self.listening(ADB_SERVER_PORT)

    def adb(self, *args, timeout=60):
        """Run `adb ARGS` in the namespace; the CompletedProcess."""
        return self.ns.exec("adb", "-P", str(ADB_SERVER_PORT), *args, env=self.home_env(),
                            timeout=timeout)

    def shell_sha256(self, serial, command, timeout=120):
        """(sha256 hex, byte count) of what `adb -s serial shell command` prints."""
        p = self.ns.exec("sh", "-c", f'adb -P {ADB_SERVER_PORT} -s "$1" shell "$2" | '
                         f'/usr/bin/python3 -c "$3"', "sh", serial, command, SHA256_STDIN,
                         env=self.home_env(), timeout=timeout)
        f = p.stdout.split()
        return (f[0], int(f[1])) if len(f) == 2 else ("", 0)

    def connect(self, target, timeout=30):
        """`adb connect target`: None once connected, else its output."""
        out = self.adb("connect", target, timeout=timeout).stdout.strip()
        return None if out.startswith(f"connected to {target}") or \
            out.startswith(f"already connected to {target}") else out

    def devices(self):
        """{serial: the rest of its `adb devices -l` line}."""
        lines = self.adb("devices", "-l").stdout.splitlines()[1:]
        return {l.split()[0]: " ".join(l.split()[1:]) for l in lines if l.strip()}
