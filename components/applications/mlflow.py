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

Authentication: MLflow's basic-auth app (`--app-name basic-auth`) with its user store in a
database of its own (`mlflow_auth`, in the rendered `basic_auth.ini`) and a generated admin, whom
MLflow creates on its first start (and never updates afterwards). A one-shot job then creates one
login per client (Airflow's pipelines, the notebooks) through the auth REST API as the admin; an
existing user gets its password set to the generated one, so a re-run converges. `/health` stays
open, so the health check needs no login; every other route answers 401 without one.
"""

from __future__ import annotations

import configparser
import io
import json
from dataclasses import dataclass, replace
from typing import Mapping, Sequence

import pulumi

from components.storage.backing import BackingArgs, sqlalchemy_url
from components.platform.containers import (ContainerArgs, Healthcheck, JobArgs, Upload, after_success, run_job,
                                             service_container)
from components.platform.credentials import generated_password
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
            "--allowed-hosts", hosts, "--cors-allowed-origins", origins, "--app-name", "basic-auth"]


ADMIN_USER = "admin"
AUTH_CONFIG_PATH = "/etc/mlflow_basic_auth.ini"
AUTH_DATABASE = SERVICES["mlflow"].extra_databases[0]
# What a login may do with experiments and models it was not granted anything on (its own are MANAGE):
# every client reads the others' runs and models, none changes them.
DEFAULT_PERMISSION = "READ"
CLIENTS = ("airflow",)  # logins created here; the notebooks' (jupyter) comes from the compute plane


def auth_config(database_uri: str, default_permission: str = DEFAULT_PERMISSION) -> str:
    """MLflow's `basic_auth.ini`. configparser interpolates `%`, so a value with one would not read back
    as written: refused here (generated passwords have none)."""
    values = {"default_permission": default_permission, "database_uri": database_uri, "admin_username": ADMIN_USER,
              "authorization_function": "mlflow.server.auth:authenticate_request_basic_auth"}
    if any("%" in v for v in values.values()):
        raise ValueError("basic_auth.ini values cannot hold '%' (configparser interpolation)")
    parser = configparser.ConfigParser()
    parser["mlflow"] = values
    text = io.StringIO()
    parser.write(text)
    return text.getvalue()


def auth_env(secret_key: str, admin_password: str) -> list[str]:
    """The admin is created from these on the first start only; the Flask secret signs the CSRF tokens
    of the auth pages and must be the same in every worker."""
    return [f"MLFLOW_AUTH_CONFIG_PATH={AUTH_CONFIG_PATH}", f"MLFLOW_FLASK_SERVER_SECRET_KEY={secret_key}",
            f"MLFLOW_AUTH_ADMIN_USERNAME={ADMIN_USER}", f"MLFLOW_AUTH_ADMIN_PASSWORD={admin_password}"]


# Runs in the MLflow image (python, no curl). Create each login; an existing one gets the generated
# password (the admin may set anyone's). Anything else fails the job, and with it `pulumi up`.
USERS_SCRIPT = """
import base64, json, os, sys, urllib.error, urllib.request

url = os.environ["MLFLOW_URL"]
admin = base64.b64encode(f"{os.environ['MLFLOW_AUTH_ADMIN_USERNAME']}:{os.environ['MLFLOW_AUTH_ADMIN_PASSWORD']}"
                         .encode()).decode()


def call(method, path, body):
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), method=method, headers={
        "Authorization": "Basic " + admin, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


for user, password in json.loads(os.environ["LAKEHOUSE_MLFLOW_USERS"]).items():
    status, body = call("POST", "/api/2.0/mlflow/users/create", {"username": user, "password": password})
    if status == 200:
        print(f"created {user}")
        continue
    if "RESOURCE_ALREADY_EXISTS" not in body:
        sys.exit(f"creating {user}: {status} {body}")
    status, body = call("PATCH", "/api/2.0/mlflow/users/update-password", {"username": user, "password": password})
    if status != 200:
        sys.exit(f"updating {user}: {status} {body}")
    print(f"{user} exists; password set")
"""


def users_env(url: str, admin_password: str, users: Mapping[str, str]) -> list[str]:
    return [f"MLFLOW_URL={url}", f"MLFLOW_AUTH_ADMIN_USERNAME={ADMIN_USER}",
            f"MLFLOW_AUTH_ADMIN_PASSWORD={admin_password}", f"LAKEHOUSE_MLFLOW_USERS={json.dumps(dict(users))}"]


def client_env(url: str, user: str, password: str) -> list[str]:
    """What an MLflow client reads: the server and a login (sent as HTTP basic auth on every request)."""
    return [f"MLFLOW_TRACKING_URI={url}", f"MLFLOW_TRACKING_USERNAME={user}", f"MLFLOW_TRACKING_PASSWORD={password}"]


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


@dataclass(frozen=True)
class MlflowArgs:
    backing: BackingArgs
    # Logins made elsewhere (the notebooks') to create beside this component's own clients.
    other_clients: Mapping[str, pulumi.Output[str]]


class Mlflow(pulumi.ComponentResource):
    def __init__(self, name: str, args: MlflowArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:ml:Mlflow", name, None, opts)
        backing = args.backing
        where = backing.placement
        names = [(where.container_name, _PORT), (where.instance.name, _PORT),
                 (where.address, where.instance.ports["http"])]
        self.admin_user = ADMIN_USER
        self.admin_password = generated_password(f"{name}-admin-password", self, length=24).result
        self.passwords: dict[str, pulumi.Output[str]] = {
            client: generated_password(f"{name}-{client}-password", self, length=24).result for client in CLIENTS}
        secret_key = generated_password(f"{name}-flask-secret-key", self, length=64).result
        envs = pulumi.Output.all(backing.database.password, backing.s3.secret_key).apply(
            lambda secrets: mlflow_env(backing.sqlalchemy(secrets[0]), backing.s3_settings(secrets[1])))
        self.upgrade = run_job(f"{name}-db-upgrade", JobArgs.of(
            where, "db-upgrade", UPGRADE_COMMAND, envs=envs, depends_on=backing.depends_on), self)
        auth_database = replace(backing.database, database=AUTH_DATABASE)
        config = Upload(AUTH_CONFIG_PATH, backing.database.password.apply(
            lambda password: auth_config(sqlalchemy_url(backing.postgres_hostport, auth_database, password))))
        server_envs = pulumi.Output.all(after_success(self.upgrade, envs), secret_key, self.admin_password).apply(
            lambda v: [*v[0], *auth_env(v[1], v[2])])
        self.container = service_container(name, ContainerArgs(
            placement=where,
            healthcheck=HEALTHCHECK,
            envs=server_envs,
            command=mlflow_command("mlflow", allowed_hosts(names), cors_origins(names)),
            uploads=(config,),
            depends_on=backing.depends_on,
        ), self)
        clients = {**self.passwords, **args.other_clients}
        self.users = run_job(f"{name}-users", JobArgs.of(
            where, "users", ["python", "-c", USERS_SCRIPT],
            envs=pulumi.Output.all(self.admin_password, *clients.values()).apply(lambda v: users_env(
                f"http://{where.container_name}:{_PORT}", v[0], dict(zip(clients, v[1:])))),
            depends_on=[self.container]), self)
        self.register_outputs({"container": self.container.name, "adminUser": self.admin_user,
                               "adminPassword": self.admin_password})
