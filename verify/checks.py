"""The checks: one small function per promise the outputs make, and `plan`, which picks them.

A check returns a one-line detail when the service answers as the outputs say and raises
`CheckFailed` (or any exception) when it does not; the runner adds the timeout. Client libraries
are imported inside the checks, so a missing one fails only the checks that need it, naming the
install step.
"""

from __future__ import annotations

import importlib
import os
import socket
import struct
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from verify import outputs as out
from verify.outputs import MissingOutput

INSTALL = "venv/bin/pip install -r verify/requirements.txt"
DEFAULT_TIMEOUT = 30.0
SPARK_TIMEOUT = 120.0
# What the stack creates and the checks expect to find.
ICEBERG_NAMESPACES = ("bronze", "gold")
HIVE_DATABASE = "default"
AIRFLOW_DAG = "lakehouse_connections"   # uploaded by the stack (dags/)
DEMO_DAG = "taxi_pipeline"              # the demo workload's DAG
SUPERSET_BACKEND = "trino"
DEMO_DASHBOARD = "taxi-demand"          # the demo's Superset dashboard (slug), which its analyst opens


class CheckFailed(Exception):
    """The service answered, but not as the outputs say (or did not answer)."""


@dataclass(frozen=True)
class Check:
    name: str                       # "<service>" or "<service>/<what>", e.g. "minio/airflow"
    run: Callable[[], str]          # the detail on success; raises on failure
    timeout: float = DEFAULT_TIMEOUT

    @property
    def service(self) -> str:
        return self.name.split("/", 1)[0]


@dataclass(frozen=True)
class Options:
    spark_connect: Optional[str] = None   # e.g. sc://localhost:15002 at the local end of an SSH tunnel
    demo: bool = False
    demo_dag: str = DEMO_DAG
    demo_timeout: float = 1800.0
    timeout: Optional[float] = None       # overrides every check's own timeout (not the demo's)
    http_timeout: float = 10.0
    extra: dict[str, Any] = field(default_factory=dict)


def require(module: str, package: Optional[str] = None) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise CheckFailed(f"the Python package {package or module} is missing: {INSTALL}") from None


# --- MinIO ---------------------------------------------------------------------------------------

def granted_prefixes(service: str) -> dict[str, str]:
    """bucket -> the key prefix the service's MinIO user may list there (the service table's grants)."""
    from components.platform.services import SERVICES
    if service not in SERVICES:
        raise CheckFailed(f"{service} is not in the service table (components/platform/services.py)")
    grants: dict[str, str] = {}
    for grant in SERVICES[service].grants:
        grants.setdefault(grant.bucket, grant.prefix)
    return grants


def check_minio_user(user: out.S3User, buckets: list[str], http_timeout: float) -> str:
    """The user lists each granted bucket (at its granted prefix) and is refused every other bucket."""
    boto3 = require("boto3")
    from botocore.config import Config
    from botocore.exceptions import ClientError

    grants = granted_prefixes(user.service)
    client = boto3.client("s3", endpoint_url=user.endpoint, region_name=user.region,
                          aws_access_key_id=user.access_key, aws_secret_access_key=user.secret_key,
                          config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                                        connect_timeout=http_timeout, read_timeout=http_timeout))
    problems = [f"granted {bucket}, which is not in the `buckets` output" for bucket in grants if bucket not in buckets]
    seen, refused = [], []
    for bucket in buckets:
        prefix = grants.get(bucket)
        try:
            client.list_objects_v2(Bucket=bucket, Prefix=prefix or "", MaxKeys=1)
            listed = True
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "?")
            if code != "AccessDenied":
                problems.append(f"{bucket}: {code}")
                continue
            listed = False
        if listed and prefix is None:
            problems.append(f"lists {bucket}, which it was not granted")
        elif not listed and prefix is not None:
            problems.append(f"is refused {bucket}/{prefix}")
        (seen if listed else refused).append(f"{bucket}/{prefix}" if listed and prefix else bucket)
    if problems:
        raise CheckFailed(f"user {user.access_key} " + "; ".join(problems))
    return f"user {user.access_key} lists {', '.join(seen) or 'nothing'}; refused {', '.join(refused) or 'nothing'}"


# --- PostgreSQL ----------------------------------------------------------------------------------

