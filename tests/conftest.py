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


@pytest.fixture(scope="session")
def deployed_dags(tmp_path_factory) -> tuple[StackRun, dict]:
    """The DAGs folder the stack deploys (the local stack with demo.tripsPerDay 321, a value no default has),
    loaded once in a real DagBag: the stack run and what the bag holds."""
    from dagbag import load_deployed

    run = run_stack("local", overrides={"demo": {"tripsPerDay": 321}})
    assert run.error is None, run.error
    return run, load_deployed(run, tmp_path_factory.mktemp("airflow"))
