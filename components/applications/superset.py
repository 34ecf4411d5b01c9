"""Superset (QuickSight): metadata in PostgreSQL, Trino's iceberg catalog registered as a database.

`superset_config.py` is rendered here and placed on the image's python path; the secret key
comes from the environment. The `-dev` image carries the PostgreSQL and Trino drivers. A job
in the same image migrates the metadata database, creates the admin (and resets its password
to the generated one, so a re-run converges), runs `superset init` and registers Trino with
`set-database-uri`, which creates or updates by name; it is safe to run again and re-runs
whenever any of its inputs (image, URIs, password, config) change. The web container starts
only after it succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.storage.backing import BackingArgs
from components.platform.containers import ContainerArgs, Healthcheck, JobArgs, Upload, after_success, run_job, service_container
from components.platform.credentials import generated_password
from components.platform.services import SERVICES

CONFIG_PATH = "/app/pythonpath/superset_config.py"
ADMIN_USER = "admin"
TRINO_DATABASE_NAME = "Lakehouse (Trino iceberg)"
_PORT = SERVICES["superset"].ports["http"].container
HEALTHCHECK = Healthcheck(test=("CMD", "curl", "-fsS", f"http://localhost:{_PORT}/health"), start_period="60s")


def trino_uri(hostport: str, catalog: str = "iceberg") -> str:
    """Trino without authentication on plain HTTP: a user name and no password (a password forces TLS)."""
    return f"trino://superset@{hostport}/{catalog}"


WEB_TIMEOUT_S = 120


def superset_config(database_uri: str) -> str:
    return "\n".join([
        '"""Rendered by the lakehouse stack; changes here are replaced on the next `pulumi up`."""',
        "import os",
        "",
        'SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]',
        f"SQLALCHEMY_DATABASE_URI = {database_uri!r}",
        "SQLALCHEMY_TRACK_MODIFICATIONS = False",
        "WTF_CSRF_ENABLED = True",
        "TALISMAN_ENABLED = False  # served over plain HTTP inside the homelab",
        "ROW_LIMIT = 5000",
        f"SUPERSET_WEBSERVER_TIMEOUT = {WEB_TIMEOUT_S}",
        'FEATURE_FLAGS = {"ENABLE_TEMPLATE_PROCESSING": False}',
        "",
    ])


def superset_env(secret_key: str) -> list[str]:
    """The image's run-server.sh starts gunicorn with `--timeout ${GUNICORN_TIMEOUT:-60}`: it must not
    cut a query before Superset's own timeout does."""
    return [f"SUPERSET_SECRET_KEY={secret_key}", f"GUNICORN_TIMEOUT={WEB_TIMEOUT_S}"]


def init_env(secret_key: str, admin_password: str, trino: str) -> list[str]:
    """The web container's environment plus what only the init job needs."""
    return [*superset_env(secret_key), f"SUPERSET_ADMIN_PASSWORD={admin_password}", f"SUPERSET_TRINO_URI={trino}"]


def init_script() -> str:
    admin = f'--username {ADMIN_USER} --password "$SUPERSET_ADMIN_PASSWORD"'
    return " && ".join([
        "superset db upgrade",
        f"superset fab create-admin {admin} --firstname Lakehouse --lastname Admin --email admin@lakehouse.invalid",
        f"superset fab reset-password {admin}",
        "superset init",
        f'superset set-database-uri --database_name "{TRINO_DATABASE_NAME}" --uri "$SUPERSET_TRINO_URI"',
    ])


@dataclass(frozen=True)
class SupersetArgs:
    backing: BackingArgs
    trino_hostport: str


class Superset(pulumi.ComponentResource):
    def __init__(self, name: str, args: SupersetArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:bi:Superset", name, None, opts)
        backing = args.backing
        where = backing.placement
        self.admin_user = ADMIN_USER
        self.admin_password = generated_password(f"{name}-admin-password", self, length=24).result
        secret_key = generated_password(f"{name}-secret-key", self, length=64).result
        trino = trino_uri(args.trino_hostport)
        job_envs = pulumi.Output.all(secret_key, self.admin_password).apply(
            lambda secrets: init_env(secrets[0], secrets[1], trino))
        config = Upload(CONFIG_PATH, backing.database.password.apply(
            lambda password: superset_config(backing.sqlalchemy(password))))
        self.init = run_job(f"{name}-init", JobArgs.of(
            where, "init", ["bash", "-c", init_script()], envs=job_envs, uploads=(config,),
            depends_on=backing.depends_on), self)
        self.container = service_container(name, ContainerArgs(
            placement=where,
            healthcheck=HEALTHCHECK,
            envs=after_success(self.init, secret_key.apply(superset_env)),
            uploads=(config,),
            wait_timeout=300,
        ), self)
        self.register_outputs({"container": self.container.name, "adminUser": self.admin_user,
                               "adminPassword": self.admin_password})
