"""MLflow's basic-auth as rendered: the ini read back by configparser (as MLflow reads it), the server's
settings, the clients' logins, and the users job's script run against a stand-in auth API."""

from __future__ import annotations

import base64
import configparser
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from components.applications.mlflow import AUTH_CONFIG_PATH, USERS_SCRIPT, auth_config
from harness import StackRun, is_secret_wrapper
from json_http import send_json

NAS = "192.168.10.20"


def _ini(text: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser()  # interpolation on, as in mlflow.server.auth.config
    parser.read_string(text)
    return parser["mlflow"]


def test_the_auth_store_is_its_own_database_with_a_generated_admin(homelab: StackRun):
    server = homelab.named("apps-mlflow-container")
    command = server.inputs["command"]
    assert command[command.index("--app-name") + 1] == "basic-auth"
    env = homelab.envs("apps-mlflow-container")
    assert env["MLFLOW_AUTH_CONFIG_PATH"] == AUTH_CONFIG_PATH
    assert env["MLFLOW_AUTH_ADMIN_USERNAME"] == "admin"
    assert env["MLFLOW_AUTH_ADMIN_PASSWORD"] == homelab.password("apps-mlflow-admin-password")
    assert env["MLFLOW_FLASK_SERVER_SECRET_KEY"] == homelab.password("apps-mlflow-flask-secret-key")
    ini = _ini(homelab.uploads("apps-mlflow-container")[AUTH_CONFIG_PATH])
    assert dict(ini) == {
        "default_permission": "READ",
        "database_uri": f"postgresql+psycopg2://mlflow:{homelab.password('data-mlflow-db-password')}"
                        "@lakehouse-postgres:5432/mlflow_auth",
        "admin_username": "admin",
        "authorization_function": "mlflow.server.auth:authenticate_request_basic_auth",
    }
    assert is_secret_wrapper(server.inputs["uploads"])
    assert homelab.named("apps-mlflow-container").inputs["healthcheck"]["tests"][-1].endswith("/health', timeout=5)")
    assert "mlflowAdminPassword" in homelab.secret_outputs
    assert homelab.outputs["mlflowAdminUser"] == "admin"


def test_a_percent_sign_would_not_read_back_and_is_refused():
    with pytest.raises(ValueError, match="interpolation"):
        auth_config("postgresql+psycopg2://mlflow:50%off@h:5432/mlflow_auth")
    assert _ini(auth_config("postgresql://u:p@h/db"))["database_uri"] == "postgresql://u:p@h/db"


def test_pipelines_and_notebooks_get_their_own_logins_which_the_users_job_creates(homelab: StackRun):
    job = homelab.named("apps-mlflow-users")
    assert job.inputs["attach"] is True and job.inputs["command"][:2] == ["python", "-c"]
    assert homelab.named("apps-mlflow-container").urn in job.dependencies, "after the server is healthy"
    env = homelab.envs("apps-mlflow-users")
    assert env["MLFLOW_URL"] == "http://lakehouse-mlflow:5000"
    users = json.loads(env["LAKEHOUSE_MLFLOW_USERS"])
    assert users == {"airflow": homelab.password("apps-mlflow-airflow-password"),
                     "jupyter": homelab.password("compute-jupyter-mlflow-password")}
    for container, user, url in (("apps-airflow-scheduler-container", "airflow", f"http://{NAS}:5000"),
                                 ("compute-spark-jupyter-container", "jupyter", f"http://{NAS}:5000")):
        client = homelab.envs(container)
        assert (client["MLFLOW_TRACKING_URI"], client["MLFLOW_TRACKING_USERNAME"],
                client["MLFLOW_TRACKING_PASSWORD"]) == (url, user, users[user]), container
    assert "MLFLOW_AUTH_ADMIN_PASSWORD" not in homelab.envs("apps-airflow-scheduler-container")


class AuthApi:
    """MLflow's user endpoints as the auth app answers them (create: 400 RESOURCE_ALREADY_EXISTS)."""

    def __init__(self, admin: tuple[str, str], existing: dict[str, str], fail_create: bool = False):
        self.users = dict(existing)
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: dict) -> None:
                send_json(self, status, body)

            def _handle(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                expected = "Basic " + base64.b64encode(":".join(admin).encode()).decode()
                if self.headers.get("Authorization") != expected:
                    return self._answer(401, {"error_code": "UNAUTHENTICATED"})
                if self.command == "POST" and self.path == "/api/2.0/mlflow/users/create":
                    if fail_create:
                        return self._answer(500, {"error_code": "INTERNAL_ERROR"})
                    if body["username"] in api.users:
                        return self._answer(400, {"error_code": "RESOURCE_ALREADY_EXISTS"})
                    api.users[body["username"]] = body["password"]
                    return self._answer(200, {"user": {"username": body["username"]}})
                if self.command == "PATCH" and self.path == "/api/2.0/mlflow/users/update-password":
                    api.users[body["username"]] = body["password"]
                    return self._answer(200, {})
                return self._answer(404, {})

            do_POST = do_PATCH = _handle

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _run_users_job(homelab: StackRun, url: str) -> subprocess.CompletedProcess:
    env = {**homelab.envs("apps-mlflow-users"), "MLFLOW_URL": url}
    return subprocess.run([sys.executable, "-c", homelab.named("apps-mlflow-users").inputs["command"][2]],
                          env=env, capture_output=True, text=True, timeout=60)


def test_the_users_job_creates_logins_and_converges_on_existing_ones(homelab: StackRun):
    assert homelab.named("apps-mlflow-users").inputs["command"][2] == USERS_SCRIPT
    env = homelab.envs("apps-mlflow-users")
    admin = (env["MLFLOW_AUTH_ADMIN_USERNAME"], env["MLFLOW_AUTH_ADMIN_PASSWORD"])
    wanted = json.loads(env["LAKEHOUSE_MLFLOW_USERS"])
    api = AuthApi(admin, existing={"jupyter": "an-old-password"})
    try:
        first = _run_users_job(homelab, api.url)
        assert first.returncode == 0, first.stderr
        assert api.users == wanted
        again = _run_users_job(homelab, api.url)
        assert again.returncode == 0 and api.users == wanted, "a re-run is a success and changes nothing"
    finally:
        api.server.shutdown()
    broken = AuthApi(admin, existing={}, fail_create=True)
    try:
        failed = _run_users_job(homelab, broken.url)
        assert failed.returncode != 0 and "creating airflow: 500" in failed.stderr
    finally:
        broken.server.shutdown()
