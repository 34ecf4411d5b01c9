"""The one way a long-running service container is created.

Every service gets a pinned `RemoteImage` (`image=image_id`), a real health check that
`wait=True` blocks on, restart `unless-stopped`, its memory limit and published ports from
config, the host's shared network, and `delete_before_replace` because its name and host
ports are fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import pulumi
import pulumi_docker as docker

from components.config import Instance, LakehouseConfig, ServiceConfig
from components.endpoints import container_name
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
    read_only: bool = False


@dataclass(frozen=True)
class Upload:
    """A rendered file placed in the container before it starts."""

    path: str
    content: pulumi.Input[str]


@dataclass(frozen=True)
class Placement:
    """Where one instance of a service runs: its service config, the instance, its docker host."""

    service: ServiceConfig
    instance: Instance
    host: DockerHost
    container_name: str

    @property
    def address(self) -> str:
        """The address other hosts reach this instance's host at."""
        return self.host.config.address


def placements(config: LakehouseConfig, hosts: Mapping[str, DockerHost], service: str) -> list[Placement]:
    placed = config.services[service]
    return [Placement(placed, instance, hosts[instance.host], container_name(config, instance.name))
            for instance in placed.instances]


def placement(config: LakehouseConfig, hosts: Mapping[str, DockerHost], service: str) -> Placement:
    """The placement of a service that runs once."""
    [only] = placements(config, hosts, service)
    return only


@dataclass(frozen=True)
class ContainerArgs:
    placement: Placement
    healthcheck: Healthcheck
    envs: pulumi.Input[Sequence[pulumi.Input[str]]] = ()
    command: Sequence[str] = ()
    volumes: Sequence[VolumeMount] = ()
    uploads: Sequence[Upload] = ()
    depends_on: Sequence[pulumi.Resource] = ()
    wait_timeout: int = 180


def service_container(name: str, args: ContainerArgs, parent: pulumi.Resource) -> docker.Container:
    """Run the container (`<name>-container`) on its host from the host's pull of the pinned image.

    Storage services join the host's bridge network and publish their ports; compute services
    use host networking and listen on their host ports directly."""
    where = args.placement
    on_host = pulumi.ResourceOptions(parent=parent, provider=where.host.provider)
    spec = SERVICES[where.service.name]
    if spec.host_network:
        network: dict = {"network_mode": "host"}
    else:
        network = {
            "ports": [docker.ContainerPortArgs(internal=spec.ports[port].container, external=published)
                      for port, published in where.instance.ports.items()],
            "networks_advanced": [docker.ContainerNetworksAdvancedArgs(name=where.host.network.name,
                                                                       aliases=[where.instance.name])],
        }
    return docker.Container(
        f"{name}-container",
        name=where.container_name,
        image=where.host.image(where.service.image).image_id,
        envs=args.envs,
        command=list(args.command) or None,
        **network,
        volumes=[docker.ContainerVolumeArgs(volume_name=v.volume, container_path=v.path, read_only=v.read_only)
                 for v in args.volumes],
        uploads=[docker.ContainerUploadArgs(file=u.path, content=u.content) for u in args.uploads],
        healthcheck=args.healthcheck.args(),
        restart="unless-stopped",
        memory=where.service.memory_mb,
        wait=True,
        wait_timeout=args.wait_timeout,
        opts=pulumi.ResourceOptions.merge(on_host, pulumi.ResourceOptions(delete_before_replace=True,
                                                                          depends_on=list(args.depends_on))),
    )


def data_volume(name: str, volume_name: str, host: DockerHost, retain: bool, parent: pulumi.Resource) -> docker.Volume:
    """A named volume for a service's state; kept on `pulumi destroy` unless the stack purges."""
    return docker.Volume(
        name,
        name=volume_name,
        opts=pulumi.ResourceOptions(parent=parent, provider=host.provider, retain_on_delete=retain),
    )
