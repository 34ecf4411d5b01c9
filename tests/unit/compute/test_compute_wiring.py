"""The engines in the recorded stacks: catalogs, credentials, gating, scaling and placement."""

from __future__ import annotations

import pytest

from harness import StackRun, run_stack
from readers import parse_properties as properties

NAS = "192.168.10.20"
COMPUTE = "192.168.10.31"
COMPUTE2 = "192.168.10.32"


def test_trino_catalogs_point_at_the_catalogs_and_minio_with_trinos_credentials(homelab: StackRun):
    for node in ("compute-trino-container", "compute-trino-worker-1-container"):
        files = homelab.uploads(node)
        iceberg = properties(files["/etc/trino/catalog/iceberg.properties"])
        hive = properties(files["/etc/trino/catalog/hive.properties"])
        assert iceberg["iceberg.rest-catalog.uri"] == f"http://{NAS}:8181"
        assert hive["hive.metastore.uri"] == f"thrift://{NAS}:9083"
        for catalog in (iceberg, hive):
            assert catalog["s3.endpoint"] == f"http://{NAS}:9000"
            assert (catalog["s3.aws-access-key"], catalog["s3.aws-secret-key"]) == (
                "trino", homelab.password("data-trino-s3-secret"))
            assert not any(key.startswith("hive.s3.") for key in catalog)


def test_trino_nodes_advertise_their_host_and_find_the_coordinator(homelab: StackRun):
    coordinator = homelab.uploads("compute-trino-container")
    worker = homelab.uploads("compute-trino-worker-1-container")
    secret = homelab.password("compute-trino-shared-secret")
    assert properties(coordinator["/etc/trino/config.properties"]) == {
        "coordinator": "true", "node-scheduler.include-coordinator": "false",
        "http-server.http.port": "8080", "discovery.uri": f"http://{COMPUTE}:8080",
        "internal-communication.shared-secret": secret,
        "http-server.https.enabled": "true", "http-server.https.port": "8443",
        "http-server.https.keystore.path": "/etc/trino/coordinator.pem",
        "http-server.authentication.type": "PASSWORD",
        "http-server.authentication.allow-insecure-over-http": "false"}
    assert properties(worker["/etc/trino/config.properties"]) == {
        "coordinator": "false", "http-server.http.port": "8090", "discovery.uri": f"http://{COMPUTE}:8080",
        "internal-communication.shared-secret": secret}
    assert properties(worker["/etc/trino/node.properties"])["node.internal-address"] == COMPUTE2, "workers start on compute2"
    assert properties(worker["/etc/trino/node.properties"])["node.id"] == "trino-worker-1"
    for node in ("compute-trino-container", "compute-trino-worker-1-container"):
        assert homelab.named(node).inputs["networkMode"] == "host"
        assert homelab.named(node).inputs["healthcheck"]["tests"] == ["CMD", "/usr/lib/trino/bin/health-check"]


def test_spark_defaults_use_the_rest_catalog_and_sparks_credentials(homelab: StackRun):
    defaults = properties(homelab.uploads("compute-spark-jupyter-container")[
        "/usr/local/spark/conf/spark-defaults.conf"])
    assert defaults["spark.master"] == f"spark://{COMPUTE}:7077"
    assert defaults["spark.sql.defaultCatalog"] == "iceberg"
    assert defaults["spark.sql.catalog.iceberg.uri"] == f"http://{NAS}:8181"
    assert defaults["spark.sql.catalog.iceberg.s3.endpoint"] == f"http://{NAS}:9000"
    assert defaults["spark.sql.catalog.iceberg.s3.access-key-id"] == "spark"
    assert defaults["spark.sql.catalog.iceberg.s3.secret-access-key"] == homelab.password("data-spark-s3-secret")
    assert defaults["spark.hadoop.fs.s3a.access.key"] == "spark"
    assert defaults["spark.driver.host"] == COMPUTE
    assert defaults["spark.executorEnv.AWS_REGION"] == "us-east-1"


