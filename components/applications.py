"""The persona services: MLflow (ML), Superset (BI) and Airflow (orchestration), wired through outputs only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pulumi

from components.airflow import Airflow, AirflowArgs
from components.compute import ComputePlane
from components.config import LakehouseConfig
from components.containers import placement
from components.data import DataLayer
from components.endpoints import resolve
from components.hosts import DockerHost
from components.mlflow import Mlflow, MlflowArgs
from components.superset import Superset, SupersetArgs


@dataclass(frozen=True)
class ApplicationsArgs:
    config: LakehouseConfig
    hosts: Mapping[str, DockerHost]
    data: DataLayer
    compute: ComputePlane


class Applications(pulumi.ComponentResource):
    def __init__(self, name: str, args: ApplicationsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:apps:Applications", name, None, opts)
        config, data = args.config, args.data
        child = pulumi.ResourceOptions(parent=self)

        mlflow = placement(config, args.hosts, "mlflow")
        self.mlflow = Mlflow(f"{name}-mlflow", MlflowArgs(
            placement=mlflow,
            postgres_hostport=resolve(config, "postgres", "postgres", mlflow.instance).hostport,
            database=data.access["mlflow"].database,
            s3_endpoint=resolve(config, "minio", "api", mlflow.instance).url(),
            s3=data.access["mlflow"].s3,
            region=config.region,
            depends_on=(data,),
        ), child)

        superset = placement(config, args.hosts, "superset")
        self.superset = Superset(f"{name}-superset", SupersetArgs(
            placement=superset,
            postgres_hostport=resolve(config, "postgres", "postgres", superset.instance).hostport,
            database=data.access["superset"].database,
            trino_hostport=resolve(config, "trino", "http", superset.instance).hostport,
            depends_on=(data, args.compute.trino.coordinator),
        ), child)

        airflow = placement(config, args.hosts, "airflow")
        trino = resolve(config, "trino", "http", airflow.instance)
        spark = resolve(config, "spark", "master", airflow.instance)
        self.airflow = Airflow(f"{name}-airflow", AirflowArgs(
            placement=airflow,
            postgres_hostport=resolve(config, "postgres", "postgres", airflow.instance).hostport,
            database=data.access["airflow"].database,
            s3=data.access["airflow"].s3,
            minio_endpoint=resolve(config, "minio", "api", airflow.instance).url(),
            region=config.region,
            trino=(trino.host, trino.port),
            spark_master=(spark.host, spark.port),
            retain_logs=not config.purge_on_destroy,
            prefix=config.prefix,
            depends_on=(data,),
        ), child)

        self.mlflow_url = resolve(config, "mlflow", "http").url()
        self.superset_url = resolve(config, "superset", "http").url()
        self.register_outputs({"mlflowUrl": self.mlflow_url, "supersetUrl": self.superset_url,
                               "airflowUrl": self.airflow.url})
