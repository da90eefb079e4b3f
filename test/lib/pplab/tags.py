"""Tags: how every process and namespace a lab makes can be found again.

Two environment variables mark a process as the harness's:

* ``PPLAB_OWNER=<pid>.<start time>`` names the Python process that uses pplab (a pytest
  session, a benchmark, scripts/demo.py). It is put into this process's own environment when
  pplab is imported, so *every* child inherits it, including the ones a test module starts
  with plain ``subprocess``. A child that imports pplab again keeps its parent's owner.
* ``PPLAB_TAG=<tag>`` names one lab (or topology). Everything the harness starts for a
  lab -- dbus-daemon, patchpaneld and, by inheritance, its helper and children, sleepers,
  relays, name servers, peers -- carries it, through tagged_env().

Namespaces carry the tag in their names (``<tag>-<role>``), and a lab or topology records
its tag under REGISTRY, with the process that holds it, for as long as it lives, so that
pplab.reap can tell a live lab from one whose holder died.

A process started with a cleared or rebuilt environment (``env -i``, execve() with an
envp of its own, a launcher that whitelists variables) loses both variables. To keep it
findable, pass ``PPLAB_TAG`` and ``PPLAB_OWNER`` on (they mean nothing to the suite), or
keep it inside one of the lab's namespaces: pplab.reap also ends every process whose network
namespace is a tagged one.
"""

import os
import re
import secrets
from pathlib import Path

TAG_ENV = "PPLAB_TAG"
OWNER_ENV = "PPLAB_OWNER"

# One file per live lab or topology: its tag as the name, "owner=<holder>" inside, the
# holder being the process with the Lab object (not the inherited OWNER).
REGISTRY = Path(os.environ.get("PPLAB_REGISTRY", "/run/pplab"))

_TAG_RE = re.compile(r"^[a-z][a-z0-9]{1,11}$")


def stat_fields(pid):
    """/proc/PID/stat from field 3 (the state) on: index i is field i + 3. OSError if there
    is no such process."""
    text = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces and parentheses: split after the last ")".
    return text[text.rfind(")") + 2:].split()


def process_start_time(pid):
    """The start time of pid (clock ticks since boot, /proc/PID/stat field 22), or None if
    there is no such process."""
    try:
        return int(stat_fields(pid)[19])
    except OSError:
        return None


def owner_id(pid):
    """The owner string of a live process ("<pid>.<start time>"), or None."""
    start = process_start_time(pid)
    return None if start is None else f"{pid}.{start}"


def owner_alive(owner):
    """Whether the process an owner string names is still the one running under its pid."""
    try:
        pid, start = owner.split(".")
        return process_start_time(int(pid)) == int(start)
    except (ValueError, AttributeError):
        return False


def _claim_owner():
    inherited = os.environ.get(OWNER_ENV)
    if inherited and owner_alive(inherited):
        return inherited
    mine = owner_id(os.getpid())
    os.environ[OWNER_ENV] = mine
    return mine


# The owner every process this one starts inherits.
OWNER = _claim_owner()

_issued = set()


def valid_tag(tag):
    """Whether tag can name a lab: a lowercase letter, then 1-11 lowercase letters or
    digits (so that "<tag>-<role>" fits a namespace name and never contains another tag's
    "<tag>-" prefix by accident)."""
    return bool(_TAG_RE.match(tag or ""))


def new_tag(tag=None):
    """A tag for a new lab: the one given (checked) or a random "pp<6 hex digits>";
    remembered as issued by this process."""
    tag = tag or "pp" + secrets.token_hex(3)
    if not valid_tag(tag):
        raise ValueError(f"invalid lab tag {tag!r}")
    _issued.add(tag)
    return tag


def issued_tags():
    """The tags this process has handed out (for the end-of-session leftover check)."""
    return set(_issued)


def tag_of_netns(name):
    """The tag a namespace name carries ("<tag>-<role>"), or None."""
    tag, sep, _ = name.partition("-")
    return tag if sep and valid_tag(tag) else None


def tagged_env(tag, env=None):
    """A copy of env (default: this process's environment) carrying the owner and tag."""
    out = dict(os.environ if env is None else env)
    out[OWNER_ENV] = OWNER
    if tag:
        out[TAG_ENV] = tag
    return out


def env_args(tag):
    """The NAME=VALUE words that give a command run through env(1) the owner and tag."""
    out = [f"{OWNER_ENV}={OWNER}"]
    if tag:
        out.append(f"{TAG_ENV}={tag}")
    return out


def register(tag):
    """Record that this process holds the lab tagged tag from now on (for pplab.reap
    without a tag)."""
    REGISTRY.mkdir(mode=0o755, parents=True, exist_ok=True)
    (REGISTRY / tag).write_text(f"owner={owner_id(os.getpid())}\n")


def unregister(tag):
    try:
        (REGISTRY / tag).unlink()
    except FileNotFoundError:
        pass


def registered():
    """{tag: holder} of every lab recorded as alive or left behind."""
    out = {}
    if REGISTRY.is_dir():
        for f in REGISTRY.iterdir():
            if valid_tag(f.name):
                try:
                    text = f.read_text()
                except OSError:
                    continue
                out[f.name] = text.strip().partition("owner=")[2]
    return out
