"""Stand-ins for the demo workload's services that cannot run on this machine.

- `DuckTrino`: Trino stands in as DuckDB. The check SQL is written for Trino; sqlglot transpiles it
  (read="trino", write="duckdb") and DuckDB runs it over tables registered under the same
  three-part names (`iceberg.bronze.trips`).
- `SnapshotTables`: the Iceberg catalog stands in as Parquet directories written by Spark, one
  directory per snapshot (`<root>/<table>/<snapshot id>/`). Its merge applies
  `transforms.apply_changes`, the DataFrame statement of `MERGE_BRONZE`, because Spark without the
  Iceberg runtime has no table that accepts row-level MERGE; the MERGE text itself is parsed by Spark's
  parser in tests/contract/demo. Table schemas come from the DDL the pipeline sends.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable, Sequence

import sqlglot


def trino_to_duckdb(sql: str) -> str:
    return sqlglot.transpile(sql, read="trino", write="duckdb")[0]


class DuckTrino:
    """Trino's role in the checks, played by DuckDB: `query(sql)` takes Trino SQL."""

    def __init__(self):
        import duckdb

        self.db = duckdb.connect(":memory:")
        self.db.execute("ATTACH ':memory:' AS iceberg")
        self.db.execute("CREATE SCHEMA IF NOT EXISTS iceberg.bronze")
        self.db.execute("CREATE SCHEMA IF NOT EXISTS iceberg.gold")

    def table(self, name: str, columns: str, rows: Iterable[Sequence[Any]] = ()) -> None:
        """A table from DuckDB column definitions and rows."""
        self.db.execute(f"CREATE OR REPLACE TABLE {name} ({columns})")
        rows = list(rows)
        if rows:
            self.db.executemany(f"INSERT INTO {name} VALUES ({', '.join(['?'] * len(rows[0]))})", rows)

    def parquet(self, name: str, directory: Path) -> None:
        self.db.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet('{directory}/*.parquet')")

    def query(self, sql: str) -> list[tuple]:
        return self.db.execute(trino_to_duckdb(sql)).fetchall()


def ddl_schema(table: str) -> str:
    """The column list of `table`'s CREATE TABLE in transforms.DDL, as a Spark DDL schema string."""
    from lakehouse_demo.transforms import DDL

    statement = next(s for s in DDL if re.search(rf"CREATE TABLE IF NOT EXISTS {re.escape(table)} \(", s))
    return statement[statement.index("(") + 1:statement.rindex(")", 0, statement.index("USING iceberg"))]


class SnapshotTables:
    """The `IcebergTables` interface over Parquet snapshots in a local directory (see the module doc)."""

    def __init__(self, spark, root: Path):
        self.spark, self.root = spark, Path(root)

    def _snapshots(self, table: str) -> list[int]:
        directory = self.root / table
        return sorted(int(p.name) for p in directory.iterdir() if p.is_dir()) if directory.exists() else []

    def current(self, table: str) -> Path | None:
        snapshots = self._snapshots(table)
        return self.root / table / str(snapshots[-1]) if snapshots else None

    def ensure(self) -> None:
        from lakehouse_demo.transforms import DDL

        for statement in DDL:
            table = re.search(r"CREATE TABLE IF NOT EXISTS (\S+) \(", statement).group(1)
            if not self._snapshots(table):
                self._write(table, self.spark.createDataFrame([], ddl_schema(table)))

    def read(self, table: str, snapshot: int | None = None):
        path = self.root / table / str(snapshot) if snapshot else self.current(table)
        return self.spark.read.schema(ddl_schema(table)).parquet(str(path))

    def _write(self, table: str, frame) -> None:
        snapshots = self._snapshots(table)
        target = self.root / table / str((snapshots[-1] if snapshots else 0) + 1)
        frame.select(*self.spark.createDataFrame([], ddl_schema(table)).columns).write.parquet(str(target))

    def merge_bronze(self, latest) -> None:
        from lakehouse_demo.transforms import BRONZE_TRIPS, apply_changes

        self._write(BRONZE_TRIPS, apply_changes(self.read(BRONZE_TRIPS), latest))

    def replace(self, table: str, frame, days=None) -> None:
        from pyspark.sql import functions as F

        if days is None:
            self._write(table, frame)
        else:
            kept = self.read(table).filter(~F.col("pickup_date").isin(list(days)))
            self._write(table, kept.unionByName(frame))

    def record_run(self, run) -> None:
        from pyspark.sql import functions as F

        from lakehouse_demo.transforms import PIPELINE_RUNS

        run_id = run.collect()[0]["run_id"]
        self._write(PIPELINE_RUNS, self.read(PIPELINE_RUNS).filter(F.col("run_id") != run_id).unionByName(run))

    def snapshot_id(self, table: str) -> int | None:
        snapshots = self._snapshots(table)
        return snapshots[-1] if snapshots else None

    def expose(self, trino: DuckTrino) -> None:
        """Each table's current snapshot as a view in the DuckDB stand-in for Trino."""
        from lakehouse_demo.transforms import DDL

        for statement in DDL:
            table = re.search(r"CREATE TABLE IF NOT EXISTS (\S+) \(", statement).group(1)
            if self.current(table):
                trino.parquet(table, self.current(table))


def s3a_standin_reader(client, directory: Path):
    """Spark's S3A reader, stood in for: the batch's files come from the S3 server through boto3 into
    `directory`, and Spark reads them there (the local Spark has no hadoop-aws). Counts are checked as
    `transforms.read_batch` checks them."""
    def read(spark, manifest):
        from lakehouse_demo.transforms import CHANGE_SCHEMA

        target = Path(directory) / manifest["prefix"]
        target.mkdir(parents=True, exist_ok=True)
        for item in manifest["files"]:
            client.download_file(manifest["bucket"], item["key"], str(target / Path(item["key"]).name))
        frame = spark.read.schema(CHANGE_SCHEMA).parquet(*(str(target / Path(f["key"]).name) for f in manifest["files"]))
        assert frame.count() == manifest["row_count"]
        return frame
    return read
