"""Airflow 3 (MWAA): api-server, scheduler, dag-processor and triggerer with the LocalExecutor.

All four components share one environment: the metadata database, the fernet key and the JWT
and API secrets (generated once; tasks fail with "Signature verification failed" when the JWT
secret differs between components), the execution API URL of the api-server, and the
connections as `AIRFLOW_CONN_*` JSON: Trino (`iceberg` catalog), MinIO (an `aws` connection with
Airflow's own user, the endpoint and the region) and the Spark Connect server (`spark_connect`, on
loopback, its token as the password). The image lacks the Trino and Spark providers and the Spark
Connect client: each component installs them before it starts, against the image's own constraints
less their `pyspark-client` pin (the client must be the server's exact version).
A one-shot `airflow db migrate` runs first; the components take their environment
only from its success. DAGs in the repository's `dags/` are uploaded into the containers, so a
changed DAG reaches Airflow on the next `pulumi up`. With the demo, the `lakehouse_demo` package goes
into the DAGs folder as a package (its `.airflowignore` keeps the scan to its `dags/`), with the
connections its DAGs use (`taxi_source`, `superset_api`), its source's size and the packages its
model needs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_random as random

from components.storage.backing import BackingArgs
from components.platform.containers import (ContainerArgs, Healthcheck, JobArgs, Upload, VolumeMount, after_success,
                                   data_volume, run_job, service_container)
from components.platform.credentials import generated_password
from components.platform.endpoints import Endpoint
from components.platform.s3 import S3Settings
from components.platform.services import SERVICES
from components.platform import workload
from components.storage.data import DatabaseCredentials

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
AIRFLOW_HOME = "/opt/airflow"
ADMIN_USER = "admin"
PASSWORDS_FILE = f"{AIRFLOW_HOME}/simple_auth_manager_passwords.json"
# Installed at the start of each component; the image's constraints file picks their versions
# (the ones Airflow released together with the image), and pinning apache-airflow (to the image's
# own version, read from its tag) keeps it in place.
PROVIDERS = ("apache-airflow-providers-trino", "apache-airflow-providers-apache-spark")
# The Spark Connect client, at the server's exact version (the Spark image's 4.1.2; a client newer than
# its server is not supported). The image's constraints pin whatever was newest when Airflow was released,
# and pip refuses a requirement that contradicts a constraint, so that one line is dropped from a copy of
# the constraints file and everything else stays constrained.
SPARK_CONNECT_CLIENT = "pyspark-client==4.1.2"
IMAGE_CONSTRAINTS = "/home/airflow/constraints.txt"
CONSTRAINTS = "/tmp/lakehouse-constraints.txt"
REMOTE_LOGS = "s3://logs/airflow"
CA_PATH = f"{AIRFLOW_HOME}/lakehouse-ca.pem"  # the stack's CA, which issued Trino's certificate
PARALLELISM = 4  # LocalExecutor: tasks run inside the scheduler's container and memory limit
# The demo's model: MLflow's client and scikit-learn at the MLflow image's versions (a model a task logs
# loads in the server's environment and the other way round), skops to store it as MLflow 3 does.
DEMO_REQUIREMENTS = ("mlflow-skinny==3.17.0", "scikit-learn==1.9.1", "skops==0.16.0")
WORKLOAD_DIR = f"{AIRFLOW_HOME}/dags/{workload.PACKAGE}"


def airflow_version(image: str) -> str:
    """`apache/airflow:3.3.2-python3.13` -> `3.3.2` (config validation guarantees the tag's form)."""
    return re.fullmatch(SERVICES["airflow"].tag_pattern, image.rsplit(":", 1)[1])["version"]


def fernet_key(standard_base64: str) -> str:
    """Fernet wants URL-safe base64 of 32 bytes; `RandomBytes.base64` is standard base64."""
    return standard_base64.replace("+", "-").replace("/", "_")


def connections(trino: Endpoint, s3: S3Settings, spark_connect: Endpoint, spark_connect_token: str,
                trino_password: str) -> dict[str, str]:
    """`AIRFLOW_CONN_<ID>` values (JSON) by variable name.

    Trino: the coordinator's HTTPS port with Airflow's login. TrinoHook turns login + password into
    basic authentication, `extra.protocol` into the client's `http_scheme` and `extra.verify` (a path,
    passed through as is) into the CA bundle `requests` verifies against. Spark Connect: the hook turns
    the password into the URL's `;token=`; the client sends a token without TLS only to `localhost`."""
    return _connection_env({
        "trino_default": {"conn_type": "trino", "host": trino.host, "port": trino.port, "login": "airflow",
                          "password": trino_password,
                          "extra": {"catalog": "iceberg", "protocol": "https", "verify": CA_PATH}},
        "minio": {"conn_type": "aws", "login": s3.access_key, "password": s3.secret_key,
                  "extra": {"endpoint_url": s3.endpoint, "region_name": s3.region}},
        "spark_connect_default": {"conn_type": "spark_connect", "host": spark_connect.host, "port": spark_connect.port,
                                  "password": spark_connect_token},
    })


def _connection_env(documents: Mapping[str, dict]) -> dict[str, str]:
    return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(doc, sort_keys=True) for conn_id, doc in documents.items()}


