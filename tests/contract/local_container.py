"""Run a recorded `docker.Container` as a local process.

The program records each container's image, command, environment, uploads, ports and memory limit
(`tests/harness.py`). `LocalContainer.from_run` turns one of them into a process on this machine:

- the image becomes a local installation of the same version (`IMAGES`: which virtualenv, which
  environment and default command the image itself supplies, how its entrypoint treats a command);
- uploaded files are written under a temporary root, and every container path that names them
  (uploads, volumes, the image's home) is rewritten to that root in the command and environment;
- every address of the stack (docker hosts, container names, network aliases, `host.docker.internal`,
  `localhost`, `0.0.0.0`) becomes 127.0.0.1, and every port becomes the loopback port that serves it
  (`Loopback`): a stand-in such as the test PostgreSQL registers its port, the others get a free port
  on first sight, the same one in every container of the stack, so the components still agree;
- secrets are the values the mocks generated, already in the recorded inputs.

`LocalProcess` starts it in its own session, samples the proportional memory (PSS) of the whole
process tree while it runs and stops the tree at the end.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional
from urllib.parse import urlparse

import pytest

from harness import StackRun, unwrap

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / ".ci"
INSTALL = "bash .ci/contract-deps"
LOOPBACK = "127.0.0.1"
PORT_FLAGS = ("--port", "--webui-port", "-p")
CONTAINER = "docker:index/container:Container"


def require(path: Path, what: str) -> Path:
    """`path`, or a test failure that names the install step (the contract tier never skips)."""
    if not path.exists():
        pytest.fail(f"{what} is missing ({path}); install the contract tier's dependencies as root: "
                    f"`{INSTALL}`", pytrace=False)
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 0.5,
             process: Optional["LocalProcess"] = None) -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        if process is not None and process.popen.poll() is not None:
            pytest.fail(f"{what}: {process.name} exited with {process.popen.returncode}\n{process.tail()}")
        try:
            result = check()
            if result:
                return result
            last = result
        except Exception as error:  # noqa: BLE001 - retried until the deadline
            last = error
        time.sleep(every)
    tail = f"\n{process.tail()}" if process is not None else ""
    pytest.fail(f"{what}: not ready after {timeout:.0f} s (last: {last!r}){tail}")


def http_get(url: str, headers: Optional[dict[str, str]] = None, timeout: float = 10) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


# --- addresses ----------------------------------------------------------------------------------

def stack_hosts(run: StackRun) -> set[str]:
    """Every name or address under which the stack's containers reach each other or are reached."""
    hosts = {LOOPBACK, "localhost", "0.0.0.0", "host.docker.internal"}
    for resource in run.resources:
        inputs = resource.inputs
        if resource.type == CONTAINER:
            hosts.add(inputs["name"])
            for network in inputs.get("networksAdvanced") or []:
                hosts.update(network.get("aliases") or [])
            hosts.update(h["host"] for h in inputs.get("hosts") or [])
        elif resource.type == "pulumi:providers:docker":
            url = urlparse(inputs.get("host", ""))
            if url.scheme == "ssh" and url.hostname:
                hosts.add(url.hostname)
        elif resource.type == "pulumi:providers:postgresql":
            hosts.add(inputs["host"])
        elif resource.type == "pulumi:providers:minio":
            hosts.add(inputs["minioServer"].rsplit(":", 1)[0])
    return hosts


def address_pattern(hosts: Iterable[str], suffix: str = "") -> re.Pattern:
    """A host where an address stands: at the start, after `//`, `@`, `=`, a quote, a comma or a blank;
    never a bucket (`s3://mlflow/`, `arn:aws:s3:::mlflow`) or a path segment. A plain word (a network
    alias such as `mlflow`, which is also a program's name) counts only after `//` or `@` or before `:port`."""
    strong = [h for h in hosts if re.search(r"[.-]", h) or h == "localhost"]
    weak = [h for h in hosts if h not in strong]

    def names(group: list[str]) -> str:
        return "|".join(re.escape(h) for h in sorted(group, key=len, reverse=True)) or r"(?!x)x"

    start = r"(?:^|(?<=[\s@=\"',(])|(?<=//))(?<!s3://)(?<!s3a://)"
    end = r"(?![\w-]|\.\w|@|:(?!\d))"  # not a user name (`//user:password@`, `//user@`)
    return re.compile(rf"{start}(?:{names(strong)}){suffix}{end}"
                      rf"|(?:(?<=//)|(?<=@))(?<!s3://)(?<!s3a://)(?:{names(weak)}){suffix}{end}"
                      rf"|{start}(?:{names(weak)})(?=:\d){suffix}{end}")


