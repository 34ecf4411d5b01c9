"""`python -m verify` without a network: reading the outputs, the plan, the runner, the report, exit codes."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import threading
import time

import pytest

from harness import ROOT
from polaris_stub import Realm, serve
from verify import checks, cli, outputs, report, runner
from verify.checks import Check, CheckFailed, Options
from verify.outputs import MissingOutput, OutputsError


# --- outputs -------------------------------------------------------------------------------------

def test_parse_takes_a_json_object_only():
    assert outputs.parse('{"a": 1}') == {"a": 1}
    with pytest.raises(OutputsError, match="not JSON"):
        outputs.parse("Current stack is homelab")
    with pytest.raises(OutputsError, match="not a JSON object"):
        outputs.parse("[1]")


def test_load_reads_a_file_or_names_what_is_missing(tmp_path, monkeypatch):
    path = tmp_path / "outputs.json"
    path.write_text('{"trinoUrl": "http://t:8080"}')
    assert outputs.load(str(path)) == {"trinoUrl": "http://t:8080"}
    with pytest.raises(OutputsError, match="cannot read"):
        outputs.load(str(tmp_path / "absent.json"))
    monkeypatch.setattr(outputs.shutil, "which", lambda name: None)
    with pytest.raises(OutputsError, match="--outputs FILE"):
        outputs.load(None)


def test_load_asks_pulumi_for_the_secrets_of_the_given_stack(monkeypatch):
    seen = {}

    def fake_run(argv, **kwargs):
        seen["argv"] = argv
        return subprocess.CompletedProcess(argv, 0, stdout='{"jupyterToken": "t0k3n-value"}', stderr="")
    monkeypatch.setattr(outputs.shutil, "which", lambda name: "/usr/bin/pulumi")
    monkeypatch.setattr(outputs.subprocess, "run", fake_run)
    assert outputs.load(None, "homelab") == {"jupyterToken": "t0k3n-value"}
    assert seen["argv"] == ["/usr/bin/pulumi", "stack", "output", "--json", "--show-secrets", "--stack", "homelab"]

    monkeypatch.setattr(outputs.subprocess, "run", lambda argv, **kw: subprocess.CompletedProcess(
        argv, 255, stdout="", stderr="error: no stack named 'nope' found"))
    with pytest.raises(OutputsError, match="no stack named"):
        outputs.load(None, "nope")


def test_service_credentials_come_from_the_services_output(homelab):
    users = {u.service: u for u in outputs.s3_users(homelab.outputs)}
    logins = {login.service: login for login in outputs.postgres_logins(homelab.outputs)}
    assert set(users) == {"iceberg-rest", "hive-metastore", "trino", "spark", "jupyter", "mlflow", "airflow"}
    assert set(logins) == {"iceberg-rest", "hive-metastore", "mlflow", "superset", "airflow", "taxi-source"}
    assert (users["airflow"].access_key, users["airflow"].endpoint) == ("airflow", homelab.outputs["minioApiUrl"])
    assert (logins["hive-metastore"].database, logins["hive-metastore"].user, logins["hive-metastore"].port) == (
        "metastore", "hive_metastore", 5432)
    with pytest.raises(MissingOutput, match="`services`"):
        outputs.s3_users({})
    with pytest.raises(MissingOutput, match="has no 'password'"):
        outputs.postgres_logins({"services": {"x": {"postgres": {"host": "h", "port": 1, "database": "d", "user": "u"}}}})


def test_every_s3_user_of_the_stack_has_grants_in_the_service_table(homelab):
    for user in outputs.s3_users(homelab.outputs):
        assert checks.granted_prefixes(user.service), user.service
    assert checks.granted_prefixes("hive-metastore") == {"warehouse": "hive/"}
    assert checks.granted_prefixes("airflow") == {"landing": "", "warehouse": "", "reference": "", "logs": "airflow/"}
    with pytest.raises(CheckFailed, match="not in the service table"):
        checks.granted_prefixes("nonesuch")


def test_trino_is_plain_http_without_logins_and_https_with_them(homelab):
    plain = outputs.trino_login({"trinoUrl": "http://192.168.10.31:8080"})
    assert (plain.scheme, plain.port, plain.password, plain.ca_pem) == ("http", 8080, None, None)
    stack = outputs.trino_login(homelab.outputs)
    assert (stack.scheme, stack.port, stack.user) == ("https", 8443, "admin")
    assert stack.password == homelab.outputs["trinoUsers"]["admin"] and stack.ca_pem == homelab.outputs["caCertificatePem"]
    secured = outputs.trino_login({"trinoUrl": "https://192.168.10.31:8443", "caCertificatePem": "-----BEGIN",
                                   "trinoUsers": {"analyst": "a-password", "admin": "the-admin-password"}})
    assert (secured.scheme, secured.host, secured.port, secured.user, secured.password, secured.ca_pem) == (
        "https", "192.168.10.31", 8443, "admin", "the-admin-password", "-----BEGIN")
    with pytest.raises(MissingOutput, match="needs HTTPS"):
        outputs.trino_login({"trinoUrl": "http://h:8080", "trinoUsers": {"admin": "pw"}})
    with pytest.raises(MissingOutput, match="`trinoUrl`"):
        outputs.trino_login({})


def test_the_spark_connect_url_carries_the_token(homelab):
    token = homelab.outputs["sparkConnectToken"]
    assert outputs.spark_connect_url(homelab.outputs) == f"sc://localhost:15002/;token={token}"
    assert outputs.spark_connect_url(homelab.outputs, "sc://localhost:25002") == f"sc://localhost:25002/;token={token}"
    assert outputs.spark_connect_url({}, "sc://localhost:1/;token=given") == "sc://localhost:1/;token=given"
    with pytest.raises(MissingOutput, match="sparkConnectToken"):
        outputs.spark_connect_url({"sparkConnectUrl": "sc://localhost:15002"})
    with pytest.raises(MissingOutput, match="sc://"):
        outputs.spark_connect_url({}, "http://localhost:15002")


def test_redact_hides_every_secret_of_the_outputs(homelab):
    secrets = [homelab.outputs["airflowAdminPassword"], homelab.outputs["jupyterToken"],
               homelab.outputs["services"]["mlflow"]["s3"]["secretKey"],
               homelab.outputs["services"]["superset"]["postgres"]["password"]]
    text = outputs.redact("leaked: " + " ".join(secrets) + " " + homelab.outputs["trinoUrl"], homelab.outputs)
    assert not any(s in text for s in secrets) and homelab.outputs["trinoUrl"] in text
    assert outputs.redact("x pw-of-admin y", {"trinoUsers": {"admin": "pw-of-admin"}}) == "x *** y"


# --- the plan ------------------------------------------------------------------------------------

def test_the_plan_has_a_check_per_promise_of_the_outputs(homelab):
    names = [c.name for c in checks.plan(homelab.outputs)]
    assert names == [
        "minio/airflow", "minio/hive-metastore", "minio/iceberg-rest", "minio/jupyter", "minio/mlflow", "minio/spark",
        "minio/trino", "postgres/airflow", "postgres/hive-metastore", "postgres/iceberg-rest", "postgres/mlflow",
        "postgres/superset", "postgres/taxi-source", "iceberg-rest", "hive-metastore", "trino/iceberg", "trino/hive", "spark-connect",
        "jupyter", "mlflow", "superset", "superset/analyst", "airflow/health", "airflow/dags"]
    without_demo = {k: v for k, v in homelab.outputs.items() if not k.startswith("supersetAnalyst")}
    assert "superset/analyst" not in [c.name for c in checks.plan(without_demo)]
    demo = checks.plan(homelab.outputs, Options(demo=True, demo_timeout=600, timeout=5))
    assert demo[-1].name == "airflow/demo" and demo[-1].timeout == 660
    assert {c.timeout for c in demo[:-1]} == {5}


def test_a_missing_output_fails_the_checks_that_need_it_by_name():
    results = {r.name: r for r in runner.run(checks.plan({}, Options()), workers=30)}
    assert results["minio"].detail == "the stack has no `services` output"
    assert results["postgres"].detail == "the stack has no `services` output"
    assert results["iceberg-rest"].detail == "the stack has no `icebergRestUri` output"
    assert results["jupyter"].detail == "the stack has no `jupyterUrl` output"
    assert results["airflow/health"].detail == "the stack has no `airflowUrl` output"
    assert results["spark-connect"].detail == "the stack has no `sparkConnectUrl` output"
    assert results["trino/hive"].detail == "the stack has no `trinoUrl` output"
    assert not any(r.ok for r in results.values())


@pytest.fixture
def catalog():
    """The Polaris stub (its published API enforced) with the stack's catalog and zones."""
    realm = Realm(clients={"root": "r00t-secret"}, catalogs={"warehouse": {}}, namespaces={"warehouse": {"bronze", "gold"}})
    server = serve(realm)
    yield realm, f"http://127.0.0.1:{server.server_address[1]}/api/catalog"
    server.shutdown()
    server.server_close()


