"""The engines in the recorded stacks: catalogs, credentials, gating, scaling and placement."""

from __future__ import annotations

import pytest

from harness import StackRun, run_stack, stack_config
from readers import parse_properties as properties

NAS = "192.168.10.20"
COMPUTE = "192.168.10.31"
COMPUTE2 = "192.168.10.32"


def test_trino_catalogs_point_at_the_catalogs_and_minio_with_trinos_credentials(homelab: StackRun):
    for node in ("compute-trino-container", "compute-trino-worker-1-container"):
        files = homelab.uploads(node)
        iceberg = properties(files["/etc/trino/catalog/iceberg.properties"])
        hive = properties(files["/etc/trino/catalog/hive.properties"])
        assert iceberg["iceberg.rest-catalog.uri"] == f"http://{NAS}:8181/api/catalog"
        assert iceberg["iceberg.rest-catalog.oauth2.server-uri"] == f"http://{NAS}:8181/api/catalog/v1/oauth/tokens"
        assert iceberg["iceberg.rest-catalog.oauth2.credential"] == (
            f"trino:{homelab.password('catalogs-iceberg-rest-trino-secret')}")
        assert iceberg["iceberg.rest-catalog.warehouse"] == "warehouse"
        assert not any(key.startswith("s3.aws-") for key in iceberg), "the catalog vends the table's credentials"
        assert hive["hive.metastore.uri"] == f"thrift://{NAS}:9083"
        assert (hive["s3.aws-access-key"], hive["s3.aws-secret-key"]) == (
            "trino", homelab.password("data-trino-s3-secret"))
        for catalog in (iceberg, hive):
            assert catalog["s3.endpoint"] == f"http://{NAS}:9000"
            assert not any(key.startswith("hive.s3.") for key in catalog)
        setup = homelab.named("catalogs-iceberg-rest-setup")
        assert setup.urn in homelab.named(node).property_dependencies["uploads"], "the principal exists first"


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
    assert defaults["spark.sql.catalog.iceberg.uri"] == f"http://{NAS}:8181/api/catalog"
    assert defaults["spark.sql.catalog.iceberg.oauth2-server-uri"] == f"http://{NAS}:8181/api/catalog/v1/oauth/tokens"
    assert defaults["spark.sql.catalog.iceberg.credential"] == (
        f"spark:{homelab.password('catalogs-iceberg-rest-spark-secret')}")
    assert defaults["spark.sql.catalog.iceberg.scope"] == "PRINCIPAL_ROLE:engine"
    assert defaults["spark.sql.catalog.iceberg.s3.endpoint"] == f"http://{NAS}:9000"
    assert not any(key.startswith("spark.sql.catalog.iceberg.s3.") and "key" in key for key in defaults)
    assert defaults["spark.hadoop.fs.s3a.access.key"] == "spark"
    assert defaults["spark.hadoop.fs.s3a.secret.key"] == homelab.password("data-spark-s3-secret")
    connect = properties(homelab.uploads("compute-spark-connect-container")["/usr/local/spark/conf/spark-defaults.conf"])
    assert {k: v for k, v in connect.items() if k.startswith("spark.sql.catalog.")} == {
        k: v for k, v in defaults.items() if k.startswith("spark.sql.catalog.")}, "one principal for both drivers"
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
    namespaces = homelab.named("catalogs-iceberg-rest-setup")
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
    assert homelab.outputs["icebergRestUri"] == f"http://{NAS}:8181/api/catalog"
    assert homelab.outputs["icebergRestWarehouse"] == "warehouse"
    assert homelab.outputs["icebergRestCredentials"] == {
        p: f"{p}:{homelab.password(f'catalogs-iceberg-rest-{p}-secret')}" for p in ("root", "trino", "spark", "analyst")}
    assert homelab.outputs["metastoreUri"] == f"thrift://{NAS}:9083"


@pytest.mark.parametrize("workers", [0, 1, 10])
def test_worker_counts_evaluate(workers: int):
    vms = [{**vm, "memory": "32g"} for vm in stack_config("homelab")["lakehouse:vms"]]
    run = run_stack("homelab", overrides={"vms": vms, "spark": {"executorMemory": "512m"}, "services": {
        "trino-worker": {"replicas": workers, "memory": "512m"},
        "spark-worker": {"replicas": workers, "memory": "1792m", "hosts": ["compute2"]}}})
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
        "services": {"trino-worker": {"replicas": 3, "memory": "3g"}, "spark-connect": {"memory": "1g"}}})
    assert run.error is None
    hosts = [run.by_urn(run.named(f"compute-trino-worker-{i}-container").provider).name for i in (1, 2, 3)]
    assert hosts == ["nas-docker", "compute1-docker", "nas-docker"]
    ports = [properties(run.uploads(f"compute-trino-worker-{i}-container")["/etc/trino/config.properties"])[
        "http-server.http.port"] for i in (1, 2, 3)]
    assert ports == ["8090", "8090", "8091"]



SPARK_PROCESSES = ("compute-spark-container", "compute-spark-worker-1-container", "compute-spark-worker-2-container",
                   "compute-spark-connect-container", "compute-spark-jupyter-container")
DEFAULTS = "/usr/local/spark/conf/spark-defaults.conf"


