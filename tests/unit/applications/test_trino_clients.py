"""Trino's clients as rendered, against a stand-in coordinator serving the rendered certificate.

The stand-in is a local HTTPS server with the coordinator's own `coordinator.pem` (key, certificate
and CA as the stack renders them) that answers `POST /v1/statement` like Trino and records who
logged in. The clients are the real ones: Airflow's `TrinoHook` from the rendered
`AIRFLOW_CONN_TRINO_DEFAULT`, Superset's `trino://` URI through SQLAlchemy and the rendered
`DB_CONNECTION_MUTATOR`, and the `trino` DB-API client with JupyterLab's environment. Each verifies
the certificate against the stack's CA file and sends its own login.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest
import sqlalchemy
import trino

from components.platform.tls import ca_certificate_pem
from harness import StackRun

COORDINATOR = "compute-trino-container"
# requests lets these override a session's `verify` (psf/requests#3829), which is how the trino client
# passes its CA file; this machine sets them, the images do not.
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@pytest.fixture(autouse=True)
def _as_in_the_images(monkeypatch):
    for name in CA_BUNDLE_VARIABLES:
        monkeypatch.delenv(name, raising=False)


class StandIn:
    def __init__(self, keystore: Path):
        self.logins: list[tuple[str, str]] = []
        seen = self.logins

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                authorization = self.headers.get("Authorization", "")
                if not authorization.startswith("Basic "):
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="Trino"')
                    self.end_headers()
                    return
                seen.append(tuple(base64.b64decode(authorization[6:]).decode().split(":", 1)))
                body = json.dumps({
                    "id": "q1", "infoUri": "https://127.0.0.1/ui/query.html?q1", "stats": {"state": "FINISHED"},
                    "columns": [{"name": "_col0", "type": "integer",
                                 "typeSignature": {"rawType": "integer", "arguments": []}}],
                    "data": [[1]]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(keystore))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def files(homelab: StackRun, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("trino-clients")
    keystore, ca, other_ca = root / "coordinator.pem", root / "ca.pem", root / "other-ca.pem"
    keystore.write_text(homelab.uploads(COORDINATOR)["/etc/trino/coordinator.pem"])
    ca.write_text(homelab.outputs["caCertificatePem"])
    other_ca.write_text(ca_certificate_pem(bytes(32)))
    return {"keystore": keystore, "ca": ca, "other_ca": other_ca, "root": root}


@pytest.fixture(scope="module")
def coordinator(files) -> StandIn:
    standin = StandIn(files["keystore"])
    yield standin
    standin.server.shutdown()


def _hook_query(connection: dict, airflow_home: Path) -> subprocess.CompletedProcess:
    script = textwrap.dedent("""
        from airflow.providers.trino.hooks.trino import TrinoHook
        print(TrinoHook(trino_conn_id="trino_default").get_records("SELECT 1"))
    """)
    env = {**os.environ, "AIRFLOW_HOME": str(airflow_home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW_CONN_TRINO_DEFAULT": json.dumps(connection)}
    return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)


def test_airflow_trino_default_uses_https_its_login_and_the_stack_ca(homelab: StackRun, files, coordinator):
    rendered = json.loads(homelab.envs("apps-airflow-scheduler-container")["AIRFLOW_CONN_TRINO_DEFAULT"])
    password = homelab.password("compute-trino-airflow-password")
    assert (rendered["port"], rendered["login"], rendered["password"]) == (8443, "airflow", password)
    assert rendered["extra"]["verify"] == "/opt/airflow/lakehouse-ca.pem"
    assert homelab.uploads("apps-airflow-scheduler-container")[rendered["extra"]["verify"]] == files["ca"].read_text()
    # Only the address changes: the stand-in listens on loopback (a name in the certificate).
    local = {**rendered, "host": "127.0.0.1", "port": coordinator.port,
             "extra": {**rendered["extra"], "verify": str(files["ca"])}}
    result = _hook_query(local, files["root"] / "airflow-ok")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "[[1]]"
    assert ("airflow", password) in coordinator.logins


def test_a_client_trusting_another_ca_refuses_the_coordinator(files, coordinator):
    """The certificate is accepted because of the stack's CA, not because verification is off."""
    connection = trino.dbapi.connect(host="127.0.0.1", port=coordinator.port, http_scheme="https", user="airflow",
                                     auth=trino.auth.BasicAuthentication("airflow", "pw"),
                                     verify=str(files["other_ca"]), max_attempts=1)
    with pytest.raises(trino.exceptions.TrinoConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        connection.cursor().execute("SELECT 1")


def _superset_config(homelab: StackRun) -> dict:
    namespace: dict = {}
    os.environ["SUPERSET_SECRET_KEY"] = "k3y"
    try:
        exec(compile(homelab.uploads("apps-superset-container")["/app/pythonpath/superset_config.py"],  # noqa: S102
                     "superset_config.py", "exec"), namespace)
    finally:
        del os.environ["SUPERSET_SECRET_KEY"]
    return namespace


def test_superset_reaches_trino_over_https_through_its_connection_mutator(homelab: StackRun, files, coordinator):
    config = _superset_config(homelab)
    assert config["LAKEHOUSE_CA_FILE"] == "/app/pythonpath/lakehouse-ca.pem"
    assert homelab.uploads("apps-superset-container")[config["LAKEHOUSE_CA_FILE"]] == files["ca"].read_text()
    assert homelab.uploads("apps-superset-init")[config["LAKEHOUSE_CA_FILE"]] == files["ca"].read_text()
    uri = sqlalchemy.engine.make_url(homelab.envs("apps-superset-init")["SUPERSET_TRINO_URI"])
    password = homelab.password("compute-trino-superset-password")
    assert (uri.get_backend_name(), uri.username, uri.password, uri.port) == ("trino", "superset", password, 8443)
    local = uri.set(host="127.0.0.1", port=coordinator.port)

    # The trap: the URI alone is plain HTTP, and the client refuses to send a password over it.
    with pytest.raises(sqlalchemy.exc.OperationalError, match="TLS/SSL is required for authentication"):
        with sqlalchemy.create_engine(local).connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))

    config["LAKEHOUSE_CA_FILE"] = str(files["ca"])  # the mutator reads the module global at call time
    url, params = config["DB_CONNECTION_MUTATOR"](local, {}, "admin", None, None)
    assert params["connect_args"] == {"http_scheme": "https", "verify": str(files["ca"])}
    with sqlalchemy.create_engine(url, **params).connect() as connection:
        assert connection.execute(sqlalchemy.text("SELECT 1")).fetchall() == [(1,)]
    assert ("superset", password) in coordinator.logins
    # Other backends pass through untouched.
    postgres = sqlalchemy.engine.make_url("postgresql+psycopg2://u:p@h/db")
    assert config["DB_CONNECTION_MUTATOR"](postgres, {"x": 1}, None, None, None) == (postgres, {"x": 1})


def test_jupyter_gets_its_trino_login_and_the_ca(homelab: StackRun, files, coordinator):
    env = homelab.envs("compute-spark-jupyter-container")
    password = homelab.password("compute-trino-jupyter-password")
    assert env["TRINO_URL"] == homelab.outputs["trinoUrl"]
    assert (env["TRINO_USER"], env["TRINO_PASSWORD"]) == ("jupyter", password)
    assert homelab.uploads("compute-spark-jupyter-container")[env["LAKEHOUSE_CA_FILE"]] == files["ca"].read_text()
    url = urlparse(env["TRINO_URL"])
    assert url.scheme == "https" and url.port == 8443
    connection = trino.dbapi.connect(host="127.0.0.1", port=coordinator.port, http_scheme=url.scheme,
                                     user=env["TRINO_USER"],
                                     auth=trino.auth.BasicAuthentication(env["TRINO_USER"], env["TRINO_PASSWORD"]),
                                     verify=str(files["ca"]), catalog="iceberg")
    cursor = connection.cursor()
    cursor.execute("SELECT 1")
    assert cursor.fetchall() == [[1]]
    assert ("jupyter", password) in coordinator.logins