def test_the_catalog_check_needs_a_token_and_finds_the_zones(catalog):
    realm, uri = catalog
    detail = checks.check_iceberg_namespaces(uri, "warehouse", "root:r00t-secret", 5)
    assert detail == "namespaces bronze, gold (as root; refused without a token)"
    assert realm.violations == []
    assert [op for op, _ in realm.calls] == ["getConfig", "getToken", "getConfig", "listNamespaces"]


def test_the_catalog_check_fails_on_a_refused_login_or_a_missing_zone(catalog):
    realm, uri = catalog
    with pytest.raises(CheckFailed, match="POST /v1/oauth/tokens as root: HTTP 401"):
        checks.check_iceberg_namespaces(uri, "warehouse", "root:wrong", 5)
    realm.namespaces["warehouse"].discard("gold")
    with pytest.raises(CheckFailed, match="gold missing"):
        checks.check_iceberg_namespaces(uri, "warehouse", "root:r00t-secret", 5)


def test_the_catalog_credential_is_roots(homelab):
    assert outputs.catalog_credential(homelab.outputs) == homelab.outputs["icebergRestCredentials"]["root"]
    with pytest.raises(MissingOutput, match="no `root` credential"):
        outputs.catalog_credential({"icebergRestCredentials": {"analyst": "analyst:x"}})
    assert "s3cr3t-value" not in outputs.redact("x s3cr3t-value", {"icebergRestCredentials": {"root": "s3cr3t-value"}})


