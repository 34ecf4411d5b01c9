"""Run the taxi DAG with `dag.test()` against the local pieces; print the outcome as JSON (last line).

Real: PostgreSQL (source), the S3 server (landing, with Airflow's own user from the stack), Spark 4.1.2 through
Spark Connect, Airflow 3.3.2 (scheduler logic of dag.test, XCom, asset events in its metadata database).
Stand-ins (tests/demo_standins.py): Iceberg -> SnapshotTables, Trino -> DuckTrino, S3A -> boto3 download.

argv: logical date (YYYY-MM-DD), work directory, optional "lose-a-change" (the merge drops one change, as a
broken merge would: the reconciliation must catch it and nothing may be published).
"""

import datetime as dt
import json
import sys
from pathlib import Path

from demo_standins import DuckTrino, SnapshotTables, s3a_standin_reader
from lakehouse_demo import pipeline

day, work = dt.date.fromisoformat(sys.argv[1]), Path(sys.argv[2])
lose_a_change = len(sys.argv) > 3 and sys.argv[3] == "lose-a-change"


class Tables(SnapshotTables):
    def merge_bronze(self, latest):
        super().merge_bronze(latest.orderBy("change_seq").offset(1) if lose_a_change else latest)


def trino_query():
    engine = DuckTrino()
    Tables(pipeline.spark_session(), work / "warehouse").expose(engine)
    return engine.query


pipeline.lakehouse_tables = lambda spark: Tables(spark, work / "warehouse")
pipeline.batch_reader = lambda: s3a_standin_reader(pipeline.s3_client(), work / "landing-copy")
pipeline.trino_query = trino_query

from airflow.dag_processing.dagbag import DagBag  # noqa: E402
from airflow.models.asset import AssetEvent  # noqa: E402
from airflow.utils.session import create_session  # noqa: E402

bag = DagBag(dag_folder=str(Path(pipeline.__file__).parent / "dags"))
assert not bag.import_errors, bag.import_errors
dag = bag.dags["taxi_pipeline"]
for task in dag.tasks:
    task.retries = 0
run = dag.test(logical_date=dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc), run_conf={"trips": 60})
with create_session() as session:
    events = sorted(e.asset.name for e in session.query(AssetEvent).all()
                    if e.source_run_id == run.run_id)
print(json.dumps({"run_id": run.run_id, "state": str(run.state),
                  "tasks": {ti.task_id: str(ti.state) for ti in run.get_task_instances()},
                  "asset_events": events}))
