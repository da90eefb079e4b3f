"""Supervised children: the launcher starts a forwarder (pp-testchild, a forwarder that
forwards nothing) after the manager has locked itself down; the forwarder runs with no
capability under its own seccomp policy, is restarted with backoff when it dies and is told
its state again; the manager's death takes every child down; and the launcher refuses what
it does not own."""

import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

import pplab

TEST_KIND = 15  # ChildKind CHILD_KIND_TEST


def ipc_pb2(lab_or_build):
    build = lab_or_build.build if hasattr(lab_or_build, "build") else lab_or_build
    pplab.import_protos(build)
    import ipc_pb2 as mod  # noqa: E402  pylint: disable=import-outside-toplevel
    return mod


def child_status(lab, name="pp-testchild"):
    for c in lab.status()["children"]:
        if c["name"] == name:
            return c
    raise KeyError(name)


def wait_running(lab, not_pid=None, links=None, timeout=10.0):
    """Wait until pp-testchild runs (as another pid than not_pid) and, if given, reports
    exactly these (guest, uplink) links; return its status."""
    seen = {}

    def check():
        c = child_status(lab)
        seen["c"] = c
        if c["state"] != "running" or c["pid"] == not_pid or c["pid"] <= 0:
            return f"state {c['state']} pid {c['pid']}"
        if links is not None:
            got = sorted((l["guest"], l["uplink"]) for l in c["links"])
            if got != sorted(links):
                return f"links {got}, want {sorted(links)}"
        return None
    err = pplab.poll(check, timeout=timeout, interval=0.05, what="pp-testchild")
    assert err is None, f"{err}\n{lab.log()[-4000:]}"
    return seen["c"]


def still_there(pids):
    """What each of pids that has not ended is doing, and its children: for a failure's
    message."""
    lines = []
    for pid in pids:
        try:
            st = pplab.proc_status(pid)
            wchan = Path(f"/proc/{pid}/wchan").read_text()
            kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:  # ended meanwhile
            continue
        lines.append(f"pid {pid} ({st.get('Name')}): {st.get('State')}, in {wchan or '-'}, "
                     f"children {kids}")
        lines += ["  child " + still_there([int(k)]) for k in kids]
    return "\n".join(lines)


def gone_or_zombie(pid):
    try:
        return pplab.proc_status(pid).get("State", "").startswith("Z")
    except FileNotFoundError:
        return True


@pytest.fixture(scope="module")
def clab():
    from conftest import finish_lab, make_lab  # pylint: disable=import-outside-toplevel
    lab = make_lab(daemon_args=["--test-child"])
    yield lab
    finish_lab(lab)


def test_child_runs_sandboxed_under_the_launcher(clab):
    c = wait_running(clab)
    launcher = next(x for x in clab.status()["children"] if x["name"] == "patchpanel-launcher")
    st = pplab.proc_status(c["pid"])
    # Started by the launcher after the manager's lockdown, with nothing of its privileges.
    assert int(st["PPid"]) == launcher["pid"]
    for field in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
        assert int(st[field], 16) == 0, (field, st[field])
    assert st["NoNewPrivs"] == "1"
    assert st["Seccomp"] == "2"
    # Two filters: the launcher's (inherited) and its own.
    assert st.get("Seccomp_filters") == "2", st.get("Seccomp_filters")
    assert st["Uid"].split()[0] != "0"
    # fd 3 is its control socket; beyond the std streams everything else is its own event
    # loop's (anonymous inodes): nothing of the manager's or the launcher's leaked.
    fds = {int(n): os.readlink(f"/proc/{c['pid']}/fd/{n}") for n in os.listdir(f"/proc/{c['pid']}/fd")}
    assert fds[3].startswith("socket:"), fds
    extra = {n: t for n, t in fds.items() if n > 3 and not t.startswith("anon_inode:")}
    assert not extra, fds

    # The launcher holds CAP_NET_RAW only to hand on: never effective, and nothing else.
    lst = pplab.proc_status(launcher["pid"])
    assert int(lst["CapEff"], 16) == 0
    assert int(lst["CapPrm"], 16) == 1 << 13, lst["CapPrm"]
    assert lst["Seccomp"] == "2" and lst["NoNewPrivs"] == "1"
    assert lst["Uid"].split()[0] != "0"


def test_state_is_replayed_after_each_kill_with_backoff(clab):
    c = wait_running(clab)
    ns1, p1 = clab.client()
    resp1, life1 = clab.connect_namespace(p1.pid)
    ns2, p2 = clab.client()
    resp2, life2 = clab.connect_namespace(p2.pid)
    want = [(resp1.host_ifname, "eth0"), (resp2.host_ifname, "eth0")]
    try:
        c = wait_running(clab, links=want)
        # The delays below count from a child that has not failed yet: one that died on
        # its own before is a bug of its own, shown with what the log says of it.
        assert c["failures_in_a_row"] == 0, \
            (c, [l for l in clab.log().splitlines() if "pp-testchild" in l])
        delays = []
        for kill in range(1, 6):
            log_before = len(clab.log())
            os.kill(c["pid"], signal.SIGKILL)
            if kill >= 3:
                # While it waits, the status says so and how long.
                err = pplab.poll(lambda: None if child_status(clab)["state"] == "backoff"
                                 else child_status(clab)["state"], timeout=5,
                                 what="backoff state")
                assert err is None, err
                b = child_status(clab)
                assert b["restart_in_ms"] > 0 and b["failures_in_a_row"] == kill, b
            c = wait_running(clab, not_pid=c["pid"], links=want, timeout=30)
            new_log = clab.log()[log_before:]
            line = next(l for l in new_log.splitlines() if "pp-testchild" in l and "restarting in" in l)
            delays.append(int(line.split("restarting in ")[1].split(" ms")[0]))
            assert f"failure {kill} in a row" in line, line
        # At once, then 1 s doubling.
        assert delays == [0, 1000, 2000, 4000, 8000], delays
        assert c["starts"] >= 6
        # Counters come back with the state: it was told each link once per life.
        adds = next(x["value"] for x in c["counters"] if x["name"] == "link_adds")
        assert adds == 2, c
    finally:
        life1.close()
        life2.close()
    wait_running(clab, links=[])