def check_postgres_login(login: out.PostgresLogin, http_timeout: float) -> str:
    native = require("pg8000.native", "pg8000")
    try:
        connection = native.Connection(user=login.user, password=login.password, host=login.host, port=login.port,
                                       database=login.database, timeout=http_timeout)
    except native.DatabaseError as error:
        raise CheckFailed(f"{login.user}@{login.database}: {_pg_message(error)}") from None
    try:
        [[user, database, owner]] = connection.run(
            "SELECT current_user, current_database(), pg_get_userbyid(datdba) FROM pg_database "
            "WHERE datname = current_database()")
    finally:
        connection.close()
    if (user, database) != (login.user, login.database):
        raise CheckFailed(f"logged in as {user} to {database}")
    if owner != login.user:
        raise CheckFailed(f"{database} is owned by {owner}, not {login.user}")
    return f"{user} logs into {database}, which it owns"


def _pg_message(error: Exception) -> str:
    detail = error.args[0] if error.args else error
    if isinstance(detail, dict):
        return f"{detail.get('C', '')} {detail.get('M', detail)}".strip()
    return str(detail)


# --- HTTP services -------------------------------------------------------------------------------

def _requests():
    return require("requests")


def _json(response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise CheckFailed(f"{what}: HTTP {response.status_code}, not JSON: {response.text[:200]!r}") from None


def _expect(response, what: str, *statuses: int) -> None:
    if response.status_code not in statuses:
        raise CheckFailed(f"{what}: HTTP {response.status_code} {response.text[:300]!r}")


def check_iceberg_namespaces(uri: str, warehouse: str, credential: str, http_timeout: float) -> str:
    """The catalog refuses a request without a token; with a token for `credential` (`client_id:secret`),
    GET /v1/config?warehouse= (for the path prefix) and /v1/{prefix}/namespaces list `bronze` and `gold`."""
    requests = _requests()
    base = uri.rstrip("/")
    anonymous = requests.get(f"{base}/v1/config", params={"warehouse": warehouse}, timeout=http_timeout)
    _expect(anonymous, "GET /v1/config without a token", 401)
    client_id, _, secret = credential.partition(":")
    token = requests.post(f"{base}/v1/oauth/tokens", timeout=http_timeout, data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
        "scope": "PRINCIPAL_ROLE:ALL"})
    _expect(token, f"POST /v1/oauth/tokens as {client_id}", 200)
    headers = {"Authorization": f"Bearer {_json(token, '/v1/oauth/tokens').get('access_token')}"}
    config = requests.get(f"{base}/v1/config", params={"warehouse": warehouse}, headers=headers, timeout=http_timeout)
    _expect(config, "GET /v1/config", 200)
    prefix = ((_json(config, "/v1/config").get("overrides") or {}).get("prefix") or "").strip("/")
    path = f"{base}/v1/{prefix + '/' if prefix else ''}namespaces"
    names: list[str] = []
    page = None
    for _ in range(50):
        response = requests.get(path, params={"pageToken": page} if page else None, headers=headers,
                                timeout=http_timeout)
        _expect(response, "GET /v1/namespaces", 200)
        body = _json(response, "/v1/namespaces")
        names += [".".join(ns) for ns in body.get("namespaces") or []]
        page = body.get("next-page-token")
        if not page:
            break
    missing = [n for n in ICEBERG_NAMESPACES if n not in names]
    if missing:
        raise CheckFailed(f"namespaces {names}: {', '.join(missing)} missing")
    return f"namespaces {', '.join(sorted(names))} (as {client_id}; refused without a token)"


def check_jupyter_token(url: str, token: str, http_timeout: float) -> str:
    """/api/status answers 200 with the token and 403 without it."""
    requests = _requests()
    status = f"{url.rstrip('/')}/api/status"
    with_token = requests.get(status, headers={"Authorization": f"token {token}"}, timeout=http_timeout)
    _expect(with_token, "GET /api/status with the token", 200)
    without = requests.get(status, timeout=http_timeout, allow_redirects=False)
    if without.status_code != 403:
        raise CheckFailed(f"GET /api/status without the token: HTTP {without.status_code}, expected 403")
    started = _json(with_token, "/api/status").get("started", "?")
    return f"token accepted (server started {started}), refused without it"


