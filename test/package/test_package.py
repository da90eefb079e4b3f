"""The Debian packages, as scripts/package builds them (in a build tree of their own:
prefix /usr, no tests, Debian's hardening flags):

* together they hold exactly what `cmake --install` of that tree lays out, each file in
  one package, with the same modes and link targets (dpkg-deb -c);
* their control files: Depends from the libraries the binaries link plus what the
  scripts and the service need, installable on this Debian (apt-get --simulate), the
  library's shlibs and ldconfig trigger, the configuration file a conffile;
* the maintainer scripts parse, and the postinst creates the user and the group
  (run with DPKG_ROOT pointing at a scratch root, where nothing else happens);
* the maintainer scripts' calls of systemd-sysusers, dbus-send, systemctl,
  deb-systemd-invoke and deb-systemd-helper, for each action dpkg runs them with, with
  and without systemd and the system bus, and under DPKG_ROOT: each script runs with
  stubs of those commands alone on its PATH, in a mount namespace whose /run is a scratch
  tmpfs, and the test compares the calls the stubs logged with those expected;
* lintian reports no error; its warnings are printed (pytest -rP shows them).

PP_PACKAGE_BUILD_DIR names the build tree (made if missing)."""

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("patchpanel", "libpatchpanel-client0", "libpatchpanel-client-dev")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """{package: .deb path}, the build tree, and a DESTDIR with cmake --install of it."""
    build = Path(os.environ.get("PP_PACKAGE_BUILD_DIR", REPO / "build-deb")).resolve()
    p = subprocess.run([str(REPO / "scripts" / "package"), "--no-deps", str(build)],
                       capture_output=True, text=True, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    debs = {}
    for line in p.stdout.splitlines():
        if not line.endswith(".deb"):
            continue
        name = Path(line).name.split("_")[0]
        debs[name] = Path(line)
    assert sorted(debs) == sorted(PACKAGES), p.stdout
    dest = tmp_path_factory.mktemp("destdir")
    p = subprocess.run(["cmake", "--install", str(build)], capture_output=True, text=True,
                       env={**os.environ, "DESTDIR": str(dest)}, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    return debs, build, dest


def deb_entries(deb):
    """{path: (mode string, link target or None)} of a package's files and links."""
    out = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True,
                         check=True).stdout
    entries = {}
    for line in out.splitlines():
        # -rwxr-xr-x root/root  39520 2026-12-02 05:54 ./usr/bin/patchpanel-cli
        perms, owner, _size, _date, _time, rest = line.split(None, 5)
        assert owner == "root/root", line
        if perms.startswith("d"):
            continue
        path, _, target = rest.partition(" -> ")
        entries[path[1:]] = (perms, target or None)
    return entries


def tree_entries(root):
    """The same for a directory tree, as dpkg-deb -c would show it."""
    entries = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = Path(d) / f
            st = p.lstat()
            target = os.readlink(p) if stat.S_ISLNK(st.st_mode) else None
            perms = "lrwxrwxrwx" if target else stat.filemode(st.st_mode)
            entries["/" + str(p.relative_to(root))] = (perms, target)
    return entries


def control(deb, field=None):
    """A control field of a package, or its whole control file."""
    args = ["dpkg-deb", "-f", str(deb)] + ([field] if field else [])
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()


def control_file(deb, name, tmp_path):
    d = tmp_path / deb.name
    if not d.exists():
        subprocess.run(["dpkg-deb", "-e", str(deb), str(d)], check=True)
    return d / name


def depends(deb):
    """The Depends field as a list of its alternatives, e.g. ['libc6 (>= 2.34)', ...]."""
    return [d.strip() for d in control(deb, "Depends").split(",")]


def test_packages_hold_what_cmake_install_lays_out(built):
    debs, _, dest = built
    installed = tree_entries(dest)
    packaged, owners = {}, {}
    for name, deb in debs.items():
        entries = deb_entries(deb)
        print(f"{name}: {len(entries)} files and links")
        for path, entry in entries.items():
            owners.setdefault(path, []).append(name)
            packaged[path] = entry
    twice = {p: o for p, o in owners.items() if len(o) > 1}
    assert not twice, f"in more than one package: {twice}"
    only_installed = sorted(set(installed) - set(packaged))
    only_packaged = sorted(set(packaged) - set(installed))
    assert not only_installed and not only_packaged, \
        f"cmake --install only: {only_installed}\npackages only: {only_packaged}"
    differ = {p: (installed[p], packaged[p]) for p in installed if installed[p] != packaged[p]}
    assert not differ, f"modes or link targets differ (installed, packaged): {differ}"
    # The layout a Debian system expects.
    for path in ("/usr/sbin/patchpaneld", "/usr/bin/patchpanel-cli",
                 "/usr/libexec/patchpanel/patchpanel-helper",
                 "/usr/lib/systemd/system/patchpanel.service",
                 "/usr/share/dbus-1/system.d/org.chromium.PatchPanel.conf",
                 "/usr/lib/sysusers.d/patchpanel.conf", "/etc/patchpanel/patchpaneld.conf",
                 "/usr/share/man/man8/patchpaneld.8.gz", "/usr/share/man/man1/patchpanel-cli.1.gz",
                 "/usr/include/patchpanel/patchpanel-client.h",
                 "/usr/lib/x86_64-linux-gnu/pkgconfig/patchpanel-client.pc",
                 "/usr/lib/x86_64-linux-gnu/libpatchpanel-client.so.0"):
        assert path in packaged, path
    for name in PACKAGES:
        assert f"/usr/share/doc/{name}/copyright" in owners, name
        assert owners[f"/usr/share/doc/{name}/changelog.gz"] == [name]


def test_control_files(built, tmp_path):
    debs, build, _ = built
    version = control(debs["patchpanel"], "Version")
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), version
    for name, deb in debs.items():
        assert control(deb, "Package") == name
        assert control(deb, "Version") == version
        assert control(deb, "Architecture") == subprocess.run(
            ["dpkg", "--print-architecture"], capture_output=True, text=True,
            check=True).stdout.strip()

    daemon = depends(debs["patchpanel"])
    print("patchpanel Depends:", ", ".join(daemon))
    names = {d.split()[0] for d in daemon}
    # From dpkg-shlibdeps: every Debian library the binaries link.
    for lib in ("libc6", "libsystemd0", "libnftables1", "libnl-3-200", "libnl-route-3-200",
                "libseccomp2", "libcap-ng0", "libprotobuf-c1"):
        assert lib in names, (lib, daemon)
    assert f"libpatchpanel-client0 (= {version})" in daemon
    assert "default-dbus-system-bus | dbus-system-bus" in daemon
    assert "systemd-sysusers" in daemon

    client = depends(debs["libpatchpanel-client0"])
    assert {d.split()[0] for d in client} == {"libc6", "libsystemd0", "libprotobuf-c1"}, client
    assert depends(debs["libpatchpanel-client-dev"]) == [f"libpatchpanel-client0 (= {version})"]
    assert control(debs["libpatchpanel-client0"], "Section") == "libs"
    assert control(debs["libpatchpanel-client-dev"], "Section") == "libdevel"

    shlibs = control_file(debs["libpatchpanel-client0"], "shlibs", tmp_path).read_text()
    assert shlibs.strip() == f"libpatchpanel-client 0 libpatchpanel-client0 (>= {version})"
    triggers = control_file(debs["libpatchpanel-client0"], "triggers", tmp_path).read_text()
    assert "activate-noawait ldconfig" in triggers.splitlines()
    conffiles = control_file(debs["patchpanel"], "conffiles", tmp_path).read_text()
    assert conffiles.split() == ["/etc/patchpanel/patchpaneld.conf"]

    # Installable here, every dependency known to apt (nothing is installed).
    sim = subprocess.run(["apt-get", "install", "--simulate", "--no-install-recommends",
                          *[str(d) for d in debs.values()]],
                         capture_output=True, text=True, check=False)
    assert sim.returncode == 0, sim.stdout + sim.stderr
    for name in PACKAGES:
        assert re.search(rf"^Conf {re.escape(name)} \({re.escape(version)} ", sim.stdout,
                         re.M), sim.stdout


