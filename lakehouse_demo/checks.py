"""Data-quality checks, in Trino SQL, and the reconciliation of bronze against the source.

Each check is one query that returns a single number: how many rows violate it (0 passes). The
reconciliation compares, per pickup day, the trips and the amounts in `iceberg.bronze.trips` (Trino)
with the source's state at the batch's watermark (PostgreSQL), exactly, in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterable, Sequence

from lakehouse_demo.tables import (BRONZE_TRIPS, BRONZE_ZONES, GOLD_DAILY_BOROUGH, GOLD_DAILY_ZONE,
                                   GOLD_HOURLY_ZONE)

DEFAULT_FRESHNESS_HOURS = 36
AMOUNTS = ("fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount", "improvement_surcharge",
           "congestion_surcharge", "airport_fee")


@dataclass(frozen=True)
class Check:
    name: str
    sql: str


def _duplicates(table: str, keys: Sequence[str]) -> str:
    nulls = " OR ".join(f"{k} IS NULL" for k in keys)
    key = ", ".join(keys)
    return (f"SELECT (SELECT count(*) FROM {table} WHERE {nulls}) + "
            f"(SELECT count(*) FROM (SELECT {key} FROM {table} GROUP BY {key} HAVING count(*) > 1) AS d)")


def checks(freshness_hours: int = DEFAULT_FRESHNESS_HOURS) -> list[Check]:
    hours = int(freshness_hours)
    total = " + ".join(AMOUNTS)
    return [
        Check("bronze_trip_id_not_null_and_unique", _duplicates(BRONZE_TRIPS, ("trip_id",))),
        Check("bronze_amounts_and_distances_in_range", f"""SELECT count(*) FROM {BRONZE_TRIPS}
WHERE trip_distance < 0 OR trip_distance > 500
   OR fare_amount < 0 OR fare_amount > 2000 OR tip_amount < 0 OR tip_amount > 1000
   OR total_amount < 0 OR total_amount > 5000 OR total_amount <> {total}
   OR passenger_count < 0 OR passenger_count > 9
   OR tpep_dropoff_datetime < tpep_pickup_datetime
   OR tpep_dropoff_datetime > tpep_pickup_datetime + INTERVAL '1' DAY"""),
        Check("bronze_zones_valid", f"""SELECT count(*) FROM {BRONZE_TRIPS} AS t
LEFT JOIN {BRONZE_ZONES} AS pu ON t.pu_location_id = pu.location_id
LEFT JOIN {BRONZE_ZONES} AS dz ON t.do_location_id = dz.location_id
WHERE pu.location_id IS NULL OR dz.location_id IS NULL"""),
        Check("bronze_fresh", f"""SELECT count(*) FROM (SELECT max(changed_at) AS latest FROM {BRONZE_TRIPS}) AS f
WHERE f.latest IS NULL OR f.latest < current_timestamp - INTERVAL '{hours}' HOUR"""),
        Check("gold_daily_zone_keys", _duplicates(GOLD_DAILY_ZONE, ("pickup_date", "pu_location_id"))),
        Check("gold_daily_borough_keys", _duplicates(GOLD_DAILY_BOROUGH, ("pickup_date", "borough"))),
        Check("gold_hourly_zone_keys", _duplicates(GOLD_HOURLY_ZONE, ("pickup_date", "pickup_hour", "pu_location_id"))
              + f" + (SELECT count(*) FROM {GOLD_HOURLY_ZONE} WHERE pickup_hour NOT BETWEEN 0 AND 23)"),
        # Gold adds up to bronze, day by day (a day missing on either side counts as a violation).
        Check("gold_matches_bronze", f"""SELECT count(*) FROM (
  SELECT CAST(tpep_pickup_datetime AS date) AS day, count(*) AS trips, sum(total_amount) AS total
  FROM {BRONZE_TRIPS} GROUP BY CAST(tpep_pickup_datetime AS date)) AS b
FULL OUTER JOIN (
  SELECT pickup_date AS day, sum(trips) AS trips, sum(total_amount) AS total
  FROM {GOLD_DAILY_ZONE} GROUP BY pickup_date) AS g ON b.day = g.day
