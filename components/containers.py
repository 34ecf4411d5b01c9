"""The one way a long-running service container is created.

Every service gets a pinned `RemoteImage` (`image=image_id`), a real health check that
`wait=True` blocks on, restart `unless-stopped`, its memory limit and published ports from
config, the host's shared network, and `delete_before_replace` because its name and host
ports are fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import pulumi
import pulumi_docker as docker

from components.config import ServiceConfig
from components.hosts import DockerHost
from components.services import SERVICES


@dataclass(frozen=True)
class Healthcheck:
    test: tuple[str, ...]
    interval: str = "10s"
    timeout: str = "5s"
    retries: int = 6
    start_period: str = "20s"

    def args(self) -> docker.ContainerHealthcheckArgs:
        return docker.ContainerHealthcheckArgs(
            tests=list(self.test), interval=self.interval, timeout=self.timeout,
            retries=self.retries, start_period=self.start_period,
        )


@dataclass(frozen=True)
class VolumeMount:
    volume: pulumi.Input[str]
    path: str


@dataclass(frozen=True)
class ContainerArgs:
    service: ServiceConfig
    container_name: str
    host: DockerHost
    healthcheck: Healthcheck
    envs: pulumi.Input[Sequence[pulumi.Input[str]]]
    command: Sequence[str] = ()
    volumes: Sequence[VolumeMount] = field(default_factory=tuple)
    wait_timeout: int = 180


def service_container(name: str, args: ContainerArgs, parent: pulumi.Resource) -> docker.Container:
    """Pull the pinned image (`<name>-image`) and run the container (`<name>-container`) on its host."""
    on_host = pulumi.ResourceOptions(parent=parent, provider=args.host.provider)
    image = docker.RemoteImage(f"{name}-image", name=args.service.image, keep_locally=True, opts=on_host)
    container_ports = SERVICES[args.service.name].ports
    return docker.Container(
        f"{name}-container",
        name=args.container_name,
        image=image.image_id,
        envs=args.envs,
        command=list(args.command) or None,
        ports=[docker.ContainerPortArgs(internal=container_ports[port].container, external=published)
               for port, published in args.service.ports.items()],
        networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=args.host.network.name,
                                                                aliases=[args.service.name])],
        volumes=[docker.ContainerVolumeArgs(volume_name=v.volume, container_path=v.path) for v in args.volumes],
        healthcheck=args.healthcheck.args(),
        restart="unless-stopped",
        memory=args.service.memory_mb,
        wait=True,
        wait_timeout=args.wait_timeout,
        opts=pulumi.ResourceOptions.merge(on_host, pulumi.ResourceOptions(delete_before_replace=True)),
    )


def data_volume(name: str, volume_name: str, host: DockerHost, retain: bool, parent: pulumi.Resource) -> docker.Volume:
    """A named volume for a service's state; kept on `pulumi destroy` unless the stack purges."""
    return docker.Volume(
        name,
        name=volume_name,
        opts=pulumi.ResourceOptions(parent=parent, provider=host.provider, retain_on_delete=retain),
    )
