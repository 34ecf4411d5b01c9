"""MLflow's basic-auth as rendered, for real: the server with the stack's basic_auth.ini and its user store
in PostgreSQL, the users job creating the clients' logins, and the clients' own settings."""

from __future__ import annotations

import base64
import json
import subprocess
import textwrap
import urllib.error
import urllib.request

import pytest

from harness import shipped_stacks
from local_container import IMAGES, assert_all_fit, http_get

pytestmark = pytest.mark.contract
SEARCH = "/api/2.0/mlflow/experiments/search?max_results=5"


@pytest.fixture(scope="module")
def mlflow_with_users(mlflow, mlflow_users, postgres) -> dict:
    local, _ = mlflow
    users, _ = mlflow_users
    port = int(local.argv[local.argv.index("--port") + 1])
    return {"server": local, "users": users, "url": f"http://127.0.0.1:{port}", "postgres": postgres}


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _login(contract_run, container: str) -> tuple[str, str]:
    env = contract_run.envs(container)
    return env["MLFLOW_TRACKING_USERNAME"], env["MLFLOW_TRACKING_PASSWORD"]


def test_the_user_store_is_in_its_own_database(mlflow_with_users, contract_run):
    postgres = mlflow_with_users["postgres"]
    tables = postgres.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
                           database="mlflow_auth").stdout.split()
    assert "users" in tables
    users = postgres.psql("SELECT username FROM users ORDER BY 1", database="mlflow_auth").stdout.split()
    assert users == ["admin", "airflow", "jupyter"]
    tracking = postgres.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
                             database="mlflow").stdout.split()
    assert "users" not in tracking and "experiments" in tracking


def test_a_request_without_credentials_is_refused_and_health_stays_open(mlflow_with_users):
    url = mlflow_with_users["url"]
    status, _ = http_get(url + SEARCH)
    assert status == 401
    status, _ = http_get(url + SEARCH, _basic("airflow", "not-the-password"))
    assert status == 401
    assert http_get(url + "/health")[0] == 200
    assert mlflow_with_users["server"].healthy(), "the container's health check needs no login"


def test_the_pipelines_login_works_with_the_mlflow_client(mlflow_with_users, contract_run, loopback):
    """The Airflow components' MLFLOW_TRACKING_* settings, addresses folded onto loopback."""
    env = contract_run.envs("apps-airflow-scheduler-container")
    settings = {k: loopback.value(k, v) for k, v in env.items() if k.startswith("MLFLOW_TRACKING_")}
    assert settings["MLFLOW_TRACKING_USERNAME"] == "airflow"
    assert settings["MLFLOW_TRACKING_URI"] == mlflow_with_users["url"]
    client = textwrap.dedent("""
        import mlflow
        mlflow.set_experiment("pipelines")
        with mlflow.start_run() as run:
            mlflow.log_metric("rows", 42)
        print(run.info.run_id)
    """)
    server = mlflow_with_users["server"]
    result = subprocess.run([str(IMAGES["ghcr.io/mlflow/mlflow"].bin / "python"), "-c", client],
                            env={"PATH": "/usr/bin:/bin", "HOME": str(server.root / "home"), **settings},
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    # Without the password the same client is refused.
    refused = subprocess.run([str(IMAGES["ghcr.io/mlflow/mlflow"].bin / "python"), "-c", client],
                             env={"PATH": "/usr/bin:/bin", "HOME": str(server.root / "home"),
                                  "MLFLOW_TRACKING_URI": settings["MLFLOW_TRACKING_URI"]},
                             capture_output=True, text=True, timeout=180)
    assert refused.returncode != 0 and "401" in refused.stderr


def test_the_notebooks_read_but_do_not_change_the_pipelines_experiment(mlflow_with_users, contract_run):
    url = mlflow_with_users["url"]
    jupyter = _login(contract_run, "compute-spark-jupyter-container")
    status, body = http_get(url + "/api/2.0/mlflow/experiments/get-by-name?experiment_name=pipelines",
                            _basic(*jupyter))
    assert status == 200, body
    experiment = json.loads(body)["experiment"]["experiment_id"]
    request = urllib.request.Request(url + "/api/2.0/mlflow/experiments/update", method="POST",
                                     data=json.dumps({"experiment_id": experiment, "new_name": "mine"}).encode(),
                                     headers={"Content-Type": "application/json", **_basic(*jupyter)})
    try:
        urllib.request.urlopen(request, timeout=10)
        status = 200
    except urllib.error.HTTPError as error:
        status = error.code
    assert status == 403, "default_permission READ: others' experiments are read-only"


def test_the_users_job_runs_again_as_a_success(mlflow_with_users, mlflow_users, stack_runs):
    code, job = mlflow_with_users["users"].run(timeout=120)
    assert code == 0, job.tail()
    assert "airflow exists; password set" in job.log.read_text()
    for stack in shipped_stacks():
        assert_all_fit([mlflow_users[1], job], stack_runs, stack)

