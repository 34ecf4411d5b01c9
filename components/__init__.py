"""The lakehouse platform, in layers that mirror `__main__.py` and the README's diagram.

    platform      the mechanics every service uses: config, service table, endpoints, hosts,
                  containers, jars, credentials, file formats
    vms           the Proxmox compute VMs (uses platform only)
    storage       the storage plane (MinIO, PostgreSQL) and the data layer on it
    catalogs      Iceberg REST and Hive Metastore
    compute       the engines: Trino, Spark + JupyterLab
    applications  Airflow, MLflow, Superset

A package imports only from the layers listed above it (`vms` from `platform` only); the demo
workload lives beside `components/`, not in it: the program deploys it, it does not import it.
"""
