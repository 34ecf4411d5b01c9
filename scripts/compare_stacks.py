"""Prove a refactor changes nothing a deployment would see: compare two trees' recorded resources.

    python scripts/compare_stacks.py [REV]        # REV (default HEAD) against the working tree

For every shipped stack, both trees' `__main__.py` run under the same mock harness (this tree's
`tests/harness.py`), and every registered resource is compared: URN, type, inputs, provider,
parent, dependencies and resource options. A changed URN would make `pulumi up` replace the
resource (a stateful one: its data); a changed input would show as a diff in `pulumi preview`.
Exits 1 and prints the differences if there are any.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def record(tree: Path) -> dict[str, dict[str, dict]]:
    """Every shipped stack of `tree`, run under this tree's harness: {stack: {urn: resource}}."""
    sys.path[:0] = [str(tree), str(ROOT / "tests")]
    import harness

    harness.ROOT = tree
    recorded = {}
    for stack in harness.shipped_stacks():
        run = harness.run_stack(stack)
        if run.error is not None:
            raise SystemExit(f"{tree}: stack {stack} failed: {run.error!r}")
        recorded[stack] = {r.urn: comparable(r) for r in run.resources}
    return recorded


def comparable(resource) -> dict:
    """What a deployment sees of a resource; dependencies are sets (their order is the event loop's)."""
    fields = {k: v for k, v in dataclasses.asdict(resource).items() if k != "outputs"}
    fields["dependencies"] = sorted(fields["dependencies"])
    fields["property_dependencies"] = {k: sorted(v) for k, v in fields["property_dependencies"].items()}
    return fields


def record_in_subprocess(tree: Path) -> dict[str, dict[str, dict]]:
    """`record(tree)` in a fresh interpreter, so the two trees' `components` never share a module cache."""
    done = subprocess.run([sys.executable, __file__, "--record", str(tree)], check=True, capture_output=True,
                          text=True)
    return json.loads(done.stdout)


def differences(before: dict[str, dict[str, dict]], after: dict[str, dict[str, dict]]) -> list[str]:
    found = []
    for stack in sorted(before.keys() | after.keys()):
        old, new = before.get(stack, {}), after.get(stack, {})
        found += [f"{stack}: only before: {urn}" for urn in sorted(old.keys() - new.keys())]
        found += [f"{stack}: only after: {urn}" for urn in sorted(new.keys() - old.keys())]
        for urn in sorted(old.keys() & new.keys()):
            found += [f"{stack}: {urn}: {key} differs" for key in sorted(old[urn]) if old[urn][key] != new[urn].get(key)]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", nargs="?", default="HEAD")
    parser.add_argument("--record", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.record:
        json.dump(record(args.record), sys.stdout, default=str)
        return
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", scratch, args.rev],
                       check=True)
        try:
            before = record_in_subprocess(Path(scratch))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", scratch], check=True)
    after = record_in_subprocess(ROOT)
    found = differences(before, after)
    for line in found:
        print(line)
    counts = ", ".join(f"{stack}: {len(resources)}" for stack, resources in sorted(after.items()))
    print(f"{len(found)} differences between {args.rev} and the working tree ({counts} resources)")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
