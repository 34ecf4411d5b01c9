"""Polaris: what the stack renders for it, the known pitfalls each as a check that fails on the unsafe
setting, and the setup script run for real against a stub that enforces Polaris' published API."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from components.catalogs.polaris import (CATALOG, PRINCIPALS, SETUP_SOURCE, admin_tool_image, catalog_entity,
                                         persistence_env, root_credentials, server_env, setup_env, setup_plan)
from components.platform.config import ConfigError, parse
from harness import StackRun, is_secret_wrapper
from polaris_stub import CREATES, SPEC, Realm, planned_state, serve, validate

NAS = {"address": "192.168.10.20", "ssh": {"user": "lakehouse"}}
PLAN = setup_plan("http://192.168.10.20:9000", "http://lakehouse-minio:9000", "us-east-1")
SECRETS = {p.name: f"{p.name}-secret-0123456789" for p in PRINCIPALS}
ROOT_SECRET = "root-secret-0123456789"


def plan_of(run: StackRun) -> dict:
    return json.loads(run.uploads("catalogs-iceberg-rest-setup")["/opt/lakehouse/polaris/plan.json"])


# --- rendering -----------------------------------------------------------------------------------

def test_server_env_exact():
    persistence = persistence_env("jdbc:postgresql://pg:5432/iceberg", "iceberg_rest", "dbpw")
    assert server_env(persistence, "iceberg_rest", "s3pw", "us-east-1", 1024) == [
        "polaris.persistence.type=relational-jdbc",
        "polaris.persistence.relational.jdbc.database-type=postgresql",
        "quarkus.datasource.jdbc.url=jdbc:postgresql://pg:5432/iceberg",
        "quarkus.datasource.username=iceberg_rest",
        "quarkus.datasource.password=dbpw",
        "polaris.realm-context.realms=POLARIS",
        "polaris.realm-context.require-header=false",
        "polaris.authentication.token-broker.type=symmetric-key",
        "polaris.authentication.token-broker.symmetric-key.file=/home/polaris/token-broker.key",
        "quarkus.log.file.enabled=false",
        "AWS_REGION=us-east-1",
        "AWS_ACCESS_KEY_ID=iceberg_rest",
        "AWS_SECRET_ACCESS_KEY=s3pw",
        "JAVA_MAX_MEM_RATIO=0",
        "JAVA_OPTS_APPEND=-Xms640m -Xmx640m",
    ]


@pytest.mark.parametrize("limit_mb, heap", [(768, 384), (1024, 640), (2048, 1638)])
def test_the_heap_is_fixed_from_the_limit_and_leaves_room_outside_it(limit_mb, heap):
    env = dict(e.split("=", 1) for e in server_env([], "u", "s", "us-east-1", limit_mb))
    assert env["JAVA_OPTS_APPEND"] == f"-Xms{heap}m -Xmx{heap}m" and env["JAVA_MAX_MEM_RATIO"] == "0"
    assert limit_mb - heap >= 384 or heap == limit_mb // 2


def test_the_root_credentials_file_is_the_admin_tools_json_form():
    assert json.loads(root_credentials("s3cr3t")) == {"POLARIS": {"client-id": "root", "client-secret": "s3cr3t"}}


def test_the_admin_tool_matches_the_servers_version():
    assert admin_tool_image("apache/polaris:1.7.0") == "apache/polaris-admin-tool:1.7.0"
    assert admin_tool_image("registry.lan/apache/polaris:1.8.1") == "registry.lan/apache/polaris-admin-tool:1.8.1"


def test_setup_env_names_each_principals_secret_for_the_plan():
    env = dict(e.split("=", 1) for e in setup_env("http://p:8181", "rs", {"trino": "t", "spark": "s"}))
    assert env == {"POLARIS_URL": "http://p:8181", "POLARIS_ROOT_ID": "root", "POLARIS_ROOT_SECRET": "rs",
                   "POLARIS_SECRET_TRINO": "t", "POLARIS_SECRET_SPARK": "s"}
    assert {p["secretEnv"] for p in PLAN["principals"].values()} == {f"POLARIS_SECRET_{p.name.upper()}" for p in PRINCIPALS}


def test_the_access_model_engines_write_the_zones_and_the_analyst_reads_gold():
    assert {name: p["principalRole"] for name, p in PLAN["principals"].items()} == {
        "trino": "engine", "spark": "engine", "analyst": "analyst"}
    assert PLAN["principalRoles"] == {"engine": ["zones_writer"], "analyst": ["gold_reader"]}
    roles = PLAN["catalogRoles"]
    assert roles["zones_writer"] == [
        {"type": "catalog", "privilege": "NAMESPACE_LIST"},
        {"type": "namespace", "namespace": ["bronze"], "privilege": "CATALOG_MANAGE_CONTENT"},
        {"type": "namespace", "namespace": ["gold"], "privilege": "CATALOG_MANAGE_CONTENT"}]
    assert {g["type"] for g in roles["gold_reader"]} == {"namespace"}
    assert {tuple(g["namespace"]) for g in roles["gold_reader"]} == {("gold",)}
    assert not any(g["privilege"].endswith(("WRITE_DATA", "MANAGE_CONTENT", "_CREATE", "_DROP"))
                   for g in roles["gold_reader"]), "the analyst only reads"
    assert roles["catalog_admin"] == [{"type": "catalog", "privilege": "CATALOG_MANAGE_CONTENT"}]
    assert PLAN["namespaces"] == ["bronze", "gold"]


# --- the pitfalls --------------------------------------------------------------------------------

@pytest.fixture(params=["homelab", "local"])
def rendered(request, stack_runs) -> tuple[StackRun, dict]:
    run = stack_runs[request.param]
    return run, plan_of(run)


def test_trino_can_drop_tables_because_the_catalog_allows_drop_with_purge(rendered):
    """Trino always drops with purge; Polaris refuses that unless the catalog allows it."""
    _, plan = rendered
    assert plan["catalog"]["properties"]["polaris.config.drop-with-purge.enabled"] == "true"


def test_no_kms_statements_and_no_role_arn_for_minio(rendered):
    """MinIO's AssumeRole ignores a roleArn; with one, read-only session policies get AWS KMS statements."""
    _, plan = rendered
    storage = plan["catalog"]["storageConfigInfo"]
    assert storage["kmsUnavailable"] is True
    assert not {"roleArn", "userArn", "externalId", "currentKmsKey", "allowedKmsKeys"} & set(storage)


