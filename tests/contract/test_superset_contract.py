"""Superset as rendered: the init job twice, the admin login, the Trino database registration, memory.

Trino cannot run here: only the registration (name, URI, driver) is checked, not a query.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from local_container import assert_all_fit
from harness import shipped_stacks, unwrap
from local_container import IMAGES, http_get, split_reference
from verify import checks as verify_checks, runner as verify_runner

pytestmark = pytest.mark.contract
TRINO_DATABASE = "Lakehouse (Trino iceberg)"


def web_url(web) -> str:
    return f"http://127.0.0.1:{web.env['SUPERSET_PORT']}"


def login(base: str, password: str) -> tuple[int, dict]:
    request = urllib.request.Request(f"{base}/api/v1/security/login", method="POST", headers={
        "Content-Type": "application/json"}, data=json.dumps(
        {"username": "admin", "password": password, "provider": "db", "refresh": True}).encode())
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


def test_the_installed_superset_is_the_image_version(contract_run):
    reference = next(r.inputs["name"] for r in contract_run.of_type("docker:index/remoteImage:RemoteImage")
                     if r.inputs["name"].startswith("apache/superset:"))
    repository, tag = split_reference(reference)
    assert tag.removesuffix("-dev") == IMAGES[repository].version()


def test_the_init_job_runs_twice_on_the_same_database(init_runs):
    for job, code, process in init_runs:
        assert code == 0, process.tail()
    second = init_runs[1][2].log.read_text(errors="replace")
    assert "already exists" in second.lower(), "the second run finds the admin it created"


def test_the_trino_database_is_registered_with_the_rendered_uri(init_runs, postgres, contract_run):
    job = init_runs[-1][0]
    role = next(r.inputs for r in contract_run.of_type("postgresql:index/role:Role") if r.inputs["name"] == "superset")
    rows = postgres.psql(f"SELECT sqlalchemy_uri FROM dbs WHERE database_name = '{TRINO_DATABASE}'",
                         user="superset", password=unwrap(role["password"]), database="superset").stdout.split()
    # Superset keeps the password apart (encrypted with its SECRET_KEY) and stores the URI masked.
    rendered = job.env["SUPERSET_TRINO_URI"]
    password = rendered.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    assert rows == [rendered.replace(f":{password}@", ":XXXXXXXXXX@")]
    stored = postgres.psql(f"SELECT password IS NOT NULL AND password <> '' FROM dbs WHERE database_name = "
                           f"'{TRINO_DATABASE}'", user="superset", password=unwrap(role["password"]),
                           database="superset").stdout.strip()
    assert stored == "t"
    # The dev image carries the `trino` driver: the URI loads its SQLAlchemy dialect.
    probe = job.exec(["python", "-c", "import os; from sqlalchemy import create_engine; "
                      "e = create_engine(os.environ['SUPERSET_TRINO_URI']); "
                      "print(e.dialect.name, e.url.username, e.url.database, e.url.password)"])
    assert probe.returncode == 0, probe.stderr[-2000:]
    assert probe.stdout.split() == ["trino", "superset", "iceberg", password]


def test_the_admin_logs_in_with_the_generated_password_only(superset, init_runs):
    web, _ = superset
    password = init_runs[0][0].env["SUPERSET_ADMIN_PASSWORD"]
    base = web_url(web)
    assert http_get(f"{base}/health")[1].strip() == b"OK"
    status, body = login(base, password)
    assert status == 200 and body.get("access_token"), (status, body)
    assert login(base, "not-the-password")[0] == 401


def test_verify_logs_in_and_finds_the_trino_database(superset, verify_outputs):
    """`python -m verify`'s Superset check, from the stack's outputs folded onto loopback, against this server."""
    web, _ = superset
    assert verify_outputs["supersetUrl"] == web_url(web)
    [result] = verify_runner.run([c for c in verify_checks.plan(verify_outputs) if c.name == "superset"])
    assert result.ok and result.detail == f"admin logged in; databases: {TRINO_DATABASE}", result
    wrong = verify_runner.run_one(verify_checks.Check("superset", lambda: verify_checks.check_superset_database(
        web_url(web), "admin", "not-the-password", 30)))
    assert not wrong.ok and "HTTP 401" in wrong.detail, wrong


@pytest.mark.parametrize("stack", shipped_stacks())
def test_peak_memory_fits_the_container_limit(superset, init_runs, stack_runs, stack):
    _, process = superset
    assert_all_fit([*(p for _, _, p in init_runs), process], stack_runs, stack)
