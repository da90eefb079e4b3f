#!/usr/bin/python3
"""A stand-in for ARC's adbd: enough of the ADB protocol for the real adb client's
`adb connect`, `adb devices` and `adb shell CMD` (the legacy shell service), listening on a
UNIX socket (as the container's /run/arc/adb/adb.sock) and/or TCP addresses.

The protocol (system/core/adb/protocol.txt of AOSP, as a fact): every message is a 24-byte
little-endian header (command, arg0, arg1, payload length, payload checksum, command ^
0xffffffff) and its payload. CNXN(version, max payload, "device::<properties>") answers
the host's CNXN (no AUTH: the device does not ask for it). OPEN(local id, 0, "shell:CMD")
opens a stream; the device answers OKAY(its id, host's id), sends the command's output in
WRTE messages of at most the agreed payload size, each acknowledged by the host's OKAY
before the next, then CLSE. Features are not advertised, so the host uses the legacy
shell: service (no exit status, as the recipes note).

    fake_adbd.py [--unix PATH] [--tcp ADDR:PORT]... [--name NAME]

prints "ready" once it listens; SIGTERM ends it.
"""

import argparse
import asyncio
import os
import signal
import struct
import sys

A_CNXN = 0x4E584E43
A_OPEN = 0x4E45504F
A_OKAY = 0x59414B4F
A_CLSE = 0x45534C43
A_WRTE = 0x45545257
A_AUTH = 0x48545541
VERSION = 0x01000001
MAX_PAYLOAD = 256 * 1024
HEADER = struct.Struct("<6I")


def checksum(data):
    return sum(data) & 0xFFFFFFFF


class Stream:
    def __init__(self, local, remote):
        self.local = local
        self.remote = remote
        self.okay = asyncio.Event()
        self.proc = None
        self.task = None


class Connection:
    def __init__(self, reader, writer, name):
        self.reader = reader
        self.writer = writer
        self.name = name
        self.max_payload = MAX_PAYLOAD
        self.streams = {}
        self.next_id = 1

    def send(self, cmd, arg0, arg1, data=b""):
        self.writer.write(HEADER.pack(cmd, arg0, arg1, len(data), checksum(data),
                                      cmd ^ 0xFFFFFFFF) + data)

    async def read_message(self):
        head = await self.reader.readexactly(HEADER.size)
        cmd, arg0, arg1, length, _, magic = HEADER.unpack(head)
        if magic != cmd ^ 0xFFFFFFFF or length > 1024 * 1024:
            raise ValueError("bad header")
        data = await self.reader.readexactly(length) if length else b""
        return cmd, arg0, arg1, data

    async def run(self):
        try:
            while True:
                cmd, arg0, arg1, data = await self.read_message()
                if cmd == A_CNXN:
                    self.max_payload = min(MAX_PAYLOAD, arg1) or MAX_PAYLOAD
                    banner = (f"device::ro.product.name={self.name};ro.product.model={self.name};"
                              f"ro.product.device={self.name};\0").encode()
                    self.send(A_CNXN, VERSION, MAX_PAYLOAD, banner)
                elif cmd == A_OPEN:
                    self.open(arg0, data.rstrip(b"\0").decode(errors="replace"))
                elif cmd == A_OKAY:
                    s = self.streams.get(arg1)
                    if s:
                        s.okay.set()
                elif cmd == A_WRTE:
                    s = self.streams.get(arg1)
                    if s:
                        # Standard input of the shell: taken, and acknowledged.
                        if s.proc and s.proc.stdin and not s.proc.stdin.is_closing():
                            s.proc.stdin.write(data)
                        self.send(A_OKAY, s.local, s.remote)
                elif cmd == A_CLSE:
                    self.close_stream(arg1, tell=False)
                await self.writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            for local in list(self.streams):
                self.close_stream(local, tell=False)
            self.writer.close()

    def open(self, remote, service):
        local = self.next_id
        self.next_id += 1
        if not service.startswith("shell:"):
            self.send(A_CLSE, 0, remote)
            return
        s = Stream(local, remote)
        self.streams[local] = s
        self.send(A_OKAY, local, remote)
        s.task = asyncio.ensure_future(self.shell(s, service[len("shell:"):] or "true"))

    async def shell(self, s, command):
        try:
            s.proc = await asyncio.create_subprocess_exec(
                "/bin/sh", "-c", command, stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
            while True:
                data = await s.proc.stdout.read(self.max_payload)
                if not data:
                    break
                s.okay.clear()
                self.send(A_WRTE, s.local, s.remote, data)
                await self.writer.drain()
                await s.okay.wait()
            await s.proc.wait()
        except (ConnectionError, asyncio.CancelledError):
            return
        if s.local in self.streams:
            self.send(A_CLSE, s.local, s.remote)
            del self.streams[s.local]
            try:
                await self.writer.drain()
            except ConnectionError:
                pass

    def close_stream(self, local, tell):
        s = self.streams.pop(local, None)
        if not s:
            return
        if s.proc and s.proc.returncode is None:
            try:
                s.proc.kill()
            except ProcessLookupError:
                pass
        if s.task and not s.task.done() and s.task is not asyncio.current_task():
            s.task.cancel()
        if tell:
            self.send(A_CLSE, s.local, s.remote)


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--unix")
    p.add_argument("--tcp", action="append", default=[])
    p.add_argument("--name", default="ppfake")
    args = p.parse_args()

    def handler(reader, writer):
        return Connection(reader, writer, args.name).run()

    servers = []
    if args.unix:
        servers.append(await asyncio.start_unix_server(handler, path=args.unix))
        # The proxy runs as an unprivileged user.
        os.chmod(args.unix, 0o666)
    for spec in args.tcp:
        host, _, port = spec.rpartition(":")
        servers.append(await asyncio.start_server(handler, host=host.strip("[]"),
                                                  port=int(port), reuse_address=True))
    if not servers:
        p.error("nothing to listen on")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    print("ready", flush=True)
    await stop.wait()
    for s in servers:
        s.close()
    if args.unix:
        try:
            os.unlink(args.unix)
        except FileNotFoundError:
            pass


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
