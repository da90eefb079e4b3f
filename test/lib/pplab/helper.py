"""The helper driven directly: patchpanel-helper started inside a namespace of the test's,
the test playing the manager on its socket, to check what the helper itself refuses
whatever the manager asks (DESIGN.md: "validate in the helper").

    h = DirectHelper(ns, pplab.build_dir())
    try:
        assert h.call(datapath_start=h.pb.DatapathStart()).status == 0
    finally:
        log = h.close()
"""

import socket
import subprocess

from .paths import import_protos


class DirectHelper:
    """patchpanel-helper started by the test inside a namespace of its own, the test
    playing the manager on its socket."""

    def __init__(self, ns, build):
        import_protos(build)
        import ipc_pb2  # noqa: E402  pylint: disable=import-outside-toplevel
        self.pb = ipc_pb2
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns.name, str(build / "bin" / "patchpanel-helper"),
             f"--ipc-fd={theirs.fileno()}", "--log-level=debug"],
            pass_fds=[theirs.fileno()], stderr=subprocess.PIPE, text=True, env=ns.env())
        theirs.close()
        self.sock.settimeout(20)
        self.next_id = 1

    def call(self, **op):
        """Send one request (HelperRequest's oneof as a keyword) and return its response."""
        req = self.pb.HelperRequest(id=self.next_id, **op)
        self.next_id += 1
        self.sock.send(req.SerializeToString())
        while True:
            resp = self.pb.HelperResponse()
            resp.ParseFromString(self.sock.recv(65536))
            if resp.id == req.id:
                return resp

    def close(self):
        """Close the socket, which ends the helper; return its log (stderr)."""
        self.sock.close()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.stderr.read()
