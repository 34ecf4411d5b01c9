"""Pure renderers of the catalogs and engines, tested as exact content and parsed back with real
parsers: `jproperties` for `.properties` / `spark-defaults.conf`, ElementTree for `*-site.xml`,
and `sh` for the artifact fetch script."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import pytest

from components.artifacts import JARS, Artifact, fetch_script
from components.backing import jdbc_url
from components.formats import java_properties, s3a_properties, site_xml
from components.hive_metastore import core_site, hive_metastore_env, hive_site
from components.iceberg_rest import iceberg_rest_command, iceberg_rest_env
from components.s3 import S3Settings
from components.spark import jupyter_env, master_command, spark_defaults, worker_command
from components.trino import config_properties, hive_catalog, iceberg_catalog, node_properties
from readers import parse_properties, parse_site_xml

S3 = S3Settings("http://lakehouse-minio:9000", "us-east-1", "trino", "s3cr3t")
JDBC = "jdbc:postgresql://lakehouse-postgres:5432/iceberg"

S3A = {
    "fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
    "fs.s3a.endpoint": "http://lakehouse-minio:9000",
    "fs.s3a.endpoint.region": "us-east-1",
    "fs.s3a.access.key": "trino",
    "fs.s3a.secret.key": "s3cr3t",
    "fs.s3a.path.style.access": "true",
    "fs.s3a.connection.ssl.enabled": "false",
}


def fixture_catalog_properties(env: list[str]) -> dict[str, str]:
    """The iceberg-rest-fixture's rule: `CATALOG_*` minus the prefix, `__` -> `-`, `_` -> `.`, lower."""
    properties = {}
    for entry in env:
        name, _, value = entry.partition("=")
        if name.startswith("CATALOG_"):
            key = name.removeprefix("CATALOG_").replace("__", "-").replace("_", ".").lower()
            properties[key] = value
    return properties


# --- formats ------------------------------------------------------------------------------------

def test_site_xml_exact_text():
    assert site_xml({"a.b": "1", "c": "two"}) == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<configuration>\n"
        "  <property>\n    <name>a.b</name>\n    <value>1</value>\n  </property>\n"
        "  <property>\n    <name>c</name>\n    <value>two</value>\n  </property>\n"
        "</configuration>\n")


def test_site_xml_of_nothing_is_an_empty_configuration():
    assert parse_site_xml(site_xml({})) == {}


def test_site_xml_escapes_ampersand_and_angle_brackets():
    properties = {"javax.jdo.option.ConnectionURL": "jdbc:postgresql://db:5432/m?ssl=false&a=<b>",
                  "we<ird&name": "x > y"}
    text = site_xml(properties)
    assert "&amp;" in text and "&lt;" in text
    assert parse_site_xml(text) == properties


def test_java_properties_exact_text_with_equals():
    assert java_properties({"connector.name": "iceberg", "s3.endpoint": "http://m:9000"}) == (
        "connector.name=iceberg\ns3.endpoint=http://m:9000\n")


def test_java_properties_exact_text_with_space_separator():
    assert java_properties({"spark.master": "spark://h:7077", "a.b": "c"}, separator=" ") == (
        "spark.master spark://h:7077\na.b c\n")


@pytest.mark.parametrize("separator", ["=", " "])
def test_java_properties_round_trip_through_a_real_parser(separator):
    properties = {"spark.master": "spark://10.0.0.5:7077", "uri": "http://rest:8181/v1?x=1&y=2",
                  "empty": "", "colon": "a:b"}
    assert parse_properties(java_properties(properties, separator=separator)) == properties


@pytest.mark.parametrize("properties", [
    {"key": "line1\nline2"},
    {"key": "C:\\jars"},
    {"bad\\key": "v"},
    {"bad\nkey": "v"},
])
def test_java_properties_refuses_newlines_and_backslashes(properties):
    with pytest.raises(ValueError):
        java_properties(properties)


def test_s3a_properties_exact():
    assert s3a_properties(S3) == S3A


def test_s3a_properties_with_prefix():
    assert s3a_properties(S3, prefix="spark.hadoop.") == {f"spark.hadoop.{k}": v for k, v in S3A.items()}


# --- Iceberg REST -------------------------------------------------------------------------------

