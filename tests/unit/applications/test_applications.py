"""Airflow, MLflow and Superset: rendered configuration, wiring through outputs, gating on their init jobs."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest

from components.applications.airflow import (
    AirflowSecrets,
    airflow_env,
    api_server_command,
    connections,
    dag_uploads,
    fernet_key,
    install_script,
    with_providers,
    workload_uploads,
)
from components.applications.mlflow import allowed_hosts, cors_origins, mlflow_command, mlflow_env
from components.applications.superset import init_script, superset_config, trino_uri
from components.platform.endpoints import Endpoint
from components.platform.s3 import S3Settings
from components.storage.backing import sqlalchemy_url
from components.storage.data import DatabaseCredentials
from harness import ROOT, StackRun, is_secret_wrapper, run_stack, stack_config
from readers import config_problems

NAS, COMPUTE = "192.168.10.20", "192.168.10.31"
AIRFLOW_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
S3 = S3Settings("http://192.168.10.20:9000", "us-east-1", "airflow", "s3cr3t")


# --- rendering --------------------------------------------------------------------------------

def test_superset_config_compiles_and_holds_the_uri_and_the_key_reference():
    uri = "postgresql+psycopg2://superset:pw@lakehouse-postgres:5432/superset"
    source = superset_config(uri)
    code = compile(source, "superset_config.py", "exec")
    namespace: dict = {}
    os.environ["SUPERSET_SECRET_KEY"] = "k3y"
    try:
        exec(code, namespace)  # noqa: S102 - the rendered file, run as Superset would import it
    finally:
        del os.environ["SUPERSET_SECRET_KEY"]
    assert namespace["SQLALCHEMY_DATABASE_URI"] == uri
    assert namespace["SECRET_KEY"] == "k3y"
    assert 'SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]' in source and "k3y" not in source


def test_superset_init_is_repeatable_and_registers_trino_by_name():
    script = init_script()
    assert script.split(" && ")[0] == "superset db upgrade"
    assert "superset fab reset-password --username admin" in script, "a re-run converges on the generated password"
    assert script.endswith('superset set-database-uri --database_name "Lakehouse (Trino iceberg)" '
                           '--uri "$SUPERSET_TRINO_URI"')
    assert trino_uri("192.168.10.31:8443", "pw") == "trino://superset:pw@192.168.10.31:8443/iceberg"


def test_mlflow_command_env_and_allowed_hosts():
    assert allowed_hosts([("lakehouse-mlflow", 5000), ("nas.lan", 15000)]) == (
        "lakehouse-mlflow,lakehouse-mlflow:5000,nas.lan,nas.lan:15000,localhost:*,127.0.0.1:*")
    assert cors_origins([("lakehouse-mlflow", 5000), ("nas.lan", 15000)]) == (
        "http://lakehouse-mlflow:5000,http://nas.lan:15000")
    assert mlflow_command("mlflow", "h", "o") == [
        "mlflow", "server", "--host", "0.0.0.0", "--port", "5000", "--workers", "2",
        "--artifacts-destination", "s3://mlflow/", "--serve-artifacts", "--allowed-hosts", "h",
        "--cors-allowed-origins", "o", "--app-name", "basic-auth"]
    database = DatabaseCredentials("mlflow", "mlflow", None)
    uri = sqlalchemy_url("lakehouse-postgres:5432", database, "pw")
    assert uri == "postgresql+psycopg2://mlflow:pw@lakehouse-postgres:5432/mlflow"
    assert mlflow_env(uri, S3) == [
        f"MLFLOW_BACKEND_STORE_URI={uri}", "MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false",
        "MLFLOW_S3_ENDPOINT_URL=http://192.168.10.20:9000",
        "AWS_ACCESS_KEY_ID=airflow", "AWS_SECRET_ACCESS_KEY=s3cr3t", "AWS_DEFAULT_REGION=us-east-1"]


def test_fernet_key_is_url_safe_base64_of_32_bytes():
    standard = base64.b64encode(bytes([0xFB, 0xFF] * 16)).decode()
    assert "+" in standard or "/" in standard
    key = fernet_key(standard)
    assert len(base64.urlsafe_b64decode(key)) == 32 and "+" not in key and "/" not in key


def test_airflow_connections_parse_with_the_right_hosts_ports_and_catalog():
    conns = connections(Endpoint("192.168.10.31", 8443), S3, Endpoint("localhost", 15002), "t0ken", "tr1no")
    assert sorted(conns) == ["AIRFLOW_CONN_MINIO", "AIRFLOW_CONN_SPARK_CONNECT_DEFAULT", "AIRFLOW_CONN_TRINO_DEFAULT"]
    trino = json.loads(conns["AIRFLOW_CONN_TRINO_DEFAULT"])
    assert (trino["conn_type"], trino["host"], trino["port"], trino["login"], trino["password"], trino["extra"]) == (
        "trino", "192.168.10.31", 8443, "airflow", "tr1no",
        {"catalog": "iceberg", "protocol": "https", "verify": "/opt/airflow/lakehouse-ca.pem"})
    minio = json.loads(conns["AIRFLOW_CONN_MINIO"])
    assert minio == {"conn_type": "aws", "login": "airflow", "password": "s3cr3t",
                     "extra": {"endpoint_url": "http://192.168.10.20:9000", "region_name": "us-east-1"}}
    assert json.loads(conns["AIRFLOW_CONN_SPARK_CONNECT_DEFAULT"]) == {
        "conn_type": "spark_connect", "host": "localhost", "port": 15002, "password": "t0ken"}


def test_airflow_env_and_the_api_server_seeding_its_admin():
    secrets = AirflowSecrets("postgresql+psycopg2://a:b@h:5432/airflow", "f", "j", "s")
    env = dict(e.split("=", 1) for e in airflow_env(
        secrets, "http://192.168.10.31:8082", {"scheduler-health": 8974, "logs": 8793, "triggerer-logs": 8794},
        {"AIRFLOW_CONN_X": "{}"}, 14))
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://192.168.10.31:8082/execution/"
    assert (env["AIRFLOW__CORE__FERNET_KEY"], env["AIRFLOW__API_AUTH__JWT_SECRET"]) == ("f", "j")
    assert env["AIRFLOW__CORE__PARALLELISM"] == "4"
    assert "LAKEHOUSE_PIP_REQUIREMENTS" not in env and "AIRFLOW_ADMIN_PASSWORD" not in env
    assert {k: v for k, v in env.items() if "LOG" in k and "PORT" not in k} == {
        "AIRFLOW__LOGGING__REMOTE_LOGGING": "True", "AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER": "s3://logs/airflow",
        "AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID": "minio", "AIRFLOW__LOGGING__DELETE_LOCAL_LOGS": "True",
        "AIRFLOW__LOGGING__DAG_PROCESSOR_LOG_TARGET": "stdout", "AIRFLOW__LOG_RETENTION_DAYS": "14"}
    components_env = dict(e.split("=", 1) for e in with_providers([f"{k}={v}" for k, v in env.items()], "3.3.2"))
    assert components_env == {**env, "LAKEHOUSE_PIP_REQUIREMENTS": (
        "apache-airflow==3.3.2 apache-airflow-providers-trino apache-airflow-providers-apache-spark "
        "pyspark-client==4.1.2")}
    command = api_server_command(8082)
    assert command[:2] == ["bash", "-c"] and command[2].endswith("\nexec airflow api-server --port 8082")
    assert command[2].startswith("set -eu\n" + install_script())
    [seed] = [line for line in command[2].splitlines() if line.startswith("printf")]
    rendered = subprocess.run(["bash", "-c", seed.replace(
        "/opt/airflow/simple_auth_manager_passwords.json", "/dev/stdout")],
        env={"AIRFLOW_ADMIN_PASSWORD": "pw123"}, capture_output=True, text=True, check=True).stdout
    assert json.loads(rendered) == {"admin": "pw123"}


def test_dag_versions_in_the_dev_requirements_match_what_the_image_installs():
    from components.applications.airflow import PROVIDERS, airflow_version
    from components.platform.services import SERVICES

    from components.applications.airflow import SPARK_CONNECT_CLIENT

    dev = dict(line.split("==") for line in (ROOT / "requirements-dev.txt").read_text().split() if "==" in line)
    assert dev["apache-airflow"] == airflow_version(SERVICES["airflow"].image) == "3.3.2"
    assert set(PROVIDERS) | {"apache-airflow-providers-amazon"} <= set(dev)
    spark = SERVICES["spark"].image.rsplit(":spark-", 1)[1]
    assert SPARK_CONNECT_CLIENT == f"pyspark-client=={spark}" == f"pyspark-client=={dev['pyspark-client']}", (
        "the Connect client is the server's exact version, in the image and in the DagBag test")
    assert SERVICES["airflow"].image.endswith("-python3.13"), "the Spark image's Python: UDFs run on the executors"


def test_the_dags_folder_loads_in_a_real_dagbag_and_the_spark_connect_hook_reads_the_connection(deployed_dags):
    """The provider's own hook, as the DAGs use it, turns the rendered connection into the URL the client sends
    its token on: the token in the URL, the host the literal `localhost` (the client uses TLS for a token sent
    anywhere else)."""
    run, loaded = deployed_dags
    assert loaded["errors"] == {}
    assert loaded["dags"]["lakehouse_connections"]["tasks"] == {"minio": [], "spark_connect": [], "trino": []}
    assert loaded["spark_connect_url"] == f"sc://localhost:15002/;token={run.password('compute-spark-connect-token')}"


# --- wiring -----------------------------------------------------------------------------------

def test_airflow_components_share_one_environment_from_the_outputs(homelab: StackRun):
    envs = [homelab.envs(f"apps-airflow-{c}-container") for c in AIRFLOW_COMPONENTS]
    admin = envs[0].pop("AIRFLOW_ADMIN_PASSWORD")
    assert AIRFLOW_COMPONENTS[0] == "api-server" and admin == homelab.password("apps-airflow-admin-password")
    assert all(env == envs[0] for env in envs), "JWT secret, fernet key and connections identical everywhere"
    assert all("AIRFLOW_ADMIN_PASSWORD" not in env for env in envs[1:]), "only the api-server seeds the admin"
    env = envs[0]
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == homelab.password("apps-airflow-jwt-secret")
    assert len(base64.urlsafe_b64decode(env["AIRFLOW__CORE__FERNET_KEY"])) == 32
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == (
        f"postgresql+psycopg2://airflow:{homelab.password('data-airflow-db-password')}@{NAS}:5432/airflow")
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == f"http://{COMPUTE}:8082/execution/"
    minio = json.loads(env["AIRFLOW_CONN_MINIO"])
    assert (minio["login"], minio["password"]) == ("airflow", homelab.password("data-airflow-s3-secret"))
    assert minio["extra"]["endpoint_url"] == f"http://{NAS}:9000"
    assert json.loads(env["AIRFLOW_CONN_TRINO_DEFAULT"])["host"] == COMPUTE
    assert json.loads(env["AIRFLOW_CONN_SPARK_CONNECT_DEFAULT"]) == {
        "conn_type": "spark_connect", "host": "localhost", "port": 15002,
        "password": homelab.password("compute-spark-connect-token")}
    assert "AIRFLOW_CONN_SPARK_DEFAULT" not in env, "no spark-submit connection: the image has no spark-submit"
    migrate = homelab.envs("apps-airflow-migrate")
    assert {**migrate, "LAKEHOUSE_PIP_REQUIREMENTS": env["LAKEHOUSE_PIP_REQUIREMENTS"]} == env


def test_airflow_components_start_only_after_the_migration(homelab: StackRun):
    migrate = homelab.named("apps-airflow-migrate")
    assert migrate.inputs["command"] == ["db", "migrate"] and migrate.inputs["attach"] is True
    for component in AIRFLOW_COMPONENTS:
        container = homelab.named(f"apps-airflow-{component}-container")
        assert migrate.urn in container.property_dependencies["envs"]
        assert container.inputs["networkMode"] == "host"


def test_dags_reach_the_scheduler_and_the_dag_processor(homelab: StackRun):
    expected = {u.path: u.content for u in (*dag_uploads(), *workload_uploads())}
    assert "/opt/airflow/dags/lakehouse_connections.py" in expected
    for component in ("scheduler", "dag-processor", "triggerer"):
        uploads = homelab.uploads(f"apps-airflow-{component}-container")
        assert uploads == {**expected, "/opt/airflow/lakehouse-ca.pem": homelab.outputs["caCertificatePem"]}


def test_superset_init_gates_the_web_container_and_registers_the_resolved_trino(homelab: StackRun):
    init = homelab.named("apps-superset-init")
    web = homelab.named("apps-superset-container")
    assert init.urn in web.property_dependencies["envs"]
    assert homelab.envs("apps-superset-init")["SUPERSET_TRINO_URI"] == (
        f"trino://superset:{homelab.password('compute-trino-superset-password')}@{COMPUTE}:8443/iceberg")
    assert homelab.envs("apps-superset-init")["SUPERSET_ADMIN_PASSWORD"] == homelab.password("apps-superset-admin-password")
    assert set(homelab.envs("apps-superset-container")) == {"SUPERSET_SECRET_KEY", "GUNICORN_TIMEOUT"}
    config = homelab.uploads("apps-superset-container")["/app/pythonpath/superset_config.py"]
    # run-server.sh's gunicorn timeout (default 60 s) must not cut Superset's own query timeout.
    assert homelab.envs("apps-superset-container")["GUNICORN_TIMEOUT"] == "120"
    assert "SUPERSET_WEBSERVER_TIMEOUT = 120" in config.splitlines()
    assert (f"postgresql+psycopg2://superset:{homelab.password('data-superset-db-password')}"
            f"@lakehouse-postgres:5432/superset") in config
    assert is_secret_wrapper(web.inputs["uploads"])


def test_superset_on_one_host_reaches_trino_through_the_host_gateway(stack_runs):
    local = stack_runs["local"]
    assert local.envs("apps-superset-init")["SUPERSET_TRINO_URI"] == (
        f"trino://superset:{local.password('compute-trino-superset-password')}@host.docker.internal:8443/iceberg")
    assert local.named("apps-superset-container").inputs["hosts"] == [
        {"host": "host.docker.internal", "ip": "host-gateway"}]


def test_mlflow_uses_its_own_database_and_bucket(homelab: StackRun):
    env = homelab.envs("apps-mlflow-container")
    assert env["MLFLOW_BACKEND_STORE_URI"] == (
        f"postgresql+psycopg2://mlflow:{homelab.password('data-mlflow-db-password')}@lakehouse-postgres:5432/mlflow")
    assert env["MLFLOW_S3_ENDPOINT_URL"] == "http://lakehouse-minio:9000"
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == (
        "mlflow", homelab.password("data-mlflow-s3-secret"))
    command = homelab.named("apps-mlflow-container").inputs["command"]
    assert f"{NAS}:5000" in command[command.index("--allowed-hosts") + 1].split(",")
    assert homelab.named("apps-mlflow-container").inputs["healthcheck"]["tests"][:2] == ["CMD", "python"]


def test_mlflow_starts_only_after_its_schema_is_upgraded(stack_run: StackRun):
    upgrade = stack_run.named("apps-mlflow-db-upgrade")
    server = stack_run.named("apps-mlflow-container")
    assert upgrade.inputs["attach"] is True
    assert upgrade.inputs["command"] == ["bash", "-c", 'exec mlflow db upgrade "$MLFLOW_BACKEND_STORE_URI"']
    assert upgrade.inputs["image"] == server.inputs["image"]
    server_env = stack_run.envs("apps-mlflow-container")
    assert {k: v for k, v in server_env.items() if not k.startswith(("MLFLOW_AUTH", "MLFLOW_FLASK"))} == (
        stack_run.envs("apps-mlflow-db-upgrade")), "the upgrade job gets no auth settings"
    assert upgrade.urn in server.property_dependencies["envs"]
    assert stack_run.named("data-mlflow-db").urn in upgrade.dependencies


@pytest.mark.parametrize("output", ["supersetAdminPassword", "airflowAdminPassword"])
def test_admin_logins_are_exported_as_secrets(homelab: StackRun, output):
    assert output in homelab.secret_outputs


def test_application_urls(homelab: StackRun):
    assert homelab.outputs["mlflowUrl"] == f"http://{NAS}:5000"
    assert homelab.outputs["supersetUrl"] == f"http://{NAS}:8088"
    assert homelab.outputs["airflowUrl"] == f"http://{COMPUTE}:8082"


@pytest.mark.parametrize("image, version", [("apache/airflow:3.3.2-python3.13", "3.3.2"),
                                            ("registry.lan/apache/airflow:3.4.0-python3.11", "3.4.0")])
def test_the_airflow_pin_follows_the_configured_image(image, version):
    run = run_stack("homelab", overrides={"services": {**stack_config("homelab")["lakehouse:services"],
                                                       "airflow": {"image": image}}})
    assert run.error is None
    requirements = run.envs("apps-airflow-scheduler-container")["LAKEHOUSE_PIP_REQUIREMENTS"].split()
    assert requirements[0] == f"apache-airflow=={version}"


def test_an_airflow_image_without_a_version_tag_is_a_config_error():
    found = config_problems({"storageHost": "nas", "hosts": {"nas": {"address": "192.168.10.20", "dockerHost": "unix:///x"}},
                             "services": {"airflow": {"image": "apache/airflow:latest-python3.12"}}})
    assert found == ["lakehouse:services.airflow.image = 'apache/airflow:latest-python3.12': expected a tag like the "
                     "pinned `3.3.2-python3.13` (matching `(?P<version>\\d+\\.\\d+\\.\\d+)-python3\\.\\d+`): the "
                     "program derives versions from it"]


def test_task_logs_leave_the_compute_host(homelab: StackRun):
    logs = homelab.named("apps-airflow-logs")
    assert logs.retain_on_delete is False, "scratch: the task logs live in MinIO"
    policy = json.loads(homelab.named("data-airflow-s3-policy").inputs["policy"])
    assert "arn:aws:s3:::logs/airflow/*" in [r for s in policy["Statement"] for r in s["Resource"]]
    rules = {i.inputs["bucket"]: i.inputs["rules"] for i in homelab.of_type("minio:index/ilmPolicy:IlmPolicy")}
    assert rules["logs"] == [{"id": "expire-logs", "expiration": "30d"}]
    assert homelab.named("apps-airflow-dag-processor-container").inputs["command"] == [
        "bash", "-c", f"set -eu\n{install_script()}/clean-logs &\nexec airflow dag-processor"]


# --- the Spark Connect client against the image's constraints, with real pip ------------------------

def _wheel(directory, name: str, version: str, requires: tuple[str, ...] = ()) -> None:
    import zipfile

    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    files = {
        f"{info}/METADATA": "Metadata-Version: 2.1\n" f"Name: {name}\nVersion: {version}\n"
                            + "".join(f"Requires-Dist: {r}\n" for r in requires),
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{path},,\n" for path in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(directory / f"{dist}-{version}-py3-none-any.whl", "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)


@pytest.fixture
def pip_index(tmp_path):
    """A local index like the image's situation: the constraints pin a newer client than the server's, a provider
    needs some client, and a `pip` on PATH that only resolves (dry run, offline, nothing installed)."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for version in ("4.1.2", "4.2.0"):
        _wheel(wheels, "pyspark-client", version)
        _wheel(wheels, "pyspark", version)
    _wheel(wheels, "fake-provider", "1.0", ("pyspark-client>=4.0.0",))
    _wheel(wheels, "fake-provider", "2.0", ("pyspark-client>=4.0.0",))
    image_constraints = tmp_path / "constraints.txt"
    image_constraints.write_text("fake-provider==1.0\npyspark==4.2.0\npyspark-client==4.2.0\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "pip"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m pip "$@" --dry-run --ignore-installed --no-index '
                    f'--find-links {wheels} --disable-pip-version-check --quiet --report {tmp_path}/report.json\n')
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "LAKEHOUSE_PIP_REQUIREMENTS": "fake-provider pyspark-client==4.1.2"}
    return tmp_path, image_constraints, env


