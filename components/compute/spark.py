"""Spark standalone (Glue jobs / EMR): master, workers, JupyterLab (a driver) and a Spark Connect server.

Master, workers, JupyterLab and the Connect server run from one image
(`quay.io/jupyter/pyspark-notebook`), so Spark, PySpark and Python match on drivers and executors.
They use host networking: executors on any host connect back to a driver at its host's address and
fixed ports. Every process reads one generated `spark.authenticate.secret` from its uploaded
`spark-defaults.conf` (never a command line), so nothing without it can register a worker, submit an
application or talk to an executor. The Connect server listens on loopback only and wants a generated
token (`SPARK_CONNECT_AUTHENTICATE_TOKEN`): clients on the master's host (Airflow, and JupyterLab when
it runs there) use `sc://localhost:<port>`. Executor and driver sizes come from `spark_sizing`. The Iceberg REST
catalog is the default catalog (`iceberg`), reached as Spark's principal, with table data on the credentials
it vends; `s3a://` reads of raw files use hadoop-aws with Spark's own MinIO user. The
jars come from the artifact volume, each named by its path in `CLASSPATH` order on both driver
and executor classpaths (never `jars/*`, whose order the JVM leaves unspecified).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence

import pulumi

from components.catalogs.polaris import CatalogClient, catalog_uri, principal
from components.compute import jupyter_notebook_store
from components.platform.artifacts import ARTIFACTS, JARS
from components.platform import spark_sizing as sizing
from components.platform.config import LakehouseConfig, SparkConfig
from components.platform.containers import (ContainerArgs, Healthcheck, Placement, Upload, VolumeMount, data_volume, placement,
                                   placements, service_container)
from components.platform.credentials import generated_password
from components.storage.data import S3Credentials
from components.platform.endpoints import resolve
from components.platform.formats import java_properties, s3a_properties
from components.platform.hosts import DockerHost
from components.platform.s3 import S3Settings

SPARK_HOME = "/usr/local/spark"
CATALOG = "iceberg"
NOTEBOOKS = "/home/jovyan/work"
# Loaded by the Jupyter server as a config file (beside the image's own in /etc/jupyter).
NOTEBOOK_STORE_CONFIG = "/usr/local/etc/jupyter/jupyter_server_config.py"
NOTEBOOK_STORE_SOURCE = Path(jupyter_notebook_store.__file__).read_text()


@dataclass(frozen=True)
class NotebookStore:
    """Where JupyterLab keeps its notebooks (see `jupyter_notebook_store`)."""

    endpoint: str
    region: str
    access_key: str
    bucket: str = "notebooks"

    def env(self, secret_key: str) -> list[str]:
        return [f"NOTEBOOK_STORE_ENDPOINT={self.endpoint}", f"NOTEBOOK_STORE_REGION={self.region}",
                f"NOTEBOOK_STORE_BUCKET={self.bucket}", f"NOTEBOOK_STORE_ACCESS_KEY={self.access_key}",
                f"NOTEBOOK_STORE_SECRET_KEY={secret_key}", f"NOTEBOOK_STORE_ROOT={NOTEBOOKS}"]
DEFAULTS = f"{SPARK_HOME}/conf/spark-defaults.conf"
# spark-daemon.sh (behind start-connect-server.sh) writes there even in the foreground; the image's
# default, $SPARK_HOME/logs, belongs to root and the container runs as jovyan.
LOG_DIR = "/tmp/spark-logs"
PID_DIR = "/tmp/spark-pids"
WORKER_DIR = "/tmp/spark-work"
CONNECT_SERVER = "org.apache.spark.sql.connect.service.SparkConnectServer"
# Driver and executor classpath, first jar first. iceberg-aws-bundle carries the AWS SDK v2 it was built
# with (2.44.x) without relocating it, and the SDK bundle carries 2.29.52 for hadoop-aws: where both hold
# a class, the first wins. Iceberg's jars come first so S3FileIO (every Iceberg table) runs on exactly
# the SDK it was built and tested with; S3A (raw `s3a://` files) takes the newer classes for the modules
# both carry (SDK minors keep binary compatibility) and the bundle for the rest (the transfer manager).
# The other order would run Iceberg's 2.44 code on 2.29 classes, which lack APIs it calls.
CLASSPATH = ("iceberg-spark-runtime", "iceberg-aws-bundle", "hadoop-aws", "aws-sdk-bundle")


def classpath() -> str:
    return ":".join(ARTIFACTS[key].path for key in CLASSPATH)


def _http_probe(port: int, path: str) -> Healthcheck:
    return Healthcheck(test=("CMD", "wget", "-q", "-O", "/dev/null", f"http://localhost:{port}{path}"))


def security_defaults(secret: str) -> dict[str, str]:
    """What every Spark process reads (master, workers, drivers): RPC authentication with the shared
    secret, no kill buttons in the UIs, no unauthenticated REST submission server."""
    return {
        "spark.authenticate": "true",
        "spark.authenticate.secret": secret,
        "spark.ui.killEnabled": "false",
        "spark.master.rest.enabled": "false",
    }


@dataclass(frozen=True)
class Driver:
    """Where a driver listens (host networking: its host's address, fixed ports) and its heap."""

    host: str
    port: int
    block_manager_port: int
    ui_port: int
    memory_mb: int


@dataclass(frozen=True)
class Executors:
    memory_mb: int
    cores: int
    cores_max: Optional[int] = None  # None: every core the workers offer

    @staticmethod
    def of(spark: SparkConfig, cores_max: Optional[int] = None) -> "Executors":
        return Executors(spark.executor_memory_mb, spark.executor_cores, cores_max)


def iceberg_catalog(catalog: CatalogClient, s3_endpoint: str, region: str) -> dict[str, str]:
    """The `iceberg` catalog: the REST catalog as Spark's principal (OAuth2 client credentials, refreshed before
    they expire), and S3FileIO with the credentials the catalog vends per table, which reach the executors
    with the table (no key of Spark's own)."""
    prefix = f"spark.sql.catalog.{CATALOG}"
    return {
        prefix: "org.apache.iceberg.spark.SparkCatalog",
        f"{prefix}.type": "rest",
        f"{prefix}.uri": catalog.uri,
        f"{prefix}.warehouse": catalog.warehouse,
        f"{prefix}.rest.auth.type": "oauth2",
        f"{prefix}.credential": catalog.credential,
        f"{prefix}.oauth2-server-uri": catalog.token_uri,
        f"{prefix}.scope": catalog.scope,
        f"{prefix}.token-refresh-enabled": "true",
        f"{prefix}.header.X-Iceberg-Access-Delegation": "vended-credentials",
        f"{prefix}.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
        f"{prefix}.s3.endpoint": s3_endpoint,
        f"{prefix}.s3.path-style-access": "true",
        f"{prefix}.client.region": region,
    }


def spark_defaults(master_url: str, catalog: CatalogClient, s3: S3Settings, driver: Driver, executors: Executors,
                   secret: str) -> dict[str, str]:
    """A driver's `spark-defaults.conf`: the catalogs, the jars, where it listens, its executors, the secret.
    Spark's own MinIO user (`s3`) is for `s3a://` files only."""
    sizing_keys = {
        "spark.driver.memory": f"{driver.memory_mb}m",
        "spark.executor.memory": f"{executors.memory_mb}m",
        "spark.executor.cores": str(executors.cores),
    }
    if executors.cores_max is not None:
        sizing_keys["spark.cores.max"] = str(executors.cores_max)
    return {
        "spark.master": master_url,
        "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        **iceberg_catalog(catalog, s3.endpoint, s3.region),
        "spark.sql.defaultCatalog": CATALOG,
        "spark.executorEnv.AWS_REGION": s3.region,
        "spark.driver.extraClassPath": classpath(),
        "spark.executor.extraClassPath": classpath(),
        "spark.driver.host": driver.host,
        "spark.driver.bindAddress": "0.0.0.0",
        "spark.driver.port": str(driver.port),
        "spark.driver.blockManager.port": str(driver.block_manager_port),
        "spark.ui.port": str(driver.ui_port),
        **sizing_keys,
        **s3a_properties(s3, prefix="spark.hadoop."),
        **security_defaults(secret),
    }


def master_command(address: str, port: int, ui_port: int) -> list[str]:
    return [f"{SPARK_HOME}/bin/spark-class", "org.apache.spark.deploy.master.Master",
            "--host", address, "--port", str(port), "--webui-port", str(ui_port)]


DAEMON_MEMORY_MB = 256


def worker_command(master_url: str, address: str, port: int, ui_port: int, memory_mb: int, cores: int) -> list[str]:
    """A worker offering its container's memory less what the worker JVM and an executor's non-heap need,
    and `cores` cores (by default a worker offers every core of its host)."""
    return [f"{SPARK_HOME}/bin/spark-class", "org.apache.spark.deploy.worker.Worker",
            "--host", address, "--port", str(port), "--webui-port", str(ui_port),
            "--cores", str(cores), "--memory", f"{sizing.worker_offer_mb(memory_mb)}m", master_url]


def daemon_env(region: str) -> list[str]:
    return [f"SPARK_DAEMON_MEMORY={DAEMON_MEMORY_MB}m", f"AWS_REGION={region}"]


def worker_env(region: str) -> list[str]:
    """Applications' work directories are deleted once they finish (they would grow for ever)."""
    return [f"SPARK_WORKER_DIR={WORKER_DIR}", "SPARK_WORKER_OPTS=-Dspark.worker.cleanup.enabled=true",
            *daemon_env(region)]


def connect_command(port: int) -> list[str]:
    """`start-connect-server.sh` (spark-daemon.sh submit SparkConnectServer) with gRPC on loopback only;
    everything else comes from its spark-defaults.conf."""
    return [f"{SPARK_HOME}/sbin/start-connect-server.sh",
            "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
            "--conf", f"spark.connect.grpc.binding.port={port}"]


def connect_env(token: str, driver_mb: int, region: str) -> list[str]:
    """In the foreground (the container's main process). The launcher sizes the server's JVM by
    SPARK_DAEMON_MEMORY, which wins over spark.driver.memory: it is the driver heap, not the daemons' 256m."""
    return ["SPARK_NO_DAEMONIZE=1", f"SPARK_DAEMON_MEMORY={driver_mb}m", f"SPARK_LOG_DIR={LOG_DIR}",
            f"SPARK_PID_DIR={PID_DIR}", f"SPARK_CONNECT_AUTHENTICATE_TOKEN={token}", f"AWS_REGION={region}"]


def connect_probe(port: int) -> Healthcheck:
    """The gRPC port opens once the server's SparkContext has registered with the master."""
    return Healthcheck(test=("CMD", "bash", "-c", f"echo > /dev/tcp/127.0.0.1/{port}"), interval="10s",
                       retries=12, start_period="90s")


def connect_url(port: int) -> str:
    """From the master's host only (the server binds loopback; the client sends a token without TLS only
    to the literal host `localhost`)."""
    return f"sc://localhost:{port}"


def jupyter_env(token: str, port: int, region: str, connect_token: Optional[str] = None) -> list[str]:
    env = [f"JUPYTER_TOKEN={token}", f"JUPYTER_PORT={port}", f"AWS_REGION={region}"]
    if connect_token is not None:  # JupyterLab on the Connect server's host: `builder.remote("sc://localhost:...")`
        env.append(f"SPARK_CONNECT_AUTHENTICATE_TOKEN={connect_token}")
    return env


@dataclass(frozen=True)
class SparkArgs:
    config: LakehouseConfig
    hosts: Mapping[str, DockerHost]
    s3: S3Credentials
    jars_volumes: dict[str, pulumi.Input[str]]  # verified artifact volume by host
    depends_on: Sequence[pulumi.Resource]
    notebooks_s3: S3Credentials  # JupyterLab's own user, for its notebook store
    catalog_secret: pulumi.Output[str]  # Spark's principal in the REST catalog (Connect server and JupyterLab)
    # What the notebooks get to reach other services as their own client (logins, the stack's CA).
    jupyter_client_env: pulumi.Input[Sequence[str]] = ()
    jupyter_client_uploads: Sequence[Upload] = ()


class Spark(pulumi.ComponentResource):
    """Master (`spark`), workers (`spark-worker-<n>`), JupyterLab (`jupyter`), Connect server (`spark-connect`)."""

    def __init__(self, name: str, args: SparkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:compute:Spark", name, None, opts)
        self._args = args
        config = args.config
        master = placement(config, args.hosts, "spark")
        self.master_url = resolve(config, "spark", "master").url("spark")
        self.master_ui_url = resolve(config, "spark", "ui").url()
        secret = generated_password(f"{name}-auth-secret", self, length=48).result
        daemon_defaults = secret.apply(lambda value: java_properties(security_defaults(value), separator=" "))
        ports = master.instance.ports
        self.master = self._container(name, master, _http_probe(ports["ui"], "/json/"),
                                      command=master_command(master.address, ports["master"], ports["ui"]),
                                      envs=daemon_env(config.region),
                                      uploads=(Upload(DEFAULTS, daemon_defaults),))
        self.workers = [
            self._container(f"{name}-worker-{index + 1}", worker, _http_probe(worker.instance.ports["ui"], "/json/"),
                            command=worker_command(resolve(config, "spark", "master", worker.instance).url("spark"),
                                                   worker.address, worker.instance.ports["worker"],
                                                   worker.instance.ports["ui"], worker.service.memory_mb,
                                                   config.spark.worker_cores),
                            envs=worker_env(config.region), uploads=(Upload(DEFAULTS, daemon_defaults),),
                            depends_on=[self.master])
            for index, worker in enumerate(placements(config, args.hosts, "spark-worker"))
        ]

        connect = placement(config, args.hosts, "spark-connect")
        server = connect.instance
        self.connect_port = server.ports["grpc"]
        self.connect_url = connect_url(self.connect_port)
        self.connect_token = generated_password(f"{name}-connect-token", self, length=48).result
        connect_defaults = pulumi.Output.all(args.s3.secret_key, args.catalog_secret, secret).apply(lambda v: java_properties(
            self._driver_defaults(server, Driver(connect.address, server.ports["driver"], server.ports["blockmanager"],
                                                 server.ports["ui"], sizing.connect_driver_mb(connect.service.memory_mb)),
                                  Executors.of(config.spark, sizing.connect_cores_max(
                                      config.spark_executor_slots(), config.spark.executor_cores)), *v),
            separator=" "))
        self.connect = self._container(
            f"{name}-connect", connect, connect_probe(self.connect_port),
            command=connect_command(self.connect_port),
            envs=self.connect_token.apply(lambda token: connect_env(
                token, sizing.connect_driver_mb(connect.service.memory_mb), config.region)),
            uploads=(Upload(DEFAULTS, connect_defaults),),
            depends_on=[self.master], wait_timeout=300)

        jupyter = placement(config, args.hosts, "jupyter")
        lab = jupyter.instance
        self.jupyter_token = generated_password(f"{name}-jupyter-token", self, length=48).result
        self.jupyter_url = resolve(config, "jupyter", "lab").url()
        # A working copy: the notebooks themselves are kept in the `notebooks` bucket.
        notebooks = data_volume(f"{name}-jupyter-work", f"{config.prefix}-jupyter-work", jupyter.host, False, self)
        store = NotebookStore(resolve(config, "minio", "api", lab).url(), config.region, args.notebooks_s3.access_key)
        defaults = pulumi.Output.all(args.s3.secret_key, args.catalog_secret, secret).apply(lambda v: java_properties(
            self._driver_defaults(lab, Driver(jupyter.address, lab.ports["driver"], lab.ports["blockmanager"],
                                              lab.ports["ui"], sizing.jupyter_driver_mb(jupyter.service.memory_mb)),
                                  Executors.of(config.spark), *v), separator=" "))
        beside_connect = lab.host == server.host
        self.jupyter = self._container(
            f"{name}-jupyter", jupyter, _http_probe(lab.ports["lab"], "/api"),
            envs=pulumi.Output.all(self.jupyter_token, self.connect_token, args.notebooks_s3.secret_key,
                                   args.jupyter_client_env).apply(
                lambda v: [*jupyter_env(v[0], lab.ports["lab"], config.region, v[1] if beside_connect else None),
                           *store.env(v[2]), *v[3]]),
            uploads=(Upload(DEFAULTS, defaults), Upload(NOTEBOOK_STORE_CONFIG, NOTEBOOK_STORE_SOURCE),
                     *args.jupyter_client_uploads),
            volumes=(VolumeMount(notebooks.name, NOTEBOOKS),),
            depends_on=[self.master])
        self.register_outputs({"masterUrl": self.master_url, "masterUiUrl": self.master_ui_url,
                               "jupyterUrl": self.jupyter_url, "jupyterToken": self.jupyter_token,
                               "connectUrl": self.connect_url, "connectToken": self.connect_token})

    def _driver_defaults(self, client, driver: Driver, executors: Executors, s3_secret: str, catalog_secret: str,
                         secret: str) -> dict[str, str]:
        config = self._args.config
        return spark_defaults(
            resolve(config, "spark", "master", client).url("spark"),
            CatalogClient(catalog_uri(resolve(config, "iceberg-rest", "http", client).url()), principal("spark"),
                          catalog_secret),
            S3Settings(resolve(config, "minio", "api", client).url(), config.region, self._args.s3.access_key, s3_secret),
            driver, executors, secret)

    def _container(self, name: str, where: Placement, healthcheck: Healthcheck,
                   envs: pulumi.Input[Sequence[pulumi.Input[str]]], command: Sequence[str] = (),
                   uploads: Sequence[Upload] = (), volumes: Sequence[VolumeMount] = (),
                   depends_on: Sequence[pulumi.Resource] = (), wait_timeout: int = 180) -> pulumi.Resource:
        args = self._args
        return service_container(name, ContainerArgs(
            placement=where,
            healthcheck=healthcheck,
            envs=envs,
            command=command,
            volumes=(VolumeMount(args.jars_volumes[where.instance.host], JARS, read_only=True), *volumes),
            uploads=uploads,
            depends_on=(*args.depends_on, *depends_on),
            wait_timeout=wait_timeout,
        ), self)
