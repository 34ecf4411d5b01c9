"""The engines' rendered files and commands (Trino, Spark, JupyterLab), read back with real parsers."""

from __future__ import annotations

import pytest

from components.compute.spark import jupyter_env, master_command, spark_defaults, worker_command
from components.compute.trino import config_properties, iceberg_catalog, jvm_config, node_properties
from components.platform.formats import java_properties
from components.platform.s3 import S3Settings
from harness import StackRun
from readers import parse_properties

S3 = S3Settings("http://lakehouse-minio:9000", "us-east-1", "trino", "s3cr3t")


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
    assert parse_properties(java_properties(iceberg_catalog("http://192.168.10.20:8181", S3))) == {
        "connector.name": "iceberg",
        "iceberg.catalog.type": "rest",
        "iceberg.rest-catalog.uri": "http://192.168.10.20:8181",
        "iceberg.rest-catalog.warehouse": "s3://warehouse/",
        **NATIVE_S3,
    }


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
