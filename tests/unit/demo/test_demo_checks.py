"""The data-quality SQL: valid Trino, and each check fails on its violation and passes on clean data.

Trino cannot run here: DuckDB stands in for it, the Trino SQL transpiled by sqlglot (tests/demo_standins.py).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from demo_standins import DuckTrino, trino_to_duckdb
from lakehouse_demo import checks
from lakehouse_demo.source import AMOUNT_COLUMNS, TRIP_COLUMNS, plan_activity, zone_rows

DAY = dt.date(2026, 3, 14)
TRINO_SQL = [c.sql for c in checks.checks()] + [checks.BRONZE_DAILY]


@pytest.mark.parametrize("sql", TRINO_SQL, ids=[c.name for c in checks.checks()] + ["bronze_daily"])
def test_every_check_is_valid_trino_sql(sql):
    parsed = sqlglot.parse(sql, read="trino", error_level=ErrorLevel.RAISE)
    assert len(parsed) == 1 and parsed[0] is not None
    assert trino_to_duckdb(sql)


def _money(name: str) -> str:
    return f"{name} DECIMAL(9,2)"


BRONZE_COLUMNS = ", ".join([
    "trip_id BIGINT", "vendor_id INT", "tpep_pickup_datetime TIMESTAMP", "tpep_dropoff_datetime TIMESTAMP",
    "passenger_count INT", _money("trip_distance"), "ratecode_id INT", "store_and_fwd_flag VARCHAR",
    "pu_location_id INT", "do_location_id INT", "payment_type INT",
    *(_money(c) for c in TRIP_COLUMNS[11:]), "change_seq BIGINT", "changed_at TIMESTAMPTZ", "batch_id VARCHAR"])


@pytest.fixture
def lakehouse() -> DuckTrino:
    """Clean bronze and gold: 40 generated trips, gold aggregated from them."""
    engine = DuckTrino()
    engine.table("iceberg.bronze.taxi_zones", "location_id INT, borough VARCHAR, zone VARCHAR, service_zone VARCHAR",
                 zone_rows())
    now = dt.datetime.now(dt.timezone.utc)
    rows = [(*(o.values[c] for c in TRIP_COLUMNS), n, now, "run-1")
            for n, o in enumerate(plan_activity(DAY, 40)) if o.op == "I"]
    engine.table("iceberg.bronze.trips", BRONZE_COLUMNS, rows)
    engine.db.execute("""CREATE TABLE iceberg.gold.daily_zone_revenue AS
        SELECT CAST(tpep_pickup_datetime AS DATE) AS pickup_date, pu_location_id, z.borough, z.zone,
               count(*) AS trips, sum(passenger_count) AS passengers, sum(trip_distance) AS trip_distance,
               sum(fare_amount) AS fare_amount, sum(tip_amount) AS tip_amount, sum(total_amount) AS total_amount
        FROM iceberg.bronze.trips t JOIN iceberg.bronze.taxi_zones z ON t.pu_location_id = z.location_id
        GROUP BY ALL""")
    engine.db.execute("""CREATE TABLE iceberg.gold.daily_borough_revenue AS
        SELECT pickup_date, borough, sum(trips) AS trips, sum(total_amount) AS total_amount
        FROM iceberg.gold.daily_zone_revenue GROUP BY ALL""")
    engine.db.execute("""CREATE TABLE iceberg.gold.hourly_zone_demand AS
        SELECT CAST(tpep_pickup_datetime AS DATE) AS pickup_date, hour(tpep_pickup_datetime) AS pickup_hour,
               pu_location_id, count(*) AS trips FROM iceberg.bronze.trips GROUP BY ALL""")
    return engine


def test_clean_data_passes_every_check(lakehouse):
    results = checks.run_checks(lakehouse.query)
    assert [r.name for r in results if not r.passed] == []
    assert len(results) == len(checks.checks())


# Each crafted violation, as DuckDB SQL on clean data, and the one check that must catch it.
VIOLATIONS = {
    "bronze_trip_id_not_null_and_unique": [
        "INSERT INTO iceberg.bronze.trips SELECT * FROM iceberg.bronze.trips LIMIT 1",
        "UPDATE iceberg.bronze.trips SET trip_id = NULL WHERE trip_id = (SELECT min(trip_id) FROM iceberg.bronze.trips)",
    ],
    "bronze_amounts_and_distances_in_range": [
        "UPDATE iceberg.bronze.trips SET trip_distance = -1 WHERE trip_id = (SELECT min(trip_id) FROM iceberg.bronze.trips)",
        "UPDATE iceberg.bronze.trips SET total_amount = total_amount + 0.01 "
        "WHERE trip_id = (SELECT min(trip_id) FROM iceberg.bronze.trips)",
        "UPDATE iceberg.bronze.trips SET passenger_count = 12 WHERE trip_id = (SELECT min(trip_id) FROM iceberg.bronze.trips)",
        "UPDATE iceberg.bronze.trips SET tpep_dropoff_datetime = tpep_pickup_datetime - INTERVAL 1 MINUTE "
        "WHERE trip_id = (SELECT min(trip_id) FROM iceberg.bronze.trips)",
    ],
    "bronze_zones_valid": [
        "UPDATE iceberg.bronze.trips SET do_location_id = 999 WHERE trip_id = (SELECT min(trip_id) FROM iceberg.bronze.trips)",
    ],
    "bronze_fresh": ["UPDATE iceberg.bronze.trips SET changed_at = changed_at - INTERVAL 3 DAY"],
    "gold_daily_zone_keys": ["INSERT INTO iceberg.gold.daily_zone_revenue SELECT * FROM iceberg.gold.daily_zone_revenue LIMIT 1"],
    "gold_daily_borough_keys": ["UPDATE iceberg.gold.daily_borough_revenue SET borough = NULL "
                                "WHERE borough = (SELECT min(borough) FROM iceberg.gold.daily_borough_revenue)"],
    "gold_hourly_zone_keys": ["UPDATE iceberg.gold.hourly_zone_demand SET pickup_hour = 24 "
                              "WHERE pickup_hour = (SELECT min(pickup_hour) FROM iceberg.gold.hourly_zone_demand)"],
    "gold_matches_bronze": [
        "DELETE FROM iceberg.bronze.trips WHERE trip_id = (SELECT min(trip_id) FROM iceberg.bronze.trips)",
        "UPDATE iceberg.gold.daily_zone_revenue SET pickup_date = pickup_date + 1",
    ],
}


@pytest.mark.parametrize("check,violation", [(c, v) for c, vs in VIOLATIONS.items() for v in vs])
def test_each_check_fails_on_its_crafted_violation(lakehouse, check, violation):
    lakehouse.db.execute(violation)
    failed = {r.name for r in checks.run_checks(lakehouse.query) if not r.passed}
    assert check in failed


def test_every_check_has_a_crafted_violation():
    assert set(VIOLATIONS) == {c.name for c in checks.checks()}


def test_bronze_daily_summary_reconciles_exactly_with_the_same_numbers(lakehouse):
    bronze = lakehouse.query(checks.BRONZE_DAILY)
    assert bronze and bronze[0][0] == DAY
    source = [(str(d), n, *(Decimal(str(s)) for s in sums)) for d, n, *sums in bronze]
    assert checks.reconcile(bronze, source) == []
    off_by_a_cent = [(d, n, *sums[:-1], sums[-1] + Decimal("0.01")) for d, n, *sums in source]
    assert checks.reconcile(bronze, off_by_a_cent) == [
        f"{DAY}: lakehouse {dict(zip(checks.RECONCILED, checks._normal(bronze)[str(DAY)]))} != "
        f"source {dict(zip(checks.RECONCILED, checks._normal(off_by_a_cent)[str(DAY)]))}"]
    assert checks.reconcile(bronze, []) == [f"{DAY}: lakehouse {dict(zip(checks.RECONCILED, checks._normal(bronze)[str(DAY)]))} != source missing"]
    assert len(checks.reconcile(bronze, source + [("2026-03-15", 1, *([Decimal("1.00")] * 4))])) == 1


def test_the_amount_check_covers_every_amount_column():
    amounts = next(c.sql for c in checks.checks() if c.name == "bronze_amounts_and_distances_in_range")
    assert all(column in amounts for column in AMOUNT_COLUMNS)
