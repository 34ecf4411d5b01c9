"""The service table: one entry per service of the lakehouse.

Each entry says which plane a service belongs to, which image and container ports it runs
with (services without an image are not deployed as containers yet, but still get their
storage), which buckets/prefixes its own MinIO user may touch and whether it owns a
PostgreSQL database. Users, policies, databases, ports and placement are all derived from
this table, so adding a service is one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Mapping, Optional


class Plane(str, Enum):
    STORAGE = "storage"
    COMPUTE = "compute"


@dataclass(frozen=True)
class Port:
    """A container port and the host port it is published on by default."""

    container: int
    published: int


@dataclass(frozen=True)
class Grant:
    """Access of one service to one bucket, optionally narrowed to a key prefix."""

    bucket: str
    prefix: str = ""
    write: bool = True


@dataclass(frozen=True)
class Service:
    name: str
    plane: Plane
    image: Optional[str] = None
    memory: str = "512m"
    ports: Mapping[str, Port] = field(default_factory=dict)
    grants: tuple[Grant, ...] = ()
    database: Optional[str] = None
    # More databases owned by the same role (MLflow's basic-auth user store beside its tracking store).
    extra_databases: tuple[str, ...] = ()
    replicas: Optional[int] = None  # None: runs once; a number: default instance count of a scaled service
    artifacts: tuple[str, ...] = ()  # names in components.platform.artifacts.ARTIFACTS, present at run time
    containers: int = 1  # long-running containers per instance, each with the service's memory limit
    # A configured image's tag must match this (the group `version` is what the program derives from it).
    tag_pattern: Optional[str] = None
    follows: Optional[str] = None  # a singleton that always runs on the host of this other singleton
    demo: bool = False  # part of the demo workload: deployed only while `demo.enabled` is on

    @property
    def host_network(self) -> bool:
        """Compute services use the host's network: their nodes advertise the host's address to peers
        on other hosts (Trino workers, Spark executors and driver), which a bridge network hides."""
        return self.plane is Plane.COMPUTE

    @property
    def ident(self) -> str:
        """The service name as an identifier for MinIO users and PostgreSQL roles."""
        return self.name.replace("-", "_")


@dataclass(frozen=True)
class Bucket:
    name: str
    versioned: bool = False
    expires_after: Optional[str] = None  # the LakehouseConfig field holding the days after which objects expire
    description: str = ""


BUCKETS: tuple[Bucket, ...] = (
    Bucket("landing", expires_after="landing_expiration_days",
           description="Raw files as they arrive (ingest drop zone); objects expire after "
                       "`landingExpirationDays`."),
    Bucket("warehouse", versioned=True,
           description="Table data. Zones: `bronze/` (cleaned copies of landing data) and "
                       "`gold/` (curated, query-ready tables) are Iceberg namespaces of the same name; "
                       "`hive/` holds legacy Hive tables."),
    Bucket("mlflow", description="MLflow run artifacts and registered models."),
    Bucket("notebooks", versioned=True,
           description="JupyterLab's notebooks: each save is a new version here, and a JupyterLab on a new VM "
                       "restores them; the VM's work folder is only a working copy."),
    Bucket("reference",
           description="Reference data the stack uploads and the pipelines read, never expiring: `taxi/` holds the "
                       "demo's TLC taxi-zone lookup."),
    Bucket("logs", expires_after="log_retention_days",
           description="Logs that must outlive the compute VMs: `airflow/` holds Airflow's task logs (remote "
                       "logging); objects expire after `logRetentionDays`."),
)

# The Iceberg namespaces (zones) of the warehouse, created by the stack: the engines' catalog grants are on
# these namespaces, so a table can only be created in one of them.
NAMESPACES: tuple[str, ...] = ("bronze", "gold")

_WAREHOUSE = Grant("warehouse")
_LANDING_READ = Grant("landing", write=False)

_TRINO_IMAGE = "trinodb/trino:476"
# One image for the Spark master, the workers, JupyterLab (a driver) and the Spark Connect server
# (a driver): Spark 4.1.2 (Scala 2.13, Hadoop 3.4.2), Java 21 and Python 3.13 are the same on every
# side by construction. The newest Jupyter build of a Spark line Iceberg 1.11 ships a runtime for
# (there is no 4.1.3 build, and 4.2+ breaks the 4.1 runtime): never `latest`.
_SPARK_IMAGE = "quay.io/jupyter/pyspark-notebook:spark-4.1.2"
_SPARK_JARS = ("iceberg-spark-runtime", "iceberg-aws-bundle", "hadoop-aws", "aws-sdk-bundle")

_TABLE = (
    Service("minio", Plane.STORAGE, image="quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z", memory="1g",
            ports={"api": Port(9000, 9000), "console": Port(9001, 9001)}),
    Service("postgres", Plane.STORAGE, image="postgres:17.6-bookworm", memory="1g",
            ports={"postgres": Port(5432, 5432)}),
    # Apache Polaris: its admin tool (same version) bootstraps the realm; bootstrap is idempotent from 1.7.0 on.
    Service("iceberg-rest", Plane.STORAGE, image="apache/polaris:1.7.0", memory="1g",
            ports={"http": Port(8181, 8181)}, grants=(_WAREHOUSE,), database="iceberg",
            tag_pattern=r"(?P<version>1\.(?:[7-9]|[1-9]\d)\.\d+)"),
    Service("hive-metastore", Plane.STORAGE, image="apache/hive:4.0.1", memory="1g",
            ports={"thrift": Port(9083, 9083)}, grants=(Grant("warehouse", "hive/"),), database="metastore",
            artifacts=("postgresql-jdbc",)),
    Service("trino", Plane.COMPUTE, image=_TRINO_IMAGE, memory="4g",
            ports={"http": Port(8080, 8080), "https": Port(8443, 8443)},
            grants=(_WAREHOUSE, _LANDING_READ)),
    Service("trino-worker", Plane.COMPUTE, image=_TRINO_IMAGE, memory="4g", ports={"http": Port(8090, 8090)},
            replicas=1),
    Service("spark", Plane.COMPUTE, image=_SPARK_IMAGE, memory="1g",
            ports={"master": Port(7077, 7077), "ui": Port(8081, 8081)}, grants=(_WAREHOUSE, _LANDING_READ),
            artifacts=_SPARK_JARS),
    Service("spark-worker", Plane.COMPUTE, image=_SPARK_IMAGE, memory="3g",
            ports={"worker": Port(7100, 7100), "ui": Port(8100, 8100)}, replicas=1, artifacts=_SPARK_JARS),
    Service("jupyter", Plane.COMPUTE, image=_SPARK_IMAGE, memory="2g", grants=(Grant("notebooks"),),
            ports={"lab": Port(8888, 8888), "driver": Port(7200, 7200), "blockmanager": Port(7201, 7201),
                   "ui": Port(4040, 4040)},
            artifacts=_SPARK_JARS),
    # A long-running driver that serves Spark Connect clients (Airflow, notebooks) on loopback only.
    Service("spark-connect", Plane.COMPUTE, image=_SPARK_IMAGE, memory="1536m", follows="spark",
            ports={"grpc": Port(15002, 15002), "driver": Port(7210, 7210), "blockmanager": Port(7211, 7211),
                   "ui": Port(4050, 4050)},
            artifacts=_SPARK_JARS),
    Service("mlflow", Plane.STORAGE, image="ghcr.io/mlflow/mlflow:v3.17.0-full", memory="1g",
            ports={"http": Port(5000, 5000)}, grants=(Grant("mlflow"),), database="mlflow",
            extra_databases=("mlflow_auth",)),
    Service("superset", Plane.STORAGE, image="apache/superset:6.1.0-dev", memory="2g",
            ports={"http": Port(8088, 8088)}, database="superset"),
    # Four components (api-server, scheduler, dag-processor, triggerer) of one service, each with this memory.
    # Python 3.13 like the Spark image: Python UDFs sent through Spark Connect run on the executors' Python.
    Service("airflow", Plane.COMPUTE, image="apache/airflow:3.3.2-python3.13", memory="1g", containers=4,
            tag_pattern=r"(?P<version>\d+\.\d+\.\d+)-python3\.\d+",
            ports={"api": Port(8082, 8082), "scheduler-health": Port(8974, 8974), "logs": Port(8793, 8793),
                   "triggerer-logs": Port(8794, 8794)},
            grants=(Grant("landing"), Grant("warehouse", write=False), Grant("reference", write=False),
                    Grant("logs", "airflow/")), database="airflow"),
    # The demo's operational database (no container: a database and login in the stack's PostgreSQL that the
    # demo's DAG plays a day of taxi activity into and extracts the change log from).
    Service("taxi-source", Plane.STORAGE, database="taxi_source", demo=True),
)

SERVICES: Mapping[str, Service] = MappingProxyType({s.name: s for s in _TABLE})


def buckets_markdown() -> str:
    """The README's bucket table."""
    rows = ["| bucket | versioned | what it holds |", "| --- | --- | --- |"]
    rows += [f"| `{b.name}` | {'yes' if b.versioned else 'no'} | {b.description} |" for b in BUCKETS]
    return "\n".join(rows) + "\n"


def access_markdown() -> str:
    """The README's table of each service's own MinIO access and database."""
    def grant(g: Grant) -> str:
        return f"`{g.bucket}/{g.prefix}` {'read/write' if g.write else 'read'}"

    rows = ["| service | MinIO user: access | database (owned by its role) |", "| --- | --- | --- |"]
    rows += [f"| {s.name} | {'`' + s.ident + '`: ' + ', '.join(map(grant, s.grants)) if s.grants else '-'} | "
             f"{', '.join(f'`{d}`' for d in (s.database, *s.extra_databases)) + ' (`' + s.ident + '`)' if s.database else '-'} |"
             for s in SERVICES.values() if s.grants or s.database]
    return "\n".join(rows) + "\n"
