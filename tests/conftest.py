"""Shared fixtures: each shipped stack is run once per test session under mocks."""

from __future__ import annotations

import pytest

from harness import StackRun, run_stack, shipped_stacks
from schema_validator import Registry, load_schemas

STACKS = shipped_stacks()


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_schemas()


@pytest.fixture(scope="session")
def stack_runs() -> dict[str, StackRun]:
    runs = {stack: run_stack(stack) for stack in STACKS}
    for stack, run in runs.items():
        assert run.error is None, f"stack {stack} failed: {run.error!r}"
    return runs


@pytest.fixture(scope="session", params=STACKS)
def stack_run(request, stack_runs) -> StackRun:
    return stack_runs[request.param]


@pytest.fixture(scope="session")
def homelab(stack_runs) -> StackRun:
    return stack_runs["homelab"]
