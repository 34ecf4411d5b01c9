"""Superset (QuickSight): metadata in PostgreSQL, Trino's iceberg catalog registered as a database.

`superset_config.py` is rendered here and placed on the image's python path; the secret key
comes from the environment. The `-dev` image carries the PostgreSQL and Trino drivers. A job
in the same image migrates the metadata database, creates the admin (and resets its password
to the generated one, so a re-run converges), runs `superset init` and registers Trino with
`set-database-uri`, which creates or updates by name; it is safe to run again and re-runs
whenever any of its inputs (image, URIs, password, config) change. The web container starts
only after it succeeded. With the demo, a second job imports the demo's content (datasets, charts,
the dashboard) attached to that database and sets the analyst role and login
(`lakehouse_demo/bi/apply.py`, safe to run again); it re-runs when the content changes. Query results
are cached in the metadata database, keyed by dataset, so Airflow can invalidate what a run changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.storage.backing import BackingArgs
from components.platform.containers import ContainerArgs, Healthcheck, JobArgs, Upload, after_success, run_job, service_container
from components.platform.credentials import generated_password
from components.platform.services import SERVICES
from components.platform import workload

CONFIG_PATH = "/app/pythonpath/superset_config.py"
CA_PATH = "/app/pythonpath/lakehouse-ca.pem"  # the stack's CA, which issued Trino's certificate
TRINO_USER = "superset"
ADMIN_USER = "admin"
ANALYST_USER = "analyst"
CONTENT_DIR = "/app/lakehouse_bi"  # the content job's script and bundle, side by side
TRINO_DATABASE_NAME = "Lakehouse (Trino iceberg)"
_PORT = SERVICES["superset"].ports["http"].container
HEALTHCHECK = Healthcheck(test=("CMD", "curl", "-fsS", f"http://localhost:{_PORT}/health"), start_period="60s")


def trino_uri(hostport: str, password: str, catalog: str = "iceberg") -> str:
    """Superset's Trino login on the coordinator's HTTPS port. The URI alone does not make the trino
    dialect use HTTPS (it then refuses the password: "TLS/SSL is required for authentication"), so
    `DB_CONNECTION_MUTATOR` in superset_config.py adds the scheme and the CA to every trino:// engine."""
    return f"trino://{TRINO_USER}:{password}@{hostport}/{catalog}"


WEB_TIMEOUT_S = 120
DATA_CACHE_S = 86400


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
        "# Chart results cached in the metadata database for a day, their keys recorded per dataset: Airflow",
        "# invalidates a dataset's entries after a run changed its table (`/api/v1/cachekey/invalidate`).",
        f"DATA_CACHE_CONFIG = {{'CACHE_TYPE': 'SupersetMetastoreCache', 'CACHE_KEY_PREFIX': 'lakehouse_data_', "
        f"'CACHE_DEFAULT_TIMEOUT': {DATA_CACHE_S}}}",
        "STORE_CACHE_KEYS_IN_METADATA_DB = True",
        f"LAKEHOUSE_CA_FILE = {CA_PATH!r}",
        "",
        "",
        "def DB_CONNECTION_MUTATOR(sqlalchemy_url, params, username, security_manager, source):  # noqa: N802",
        '    """Every trino:// engine talks HTTPS and trusts only the stack\'s CA."""',
        '    if sqlalchemy_url.get_backend_name() == "trino":',
        '        connect_args = params.setdefault("connect_args", {})',
        '        connect_args["http_scheme"] = "https"',
        '        connect_args["verify"] = LAKEHOUSE_CA_FILE',
        "    return sqlalchemy_url, params",
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


def content_command() -> list[str]:
    return ["python", f"{CONTENT_DIR}/apply.py", "--database-name", TRINO_DATABASE_NAME, "--admin", ADMIN_USER,
            "--analyst", ANALYST_USER]


def content_uploads() -> list[Upload]:
    return [Upload(f"{CONTENT_DIR}/{name}", text) for name, text in workload.superset_files().items()]


@dataclass(frozen=True)
class SupersetArgs:
    backing: BackingArgs
    trino_hostport: str  # the coordinator's HTTPS port as Superset reaches it
    trino_password: pulumi.Output[str]
    ca_certificate: pulumi.Input[str]
    demo: bool = False  # import the demo's content and create the analyst login


class Superset(pulumi.ComponentResource):
    def __init__(self, name: str, args: SupersetArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:bi:Superset", name, None, opts)
        backing = args.backing
        where = backing.placement
        self.admin_user = ADMIN_USER
        self.admin_password = generated_password(f"{name}-admin-password", self, length=24).result
        secret_key = generated_password(f"{name}-secret-key", self, length=64).result
        job_envs = pulumi.Output.all(secret_key, self.admin_password, args.trino_password).apply(
            lambda secrets: init_env(secrets[0], secrets[1], trino_uri(args.trino_hostport, secrets[2])))
        config = Upload(CONFIG_PATH, backing.database.password.apply(
            lambda password: superset_config(backing.sqlalchemy(password))))
        ca = Upload(CA_PATH, args.ca_certificate)
        self.init = run_job(f"{name}-init", JobArgs.of(
            where, "init", ["bash", "-c", init_script()], envs=job_envs, uploads=(config, ca),
            depends_on=backing.depends_on), self)
        self.container = service_container(name, ContainerArgs(
            placement=where,
            healthcheck=HEALTHCHECK,
            envs=after_success(self.init, secret_key.apply(superset_env)),
            uploads=(config, ca),
            wait_timeout=300,
        ), self)
        self.analyst_user = self.analyst_password = self.content = None
        if args.demo:
            self.analyst_user = ANALYST_USER
            password = generated_password(f"{name}-analyst-password", self, length=24).result
            self.content = run_job(f"{name}-content", JobArgs.of(
                where, "content", content_command(),
                envs=after_success(self.init, pulumi.Output.all(secret_key, password).apply(
                    lambda v: [*superset_env(v[0]), f"SUPERSET_ANALYST_PASSWORD={v[1]}"])),
                uploads=(config, ca, *content_uploads()), depends_on=(self.init,)), self)
            # Resolves once the content is imported: a failed content job fails `pulumi up` here.
            self.analyst_password = after_success(self.content, password)
        self.register_outputs({"container": self.container.name, "adminUser": self.admin_user,
                               "adminPassword": self.admin_password, "analystUser": self.analyst_user,
                               "analystPassword": self.analyst_password})