def test_credentials_are_vended_through_sts(rendered):
    """`stsUnavailable` turns vending off; pyiceberg and the engines then get no credentials at all."""
    _, plan = rendered
    assert plan["catalog"]["storageConfigInfo"].get("stsUnavailable", False) is False


def test_the_catalog_region_is_minios_site_region(rendered):
    """MinIO refuses a SigV4 request (S3 and STS) signed for another region than MINIO_SITE_REGION."""
    run, plan = rendered
    minio = run.envs("storage-minio-container")
    assert plan["catalog"]["storageConfigInfo"]["region"] == minio["MINIO_SITE_REGION"]
    assert run.envs("catalogs-iceberg-rest-container")["AWS_REGION"] == minio["MINIO_SITE_REGION"]


def test_the_catalogs_minio_identity_is_a_regular_user(rendered):
    """MinIO's AssumeRole refuses service accounts and temporary credentials as the parent."""
    run, _ = rendered
    env = run.envs("catalogs-iceberg-rest-container")
    user = run.named("data-iceberg-rest-s3-user")
    assert user.type == "minio:index/iamUser:IamUser" and env["AWS_ACCESS_KEY_ID"] == user.inputs["name"]
    assert not [r for r in run.resources if "ServiceAccount" in r.type]


def test_the_base_location_lies_in_the_allowed_locations(rendered):
    """Polaris refuses a catalog whose default-base-location is outside every allowed location."""
    _, plan = rendered
    base = plan["catalog"]["properties"]["default-base-location"].rstrip("/") + "/"
    assert any(base.startswith(allowed) for allowed in plan["catalog"]["storageConfigInfo"]["allowedLocations"])


def test_clients_get_a_minio_they_reach_and_polaris_one_it_reaches(stack_runs):
    expected = {"homelab": ("http://192.168.10.20:9000", "http://lakehouse-minio:9000"),
                "local": ("http://127.0.0.1:9000", "http://lakehouse-minio:9000")}
    for stack, (client, internal) in expected.items():
        storage = plan_of(stack_runs[stack])["catalog"]["storageConfigInfo"]
        assert (storage["endpoint"], storage["endpointInternal"], storage["pathStyleAccess"]) == (client, internal, True)


