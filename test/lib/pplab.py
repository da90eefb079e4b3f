"""pplab: throw-away network labs for patchpanel, shared by the integration tests, the
benchmarks and scripts/run.

A lab is a "host" network namespace that runs the whole suite (patchpaneld and its helper)
on a private system bus, and a "lan" namespace as its upstream router:

    lan (lan0 192.0.2.1/24) ==veth== host (eth0 192.0.2.2/24, default via 192.0.2.1)

The lan has no route back to the guest pools, so a guest reaches 192.0.2.1 only through
patchpanel's masquerade. Client namespaces are created on demand. Every name carries a
random tag, so labs never collide, and close() removes all of it even after a failure.
Only documentation prefixes are used; the root namespace is never touched.
"""

import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
POLICY_FILE = REPO / "systemd" / "org.chromium.PatchPanel.conf"

LAN_ADDR = "192.0.2.1"
HOST_UPLINK_ADDR = "192.0.2.2"

BUS_NAME = "org.chromium.PatchPanel"
BUS_PATH = "/org/chromium/PatchPanel"
BUS_INTERFACE = "org.chromium.PatchPanel"


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


def run(args, check=True, timeout=30, **kw):
    """Run a command and return the CompletedProcess (text). Raise with its output on
    failure when check is set."""
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout, **kw)
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

    def ping(self, addr, count=1, wait=1):
        return self.ok("ping", "-n", "-q", "-c", str(count), "-W", str(wait), addr,
                       timeout=count * wait + 10)

    def spawn(self, *args, **kw):
        """Start a long-running process inside the namespace; it is ended by delete()."""
        # A session of its own: a terminal's Ctrl-C reaches only whoever runs the lab.
        p = subprocess.Popen(["ip", "netns", "exec", self.name, *map(str, args)],
                             stdin=subprocess.DEVNULL, start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def sleeper(self, uid=None):
        """A process that lives in this namespace until killed (as uid, if given); its pid
        is what ConnectNamespace takes. Returns once the process is inside the namespace:
        until `ip netns exec` has switched, the pid is still in the caller's namespace."""
        prefix = [] if uid is None else ["setpriv", f"--reuid={uid}", f"--regid={uid}",
                                         "--clear-groups"]
        p = self.spawn(*prefix, "sleep", "infinity", stdout=subprocess.DEVNULL,
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

    def _message(self, member, signature, body, fds):
        from dbus_next import Message  # pylint: disable=import-outside-toplevel
        return Message(destination=BUS_NAME, path=BUS_PATH, interface=BUS_INTERFACE,
                       member=member, signature=signature, body=body, unix_fds=list(fds))

    async def _call(self, member, signature, body, fds):
        from dbus_next import MessageType  # pylint: disable=import-outside-toplevel
        reply = await self.bus.call(self._message(member, signature, body, fds))
        if reply.message_type == MessageType.ERROR:
            raise DBusError(reply.error_name, reply.body[0] if reply.body else "")
        return reply.body

    def call(self, member, signature, body, fds=()):
        """Call a method; return its body or raise DBusError."""
        return self.loop.run_until_complete(self._call(member, signature, body, fds))

    def call_many(self, calls):
        """Make many calls at once, all in flight together; return each body or
        DBusError, in order."""
        async def gather():
            return await asyncio.gather(*(self._call(*c) for c in calls),
                                        return_exceptions=True)
        return self.loop.run_until_complete(gather())

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
                 extra_policy=""):
        self.build = Path(build) if build else build_dir()
        self.extra_policy = extra_policy  # more <policy> XML for the private bus
        self.tag = tag or "pp" + secrets.token_hex(3)
        self.daemon_args = list(daemon_args)
        self.log_level = log_level
        self.dir = None
        self.bus_proc = None
        self.bus_address = None
        self.daemon = None
        self.daemon_log = None
        self.host = None
        self.lan = None
        self.clients = []
        self._n_clients = 0
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
        self.lan = Netns(f"{self.tag}-lan")
        run(["ip", "link", "add", "name", "lan0", "netns", self.lan.name, "type", "veth",
             "peer", "name", "eth0", "netns", self.host.name])
        self.lan.out("ip", "link", "set", "lan0", "up")
        self.lan.out("ip", "addr", "add", f"{LAN_ADDR}/24", "dev", "lan0")
        self.host.out("ip", "link", "set", "eth0", "up")
        self.host.out("ip", "addr", "add", f"{HOST_UPLINK_ADDR}/24", "dev", "eth0")
        self.host.out("ip", "route", "add", "default", "via", LAN_ADDR)
        if daemon:
            self.start_daemon()

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
        return self.daemon_log.read_text() if self.daemon_log and self.daemon_log.exists() else ""

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

    def bus(self):
        if not self._bus:
            self._bus = Bus(self.bus_address)
        return self._bus

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

    def datapath_state(self):
        """What patchpanel owns in host, for leak checks: our links, the elements of our
        sets and maps, routes and rules."""
        links = sorted(n for n in self.host.links() if n.startswith(("arc_", "vmtap", "veth")))
        elements = {}
        tables = self.host.exec("nft", "-j", "list", "table", "inet", "patchpanel")
        if tables.returncode == 0:
            for item in json.loads(tables.stdout)["nftables"]:
                for kind in ("set", "map"):
                    if kind in item:
                        elements[item[kind]["name"]] = len(item[kind].get("elem", []))
        routes = sorted(json.dumps(r, sort_keys=True) for r in self.host.routes("table", "all"))
        rules = self.host.out("ip", "rule", "show")
        return {"links": links, "elements": elements, "routes": routes, "rules": rules}

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
        for ns in (self.host, self.lan):
            if ns:
                ns.delete()
        self.host = self.lan = None
        if self.bus_proc and self.bus_proc.poll() is None:
            self.bus_proc.terminate()
            try:
                self.bus_proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.bus_proc.kill()
                self.bus_proc.wait()
        if self.dir and os.environ.get("PP_KEEP_LOGS") is None:
            shutil.rmtree(self.dir, ignore_errors=True)


def proc_status(pid):
    """The fields of /proc/PID/status as a dict."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        fields[k] = v.strip()
    return fields
