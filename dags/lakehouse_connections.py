"""Check every connection the stack gives Airflow: Trino (iceberg catalog), MinIO (S3), Spark Connect.

Trigger it once after `pulumi up`; each task fails with the reason if its service is unreachable.
The Spark task runs a real query on the cluster through the Spark Connect server (on this host's
loopback, with the token from the `spark_connect_default` connection).
"""

from __future__ import annotations

import pendulum
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.providers.apache.spark.hooks.spark_connect import SparkConnectHook
from airflow.providers.trino.hooks.trino import TrinoHook
from airflow.sdk import dag, task

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
    def spark_connect() -> int:
        """The cluster runs a job sent through Spark Connect: executors sum 0..9."""
        from pyspark.sql import SparkSession  # the client is installed beside the providers, not at parse time

        spark = SparkSession.builder.remote(SparkConnectHook("spark_connect_default").get_connection_url()).getOrCreate()
        try:
            total = spark.range(10).selectExpr("sum(id) AS total").first()["total"]
        finally:
            spark.stop()
        if total != 45:
            raise RuntimeError(f"sum(0..9) through Spark Connect returned {total}, not 45")
        return total

    trino()
    minio()
    spark_connect()


lakehouse_connections()