@pytest.mark.parametrize("tag", ["1.6.0", "1.3.0", "latest", "1.7"])
def test_a_polaris_before_1_7_is_refused_because_its_bootstrap_is_not_idempotent(tag):
    raw = {"storageHost": "nas", "hosts": {"nas": NAS}, "services": {"iceberg-rest": {"image": f"apache/polaris:{tag}"}}}
    with pytest.raises(ConfigError) as error:
        parse(raw)
    assert "services.iceberg-rest.image" in str(error.value)


@pytest.mark.parametrize("tag", ["1.7.0", "1.8.2", "1.12.0"])
def test_polaris_1_7_and_later_are_accepted(tag):
    raw = {"storageHost": "nas", "hosts": {"nas": NAS}, "services": {"iceberg-rest": {"image": f"apache/polaris:{tag}"}}}
    assert parse(raw).services["iceberg-rest"].image == f"apache/polaris:{tag}"


# --- the setup script against the stub -----------------------------------------------------------

@pytest.fixture
def polaris(tmp_path):
    realm = Realm(clients={"root": ROOT_SECRET})
    server = serve(realm)
    script, plan = tmp_path / "polaris_setup.py", tmp_path / "plan.json"
    script.write_text(SETUP_SOURCE)
    plan.write_text(json.dumps(PLAN))
    env = dict(e.split("=", 1) for e in setup_env(f"http://127.0.0.1:{server.server_address[1]}", ROOT_SECRET, SECRETS))

    def run(**override) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(script), str(plan)], env={**env, **override},
                              capture_output=True, text=True, timeout=60)
    yield realm, run
    server.shutdown()
    server.server_close()


def test_the_setup_converges_the_realm_on_the_plan_with_requests_the_spec_allows(polaris):
    realm, run = polaris
    done = run()
    assert done.returncode == 0, done.stdout + done.stderr
    assert realm.violations == []
    catalog = realm.catalogs[CATALOG]
    assert {k: catalog[k] for k in ("type", "name", "properties", "storageConfigInfo")} == PLAN["catalog"]
    assert realm.namespaces == {CATALOG: {"bronze", "gold"}}
    assert realm.catalog_roles[CATALOG] == {"catalog_admin", "zones_writer", "gold_reader"}
    assert {role: grants for (_, role), grants in realm.grants.items()} == PLAN["catalogRoles"]
    assert realm.principal_roles == {"engine": {(CATALOG, "zones_writer")}, "analyst": {(CATALOG, "gold_reader")}}
    assert realm.principals == {"trino": {"engine"}, "spark": {"engine"}, "analyst": {"analyst"}}
    assert realm.clients == {"root": ROOT_SECRET, **SECRETS}, "each principal's client id is its name"
    assert realm.state() == planned_state(PLAN, realm.clients), "the contract tier's reading of the plan agrees"
    assert not any(secret in done.stdout + done.stderr for secret in (ROOT_SECRET, *SECRETS.values()))


def test_a_second_run_finds_everything_and_changes_nothing(polaris):
    realm, run = polaris
    assert run().returncode == 0
    before = (dict(realm.namespaces), dict(realm.grants), dict(realm.principals), dict(realm.clients))
    realm.calls.clear()
    again = run()
    assert again.returncode == 0, again.stdout + again.stderr
    assert realm.violations == []
    assert (dict(realm.namespaces), dict(realm.grants), dict(realm.principals), dict(realm.clients)) == before
    statuses = {op: {s for o, s in realm.calls if o == op} for op, _ in realm.calls}
    for create in CREATES:
        assert statuses[create] == {409}, create
    assert statuses["updateCatalog"] == {200} and realm.catalogs[CATALOG]["entityVersion"] == 2
    assert "catalog warehouse: exists" in again.stdout and again.stdout.rstrip().endswith("polaris setup converged")


def test_a_changed_secret_is_put_on_the_existing_principal(polaris):
    realm, run = polaris
    assert run().returncode == 0
    assert run(POLARIS_SECRET_TRINO="rotated-secret-0123456789").returncode == 0
    assert realm.clients["trino"] == "rotated-secret-0123456789"


def test_a_refused_login_fails_the_job_without_printing_the_secret(polaris):
    _, run = polaris
    done = run(POLARIS_ROOT_SECRET="wrong-secret-0123456789")
    assert done.returncode == 1
    assert "token for root: POST /api/catalog/v1/oauth/tokens answered 401" in done.stderr
    assert "wrong-secret-0123456789" not in done.stdout + done.stderr


