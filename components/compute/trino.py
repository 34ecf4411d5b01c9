"""Trino (Athena): a coordinator and 0..N workers with the `iceberg` (REST) and `hive` catalogs.

Files are rendered per node and uploaded over the image's defaults one by one. `jvm.config`
keeps the image's flags but sizes the heap from the container's limit: the image's 80% of RAM
leaves too little for the code cache (256m), the plugins' metaspace and the threads in a small
container. Nodes use host networking and advertise their host's address, so workers
on other hosts can join. Object storage goes through Trino's native S3 file system: for the `iceberg`
catalog with the credentials the REST catalog vends per table to Trino's principal, for `hive` with
Trino's own MinIO user.

Security (coordinator): HTTPS on its own port with a certificate from the stack's CA, `PASSWORD`
authentication against `password.db` (bcrypt; one generated login per consumer) and file-based
access control (`rules.json`). The HTTP port stays for the nodes' own traffic and the image's
health check (`/v1/info` is public); with HTTPS and an authenticator configured, any other client
request over HTTP is refused (`allow-insecure-over-http=false`, stated explicitly and checked by
`insecure_authentication`: PASSWORD on plain HTTP would otherwise accept any user name without a
password). Every node carries the same generated `internal-communication.shared-secret`, which keys
the node-to-node JWTs (without it they are keyed with the public environment name).
"""

from __future__ import annotations

import base64
import hmac
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Optional, Sequence

import bcrypt
import pulumi
import pulumi_random as random

from components.catalogs.polaris import CatalogClient, catalog_uri, principal
from components.platform.config import LakehouseConfig
from components.platform.credentials import generated_password
from components.platform.containers import (ContainerArgs, Healthcheck, Placement, Upload, jvm_heap_mb, placement,
                                             placements, service_container)
from components.storage.data import S3Credentials
from components.platform.endpoints import HOST_GATEWAY, resolve
from components.platform.formats import java_properties
from components.platform.hosts import DockerHost
from components.platform.s3 import S3Settings
from components.platform.tls import CertificateAuthority

ETC = "/etc/trino"
KEYSTORE = f"{ETC}/coordinator.pem"  # key, certificate and CA in one PEM file
HEALTHCHECK = Healthcheck(test=("CMD", "/usr/lib/trino/bin/health-check"), start_period="30s", retries=12)


# Besides the heap: the reserved code cache, metaspace of every plugin, thread stacks, direct buffers.
_NON_HEAP_MB = 768


def jvm_config(memory_mb: int) -> str:
    """The image's `jvm.config` flags, with an explicit heap instead of a share of the container's RAM."""
    heap = jvm_heap_mb(memory_mb, _NON_HEAP_MB)
    return "\n".join([
        "-server", f"-Xmx{heap}m", f"-Xms{heap}m", "-XX:G1HeapRegionSize=32M", "-XX:+ExplicitGCInvokesConcurrent",
        "-XX:+HeapDumpOnOutOfMemoryError", "-XX:+ExitOnOutOfMemoryError", "-XX:-OmitStackTraceInFastThrow",
        "-XX:ReservedCodeCacheSize=256M", "-XX:PerMethodRecompilationCutoff=10000",
        "-XX:PerBytecodeRecompilationCutoff=10000", "-Djdk.attach.allowAttachSelf=true",
        "-Djdk.nio.maxCachedBufferSize=2000000", "-XX:+EnableDynamicAgentLoading",
    ]) + "\n"


def node_properties(node_id: str, address: str) -> dict[str, str]:
    return {
        "node.environment": "lakehouse",
        "node.id": node_id,
        "node.data-dir": "/data/trino",
        "node.internal-address": address,
    }


