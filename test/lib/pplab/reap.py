"""Find and end what labs left behind: processes carrying a lab's tag or owner in their
environment (/proc/PID/environ) or living in a tagged namespace, the tagged namespaces, and
the labs' work directories.

    /usr/bin/python3 -m pplab.reap [--dry-run] [TAG ...]     (with test/lib on PYTHONPATH)
    /usr/bin/python3 test/lib/pplab/reap.py [--dry-run] [TAG ...]

With TAGs, everything of those labs goes, whether their owner lives or not. Without, only
what nobody owns any more: labs recorded under tags.REGISTRY whose owner process is gone,
and processes whose PPLAB_OWNER is dead. Other people's running labs are never touched.

Processes are ended by PID through a pidfd, after checking again that the PID still names
the process found (a PID reused in between is left alone): SIGTERM, then SIGKILL for those
still there after a grace period. See pplab.tags for how a process keeps its tag.
"""

import os
import select
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `import pplab` work
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "pplab"  # pylint: disable=redefined-builtin

from pplab import tags  # noqa: E402  pylint: disable=wrong-import-position
from pplab.netns import run  # noqa: E402  pylint: disable=wrong-import-position

NETNS_DIR = Path("/run/netns")


@dataclass
class Proc:
    """A process found: pid, command line, and why it is ours."""
    pid: int
    cmdline: str
    why: str

    def __str__(self):
        return f"pid {self.pid} ({self.why}): {self.cmdline}"


@dataclass
class Leftovers:
    """What find() found."""
    procs: list = field(default_factory=list)
    namespaces: list = field(default_factory=list)
    dirs: list = field(default_factory=list)

    def __bool__(self):
        return bool(self.procs or self.namespaces)

    def lines(self):
        return ([str(p) for p in self.procs] + [f"netns {n}" for n in self.namespaces] +
                [f"dir {d}" for d in self.dirs])


