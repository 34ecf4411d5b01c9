"""Where a service is reached from where: the one endpoint resolver of the stack.

Same host: the container name on the host's shared network and the container port.
Another host, or the machine running Pulumi: the host's address and the published port.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from components.config import LakehouseConfig
from components.services import SERVICES


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    @property
    def hostport(self) -> str:
        return f"{self.host}:{self.port}"

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://{self.hostport}"


def container_name(config: LakehouseConfig, service: str) -> str:
    return f"{config.prefix}-{service}"


def resolve(config: LakehouseConfig, service: str, port: str, from_host: Optional[str]) -> Endpoint:
    """Endpoint of `service`'s named `port` as seen from `from_host` (None: the Pulumi machine)."""
    placed = config.services[service]
    if from_host == placed.host:
        return Endpoint(container_name(config, service), SERVICES[service].ports[port].container)
    return Endpoint(config.hosts[placed.host].address, placed.ports[port])
