"""The taxi source on a real PostgreSQL: idempotent DDL, a change log that holds exactly what was played."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from lakehouse_demo import source

pytestmark = pytest.mark.contract

DAY = dt.date(2026, 3, 14)


def _log(connection) -> list[tuple]:
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT seq, op, trip_id, row_data::text FROM trip_changes ORDER BY seq")
        return [(seq, op, trip_id, json.loads(row, parse_float=Decimal)) for seq, op, trip_id, row in cursor.fetchall()]


def _state(connection) -> list[tuple]:
    with connection, connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(source.TRIP_COLUMNS)} FROM trips ORDER BY trip_id")
        return cursor.fetchall()


def test_the_schema_installs_twice_as_the_source_role(taxi_db, psycopg2):
    connection = taxi_db().connect(psycopg2)
    source.install(connection)
    source.install(connection)
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*), min(location_id), max(location_id) FROM taxi_zones")
        assert cursor.fetchone() == (265, 1, 265)
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'trips'::regclass AND NOT tgisinternal")
        assert cursor.fetchall() == [("trips_capture",)]


def test_the_change_log_holds_exactly_the_played_operations_in_order(taxi_db, psycopg2):
    connection = taxi_db().connect(psycopg2)
    source.install(connection)
    played = source.play_day(connection, DAY, 60) + source.play_day(connection, DAY + dt.timedelta(days=1), 60)
    log = _log(connection)
    assert [(op, trip_id) for _, op, trip_id, _ in log] == [(o.op, o.trip_id) for o in played]
    assert [seq for seq, *_ in log] == sorted(seq for seq, *_ in log)
    for (_, op, _, row), operation in zip(log, played):
        if op == "I":
            assert {k: row[k] for k in ("trip_id", "fare_amount", "total_amount")} == {
                k: operation.values[k] for k in ("trip_id", "fare_amount", "total_amount")}
        elif op == "U":
            assert all(row[k] == v for k, v in operation.values.items())
        else:
            assert row["trip_id"] == operation.trip_id  # the deleted row itself
    assert {o.op for o in played} == {"I", "U", "D"}


def test_a_day_is_played_once(taxi_db, psycopg2):
    connection = taxi_db().connect(psycopg2)
    source.install(connection)
    assert source.play_day(connection, DAY, 20)
    assert source.play_day(connection, DAY, 20) == []
    assert len(_log(connection)) == 20 + 2 + 1


def test_the_same_days_give_the_same_data(taxi_db, psycopg2):
    first, second = taxi_db().connect(psycopg2), taxi_db().connect(psycopg2)
    for connection in (first, second):
        source.install(connection)
        for offset in range(3):
            source.play_day(connection, DAY + dt.timedelta(days=offset), 40)
    assert _state(first) == _state(second) and len(_state(first)) > 100
    assert [entry[1:] for entry in _log(first)] == [entry[1:] for entry in _log(second)]


def test_a_writer_waits_for_an_earlier_writer_so_sequence_order_is_commit_order(taxi_db, psycopg2):
    database = taxi_db()
    connection = database.connect(psycopg2)
    source.install(connection)
    source.play_day(connection, DAY, 5)
    first, second = database.connect(psycopg2), database.connect(psycopg2)
    first_cursor, second_cursor = first.cursor(), second.cursor()
    first_cursor.execute("UPDATE trips SET tip_amount = tip_amount WHERE trip_id = %s", (source.trip_id_base(DAY) + 1,))
    second_cursor.execute("SET lock_timeout = '500ms'")
    with pytest.raises(psycopg2.errors.LockNotAvailable):
        second_cursor.execute("UPDATE trips SET tip_amount = tip_amount WHERE trip_id = %s",
                              (source.trip_id_base(DAY) + 2,))
    second.rollback()
    first.commit()
