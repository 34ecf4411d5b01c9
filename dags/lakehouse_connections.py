"""Check every connection the stack gives Airflow: Trino (iceberg catalog), MinIO (S3), the Spark master.

Trigger it once after `pulumi up`; each task fails with the reason if its service is unreachable.
"""

from __future__ import annotations

import socket
from urllib.parse import urlparse

import pendulum
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.providers.trino.hooks.trino import TrinoHook
from airflow.sdk import BaseHook, dag, task

LANDING_BUCKET = "landing"


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False, tags=["lakehouse"])
def lakehouse_connections():
    @task
    def trino() -> list:
        """The iceberg catalog answers through Trino."""
        return TrinoHook(trino_conn_id="trino_default").get_records("SHOW SCHEMAS")

    @task
    def minio() -> bool:
        """Airflow's own MinIO user can see the landing bucket."""
        if not S3Hook(aws_conn_id="minio").check_for_bucket(LANDING_BUCKET):
            raise RuntimeError(f"bucket {LANDING_BUCKET!r} is not visible with the minio connection")
        return True

    @task
    def spark_master() -> str:
        """The Spark master accepts connections."""
        connection = BaseHook.get_connection("spark_default")
        host = urlparse(connection.host).hostname or connection.host
        with socket.create_connection((host, connection.port or 7077), timeout=10):
            return f"{host}:{connection.port}"

    trino()
    minio()
    spark_master()


lakehouse_connections()
