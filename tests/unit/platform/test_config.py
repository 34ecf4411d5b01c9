"""Bad configuration fails up front, naming every problem, before anything is registered."""

from __future__ import annotations

from typing import Any

import pytest

from components.platform.config import ConfigError, host_memory_mb, parse, parse_memory_mb
from harness import run_stack
from readers import config_problems as problems

NAS = {"address": "192.168.10.20", "ssh": {"user": "lakehouse", "options": ["StrictHostKeyChecking=accept-new"]}}


def minimal(**overrides: Any) -> dict[str, Any]:
    return {"storageHost": "nas", "hosts": {"nas": NAS}, **overrides}


def test_minimal_config_parses_with_defaults():
    config = parse(minimal())
    assert config.prefix == "lakehouse" and config.region == "us-east-1"
    assert config.purge_on_destroy is False and config.landing_expiration_days == 30
    assert config.hosts["nas"].docker_url == "ssh://lakehouse@192.168.10.20:22"
    assert config.services["minio"].host == "nas"
    assert dict(config.services["minio"].ports) == {"api": 9000, "console": 9001}
    assert config.services["postgres"].memory_mb == 1024


def test_a_local_docker_host_needs_no_ssh():
    config = parse(minimal(hosts={"nas": {"address": "localhost", "dockerHost": "unix:///var/run/docker.sock"}}))
    assert config.hosts["nas"].docker_url == "unix:///var/run/docker.sock"
    assert config.hosts["nas"].ssh is None


@pytest.mark.parametrize("raw, expected", [
    (minimal(hosts={"nas": {**NAS, "address": "300.1.2.3"}}),
     "lakehouse:hosts.nas.address = '300.1.2.3': expected an IP address or a DNS host name"),
    (minimal(hosts={"nas": {**NAS, "address": "nas box"}}),
     "lakehouse:hosts.nas.address = 'nas box': expected an IP address or a DNS host name"),
    (minimal(hosts={"nas": {"address": "192.168.10.20", "ssh": {"user": ""}}}),
     "lakehouse:hosts.nas.ssh.user = '': expected a non-empty user name (letters, digits, _ . -)"),
    (minimal(hosts={"nas": {"address": "192.168.10.20", "ssh": {"user": "me", "options": ["-o X"]}}}),
     "lakehouse:hosts.nas.ssh.options[0] = '-o X': expected an ssh option like `StrictHostKeyChecking=accept-new`"),
    (minimal(hosts={"nas": {"address": "192.168.10.20"}}),
     "lakehouse:hosts.nas = ['address']: expected exactly one of `ssh` or `dockerHost`"),
    (minimal(hosts={"nas": NAS, "nas2": {**NAS}}),
     "lakehouse:hosts.nas2.address = '192.168.10.20': expected an address not already used by host `nas`"),
    (minimal(services={"minio": {"ports": {"api": 70000}}}),
     "lakehouse:services.minio.ports.api = 70000: expected a port number 1-65535"),
    (minimal(services={"minio": {"ports": {"api": 0}}}),
     "lakehouse:services.minio.ports.api = 0: expected a port number 1-65535"),
    (minimal(services={"postgres": {"ports": {"postgres": 9000}}}),
     "lakehouse:services.postgres.ports.postgres = 9000: expected a port not already published on host `nas` "
     "by minio.api"),
    (minimal(services={"minio": {"ports": {"s3": 9100}}}),
     "lakehouse:services.minio.ports.s3 = 9100: expected a port of minio: api, console"),
    (minimal(services={"minlo": {"memory": "1g"}}),
     "lakehouse:services.minlo = {'memory': '1g'}: expected a known service name: airflow, hive-metastore, "
     "iceberg-rest, jupyter, minio, mlflow, postgres, spark, spark-connect, spark-worker, superset, trino, trino-worker"),
    (minimal(services={"minio": {"memory": "2 GB"}}),
     "lakehouse:services.minio.memory = '2 GB': expected a memory size of at least 64m, like `512m` or `2g`"),
    (minimal(services={"minio": {"image": "minio/minio"}}),
     "lakehouse:services.minio.image = 'minio/minio': expected an image reference with a concrete tag, "
     "like minio/minio:RELEASE.2025-01-01T00-00-00Z"),
    (minimal(services={"minio": {"host": "vm1"}}),
     "lakehouse:services.minio.host = 'vm1': expected one of the configured hosts: nas"),
    (minimal(storageHost="nope"), "lakehouse:storageHost = 'nope': expected one of the configured hosts: nas"),
    ({"hosts": {"nas": NAS}}, "lakehouse:storageHost = None: expected a value (this key is required)"),
    (minimal(hosts={}), "lakehouse:hosts = {}: expected at least one host (or a VM)"),
    (minimal(purgeOnDestroy="yes"), "lakehouse:purgeOnDestroy = 'yes': expected true or false"),
    (minimal(landingExpirationDays=0), "lakehouse:landingExpirationDays = 0: expected a whole number of days >= 1"),
    (minimal(noncurrentVersionExpirationDays=True),
     "lakehouse:noncurrentVersionExpirationDays = True: expected a whole number of days >= 1"),
    (minimal(prefix="Lake House"),
     "lakehouse:prefix = 'Lake House': expected a docker name of lower-case letters, digits, _ . -"),
    (minimal(storagehost="nas"), "lakehouse:storagehost = 'nas': expected a known key: computeHosts, demo, domain, hosts, landingExpirationDays, "
                                 "logRetentionDays, noncurrentVersionExpirationDays, prefix, proxmox, proxmoxApiToken, purgeOnDestroy, region, services, spark, storageHost, vms"),
    (minimal(demo={"enabled": "no"}), "lakehouse:demo.enabled = 'no': expected true or false"),
    (minimal(demo={"tripsPerDay": 0}), "lakehouse:demo.tripsPerDay = 0: expected a whole number of trips >= 1"),
    (minimal(demo={"trips": 5}), "lakehouse:demo.trips = 5: expected one of the known fields: enabled, tripsPerDay"),
    (minimal(services={"taxi-source": {"memory": "1g"}}),
     "lakehouse:services.taxi-source = {'memory': '1g'}: expected a known service name: airflow, hive-metastore, "
     "iceberg-rest, jupyter, minio, mlflow, postgres, spark, spark-connect, spark-worker, superset, trino, trino-worker"),
    (minimal(hosts={"nas": {**NAS, "adress": "x"}}),
     "lakehouse:hosts.nas.adress = 'x': expected one of the known fields: address, dockerHost, memory, ssh"),
])
def test_each_kind_of_bad_value_is_named_with_key_value_and_expectation(raw, expected):
    assert expected in problems(raw)


