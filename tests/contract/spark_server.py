"""A local Spark Connect server of pyspark 4.1.2 (.ci/venv-spark), for the demo's tests and benchmark."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest

from local_container import CI, LOOPBACK, LocalProcess, free_port, wait_for

DEMO_INSTALL = "bash .ci/contract-deps"
SPARK_VENV = CI / "venv-spark"


def require_demo(path: Path, what: str) -> Path:
    if not path.exists():
        pytest.fail(f"{what} is missing ({path}); install the demo tests' dependencies as root: `{DEMO_INSTALL}`",
                    pytrace=False)
    return path


def spark_python() -> Path:
    return require_demo(SPARK_VENV / "bin" / "python", "pyspark 4.1.2 (.ci/venv-spark)")


def classic_env() -> dict[str, str]:
    """This environment without what turns a new SparkSession into a Spark Connect client: pyspark's Connect client
    sets SPARK_CONNECT_MODE_ENABLED in the process that used it, and child processes inherit it."""
    return {k: v for k, v in os.environ.items() if k not in ("SPARK_CONNECT_MODE_ENABLED", "SPARK_REMOTE", "SPARK_API_MODE")}


def spark_home() -> Path:
    lib = sorted((SPARK_VENV / "lib").glob("python3*/site-packages/pyspark"))
    return require_demo(lib[-1] if lib else SPARK_VENV / "lib" / "pyspark", "pyspark 4.1.2 (.ci/venv-spark)")


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


def start_spark_connect(base: Path, port: Optional[int] = None, token: Optional[str] = None) -> SparkConnect:
    """A Spark Connect server of pyspark 4.1.2 in local mode (the stack runs it against the Spark master),
    on a free port with a fresh token unless given."""
    home = spark_home()
    base.mkdir()
    port, token = port or free_port(), token or secrets.token_hex(16)
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
    return server


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((LOOPBACK, port)) == 0
