"""`python -m verify` against real servers where this tier runs them, named stand-ins elsewhere.

The outputs are the homelab stack's recorded outputs with every address folded onto loopback
(`verify_outputs`), so the checks read exactly what `pulumi stack output` gives them. Real here:
PostgreSQL (every role into its database), the S3 server with the stack's users, policies and
buckets (SeaweedFS: bucket-level policies, so a prefix grant is checked as a listing at its prefix),
MLflow as rendered, and a Spark Connect server of the image's version (local master) with the
stack's token. Stand-ins (what the tier cannot run): the Iceberg REST catalog (an HTTP server answering
/v1/config and /v1/namespaces), the Hive Metastore (a TCP listener answering the Thrift
`get_all_databases` call in the binary protocol), Trino (the client protocol's `POST /v1/statement`,
plain HTTP as main renders it and HTTPS with a CA and a password as a stack that exports them), and
JupyterLab (`/api/status` with Jupyter Server's token rule). Airflow and Superset take minutes to start:
their modules run verify's checks against the servers they already started.
"""

from __future__ import annotations

import base64
import copy
import datetime
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from harness import ROOT
from json_http import send_json
from local_container import LOOPBACK, LocalProcess, free_port, wait_for
from polaris_stub import Realm, serve as serve_polaris
from verify import checks, outputs as out

pytestmark = pytest.mark.contract
MLFLOW = "lakehouse-mlflow"
CONNECT_SERVER = "org.apache.spark.sql.connect.service.SparkConnectServer"


# --- stand-ins -----------------------------------------------------------------------------------

