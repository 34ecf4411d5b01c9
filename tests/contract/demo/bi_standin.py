"""A PostgreSQL database shaped like the lakehouse's `iceberg` catalog, for Superset to query.

Schemas `gold` and `bronze` of a database named `iceberg`, the tables the dashboard reads, so the content's
three-part names (`iceberg.gold.demand_predictions`) resolve unchanged. Rows come from the source
generator's trips (part 1), aggregated as the gold builders do; predictions of two model versions
are a per-zone-and-hour mean (version 2) and a flat mean (version 1), so the charts show a better and
a worse model.
"""

from __future__ import annotations

import collections
import datetime as dt
import random
from decimal import Decimal

from lakehouse_demo import source

DAYS = 7
FIRST_DAY = dt.date(2026, 3, 1)

DDL = """
CREATE TABLE bronze.taxi_zones (location_id INT, borough TEXT, zone TEXT, service_zone TEXT);
CREATE TABLE gold.daily_borough_revenue (pickup_date DATE, borough TEXT, trips BIGINT, trip_distance NUMERIC(18,2),
  fare_amount NUMERIC(18,2), tip_amount NUMERIC(18,2), total_amount NUMERIC(18,2));
CREATE TABLE gold.daily_zone_revenue (pickup_date DATE, pu_location_id INT, borough TEXT, zone TEXT, trips BIGINT,
  passengers BIGINT, trip_distance NUMERIC(18,2), fare_amount NUMERIC(18,2), tip_amount NUMERIC(18,2),
  total_amount NUMERIC(18,2));
CREATE TABLE gold.hourly_zone_demand (pickup_date DATE, pickup_hour INT, pu_location_id INT, trips BIGINT,
  avg_trip_distance NUMERIC(9,2));
CREATE TABLE gold.demand_predictions (pickup_date DATE, pickup_hour INT, pu_location_id INT, day_of_week INT,
  actual_trips BIGINT, predicted_trips DOUBLE PRECISION, model_name TEXT, model_version INT, run_id TEXT,
  scored_at TIMESTAMP);
CREATE TABLE gold.model_versions (model_name TEXT, model_version INT, run_id TEXT, is_champion BOOLEAN, aliases TEXT,
  created_at TIMESTAMP, train_start DATE, train_end DATE, holdout_start DATE, holdout_end DATE,
  alpha DOUBLE PRECISION, holdout_rmse DOUBLE PRECISION, holdout_mae DOUBLE PRECISION,
  holdout_poisson_deviance DOUBLE PRECISION, train_rows BIGINT, promotion TEXT);
"""


def rows() -> dict[str, list[tuple]]:
    zones = {z[0]: z for z in source.zone_rows()}
    trips = [op.values for d in range(DAYS) for op in source.plan_activity(FIRST_DAY + dt.timedelta(days=d), 600)
             if op.op == "I"]
    borough = collections.defaultdict(lambda: [0, Decimal(0), Decimal(0), Decimal(0), Decimal(0)])
    zone_day = collections.defaultdict(lambda: [0, 0, Decimal(0), Decimal(0), Decimal(0), Decimal(0)])
    hourly = collections.defaultdict(list)
    for t in trips:
        day, zone = t["tpep_pickup_datetime"].date(), t["pu_location_id"]
        b = borough[(day, zones[zone][1])]
        b[0] += 1
        for i, c in enumerate(("trip_distance", "fare_amount", "tip_amount", "total_amount"), 1):
            b[i] += t[c]
        z = zone_day[(day, zone)]
        z[0] += 1
        z[1] += t["passenger_count"]
        for i, c in enumerate(("trip_distance", "fare_amount", "tip_amount", "total_amount"), 2):
            z[i] += t[c]
        hourly[(day, t["tpep_pickup_datetime"].hour, zone)].append(t["trip_distance"])
    counts = {k: len(v) for k, v in hourly.items()}
    days = [FIRST_DAY + dt.timedelta(days=d) for d in range(DAYS)]
    train_days, scored_days = days[:-3], days[-3:]
    per_cell = collections.Counter()
    for (day, hour, zone), n in counts.items():
        if day in train_days:
            per_cell[(hour, zone)] += n
    flat = sum(per_cell.values()) / (len(train_days) * 24 * len(zones))
    rng = random.Random(7)
    predictions, scored_at = [], dt.datetime(2026, 3, 8, 6, 0)
    for version, run_id in ((1, "a1" * 16), (2, "b2" * 16)):
        for day in scored_days:
            for hour in range(24):
                for zone in zones:
                    mean = per_cell[(hour, zone)] / len(train_days) if version == 2 else flat
                    predictions.append((day, hour, zone, int(day.strftime("%w")) + 1, counts.get((day, hour, zone), 0),
                                        max(0.0, mean * rng.uniform(0.9, 1.1)), "taxi_hourly_demand", version, run_id,
                                        scored_at))
    versions = [("taxi_hourly_demand", 1, "a1" * 16, False, "", dt.datetime(2026, 3, 5, 6), days[0], days[3], days[4],
                 days[6], 1.0, 0.62, 0.21, 0.55, 25440, "champion"),
                ("taxi_hourly_demand", 2, "b2" * 16, True, "champion", dt.datetime(2026, 3, 8, 6), days[0], days[3],
                 days[4], days[6], 1e-3, 0.48, 0.18, 0.41, 25440, "champion")]
    return {
        "bronze.taxi_zones": list(source.zone_rows()),
        "gold.daily_borough_revenue": [(d, b, *v) for (d, b), v in sorted(borough.items())],
        "gold.daily_zone_revenue": [(d, z, zones[z][1], zones[z][2], *v) for (d, z), v in sorted(zone_day.items())],
        "gold.hourly_zone_demand": [(d, h, z, len(v), Decimal(sum(v) / len(v)).quantize(Decimal("0.01")))
                                    for (d, h, z), v in sorted(hourly.items())],
        "gold.demand_predictions": predictions,
        "gold.model_versions": versions,
    }


def load(connection, psycopg2) -> dict[str, int]:
    from psycopg2.extras import execute_values

    with connection, connection.cursor() as cursor:
        cursor.execute(DDL)
        loaded = {}
        for table, values in rows().items():
            execute_values(cursor, f"INSERT INTO {table} VALUES %s", values, page_size=5000)
            loaded[table] = len(values)
    return loaded
