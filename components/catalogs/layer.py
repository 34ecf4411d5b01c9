"""The catalogs (Glue Data Catalog): Iceberg REST (Polaris) and Hive Metastore, each with its own database and S3 user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pulumi

from components.platform.artifacts import ArtifactStore
from components.storage.backing import BackingArgs, backing
from components.platform.config import LakehouseConfig
from components.storage.data import DataLayer
from components.platform.endpoints import resolve
from components.catalogs.hive_metastore import HiveMetastore
from components.platform.hosts import DockerHost
from components.catalogs.polaris import CATALOG, ROOT, Polaris, PolarisArgs, catalog_uri


@dataclass(frozen=True)
class CatalogsArgs:
    config: LakehouseConfig
    hosts: Mapping[str, DockerHost]
    artifacts: Mapping[str, ArtifactStore]
    data: DataLayer


class Catalogs(pulumi.ComponentResource):
    def __init__(self, name: str, args: CatalogsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:catalog:Catalogs", name, None, opts)
        config = args.config
        child = pulumi.ResourceOptions(parent=self)

        def catalog_args(service: str) -> BackingArgs:
            host = config.services[service].host
            return backing(config, args.hosts, args.data, service, jars_volume=args.artifacts[host].verified_volume)

        rest = catalog_args("iceberg-rest")
        # Vended credentials name MinIO as every host but the storage host reaches it.
        self.iceberg_rest = Polaris(f"{name}-iceberg-rest", PolarisArgs(
            backing=rest, url=resolve(config, "iceberg-rest", "http", rest.placement.instance).url(),
            client_s3_endpoint=resolve(config, "minio", "api").url()), child)
        self.hive_metastore = HiveMetastore(f"{name}-hive-metastore", catalog_args("hive-metastore"), child)
        self.iceberg_rest_uri = catalog_uri(resolve(config, "iceberg-rest", "http").url())
        self.iceberg_rest_warehouse = CATALOG
        # Every principal's `client_id:client_secret` (Iceberg's `credential`), root's included.
        self.iceberg_rest_credentials = pulumi.Output.secret(pulumi.Output.all(
            **{ROOT: self.iceberg_rest.root_secret}, **self.iceberg_rest.secrets).apply(
            lambda secrets: {principal: f"{principal}:{secret}" for principal, secret in secrets.items()}))
        self.metastore_uri = resolve(config, "hive-metastore", "thrift").url("thrift")
        self.register_outputs({"icebergRestUri": self.iceberg_rest_uri, "icebergRestWarehouse": CATALOG,
                               "metastoreUri": self.metastore_uri})