def test_every_problem_is_reported_together():
    found = problems(minimal(
        region="",
        hosts={"nas": {**NAS, "ssh": {"user": "", "port": 99999}}},
        services={"minio": {"memory": "lots"}, "postgres": {"ports": {"postgres": 9001}}, "kafka": {}},
    ))
    assert len(found) == 6, found
    message = str(ConfigError([]))
    assert message.startswith("invalid stack configuration (0 problems)")


def test_a_bad_stack_registers_nothing():
    run = run_stack("homelab", overrides={"services": {"minio": {"memory": "huge"}}, "storageHost": "nowhere"})
    assert isinstance(run.error, ConfigError)
    assert len(run.error.problems) == 2
    assert "lakehouse:storageHost = 'nowhere'" in str(run.error)
    assert run.resources == []


@pytest.mark.parametrize("text, mb", [("64m", 64), ("512M", 512), ("2g", 2048), ("1.5g", 1536)])
def test_memory_sizes(text, mb):
    assert parse_memory_mb(text) == mb


def test_a_host_that_declares_its_memory_must_hold_its_containers_limits():
    # Storage plane and compute on one 8g host: MinIO 1g, PostgreSQL 1g, ... Airflow 4 x 1g.
    found = problems(minimal(hosts={"nas": {**NAS, "memory": "8g"}}))
    assert len(found) == 1 and found[0].startswith("lakehouse:hosts.nas.memory = '8192m': expected room for the "
                                                   "containers placed on it: 27136m of limits (minio 1024m, ")
    assert "airflow 4096m" in found[0] and found[0].endswith(
        "+ 1024m for the system; lower `services.<name>.memory`, move services or add memory")


def test_the_limits_count_every_container_of_an_instance():
    config = parse(minimal(hosts={"nas": {**NAS, "memory": "32g"}}, services={"airflow": {"memory": "768m"}}))
    assert config.hosts["nas"].memory_mb == 32 * 1024
    assert host_memory_mb(config.services)["nas"] == 27136 - 4 * 1024 + 4 * 768


