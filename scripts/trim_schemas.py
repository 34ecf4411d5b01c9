"""Trim published Pulumi package schemas into tests/schemas/.

The trimmed copies are the reference for the offline preview tests
(tests/schema_validator.py): they keep property names, types and required
lists only - no descriptions, examples, language blocks or deprecation text -
so they are small enough to commit and fast to load.

Usage (from the repo root):
    python scripts/trim_schemas.py [--source DIR] [--check]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "provider-schemas"
OUTPUT_DIR = REPO_ROOT / "tests" / "schemas"

Schema = dict[str, Any]

_SCALAR_KEYS = ("type", "$ref", "secret")
_NESTED_KEYS = ("items", "additionalProperties")
_VERSIONED_NAME = re.compile(r"^.+?-(?P<version>\d.*)$")


def trim_property(prop: Schema) -> Schema:
    """Keep only the type information of one property (recursively)."""
    trimmed = {key: prop[key] for key in _SCALAR_KEYS if key in prop}
    for key in _NESTED_KEYS:
        if key in prop:
            trimmed[key] = trim_property(prop[key])
    if "oneOf" in prop:
        trimmed["oneOf"] = [trim_property(option) for option in prop["oneOf"]]
    return trimmed


def trim_properties(props: dict[str, Schema]) -> dict[str, Schema]:
    """Trim every property of a property map."""
    return {name: trim_property(prop) for name, prop in props.items()}


def trim_inputs(spec: Schema) -> Schema:
    """Trim a resource or provider spec to its input properties and required inputs."""
    return {
        "inputProperties": trim_properties(spec.get("inputProperties", {})),
        "requiredInputs": spec.get("requiredInputs", []),
    }


def trim_type(spec: Schema) -> Schema:
    """Trim a type spec to its type, properties, required list and enum values."""
    trimmed: Schema = {
        "type": spec["type"],
        "properties": trim_properties(spec.get("properties", {})),
        "required": spec.get("required", []),
    }
    if "enum" in spec:
        trimmed["enum"] = [member["value"] for member in spec["enum"]]
    return trimmed


def version_from_file_name(path: Path) -> str:
    """Extract the version from a `<name>-<version>.json` file name."""
    match = _VERSIONED_NAME.match(path.stem)
    if match is None:
        raise ValueError(f"{path.name}: no version in schema and none in file name")
    return match["version"]


def trim_schema(schema: Schema, path: Path) -> Schema:
    """Trim a full package schema to what validation needs."""
    return {
        "name": schema["name"],
        "version": schema.get("version") or version_from_file_name(path),
        "provider": trim_inputs(schema.get("provider", {})),
        "resources": {
            token: trim_inputs(spec) for token, spec in schema.get("resources", {}).items()
        },
        "types": {token: trim_type(spec) for token, spec in schema.get("types", {}).items()},
    }


def render(schema: Schema) -> str:
    """Serialize compactly and deterministically."""
    return json.dumps(schema, sort_keys=True, separators=(",", ":")) + "\n"


def trimmed_files(source: Path) -> dict[str, str]:
    """Map each output file name to its trimmed content."""
    files = {}
    for path in sorted(source.glob("*.json")):
        with path.open(encoding="utf-8") as handle:
            files[path.name] = render(trim_schema(json.load(handle), path))
    return files


def outdated_files(expected: dict[str, str], output: Path) -> list[str]:
    """Names of output files that are missing or differ from their expected content."""
    return [
        name
        for name, content in expected.items()
        if not (output / name).is_file() or (output / name).read_text(encoding="utf-8") != content
    ]


def write_files(expected: dict[str, str], output: Path) -> None:
    """Write every trimmed file into the output directory."""
    output.mkdir(parents=True, exist_ok=True)
    for name, content in expected.items():
        (output / name).write_text(content, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Generate (or with --check, verify) the trimmed schemas."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source", type=Path, default=DEFAULT_SOURCE, help="directory of the full schemas"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if tests/schemas is out of date"
    )
    args = parser.parse_args(argv)

    expected = trimmed_files(args.source)
    if not expected:
        parser.error(f"no *.json schemas in {args.source}")
    if args.check:
        outdated = outdated_files(expected, OUTPUT_DIR)
        for name in outdated:
            print(f"out of date: {OUTPUT_DIR / name}", file=sys.stderr)
        return 1 if outdated else 0
    write_files(expected, OUTPUT_DIR)
    print(f"wrote {len(expected)} trimmed schemas to {OUTPUT_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
