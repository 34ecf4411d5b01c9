"""Transforms on Spark 4.1.2 through Spark Connect (as in production); the SQL through Spark's own parser.

Iceberg cannot run here (its runtime cannot be fetched): the statements are parsed by Spark's parser, and
the table writes run against `SnapshotTables`, Parquet snapshots standing in for the catalog.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from spark_server import classic_env, spark_python
from demo_standins import SnapshotTables, s3a_standin_reader
from lakehouse_demo import extract, source, transforms
from lakehouse_demo.tables import BRONZE_TRIPS, GOLD_DAILY_BOROUGH, GOLD_DAILY_ZONE, GOLD_HOURLY_ZONE, PIPELINE_RUNS

pytestmark = pytest.mark.contract

DAY = dt.date(2026, 3, 14)
PICKUP = dt.datetime(2026, 3, 14, 8, 15)


def test_every_statement_parses_with_sparks_own_parser_and_a_broken_one_does_not():
    statements = list(transforms.statements())
    broken = transforms.MERGE_BRONZE.replace("ON t.trip_id = s.trip_id\n", "")  # the parser must notice
    result = subprocess.run([str(spark_python()), str(Path(__file__).with_name("spark_parse.py"))],
                            input=json.dumps([*statements, broken]), capture_output=True, text=True, timeout=600,
                            env=classic_env())
    assert result.returncode == 0, result.stderr[-3000:]
    parsed = json.loads(result.stdout.strip().splitlines()[-1])
    assert [p.get("error") for p in parsed[:-1]] == [None] * len(statements)
    assert "missing 'ON'" in parsed[-1]["error"]
    plans = [p["plan"] for p in parsed[:-1]]
    assert plans[:len(transforms.DDL)] == ["CreateTable"] * len(transforms.DDL)
    assert plans[len(transforms.DDL):len(transforms.DDL) + 2] == ["MergeIntoTable", "MergeIntoTable"]


def _trip(trip_id: int, pickup: dt.datetime = PICKUP, zone: int = 132, fare: str = "10.00", tip: str = "2.00",
          distance: str = "3.10", passengers: int = 1) -> dict:
    amounts = {"fare_amount": Decimal(fare), "extra": Decimal("0.00"), "mta_tax": Decimal("0.50"),
               "tip_amount": Decimal(tip), "tolls_amount": Decimal("0.00"), "improvement_surcharge": Decimal("1.00"),
               "congestion_surcharge": Decimal("0.00"), "airport_fee": Decimal("0.00")}
    return {"trip_id": trip_id, "vendor_id": 1, "tpep_pickup_datetime": pickup,
            "tpep_dropoff_datetime": pickup + dt.timedelta(minutes=12), "passenger_count": passengers,
            "trip_distance": Decimal(distance), "ratecode_id": 1, "store_and_fwd_flag": "N", "pu_location_id": zone,
            "do_location_id": 161, "payment_type": 1, **amounts, "total_amount": sum(amounts.values())}


def _changes(spark, entries):
    """entries: (op, seq, row)"""
    rows = [{"op": op, "change_seq": seq, "changed_at": dt.datetime(2026, 3, 14, 12, tzinfo=dt.timezone.utc), **row}
            for op, seq, row in entries]
    columns = ["op", "change_seq", "changed_at", *source.TRIP_COLUMNS]
    return spark.createDataFrame([tuple(r[c] for c in columns) for r in rows], transforms.CHANGE_SCHEMA)


def _bronze(spark, entries):
    frame = _changes(spark, entries).drop("op")
    from pyspark.sql import functions as F
    return frame.withColumn("batch_id", F.lit("earlier")).select(*transforms.BRONZE_COLUMNS)


def test_latest_changes_keeps_the_last_change_of_each_trip(spark):
    changes = _changes(spark, [("I", 1, _trip(1)), ("I", 2, _trip(2)), ("U", 3, _trip(1, fare="12.00")),
                               ("D", 4, _trip(2)), ("D", 5, _trip(3))])
    latest = {r["trip_id"]: (r["op"], r["change_seq"], r["fare_amount"])
              for r in transforms.latest_changes(changes).collect()}
    assert latest == {1: ("U", 3, Decimal("12.00")), 2: ("D", 4, Decimal("10.00")), 3: ("D", 5, Decimal("10.00"))}


def test_apply_changes_updates_deletes_inserts_and_ignores_stale_changes_idempotently(spark):
    from pyspark.sql import functions as F
    target = _bronze(spark, [("I", 1, _trip(1)), ("I", 0, _trip(4)), ("U", 10, _trip(5, fare="50.00"))])
    latest = transforms.latest_changes(_changes(spark, [
        ("U", 3, _trip(1, tip="5.00")),      # newer: updates
        ("D", 4, _trip(2)),                  # a delete of a trip bronze never had: nothing
        ("D", 6, _trip(4)),                  # newer delete: removes
        ("U", 7, _trip(5, fare="1.00")),     # older than the row (seq 10): ignored
        ("I", 8, _trip(6)), ("U", 9, _trip(6, fare="20.00")),  # new trip, last version wins
    ])).withColumn("batch_id", F.lit("now"))
    once = transforms.apply_changes(target, latest)
    state = {r["trip_id"]: (r["change_seq"], r["fare_amount"], r["tip_amount"], r["batch_id"]) for r in once.collect()}
    assert state == {1: (3, Decimal("10.00"), Decimal("5.00"), "now"), 5: (10, Decimal("50.00"), Decimal("2.00"), "earlier"),
                     6: (9, Decimal("20.00"), Decimal("2.00"), "now")}
    twice = transforms.apply_changes(once, latest)
    assert sorted(map(tuple, twice.collect())) == sorted(map(tuple, once.collect()))


def test_gold_aggregates_match_hand_computed_values(spark):
    trips = _bronze(spark, [
        ("I", 1, _trip(1, fare="10.00", tip="2.00", distance="3.10", passengers=1)),                 # 132 Queens, 08h
        ("I", 2, _trip(2, fare="20.00", tip="0.00", distance="5.00", passengers=2)),                 # 132 Queens, 08h
        ("I", 3, _trip(3, pickup=PICKUP.replace(hour=17), zone=161, fare="7.50", tip="1.50", distance="1.25")),
        ("I", 4, _trip(4, pickup=PICKUP + dt.timedelta(days=1), zone=161, fare="9.00", tip="1.00", distance="2.00")),
    ])
    zones = transforms.zones_frame(spark, source.zone_rows())
    daily = sorted(tuple(r) for r in transforms.daily_zone_revenue(trips, zones).collect())
    day2 = DAY + dt.timedelta(days=1)
    # total = fare + 0.50 mta + tip + 1.00 improvement
    assert daily == [
        (DAY, 132, "Queens", "JFK Airport", 2, 3, Decimal("8.10"), Decimal("30.00"), Decimal("2.00"), Decimal("35.00")),
        (DAY, 161, "Manhattan", "Midtown Center", 1, 1, Decimal("1.25"), Decimal("7.50"), Decimal("1.50"), Decimal("10.50")),
        (day2, 161, "Manhattan", "Midtown Center", 1, 1, Decimal("2.00"), Decimal("9.00"), Decimal("1.00"), Decimal("11.50")),
    ]
    borough = sorted(tuple(r) for r in transforms.daily_borough_revenue(trips, zones).collect())
    assert borough == [
        (DAY, "Manhattan", 1, Decimal("1.25"), Decimal("7.50"), Decimal("1.50"), Decimal("10.50")),
        (DAY, "Queens", 2, Decimal("8.10"), Decimal("30.00"), Decimal("2.00"), Decimal("35.00")),
        (day2, "Manhattan", 1, Decimal("2.00"), Decimal("9.00"), Decimal("1.00"), Decimal("11.50")),
    ]
    hourly = sorted(tuple(r) for r in transforms.hourly_zone_demand(trips, zones).collect())
    assert hourly == [(DAY, 8, 132, 2, Decimal("4.05")), (DAY, 17, 161, 1, Decimal("1.25")),
                      (day2, 8, 161, 1, Decimal("2.00"))]


def _table(tables, name, snapshot=None):
    return sorted(tuple(r) for r in tables.read(name, snapshot).collect())


def test_transform_merges_batches_reruns_identically_and_keeps_each_runs_snapshots(
        spark, taxi_db, psycopg2, s3, tmp_path):
    connection = taxi_db().connect(psycopg2)
    source.install(connection)
    client = s3.client()
    tables = SnapshotTables(spark, tmp_path / "warehouse")
    reader = s3a_standin_reader(client, tmp_path / "landing")
    results = []
    for offset, run in enumerate(("run-1", "run-2")):
        source.play_day(connection, DAY + dt.timedelta(days=offset), 40)
        manifest = extract.extract(connection, client, "landing", run)
        results.append(transforms.transform(spark, tables, manifest, DAY + dt.timedelta(days=offset),
                                                  source.zone_rows(), reader=reader))
        extract.commit_watermark(connection, manifest)
    # Bronze is the source's current state, row for row.
    with connection, connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(source.TRIP_COLUMNS)} FROM trips ORDER BY trip_id")
        expected = [tuple(r) for r in cursor.fetchall()]
    bronze = tables.read(BRONZE_TRIPS).orderBy("trip_id").select(*source.TRIP_COLUMNS).collect()
    assert [tuple(r) for r in bronze] == expected
    # Rerunning the second run (same manifest) changes no table.
    before = {t: _table(tables, t) for t in (BRONZE_TRIPS, GOLD_DAILY_ZONE, GOLD_DAILY_BOROUGH, GOLD_HOURLY_ZONE)}
    manifest = extract.read_manifest(client, "landing", "run-2")
    transforms.transform(spark, tables, manifest, DAY + dt.timedelta(days=1), source.zone_rows(), reader=reader)
    assert {t: _table(tables, t) for t in before} == before
    # Each run's snapshot ids are recorded; reading them back gives that run's bronze (time travel).
    runs = {r["run_id"]: r for r in tables.read(PIPELINE_RUNS).collect()}
    assert set(runs) == {"run-1", "run-2"}
    first = runs["run-1"]["snapshots"][BRONZE_TRIPS]
    assert first == results[0]["snapshots"][BRONZE_TRIPS] < results[1]["snapshots"][BRONZE_TRIPS]
    run1_ids = {r["trip_id"] for r in tables.read(BRONZE_TRIPS, first).collect()}
    assert run1_ids and all(i < source.trip_id_base(DAY + dt.timedelta(days=1)) for i in run1_ids)
    assert results[1]["days"] and DAY.isoformat() in results[1]["days"] or results[1]["days"] == [
        (DAY + dt.timedelta(days=1)).isoformat()]