def test_spark_workers_join_the_master_and_everyone_mounts_the_verified_jars(homelab: StackRun):
    for index in (1, 2):  # both on compute2 (the stack file's `hosts`), the second offset by one
        worker = homelab.named(f"compute-spark-worker-{index}-container").inputs
        assert worker["command"][-1] == f"spark://{COMPUTE}:7077"
        assert worker["command"][worker["command"].index("--port") + 1] == str(7099 + index)
        assert worker["command"][worker["command"].index("--host") + 1] == COMPUTE2
    for name in ("compute-spark-container", "compute-spark-worker-1-container", "compute-spark-jupyter-container"):
        container = homelab.named(name)
        jars = [v for v in container.inputs["volumes"] if v["containerPath"] == "/opt/lakehouse/jars"]
        assert jars == [{"volumeName": "lakehouse-artifacts", "containerPath": "/opt/lakehouse/jars", "readOnly": True}]
        fetch = homelab.named(f"{homelab.by_urn(container.provider).name.removesuffix('-docker')}-artifacts-fetch")
        assert fetch.urn in container.property_dependencies["volumes"], "jars must be verified first, on its host"
    assert "jupyter" not in homelab.named("nas-artifacts-fetch").inputs["command"][2]


def test_jupyter_is_protected_by_a_generated_secret_token(homelab: StackRun):
    token = homelab.password("compute-spark-jupyter-token")
    assert homelab.envs("compute-spark-jupyter-container")["JUPYTER_TOKEN"] == token
    assert "jupyterToken" in homelab.secret_outputs and homelab.outputs["jupyterToken"] == token
    assert homelab.outputs["jupyterUrl"] == f"http://{COMPUTE}:8888"


def test_engines_start_only_after_the_catalogs_are_healthy(homelab: StackRun):
    rest = homelab.named("catalogs-iceberg-rest-container")
    namespaces = homelab.named("catalogs-iceberg-rest-namespaces")
    hms = homelab.named("catalogs-hive-metastore-container")
    for name in ("compute-trino-container", "compute-trino-worker-1-container"):
        assert {rest.urn, namespaces.urn, hms.urn} <= set(homelab.named(name).dependencies)
    for name in ("compute-spark-container", "compute-spark-worker-1-container", "compute-spark-jupyter-container"):
        assert {rest.urn, namespaces.urn} <= set(homelab.named(name).dependencies)
    assert rest.inputs["wait"] and hms.inputs["wait"]


def test_exports_of_the_engines(homelab: StackRun):
    assert homelab.outputs["trinoUrl"] == f"https://{COMPUTE}:8443"
    assert homelab.outputs["sparkMasterUrl"] == f"spark://{COMPUTE}:7077"
    assert homelab.outputs["sparkMasterUiUrl"] == f"http://{COMPUTE}:8081"
    assert homelab.outputs["icebergRestUri"] == f"http://{NAS}:8181"
    assert homelab.outputs["metastoreUri"] == f"thrift://{NAS}:9083"


@pytest.mark.parametrize("workers", [0, 1, 10])
def test_worker_counts_evaluate(workers: int):
    run = run_stack("homelab", overrides={"services": {
        "trino-worker": {"replicas": workers, "memory": "512m"},
        "spark-worker": {"replicas": workers, "memory": "512m", "hosts": ["compute2"]}}})
    assert run.error is None
    names = {r.name for r in run.of_type("docker:index/container:Container")}
    assert sum(n.startswith("compute-trino-worker-") for n in names) == workers
    assert sum(n.startswith("compute-spark-worker-") for n in names) == workers
    server = properties(run.uploads("compute-trino-container")["/etc/trino/config.properties"])
    assert server["node-scheduler.include-coordinator"] == str(workers == 0).lower()
    if workers == 10:
        ports = [properties(run.uploads(f"compute-trino-worker-{i}-container")["/etc/trino/config.properties"])[
            "http-server.http.port"] for i in range(1, 11)]
        assert ports == [str(8090 + i // 2) for i in range(10)], "alternating over two VMs, offset per VM"
        hosts = [run.by_urn(run.named(f"compute-trino-worker-{i}-container").provider).name for i in (1, 2)]
        assert hosts == ["compute2-docker", "compute1-docker"], "the first worker goes where the singletons are not"


def test_workers_spread_over_the_compute_hosts():
    run = run_stack("homelab", overrides={
        "computeHosts": ["compute1", "nas"],
        "services": {"trino-worker": {"replicas": 3}}})
    assert run.error is None
    hosts = [run.by_urn(run.named(f"compute-trino-worker-{i}-container").provider).name for i in (1, 2, 3)]
    assert hosts == ["nas-docker", "compute1-docker", "nas-docker"]
    ports = [properties(run.uploads(f"compute-trino-worker-{i}-container")["/etc/trino/config.properties"])[
        "http-server.http.port"] for i in (1, 2, 3)]
    assert ports == ["8090", "8090", "8091"]