def test_jdbc_url_uses_the_postgresql_scheme():
    assert jdbc_url("lakehouse-postgres:5432", "iceberg") == JDBC


def test_iceberg_rest_command_puts_adapter_and_driver_on_the_classpath():
    assert iceberg_rest_command() == [
        "java", "-cp",
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


# --- Hive Metastore -----------------------------------------------------------------------------

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


def test_core_site_parses_to_the_s3a_settings():
    assert parse_site_xml(core_site(S3)) == S3A


def test_hive_metastore_env_exact():
    assert hive_metastore_env(1024) == [
        "SERVICE_NAME=metastore",
        "DB_DRIVER=postgres",
        "SERVICE_OPTS=-Xmx768m",
        "HADOOP_CLASSPATH=/opt/hadoop/share/hadoop/tools/lib/*:/opt/lakehouse/jars/*",
    ]


def test_hive_metastore_classpath_has_hadoop_tools_and_the_artifact_jars():
    env = dict(entry.split("=", 1) for entry in hive_metastore_env(768))
    assert env["HADOOP_CLASSPATH"].split(":") == ["/opt/hadoop/share/hadoop/tools/lib/*", f"{JARS}/*"]


# --- Trino --------------------------------------------------------------------------------------

def test_trino_node_properties():
    assert parse_properties(java_properties(node_properties("trino-worker-1", "192.168.10.31"))) == {
        "node.environment": "lakehouse",
        "node.id": "trino-worker-1",
        "node.data-dir": "/data/trino",
        "node.internal-address": "192.168.10.31",
    }


def test_trino_coordinator_alone_schedules_work_on_itself():
    assert parse_properties(java_properties(config_properties(True, 8080, "http://192.168.10.30:8080", 0))) == {
        "coordinator": "true",
        "node-scheduler.include-coordinator": "true",
        "http-server.http.port": "8080",
        "discovery.uri": "http://192.168.10.30:8080",
    }


def test_trino_coordinator_with_workers_leaves_work_to_them():
    assert parse_properties(java_properties(config_properties(True, 8080, "http://192.168.10.30:8080", 2))) == {
        "coordinator": "true",
        "node-scheduler.include-coordinator": "false",
        "http-server.http.port": "8080",
        "discovery.uri": "http://192.168.10.30:8080",
    }


def test_trino_worker_is_not_a_coordinator_and_has_no_scheduling_key():
    assert parse_properties(java_properties(config_properties(False, 8090, "http://192.168.10.30:8080", 1))) == {
        "coordinator": "false",
        "http-server.http.port": "8090",
        "discovery.uri": "http://192.168.10.30:8080",
    }


NATIVE_S3 = {
    "fs.native-s3.enabled": "true",
    "s3.endpoint": "http://lakehouse-minio:9000",
    "s3.region": "us-east-1",
    "s3.path-style-access": "true",
    "s3.aws-access-key": "trino",
    "s3.aws-secret-key": "s3cr3t",
}


def test_trino_iceberg_catalog():
    assert parse_properties(java_properties(iceberg_catalog("http://192.168.10.20:8181", S3))) == {
        "connector.name": "iceberg",
        "iceberg.catalog.type": "rest",
        "iceberg.rest-catalog.uri": "http://192.168.10.20:8181",
        "iceberg.rest-catalog.warehouse": "s3://warehouse/",
        **NATIVE_S3,
    }


def test_trino_hive_catalog():
    assert parse_properties(java_properties(hive_catalog("thrift://192.168.10.20:9083", S3))) == {
        "connector.name": "hive",
        "hive.metastore.uri": "thrift://192.168.10.20:9083",
        **NATIVE_S3,
    }


@pytest.mark.parametrize("render", [
    lambda: iceberg_catalog("http://rest:8181", S3),
    lambda: hive_catalog("thrift://hms:9083", S3),
], ids=["iceberg", "hive"])
def test_trino_catalogs_use_native_s3_and_no_legacy_hive_s3_keys(render):
    parsed = parse_properties(java_properties(render()))
    assert [key for key in parsed if key.startswith("hive.s3.")] == []
    assert parsed["fs.native-s3.enabled"] == "true"


# --- Spark + JupyterLab -------------------------------------------------------------------------

def test_spark_defaults_parse_to_every_catalog_and_driver_key():
    text = java_properties(spark_defaults("spark://192.168.10.30:7077", "http://192.168.10.20:8181", S3,
                                          "192.168.10.32", 7078, 7079), separator=" ")
    assert parse_properties(text) == {
        "spark.master": "spark://192.168.10.30:7077",
        "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        "spark.sql.catalog.iceberg": "org.apache.iceberg.spark.SparkCatalog",
        "spark.sql.catalog.iceberg.type": "rest",
        "spark.sql.catalog.iceberg.uri": "http://192.168.10.20:8181",
        "spark.sql.catalog.iceberg.warehouse": "s3://warehouse/",
        "spark.sql.catalog.iceberg.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
        "spark.sql.catalog.iceberg.s3.endpoint": "http://lakehouse-minio:9000",
        "spark.sql.catalog.iceberg.s3.path-style-access": "true",
        "spark.sql.catalog.iceberg.s3.access-key-id": "trino",
        "spark.sql.catalog.iceberg.s3.secret-access-key": "s3cr3t",
        "spark.sql.catalog.iceberg.client.region": "us-east-1",
        "spark.sql.defaultCatalog": "iceberg",
        "spark.executorEnv.AWS_REGION": "us-east-1",
        "spark.driver.extraClassPath": "/opt/lakehouse/jars/*",
        "spark.executor.extraClassPath": "/opt/lakehouse/jars/*",
        "spark.driver.host": "192.168.10.32",
        "spark.driver.bindAddress": "0.0.0.0",
        "spark.driver.port": "7078",
        "spark.driver.blockManager.port": "7079",
        "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.endpoint": "http://lakehouse-minio:9000",
        "spark.hadoop.fs.s3a.endpoint.region": "us-east-1",
        "spark.hadoop.fs.s3a.access.key": "trino",
        "spark.hadoop.fs.s3a.secret.key": "s3cr3t",
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.connection.ssl.enabled": "false",
    }


def test_spark_defaults_text_uses_space_separated_lines():
    text = java_properties(spark_defaults("spark://m:7077", "http://r:8181", S3, "d", 1, 2), separator=" ")
    assert text.splitlines()[0] == "spark.master spark://m:7077"
    assert all(" " in line and "=" not in line.split(" ", 1)[0] for line in text.splitlines())


def test_spark_master_command():
    assert master_command("192.168.10.30", 7077, 8081) == [
        "/usr/local/spark/bin/spark-class", "org.apache.spark.deploy.master.Master",
        "--host", "192.168.10.30", "--port", "7077", "--webui-port", "8081"]


def test_spark_worker_command():
    assert worker_command("spark://192.168.10.30:7077", "192.168.10.31", 7100, 8100, 2048) == [
        "/usr/local/spark/bin/spark-class", "org.apache.spark.deploy.worker.Worker",
        "--host", "192.168.10.31", "--port", "7100", "--webui-port", "8100",
        "--memory", "1280m", "spark://192.168.10.30:7077"]


@pytest.mark.parametrize("container_mb, offered", [(2048, "1280m"), (4096, "3328m"), (1536, "768m"),
                                                    (1024, "256m"), (512, "256m")])
def test_spark_worker_offers_its_memory_less_the_worker_and_executor_overhead(container_mb, offered):
    command = worker_command("spark://m:7077", "h", 1, 2, container_mb)
    assert command[command.index("--memory") + 1] == offered


def test_jupyter_env():
    assert jupyter_env("t0ken", 8888, "us-east-1") == [
        "JUPYTER_TOKEN=t0ken", "JUPYTER_PORT=8888", "AWS_REGION=us-east-1"]


# --- artifact fetch script ----------------------------------------------------------------------

def test_fetch_script_exact_text():
    artifact = Artifact("x-1.jar", "https://repo/x-1.jar", "sha256", "ab" * 32)
    assert fetch_script([artifact]) == (
        "set -eu\n"
        "cd /opt/lakehouse/jars\n"
        "fetch() {\n"
        '  if [ -f "$1" ] && echo "$4  $1" | "$3sum" -c - >/dev/null 2>&1; then return 0; fi\n'
        '  wget -q -O "$1.part" "$2"\n'
        '  echo "$4  $1.part" | "$3sum" -c -\n'
        '  mv "$1.part" "$1"\n'
        "}\n"
        f"fetch x-1.jar https://repo/x-1.jar sha256 {'ab' * 32}\n")


_FAKE_WGET = """#!/bin/sh
# Stands in for busybox wget: `wget -q -O <out> <url>` copies a file:// URL.
[ "$1" = -q ] && [ "$2" = -O ] || { echo "unexpected wget args: $*" >&2; exit 2; }
echo "$4" >> "$WGET_LOG"
cp "${4#file://}" "$3"
"""

needs_shell = pytest.mark.skipif(not all(shutil.which(tool) for tool in ("sh", "sha256sum", "sha1sum")),
                                 reason="needs sh, sha256sum and sha1sum")


class FetchBench:
    """A temp JARS dir, a source dir of 'remote' files, and a fake wget first on PATH."""

    def __init__(self, root):
        self.jars = root / "jars"
        self.remote = root / "remote"
        bin_dir = root / "bin"
        for d in (self.jars, self.remote, bin_dir):
            d.mkdir()
        wget = bin_dir / "wget"
        wget.write_text(_FAKE_WGET)
        wget.chmod(0o755)
        self.log = root / "wget.log"
        self.log.write_text("")
        self.env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
                    "WGET_LOG": str(self.log)}

    def artifact(self, file: str, content: bytes, algorithm: str, digest: str | None = None) -> Artifact:
        source = self.remote / file
        source.write_bytes(content)
        digest = digest or hashlib.new(algorithm, content).hexdigest()
        return Artifact(file, f"file://{source}", algorithm, digest)

    def run(self, artifacts) -> subprocess.CompletedProcess:
        script = fetch_script(artifacts)
        assert f"cd {JARS}\n" in script
        script = script.replace(f"cd {JARS}\n", f"cd {self.jars}\n")
        return subprocess.run(["sh", "-c", script], env=self.env, capture_output=True, text=True, timeout=30)

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines()