def test_select_by_name_or_service_and_refuse_unknown_names():
    planned = [Check(n, lambda: "") for n in ("minio/a", "minio/b", "trino/iceberg", "mlflow")]
    assert [c.name for c in checks.select(planned, ["minio"], [])] == ["minio/a", "minio/b"]
    assert [c.name for c in checks.select(planned, [], ["minio", "trino/iceberg"])] == ["mlflow"]
    assert [c.name for c in checks.select(planned, ["minio", "mlflow"], ["minio/b"])] == ["minio/a", "mlflow"]
    with pytest.raises(ValueError, match="no check is named min"):
        checks.select(planned, ["min"], [])


# --- the MinIO check's verdict -------------------------------------------------------------------

class FakeS3:
    """list_objects_v2 as MinIO answers it for a user whose policy lists `allowed` (bucket -> prefix)."""

    def __init__(self, allowed: dict[str, str], code: str = "AccessDenied"):
        self.allowed, self.code, self.calls = allowed, code, []

    def list_objects_v2(self, Bucket, Prefix, MaxKeys):  # noqa: N803 - boto3's names
        from botocore.exceptions import ClientError
        self.calls.append((Bucket, Prefix))
        if Bucket in self.allowed and Prefix.startswith(self.allowed[Bucket]):
            return {"KeyCount": 0}
        raise ClientError({"Error": {"Code": self.code}}, "ListObjectsV2")


@pytest.fixture
def fake_s3(monkeypatch):
    import boto3
    made = {}

    def use(allowed, code="AccessDenied"):
        made["s3"] = FakeS3(allowed, code)
        monkeypatch.setattr(boto3, "client", lambda *a, **kw: made["s3"])
        return made["s3"]
    return use


BUCKETS = ["landing", "logs", "mlflow", "notebooks", "warehouse"]
HIVE = outputs.S3User("hive-metastore", "http://s3:9000", "hive_metastore", "s", "us-east-1")


def test_a_minio_user_passes_when_it_lists_exactly_its_grants(fake_s3):
    s3 = fake_s3({"warehouse": "hive/"})
    detail = checks.check_minio_user(HIVE, BUCKETS, 5)
    assert detail == "user hive_metastore lists warehouse/hive/; refused landing, logs, mlflow, notebooks"
    assert ("warehouse", "hive/") in s3.calls


