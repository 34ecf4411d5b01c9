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

MLFLOW = "lakehouse-mlflow"
MLFLOW_IDENTITY_FLAGS = ("--allowed-hosts", "--cors-allowed-origins")  # names clients use, not addresses to dial
SUPERSET_INIT, SUPERSET_WEB = "lakehouse-superset-init", "lakehouse-superset"


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


# --- servers several modules use (the services' own tests and the demo's): one process each per session ---

@pytest.fixture(scope="session")
def stop_at_end() -> Iterable[Callable[[LocalProcess], LocalProcess]]:
    """For the servers several modules use (MLflow, Superset): stopped when the session ends. Idle, they
    cost little CPU; started again per module, Superset's init job alone would cost minutes."""
    started: list[LocalProcess] = []
    yield lambda process: started.append(process) or process
    for process in reversed(started):
        process.stop()


@pytest.fixture(scope="session")
def mlflow(container, stop_at_end) -> tuple[LocalContainer, LocalProcess]:
    """The rendered MLflow server (basic-auth app, PostgreSQL, artifacts into S3), healthy."""
    from local_container import wait_for

    local = container(MLFLOW, keep_flags=MLFLOW_IDENTITY_FLAGS)
    process = stop_at_end(local.start())
    wait_for("MLflow healthcheck", local.healthy, 180, every=1, process=process)
    return local, process


@pytest.fixture(scope="session")
def mlflow_users(mlflow, container) -> tuple[LocalContainer, LocalProcess]:
    """The users job, once after the server: the clients' logins (the pipelines', the notebooks') exist."""
    users = container(f"{MLFLOW}-users")
    code, job = users.run(timeout=120)
    assert code == 0, job.tail()
    return users, job


@pytest.fixture(scope="session")
def init_runs(container) -> list[tuple[LocalContainer, int, LocalProcess]]:
    """Superset's init job, twice on the same database (a second `pulumi up` that replaces the job runs it again)."""
    runs = []
    for _ in range(2):
        job = container(SUPERSET_INIT)
        code, process = job.run(timeout=420)
        runs.append((job, code, process))
    return runs


@pytest.fixture(scope="session")
def superset(init_runs, container, stop_at_end) -> tuple[LocalContainer, LocalProcess]:
    """The Superset web server after the init job, healthy."""
    from local_container import wait_for

    assert [code for _, code, _ in init_runs] == [0, 0], init_runs[-1][2].tail()
    web = container(SUPERSET_WEB)
    process = stop_at_end(web.start())
    wait_for("Superset healthcheck", web.healthy, 240, every=2, process=process)
    return web, process
