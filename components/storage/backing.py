"""What a service backed by the storage plane is given: its placement, its own database and S3 user.

`backing()` resolves both endpoints as that service sees them, so the catalogs, MLflow and
Airflow are wired the same way and only through the data layer's outputs and the resolver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import pulumi

from components.platform.config import LakehouseConfig
from components.platform.containers import Placement, placement
from components.storage.data import DatabaseCredentials, DataLayer, S3Credentials
from components.platform.endpoints import resolve
from components.platform.hosts import DockerHost
from components.platform.s3 import S3Settings


def jdbc_url(hostport: str, database: str) -> str:
    return f"jdbc:postgresql://{hostport}/{database}"


def sqlalchemy_url(hostport: str, database: DatabaseCredentials, password: str) -> str:
    return f"postgresql+psycopg2://{database.user}:{password}@{hostport}/{database.database}"


@dataclass(frozen=True)
class BackingArgs:
    placement: Placement
    postgres_hostport: str
    database: DatabaseCredentials
    s3_endpoint: str
    s3: Optional[S3Credentials]
    region: str
    depends_on: Sequence[pulumi.Resource]
    jars_volume: Optional[pulumi.Input[str]] = None

    @property
    def jdbc(self) -> str:
        return jdbc_url(self.postgres_hostport, self.database.database)

    def sqlalchemy(self, password: str) -> str:
        return sqlalchemy_url(self.postgres_hostport, self.database, password)

    def s3_settings(self, secret_key: str) -> S3Settings:
        return S3Settings(self.s3_endpoint, self.region, self.s3.access_key, secret_key)


def backing(config: LakehouseConfig, hosts: Mapping[str, DockerHost], data: DataLayer, service: str,
            depends_on: Sequence[pulumi.Resource] = (),
            jars_volume: Optional[pulumi.Input[str]] = None) -> BackingArgs:
    """The service's placement and its database and S3 user, with endpoints as it sees them.
    It starts after the data layer (its role, database and user exist)."""
    where = placement(config, hosts, service)
    access = data.access[service]
    return BackingArgs(
        placement=where,
        postgres_hostport=resolve(config, "postgres", "postgres", where.instance).hostport,
        database=access.database,
        s3_endpoint=resolve(config, "minio", "api", where.instance).url(),
        s3=access.s3,
        region=config.region,
        depends_on=(data, *depends_on),
        jars_volume=jars_volume,
    )
