"""Spark as the program renders it, run for real: master, worker and Spark Connect server on loopback.

The commands, environments and `spark-defaults.conf` come from the `local` stack's recorded containers
(`harness.run_stack("local")`), with only what a container provides remapped: `/usr/local/spark` -> the
`pyspark==4.1.2` package (the same distribution's bin/, sbin/spark-daemon.sh and jars/; it lacks
`start-connect-server.sh`, so that line becomes what the script runs), the conf directory and /tmp paths
-> a temporary directory, the ports -> free ones, every listener -> 127.0.0.1. The Iceberg jars cannot be
fetched here, so the catalog, extension and extraClassPath keys are stripped from the drivers' file; every
other key (the secret, the executor and driver sizes, `spark.cores.max`) is the rendered one.

Proves: the worker registers with the master with the rendered cores and memory; a worker without the
secret is refused; a client without the token is refused; a DataFrame job through Spark Connect runs on
executors of the local stack's size and returns the right sum; `pyspark-client==4.1.2` in its own
virtualenv (as Airflow installs it) does the same. Dependencies: `.ci/spark-deps`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from harness import ROOT, run_stack
from readers import parse_properties

pytestmark = pytest.mark.contract

SPARK_VENV = ROOT / ".ci" / "venv-spark"
CLIENT_VENV = ROOT / ".ci" / "venv-spark-client"
INSTALL = "run `bash .ci/contract-deps` (Java 17 and the virtualenvs .ci/venv-spark, .ci/venv-spark-client)"
IMAGE_SPARK_HOME = "/usr/local/spark"
DEFAULTS = f"{IMAGE_SPARK_HOME}/conf/spark-defaults.conf"
CONNECT_SERVER = "org.apache.spark.sql.connect.service.SparkConnectServer"
# Keys that need the Iceberg jars (not fetched here).
STRIPPED = re.compile(r"^spark\.sql\.(extensions|defaultCatalog|catalog\..*)$|^spark\.(driver|executor)\.extraClassPath$")


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _spark_home() -> Path:
    python = _python(SPARK_VENV)
    assert python.exists(), f"{python} is missing: {INSTALL}"
    found = subprocess.run([str(python), "-c", "import pyspark, os; print(pyspark.__version__, os.path.dirname(pyspark.__file__))"],
                           capture_output=True, text=True, timeout=60)
    assert found.returncode == 0, f"pyspark is not importable in {SPARK_VENV}: {INSTALL}\n{found.stderr[-500:]}"
    version, home = found.stdout.split()
    assert version == "4.1.2", f"{SPARK_VENV} has pyspark {version}, not the image's 4.1.2: {INSTALL}"
    return Path(home)


def _java() -> None:
    java = shutil.which("java") or (os.environ.get("JAVA_HOME") and str(Path(os.environ["JAVA_HOME"]) / "bin" / "java"))
    assert java and Path(java).exists(), f"no java on PATH or in JAVA_HOME: {INSTALL}"
    out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30).stderr
    major = int(re.search(r'version "(\d+)', out).group(1))
    assert major >= 17, f"Java {major}: Spark 4.1 needs 17 or 21: {INSTALL}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """Rendered processes started locally; every one is stopped (its process group) at the end."""

    def __init__(self, root: Path, spark_home: Path):
        self.root, self.spark_home = root, spark_home
        self.local = run_stack("local")
        assert self.local.error is None, self.local.error
        ports = set()
        for name in ("compute-spark-container", "compute-spark-worker-1-container", "compute-spark-connect-container"):
            ports |= {int(p) for p in re.findall(r"(?<![\w.])(\d{4,5})(?![\w.])", " ".join(self.command(name)))}
            ports |= {int(v) for k, v in self.defaults(name).items() if k.endswith("port")}
        self.ports = {port: _free_port() for port in sorted(ports)}
        self.processes: list[tuple[str, subprocess.Popen, Path]] = []

    def command(self, name: str) -> list[str]:
        return list(self.local.named(name).inputs["command"])

    def defaults(self, name: str) -> dict[str, str]:
        return parse_properties(self.local.uploads(name)[DEFAULTS])

    def remap(self, text: str) -> str:
        for old, new in self.ports.items():
            text = re.sub(rf"(?<![\w.]){old}(?![\w.])", str(new), text)
        text = text.replace(IMAGE_SPARK_HOME, str(self.spark_home))
        return re.sub(r"/tmp/(spark-[a-z]+)", lambda m: str(self.root / m.group(1)), text)

    def start(self, name: str, container: str, command: list[str], strip: bool = False,
              conf: dict | None = None) -> subprocess.Popen:
        """`command` with `container`'s rendered environment and (or `conf` instead) spark-defaults.conf."""
        conf_dir = self.root / f"{name}-conf"
        conf_dir.mkdir()
        defaults = conf if conf is not None else self.defaults(container)
        lines = {k: self.remap(v) for k, v in defaults.items() if not (strip and STRIPPED.match(k))}
        if "spark.driver.bindAddress" in lines:
            lines["spark.driver.bindAddress"] = "127.0.0.1"  # loopback only here (the image binds all addresses)
        (conf_dir / "spark-defaults.conf").write_text("".join(f"{k} {v}\n" for k, v in lines.items()))
        env = {**os.environ, **{k: self.remap(v) for k, v in self.local.envs(container).items()},
               "SPARK_HOME": str(self.spark_home), "SPARK_CONF_DIR": str(conf_dir), "SPARK_LOCAL_IP": "127.0.0.1",
               "SPARK_LOG_DIR": str(self.root / f"{name}-logs"), "SPARK_PID_DIR": str(self.root / f"{name}-pids")}
        if name == "connect":
            env["SPARK_LOG_DIR"] = self.remap(self.local.envs(container)["SPARK_LOG_DIR"])
        log = self.root / f"{name}.log"
        process = subprocess.Popen([self.remap(part) for part in command], env=env, stdout=log.open("w"),
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append((name, process, log))
        return process

    def master_json(self) -> dict:
        ui = self.ports[int(self.command("compute-spark-container")[-1])]
        with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=5) as response:
            return json.load(response)

    def wait(self, what: str, check, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process, log in self.processes:
                assert process.poll() is None, f"{name} exited {process.returncode}:\n{log.read_text()[-3000:]}"
            try:
                if check():
                    return
            except OSError:
                pass
            time.sleep(1)
        raise AssertionError(f"{what} within {timeout}s; logs:\n" + "\n".join(
            f"--- {n}\n{log.read_text()[-2000:]}" for n, _, log in self.processes))

    def log(self, name: str) -> str:
        return next(log for n, _, log in self.processes if n == name).read_text()

    def stop(self, name: str | None = None) -> None:
        for n, process, _ in reversed(self.processes):
            if name in (None, n) and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    spark_home = _spark_home()
    _java()
    assert _python(CLIENT_VENV).exists(), f"{CLIENT_VENV} is missing: {INSTALL}"
    running = Cluster(tmp_path_factory.mktemp("spark"), spark_home)
    try:
        running.start("master", "compute-spark-container", running.command("compute-spark-container"))
        running.wait("the master answers", lambda: running.master_json()["status"] == "ALIVE", 90)
        running.start("worker-1", "compute-spark-worker-1-container", running.command("compute-spark-worker-1-container"))
        running.wait("the worker registers", lambda: running.master_json()["aliveworkers"] == 1, 90)
        connect = running.command("compute-spark-connect-container")
        assert connect[0] == f"{IMAGE_SPARK_HOME}/sbin/start-connect-server.sh"
        # What start-connect-server.sh runs (the pip package lacks the script, not the classes).
        running.start("connect", "compute-spark-connect-container", [f"{IMAGE_SPARK_HOME}/sbin/spark-daemon.sh", "submit", CONNECT_SERVER, "1",
                                  "--name", "Spark Connect server", *connect[1:]], strip=True)
        port = running.ports[int(connect[-1].rsplit("=", 1)[1])]
        running.wait("the Connect server listens", lambda: socket.create_connection(("127.0.0.1", port), 2).close() or True,
                     180)
        running.connect_port = port
        running.token = running.local.envs("compute-spark-connect-container")["SPARK_CONNECT_AUTHENTICATE_TOKEN"]
        yield running
    finally:
        running.stop()


def test_the_worker_registers_with_the_rendered_cores_and_memory(cluster):
    command = cluster.command("compute-spark-worker-1-container")
    [worker] = cluster.master_json()["workers"]
    assert worker["state"] == "ALIVE"
    assert (worker["cores"], f"{worker['memory']}m") == (int(command[command.index("--cores") + 1]),
                                                         command[command.index("--memory") + 1])
    assert "SecurityManager: authentication enabled" in cluster.log("master")


def test_a_worker_without_the_secret_is_refused(cluster):
    command = cluster.command("compute-spark-worker-1-container")
    rogue = [cluster.remap(c) for c in command]
    rogue[rogue.index("--port") + 1], rogue[rogue.index("--webui-port") + 1] = str(_free_port()), str(_free_port())
    cluster.start("rogue", "compute-spark-worker-1-container", rogue, conf={})
    try:
        cluster.wait("the master refuses the worker without the secret",
                     lambda: "SaslMessage" in cluster.log("master") or "SASL" in cluster.log("rogue"), 60)
        assert cluster.master_json()["aliveworkers"] == 1
    finally:
        cluster.stop("rogue")


CLIENT = textwrap.dedent("""
    import json, sys, time
    import pyspark
    from pyspark.sql import SparkSession
    url = sys.argv[1]
    spark = SparkSession.builder.remote(url).getOrCreate()
    started = time.monotonic()
    total = spark.range(10).selectExpr("sum(id) AS total").first()["total"]
    big = spark.range(1_000_000).selectExpr("sum(id) AS total").first()["total"]
    print(json.dumps({"client": pyspark.__version__, "server": spark.version, "total": total, "big": big,
                      "seconds": round(time.monotonic() - started, 1)}))
    spark.stop()
""")


def _client(venv: Path, url: str, timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run([str(_python(venv)), "-c", CLIENT, url], capture_output=True, text=True, timeout=timeout,
                          env={k: v for k, v in os.environ.items() if k != "SPARK_CONNECT_AUTHENTICATE_TOKEN"})


def _app(cluster) -> dict:
    [app] = [a for a in cluster.master_json()["activeapps"] if a["name"] == "Spark Connect server"]
    return app


def test_a_job_through_spark_connect_runs_on_executors_of_the_local_stacks_size(cluster):
    """With `pyspark-client==4.1.2` alone, in its own virtualenv, as the Airflow components install it."""
    result = _client(CLIENT_VENV, f"sc://localhost:{cluster.connect_port}/;token={cluster.token}")
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert (answer["total"], answer["big"], answer["client"], answer["server"]) == (45, 499999500000, "4.1.2", "4.1.2")
    defaults = cluster.defaults("compute-spark-connect-container")
    app = _app(cluster)
    assert f"{app['memoryperexecutor']}m" == defaults["spark.executor.memory"] == "512m"
    assert app["cores"] == int(defaults["spark.cores.max"]) == 1, "granted the capped executor, no more"
    [worker] = cluster.master_json()["workers"]
    assert worker["memoryused"] == 512 and worker["coresused"] == 1, "one executor of the rendered size"


def test_the_client_virtualenv_is_the_connect_only_client(cluster):
    check = subprocess.run([str(_python(CLIENT_VENV)), "-c", "import importlib.util as u; print(u.find_spec('py4j'))"],
                           capture_output=True, text=True, timeout=60)
    assert check.stdout.strip() == "None", "the client venv has no JVM bridge: it is the Connect-only client"


@pytest.mark.parametrize("suffix, message", [("", "No authentication token provided"),
                                             ("/;token=wrong", "Invalid authentication token")])
def test_a_client_without_the_token_is_refused(cluster, suffix, message):
    result = _client(CLIENT_VENV, f"sc://localhost:{cluster.connect_port}{suffix}", timeout=120)
    assert result.returncode != 0 and message in result.stderr, result.stderr[-2000:]
