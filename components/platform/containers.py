"""The two ways a container is created: a long-running service, and a one-shot job.

Every service gets a pinned `RemoteImage` (`image=image_id`), a real health check that
`wait=True` blocks on, restart `unless-stopped`, its memory limit and published ports from
config, the host's shared network (or host networking on compute hosts), and
`delete_before_replace` because its name and host ports are fixed.

A job (database migrations, init scripts, jar fetches) runs to completion once per change of
its inputs. The docker provider records its exit code but does not fail on it, so whatever must
wait for a job takes its inputs through `after_success`, which resolves only for exit code 0:
a failed job stops the deployment before anything that needs it is created.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence, TypeVar

import pulumi
import pulumi_docker as docker

from components.platform.config import Instance, LakehouseConfig, ServiceConfig
from components.platform.endpoints import HOST_GATEWAY, container_name
from components.platform.hosts import DockerHost
from components.platform.services import SERVICES

T = TypeVar("T")


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


def jvm_heap_mb(limit_mb: int, non_heap_mb: int) -> int:
    """A JVM heap for a container of `limit_mb`: what is left after `non_heap_mb` (metaspace, code
    cache, thread stacks, direct buffers), never more than 4/5 of the limit nor less than half."""
    return max(limit_mb // 2, min(limit_mb * 4 // 5, limit_mb - non_heap_mb))


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

    Storage services join the host's bridge network and publish their ports on the host's own
    address; compute services use host networking and listen on their host ports directly."""
    where = args.placement
    on_host = pulumi.ResourceOptions(parent=parent, provider=where.host.provider)
    spec = SERVICES[where.service.name]
    network = _network(where.host, spec.host_network, [where.instance.name])
    if not spec.host_network:
        network["ports"] = [docker.ContainerPortArgs(internal=spec.ports[port].container, external=published,
                                                     ip=where.host.config.publish_address)
                            for port, published in where.instance.ports.items()]
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


def _network(where_host: DockerHost, host_network: bool, aliases: Sequence[str]) -> dict:
    if host_network:
        return {"network_mode": "host"}
    return {"networks_advanced": [docker.ContainerNetworksAdvancedArgs(name=where_host.network.name,
                                                                       aliases=list(aliases))],
            "hosts": [docker.ContainerHostArgs(host=HOST_GATEWAY, ip="host-gateway")]}


@dataclass(frozen=True)
class JobArgs:
    host: DockerHost
    image: str
    container_name: str
    command: Sequence[str]
    host_network: bool = False
    envs: pulumi.Input[Sequence[pulumi.Input[str]]] = ()
    volumes: Sequence[VolumeMount] = ()
    uploads: Sequence[Upload] = ()
    memory_mb: int = 256
    depends_on: Sequence[pulumi.Resource] = ()

    @staticmethod
    def of(where: Placement, suffix: str, command: Sequence[str], **extra) -> "JobArgs":
        """A job in a service's image, on its host and network, named `<container>-<suffix>`."""
        return JobArgs(host=where.host, image=where.service.image, container_name=f"{where.container_name}-{suffix}",
                       command=command, host_network=SERVICES[where.service.name].host_network,
                       memory_mb=where.service.memory_mb, **extra)


def run_job(name: str, args: JobArgs, parent: pulumi.Resource) -> docker.Container:
    """A one-shot container (`attach`: the deployment waits for it to exit)."""
    return docker.Container(
        name,
        name=args.container_name,
        image=args.host.image(args.image).image_id,
        command=list(args.command),
        envs=args.envs,
        **_network(args.host, args.host_network, ()),
        volumes=[docker.ContainerVolumeArgs(volume_name=v.volume, container_path=v.path, read_only=v.read_only)
                 for v in args.volumes],
        uploads=[docker.ContainerUploadArgs(file=u.path, content=u.content) for u in args.uploads],
        attach=True,
        must_run=False,
        restart="no",
        memory=args.memory_mb,
        opts=pulumi.ResourceOptions(parent=parent, provider=args.host.provider, delete_before_replace=True,
                                    depends_on=list(args.depends_on)),
    )


def after_success(job: docker.Container, value: pulumi.Input[T]) -> pulumi.Output[T]:
    """`value`, available only once `job` exited 0; a failed job fails the deployment here."""
    def check(values: list) -> T:
        exit_code, name, result = values
        if exit_code != 0:
            raise RuntimeError(f"job container {name} failed with exit code {exit_code}: see `docker logs {name}`; "
                               f"after fixing the cause, run it again with `pulumi up --replace <its URN>` "
                               f"(`pulumi stack --show-urns`)")
        return result
    return pulumi.Output.all(job.exit_code, job.name, value).apply(check)


def data_volume(name: str, volume_name: str, host: DockerHost, retain: bool, parent: pulumi.Resource) -> docker.Volume:
    """A named volume for a service's state; kept on `pulumi destroy` unless the stack purges."""
    return docker.Volume(
        name,
        name=volume_name,
        opts=pulumi.ResourceOptions(parent=parent, provider=host.provider, retain_on_delete=retain),
    )
