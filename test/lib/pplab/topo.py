"""The topology builder: namespaces under one tag, joined by veths, with a directory for
their peers' files, all torn down by close() even after a failure.

    with Topology() as topo:
        a, b = topo.add_netns("a"), topo.add_netns("b")
        topo.link(a, "va", b, "vb", a_addrs=["198.51.100.10/24"], b_addrs=["198.51.100.11/24"])
        b.add_peer(Iperf3Server(port=5201))

A Lab is a Topology too: its host, lans and clients are namespaces of the lab's tag, and
`lab.lan.add_peer(Radvd(prefix="2001:db8:1::/64"))` gives its upstream router a peer.
"""

import os
import shutil
import tempfile
from pathlib import Path

from . import tags
from .netns import Netns, run


class Topology:
    """Namespaces "<tag>-<role>" that share a tag and a work directory."""

    def __init__(self, tag=None):
        self.tag = tags.new_tag(tag)
        self.dir = None
        self.namespaces = []

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self):
        """Make the work directory (world-readable: the daemon and some peers drop
        privileges) and record the tag as ours, for pplab.reap."""
        tags.register(self.tag)
        self.dir = Path(tempfile.mkdtemp(prefix=f"{self.tag}-"))
        os.chmod(self.dir, 0o755)

    def add_netns(self, role, cls=Netns, **kw):
        """A new namespace "<tag>-<role>" (an instance of cls, given kw), deleted by
        close()."""
        ns = cls(f"{self.tag}-{role}", tag=self.tag, workdir=self.dir, **kw)
        self.namespaces.append(ns)
        return ns

    def link(self, a, a_ifname, b, b_ifname, a_addrs=(), b_addrs=(), up=True):
        """A veth between namespaces a (a_ifname) and b (b_ifname), made inside a, with the
        addresses given ("198.51.100.10/24", "2001:db8:a::10/64"; IPv6 ones without DAD)
        and both ends up unless told otherwise."""
        run(["ip", "-n", a.name, "link", "add", "name", a_ifname, "type", "veth",
             "peer", "name", b_ifname, "netns", b.name])
        for ns, ifname, addrs in ((a, a_ifname, a_addrs), (b, b_ifname, b_addrs)):
            for addr in addrs:
                extra = ["nodad"] if ":" in addr else []
                ns.out("ip", "addr", "add", addr, "dev", ifname, *extra)
            if up:
                ns.out("ip", "link", "set", ifname, "up")

    def close(self):
        """Delete every namespace (peers and processes first), the work directory (kept
        with PP_KEEP_LOGS set) and the tag's record."""
        for ns in reversed(self.namespaces):
            ns.delete()
        self.namespaces = []
        if self.dir and os.environ.get("PP_KEEP_LOGS") is None:
            shutil.rmtree(self.dir, ignore_errors=True)
        tags.unregister(self.tag)
