"""Extract: the change-log batch after the committed watermark, as Parquet + a JSON manifest in S3.

Layout: `s3://<bucket>/taxi/<run>/changes-00000.parquet ...` and `s3://<bucket>/taxi/<run>/manifest.json`,
the manifest written last (its presence means the batch is complete).

The watermark (`extract_watermark.last_seq` in the source database) moves only in `commit_watermark`,
which the pipeline calls after the batch is merged, as a compare-and-set from the batch's `from_seq`.
Until then every attempt re-reads the same changes (plus any newer ones), and the merge ignores a change
it already applied (its sequence is not newer than the row's), so a failed and retried run neither loses
nor duplicates a change. The watermark sits in the source because the source's own transaction is the
only place a reader of the change log and the position of the pipeline can be made consistent; a state
file in S3 could not be compared-and-set against it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from lakehouse_demo.source import TRIP_COLUMNS

PIPELINE = "taxi"
PREFIX = "taxi"
ROWS_PER_FILE = 100_000

MONEY = pa.decimal128(9, 2)
# The landing schema: the change (op, seq, time) and the trip row, typed as in the source.
CHANGE_SCHEMA = pa.schema([
    ("op", pa.string()), ("change_seq", pa.int64()), ("changed_at", pa.timestamp("us", tz="UTC")),
    ("trip_id", pa.int64()), ("vendor_id", pa.int32()),
    ("tpep_pickup_datetime", pa.timestamp("us")), ("tpep_dropoff_datetime", pa.timestamp("us")),
    ("passenger_count", pa.int32()), ("trip_distance", MONEY), ("ratecode_id", pa.int32()),
    ("store_and_fwd_flag", pa.string()), ("pu_location_id", pa.int32()), ("do_location_id", pa.int32()),
    ("payment_type", pa.int32()),
    *((c, MONEY) for c in ("fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount",
                           "improvement_surcharge", "congestion_surcharge", "airport_fee", "total_amount")),
])
assert CHANGE_SCHEMA.names[3:] == list(TRIP_COLUMNS)


def batch_prefix(run_id: str) -> str:
    """`taxi/<run>`: an Airflow run id made safe for an object key (`:` and `+` become `_`)."""
    return f"{PREFIX}/{re.sub(r'[^A-Za-z0-9._-]', '_', run_id)}"


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    """A trip row from its JSON in the change log, typed for the landing schema."""
    out: dict[str, Any] = {}
    for name in TRIP_COLUMNS:
        value = row.get(name)
        kind = CHANGE_SCHEMA.field(name).type
        if value is None:
            out[name] = None
        elif pa.types.is_decimal(kind):
            out[name] = Decimal(value).quantize(Decimal("0.01"))
        elif pa.types.is_timestamp(kind):
            out[name] = dt.datetime.fromisoformat(value)
        else:
            out[name] = value.strip() if isinstance(value, str) else value
    return out


def read_watermark(cursor, pipeline: str = PIPELINE) -> int:
    cursor.execute("INSERT INTO extract_watermark (pipeline) VALUES (%s) ON CONFLICT DO NOTHING", (pipeline,))
    cursor.execute("SELECT last_seq FROM extract_watermark WHERE pipeline = %s", (pipeline,))
    return cursor.fetchone()[0]


def read_changes(connection, pipeline: str = PIPELINE, limit: int | None = None) -> tuple[int, pa.Table]:
    """(watermark, the changes after it in sequence order) from one snapshot of the source."""
    with connection, connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        watermark = read_watermark(cursor, pipeline)
        # The JSON as text, numbers parsed as Decimal: amounts keep their exact cents.
        cursor.execute("SELECT op, seq, changed_at, row_data::text FROM trip_changes WHERE seq > %s ORDER BY seq"
                       + (" LIMIT %s" if limit else ""), (watermark, limit) if limit else (watermark,))
        rows = [{"op": op, "change_seq": seq, "changed_at": changed_at, **_typed(json.loads(data, parse_float=Decimal))}
                for op, seq, changed_at, data in cursor.fetchall()]
    return watermark, pa.Table.from_pylist(rows, schema=CHANGE_SCHEMA)


def _parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


def batch_checksum(files: list[dict[str, Any]]) -> str:
    return hashlib.sha256("\n".join(f"{f['key']} {f['sha256']}" for f in files).encode()).hexdigest()


def write_batch(s3, bucket: str, run_id: str, watermark: int, table: pa.Table,
                rows_per_file: int = ROWS_PER_FILE) -> dict[str, Any]:
    """Write the files, then the manifest; anything an earlier attempt left under the prefix goes first."""
    prefix = batch_prefix(run_id)
    stale = s3.list_objects_v2(Bucket=bucket, Prefix=prefix + "/").get("Contents", [])
    for item in stale:
        s3.delete_object(Bucket=bucket, Key=item["Key"])
    files = []
    for number, start in enumerate(range(0, table.num_rows, rows_per_file)):
        body = _parquet(table.slice(start, rows_per_file))
        key = f"{prefix}/changes-{number:05d}.parquet"
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        files.append({"key": key, "rows": min(rows_per_file, table.num_rows - start), "bytes": len(body),
                      "sha256": hashlib.sha256(body).hexdigest()})
    seqs = table.column("change_seq").to_pylist()
    ops = table.column("op").to_pylist()
    manifest = {
        "pipeline": PIPELINE, "run_id": run_id, "bucket": bucket, "prefix": prefix,
        "from_seq": watermark,                          # exclusive: the watermark the batch was read after
        "min_seq": min(seqs) if seqs else None, "max_seq": max(seqs) if seqs else watermark,
        "row_count": table.num_rows, "operations": {o: ops.count(o) for o in ("I", "U", "D")},
        "files": files, "checksum": batch_checksum(files),
        "extracted_at": dt.datetime.now(dt.timezone.utc).isoformat(),
    }
    s3.put_object(Bucket=bucket, Key=f"{prefix}/manifest.json", Body=json.dumps(manifest, indent=1).encode(),
                  ContentType="application/json")
    return manifest


def extract(connection, s3, bucket: str, run_id: str, limit: int | None = None) -> dict[str, Any]:
    watermark, table = read_changes(connection, limit=limit)
    return write_batch(s3, bucket, run_id, watermark, table)


def read_manifest(s3, bucket: str, run_id: str) -> dict[str, Any]:
    return json.loads(s3.get_object(Bucket=bucket, Key=f"{batch_prefix(run_id)}/manifest.json")["Body"].read())


def verify_batch(s3, manifest: dict[str, Any]) -> None:
    """Each file is there with the recorded size and checksum (what the merge will read)."""
    for item in manifest["files"]:
        body = s3.get_object(Bucket=manifest["bucket"], Key=item["key"])["Body"].read()
        if hashlib.sha256(body).hexdigest() != item["sha256"] or len(body) != item["bytes"]:
            raise ValueError(f"{item['key']} does not match its manifest entry")
    if batch_checksum(manifest["files"]) != manifest["checksum"]:
        raise ValueError("the manifest's checksum does not match its files")


def commit_watermark(connection, manifest: dict[str, Any], pipeline: str = PIPELINE) -> int:
    """Advance the watermark to the batch's max_seq, only from the watermark the batch was read after.

    Committing the same batch again is a no-op; a watermark that moved elsewhere is an error.
    """
    with connection, connection.cursor() as cursor:
        cursor.execute("UPDATE extract_watermark SET last_seq = %s, last_batch = %s, updated_at = now() "
                       "WHERE pipeline = %s AND last_seq = %s",
                       (manifest["max_seq"], manifest["run_id"], pipeline, manifest["from_seq"]))
        if cursor.rowcount == 1:
            return manifest["max_seq"]
        cursor.execute("SELECT last_seq, last_batch FROM extract_watermark WHERE pipeline = %s", (pipeline,))
        last_seq, last_batch = cursor.fetchone()
        if last_seq == manifest["max_seq"]:
            return last_seq
        raise RuntimeError(f"watermark is at {last_seq} (batch {last_batch}), not at this batch's from_seq "
                           f"{manifest['from_seq']}: another run moved it")
