#!/usr/bin/python3
"""taprelay: the stand-in for a VM's network device in the integration tests.

    taprelay.py TAP IFNAME

Attaches to the existing persistent TAP called TAP (as crosvm would: TUNSETIFF on
/dev/net/tun with IFF_TAP|IFF_NO_PI, by name) and to IFNAME, one end of a veth pair whose
other end is the "VM" namespace's eth0, through an AF_PACKET socket; then copies every frame
from one to the other until it is killed or the TAP goes away. The VM namespace thus sends
and receives real Ethernet frames through the TAP that patchpanel built, like a guest
behind virtio-net.

Both sides carry a virtio-net header (IFF_VNET_HDR on the TAP, PACKET_VNET_HDR on the
socket), as a virtio-net backend does: a frame whose checksum the VM's stack left to
"hardware" (veths offload it) or that is a GSO super-frame crosses with that information
instead of arriving corrupt or oversized.

Must run as root in the network namespace of the TAP. Standard library only. Prints
"ready" on stdout once both sides are attached; exits 0 when the TAP is deleted and non-zero
on any other failure, with the reason on stderr.
"""

import errno
import fcntl
import os
import select
import signal
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_VNET_HDR = 15
PACKET_IGNORE_OUTGOING = 23

FRAME_MAX = 65536 + 64  # a GSO super-frame plus the virtio-net header

# Errors after which the frame is lost but the relay goes on (a full queue, a link that is
# down for a moment).
TRANSIENT = {errno.ENOBUFS, errno.EAGAIN, errno.ENETDOWN, errno.ENXIO, errno.EMSGSIZE,
             errno.EINVAL}


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
    ifr = struct.pack("16sH22x", name.encode(), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)
    try:
        fcntl.ioctl(fd, TUNSETIFF, ifr)
    except OSError:
        os.close(fd)
        raise
    return fd


def open_packet_socket(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    # Frames the kernel sends out of IFNAME itself are not the VM's.
    s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    s.bind((ifname, ETH_P_ALL))
    return s


def relay(tap, sock):
    poller = select.poll()
    poller.register(tap, select.POLLIN)
    poller.register(sock.fileno(), select.POLLIN)
    while True:
        for fd, events in poller.poll():
            if fd == tap:
                if events & (select.POLLERR | select.POLLHUP | select.POLLNVAL):
                    return 0
                try:
                    frame = os.read(tap, FRAME_MAX)
                except OSError as e:
                    # EBADFD: the TAP was deleted under us, as at a VM's shutdown.
                    if e.errno in (errno.EBADFD, errno.EIO, errno.ENODEV):
                        return 0
                    raise
                if not frame:
                    return 0
                try:
                    sock.send(frame)
                except OSError as e:
                    if e.errno not in TRANSIENT:
                        raise
            else:
                try:
                    frame = sock.recv(FRAME_MAX)
                except OSError as e:
                    if e.errno in (errno.ENETDOWN, errno.ENXIO, errno.ENODEV):
                        return 1
                    raise
                try:
                    os.write(tap, frame)
                except OSError as e:
                    if e.errno in (errno.EBADFD, errno.EIO, errno.ENODEV):
                        return 0
                    if e.errno not in TRANSIENT:
                        raise


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        tap = open_tap(argv[1])
        sock = open_packet_socket(argv[2])
    except OSError as e:
        print(f"taprelay: cannot attach to {argv[1]} and {argv[2]}: {e}", file=sys.stderr)
        return 1
    print("ready", flush=True)
    try:
        return relay(tap, sock)
    except OSError as e:
        print(f"taprelay: {argv[1]} <-> {argv[2]}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
