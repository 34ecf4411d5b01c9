"""The whole taxi DAG in one `dag.test()` per day, against real PostgreSQL, S3 and Spark Connect.

Iceberg and Trino cannot run here: `SnapshotTables` and `DuckTrino` stand in (tests/demo_standins.py), and
Spark reads the landed files from a boto3 copy (no hadoop-aws locally). See run_taxi_dag.py.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from standins import Database
from local_container import CI
from lakehouse_demo import source
from lakehouse_demo.tables import BRONZE_TRIPS, PIPELINE_RUNS

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[3]
DAY = dt.date(2026, 3, 14)


@pytest.fixture
def airflow_env(tmp_path, contract_run, s3, spark_connect, taxi_db) -> tuple[dict, Database]:
    database = taxi_db()
    minio = json.loads(contract_run.envs("apps-airflow-api-server-container")["AIRFLOW_CONN_MINIO"])
    minio["extra"]["endpoint_url"] = s3.endpoint  # Airflow's own MinIO user, on the S3 server
    env = {
        **os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "lakehouse_demo" / "dags"),
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests"), str(CI / "airflow-extras")]),
        "AIRFLOW_CONN_TAXI_SOURCE": database.uri(),
        "AIRFLOW_CONN_MINIO": json.dumps(minio),
        "AIRFLOW_CONN_SPARK_CONNECT_DEFAULT": json.dumps({
            "conn_type": "spark_connect", "host": "localhost", "port": spark_connect.port,
            "password": spark_connect.token}),
    }
    migrate = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, capture_output=True,
                             text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    return env, database


def run_day(env: dict, day: dt.date, work: Path, *extra: str) -> dict:
    result = subprocess.run([sys.executable, str(Path(__file__).with_name("run_taxi_dag.py")), day.isoformat(),
                             str(work), *extra], env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-5000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def _current(work: Path, table: str) -> list[dict]:
    directory = work / "warehouse" / table
    latest = max(directory.iterdir(), key=lambda p: int(p.name))
    return pq.read_table(latest).to_pylist()


def test_two_days_flow_through_and_publish_their_gold_assets(airflow_env, tmp_path, psycopg2, s3):
    env, database = airflow_env
    work = tmp_path / "work"
    for offset in range(2):
        outcome = run_day(env, DAY + dt.timedelta(days=offset), work)
        assert outcome["state"] == "success", outcome
        assert set(outcome["tasks"].values()) == {"success"}, outcome
        assert outcome["asset_events"] == ["iceberg.gold.daily_borough_revenue", "iceberg.gold.daily_zone_revenue",
                                           "iceberg.gold.hourly_zone_demand"]
    connection = database.connect(psycopg2)
    with connection, connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(source.TRIP_COLUMNS)} FROM trips ORDER BY trip_id")
        state = [dict(zip(source.TRIP_COLUMNS, r)) for r in cursor.fetchall()]
        cursor.execute("SELECT last_seq FROM extract_watermark WHERE pipeline = 'taxi'")
        watermark = cursor.fetchone()[0]
        cursor.execute("SELECT max(seq) FROM trip_changes")
        assert watermark == cursor.fetchone()[0]
    bronze = sorted(_current(work, BRONZE_TRIPS), key=lambda r: r["trip_id"])
    assert [{c: r[c] for c in source.TRIP_COLUMNS} for r in bronze] == state
    runs = _current(work, PIPELINE_RUNS)
    assert len(runs) == 2 and {r["max_seq"] for r in runs} == {watermark, min(r["max_seq"] for r in runs)}
    keys = [o["Key"] for o in s3.client().list_objects_v2(Bucket="landing", Prefix="taxi/")["Contents"]]
    assert sum(k.endswith("/manifest.json") for k in keys) == 2


def test_a_lost_change_fails_the_reconciliation_and_publishes_nothing(airflow_env, tmp_path, psycopg2):
    env, database = airflow_env
    outcome = run_day(env, DAY, tmp_path / "work", "lose-a-change")
    assert outcome["state"] == "failed", outcome
    assert outcome["tasks"]["merge_lakehouse"] == "success" and outcome["tasks"]["data_quality"] == "failed"
    assert outcome["tasks"]["commit_watermark"] == outcome["tasks"]["publish"] == "upstream_failed"
    assert outcome["asset_events"] == []
    connection = database.connect(psycopg2)
    with connection, connection.cursor() as cursor:  # the next run merges the same changes again
        cursor.execute("SELECT last_seq FROM extract_watermark WHERE pipeline = 'taxi'")
        assert cursor.fetchone()[0] == 0
