"""The catalogs in the recorded stacks: own database and S3 user each, started after both exist."""

from __future__ import annotations

from harness import StackRun, is_secret_wrapper
from readers import parse_site_xml as site


def test_iceberg_rest_uses_its_own_database_and_s3_user_on_the_nas_network(homelab: StackRun):
    for job in ("catalogs-iceberg-rest-container", "catalogs-iceberg-rest-bootstrap"):
        env = homelab.envs(job)
        assert env["quarkus.datasource.jdbc.url"] == "jdbc:postgresql://lakehouse-postgres:5432/iceberg"
        assert env["quarkus.datasource.username"] == "iceberg_rest"
        assert env["quarkus.datasource.password"] == homelab.password("data-iceberg-rest-db-password")
        assert env["polaris.persistence.type"] == "relational-jdbc"
    env = homelab.envs("catalogs-iceberg-rest-container")
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == (
        "iceberg_rest", homelab.password("data-iceberg-rest-s3-secret"))
    assert is_secret_wrapper(homelab.named("catalogs-iceberg-rest-container").inputs["envs"])


def test_the_server_and_its_bootstrap_run_the_same_polaris_version(homelab: StackRun):
    server = homelab.named("catalogs-iceberg-rest-container")
    bootstrap = homelab.named("catalogs-iceberg-rest-bootstrap")
    images = {r.inputs["name"]: r.outputs["imageId"] for r in homelab.of_type("docker:index/remoteImage:RemoteImage")}
    assert server.inputs["image"] == images["apache/polaris:1.7.0"]
    assert bootstrap.inputs["image"] == images["apache/polaris-admin-tool:1.7.0"]
    assert homelab.named("catalogs-iceberg-rest-setup").inputs["image"] == images["python:3.13.7-alpine3.22"]
    assert server.inputs["healthcheck"]["tests"] == ["CMD", "curl", "--fail", "--silent",
                                                     "http://localhost:8182/q/health/ready"]
    assert server.inputs["memory"] == 1024 and server.inputs["restart"] == "unless-stopped"
    assert server.inputs["ports"] == [{"internal": 8181, "external": 8181, "ip": "192.168.10.20"}]


def test_hive_metastore_uses_its_own_database_and_s3_user(homelab: StackRun):
    files = homelab.uploads("catalogs-hive-metastore-container")
    hive = site(files["/opt/hive/conf/hive-site.xml"])
    assert hive["javax.jdo.option.ConnectionURL"] == "jdbc:postgresql://lakehouse-postgres:5432/metastore"
    assert hive["javax.jdo.option.ConnectionUserName"] == "hive_metastore"
    assert hive["javax.jdo.option.ConnectionPassword"] == homelab.password("data-hive-metastore-db-password")
    core = site(files["/opt/hive/conf/core-site.xml"])
    assert core["fs.s3a.endpoint"] == "http://lakehouse-minio:9000"
    assert (core["fs.s3a.access.key"], core["fs.s3a.secret.key"]) == (
        "hive_metastore", homelab.password("data-hive-metastore-s3-secret"))
    assert is_secret_wrapper(homelab.named("catalogs-hive-metastore-container").inputs["uploads"])


def test_catalogs_start_only_after_their_database_and_user_exist(homelab: StackRun):
    for catalog, service in (("iceberg-rest", "iceberg-rest"), ("hive-metastore", "hive-metastore")):
        dependencies = set(homelab.named(f"catalogs-{catalog}-container").dependencies)
        for resource in (f"data-{service}-db", f"data-{service}-db-role", f"data-{service}-s3-policy-attachment"):
            assert homelab.named(resource).urn in dependencies, resource

