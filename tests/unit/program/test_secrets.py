"""No generated credential flows anywhere unmarked: resource inputs and stack outputs."""

from __future__ import annotations

from typing import Any

from harness import StackRun, is_secret_wrapper, secret


def leaks(value: Any, secrets: set[str], path: str = "") -> list[str]:
    """Paths under `value` where a secret appears outside a secret marker."""
    if is_secret_wrapper(value):
        return []
    if isinstance(value, str):
        return [path or "."] if any(s in value for s in secrets) else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in leaks(v, secrets, f"{path}.{k}")]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in leaks(v, secrets, f"{path}[{i}]")]
    return []


def test_the_leak_finder_finds_plain_values_and_accepts_marked_ones():
    found = leaks({"envs": ["A=1", "P=s3cr3t"], "ok": secret("s3cr3t"), "nested": {"x": ["s3cr3t"]}}, {"s3cr3t"})
    assert found == [".envs[1]", ".nested.x[0]"]


def test_mocks_mark_generated_passwords_secret(stack_run: StackRun):
    passwords = stack_run.of_type("random:index/randomPassword:RandomPassword")
    assert passwords
    for password in passwords:
        assert is_secret_wrapper(password.outputs["result"])
        assert password.inputs["special"] is False, "generated passwords go into URIs: no special characters"


def test_no_generated_secret_is_unmarked_in_any_resource_input(stack_run: StackRun):
    secrets = stack_run.generated_secrets()
    assert secrets
    found = {r.name: leaks(r.inputs, secrets) for r in stack_run.resources}
    assert {name: paths for name, paths in found.items() if paths} == {}


def test_secrets_do_reach_the_resources_that_need_them(stack_run: StackRun):
    secrets = stack_run.generated_secrets()
    minio = stack_run.named("data-minio")
    assert is_secret_wrapper(minio.inputs["minioPassword"])
    assert minio.inputs["minioPassword"]["value"] in secrets
    for name in ("storage-minio-container", "storage-postgres-container"):
        assert is_secret_wrapper(stack_run.named(name).inputs["envs"])


def test_stack_outputs_holding_credentials_are_secret_and_others_hold_none(stack_run: StackRun):
    secrets = stack_run.generated_secrets()
    assert {"minioRootPassword", "postgresSuperuserPassword", "services"} <= stack_run.secret_outputs
    for name, value in stack_run.outputs.items():
        if name not in stack_run.secret_outputs:
            assert leaks(value, secrets) == [], name
