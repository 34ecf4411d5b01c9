"""The operational source: its schema, the zone lookup, and a deterministic generator of activity.

`plan_activity(day, trips)` is pure: the same day and the same set of existing trips give the same
operations, in the same order. `play_day(connection, day, trips)` plays them in one transaction and
records the day, so a retried run never plays a day twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import random
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from typing import Any, Iterable, Sequence

DEFAULT_TRIPS = 200
# Of the trips a day adds, this share of corrections (fare or tip) and of cancellations (deletes), over
# the day's new trips and the ones before them.
CORRECTION_SHARE = 0.10
CANCELLATION_SHARE = 0.03

TRIP_COLUMNS: tuple[str, ...] = (
    "trip_id", "vendor_id", "tpep_pickup_datetime", "tpep_dropoff_datetime", "passenger_count", "trip_distance",
    "ratecode_id", "store_and_fwd_flag", "pu_location_id", "do_location_id", "payment_type", "fare_amount", "extra",
    "mta_tax", "tip_amount", "tolls_amount", "improvement_surcharge", "congestion_surcharge", "airport_fee",
    "total_amount",
)
AMOUNT_COLUMNS: tuple[str, ...] = ("fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount",
                                   "improvement_surcharge", "congestion_surcharge", "airport_fee")
CENT = Decimal("0.01")


def schema_sql() -> str:
    return resources.files("lakehouse_demo").joinpath("sql/source_schema.sql").read_text()


def parse_zones(text: str) -> list[tuple[int, str, str, str]]:
    """Rows of a TLC taxi-zone lookup in the TLC's CSV layout."""
    return [(int(r["LocationID"]), r["Borough"], r["Zone"], r["service_zone"])
            for r in csv.DictReader(io.StringIO(text, newline=""))]


def zone_rows() -> list[tuple[int, str, str, str]]:
    """The TLC taxi-zone lookup shipped with the package (265 zones); the stack also uploads this file to
    the `reference` bucket, where the pipeline reads it."""
    return parse_zones(resources.files("lakehouse_demo").joinpath("data/taxi_zone_lookup.csv").read_text())


def install(connection) -> None:
    """Create the schema (idempotent) and load the zones (inserted or refreshed)."""
    with connection, connection.cursor() as cursor:
        cursor.execute(schema_sql())
        cursor.executemany(
            "INSERT INTO taxi_zones (location_id, borough, zone, service_zone) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (location_id) DO UPDATE SET borough = EXCLUDED.borough, zone = EXCLUDED.zone, "
            "service_zone = EXCLUDED.service_zone", zone_rows())


# --- the generator -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Operation:
    op: str                      # I, U or D
    trip_id: int
    values: dict[str, Any] = field(default_factory=dict)  # the full row for I, the changed columns for U


def _seed(day: dt.date) -> int:
    return int.from_bytes(hashlib.sha256(f"taxi-source:{day.isoformat()}".encode()).digest()[:8], "big")


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _total(row: dict[str, Any]) -> Decimal:
    return sum((row[c] for c in AMOUNT_COLUMNS), Decimal("0.00"))


def _new_trip(rng: random.Random, trip_id: int, day: dt.date, zones: Sequence[int]) -> dict[str, Any]:
    pickup = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=rng.randrange(86400))
    distance = _money(min(60.0, rng.lognormvariate(0.6, 0.8)))
    minutes = max(1, int(float(distance) * rng.uniform(2.5, 6.0)))
    airport_pickup = rng.random() < 0.08
    pu = rng.choice((132, 138)) if airport_pickup else rng.choice(zones)
    payment = rng.choices((1, 2, 3, 4), weights=(70, 25, 3, 2))[0]
    fare = _money(3.0 + 2.5 * float(distance) + 0.5 * minutes)
    row = {
        "trip_id": trip_id, "vendor_id": rng.choice((1, 2)),
        "tpep_pickup_datetime": pickup, "tpep_dropoff_datetime": pickup + dt.timedelta(minutes=minutes),
        "passenger_count": rng.choices((1, 2, 3, 4, 5, 6), weights=(70, 15, 6, 4, 3, 2))[0],
        "trip_distance": distance, "ratecode_id": 2 if pu == 132 and rng.random() < 0.5 else 1,
        "store_and_fwd_flag": "Y" if rng.random() < 0.01 else "N",
        "pu_location_id": pu, "do_location_id": rng.choice(zones), "payment_type": payment,
        "fare_amount": fare, "extra": _money(rng.choice((0, 1, 2.5))), "mta_tax": Decimal("0.50"),
        "tip_amount": _money(float(fare) * rng.choice((0.15, 0.2, 0.25))) if payment == 1 else Decimal("0.00"),
        "tolls_amount": _money(6.94) if rng.random() < 0.05 else Decimal("0.00"),
        "improvement_surcharge": Decimal("1.00"), "congestion_surcharge": _money(2.5),
        "airport_fee": _money(1.75) if airport_pickup else Decimal("0.00"),
    }
    row["total_amount"] = _total(row)
    return row