@dataclass(frozen=True)
class AirflowDemo:
    """What the demo's DAGs get besides the platform's connections."""

    source: Endpoint  # PostgreSQL as Airflow reaches it
    source_database: DatabaseCredentials  # the `taxi_source` database and its own login
    superset: Endpoint  # Superset's web server as Airflow reaches it
    superset_user: str
    superset_password: pulumi.Input[str]
    trips_per_day: int


def demo_env(source: Endpoint, database: str, user: str, source_password: str, superset: Endpoint,
             superset_user: str, superset_password: str, trips_per_day: int) -> list[str]:
    """The demo's connections (`taxi_source`: postgres, schema = database; `superset_api`: http, the
    refresh DAG's login) and the source's daily size, the `taxi_pipeline` DAG's default `trips`."""
    documents = _connection_env({
        "taxi_source": {"conn_type": "postgres", "host": source.host, "port": source.port, "login": user,
                        "password": source_password, "schema": database},
        "superset_api": {"conn_type": "http", "host": superset.host, "port": superset.port, "login": superset_user,
                         "password": superset_password},
    })
    return [*(f"{key}={value}" for key, value in documents.items()), f"LAKEHOUSE_DEMO_TRIPS_PER_DAY={trips_per_day}"]


@dataclass(frozen=True)
class AirflowSecrets:
    database_uri: str
    fernet_key: str
    jwt_secret: str
    api_secret_key: str



def airflow_env(secrets: AirflowSecrets, api_url: str, ports: Mapping[str, int],
                conns: Mapping[str, str], log_retention_days: int) -> list[str]:
    """The one environment of every component (and of the migration job).

    Task logs go to MinIO through the `minio` connection (they outlive the VM, as MWAA's leave
    its workers) and their local copies are deleted once uploaded; the DAG processor logs to
    stdout; the image's `/clean-logs` trims what is left after the retention period."""
    settings = {
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(PARALLELISM),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": secrets.database_uri,
        "AIRFLOW__CORE__FERNET_KEY": secrets.fernet_key,
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.jwt_secret,
        "AIRFLOW__API__SECRET_KEY": secrets.api_secret_key,
        "AIRFLOW__API__BASE_URL": api_url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": PASSWORDS_FILE,
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(ports["scheduler-health"]),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(ports["logs"]),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(ports["triggerer-logs"]),
        "AIRFLOW__LOGGING__REMOTE_LOGGING": "True",
        "AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER": REMOTE_LOGS,
        "AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID": "minio",
        "AIRFLOW__LOGGING__DELETE_LOCAL_LOGS": "True",
        "AIRFLOW__LOGGING__DAG_PROCESSOR_LOG_TARGET": "stdout",
        "AIRFLOW__LOG_RETENTION_DAYS": str(log_retention_days),
        **conns,
    }
    return [f"{key}={value}" for key, value in settings.items()]


def with_providers(env: list[str], version: str, extra: Sequence[str] = ()) -> list[str]:
    """A long-running component's environment: the shared one plus what `install_script` installs
    (the migration job needs none, so it does not depend on PyPI)."""
    requirements = [f"apache-airflow=={version}", *PROVIDERS, SPARK_CONNECT_CLIENT, *extra]
    return [*env, f"LAKEHOUSE_PIP_REQUIREMENTS={' '.join(requirements)}"]


def install_script() -> str:
    """Shell lines that install `$LAKEHOUSE_PIP_REQUIREMENTS` in one pip run, constrained by the image's
    constraints file less its pyspark-client line. (Not the entrypoint's `_PIP_ADDITIONAL_REQUIREMENTS`:
    it runs pip on the words given, so a constraint cannot be dropped there.)"""
    return (f"grep -v -i -E '^pyspark[-_.]client[=<>!~ ]' {IMAGE_CONSTRAINTS} > {CONSTRAINTS}\n"
            f"pip install --root-user-action ignore $LAKEHOUSE_PIP_REQUIREMENTS --constraint {CONSTRAINTS}\n")


def _after_install(command: str) -> list[str]:
    return ["bash", "-c", f"set -eu\n{install_script()}{command}"]


def api_server_command(port: int) -> list[str]:
    """Seed the admin's password (the api-server must be able to write the file), then serve."""
    return _after_install(f"""printf '{{"{ADMIN_USER}": "%s"}}' "$AIRFLOW_ADMIN_PASSWORD" > {PASSWORDS_FILE}\n"""
                          f"exec airflow api-server --port {port}")


def _jobs_check(job_type: str) -> Healthcheck:
    return Healthcheck(test=("CMD", "airflow", "jobs", "check", "--job-type", job_type, "--local"),
                       interval="30s", timeout="25s", retries=10, start_period="120s")


