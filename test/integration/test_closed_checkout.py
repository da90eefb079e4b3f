"""The suite works from a checkout other users cannot enter (issue 8 part 7): a clone in
/root, or in a `mktemp -d` directory (mode 0700). The daemon drops to its own user before it
starts the launcher and the forwarders, and tests run clients as nobody: neither may need to
reach the checkout by path.

The test copies what a lab needs (the test tree, the D-Bus policy and the build's binaries
and generated modules) into a fresh 0700 directory and runs, from there, the tests that
start every kind of child through the launcher and that run clients as other users."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pplab

# Each starts processes as a user other than root: the launcher and its forwarders as
# patchpaneld (test_children; its backoff schedule, which takes a while and is the same
# from any checkout, is left to it), D-Bus clients as nobody and daemon (test_owners).
TESTS = ["test_children.py", "test_owners.py"]
DESELECT = "not backoff"


def test_the_suite_runs_from_a_checkout_closed_to_other_users():
    closed = Path(tempfile.mkdtemp(prefix="pp-closed-"))
    try:
        assert (closed.stat().st_mode & 0o777) == 0o700
        checkout = closed / "patchpanel"
        build = checkout / "build"
        shutil.copytree(pplab.REPO / "test", checkout / "test",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(pplab.REPO / "systemd", checkout / "systemd")
        for part in ("bin", "python", "test-bin"):
            if (pplab.build_dir() / part).is_dir():
                shutil.copytree(pplab.build_dir() / part, build / part, symlinks=False)

        # The user the daemon drops to cannot reach its binaries by path.
        probe = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                "test", "-x", str(build / "bin" / "patchpanel-launcher")],
                               check=False)
        assert probe.returncode != 0

        env = dict(os.environ, PP_BUILD_DIR=str(build), PYTHONDONTWRITEBYTECODE="1")
        p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "-k", DESELECT,
                            *(str(checkout / "test" / "integration" / t) for t in TESTS)],
                           cwd=checkout, env=env, capture_output=True, text=True, timeout=600,
                           check=False)
        assert p.returncode == 0, p.stdout[-20000:] + p.stderr[-4000:]
        assert " passed" in p.stdout, p.stdout[-2000:]
    finally:
        shutil.rmtree(closed, ignore_errors=True)