def trip_id_base(day: dt.date) -> int:
    """Trip ids of a day: yyyymmdd * 1e6 + n, so days never collide and ids sort by day."""
    return int(day.strftime("%Y%m%d")) * 1_000_000


def plan_activity(day: dt.date, trips: int, existing: Iterable[tuple[int, dict[str, Any]]] = (),
                  zones: Sequence[int] | None = None) -> list[Operation]:
    """A day of activity: `trips` new trips, then corrections and cancellations among all trips.

    `existing` are (trip_id, row) of the trips already in the source, so corrections keep totals consistent.
    """
    rng = random.Random(_seed(day))
    zones = list(zones or [z[0] for z in zone_rows() if z[0] < 264])  # 264/265 are the "unknown" zones
    rows = dict(sorted(existing, key=lambda item: item[0]))
    operations: list[Operation] = []
    base = trip_id_base(day)
    for n in range(1, trips + 1):
        row = _new_trip(rng, base + n, day, zones)
        rows[row["trip_id"]] = row
        operations.append(Operation("I", row["trip_id"], row))
    keys = sorted(rows)
    for trip_id in rng.sample(keys, min(len(keys), round(trips * CORRECTION_SHARE))):
        row = dict(rows[trip_id])
        if rng.random() < 0.5:
            row["fare_amount"] = _money(float(row["fare_amount"]) * rng.uniform(0.8, 1.2))
        else:
            row["tip_amount"] = _money(float(row["fare_amount"]) * rng.choice((0.0, 0.1, 0.3)))
        row["total_amount"] = _total(row)
        rows[trip_id] = row
        operations.append(Operation("U", trip_id, {k: row[k] for k in ("fare_amount", "tip_amount", "total_amount")}))
    keys = sorted(rows)
    for trip_id in sorted(rng.sample(keys, min(len(keys), round(trips * CANCELLATION_SHARE)))):
        del rows[trip_id]
        operations.append(Operation("D", trip_id))
    return operations


def existing_trips(cursor) -> list[tuple[int, dict[str, Any]]]:
    cursor.execute(f"SELECT {', '.join(TRIP_COLUMNS)} FROM trips ORDER BY trip_id")
    return [(r[0], dict(zip(TRIP_COLUMNS, r))) for r in cursor.fetchall()]


def play_day(connection, day: dt.date, trips: int = DEFAULT_TRIPS) -> list[Operation]:
    """Play a day's activity in one transaction; a day already played is not played again ([] returned)."""
    with connection, connection.cursor() as cursor:
        cursor.execute("INSERT INTO generated_days (day, operations) VALUES (%s, 0) ON CONFLICT DO NOTHING", (day,))
        if cursor.rowcount == 0:
            return []
        operations = plan_activity(day, trips, existing_trips(cursor))
        insert = (f"INSERT INTO trips ({', '.join(TRIP_COLUMNS)}) "
                  f"VALUES ({', '.join(['%s'] * len(TRIP_COLUMNS))})")
        for operation in operations:
            if operation.op == "I":
                cursor.execute(insert, [operation.values[c] for c in TRIP_COLUMNS])
            elif operation.op == "U":
                columns = sorted(operation.values)
                cursor.execute(f"UPDATE trips SET {', '.join(f'{c} = %s' for c in columns)} WHERE trip_id = %s",
                               [*(operation.values[c] for c in columns), operation.trip_id])
            else:
                cursor.execute("DELETE FROM trips WHERE trip_id = %s", (operation.trip_id,))
        cursor.execute("UPDATE generated_days SET operations = %s WHERE day = %s", (len(operations), day))
    return operations