class Loopback:
    """One stack's network folded onto 127.0.0.1: the stack's ports -> loopback ports.

    The stack's own ports are unique across it (the local stack runs every service on one host,
    several with host networking), so a port alone names a service.
    """

    def __init__(self, run: StackRun):
        self.hosts = stack_hosts(run)
        self.ports: dict[int, int] = {}
        self._address = address_pattern(self.hosts, r"(?::(\d+))?")

    def serve(self, port: int, local_port: int) -> None:
        """A stand-in listens on `local_port` for the stack's `port`."""
        assert self.ports.get(port, local_port) == local_port, f"port {port} is already mapped"
        self.ports[port] = local_port

    def port(self, port: int) -> int:
        if port not in self.ports:
            self.ports[port] = free_port()
        return self.ports[port]

    def url(self, port: int, path: str = "") -> str:
        return f"http://{LOOPBACK}:{self.port(port)}{path}"

    def text(self, text: str) -> str:
        """Addresses in free text (URLs, `host:port`, JDBC strings, shell commands)."""
        def replace(match: re.Match) -> str:
            port = next((g for g in match.groups() if g is not None), None)
            # `localhost` stays a name: a Spark Connect client sends its token without TLS only to it.
            host = "localhost" if match.group(0).startswith("localhost") else LOOPBACK
            return host if port is None else f"{host}:{self.port(int(port))}"
        text = self._address.sub(replace, text)
        # a port given as a flag (`--port 8082`, also inside `bash -c` strings)
        return re.sub(r"(--(?:webui-)?port[= ])(\d+)\b", lambda m: m.group(1) + str(self.port(int(m.group(2)))), text)

    def value(self, key: str, value: str) -> str:
        """An environment value: JSON documents field by field, a bare port number if the key says so."""
        if "PORT" in key.upper() and value.isdigit():
            return str(self.port(int(value)))
        if value.startswith("{"):
            try:
                document = json.loads(value)
            except ValueError:
                document = None
            if isinstance(document, dict):
                return json.dumps(self._json(document))
        return self.text(value)

    def _json(self, value: Any) -> Any:
        if isinstance(value, dict):
            out = {k: self._json(v) for k, v in value.items()}
            host = value.get("host")
            if isinstance(host, str) and isinstance(value.get("port"), int) and self._address.search(host):
                out["port"] = self.port(value["port"])
            return out
        if isinstance(value, list):
            return [self._json(v) for v in value]
        return self.text(value) if isinstance(value, str) else value


# --- images -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Image:
    """What a local installation needs to stand in for an image."""
    bin: Path                                        # the installation's bin directory
    version: Callable[[], str]                       # the installed version, compared with the tag
    env: dict[str, str] = field(default_factory=dict)   # environment the image sets (Dockerfile ENV)
    paths: tuple[str, ...] = ()                      # container directories the image owns
    workdir: str = "/"
    default_command: tuple[str, ...] = ()            # CMD, if the container gives none
    entrypoint: Callable[[list[str]], list[str]] = lambda command: command
    ignored_env: tuple[str, ...] = ()                # entrypoint-only settings not reproduced locally
    python_path: tuple[Path, ...] = ()
    # Files the image carries, and programs that stand in for the image's own (name -> script text).
    files: Callable[[], dict[str, str]] = dict
    programs: Callable[[], dict[str, str]] = dict


def _airflow_entrypoint(command: list[str]) -> list[str]:
    # The image's entrypoint runs `bash`/`python`/`airflow` commands as they are and anything else as
    # `airflow <command>`; its other features (_AIRFLOW_DB_MIGRATE, waiting for the DB) are not used here.
    if command and command[0] in ("bash", "sh", "python", "airflow"):
        return command
    return ["airflow", *command]


