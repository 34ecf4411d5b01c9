"""The storage plane (the NAS): MinIO and PostgreSQL on their hosts, with retained data volumes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pulumi

from components.platform.config import LakehouseConfig
from components.platform.containers import placement
from components.platform.endpoints import resolve
from components.platform.hosts import DockerHost
from components.storage.minio import Minio, MinioArgs
from components.storage.postgres import Postgres, PostgresArgs


@dataclass(frozen=True)
class StoragePlaneArgs:
    config: LakehouseConfig
    hosts: Mapping[str, DockerHost]


class StoragePlane(pulumi.ComponentResource):
    def __init__(self, name: str, args: StoragePlaneArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:storage:StoragePlane", name, None, opts)
        config = args.config
        retain = not config.purge_on_destroy
        self.minio = Minio(f"{name}-minio", MinioArgs(
            placement=placement(config, args.hosts, "minio"),
            volume_name=f"{config.prefix}-minio-data",
            region=config.region,
            retain_data=retain,
        ), pulumi.ResourceOptions(parent=self))
        self.postgres = Postgres(f"{name}-postgres", PostgresArgs(
            placement=placement(config, args.hosts, "postgres"),
            volume_name=f"{config.prefix}-postgres-data",
            retain_data=retain,
        ), pulumi.ResourceOptions(parent=self))
        self.minio_api_url = resolve(config, "minio", "api").url()
        self.minio_console_url = resolve(config, "minio", "console").url()
        self.postgres_address = resolve(config, "postgres", "postgres").hostport
        self.register_outputs({"minioApiUrl": self.minio_api_url, "minioConsoleUrl": self.minio_console_url,
                               "postgresAddress": self.postgres_address})
