"""The catalogs' rendered env and files (Iceberg REST, Hive Metastore), read back with real parsers."""

from __future__ import annotations

import pytest

from components.catalogs.hive_metastore import hive_metastore_env, hive_site
from components.catalogs.iceberg_rest import iceberg_rest_command, iceberg_rest_env
from components.platform.artifacts import ARTIFACTS, JARS
from components.platform.s3 import S3Settings
from components.storage.backing import jdbc_url
from readers import parse_site_xml

S3 = S3Settings("http://lakehouse-minio:9000", "us-east-1", "trino", "s3cr3t")
JDBC = "jdbc:postgresql://lakehouse-postgres:5432/iceberg"


def fixture_catalog_properties(env: list[str]) -> dict[str, str]:
    """The iceberg-rest-fixture's rule: `CATALOG_*` minus the prefix, `__` -> `-`, `_` -> `.`, lower."""
    properties = {}
    for entry in env:
        name, _, value = entry.partition("=")
        if name.startswith("CATALOG_"):
            key = name.removeprefix("CATALOG_").replace("__", "-").replace("_", ".").lower()
            properties[key] = value
    return properties


def test_jdbc_url_uses_the_postgresql_scheme():
    assert jdbc_url("lakehouse-postgres:5432", "iceberg") == JDBC


def test_iceberg_rest_command_puts_adapter_and_driver_on_the_classpath():
    assert iceberg_rest_command() == [
        "java", "-XX:MaxRAMPercentage=70",
        "-Dorg.slf4j.simpleLogger.log.org.apache.iceberg.rest.RESTCatalogServer=warn", "-cp",
        "/usr/lib/iceberg-rest/iceberg-rest-adapter.jar:/opt/lakehouse/jars/postgresql-42.7.13.jar",
        "org.apache.iceberg.rest.RESTCatalogServer"]


def test_iceberg_rest_env_exact():
    assert iceberg_rest_env(JDBC, "iceberg", "dbpw", S3) == [
        "CATALOG_CATALOG__IMPL=org.apache.iceberg.jdbc.JdbcCatalog",
        "CATALOG_URI=jdbc:postgresql://lakehouse-postgres:5432/iceberg",
        "CATALOG_JDBC_USER=iceberg",
        "CATALOG_JDBC_PASSWORD=dbpw",
        "CATALOG_WAREHOUSE=s3://warehouse/",
        "CATALOG_IO__IMPL=org.apache.iceberg.aws.s3.S3FileIO",
        "CATALOG_S3_ENDPOINT=http://lakehouse-minio:9000",
        "CATALOG_S3_PATH__STYLE__ACCESS=true",
        "CATALOG_CLIENT_REGION=us-east-1",
        "AWS_REGION=us-east-1",
        "AWS_ACCESS_KEY_ID=trino",
        "AWS_SECRET_ACCESS_KEY=s3cr3t",
    ]


def test_iceberg_rest_env_maps_to_the_intended_catalog_properties():
    assert fixture_catalog_properties(iceberg_rest_env(JDBC, "iceberg", "dbpw", S3)) == {
        "catalog-impl": "org.apache.iceberg.jdbc.JdbcCatalog",
        "uri": "jdbc:postgresql://lakehouse-postgres:5432/iceberg",
        "jdbc.user": "iceberg",
        "jdbc.password": "dbpw",
        "warehouse": "s3://warehouse/",
        "io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
        "s3.endpoint": "http://lakehouse-minio:9000",
        "s3.path-style-access": "true",
        "client.region": "us-east-1",
    }


def test_iceberg_rest_catalog_uri_is_jdbc_postgresql():
    uri = fixture_catalog_properties(iceberg_rest_env(jdbc_url("pg:5432", "iceberg"), "u", "p", S3))["uri"]
    assert uri.startswith("jdbc:postgresql://") and not uri.startswith("jdbc:postgres:")


def test_hive_site_parses_to_the_metastore_settings():
    assert parse_site_xml(hive_site("jdbc:postgresql://pg:5432/metastore", "metastore", "pw")) == {
        "javax.jdo.option.ConnectionDriverName": "org.postgresql.Driver",
        "javax.jdo.option.ConnectionURL": "jdbc:postgresql://pg:5432/metastore",
        "javax.jdo.option.ConnectionUserName": "metastore",
        "javax.jdo.option.ConnectionPassword": "pw",
        "hive.metastore.warehouse.dir": "s3a://warehouse/hive/",
        "hive.metastore.port": "9083",
        "metastore.metastore.event.db.notification.api.auth": "false",
    }


def test_hive_site_password_with_xml_specials_round_trips():
    password = "p&ss<w>rd\"'"
    assert parse_site_xml(hive_site(JDBC, "u", password))["javax.jdo.option.ConnectionPassword"] == password


def test_hive_metastore_env_exact():
    assert hive_metastore_env(1024) == [
        "SERVICE_NAME=metastore",
        "DB_DRIVER=postgres",
        "SERVICE_OPTS=-Xmx512m",
        "HADOOP_CLASSPATH=/opt/hadoop/share/hadoop/tools/lib/*:/opt/lakehouse/jars/postgresql-42.7.13.jar",
    ]


@pytest.mark.parametrize("limit_mb, heap", [(640, "-Xmx320m"), (1024, "-Xmx512m"), (2048, "-Xmx1536m"),
                                            (4096, "-Xmx3276m")])
def test_hive_metastore_heap_leaves_room_for_metaspace_and_threads(limit_mb, heap):
    assert dict(entry.split("=", 1) for entry in hive_metastore_env(limit_mb))["SERVICE_OPTS"] == heap


def test_hive_metastore_classpath_names_only_the_driver_it_needs():
    env = dict(entry.split("=", 1) for entry in hive_metastore_env(768))
    assert env["HADOOP_CLASSPATH"].split(":") == ["/opt/hadoop/share/hadoop/tools/lib/*", ARTIFACTS["postgresql-jdbc"].path]
    assert f"{JARS}/*" not in env["HADOOP_CLASSPATH"], "a wildcard would load every jar on the volume"
