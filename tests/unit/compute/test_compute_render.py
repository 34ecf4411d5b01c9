"""The engines' rendered files and commands (Trino, Spark, JupyterLab), read back with real parsers."""

from __future__ import annotations

import pytest

from components.compute.spark import (Driver, Executors, connect_command, connect_env, connect_url, jupyter_env,
                                      master_command, security_defaults, spark_defaults, worker_command, worker_env)
from components.platform import spark_sizing as sizing
from components.catalogs.polaris import CatalogClient, principal
from components.compute.trino import config_properties, hive_catalog, iceberg_catalog, jvm_config, node_properties
from components.platform.formats import java_properties
from components.platform.s3 import S3Settings
from harness import StackRun
from readers import parse_properties

S3 = S3Settings("http://lakehouse-minio:9000", "us-east-1", "trino", "s3cr3t")
TRINO_CATALOG = CatalogClient("http://192.168.10.20:8181/api/catalog", principal("trino"), "c4t-s3cr3t")
SPARK_CATALOG = CatalogClient("http://192.168.10.20:8181/api/catalog", principal("spark"), "sp4rk-s3cr3t")
CLASSPATH = ("/opt/lakehouse/jars/iceberg-spark-runtime-4.1_2.13-1.11.0.jar:/opt/lakehouse/jars/iceberg-aws-bundle-1.11.0.jar:"
             "/opt/lakehouse/jars/hadoop-aws-3.4.2.jar:/opt/lakehouse/jars/bundle-2.29.52.jar")


def test_trino_node_properties():
    assert parse_properties(java_properties(node_properties("trino-worker-1", "192.168.10.31"))) == {
        "node.environment": "lakehouse",
        "node.id": "trino-worker-1",
        "node.data-dir": "/data/trino",
        "node.internal-address": "192.168.10.31",
    }


HTTPS = {
    "http-server.https.enabled": "true",
    "http-server.https.port": "8443",
    "http-server.https.keystore.path": "/etc/trino/coordinator.pem",
    "http-server.authentication.type": "PASSWORD",
    "http-server.authentication.allow-insecure-over-http": "false",
}


def test_trino_coordinator_alone_schedules_work_on_itself():
    assert parse_properties(java_properties(config_properties(
        True, 8080, "http://192.168.10.30:8080", 0, "s3cr3t", 8443))) == {
        "coordinator": "true",
        "node-scheduler.include-coordinator": "true",
        "http-server.http.port": "8080",
        "discovery.uri": "http://192.168.10.30:8080",
        "internal-communication.shared-secret": "s3cr3t",
        **HTTPS,
    }


def test_trino_coordinator_with_workers_leaves_work_to_them():
    assert parse_properties(java_properties(config_properties(
        True, 8080, "http://192.168.10.30:8080", 2, "s3cr3t", 8443))) == {
        "coordinator": "true",
        "node-scheduler.include-coordinator": "false",
        "http-server.http.port": "8080",
        "discovery.uri": "http://192.168.10.30:8080",
        "internal-communication.shared-secret": "s3cr3t",
        **HTTPS,
    }


