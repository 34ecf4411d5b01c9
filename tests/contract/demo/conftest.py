"""The demo workload against real servers: PostgreSQL and S3 from the contract tier, a local Spark Connect server.

Needs `bash .ci/contract-deps` (PostgreSQL, SeaweedFS, psycopg2 in .ci/airflow-extras) and
`bash .ci/contract-deps` (Java, pyspark 4.1.2 in .ci/venv-spark).
"""

from __future__ import annotations

import itertools
import sys
from typing import Callable, Iterable

import pytest

from local_container import CI, LOOPBACK, require
from spark_server import SparkConnect, start_spark_connect
from standins import Database, Postgres, quote_ident

@pytest.fixture(scope="session")
def psycopg2():
    """psycopg2 as the Airflow image has it (the unit virtualenv lacks it)."""
    extras = require(CI / "airflow-extras" / "psycopg2", "psycopg2 (.ci/airflow-extras)").parent
    if str(extras) not in sys.path:
        sys.path.insert(0, str(extras))
    import psycopg2 as module
    return module


@pytest.fixture(scope="session")
def taxi_role(postgres: Postgres, contract_run) -> tuple[str, str]:
    """The source's own role as the stack gives it (the stand-in PostgreSQL created it from the recorded
    `postgresql` resources): a login that owns its database, no superuser."""
    login = contract_run.outputs["services"]["taxi-source"]["postgres"]
    return login["user"], login["password"]


_numbers = itertools.count(1)


@pytest.fixture
def taxi_db(postgres: Postgres, taxi_role) -> Callable[[], Database]:
    """`taxi_db()`: a new, empty database owned by the taxi_source role."""
    def make() -> Database:
        name = f"taxi_source_{next(_numbers)}"
        postgres.psql(f"CREATE DATABASE {quote_ident(name)} OWNER {quote_ident(taxi_role[0])} TEMPLATE template0")
        return Database(LOOPBACK, postgres.port, taxi_role[0], taxi_role[1], name)
    return make


@pytest.fixture(scope="session")
def spark_connect(workdir) -> Iterable[SparkConnect]:
    server = start_spark_connect(workdir / "spark-connect")
    yield server
    server.process.stop()


@pytest.fixture(scope="session")
def spark(spark_connect):
    session = spark_connect.session()
    yield session
    # Before the server stops: a client left open releases its session at exit and retries the stopped
    # server for minutes before the process can end.
    session.stop()
