"""NeighborReachabilityEvent (issue 12): the daemon watches each uplink's gateways and the
DNS servers on its subnets, has the kernel re-probe them every probe interval, and tells
FAILED once when one stops answering and REACHABLE when it answers again.

    lan (lan0 192.0.2.1/24, 192.0.2.53, radvd for 2001:db8:1::/64) ==veth== host (eth0)

The daemon runs with --neighbor-probe-interval=1 and --resolv-conf pointing at a file of
this module listing 192.0.2.53. The lan "stops answering" through an nftables table in its
own namespace that drops ARP, or Neighbor Solicitations and Advertisements, both ways.
Signals are decoded with a message class built here from the 2021 proto's field numbers and
enum values (reference §2.3), not from the daemon's own service.proto, as an old client
would decode them.

A second lab (resolved_lab) stands for a host where systemd-resolved runs: its resolv.conf
lists only the stub 127.0.0.53, --resolved-conf names a file of this module in place of
/run/systemd/resolve/resolv.conf, and FakeResolved, an org.freedesktop.resolve1 of this
module on the lab's bus (its policy lets root own the name and anyone read its
properties, as resolved's own policy does), lists the servers of each link in its DNS
property.
"""

import asyncio
import contextlib
import errno
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

import pplab
from pplab import tags

PROBE_INTERVAL = 1
# A probe round, the kernel's three unicast probes a second apart, and room for a busy box.
FAIL_TIMEOUT = PROBE_INTERVAL + 3 + 8
GATEWAY, DNS_SERVER, GATEWAY_AND_DNS_SERVER = 1, 2, 3
FAILED, RECOVERED = 1, 2  # EventType; value 2 was named RECOVERED in 2021-01, REACHABLE later
DNS_ADDR = "192.0.2.53"
DNS2_ADDR = "192.0.2.54"
PREFIX6 = "2001:db8:1::/64"
RESOLVED = "org.freedesktop.resolve1"
# The private bus lets root own resolved's name and anyone read its properties, as
# resolved's own policy file does on a host.
RESOLVED_POLICY = f"""<policy user="root">
    <allow own="{RESOLVED}"/>
  </policy>
  <policy context="default">
    <allow send_destination="{RESOLVED}" send_interface="org.freedesktop.DBus.Properties"
           send_member="Get"/>
  </policy>"""


