"""The bus and the client side of the D-Bus API: names and error names, wire helpers for
the protobuf messages, a blocking dbus-next connection (Bus), a collector of
NetworkDeviceChanged signals, and Client, the typed calls (one method per D-Bus method,
protobuf in and out) that a Lab offers and that a bare Client(pb, bus) offers outside one.
"""

import asyncio
import ipaddress
import json
import socket
import struct
import time

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


def bus_config(socket_path, policies):
    """The configuration of a private system bus listening on socket_path, with policies
    (the <policy> elements and anything else that goes inside <busconfig>)."""
    return f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket_path}</listen>
  <auth>EXTERNAL</auth>
{policies}
</busconfig>
"""


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




class Client:
    """Typed calls of the D-Bus API. Needs self.pb (the service_pb2 module) and self.bus()
    (a Bus); Lab provides both, Client(pb, bus) wraps a connection of its own."""

    def __init__(self, pb, bus):
        self.pb = pb
        self._bus = bus

    def bus(self):
        return self._bus

    def signals(self, bus=None):
        """A collector of NetworkDeviceChanged signals on bus (default: ours)."""
        return SignalCollector(bus or self.bus(), self.pb)

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

    def list_connected_namespaces(self, offset, limit, bus=None):
        """ListConnectedNamespaces (org.chromium.PatchPanel.Status) as parsed JSON:
        {"total", "offset", "connected_namespaces"}. Raises DBusError."""
        body = (bus or self.bus()).call("ListConnectedNamespaces", "uu", [offset, limit],
                                        interface=STATUS_INTERFACE)
        return json.loads(body[0])

    def pools_in_use(self):
        """{pool name: subnets in use} from GetStatus."""
        return {p["name"]: p["in_use"] for p in self.status()["pools"]}

    def connect_ns_request(self, pid, **fields):
        req = self.pb.ConnectNamespaceRequest(pid=pid, **fields)
        return req.SerializeToString()

    def connect_namespace(self, pid, lifeline=None, bus=None, **fields):
        """ConnectNamespace through D-Bus; returns (response, lifeline). Raises DBusError."""
        from .guests import Lifeline  # pylint: disable=import-outside-toplevel
        lifeline = lifeline or Lifeline()
        body = (bus or self.bus()).call("ConnectNamespace", "ayh",
                                        [self.connect_ns_request(pid, **fields), 0],
                                        [lifeline.write_fd])
        lifeline.close_sent_end()
        resp = self.pb.ConnectNamespaceResponse()
        resp.ParseFromString(bytes(body[0]))
        return resp, lifeline

