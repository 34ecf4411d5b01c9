"""Throughput of the demo workload's steps at two sizes (not a test: it prints numbers).

    generator   plan_activity + play_day into PostgreSQL (the trigger writes the change log)
    extract     the change log -> Parquet + manifest in S3
    transforms  latest_changes + apply_changes + the gold aggregates on Spark 4.1.2 through Spark Connect

Starts what the contract tier uses: a throwaway PostgreSQL cluster and the SeaweedFS S3 server
(`bash .ci/contract-deps`), and a local Spark Connect server (Java and .ci/venv-spark, also from `bash .ci/contract-deps`).
Run from the repository root: `python scripts/benchmark_demo.py [--sizes 2000 20000]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "contract"), str(ROOT / "tests" / "contract" / "demo"),
                str(ROOT / ".ci" / "airflow-extras")]

from harness import run_stack  # noqa: E402
from standins import start_postgres, start_s3  # noqa: E402
from spark_server import start_spark_connect  # noqa: E402

from lakehouse_demo import extract, source, transforms  # noqa: E402


def timed(label: str, rows: int, action):
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    print(f"  {label:38s} {rows:8d} rows  {seconds:7.2f} s  {rows / seconds:10.0f} rows/s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs=2, default=(2000, 20000), help="new trips per day")
    args = parser.parse_args()
    import psycopg2
    from pyspark.sql import functions as F

    run = run_stack("homelab")
    work = Path(tempfile.mkdtemp(prefix="benchmark-demo-"))
    postgres, s3 = start_postgres(run, work), start_s3(run, work)
    spark_server = start_spark_connect(work / "spark-connect")
    try:
        spark = spark_server.session()
        client = s3.client()
        for number, size in enumerate(args.sizes):
            name = f"bench_{number}"
            postgres.psql(f"CREATE DATABASE {name}")
            connection = psycopg2.connect(host="127.0.0.1", port=postgres.port, user=postgres.superuser,
                                          password=postgres.password, dbname=name)
            source.install(connection)
            day = dt.date(2026, 3, 14)
            print(f"size {size} new trips per day", flush=True)
            operations = timed("generator: plan (pure Python)", size, lambda: source.plan_activity(day, size))
            played = timed("generator: play_day into PostgreSQL", len(operations),
                           lambda: source.play_day(connection, day, size))
            manifest = timed("extract: change log -> Parquet in S3", len(played),
                             lambda: extract.extract(connection, client, "landing", f"bench-{size}"))
            changes = spark.createDataFrame(extract.read_changes(connection)[1].to_pandas(), transforms.CHANGE_SCHEMA)
            changes = changes.withColumn("batch_id", F.lit("bench")).cache()
            changes.count()  # the upload to the server is not part of the transforms' time
            empty = spark.createDataFrame([], changes.select(*transforms.BRONZE_COLUMNS).schema)
            bronze = transforms.apply_changes(empty, transforms.latest_changes(changes)).cache()
            timed("transforms: dedupe + merge (DataFrame)", manifest["row_count"], bronze.count)
            zones = transforms.zones_frame(spark, source.zone_rows())
            timed("transforms: three gold aggregates", bronze.count(), lambda: [
                build(bronze, zones).count() for build in transforms.GOLD_BUILDERS.values()])
            changes.unpersist()
            bronze.unpersist()
            connection.close()
    finally:
        spark_server.process.stop()
        s3.process.stop()
        postgres.stop()


if __name__ == "__main__":
    main()
