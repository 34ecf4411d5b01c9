"""What a catalog service (Iceberg REST, Hive Metastore) is given: its database and its S3 user."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.containers import Placement
from components.data import DatabaseCredentials, S3Credentials
from components.s3 import S3Settings


def jdbc_url(hostport: str, database: str) -> str:
    return f"jdbc:postgresql://{hostport}/{database}"


@dataclass(frozen=True)
class CatalogArgs:
    placement: Placement
    postgres_hostport: str
    database: DatabaseCredentials
    s3_endpoint: str
    s3: S3Credentials
    region: str
    jars_volume: pulumi.Input[str]
    depends_on: tuple[pulumi.Resource, ...]

    @property
    def jdbc(self) -> str:
        return jdbc_url(self.postgres_hostport, self.database.database)

    def s3_settings(self, secret_key: str) -> S3Settings:
        return S3Settings(self.s3_endpoint, self.region, self.s3.access_key, secret_key)
