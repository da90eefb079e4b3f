"""The suite under test: a Lab is a host namespace running patchpaneld and its helper on a
private system bus, started the way a user starts them, with a lan namespace as its
upstream router:

    lan (lan0 192.0.2.1/24) ==veth== host (eth0 192.0.2.2/24, default via 192.0.2.1)

and, with Lab(uplinks=2), a second uplink and its router, without a default route:

    lan2 (lan0 198.51.100.1/24) ==veth== host (eth1 198.51.100.2/24)

Uplinks can be added and removed at run time (add_uplink(), remove_uplink()). The lans have
no route back to the guest pools, so a guest reaches them only through patchpanel's
masquerade. Client namespaces are created on demand, and so are VMs: lab.vm(tap) makes a
namespace whose eth0 is relayed to a TAP patchpanel built (taprelay.py), so a VM guest sends
real frames. Every name and every process carries the lab's tag (pplab.tags), so labs
never collide, close() removes all of it even after a failure, and pplab.reap finds what a
killed run left. Only documentation prefixes are used; the root namespace is never touched.

A Lab is a Topology (its namespaces take peers: lab.lan.add_peer(...)) and a Client (the
typed D-Bus calls); its kernel-state snapshots come from pplab.state.
"""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

from . import state, tags
from .client import Bus, Client, bus_config, routing_table
from .netns import VmNetns, poll, proc_status
from .paths import POLICY_FILE, build_dir, export_pythonpath, import_protos
from .topo import Topology

LAN_ADDR = "192.0.2.1"
HOST_UPLINK_ADDR = "192.0.2.2"
LAN2_ADDR = "198.51.100.1"
HOST_UPLINK2_ADDR = "198.51.100.2"


