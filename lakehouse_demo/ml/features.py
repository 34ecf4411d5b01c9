"""The training and scoring frame: one row per (day, hour, zone), demand 0 where no trip started.

`iceberg.gold.hourly_zone_demand` holds only the zone-hours that had trips; a model of demand has to
see the zero hours too, so the grid is every day in the table x 24 hours x every zone of
`iceberg.bronze.taxi_zones`, left-joined with the counts. Only the DataFrame API is used: the same
code runs through Spark Connect (Airflow, notebooks) and on a classic session.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

FEATURES = ("pu_location_id", "pickup_hour", "day_of_week")
TARGET = "trips"
KEYS = ("pickup_date", "pickup_hour", "pu_location_id")
GRID_COLUMNS = (*KEYS, "day_of_week", TARGET)


def demand_grid(hourly: DataFrame, zones: DataFrame, days: Iterable[dt.date] | None = None) -> DataFrame:
    """`hourly`: rows of hourly_zone_demand; `zones`: taxi_zones (location_id). Restricted to `days` if given."""
    if days is not None:
        hourly = hourly.filter(F.col("pickup_date").isin(list(days)))
    spark = hourly.sparkSession
    dates = hourly.select("pickup_date").distinct()
    hours = spark.range(24).select(F.col("id").cast("INT").alias("pickup_hour"))
    zone_ids = zones.select(F.col("location_id").cast("INT").alias("pu_location_id")).distinct()
    counts = hourly.select(*KEYS, F.col("trips").cast("BIGINT").alias(TARGET))
    return (dates.crossJoin(hours).crossJoin(zone_ids)
            .join(counts, list(KEYS), "left")
            .select(*KEYS, F.dayofweek("pickup_date").alias("day_of_week"),  # 1 = Sunday .. 7 = Saturday
                    F.coalesce(F.col(TARGET), F.lit(0)).cast("BIGINT").alias(TARGET)))


def latest_days(hourly: DataFrame, count: int) -> list[dt.date]:
    """The `count` most recent days of the table (the days scoring writes)."""
    rows = hourly.select("pickup_date").distinct().orderBy(F.col("pickup_date").desc()).limit(count).collect()
    return sorted(r[0] for r in rows)


def to_pandas(grid: DataFrame):
    """The grid as pandas, with the dtypes the model's signature records (int32 features, int64 target)."""
    frame = grid.select(*GRID_COLUMNS).toPandas()
    for column in FEATURES:
        frame[column] = frame[column].astype("int32")
    frame[TARGET] = frame[TARGET].astype("int64")
    return frame.sort_values(list(KEYS), kind="stable").reset_index(drop=True)
