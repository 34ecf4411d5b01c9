"""The policy pack (policy/) passes the program's recorded resources and catches each crafted violation.

Each recorded resource is handed to the policies the way the SDK's analyzer servicer does: its
inputs through a protobuf Struct and `json_format.MessageToDict` (numbers become floats), then
`deserialize_properties` (secrets unwrapped for a validation, kept as `Secret` for a remediation)
and `unknown_checking_proxy`, with `PolicyResourceOptions` from the recorded options.
"""

from __future__ import annotations

from importlib.metadata import version

import copy
import json
import os
import subprocess
import sys
from typing import Any, Optional

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    Secret,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from components.platform.config import LakehouseConfig, parse
from harness import PROJECT, ROOT, TEST_SECRETS, Resource, StackRun, secret, stack_config

sys.path.insert(0, str(ROOT / "policy"))
from lakehouse_policy import policies, plain_credentials  # noqa: E402

CONTAINER = "docker:index/container:Container"


def lakehouse_config(stack: str, **overrides: Any) -> LakehouseConfig:
    """The stack's `lakehouse:*` keys parsed as the pack's `load()` parses what the engine hands it."""
    config = stack_config(stack)
    if f"{PROJECT}:vms" in config:
        config = {**TEST_SECRETS, **config}
    raw = {key.split(":", 1)[1]: value for key, value in config.items() if key.startswith(f"{PROJECT}:")}
    return parse({**raw, **overrides})


def _wire(inputs: dict[str, Any]) -> dict[str, Any]:
    struct = struct_pb2.Struct()
    struct.update(inputs)
    return json_format.MessageToDict(struct)


def policy_args(run: StackRun, resource: Resource, inputs: Optional[dict] = None,
                keep_secrets: bool = False) -> ResourceValidationArgs:
    props = unknown_checking_proxy(deserialize_properties(_wire(resource.inputs if inputs is None else inputs),
                                                          keep_secrets))
    opts = PolicyResourceOptions(resource.protect, [], resource.delete_before_replace, [],
                                 PolicyCustomTimeouts(0, 0, 0), resource.additional_secret_outputs, resource.parent)
    provider = None
    if resource.provider:
        p = run.by_urn(resource.provider)
        provider = PolicyProviderResource(p.type, unknown_checking_proxy(deserialize_properties(_wire(p.inputs))),
                                          p.urn, p.name)
    return ResourceValidationArgs(resource.type, props, resource.urn, resource.name, opts, provider)


def violations(policy, args: ResourceValidationArgs) -> list[str]:
    found: list[str] = []
    policy.validate(args, lambda message, urn=None: found.append(message))
    return found


@pytest.fixture(scope="module")
def packs() -> dict[str, dict]:
    return {stack: {p.name: p for p in policies(lambda stack=stack: lakehouse_config(stack))}
            for stack in ("homelab", "local")}


def test_the_pack_enforces_every_rule(packs):
    levels = {name: p.enforcement_level for name, p in packs["homelab"].items()}
    assert levels == {
        "pinned-images": EnforcementLevel.MANDATORY,
        "containers-limited-healthy-restarted": EnforcementLevel.MANDATORY,
        "no-privileges-or-host-mounts": EnforcementLevel.MANDATORY,
        "ports-from-service-table": EnforcementLevel.MANDATORY,
        "stateful-data-retained": EnforcementLevel.MANDATORY,
        "credentials-are-secret": EnforcementLevel.REMEDIATE,
    }


def test_every_recorded_resource_passes_every_validation(stack_run: StackRun, packs):
    pack = packs[stack_run.stack]
    found = {}
    for resource in stack_run.resources:
        args = policy_args(stack_run, resource)
        for name, policy in pack.items():
            if policy.has_validation():
                found.update({(resource.name, name): v for v in [violations(policy, args)] if v})
    assert found == {}


def test_no_recorded_resource_needs_a_credential_remediated(stack_run: StackRun, packs):
    remediate = packs[stack_run.stack]["credentials-are-secret"]
    remediated = [r.name for r in stack_run.resources
                  if remediate.remediate(policy_args(stack_run, r, keep_secrets=True)) is not None]
    assert remediated == []


# -- crafted violations ----------------------------------------------------------------------------


def _changed(resource: Resource, **changes: Any) -> dict[str, Any]:
    inputs = copy.deepcopy(resource.inputs)
    for key, value in changes.items():
        if value is None:
            inputs.pop(key, None)
        else:
            inputs[key] = value
    return inputs


def check(run: StackRun, pack: dict, policy: str, name: str, /, **changes: Any) -> list[str]:
    resource = run.named(name)
    return violations(pack[policy], policy_args(run, resource, _changed(resource, **changes)))


