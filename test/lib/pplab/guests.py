"""Guests as tests drive them: the client's side of a ConnectNamespace lifeline, and a
running ARC container (a client namespace with ArcStartup on its process)."""

import ipaddress
import os

from .client import ARC
from .netns import poll

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


