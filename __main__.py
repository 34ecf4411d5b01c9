"""The lakehouse: load config, build the planes, export what users connect to."""

import pulumi

from components.applications.layer import Applications, ApplicationsArgs
from components.platform.artifacts import artifact_stores
from components.catalogs.layer import Catalogs, CatalogsArgs
from components.compute.plane import ComputePlane, ComputePlaneArgs
from components.platform.config import load
from components.storage.data import DataLayer, DataLayerArgs
from components.platform.hosts import DockerHost, DockerHostArgs
from components.platform import names
from components.platform.tls import CertificateAuthority
from components.vms.proxmox import ComputeVms, ComputeVmsArgs
from components.storage.plane import StoragePlane, StoragePlaneArgs

config = load()

vms = ComputeVms("vms", ComputeVmsArgs(proxmox=config.proxmox, prefix=config.prefix)) if config.proxmox else None
ready = vms.ready if vms else {}
hosts = {
    name: DockerHost(name, DockerHostArgs(host=config.hosts[name], network_name=config.prefix,
                                          ready=[ready[name]] if name in ready else [],
                                          ssh_options=vms.ssh_options[name] if vms and name in ready else []))
    for name in sorted({i.host for service in config.services.values() for i in service.instances})
}
artifacts = artifact_stores(config, hosts)
ca = CertificateAuthority("tls")
storage = StoragePlane("storage", StoragePlaneArgs(config=config, hosts=hosts))
data = DataLayer("data", DataLayerArgs(config=config, minio=storage.minio, postgres=storage.postgres))
catalogs = Catalogs("catalogs", CatalogsArgs(config=config, hosts=hosts, artifacts=artifacts, data=data))
compute = ComputePlane("compute", ComputePlaneArgs(config=config, hosts=hosts, artifacts=artifacts, data=data,
                                                   catalogs=catalogs, ca=ca))
apps = Applications("apps", ApplicationsArgs(config=config, hosts=hosts, data=data, compute=compute))

pulumi.export("minioApiUrl", storage.minio_api_url)
pulumi.export("minioConsoleUrl", storage.minio_console_url)
pulumi.export("minioRootUser", storage.minio.root_user)
pulumi.export("minioRootPassword", storage.minio.root_password)
pulumi.export("postgresAddress", storage.postgres_address)
pulumi.export("postgresSuperuserPassword", storage.postgres.password)
pulumi.export("buckets", sorted(data.buckets))
pulumi.export("services", data.connection_details)
pulumi.export("icebergRestUri", catalogs.iceberg_rest_uri)
pulumi.export("icebergRestWarehouse", catalogs.iceberg_rest_warehouse)
pulumi.export("icebergRestCredentials", catalogs.iceberg_rest_credentials)
pulumi.export("metastoreUri", catalogs.metastore_uri)
pulumi.export("trinoUrl", compute.trino.url)
pulumi.export("caCertificatePem", ca.certificate_pem)
pulumi.export("trinoUsers", pulumi.Output.secret(compute.trino.passwords))
pulumi.export("sparkMasterUrl", compute.spark.master_url)
pulumi.export("sparkMasterUiUrl", compute.spark.master_ui_url)
pulumi.export("jupyterUrl", compute.spark.jupyter_url)
pulumi.export("jupyterToken", compute.spark.jupyter_token)
pulumi.export("sparkConnectUrl", compute.spark.connect_url)
pulumi.export("sparkConnectToken", compute.spark.connect_token)
pulumi.export("mlflowUrl", apps.mlflow_url)
pulumi.export("mlflowAdminUser", apps.mlflow.admin_user)
pulumi.export("mlflowAdminPassword", apps.mlflow.admin_password)
pulumi.export("supersetUrl", apps.superset_url)
pulumi.export("supersetAdminUser", apps.superset.admin_user)
pulumi.export("supersetAdminPassword", apps.superset.admin_password)
if config.demo.enabled:
    pulumi.export("supersetAnalystUser", apps.superset.analyst_user)
    pulumi.export("supersetAnalystPassword", apps.superset.analyst_password)
pulumi.export("airflowUrl", apps.airflow.url)
pulumi.export("airflowAdminUser", apps.airflow.admin_user)
pulumi.export("airflowAdminPassword", apps.airflow.admin_password)

if config.domain:
    pulumi.export("uiUrls", names.ui_urls(config))
    pulumi.export("hostsFile", names.hosts_file(config))
    pulumi.export("dnsmasqConfig", names.dnsmasq_config(config))
    pulumi.export("dnsZoneRecords", names.dns_zone_records(config))
