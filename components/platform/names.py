"""Friendly names for the web UIs, and the lines that make them resolve.

With `lakehouse:domain` set, every web UI is `<service>.<domain>`: the service's name from the
service table, at the address of the host the service is placed on, on the port the endpoint
resolver gives the machine running Pulumi (`endpoints.resolve`). Names, not a reverse proxy: the
port stays in the URL. The same names are rendered three ways: `/etc/hosts` lines for one
workstation, and dnsmasq options or BIND records for the resolver of a split-DNS home network.

A host whose address is itself a DNS name gets CNAME records (dnsmasq resolves a `cname=` target
only if it knows it, from its own hosts file or DHCP leases); `/etc/hosts` cannot alias one name
to another, so its lines say so instead.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping, Optional

from components.platform.config import LakehouseConfig
from components.platform.endpoints import Endpoint, resolve

# The services with a web UI: the named port of the service table that serves it, and what it is
# (Trino's UI is on its HTTPS port; its plain HTTP port refuses clients).
UIS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "minio": ("console", "MinIO console"),
    "trino": ("https", "Trino web UI"),
    "spark": ("ui", "Spark master UI"),
    "jupyter": ("lab", "JupyterLab"),
    "mlflow": ("http", "MLflow"),
    "superset": ("http", "Superset"),
    "airflow": ("api", "Airflow"),
})

TTL = 300


@dataclass(frozen=True)
class UiName:
    service: str
    title: str
    fqdn: str
    endpoint: Endpoint  # the host's address and the published port, as the machine running Pulumi sees them

    @property
    def url(self) -> str:
        scheme = "https" if UIS[self.service][0] == "https" else "http"
        return f"{scheme}://{self.fqdn}:{self.endpoint.port}"

    @property
    def ip(self) -> Optional[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        """The host's address as an IP, or None when the host is configured by a DNS name."""
        try:
            return ipaddress.ip_address(self.endpoint.host)
        except ValueError:
            return None


def ui_names(config: LakehouseConfig) -> list[UiName]:
    """Every deployed UI's friendly name, in the order of UIS; none without a domain."""
    if not config.domain:
        return []
    return [UiName(service, title, f"{service}.{config.domain}", resolve(config, service, port))
            for service, (port, title) in UIS.items() if service in config.services]


def ui_urls(config: LakehouseConfig) -> dict[str, str]:
    return {name.service: name.url for name in ui_names(config)}


def hosts_file(config: LakehouseConfig) -> str:
    """Lines for `/etc/hosts`: one per host address, its UIs' names after it."""
    names = ui_names(config)
    by_ip: dict[str, list[str]] = {}
    for name in names:
        if name.ip is not None:
            by_ip.setdefault(str(name.ip), []).append(name.fqdn)
    lines = [f"# lakehouse web UIs ({config.domain})"] if names else []
    lines += [f"{ip} {' '.join(fqdns)}" for ip, fqdns in by_ip.items()]
    lines += [f"# {n.fqdn}: the host is configured as {n.endpoint.host}, a DNS name; use the DNS records"
              for n in names if n.ip is None]
    return "".join(f"{line}\n" for line in lines)


def dnsmasq_config(config: LakehouseConfig) -> str:
    """dnsmasq options (a file in /etc/dnsmasq.d, or the custom options of a router or Pi-hole)."""
    return "".join(f"address=/{n.fqdn}/{n.ip}\n" if n.ip is not None else f"cname={n.fqdn},{n.endpoint.host}\n"
                   for n in ui_names(config))


def dns_zone_records(config: LakehouseConfig) -> str:
    """BIND zone-file records, names fully qualified (paste into the zone of the domain, or its parent)."""
    def record(n: UiName) -> str:
        if n.ip is None:
            return f"{n.fqdn}. {TTL} IN CNAME {n.endpoint.host}."
        return f"{n.fqdn}. {TTL} IN {'A' if n.ip.version == 4 else 'AAAA'} {n.ip}"
    return "".join(f"{record(n)}\n" for n in ui_names(config))