def _installed_pins() -> dict[str, str]:
    """The image's `/home/airflow/constraints.txt`, played by what the unit virtualenv has installed."""
    import importlib.metadata as metadata
    pins = sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions() if d.metadata["Name"])
    return {"/home/airflow/constraints.txt": "\n".join(pins) + "\n"}


# `pip install <requirements> --constraint <file>` in the image installs from PyPI at start. Locally
# the unit virtualenv already holds them: this stand-in only proves every requirement (and every
# constraint the rendered command keeps) is satisfied by what is installed, and fails otherwise.
_PIP_CHECK = """import sys
from importlib.metadata import PackageNotFoundError, version
from packaging.requirements import Requirement
args, wanted = sys.argv[1:], []
assert args[:1] == ["install"], args
rest = iter(args[1:])
for arg in rest:
    if arg in ("--constraint", "-c"):
        wanted += [line for line in open(next(rest)).read().split() if line]
    elif arg == "--root-user-action":
        next(rest)
    elif not arg.startswith("-"):
        wanted.append(arg)
for text in wanted:
    requirement = Requirement(text)
    try:
        found = version(requirement.name)
    except PackageNotFoundError:
        sys.exit(f"pip stand-in: {requirement.name} is not installed in the unit virtualenv")
    if requirement.specifier and found not in requirement.specifier:
        sys.exit(f"pip stand-in: {requirement} wanted, {found} installed")
print(f"pip stand-in: {len(wanted)} requirements already satisfied")
"""


def _pip_stand_in() -> dict[str, str]:
    return {"pip": f'#!/bin/sh\nexec {sys.executable} -c {shlex.quote(_PIP_CHECK)} "$@"\n'}