def test_a_minio_user_fails_when_it_sees_more_or_less(fake_s3):
    fake_s3({"warehouse": "", "mlflow": ""})
    with pytest.raises(CheckFailed, match="lists mlflow, which it was not granted"):
        checks.check_minio_user(HIVE, BUCKETS, 5)
    fake_s3({})
    with pytest.raises(CheckFailed, match="is refused warehouse/hive/"):
        checks.check_minio_user(HIVE, BUCKETS, 5)
    fake_s3({}, code="InvalidAccessKeyId")
    with pytest.raises(CheckFailed, match="landing: InvalidAccessKeyId"):
        checks.check_minio_user(HIVE, BUCKETS, 5)
    fake_s3({"warehouse": "hive/"})
    with pytest.raises(CheckFailed, match="granted warehouse, which is not in the `buckets` output"):
        checks.check_minio_user(HIVE, ["landing"], 5)


# --- the Thrift codec ----------------------------------------------------------------------------

def test_the_thrift_call_is_a_strict_binary_protocol_message():
    assert checks.thrift_call("get_all_databases", 7) == (
        b"\x80\x01\x00\x01" + b"\x00\x00\x00\x11" + b"get_all_databases" + b"\x00\x00\x00\x07" + b"\x00")


def _reply(body: bytes, kind: int = 2, name: bytes = b"get_all_databases") -> bytes:
    return bytes([0x80, 0x01, 0x00, kind]) + len(name).to_bytes(4, "big") + name + b"\x00\x00\x00\x01" + body


def _read(data: bytes) -> list[str]:
    left, right = socket.socketpair()
    with left, right:
        left.sendall(data)
        left.shutdown(socket.SHUT_WR)
        return checks.read_string_list_reply(checks._Reader(right), "get_all_databases")


def test_the_thrift_reply_is_read_as_the_list_of_databases():
    # field 0 (success): list (15) of 2 strings (11), then the struct's stop byte
    body = b"\x0f\x00\x00" + b"\x0b" + b"\x00\x00\x00\x02" + b"\x00\x00\x00\x07default" + b"\x00\x00\x00\x04demo" + b"\x00"
    assert _read(_reply(body)) == ["default", "demo"]
    # field 1: MetaException (a struct with a message string)
    error = b"\x0c\x00\x01" + b"\x0b\x00\x01" + b"\x00\x00\x00\x04boom" + b"\x00" + b"\x00"
    with pytest.raises(CheckFailed, match="returned an exception"):
        _read(_reply(error))
    # TApplicationException: message (field 1), type (field 2)
    application = b"\x0b\x00\x01\x00\x00\x00\x0eInvalid method\x08\x00\x02\x00\x00\x00\x01\x00"
    with pytest.raises(CheckFailed, match="refused get_all_databases: Invalid method"):
        _read(_reply(application, kind=3))
    with pytest.raises(CheckFailed, match="not a Thrift"):
        _read(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    with pytest.raises(CheckFailed, match="closed the connection"):
        _read(_reply(b"\x0f\x00\x00\x0b\x00\x00\x00\x02"))


# --- runner --------------------------------------------------------------------------------------

def _raise(error):
    raise error


STUBS = [Check("a", lambda: "fine"), Check("b/x", lambda: _raise(CheckFailed("said no"))),
         Check("b/y", lambda: _raise(ConnectionRefusedError(111, "Connection refused"))),
         Check("c", lambda: time.sleep(5) or "late", timeout=0.3)]


def test_the_runner_reports_each_check_in_order_with_timeouts():
    results = runner.run(STUBS)
    assert [(r.name, r.ok, r.detail) for r in results] == [
        ("a", True, "fine"), ("b/x", False, "said no"),
        ("b/y", False, "ConnectionRefusedError: [Errno 111] Connection refused"),
        ("c", False, "no answer within 0 s")]
    assert results[3].seconds < 1


def test_a_failure_is_one_line_with_the_servers_own_words():
    grpc = RuntimeError('<_MultiThreadedRendezvous of RPC that terminated with:\n\tstatus = StatusCode.UNAUTHENTICATED'
                        '\n\tdetails = "Invalid authentication token"\n\tdebug_error_string = "..."\n>')
    assert runner.describe(grpc) == "RuntimeError: Invalid authentication token"
    assert runner.describe(ValueError("a\n  b")) == "ValueError: a b"
    assert len(runner.describe(ValueError("x" * 1000))) == len("ValueError: ") + runner.MAX_DETAIL


def test_checks_run_concurrently_up_to_the_worker_limit():
    running, peak, lock = [0], [0], threading.Lock()

    def work():
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.3)
        with lock:
            running[0] -= 1
        return "ok"
    started = time.monotonic()
    runner.run([Check(f"c{i}", work) for i in range(6)], workers=3)
    assert peak[0] == 3 and time.monotonic() - started < 1.5


