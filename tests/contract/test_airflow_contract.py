"""Airflow as rendered: migration job, api-server login, component health, the DAG through LocalExecutor.

The containers install providers at start (`_PIP_ADDITIONAL_REQUIREMENTS`); here the unit virtualenv
already holds Airflow and the providers of requirements-dev.txt, so nothing is pip-installed.
"""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from local_container import assert_all_fit
from spark_server import start_spark_connect
from harness import shipped_stacks
from local_container import IMAGES, http_get, split_reference, wait_for
from verify import checks as verify_checks, runner as verify_runner

pytestmark = pytest.mark.contract
MIGRATE = "lakehouse-airflow-migrate"
COMPONENTS = ("lakehouse-airflow-api-server", "lakehouse-airflow-scheduler", "lakehouse-airflow-dag-processor",
              "lakehouse-airflow-triggerer")
DAG = "lakehouse_connections"


def post_json(url: str, body: dict, headers: dict | None = None, method: str = "POST") -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.fixture(scope="module")
def migrated(container):
    job = container(MIGRATE)
    code, process = job.run(timeout=480)
    return job, code, process


@pytest.fixture(scope="module")
def airflow(migrated, container, stop_later, loopback):
    _, code, process = migrated
    assert code == 0, f"airflow db migrate failed:\n{process.tail()}"
    locals_ = {name: container(name) for name in COMPONENTS}
    processes = {name: stop_later(local.start()) for name, local in locals_.items()}
    for name, local in locals_.items():
        wait_for(f"{name} healthcheck", local.healthy, 300, every=3, process=processes[name])
    return locals_, processes


@pytest.fixture(scope="module")
def api(airflow, contract_run):
    locals_, _ = airflow
    server = locals_["lakehouse-airflow-api-server"]
    base = server.env["AIRFLOW__API__BASE_URL"]
    password = server.env["AIRFLOW_ADMIN_PASSWORD"]
    return base, password


def token(base: str, password: str) -> str:
    status, body = post_json(f"{base}/auth/token", {"username": "admin", "password": password})
    assert status in (200, 201), (status, body)
    return body["access_token"]


def marked(stdout: str) -> dict[str, str]:
    """Lines the snippet printed as `MARK value` (the hooks log to stdout too)."""
    return dict(line.split(" ", 1) for line in stdout.splitlines() if line.split(" ", 1)[0].isupper() and " " in line)


def test_the_installed_airflow_is_the_image_version(contract_run):
    reference = next(r.inputs["name"] for r in contract_run.of_type("docker:index/remoteImage:RemoteImage")
                     if r.inputs["name"].startswith("apache/airflow:"))
    repository, tag = split_reference(reference)
    assert tag.startswith(IMAGES[repository].version() + "-")


def test_migration_job_succeeds_as_the_database_owner(migrated, postgres, contract_run):
    job, code, process = migrated
    assert code == 0, process.tail()
    assert "_PIP_ADDITIONAL_REQUIREMENTS" not in job.ignored_env, "the migration job installs nothing"
    role = next(r.inputs for r in contract_run.of_type("postgresql:index/role:Role") if r.inputs["name"] == "airflow")
    owners = postgres.psql("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'",
                           user="airflow", password=role["password"]["value"], database="airflow").stdout.split()
    assert owners == ["airflow"]


def test_admin_gets_a_token_with_the_generated_password_only(api):
    base, password = api
    assert http_get(f"{base}/api/v2/version")[0] == 200
    assert token(base, password)
    status, _ = post_json(f"{base}/auth/token", {"username": "admin", "password": "not-the-password"})
    assert status == 401


def test_every_component_passes_its_own_healthcheck(airflow):
    locals_, _ = airflow
    for name, local in locals_.items():
        assert local.healthy(), f"{name}: {local.healthcheck}"


def test_the_minio_connection_is_an_s3_hook_on_the_landing_bucket(airflow, s3):
    scheduler = airflow[0]["lakehouse-airflow-scheduler"]
    script = (
        "from airflow.providers.amazon.aws.hooks.s3 import S3Hook\n"
        "hook = S3Hook(aws_conn_id='minio')\n"
        "hook.load_string('contract', key='contract/airflow.txt', bucket_name='landing', replace=True)\n"
        "print('KEYS', sorted(hook.list_keys('landing', prefix='contract/')))\n"
        "print('BUCKETS', hook.check_for_bucket('landing'), hook.check_for_bucket('mlflow'))\n")
    result = scheduler.exec(["python", "-c", script])
    assert result.returncode == 0, result.stderr[-3000:]
    out = marked(result.stdout)
    assert out["KEYS"] == "['contract/airflow.txt']"
    assert out["BUCKETS"] == "True False", "airflow's key sees landing and not mlflow"
    assert s3.client().get_object(Bucket="landing", Key="contract/airflow.txt")["Body"].read() == b"contract"


