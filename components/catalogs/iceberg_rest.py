"""Iceberg REST catalog (the Glue Data Catalog): table metadata in PostgreSQL, data in MinIO.

`apache/iceberg-rest-fixture` maps `CATALOG_*` variables to catalog properties (`__` -> `-`,
`_` -> `.`). Its JDBC catalog keeps the catalog in the service's own PostgreSQL database, so it
survives restarts. The image has no PostgreSQL driver and its `java -jar` ignores `-cp`, so the
server class is started with the adapter jar and the driver from the artifact volume. Its heap
follows the container's limit, and the server's own INFO line, which prints every catalog property
including the database password, is silenced.

The catalog runs in strict mode (a table needs an existing namespace), so a one-shot job creates
the warehouse's namespaces once the server is healthy; one that exists already is success.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.platform.artifacts import ARTIFACTS, JARS
from components.storage.backing import BackingArgs
from components.platform.containers import (ContainerArgs, Healthcheck, JobArgs, VolumeMount, run_job,
                                             service_container)
from components.platform.s3 import S3Settings, warehouse_uri
from components.platform.services import NAMESPACES, SERVICES

ADAPTER_JAR = "/usr/lib/iceberg-rest/iceberg-rest-adapter.jar"
_PORT = SERVICES["iceberg-rest"].ports["http"].container
HEALTHCHECK = Healthcheck(test=("CMD", "curl", "--fail", "--silent", f"http://localhost:{_PORT}/v1/config"))


def iceberg_rest_command() -> list[str]:
    classpath = f"{ADAPTER_JAR}:{ARTIFACTS['postgresql-jdbc'].path}"
    return ["java", "-XX:MaxRAMPercentage=70",
            "-Dorg.slf4j.simpleLogger.log.org.apache.iceberg.rest.RESTCatalogServer=warn",
            "-cp", classpath, "org.apache.iceberg.rest.RESTCatalogServer"]


def namespaces_script(catalog_url: str, namespaces: tuple[str, ...]) -> str:
    """Create each namespace through the REST API; 200 (created) and 409 (exists) both converge."""
    lines = ["set -eu", "create() {",
             f"  code=$(curl -sS -o /dev/null -w '%{{http_code}}' -X POST -H 'Content-Type: application/json' "
             f"""-d '{{"namespace": ["'"$1"'"]}}' {catalog_url}/v1/namespaces)""",
             '  case "$code" in 200|409) echo "namespace $1: $code" ;; *) echo "namespace $1: HTTP $code" >&2; exit 1 ;; esac',
             "}"]
    return "\n".join([*lines, *(f"create {namespace}" for namespace in namespaces)]) + "\n"


def iceberg_rest_env(jdbc: str, db_user: str, db_password: str, s3: S3Settings) -> list[str]:
    return [
        "CATALOG_CATALOG__IMPL=org.apache.iceberg.jdbc.JdbcCatalog",
        f"CATALOG_URI={jdbc}",
        f"CATALOG_JDBC_USER={db_user}",
        f"CATALOG_JDBC_PASSWORD={db_password}",
        f"CATALOG_WAREHOUSE={warehouse_uri()}",
        "CATALOG_IO__IMPL=org.apache.iceberg.aws.s3.S3FileIO",
        f"CATALOG_S3_ENDPOINT={s3.endpoint}",
        "CATALOG_S3_PATH__STYLE__ACCESS=true",
        f"CATALOG_CLIENT_REGION={s3.region}",
        f"AWS_REGION={s3.region}",
        f"AWS_ACCESS_KEY_ID={s3.access_key}",
        f"AWS_SECRET_ACCESS_KEY={s3.secret_key}",
    ]


@dataclass(frozen=True)
class IcebergRestArgs:
    backing: BackingArgs
    url: str  # the server as a job beside it reaches it


class IcebergRest(pulumi.ComponentResource):
    def __init__(self, name: str, rest: IcebergRestArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:catalog:IcebergRest", name, None, opts)
        args = rest.backing
        envs = pulumi.Output.all(args.database.password, args.s3.secret_key).apply(
            lambda secrets: iceberg_rest_env(args.jdbc, args.database.user, secrets[0], args.s3_settings(secrets[1])))
        self.container = service_container(name, ContainerArgs(
            placement=args.placement,
            healthcheck=HEALTHCHECK,
            envs=envs,
            command=iceberg_rest_command(),
            volumes=(VolumeMount(args.jars_volume, JARS, read_only=True),),
            depends_on=args.depends_on,
        ), self)
        self.namespaces = run_job(f"{name}-namespaces", JobArgs.of(
            args.placement, "namespaces", ["sh", "-c", namespaces_script(rest.url, NAMESPACES)],
            depends_on=[self.container]), self)
        self.register_outputs({"container": self.container.name, "namespaces": list(NAMESPACES)})