@pytest.mark.parametrize("reference, pinned", [
    ("minio/minio", False), ("minio/minio:latest", False), ("registry.lan:5000/minio/minio", False),
    ("registry.lan:5000/minio/minio:RELEASE.2025-09-07T16-13-09Z", True),
    ("postgres@sha256:" + "a" * 64, True),
])
def test_images_must_be_pinned(homelab: StackRun, packs, reference, pinned):
    found = check(homelab, packs["homelab"], "pinned-images", "nas-image-postgres-17-6-bookworm", name=reference)
    assert (found == []) is pinned
    found = check(homelab, packs["homelab"], "pinned-images", "storage-postgres-container", image=reference)
    assert (found == []) is pinned


@pytest.mark.parametrize("name, changes, message", [
    ("storage-postgres-container", {"memory": None}, "no memory limit"),
    ("storage-postgres-container", {"memory": 0}, "no memory limit"),
    ("storage-postgres-container", {"restart": "no"}, "restart policy `no`"),
    ("storage-postgres-container", {"healthcheck": None}, "no health check"),
    ("storage-postgres-container", {"healthcheck": {"tests": ["NONE"]}}, "no health check"),
    ("apps-superset-init", {"restart": "always"}, "a one-shot job"),
    ("apps-superset-init", {"mustRun": True}, "a one-shot job"),
    ("apps-superset-init", {"memory": None}, "no memory limit"),
])
def test_containers_need_limits_health_and_restart(homelab: StackRun, packs, name, changes, message):
    found = check(homelab, packs["homelab"], "containers-limited-healthy-restarted", name, **changes)
    assert len(found) == 1 and found[0].startswith(message)


def test_a_job_needs_no_health_check(homelab: StackRun, packs):
    assert check(homelab, packs["homelab"], "containers-limited-healthy-restarted", "apps-superset-init",
                 healthcheck=None) == []


@pytest.mark.parametrize("name, changes, message", [
    ("storage-minio-container", {"privileged": True}, "privileged container"),
    ("storage-minio-container", {"pidMode": "host"}, "`pidMode: host`"),
    ("storage-minio-container", {"capabilities": {"adds": ["SYS_ADMIN"]}}, "added capabilities"),
    ("storage-minio-container", {"devices": [{"hostPath": "/dev/sda"}]}, "host devices"),
    ("storage-minio-container", {"securityOpts": ["seccomp=unconfined"]}, "unconfined security options"),
    ("storage-minio-container", {"volumes": [{"hostPath": "/srv/minio", "containerPath": "/data"}]},
     "host path mounted at `/data`"),
    ("storage-minio-container", {"mounts": [{"type": "bind", "source": "/", "target": "/host"}]},
     "bind mount of `/`"),
    ("storage-minio-container", {"networkMode": "host"}, "host networking for a container of no compute service"),
    ("nas-artifacts-fetch", {"networkMode": "host"}, "host networking for a container of no compute service"),
])
def test_no_privileges_or_host_mounts(homelab: StackRun, packs, name, changes, message):
    found = check(homelab, packs["homelab"], "no-privileges-or-host-mounts", name, **changes)
    assert len(found) == 1 and found[0].startswith(message)


def test_a_volume_bound_to_a_host_path_is_a_host_mount(homelab: StackRun, packs):
    found = check(homelab, packs["homelab"], "no-privileges-or-host-mounts", "storage-minio-data",
                  driverOpts={"type": "none", "o": "bind", "device": "/srv/minio"})
    assert len(found) == 1 and found[0].startswith("a volume bound to a host path")


@pytest.mark.parametrize("name, ports, message", [
    ("storage-minio-container", [(9000, 9000), (22, 22)], "publishes [(22, 22)] (container, host): minio may"),
    ("storage-minio-container", [(9000, 19000)], "publishes [(9000, 19000)] (container, host): minio may"),
    ("apps-superset-init", [(8088, 8088)], "publishes [(8088, 8088)]: only a bridged service's own container"),
    ("compute-trino-container", [(8080, 8080)], "publishes [(8080, 8080)]: only a bridged service's own"),
    ("nas-artifacts-fetch", [(80, 80)], "publishes [(80, 80)]: only a bridged service's own container"),
])
def test_published_ports_come_from_the_service_table(homelab: StackRun, packs, name, ports, message):
    found = check(homelab, packs["homelab"], "ports-from-service-table", name,
                  ports=[{"internal": i, "external": e} for i, e in ports])
    assert len(found) == 1 and found[0].startswith(message)


