"""Precise errors for what a client gets wrong, and bounded effort on what it sends too much
of: a thread named as a process, lifelines that could never report their client's going,
requests far over the size the daemon accepts. Each refusal is InvalidArgument with a reason
and changes nothing."""

import os
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

import pplab

INVALID_ARGUMENT = "org.chromium.PatchPanel.Error.InvalidArgument"


def refused(lab, method, signature, body, fds=()):
    """Call a method that must refuse; return the DBusError."""
    with pytest.raises(pplab.DBusError) as e:
        lab.bus().call(method, signature, body, fds)
    return e.value


# ---- a thread is not a process -----------------------------------------------------------

THREAD_PROGRAM = """
import sys, threading
ready = threading.Event()
def run():
    print(threading.get_native_id(), flush=True)
    ready.wait()
threading.Thread(target=run, daemon=True).start()
sys.stdin.read()
"""


@pytest.fixture
def thread_id(lab):
    """The id of a thread that is not its process's leader, in a client namespace."""
    ns, _ = lab.client()
    proc = ns.spawn("/usr/bin/python3", "-c", THREAD_PROGRAM, stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, text=True)
    tid = int(proc.stdout.readline())
    assert tid != proc.pid and Path(f"/proc/{proc.pid}/task/{tid}").exists()
    yield tid
    proc.kill()
    proc.wait()


def test_thread_id_for_connect_namespace(lab, baseline, thread_id):
    lifeline = pplab.Lifeline()
    try:
        err = refused(lab, "ConnectNamespace", "ayh", [lab.connect_ns_request(thread_id), 0],
                      [lifeline.write_fd])
    finally:
        lifeline.close()
    assert err.name == INVALID_ARGUMENT, err
    assert f"Pid {thread_id} is a thread, not a process" in err.text, err


def test_thread_id_for_arc_startup(lab, baseline, thread_id):
    req = lab.pb.ArcStartupRequest(pid=thread_id).SerializeToString()
    err = refused(lab, "ArcStartup", "ay", [req])
    assert err.name == INVALID_ARGUMENT, err
    assert "is a thread, not a process" in err.text, err


# ---- lifelines that can never report a hang-up -------------------------------------------

def fifo_without_writer(tmp):
    path = Path(tmp) / "lifeline.fifo"
    os.mkfifo(path)
    return os.open(path, os.O_RDONLY | os.O_NONBLOCK), []


def listening_socket(tmp):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(Path(tmp) / "lifeline.sock"))
    s.listen()
    return s.fileno(), [s]


def unconnected_socket(_):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    return s.fileno(), [s]


def datagram_pair(_):
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    return a.fileno(), [a, b]


def udp_socket(_):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    return s.fileno(), [s]


def netlink_socket(_):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    return s.fileno(), [s]


def packet_socket(_):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    return s.fileno(), [s]


def pipe_read_write(_):
    r, w = os.pipe()
    rw = os.open(f"/proc/self/fd/{r}", os.O_RDWR)
    os.close(r)
    os.close(w)
    return rw, []


@pytest.mark.parametrize("make,reason", [
    (fifo_without_writer, "a FIFO without a writer"),
    (listening_socket, "a listening socket"),
    (unconnected_socket, "an unconnected socket"),
    (datagram_pair, "an AF_UNIX datagram socket"),
    (udp_socket, "an AF_INET socket"),
    (netlink_socket, "an AF_NETLINK socket"),
    (packet_socket, "an AF_PACKET socket"),
    (pipe_read_write, "open for reading and writing"),
], ids=lambda v: v.__name__ if callable(v) else None)
def test_lifeline_that_cannot_hang_up(lab, baseline, make, reason):
    _, proc = lab.client()
    with tempfile.TemporaryDirectory() as tmp:
        fd, keep = make(tmp)
        try:
            err = refused(lab, "ConnectNamespace", "ayh",
                          [lab.connect_ns_request(proc.pid), 0], [fd])
        finally:
            for obj in keep:
                obj.close()
            if not keep:
                os.close(fd)
    assert err.name == INVALID_ARGUMENT, err
    assert reason in err.text, err
    assert lab.pools_in_use()["netns"] == 0


