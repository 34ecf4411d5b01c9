"""The Iceberg catalog's setup job as rendered, against the Polaris stub where the job reaches the catalog.

The job (`python polaris_setup.py plan.json` in `python:3.13.7-alpine3.22`) runs with the command,
environment and uploaded files recorded for it; the image's Python is played by the unit virtualenv's
interpreter (`IMAGES["python"]`: the script uses the standard library only). The catalog is the stub
that enforces Polaris 1.7.0's published API (tests/polaris_stub.py), holding the realm as the bootstrap
job leaves it: root, with the credential the bootstrap job's uploaded file gives it, and nothing else.
"""

from __future__ import annotations

import json
from typing import Iterable
from urllib.parse import urlparse

import pytest

from components.catalogs.polaris import REALM, ROOT_CREDENTIALS, SETUP_DIR
from harness import StackRun, shipped_stacks
from local_container import LOOPBACK, LocalContainer, LocalProcess, assert_fits, split_reference
from polaris_stub import CREATES, Realm, planned_state, serve

pytestmark = pytest.mark.contract
SETUP = "lakehouse-iceberg-rest-setup"  # the container's name
# The resource names of the setup job and the bootstrap job (the names `StackRun` looks up).
SETUP_RESOURCE, BOOTSTRAP_RESOURCE = "catalogs-iceberg-rest-setup", "catalogs-iceberg-rest-bootstrap"
# The stub answers each request after this long (a JVM behind a network hop is slower), so the
# process is sampled (every 0.5 s) through its whole run, not only as it starts.
LATENCY_S = 0.06
MIN_SAMPLES = 3


def bootstrapped(run: StackRun) -> Realm:
    """The realm as the bootstrap job leaves it: its root principal with the credential of its uploaded file."""
    root = json.loads(run.uploads(BOOTSTRAP_RESOURCE)[ROOT_CREDENTIALS])[REALM]
    return Realm(clients={root["client-id"]: root["client-secret"]})


@pytest.fixture(scope="module")
def setup_job(contract_run, loopback, workdir) -> LocalContainer:
    return LocalContainer.from_run(contract_run, SETUP, loopback, workdir)


@pytest.fixture(scope="module")
def catalog(contract_run, setup_job, loopback) -> Iterable[Realm]:
    """The stub on the loopback port that stands for the port of the recorded `POLARIS_URL` (the server's)."""
    recorded = urlparse(contract_run.envs(SETUP_RESOURCE)["POLARIS_URL"])
    port = loopback.port(recorded.port)
    assert setup_job.env["POLARIS_URL"] == f"http://{LOOPBACK}:{port}", setup_job.env["POLARIS_URL"]
    realm = bootstrapped(contract_run)
    server = serve(realm, LOOPBACK, port, latency=LATENCY_S)
    yield realm
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def first(setup_job, catalog) -> tuple[int, LocalProcess]:
    return setup_job.run(timeout=120)


@pytest.fixture(scope="module")
def second(first, setup_job, catalog) -> tuple[int, LocalProcess, dict, dict]:
    """The same recorded job again, on the realm the first run left: its exit code, its process, the realm's
    state before it, and what each operation answered in it."""
    assert first[0] == 0, first[1].tail()
    before = catalog.state()
    catalog.calls.clear()
    code, process = setup_job.run(timeout=120)
    statuses = {}
    for operation, status in catalog.calls:
        statuses.setdefault(operation, set()).add(status)
    return code, process, before, statuses


def test_the_job_runs_the_recorded_script_on_the_python_stand_in(setup_job, contract_run):
    assert split_reference(setup_job.image) == ("python", "3.13.7-alpine3.22")
    script = f"{SETUP_DIR}/polaris_setup.py"
    assert setup_job.argv == ["python", str(setup_job.files[script]), str(setup_job.files[f"{SETUP_DIR}/plan.json"])]
    recorded = contract_run.uploads(SETUP_RESOURCE)[script]
    assert setup_job.files[script].read_text() == recorded, "folding addresses onto loopback left the script as it is"


def test_the_setup_converges_the_bootstrapped_realm_on_the_plan(first, setup_job, catalog, contract_run):
    code, process = first
    assert code == 0, process.tail()
    assert catalog.violations == [], "every request is one Polaris' API declares"
    plan = json.loads(setup_job.files[f"{SETUP_DIR}/plan.json"].read_text())
    # The stack exports these credentials to its clients: they are the realm's, and no other.
    exported = dict(c.split(":", 1) for c in contract_run.outputs["icebergRestCredentials"].values())
    assert catalog.state() == planned_state(plan, exported)
    assert set(catalog.catalogs) == {contract_run.outputs["icebergRestWarehouse"]}
    assert catalog.namespaces[contract_run.outputs["icebergRestWarehouse"]] == {"bronze", "gold"}
    assert process.tail().rstrip().endswith("polaris setup converged")
    assert not any(secret in process.tail(200) for secret in exported.values())


def test_a_second_run_of_the_recorded_job_changes_nothing(second, catalog):
    code, process, before, statuses = second
    assert code == 0, process.tail()
    assert catalog.violations == []
    assert catalog.state() == before
    for create in CREATES:
        assert statuses[create] == {409}, create
    assert statuses["updateCatalog"] == {200}, "the planned properties and storage are put on the catalog as it is"


@pytest.mark.parametrize("stack", shipped_stacks())
def test_peak_memory_fits_the_jobs_limit(first, second, stack_runs, stack):
    for process in (first[1], second[1]):
        assert process.samples >= MIN_SAMPLES, f"{process.name}: {process.samples} samples, too few to judge its peak"
        assert_fits(process, stack_runs, stack)
