"""The storage plane and the data layer are wired to each other the way the services need."""

from __future__ import annotations

import json

import pytest

from components.platform.services import BUCKETS, SERVICES
from harness import StackRun, run_stack

BUCKET = "minio:index/s3Bucket:S3Bucket"
RETAINED_TYPES = ("docker:index/volume:Volume", BUCKET, "postgresql:index/role:Role",
                  "postgresql:index/database:Database")


def test_nas_docker_provider_is_reached_over_ssh_with_configured_options(homelab: StackRun):
    provider = homelab.named("nas-docker")
    assert provider.inputs["host"] == "ssh://lakehouse@192.168.10.20:22"
    assert json.loads(provider.inputs["sshOpts"]) == ["-o", "StrictHostKeyChecking=accept-new",
                                                      "-o", "ServerAliveInterval=30"]


@pytest.mark.parametrize("provider, container, health", [
    ("data-minio", "storage-minio-container", ["CMD", "mc", "ready", "local"]),
    ("data-postgres", "storage-postgres-container",
     ["CMD", "pg_isready", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-d", "postgres"]),
])
def test_data_providers_are_gated_on_their_healthy_container(homelab: StackRun, provider, container, health):
    gate = homelab.named(container)
    assert gate.urn in homelab.named(provider).dependencies
    assert gate.inputs["wait"] is True
    assert gate.inputs["healthcheck"]["tests"] == health


def test_data_providers_talk_to_the_published_ports_on_the_nas(homelab: StackRun):
    minio = homelab.named("data-minio").inputs
    assert minio["minioServer"] == "192.168.10.20:9000" and minio["minioSsl"] == "false"
    assert minio["minioUser"] == "lakehouse-root"
    postgres = homelab.named("data-postgres").inputs
    assert (postgres["host"], postgres["port"], postgres["sslmode"]) == ("192.168.10.20", "5432", "disable")
    assert int(postgres["connectTimeout"]) > 0
    assert postgres["password"]["value"] in homelab.generated_secrets()


def test_storage_containers_share_the_host_network_and_keep_data_on_named_volumes(homelab: StackRun):
    network = homelab.named("nas-network")
    assert network.inputs["name"] == "lakehouse" and network.delete_before_replace
    mounts = {"minio": ("lakehouse-minio-data", "/data"),
              "postgres": ("lakehouse-postgres-data", "/var/lib/postgresql/data")}
    for service, (volume, path) in mounts.items():
        container = homelab.named(f"storage-{service}-container")
        assert container.inputs["name"] == f"lakehouse-{service}"
        assert container.inputs["networksAdvanced"][0]["name"] == "lakehouse"
        assert network.urn in container.dependencies
        assert [(v["volumeName"], v["containerPath"]) for v in container.inputs["volumes"]] == [(volume, path)]


def test_buckets_versioning_and_lifecycle(homelab: StackRun):
    assert sorted(b.inputs["bucket"] for b in homelab.of_type(BUCKET)) == sorted(b.name for b in BUCKETS)
    versioning = homelab.of_type("minio:index/s3BucketVersioning:S3BucketVersioning")
    assert sorted((v.inputs["bucket"], v.inputs["versioningConfiguration"]["status"]) for v in versioning) == [
        ("notebooks", "Enabled"), ("warehouse", "Enabled")]
    rules = {ilm.inputs["bucket"]: ilm.inputs["rules"] for ilm in homelab.of_type("minio:index/ilmPolicy:IlmPolicy")}
    # `status` is computed by the provider, which rejects a plan that sets it.
    assert rules == {
        "landing": [{"id": "expire-landing", "expiration": "30d"}],
        "warehouse": [{"id": "expire-noncurrent-warehouse", "expiration": "DeleteMarker",
                       "noncurrentVersionExpirationDays": 7}],
        "logs": [{"id": "expire-logs", "expiration": "30d"}],
        "notebooks": [{"id": "expire-noncurrent-notebooks", "expiration": "DeleteMarker",
                       "noncurrentVersionExpirationDays": 7}],
    }


def _policies(run: StackRun) -> dict[str, dict]:
    """Policy document by the MinIO user it is attached to."""
    policies = {p.inputs["name"]: json.loads(p.inputs["policy"])
                for p in run.of_type("minio:index/iamPolicy:IamPolicy")}
    attachments = run.of_type("minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment")
    return {a.inputs["userName"]: policies[a.inputs["policyName"]] for a in attachments}


def test_each_service_with_grants_has_its_own_user_and_one_attached_policy(homelab: StackRun):
    users = {u.inputs["name"] for u in homelab.of_type("minio:index/iamUser:IamUser")}
    expected = {s.ident for s in SERVICES.values() if s.grants}
    assert users == expected == set(_policies(homelab))
    assert "superset" not in users


def test_each_policy_names_only_its_own_buckets_and_prefixes(homelab: StackRun):
    policies = _policies(homelab)
    for service in SERVICES.values():
        if not service.grants:
            continue
        resources = {r for statement in policies[service.ident]["Statement"] for r in statement["Resource"]}
        allowed = {f"arn:aws:s3:::{g.bucket}" for g in service.grants} | {
            f"arn:aws:s3:::{g.bucket}/{g.prefix}*" for g in service.grants} | {
            f"arn:aws:s3:::{g.bucket}/{g.prefix.rstrip('/')}" for g in service.grants if g.prefix}
        assert resources == allowed, service.name


def test_least_privilege_examples(homelab: StackRun):
    policies = _policies(homelab)

    def actions_on(user: str, resource: str) -> set[str]:
        return {a for s in policies[user]["Statement"] if resource in s["Resource"] for a in s["Action"]}

    assert "s3:PutObject" not in actions_on("trino", "arn:aws:s3:::landing/*")
    assert "s3:PutObject" in actions_on("trino", "arn:aws:s3:::warehouse/*")
    assert actions_on("hive_metastore", "arn:aws:s3:::warehouse/*") == set()
    assert "s3:PutObject" in actions_on("hive_metastore", "arn:aws:s3:::warehouse/hive/*")
    assert actions_on("mlflow", "arn:aws:s3:::warehouse/*") == set()


def test_each_database_is_owned_by_its_service_role(homelab: StackRun):
    roles = {r.urn: r for r in homelab.of_type("postgresql:index/role:Role")}
    databases = homelab.of_type("postgresql:index/database:Database")
    expected = {d: s.ident for s in SERVICES.values() if s.database for d in (s.database, *s.extra_databases)}
    assert {d.inputs["name"]: d.inputs["owner"] for d in databases} == expected
    assert expected["mlflow_auth"] == "mlflow", "MLflow's user store, apart from its tracking store"
    for database in databases:
        [role_urn] = database.property_dependencies["owner"]
        role = roles[role_urn]
        assert role.inputs["name"] == database.inputs["owner"]
        assert role.inputs["login"] is True
        assert role.inputs["password"]["value"] in homelab.generated_secrets()


# Working copies on compute hosts: Airflow's task logs and JupyterLab's notebooks are kept in MinIO.
SCRATCH_VOLUMES = ("apps-airflow-logs", "compute-spark-jupyter-work")


def _stateful(run: StackRun) -> list:
    """Volumes holding data, buckets, roles and databases (not scratch: the jar caches are fetched again)."""
    return [r for r in run.resources if r.type in RETAINED_TYPES
            and not r.name.endswith("-artifacts-volume") and r.name not in SCRATCH_VOLUMES]


def test_stateful_resources_are_retained_by_default(homelab: StackRun):
    stateful = _stateful(homelab)
    assert {r.type for r in stateful} == set(RETAINED_TYPES)
    assert all(r.retain_on_delete for r in stateful)
    assert all(b.inputs["forceDestroy"] is False for b in homelab.of_type(BUCKET))
    assert [r.name for r in homelab.resources if r.retain_on_delete and r not in stateful] == []


def test_purge_on_destroy_lets_a_demo_stack_delete_its_data():
    run = run_stack("homelab", overrides={"purgeOnDestroy": True})
    assert run.error is None
    assert not any(r.retain_on_delete for r in run.resources)
    assert all(b.inputs["forceDestroy"] is True for b in run.of_type(BUCKET))


def test_connection_details_export(homelab: StackRun):
    assert homelab.outputs["minioApiUrl"] == "http://192.168.10.20:9000"
    assert homelab.outputs["minioConsoleUrl"] == "http://192.168.10.20:9001"
    assert homelab.outputs["postgresAddress"] == "192.168.10.20:5432"
    services = homelab.outputs["services"]
    assert services["trino"]["s3"]["accessKey"] == "trino"
    assert services["trino"]["s3"]["endpoint"] == "http://192.168.10.20:9000"
    assert services["trino"]["s3"]["secretKey"] in homelab.generated_secrets()
    assert services["mlflow"]["postgres"] == {
        "host": "192.168.10.20", "port": 5432, "database": "mlflow", "user": "mlflow",
        "password": services["mlflow"]["postgres"]["password"]}
    assert "s3" not in services["superset"]


def test_published_ports_bind_the_hosts_own_address_only(stack_runs):
    for stack, address in (("homelab", "192.168.10.20"), ("local", "127.0.0.1")):
        published = [port for c in stack_runs[stack].of_type("docker:index/container:Container")
                     for port in c.inputs.get("ports", [])]
        assert published and {port["ip"] for port in published} == {address}, stack


def test_a_host_known_by_dns_name_publishes_on_every_interface():
    from components.platform.config import HostConfig

    assert HostConfig("nas", "nas.lan", None, "unix:///x").publish_address is None
    assert HostConfig("nas", "192.168.10.20", None, "unix:///x").publish_address == "192.168.10.20"
