"""Transforms: a landed change batch -> `iceberg.bronze.trips` (MERGE) -> the `iceberg.gold` tables.

The DataFrame functions use only the DataFrame API, so they run the same on a classic session and
through Spark Connect (`SparkSession.builder.remote(...)`), which is how the pipeline runs them.
`IcebergTables` is the one place that writes: DDL and `MERGE INTO` as SQL text, the gold tables by
`DataFrameWriterV2.overwrite(condition)` of the days a batch touched.

Idempotency: the merge applies a change only if its sequence is newer than the row's `change_seq`,
so merging a batch again changes nothing; gold is recomputed from bronze for the touched days, so a
rerun writes the same rows. Every write is an Iceberg snapshot; `iceberg.gold.pipeline_runs` keeps
each run's snapshot ids for time travel (`VERSION AS OF` in Spark, `FOR VERSION AS OF` in Trino).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Iterable, Sequence

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from lakehouse_demo.source import TRIP_COLUMNS
from lakehouse_demo.tables import (BRONZE_TRIPS, BRONZE_ZONES, GOLD_DAILY_BOROUGH, GOLD_DAILY_ZONE,
                                   GOLD_HOURLY_ZONE, GOLD_TABLES, PIPELINE_RUNS)

BATCH_VIEW = "taxi_change_batch"
RUN_VIEW = "taxi_pipeline_run"

_MONEY = "DECIMAL(9,2)"
_TRIP_TYPES = {
    "trip_id": "BIGINT", "vendor_id": "INT", "tpep_pickup_datetime": "TIMESTAMP_NTZ",
    "tpep_dropoff_datetime": "TIMESTAMP_NTZ", "passenger_count": "INT", "trip_distance": _MONEY,
    "ratecode_id": "INT", "store_and_fwd_flag": "STRING", "pu_location_id": "INT", "do_location_id": "INT",
    "payment_type": "INT", **{c: _MONEY for c in TRIP_COLUMNS[11:]},
}
assert list(_TRIP_TYPES) == list(TRIP_COLUMNS)
# The landing files (lakehouse_demo.extract.CHANGE_SCHEMA) as Spark reads them.
CHANGE_SCHEMA = ", ".join(["op STRING", "change_seq BIGINT", "changed_at TIMESTAMP",
                           *(f"{c} {t}" for c, t in _TRIP_TYPES.items())])
BRONZE_COLUMNS = (*TRIP_COLUMNS, "change_seq", "changed_at", "batch_id")

# --- DDL -----------------------------------------------------------------------------------------

_SUM = "DECIMAL(18,2)"
DDL: tuple[str, ...] = (
    # Bronze: the source's current state. Partitioned by pickup day: the reconciliation and gold read by day.
    f"""CREATE TABLE IF NOT EXISTS {BRONZE_TRIPS} (
        {', '.join(f'{c} {t}' + (' NOT NULL' if c == 'trip_id' else '') for c, t in _TRIP_TYPES.items())},
        change_seq BIGINT NOT NULL, changed_at TIMESTAMP, batch_id STRING)
    USING iceberg PARTITIONED BY (days(tpep_pickup_datetime))
    TBLPROPERTIES ('format-version' = '2', 'write.distribution-mode' = 'hash')""",
    f"""CREATE TABLE IF NOT EXISTS {BRONZE_ZONES} (
        location_id INT NOT NULL, borough STRING, zone STRING, service_zone STRING)
    USING iceberg TBLPROPERTIES ('format-version' = '2')""",
    # Gold: a few hundred rows a day per table; a month per partition keeps files few and queries by date pruned.
    f"""CREATE TABLE IF NOT EXISTS {GOLD_DAILY_ZONE} (
        pickup_date DATE NOT NULL, pu_location_id INT NOT NULL, borough STRING, zone STRING,
        trips BIGINT, passengers BIGINT, trip_distance {_SUM}, fare_amount {_SUM}, tip_amount {_SUM},
        total_amount {_SUM})
    USING iceberg PARTITIONED BY (months(pickup_date)) TBLPROPERTIES ('format-version' = '2')""",
    f"""CREATE TABLE IF NOT EXISTS {GOLD_DAILY_BOROUGH} (
        pickup_date DATE NOT NULL, borough STRING NOT NULL, trips BIGINT, trip_distance {_SUM},
        fare_amount {_SUM}, tip_amount {_SUM}, total_amount {_SUM})
    USING iceberg PARTITIONED BY (months(pickup_date)) TBLPROPERTIES ('format-version' = '2')""",
    # Hourly demand: 24 x 265 rows a day at most; a day per partition matches "demand on day D" queries.
    f"""CREATE TABLE IF NOT EXISTS {GOLD_HOURLY_ZONE} (
        pickup_date DATE NOT NULL, pickup_hour INT NOT NULL, pu_location_id INT NOT NULL, trips BIGINT,
        avg_trip_distance DECIMAL(9,2))
    USING iceberg PARTITIONED BY (days(pickup_date)) TBLPROPERTIES ('format-version' = '2')""",
    f"""CREATE TABLE IF NOT EXISTS {PIPELINE_RUNS} (
        run_id STRING NOT NULL, logical_date DATE, from_seq BIGINT, max_seq BIGINT, changes BIGINT,
        days ARRAY<DATE>, snapshots MAP<STRING, BIGINT>, recorded_at TIMESTAMP)
    USING iceberg TBLPROPERTIES ('format-version' = '2')""",
)

_SET = ", ".join(f"t.{c} = s.{c}" for c in BRONZE_COLUMNS if c != "trip_id")
MERGE_BRONZE = f"""MERGE INTO {BRONZE_TRIPS} AS t
USING {BATCH_VIEW} AS s
ON t.trip_id = s.trip_id
WHEN MATCHED AND s.change_seq > t.change_seq AND s.op = 'D' THEN DELETE
WHEN MATCHED AND s.change_seq > t.change_seq THEN UPDATE SET {_SET}
WHEN NOT MATCHED AND s.op <> 'D' THEN INSERT ({', '.join(BRONZE_COLUMNS)})
  VALUES ({', '.join(f's.{c}' for c in BRONZE_COLUMNS)})"""

_RUN_COLUMNS = ("run_id", "logical_date", "from_seq", "max_seq", "changes", "days", "snapshots", "recorded_at")
MERGE_RUN = f"""MERGE INTO {PIPELINE_RUNS} AS t
USING {RUN_VIEW} AS s
ON t.run_id = s.run_id
WHEN MATCHED THEN UPDATE SET {', '.join(f't.{c} = s.{c}' for c in _RUN_COLUMNS if c != 'run_id')}
WHEN NOT MATCHED THEN INSERT ({', '.join(_RUN_COLUMNS)}) VALUES ({', '.join(f's.{c}' for c in _RUN_COLUMNS)})"""


def snapshot_sql(table: str) -> str:
    """The table's current snapshot id (Iceberg's `history` metadata table)."""
    return (f"SELECT snapshot_id FROM {table}.history WHERE is_current_ancestor "
            f"ORDER BY made_current_at DESC LIMIT 1")


def statements() -> tuple[str, ...]:
    """Every SQL text the pipeline sends to Spark (the tests parse each one)."""
    return (*DDL, MERGE_BRONZE, MERGE_RUN, *(snapshot_sql(t) for t in (BRONZE_TRIPS, BRONZE_ZONES, *GOLD_TABLES)))


# --- DataFrame functions -------------------------------------------------------------------------

def latest_changes(changes: DataFrame) -> DataFrame:
    """One row per trip: its change with the highest sequence (a later delete wins over earlier upserts)."""
    order = Window.partitionBy("trip_id").orderBy(F.col("change_seq").desc())
    return changes.withColumn("_n", F.row_number().over(order)).filter("_n = 1").drop("_n")


def apply_changes(target: DataFrame, latest: DataFrame) -> DataFrame:
    """What MERGE_BRONZE makes of `target`, as a DataFrame (for engines without row-level MERGE).

    `latest` is `latest_changes(...)` with a `batch_id` column.
    """
    t, s = target.alias("t"), latest.alias("s")
    joined = t.join(s, F.col("t.trip_id") == F.col("s.trip_id"), "full_outer")
    keep = F.col("s.trip_id").isNull() | (
        F.col("t.trip_id").isNotNull() & (F.col("s.change_seq") <= F.col("t.change_seq")))
    take = ~keep & (F.col("s.op") != "D")
    return (joined.filter(keep | take)
            .select(*(F.when(keep, F.col(f"t.{c}")).otherwise(F.col(f"s.{c}")).alias(c) for c in BRONZE_COLUMNS)))


def pickup_date(frame: DataFrame) -> DataFrame:
    return frame.withColumn("pickup_date", F.to_date("tpep_pickup_datetime"))


def _money_sum(column: str) -> F.Column:
    return F.sum(column).cast(_SUM).alias(column)


def daily_zone_revenue(trips: DataFrame, zones: DataFrame) -> DataFrame:
    z = zones.select(F.col("location_id").alias("pu_location_id"), "borough", "zone")
    return (pickup_date(trips).join(z, "pu_location_id", "left")
            .groupBy("pickup_date", "pu_location_id", "borough", "zone")
            .agg(F.count(F.lit(1)).alias("trips"), F.sum("passenger_count").cast("BIGINT").alias("passengers"),
                 *(_money_sum(c) for c in ("trip_distance", "fare_amount", "tip_amount", "total_amount"))))


def daily_borough_revenue(trips: DataFrame, zones: DataFrame) -> DataFrame:
    z = zones.select(F.col("location_id").alias("pu_location_id"), "borough")
    return (pickup_date(trips).join(z, "pu_location_id", "left")
            .withColumn("borough", F.coalesce("borough", F.lit("Unknown")))
            .groupBy("pickup_date", "borough")
            .agg(F.count(F.lit(1)).alias("trips"),
                 *(_money_sum(c) for c in ("trip_distance", "fare_amount", "tip_amount", "total_amount"))))


def hourly_zone_demand(trips: DataFrame, zones: DataFrame) -> DataFrame:
    return (pickup_date(trips).withColumn("pickup_hour", F.hour("tpep_pickup_datetime"))
            .groupBy("pickup_date", "pickup_hour", "pu_location_id")
            .agg(F.count(F.lit(1)).alias("trips"),
                 F.avg("trip_distance").cast("DECIMAL(9,2)").alias("avg_trip_distance")))


GOLD_BUILDERS: dict[str, Callable[[DataFrame, DataFrame], DataFrame]] = {
    GOLD_DAILY_ZONE: daily_zone_revenue, GOLD_DAILY_BOROUGH: daily_borough_revenue,
    GOLD_HOURLY_ZONE: hourly_zone_demand,
}


def affected_days(changes: DataFrame, bronze: DataFrame) -> list[dt.date]:
    """Pickup days the batch touches: of its rows, and of the bronze rows of its keys (a moved pickup)."""
    keys = changes.select("trip_id").distinct()
    days = (changes.select(F.to_date("tpep_pickup_datetime").alias("d"))
            .union(bronze.join(keys, "trip_id").select(F.to_date("tpep_pickup_datetime").alias("d")))
            .distinct())
    return sorted(r["d"] for r in days.collect())


def zones_frame(spark: SparkSession, rows: Sequence[tuple[int, str, str, str]]) -> DataFrame:
    return spark.createDataFrame(list(rows), "location_id INT, borough STRING, zone STRING, service_zone STRING")


def read_batch(spark: SparkSession, manifest: dict[str, Any], scheme: str = "s3a") -> DataFrame:
    """The landed files of a batch (as listed in its manifest), with their row count checked."""
    paths = [f"{scheme}://{manifest['bucket']}/{f['key']}" for f in manifest["files"]]
    frame = spark.read.schema(CHANGE_SCHEMA).parquet(*paths)
    count = frame.count()
    if count != manifest["row_count"]:
        raise ValueError(f"batch {manifest['run_id']}: read {count} rows, the manifest says {manifest['row_count']}")
    return frame


# --- writing -------------------------------------------------------------------------------------

class IcebergTables:
    """The Iceberg catalog `iceberg` through a Spark session (the REST catalog commits each write)."""

    def __init__(self, spark: SparkSession):
        self.spark = spark

    def ensure(self) -> None:
        for statement in DDL:
            self.spark.sql(statement)

    def read(self, table: str) -> DataFrame:
        return self.spark.table(table)

    def merge_bronze(self, latest: DataFrame) -> None:
        latest.createOrReplaceTempView(BATCH_VIEW)
        self.spark.sql(MERGE_BRONZE)

    def replace(self, table: str, frame: DataFrame, days: Iterable[dt.date] | None = None) -> None:
        """Replace the rows of `days` (all rows if None) by `frame`: one snapshot."""
        condition = F.lit(True) if days is None else F.col("pickup_date").isin(list(days))
        frame.writeTo(table).overwrite(condition)

    def record_run(self, run: DataFrame) -> None:
        run.createOrReplaceTempView(RUN_VIEW)
        self.spark.sql(MERGE_RUN)

    def snapshot_id(self, table: str) -> int | None:
        rows = self.spark.sql(snapshot_sql(table)).collect()
        return rows[0][0] if rows else None


def transform(spark: SparkSession, tables, manifest: dict[str, Any], logical_date: dt.date,
              zones: Sequence[tuple[int, str, str, str]],
              reader: Callable[[SparkSession, dict[str, Any]], DataFrame] = read_batch) -> dict[str, Any]:
    """Merge a landed batch into bronze, refresh the zones, rebuild the touched gold days, record the run's
    snapshots."""
    tables.ensure()
    days: list[dt.date] = []
    if manifest["row_count"]:
        changes = reader(spark, manifest).withColumn("batch_id", F.lit(manifest["run_id"]))
        days = affected_days(changes, tables.read(BRONZE_TRIPS))
        tables.merge_bronze(latest_changes(changes))
    tables.replace(BRONZE_ZONES, zones_frame(spark, zones))
    if days:
        bronze = pickup_date(tables.read(BRONZE_TRIPS)).filter(F.col("pickup_date").isin(days)).drop("pickup_date")
        zones = tables.read(BRONZE_ZONES)
        for table, build in GOLD_BUILDERS.items():
            tables.replace(table, build(bronze, zones), days)
    snapshots = {t: tables.snapshot_id(t) for t in (BRONZE_TRIPS, BRONZE_ZONES, *GOLD_TABLES)}
    run = spark.createDataFrame(
        [(manifest["run_id"], logical_date, manifest["from_seq"], manifest["max_seq"], manifest["row_count"], days,
          {k: v for k, v in snapshots.items() if v is not None}, dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))],
        "run_id STRING, logical_date DATE, from_seq BIGINT, max_seq BIGINT, changes BIGINT, days ARRAY<DATE>, "
        "snapshots MAP<STRING, BIGINT>, recorded_at TIMESTAMP")
    tables.record_run(run)
    return {"run_id": manifest["run_id"], "days": [d.isoformat() for d in days], "snapshots": snapshots}
