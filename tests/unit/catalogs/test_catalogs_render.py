"""The catalogs' rendered env and files (Polaris, Hive Metastore), read back with real parsers."""

from __future__ import annotations

import pytest

from components.catalogs.hive_metastore import hive_metastore_env, hive_site
from components.platform.artifacts import ARTIFACTS, JARS
from components.storage.backing import jdbc_url
from readers import parse_site_xml

JDBC = "jdbc:postgresql://lakehouse-postgres:5432/iceberg"


def test_jdbc_url_uses_the_postgresql_scheme():
    assert jdbc_url("lakehouse-postgres:5432", "iceberg") == JDBC


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
