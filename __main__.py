"""The lakehouse: load config, build the planes, export what users connect to."""

import pulumi

from components.config import load
from components.data import DataLayer, DataLayerArgs
from components.hosts import DockerHost, DockerHostArgs
from components.storage import StoragePlane, StoragePlaneArgs

config = load()

hosts = {
    name: DockerHost(name, DockerHostArgs(host=config.hosts[name], network_name=config.prefix))
    for name in sorted({service.host for service in config.services.values()})
}
storage = StoragePlane("storage", StoragePlaneArgs(config=config, hosts=hosts))
data = DataLayer("data", DataLayerArgs(config=config, minio=storage.minio, postgres=storage.postgres))

pulumi.export("minioApiUrl", storage.minio_api_url)
pulumi.export("minioConsoleUrl", storage.minio_console_url)
pulumi.export("minioRootUser", storage.minio.root_user)
pulumi.export("minioRootPassword", storage.minio.root_password)
pulumi.export("postgresAddress", storage.postgres_address)
pulumi.export("postgresSuperuserPassword", storage.postgres.password)
pulumi.export("buckets", sorted(data.buckets))
pulumi.export("services", data.connection_details())
