"""The demo DAG loads in a real DagBag from exactly the files and environment the stack gives Airflow's DAG processor."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from harness import run_stack

DAGS = "/opt/airflow/dags/"


def test_the_deployed_dags_folder_loads_in_a_real_dagbag(tmp_path):
    processor = "apps-airflow-dag-processor-container"
    sized = run_stack("local", overrides={"demo": {"tripsPerDay": 321}})
    assert sized.error is None, sized.error
    dags = tmp_path / "dags"
    for path, text in sized.uploads(processor).items():
        if path.startswith(DAGS):
            (dags / path[len(DAGS):]).parent.mkdir(parents=True, exist_ok=True)
            (dags / path[len(DAGS):]).write_text(text)
    # The DAG processor's bag: the DAGs folder (the bundle) is on sys.path, so the DAG imports the package.
    script = textwrap.dedent(f"""
        import json
        from pathlib import Path
        from airflow.dag_processing.dagbag import BundleDagBag
        bag = BundleDagBag(dag_folder={str(dags)!r}, bundle_path=Path({str(dags)!r}))
        dag = bag.dags.get("taxi_pipeline")
        print(json.dumps({{
            "errors": bag.import_errors,
            "files": sorted(s.file for s in bag.dagbag_stats),
            "tasks": {{t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks}} if dag else None,
            "outlets": [o.name for o in dag.get_task("publish").outlets] if dag else None,
            "params": dict(dag.params) if dag else None,
            "paused_at_creation": {{d.dag_id: d.is_paused_upon_creation for d in bag.dags.values()}},
        }}))
    """)
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "LAKEHOUSE_DEMO_TRIPS_PER_DAY": sized.envs(processor)["LAKEHOUSE_DEMO_TRIPS_PER_DAY"]}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=180,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["errors"] == {}
    # .airflowignore keeps the library modules out of the bag; only DAG files are parsed.
    assert loaded["files"] == ["lakehouse_connections.py", "lakehouse_demo/dags/superset_refresh.py",
                               "lakehouse_demo/dags/taxi_demand_model.py", "lakehouse_demo/dags/taxi_pipeline.py"]
    assert loaded["tasks"] == {
        "play_source": [], "land_changes": ["play_source"], "merge_lakehouse": ["land_changes"],
        "data_quality": ["land_changes", "merge_lakehouse"], "commit_watermark": ["data_quality", "land_changes"],
        "publish": ["commit_watermark", "data_quality", "merge_lakehouse"]}
    assert loaded["outlets"] == ["iceberg.gold.daily_zone_revenue", "iceberg.gold.daily_borough_revenue",
                                 "iceberg.gold.hourly_zone_demand"]
    assert loaded["params"] == {"trips": 321, "freshness_hours": 36}  # the stack's demo.tripsPerDay
    # The demo runs by itself after `pulumi up`; the platform's own check waits to be triggered.
    assert loaded["paused_at_creation"] == {"lakehouse_connections": None, "superset_refresh": False,
                                            "taxi_demand_scoring": False, "taxi_demand_training": False,
                                            "taxi_pipeline": False}