def test_every_spark_process_authenticates_with_one_generated_secret_from_its_file(homelab: StackRun):
    secret = homelab.password("compute-spark-auth-secret")
    for name in SPARK_PROCESSES:
        defaults = properties(homelab.uploads(name)[DEFAULTS])
        assert (defaults["spark.authenticate"], defaults["spark.authenticate.secret"]) == ("true", secret), name
        assert (defaults["spark.ui.killEnabled"], defaults["spark.master.rest.enabled"]) == ("false", "false"), name
        container = homelab.named(name).inputs
        assert not any(secret in part for part in container.get("command") or []), "never on a command line"
        assert not any(secret in e for e in homelab.envs(name).values())


def test_the_connect_server_runs_beside_the_master_on_loopback_with_a_generated_token(homelab: StackRun):
    connect = homelab.named("compute-spark-connect-container")
    assert homelab.by_urn(connect.provider).name == homelab.by_urn(homelab.named("compute-spark-container").provider).name
    assert connect.inputs["networkMode"] == "host"
    assert connect.inputs["image"] == homelab.named("compute-spark-jupyter-container").inputs["image"]
    command = connect.inputs["command"]
    assert command[0] == "/usr/local/spark/sbin/start-connect-server.sh"
    assert "spark.connect.grpc.binding.address=127.0.0.1" in command
    token = homelab.password("compute-spark-connect-token")
    env = homelab.envs("compute-spark-connect-container")
    assert env["SPARK_CONNECT_AUTHENTICATE_TOKEN"] == token and env["SPARK_NO_DAEMONIZE"] == "1"
    assert env["SPARK_DAEMON_MEMORY"] == "1024m", "1536m container less 512m: the driver heap, not the daemons' 256m"
    assert connect.inputs["healthcheck"]["tests"] == ["CMD", "bash", "-c", "echo > /dev/tcp/127.0.0.1/15002"]
    defaults = properties(homelab.uploads("compute-spark-connect-container")[DEFAULTS])
    assert defaults["spark.master"] == f"spark://{COMPUTE}:7077"
    assert (defaults["spark.driver.host"], defaults["spark.driver.port"], defaults["spark.driver.blockManager.port"],
            defaults["spark.ui.port"]) == (COMPUTE, "7210", "7211", "4050")
    assert defaults["spark.driver.memory"] == "1024m"
    assert defaults["spark.sql.catalog.iceberg.uri"] == f"http://{NAS}:8181/api/catalog"
    jupyter = properties(homelab.uploads("compute-spark-jupyter-container")[DEFAULTS])
    same = {k: v for k, v in defaults.items() if not k.startswith(("spark.driver.", "spark.ui.", "spark.cores."))}
    assert same == {k: v for k, v in jupyter.items() if not k.startswith(("spark.driver.", "spark.ui.", "spark.cores."))}
    assert homelab.outputs["sparkConnectUrl"] == "sc://localhost:15002"
    assert "sparkConnectToken" in homelab.secret_outputs and homelab.outputs["sparkConnectToken"] == token
    assert homelab.envs("compute-spark-jupyter-container")["SPARK_CONNECT_AUTHENTICATE_TOKEN"] == token
    jars = [v for v in connect.inputs["volumes"] if v["containerPath"] == "/opt/lakehouse/jars"]
    assert jars and homelab.named("compute1-artifacts-fetch").urn in connect.property_dependencies["volumes"]


@pytest.mark.parametrize("stack", ["local", "homelab"])
def test_every_shipped_stack_schedules_executors_for_both_drivers(stack_runs, stack: str):
    """The master places an executor where spark.executor.memory/cores fit in what a worker offers."""
    run = stack_runs[stack]
    workers = [r for r in run.of_type("docker:index/container:Container") if "-spark-worker-" in r.name]
    assert workers
    offers = []
    for worker in workers:
        command = worker.inputs["command"]
        offers.append((int(command[command.index("--memory") + 1].removesuffix("m")),
                       int(command[command.index("--cores") + 1])))
        assert int(worker.inputs["memory"]) - offers[-1][0] == 768
    jupyter = properties(run.uploads("compute-spark-jupyter-container")[DEFAULTS])
    connect = properties(run.uploads("compute-spark-connect-container")[DEFAULTS])
    executor_mb = int(jupyter["spark.executor.memory"].removesuffix("m"))
    cores = int(jupyter["spark.executor.cores"])
    assert executor_mb >= 450 and (connect["spark.executor.memory"], connect["spark.executor.cores"]) == (
        jupyter["spark.executor.memory"], jupyter["spark.executor.cores"])
    slots = sum(min(mb // executor_mb, c // cores) for mb, c in offers)
    connect_executors = int(connect["spark.cores.max"]) // cores
    assert 1 <= connect_executors < slots, "the Connect server leaves JupyterLab at least one executor"
    assert "spark.cores.max" not in jupyter
    for name, defaults in (("jupyter", jupyter), ("spark-connect", connect)):
        limit = int(run.named(f"compute-spark-{name.removeprefix('spark-')}-container").inputs["memory"])
        heap = int(defaults["spark.driver.memory"].removesuffix("m"))
        assert 450 <= heap <= limit - 512, name


def test_local_executor_sizes(stack_runs):
    local = stack_runs["local"]
    jupyter = properties(local.uploads("compute-spark-jupyter-container")[DEFAULTS])
    connect = properties(local.uploads("compute-spark-connect-container")[DEFAULTS])
    assert (jupyter["spark.executor.memory"], jupyter["spark.driver.memory"], connect["spark.driver.memory"],
            connect["spark.cores.max"]) == ("512m", "768m", "512m", "1")
    assert local.named("compute-spark-worker-1-container").inputs["command"][-5:] == [
        "--cores", "2", "--memory", "1280m", "spark://127.0.0.1:7077"]