def _installed(python: Path, distribution: str) -> Callable[[], str]:
    def version() -> str:
        return subprocess.run([str(python), "-c", f"import importlib.metadata as m; print(m.version({distribution!r}))"],
                              capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    return version


VENV = Path(sys.executable).parent
IMAGES: dict[str, Image] = {
    # apache/airflow: AIRFLOW_HOME=/opt/airflow (also the workdir). `_PIP_ADDITIONAL_REQUIREMENTS` is
    # what the entrypoint would pip-install at start: the unit virtualenv already has those providers
    # (requirements-dev.txt), so nothing is installed. psycopg2 (the image's postgres extra) comes from
    # .ci/airflow-extras.
    "apache/airflow": Image(
        bin=VENV, version=_installed(Path(sys.executable), "apache-airflow"),
        env={"AIRFLOW_HOME": "/opt/airflow"}, paths=("/opt/airflow", "/home/airflow"), workdir="/opt/airflow",
        entrypoint=_airflow_entrypoint, ignored_env=("_PIP_ADDITIONAL_REQUIREMENTS",),
        python_path=(CI / "airflow-extras",), files=_installed_pins, programs=_pip_stand_in),
    # ghcr.io/mlflow/mlflow:*-full is `pip install mlflow[extras,...,db,...]` on python:3.11-slim.
    "ghcr.io/mlflow/mlflow": Image(
        bin=CI / "venv-mlflow" / "bin", version=_installed(CI / "venv-mlflow" / "bin" / "python", "mlflow")),
    # apache/superset: PYTHONPATH=/app/pythonpath, SUPERSET_HOME=/app/superset_home, FLASK_APP, and
    # CMD /usr/bin/run-server.sh (docker/entrypoints/run-server.sh), reproduced with its defaults.
    "apache/superset": Image(
        bin=CI / "venv-superset" / "bin",
        version=_installed(CI / "venv-superset" / "bin" / "python", "apache-superset"),
        env={"PYTHONPATH": "/app/pythonpath", "SUPERSET_HOME": "/app/superset_home",
             "FLASK_APP": "superset.app:create_app()", "SUPERSET_PORT": "8088"},
        paths=("/app/pythonpath", "/app/superset_home"), workdir="/app",
        default_command=("bash", "-c", 'exec gunicorn --bind "${SUPERSET_BIND_ADDRESS:-0.0.0.0}:${SUPERSET_PORT:-8088}" '
                         "--workers ${SERVER_WORKER_AMOUNT:-1} --worker-class ${SERVER_WORKER_CLASS:-gthread} "
                         "--threads ${SERVER_THREADS_AMOUNT:-20} --timeout ${GUNICORN_TIMEOUT:-60} "
                         "--keep-alive ${GUNICORN_KEEPALIVE:-2} --max-requests ${WORKER_MAX_REQUESTS:-0} "
                         "--max-requests-jitter ${WORKER_MAX_REQUESTS_JITTER:-0} "
                         "--limit-request-line ${SERVER_LIMIT_REQUEST_LINE:-0} "
                         '--limit-request-field_size ${SERVER_LIMIT_REQUEST_FIELD_SIZE:-0} "${FLASK_APP}"')),
    # python (python:3.13.7-alpine3.22, the Polaris setup job's image) has Python 3.13.7; the stand-in is
    # the local interpreter of the unit virtualenv, of another version: the jobs it runs use the
    # standard library only, so their version is not compared with the tag.
    "python": Image(bin=VENV, version=platform.python_version),
}
INSTALL_OF = {"apache/airflow": "the unit virtualenv (requirements-dev.txt)",
              "ghcr.io/mlflow/mlflow": ".ci/venv-mlflow", "apache/superset": ".ci/venv-superset",
              "python": "the unit virtualenv"}


def image_reference(run: StackRun, container: str) -> str:
    """`repository:tag` of the image a recorded container runs (it is given as the pulled image's id)."""
    image_id = run.named(container).inputs["image"]
    matches = {r.inputs["name"] for r in run.of_type("docker:index/remoteImage:RemoteImage")
               if r.outputs.get("imageId") == image_id}
    assert len(matches) == 1, f"{container}: image {image_id} matches {matches}"
    return matches.pop()


def split_reference(reference: str) -> tuple[str, str]:
    repository, _, tag = reference.rpartition(":")
    return repository, tag


# --- processes ----------------------------------------------------------------------------------

def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def process_tree(pid: int) -> list[int]:
    tree, out, todo = _children(), [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(tree.get(current, []))
    return out


def pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


MEASURED: list["LocalProcess"] = []   # every process started, for the session summary


class LocalProcess:
    """A started container: its process tree, its log, and its peak PSS."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], cwd: Path, log: Path,
                 limit_mb: Optional[float], stack: str):
        self.name, self.argv, self.log, self.limit_mb, self.stack = name, argv, log, limit_mb, stack
        self.peak_kib, self.peak_processes, self.samples = 0, 0, 0
        self.started, self.ended = time.monotonic(), None
        self._stop = threading.Event()
        self._log = log.open("ab")
        self.popen = subprocess.Popen(argv, env=env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True)
        self._sampler = threading.Thread(target=self._sample, name=f"pss-{name}", daemon=True)
        self._sampler.start()
        MEASURED.append(self)

    def _sample(self) -> None:
        while not self._stop.is_set() and self.popen.poll() is None:
            pids = process_tree(self.popen.pid)
            total = sum(pss_kib(pid) for pid in pids)
            if total > self.peak_kib:
                self.peak_kib, self.peak_processes = total, len(pids)
            self.samples += 1
            self._stop.wait(0.5)

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024

    def observed_for(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait(self, timeout: float) -> int:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            pytest.fail(f"{self.name} did not finish within {timeout:.0f} s\n{self.tail()}")

    def stop(self, grace: float = 20) -> None:
        """SIGTERM to the whole tree (and its session), SIGKILL what is left after `grace` seconds."""
        self._stop.set()
        self.ended = self.ended or time.monotonic()
        if self.popen.poll() is None:
            pids = process_tree(self.popen.pid)
            for sig in (signal.SIGTERM, signal.SIGKILL):
                for pid in pids:
                    try:
                        os.kill(pid, sig)
                    except ProcessLookupError:
                        pass
                try:
                    os.killpg(self.popen.pid, sig)
                except ProcessLookupError:
                    pass
                deadline = time.monotonic() + grace
                while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() and _alive(p) for p in pids):
                    time.sleep(0.2)
                if not any(Path(f"/proc/{p}").exists() and _alive(p) for p in pids):
                    break
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self._sampler.join(5)
        self._log.close()


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# --- containers ---------------------------------------------------------------------------------

@dataclass
class LocalContainer:
    name: str
    stack: str
    image: str
    argv: list[str]
    env: dict[str, str]
    root: Path
    cwd: Path
    limit_mb: Optional[float]
    healthcheck: Optional[list[str]]
    ignored_env: dict[str, str]
    files: dict[str, Path]
    rewrite_path: Callable[[str], str]

    @classmethod
    def from_run(cls, run: StackRun, name: str, loopback: Loopback, workdir: Path,
                 keep_flags: Iterable[str] = ()) -> "LocalContainer":
        """The recorded container `name` (its `name` input, e.g. `lakehouse-mlflow`) as a local process.

        `keep_flags`: command flags whose values are identities, not addresses to dial (for example
        the host names a server accepts): they are passed as recorded.
        """
        resource = next((r for r in run.of_type(CONTAINER) if r.inputs["name"] == name), None)
        assert resource is not None, f"no container named {name} in stack {run.stack}"
        inputs = resource.inputs
        reference = image_reference(run, resource.name)
        repository, tag = split_reference(reference)
        assert repository in IMAGES, f"{name}: no local stand-in for image {reference}"
        image = IMAGES[repository]
        require(image.bin, f"{INSTALL_OF[repository]} for {reference}")

        root = workdir / name
        root.mkdir(parents=True, exist_ok=True)
        uploads = {u["file"]: unwrap(u.get("content", "")) for u in unwrap(inputs.get("uploads") or [])}
        prefixes = set(image.paths) | {str(Path(f).parent) for f in uploads}
        prefixes |= {v["containerPath"] for v in inputs.get("volumes") or []}
        prefix_re = re.compile(r"(?<![\w/.])(" + "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
                               + r")(?=/|\b|$)") if prefixes else None

        def rewrite_path(text: str) -> str:
            return prefix_re.sub(lambda m: str(root) + m.group(1), text) if prefix_re else text

        for prefix in prefixes:
            Path(rewrite_path(prefix)).mkdir(parents=True, exist_ok=True)
        files: dict[str, Path] = {}
        for path, content in {**image.files(), **uploads}.items():
            local = Path(rewrite_path(path))
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_text(loopback.text(content))
            files[path] = local

        recorded = dict(e.split("=", 1) for e in unwrap(inputs.get("envs") or []))
        ignored = {k: v for k, v in recorded.items() if k in image.ignored_env}
        programs = root / "image-bin"
        programs.mkdir(exist_ok=True)
        for program, script in image.programs().items():
            (programs / program).write_text(script)
            (programs / program).chmod(0o755)
        env = {"PATH": f"{programs}:{image.bin}:/usr/local/bin:/usr/bin:/bin", "HOME": str(root / "home"),
               "LANG": "C.UTF-8", "TMPDIR": str(root / "tmp"), "PYTHONUNBUFFERED": "1"}
        (root / "home").mkdir(exist_ok=True)
        (root / "tmp").mkdir(exist_ok=True)
        for key, value in {**image.env, **recorded}.items():
            if key not in ignored:
                env[key] = rewrite_path(loopback.value(key, value))
        if image.python_path:
            env["PYTHONPATH"] = ":".join([*(str(p) for p in image.python_path),
                                          *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])

        command = list(inputs.get("entrypoints") or []) + list(inputs.get("command") or image.default_command)
        keep = set(keep_flags)
        argv: list[str] = []
        for index, arg in enumerate(command):
            previous = command[index - 1] if index else ""
            if index == 0 or previous in keep:  # the program, and identities
                argv.append(arg)
            elif previous in PORT_FLAGS and arg.isdigit():
                argv.append(str(loopback.port(int(arg))))
            else:
                argv.append(rewrite_path(loopback.text(arg)))
        argv = image.entrypoint(argv)

        healthcheck = None
        tests = (inputs.get("healthcheck") or {}).get("tests")
        if tests:
            kind, rest = tests[0], [rewrite_path(loopback.text(t)) for t in tests[1:]]
            healthcheck = ["bash", "-c", rest[0]] if kind == "CMD-SHELL" else rest

        return cls(name=name, stack=run.stack, image=reference, argv=argv, env=env, root=root,
                   cwd=Path(rewrite_path(image.workdir)) if image.workdir != "/" else root,
                   limit_mb=inputs.get("memory"), healthcheck=healthcheck, ignored_env=ignored, files=files,
                   rewrite_path=rewrite_path)

    def start(self, argv: Optional[list[str]] = None, env: Optional[dict[str, str]] = None,
              log: str = "process.log") -> LocalProcess:
        """The container's process; with `argv`, another command in the container (`docker exec`), its
        environment updated with `env`: measured the same way, against the same memory limit."""
        self.cwd.mkdir(parents=True, exist_ok=True)
        return LocalProcess(self.name, argv or self.argv, {**self.env, **(env or {})}, self.cwd, self.root / log,
                            self.limit_mb, self.stack)

    def run(self, timeout: float, argv: Optional[list[str]] = None, env: Optional[dict[str, str]] = None,
            log: str = "process.log") -> tuple[int, LocalProcess]:
        """A one-shot job (`attach=True`), or a command in the container: run to completion, measured like a
        service."""
        process = self.start(argv, env, log)
        code = process.wait(timeout)
        process.stop()
        return code, process

    def exec(self, argv: list[str], timeout: float = 120, env: Optional[dict[str, str]] = None
             ) -> subprocess.CompletedProcess:
        """`docker exec`: another command with the container's environment."""
        return subprocess.run(argv, env={**self.env, **(env or {})}, cwd=self.cwd, capture_output=True, text=True,
                              timeout=timeout)

    def healthy(self) -> bool:
        """The container's own healthcheck command passes."""
        assert self.healthcheck, f"{self.name} declares no healthcheck"
        return self.exec(self.healthcheck, timeout=60).returncode == 0


def shell(argv: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)


def process_shape(run: StackRun, name: str) -> dict[str, Any]:
    """What decides how a container's process behaves, with the stack's addresses blanked out."""
    resource = next(r for r in run.of_type(CONTAINER) if r.inputs["name"] == name)
    blank = address_pattern(stack_hosts(run))

    def strip(value: Any) -> Any:
        if isinstance(value, str):
            return blank.sub("HOST", value)
        if isinstance(value, list):
            return [strip(v) for v in value]
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()}
        return value

    inputs = resource.inputs
    return strip({
        "image": image_reference(run, resource.name),
        "command": list(inputs.get("entrypoints") or []) + list(inputs.get("command") or []),
        "env": dict(e.split("=", 1) for e in unwrap(inputs.get("envs") or [])),
        "uploads": {u["file"]: unwrap(u.get("content", "")) for u in unwrap(inputs.get("uploads") or [])},
    })


# The stack whose rendering the services run from (the deployment with the most remapping to do).
STACK = "homelab"
# Peak PSS may use at most this share of the container's memory limit.
HEADROOM = 0.9


def assert_fits(process: LocalProcess, stack_runs: dict[str, StackRun], stack: str, min_observed: float = 0) -> None:
    """Peak PSS of the tree within HEADROOM of the memory limit `stack` gives this container.

    The process ran from the `STACK` rendering; it stands for `stack` only if `stack` renders the
    same process (image, command, environment and files, up to addresses).
    """
    if stack != STACK:
        assert process_shape(stack_runs[stack], process.name) == process_shape(stack_runs[STACK], process.name), (
            f"{process.name} is rendered differently in {stack} and {STACK}: measure it from {stack}'s rendering")
    limit = next(r.inputs.get("memory") for r in stack_runs[stack].of_type("docker:index/container:Container")
                 if r.inputs["name"] == process.name)
    assert limit, f"{process.name} has no memory limit in {stack}"
    assert process.observed_for() >= min_observed or process.popen.poll() is not None, (
        f"{process.name} was observed for only {process.observed_for():.0f} s")
    assert process.samples > 0, f"{process.name}: no memory sample was taken"
    assert process.peak_mib <= HEADROOM * limit, (
        f"{process.name}: peak PSS {process.peak_mib:.0f} MiB over {process.peak_processes} processes exceeds "
        f"{HEADROOM:.0%} of its {limit:.0f} MiB limit in the {stack} stack")


def assert_all_fit(processes: Iterable[LocalProcess], stack_runs: dict[str, StackRun], stack: str) -> None:
    """`assert_fits` for each process (a job's runs, commands in a container, its server), every failure named."""
    failures = []
    for process in processes:
        try:
            assert_fits(process, stack_runs, stack)
        except AssertionError as error:
            failures.append(str(error).splitlines()[0])
    assert not failures, "\n".join(failures)
