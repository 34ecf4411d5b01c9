"""Iceberg REST catalog (the Glue Data Catalog, with Lake Formation's grants): Apache Polaris.

Polaris keeps its entities in the service's own PostgreSQL database (`relational-jdbc`, schema
`polaris_schema`), authenticates every client with OAuth2 client credentials it issues itself,
and authorizes each request by role: privileges are granted to catalog roles, catalog roles to
principal roles, principal roles to principals. Table data stays in MinIO: for each table a
client loads, Polaris asks MinIO's STS (AssumeRole, as the service's own MinIO user) for
credentials scoped to that table's prefix and hands them to the client ("vended credentials"),
so the engines need no key of their own for the warehouse.

Three containers, in order:
- bootstrap (a job in `apache/polaris-admin-tool` of the server's version) creates the schema,
  the realm and its root principal with the stack's generated secret. From 1.7.0 on, a realm
  that exists is skipped with exit 0 (the server's tag is held to that), and the root secret of
  the first bootstrap is kept: it is fixed for the life of the database.
- the server, with its token-signing key from a file (tokens stay valid across restarts) and its
  heap sized from the container's limit.
- setup (a job running `polaris_setup.py` in a pinned Python) converges the catalog, the
  namespaces, the roles and grants and the principals, each principal with the stack's secret.

Every client secret leaves this component only through the setup job's success, so nothing that
uses one starts before its principal exists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import pulumi

from components.catalogs import polaris_setup
from components.platform.containers import (ContainerArgs, Healthcheck, JobArgs, Upload, after_success, jvm_heap_mb,
                                             run_job, service_container)
from components.platform.credentials import generated_password
from components.platform.services import NAMESPACES
from components.storage.backing import BackingArgs

REALM = "POLARIS"
ROOT = "root"  # the root principal's client id
CATALOG = "warehouse"  # the Polaris catalog (the `warehouse` clients name), over the bucket of that name
CATALOG_PATH = "/api/catalog"  # the Iceberg REST API's base under the server's address
HOME = "/home/polaris"  # the images' working directory (user polaris, uid 10000)
TOKEN_KEY = f"{HOME}/token-broker.key"
ROOT_CREDENTIALS = f"{HOME}/root-credentials.json"
SETUP_DIR = "/opt/lakehouse/polaris"
SETUP_IMAGE = "python:3.13.7-alpine3.22"
SETUP_SOURCE = Path(polaris_setup.__file__).read_text()
# Quarkus' management interface (health, metrics): inside the container only.
MANAGEMENT_PORT = 8182
HEALTHCHECK = Healthcheck(test=("CMD", "curl", "--fail", "--silent", f"http://localhost:{MANAGEMENT_PORT}/q/health/ready"),
                          start_period="60s", retries=12)
# Besides the heap: metaspace (Quarkus, the AWS SDK, Iceberg), code cache, Vert.x threads and direct buffers.
_NON_HEAP_MB = 384


@dataclass(frozen=True)
class Principal:
    """A client of the catalog: its name (also its client id) and the principal role it holds."""

    name: str
    role: str


ENGINE_ROLE, ANALYST_ROLE = "engine", "analyst"
WRITER, GOLD_READER = "zones_writer", "gold_reader"
# Trino and Spark (the Connect server and JupyterLab's sessions) write; the analyst reads the gold zone.
PRINCIPALS = (Principal("trino", ENGINE_ROLE), Principal("spark", ENGINE_ROLE), Principal("analyst", ANALYST_ROLE))
PRINCIPAL_ROLES = {ENGINE_ROLE: (WRITER,), ANALYST_ROLE: (GOLD_READER,)}
# What reading a zone takes: its tables' and views' metadata and the tables' data (vended read-only).
READ_PRIVILEGES = ("NAMESPACE_READ_PROPERTIES", "TABLE_LIST", "TABLE_READ_PROPERTIES", "TABLE_READ_DATA",
                   "VIEW_LIST", "VIEW_READ_PROPERTIES")


def catalog_grant(privilege: str) -> dict:
    return {"type": "catalog", "privilege": privilege}


def namespace_grant(namespace: str, privilege: str) -> dict:
    return {"type": "namespace", "namespace": [namespace], "privilege": privilege}


def catalog_roles(namespaces: tuple[str, ...]) -> dict[str, list[dict]]:
    """Each catalog role's grants. catalog_admin (Polaris' own, held by root) manages content so the setup
    can create the zones; the writer lists the zones and manages everything in each (tables, views, their
    data), but cannot create or drop a zone; the gold reader reads the gold zone and sees nothing else."""
    return {
        "catalog_admin": [catalog_grant("CATALOG_MANAGE_CONTENT")],
        WRITER: [catalog_grant("NAMESPACE_LIST"),
                 *(namespace_grant(namespace, "CATALOG_MANAGE_CONTENT") for namespace in namespaces)],
        GOLD_READER: [namespace_grant("gold", privilege) for privilege in READ_PRIVILEGES],
    }


def storage_config(client_endpoint: str, internal_endpoint: str, region: str) -> dict:
    """The catalog's S3 storage on MinIO: the whole bucket, which must hold the catalog's base location (Hive's
    `hive/` is a sibling prefix no principal but root could create a namespace over). Clients get `endpoint` with their vended credentials; Polaris
    reaches MinIO (S3 and STS) at `endpointInternal`. MinIO checks every request's region against its own
    (`MINIO_SITE_REGION`), STS included. No `roleArn`: MinIO's AssumeRole ignores it, and without KMS
    (`kmsUnavailable`) the session policy carries no KMS statements MinIO knows nothing of."""
    return {
        "storageType": "S3",
        "allowedLocations": [f"s3://{CATALOG}/"],
        "region": region,
        "endpoint": client_endpoint,
        "endpointInternal": internal_endpoint,
        "pathStyleAccess": True,
        "kmsUnavailable": True,
    }


def catalog_entity(client_endpoint: str, internal_endpoint: str, region: str) -> dict:
    """The `warehouse` catalog: tables under `s3://warehouse/<namespace>/`. Trino drops every table with
    purge, which Polaris refuses unless the catalog allows it."""
    return {
        "type": "INTERNAL",
        "name": CATALOG,
        "properties": {"default-base-location": f"s3://{CATALOG}",
                       "polaris.config.drop-with-purge.enabled": "true"},
        "storageConfigInfo": storage_config(client_endpoint, internal_endpoint, region),
    }


def secret_env(principal: str) -> str:
    return f"POLARIS_SECRET_{principal.upper()}"


def setup_plan(client_endpoint: str, internal_endpoint: str, region: str) -> dict:
    """What `polaris_setup.py` converges the realm on (no secrets: those are in its environment)."""
    return {
        "catalog": catalog_entity(client_endpoint, internal_endpoint, region),
        "namespaces": list(NAMESPACES),
        "catalogRoles": catalog_roles(NAMESPACES),
        "principalRoles": {role: list(assigned) for role, assigned in PRINCIPAL_ROLES.items()},
        "principals": {p.name: {"clientId": p.name, "principalRole": p.role, "secretEnv": secret_env(p.name)}
                       for p in PRINCIPALS},
    }


def setup_env(url: str, root_secret: str, secrets: Mapping[str, str]) -> list[str]:
    return [f"POLARIS_URL={url}", f"POLARIS_ROOT_ID={ROOT}", f"POLARIS_ROOT_SECRET={root_secret}",
            *(f"{secret_env(name)}={secret}" for name, secret in secrets.items())]


def root_credentials(root_secret: str) -> str:
    """The admin tool's credentials file (`bootstrap -f`), so the secret is in no command line."""
    return json.dumps({REALM: {"client-id": ROOT, "client-secret": root_secret}}, indent=2) + "\n"


