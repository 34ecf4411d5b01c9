"""The persona services: MLflow (ML), Superset (BI) and Airflow (orchestration), wired through outputs only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pulumi

from components.applications.airflow import Airflow, AirflowArgs, AirflowDemo
from components.compute.plane import ComputePlane
from components.platform.config import LakehouseConfig
from components.storage.backing import backing
from components.storage.data import DataLayer
from components.platform.containers import after_success
from components.platform.endpoints import Endpoint, resolve
from components.platform.hosts import DockerHost
from components.applications.mlflow import Mlflow, MlflowArgs, client_env
from components.applications.superset import Superset, SupersetArgs


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

        self.mlflow = Mlflow(f"{name}-mlflow", MlflowArgs(
            backing=backing(config, args.hosts, data, "mlflow"),
            other_clients={"jupyter": args.compute.jupyter_mlflow_password},
        ), child)
        superset = backing(config, args.hosts, data, "superset", depends_on=(args.compute.trino.coordinator,))
        self.superset = Superset(f"{name}-superset", SupersetArgs(
            backing=superset,
            trino_hostport=resolve(config, "trino", "https", superset.placement.instance).hostport,
            trino_password=args.compute.trino.passwords["superset"],
            ca_certificate=args.compute.trino.ca_certificate,
            demo=config.demo.enabled,
        ), child)
        airflow = backing(config, args.hosts, data, "airflow")
        demo = AirflowDemo(
            source=resolve(config, "postgres", "postgres", airflow.placement.instance),
            source_database=data.access["taxi-source"].database,
            superset=resolve(config, "superset", "http", airflow.placement.instance),
            superset_user=self.superset.admin_user, superset_password=self.superset.admin_password,
            trips_per_day=config.demo.trips_per_day,
        ) if config.demo.enabled else None
        mlflow_for_airflow = resolve(config, "mlflow", "http", airflow.placement.instance).url()
        self.airflow = Airflow(f"{name}-airflow", AirflowArgs(
            backing=airflow,
            api=resolve(config, "airflow", "api", airflow.placement.instance),
            trino=resolve(config, "trino", "https", airflow.placement.instance),
            trino_password=args.compute.trino.passwords["airflow"],
            ca_certificate=args.compute.trino.ca_certificate,
            mlflow_env=self.mlflow.passwords["airflow"].apply(
                lambda password: client_env(mlflow_for_airflow, "airflow", password)),
            # Config validation keeps Airflow on the Connect server's host: it is reached on loopback.
            spark_connect=Endpoint("localhost", args.compute.spark.connect_port),
            spark_connect_token=args.compute.spark.connect_token,
            log_retention_days=config.log_retention_days,
            logs_volume_name=f"{config.prefix}-airflow-logs",
            demo=demo,
        ), child)

        # Resolves once the clients' logins exist: a failed users job fails `pulumi up` here.
        self.mlflow_url = after_success(self.mlflow.users, resolve(config, "mlflow", "http").url())
        self.superset_url = resolve(config, "superset", "http").url()
        self.register_outputs({"mlflowUrl": self.mlflow_url, "supersetUrl": self.superset_url,
                               "airflowUrl": self.airflow.url})
