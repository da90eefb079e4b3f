"""patchpaneld's configuration file: options set there take effect, the command line wins
over it, and a bad file refuses to start with the file, the line and the reason. The
refusals run patchpaneld in a network namespace of its own (unshare), so that a daemon
that wrongly went on could not touch anything but that namespace."""

import json
import re
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
    # Values checked against the system, at the file's line too.
    ("netns-pool = 100.115.96.1/30x16\n", 1, "invalid netns-pool = 100.115.96.1/30x16: "
     "expected A.B.C.D/LENxCOUNT with an aligned base"),
    ("\ntap-user = no-such-user-pp\n", 2, "invalid tap-user = no-such-user-pp: no such user"),
    ("lockdown-user = no-such-user-pp\n", 1,
     "invalid lockdown-user = no-such-user-pp: no such user"),
    ("user = no-such-user-pp\n", 1, "invalid user = no-such-user-pp: no such user"),
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
    patchpaneld goes on to the command line, whose --user names no user."""
    example = pplab.build_dir() / "manager" / "patchpaneld.conf"
    text = example.read_text()
    assert "#ingress-firewall = on|off\n" in text and "#config" not in text, text
    conf = write(tmp_path / "example.conf", text)
    p = refuse(pplab.build_dir(), conf, "--user=no-such-user-pp")
    assert p.returncode == 1
    assert p.stderr == "Invalid --user=no-such-user-pp: no such user\n", p.stderr


# Options of a build with tests only, left out of the example as of the manual page
# (PP_TEST_ONLY_OPTIONS_patchpaneld in manager/CMakeLists.txt).
TEST_ONLY_OPTIONS = {"test-child"}
# --NAME[=ARG] at the head of an entry of --help.
HELP_ENTRY = re.compile(r"^  (?:-., )?--([a-z0-9-]+)(?:=(\S+))?", re.MULTILINE)


def help_options():
    """{name: ARG or None} of every option patchpaneld --help lists but --help, --config and
    the options of test builds."""
    build = pplab.build_dir()
    p = subprocess.run([str(build / "bin" / "patchpaneld"), "--help"], capture_output=True,
                       text=True, timeout=10, check=False)
    assert p.returncode == 0, p.stderr
    found = dict(HELP_ENTRY.findall(p.stdout))
    assert TEST_ONLY_OPTIONS <= set(found), "TEST_ONLY_OPTIONS names an option --help lacks"
    return {name: arg or None for name, arg in found.items()
            if name not in {"help", "config", *TEST_ONLY_OPTIONS}}


def example_options():
    """[(name, ARG or None, line)] of the example's commented-out options, in order."""
    text = (pplab.build_dir() / "manager" / "patchpaneld.conf").read_text()
    found = []
    for line in text.splitlines():
        m = re.fullmatch(r"#([a-z0-9-]+)(?: = (.+))?", line)
        if m:
            found.append((m.group(1), m.group(2), line[1:]))
    return found


def test_example_has_every_option_with_its_argument():
    """Each option of --help is in the example once, as `#NAME = ARG` with --help's ARG
    (`#NAME` for one without), and the example has no other."""
    helped = help_options()
    example = example_options()
    names = [name for name, _, _ in example]
    assert sorted(names) == sorted(helped), (names, helped)
    assert len(names) == len(set(names)), names
    for name, arg, _ in example:
        assert arg == helped[name], f"#{name} = {arg}; --help says --{name}={helped[name]}"


def test_example_uncommented_is_read_line_by_line(tmp_path):
    """Each option line of the example, uncommented, is a line the parser takes: name known,
    syntax right, ARG handed on as the option's value. A placeholder such as N is no value
    the option accepts, so each line runs alone and ends in that option's "invalid NAME =
    ARG" of the file's reading (a pool or a user is checked there too), or, the line taken,
    at the command line's --user that names no user: never in
    "unknown option", "expected NAME = VALUE", "needs a value" or "takes no value"."""
    example = example_options()
    assert example
    for name, arg, line in example:
        conf = write(tmp_path / f"{name}.conf", line + "\n")
        p = refuse(pplab.build_dir(), conf, "--user=no-such-user-pp")
        assert p.returncode == 1, (line, p.stdout + p.stderr)
        if p.stderr.startswith(f"{conf}:1: "):
            assert arg is not None, (line, p.stderr)
            assert p.stderr.startswith(f"{conf}:1: invalid {name} = {arg}: "), (line, p.stderr)
        else:
            assert p.stderr == "Invalid --user=no-such-user-pp: no such user\n", (line, p.stderr)
