"""The platform's endpoint resolver and docker-host settings, as exact values."""

from __future__ import annotations

from components.platform.config import parse
from components.platform.endpoints import Endpoint, resolve
from components.platform.hosts import image_slug, ssh_opts


def test_ssh_options_become_dash_o_pairs():
    assert ssh_opts(["StrictHostKeyChecking=accept-new", "Port=2222"]) == [
        "-o", "StrictHostKeyChecking=accept-new", "-o", "Port=2222"]
    assert ssh_opts([]) == []


def test_endpoints_resolve_by_container_name_on_the_same_host_and_by_address_elsewhere():
    config = parse({
        "storageHost": "nas",
        "computeHosts": ["vm1"],
        "hosts": {"nas": {"address": "192.168.10.20", "ssh": {"user": "me"}},
                  "vm1": {"address": "192.168.10.31", "ssh": {"user": "me"}}},
        "services": {"minio": {"ports": {"api": 19000}}},
    })
    rest = config.services["iceberg-rest"].instances[0]
    trino = config.services["trino"].instances[0]
    assert resolve(config, "minio", "api", rest) == Endpoint("lakehouse-minio", 9000)
    assert resolve(config, "minio", "api", trino) == Endpoint("192.168.10.20", 19000)
    assert resolve(config, "minio", "api").url() == "http://192.168.10.20:19000"
    assert resolve(config, "postgres", "postgres", trino).hostport == "192.168.10.20:5432"
    assert resolve(config, "trino", "http", trino) == Endpoint("192.168.10.31", 8080)


def test_host_network_services_are_reached_by_address_even_on_the_same_host():
    config = parse({"storageHost": "box", "hosts": {"box": {"address": "10.0.0.5", "dockerHost": "unix:///d.sock"}}})
    spark = config.services["spark"].instances[0]
    rest = config.services["iceberg-rest"].instances[0]
    assert resolve(config, "iceberg-rest", "http", spark) == Endpoint("10.0.0.5", 8181)
    assert resolve(config, "minio", "api", rest) == Endpoint("lakehouse-minio", 9000)
    assert resolve(config, "spark", "master", config.services["jupyter"].instances[0]) == Endpoint("10.0.0.5", 7077)



def test_image_resource_names_never_collide_across_owners_or_registries():
    references = ["postgres:17", "bitnami/postgres:17", "ghcr.io/acme/postgres:17", "trinodb/trino:476"]
    slugs = [image_slug(r) for r in references]
    assert len(set(slugs)) == len(slugs)
    assert slugs[0] == "postgres-17" and slugs[1].startswith("postgres-17-") and slugs[3].startswith("trino-476-")