def persistence_env(jdbc: str, user: str, password: str) -> list[str]:
    """The database, for the server and the admin tool alike."""
    return [
        "polaris.persistence.type=relational-jdbc",
        "polaris.persistence.relational.jdbc.database-type=postgresql",
        f"quarkus.datasource.jdbc.url={jdbc}",
        f"quarkus.datasource.username={user}",
        f"quarkus.datasource.password={password}",
    ]


def server_env(persistence: list[str], s3_user: str, s3_secret: str, region: str, memory_mb: int) -> list[str]:
    """One realm, no realm header needed (stated, so Polaris does not warn of a default). Tokens are signed
    with the key in `TOKEN_KEY`. Polaris' own S3 and STS calls use the service's MinIO user from the AWS
    environment. The heap is fixed from the container's limit (`JAVA_MAX_MEM_RATIO=0` drops the image's
    80% default); logs go to the console only."""
    heap = jvm_heap_mb(memory_mb, _NON_HEAP_MB)
    return [
        *persistence,
        f"polaris.realm-context.realms={REALM}",
        "polaris.realm-context.require-header=false",
        "polaris.authentication.token-broker.type=symmetric-key",
        f"polaris.authentication.token-broker.symmetric-key.file={TOKEN_KEY}",
        "quarkus.log.file.enabled=false",
        f"AWS_REGION={region}",
        f"AWS_ACCESS_KEY_ID={s3_user}",
        f"AWS_SECRET_ACCESS_KEY={s3_secret}",
        "JAVA_MAX_MEM_RATIO=0",
        f"JAVA_OPTS_APPEND=-Xms{heap}m -Xmx{heap}m",
    ]


