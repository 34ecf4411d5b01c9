"""Provider fidelity: inputs the schema accepts but the upstream provider rejects.

See tests/provider_fidelity.py for the curated list (computed-only fields and field relations
read in each upstream provider's source at the pinned version) and the checker.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness import ROOT, StackRun
from provider_fidelity import (
    KINDS,
    PACKAGE_VERSIONS,
    REVIEWS,
    all_links,
    check_resource,
    is_well_formed_link,
    resolve,
    resolve_computed,
)
from schema_validator import PROVIDER_PREFIX, SECRET_SIG, SIG_KEY, Registry

FULL_SCHEMAS = ROOT.parent / "shared" / "provider-schemas"

ILM = "minio:index/ilmPolicy:IlmPolicy"
CONTAINER = "docker:index/container:Container"
DOWNLOAD = "proxmoxve:download/file:File"


def secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


# (1) what the program registers -----------------------------------------------------------------


def test_recorded_resources_pass_upstream_checks(stack_run: StackRun, registry: Registry) -> None:
    problems = [
        f"{resource.name}: {problem}"
        for resource in stack_run.resources
        if resource.custom
        for problem in check_resource(registry, resource.type, resource.inputs)
    ]
    assert problems == []


# (2) computed-only fields -----------------------------------------------------------------------


def test_computed_only_nested_field_is_reported(registry: Registry) -> None:
    inputs = {
        "bucket": "landing",
        "rules": [
            {"id": "keep", "expiration": "7d"},
            {"id": "expire", "expiration": "30d", "status": "Enabled"},
        ],
    }
    [problem] = check_resource(registry, ILM, inputs)
    assert problem.startswith(f"{ILM}: rules[1].status: computed-only upstream (rule.status)")
    assert problem.endswith(
        "(https://github.com/aminueza/terraform-provider-minio/blob/v1.20.1/"
        "minio/resource_minio_ilm_policy.go#L52)"
    )


def test_without_the_computed_only_field_the_rule_is_clean(registry: Registry) -> None:
    inputs = {"bucket": "landing", "rules": [{"id": "expire", "expiration": "30d"}]}
    assert check_resource(registry, ILM, inputs) == []


def test_computed_only_field_in_a_single_nested_block_is_reported(registry: Registry) -> None:
    inputs = {"name": "data", "cluster": {"id": "abc", "scope": "single"}}
    [problem] = check_resource(registry, "docker:index/volume:Volume", inputs)
    assert "cluster.id: computed-only upstream (cluster.id)" in problem


def test_computed_only_top_level_field_is_reported(registry: Registry) -> None:
    [problem] = check_resource(
        registry, "minio:index/iamUser:IamUser", {"name": "u", "status": "enabled"}
    )
    assert "status: computed-only upstream" in problem


# (3) field relations ----------------------------------------------------------------------------


def test_conflicting_pair_is_reported(registry: Registry) -> None:
    inputs = {"name": "readwrite", "namePrefix": "rw-", "policy": "{}"}
    [problem] = check_resource(registry, "minio:index/iamPolicy:IamPolicy", inputs)
    assert "conflicting fields set together: name, namePrefix" in problem
    assert "resource_minio_iam_policy.go#L40" in problem


def test_conflict_inside_a_list_block_is_checked_per_element(registry: Registry) -> None:
    inputs = {
        "image": "busybox",
        "name": "c",
        "uploads": [
            {"file": "/a", "content": "x"},
            {"file": "/b", "content": "x", "source": "/tmp/b"},
            {"file": "/c"},
        ],
    }
    problems = check_resource(registry, CONTAINER, inputs)
    assert len(problems) == 2, problems
    assert (
        "uploads[1]: exactly one of content, contentBase64, source must be set, "
        "got content, source" in problems[0]
    )
    assert "uploads[2]: exactly one of" in problems[1] and "got none" in problems[1]


def test_field_that_needs_its_partner_is_reported(registry: Registry) -> None:
    inputs = {
        "contentType": "import",
        "datastoreId": "local",
        "nodeName": "pve",
        "url": "https://example.invalid/x.qcow2",
        "checksum": "abc",
    }
    [problem] = check_resource(registry, DOWNLOAD, inputs)
    assert "checksum requires checksumAlgorithm" in problem
    assert check_resource(registry, DOWNLOAD, inputs | {"checksumAlgorithm": "sha256"}) == []


def test_provider_inputs_are_decoded_before_checking(registry: Registry) -> None:
    inputs = {
        "endpoint": "https://pve:8006/",
        "apiToken": secret("t"),
        "ssh": json.dumps({"agent": True, "socks5Username": "u"}),
    }
    [problem] = check_resource(registry, "pulumi:providers:proxmoxve", inputs)
    assert "proxmoxve: ssh: socks5Username requires socks5Server" in problem


def test_fields_that_must_agree(registry: Registry) -> None:
    token = "random:index/randomPassword:RandomPassword"
    assert check_resource(registry, token, {"length": 20.0, "number": True, "numeric": True}) == []
    [problem] = check_resource(registry, token, {"length": 20.0, "number": True, "numeric": False})
    assert "number and numeric set to different values" in problem


def test_unreviewed_type_is_reported(registry: Registry) -> None:
    assert check_resource(registry, "minio:index/kmsKey:KmsKey", {}) == [
        "minio:index/kmsKey:KmsKey: not reviewed for provider fidelity (add it to REVIEWS)"
    ]


# (4) the curated list matches the pinned schemas -------------------------------------------------


def test_reviews_are_for_the_pinned_package_versions(registry: Registry) -> None:
    assert {
        name: package.version for name, package in registry.packages.items()
    } == PACKAGE_VERSIONS


@pytest.mark.parametrize("token", sorted(REVIEWS))
def test_curated_entries_exist_in_the_pinned_schema(registry: Registry, token: str) -> None:
    review = REVIEWS[token]
    package = registry.package_for(token)
    assert package is not None
    inputs = package.provider if token.startswith(PROVIDER_PREFIX) else package.resources[token]
    for item in review.computed_only:
        steps = resolve_computed(registry, token, item)  # raises if a nested field is missing
        if len(steps) == 1:
            # Top-level computed-only fields must not be inputs; if one became an input the
            # provider made it settable and the entry is stale.
            assert steps[0].name not in inputs["inputProperties"], item
    for rule in review.rules:
        assert rule.kind in KINDS
        assert len(rule.paths) >= 2
        for path in rule.paths:
            resolve(registry, token, path)  # raises if the schema lacks the field


def test_top_level_computed_only_fields_are_outputs_of_the_full_schema(registry: Registry) -> None:
    assert FULL_SCHEMAS.is_dir(), f"the published provider schemas are expected at {FULL_SCHEMAS}"
    missing = []
    for token, review in REVIEWS.items():
        if not review.computed_only:
            continue
        package = registry.package_for(token)
        full = json.loads((FULL_SCHEMAS / f"{package.name}-{package.version}.json").read_text())
        outputs = full["resources"][token]["properties"]
        for item in review.computed_only:
            steps = resolve_computed(registry, token, item)
            if len(steps) == 1 and steps[0].name not in outputs:
                missing.append(f"{token}: {item.path} -> {steps[0].name}")
    assert missing == []


def test_every_curated_entry_links_to_upstream_source() -> None:
    bad = [(token, link) for token, link in all_links() if not is_well_formed_link(link)]
    assert bad == []


# (5) every registered type was reviewed ----------------------------------------------------------


def test_every_registered_provider_type_has_a_review(stack_runs: dict[str, StackRun]) -> None:
    registered = {r.type for run in stack_runs.values() for r in run.resources if r.custom}
    assert sorted(registered - set(REVIEWS)) == []
