"""Owners of connected namespaces dying together never cost a subnet (issue 8, part 2).

Each owner is a process alone in a network namespace of its own (unshare), which connects
that namespace, sends traffic through it and holds its lifeline. They are killed at the same
moment, again and again: every lifeline hangs up at once, the batched teardown runs while
the kernel takes the dying namespaces' veths away at its own pace, and a link that vanished
under the teardown must count as torn down. Afterwards the pool is whole, nothing is left,
and the daemon never logged a failed teardown.
"""

import os
import shutil
import signal
import subprocess
import sys
import textwrap

import pytest

import pplab

ROUNDS = 8
OWNERS = 12  # of the 16 subnets of the default pool

OWNER = textwrap.dedent("""
    import os, signal, subprocess, sys
    sys.path.insert(0, sys.argv[1])
    import pplab
    lab = pplab.Lab.__new__(pplab.Lab)
    lab.pb = pplab.import_protos()
    lab._bus = pplab.Bus(sys.argv[2])
    resp, lifeline = lab.connect_namespace(os.getpid())
    ping = subprocess.run(["ping", "-c", "3", "-i", "0.05", "-W", "1", sys.argv[3]],
                          capture_output=True)
    print(f"{resp.host_ifname} {ping.returncode}", flush=True)
    os.kill(os.getpid(), signal.SIGSTOP)  # hold the lifeline until killed
""")


def start_owners(lab, n):
    lib = lab.pylib
    env = {**os.environ, "PP_BUILD_DIR": str(lab.build)}
    return [subprocess.Popen(["unshare", "--net", sys.executable, "-c", OWNER, str(lib),
                              lab.bus_address, pplab.LAN_ADDR],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
                             env=env)
            for _ in range(n)]


class Slowdown:
    """strace attached to the helper, delaying each of its sendmsg() calls by usec: a
    teardown then spans the moment the kernel takes the dying namespaces' links away."""

    def __init__(self, pid, usec):
        self.proc = subprocess.Popen(
            ["strace", "-qq", "-o", "/dev/null", "-e", "trace=sendmsg",
             "-e", f"inject=sendmsg:delay_enter={usec}", "-p", str(pid)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        err = pplab.poll(lambda: None if pplab.proc_status(pid).get("TracerPid") ==
                         str(self.proc.pid) else "not attached", timeout=5, what="strace")
        assert err is None, err

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=5)


@pytest.mark.parametrize("slow", [False, True], ids=["full-speed", "slowed-helper"])
def test_owners_dying_together_leave_the_pool_whole(fresh_lab, slow):
    if slow and shutil.which("strace") is None:
        pytest.skip("needs strace")
    lab = fresh_lab()
    baseline = lab.snapshot()
    _, helper = lab.daemon_pids()
    for rnd in range(ROUNDS):
        n = OWNERS if not slow else 2 + rnd % 3
        owners = start_owners(lab, n)
        slowdown = None
        try:
            lines = [o.stdout.readline().split() for o in owners]
            names = [line[0] for line in lines if len(line) == 2]
            assert len(names) == n, f"round {rnd}: {lines}\n{lab.log()}"
            assert all(line[1] == "0" for line in lines), f"round {rnd}: no traffic: {lines}"
            assert lab.pools_in_use()["netns"] == n
            if slow:
                slowdown = Slowdown(helper, 2000 << (rnd % 5))
        finally:
            for o in owners:
                o.send_signal(signal.SIGKILL)
            for o in owners:
                o.wait()
                o.stdout.close()
        err = lab.wait_for_snapshot(baseline, timeout=10)
        if slowdown:
            slowdown.stop()
        assert err is None, f"round {rnd}: {err}\n{lab.log()}"
    log = lab.log()
    assert "teardown failed" not in log, log
    assert "keeping its subnet out of use" not in log, log