def check_mlflow_experiments(url: str, auth: Optional[tuple[str, str]], http_timeout: float) -> str:
    requests = _requests()
    response = requests.post(f"{url.rstrip('/')}/api/2.0/mlflow/experiments/search", json={"max_results": 100},
                             auth=auth, timeout=http_timeout)
    _expect(response, "POST /api/2.0/mlflow/experiments/search", 200)
    experiments = _json(response, "experiments/search").get("experiments") or []
    if not experiments:
        raise CheckFailed("no experiment listed (MLflow always has `Default`)")
    names = sorted(e.get("name", "?") for e in experiments)
    return f"{len(names)} experiment(s): {', '.join(names[:5])}{' ...' if len(names) > 5 else ''}"


def _superset_token(base: str, user: str, password: str, http_timeout: float) -> dict[str, str]:
    """A login to Superset's API: the bearer header of `user`."""
    login = _requests().post(f"{base}/api/v1/security/login", timeout=http_timeout,
                             json={"username": user, "password": password, "provider": "db", "refresh": True})
    _expect(login, f"login as {user}", 200)
    token = _json(login, "login").get("access_token")
    if not token:
        raise CheckFailed("the login answered without an access token")
    return {"Authorization": f"Bearer {token}"}


def check_superset_database(url: str, user: str, password: str, http_timeout: float) -> str:
    """The admin logs in; the database list holds a Trino database."""
    requests = _requests()
    base = url.rstrip("/")
    listing = requests.get(f"{base}/api/v1/database/", params={"q": "(page_size:100)"}, timeout=http_timeout,
                           headers=_superset_token(base, user, password, http_timeout))
    _expect(listing, "GET /api/v1/database/", 200)
    databases = _json(listing, "database list").get("result") or []
    trino = [d.get("database_name") for d in databases
             if d.get("backend") == SUPERSET_BACKEND or SUPERSET_BACKEND in str(d.get("database_name", "")).lower()]
    if not trino:
        raise CheckFailed(f"no Trino database among {[d.get('database_name') for d in databases]}")
    return f"{user} logged in; databases: {', '.join(sorted(trino))}"


def check_superset_analyst(url: str, user: str, password: str, http_timeout: float) -> str:
    """The demo's analyst logs in and opens the demo dashboard and its datasets."""
    requests = _requests()
    base = url.rstrip("/")
    headers = _superset_token(base, user, password, http_timeout)
    dashboard = requests.get(f"{base}/api/v1/dashboard/{DEMO_DASHBOARD}", headers=headers, timeout=http_timeout)
    _expect(dashboard, f"GET /api/v1/dashboard/{DEMO_DASHBOARD}", 200)
    datasets = requests.get(f"{base}/api/v1/dashboard/{DEMO_DASHBOARD}/datasets", headers=headers,
                            timeout=http_timeout)
    _expect(datasets, f"GET /api/v1/dashboard/{DEMO_DASHBOARD}/datasets", 200)
    names = sorted(d.get("table_name", "?") for d in _json(datasets, "dashboard datasets").get("result") or [])
    if not names:
        raise CheckFailed(f"the dashboard {DEMO_DASHBOARD} shows {user} no dataset")
    title = _json(dashboard, "dashboard").get("result", {}).get("dashboard_title", DEMO_DASHBOARD)
    return f"{user} opens {title!r}: {len(names)} datasets ({', '.join(names)})"


# --- Airflow -------------------------------------------------------------------------------------

class Airflow:
    def __init__(self, url: str, user: str, password: str, http_timeout: float):
        self.requests = _requests()
        self.base, self.http_timeout = url.rstrip("/"), http_timeout
        response = self.requests.post(f"{self.base}/auth/token", json={"username": user, "password": password},
                                      timeout=http_timeout)
        _expect(response, f"POST /auth/token as {user}", 200, 201)
        self.headers = {"Authorization": f"Bearer {_json(response, '/auth/token')['access_token']}"}

    def call(self, method: str, path: str, expect: tuple[int, ...] = (200,), **kwargs) -> Any:
        response = self.requests.request(method, f"{self.base}{path}", headers=self.headers,
                                         timeout=self.http_timeout, **kwargs)
        _expect(response, f"{method} {path}", *expect)
        return _json(response, path)


def check_airflow_health(url: str, user: str, password: str, http_timeout: float) -> str:
    health = Airflow(url, user, password, http_timeout).call("GET", "/api/v2/monitor/health")
    states = {name: (value or {}).get("status") for name, value in health.items() if isinstance(value, dict)}
    if not states:
        raise CheckFailed(f"no component in {health}")
    unhealthy = {name: state for name, state in states.items() if state != "healthy"}
    if unhealthy:
        raise CheckFailed("; ".join(f"{name} is {state}" for name, state in sorted(unhealthy.items())))
    return f"healthy: {', '.join(sorted(states))}"


