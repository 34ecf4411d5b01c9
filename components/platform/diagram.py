"""The architecture as a Mermaid flowchart, drawn from the service table and a stack's placement.

One box per host (its address, what it is), one node per deployed instance with the host ports it
publishes or listens on (and one per database-only service), and an edge for every bucket grant (to MinIO) and every owned database
(to PostgreSQL). The README's copy is the homelab stack's (`scripts/readme_tables.py`), kept equal
by a test, so moving a service, a port or a grant redraws it.
"""

from __future__ import annotations

from components.platform.config import LakehouseConfig
from components.platform.services import SERVICES, Grant


def _id(name: str) -> str:
    return name.replace("-", "_").replace(".", "_")


def _grant(grant: Grant) -> str:
    return f"{grant.bucket}/{grant.prefix} {'rw' if grant.write else 'r'}"


def mermaid(config: LakehouseConfig) -> str:
    vms = {vm.name for vm in config.proxmox.vms} if config.proxmox else set()
    lines = ["```mermaid", "flowchart LR", '  pulumi(["pulumi up: workstation or CI runner"])']
    for host in sorted({i.host for s in config.services.values() for i in s.instances},
                       key=lambda h: (h != config.storage_host, h)):
        planes = sorted({SERVICES[s.name].plane.value for s in config.services.values()
                         for i in s.instances if i.host == host})
        kind = "Proxmox VM" if host in vms else "docker host"
        lines.append(f'  subgraph host_{_id(host)}["{host}: {config.hosts[host].address}, {kind}, '
                     f'{" + ".join(planes)} plane"]')
        for service in config.services.values():
            spec = SERVICES[service.name]
            for instance in service.instances:
                if instance.host != host:
                    continue
                ports = ", ".join(f"{name} {port}" for name, port in instance.ports.items())
                extra = f", {spec.containers} containers" if spec.containers > 1 else ""
                lines.append(f'    {_id(instance.name)}["{instance.name}<br/>{ports}{extra}"]')
        lines.append("  end")
        how = "Docker over SSH" if config.hosts[host].ssh else "Docker"
        lines.append(f'  pulumi -. "{how}" .-> host_{_id(host)}')
    if config.proxmox:
        lines.append('  pulumi -. "Proxmox API: VMs from a cloud image" .-> proxmox[("Proxmox VE")]')
    # Services without a container own only storage: a database of their own is drawn as a node.
    storage_only = [spec for spec in SERVICES.values() if spec.image is None and config.deploys(spec)]
    lines += [f'  {_id(spec.name)}[("{spec.name}<br/>no container{", demo" if spec.demo else ""}")]'
              for spec in storage_only]
    for spec in [SERVICES[name] for name in config.services] + storage_only:
        if spec.grants and "minio" in config.services:
            lines.append(f'  {_id(spec.name)} -- "S3: {", ".join(map(_grant, spec.grants))}" --> minio')
        if spec.database and "postgres" in config.services:
            lines.append(f'  {_id(spec.name)} -- "database {spec.database}" --> postgres')
    lines.append("```")
    return "\n".join(lines) + "\n"

