"""MLflow as rendered: server command against PostgreSQL and S3, artifact proxy, allowed hosts, memory."""

from __future__ import annotations

import base64
import subprocess
import textwrap

import pytest

from local_container import assert_fits
from harness import shipped_stacks
from local_container import IMAGES, http_get, split_reference, wait_for

pytestmark = pytest.mark.contract
# The job runner and its huey consumers start a few seconds after the server answers.
SETTLE_SECONDS = 25


def flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def admin_login(local) -> dict[str, str]:
    """The server runs the basic-auth app: clients log in (here as the admin the server creates)."""
    return {"MLFLOW_TRACKING_USERNAME": local.env["MLFLOW_AUTH_ADMIN_USERNAME"],
            "MLFLOW_TRACKING_PASSWORD": local.env["MLFLOW_AUTH_ADMIN_PASSWORD"]}


def basic(login: dict[str, str]) -> str:
    pair = f"{login['MLFLOW_TRACKING_USERNAME']}:{login['MLFLOW_TRACKING_PASSWORD']}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def test_the_installed_mlflow_is_the_image_version(contract_run):
    repository, tag = split_reference(next(r.inputs["name"] for r in contract_run.of_type(
        "docker:index/remoteImage:RemoteImage") if "mlflow" in r.inputs["name"]))
    assert IMAGES[repository].version() == tag.removeprefix("v").removesuffix("-full")


def test_server_answers_health_and_logs_an_artifact_into_the_mlflow_bucket(mlflow, loopback, s3):
    local, process = mlflow
    port = int(flag(local.argv, "--port"))
    assert http_get(f"http://127.0.0.1:{port}/health")[0] == 200
    client = textwrap.dedent("""
        import mlflow, pathlib, sys
        mlflow.set_tracking_uri(sys.argv[1])
        mlflow.set_experiment("contract")
        with mlflow.start_run() as run:
            mlflow.log_param("p", 1)
            path = pathlib.Path(sys.argv[2]) / "hello.txt"
            path.write_text("hello from the contract tier")
            mlflow.log_artifact(str(path))
        print(run.info.artifact_uri)
        print(run.info.run_id)
    """)
    # The client has no S3 credentials: the artifact goes through the server's proxy.
    result = subprocess.run([str(IMAGES["ghcr.io/mlflow/mlflow"].bin / "python"), "-c", client,
                             f"http://127.0.0.1:{port}", str(local.root / "tmp")],
                            env={"PATH": "/usr/bin:/bin", "HOME": str(local.root / "home"), **admin_login(local)},
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    artifact_uri, run_id = result.stdout.split()[-2:]
    assert artifact_uri.startswith("mlflow-artifacts:/"), artifact_uri
    destination = flag(local.argv, "--artifacts-destination")
    bucket = destination.removeprefix("s3://").split("/")[0]
    assert bucket == "mlflow" and bucket in s3.buckets
    keys = [o["Key"] for o in s3.client().list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert any(k.endswith(f"{run_id}/artifacts/hello.txt") for k in keys), keys


def test_allowed_hosts_accept_the_listed_names_and_refuse_others(mlflow):
    local, _ = mlflow
    port = int(flag(local.argv, "--port"))
    allowed = flag(local.argv, "--allowed-hosts").split(",")
    api = f"http://127.0.0.1:{port}/api/2.0/mlflow/experiments/search?max_results=1"
    for name in allowed:
        host = name.replace("*", "5000")
        status, body = http_get(api, {"Host": host, "Authorization": basic(admin_login(local))})
        assert status == 200, f"Host {host}: {status} {body[:200]!r}"
    for host in ("evil.example", "evil.example:5000", "192.168.10.99:5000"):
        status, _ = http_get(api, {"Host": host, "Authorization": basic(admin_login(local))})
        assert status == 403, f"Host {host} was accepted"


@pytest.mark.parametrize("stack", shipped_stacks())
def test_peak_memory_fits_the_container_limit(mlflow, stack_runs, stack):
    local, process = mlflow
    wait_for("settling", lambda: process.observed_for() >= SETTLE_SECONDS, SETTLE_SECONDS + 5)
    assert_fits(process, stack_runs, stack, min_observed=SETTLE_SECONDS)
