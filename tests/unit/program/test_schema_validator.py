"""The offline schema validator catches what `pulumi preview` would reject."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from pulumi.output import Unknown

from harness import ROOT as REPO_ROOT
from schema_validator import (
    RESOURCE_SIG,
    SECRET_SIG,
    SIG_KEY,
    UNKNOWN_VALUE,
    Registry,
    load_schemas,
    validate_resource,
)

TRIM_SCRIPT = REPO_ROOT / "scripts" / "trim_schemas.py"
FULL_SCHEMAS = REPO_ROOT.parent / "shared" / "provider-schemas"

CONTAINER = "docker:index/container:Container"
DOCKER_PROVIDER = "pulumi:providers:docker"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_schemas()


def secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def valid_container() -> dict[str, Any]:
    return {
        "image": "minio/minio:latest",
        "name": "minio",
        "memory": 512.0,
        "envs": ["MINIO_ROOT_USER=admin"],
        "healthcheck": {
            "tests": ["CMD", "curl", "-f", "http://localhost:9000/minio/health/live"],
            "interval": "10s",
            "retries": 5.0,
            "startPeriod": "5s",
        },
        "networksAdvanced": [{"name": "lakehouse", "aliases": ["minio"]}],
        "volumes": [{"containerPath": "/data", "volumeName": "minio-data"}],
        "uploads": [{"file": "/etc/minio/config.env", "content": "X=1", "executable": False}],
    }


def test_valid_container_is_clean(registry: Registry) -> None:
    assert validate_resource(registry, CONTAINER, valid_container()) == []


def test_misspelled_nested_property_is_reported_with_path(registry: Registry) -> None:
    inputs = valid_container() | {"healthcheck": {"tets": ["CMD", "true"]}}
    [problem] = validate_resource(registry, CONTAINER, inputs)
    assert problem.startswith(f"{CONTAINER}: healthcheck.tets: unknown property (known: ")
    assert "tests" in problem


def test_misspelled_property_in_list_item_is_reported_with_index(registry: Registry) -> None:
    inputs = valid_container() | {"volumes": [{"containerPath": "/data", "volumeNam": "v"}]}
    [problem] = validate_resource(registry, CONTAINER, inputs)
    assert "volumes[0].volumeNam: unknown property" in problem


def test_wrong_type_is_reported(registry: Registry) -> None:
    inputs = valid_container() | {"memory": "512m"}
    assert validate_resource(registry, CONTAINER, inputs) == [
        f"{CONTAINER}: memory: expected integer, got str '512m'"
    ]


def test_missing_required_input_is_reported(registry: Registry) -> None:
    inputs = valid_container()
    del inputs["image"]
    assert validate_resource(registry, CONTAINER, inputs) == [
        f"{CONTAINER}: image: missing required input"
    ]


def test_missing_required_nested_property_is_reported(registry: Registry) -> None:
    inputs = valid_container() | {"networksAdvanced": [{"aliases": ["minio"]}]}
    assert validate_resource(registry, CONTAINER, inputs) == [
        f"{CONTAINER}: networksAdvanced[0].name: missing required property"
    ]


def test_secret_values_are_unwrapped_and_validated(registry: Registry) -> None:
    uploads = secret([{"file": "/run/secret", "content": secret("s3cr3t")}])
    assert validate_resource(registry, CONTAINER, valid_container() | {"uploads": uploads}) == []

    bad = secret([{"file": "/run/secret", "content": secret(42.0)}])
    assert validate_resource(registry, CONTAINER, valid_container() | {"uploads": bad}) == [
        f"{CONTAINER}: uploads[0].content: expected string, got float 42.0"
    ]


def test_unknowns_and_resource_references_are_accepted(registry: Registry) -> None:
    reference = {SIG_KEY: RESOURCE_SIG, "urn": "urn:pulumi:dev::lakehouse::x", "id": "x"}
    inputs = valid_container() | {
        "envs": [Unknown(), UNKNOWN_VALUE],
        "memory": UNKNOWN_VALUE,
        "networksAdvanced": [{"name": reference}],
    }
    assert validate_resource(registry, CONTAINER, inputs) == []


def test_provider_json_encoded_inputs_are_decoded(registry: Registry) -> None:
    inputs = {
        "host": "ssh://root@docker-host",
        "sshOpts": '["-o","StrictHostKeyChecking=accept-new"]',
        "disableDockerDaemonCheck": "true",
        "registryAuth": secret('[{"address": "ghcr.io", "password": "pw"}]'),
    }
    assert validate_resource(registry, DOCKER_PROVIDER, inputs) == []


def test_provider_json_encoded_input_of_wrong_shape_is_reported(registry: Registry) -> None:
    problems = validate_resource(registry, DOCKER_PROVIDER, {"sshOpts": '{"-o": 1}'})
    assert problems == [f"{DOCKER_PROVIDER}: sshOpts: expected array, got dict {{'-o': 1}}"]


@pytest.mark.parametrize(("memory", "valid"), [(512.0, True), (512, True), (512.5, False)])
def test_integer_accepts_only_integral_floats(
    registry: Registry, memory: float, valid: bool
) -> None:
    problems = validate_resource(registry, CONTAINER, valid_container() | {"memory": memory})
    assert (problems == []) is valid


def test_enum_values_are_enforced(registry: Registry) -> None:
    command = {"create": "true", "logging": "stdout"}
    assert validate_resource(registry, "command:local:Command", command) == []
    problems = validate_resource(registry, "command:local:Command", command | {"logging": "all"})
    assert problems == [
        "command:local:Command: logging: 'all' is not one of "
        "['stdout', 'stderr', 'stdoutAndStderr', 'none']"
    ]


def test_unknown_resource_token_in_known_package_is_reported(registry: Registry) -> None:
    token = "docker:index/contianer:Contianer"
    assert registry.knows(token)
    [problem] = validate_resource(registry, token, {"image": "x"})
    assert problem.startswith(f"{token}: unknown resource type in docker 5.1.0")


def test_packages_without_schema_are_not_known(registry: Registry) -> None:
    assert registry.knows(CONTAINER)
    assert registry.knows(DOCKER_PROVIDER)
    assert not registry.knows("lakehouse:storage:Plane")
    assert not registry.knows("pulumi:pulumi:Stack")


def test_load_schemas_is_cached() -> None:
    assert load_schemas() is load_schemas(str(REPO_ROOT / "tests" / "schemas"))


def test_trimmed_schemas_are_up_to_date() -> None:
    assert FULL_SCHEMAS.is_dir(), f"the published provider schemas are expected at {FULL_SCHEMAS}"
    result = subprocess.run(
        [sys.executable, str(TRIM_SCRIPT), "--check", "--source", str(FULL_SCHEMAS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr + "\nrun: python scripts/trim_schemas.py"