@pytest.mark.parametrize("kind", [socket.SOCK_STREAM, socket.SOCK_SEQPACKET],
                         ids=["stream", "seqpacket"])
def test_socket_lifeline_reports_its_peer(lab, baseline, kind):
    """A connected AF_UNIX socket is a lifeline: closing the client's end disconnects."""
    ns, proc = lab.client()
    ours, theirs = socket.socketpair(socket.AF_UNIX, kind)
    try:
        lab.bus().call("ConnectNamespace", "ayh", [lab.connect_ns_request(proc.pid), 0],
                       [theirs.fileno()])
        theirs.close()
        assert ns.ping(pplab.LAN_ADDR), "the namespace is not connected"
        assert lab.pools_in_use()["netns"] == 1
    finally:
        theirs.close()
        ours.close()
    gone = pplab.poll(lambda: None if lab.pools_in_use()["netns"] == 0 else "still connected",
                      timeout=5, what="teardown after the lifeline closed")
    assert gone is None, gone


# ---- oversized requests ------------------------------------------------------------------

def unknown_fields(size):
    """`size` bytes of a request that decodes as unknown varint fields 16 of value 0."""
    assert size % 3 == 0
    return b"\x80\x01\x00" * (size // 3)


def padded(size):
    """`size` bytes (132..16387) of a request that decodes: one unknown length-delimited
    field 16."""
    n = size - 4
    assert 128 <= n < 16384
    return b"\x82\x01" + bytes([0x80 | (n & 0x7f), n >> 7]) + b"x" * n


def test_request_size_limit_is_exact(lab, baseline):
    """16384 bytes decode (unknown fields are skipped); one more is refused as too large."""
    lab.bus().call("GetDevices", "ay", [padded(16384)])
    err = refused(lab, "GetDevices", "ay", [padded(16385)])
    assert err.name == INVALID_ARGUMENT, err
    assert "GetDevicesRequest of 16385 bytes is larger than 16384" in err.text, err


def test_huge_request_is_refused_and_others_are_answered(lab, baseline):
    """30 MB to a method while another client keeps calling: the huge one is refused as
    too large, the small ones are answered meanwhile, and the manager spends little on it.
    Timings are printed, and asserted only against a generous bound: machines here are
    noisy, and the sanitizer build copies the message on every partial read."""
    manager, _ = lab.daemon_pids()
    big = pplab.Bus(lab.bus_address)
    small = lab.bus()
    result = {}

    def send():
        start = time.monotonic()
        try:
            big.call("ArcVmStartup", "ay", [unknown_fields(30_000_000)])
            result["answer"] = "accepted"
        except pplab.DBusError as e:
            result["answer"] = e
        result["seconds"] = time.monotonic() - start

    latencies = []
    cpu_before = pplab.cpu_seconds(manager)
    sender = threading.Thread(target=send)
    sender.start()
    try:
        while sender.is_alive() or len(latencies) < 5:
            start = time.monotonic()
            small.call("GetDevices", "ay", [b""])
            latencies.append(time.monotonic() - start)
            time.sleep(0.01)
    finally:
        sender.join()
        big.close()
    cpu = pplab.cpu_seconds(manager) - cpu_before
    print(f"30 MB request answered in {result['seconds']:.3f} s; manager CPU {cpu:.3f} s; "
          f"{len(latencies)} small calls meanwhile, latency median "
          f"{statistics.median(latencies) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms")
    err = result["answer"]
    assert isinstance(err, pplab.DBusError), err
    assert err.name == INVALID_ARGUMENT, err
    assert "of 30000000 bytes is larger than 16384" in err.text, err
    assert max(latencies) < 20, f"a small call waited {max(latencies):.1f} s"
    assert lab.daemon.poll() is None, "the manager died"
