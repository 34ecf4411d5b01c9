"""The taxi source's generator and reference data, as pure functions."""

from __future__ import annotations

import datetime as dt

from lakehouse_demo.source import (AMOUNT_COLUMNS, TRIP_COLUMNS, Operation, plan_activity, trip_id_base,
                                   zone_rows)

DAY = dt.date(2026, 3, 14)


def test_the_zone_lookup_is_the_tlc_file():
    zones = zone_rows()
    assert [z[0] for z in zones] == list(range(1, 266))
    assert zones[0] == (1, "EWR", "Newark Airport", "EWR")
    assert zones[131] == (132, "Queens", "JFK Airport", "Airports")
    assert {z[1] for z in zones} == {"EWR", "Queens", "Bronx", "Manhattan", "Staten Island", "Brooklyn", "Unknown"}


def test_the_same_day_gives_the_same_activity_and_another_day_another():
    assert plan_activity(DAY, 80) == plan_activity(DAY, 80)
    assert plan_activity(DAY, 80) != plan_activity(DAY + dt.timedelta(days=1), 80)


def test_a_day_adds_trips_then_corrects_and_cancels_existing_ones():
    operations = plan_activity(DAY, 100)
    kinds = [o.op for o in operations]
    assert kinds == ["I"] * 100 + ["U"] * 10 + ["D"] * 3
    inserted = [o.values for o in operations if o.op == "I"]
    assert [r["trip_id"] for r in inserted] == [trip_id_base(DAY) + n for n in range(1, 101)]
    for row in inserted:
        assert set(row) == set(TRIP_COLUMNS)
        assert row["tpep_pickup_datetime"].date() == DAY
        assert row["tpep_dropoff_datetime"] >= row["tpep_pickup_datetime"]
        assert row["total_amount"] == sum(row[c] for c in AMOUNT_COLUMNS)
        assert 1 <= row["pu_location_id"] <= 263 and 1 <= row["do_location_id"] <= 263


def test_corrections_keep_totals_consistent_and_target_existing_trips():
    earlier = [(o.trip_id, o.values) for o in plan_activity(DAY, 30) if o.op == "I"]
    operations = plan_activity(DAY + dt.timedelta(days=1), 30, earlier)
    rows = dict(earlier)
    for operation in operations:
        if operation.op == "I":
            rows[operation.trip_id] = operation.values
        elif operation.op == "U":
            assert operation.trip_id in rows
            row = {**rows[operation.trip_id], **operation.values}
            assert row["total_amount"] == sum(row[c] for c in AMOUNT_COLUMNS)
            rows[operation.trip_id] = row
        else:
            assert operation == Operation("D", operation.trip_id) and operation.trip_id in rows
            del rows[operation.trip_id]
    assert any(o.op in "UD" and o.trip_id < trip_id_base(DAY + dt.timedelta(days=1)) for o in operations), (
        "corrections and cancellations reach trips of earlier days")
