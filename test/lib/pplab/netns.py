"""Namespaces: the run/poll helpers, a network namespace with helpers to act inside it
(Netns), and a VM stand-in behind a TAP (VmNetns).

Everything started inside a Netns carries its tag (pplab.tags), and everything it started
ends with it: delete() stops its peers (pplab.peers) and processes by PID, waits for them,
then deletes the namespace. Helpers come in two kinds, as in FRR's topotests: exec()
returns a CompletedProcess whatever happened, out() returns the output of a command that
must succeed and raises otherwise.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from . import tags
from .client import subnet_of, wire_to_ip

TAPRELAY = Path(__file__).resolve().parents[1] / "taprelay.py"


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


def proc_status(pid):
    """The fields of /proc/PID/status as a dict. A process that is gone, also one reaped
    between open() and read() (ESRCH), raises FileNotFoundError."""
    fields = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except ProcessLookupError as e:
        raise FileNotFoundError(f"/proc/{pid}/status: the process is gone") from e
    for line in text.splitlines():
        k, _, v = line.partition(":")
        fields[k] = v.strip()
    return fields


def cpu_seconds(pid):
    """The CPU time pid has used so far, user and system (/proc/PID/stat fields 14, 15)."""
    fields = tags.stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
    """A network namespace and helpers to act inside it.

    name is "<tag>-<role>" by convention; tag (default: the name's prefix) is put into the
    environment of everything exec() and spawn() start. workdir is where peers put their
    files (default: a temporary directory of its own, removed by delete())."""

    def __init__(self, name, create=True, tag=None, workdir=None):
        self.name = name
        self.tag = tag or tags.tag_of_netns(name)
        self.procs = []
        self.peers = []
        self.deleted = False
        self._workdir = Path(workdir) if workdir else None
        self._own_workdir = False
        if create:
            run(["ip", "netns", "add", name])
            try:
                self.out("ip", "link", "set", "lo", "up")
            except BaseException:
                run(["ip", "netns", "del", name], check=False)
                raise

    @property
    def workdir(self):
        """A directory for the files of this namespace's peers (world-readable: some peers
        drop privileges)."""
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix=f"{self.name}-"))
            os.chmod(self._workdir, 0o755)
            self._own_workdir = True
        return self._workdir

    def env(self, env=None):
        """env (default: ours) with this namespace's tag and owner."""
        return tags.tagged_env(self.tag, env)

    def exec(self, *args, check=False, timeout=30, **kw):
        """Run a command inside the namespace; return the CompletedProcess (text)."""
        kw["env"] = self.env(kw.get("env"))
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
        kw["env"] = self.env(kw.get("env"))
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

    def add_peer(self, peer):
        """Start peer (a pplab.peers.Peer) inside this namespace and wait until it is
        ready; it is stopped by delete(), or earlier by its stop(). Returns peer."""
        peer.start(self)
        self.peers.append(peer)
        return peer

    def delete(self):
        """Stop the peers and processes started here (by PID, waiting for each), then
        delete the namespace. Deleting twice does nothing."""
        if self.deleted:
            return
        self.deleted = True
        for peer in reversed(self.peers):
            try:
                peer.stop()
            except Exception:  # pylint: disable=broad-except
                pass
        self.peers = []
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
        if self._own_workdir and os.environ.get("PP_KEEP_LOGS") is None:
            shutil.rmtree(self._workdir, ignore_errors=True)


class VmNetns(Netns):
    """A VM stand-in: a namespace whose eth0 is relayed to a TAP of the host namespace by
    taprelay.py, through a veth whose host end (relay_ifname) has no address, ARP off and
    IPv6 disabled, so that the host's stack never uses it. The test configures eth0 as the
    guest would (configure())."""

    def __init__(self, name, host, tap, relay_ifname, log_path, tag=None, workdir=None):
        super().__init__(name, tag=tag, workdir=workdir)
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
                    stderr=log, text=True, start_new_session=True, env=self.env())
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


