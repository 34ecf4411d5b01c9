"""PostgreSQL, the metadata database of the catalogs, MLflow, Superset and Airflow."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi

from components.platform.containers import ContainerArgs, Healthcheck, Placement, VolumeMount, data_volume, service_container
from components.platform.credentials import generated_password
from components.platform.services import SERVICES

SUPERUSER = "postgres"
_PORT = SERVICES["postgres"].ports["postgres"].container
# TCP, not the unix socket: the socket already answers during initdb's temporary server.
HEALTHCHECK = Healthcheck(test=("CMD", "pg_isready", "-h", "127.0.0.1", "-p", str(_PORT), "-U", SUPERUSER,
                                "-d", "postgres"))


def postgres_env(password: str) -> list[str]:
    return [f"POSTGRES_USER={SUPERUSER}", f"POSTGRES_PASSWORD={password}", "POSTGRES_DB=postgres"]


def data_path(image: str) -> str:
    """Where the image keeps its cluster: images of major 18 and later moved PGDATA up one level."""
    match = re.search(r":(\d+)", image)
    major = int(match.group(1)) if match else 0
    return "/var/lib/postgresql" if major >= 18 else "/var/lib/postgresql/data"


@dataclass(frozen=True)
class PostgresArgs:
    placement: Placement
    volume_name: str
    retain_data: bool


class Postgres(pulumi.ComponentResource):
    """PostgreSQL server with a generated superuser password and a retained data volume."""

    def __init__(self, name: str, args: PostgresArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:storage:Postgres", name, None, opts)
        self.superuser = SUPERUSER
        self.password = generated_password(f"{name}-superuser-password", self).result
        volume = data_volume(f"{name}-data", args.volume_name, args.placement.host, args.retain_data, self)
        self.container = service_container(name, ContainerArgs(
            placement=args.placement,
            healthcheck=HEALTHCHECK,
            envs=self.password.apply(postgres_env),
            volumes=(VolumeMount(volume.name, data_path(args.placement.service.image)),),
        ), self)
        self.register_outputs({"superuser": self.superuser, "password": self.password,
                               "container": self.container.name})
