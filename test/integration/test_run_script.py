"""scripts/run's scenario (scripts/demo.py): it shows a namespace pinging the lan through
NAT, keeps running, and after Ctrl-C leaves no namespace, process or bus behind."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pplab

DEMO = pplab.REPO / "scripts" / "demo.py"


def test_demo_runs_and_leaves_nothing():
    before = set(pplab.run(["ip", "netns", "list"]).stdout.split())
    demo = subprocess.Popen([sys.executable, str(DEMO)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PP_BUILD_DIR": str(pplab.build_dir())})
    out = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            out.append(line)
            if "Running. Ctrl-C" in line:
                break
        text = "".join(out)
        assert "Running. Ctrl-C" in text, text
        assert " 0% packet loss" in text, text
        assert "arc_ns0" in text and "masquerade" in text, text
        manager = next(int(l.split()[2]) for l in out if l.startswith("patchpaneld pid"))
        demo.send_signal(signal.SIGINT)
        rest, _ = demo.communicate(timeout=30)
    finally:
        # Ctrl-C first, so that the demo removes its lab even when an assertion failed.
        if demo.poll() is None:
            demo.send_signal(signal.SIGINT)
            try:
                demo.wait(timeout=30)
            except subprocess.TimeoutExpired:
                demo.kill()
                demo.wait()
    assert demo.returncode == 0, rest
    assert "patchpaneld exited with status 0" in rest, rest
    after = set(pplab.run(["ip", "netns", "list"]).stdout.split())
    assert not {n for n in after - before if n.startswith("pplab")}, after
    assert not Path(f"/proc/{manager}").exists() or \
        pplab.proc_status(manager)["State"].startswith("Z")