def test_killing_the_manager_takes_every_child_down(fresh_lab):
    lab = fresh_lab(daemon_args=["--test-child"])
    c = wait_running(lab)
    children = {x["name"]: x["pid"] for x in lab.status()["children"]}
    manager = lab.daemon.pid
    os.kill(manager, signal.SIGKILL)
    lab.daemon.wait()
    pids = [children["patchpanel-helper"], children["patchpanel-launcher"], c["pid"]]
    err = pplab.poll(lambda: None if all(gone_or_zombie(p) for p in pids) else
                     [p for p in pids if not gone_or_zombie(p)], timeout=10,
                     what="children still running")
    assert err is None, f"{err}\n{still_there(pids)}\n{lab.log()}"


# ---- the launcher on its own -------------------------------------------------------------

class Launcher:
    """patchpanel-launcher started by the test, which plays the manager on its socket."""

    def __init__(self, build):
        self.pb = ipc_pb2(build)
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc = subprocess.Popen(
            [str(Path(build) / "bin" / "patchpanel-launcher"), f"--ipc-fd={theirs.fileno()}",
             "--log-level=debug"], pass_fds=[theirs.fileno()], stderr=subprocess.PIPE, text=True)
        theirs.close()
        self.sock.settimeout(10)
        self.next_id = 1

    def spawn(self, kind, fds):
        req = self.pb.LauncherRequest(id=self.next_id, spawn=self.pb.Spawn(kind=kind))
        self.next_id += 1
        socket.send_fds(self.sock, [req.SerializeToString()], fds)
        while True:
            data, got, _, _ = socket.recv_fds(self.sock, 65536, 2)
            resp = self.pb.LauncherResponse()
            resp.ParseFromString(data)
            if resp.id == req.id:
                return resp, got
            for fd in got:
                os.close(fd)

    def close(self):
        self.sock.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.stderr.read()


def test_launcher_refuses_what_the_suite_does_not_own(tmp_path):
    build = pplab.build_dir()
    launcher = Launcher(build)
    server = None
    try:
        # An unknown kind.
        mine, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        resp, fds = launcher.spawn(99, [child_end.fileno()])
        assert resp.status < 0 and "unknown kind" in resp.message, resp
        assert not fds

        # Not a socket at all.
        r, w = os.pipe()
        resp, _ = launcher.spawn(TEST_KIND, [r])
        os.close(r)
        os.close(w)
        assert resp.status < 0 and "not a socket" in resp.message, resp

        # A stream socket.
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        resp, _ = launcher.spawn(TEST_KIND, [b.fileno()])
        assert resp.status < 0 and "SOCK_SEQPACKET" in resp.message, resp
        a.close()
        b.close()

        # A socket that leads to another process than its manager.
        path = tmp_path / "other.sock"
        server = subprocess.Popen(["socat", f"UNIX-LISTEN:{path},type=5", "EXEC:cat"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        other = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)

        def connect_other():
            # socat binds before it listens: the path alone does not mean it accepts yet.
            try:
                other.connect(str(path))
            except (FileNotFoundError, ConnectionRefusedError) as e:
                return str(e)
            return None
        err = pplab.poll(connect_other, timeout=5)
        assert err is None, err
        resp, _ = launcher.spawn(TEST_KIND, [other.fileno()])
        other.close()
        assert resp.status < 0 and f"leads to pid {server.pid}" in resp.message, resp

        # What the manager made: the child starts, on that socket, and says hello.
        resp, fds = launcher.spawn(TEST_KIND, [child_end.fileno()])
        child_end.close()
        assert resp.status == 0 and resp.spawn.pid > 0 and len(fds) == 1, resp
        pidfd = fds[0]
        mine.settimeout(10)
        report = launcher.pb.ForwarderReport()
        report.ParseFromString(mine.recv(65536))
        assert report.WhichOneof("msg") == "hello" and report.hello.kind == TEST_KIND
        assert pplab.proc_status(resp.spawn.pid)["Seccomp"] == "2"
        # Its end is its control socket closing.
        mine.close()
        err = pplab.poll(lambda: None if gone_or_zombie(resp.spawn.pid) else "alive", timeout=5)
        assert err is None, err
        os.close(pidfd)
    finally:
        if server:
            server.kill()
            server.wait()
        log = launcher.close()
    assert launcher.proc.returncode == 0, log
    assert "Refused to start kind 99" in log, log
