"""The demo workload against real servers: PostgreSQL and S3 from the contract tier, a local Spark Connect server.

Needs `bash .ci/contract-deps` (PostgreSQL, SeaweedFS, psycopg2 in .ci/airflow-extras) and
`bash .ci/demo-deps` (Java, pyspark 4.1.2 in .ci/venv-spark).
"""

from __future__ import annotations

import itertools
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import pytest

from local_container import CI, LOOPBACK, LocalProcess, free_port, require, wait_for
from standins import Postgres, quote_ident, quote_literal

DEMO_INSTALL = "bash .ci/demo-deps"
SPARK_VENV = CI / "venv-spark"


def require_demo(path: Path, what: str) -> Path:
    if not path.exists():
        pytest.fail(f"{what} is missing ({path}); install the demo tests' dependencies as root: `{DEMO_INSTALL}`",
                    pytrace=False)
    return path


def spark_python() -> Path:
    return require_demo(SPARK_VENV / "bin" / "python", "pyspark 4.1.2 (.ci/venv-spark)")


def spark_home() -> Path:
    lib = sorted((SPARK_VENV / "lib").glob("python3*/site-packages/pyspark"))
    return require_demo(lib[-1] if lib else SPARK_VENV / "lib" / "pyspark", "pyspark 4.1.2 (.ci/venv-spark)")


@pytest.fixture(scope="session")
def psycopg2():
    """psycopg2 as the Airflow image has it (the unit virtualenv lacks it)."""
    extras = require(CI / "airflow-extras" / "psycopg2", "psycopg2 (.ci/airflow-extras)").parent
    if str(extras) not in sys.path:
        sys.path.insert(0, str(extras))
    import psycopg2 as module
    return module


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


@pytest.fixture(scope="session")
def taxi_role(postgres: Postgres) -> tuple[str, str]:
    """The source's own role, as the stack would give it: a login that owns its database, no superuser."""
    password = secrets.token_hex(12)
    postgres.psql(f"CREATE ROLE taxi_source WITH LOGIN NOSUPERUSER NOCREATEDB PASSWORD {quote_literal(password)}")
    return "taxi_source", password


_numbers = itertools.count(1)


@pytest.fixture
def taxi_db(postgres: Postgres, taxi_role) -> Callable[[], Database]:
    """`taxi_db()`: a new, empty database owned by the taxi_source role."""
    def make() -> Database:
        name = f"taxi_source_{next(_numbers)}"
        postgres.psql(f"CREATE DATABASE {quote_ident(name)} OWNER {quote_ident(taxi_role[0])} TEMPLATE template0")
        return Database(LOOPBACK, postgres.port, taxi_role[0], taxi_role[1], name)
    return make


@dataclass
class SparkConnect:
    port: int
    token: str
    process: LocalProcess

    @property
    def url(self) -> str:
        return f"sc://localhost:{self.port}/;token={self.token}"

    def session(self):
        from pyspark.sql import SparkSession
        return SparkSession.builder.remote(self.url).getOrCreate()


@pytest.fixture(scope="session")
def spark_connect(workdir) -> Iterable[SparkConnect]:
    """A Spark Connect server of pyspark 4.1.2 in local mode (the stack runs it against the Spark master)."""
    home = spark_home()
    base = workdir / "spark-connect"
    base.mkdir()
    port, token = free_port(), secrets.token_hex(16)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(base), "SPARK_HOME": str(home),
           "JAVA_HOME": os.environ.get("JAVA_HOME", ""), "SPARK_LOCAL_IP": LOOPBACK,
           "SPARK_CONNECT_AUTHENTICATE_TOKEN": token, "PYSPARK_PYTHON": str(spark_python())}
    argv = [str(home / "bin" / "spark-submit"), "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
            "--master", "local[2]", "--driver-memory", "1g",
            "--conf", f"spark.connect.grpc.binding.address={LOOPBACK}",
            "--conf", f"spark.connect.grpc.binding.port={port}",
            "--conf", "spark.ui.enabled=false", "--conf", "spark.sql.shuffle.partitions=4",
            "--conf", "spark.sql.session.timeZone=UTC",
            "--conf", f"spark.sql.warehouse.dir={base / 'warehouse'}",
            "--conf", f"spark.driver.extraJavaOptions=-Djava.io.tmpdir={base}"]
    process = LocalProcess("spark-connect", argv, {k: v for k, v in env.items() if v}, base, base / "server.log",
                           None, "local")
    server = SparkConnect(port, token, process)
    try:
        # The port first: a client started before the server retries for minutes on its own.
        wait_for("Spark Connect port", lambda: _listening(port), 180, every=1, process=process)
        wait_for("Spark Connect", lambda: server.session().range(1).count() == 1, 120, every=2, process=process)
    except BaseException:
        process.stop()
        raise
    yield server
    process.stop()


def _listening(port: int) -> bool:
    import socket
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((LOOPBACK, port)) == 0


@pytest.fixture(scope="session")
def spark(spark_connect):
    return spark_connect.session()
