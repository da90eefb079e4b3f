"""Fixtures shared by the integration tests: a lab per module (host + lan namespaces, a
private bus, the suite started as a user starts it), torn down whatever happens, and a
check at the end of the session that nothing the session started is left (pplab.reap)."""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import pplab  # noqa: E402  pylint: disable=wrong-import-position
import pplab.reap  # noqa: E402  pylint: disable=wrong-import-position

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def pytest_configure(config):
    config.addinivalue_line("markers", "lab: tests of the lab harness itself (pplab)")
    if os.geteuid() != 0:
        pytest.exit("the integration tests need root (network namespaces)", returncode=77)


@pytest.fixture(scope="session", autouse=True)
def nothing_left_behind():
    """After the last test: no process that this session started (tagged with one of its
    labs or carrying its owner) and no namespace of its labs may be left. Whatever is
    found is reaped, and the session fails with the list."""
    yield
    mine = pplab.OWNER == pplab.tags.owner_id(os.getpid())
    found = pplab.reap.reap_tags(pplab.issued_tags(),
                                 pplab.reap.owned_by(pplab.OWNER) if mine else None)
    assert not found, "left behind by this session (now reaped):\n" + "\n".join(found.lines())


def sanitizer_reports(lab):
    """Lines of the daemon logs where a sanitizer reported a bug."""
    found = []
    if lab.dir and lab.dir.exists():
        for log in lab.dir.glob("patchpaneld-*.log"):
            for line in log.read_text(errors="replace").splitlines():
                if any(m in line for m in SANITIZER_MARKERS):
                    found.append(f"{log.name}: {line}")
    return found


def make_lab(daemon_args=(), **kw):
    lab = pplab.Lab(daemon_args=daemon_args, **kw)
    try:
        lab.start()
    except BaseException:
        lab.close()
        raise
    return lab


def finish_lab(lab):
    """Stop the suite, then check that it exited cleanly and that no sanitizer spoke."""
    status = None
    helper_exited = True
    try:
        if lab.daemon and lab.daemon.poll() is None:
            _, helper = lab.daemon_pids()
            status = lab.stop_daemon()
            helper_exited = helper is None or lab.helper_gone(helper)
        reports = sanitizer_reports(lab)
        log = lab.log()
    finally:
        lab.close()
    assert not reports, "sanitizer reports:\n" + "\n".join(reports)
    assert status in (None, 0), f"patchpaneld exited with {status} at SIGTERM:\n{log}"
    assert helper_exited, f"patchpanel-helper outlived the manager:\n{log}"


@pytest.fixture(scope="module")
def lab(request):
    """One lab for a whole test module (with a second uplink where the module sets
    LAB_UPLINKS = 2); tests must leave it as they found it."""
    lab = make_lab(uplinks=getattr(request.module, "LAB_UPLINKS", 1))
    yield lab
    finish_lab(lab)


@pytest.fixture
def baseline(lab):
    """The kernel state, pools and devices before a test; the test must return to them."""
    snap = lab.snapshot()
    yield snap
    left = lab.wait_for_snapshot(snap, timeout=5)
    assert left is None, f"the test left state behind: {left}"


@pytest.fixture
def fresh_lab():
    """A lab of its own, for tests that kill or restart the suite."""
    labs = []

    def factory(daemon_args=(), **kw):
        lab = make_lab(daemon_args, **kw)
        labs.append(lab)
        return lab

    yield factory
    failures = []
    for lab in labs:
        try:
            finish_lab(lab)
        except AssertionError as e:
            failures.append(str(e))
    assert not failures, "\n".join(failures)