class Lab(Topology, Client):  # pylint: disable=too-many-instance-attributes,too-many-public-methods
    """Host + lan namespaces, a private bus, and the suite running in host."""

    def __init__(self, build=None, daemon_args=(), tag=None, log_level="debug",
                 extra_policy="", uplinks=1, ingress_firewall=True):
        Topology.__init__(self, tag)
        self.build = Path(build) if build else build_dir()
        self.n_uplinks = uplinks  # 1: eth0 and lan; 2: also eth1 and lan2
        self.extra_policy = extra_policy  # more <policy> XML for the private bus
        # The ingress firewall is on in labs, as on a host that wants its ACCESS rules to
        # mean something; Lab(ingress_firewall=False) runs the daemon's default.
        self.daemon_args = (["--ingress-firewall=on"] if ingress_firewall else []) + list(daemon_args)
        self.log_level = log_level
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
        self._pylib = None
        self.pb = import_protos(self.build)

    # ---- set-up ------------------------------------------------------------------------

    def start(self, daemon=True):
        Topology.start(self)
        self._start_bus()
        self.host = self.add_netns("host")
        self.add_uplink("eth0", LAN_ADDR, HOST_UPLINK_ADDR, default_route=True,
                        lan_suffix="lan")
        if self.n_uplinks >= 2:
            self.add_uplink("eth1", LAN2_ADDR, HOST_UPLINK2_ADDR, lan_suffix="lan2")
        if daemon:
            self.start_daemon()

    @property
    def pylib(self):
        """A world-readable directory with a copy of pplab and the generated protos, for
        Python run as another user (put it first on sys.path); the checkout may be closed
        to that user."""
        if self._pylib is None:
            self._pylib = export_pythonpath(self.dir / "py", self.build)
        return self._pylib

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
        lan = self.add_netns(lan_suffix or f"lan-{name}")
        try:
            self.link(lan, "lan0", self.host, name, a_addrs=[f"{lan_addr}/{prefix_len}"],
                      b_addrs=[f"{host_addr}/{prefix_len}"])
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
        conf.write_text(bus_config(sock, f"""  <policy context="default">
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
  {self.extra_policy}"""))
        self.bus_proc = subprocess.Popen(["dbus-daemon", f"--config-file={conf}", "--nofork",
                                          "--nopidfile"], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         env=tags.tagged_env(self.tag))
        self.bus_address = f"unix:path={sock}"
        err = poll(lambda: None if sock.exists() else "no socket", timeout=5,
                   what="dbus-daemon did not start")
        if err:
            raise RuntimeError(err)

    def daemon_command(self, extra=()):
        """The command line that starts patchpaneld in host, tagged with the lab's tag
        (its helper and children inherit the environment)."""
        cmd = ["ip", "netns", "exec", self.host.name, "env", *tags.env_args(self.tag),
                f"DBUS_SYSTEM_BUS_ADDRESS={self.bus_address}",
                self.build / "bin" / "patchpaneld",
                f"--helper={self.build / 'bin' / 'patchpanel-helper'}",
                f"--log-level={self.log_level}",
                # No configuration file: a lab runs the same whatever the host's says (a
                # --config of daemon_args, coming later, wins).
                "--config=", *self.daemon_args, *extra]
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
                                       stderr=subprocess.STDOUT, start_new_session=True,
                                       env=tags.tagged_env(self.tag))
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
                err = poll(lambda: None if set(self.uplink_lans) <=
                           set(self.nft_elements("uplinks")) else "not all uplinks", timeout=10,
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

    def restart_delay_ms(self, name, pid, timeout=5.0):
        """The delay the supervisor chose for restarting child `name` after its process `pid`
        ended, from the daemon's log (None if it did not say so within `timeout`). A test of
        "restarted at once" checks this, not the wall clock, which a loaded machine or a
        sanitizer build stretches."""
        pattern = re.compile(rf"{re.escape(name)} \(pid {pid}\) is gone \(.*\).*; "
                             r"restarting in (\d+) ms")
        deadline = time.monotonic() + timeout
        while True:
            m = pattern.search(self.log())
            if m or time.monotonic() > deadline:
                return int(m.group(1)) if m else None
            time.sleep(0.05)

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
            # Any of these may end while they are read (the manager, its launcher).
            try:
                children = Path(f"/proc/{mgr}/task/{mgr}/children").read_text().split()
            except (FileNotFoundError, ProcessLookupError):
                children = []
            for pid in children:
                try:
                    comm = Path(f"/proc/{pid}/comm").read_text().strip()
                except (FileNotFoundError, ProcessLookupError):
                    continue
                if comm.startswith("patchpanel-hel"):
                    helper = int(pid)
        return mgr, helper

    # ---- clients -----------------------------------------------------------------------

    def client(self, suffix=None):
        """A new client namespace with a process in it; returns (Netns, Popen)."""
        self._n_clients += 1
        ns = self.add_netns(suffix or f"c{self._n_clients}")
        self.clients.append(ns)
        return ns, ns.sleeper()

    def vm(self, tap):
        """A VM behind the TAP `tap` of host: a new namespace whose eth0 exchanges frames
        with the TAP (taprelay.py). Returns its VmNetns, unconfigured; it is removed with
        the lab, or earlier by its delete()."""
        self._n_vms += 1
        vm = self.add_netns(f"vm{self._n_vms}", cls=VmNetns, host=self.host, tap=tap,
                            relay_ifname=f"vmrelay{self._n_vms}",
                            log_path=self.dir / f"taprelay-{self._n_vms}.log")
        self.clients.append(vm)
        return vm

    def cli(self, *args, timeout=20):
        """Run patchpanel-cli against the lab's bus; returns the CompletedProcess."""
        return subprocess.run([str(self.build / "bin" / "patchpanel-cli"), *map(str, args)],
                              capture_output=True, text=True, timeout=timeout,
                              env=tags.tagged_env(self.tag, {
                                  **os.environ, "DBUS_SYSTEM_BUS_ADDRESS": self.bus_address}))

    def bus(self):
        """The lab's own connection to its bus (a Bus), made on first use."""
        if not self._bus:
            self._bus = Bus(self.bus_address)
        return self._bus

    # ---- state (pplab.state) -----------------------------------------------------------

    def routing_tag(self, uplink):
        """The fwmark bits (16-31) that pin traffic to uplink."""
        return routing_table(self.host.ifindex(uplink)) << 16

    def datapath_state(self):
        """state.datapath_state() of host."""
        return state.datapath_state(self.host)

    def nft_elements(self, name, table="patchpanel"):
        """state.nft_elements() of host."""
        return state.nft_elements(self.host, name, table)

    def kernel_devices(self):
        """state.kernel_devices() of host."""
        return state.kernel_devices(self.host)

    def snapshot(self):
        """state.snapshot() of the lab."""
        return state.snapshot(self)

    def wait_for_snapshot(self, snap, timeout=5.0):
        """None once snapshot() equals snap, else (after timeout) what differs."""
        return poll(lambda: state.snapshot_diff(snap, self.snapshot()), timeout=timeout,
                    interval=0.05, what="state not back")

    # ---- teardown ----------------------------------------------------------------------

    def close(self):
        """Stop the suite, delete every namespace, stop the bus, remove the work directory
        (kept with PP_KEEP_LOGS set): all of it even after a failure."""
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
        Topology.close(self)
