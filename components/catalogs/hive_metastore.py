"""Hive Metastore for legacy Hive tables: PostgreSQL backend, S3A to MinIO.

`apache/hive:4.0.1` runs `schematool -initOrUpgradeSchema` before every start, which is safe to
repeat. The image lacks the PostgreSQL driver and keeps hadoop-aws and the AWS SDK bundle off
its classpath; `HADOOP_CLASSPATH` adds the image's tools jars and the one driver jar it needs from
the artifact volume (named exactly, so a driver bump replaces the container and nothing else on
the volume reaches the metastore's classpath).
`hive-site.xml` and `core-site.xml` are rendered here and placed in `/opt/hive/conf`.
"""

from __future__ import annotations

import pulumi

from components.platform.artifacts import ARTIFACTS, JARS
from components.storage.backing import BackingArgs
from components.platform.containers import (ContainerArgs, Healthcheck, Upload, VolumeMount, jvm_heap_mb,
                                             service_container)
from components.platform.formats import s3a_properties, site_xml
from components.platform.s3 import S3Settings
from components.platform.services import SERVICES

CONF = "/opt/hive/conf"
WAREHOUSE_DIR = "s3a://warehouse/hive/"
_PORT = SERVICES["hive-metastore"].ports["thrift"].container
# Besides the heap: metaspace, the Thrift worker pool's stacks (200 threads by default), direct buffers.
_NON_HEAP_MB = 512
HEALTHCHECK = Healthcheck(test=("CMD", "bash", "-c", f"</dev/tcp/127.0.0.1/{_PORT}"), start_period="60s",
                          retries=12)


def hive_site(jdbc: str, user: str, password: str) -> str:
    return site_xml({
        "javax.jdo.option.ConnectionDriverName": "org.postgresql.Driver",
        "javax.jdo.option.ConnectionURL": jdbc,
        "javax.jdo.option.ConnectionUserName": user,
        "javax.jdo.option.ConnectionPassword": password,
        "hive.metastore.warehouse.dir": WAREHOUSE_DIR,
        "hive.metastore.port": str(_PORT),
        "metastore.metastore.event.db.notification.api.auth": "false",
    })


def core_site(s3: S3Settings) -> str:
    return site_xml(s3a_properties(s3))


def hive_metastore_env(memory_mb: int) -> list[str]:
    """The entrypoint hard-codes `-Xmx1G` before `SERVICE_OPTS`; the later flag wins, so the heap
    follows the container's limit instead."""
    return [
        "SERVICE_NAME=metastore",
        "DB_DRIVER=postgres",
        f"SERVICE_OPTS=-Xmx{jvm_heap_mb(memory_mb, _NON_HEAP_MB)}m",
        f"HADOOP_CLASSPATH=/opt/hadoop/share/hadoop/tools/lib/*:{ARTIFACTS['postgresql-jdbc'].path}",
    ]


class HiveMetastore(pulumi.ComponentResource):
    def __init__(self, name: str, args: BackingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:catalog:HiveMetastore", name, None, opts)
        self.container = service_container(name, ContainerArgs(
            placement=args.placement,
            healthcheck=HEALTHCHECK,
            envs=hive_metastore_env(args.placement.service.memory_mb),
            volumes=(VolumeMount(args.jars_volume, JARS, read_only=True),),
            uploads=(
                Upload(f"{CONF}/hive-site.xml",
                       args.database.password.apply(lambda password: hive_site(args.jdbc, args.database.user, password))),
                Upload(f"{CONF}/core-site.xml",
                       args.s3.secret_key.apply(lambda secret: core_site(args.s3_settings(secret)))),
            ),
            depends_on=args.depends_on,
            wait_timeout=300,
        ), self)
        self.register_outputs({"container": self.container.name})
