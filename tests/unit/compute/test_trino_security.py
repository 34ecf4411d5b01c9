"""Trino's security as rendered: shared secret, HTTPS from the stack's CA, password file, access rules.

Read back with real parsers: jproperties, json, `bcrypt` (the PyPI package) for `password.db` and
`cryptography` for the certificates (the contract tier has the JDK read the PEM as Trino does).
"""

from __future__ import annotations

import json
import re

import bcrypt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from components.compute.trino import (USERS, access_rules, bcrypt_hash, config_properties, insecure_authentication,
                                      password_db)
from components.platform.tls import ca_certificate_pem, server_tls
from harness import StackRun
from readers import parse_properties

COMPUTE = "192.168.10.31"
COORDINATOR, WORKER = "compute-trino-container", "compute-trino-worker-1-container"
SAFE = {
    "internal-communication.shared-secret": "s3cr3t",
    "http-server.https.enabled": "true",
    "http-server.authentication.type": "PASSWORD",
    "http-server.authentication.allow-insecure-over-http": "false",
}


# --- the trap: PASSWORD without HTTPS accepts anyone --------------------------------------------

@pytest.mark.parametrize("change, problem", [
    ({"http-server.https.enabled": None}, "without http-server.https.enabled=true"),
    ({"http-server.https.enabled": "false"}, "without http-server.https.enabled=true"),
    ({"http-server.authentication.allow-insecure-over-http": None}, "plain HTTP would accept any user"),
    ({"http-server.authentication.allow-insecure-over-http": "true"}, "plain HTTP would accept any user"),
    ({"http-server.process-forwarded": "true"}, "trusts X-Forwarded-Proto"),
    ({"internal-communication.shared-secret": None}, "keyed with the public node.environment"),
    ({"http-server.authentication.type": "password,insecure", "http-server.https.enabled": None},
     "without http-server.https.enabled=true"),
])
def test_unsafe_authentication_settings_are_named(change, problem):
    properties = {k: v for k, v in {**SAFE, **change}.items() if v is not None}
    assert insecure_authentication(SAFE) == []
    assert any(problem in p for p in insecure_authentication(properties)), insecure_authentication(properties)


def test_the_renderer_refuses_a_node_without_the_shared_secret():
    with pytest.raises(ValueError, match="shared-secret"):
        config_properties(False, 8090, "http://c:8080", 1, "")


def test_every_rendered_node_passes_the_check_and_shares_one_secret(stack_run: StackRun):
    nodes = [r.name for r in stack_run.of_type("docker:index/container:Container")
             if r.name.startswith("compute-trino") or r.name.startswith("apps-trino")]
    assert COORDINATOR in nodes
    secret = stack_run.password("compute-trino-shared-secret")
    assert stack_run.named("compute-trino-shared-secret").inputs["length"] >= 64
    for node in nodes:
        config = parse_properties(stack_run.uploads(node)["/etc/trino/config.properties"])
        assert insecure_authentication(config) == [], node
        assert config["internal-communication.shared-secret"] == secret, node
    coordinator = parse_properties(stack_run.uploads(COORDINATOR)["/etc/trino/config.properties"])
    assert coordinator["http-server.authentication.type"] == "PASSWORD"
    assert coordinator["http-server.authentication.allow-insecure-over-http"] == "false"
    assert coordinator["http-server.https.enabled"] == "true"


def test_the_image_health_check_still_asks_plain_http_on_the_http_port(homelab: StackRun):
    """core/docker/bin/health-check reads `http-server.http.port` with `grep "^key="` and curls
    http://localhost:<port>/v1/info unless `http-server.http.enabled=false`; /v1/info is public."""
    text = homelab.uploads(COORDINATOR)["/etc/trino/config.properties"]
    assert re.search(r"^http-server\.http\.port=8080$", text, re.M)
    assert "http-server.http.enabled" not in text
    assert homelab.named(COORDINATOR).inputs["healthcheck"]["tests"] == ["CMD", "/usr/lib/trino/bin/health-check"]


# --- logins -----------------------------------------------------------------------------------

def test_password_db_holds_a_bcrypt_hash_of_each_generated_password(homelab: StackRun):
    files = homelab.uploads(COORDINATOR)
    assert parse_properties(files["/etc/trino/password-authenticator.properties"]) == {
        "password-authenticator.name": "file", "file.password-file": "/etc/trino/password.db",
        "file.refresh-period": "1m"}
    lines = files["/etc/trino/password.db"].splitlines()
    entries = dict(line.split(":", 1) for line in lines)
    assert list(entries) == list(USERS) == ["admin", "airflow", "superset", "jupyter", "analyst"]
    for user, hashed in entries.items():
        password = homelab.password(f"compute-trino-{user}-password")
        assert re.fullmatch(r"\$2y\$(\d\d)\$[./A-Za-z0-9]{53}", hashed) and int(hashed[4:6]) >= 8, hashed
        assert bcrypt.checkpw(password.encode(), hashed.encode()), user
        assert not bcrypt.checkpw((password + "x").encode(), hashed.encode())
    assert len(set(entries.values())) == len(entries), "a salt per user"
    assert "password.db" not in json.dumps(homelab.uploads(WORKER)), "workers authenticate nobody"