def serve_http(port: int, answer, tls: ssl.SSLContext | None = None) -> ThreadingHTTPServer:
    """`answer(method, path, query, headers, body) -> (status, document)` on 127.0.0.1:`port`."""
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, method: str) -> None:
            url = urlparse(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            status, document = answer(method, url.path, parse_qs(url.query), self.headers, body)
            send_json(self, status, document)

        def do_GET(self):  # noqa: N802
            self._reply("GET")

        def do_POST(self):  # noqa: N802
            self._reply("POST")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((LOOPBACK, port), Handler)
    if tls:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


TRINO_SCHEMAS = {"iceberg": ["bronze", "gold", "information_schema"], "hive": ["default", "information_schema"]}


def trino(password: str | None = None):
    """Trino's client protocol for `SHOW SCHEMAS FROM <catalog>`: one page, no nextUri (finished)."""
    seen: list[dict] = []

    def answer(method, path, query, headers, body):
        seen.append({"path": path, "sql": body, "user": headers.get("X-Trino-User"),
                     "authorization": headers.get("Authorization")})
        if password is not None:
            expected = "Basic " + base64.b64encode(f"{out.TRINO_ADMIN}:{password}".encode()).decode()
            if headers.get("Authorization") != expected:
                return 401, {"message": "Unauthorized"}
        catalog = body.rsplit(" ", 1)[-1]
        if method != "POST" or path != "/v1/statement" or catalog not in TRINO_SCHEMAS:
            return 400, {"message": f"unexpected {method} {path} {body!r}"}
        return 200, {"id": "q1", "infoUri": "http://trino/ui/query.html?q1", "stats": {"state": "FINISHED"},
                     "columns": [{"name": "Schema", "type": "varchar(6)",
                                  "typeSignature": {"rawType": "varchar", "arguments": []}}],
                     "data": [[s] for s in TRINO_SCHEMAS[catalog]]}
    return answer, seen


def jupyter(token: str):
    """Jupyter Server's rule for API requests: the token (header or query) or 403."""
    def answer(method, path, query, headers, body):
        if path != "/api/status":
            return 404, {}
        if headers.get("Authorization") == f"token {token}" or query.get("token") == [token]:
            return 200, {"started": "2026-01-01T00:00:00Z", "last_activity": "2026-01-01T00:00:00Z",
                         "connections": 0, "kernels": 0}
        return 403, {"message": "Forbidden", "reason": None}
    return answer


def serve_metastore(port: int) -> socket.socket:
    """The Thrift binary-protocol reply to `get_all_databases`, byte by byte from the protocol's spec."""
    request = (b"\x80\x01\x00\x01" + b"\x00\x00\x00\x11get_all_databases" + b"\x00\x00\x00\x01" + b"\x00")
    reply = (b"\x80\x01\x00\x02" + b"\x00\x00\x00\x11get_all_databases" + b"\x00\x00\x00\x01"
             + b"\x0f\x00\x00" + b"\x0b\x00\x00\x00\x01" + b"\x00\x00\x00\x07default" + b"\x00")
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((LOOPBACK, port))
    server.listen(8)

    def serve():
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            with connection:
                received = b""
                while len(received) < len(request):
                    chunk = connection.recv(1024)
                    if not chunk:
                        break
                    received += chunk
                if received == request:
                    connection.sendall(reply)
    threading.Thread(target=serve, daemon=True).start()
    return server


def certificate_authority(tmp: Path) -> tuple[str, ssl.SSLContext]:
    """A CA and a server certificate for 127.0.0.1, as the stack's own CA issues the coordinator's."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lakehouse test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "trino")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK)),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM).decode()  # noqa: E731
    (tmp / "server.pem").write_text(pem(cert))
    (tmp / "server.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp / "server.pem", tmp / "server.key")
    return pem(ca), context


# --- servers -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mlflow(container, stop_later) -> LocalProcess:
    """MLflow as rendered. Its allowed hosts are folded onto loopback too (verify dials 127.0.0.1, as
    a client in the homelab dials the host address the list names)."""
    local = container(MLFLOW)
    process = stop_later(local.start())
    wait_for("MLflow healthcheck", local.healthy, 180, every=1, process=process)
    return process


@pytest.fixture(scope="module")
def spark_connect(verify_outputs, stop_later, tmp_path_factory) -> int:
    """A Spark Connect server of the image's Spark (local master) with the stack's token; its port."""
    from test_spark import _java, _spark_home
    spark_home = _spark_home()
    _java()
    port, base = free_port(), tmp_path_factory.mktemp("verify-spark-connect")
    argv = [str(spark_home / "bin" / "spark-submit"), "--class", CONNECT_SERVER, "--master", "local[1]",
            "--driver-memory", "512m", "--conf", "spark.ui.enabled=false",
            "--conf", f"spark.connect.grpc.binding.address={LOOPBACK}",
            "--conf", f"spark.connect.grpc.binding.port={port}", "--name", "Spark Connect server"]
    env = {"PATH": os.environ["PATH"], "HOME": str(base), "SPARK_HOME": str(spark_home), "SPARK_LOCAL_IP": LOOPBACK,
           "SPARK_CONNECT_AUTHENTICATE_TOKEN": verify_outputs["sparkConnectToken"],
           **({"JAVA_HOME": os.environ["JAVA_HOME"]} if "JAVA_HOME" in os.environ else {})}
    process = stop_later(LocalProcess("spark-connect (verify)", argv, env, base, base / "connect.log", None, "homelab"))
    wait_for("Spark Connect listens", lambda: socket.create_connection((LOOPBACK, port), 2).close() or True, 180,
             every=1, process=process)
    return port


@pytest.fixture(scope="module")
def stand_ins(verify_outputs, tmp_path_factory):
    """Iceberg REST, the metastore, Trino (HTTP, and HTTPS + password) and JupyterLab at the outputs' addresses."""
    port = lambda key: out.host_port(verify_outputs[key], key)[1]  # noqa: E731
    trino_answer, trino_seen = trino()
    password = "the-admin-password"
    secure_answer, secure_seen = trino(password)
    ca_pem, tls = certificate_authority(tmp_path_factory.mktemp("verify-ca"))
    secure_port = free_port()
    root_id, _, root_secret = verify_outputs["icebergRestCredentials"]["root"].partition(":")
    catalog = Realm(clients={root_id: root_secret}, catalogs={verify_outputs["icebergRestWarehouse"]: {}},
                    namespaces={verify_outputs["icebergRestWarehouse"]: {"bronze", "gold"}})
    servers = [serve_polaris(catalog, LOOPBACK, port("icebergRestUri")), serve_http(port("trinoUrl"), trino_answer),
               serve_http(port("jupyterUrl"), jupyter(verify_outputs["jupyterToken"])),
               serve_http(secure_port, secure_answer, tls)]
    metastore = serve_metastore(port("metastoreUri"))
    secure = {"trinoUrl": f"https://{LOOPBACK}:{secure_port}", "caCertificatePem": ca_pem,
              "trinoUsers": {"analyst": "not-this-one", out.TRINO_ADMIN: password}}
    yield {"trino": trino_seen, "secure_trino": secure_seen, "secure": secure, "catalog": catalog}
    for server in servers:
        server.shutdown()
        server.server_close()
    metastore.close()


def run_verify(outputs: dict, tmp_path: Path, *args: str) -> tuple[int, dict, str]:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    result = subprocess.run([sys.executable, "-m", "verify", "--outputs", str(path), "--json", *args], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    try:
        document = json.loads(result.stdout)
    except ValueError:
        pytest.fail(f"verify printed no JSON (exit {result.returncode}):\n{result.stdout}\n{result.stderr[-3000:]}")
    return result.returncode, {c["name"]: c for c in document["checks"]}, result.stderr


# --- tests ---------------------------------------------------------------------------------------

def test_every_check_passes_against_the_servers_and_stand_ins(verify_outputs, mlflow, spark_connect, stand_ins,
                                                               tmp_path):
    """One run of the command as a user runs it, Spark Connect through the override a tunnel needs."""
    # The stack's Trino is HTTPS with logins: its outputs point at the HTTPS stand-in and its own CA.
    code, results, stderr = run_verify({**verify_outputs, **stand_ins["secure"]}, tmp_path,
                                       "--skip", "airflow,superset", "--spark-connect", f"sc://localhost:{spark_connect}")
    failed = {name: r["detail"] for name, r in results.items() if not r["ok"]}
    assert code == 0 and not failed, f"{failed}\n{stderr[-2000:]}"
    assert {n.split("/")[0] for n in results} == {"minio", "postgres", "iceberg-rest", "hive-metastore", "trino",
                                                  "spark-connect", "jupyter", "mlflow"}
    assert results["minio/hive-metastore"]["detail"].startswith("user hive_metastore lists warehouse/hive/; refused")
    assert results["postgres/airflow"]["detail"] == "airflow logs into airflow, which it owns"
    assert results["spark-connect"]["detail"] == "sum(range(10)) = 45 on Spark 4.1.2"
    assert results["iceberg-rest"]["detail"] == "namespaces bronze, gold (as root; refused without a token)"
    assert stand_ins["catalog"].violations == [], "verify's catalog requests are ones Polaris' API declares"
    assert results["hive-metastore"]["detail"] == "thrift get_all_databases: default"
    assert "Default" in results["mlflow"]["detail"]
    assert sorted(s["sql"] for s in stand_ins["secure_trino"]) == ["SHOW SCHEMAS FROM hive", "SHOW SCHEMAS FROM iceberg"]
    assert {s["user"] for s in stand_ins["secure_trino"]} == {"admin"}


def test_trino_over_https_uses_the_stacks_ca_and_the_admin_login(verify_outputs, stand_ins, tmp_path):
    secure = {**verify_outputs, **stand_ins["secure"]}
    code, results, _ = run_verify(secure, tmp_path, "--only", "trino")
    assert code == 0, results
    assert results["trino/iceberg"]["detail"] == "iceberg: bronze, gold, information_schema (as admin over https)"
    assert {s["user"] for s in stand_ins["secure_trino"]} == {"admin"}

    untrusted = {**secure, "caCertificatePem": None}   # the system's CAs do not know the stack's
    code, results, _ = run_verify(untrusted, tmp_path, "--only", "trino/iceberg")
    assert code == 1 and "CERTIFICATE_VERIFY_FAILED" in results["trino/iceberg"]["detail"], results
    wrong = {**secure, "trinoUsers": {"admin": "not-the-password"}}
    code, results, _ = run_verify(wrong, tmp_path, "--only", "trino/iceberg")
    assert code == 1 and "401" in results["trino/iceberg"]["detail"], results


def test_wrong_credentials_fail_the_checks_that_use_them(verify_outputs, stand_ins, tmp_path):
    broken = copy.deepcopy(verify_outputs)
    broken["services"]["mlflow"]["s3"]["secretKey"] = "not-the-secret-key"
    broken["services"]["superset"]["postgres"]["password"] = "not-the-password"
    broken["jupyterToken"] = "not-the-token"
    code, results, _ = run_verify(broken, tmp_path, "--only", "minio/mlflow,postgres/superset,jupyter")
    assert code == 1
    assert not any(r["ok"] for r in results.values()), results
    assert "SignatureDoesNotMatch" in results["minio/mlflow"]["detail"]
    assert "password authentication failed" in results["postgres/superset"]["detail"]
    assert results["jupyter"]["detail"].startswith("GET /api/status with the token: HTTP 403")
    assert "not-the-password" not in json.dumps(results), "secrets of the outputs never reach the report"


def test_a_spark_connect_url_without_the_token_fails(verify_outputs, spark_connect):
    url = f"sc://localhost:{spark_connect}/;token=not-the-token"
    check = checks.Check("spark-connect", lambda: checks.check_spark_connect(url), 120)
    from verify import runner
    result = runner.run_one(check)
    assert not result.ok and "Invalid authentication token" in result.detail, result
