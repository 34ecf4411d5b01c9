"""The DAGs folder exactly as the stack deploys it, loaded once in a real DagBag (a fresh interpreter: Airflow
configures itself from its environment at import).

The DAG processor's uploads under /opt/airflow/dags/ become a local DAGs folder; its rendered connections and
the variables the DAGs read (`LAKEHOUSE_*`, `MLFLOW_*`) are its environment. Left out: the metadata database,
remote logging and the install step, which parsing does not use. What the tests look at is printed as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from harness import StackRun

PROCESSOR = "apps-airflow-dag-processor-container"
DAGS = "/opt/airflow/dags/"
_PASSED = ("AIRFLOW_CONN_", "LAKEHOUSE_DEMO_", "MLFLOW_")

_SCRIPT = textwrap.dedent("""
    import json
    import sys
    from pathlib import Path
    from airflow.dag_processing.dagbag import BundleDagBag
    from airflow.providers.apache.spark.hooks.spark_connect import SparkConnectHook
    from airflow.serialization.serialized_objects import DagSerialization

    folder = sys.argv[1]
    bag = BundleDagBag(dag_folder=folder, bundle_path=Path(folder))

    def leaves(condition):
        return [condition] if hasattr(condition, "watchers") else [x for o in condition.objects for x in leaves(o)]

    dags = {}
    for dag_id, dag in bag.dags.items():
        DagSerialization.to_dict(dag)  # what the DAG processor stores
        assets = leaves(dag.schedule) if hasattr(dag.schedule, "objects") or hasattr(dag.schedule, "watchers") else []
        dags[dag_id] = {
            "tasks": {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks},
            "params": dict(dag.params),
            "paused_at_creation": dag.is_paused_upon_creation,
            "schedule": sorted(a.name for a in assets),
            "watchers": sorted(w.trigger.serialize()[0] for a in assets for w in a.watchers),
            "outlets": [o.name for t in dag.tasks for o in t.outlets],
        }
    print(json.dumps({"errors": bag.import_errors, "files": sorted(s.file for s in bag.dagbag_stats), "dags": dags,
                      "spark_connect_url": SparkConnectHook("spark_connect_default").get_connection_url()}))
""")


def load_deployed(run: StackRun, work: Path) -> dict[str, Any]:
    folder = work / "dags"
    for path, text in run.uploads(PROCESSOR).items():
        if path.startswith(DAGS):
            target = folder / path[len(DAGS):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    rendered = {k: v for k, v in run.envs(PROCESSOR).items() if k.startswith(_PASSED)}
    env = {**os.environ, **rendered, "AIRFLOW_HOME": str(work), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    result = subprocess.run([sys.executable, "-c", _SCRIPT, str(folder)], env=env, capture_output=True, text=True,
                            timeout=300, cwd=work)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