def check_airflow_dags(url: str, user: str, password: str, http_timeout: float) -> str:
    airflow = Airflow(url, user, password, http_timeout)
    dags = airflow.call("GET", "/api/v2/dags", params={"limit": 100}).get("dags") or []
    errors = airflow.call("GET", "/api/v2/importErrors").get("total_entries", 0)
    ids = sorted(d["dag_id"] for d in dags)
    if errors:
        raise CheckFailed(f"{errors} DAG import error(s) (GET /api/v2/importErrors); DAGs: {', '.join(ids)}")
    if AIRFLOW_DAG not in ids:
        raise CheckFailed(f"{AIRFLOW_DAG} is not among the DAGs {ids}")
    paused = sorted(d["dag_id"] for d in dags if d.get("is_paused"))
    return f"DAGs: {', '.join(ids)}" + (f" (paused: {', '.join(paused)})" if paused else "")


def check_demo_run(url: str, user: str, password: str, dag: str, timeout: float, http_timeout: float,
                   poll: float = 10.0) -> str:
    """Unpause and trigger `dag`, then wait (at most `timeout` seconds) for the run to finish."""
    airflow = Airflow(url, user, password, http_timeout)
    airflow.call("GET", f"/api/v2/dags/{dag}")
    airflow.call("PATCH", f"/api/v2/dags/{dag}", json={"is_paused": False})
    run = airflow.call("POST", f"/api/v2/dags/{dag}/dagRuns", json={"logical_date": None})
    run_id, started = run["dag_run_id"], time.monotonic()
    state = run.get("state")
    while time.monotonic() - started < timeout:
        state = airflow.call("GET", f"/api/v2/dags/{dag}/dagRuns/{run_id}").get("state")
        if state in ("success", "failed"):
            break
        time.sleep(poll)
    seconds = time.monotonic() - started
    if state == "success":
        return f"{dag} run {run_id} succeeded in {seconds:.0f} s"
    tasks = airflow.call("GET", f"/api/v2/dags/{dag}/dagRuns/{run_id}/taskInstances").get("task_instances") or []
    failed = sorted(t["task_id"] for t in tasks if t.get("state") in ("failed", "upstream_failed"))
    if state == "failed":
        raise CheckFailed(f"{dag} run {run_id} failed; tasks: {', '.join(failed) or '?'}")
    raise CheckFailed(f"{dag} run {run_id} still {state} after {timeout:.0f} s")


# --- Trino ---------------------------------------------------------------------------------------

def check_trino_catalog(login: out.TrinoLogin, catalog: str, expected: tuple[str, ...], http_timeout: float) -> str:
    """`SHOW SCHEMAS FROM <catalog>` as the stack's admin (HTTPS + password) or an anonymous user (HTTP)."""
    dbapi = require("trino.dbapi", "trino")
    auth_module = require("trino.auth", "trino")
    ca_file = None
    try:
        session = _requests().Session()
        if login.ca_pem:
            with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as handle:
                handle.write(login.ca_pem)
            ca_file = session.verify = handle.name
            # requests lets REQUESTS_CA_BUNDLE (or CURL_CA_BUNDLE) win over a session's own CA file
            # unless the session ignores the environment.
            session.trust_env = False
        connection = dbapi.connect(
            host=login.host, port=login.port, user=login.user, http_scheme=login.scheme,
            auth=auth_module.BasicAuthentication(login.user, login.password) if login.password else None,
            http_session=session, request_timeout=http_timeout, source="lakehouse-verify")
        try:
            cursor = connection.cursor()
            cursor.execute(f"SHOW SCHEMAS FROM {catalog}")
            schemas = sorted(row[0] for row in cursor.fetchall())
        finally:
            connection.close()
    finally:
        if ca_file:
            os.unlink(ca_file)
    missing = [s for s in expected if s not in schemas]
    if missing:
        raise CheckFailed(f"schemas of {catalog}: {schemas}; missing {', '.join(missing)}")
    return f"{catalog}: {', '.join(schemas)} (as {login.user} over {login.scheme})"


# --- Hive Metastore (Thrift) ---------------------------------------------------------------------

# TBinaryProtocol, strict: version 1 | message type, the method name, a sequence id, then the
# arguments struct. `get_all_databases()` has no arguments; its result struct carries field 0
# (success, list<string>) or field 1 (MetaException).
_VERSION_1 = 0x80010000
_CALL, _REPLY, _EXCEPTION = 1, 2, 3
_T_STOP, _T_STRING, _T_STRUCT, _T_LIST = 0, 11, 12, 15


