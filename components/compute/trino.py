"""Trino (Athena): a coordinator and 0..N workers with the `iceberg` (REST) and `hive` catalogs.

Files are rendered per node and uploaded over the image's defaults one by one. `jvm.config`
keeps the image's flags but sizes the heap from the container's limit: the image's 80% of RAM
leaves too little for the code cache (256m), the plugins' metaspace and the threads in a small
container. Nodes use host networking and advertise their host's address, so workers
on other hosts can join. Object storage goes through Trino's native S3 file system with Trino's
own MinIO user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import pulumi

from components.platform.config import LakehouseConfig
from components.platform.containers import (ContainerArgs, Healthcheck, Placement, Upload, jvm_heap_mb, placement,
                                             placements, service_container)
from components.storage.data import S3Credentials
from components.platform.endpoints import resolve
from components.platform.formats import java_properties
from components.platform.hosts import DockerHost
from components.platform.s3 import S3Settings, warehouse_uri

ETC = "/etc/trino"
HEALTHCHECK = Healthcheck(test=("CMD", "/usr/lib/trino/bin/health-check"), start_period="30s", retries=12)


# Besides the heap: the reserved code cache, metaspace of every plugin, thread stacks, direct buffers.
_NON_HEAP_MB = 768


def jvm_config(memory_mb: int) -> str:
    """The image's `jvm.config` flags, with an explicit heap instead of a share of the container's RAM."""
    heap = jvm_heap_mb(memory_mb, _NON_HEAP_MB)
    return "\n".join([
        "-server", f"-Xmx{heap}m", f"-Xms{heap}m", "-XX:G1HeapRegionSize=32M", "-XX:+ExplicitGCInvokesConcurrent",
        "-XX:+HeapDumpOnOutOfMemoryError", "-XX:+ExitOnOutOfMemoryError", "-XX:-OmitStackTraceInFastThrow",
        "-XX:ReservedCodeCacheSize=256M", "-XX:PerMethodRecompilationCutoff=10000",
        "-XX:PerBytecodeRecompilationCutoff=10000", "-Djdk.attach.allowAttachSelf=true",
        "-Djdk.nio.maxCachedBufferSize=2000000", "-XX:+EnableDynamicAgentLoading",
    ]) + "\n"


def node_properties(node_id: str, address: str) -> dict[str, str]:
    return {
        "node.environment": "lakehouse",
        "node.id": node_id,
        "node.data-dir": "/data/trino",
        "node.internal-address": address,
    }


def config_properties(coordinator: bool, port: int, discovery_uri: str, workers: int) -> dict[str, str]:
    properties = {"coordinator": str(coordinator).lower()}
    if coordinator:
        properties["node-scheduler.include-coordinator"] = str(workers == 0).lower()
    properties.update({"http-server.http.port": str(port), "discovery.uri": discovery_uri})
    return properties


def _native_s3(s3: S3Settings) -> dict[str, str]:
    return {
        "fs.native-s3.enabled": "true",
        "s3.endpoint": s3.endpoint,
        "s3.region": s3.region,
        "s3.path-style-access": "true",
        "s3.aws-access-key": s3.access_key,
        "s3.aws-secret-key": s3.secret_key,
    }


def iceberg_catalog(rest_uri: str, s3: S3Settings) -> dict[str, str]:
    return {
        "connector.name": "iceberg",
        "iceberg.catalog.type": "rest",
        "iceberg.rest-catalog.uri": rest_uri,
        "iceberg.rest-catalog.warehouse": warehouse_uri(),
        **_native_s3(s3),
    }


def hive_catalog(metastore_uri: str, s3: S3Settings) -> dict[str, str]:
    return {"connector.name": "hive", "hive.metastore.uri": metastore_uri, **_native_s3(s3)}


@dataclass(frozen=True)
class TrinoArgs:
    config: LakehouseConfig
    hosts: Mapping[str, DockerHost]
    s3: S3Credentials
    depends_on: Sequence[pulumi.Resource]


class Trino(pulumi.ComponentResource):
    """The coordinator (`trino`) and the workers (`trino-worker-<n>`), gated on healthy catalogs."""

    def __init__(self, name: str, args: TrinoArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:compute:Trino", name, None, opts)
        config = args.config
        self.url = resolve(config, "trino", "http").url()
        self.coordinator = self._node(name, placement(config, args.hosts, "trino"), args, coordinator=True)
        self.workers = [
            self._node(f"{name}-worker-{index + 1}", where, args, coordinator=False, extra_depends=[self.coordinator])
            for index, where in enumerate(placements(config, args.hosts, "trino-worker"))
        ]
        self.register_outputs({"url": self.url, "workers": len(self.workers)})

    def _node(self, name: str, where: Placement, args: TrinoArgs, coordinator: bool,
              extra_depends: Sequence[pulumi.Resource] = ()) -> pulumi.Resource:
        config = args.config
        instance = where.instance
        port = instance.ports["http"]
        node = java_properties(node_properties(instance.name, where.address))
        server = java_properties(config_properties(
            coordinator, port, resolve(config, "trino", "http", instance).url(),
            len(config.services["trino-worker"].instances)))
        rest_uri = resolve(config, "iceberg-rest", "http", instance).url()
        metastore_uri = resolve(config, "hive-metastore", "thrift", instance).url("thrift")
        s3_endpoint = resolve(config, "minio", "api", instance).url()

        def catalog(render) -> pulumi.Output[str]:
            return args.s3.secret_key.apply(lambda secret: java_properties(render(
                S3Settings(s3_endpoint, config.region, args.s3.access_key, secret))))

        return service_container(name, ContainerArgs(
            placement=where,
            healthcheck=HEALTHCHECK,
            uploads=(
                Upload(f"{ETC}/jvm.config", jvm_config(where.service.memory_mb)),
                Upload(f"{ETC}/node.properties", node),
                Upload(f"{ETC}/config.properties", server),
                Upload(f"{ETC}/catalog/iceberg.properties", catalog(lambda s3: iceberg_catalog(rest_uri, s3))),
                Upload(f"{ETC}/catalog/hive.properties", catalog(lambda s3: hive_catalog(metastore_uri, s3))),
            ),
            depends_on=(*args.depends_on, *extra_depends),
            wait_timeout=300,
        ), self)