def spark_connect_url(scheduler) -> str:
    """The Spark Connect URL the scheduler's `spark_connect_default` connection gives its hook."""
    script = ("from airflow.providers.apache.spark.hooks.spark_connect import SparkConnectHook\n"
              "print('URL', SparkConnectHook('spark_connect_default').get_connection_url())\n")
    result = scheduler.exec(["python", "-c", script])
    assert result.returncode == 0, result.stderr[-3000:]
    return marked(result.stdout)["URL"]


def test_the_trino_and_spark_connect_connections_parse_into_their_hooks(airflow, loopback, contract_run):
    scheduler = airflow[0]["lakehouse-airflow-scheduler"]
    script = (
        "from airflow.providers.trino.hooks.trino import TrinoHook\n"
        "c = TrinoHook.get_connection('trino_default')\n"
        "print('TRINO', c.conn_type, c.host, c.port, c.login, c.extra_dejson.get('catalog'), "
        "c.extra_dejson.get('protocol'), c.extra_dejson.get('verify'), bool(c.password))\n")
    result = scheduler.exec(["python", "-c", script])
    assert result.returncode == 0, result.stderr[-3000:]
    ca = scheduler.files["/opt/airflow/lakehouse-ca.pem"]
    assert marked(result.stdout)["TRINO"] == f"trino 127.0.0.1 {loopback.port(8443)} airflow iceberg https {ca} True"
    token = contract_run.envs("compute-spark-connect-container")["SPARK_CONNECT_AUTHENTICATE_TOKEN"]
    assert re.fullmatch(rf"sc://localhost:\d+/;token={token}", spark_connect_url(scheduler))


@pytest.fixture
def spark_connect_server(airflow, workdir):
    """A Spark Connect server (pyspark 4.1.2, local mode) where the connection points, with the stack's token."""
    url = spark_connect_url(airflow[0]["lakehouse-airflow-scheduler"])
    port, token = re.fullmatch(r"sc://localhost:(\d+)/;token=(\S+)", url).groups()
    server = start_spark_connect(workdir / "airflow-spark-connect", int(port), token)
    yield server
    server.process.stop()


def test_the_dag_runs_through_the_local_executor_with_the_shared_jwt_secret(api, spark_connect_server):
    """minio and spark_connect (a real query through the client the components install) succeed; trino
    fails only because no Trino runs here (not provable locally)."""
    base, password = api
    headers = {"Authorization": f"Bearer {token(base, password)}"}
    wait_for("DAG parsed", lambda: http_get(f"{base}/api/v2/dags/{DAG}", headers)[0] == 200, 180, every=2)
    status, errors = http_get(f"{base}/api/v2/importErrors", headers)
    assert status == 200 and json.loads(errors)["total_entries"] == 0, errors
    assert post_json(f"{base}/api/v2/dags/{DAG}", {"is_paused": False}, headers, method="PATCH")[0] == 200
    status, run = post_json(f"{base}/api/v2/dags/{DAG}/dagRuns", {"logical_date": None}, headers)
    assert status == 200, run
    run_id = run["dag_run_id"]

    def finished():
        state = json.loads(http_get(f"{base}/api/v2/dags/{DAG}/dagRuns/{run_id}", headers)[1])["state"]
        return state if state in ("success", "failed") else None
    wait_for("DAG run", finished, 300, every=3)
    tasks = json.loads(http_get(f"{base}/api/v2/dags/{DAG}/dagRuns/{run_id}/taskInstances", headers)[1])
    states = {t["task_id"]: t["state"] for t in tasks["task_instances"]}
    assert states["minio"] == "success" and states["spark_connect"] == "success", states
    assert states["trino"] == "failed", states


def test_verify_finds_the_components_healthy_and_the_dags_imported(api, verify_outputs):
    """`python -m verify`'s Airflow checks, from the stack's outputs folded onto loopback, against this api-server."""
    base, _ = api
    assert verify_outputs["airflowUrl"] == base
    planned = verify_checks.select(verify_checks.plan(verify_outputs), ["airflow"], [])
    results = {r.name: r for r in verify_runner.run(planned)}
    assert all(r.ok for r in results.values()), results
    assert results["airflow/health"].detail == "healthy: dag_processor, metadatabase, scheduler, triggerer"
    assert results["airflow/dags"].detail.startswith(f"DAGs: {DAG}")


def test_verify_demo_triggers_a_run_and_waits_a_bounded_time(api, verify_outputs):
    """What `--demo` does, on the DAG this tier has: unpause, trigger, poll, give up at the timeout (its
    spark_connect task waits for a Connect server this module does not run). The demo DAG is not here."""
    base, password = api
    with pytest.raises(verify_checks.CheckFailed, match=rf"{DAG} run \S+ still (queued|running) after 20 s"):
        verify_checks.check_demo_run(base, "admin", password, DAG, timeout=20, http_timeout=30, poll=2)
    with pytest.raises(verify_checks.CheckFailed, match="404"):
        verify_checks.check_demo_run(base, "admin", password, "no_such_dag", timeout=10, http_timeout=30)


@pytest.mark.parametrize("stack", shipped_stacks())
def test_peak_memory_fits_the_container_limit(airflow, migrated, stack_runs, stack):
    _, processes = airflow
    assert_all_fit([migrated[2], *processes.values()], stack_runs, stack)
