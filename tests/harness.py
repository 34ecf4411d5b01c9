"""Run the real `__main__.py` of a stack under Pulumi mocks and record everything it registers.

`run_stack("homelab")` loads `Pulumi.homelab.yaml` (optionally with config overrides), runs
the program exactly as `pulumi up` would, and returns every registered resource with its
type, name, inputs, provider, parent, dependencies and options, plus the stack outputs and
whether each one is secret.

The mocks behave like the engine where it matters for the tests: outputs that a provider
declares secret (`additionalSecretOutputs`, e.g. `RandomPassword.result`) come back secret,
and each generated password has a unique, recognisable value so tests can look for leaks.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pulumi
import yaml
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import wait_for_rpcs
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

ROOT = Path(__file__).resolve().parent.parent
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]
SECRET_SIG = {rpc._special_sig_key: rpc._special_secret_sig}
GENERATED_PREFIX = "generated-"


def secret(value: Any) -> dict[str, Any]:
    return {**SECRET_SIG, "value": value}


def is_secret_wrapper(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def unwrap(value: Any) -> Any:
    """The plain value of a possibly secret-marked input."""
    return value["value"] if is_secret_wrapper(value) else value


def shipped_stacks() -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))


# What `pulumi config set --secret` adds to a stack that uses Proxmox (never in the stack file).
TEST_SECRETS = {f"{PROJECT}:proxmoxApiToken": "lakehouse@pve!pulumi=00000000-1111-2222-3333-444444444444"}


def stack_config(stack: str) -> dict[str, Any]:
    """The `config:` block of a shipped stack file, keys fully qualified."""
    document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text()) or {}
    config = document.get("config") or {}
    return {key if ":" in key else f"{PROJECT}:{key}": value for key, value in config.items()}


@dataclass
class Resource:
    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    provider: Optional[str]
    parent: Optional[str]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    retain_on_delete: bool
    protect: bool
    delete_before_replace: bool
    additional_secret_outputs: list[str]
    replace_with: list[str] = field(default_factory=list)


@dataclass
class StackRun:
    stack: str
    resources: list[Resource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)
    error: Optional[BaseException] = None

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> Resource:
        matches = [r for r in self.resources if r.name == name]
        assert len(matches) == 1, f"{len(matches)} resources named {name!r}"
        return matches[0]

    def by_urn(self, urn: str) -> Resource:
        return next(r for r in self.resources if r.urn == urn)

    def envs(self, container: str) -> dict[str, str]:
        """A container's environment as a dict."""
        return dict(e.split("=", 1) for e in unwrap(self.named(container).inputs["envs"]))

    def uploads(self, container: str) -> dict[str, str]:
        """A container's uploaded files by path."""
        return {u["file"]: unwrap(u["content"]) for u in unwrap(self.named(container).inputs.get("uploads", []))}

    def password(self, name: str) -> str:
        """The value the mocks generated for the RandomPassword `name`."""
        return self.named(name).outputs["result"]["value"]

    def generated_secrets(self) -> set[str]:
        """Every plaintext value the mocks generated as a secret."""
        passwords = {r.outputs["result"]["value"] for r in self.of_type("random:index/randomPassword:RandomPassword")}
        raw_bytes = {r.outputs["base64"]["value"] for r in self.of_type("random:index/randomBytes:RandomBytes")}
        return passwords | raw_bytes | {b.replace("+", "-").replace("/", "_") for b in raw_bytes}


class LakehouseMocks(pulumi.runtime.Mocks):
    def __init__(self, failed_jobs: tuple[str, ...] = ()):
        self.failed_jobs = failed_jobs  # one-shot containers (by resource name) that exit 1

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[Optional[str], dict]:
        outputs = dict(args.inputs)
        digest = hashlib.sha256(args.name.encode()).hexdigest()
        if args.typ == "random:index/randomPassword:RandomPassword":
            outputs["result"] = f"{GENERATED_PREFIX}{digest[:24]}"
        elif args.typ == "random:index/randomBytes:RandomBytes":
            # Standard base64 with both characters Fernet must not see, to prove they are translated.
            raw = bytes.fromhex(digest)[: int(args.inputs["length"])]
            outputs["base64"] = base64.b64encode(b"\xfb\xff" + raw[2:]).decode()
        elif args.typ == "docker:index/remoteImage:RemoteImage":
            outputs["imageId"] = f"sha256:{digest}"
        elif args.typ == "docker:index/container:Container" and args.inputs.get("attach"):
            outputs["exitCode"] = 1 if args.name in self.failed_jobs else 0  # a one-shot container that ran
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, Optional[list[tuple[str, str]]]]:
        return {}, None


class RecordingMonitor(mocks.MockMonitor):
    """The stock mock monitor, plus a full record of each registration and engine-like secrets."""

    def __init__(self, mock: pulumi.runtime.Mocks):
        super().__init__(mock)
        self.records: list[Resource] = []

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()
        inputs = rpc.deserialize_properties(request.object)
        resource_id, state = self.mocks.new_resource(mocks.MockResourceArgs(
            typ=request.type, name=request.name, inputs=inputs, provider=request.provider,
            resource_id=request.importId, custom=request.custom or False,
        ))
        for key in request.additionalSecretOutputs:
            if key in state and not is_secret_wrapper(state[key]):
                state[key] = secret(state[key])
        self.records.append(Resource(
            urn=urn, type=request.type, name=request.name, custom=request.custom, inputs=inputs, outputs=state,
            provider=request.provider.rsplit("::", 1)[0] if request.provider else None,
            parent=request.parent or None,
            dependencies=list(request.dependencies),
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            retain_on_delete=request.retainOnDelete, protect=request.protect,
            delete_before_replace=request.deleteBeforeReplace,
            additional_secret_outputs=list(request.additionalSecretOutputs),
            replace_with=list(request.replace_with),
        ))
        self.resources[urn] = mocks.MockMonitor.ResourceRegistration(urn, resource_id, state)
        state_proto = _sync_await(rpc.serialize_properties(state, {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=state_proto)


def _configure(config: dict[str, Any]) -> None:
    values = {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}
    if f"{PROJECT}:vms" in config:
        values = {**TEST_SECRETS, **values}
    set_all_config(values, [key for key in TEST_SECRETS if key in values])


def run_stack(stack: str, overrides: Optional[dict[str, Any]] = None, drop: tuple[str, ...] = (),
              failed_jobs: tuple[str, ...] = ()) -> StackRun:
    """Run `__main__.py` with the stack's config (+ `overrides`, - `drop` keys) under mocks; the one-shot
    containers named in `failed_jobs` exit 1. An error, also one raised while the outputs resolve, is
    `run.error`."""
    try:  # a test that ran `asyncio.run` leaves no current loop behind; the mocks need one
        asyncio.get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
    config = {k: v for k, v in stack_config(stack).items() if k not in drop}
    config.update({k if ":" in k else f"{PROJECT}:{k}": v for k, v in (overrides or {}).items()})
    _configure(config)
    mock = LakehouseMocks(failed_jobs)
    monitor = RecordingMonitor(mock)
    settings.ROOT.set(None)
    settings.SETTINGS.outputs.clear()
    pulumi.runtime.set_mocks(mock, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    run = StackRun(stack=stack, resources=monitor.records)
    try:
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
        _sync_await(wait_for_rpcs())
        for name, value in settings.get_root_resource().outputs.items():
            output = pulumi.Output.from_input(value)
            run.outputs[name] = _sync_await(output.future())
            if _sync_await(output.is_secret()):
                run.secret_outputs.add(name)
    except Exception as error:  # noqa: BLE001 - the caller asserts on it
        run.error = error
    return run
