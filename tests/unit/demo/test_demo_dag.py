"""The demo DAG in the DAGs folder the stack deploys, loaded in a real DagBag (tests/dagbag.py)."""

from __future__ import annotations


def test_the_deployed_dags_folder_loads_and_the_pipeline_has_its_tasks_assets_and_size(deployed_dags):
    _, loaded = deployed_dags
    assert loaded["errors"] == {}
    # .airflowignore keeps the library modules out of the bag; only DAG files are parsed.
    assert loaded["files"] == ["lakehouse_connections.py", "lakehouse_demo/dags/superset_refresh.py",
                               "lakehouse_demo/dags/taxi_demand_model.py", "lakehouse_demo/dags/taxi_pipeline.py"]
    pipeline = loaded["dags"]["taxi_pipeline"]
    assert pipeline["tasks"] == {
        "play_source": [], "land_changes": ["play_source"], "merge_lakehouse": ["land_changes"],
        "data_quality": ["land_changes", "merge_lakehouse"], "commit_watermark": ["data_quality", "land_changes"],
        "publish": ["commit_watermark", "data_quality", "merge_lakehouse"]}
    assert pipeline["outlets"] == ["iceberg.gold.daily_zone_revenue", "iceberg.gold.daily_borough_revenue",
                                   "iceberg.gold.hourly_zone_demand"]
    assert pipeline["params"] == {"trips": 321, "freshness_hours": 36}  # the stack's demo.tripsPerDay


def test_the_demo_runs_by_itself_and_the_platforms_check_waits_to_be_triggered(deployed_dags):
    _, loaded = deployed_dags
    assert {d: v["paused_at_creation"] for d, v in loaded["dags"].items()} == {
        "lakehouse_connections": None, "superset_refresh": False, "taxi_demand_scoring": False,
        "taxi_demand_training": False, "taxi_pipeline": False}