def config_properties(coordinator: bool, port: int, discovery_uri: str, workers: int, shared_secret: str,
                      https_port: Optional[int] = None) -> dict[str, str]:
    """A node's `config.properties`; with `https_port` (the coordinator) HTTPS and password logins."""
    properties = {"coordinator": str(coordinator).lower()}
    if coordinator:
        properties["node-scheduler.include-coordinator"] = str(workers == 0).lower()
    properties.update({"http-server.http.port": str(port), "discovery.uri": discovery_uri,
                       "internal-communication.shared-secret": shared_secret})
    if https_port is not None:
        properties.update({
            "http-server.https.enabled": "true",
            "http-server.https.port": str(https_port),
            "http-server.https.keystore.path": KEYSTORE,
            "http-server.authentication.type": "PASSWORD",
            "http-server.authentication.allow-insecure-over-http": "false",
        })
    problems = insecure_authentication(properties)
    if problems:
        raise ValueError(f"unsafe Trino configuration: {'; '.join(problems)}")
    return properties


def insecure_authentication(properties: Mapping[str, str]) -> list[str]:
    """What makes a node's `config.properties` accept requests it should authenticate.

    Trino serves a plain-HTTP request with its *insecure* authenticator (any user name, no password)
    unless `http-server.authentication.allow-insecure-over-http` is false; that default flips to false
    only with HTTPS or `http-server.process-forwarded` (ServerSecurityModule). PASSWORD without HTTPS is
    therefore no authentication at all, and a forwarded-header setup trusts whoever reaches the HTTP
    port directly, which every host on the LAN can (host networking)."""
    problems = []
    if not properties.get("internal-communication.shared-secret"):
        problems.append("no internal-communication.shared-secret: node-to-node tokens are keyed with the "
                        "public node.environment")
    types = [t.strip().upper() for t in properties.get("http-server.authentication.type", "").split(",") if t.strip()]
    if types:
        if properties.get("http-server.https.enabled") != "true":
            problems.append(f"authentication {','.join(types)} without http-server.https.enabled=true")
        if properties.get("http-server.authentication.allow-insecure-over-http") != "false":
            problems.append("authentication without http-server.authentication.allow-insecure-over-http=false: "
                            "plain HTTP would accept any user")
        if properties.get("http-server.process-forwarded", "false") != "false":
            problems.append("http-server.process-forwarded trusts X-Forwarded-Proto from anyone reaching the "
                            "HTTP port")
    return problems


# One generated login per consumer; `analyst` is the human with read access to the gold zone only.
USERS = ("admin", "airflow", "superset", "jupyter", "analyst")
BCRYPT_COST = 10  # Trino refuses less than 8
_BCRYPT_ALPHABET = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                                 "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


@lru_cache(maxsize=256)
def bcrypt_hash(password: str, salt: bytes, cost: int = BCRYPT_COST) -> str:
    """`$2y$` bcrypt (the form Trino's docs show; `at.favre` bcrypt reads it) with a given 16-byte salt,
    so the same password and salt always give the same line and a preview changes nothing."""
    if len(salt) != 16:
        raise ValueError("a bcrypt salt has 16 bytes")
    encoded = base64.b64encode(salt).decode().rstrip("=").translate(_BCRYPT_ALPHABET)
    return bcrypt.hashpw(password.encode(), f"$2y${cost:02d}${encoded}".encode()).decode()


def password_db(passwords: Mapping[str, str], salt_seed: bytes) -> str:
    """`user:bcrypt-hash` lines; each user's salt is derived from the seed and the user name."""
    return "".join(f"{user}:{bcrypt_hash(password, hmac.new(salt_seed, user.encode(), 'sha256').digest()[:16])}\n"
                   for user, password in passwords.items())


def password_authenticator_properties() -> dict[str, str]:
    return {"password-authenticator.name": "file", "file.password-file": f"{ETC}/password.db",
            "file.refresh-period": "1m"}


def access_control_properties() -> dict[str, str]:
    return {"access-control.name": "file", "security.config-file": f"{ETC}/rules.json",
            "security.refresh-period": "1m"}


