"""Helpers for the benchmarks: act inside a network namespace from a thread, and watch a
namespace's link and nftables events with precise receive times.

Only a thread ever joins another namespace, and it ends with its work, so the calling
process's own namespace (the root one) never changes and is never touched.
"""

import ctypes
import errno
import os
import select
import socket
import struct
import threading
import time

CLONE_NEWNET = 0x40000000

NETLINK_ROUTE = 0
NETLINK_NETFILTER = 12
RTMGRP_LINK = 0x1
NFNLGRP_NFTABLES = 7

NLMSG_HDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid
NLMSG_ERROR = 2
NLMSG_OVERRUN = 4
RTM_NEWLINK = 16
RTM_DELLINK = 17
IFINFOMSG_LEN = 16
IFLA_IFNAME = 3
IFF_UP = 0x1

NFNL_SUBSYS_NFTABLES = 10
NFT_MSG_NEWSETELEM = 12
NFT_MSG_DELSETELEM = 14
NFT_MSG_NEWGEN = 15

SO_RCVBUFFORCE = 33

_libc = ctypes.CDLL(None, use_errno=True)


def setns_path(path):
    """Move the calling thread into the network namespace at path, and check that it is
    there: whatever the thread does next must not land in the caller's namespace."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"setns({path}): {os.strerror(e)}")
        want = os.fstat(fd).st_ino
    finally:
        os.close(fd)
    if os.stat("/proc/thread-self/ns/net").st_ino != want:
        raise OSError(f"setns({path}) did not move this thread")


def netns_path(name):
    return f"/run/netns/{name}"


def run_in_netns(name, fn, *args):
    """Call fn(*args) in a short-lived thread inside namespace `name`; return its result
    or raise its exception. Sockets made there stay bound to that namespace."""
    box = {}

    def body():
        try:
            setns_path(netns_path(name))
            box["result"] = fn(*args)
        except BaseException as e:  # pylint: disable=broad-except
            box["error"] = e
    t = threading.Thread(target=body, name=f"in-{name}", daemon=True)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box.get("result")


class NetnsWorker:
    """A thread that lives inside a namespace and runs a job there; processes it starts
    (subprocess uses vfork/fork from the calling thread) are born in that namespace,
    without the cost of `ip netns exec` or nsenter. The job gets a threading.Event that
    is set when the caller wants it to stop early."""

    def __init__(self, name, job):
        self.name = name
        self.job = job
        self.stop = threading.Event()
        self.result = None
        self.error = None
        self.thread = threading.Thread(target=self._body, name=f"worker-{name}", daemon=True)

    def _body(self):
        try:
            setns_path(netns_path(self.name))
            self.result = self.job(self.stop)
        except BaseException as e:  # pylint: disable=broad-except
            self.error = e

    def run(self):
        """Start the job and wait for it; on KeyboardInterrupt ask it to stop, wait for
        its current step and re-raise, so the caller can clean up safely."""
        self.thread.start()
        try:
            while self.thread.is_alive():
                self.thread.join(0.2)
        except BaseException:
            self.stop.set()
            self.thread.join(60)
            raise
        if self.error:
            raise self.error
        return self.result


class Event:
    __slots__ = ("t", "kind", "name", "up")

    def __init__(self, t, kind, name, up=None):
        self.t = t          # time.monotonic_ns() at receipt
        self.kind = kind    # newlink, dellink, newsetelem, delsetelem, gen
        self.name = name    # ifname for link events, else None
        self.up = up        # IFF_UP of a link event, else None

    def __repr__(self):
        return f"Event({self.t}, {self.kind}, {self.name})"


def _open(proto, groups):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, proto)
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.bind((0, groups))
    return s


def _ifname(data, off, end):
    """IFLA_IFNAME from the attributes of an ifinfomsg that starts at off."""
    a = off + IFINFOMSG_LEN
    while a + 4 <= end:
        alen, atype = struct.unpack_from("=HH", data, a)
        if alen < 4:
            break
        if atype & 0x3fff == IFLA_IFNAME:
            return data[a + 4:a + alen].split(b"\0", 1)[0].decode(errors="replace")
        a += (alen + 3) & ~3
    return None


class NetlinkWatcher:
    """Listens, inside one namespace, to rtnetlink link events and nftables notifications
    (each commit ends with a NEWGEN message). A thread blocked in poll() stamps every
    message with time.monotonic_ns() as it wakes; CLOCK_MONOTONIC is the same in every
    namespace, so the stamps compare directly with the caller's. Callers that wait for an
    event do so on a condition, with the GIL released, so the stamp is not delayed."""

    def __init__(self, netns_name):
        self.rt = run_in_netns(netns_name, _open, NETLINK_ROUTE, RTMGRP_LINK)
        self.nf = run_in_netns(netns_name, _open, NETLINK_NETFILTER,
                               1 << (NFNLGRP_NFTABLES - 1))
        self.events = []
        self.overruns = 0
        self.cond = threading.Condition()
        self._stop_r, self._stop_w = os.pipe2(os.O_CLOEXEC)
        self._thread = threading.Thread(target=self._loop, name=f"nlwatch-{netns_name}",
                                        daemon=True)
        self._thread.start()

    def _loop(self):
        p = select.poll()
        for fd in (self.rt.fileno(), self.nf.fileno(), self._stop_r):
            p.register(fd, select.POLLIN)
        socks = {self.rt.fileno(): self.rt, self.nf.fileno(): self.nf}
        while True:
            ready = p.poll()
            t = time.monotonic_ns()
            new = []
            for fd, _ in ready:
                if fd == self._stop_r:
                    return
                s = socks[fd]
                while True:
                    try:
                        data = s.recv(1 << 16, socket.MSG_DONTWAIT)
                    except BlockingIOError:
                        break
                    except OSError as e:
                        if e.errno == errno.ENOBUFS:
                            self.overruns += 1
                            continue
                        raise
                    new.extend(self._parse(t, data, s is self.rt))
            if new:
                with self.cond:
                    self.events.extend(new)
                    self.cond.notify_all()

    @staticmethod
    def _parse(t, data, is_rt):
        out = []
        off = 0
        while off + NLMSG_HDR.size <= len(data):
            ln, ty, _, _, _ = NLMSG_HDR.unpack_from(data, off)
            if ln < NLMSG_HDR.size:
                break
            end = off + ln
            body = off + NLMSG_HDR.size
            if is_rt:
                if ty in (RTM_NEWLINK, RTM_DELLINK) and body + IFINFOMSG_LEN <= end:
                    # struct ifinfomsg: family, pad, type, index, then ifi_flags
                    flags, = struct.unpack_from("=I", data, body + 8)
                    out.append(Event(t, "newlink" if ty == RTM_NEWLINK else "dellink",
                                     _ifname(data, body, end), bool(flags & IFF_UP)))
            elif ty >> 8 == NFNL_SUBSYS_NFTABLES:
                kind = {NFT_MSG_NEWSETELEM: "newsetelem", NFT_MSG_DELSETELEM: "delsetelem",
                        NFT_MSG_NEWGEN: "gen"}.get(ty & 0xff)
                if kind:
                    out.append(Event(t, kind, None))
            off += (ln + 3) & ~3
        return out

    def mark(self):
        """A position in the event list: wait() and since() look only after it."""
        with self.cond:
            return len(self.events)

    def since(self, pos):
        with self.cond:
            return list(self.events[pos:])

    def wait(self, pred, pos, timeout=5.0, count=1):
        """Wait until `count` events after pos satisfy pred; return (the last of them, its
        index), or (None, None) on timeout."""
        deadline = time.monotonic() + timeout
        seen = 0
        i = pos
        with self.cond:
            while True:
                while i < len(self.events):
                    if pred(self.events[i]):
                        seen += 1
                        if seen == count:
                            return self.events[i], i
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    return None, None
                self.cond.wait(left)

    def close(self):
        if self._stop_w >= 0:
            os.write(self._stop_w, b"x")
            self._thread.join(5)
            os.close(self._stop_w)
            os.close(self._stop_r)
            self._stop_w = self._stop_r = -1
            self.rt.close()
            self.nf.close()
