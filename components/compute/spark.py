"""Spark standalone (Glue jobs / EMR) with JupyterLab as the driver.

Master, workers and JupyterLab run from one image (`quay.io/jupyter/pyspark-notebook`), so
Spark, PySpark and Python match on driver and executors. They use host networking: executors
on any host connect back to the driver at its host's address and fixed ports. The Iceberg REST
catalog is the default catalog (`iceberg`); `s3a://` reads of raw files use hadoop-aws. The
jars come from the artifact volume on both driver and executor classpaths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import pulumi

from components.platform.artifacts import JARS
from components.platform.config import LakehouseConfig
from components.platform.containers import (ContainerArgs, Healthcheck, Placement, Upload, VolumeMount, data_volume, placement,
                                   placements, service_container)
from components.platform.credentials import generated_password
from components.storage.data import S3Credentials
from components.platform.endpoints import resolve
from components.platform.formats import java_properties, s3a_properties
from components.platform.hosts import DockerHost
from components.platform.s3 import S3Settings, warehouse_uri

SPARK_HOME = "/usr/local/spark"
CATALOG = "iceberg"
NOTEBOOKS = "/home/jovyan/work"


def _http_probe(port: int, path: str) -> Healthcheck:
    return Healthcheck(test=("CMD", "wget", "-q", "-O", "/dev/null", f"http://localhost:{port}{path}"))


def spark_defaults(master_url: str, rest_uri: str, s3: S3Settings, driver_host: str, driver_port: int,
                   block_manager_port: int) -> dict[str, str]:
    catalog = f"spark.sql.catalog.{CATALOG}"
    return {
        "spark.master": master_url,
        "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        catalog: "org.apache.iceberg.spark.SparkCatalog",
        f"{catalog}.type": "rest",
        f"{catalog}.uri": rest_uri,
        f"{catalog}.warehouse": warehouse_uri(),
        f"{catalog}.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
        f"{catalog}.s3.endpoint": s3.endpoint,
        f"{catalog}.s3.path-style-access": "true",
        f"{catalog}.s3.access-key-id": s3.access_key,
        f"{catalog}.s3.secret-access-key": s3.secret_key,
        f"{catalog}.client.region": s3.region,
        "spark.sql.defaultCatalog": CATALOG,
        "spark.executorEnv.AWS_REGION": s3.region,
        "spark.driver.extraClassPath": f"{JARS}/*",
        "spark.executor.extraClassPath": f"{JARS}/*",
        "spark.driver.host": driver_host,
        "spark.driver.bindAddress": "0.0.0.0",
        "spark.driver.port": str(driver_port),
        "spark.driver.blockManager.port": str(block_manager_port),
        **s3a_properties(s3, prefix="spark.hadoop."),
    }


def master_command(address: str, port: int, ui_port: int) -> list[str]:
    return [f"{SPARK_HOME}/bin/spark-class", "org.apache.spark.deploy.master.Master",
            "--host", address, "--port", str(port), "--webui-port", str(ui_port)]


DAEMON_MEMORY_MB = 256
# The worker's own JVM plus an executor's minimum overhead (384m) and some headroom.
_WORKER_RESERVE_MB = 768


def worker_command(master_url: str, address: str, port: int, ui_port: int, memory_mb: int) -> list[str]:
    """A worker offering its container's memory less what the worker JVM and executor overhead need."""
    offered = max(memory_mb - _WORKER_RESERVE_MB, DAEMON_MEMORY_MB)
    return [f"{SPARK_HOME}/bin/spark-class", "org.apache.spark.deploy.worker.Worker",
            "--host", address, "--port", str(port), "--webui-port", str(ui_port),
            "--memory", f"{offered}m", master_url]


def jupyter_env(token: str, port: int, region: str) -> list[str]:
    return [f"JUPYTER_TOKEN={token}", f"JUPYTER_PORT={port}", f"AWS_REGION={region}"]


