"""Jars the images lack (JDBC drivers, Iceberg and S3A libraries), fetched once per host.

One mechanism everywhere: a one-shot init container per docker host downloads every pinned
artifact the services on that host need into a named volume, verifies each against the
checksum pinned here and exits; the services mount the volume read-only at `JARS`. They mount
it by `verified_volume`, a name that resolves only once the fetch job exited 0, so no service
starts on a host whose jars failed to verify. Nothing is built and no image is modified, so images stay the
upstream ones and a version bump is one line in `ARTIFACTS` (the checksum changes with it).
A file already present with the right checksum is not downloaded again, and every other file in
the volume (an older version's jar, a download cut short) is deleted first, so the volume holds exactly
the pinned list; consumers name each jar by its path (`Artifact.path`), never the directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import pulumi
import pulumi_docker as docker

from components.platform.config import LakehouseConfig
from components.platform.containers import JobArgs, VolumeMount, after_success, run_job
from components.platform.hosts import DockerHost
from components.platform.services import SERVICES

JARS = "/opt/lakehouse/jars"
FETCH_IMAGE = "alpine:3.22.2"
_MAVEN = "https://repo1.maven.org/maven2"


@dataclass(frozen=True)
class Artifact:
    file: str
    url: str
    algorithm: str  # sha256 or sha1
    digest: str

    @property
    def path(self) -> str:
        return f"{JARS}/{self.file}"


def _maven(group: str, artifact: str, version: str, algorithm: str, digest: str) -> Artifact:
    file = f"{artifact}-{version}.jar"
    return Artifact(file, f"{_MAVEN}/{group.replace('.', '/')}/{artifact}/{version}/{file}", algorithm, digest)


# Every jar is pinned by its SHA-256. Where each value was read (no Maven Central access from the
# machine that wrote this): postgresql 42.7.13 and the Iceberg 1.11.0 jars from several independent
# public manifests and Dockerfiles (`ADD --checksum=sha256:...` builds that fetched them); hadoop-aws
# 3.4.2 and the SDK bundle 2.29.52 from one public manifest (evgenii-karpov/olist-mds
# `docker/spark/jars.sha256`), whose Iceberg values agree with the others. A wrong pin cannot let a
# different file in: the fetch job stops with a checksum mismatch (compare with Central's `.sha256`).
ARTIFACTS: dict[str, Artifact] = {
    "postgresql-jdbc": _maven("org.postgresql", "postgresql", "42.7.13", "sha256",
                              "6e0e4cc2d8cae902084f8a2b18728b073a6fd9d1f87c9d8bff8f298c18185b93"),
    # Spark 4.1 (Scala 2.13): the runtime Iceberg 1.11.0 builds against Spark 4.1.1.
    "iceberg-spark-runtime": _maven("org.apache.iceberg", "iceberg-spark-runtime-4.1_2.13", "1.11.0", "sha256",
                                    "d6ea6c5d099288daeb7d5a92061bd3d7d8f296492632b42378e5f2f0e3066242"),
    # S3FileIO with the AWS SDK v2 (2.44.x) inside, not relocated.
    "iceberg-aws-bundle": _maven("org.apache.iceberg", "iceberg-aws-bundle", "1.11.0", "sha256",
                                 "38f01da7e96850cdd05e6616d758b77b43314b712a8808e3f9a824d56976162f"),
    # S3A for `s3a://` paths: the same Hadoop as the image's hadoop-client-api/runtime 3.4.2.
    "hadoop-aws": _maven("org.apache.hadoop", "hadoop-aws", "3.4.2", "sha256",
                         "d2d24e6b715b5656b9d238bf13b6682a07e2004dd36aad74a73aeb854319f4d9"),
    # The AWS SDK v2 bundle Hadoop 3.4.2 is built against (hadoop-project's aws-java-sdk-v2.version).
    "aws-sdk-bundle": _maven("software.amazon.awssdk", "bundle", "2.29.52", "sha256",
                             "62638f33045690c6bc5e496b54b0b2e89a9ad38cbedacdf6e017fea6bc85f55c"),
}


def fetch_script(artifacts: Sequence[Artifact]) -> str:
    """POSIX sh (busybox) that makes `JARS` hold exactly-verified copies of `artifacts` and nothing else.

    Files not in the list go first (a version bump leaves no older jar behind, and the space is free
    before the new one is downloaded); hidden files too. File names are Maven's: no spaces."""
    keep = " ".join(a.file for a in artifacts)
    lines = [
        "set -eu",
        f"cd {JARS}",
        f'keep=" {keep} "',
        "for f in * .[!.]* ..?*; do",
        '  [ -e "$f" ] || [ -L "$f" ] || continue',
        '  case "$keep" in *" $f "*) ;; *) rm -rf -- "$f" ;; esac',
        "done",
        "fetch() {",
        '  if [ -f "$1" ] && echo "$4  $1" | "$3sum" -c - >/dev/null 2>&1; then return 0; fi',
        '  wget -q -O "$1.part" "$2"',
        '  echo "$4  $1.part" | "$3sum" -c -',
        '  mv "$1.part" "$1"',
        "}",
    ]
    lines += [f"fetch {a.file} {a.url} {a.algorithm} {a.digest}" for a in artifacts]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ArtifactStoreArgs:
    host: DockerHost
    artifacts: Sequence[Artifact]
    volume_name: str
    container_name: str


class ArtifactStore(pulumi.ComponentResource):
    """A volume of verified jars on one host, filled by a one-shot fetch container."""

    def __init__(self, name: str, args: ArtifactStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:artifacts:ArtifactStore", name, None, opts)
        on_host = pulumi.ResourceOptions(parent=self, provider=args.host.provider)
        self.volume = docker.Volume(f"{name}-volume", name=args.volume_name, opts=on_host)
        self.fetch = run_job(f"{name}-fetch", JobArgs(
            host=args.host, image=FETCH_IMAGE, container_name=args.container_name,
            command=["sh", "-c", fetch_script(args.artifacts)], memory_mb=128,
            volumes=(VolumeMount(self.volume.name, JARS),),
        ), self)
        self.verified_volume = after_success(self.fetch, self.volume.name)
        self.register_outputs({"volume": self.verified_volume, "files": [a.file for a in args.artifacts]})


def artifact_stores(config: LakehouseConfig, hosts: Mapping[str, DockerHost]) -> dict[str, ArtifactStore]:
    """One store per host that runs a service needing artifacts, holding what that host's services need."""
    needed: dict[str, dict[str, Artifact]] = {}
    for service in config.services.values():
        for instance in service.instances:
            for key in SERVICES[service.name].artifacts:
                needed.setdefault(instance.host, {})[key] = ARTIFACTS[key]
    return {
        host: ArtifactStore(f"{host}-artifacts", ArtifactStoreArgs(
            host=hosts[host],
            artifacts=[artifacts[key] for key in sorted(artifacts)],
            volume_name=f"{config.prefix}-artifacts",
            container_name=f"{config.prefix}-artifacts-fetch",
        ))
        for host, artifacts in sorted(needed.items())
    }
