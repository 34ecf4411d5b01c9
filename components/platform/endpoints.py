"""Where a service is reached from where: the one endpoint resolver of the stack.

A storage-plane service (on its host's bridge network) is reached by its container name and
container port from a bridged container on the same host. A bridged container reaches a
host-network service on its own host through the host gateway. Everything else, and anything
reached from another host or from the machine running Pulumi, uses the host's address and
the published port. Compute services use host networking, so their port is the host port.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from components.platform.config import Instance, LakehouseConfig
from components.platform.services import SERVICES


# Bridged containers get this name mapped to their host (docker's `host-gateway`).
HOST_GATEWAY = "host.docker.internal"


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    @property
    def hostport(self) -> str:
        return f"{self.host}:{self.port}"

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://{self.hostport}"


def container_name(config: LakehouseConfig, instance: str) -> str:
    return f"{config.prefix}-{instance}"


def resolve(config: LakehouseConfig, service: str, port: str, client: Optional[Instance] = None,
            index: int = 0) -> Endpoint:
    """Endpoint of instance `index` of `service`'s named `port` as seen by `client`
    (an instance of another service; None: the machine running Pulumi)."""
    target = config.services[service].instances[index]
    spec = SERVICES[service]
    if client is not None and client.host == target.host and not SERVICES[client.service].host_network:
        if spec.host_network:
            return Endpoint(HOST_GATEWAY, target.ports[port])
        return Endpoint(container_name(config, target.name), spec.ports[port].container)
    return Endpoint(config.hosts[target.host].address, target.ports[port])