@dataclass(frozen=True)
class SparkArgs:
    config: LakehouseConfig
    hosts: Mapping[str, DockerHost]
    s3: S3Credentials
    jars_volumes: dict[str, pulumi.Input[str]]  # verified artifact volume by host
    depends_on: Sequence[pulumi.Resource]
    # What the notebooks get to reach other services as their own client (logins, the stack's CA).
    jupyter_client_env: pulumi.Input[Sequence[str]] = ()
    jupyter_client_uploads: Sequence[Upload] = ()


class Spark(pulumi.ComponentResource):
    """Master (`spark`), workers (`spark-worker-<n>`) and JupyterLab (`jupyter`)."""

    def __init__(self, name: str, args: SparkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:compute:Spark", name, None, opts)
        self._args = args
        config = args.config
        master = placement(config, args.hosts, "spark")
        self.master_url = resolve(config, "spark", "master").url("spark")
        self.master_ui_url = resolve(config, "spark", "ui").url()
        ports = master.instance.ports
        self.master = self._container(name, master, _http_probe(ports["ui"], "/json/"),
                                      command=master_command(master.address, ports["master"], ports["ui"]),
                                      envs=[f"SPARK_DAEMON_MEMORY={DAEMON_MEMORY_MB}m", f"AWS_REGION={config.region}"])
        self.workers = [
            self._container(f"{name}-worker-{index + 1}", worker, _http_probe(worker.instance.ports["ui"], "/json/"),
                            command=worker_command(resolve(config, "spark", "master", worker.instance).url("spark"),
                                                   worker.address, worker.instance.ports["worker"],
                                                   worker.instance.ports["ui"], worker.service.memory_mb),
                            envs=["SPARK_WORKER_DIR=/tmp/spark-work", f"SPARK_DAEMON_MEMORY={DAEMON_MEMORY_MB}m",
                                  f"AWS_REGION={config.region}"],
                            depends_on=[self.master])
            for index, worker in enumerate(placements(config, args.hosts, "spark-worker"))
        ]
        jupyter = placement(config, args.hosts, "jupyter")
        lab = jupyter.instance
        self.jupyter_token = generated_password(f"{name}-jupyter-token", self, length=48).result
        self.jupyter_url = resolve(config, "jupyter", "lab").url()
        notebooks = data_volume(f"{name}-jupyter-work", f"{config.prefix}-jupyter-work", jupyter.host,
                                not config.purge_on_destroy, self)
        rest_uri = resolve(config, "iceberg-rest", "http", lab).url()
        s3_endpoint = resolve(config, "minio", "api", lab).url()
        defaults = args.s3.secret_key.apply(lambda secret: java_properties(spark_defaults(
            resolve(config, "spark", "master", lab).url("spark"), rest_uri,
            S3Settings(s3_endpoint, config.region, args.s3.access_key, secret),
            jupyter.address, lab.ports["driver"], lab.ports["blockmanager"]), separator=" "))
        self.jupyter = self._container(
            f"{name}-jupyter", jupyter, _http_probe(lab.ports["lab"], "/api"),
            envs=pulumi.Output.all(self.jupyter_token, args.jupyter_client_env).apply(
                lambda v: [*jupyter_env(v[0], lab.ports["lab"], config.region), *v[1]]),
            uploads=(Upload(f"{SPARK_HOME}/conf/spark-defaults.conf", defaults), *args.jupyter_client_uploads),
            volumes=(VolumeMount(notebooks.name, NOTEBOOKS),),
            depends_on=[self.master])
        self.register_outputs({"masterUrl": self.master_url, "masterUiUrl": self.master_ui_url,
                               "jupyterUrl": self.jupyter_url, "jupyterToken": self.jupyter_token})

    def _container(self, name: str, where: Placement, healthcheck: Healthcheck,
                   envs: pulumi.Input[Sequence[pulumi.Input[str]]], command: Sequence[str] = (),
                   uploads: Sequence[Upload] = (), volumes: Sequence[VolumeMount] = (),
                   depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.Resource:
        args = self._args
        return service_container(name, ContainerArgs(
            placement=where,
            healthcheck=healthcheck,
            envs=envs,
            command=command,
            volumes=(VolumeMount(args.jars_volumes[where.instance.host], JARS, read_only=True), *volumes),
            uploads=uploads,
            depends_on=(*args.depends_on, *depends_on),
        ), self)
