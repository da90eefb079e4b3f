#!/usr/bin/python3
"""check-syscalls.py UNIT POLICY...

Every system call the suite's own seccomp policies allow must also pass the unit's
SystemCallFilter=: a call the unit forbids fails with EPERM only when the suite runs under
systemd, which no test lab does. Groups (@system-service, ~@resources) are expanded by
systemd-analyze itself, so the check follows the systemd installed."""

import subprocess
import os
import sys


def expand(name, cache={}):  # pylint: disable=dangerous-default-value
    """The system calls of a group (recursively), or the name itself."""
    if not name.startswith("@"):
        return {name}
    if name not in cache:
        out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager", name],
                             capture_output=True, text=True, check=True).stdout
        calls = set()
        for line in out.splitlines()[1:]:
            line = line.strip()
            if line and not line.startswith("#"):
                calls |= expand(line)
        cache[name] = calls
    return cache[name]


def unit_filter(path):
    """The calls the unit allows: its allow list minus its deny lists."""
    allowed, denied = None, set()
    for line in open(path, encoding="utf-8"):
        key, _, value = line.strip().partition("=")
        if key != "SystemCallFilter" or not value:
            continue
        deny = value.startswith("~")
        names = set()
        for item in value.lstrip("~").split():
            names |= expand(item)
        if deny:
            denied |= names
        elif allowed is None:
            allowed = names
        else:
            allowed |= names
    if allowed is None:
        sys.exit(f"{path}: no SystemCallFilter= allow list")
    return allowed - denied


def policy_calls(path, depth=0):
    """The system calls a policy file names (common/seccomp-policy.h's format), with those
    of the policies it @includes (seccomp/embed.cmake)."""
    calls = set()
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if line.startswith("@include"):
            if depth > 8:
                sys.exit(f"{path}: @include nests too deep")
            name = line.split()[1]
            calls |= policy_calls(os.path.join(os.path.dirname(path), f"{name}.policy"),
                                  depth + 1)
        elif line:
            calls.add(line.split()[0].lstrip("?"))
    return calls


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    allowed = unit_filter(sys.argv[1])
    failed = False
    for policy in sys.argv[2:]:
        missing = sorted(policy_calls(policy) - allowed)
        if missing:
            failed = True
            print(f"{policy}: the unit's SystemCallFilter= forbids {' '.join(missing)}")
        else:
            print(f"{policy}: every call passes the unit's filter")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
