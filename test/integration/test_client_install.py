"""The suite as installed: `cmake --install` of the build under test into a DESTDIR, then
what a C program's author does with it. The README's example program (taken from the
README itself, so the two cannot differ) is built with `cc example.c $(pkg-config
--cflags --libs patchpanel-client)`, pkg-config pointed into the DESTDIR with
PKG_CONFIG_SYSROOT_DIR and PKG_CONFIG_PATH, and run against a lab: it must start a
Termina VM's network, print it, and stop it again. Also checked in the installed tree:
the library's soname and exports, the .pc file, and a manual page for every binary in
bin/ and sbin/."""

import gzip
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

import pplab

CID = 7311


def cache(build):
    """The CMakeCache.txt of build as {name: value}."""
    values = {}
    for line in (build / "CMakeCache.txt").read_text().splitlines():
        m = re.match(r"^([A-Za-z_][A-Za-z0-9_.-]*):[A-Z]+=(.*)$", line)
        if m:
            values[m.group(1)] = m.group(2)
    return values


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(DESTDIR, prefix, libdir relative to the prefix, the build's cache)."""
    build = pplab.build_dir()
    dest = tmp_path_factory.mktemp("destdir")
    p = subprocess.run(["cmake", "--install", str(build)], capture_output=True, text=True,
                       env={**os.environ, "DESTDIR": str(dest)}, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    values = cache(build)
    return dest, values["CMAKE_INSTALL_PREFIX"], values["CMAKE_INSTALL_LIBDIR"], values


def pkg_config_env(dest, prefix, libdir):
    return {**os.environ, "PKG_CONFIG_SYSROOT_DIR": str(dest),
            "PKG_CONFIG_PATH": f"{dest}{prefix}/{libdir}/pkgconfig",
            "PKG_CONFIG_LIBDIR": f"{dest}{prefix}/{libdir}/pkgconfig"}


def readme_example():
    """The C program of the README's "Client library" section."""
    readme = (pplab.paths.REPO / "README.md").read_text()
    section = readme[readme.index("### Client library"):]
    m = re.search(r"```c\n(.*?)```", section, re.S)
    assert m, "the README's Client library section has no ```c block"
    return m.group(1)


def test_installed_library(installed):
    dest, prefix, libdir, values = installed
    lib = dest / prefix.lstrip("/") / libdir
    real = lib / f"libpatchpanel-client.so.{values['CMAKE_PROJECT_VERSION']}"
    assert real.is_file(), sorted(p.name for p in lib.iterdir())
    assert os.readlink(lib / "libpatchpanel-client.so.0") == real.name
    assert os.readlink(lib / "libpatchpanel-client.so") == "libpatchpanel-client.so.0"
    dyn = subprocess.run(["readelf", "-d", str(real)], capture_output=True, text=True,
                         check=True).stdout
    assert "Library soname: [libpatchpanel-client.so.0]" in dyn, dyn
    syms = subprocess.run(["nm", "-D", "--defined-only", str(real)], capture_output=True,
                          text=True, check=True).stdout.split("\n")
    exported = {line.split()[-1].split("@")[0] for line in syms if line.strip()}
    exported.discard("PATCHPANEL_CLIENT_0")
    stray = sorted(s for s in exported if not s.startswith("pp_"))
    assert not stray, f"exported besides pp_*: {stray}"
    assert "pp_client_connect_namespace" in exported
    assert (dest / prefix.lstrip("/") / "include/patchpanel/patchpanel-client.h").is_file()

    env = pkg_config_env(dest, prefix, libdir)
    version = subprocess.run(["pkg-config", "--modversion", "patchpanel-client"], env=env,
                             capture_output=True, text=True, check=False)
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == values["CMAKE_PROJECT_VERSION"]


def test_every_binary_has_a_manual_page(installed):
    """What lintian calls binary-without-manpage, and what man/CMakeLists.txt promises:
    a page for each binary on the PATH, its title the binary's name."""
    dest, prefix, _, _ = installed
    root = dest / prefix.lstrip("/")
    pages = {}
    for page in (root / "share/man").glob("man*/*.gz"):
        name, section = page.name[:-3].rsplit(".", 1)
        pages[name] = section
        head = gzip.decompress(page.read_bytes()).decode()
        assert re.search(rf'^\.TH "?{re.escape(name)}"? "?{section}"?', head, re.M), page
    binaries = [p.name for d in ("bin", "sbin") if (root / d).is_dir()
                for p in (root / d).iterdir()]
    assert binaries
    missing = sorted(b for b in binaries if b not in pages)
    assert not missing, (f"installed without a manual page: {missing} (add man/NAME.8.scd "
                         "and a pp_man_page() line in man/CMakeLists.txt)")


def test_readme_example_against_the_lab(installed, lab, tmp_path):
    dest, prefix, libdir, values = installed
    src = tmp_path / "vm-net.c"
    src.write_text(readme_example())
    env = pkg_config_env(dest, prefix, libdir)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "patchpanel-client"], env=env,
                           capture_output=True, text=True, check=True).stdout.split()
    # Every path pkg-config gives lies in the DESTDIR.
    paths = [f[2:] for f in flags if f.startswith(("-I", "-L"))]
    assert paths and all(p.startswith(str(dest)) for p in paths), flags
    cc = ["cc", "-Wall", "-Wextra", "-Werror"]
    if values.get("PP_SANITIZE") in ("ON", "1", "TRUE"):
        cc += ["-fsanitize=address,undefined"]
    # As the README says, in a shell.
    build = subprocess.run(
        ["sh", "-c", f'{" ".join(cc)} -o vm-net vm-net.c $(pkg-config --cflags --libs '
                     'patchpanel-client)'],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert build.returncode == 0, build.stderr

    libpath = f"{dest}{prefix}/{libdir}"
    run_env = {**os.environ, "LD_LIBRARY_PATH": libpath,
               "DBUS_SYSTEM_BUS_ADDRESS": lab.bus_address}
    ldd = subprocess.run(["ldd", str(tmp_path / "vm-net")], env=run_env, capture_output=True,
                         text=True, check=True).stdout
    assert f"{libpath}/libpatchpanel-client.so.0" in ldd, ldd

    run = subprocess.run([str(tmp_path / "vm-net"), str(CID)], env=run_env,
                         capture_output=True, text=True, timeout=20, check=False)
    assert run.returncode == 0, run.stdout + run.stderr + lab.log()
    m = re.fullmatch(rf"VM {CID}: (vmtap\d+), address (100\.115\.9[23]\.\d+) in "
                     r"(100\.115\.9[23]\.\d+)/30\n", run.stdout)
    assert m, run.stdout
    devices = json.loads(lab.cli("devices", "--json").stdout)
    assert devices == [], f"the example's VM is still there: {devices}"

    # A refusal comes back as the daemon's error message: a VM that is already running.
    assert lab.cli("termina-vm", "start", f"--cid={CID}").returncode == 0
    try:
        again = subprocess.run([str(tmp_path / "vm-net"), str(CID)], env=run_env,
                               capture_output=True, text=True, timeout=20, check=False)
    finally:
        assert lab.cli("termina-vm", "stop", f"--cid={CID}").returncode == 0
    assert again.returncode == 1, again.stdout + again.stderr
    assert again.stderr == f"TerminaVmStartup: Termina VM {CID} is already running\n", \
        again.stderr
