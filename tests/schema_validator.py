"""Offline "pulumi preview": validate mocked resource inputs against provider schemas.

The schemas are the trimmed copies in tests/schemas/ (see scripts/trim_schemas.py).
Inputs are expected as Pulumi mocks deliver them (`MockResourceArgs.inputs`):
camelCase names, floats for numbers, secrets wrapped in signature dicts, unknowns
during preview, and JSON-encoded non-string values for provider resources.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi import Resource
from pulumi.output import Unknown

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
PROVIDER_PREFIX = "pulumi:providers:"
LOCAL_TYPE_PREFIX = "#/types/"
OPAQUE_REFS = frozenset(f"pulumi.json#/{name}" for name in ("Archive", "Asset", "Any", "Json"))

Schema = dict[str, Any]


@dataclass(frozen=True)
class Package:
    """One trimmed package schema."""

    name: str
    version: str
    provider: Schema
    resources: dict[str, Schema]
    types: dict[str, Schema]


@dataclass(frozen=True)
class Registry:
    """Trimmed package schemas by package name."""

    packages: dict[str, Package]

    def package_for(self, type_token: str) -> Package | None:
        """The package a resource or provider token belongs to, if it has a schema."""
        return self.packages.get(package_name(type_token))

    def knows(self, type_token: str) -> bool:
        """True if the token's package has a schema."""
        return self.package_for(type_token) is not None


def package_name(type_token: str) -> str:
    """`docker` for `docker:index/container:Container` and `pulumi:providers:docker`."""
    if type_token.startswith(PROVIDER_PREFIX):
        return type_token.removeprefix(PROVIDER_PREFIX)
    return type_token.split(":", 1)[0]


def load_schemas(directory: Path | str = SCHEMA_DIR) -> Registry:
    """Load (once per directory) every trimmed schema in `directory`."""
    return _load_schemas(Path(directory).resolve())


@functools.cache
def _load_schemas(directory: Path) -> Registry:
    packages = {}
    for path in sorted(directory.glob("*.json")):
        with path.open(encoding="utf-8") as handle:
            raw = json.load(handle)
        packages[raw["name"]] = Package(
            raw["name"], raw["version"], raw["provider"], raw["resources"], raw["types"]
        )
    return Registry(packages)


def validate_resource(registry: Registry, type_token: str, inputs: Mapping[str, Any]) -> list[str]:
    """Problems with `inputs` for resource or provider `type_token`; empty if valid."""
    package = registry.package_for(type_token)
    if package is None:
        return [f"{type_token}: no schema for package {package_name(type_token)!r}"]
    is_provider = type_token.startswith(PROVIDER_PREFIX)
    spec = package.provider if is_provider else package.resources.get(type_token)
    if spec is None:
        return [f"{type_token}: unknown resource type in {package.name} {package.version}"]
    checker = _Checker(package)
    if is_provider:
        inputs = checker.decode_provider_inputs(spec["inputProperties"], inputs)
    checker.check_object(spec["inputProperties"], spec["requiredInputs"], inputs, "")
    return [f"{type_token}: {problem}" for problem in checker.problems]


def _unwrap_secret(value: Any) -> Any:
    while isinstance(value, Mapping) and value.get(SIG_KEY) == SECRET_SIG:
        value = value.get("value")
    return value


def _is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown) or value == UNKNOWN_VALUE


def _is_resource_ref(value: Any) -> bool:
    return isinstance(value, Resource) or (
        isinstance(value, Mapping) and value.get(SIG_KEY) == RESOURCE_SIG
    )


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