def access_rules() -> dict:
    """File-based access control (first matching rule wins; no match denies).

    admin, airflow and jupyter (the pipelines and notebooks) read and write every catalog; superset and
    analyst read the `iceberg` catalog's `gold` schema and its zone lookup (`bronze.taxi_zones`, which
    the dashboard's predictions dataset joins) and nothing else. Superset cancels SQL Lab queries
    with `system.runtime.kill_query`, which is outside `system.builtin`, hence the procedure rule (the
    procedure still lets a user kill only their own queries). Only admin reads system information."""
    writers, readers = "admin|airflow|jupyter", "superset|analyst"
    return {
        "catalogs": [
            {"user": writers, "allow": "all"},
            {"user": readers, "catalog": "iceberg", "allow": "read-only"},
            {"user": readers, "catalog": "system", "allow": "read-only"},
            {"allow": "none"},
        ],
        "schemas": [
            {"user": writers, "owner": True},
            {"owner": False},
        ],
        "tables": [
            {"user": writers, "privileges": ["SELECT", "INSERT", "DELETE", "UPDATE", "OWNERSHIP", "GRANT_SELECT"]},
            {"user": readers, "catalog": "iceberg", "schema": "gold", "privileges": ["SELECT"]},
            {"user": readers, "catalog": "iceberg", "schema": "bronze", "table": "taxi_zones", "privileges": ["SELECT"]},
            {"privileges": []},
        ],
        "procedures": [
            {"user": writers, "privileges": ["EXECUTE", "GRANT_EXECUTE"]},
            {"catalog": "system", "schema": "runtime", "procedure": "kill_query", "privileges": ["EXECUTE"]},
        ],
        "queries": [
            {"user": "admin", "allow": ["execute", "kill", "view"]},
            {"allow": ["execute"]},
        ],
        "system_information": [
            {"user": "admin", "allow": ["read", "write"]},
        ],
    }


def _native_s3(endpoint: str, region: str) -> dict[str, str]:
    return {"fs.native-s3.enabled": "true", "s3.endpoint": endpoint, "s3.region": region,
            "s3.path-style-access": "true"}


def iceberg_catalog(catalog: CatalogClient, s3_endpoint: str, region: str) -> dict[str, str]:
    """The REST catalog as Trino's principal; table data with the credentials the catalog vends per table
    (no key of Trino's own: its MinIO user is for the `hive` catalog)."""
    return {
        "connector.name": "iceberg",
        "iceberg.catalog.type": "rest",
        "iceberg.rest-catalog.uri": catalog.uri,
        "iceberg.rest-catalog.warehouse": catalog.warehouse,
        "iceberg.rest-catalog.security": "OAUTH2",
        "iceberg.rest-catalog.oauth2.credential": catalog.credential,
        "iceberg.rest-catalog.oauth2.server-uri": catalog.token_uri,
        "iceberg.rest-catalog.oauth2.scope": catalog.scope,
        "iceberg.rest-catalog.vended-credentials-enabled": "true",
        **_native_s3(s3_endpoint, region),
    }


def hive_catalog(metastore_uri: str, s3: S3Settings) -> dict[str, str]:
    return {
        "connector.name": "hive",
        "hive.metastore.uri": metastore_uri,
        **_native_s3(s3.endpoint, s3.region),
        "s3.aws-access-key": s3.access_key,
        "s3.aws-secret-key": s3.secret_key,
    }


@dataclass(frozen=True)
class TrinoArgs:
    config: LakehouseConfig
    hosts: Mapping[str, DockerHost]
    s3: S3Credentials
    ca: CertificateAuthority
    depends_on: Sequence[pulumi.Resource]
    catalog_secret: pulumi.Output[str]  # Trino's principal in the REST catalog


def certificate_names(config: LakehouseConfig, coordinator: Placement) -> tuple[str, ...]:
    """Every name a client reaches the coordinator by: its host's address (other hosts, the workstation),
    the host gateway (a bridged container on the same host) and loopback (host-network neighbours)."""
    return (coordinator.address, HOST_GATEWAY, "localhost", "127.0.0.1")


