"""The catalogs in the recorded stacks: own database and S3 user each, started after both exist."""

from __future__ import annotations

from harness import StackRun, is_secret_wrapper
from readers import parse_site_xml as site


def test_iceberg_rest_uses_its_own_database_and_s3_user_on_the_nas_network(homelab: StackRun):
    env = homelab.envs("catalogs-iceberg-rest-container")
    assert env["CATALOG_URI"] == "jdbc:postgresql://lakehouse-postgres:5432/iceberg"
    assert env["CATALOG_JDBC_USER"] == "iceberg_rest"
    assert env["CATALOG_JDBC_PASSWORD"] == homelab.password("data-iceberg-rest-db-password")
    assert env["CATALOG_S3_ENDPOINT"] == "http://lakehouse-minio:9000"
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == (
        "iceberg_rest", homelab.password("data-iceberg-rest-s3-secret"))
    assert is_secret_wrapper(homelab.named("catalogs-iceberg-rest-container").inputs["envs"])


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

