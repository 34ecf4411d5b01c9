"""The README's architecture diagram is drawn from the service table and the placement, not by hand."""

from __future__ import annotations

import re

from components.platform.config import parse
from components.platform.diagram import mermaid
from components.platform.services import SERVICES

NAS = {"address": "192.168.10.20", "ssh": {"user": "lakehouse"}}


def boxes(diagram: str) -> dict[str, list[str]]:
    """Node ids by the host box they are drawn in."""
    found: dict[str, list[str]] = {}
    host = None
    for line in diagram.splitlines():
        if match := re.match(r'\s+subgraph host_(\w+)\[', line):
            host = match.group(1)
            found[host] = []
        elif line.strip() == "end":
            host = None
        elif host and (match := re.match(r'\s+(\w+)\["', line)):
            found[host].append(match.group(1))
    return found


def test_every_instance_is_drawn_on_its_host_and_every_grant_and_database_is_an_edge():
    config = parse({"storageHost": "nas", "hosts": {"nas": NAS, "box": {"address": "10.0.0.2", "ssh": {"user": "me"}}},
                    "computeHosts": ["box", "nas"], "services": {"trino-worker": {"replicas": 3}}})
    diagram = mermaid(config)
    expected: dict[str, list[str]] = {}
    for service in config.services.values():
        for instance in service.instances:
            expected.setdefault(instance.host, []).append(instance.name.replace("-", "_"))
    assert {h: sorted(n) for h, n in boxes(diagram).items()} == {h: sorted(n) for h, n in expected.items()}
    assert "trino_worker_3" in boxes(diagram)["nas"]
    for spec in SERVICES.values():
        node = spec.name.replace("-", "_")
        assert (f'  {node} -- "S3: ' in diagram) == bool(spec.grants), spec.name
        assert (f'  {node} -- "database {spec.database}" --> postgres' in diagram) == bool(spec.database), spec.name
    assert "Proxmox" not in diagram


def test_a_moved_port_is_redrawn():
    config = parse({"storageHost": "nas", "hosts": {"nas": NAS}, "services": {"superset": {"ports": {"http": 18088}}}})
    assert 'superset["superset<br/>http 18088"]' in mermaid(config)