class Trino(pulumi.ComponentResource):
    """The coordinator (`trino`) and the workers (`trino-worker-<n>`), gated on healthy catalogs."""

    def __init__(self, name: str, args: TrinoArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:compute:Trino", name, None, opts)
        config = args.config
        self.url = resolve(config, "trino", "https").url("https")
        self.ca_certificate = args.ca.certificate_pem
        self.passwords: dict[str, pulumi.Output[str]] = {
            user: generated_password(f"{name}-{user}-password", self).result for user in USERS}
        self._shared_secret = generated_password(f"{name}-shared-secret", self, length=64).result
        salt_seed = random.RandomBytes(f"{name}-password-salt", length=32, opts=pulumi.ResourceOptions(parent=self))
        where = placement(config, args.hosts, "trino")
        tls = args.ca.issue("trino", certificate_names(config, where))
        password_file = pulumi.Output.all(salt_seed.base64, *self.passwords.values()).apply(
            lambda v: password_db(dict(zip(USERS, v[1:])), base64.b64decode(v[0])))
        self.coordinator = self._node(name, where, args, coordinator=True, extra_uploads=(
            Upload(KEYSTORE, tls.apply(lambda t: t.keystore_pem)),
            Upload(f"{ETC}/password-authenticator.properties", java_properties(password_authenticator_properties())),
            Upload(f"{ETC}/password.db", password_file),
            Upload(f"{ETC}/access-control.properties", java_properties(access_control_properties())),
            Upload(f"{ETC}/rules.json", json.dumps(access_rules(), indent=2) + "\n"),
        ))
        self.workers = [
            self._node(f"{name}-worker-{index + 1}", where, args, coordinator=False, extra_depends=[self.coordinator])
            for index, where in enumerate(placements(config, args.hosts, "trino-worker"))
        ]
        self.register_outputs({"url": self.url, "workers": len(self.workers), "caCertificate": self.ca_certificate})

    def _node(self, name: str, where: Placement, args: TrinoArgs, coordinator: bool,
              extra_depends: Sequence[pulumi.Resource] = (), extra_uploads: Sequence[Upload] = ()) -> pulumi.Resource:
        config = args.config
        instance = where.instance
        port = instance.ports["http"]
        node = java_properties(node_properties(instance.name, where.address))
        workers = len(config.services["trino-worker"].instances)
        discovery = resolve(config, "trino", "http", instance).url()
        https_port = instance.ports["https"] if coordinator else None
        server = self._shared_secret.apply(lambda secret: java_properties(config_properties(
            coordinator, port, discovery, workers, secret, https_port)))
        rest_uri = catalog_uri(resolve(config, "iceberg-rest", "http", instance).url())
        metastore_uri = resolve(config, "hive-metastore", "thrift", instance).url("thrift")
        s3_endpoint = resolve(config, "minio", "api", instance).url()
        iceberg = args.catalog_secret.apply(lambda secret: java_properties(iceberg_catalog(
            CatalogClient(rest_uri, principal("trino"), secret), s3_endpoint, config.region)))
        hive = args.s3.secret_key.apply(lambda secret: java_properties(hive_catalog(
            metastore_uri, S3Settings(s3_endpoint, config.region, args.s3.access_key, secret))))

        return service_container(name, ContainerArgs(
            placement=where,
            healthcheck=HEALTHCHECK,
            uploads=(
                Upload(f"{ETC}/jvm.config", jvm_config(where.service.memory_mb)),
                Upload(f"{ETC}/node.properties", node),
                Upload(f"{ETC}/config.properties", server),
                Upload(f"{ETC}/catalog/iceberg.properties", iceberg),
                Upload(f"{ETC}/catalog/hive.properties", hive),
                *extra_uploads,
            ),
            depends_on=(*args.depends_on, *extra_depends),
            wait_timeout=300,
        ), self)
