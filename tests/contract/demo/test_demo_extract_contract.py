"""Extract on a real PostgreSQL and a real S3 server (SeaweedFS): batches, manifests, the watermark."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import pyarrow.parquet as pq
import pytest

from lakehouse_demo import extract, source

pytestmark = pytest.mark.contract

DAY = dt.date(2026, 3, 14)
BUCKET = "landing"


@pytest.fixture
def landing(s3):
    return s3.client()


@pytest.fixture
def played(taxi_db, psycopg2):
    connection = taxi_db().connect(psycopg2)
    source.install(connection)
    operations = source.play_day(connection, DAY, 50)
    return connection, operations


def _read(client, manifest) -> list[dict]:
    rows = []
    for item in manifest["files"]:
        body = client.get_object(Bucket=BUCKET, Key=item["key"])["Body"].read()
        rows += pq.read_table(io.BytesIO(body)).to_pylist()
    return rows


def test_a_batch_lands_as_parquet_with_its_manifest(played, landing):
    connection, operations = played
    manifest = extract.extract(connection, landing, BUCKET, "scheduled__2026-03-14T00:00:00+00:00")
    assert manifest["prefix"] == "taxi/scheduled__2026-03-14T00_00_00_00_00"
    stored = json.loads(landing.get_object(Bucket=BUCKET, Key=f"{manifest['prefix']}/manifest.json")["Body"].read())
    assert stored == manifest
    assert manifest["from_seq"] == 0 and manifest["row_count"] == len(operations) == 50 + 5 + 2
    assert (manifest["min_seq"], manifest["max_seq"]) == (1, len(operations))
    assert manifest["operations"] == {"I": 50, "U": 5, "D": 2}
    for item in manifest["files"]:
        body = landing.get_object(Bucket=BUCKET, Key=item["key"])["Body"].read()
        assert hashlib.sha256(body).hexdigest() == item["sha256"] and len(body) == item["bytes"]
    extract.verify_batch(landing, manifest)
    rows = _read(landing, manifest)
    assert [(r["op"], r["trip_id"]) for r in rows] == [(o.op, o.trip_id) for o in operations]
    first = next(o for o in operations if o.op == "I")
    assert {k: rows[0][k] for k in source.TRIP_COLUMNS} == first.values  # exact cents and timestamps


def test_a_file_changed_after_landing_is_caught(played, landing):
    connection, _ = played
    manifest = extract.extract(connection, landing, BUCKET, "tampered")
    landing.put_object(Bucket=BUCKET, Key=manifest["files"][0]["key"], Body=b"not parquet")
    with pytest.raises(ValueError, match="does not match its manifest"):
        extract.verify_batch(landing, manifest)


def test_a_failed_then_retried_run_loses_and_duplicates_nothing(played, landing, psycopg2):
    connection, operations = played
    # Attempt 1 lands the batch, then fails before the merge: the watermark stays where it was.
    first = extract.extract(connection, landing, BUCKET, "run-1")
    assert extract.read_changes(connection)[0] == 0
    # More activity arrives before the retry.
    later = source.play_day(connection, DAY + dt.timedelta(days=1), 10)
    # Attempt 2 of the same run re-reads from the same watermark: the same changes plus the new ones.
    retry = extract.extract(connection, landing, BUCKET, "run-1")
    assert retry["from_seq"] == first["from_seq"] == 0
    assert [r["change_seq"] for r in _read(landing, retry)] == list(range(1, len(operations) + len(later) + 1))
    keys = [o["Key"] for o in landing.list_objects_v2(Bucket=BUCKET, Prefix="taxi/run-1/")["Contents"]]
    assert sorted(keys) == sorted([f["key"] for f in retry["files"]] + ["taxi/run-1/manifest.json"])
    # Merged: the watermark moves to the batch's end, once; committing again is a no-op.
    assert extract.commit_watermark(connection, retry) == retry["max_seq"]
    assert extract.commit_watermark(connection, retry) == retry["max_seq"]
    # The attempt-1 manifest is stale now: it must not move the watermark back.
    with pytest.raises(RuntimeError, match="another run moved it"):
        extract.commit_watermark(connection, {**first, "max_seq": first["max_seq"] - 1})
    # The next run starts after the merged batch, with nothing missing in between.
    after = source.play_day(connection, DAY + dt.timedelta(days=2), 10)
    following = extract.extract(connection, landing, BUCKET, "run-2")
    assert following["from_seq"] == retry["max_seq"] and following["min_seq"] == retry["max_seq"] + 1
    assert following["row_count"] == len(after)
    seen = [r["change_seq"] for m in (retry, following) for r in _read(landing, m)]
    assert seen == list(range(1, len(operations) + len(later) + len(after) + 1))


def test_an_empty_batch_keeps_the_watermark(played, landing):
    connection, operations = played
    merged = extract.extract(connection, landing, BUCKET, "run-a")
    extract.commit_watermark(connection, merged)
    empty = extract.extract(connection, landing, BUCKET, "run-b")
    assert (empty["row_count"], empty["files"], empty["from_seq"], empty["max_seq"]) == (0, [], len(operations),
                                                                                        len(operations))
    assert extract.commit_watermark(connection, empty) == len(operations)