@pytest.fixture
def bench(tmp_path) -> FetchBench:
    return FetchBench(tmp_path)


@needs_shell
def test_fetch_script_downloads_and_verifies_every_artifact(bench):
    a = bench.artifact("a-1.0.jar", b"jar a", "sha256")
    b = bench.artifact("b-2.0.jar", b"jar b", "sha1")
    result = bench.run([a, b])
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in bench.jars.iterdir()) == ["a-1.0.jar", "b-2.0.jar"]
    assert (bench.jars / "a-1.0.jar").read_bytes() == b"jar a"
    assert (bench.jars / "b-2.0.jar").read_bytes() == b"jar b"
    assert bench.calls() == [a.url, b.url]


@needs_shell
def test_fetch_script_second_run_downloads_nothing(bench):
    artifacts = [bench.artifact("a-1.0.jar", b"jar a", "sha256"), bench.artifact("b-2.0.jar", b"jar b", "sha1")]
    assert bench.run(artifacts).returncode == 0
    bench.log.write_text("")
    result = bench.run(artifacts)
    assert result.returncode == 0, result.stderr
    assert bench.calls() == []


@needs_shell
def test_fetch_script_replaces_a_tampered_file(bench):
    a = bench.artifact("a-1.0.jar", b"jar a", "sha256")
    (bench.jars / "a-1.0.jar").write_bytes(b"tampered")
    result = bench.run([a])
    assert result.returncode == 0, result.stderr
    assert bench.calls() == [a.url]
    assert (bench.jars / "a-1.0.jar").read_bytes() == b"jar a"


@needs_shell
def test_fetch_script_fails_on_a_wrong_checksum_and_keeps_no_final_file(bench):
    bad = bench.artifact("a-1.0.jar", b"jar a", "sha256", digest=hashlib.sha256(b"other").hexdigest())
    later = bench.artifact("b-2.0.jar", b"jar b", "sha1")
    result = bench.run([bad, later])
    assert result.returncode != 0
    assert not (bench.jars / "a-1.0.jar").exists()
    assert {p.name for p in bench.jars.iterdir()} <= {"a-1.0.jar.part"}
    assert bench.calls() == [bad.url]  # stops at the first failure