# --- report and exit codes -----------------------------------------------------------------------

RESULTS = [runner.Result("minio/airflow", True, "user airflow lists landing", 0.25),
           runner.Result("trino/iceberg", False, "HttpError: error 401", 1.5)]


def test_json_lists_every_check_and_the_verdict():
    document = json.loads(report.to_json(RESULTS, "homelab"))
    assert document == {"ok": False, "passed": 1, "failed": 1, "stack": "homelab", "checks": [
        {"name": "minio/airflow", "service": "minio", "ok": True, "seconds": 0.25, "detail": "user airflow lists landing"},
        {"name": "trino/iceberg", "service": "trino", "ok": False, "seconds": 1.5, "detail": "HttpError: error 401"}]}


def test_the_table_shows_each_check_and_the_summary():
    plain = report.plain_table(RESULTS).splitlines()
    assert plain[0].split() == ["check", "result", "seconds", "detail"]
    assert plain[2].split()[:3] == ["minio/airflow", "ok", "0.2"]
    assert plain[3].split()[:3] == ["trino/iceberg", "FAILED", "1.5"]
    assert plain[-1] == "1 passed, 1 failed"
    fancy = io.StringIO()
    report.print_table(RESULTS, fancy, fancy=True)
    assert "trino/iceberg" in fancy.getvalue() and "FAILED" in fancy.getvalue() and "1 passed, 1 failed" in fancy.getvalue()


def test_exit_code_is_zero_only_when_every_check_passed():
    assert report.exit_code(RESULTS[:1]) == 0
    assert report.exit_code(RESULTS) == 1
    assert report.exit_code([]) == 1


def test_progress_prints_a_line_per_check_off_a_terminal():
    stream = io.StringIO()
    progress = report.Progress(2, stream)
    progress.on_start(Check("a", lambda: ""))
    progress.on_done(RESULTS[1])
    assert stream.getvalue().splitlines() == ["[0/2] a ...", "[1/2] trino/iceberg FAILED (1.5 s)"]


@pytest.fixture
def stub_plan(monkeypatch, tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"airflowAdminPassword": "generated-secret-123"}))

    def use(*stubs):
        monkeypatch.setattr(checks, "plan", lambda outputs, options: list(stubs))
        return str(path)
    return use


def test_main_prints_json_and_exits_by_the_results(stub_plan, capsys):
    path = stub_plan(Check("a", lambda: "fine"), Check("b", lambda: "also fine"))
    assert cli.main(["--outputs", path, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["passed"] == 2
    path = stub_plan(Check("a", lambda: "fine"), Check("b", lambda: _raise(CheckFailed("pw generated-secret-123"))))
    assert cli.main(["--outputs", path, "--json", "--skip", "a"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in document["checks"]] == ["b"]
    assert document["checks"][0]["detail"] == "pw ***", "secrets never reach the report"


def test_main_prints_progress_and_a_table(stub_plan, capsys):
    path = stub_plan(Check("a", lambda: "fine"))
    assert cli.main(["--outputs", path, "--plain"]) == 0
    captured = capsys.readouterr()
    assert "[1/1] a ok" in captured.err
    assert captured.out.splitlines()[2].split()[:2] == ["a", "ok"]


def test_main_exits_2_on_unusable_outputs_or_names(stub_plan, tmp_path, capsys):
    path = stub_plan(Check("a", lambda: "fine"))
    assert cli.main(["--outputs", str(tmp_path / "absent.json")]) == 2
    assert cli.main(["--outputs", path, "--only", "nope"]) == 2
    assert "no check is named nope" in capsys.readouterr().err
    assert cli.main(["--outputs", path, "--list"]) == 0


def test_python_dash_m_verify_runs_from_the_project(tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"trinoUrl": "http://t:8080"}))
    result = subprocess.run([sys.executable, "-m", "verify", "--outputs", str(path), "--list"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split("\t") == ["minio", "30 s"]