@dataclass
class _Checker:
    """Walks a value against a schema, collecting problems for one package."""

    package: Package
    problems: list[str] = field(default_factory=list)

    def report(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}" if path else message)

    def local_type(self, ref: str) -> Schema | None:
        if not ref.startswith(LOCAL_TYPE_PREFIX):
            return None
        return self.package.types.get(ref.removeprefix(LOCAL_TYPE_PREFIX))

    def expects_string(self, schema: Schema) -> bool:
        """True if a string is a natural value for `schema` (no JSON decoding wanted)."""
        ref = schema.get("$ref")
        if ref is None:
            return schema.get("type") == "string"
        target = self.local_type(ref)
        return target is None or target["type"] == "string"

    def decode_provider_inputs(
        self, props: dict[str, Schema], inputs: Mapping[str, Any]
    ) -> dict[str, Any]:
        """JSON-decode provider inputs sent as strings where the schema wants a non-string."""
        return {
            name: self.decode_provider_value(props.get(name), _unwrap_secret(value))
            for name, value in inputs.items()
        }

    def decode_provider_value(self, schema: Schema | None, value: Any) -> Any:
        if schema is None or not isinstance(value, str) or _is_unknown(value):
            return value
        if self.expects_string(schema):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value  # the type check reports it

    def check_object(
        self, props: dict[str, Schema], required: list[str], value: Mapping[str, Any], path: str
    ) -> None:
        """Check property names, required properties and each property's value."""
        present = {name: item for name, item in value.items() if item is not None}
        missing = "missing required " + ("property" if path else "input")
        for name in required:
            if name not in present:
                self.report(_join(path, name), missing)
        for name, item in present.items():
            if name in props:
                self.check(props[name], item, _join(path, name))
            else:
                known = ", ".join(sorted(props))
                self.report(_join(path, name), f"unknown property (known: {known})")

    def check(self, schema: Schema, raw: Any, path: str) -> None:
        """Check one value against a property schema (an empty schema accepts anything)."""
        value = _unwrap_secret(raw)
        if not schema or _is_unknown(value):
            return
        if "oneOf" in schema:
            self.check_one_of(schema["oneOf"], value, path)
        elif "$ref" in schema:
            self.check_ref(schema["$ref"], value, path)
        else:
            self.check_typed(schema, value, path)

    def check_one_of(self, options: list[Schema], value: Any, path: str) -> None:
        for option in options:
            trial = _Checker(self.package)
            trial.check(option, value, path)
            if not trial.problems:
                return
        expected = " | ".join(option.get("$ref") or option.get("type", "any") for option in options)
        self.report(path, f"expected one of {expected}, got {_describe(value)}")

    def check_ref(self, ref: str, value: Any, path: str) -> None:
        if ref in OPAQUE_REFS or _is_resource_ref(value):
            return
        target = self.local_type(ref)
        if target is None:
            self.report(path, f"unresolvable $ref {ref!r}")
        elif target["type"] != "object":
            self.check_typed(target, value, path)
        elif not isinstance(value, Mapping):
            expected = ref.removeprefix(LOCAL_TYPE_PREFIX)
            self.report(path, f"expected object {expected}, got {_describe(value)}")
        else:
            self.check_object(target["properties"], target["required"], value, path)

    def check_typed(self, schema: Schema, value: Any, path: str) -> None:
        """Check a value against a schema with a primitive, array or map `type`."""
        kind = schema["type"]
        if kind == "array":
            self.check_array(schema.get("items", {}), value, path)
        elif kind == "object":
            self.check_map(schema.get("additionalProperties", {}), value, path)
        elif not _matches_primitive(kind, value):
            self.report(path, f"expected {kind}, got {_describe(value)}")
        elif "enum" in schema and value not in schema["enum"]:
            self.report(path, f"{value!r} is not one of {schema['enum']}")

    def check_array(self, items: Schema, value: Any, path: str) -> None:
        if not isinstance(value, list):
            self.report(path, f"expected array, got {_describe(value)}")
            return
        for index, item in enumerate(value):
            self.check(items, item, f"{path}[{index}]")

    def check_map(self, values: Schema, value: Any, path: str) -> None:
        if not isinstance(value, Mapping):
            self.report(path, f"expected object, got {_describe(value)}")
            return
        for key, item in value.items():
            self.check(values, item, f"{path}[{key}]")


def _matches_primitive(kind: str, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str) or _is_resource_ref(value)
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return kind == "number" or isinstance(value, int) or value.is_integer()