def test_configured_ports_are_the_allowed_ones(homelab: StackRun):
    moved = {p.name: p for p in policies(lambda: lakehouse_config(
        "homelab", services={"minio": {"ports": {"api": 19000, "console": 19001}}}))}
    ports = [{"internal": 9000, "external": 19000}, {"internal": 9001, "external": 19001}]
    assert check(homelab, moved, "ports-from-service-table", "storage-minio-container", ports=ports) == []
    found = check(homelab, moved, "ports-from-service-table", "storage-minio-container")
    assert found and "(9000, 9000)" in found[0]


def test_buckets_are_emptied_on_destroy_only_by_a_purging_stack(stack_runs, packs):
    homelab, local = stack_runs["homelab"], stack_runs["local"]
    [found] = check(homelab, packs["homelab"], "stateful-data-retained", "data-warehouse", forceDestroy=True)
    assert found.startswith("bucket `warehouse` has `forceDestroy` on a stack that keeps its data")
    assert check(local, packs["local"], "stateful-data-retained", "data-warehouse", forceDestroy=True) == []


def _remediated(run: StackRun, pack: dict, name: str, /, **changes: Any) -> Optional[dict]:
    resource = run.named(name)
    args = policy_args(run, resource, _changed(resource, **changes), keep_secrets=True)
    return pack["credentials-are-secret"].remediate(args)


def test_plain_credentials_in_envs_are_made_secret_and_nothing_else(homelab: StackRun, packs):
    envs = ["POSTGRES_USER=postgres", "POSTGRES_PASSWORD=hunter2", "PGDATA=/var/lib/postgresql/data",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=/opt/airflow/passwords.json"]
    remediated = _remediated(homelab, packs["homelab"], "storage-postgres-container", envs=envs)
    assert remediated is not None
    assert [e.value if isinstance(e, Secret) else e for e in remediated["envs"]] == envs
    assert [isinstance(e, Secret) for e in remediated["envs"]] == [False, True, False, False]
    assert remediated["name"] == "lakehouse-postgres"


def test_a_plain_password_input_is_made_secret(homelab: StackRun, packs):
    role = homelab.of_type("postgresql:index/role:Role")[0]
    remediated = _remediated(homelab, packs["homelab"], role.name, password="hunter2")
    assert isinstance(remediated["password"], Secret) and remediated["password"].value == "hunter2"
    assert remediated["name"] == role.inputs["name"]


def test_plain_credentials_are_found_anywhere_and_secret_ones_are_left(homelab: StackRun):
    props = deserialize_properties(_wire({
        "envs": secret(["POSTGRES_PASSWORD=x"]),
        "provider": {"minioPassword": "plain", "apiToken": secret("t")},
        "uploads": [{"file": "/a", "content": "password=x"}],
        "sshOpts": ["-o", "X=1"],
        "password": UNKNOWN_STRING_VALUE,
    }), True)
    assert plain_credentials(props) == [".provider.minioPassword"]


def test_the_pack_runs_from_its_folder_with_the_engine_config():
    """`policy/__main__.py` as the CLI's analyzer runs it (cwd policy/, PULUMI_CONFIG from the stack),
    with a stand-in PolicyPack that checks a port against the configuration instead of serving gRPC."""
    config = {**TEST_SECRETS, **stack_config("homelab"),
              f"{PROJECT}:services": {"minio": {"ports": {"api": 19000, "console": 19001}}}}
    env = {**os.environ, "PULUMI_CONFIG": json.dumps(
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()})}
    env.pop("PYTHONPATH", None)
    script = """
import runpy, pulumi_policy
from pulumi_policy import ResourceValidationArgs as A, PolicyResourceOptions as O, PolicyCustomTimeouts as T
def pack(name, policies):
    [ports] = [p for p in policies if p.name == "ports-from-service-table"]
    for published in (19000, 9000):
        props = {"name": "lakehouse-minio", "ports": [{"internal": 9000.0, "external": float(published)}]}
        args = A("docker:index/container:Container", props, "urn", "n", O(False, [], None, [], T(0, 0, 0), []), None)
        found = []
        ports.validate(args, lambda m, u=None: found.append(m))
        print(name, published, len(found))
pulumi_policy.PolicyPack = pack
runpy.run_path(".", run_name="__main__")
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT / "policy", env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["lakehouse 19000 0", "lakehouse 9000 1"]


def _pins(path) -> dict[str, str]:
    return dict(line.split("==") for line in path.read_text().splitlines() if "==" in line and not line.startswith("#"))


def test_the_pack_pins_what_the_program_uses_and_the_tests_run():
    pack = _pins(ROOT / "policy" / "requirements.txt")
    assert pack["pulumi"] == _pins(ROOT / "requirements.txt")["pulumi"]
    assert version("pulumi-policy") == pack["pulumi-policy"], "install: pip install --no-deps -r policy/requirements.txt"