def components(ports: Mapping[str, int]) -> dict[str, tuple[list[str], Healthcheck]]:
    """Command and health check of each long-running component."""
    return {
        "api-server": (api_server_command(ports["api"]), Healthcheck(
            test=("CMD", "curl", "-fsS", f"http://localhost:{ports['api']}/api/v2/version"),
            interval="15s", retries=20, start_period="120s")),
        "scheduler": (_after_install("exec airflow scheduler"), Healthcheck(
            test=("CMD", "curl", "-fsS", f"http://localhost:{ports['scheduler-health']}/health"),
            interval="15s", retries=20, start_period="120s")),
        # The image's /clean-logs loop trims the shared logs volume beside the DAG processor.
        "dag-processor": (_after_install("/clean-logs &\nexec airflow dag-processor"), _jobs_check("DagProcessorJob")),
        "triggerer": (_after_install("exec airflow triggerer"), _jobs_check("TriggererJob")),
    }


def dag_uploads(directory: Path = DAGS_DIR) -> list[Upload]:
    return [Upload(f"{AIRFLOW_HOME}/dags/{path.name}", path.read_text()) for path in sorted(directory.glob("*.py"))]


def workload_uploads() -> list[Upload]:
    """The demo package, importable as `lakehouse_demo` (the DAGs folder is on Airflow's path)."""
    return [Upload(f"{WORKLOAD_DIR}/{path}", text) for path, text in workload.package_files().items()]


@dataclass(frozen=True)
class AirflowArgs:
    backing: BackingArgs
    api: Endpoint  # the api-server as its own components (and users) reach it
    trino: Endpoint  # the coordinator's HTTPS port
    spark_connect: Endpoint  # as Airflow reaches it: `localhost`, the server's port
    spark_connect_token: pulumi.Input[str]
    log_retention_days: int
    logs_volume_name: str
    trino_password: pulumi.Input[str]
    ca_certificate: pulumi.Input[str]
    mlflow_env: pulumi.Input[list[str]]  # MLflow's URL and Airflow's login there
    demo: Optional[AirflowDemo] = None  # None: a clean platform without the demo


class Airflow(pulumi.ComponentResource):
    def __init__(self, name: str, args: AirflowArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:orchestration:Airflow", name, None, opts)
        backing = args.backing
        where = backing.placement
        ports = where.instance.ports
        self.url = args.api.url()
        self.admin_user = ADMIN_USER
        self.admin_password = generated_password(f"{name}-admin-password", self, length=24).result
        fernet = random.RandomBytes(f"{name}-fernet-key", length=32, opts=pulumi.ResourceOptions(parent=self))
        jwt_secret = generated_password(f"{name}-jwt-secret", self, length=64).result
        api_secret = generated_password(f"{name}-api-secret-key", self, length=64).result
        env = pulumi.Output.all(backing.database.password, fernet.base64, jwt_secret, api_secret,
                                backing.s3.secret_key, args.spark_connect_token, args.trino_password).apply(
            lambda v: airflow_env(
                AirflowSecrets(database_uri=backing.sqlalchemy(v[0]), fernet_key=fernet_key(v[1]), jwt_secret=v[2],
                               api_secret_key=v[3]),
                self.url, ports, connections(args.trino, backing.s3_settings(v[4]), args.spark_connect, v[5], v[6]),
                args.log_retention_days))
        env = pulumi.Output.all(env, args.mlflow_env).apply(lambda v: [*v[0], *v[1]])
        demo = args.demo
        if demo is not None:
            env = pulumi.Output.all(env, demo.source_database.password, demo.superset_password).apply(
                lambda v: [*v[0], *demo_env(demo.source, demo.source_database.database, demo.source_database.user,
                                            v[1], demo.superset, demo.superset_user, v[2], demo.trips_per_day)])
        self.migrate = run_job(f"{name}-migrate", JobArgs.of(
            where, "migrate", ["db", "migrate"], envs=env, depends_on=backing.depends_on), self)
        # Scratch space: task logs live in MinIO, so nothing here needs to survive the host.
        logs = data_volume(f"{name}-logs", args.logs_volume_name, where.host, False, self)
        version = airflow_version(where.service.image)
        extra = DEMO_REQUIREMENTS if demo is not None else ()
        migrated_env = after_success(self.migrate, env.apply(lambda e: with_providers(e, version, extra)))
        # Only the api-server seeds the admin's login; tasks (in the scheduler) never see it.
        api_env = pulumi.Output.all(migrated_env, self.admin_password).apply(
            lambda v: [*v[0], f"AIRFLOW_ADMIN_PASSWORD={v[1]}"])
        dags = [*dag_uploads(), *(workload_uploads() if demo is not None else ())]
        ca = Upload(CA_PATH, args.ca_certificate)
        self.components = {
            component: service_container(f"{name}-{component}", ContainerArgs(
                placement=replace(where, container_name=f"{where.container_name}-{component}"),
                healthcheck=healthcheck,
                envs=api_env if component == "api-server" else migrated_env,
                command=command,
                volumes=(VolumeMount(logs.name, f"{AIRFLOW_HOME}/logs"),),
                uploads=(ca,) if component == "api-server" else (ca, *dags),
                wait_timeout=600,
            ), self)
            for component, (command, healthcheck) in components(ports).items()
        }
        self.register_outputs({"url": self.url, "adminUser": self.admin_user, "adminPassword": self.admin_password})
