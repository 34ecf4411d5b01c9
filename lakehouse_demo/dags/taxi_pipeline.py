"""NYC taxi demo: operational changes -> s3://landing -> Iceberg bronze -> gold -> checked in Trino.

One run per day (the logical date seeds the source's activity):
  play_source       the operational database's day: new trips, corrections, cancellations (once per day)
  land_changes      the change log after the watermark -> Parquet + manifest in s3://landing/taxi/<run>/
  merge_lakehouse   Spark (Connect): MERGE into iceberg.bronze.trips, rebuild the touched gold days
  data_quality      Trino: keys, ranges, zones, freshness, gold = bronze, bronze = source at the batch's end
  commit_watermark  the source's watermark moves to the batch's last change, now that it is merged and
                    checked (a failed check leaves it, so the next run merges the same changes again)
  publish           an Asset event per gold table, only when everything before it passed

The `trips` parameter defaults to the stack's `demo.tripsPerDay` (LAKEHOUSE_DEMO_TRIPS_PER_DAY).
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task

from lakehouse_demo import pipeline
from lakehouse_demo.source import DEFAULT_TRIPS
from lakehouse_demo.checks import DEFAULT_FRESHNESS_HOURS

TRIPS_PER_DAY = int(os.environ.get("LAKEHOUSE_DEMO_TRIPS_PER_DAY", DEFAULT_TRIPS))

GOLD_ASSETS = [Asset(name=table, uri=f"iceberg://{table.split('.', 1)[1].replace('.', '/')}")
               for table in pipeline.gold_asset_names()]


def _day():
    """The day a run stands for: its logical date, or when it was triggered for a run without one."""
    context = get_current_context()
    return (context.get("logical_date") or context["dag_run"].run_after).date()


@dag(
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,  # the demo runs by itself after `pulumi up`
    max_active_runs=1,  # batches are contiguous ranges of the change log: one at a time
    tags=["lakehouse", "demo"],
    params={
        "trips": Param(TRIPS_PER_DAY, type="integer", minimum=0, description="New trips the source gets per day"),
        "freshness_hours": Param(DEFAULT_FRESHNESS_HOURS, type="integer", minimum=1),
    },
    default_args={"retries": 2, "retry_delay": pendulum.duration(minutes=1)},
)
def taxi_pipeline():
    @task
    def play_source(params=None) -> dict:
        return pipeline.play_source(_day(), int(params["trips"]))

    @task
    def land_changes() -> dict:
        return pipeline.land(get_current_context()["run_id"])

    @task
    def merge_lakehouse(manifest: dict) -> dict:
        return pipeline.merge(manifest, _day())

    @task
    def data_quality(manifest: dict, merged: dict, params=None) -> dict:
        return pipeline.check(manifest["max_seq"], int(params["freshness_hours"]))

    @task
    def commit_watermark(manifest: dict, quality: dict) -> int:
        return pipeline.advance(manifest)

    @task(outlets=GOLD_ASSETS)
    def publish(merged: dict, quality: dict, watermark: int) -> dict:
        return {"snapshots": merged["snapshots"], "checks": quality["checks"], "watermark": watermark}

    played = play_source()
    manifest = land_changes()
    played >> manifest
    merged = merge_lakehouse(manifest)
    quality = data_quality(manifest, merged)
    publish(merged, quality, commit_watermark(manifest, quality))


taxi_pipeline()
