"""MLflow (SageMaker experiments and model registry): runs in PostgreSQL, artifacts in MinIO.

The `-full` image carries psycopg2 and boto3. The backend store URI (it holds the password)
travels as `MLFLOW_BACKEND_STORE_URI` rather than on the command line; artifacts are proxied by
the server (`--serve-artifacts`) into the `mlflow` bucket with MLflow's own MinIO user. MLflow
3.5+ answers only the Host headers it allows, so every name it is reached by is listed.

With a database store, MLflow 3.17 also starts a job runner by default (a Huey consumer per job
type, spawned processes): about 2 GiB in all. The stack uses none of those jobs (GenAI scorers,
trace roll-ups), so it is switched off and two workers fit in about 650 MiB. The server exits
on a database schema older than its own, so a one-shot `mlflow db upgrade` (which also creates
the tables of an empty database) runs before it whenever the image or the database changes.
"""

from __future__ import annotations

from typing import Sequence

import pulumi

from components.storage.backing import BackingArgs
from components.platform.containers import ContainerArgs, Healthcheck, JobArgs, after_success, run_job, service_container
from components.platform.s3 import S3Settings
from components.platform.services import SERVICES

_PORT = SERVICES["mlflow"].ports["http"].container
# The image has python but neither curl nor wget.
HEALTHCHECK = Healthcheck(test=("CMD", "python", "-c", "import urllib.request; urllib.request.urlopen("
                                f"'http://127.0.0.1:{_PORT}/health', timeout=5)"))


def allowed_hosts(names: Sequence[tuple[str, int]]) -> str:
    """Each (name, port) bare and with its port (MLflow compares the Host header exactly), plus loopback."""
    hosts = [entry for name, port in names for entry in (name, f"{name}:{port}")]
    return ",".join([*hosts, "localhost:*", "127.0.0.1:*"])


def cors_origins(names: Sequence[tuple[str, int]]) -> str:
    """Browsers send an Origin even on same-origin writes; MLflow refuses writes from origins it
    does not list, so the UI needs its own origins here."""
    return ",".join(f"http://{name}:{port}" for name, port in names)


def mlflow_command(bucket: str, hosts: str, origins: str, workers: int = 2) -> list[str]:
    return ["mlflow", "server", "--host", "0.0.0.0", "--port", str(_PORT), "--workers", str(workers),
            "--artifacts-destination", f"s3://{bucket}/", "--serve-artifacts",
            "--allowed-hosts", hosts, "--cors-allowed-origins", origins]


UPGRADE_COMMAND = ["bash", "-c", 'exec mlflow db upgrade "$MLFLOW_BACKEND_STORE_URI"']


def mlflow_env(store_uri: str, s3: S3Settings) -> list[str]:
    return [
        f"MLFLOW_BACKEND_STORE_URI={store_uri}",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false",
        f"MLFLOW_S3_ENDPOINT_URL={s3.endpoint}",
        f"AWS_ACCESS_KEY_ID={s3.access_key}",
        f"AWS_SECRET_ACCESS_KEY={s3.secret_key}",
        f"AWS_DEFAULT_REGION={s3.region}",
    ]


class Mlflow(pulumi.ComponentResource):
    def __init__(self, name: str, args: BackingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:ml:Mlflow", name, None, opts)
        where = args.placement
        names = [(where.container_name, _PORT), (where.instance.name, _PORT),
                 (where.address, where.instance.ports["http"])]
        envs = pulumi.Output.all(args.database.password, args.s3.secret_key).apply(
            lambda secrets: mlflow_env(args.sqlalchemy(secrets[0]), args.s3_settings(secrets[1])))
        self.upgrade = run_job(f"{name}-db-upgrade", JobArgs.of(
            where, "db-upgrade", UPGRADE_COMMAND, envs=envs, depends_on=args.depends_on), self)
        self.container = service_container(name, ContainerArgs(
            placement=where,
            healthcheck=HEALTHCHECK,
            envs=after_success(self.upgrade, envs),
            command=mlflow_command("mlflow", allowed_hosts(names), cors_origins(names)),
            depends_on=args.depends_on,
        ), self)
        self.register_outputs({"container": self.container.name})
