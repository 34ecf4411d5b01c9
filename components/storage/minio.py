"""MinIO, the S3 API of the lakehouse (AWS S3)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.platform.containers import ContainerArgs, Healthcheck, Placement, VolumeMount, data_volume, service_container
from components.platform.credentials import generated_password
from components.platform.services import SERVICES

ROOT_USER = "lakehouse-root"
DATA_PATH = "/data"
# `mc` ships in the image (curl does not): `mc ready local` asks the server's own readiness.
HEALTHCHECK = Healthcheck(test=("CMD", "mc", "ready", "local"))


def minio_command() -> list[str]:
    return ["server", DATA_PATH, "--console-address", f":{SERVICES['minio'].ports['console'].container}"]


def minio_env(root_user: str, root_password: str, region: str) -> list[str]:
    return [f"MINIO_ROOT_USER={root_user}", f"MINIO_ROOT_PASSWORD={root_password}", f"MINIO_SITE_REGION={region}"]


@dataclass(frozen=True)
class MinioArgs:
    placement: Placement
    volume_name: str
    region: str
    retain_data: bool


class Minio(pulumi.ComponentResource):
    """MinIO server with a generated root password and a retained data volume."""

    def __init__(self, name: str, args: MinioArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:storage:Minio", name, None, opts)
        self.root_user = ROOT_USER
        self.root_password = generated_password(f"{name}-root-password", self).result
        volume = data_volume(f"{name}-data", args.volume_name, args.placement.host, args.retain_data, self)
        self.container = service_container(name, ContainerArgs(
            placement=args.placement,
            healthcheck=HEALTHCHECK,
            envs=self.root_password.apply(lambda password: minio_env(ROOT_USER, password, args.region)),
            command=minio_command(),
            volumes=(VolumeMount(volume.name, DATA_PATH),),
        ), self)
        self.register_outputs({"rootUser": self.root_user, "rootPassword": self.root_password,
                               "container": self.container.name})
