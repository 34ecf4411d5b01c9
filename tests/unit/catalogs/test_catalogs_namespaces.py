"""The warehouse's namespaces: the job the stack runs, and its script run for real against a stub catalog."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from components.catalogs.iceberg_rest import namespaces_script
from harness import StackRun


class StubCatalog(BaseHTTPRequestHandler):
    """`POST /v1/namespaces` as the REST catalog answers it: 200 once, then 409; `fail` answers 500."""

    created: set[str] = set()
    requests: list[dict] = []
    fail: set[str] = set()

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "type": self.headers["Content-Type"], "body": body})
        [namespace] = body["namespace"]
        code = 500 if namespace in self.fail else 409 if namespace in self.created else 200
        self.created.add(namespace)
        self.send_response(code)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def catalog():
    assert shutil.which("curl"), "curl is needed to run the script: apt-get install curl"
    StubCatalog.created, StubCatalog.requests, StubCatalog.fail = set(), [], set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), StubCatalog)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def run(script: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=60)


def test_the_script_creates_each_namespace_and_a_second_run_converges(catalog):
    script = namespaces_script(catalog, ("bronze", "gold"))
    first, second = run(script), run(script)
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert first.stdout.split("\n")[:2] == ["namespace bronze: 200", "namespace gold: 200"]
    assert second.stdout.split("\n")[:2] == ["namespace bronze: 409", "namespace gold: 409"]
    assert StubCatalog.requests[0] == {"path": "/v1/namespaces", "type": "application/json",
                                       "body": {"namespace": ["bronze"]}}


def test_the_script_fails_on_any_other_answer(catalog):
    StubCatalog.fail = {"gold"}
    done = run(namespaces_script(catalog, ("bronze", "gold")))
    assert done.returncode == 1 and "namespace gold: HTTP 500" in done.stderr


def test_the_stack_creates_bronze_and_gold_once_the_catalog_is_healthy(stack_run: StackRun):
    job = stack_run.named("catalogs-iceberg-rest-namespaces")
    server = stack_run.named("catalogs-iceberg-rest-container")
    assert job.inputs["attach"] is True and server.urn in job.dependencies
    assert job.inputs["image"] == server.inputs["image"] and job.provider == server.provider
    shell, flag, script = job.inputs["command"]
    assert (shell, flag) == ("sh", "-c")
    assert script == namespaces_script("http://lakehouse-iceberg-rest:8181", ("bronze", "gold"))
