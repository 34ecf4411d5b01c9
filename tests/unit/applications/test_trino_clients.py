"""Trino's clients as rendered, against a stand-in coordinator serving the rendered certificate.

The stand-in is a local HTTPS server with the coordinator's own `coordinator.pem` (key, certificate
and CA as the stack renders them) that answers `POST /v1/statement` like Trino and records who
logged in. The clients are the real ones: Airflow's `TrinoHook` from the rendered
`AIRFLOW_CONN_TRINO_DEFAULT` (contract tier: it imports Airflow), Superset's `trino://` URI through SQLAlchemy and the rendered
`DB_CONNECTION_MUTATOR`, and the `trino` DB-API client with JupyterLab's environment. Each verifies
the certificate against the stack's CA file and sends its own login.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest
import sqlalchemy
import trino

from components.platform.tls import ca_certificate_pem
from harness import StackRun
from trino_standin import StandIn

COORDINATOR = "compute-trino-container"
# requests lets these override a session's `verify` (psf/requests#3829), which is how the trino client
# passes its CA file; this machine sets them, the images do not.
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@pytest.fixture(autouse=True)
def _as_in_the_images(monkeypatch):
    for name in CA_BUNDLE_VARIABLES:
        monkeypatch.delenv(name, raising=False)


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
    standin.stop()


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