def test_password_db_is_the_same_text_for_the_same_inputs():
    seed = bytes(range(32))
    first = password_db({"a": "pw-one", "b": "pw-two"}, seed)
    bcrypt_hash.cache_clear()
    assert password_db({"a": "pw-one", "b": "pw-two"}, seed) == first
    assert password_db({"a": "pw-one", "b": "pw-two"}, bytes(32)) != first


def test_trino_logins_are_a_secret_output(homelab: StackRun):
    assert "trinoUsers" in homelab.secret_outputs
    assert homelab.outputs["trinoUsers"] == {u: homelab.password(f"compute-trino-{u}-password") for u in USERS}
    assert homelab.outputs["trinoUrl"] == f"https://{COMPUTE}:8443"


# --- access control ---------------------------------------------------------------------------

def _first(rules: list[dict], user: str, **names: str) -> dict | None:
    """Trino's file-based rule matching: the first rule whose regexes all match, full-string."""
    for rule in rules:
        if not re.fullmatch(rule.get("user", ".*"), user):
            continue
        if all(re.fullmatch(rule.get(key, ".*"), value) for key, value in names.items()):
            return rule
    return None


def _catalog(rules: dict, user: str, catalog: str) -> str:
    rule = _first(rules["catalogs"], user, catalog=catalog)
    return rule["allow"] if rule else "none"


def _privileges(rules: dict, user: str, catalog: str, schema: str, table: str) -> list[str]:
    if _catalog(rules, user, catalog) == "none":
        return []
    rule = _first(rules["tables"], user, catalog=catalog, schema=schema, table=table)
    return rule["privileges"] if rule else []


def test_access_rules_let_the_analyst_read_gold_and_the_zone_lookup_only(homelab: StackRun):
    files = homelab.uploads(COORDINATOR)
    assert parse_properties(files["/etc/trino/access-control.properties"]) == {
        "access-control.name": "file", "security.config-file": "/etc/trino/rules.json",
        "security.refresh-period": "1m"}
    rules = json.loads(files["/etc/trino/rules.json"])
    assert rules == access_rules()
    for reader in ("analyst", "superset"):
        assert _privileges(rules, reader, "iceberg", "gold", "sales") == ["SELECT"]
        assert _privileges(rules, reader, "iceberg", "bronze", "sales") == []
        assert _privileges(rules, reader, "iceberg", "bronze", "taxi_zones") == ["SELECT"]
        assert _privileges(rules, reader, "iceberg", "bronze", "taxi_zones_old") == []
        assert _privileges(rules, reader, "hive", "bronze", "taxi_zones") == []
        assert _privileges(rules, reader, "hive", "gold", "sales") == []
        assert _catalog(rules, reader, "iceberg") == "read-only", "no writes even in gold"
        assert _first(rules["schemas"], reader, catalog="iceberg", schema="gold")["owner"] is False
        assert _first(rules["system_information"], reader) is None
    for writer in ("admin", "airflow", "jupyter"):
        assert "INSERT" in _privileges(rules, writer, "iceberg", "bronze", "sales")
        assert "OWNERSHIP" in _privileges(rules, writer, "hive", "x", "y")
    assert _catalog(rules, "someone-else", "iceberg") == "none"
    assert _first(rules["procedures"], "superset", catalog="system", schema="runtime",
                  procedure="kill_query")["privileges"] == ["EXECUTE"]


# --- TLS --------------------------------------------------------------------------------------

def _certificates(pem: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem.encode())


def test_the_coordinator_serves_a_certificate_of_the_stack_ca_for_every_name_clients_use(stack_run: StackRun):
    ca_pem = stack_run.outputs["caCertificatePem"]
    assert "caCertificatePem" not in stack_run.secret_outputs, "a CA certificate is public"
    [ca] = _certificates(ca_pem)
    keystore = stack_run.uploads(COORDINATOR)["/etc/trino/coordinator.pem"]
    assert keystore.startswith("-----BEGIN PRIVATE KEY-----"), "unencrypted PKCS#8 first"
    key = serialization.load_pem_private_key(keystore.encode(), password=None)
    server, chain_ca = _certificates(keystore)
    assert chain_ca == ca
    server.verify_directly_issued_by(ca)
    assert server.public_key() == key.public_key()
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    address = stack_run.outputs["trinoUrl"].removeprefix("https://").rsplit(":", 1)[0]
    wanted = {address, "localhost", "127.0.0.1", "host.docker.internal"}
    assert {str(n) for n in names.get_values_for_type(x509.IPAddress)} | set(
        names.get_values_for_type(x509.DNSName)) == wanted
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_superset_on_one_host_reaches_the_coordinator_by_a_name_in_its_certificate(stack_runs):
    local = stack_runs["local"]
    [server, _] = _certificates(local.uploads(COORDINATOR)["/etc/trino/coordinator.pem"])
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "host.docker.internal" in names.get_values_for_type(x509.DNSName)


def test_the_same_seed_renders_the_same_certificates():
    """No churn: a preview renders byte-identical PEM text (deterministic keys and ECDSA)."""
    seed = bytes(range(32))
    first = server_tls.__wrapped__(seed, "trino", ("192.168.10.31", "localhost"))
    again = server_tls.__wrapped__(seed, "trino", ("192.168.10.31", "localhost"))
    assert first == again and first.ca_pem == ca_certificate_pem(seed)
    other = server_tls.__wrapped__(bytes(32), "trino", ("192.168.10.31", "localhost"))
    assert other.key_pem != first.key_pem and other.ca_pem != first.ca_pem
