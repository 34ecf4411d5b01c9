"""The demo DAG loads in a real DagBag, laid out as the stack deploys it: the package inside the DAGs folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_package_in_a_dags_folder_loads_in_a_real_dagbag(tmp_path):
    dags = tmp_path / "dags"
    shutil.copytree(ROOT / "dags", dags)
    shutil.copytree(ROOT / "lakehouse_demo", dags / "lakehouse_demo", ignore=shutil.ignore_patterns("__pycache__"))
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
        }}))
    """)
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
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
    assert loaded["params"] == {"trips": 200, "freshness_hours": 36}