def test_maintainer_scripts(built, tmp_path):
    debs, _, dest = built
    for script in ("postinst", "prerm", "postrm"):
        path = control_file(debs["patchpanel"], script, tmp_path)
        assert os.access(path, os.X_OK), script
        p = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True, check=False)
        assert p.returncode == 0, p.stderr
        if shutil.which("shellcheck"):
            p = subprocess.run(["shellcheck", str(path)], capture_output=True, text=True,
                               check=False)
            assert p.returncode == 0, p.stdout

    # The postinst in a scratch root (DPKG_ROOT, as dpkg --root sets it): the user and the
    # group from the package's sysusers.d file, and nothing touched outside that root.
    root = tmp_path / "root"
    shutil.copytree(dest, root, symlinks=True)
    (root / "etc").mkdir(exist_ok=True)
    postinst = control_file(debs["patchpanel"], "postinst", tmp_path)
    p = subprocess.run([str(postinst), "configure", ""], env={**os.environ, "DPKG_ROOT": str(root)},
                       capture_output=True, text=True, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    passwd = (root / "etc/passwd").read_text()
    group = (root / "etc/group").read_text()
    assert re.search(r"^patchpaneld:x:\d+:\d+:patchpanel guest networking:/nonexistent:"
                     r"/usr/sbin/nologin$", passwd, re.M), passwd
    assert re.search(r"^patchpanel:x:\d+:", group, re.M), group
    for script, args in (("prerm", ["remove"]), ("postrm", ["purge"])):
        p = subprocess.run([str(control_file(debs["patchpanel"], script, tmp_path)), *args],
                           env={**os.environ, "DPKG_ROOT": str(root)}, capture_output=True,
                           text=True, check=False)
        assert p.returncode == 0, p.stdout + p.stderr


# What the maintainer scripts may run; each is a stub that logs its arguments.
STUBBED = ("systemd-sysusers", "dbus-send", "systemctl", "deb-systemd-invoke",
           "deb-systemd-helper")
SYSUSERS = "systemd-sysusers patchpanel.conf"
DBUS_RELOAD = ("dbus-send --print-reply --system --type=method_call "
               "--dest=org.freedesktop.DBus / org.freedesktop.DBus.ReloadConfig")
DAEMON_RELOAD = "systemctl --system daemon-reload"


def run_with_stubs(script, args, tmp_path, systemd, bus, dpkg_root=None):
    """Run a maintainer script with PATH holding only the stubs, in a mount namespace of its
    own whose /run is an empty tmpfs, given /run/systemd/system when @systemd (a host booted
    with systemd) and a socket at /run/dbus/system_bus_socket when @bus. Nothing of the
    host is run or changed: a command not stubbed is not found. Returns (CompletedProcess,
    [each call logged, as "NAME ARG..."])."""
    stubs = tmp_path / "stubs"
    log = tmp_path / "calls"
    stubs.mkdir(exist_ok=True)
    log.write_text("")
    for name in STUBBED:
        stub = stubs / name
        # Builtins only: the stubs' PATH is theirs.
        stub.write_text(f'#!/bin/sh\nprintf %s {name} >>"{log}"\n'
                        f'for a in "$@"; do printf " %s" "$a" >>"{log}"; done\n'
                        f'printf "\\n" >>"{log}"\n')
        stub.chmod(0o755)
    setup = "set -e; mount -t tmpfs -o mode=0755 pp-package-test /run\n"
    if systemd:
        setup += "mkdir -p /run/systemd/system\n"
    if bus:
        setup += ("mkdir -p /run/dbus\n/usr/bin/python3 -c 'import socket, sys; "
                  "socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "
                  "/run/dbus/system_bus_socket\n")
    env = [f"PATH={stubs}"] + ([f"DPKG_ROOT={dpkg_root}"] if dpkg_root else [])
    setup += 'exec /usr/bin/env -i "$@"\n'
    p = subprocess.run(["unshare", "--mount", "--propagation", "private", "--", "/bin/sh",
                        "-c", setup, "sh", *env, "/bin/sh", str(script), *args],
                       capture_output=True, text=True, timeout=30, check=False)
    return p, log.read_text().splitlines()


@pytest.mark.parametrize("script,args,systemd,bus,expected", [
    # A first install: user and group, the bus's policy, the unit known; not started.
    ("postinst", ["configure", ""], True, True, [SYSUSERS, DBUS_RELOAD, DAEMON_RELOAD]),
    # An upgrade also restarts a running daemon, and only a running one.
    ("postinst", ["configure", "0.1.0"], True, True,
     [SYSUSERS, DBUS_RELOAD, DAEMON_RELOAD, "deb-systemd-invoke try-restart patchpanel.service"]),
    # Neither systemd nor a system bus (a container, a chroot): only the user and group.
    ("postinst", ["configure", ""], False, False, [SYSUSERS]),
    ("postinst", ["abort-upgrade", "0.1.0"], True, True, []),
    ("prerm", ["remove"], True, True, ["deb-systemd-invoke stop patchpanel.service"]),
    ("prerm", ["remove"], False, True, []),
    ("prerm", ["upgrade", "0.2.0"], True, True, []),
    ("postrm", ["remove"], True, True, [DAEMON_RELOAD, DBUS_RELOAD]),
    ("postrm", ["purge"], True, True,
     [DAEMON_RELOAD, DBUS_RELOAD, "deb-systemd-helper purge patchpanel.service"]),
    ("postrm", ["purge"], False, False, ["deb-systemd-helper purge patchpanel.service"]),
    ("postrm", ["upgrade", "0.2.0"], True, True, []),
])
def test_maintainer_scripts_calls(built, tmp_path, script, args, systemd, bus, expected):
    debs, _, _ = built
    path = control_file(debs["patchpanel"], script, tmp_path)
    p, calls = run_with_stubs(path, args, tmp_path, systemd, bus)
    assert p.returncode == 0, p.stdout + p.stderr
    # A command the script runs that has no stub would say so here.
    assert p.stderr == "", p.stderr
    assert calls == expected, calls


@pytest.mark.parametrize("script,args", [
    ("postinst", ["configure", ""]), ("postinst", ["configure", "0.1.0"]),
    ("prerm", ["remove"]), ("postrm", ["remove"]), ("postrm", ["purge"]),
])
def test_maintainer_scripts_under_dpkg_root_touch_only_the_root(built, tmp_path, script, args):
    """dpkg --root: the users of that root, and nothing of the running system's (its bus,
    its systemd) even where both are there."""
    debs, _, _ = built
    root = tmp_path / "root"
    root.mkdir()
    path = control_file(debs["patchpanel"], script, tmp_path)
    p, calls = run_with_stubs(path, args, tmp_path, systemd=True, bus=True, dpkg_root=root)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stderr == "", p.stderr
    assert calls == ([f"systemd-sysusers --root={root} patchpanel.conf"]
                     if script == "postinst" else []), calls


def test_lintian(built):
    debs, _, _ = built
    p = subprocess.run(["lintian", "--pedantic", "--display-info", "--tag-display-limit", "0",
                        *[str(d) for d in debs.values()]],
                       capture_output=True, text=True, check=False)
    tags = [line for line in p.stdout.splitlines() if re.match(r"^[EWIPXO]: ", line)]
    print("lintian:\n" + "\n".join(tags))
    errors = [t for t in tags if t.startswith("E: ")]
    assert not errors, "\n".join(errors)
    # Exit status 2 is lintian's own failure (1 would be an error tag, found above).
    assert p.returncode in (0, 1), p.stdout + p.stderr
