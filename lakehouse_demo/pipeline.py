"""The pipeline's steps as the DAG calls them: each builds its clients from Airflow connections.

    taxi_source            postgres: the operational database (schema = database name)
    minio                  aws: Airflow's MinIO user (endpoint_url in extra), writes s3://landing/, reads
                           the zone lookup the stack uploads to s3://reference/taxi/
    spark_connect_default  spark_connect: the Spark Connect server (token in password)
    trino_default          trino: the coordinator, catalog iceberg
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

from lakehouse_demo import checks, extract, source

SOURCE_CONN = "taxi_source"
S3_CONN = "minio"
SPARK_CONN = "spark_connect_default"
TRINO_CONN = "trino_default"
LANDING_BUCKET = "landing"
REFERENCE_BUCKET = "reference"
ZONES_KEY = "taxi/taxi_zone_lookup.csv"


def source_connection():
    import psycopg2
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(SOURCE_CONN)
    return psycopg2.connect(host=conn.host, port=conn.port or 5432, user=conn.login, password=conn.password,
                            dbname=conn.schema, connect_timeout=10, application_name="lakehouse_demo")


def s3_client():
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=S3_CONN).get_conn()


def spark_session():
    from airflow.providers.apache.spark.hooks.spark_connect import SparkConnectHook
    from pyspark.sql import SparkSession

    return SparkSession.builder.remote(SparkConnectHook(SPARK_CONN).get_connection_url()).getOrCreate()


def lakehouse_tables(spark):
    from lakehouse_demo.transforms import IcebergTables

    return IcebergTables(spark)


def batch_reader():
    from lakehouse_demo.transforms import read_batch

    return read_batch


def trino_query():
    from airflow.providers.trino.hooks.trino import TrinoHook

    hook = TrinoHook(trino_conn_id=TRINO_CONN)
    return lambda sql: hook.get_records(sql)


# --- steps ---------------------------------------------------------------------------------------

def play_source(day: dt.date, trips: int) -> dict[str, int]:
    connection = source_connection()
    try:
        source.install(connection)
        operations = source.play_day(connection, day, trips)
    finally:
        connection.close()
    return {o: sum(1 for x in operations if x.op == o) for o in ("I", "U", "D")}


def land(run_id: str) -> dict[str, Any]:
    connection = source_connection()
    try:
        return extract.extract(connection, s3_client(), LANDING_BUCKET, run_id)
    finally:
        connection.close()


def reference_zones(s3) -> list[tuple[int, str, str, str]]:
    """The zone lookup as the stack uploaded it (reference data, not a copy inside the DAG)."""
    return source.parse_zones(s3.get_object(Bucket=REFERENCE_BUCKET, Key=ZONES_KEY)["Body"].read().decode())


def merge(manifest: dict[str, Any], day: dt.date) -> dict[str, Any]:
    from lakehouse_demo.transforms import transform

    s3 = s3_client()
    extract.verify_batch(s3, manifest)
    spark = spark_session()
    return transform(spark, lakehouse_tables(spark), manifest, day, reference_zones(s3), reader=batch_reader())


def advance(manifest: dict[str, Any]) -> int:
    connection = source_connection()
    try:
        return extract.commit_watermark(connection, manifest)
    finally:
        connection.close()


def check(watermark: int, freshness_hours: int) -> dict[str, Any]:
    connection = source_connection()
    try:
        return checks.validate(trino_query(), connection, watermark, freshness_hours)
    finally:
        connection.close()


def gold_asset_names() -> Sequence[str]:
    from lakehouse_demo.tables import GOLD_TABLES

    return GOLD_TABLES