def _resolved(tmp_path) -> dict[str, str]:
    report = json.loads((tmp_path / "report.json").read_text())
    return {item["metadata"]["name"]: item["metadata"]["version"] for item in report["install"]}


def test_pip_refuses_a_client_pin_that_contradicts_the_image_constraints(pip_index):
    """Why the entrypoint's `_PIP_ADDITIONAL_REQUIREMENTS ... --constraint <image's file>` cannot install 4.1.2."""
    tmp_path, image_constraints, env = pip_index
    result = subprocess.run(["bash", "-c", f"pip install $LAKEHOUSE_PIP_REQUIREMENTS --constraint {image_constraints}"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "pyspark-client" in result.stderr


def test_the_install_script_gets_the_servers_client_and_keeps_every_other_constraint(pip_index):
    from components.applications.airflow import CONSTRAINTS, IMAGE_CONSTRAINTS

    tmp_path, image_constraints, env = pip_index
    script = install_script().replace(IMAGE_CONSTRAINTS, str(image_constraints)).replace(
        CONSTRAINTS, str(tmp_path / "derived.txt"))
    result = subprocess.run(["bash", "-c", f"set -eu\n{script}"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "derived.txt").read_text() == "fake-provider==1.0\npyspark==4.2.0\n"
    assert _resolved(tmp_path) == {"fake-provider": "1.0", "pyspark-client": "4.1.2"}
