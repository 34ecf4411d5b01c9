"""The jar fetch script: exact text, and run for real against a fake downloader (verify, skip, replace, fail)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess

import pytest

from components.platform.artifacts import JARS, Artifact, fetch_script


def test_fetch_script_exact_text():
    artifact = Artifact("x-1.jar", "https://repo/x-1.jar", "sha256", "ab" * 32)
    assert fetch_script([artifact]) == (
        "set -eu\n"
        "cd /opt/lakehouse/jars\n"
        'keep=" x-1.jar "\n'
        "for f in * .[!.]* ..?*; do\n"
        '  [ -e "$f" ] || [ -L "$f" ] || continue\n'
        '  case "$keep" in *" $f "*) ;; *) rm -rf -- "$f" ;; esac\n'
        "done\n"
        "fetch() {\n"
        '  if [ -f "$1" ] && echo "$4  $1" | "$3sum" -c - >/dev/null 2>&1; then return 0; fi\n'
        '  wget -q -O "$1.part" "$2"\n'
        '  echo "$4  $1.part" | "$3sum" -c -\n'
        '  mv "$1.part" "$1"\n'
        "}\n"
        f"fetch x-1.jar https://repo/x-1.jar sha256 {'ab' * 32}\n")


_FAKE_WGET = """#!/bin/sh
# Stands in for busybox wget: `wget -q -O <out> <url>` copies a file:// URL.
[ "$1" = -q ] && [ "$2" = -O ] || { echo "unexpected wget args: $*" >&2; exit 2; }
echo "$4" >> "$WGET_LOG"
cp "${4#file://}" "$3"
"""




class FetchBench:
    """A temp JARS dir, a source dir of 'remote' files, and a fake wget first on PATH."""

    def __init__(self, root):
        self.jars = root / "jars"
        self.remote = root / "remote"
        bin_dir = root / "bin"
        for d in (self.jars, self.remote, bin_dir):
            d.mkdir()
        wget = bin_dir / "wget"
        wget.write_text(_FAKE_WGET)
        wget.chmod(0o755)
        self.log = root / "wget.log"
        self.log.write_text("")
        self.env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
                    "WGET_LOG": str(self.log)}

    def artifact(self, file: str, content: bytes, algorithm: str, digest: str | None = None) -> Artifact:
        source = self.remote / file
        source.write_bytes(content)
        digest = digest or hashlib.new(algorithm, content).hexdigest()
        return Artifact(file, f"file://{source}", algorithm, digest)

    def run(self, artifacts) -> subprocess.CompletedProcess:
        script = fetch_script(artifacts)
        assert f"cd {JARS}\n" in script
        script = script.replace(f"cd {JARS}\n", f"cd {self.jars}\n")
        return subprocess.run(["sh", "-c", script], env=self.env, capture_output=True, text=True, timeout=30)

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines()


@pytest.fixture
def bench(tmp_path) -> FetchBench:
    missing = [tool for tool in ("sh", "sha256sum", "sha1sum") if not shutil.which(tool)]
    assert not missing, f"{missing} needed: apt-get install coreutils dash"
    return FetchBench(tmp_path)


def test_fetch_script_downloads_and_verifies_every_artifact(bench):
    a = bench.artifact("a-1.0.jar", b"jar a", "sha256")
    b = bench.artifact("b-2.0.jar", b"jar b", "sha1")
    result = bench.run([a, b])
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in bench.jars.iterdir()) == ["a-1.0.jar", "b-2.0.jar"]
    assert (bench.jars / "a-1.0.jar").read_bytes() == b"jar a"
    assert (bench.jars / "b-2.0.jar").read_bytes() == b"jar b"
    assert bench.calls() == [a.url, b.url]


def test_fetch_script_second_run_downloads_nothing(bench):
    artifacts = [bench.artifact("a-1.0.jar", b"jar a", "sha256"), bench.artifact("b-2.0.jar", b"jar b", "sha1")]
    assert bench.run(artifacts).returncode == 0
    bench.log.write_text("")
    result = bench.run(artifacts)
    assert result.returncode == 0, result.stderr
    assert bench.calls() == []


def test_fetch_script_replaces_a_tampered_file(bench):
    a = bench.artifact("a-1.0.jar", b"jar a", "sha256")
    (bench.jars / "a-1.0.jar").write_bytes(b"tampered")
    result = bench.run([a])
    assert result.returncode == 0, result.stderr
    assert bench.calls() == [a.url]
    assert (bench.jars / "a-1.0.jar").read_bytes() == b"jar a"


def test_fetch_script_fails_on_a_wrong_checksum_and_keeps_no_final_file(bench):
    bad = bench.artifact("a-1.0.jar", b"jar a", "sha256", digest=hashlib.sha256(b"other").hexdigest())
    later = bench.artifact("b-2.0.jar", b"jar b", "sha1")
    result = bench.run([bad, later])
    assert result.returncode != 0
    assert not (bench.jars / "a-1.0.jar").exists()
    assert {p.name for p in bench.jars.iterdir()} <= {"a-1.0.jar.part"}
    assert bench.calls() == [bad.url]  # stops at the first failure



def test_fetch_script_leaves_exactly_the_new_list_after_a_version_bump(bench):
    """List A, then list B: what only A named (an old version, a stale part file, anything hidden) is gone;
    what both name is verified in place, not downloaded again."""
    shared = bench.artifact("iceberg-aws-bundle-1.11.0.jar", b"bundle", "sha256")
    old = bench.artifact("hadoop-aws-3.3.4.jar", b"old s3a", "sha256")
    new = bench.artifact("hadoop-aws-3.4.2.jar", b"new s3a", "sha1")
    assert bench.run([shared, old]).returncode == 0
    for leftover in ("bundle-2.29.52.jar.part", ".hidden", "notes.txt"):
        (bench.jars / leftover).write_bytes(b"x")
    (bench.jars / "subdir").mkdir()
    bench.log.write_text("")
    result = bench.run([shared, new])
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in bench.jars.iterdir()) == ["hadoop-aws-3.4.2.jar", "iceberg-aws-bundle-1.11.0.jar"]
    assert bench.calls() == [new.url]
    assert bench.run([]).returncode == 0 and list(bench.jars.iterdir()) == []
