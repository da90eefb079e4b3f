"""Where things are: the checkout, the build under test, its generated Python modules, and
a copy of what a process running as another user needs.

A test may run Python as another user (``nobody``) that imports pplab and the generated
``service_pb2``. That user cannot be assumed to reach the checkout: a clone in /root or in a
``mktemp -d`` directory (mode 0700) is closed to it. export_pythonpath() therefore copies
the pplab package and the generated modules into a world-readable directory of the lab
(Lab.pylib); such a process puts that directory first on sys.path, and import_protos()
there finds the protos beside the package without looking at the build tree.
"""

import os
import shutil
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
REPO = PACKAGE.parents[2]
POLICY_FILE = REPO / "systemd" / "org.chromium.PatchPanel.conf"


def build_dir():
    """The build whose binaries are under test: $PP_BUILD_DIR, else ./build."""
    return Path(os.environ.get("PP_BUILD_DIR", REPO / "build")).resolve()


def _exported_protos():
    """The directory holding the package, when it is an export_pythonpath() copy that
    carries the generated modules; else None."""
    here = PACKAGE.parent
    return here if (here / "service_pb2.py").is_file() else None


def import_protos(build=None):
    """Make the generated service_pb2 importable and return the module: from build's
    python/ directory when build is given, else from beside this package when it is a
    lab's exported copy, else from build_dir()."""
    if build is None and _exported_protos():
        p = str(_exported_protos())
    else:
        p = str((Path(build) if build else build_dir()) / "python")
    if p not in sys.path:
        sys.path.insert(0, p)
    import service_pb2  # noqa: E402  pylint: disable=import-outside-toplevel
    return service_pb2


def export_pythonpath(dest, build=None):
    """Copy the pplab package and the build's generated *_pb2.py modules into dest (made
    if needed), readable by every user; return dest. Putting dest on sys.path then gives
    `import pplab` and pplab.import_protos() without access to the checkout."""
    dest = Path(dest)
    pkg = dest / PACKAGE.name
    pkg.mkdir(parents=True, exist_ok=True)
    for src in PACKAGE.glob("*.py"):
        shutil.copyfile(src, pkg / src.name)
    generated = (Path(build) if build else build_dir()) / "python"
    for src in generated.glob("*_pb2.py"):
        shutil.copyfile(src, dest / src.name)
    for d, _, files in os.walk(dest):
        os.chmod(d, 0o755)
        for f in files:
            os.chmod(os.path.join(d, f), 0o644)
    return dest
