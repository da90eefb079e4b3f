"""What the seed writers share: a target's corpus directory, with its seed-* files
replaced and every other file (crash-*, inputs added by hand) kept."""

from pathlib import Path

HERE = Path(__file__).resolve().parent


def write(target, seeds):
    """Replace corpus/<target>/seed-* with seed-<name> for each name, data in seeds."""
    out = HERE / "corpus" / target
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("seed-*"):
        old.unlink()
    for name, data in seeds.items():
        (out / f"seed-{name}").write_bytes(data)