def test_every_operation_of_the_trimmed_spec_is_one_the_stack_calls(polaris):
    """The trimmed copy holds what the setup and verify call; two setup runs call all of its management API."""
    realm, run = polaris
    assert run().returncode == 0 and run().returncode == 0
    kept = {op["operationId"] for part in SPEC["parts"] for methods in part["paths"].values() for op in methods.values()}
    assert kept - {op for op, _ in realm.calls} == {"listNamespaces"}, "listNamespaces is verify's"
    assert SPEC["source"]["tag"] == "apache-polaris-1.7.0" and len(SPEC["source"]["commit"]) == 40


def test_the_stub_refuses_what_the_spec_does_not_declare():
    schemas = SPEC["parts"][0]["schemas"]
    misspelt = {"catalog": {**PLAN["catalog"], "storageConfigInfo": {
        **{k: v for k, v in PLAN["catalog"]["storageConfigInfo"].items() if k != "kmsUnavailable"},
        "kmsUnavalable": True}}}
    assert validate({"$ref": "#/schemas/CreateCatalogRequest"}, misspelt, schemas) == [
        "$.catalog.storageConfigInfo: 'kmsUnavalable' is not declared"]
    grant = {"grant": {"type": "namespace", "namespace": ["gold"], "privilege": "TABLE_READ"}}
    assert validate({"$ref": "#/schemas/AddGrantRequest"}, grant, schemas)
    assert validate({"$ref": "#/schemas/CreateCatalogRequest"}, {"catalog": catalog_entity("e", "i", "r")}, schemas) == []


# --- in the stack --------------------------------------------------------------------------------

def test_bootstrap_then_server_then_setup(homelab: StackRun):
    bootstrap = homelab.named("catalogs-iceberg-rest-bootstrap")
    server = homelab.named("catalogs-iceberg-rest-container")
    setup = homelab.named("catalogs-iceberg-rest-setup")
    assert bootstrap.inputs["attach"] is True and setup.inputs["attach"] is True
    assert bootstrap.urn in server.property_dependencies["envs"], "the server starts once bootstrap exited 0"
    assert server.urn in setup.dependencies
    assert bootstrap.inputs["command"] == ["bootstrap", "-f", "/home/polaris/root-credentials.json"]
    assert setup.inputs["command"] == ["python", "/opt/lakehouse/polaris/polaris_setup.py",
                                       "/opt/lakehouse/polaris/plan.json"]
    assert bootstrap.provider == server.provider == setup.provider
    for job in (bootstrap, setup):
        assert job.inputs["networksAdvanced"][0]["name"] == server.inputs["networksAdvanced"][0]["name"]


def test_the_setup_job_runs_the_script_and_the_plan_the_program_renders(homelab: StackRun):
    setup = homelab.envs("catalogs-iceberg-rest-setup")
    files = homelab.uploads("catalogs-iceberg-rest-setup")
    assert files["/opt/lakehouse/polaris/polaris_setup.py"] == SETUP_SOURCE
    assert plan_of(homelab) == PLAN
    assert setup == {"POLARIS_URL": "http://lakehouse-iceberg-rest:8181", "POLARIS_ROOT_ID": "root",
                     "POLARIS_ROOT_SECRET": homelab.password("catalogs-iceberg-rest-root-secret"),
                     **{f"POLARIS_SECRET_{p.name.upper()}": homelab.password(f"catalogs-iceberg-rest-{p.name}-secret")
                        for p in PRINCIPALS}}


def test_secrets_stay_out_of_commands_and_are_marked_secret(homelab: StackRun):
    root = homelab.password("catalogs-iceberg-rest-root-secret")
    for name in ("catalogs-iceberg-rest-bootstrap", "catalogs-iceberg-rest-container", "catalogs-iceberg-rest-setup"):
        resource = homelab.named(name)
        assert root not in json.dumps(resource.inputs.get("command")), name
        assert is_secret_wrapper(resource.inputs["envs"]), name
    assert json.loads(homelab.uploads("catalogs-iceberg-rest-bootstrap")["/home/polaris/root-credentials.json"]) == {
        "POLARIS": {"client-id": "root", "client-secret": root}}
    assert is_secret_wrapper(homelab.named("catalogs-iceberg-rest-bootstrap").inputs["uploads"])
    key = homelab.uploads("catalogs-iceberg-rest-container")["/home/polaris/token-broker.key"]
    assert key == homelab.password("catalogs-iceberg-rest-token-key")
    assert is_secret_wrapper(homelab.named("catalogs-iceberg-rest-container").inputs["uploads"])
    assert "icebergRestCredentials" in homelab.secret_outputs
