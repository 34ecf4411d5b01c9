"""What `pulumi up` deploys of the demo, as exact values of the recorded resources, and a clean platform
without it (`demo.enabled: false`)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from components.platform import workload
from harness import StackRun, run_stack, unwrap
from lakehouse_demo import pipeline, source

ROOT = Path(__file__).resolve().parents[3]
NAS = "192.168.10.20"
AIRFLOW = ("api-server", "scheduler", "dag-processor", "triggerer")
DEMO_PACKAGES = ("mlflow-skinny==3.17.0", "scikit-learn==1.9.1", "skops==0.16.0")


@pytest.fixture(scope="module")
def clean() -> StackRun:
    run = run_stack("homelab", overrides={"demo": {"enabled": False}})
    assert run.error is None, run.error
    return run


def test_the_source_is_a_database_and_login_of_its_own(homelab: StackRun):
    role = homelab.named("data-taxi-source-db-role").inputs
    assert (role["name"], role["login"], unwrap(role["password"])) == (
        "taxi_source", True, homelab.password("data-taxi-source-db-password"))
    assert homelab.named("data-taxi-source-db").inputs == {"name": "taxi_source", "owner": "taxi_source"}
    assert homelab.outputs["services"]["taxi-source"] == {"postgres": {
        "host": NAS, "port": 5432, "database": "taxi_source", "user": "taxi_source",
        "password": homelab.password("data-taxi-source-db-password")}}


def test_the_zone_lookup_is_an_object_the_stack_owns_where_the_pipeline_reads_it(homelab: StackRun):
    [zones] = homelab.of_type("minio:index/s3Object:S3Object")
    assert zones.inputs == {"bucketName": pipeline.REFERENCE_BUCKET, "objectName": pipeline.ZONES_KEY,
                            "content": (ROOT / "lakehouse_demo" / "data" / "taxi_zone_lookup.csv").read_text(),
                            "contentType": "text/csv"}
    assert source.parse_zones(zones.inputs["content"]) == source.zone_rows()
    assert len(source.zone_rows()) == 265
    policy = json.loads(homelab.named("data-airflow-s3-policy").inputs["policy"])
    reads = [s for s in policy["Statement"] if "arn:aws:s3:::reference/*" in s["Resource"]]
    assert [s["Action"] for s in reads] == [["s3:GetObject"]], "Airflow reads the reference data, never writes it"


def test_airflow_gets_the_demo_connections_size_and_packages_on_every_component(homelab: StackRun):
    for component in AIRFLOW:
        env = homelab.envs(f"apps-airflow-{component}-container")
        assert json.loads(env["AIRFLOW_CONN_TAXI_SOURCE"]) == {
            "conn_type": "postgres", "host": NAS, "port": 5432, "login": "taxi_source",
            "password": homelab.password("data-taxi-source-db-password"), "schema": "taxi_source"}
        assert json.loads(env["AIRFLOW_CONN_SUPERSET_API"]) == {
            "conn_type": "http", "host": NAS, "port": 8088, "login": "admin",
            "password": homelab.password("apps-superset-admin-password")}
        assert env["LAKEHOUSE_DEMO_TRIPS_PER_DAY"] == "200"  # demo.tripsPerDay's default
        assert env["LAKEHOUSE_PIP_REQUIREMENTS"].split()[-3:] == list(DEMO_PACKAGES)
    assert pipeline.SOURCE_CONN == "taxi_source"  # the DAG's use of the size: test_demo_dag.py


def test_the_package_goes_into_the_dags_folder_without_its_notebooks(homelab: StackRun):
    prefix = "/opt/airflow/dags/lakehouse_demo/"
    for component in ("scheduler", "dag-processor", "triggerer"):
        shipped = {p[len(prefix):]: t for p, t in homelab.uploads(f"apps-airflow-{component}-container").items()
                   if p.startswith(prefix)}
        assert shipped == dict(workload.package_files())
    assert {".airflowignore", "dags/taxi_pipeline.py", "sql/source_schema.sql", "data/taxi_zone_lookup.csv",
            "ml/trigger.py", "bi/refresh.py"} <= set(shipped)
    assert not any(p.startswith(("notebooks/", "README")) or "__pycache__" in p for p in shipped)


def test_jupyterlab_gets_the_package_on_its_path_and_the_notebooks_to_seed(homelab: StackRun):
    lab = "compute-spark-jupyter-container"
    env, files = homelab.envs(lab), homelab.uploads(lab)
    assert (env["PYTHONPATH"], env["NOTEBOOK_STORE_SEEDS"]) == ("/opt/lakehouse", "/opt/lakehouse/notebooks")
    assert {p: t for p, t in files.items() if p.startswith("/opt/lakehouse/notebooks/")} == {
        f"/opt/lakehouse/notebooks/lakehouse_demo/{name}": text for name, text in workload.notebooks().items()}
    assert len(workload.notebooks()) == 4
    assert files["/opt/lakehouse/lakehouse_demo/ml/steps.py"] == (ROOT / "lakehouse_demo/ml/steps.py").read_text()


def test_the_notebooks_read_only_variables_jupyterlab_is_given(homelab: StackRun):
    env = homelab.envs("compute-spark-jupyter-container")
    for name, text in workload.notebooks().items():
        code = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"] if c["cell_type"] == "code")
        tree = ast.parse("\n".join(line for line in code.splitlines() if not line.startswith("%")))
        read = {node.slice.value for node in ast.walk(tree) if isinstance(node, ast.Subscript)
                and ast.unparse(node.value) == "os.environ" and isinstance(node.slice, ast.Constant)}
        assert read <= set(env), (name, read - set(env))


def test_superset_imports_the_content_after_its_init_and_creates_the_analyst(homelab: StackRun):
    job = homelab.named("apps-superset-content")
    assert job.inputs["command"] == ["python", "/app/lakehouse_bi/apply.py", "--database-name",
                                     "Lakehouse (Trino iceberg)", "--admin", "admin", "--analyst", "analyst"]
    assert homelab.named("apps-superset-init").urn in job.dependencies
    files = homelab.uploads("apps-superset-content")
    assert {p: t for p, t in files.items() if p.startswith("/app/lakehouse_bi/")} == {
        "/app/lakehouse_bi/apply.py": (ROOT / "lakehouse_demo/bi/apply.py").read_text(),
        "/app/lakehouse_bi/content.py": (ROOT / "lakehouse_demo/bi/content.py").read_text()}
    assert files["/app/pythonpath/superset_config.py"] == homelab.uploads("apps-superset-container")[
        "/app/pythonpath/superset_config.py"]
    env = homelab.envs("apps-superset-content")
    assert env["SUPERSET_ANALYST_PASSWORD"] == homelab.password("apps-superset-analyst-password")
    assert env["SUPERSET_SECRET_KEY"] == homelab.password("apps-superset-secret-key")
    assert (homelab.outputs["supersetAnalystUser"], homelab.outputs["supersetAnalystPassword"]) == (
        "analyst", homelab.password("apps-superset-analyst-password"))
    assert "supersetAnalystPassword" in homelab.secret_outputs


def test_a_failed_content_job_fails_the_deployment_where_the_analyst_login_is_exported():
    run = run_stack("local", failed_jobs=("apps-superset-content",))
    assert isinstance(run.error, RuntimeError)
    assert "job container lakehouse-superset-content failed with exit code 1" in str(run.error)


def test_superset_caches_results_per_dataset_so_airflow_can_invalidate_them(homelab: StackRun):
    text = homelab.uploads("apps-superset-container")["/app/pythonpath/superset_config.py"]
    module = ast.parse(text)
    values = {t.id: ast.literal_eval(n.value) for n in module.body if isinstance(n, ast.Assign)
              for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, (ast.Constant, ast.Dict))}
    assert values["DATA_CACHE_CONFIG"] == {"CACHE_TYPE": "SupersetMetastoreCache",
                                           "CACHE_KEY_PREFIX": "lakehouse_data_", "CACHE_DEFAULT_TIMEOUT": 86400}
    assert values["STORE_CACHE_KEYS_IN_METADATA_DB"] is True


def test_without_the_demo_the_platform_is_clean(homelab: StackRun, clean: StackRun):
    names = {r.name for r in clean.resources}
    demo_only = {"data-taxi-source-db", "data-taxi-source-db-role", "data-taxi-source-db-password",
                 "apps-superset-content", "apps-superset-analyst-password",
                 "data-reference-taxi-taxi-zone-lookup-csv"}
    assert demo_only <= {r.name for r in homelab.resources}
    assert not names & demo_only
    assert clean.of_type("minio:index/s3Object:S3Object") == []
    assert "reference" in clean.outputs["buckets"], "the bucket is the platform's, the objects are the demo's"
    assert not {"supersetAnalystUser", "supersetAnalystPassword"} & set(clean.outputs)
    assert "taxi-source" not in clean.outputs["services"]
    for component in AIRFLOW:
        env = clean.envs(f"apps-airflow-{component}-container")
        assert not {"AIRFLOW_CONN_TAXI_SOURCE", "AIRFLOW_CONN_SUPERSET_API", "LAKEHOUSE_DEMO_TRIPS_PER_DAY"} & set(env)
        assert not set(DEMO_PACKAGES) & set(env["LAKEHOUSE_PIP_REQUIREMENTS"].split())
        assert not any("lakehouse_demo" in p for p in clean.uploads(f"apps-airflow-{component}-container"))
    lab = "compute-spark-jupyter-container"
    assert not {"PYTHONPATH", "NOTEBOOK_STORE_SEEDS"} & set(clean.envs(lab))
    assert not any(p.startswith("/opt/lakehouse") for p in clean.uploads(lab))
