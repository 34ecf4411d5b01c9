"""Contract tier: the rendered containers of a stack, run as local processes against real backends.

Run it with `python -m pytest -m contract tests/contract` after `bash .ci/contract-deps` (as root).
Services run from the `homelab` stack's rendering (the deployment with the most remapping to do);
memory is judged against every shipped stack's limits (see `assert_fits`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

import pytest

from harness import StackRun
from local_container import MEASURED, STACK, LocalContainer, LocalProcess, Loopback
from standins import S3, Postgres, start_postgres, start_s3



def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not MEASURED:
        return
    terminalreporter.section("contract: peak PSS of each process tree")
    for process in MEASURED:
        limit = f"limit {process.limit_mb:.0f} MiB" if process.limit_mb else "no limit"
        terminalreporter.write_line(
            f"{process.name:38s} {process.peak_mib:7.0f} MiB  {process.peak_processes:3d} processes at peak  "
            f"{limit} ({process.stack})  observed {process.observed_for():.0f} s")


@pytest.fixture(scope="session")
def contract_run(stack_runs) -> StackRun:
    return stack_runs[STACK]


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("contract")


@pytest.fixture(scope="session")
def loopback(contract_run) -> Loopback:
    return Loopback(contract_run)


def published_port(run: StackRun, container: str, internal: int) -> int:
    inputs = next(r.inputs for r in run.of_type("docker:index/container:Container") if r.inputs["name"] == container)
    return next(int(p["external"]) for p in inputs["ports"] if int(p["internal"]) == internal)


@pytest.fixture(scope="session")
def postgres(contract_run, workdir, loopback) -> Iterable[Postgres]:
    server = start_postgres(contract_run, workdir)
    loopback.serve(published_port(contract_run, "lakehouse-postgres", 5432), server.port)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3(contract_run, workdir, loopback) -> Iterable[S3]:
    server = start_s3(contract_run, workdir)
    loopback.serve(published_port(contract_run, "lakehouse-minio", 9000), server.port)
    yield server
    server.process.stop()


@pytest.fixture(scope="session")
def verify_outputs(contract_run, loopback, postgres, s3) -> dict:
    """The stack outputs as `python -m verify` reads them, every address folded onto loopback (after the
    storage stand-ins took their ports, so the `services` entries point at them)."""
    import json
    return json.loads(loopback.value("OUTPUTS", json.dumps(contract_run.outputs)))


@pytest.fixture(scope="session")
def container(contract_run, workdir, loopback, postgres, s3) -> Callable[..., LocalContainer]:
    """`container("lakehouse-mlflow")`: a recorded container of the stack, ready to start locally."""
    def make(name: str, keep_flags: Iterable[str] = ()) -> LocalContainer:
        return LocalContainer.from_run(contract_run, name, loopback, workdir, keep_flags)
    return make


@pytest.fixture(scope="module")
def stop_later() -> Iterable[Callable[[LocalProcess], LocalProcess]]:
    """Processes a module starts, stopped when the module is done (services do not share the 2 cores)."""
    started: list[LocalProcess] = []
    yield lambda process: started.append(process) or process
    for process in reversed(started):
        process.stop()
