"""The compute plane: Trino and Spark (+ JupyterLab, the Spark Connect server) on the compute hosts,
started once the catalogs are healthy. JupyterLab gets its own logins to Trino and MLflow, and the demo's
notebooks and package when the stack deploys the demo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pulumi

from components.platform.artifacts import ArtifactStore
from components.catalogs.layer import Catalogs
from components.platform.config import LakehouseConfig
from components.storage.data import DataLayer
from components.platform.hosts import DockerHost
from components.platform.tls import CertificateAuthority
from components.compute.spark import Spark, SparkArgs
from components.compute.trino import Trino, TrinoArgs
from components.platform.containers import Upload
from components.platform.credentials import generated_password
from components.platform.endpoints import resolve
from components.platform import workload

# The stack's CA in JupyterLab (the image's home, outside the notebooks volume).
JUPYTER_CA_PATH = "/home/jovyan/lakehouse-ca.pem"
# The demo in JupyterLab, outside the notebooks volume: its package on the kernels' path, and its
# notebooks, which the notebook store copies into the work folder where the user has no copy yet.
SHIPPED = "/opt/lakehouse"
NOTEBOOK_SEEDS = f"{SHIPPED}/notebooks"


def jupyter_demo_env() -> list[str]:
    """The image's start hook prepends Spark's own paths to PYTHONPATH and keeps this one."""
    return [f"PYTHONPATH={SHIPPED}", f"NOTEBOOK_STORE_SEEDS={NOTEBOOK_SEEDS}"]


def jupyter_demo_uploads() -> list[Upload]:
    package = [Upload(f"{SHIPPED}/{workload.PACKAGE}/{path}", text) for path, text in workload.package_files().items()]
    books = [Upload(f"{NOTEBOOK_SEEDS}/{workload.PACKAGE}/{name}", text) for name, text in workload.notebooks().items()]
    return [*package, *books]


def jupyter_trino_env(url: str, password: str) -> list[str]:
    """Trino for notebooks: `trino.dbapi.connect(host=..., port=..., http_scheme="https", user=TRINO_USER,
    auth=trino.auth.BasicAuthentication(TRINO_USER, TRINO_PASSWORD), verify=LAKEHOUSE_CA_FILE)`.
    `REQUESTS_CA_BUNDLE` stays unset: it would replace the public roots for every request of the kernel."""
    return [f"TRINO_URL={url}", "TRINO_USER=jupyter", f"TRINO_PASSWORD={password}",
            f"LAKEHOUSE_CA_FILE={JUPYTER_CA_PATH}"]


def jupyter_mlflow_env(url: str, password: str) -> list[str]:
    """MLflow's client reads these on every request (`mlflow.set_tracking_uri` is not needed)."""
    return [f"MLFLOW_TRACKING_URI={url}", "MLFLOW_TRACKING_USERNAME=jupyter", f"MLFLOW_TRACKING_PASSWORD={password}"]


@dataclass(frozen=True)
class ComputePlaneArgs:
    config: LakehouseConfig
    hosts: Mapping[str, DockerHost]
    artifacts: Mapping[str, ArtifactStore]
    data: DataLayer
    catalogs: Catalogs
    ca: CertificateAuthority


class ComputePlane(pulumi.ComponentResource):
    def __init__(self, name: str, args: ComputePlaneArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:compute:ComputePlane", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        rest = args.catalogs.iceberg_rest
        iceberg_ready = (rest.container, rest.setup)
        self.trino = Trino(f"{name}-trino", TrinoArgs(
            config=args.config, hosts=args.hosts, s3=args.data.access["trino"].s3, ca=args.ca,
            depends_on=(*iceberg_ready, args.catalogs.hive_metastore.container), catalog_secret=rest.secrets["trino"],
        ), child)
        jupyter = args.config.services["jupyter"].instances[0]
        trino = resolve(args.config, "trino", "https", jupyter)
        mlflow = resolve(args.config, "mlflow", "http", jupyter)
        demo = args.config.demo.enabled
        # The notebooks' MLflow login; the MLflow component creates it on the server.
        self.jupyter_mlflow_password = generated_password(f"{name}-jupyter-mlflow-password", self, length=24).result
        self.spark = Spark(f"{name}-spark", SparkArgs(
            config=args.config, hosts=args.hosts, s3=args.data.access["spark"].s3,
            jars_volumes={host: store.verified_volume for host, store in args.artifacts.items()},
            depends_on=iceberg_ready, notebooks_s3=args.data.access["jupyter"].s3, catalog_secret=rest.secrets["spark"],
            jupyter_client_env=pulumi.Output.all(self.trino.passwords["jupyter"], self.jupyter_mlflow_password).apply(
                lambda v: [*jupyter_trino_env(trino.url("https"), v[0]),
                           *jupyter_mlflow_env(mlflow.url(), v[1]), *(jupyter_demo_env() if demo else ())]),
            jupyter_client_uploads=(Upload(JUPYTER_CA_PATH, self.trino.ca_certificate),
                                    *(jupyter_demo_uploads() if demo else ())),
        ), child)
        self.register_outputs({"trinoUrl": self.trino.url, "sparkMasterUrl": self.spark.master_url,
                               "jupyterUrl": self.spark.jupyter_url, "sparkConnectUrl": self.spark.connect_url})