def admin_tool_image(server_image: str) -> str:
    """`apache/polaris:<v>` -> `apache/polaris-admin-tool:<v>`: the admin tool must match the server's schema."""
    repository, tag = server_image.rsplit(":", 1)
    return f"{repository}-admin-tool:{tag}"


def catalog_uri(server_url: str) -> str:
    """The Iceberg REST base URI clients are given (`http://host:port/api/catalog`)."""
    return f"{server_url}{CATALOG_PATH}"


@dataclass(frozen=True)
class CatalogClient:
    """An Iceberg REST client of the catalog as one principal: OAuth2 client credentials, the token
    endpoint named explicitly (Iceberg's fallback to `<uri>/v1/oauth/tokens` is deprecated), and the
    principal role it asks for."""

    uri: str
    principal: Principal
    secret: str
    warehouse: str = CATALOG

    @property
    def credential(self) -> str:
        return f"{self.principal.name}:{self.secret}"

    @property
    def token_uri(self) -> str:
        return f"{self.uri}/v1/oauth/tokens"

    @property
    def scope(self) -> str:
        return f"PRINCIPAL_ROLE:{self.principal.role}"


def principal(name: str) -> Principal:
    [found] = [p for p in PRINCIPALS if p.name == name]
    return found


@dataclass(frozen=True)
class PolarisArgs:
    backing: BackingArgs
    url: str  # the server as the jobs beside it reach it
    client_s3_endpoint: str  # MinIO as the catalog's clients (the compute hosts, a workstation) reach it


class Polaris(pulumi.ComponentResource):
    def __init__(self, name: str, args: PolarisArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:catalog:Polaris", name, None, opts)
        backing = args.backing
        where = backing.placement
        self.root_secret = generated_password(f"{name}-root-secret", self, length=48).result
        token_key = generated_password(f"{name}-token-key", self, length=64).result
        generated = {p.name: generated_password(f"{name}-{p.name}-secret", self, length=40).result for p in PRINCIPALS}
        persistence = backing.database.password.apply(
            lambda password: persistence_env(backing.jdbc, backing.database.user, password))
        self.bootstrap = run_job(f"{name}-bootstrap", JobArgs(
            host=where.host, image=admin_tool_image(where.service.image),
            container_name=f"{where.container_name}-bootstrap",
            command=["bootstrap", "-f", ROOT_CREDENTIALS], envs=persistence,
            uploads=(Upload(ROOT_CREDENTIALS, self.root_secret.apply(root_credentials)),),
            memory_mb=512, depends_on=backing.depends_on), self)
        envs = pulumi.Output.all(persistence, backing.s3.secret_key).apply(lambda v: server_env(
            v[0], backing.s3.access_key, v[1], backing.region, where.service.memory_mb))
        self.container = service_container(name, ContainerArgs(
            placement=where,
            healthcheck=HEALTHCHECK,
            envs=after_success(self.bootstrap, envs),
            uploads=(Upload(TOKEN_KEY, token_key),),
            depends_on=backing.depends_on,
            wait_timeout=300,
        ), self)
        plan = json.dumps(setup_plan(args.client_s3_endpoint, backing.s3_endpoint, backing.region), indent=2) + "\n"
        self.setup = run_job(f"{name}-setup", JobArgs(
            host=where.host, image=SETUP_IMAGE, container_name=f"{where.container_name}-setup",
            command=["python", f"{SETUP_DIR}/polaris_setup.py", f"{SETUP_DIR}/plan.json"],
            envs=pulumi.Output.all(self.root_secret, *generated.values()).apply(
                lambda v: setup_env(args.url, v[0], dict(zip(generated, v[1:])))),
            uploads=(Upload(f"{SETUP_DIR}/polaris_setup.py", SETUP_SOURCE), Upload(f"{SETUP_DIR}/plan.json", plan)),
            memory_mb=128, depends_on=[self.container]), self)
        # The principals' secrets, once the setup job gave each principal its secret.
        self.secrets: dict[str, pulumi.Output[str]] = {
            p: after_success(self.setup, secret) for p, secret in generated.items()}
        self.register_outputs({"container": self.container.name, "catalog": CATALOG,
                               "principals": [p.name for p in PRINCIPALS]})