def thrift_call(name: str, seqid: int = 1) -> bytes:
    encoded = name.encode()
    return struct.pack("!II", _VERSION_1 | _CALL, len(encoded)) + encoded + struct.pack("!i", seqid) + bytes([_T_STOP])


class _Reader:
    def __init__(self, sock: socket.socket):
        self.sock, self.buffer = sock, b""

    def take(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise CheckFailed("the metastore closed the connection mid-reply")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def i32(self) -> int:
        return struct.unpack("!i", self.take(4))[0]

    def string(self) -> str:
        return self.take(self.i32()).decode("utf-8", "replace")

    def skip(self, kind: int) -> None:
        sizes = {2: 1, 3: 1, 4: 8, 6: 2, 8: 4, 10: 8}
        if kind in sizes:
            self.take(sizes[kind])
        elif kind == _T_STRING:
            self.take(self.i32())
        elif kind == _T_STRUCT:
            while (field_type := self.take(1)[0]) != _T_STOP:
                self.take(2)
                self.skip(field_type)
        elif kind in (_T_LIST, 14):  # list, set
            element, count = self.take(1)[0], self.i32()
            for _ in range(count):
                self.skip(element)
        elif kind == 13:  # map
            key, value, count = self.take(1)[0], self.take(1)[0], self.i32()
            for _ in range(count):
                self.skip(key)
                self.skip(value)
        else:
            raise CheckFailed(f"unexpected Thrift type {kind} in the metastore's reply")


def read_string_list_reply(reader: _Reader, name: str) -> list[str]:
    header = reader.i32()
    if header & 0xFFFF0000 != _VERSION_1:
        raise CheckFailed(f"not a Thrift binary-protocol reply (header {header & 0xFFFFFFFF:#x})")
    kind, method = header & 0xFF, reader.string()
    reader.i32()  # sequence id
    if kind == _EXCEPTION:
        message = ""
        while (field_type := reader.take(1)[0]) != _T_STOP:
            field_id = struct.unpack("!h", reader.take(2))[0]
            if field_id == 1 and field_type == _T_STRING:
                message = reader.string()
            else:
                reader.skip(field_type)
        raise CheckFailed(f"the metastore refused {name}: {message}")
    if kind != _REPLY or method != name:
        raise CheckFailed(f"unexpected reply {method!r} (type {kind}) to {name}")
    result: Optional[list[str]] = None
    error = None
    while (field_type := reader.take(1)[0]) != _T_STOP:
        field_id = struct.unpack("!h", reader.take(2))[0]
        if field_id == 0 and field_type == _T_LIST:
            element, count = reader.take(1)[0], reader.i32()
            if element != _T_STRING:
                raise CheckFailed(f"{name} returned a list of type {element}")
            result = [reader.string() for _ in range(count)]
        else:
            error = f"field {field_id}"
            reader.skip(field_type)
    if result is None:
        raise CheckFailed(f"{name} returned an exception ({error or 'no result'})")
    return result


def check_metastore(uri: str, http_timeout: float) -> str:
    """A TCP connection to `metastoreUri`, then the Thrift call `get_all_databases`: `default` is there."""
    host, port = out.host_port(uri, "metastoreUri", 9083)
    with socket.create_connection((host, port), timeout=http_timeout) as sock:
        sock.sendall(thrift_call("get_all_databases"))
        databases = read_string_list_reply(_Reader(sock), "get_all_databases")
    if HIVE_DATABASE not in databases:
        raise CheckFailed(f"databases {databases}: {HIVE_DATABASE} missing")
    return f"thrift get_all_databases: {', '.join(sorted(databases))}"


# --- Spark Connect -------------------------------------------------------------------------------

def check_spark_connect(url: str) -> str:
    require("pyspark", "pyspark-client")
    from pyspark.sql import SparkSession
    # A new session for this URL: getOrCreate would hand back any session the process already has.
    spark = SparkSession.builder.remote(url).create()
    try:
        total = spark.range(10).selectExpr("sum(id) AS total").first()["total"]
        version = spark.version
    finally:
        spark.stop()
    if total != 45:
        raise CheckFailed(f"sum(range(10)) returned {total}, not 45")
    return f"sum(range(10)) = 45 on Spark {version}"


# --- the plan ------------------------------------------------------------------------------------

def _failing(name: str, error: Exception) -> Check:
    def fail() -> str:
        raise error
    return Check(name, fail)


def plan(outputs: Mapping[str, Any], options: Options = Options()) -> list[Check]:
    """Every check the outputs call for, in the order they are reported."""
    t = options.http_timeout
    checks: list[Check] = []

    def each(prefix: str, items: Callable[[], list], make: Callable[[Any], Check]) -> None:
        try:
            found = items()
        except MissingOutput as error:
            checks.append(_failing(prefix, error))
            return
        if not found:
            checks.append(_failing(prefix, MissingOutput(f"the `services` output has no {prefix} entry")))
        checks.extend(make(item) for item in found)

    def buckets() -> list[str]:
        return out.need(outputs, "buckets", list)

    each("minio", lambda: out.s3_users(outputs),
         lambda user: Check(f"minio/{user.service}", lambda: check_minio_user(user, buckets(), t)))
    each("postgres", lambda: out.postgres_logins(outputs),
         lambda login: Check(f"postgres/{login.service}", lambda: check_postgres_login(login, t)))
    checks.append(Check("iceberg-rest", lambda: check_iceberg_namespaces(
        out.need(outputs, "icebergRestUri"), out.need(outputs, "icebergRestWarehouse"),
        out.catalog_credential(outputs), t)))
    checks.append(Check("hive-metastore", lambda: check_metastore(out.need(outputs, "metastoreUri"), t)))
    for catalog, expected in (("iceberg", ICEBERG_NAMESPACES), ("hive", (HIVE_DATABASE,))):
        checks.append(Check(f"trino/{catalog}", lambda c=catalog, e=expected: check_trino_catalog(
            out.trino_login(outputs), c, e, max(t, 30.0))))
    checks.append(Check("spark-connect", lambda: check_spark_connect(
        out.spark_connect_url(outputs, options.spark_connect)), SPARK_TIMEOUT))
    checks.append(Check("jupyter", lambda: check_jupyter_token(
        out.need(outputs, "jupyterUrl"), out.need(outputs, "jupyterToken"), t)))

    def mlflow_auth() -> Optional[tuple[str, str]]:
        user, password = outputs.get("mlflowAdminUser"), outputs.get("mlflowAdminPassword")
        return (user, password) if user and password else None
    checks.append(Check("mlflow", lambda: check_mlflow_experiments(out.need(outputs, "mlflowUrl"), mlflow_auth(), t)))
    checks.append(Check("superset", lambda: check_superset_database(
        out.need(outputs, "supersetUrl"), out.need(outputs, "supersetAdminUser"),
        out.need(outputs, "supersetAdminPassword"), t)))
    if "supersetAnalystUser" in outputs:  # the stack deploys the demo
        checks.append(Check("superset/analyst", lambda: check_superset_analyst(
            out.need(outputs, "supersetUrl"), out.need(outputs, "supersetAnalystUser"),
            out.need(outputs, "supersetAnalystPassword"), t)))

    def airflow(fn: Callable[..., str], *extra: Any) -> Callable[[], str]:
        return lambda: fn(out.need(outputs, "airflowUrl"), out.need(outputs, "airflowAdminUser"),
                          out.need(outputs, "airflowAdminPassword"), *extra)
    checks.append(Check("airflow/health", airflow(check_airflow_health, t)))
    checks.append(Check("airflow/dags", airflow(check_airflow_dags, t)))
    if options.demo:
        checks.append(Check("airflow/demo", airflow(check_demo_run, options.demo_dag, options.demo_timeout, t),
                            options.demo_timeout + 60))
    if options.timeout is not None:
        checks = [Check(c.name, c.run, c.timeout if c.name == "airflow/demo" else options.timeout) for c in checks]
    return checks


def select(checks: list[Check], only: list[str], skip: list[str]) -> list[Check]:
    """Checks named by `only` (all if empty) and not by `skip`; `minio` names every `minio/...` check."""
    def matches(check: Check, selector: str) -> bool:
        return check.name == selector or check.name.startswith(selector + "/")
    unknown = [s for s in [*only, *skip] if not any(matches(c, s) for c in checks)]
    if unknown:
        raise ValueError(f"no check is named {', '.join(unknown)} (known: {', '.join(c.name for c in checks)})")
    return [c for c in checks if (not only or any(matches(c, s) for s in only))
            and not any(matches(c, s) for s in skip)]