def test_trino_worker_is_not_a_coordinator_and_has_no_scheduling_key():
    assert parse_properties(java_properties(config_properties(False, 8090, "http://192.168.10.30:8080", 1, "s3cr3t"))) == {
        "coordinator": "false",
        "http-server.http.port": "8090",
        "discovery.uri": "http://192.168.10.30:8080",
        "internal-communication.shared-secret": "s3cr3t",
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
    """Trino's principal with OAuth2 client credentials; table data on vended credentials, no key of its own."""
    assert parse_properties(java_properties(iceberg_catalog(TRINO_CATALOG, "http://192.168.10.20:9000", "us-east-1"))) == {
        "connector.name": "iceberg",
        "iceberg.catalog.type": "rest",
        "iceberg.rest-catalog.uri": "http://192.168.10.20:8181/api/catalog",
        "iceberg.rest-catalog.warehouse": "warehouse",
        "iceberg.rest-catalog.security": "OAUTH2",
        "iceberg.rest-catalog.oauth2.credential": "trino:c4t-s3cr3t",
        "iceberg.rest-catalog.oauth2.server-uri": "http://192.168.10.20:8181/api/catalog/v1/oauth/tokens",
        "iceberg.rest-catalog.oauth2.scope": "PRINCIPAL_ROLE:engine",
        "iceberg.rest-catalog.vended-credentials-enabled": "true",
        "fs.native-s3.enabled": "true",
        "s3.endpoint": "http://192.168.10.20:9000",
        "s3.region": "us-east-1",
        "s3.path-style-access": "true",
    }


DRIVER = Driver("192.168.10.32", 7078, 7079, 4040, 1280)
EXECUTORS = Executors(1024, 1)


def test_spark_defaults_parse_to_every_catalog_driver_executor_and_security_key():
    text = java_properties(spark_defaults("spark://192.168.10.30:7077", SPARK_CATALOG, S3,
                                          DRIVER, Executors(512, 2, 4), "s3cr3t-auth"), separator=" ")
    assert parse_properties(text) == {
        "spark.master": "spark://192.168.10.30:7077",
        "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        "spark.sql.catalog.iceberg": "org.apache.iceberg.spark.SparkCatalog",
        "spark.sql.catalog.iceberg.type": "rest",
        "spark.sql.catalog.iceberg.uri": "http://192.168.10.20:8181/api/catalog",
        "spark.sql.catalog.iceberg.warehouse": "warehouse",
        "spark.sql.catalog.iceberg.rest.auth.type": "oauth2",
        "spark.sql.catalog.iceberg.credential": "spark:sp4rk-s3cr3t",
        "spark.sql.catalog.iceberg.oauth2-server-uri": "http://192.168.10.20:8181/api/catalog/v1/oauth/tokens",
        "spark.sql.catalog.iceberg.scope": "PRINCIPAL_ROLE:engine",
        "spark.sql.catalog.iceberg.token-refresh-enabled": "true",
        "spark.sql.catalog.iceberg.header.X-Iceberg-Access-Delegation": "vended-credentials",
        "spark.sql.catalog.iceberg.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
        "spark.sql.catalog.iceberg.s3.endpoint": "http://lakehouse-minio:9000",
        "spark.sql.catalog.iceberg.s3.path-style-access": "true",
        "spark.sql.catalog.iceberg.client.region": "us-east-1",
        "spark.sql.defaultCatalog": "iceberg",
        "spark.executorEnv.AWS_REGION": "us-east-1",
        "spark.driver.extraClassPath": CLASSPATH,
        "spark.executor.extraClassPath": CLASSPATH,
        "spark.driver.host": "192.168.10.32",
        "spark.driver.bindAddress": "0.0.0.0",
        "spark.driver.port": "7078",
        "spark.driver.blockManager.port": "7079",
        "spark.ui.port": "4040",
        "spark.driver.memory": "1280m",
        "spark.executor.memory": "512m",
        "spark.executor.cores": "2",
        "spark.cores.max": "4",
        "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.endpoint": "http://lakehouse-minio:9000",
        "spark.hadoop.fs.s3a.endpoint.region": "us-east-1",
        "spark.hadoop.fs.s3a.access.key": "trino",
        "spark.hadoop.fs.s3a.secret.key": "s3cr3t",
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.connection.ssl.enabled": "false",
        "spark.authenticate": "true",
        "spark.authenticate.secret": "s3cr3t-auth",
        "spark.ui.killEnabled": "false",
        "spark.master.rest.enabled": "false",
    }
    assert "spark.cores.max" not in spark_defaults("spark://m:7077", SPARK_CATALOG, S3, DRIVER, EXECUTORS, "x")


def test_every_spark_daemon_reads_only_the_security_keys():
    assert parse_properties(java_properties(security_defaults("s3cr3t"), separator=" ")) == {
        "spark.authenticate": "true", "spark.authenticate.secret": "s3cr3t",
        "spark.ui.killEnabled": "false", "spark.master.rest.enabled": "false"}


def test_spark_defaults_text_uses_space_separated_lines():
    text = java_properties(spark_defaults("spark://m:7077", SPARK_CATALOG, S3, DRIVER, EXECUTORS, "x"), separator=" ")
    assert text.splitlines()[0] == "spark.master spark://m:7077"
    assert all(" " in line and "=" not in line.split(" ", 1)[0] for line in text.splitlines())


def test_spark_master_command():
    assert master_command("192.168.10.30", 7077, 8081) == [
        "/usr/local/spark/bin/spark-class", "org.apache.spark.deploy.master.Master",
        "--host", "192.168.10.30", "--port", "7077", "--webui-port", "8081"]


def test_spark_worker_command_offers_cores_and_memory():
    assert worker_command("spark://192.168.10.30:7077", "192.168.10.31", 7100, 8100, 3072, 2) == [
        "/usr/local/spark/bin/spark-class", "org.apache.spark.deploy.worker.Worker",
        "--host", "192.168.10.31", "--port", "7100", "--webui-port", "8100",
        "--cores", "2", "--memory", "2304m", "spark://192.168.10.30:7077"]


def test_spark_workers_clean_up_finished_applications():
    env = dict(e.split("=", 1) for e in worker_env("us-east-1"))
    assert env == {"SPARK_WORKER_DIR": "/tmp/spark-work", "SPARK_WORKER_OPTS": "-Dspark.worker.cleanup.enabled=true",
                   "SPARK_DAEMON_MEMORY": "256m", "AWS_REGION": "us-east-1"}


@pytest.mark.parametrize("container_mb, worker_cores, executor_mb, executor_cores, executors", [
    (3072, 2, 1024, 1, 2), (2048, 2, 512, 1, 2), (2048, 1, 512, 1, 1), (1792, 2, 1024, 1, 1),
    (1280, 2, 1024, 1, 0), (4096, 4, 1024, 3, 1)])
def test_executors_a_worker_hosts(container_mb, worker_cores, executor_mb, executor_cores, executors):
    assert sizing.executors_per_worker(container_mb, worker_cores, executor_mb, executor_cores) == executors


@pytest.mark.parametrize("slots, cores, cores_max", [(0, 1, 1), (1, 1, 1), (2, 1, 1), (4, 1, 2), (5, 2, 4)])
def test_the_connect_server_takes_half_the_executors(slots, cores, cores_max):
    assert sizing.connect_cores_max(slots, cores) == cores_max


def test_spark_connect_server_runs_in_the_foreground_on_loopback_with_its_token():
    assert connect_command(15002) == [
        "/usr/local/spark/sbin/start-connect-server.sh",
        "--conf", "spark.connect.grpc.binding.address=127.0.0.1", "--conf", "spark.connect.grpc.binding.port=15002"]
    assert dict(e.split("=", 1) for e in connect_env("t0ken", 1024, "us-east-1")) == {
        "SPARK_NO_DAEMONIZE": "1", "SPARK_DAEMON_MEMORY": "1024m", "SPARK_LOG_DIR": "/tmp/spark-logs",
        "SPARK_PID_DIR": "/tmp/spark-pids", "SPARK_CONNECT_AUTHENTICATE_TOKEN": "t0ken", "AWS_REGION": "us-east-1"}
    assert connect_url(15002) == "sc://localhost:15002"


def test_jupyter_env():
    assert jupyter_env("t0ken", 8888, "us-east-1") == [
        "JUPYTER_TOKEN=t0ken", "JUPYTER_PORT=8888", "AWS_REGION=us-east-1"]
    assert jupyter_env("t0ken", 8888, "us-east-1", "c0nnect")[-1] == "SPARK_CONNECT_AUTHENTICATE_TOKEN=c0nnect"


def test_trino_hive_catalog():
    assert parse_properties(java_properties(hive_catalog("thrift://192.168.10.20:9083", S3))) == {
        "connector.name": "hive",
        "hive.metastore.uri": "thrift://192.168.10.20:9083",
        **NATIVE_S3,
    }


@pytest.mark.parametrize("render", [
    lambda: iceberg_catalog(TRINO_CATALOG, "http://minio:9000", "us-east-1"),
    lambda: hive_catalog("thrift://hms:9083", S3),
], ids=["iceberg", "hive"])
def test_trino_catalogs_use_native_s3_and_no_legacy_hive_s3_keys(render):
    parsed = parse_properties(java_properties(render()))
    assert [key for key in parsed if key.startswith("hive.s3.")] == []
    assert parsed["fs.native-s3.enabled"] == "true"


@pytest.mark.parametrize("limit_mb, heap", [(1536, 768), (2048, 1280), (4096, 3276), (8192, 6553)])
def test_trino_jvm_config_sizes_the_heap_from_the_container_limit(limit_mb, heap):
    lines = jvm_config(limit_mb).splitlines()
    assert all(line.startswith("-") for line in lines), "one JVM option per line"
    assert [line for line in lines if line.startswith(("-Xm", "-XX:MaxRAM", "-XX:InitialRAM"))] == [
        f"-Xmx{heap}m", f"-Xms{heap}m"]
    assert limit_mb - heap >= 768 or heap == limit_mb // 2


def test_every_trino_node_gets_the_jvm_config_of_its_limit(homelab: StackRun):
    for node in ("compute-trino-container", "compute-trino-worker-1-container"):
        assert homelab.uploads(node)["/etc/trino/jvm.config"] == jvm_config(int(homelab.named(node).inputs["memory"]))


def test_spark_classpath_names_every_spark_jar_iceberg_first_and_no_wildcard():
    from components.compute.spark import CLASSPATH as ORDER, classpath
    from components.platform.services import SERVICES

    for service in ("spark", "spark-worker", "jupyter"):
        assert sorted(ORDER) == sorted(SERVICES[service].artifacts), "every jar the volume holds, no other"
    assert classpath() == CLASSPATH and "*" not in classpath()
    assert ORDER.index("iceberg-aws-bundle") < ORDER.index("aws-sdk-bundle"), "Iceberg's own SDK wins"