def _environ(pid):
    """{PPLAB_TAG, PPLAB_OWNER} values of a process (missing keys absent); None if it is
    gone or a zombie (whose environment reads empty)."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    out = {}
    for item in raw.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep and key in (tags.TAG_ENV.encode(), tags.OWNER_ENV.encode()):
            out[key.decode()] = value.decode(errors="replace")
    return out


def _netns_id(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _cmdline(pid):
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip() or "?"


def _ancestors():
    """This process and its ancestors: never ended, whatever their environment says."""
    out, pid = set(), os.getpid()
    while pid > 1 and pid not in out:
        out.add(pid)
        try:
            pid = int(tags.stat_fields(pid)[1])
        except OSError:
            break
    out.add(1)
    return out


def tagged_namespaces(tag_set):
    """Names of the namespaces whose tag is in tag_set."""
    if not NETNS_DIR.is_dir():
        return []
    return sorted(n.name for n in NETNS_DIR.iterdir() if tags.tag_of_netns(n.name) in tag_set)


def _why(pid, tag_set, owner_ok, net_ids):
    env = _environ(pid)
    if env is None:
        return None
    if env.get(tags.TAG_ENV) in tag_set:
        return f"{tags.TAG_ENV}={env[tags.TAG_ENV]}"
    owner = env.get(tags.OWNER_ENV)
    if owner is not None and owner_ok(owner, env.get(tags.TAG_ENV)):
        return f"{tags.OWNER_ENV}={owner}"
    if net_ids and _netns_id(f"/proc/{pid}/ns/net") in net_ids:
        return "in a tagged namespace"
    return None


def find(tag_set=(), owner_ok=None):
    """Leftovers of the labs in tag_set and the processes for which owner_ok(owner, tag)
    holds (their PPLAB_OWNER and PPLAB_TAG or None; owner_ok None: none by owner)."""
    tag_set = set(tag_set)
    owner_ok = owner_ok or (lambda owner, tag: False)
    namespaces = tagged_namespaces(tag_set)
    net_ids = {i for i in (_netns_id(NETNS_DIR / n) for n in namespaces) if i}
    skip = _ancestors()
    out = Leftovers(namespaces=namespaces)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in skip:
            continue
        pid = int(entry.name)
        why = _why(pid, tag_set, owner_ok, net_ids)
        if why:
            out.procs.append(Proc(pid, _cmdline(pid), why))
    tmp = Path(tempfile.gettempdir())
    for tag in sorted(tag_set):
        out.dirs.extend(sorted(d for d in tmp.glob(f"{tag}-*") if d.is_dir()))
    return out


def end(found, tag_set=(), owner_ok=None, grace=3.0):
    """End the processes found (SIGTERM, SIGKILL after grace seconds), each through a
    pidfd once it is checked to be the same process; delete the namespaces and, unless
    PP_KEEP_LOGS is set, the directories. Returns the processes that would not die."""
    tag_set = set(tag_set)
    owner_ok = owner_ok or (lambda owner, tag: False)
    net_ids = {i for i in (_netns_id(NETNS_DIR / n) for n in found.namespaces) if i}
    fds = {}
    for p in found.procs:
        try:
            fd = os.pidfd_open(p.pid)
        except OSError:
            continue  # gone already
        # The pidfd pins the process: check that it is still the one found.
        if _why(p.pid, tag_set, owner_ok, net_ids) is None:
            os.close(fd)
            continue
        fds[p.pid] = fd
    alive = dict(fds)
    try:
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
            for fd in alive.values():
                try:
                    signal.pidfd_send_signal(fd, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + wait
            while alive and time.monotonic() < deadline:
                poller = select.poll()
                for fd in alive.values():
                    poller.register(fd, select.POLLIN)
                done = {fd for fd, _ in poller.poll(50)}
                alive = {pid: fd for pid, fd in alive.items() if fd not in done}
            if not alive:
                break
    finally:
        for fd in fds.values():
            os.close(fd)
    stubborn = sorted(alive)
    for name in found.namespaces:
        run(["ip", "netns", "del", name], check=False)
    if os.environ.get("PP_KEEP_LOGS") is None:
        for d in found.dirs:
            shutil.rmtree(d, ignore_errors=True)
    for tag in tag_set:
        tags.unregister(tag)
    return stubborn


def owned_by(owner):
    """An owner_ok predicate: the processes whose PPLAB_OWNER is owner."""
    return lambda o, tag: o == owner


def orphan(owner, tag):
    """An owner_ok predicate: the processes whose PPLAB_OWNER is dead and whose lab, if
    they name one, has no live holder (a holder may outlive the owner it inherited)."""
    if tags.owner_alive(owner):
        return False
    holder = tags.registered().get(tag) if tag else None
    return not (holder and tags.owner_alive(holder))


def reap_tags(tag_set, extra_owner_ok=None):
    """Find and end everything of the labs in tag_set (and the processes for which
    extra_owner_ok(owner, tag) holds); return the Leftovers found."""
    found = find(tag_set, extra_owner_ok)
    if found or found.dirs:
        end(found, tag_set, extra_owner_ok)
    return found


def orphaned_tags():
    """Tags recorded by labs whose owner process is gone."""
    return {tag for tag, owner in tags.registered().items() if not tags.owner_alive(owner)}


def reap_orphans():
    """Find and end what nobody owns any more; return the Leftovers found."""
    return reap_tags(orphaned_tags(), orphan)


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    dry = "--dry-run" in args
    args = [a for a in args if a != "--dry-run"]
    if any(a.startswith("-") for a in args) or not all(tags.valid_tag(a) for a in args):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    if args:
        tag_set, owner_ok = set(args), None
    else:
        tag_set, owner_ok = orphaned_tags(), orphan
    found = find(tag_set, owner_ok)
    for line in found.lines():
        print(("would end " if dry else "ending ") + line)
    if not dry:
        stubborn = end(found, tag_set, owner_ok)
        for pid in stubborn:
            print(f"pid {pid} would not die", file=sys.stderr)
        if stubborn:
            return 1
    if not found and not found.dirs:
        print("nothing left behind")
    return 0


if __name__ == "__main__":
    sys.exit(main())