def test_a_host_that_declares_no_memory_is_not_checked():
    assert parse(minimal()).hosts["nas"].memory_mb is None


# --- Spark sizing -------------------------------------------------------------------------------

def test_spark_sizing_defaults_and_keys():
    config = parse(minimal(spark={"executorMemory": "768m", "executorCores": 2, "workerCores": 4},
                           services={"spark-worker": {"memory": "2560m"}}))
    assert (config.spark.executor_memory_mb, config.spark.executor_cores, config.spark.worker_cores) == (768, 2, 4)
    assert config.spark_executor_slots() == 2, "2560m - 768m = 1792m: two executors of 768m; four cores: two of 2"
    assert parse(minimal()).spark_executor_slots() == 2, "the defaults: one 3g worker, two executors of 1g"


@pytest.mark.parametrize("raw, expected", [
    (minimal(services={"spark-worker": {"memory": "1280m"}}),
     "lakehouse:services.spark-worker.memory = '1280m': expected at least 1792m: a worker offers its memory less 768m "
     "and must host one executor of spark.executorMemory (1024m)"),
    (minimal(spark={"executorMemory": "384m"}),
     "lakehouse:spark.executorMemory = '384m': expected a memory size of at least 450m (Spark refuses a smaller "
     "executor), like `1g`"),
    (minimal(spark={"executorCores": 3}),
     "lakehouse:spark.executorCores = 3: expected at most spark.workerCores (2): an executor runs on one worker"),
    (minimal(spark={"workerCores": 0}), "lakehouse:spark.workerCores = 0: expected a number of cores >= 1"),
    (minimal(spark={"driverMemory": "1g"}),
     "lakehouse:spark.driverMemory = '1g': expected one of the known fields: executorCores, executorMemory, workerCores"),
    (minimal(services={"spark-worker": {"memory": "2g"}}),
     "lakehouse:services.spark-worker = '1 x 2048m': expected workers that together host two executors of 1024m (one "
     "for JupyterLab's sessions, one for the Spark Connect server), not 1: more memory or another worker"),
    (minimal(services={"jupyter": {"memory": "1g"}}),
     "lakehouse:services.jupyter.memory = '1024m': expected at least 1218m: the driver's heap is the container less "
     "768m and Spark refuses one under 450m"),
    (minimal(services={"spark-connect": {"memory": "768m"}}),
     "lakehouse:services.spark-connect.memory = '768m': expected at least 962m: the driver's heap is the container "
     "less 512m and Spark refuses one under 450m"),
])
def test_spark_that_cannot_schedule_is_a_config_error(raw, expected):
    assert problems(raw) == [expected]


def test_no_spark_worker_at_all_is_allowed():
    assert parse(minimal(services={"spark-worker": {"replicas": 0}})).spark_executor_slots() == 0


VM_HOST = {"address": "192.168.10.31", "ssh": {"user": "lakehouse"}}


def test_the_connect_server_follows_the_spark_master_and_airflow_must_share_its_host():
    two = {"nas": NAS, "vm": VM_HOST}
    config = parse(minimal(hosts=two, computeHosts=["vm"], services={"spark": {"host": "nas"}, "airflow": {"host": "nas"}}))
    assert config.services["spark-connect"].host == "nas" == config.services["spark"].host
    assert problems(minimal(hosts=two, computeHosts=["vm"], services={"spark-connect": {"host": "vm"}})) == [
        "lakehouse:services.spark-connect.host = 'vm': expected no `host`: spark-connect runs on the host of spark "
        "(set services.spark.host)"]
    assert problems(minimal(hosts=two, computeHosts=["vm"], services={"airflow": {"host": "nas"}})) == [
        "lakehouse:services.airflow.host = 'nas': expected `vm`, the host of spark-connect: Airflow reaches the Spark "
        "Connect server on loopback (`sc://localhost`, the only host its client sends the token to without TLS)"]


def test_the_connect_servers_ports_are_checked_for_clashes():
    assert problems(minimal(services={"jupyter": {"ports": {"ui": 4050}}})) == [
        "lakehouse:services.spark-connect.ports.ui = 4050: expected a port not already published on host `nas` "
        "by jupyter.ui"]
