"""patchpaneld's configuration file: options set there take effect, the command line wins
over it, and a bad file refuses to start with the file, the line and the reason. The
refusals run patchpaneld in a network namespace of its own (unshare), so that a daemon
that wrongly went on could not touch anything but that namespace."""

import json
import os
import subprocess

import pytest

import pplab


def write(path, text, mode=0o644):
    path.write_text(text)
    os.chmod(path, mode)
    return path


def status(lab):
    p = lab.cli("status", "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def pool(st, name):
    return next(p["subnets"] for p in st["pools"] if p["name"] == name)


def test_file_sets_options_and_the_command_line_wins(fresh_lab, tmp_path):
    conf = write(tmp_path / "patchpaneld.conf",
                 "# a test's configuration\n"
                 "\n"
                 "ingress-firewall = on\n"
                 "  netns-pool = 100.115.92.128/30x8\n"
                 "; the command line sets this one again\n"
                 "lockdown-user = nobody\n")
    lab = fresh_lab(daemon_args=[f"--config={conf}", "--lockdown-user=root"],
                    ingress_firewall=False)
    st = status(lab)
    assert st["firewall"]["ingress_firewall"] is True, st["firewall"]
    assert pool(st, "netns") == "100.115.92.128/30x8", st["pools"]
    assert st["firewall"]["lockdown_uid"] == 0, st["firewall"]


def test_help_names_the_default_file():
    """The default is the build's sysconfdir: /etc/patchpanel/patchpaneld.conf when
    installed under /usr, as the packages are."""
    build = pplab.build_dir()
    prefix = next(line.split("=", 1)[1] for line in
                  (build / "CMakeCache.txt").read_text().splitlines()
                  if line.startswith("CMAKE_INSTALL_PREFIX:"))
    etc = "/etc" if prefix in ("/usr", "/") else f"{prefix}/etc"
    p = subprocess.run([str(build / "bin" / "patchpaneld"), "--help"], capture_output=True,
                       text=True, timeout=10, check=False)
    assert p.returncode == 0, p.stderr
    assert f"{etc}/patchpanel/patchpaneld.conf)" in p.stdout, p.stdout


def refuse(build, conf, *args):
    """Run patchpaneld with conf in a namespace of its own; returns CompletedProcess."""
    return subprocess.run(
        ["unshare", "--net", "--", str(build / "bin" / "patchpaneld"), f"--config={conf}",
         f"--helper={build / 'bin' / 'patchpanel-helper'}", *args],
        capture_output=True, text=True, timeout=20, check=False,
        env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent"})


@pytest.mark.parametrize("text,line,reason", [
    ("ingress-firewall = on\n\ningress-firewall = yes\n", 3,
     "invalid ingress-firewall = yes: on or off"),
    ("# fine\nuplink = eth*\n", 2, 'unknown option "uplink"'),
    ("pool-base 100.115.92.0\n", 1, "expected NAME = VALUE"),
    ("user\n", 1, "user needs a value: user = NAME"),
    ("pool-base = 100.115.92.4\n", 1, "invalid pool-base = 100.115.92.4: not /23 aligned"),
    ("uid-source = 5=vpn\n", 1, "invalid uid-source = 5=vpn: expected UID[-UID]=SOURCE with a "
     "local source (chrome, user, update-engine, system, host-vpn)"),
    ("log-level = loud\n", 1, "invalid log-level = loud: debug, info, notice, warning or error"),
])
def test_bad_line_refuses_to_start(tmp_path, text, line, reason):
    conf = write(tmp_path / "bad.conf", text)
    p = refuse(pplab.build_dir(), conf)
    assert p.returncode == 1, p.stdout + p.stderr
    # Refused before anything else is said or done.
    assert p.stderr == f"{conf}:{line}: {reason}\n", p.stderr


def test_bad_line_refuses_even_when_the_command_line_sets_it(tmp_path):
    conf = write(tmp_path / "bad.conf", "ingress-firewall = maybe\n")
    p = refuse(pplab.build_dir(), conf, "--ingress-firewall=off")
    assert p.returncode == 1
    assert p.stderr == f"{conf}:1: invalid ingress-firewall = maybe: on or off\n", p.stderr


@pytest.mark.parametrize("mode,owner", [(0o666, 0), (0o664, 0), (0o644, 65534)])
def test_file_others_may_write_is_refused(tmp_path, mode, owner):
    conf = write(tmp_path / "open.conf", "log-level = debug\n", mode)
    os.chown(conf, owner, owner)
    p = refuse(pplab.build_dir(), conf)
    assert p.returncode == 1
    assert p.stderr == (f"{conf}: owned by uid {owner} with mode {mode:04o}: it must belong "
                        "to root (or to the user running this) and be writable by no one "
                        "else\n"), p.stderr


def test_missing_file_named_on_the_command_line_is_refused(tmp_path):
    p = refuse(pplab.build_dir(), tmp_path / "missing.conf")
    assert p.returncode == 1
    assert p.stderr == f"{tmp_path / 'missing.conf'}: no such file\n", p.stderr


def test_installed_example_parses(tmp_path):
    """The example the build makes (every option commented out) is a valid file: with it
    patchpaneld goes on past its options, to the check of --user."""
    example = pplab.build_dir() / "manager" / "patchpaneld.conf"
    text = example.read_text()
    assert "#ingress-firewall = on|off\n" in text and "#config" not in text, text
    conf = write(tmp_path / "example.conf", text)
    p = refuse(pplab.build_dir(), conf, "--user=no-such-user-pp")
    assert p.returncode == 1
    assert "No such user: no-such-user-pp" in p.stderr and ".conf" not in p.stderr, p.stderr