WHERE b.day IS NULL OR g.day IS NULL OR b.trips <> g.trips OR b.total <> g.total"""),
    ]


@dataclass(frozen=True)
class Result:
    name: str
    violations: int

    @property
    def passed(self) -> bool:
        return self.violations == 0


class DataQualityError(RuntimeError):
    pass


def run_checks(query: Callable[[str], list[Sequence[Any]]], freshness_hours: int = DEFAULT_FRESHNESS_HOURS
               ) -> list[Result]:
    return [Result(c.name, int(query(c.sql)[0][0])) for c in checks(freshness_hours)]


# --- reconciliation ------------------------------------------------------------------------------

RECONCILED = ("trips", "trip_distance", "fare_amount", "tip_amount", "total_amount")

BRONZE_DAILY = f"""SELECT CAST(tpep_pickup_datetime AS date) AS day, count(*) AS trips,
  sum(trip_distance) AS trip_distance, sum(fare_amount) AS fare_amount, sum(tip_amount) AS tip_amount,
  sum(total_amount) AS total_amount
FROM {BRONZE_TRIPS} GROUP BY CAST(tpep_pickup_datetime AS date) ORDER BY day"""

# The source's trips as they stood at sequence %(watermark)s: the table itself for every trip no later
# change touched, and for the others their last change up to the watermark (if it was not a delete).
SOURCE_DAILY_AT = """WITH touched AS (
  SELECT DISTINCT trip_id FROM trip_changes WHERE seq > %(watermark)s
), before AS (
  SELECT DISTINCT ON (c.trip_id) c.op, c.row_data FROM trip_changes AS c JOIN touched USING (trip_id)
  WHERE c.seq <= %(watermark)s ORDER BY c.trip_id, c.seq DESC
), state AS (
  SELECT tpep_pickup_datetime, trip_distance, fare_amount, tip_amount, total_amount
  FROM trips WHERE trip_id NOT IN (SELECT trip_id FROM touched)
  UNION ALL
  SELECT (row_data->>'tpep_pickup_datetime')::timestamp, (row_data->>'trip_distance')::numeric,
         (row_data->>'fare_amount')::numeric, (row_data->>'tip_amount')::numeric,
         (row_data->>'total_amount')::numeric
  FROM before WHERE op <> 'D'
)
SELECT tpep_pickup_datetime::date AS day, count(*), sum(trip_distance), sum(fare_amount), sum(tip_amount),
       sum(total_amount)
FROM state GROUP BY 1 ORDER BY 1"""


def source_daily_at(connection, watermark: int) -> list[tuple]:
    """Per day: trips and sums of the source at `watermark`, read in one snapshot."""
    with connection, connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute(SOURCE_DAILY_AT, {"watermark": watermark})
        return cursor.fetchall()


def _normal(rows: Iterable[Sequence[Any]]) -> dict[str, tuple]:
    out = {}
    for day, trips, *sums in rows:
        out[str(day)] = (int(trips), *(Decimal(str(s)).quantize(Decimal("0.01")) for s in sums))
    return out


def reconcile(lakehouse: Iterable[Sequence[Any]], source: Iterable[Sequence[Any]]) -> list[str]:
    """The differences between two per-day summaries (day, trips, sums...); [] when they agree exactly."""
    left, right = _normal(lakehouse), _normal(source)
    problems = []
    for day in sorted(set(left) | set(right)):
        a, b = left.get(day), right.get(day)
        if a != b:
            problems.append(f"{day}: lakehouse {dict(zip(RECONCILED, a)) if a else 'missing'} != "
                            f"source {dict(zip(RECONCILED, b)) if b else 'missing'}")
    return problems


def validate(query: Callable[[str], list[Sequence[Any]]], source_connection, watermark: int,
             freshness_hours: int = DEFAULT_FRESHNESS_HOURS) -> dict[str, Any]:
    """Run every check and the reconciliation; raise DataQualityError naming every failure."""
    results = run_checks(query, freshness_hours)
    bronze = query(BRONZE_DAILY)
    mismatches = reconcile(bronze, source_daily_at(source_connection, watermark))
    failures = [f"{r.name}: {r.violations} violation(s)" for r in results if not r.passed]
    failures += [f"reconciliation {m}" for m in mismatches]
    if failures:
        raise DataQualityError("data quality failed:\n  " + "\n  ".join(failures))
    return {"checks": {r.name: r.violations for r in results}, "reconciled_days": len(bronze)}