def proto_2021():
    """NeighborReachabilityEventSignal as the 2021-01 patchpanel_service.proto declares it
    (package patchpanel, proto3): the class an old client decodes the signal with."""
    # pylint: disable=import-outside-toplevel,no-member
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    F = descriptor_pb2.FieldDescriptorProto
    f = descriptor_pb2.FileDescriptorProto(name="patchpanel_service_2021.proto",
                                           package="patchpanel", syntax="proto3")
    m = f.message_type.add(name="NeighborReachabilityEventSignal")
    for enum, values in (("Role", ["INVALID_ROLE", "GATEWAY", "DNS_SERVER",
                                   "GATEWAY_AND_DNS_SERVER"]),
                         ("EventType", ["INVALID_EVENT_TYPE", "FAILED", "RECOVERED"])):
        e = m.enum_type.add(name=enum)
        for number, name in enumerate(values):
            e.value.add(name=name, number=number)
    prefix = ".patchpanel.NeighborReachabilityEventSignal."
    m.field.add(name="ifindex", number=1, type=F.TYPE_INT32, label=F.LABEL_OPTIONAL)
    m.field.add(name="ip_addr", number=2, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    m.field.add(name="role", number=3, type=F.TYPE_ENUM, label=F.LABEL_OPTIONAL,
                type_name=prefix + "Role")
    m.field.add(name="type", number=4, type=F.TYPE_ENUM, label=F.LABEL_OPTIONAL,
                type_name=prefix + "EventType")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    desc = pool.FindMessageTypeByName("patchpanel.NeighborReachabilityEventSignal")
    return message_factory.MessageFactory(pool).GetPrototype(desc)


class NeighborSignals:
    """NeighborReachabilityEvent signals on the lab's bus connection from creation on, as
    (ifindex, ip_addr, role, type) tuples decoded with proto_2021(). Read while the
    connection's loop runs: in wait_for() and quiet(), or during any call on the bus."""

    MATCH = (f"type='signal',sender='{pplab.BUS_NAME}',path='{pplab.BUS_PATH}',"
             f"interface='{pplab.BUS_INTERFACE}',member='NeighborReachabilityEvent'")

    def __init__(self, bus):
        self.bus = bus
        self.cls = proto_2021()
        self.events = []
        self.bus.bus.add_message_handler(self._on_message)
        self.bus.bus_call("AddMatch", "s", [self.MATCH])

    def _on_message(self, msg):
        from dbus_next import MessageType  # pylint: disable=import-outside-toplevel
        if msg.message_type != MessageType.SIGNAL or \
                msg.member != "NeighborReachabilityEvent" or msg.interface != pplab.BUS_INTERFACE:
            return None
        assert msg.signature == "ay", msg.signature
        sig = self.cls()
        sig.ParseFromString(bytes(msg.body[0]))
        self.events.append((sig.ifindex, sig.ip_addr, sig.role, sig.type))
        return None

    def take(self):
        out, self.events = self.events, []
        return out

    def wait_for(self, event, timeout):
        """Wait until `event` has come; return every event so far (and forget them), or
        None on timeout (the events are kept)."""
        deadline = time.monotonic() + timeout
        while event not in self.events:
            if time.monotonic() >= deadline:
                return None
            self.bus.run_for(0.05)
        return self.take()

    def quiet(self, seconds):
        self.bus.run_for(seconds)
        return self.take()

    def close(self):
        self.bus.bus.remove_message_handler(self._on_message)
        self.bus.bus_call("RemoveMatch", "s", [self.MATCH])


@pytest.fixture(scope="module")
def lab():
    """A lab whose daemon probes every second and reads this module's resolv.conf."""
    from conftest import finish_lab, make_lab  # pylint: disable=import-outside-toplevel
    conf_dir = Path(tempfile.mkdtemp(prefix="pp-neighbors-"))
    conf_dir.chmod(0o755)  # the daemon reads it as its own user
    resolv = conf_dir / "resolv.conf"
    write_resolv(resolv, f"nameserver {DNS_ADDR}\n")
    try:
        lab = make_lab(daemon_args=[f"--neighbor-probe-interval={PROBE_INTERVAL}",
                                    f"--resolv-conf={resolv}"])
        lab.resolv = resolv
        try:
            lab.lan.out("ip", "addr", "add", f"{DNS_ADDR}/24", "dev", "lan0")
            yield lab
        finally:
            finish_lab(lab)
    finally:
        shutil.rmtree(conf_dir, ignore_errors=True)


class FakeResolved:
    """org.freedesktop.resolve1 on a bus: a Manager whose DNS property (a(iiay)) lists
    `servers`, (ifindex, "address") pairs, ifindex 0 for a global server, or which answers
    with the error `refuse` ((name, text)) when that is set. It answers from a thread of its
    own, so the daemon's questions are answered whatever the test does; `gets` counts
    them."""

    def __init__(self, address, servers):
        # pylint: disable=import-outside-toplevel
        from dbus_next.aio import MessageBus
        from dbus_next.constants import RequestNameReply
        from dbus_next.errors import DBusError
        from dbus_next.service import PropertyAccess, ServiceInterface, dbus_property

        fake = self
        self.servers = list(servers)
        self.refuse = None
        self.gets = 0

        class Manager(ServiceInterface):
            def __init__(self):
                super().__init__("org.freedesktop.resolve1.Manager")

            @dbus_property(access=PropertyAccess.READ)
            def DNS(self) -> "a(iiay)":  # noqa: F821  pylint: disable=invalid-name
                fake.gets += 1
                if fake.refuse:
                    raise DBusError(*fake.refuse)
                return [fake.entry(ifindex, addr) for ifindex, addr in fake.servers]

        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure = []

        async def serve():
            try:
                self.bus = await MessageBus(bus_address=address).connect()
                self.bus.export("/org/freedesktop/resolve1", Manager())
                reply = await self.bus.request_name(RESOLVED)
                if reply != RequestNameReply.PRIMARY_OWNER:
                    raise RuntimeError(f"cannot own {RESOLVED}: {reply}")
            except Exception as e:  # pylint: disable=broad-except
                failure.append(e)
            finally:
                ready.set()

        def run():
            asyncio.set_event_loop(self.loop)
            self.loop.create_task(serve())
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(10)
        if failure or not ready.is_set():
            self.stop()
            raise RuntimeError(f"FakeResolved did not start: {failure}")

    @staticmethod
    def entry(ifindex, addr):
        family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        return [ifindex, int(family), socket.inet_pton(family, addr)]

    def stop(self):
        """Leave the bus (the name goes with the connection) and end the thread."""
        async def leave():
            if getattr(self, "bus", None):
                self.bus.disconnect()
                await self.bus.wait_for_disconnect()
        if self.thread.is_alive():
            asyncio.run_coroutine_threadsafe(leave(), self.loop).result(10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def resolved_lab():
    """A lab whose resolv.conf lists only resolved's stub, whose --resolved-conf is this
    module's file, and whose bus has a FakeResolved (lab.resolved) from before the daemon
    starts: DNS_ADDR is eth0's server, DNS2_ADDR, on eth0's subnet too, lo's, and the lan
    router a global one. The resolved file lists DNS2_ADDR and nothing of links."""
    from conftest import finish_lab  # pylint: disable=import-outside-toplevel
    conf_dir = Path(tempfile.mkdtemp(prefix="pp-neighbors-resolved-"))
    conf_dir.chmod(0o755)
    stub = conf_dir / "resolv.conf"
    write_resolv(stub, "nameserver 127.0.0.53\noptions edns0 trust-ad\n")
    merged = conf_dir / "resolved.conf"
    write_resolv(merged, f"nameserver {DNS2_ADDR}\n")
    lab = pplab.Lab(daemon_args=[f"--neighbor-probe-interval={PROBE_INTERVAL}",
                                 f"--resolv-conf={stub}", f"--resolved-conf={merged}"],
                    extra_policy=RESOLVED_POLICY)
    try:
        try:
            lab.start(daemon=False)
            for a in (DNS_ADDR, DNS2_ADDR):
                lab.lan.out("ip", "addr", "add", f"{a}/24", "dev", "lan0")
            lab.servers = [(lab.host.ifindex("eth0"), DNS_ADDR),
                           (lab.host.ifindex("lo"), DNS2_ADDR), (0, pplab.LAN_ADDR)]
            lab.resolved = FakeResolved(lab.bus_address, lab.servers)
            lab.start_daemon()
        except BaseException:
            if getattr(lab, "resolved", None):
                lab.resolved.stop()
            lab.close()
            raise
        lab.merged = merged
        try:
            yield lab
        finally:
            try:
                lab.resolved.stop()
            finally:
                finish_lab(lab)
    finally:
        shutil.rmtree(conf_dir, ignore_errors=True)


@pytest.fixture
def signals(lab):
    collector = NeighborSignals(lab.bus())
    yield collector
    collector.close()


def write_resolv(path, text, atomic=True):
    """Replace the file as resolvers do (a new file renamed over it), or rewrite it in
    place."""
    if atomic:
        tmp = path.with_name(path.name + ".new")
        tmp.write_text(text)
        tmp.chmod(0o644)
        os.replace(tmp, path)
    else:
        with open(path, "w", encoding="ascii") as f:
            f.write(text)


def watched(lab):
    """{(uplink, address): the status's entry} of the watched neighbours."""
    return {(n["uplink"], n["address"]): n
            for n in lab.status()["neighbor_monitor"]["neighbors"]}


def wait_watched(lab, uplink, address, role, timeout=15):
    """Poll until the neighbour is watched with that role and the kernel has an entry for
    it that has not failed; assert so."""
    def check():
        n = watched(lab).get((uplink, address))
        if not n:
            return f"{address} on {uplink} not watched: {sorted(watched(lab))}"
        if n["role"] != role or n["state"] in ("none", "failed") or n["failed"]:
            return f"{address} on {uplink}: {n}"
        return None
    err = pplab.poll(check, timeout=timeout, interval=0.1, what="neighbour not watched")
    assert err is None, f"{err}\n{lab.log()[-3000:]}"


@contextlib.contextmanager
def silenced(ns, family):
    """ns answers no ARP (family "arp") or no Neighbor Solicitation ("ip6") and sends none,
    until the block ends."""
    table = "pp_neighbors_silence"
    ns.out("nft", f"add table {family} {table}")
    try:
        for chain, hook in (("in", "input"), ("out", "output")):
            if family == "arp":
                ns.out("nft", f"add chain arp {table} {chain} "
                              f"{{ type filter hook {hook} priority 0; policy drop; }}")
            else:
                ns.out("nft", f"add chain ip6 {table} {chain} "
                              f"{{ type filter hook {hook} priority 0; }}")
                ns.out("nft", f"add rule ip6 {table} {chain} icmpv6 type "
                              "{ nd-neighbor-solicit, nd-neighbor-advert } drop")
        yield
    finally:
        ns.exec("nft", f"delete table {family} {table}")


def link_local(ns, ifname):
    """The link-local address of ifname (iproute2 lists filtered-out ones as {})."""
    infos = ns.ip_json("-6", "addr", "show", "dev", ifname)[0]["addr_info"]
    return next(a["local"] for a in infos if a.get("scope") == "link" and "local" in a)


class Monitor:
    """`patchpanel-cli monitor --json` running against the lab's bus, its output in files."""

    def __init__(self, lab):
        self.out = lab.dir / "monitor.out"
        self.err = lab.dir / "monitor.err"
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
                [str(lab.build / "bin" / "patchpanel-cli"), "monitor", "--json"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                env=tags.tagged_env(lab.tag, {**os.environ,
                                              "DBUS_SYSTEM_BUS_ADDRESS": lab.bus_address}))
        err = pplab.poll(lambda: None if "Monitoring" in self.err.read_text() else
                         f"not subscribed: {self.err.read_text()!r}", timeout=10)
        assert err is None, err

    def lines(self):
        return [json.loads(line) for line in self.out.read_text().splitlines()]

    def stop(self):
        """SIGTERM; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise


def test_gateway_that_stops_answering_arp_fails_once_then_recovers(lab, signals):
    eth0 = lab.host.ifindex("eth0")
    wait_watched(lab, "eth0", pplab.LAN_ADDR, "gateway")
    monitor = Monitor(lab)
    try:
        signals.take()
        with silenced(lab.lan, "arp"):
            failed = (eth0, pplab.LAN_ADDR, GATEWAY, FAILED)
            events = signals.wait_for(failed, timeout=FAIL_TIMEOUT)
            assert events is not None, f"no FAILED for the gateway: {signals.events}\n" \
                                       f"{lab.log()[-3000:]}"
            state = watched(lab)[("eth0", pplab.LAN_ADDR)]
            assert state["failed"], state
            # The kernel keeps failing it at every probe round: nothing more is said.
            later = signals.quiet(4 * PROBE_INTERVAL)
            mine = [e for e in events + later if e[1] == pplab.LAN_ADDR]
            assert mine == [failed], mine
        recovered = (eth0, pplab.LAN_ADDR, GATEWAY, RECOVERED)
        events = signals.wait_for(recovered, timeout=FAIL_TIMEOUT)
        assert events is not None, f"no REACHABLE for the gateway: {signals.events}"
        assert [e for e in events if e[1] == pplab.LAN_ADDR] == [recovered]
        wait_watched(lab, "eth0", pplab.LAN_ADDR, "gateway")
        # The command line printed both, one JSON line each.
        expected = [{"signal": "NeighborReachabilityEvent", "ifindex": eth0,
                     "ip_addr": pplab.LAN_ADDR, "role": "GATEWAY", "type": t}
                    for t in ("FAILED", "REACHABLE")]
        err = pplab.poll(lambda: None if [l for l in monitor.lines()
                                          if l.get("ip_addr") == pplab.LAN_ADDR] == expected
                         else monitor.lines(), timeout=5, what="monitor output")
        assert err is None, err
    finally:
        status = monitor.stop()
    assert status == 0, monitor.err.read_text()


def test_dns_server_on_the_subnet_fails_and_recovers(lab, signals):
    eth0 = lab.host.ifindex("eth0")
    wait_watched(lab, "eth0", DNS_ADDR, "dns_server")
    wait_watched(lab, "eth0", pplab.LAN_ADDR, "gateway")
    signals.take()
    # The lan keeps answering for its own address, no longer for the DNS server's.
    lab.lan.out("ip", "addr", "del", f"{DNS_ADDR}/24", "dev", "lan0")
    try:
        failed = (eth0, DNS_ADDR, DNS_SERVER, FAILED)
        events = signals.wait_for(failed, timeout=FAIL_TIMEOUT)
        assert events == [failed], f"{events} {signals.events}\n{lab.log()[-3000:]}"
        assert not watched(lab)[("eth0", pplab.LAN_ADDR)]["failed"]
    finally:
        lab.lan.out("ip", "addr", "add", f"{DNS_ADDR}/24", "dev", "lan0")
    recovered = (eth0, DNS_ADDR, DNS_SERVER, RECOVERED)
    events = signals.wait_for(recovered, timeout=FAIL_TIMEOUT)
    assert events == [recovered], f"{events} {signals.events}"


def test_ipv6_gateway_learned_from_ras_fails_and_recovers(lab, signals):
    eth0 = lab.host.ifindex("eth0")
    lab.lan.add_peer(pplab.Radvd(prefix=PREFIX6))
    router = link_local(lab.lan, "lan0")
    # The host takes the default route from the RA: via the router's link-local address.
    wait_watched(lab, "eth0", router, "gateway", timeout=30)
    signals.take()
    with silenced(lab.lan, "ip6"):
        failed = (eth0, router, GATEWAY, FAILED)
        events = signals.wait_for(failed, timeout=FAIL_TIMEOUT)
        assert events is not None, f"no FAILED for {router}: {signals.events}\n" \
                                   f"{lab.log()[-3000:]}"
        # RAs keep coming and refresh the entry; it fails again: nothing more is said.
        later = signals.quiet(4 * PROBE_INTERVAL)
        assert [e for e in events + later if e[1] == router] == [failed]
    recovered = (eth0, router, GATEWAY, RECOVERED)
    events = signals.wait_for(recovered, timeout=FAIL_TIMEOUT)
    assert events is not None, f"no REACHABLE for {router}: {signals.events}"
    assert [e for e in events if e[1] == router] == [recovered]


def test_cli_status_lists_the_watched_neighbours(lab):
    wait_watched(lab, "eth0", pplab.LAN_ADDR, "gateway")
    wait_watched(lab, "eth0", DNS_ADDR, "dns_server")
    p = lab.cli("status")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    head = [l for l in lines if l.startswith("Watched neighbours")]
    assert head == [f"Watched neighbours (probed every {PROBE_INTERVAL} s; DNS servers from "
                    f"{lab.resolv})"], lines
    rows = {tuple(l.split()[:3]) for l in lines if l.startswith("  eth0 ")}
    assert {("eth0", pplab.LAN_ADDR, "gateway"), ("eth0", DNS_ADDR, "dns_server")} <= rows, lines


def test_dns_servers_follow_resolv_conf(lab, signals):
    assert lab.status()["neighbor_monitor"]["dns_source"] == str(lab.resolv)
    try:
        # The gateway is a DNS server too; 198.51.100.53 is not on the uplink's subnet.
        write_resolv(lab.resolv, f"nameserver {pplab.LAN_ADDR}\nnameserver 198.51.100.53\n")
        wait_watched(lab, "eth0", pplab.LAN_ADDR, "gateway_and_dns_server")
        assert ("eth0", DNS_ADDR) not in watched(lab)
        assert not [k for k in watched(lab) if k[1] == "198.51.100.53"]
        # Rewritten in place.
        write_resolv(lab.resolv, f"nameserver {DNS_ADDR}\n", atomic=False)
        wait_watched(lab, "eth0", DNS_ADDR, "dns_server")
        wait_watched(lab, "eth0", pplab.LAN_ADDR, "gateway")
        # Gone: no DNS servers, the gateway is still watched.
        lab.resolv.unlink()
        err = pplab.poll(lambda: None if ("eth0", DNS_ADDR) not in watched(lab) else "watched",
                         timeout=10, what="DNS server still watched")
        assert err is None, err
        assert lab.status()["neighbor_monitor"]["dns_source"] == ""
        wait_watched(lab, "eth0", pplab.LAN_ADDR, "gateway")
    finally:
        write_resolv(lab.resolv, f"nameserver {DNS_ADDR}\n")
    wait_watched(lab, "eth0", DNS_ADDR, "dns_server")
    assert signals.take() == []


def test_no_storm_when_an_uplink_flaps(lab, signals):
    wait_watched(lab, "eth0", pplab.LAN_ADDR, "gateway")
    wait_watched(lab, "eth0", DNS_ADDR, "dns_server")
    signals.take()
    for _ in range(10):
        lab.host.out("ip", "link", "set", "eth0", "down")
        lab.host.out("ip", "link", "set", "eth0", "up")
    # The kernel dropped the IPv4 default route with the link.
    lab.host.out("ip", "route", "replace", "default", "via", pplab.LAN_ADDR, "dev", "eth0")
    wait_watched(lab, "eth0", pplab.LAN_ADDR, "gateway")
    wait_watched(lab, "eth0", DNS_ADDR, "dns_server")
    # Several probe rounds later, not a word was said.
    assert signals.quiet(3 * PROBE_INTERVAL) == []


def test_watches_vanish_with_the_uplink(lab, signals):
    lab.add_uplink("eth1", pplab.LAN2_ADDR, pplab.HOST_UPLINK2_ADDR, lan_suffix="lan2")
    try:
        lab.host.out("ip", "route", "add", "default", "via", pplab.LAN2_ADDR, "dev", "eth1",
                     "metric", "500")
        wait_watched(lab, "eth1", pplab.LAN2_ADDR, "gateway")
    finally:
        lab.remove_uplink("eth1")
    err = pplab.poll(lambda: [k for k in watched(lab) if k[0] == "eth1"] or None, timeout=10,
                     what="watches of eth1 left")
    assert err is None, err
    wait_watched(lab, "eth0", pplab.LAN_ADDR, "gateway")
    assert [e for e in signals.quiet(2 * PROBE_INTERVAL) if e[1] == pplab.LAN2_ADDR] == []


def test_no_probe_of_the_daemon_was_refused(lab):
    """Everything the manager asked for above (gateways, a DNS server, an IPv6 link-local
    gateway, uplinks flapping and going) passed the helper's check."""
    log = lab.log()
    assert "refused a neighbour probe" not in log, log[-3000:]


# ---- the helper's NeighborProbe, driven directly -------------------------------------------

def ip4(text):
    return struct.unpack("!I", socket.inet_aton(text))[0]


def neigh_keys(ns):
    """{(address, link)} of the namespace's neighbour entries (proxy entries aside)."""
    return {(n["dst"], n["dev"]) for n in ns.ip_json("neigh", "show")}


def test_the_helper_checks_neighbor_probes():
    """The helper probes only a neighbour of an uplink it has set up: on one of the
    uplink's prefixes, IPv6 link-local, or the gateway of a default route through it; and
    refuses anything else, changing nothing.

        lan (lan0 192.0.2.1/24 2001:db8:1::1/64, lan1 198.51.100.1/24)
          ==veth== helper (eth0 192.0.2.10/24 2001:db8:1::10/64; eth1 198.51.100.10/32
                           with an onlink default route through 198.51.100.1;
                           docker0, a bridge that is no uplink)
    """
    with pplab.Topology() as topo:
        ns, lan = topo.add_netns("helper"), topo.add_netns("lan")
        topo.link(ns, "eth0", lan, "lan0", a_addrs=["192.0.2.10/24", "2001:db8:1::10/64"],
                  b_addrs=["192.0.2.1/24", "2001:db8:1::1/64"])
        topo.link(ns, "eth1", lan, "lan1", a_addrs=["198.51.100.10/32"],
                  b_addrs=["198.51.100.1/24"])
        lan.out("ip", "addr", "add", "192.0.2.53/24", "dev", "lan0")
        ns.out("ip", "route", "add", "default", "via", "192.0.2.1", "dev", "eth0")
        ns.out("ip", "route", "add", "default", "via", "198.51.100.1", "dev", "eth1",
               "onlink", "metric", "200")
        ns.out("ip", "link", "add", "docker0", "type", "bridge")
        ns.out("ip", "addr", "add", "2001:db8:d::1/64", "dev", "docker0", "nodad")
        ns.out("ip", "link", "set", "docker0", "up")
        ns.out("ip", "neigh", "add", "192.0.2.77", "lladdr", "02:00:5e:00:53:77", "dev", "eth0",
               "nud", "permanent")
        idx = {name: ns.ifindex(name) for name in ("lo", "eth0", "eth1", "docker0")}
        h = pplab.DirectHelper(ns, pplab.build_dir())
        try:
            pb = h.pb

            def probe(ifname, addr, ifindex=None):
                raw = socket.inet_pton(socket.AF_INET6 if ":" in addr else socket.AF_INET, addr)
                return h.call(neighbor_probe=pb.NeighborProbe(
                    ifname=ifname, ifindex=idx[ifname] if ifindex is None else ifindex,
                    addr=raw))

            assert h.call(datapath_start=pb.DatapathStart()).status == 0
            tap = h.call(vm_tap_add=pb.VmTapAdd(
                kind=pb.VM_KIND_TERMINA, subnet_base=ip4("100.115.92.24"), subnet_prefix_len=30,
                mac=bytes.fromhex("02005e005301")))
            assert tap.status == 0, tap
            idx[tap.tap.ifname] = tap.tap.ifindex
            for name in ("eth0", "eth1"):
                r = h.call(uplink_add=pb.UplinkAdd(ifname=name, ifindex=idx[name]))
                assert r.status == 0, (name, r)
            # eth1's table has its onlink default, as the kernel needs it.
            table = ns.routes("table", str(pplab.routing_table(idx["eth1"])))
            assert any(r["dst"] == "default" and "onlink" in r.get("flags", [])
                       for r in table), table
            # What no manager may make an uplink: loopback, a guest link of the daemon.
            for name, why in (("lo", "is the loopback link"),
                              (tap.tap.ifname, "is a guest link")):
                r = h.call(uplink_add=pb.UplinkAdd(ifname=name, ifindex=idx[name]))
                assert r.status == -errno.EINVAL and why in r.message, (name, r)

            static = ns.ip_json("neigh", "show", "192.0.2.77", "dev", "eth0")
            before = neigh_keys(ns)
            refused = (
                # Links that are not uplinks the helper has set up.
                ("lo", "192.0.2.1", None, -errno.EINVAL, "lo is the loopback link"),
                (tap.tap.ifname, "100.115.92.26", None, -errno.EINVAL, "link of the daemon's own"),
                ("docker0", "2001:db8:d::2", None, -errno.EINVAL,
                 "not an uplink the helper has set up"),
                ("eth0", "192.0.2.2", idx["eth1"], -errno.EINVAL,
                 "not an uplink the helper has set up"),
                # Addresses that are not the uplink's neighbours.
                ("eth0", "198.51.100.1", None, -errno.EINVAL, "on none of the prefixes of eth0"),
                ("eth0", "2001:db8:d::2", None, -errno.EINVAL, "on none of the prefixes of eth0"),
                ("eth0", "192.0.2.10", None, -errno.EINVAL, "is an address of eth0 itself"),
                ("eth0", "192.0.2.255", None, -errno.EINVAL, "network or broadcast address"),
                ("eth1", "198.51.100.2", None, -errno.EINVAL, "on none of the prefixes of eth1"),
                # The administrator's.
                ("eth0", "192.0.2.77", None, -errno.EPERM, "is static"),
            )
            for ifname, addr, ifindex, status, why in refused:
                r = probe(ifname, addr, ifindex)
                assert r.status == status and why in r.message, (ifname, addr, r)
            # Nothing changed: no entry was made for any of them, the static one is as it was.
            made = neigh_keys(ns) - before
            assert not [(a, i) for i, a, _, _, _ in refused if (a, i) in made], made
            assert ns.ip_json("neigh", "show", "192.0.2.77", "dev", "eth0") == static

            # What the manager asks: the gateway and a DNS server on the prefix, IPv6 on the
            # prefix and link-local, the onlink gateway of eth1 beyond its /32.
            for ifname, addr in (("eth0", "192.0.2.1"), ("eth0", "192.0.2.53"),
                                 ("eth0", "2001:db8:1::1"), ("eth0", link_local(lan, "lan0")),
                                 ("eth1", "198.51.100.1")):
                r = probe(ifname, addr)
                assert r.status == 0, (ifname, addr, r)

            def answered():
                states = {(n["dst"], n["dev"]): n.get("state", [])
                          for n in ns.ip_json("neigh", "show")}
                missing = {k: states.get(k) for k in (("192.0.2.1", "eth0"),
                                                      ("198.51.100.1", "eth1"))
                           if "REACHABLE" not in (states.get(k) or [])}
                return missing or None
            err = pplab.poll(answered, timeout=10, what="the probed gateways answer")
            assert err is None, err

            # An uplink removed is no uplink any more.
            assert h.call(uplink_remove=pb.UplinkRemove(ifname="eth1",
                                                        ifindex=idx["eth1"])).status == 0
            r = probe("eth1", "198.51.100.1")
            assert r.status == -errno.EINVAL and "not an uplink the helper has set up" in \
                r.message, r
        finally:
            log = h.close()
        assert h.proc.returncode == 0, log
        assert "is not an uplink the helper has set up" in log, log


# ---- DNS servers from systemd-resolved, per link -----------------------------------------


def wait_dns_source(lab, source, timeout=10):
    err = pplab.poll(lambda: None if lab.status()["neighbor_monitor"]["dns_source"] == source
                     else lab.status()["neighbor_monitor"]["dns_source"], timeout=timeout,
                     what=f"DNS servers not from {source}")
    assert err is None, f"{err}\n{lab.log()[-3000:]}"


def wait_unwatched(lab, address, timeout=10):
    """Poll until address is watched on no uplink; assert so."""
    err = pplab.poll(lambda: [k for k in watched(lab) if k[1] == address] or None,
                     timeout=timeout, what=f"{address} still watched")
    assert err is None, f"{err}\n{lab.log()[-3000:]}"


def test_resolved_servers_are_watched_on_their_link(resolved_lab):
    lab = resolved_lab
    eth0 = lab.host.ifindex("eth0")
    wait_dns_source(lab, RESOLVED)
    # eth0's own server, on its subnet: watched there, and it answers.
    wait_watched(lab, "eth0", DNS_ADDR, "dns_server")
    # A global server is matched by subnet: here the gateway, which is both.
    wait_watched(lab, "eth0", pplab.LAN_ADDR, "gateway_and_dns_server")
    # lo's server is on eth0's subnet, but it is not eth0's: watched nowhere.
    now = watched(lab)
    assert not [k for k in now if k[1] == DNS2_ADDR], now
    entry = now[("eth0", DNS_ADDR)]
    assert entry["ifindex"] == eth0, entry
    # The command line says where the servers came from.
    p = lab.cli("status")
    assert p.returncode == 0, p.stderr
    head = [l for l in p.stdout.splitlines() if l.startswith("Watched neighbours")]
    assert head == [f"Watched neighbours (probed every {PROBE_INTERVAL} s; DNS servers from "
                    f"{RESOLVED})"], p.stdout
    p = lab.cli("status", "--json")
    assert p.returncode == 0, p.stderr
    monitor = json.loads(p.stdout)["neighbor_monitor"]
    assert monitor["dns_source"] == RESOLVED, monitor
    assert {"uplink": "eth0", "address": DNS_ADDR, "role": "dns_server"}.items() <= \
        next(n for n in monitor["neighbors"] if n["address"] == DNS_ADDR).items(), monitor


def test_resolved_link_server_fails_and_recovers(resolved_lab):
    lab = resolved_lab
    eth0 = lab.host.ifindex("eth0")
    wait_watched(lab, "eth0", DNS_ADDR, "dns_server")
    signals = NeighborSignals(lab.bus())
    try:
        lab.lan.out("ip", "addr", "del", f"{DNS_ADDR}/24", "dev", "lan0")
        try:
            failed = (eth0, DNS_ADDR, DNS_SERVER, FAILED)
            events = signals.wait_for(failed, timeout=FAIL_TIMEOUT)
            assert events == [failed], f"{events} {signals.events}\n{lab.log()[-3000:]}"
        finally:
            lab.lan.out("ip", "addr", "add", f"{DNS_ADDR}/24", "dev", "lan0")
        recovered = (eth0, DNS_ADDR, DNS_SERVER, RECOVERED)
        events = signals.wait_for(recovered, timeout=FAIL_TIMEOUT)
        assert events == [recovered], f"{events} {signals.events}"
    finally:
        signals.close()


def test_resolved_is_asked_again_when_its_file_changes(resolved_lab):
    lab = resolved_lab
    eth0 = lab.host.ifindex("eth0")
    wait_watched(lab, "eth0", DNS_ADDR, "dns_server")
    try:
        # resolved's servers change: DNS2_ADDR becomes eth0's, DNS_ADDR goes.
        lab.resolved.servers = [(eth0, DNS2_ADDR), (0, pplab.LAN_ADDR)]
        gets = lab.resolved.gets
        # Nothing is asked until its file changes: no polling.
        time.sleep(3 * PROBE_INTERVAL)
        assert lab.resolved.gets == gets
        assert ("eth0", DNS_ADDR) in watched(lab)
        # resolved rewrites its file (a new one renamed over it).
        write_resolv(lab.merged, lab.merged.read_text())
        wait_watched(lab, "eth0", DNS2_ADDR, "dns_server")
        wait_unwatched(lab, DNS_ADDR)
        assert lab.resolved.gets > gets
        wait_watched(lab, "eth0", pplab.LAN_ADDR, "gateway_and_dns_server")
        # No global server any more: the gateway is a gateway only.
        lab.resolved.servers = [(eth0, DNS2_ADDR)]
        write_resolv(lab.merged, lab.merged.read_text(), atomic=False)
        wait_watched(lab, "eth0", pplab.LAN_ADDR, "gateway")
    finally:
        lab.resolved.servers = list(lab.servers)
        write_resolv(lab.merged, lab.merged.read_text())
    wait_watched(lab, "eth0", DNS_ADDR, "dns_server")
    wait_unwatched(lab, DNS2_ADDR)
    assert lab.status()["neighbor_monitor"]["dns_source"] == RESOLVED


def test_without_resolved_on_the_bus_its_file_is_read(resolved_lab):
    lab = resolved_lab
    wait_watched(lab, "eth0", DNS_ADDR, "dns_server")
    said = "Cannot have the DNS servers of each link from org.freedesktop.resolve1"
    assert said not in lab.log()
    lab.resolved.stop()
    try:
        write_resolv(lab.merged, lab.merged.read_text())
        wait_dns_source(lab, str(lab.merged))
        # The file lists DNS2_ADDR, with no link: matched by subnet.
        wait_watched(lab, "eth0", DNS2_ADDR, "dns_server")
        wait_unwatched(lab, DNS_ADDR)
        wait_watched(lab, "eth0", pplab.LAN_ADDR, "gateway")
        # Changed again, resolved still away: read again, said once.
        write_resolv(lab.merged, f"nameserver {DNS2_ADDR}\nnameserver {DNS_ADDR}\n")
        wait_watched(lab, "eth0", DNS_ADDR, "dns_server")
        lines = [l for l in lab.log().splitlines() if said in l]
        assert len(lines) == 1, lines
    finally:
        # resolved comes back and rewrites its file.
        lab.resolved = FakeResolved(lab.bus_address, lab.servers)
        write_resolv(lab.merged, f"nameserver {DNS2_ADDR}\n")
    wait_dns_source(lab, RESOLVED)
    wait_watched(lab, "eth0", DNS_ADDR, "dns_server")
    wait_unwatched(lab, DNS2_ADDR)


def test_resolved_refusing_to_answer_means_its_file(resolved_lab):
    """resolved on the bus but answering with an error (a policy that denies us, say): the
    manager reads resolved's file, says why once, and goes back to asking resolved when it
    answers again."""
    lab = resolved_lab
    wait_dns_source(lab, RESOLVED)
    wait_watched(lab, "eth0", DNS_ADDR, "dns_server")
    again = lab.log().count("org.freedesktop.resolve1 answers again")
    lab.resolved.refuse = ("org.freedesktop.DBus.Error.AccessDenied", "not for patchpaneld")
    try:
        write_resolv(lab.merged, lab.merged.read_text())
        wait_dns_source(lab, str(lab.merged))
        wait_watched(lab, "eth0", DNS2_ADDR, "dns_server")
        wait_unwatched(lab, DNS_ADDR)
        said = [l for l in lab.log().splitlines()
                if "Cannot have the DNS servers of each link" in l and "not for patchpaneld" in l]
        assert len(said) == 1, lab.log()[-3000:]
        # Asked again at the next change, refused again: the file is read again, not said.
        gets = lab.resolved.gets
        write_resolv(lab.merged, f"nameserver {DNS2_ADDR}\nnameserver {DNS_ADDR}\n")
        wait_watched(lab, "eth0", DNS_ADDR, "dns_server")
        assert lab.resolved.gets > gets
        assert lab.log().count("not for patchpaneld") == 1
    finally:
        lab.resolved.refuse = None
        write_resolv(lab.merged, f"nameserver {DNS2_ADDR}\n")
    wait_dns_source(lab, RESOLVED)
    wait_watched(lab, "eth0", DNS_ADDR, "dns_server")
    wait_unwatched(lab, DNS2_ADDR)
    assert lab.log().count("org.freedesktop.resolve1 answers again") == again + 1


def test_resolved_coming_and_going_on_the_bus_is_followed(resolved_lab):
    """resolved leaving the bus, and coming back, with its file untouched: the manager
    hears it from the bus (NameOwnerChanged) and reads the servers again each time."""
    lab = resolved_lab
    wait_dns_source(lab, RESOLVED)
    wait_watched(lab, "eth0", DNS_ADDR, "dns_server")
    lab.resolved.stop()
    try:
        wait_dns_source(lab, str(lab.merged))
        wait_watched(lab, "eth0", DNS2_ADDR, "dns_server")
    finally:
        lab.resolved = FakeResolved(lab.bus_address, lab.servers)
    wait_dns_source(lab, RESOLVED)
    wait_watched(lab, "eth0", DNS_ADDR, "dns_server")
    wait_unwatched(lab, DNS2_ADDR)
