"""The ML tasks as the DAGs (and notebook 04) call them.

MLflow: the tracking server from `MLFLOW_TRACKING_URI` (the MLflow client reads it itself; the
stack's server proxies artifacts, so no S3 credentials are needed). Spark: `spark_connect_default`
as in part 1 (`lakehouse_demo.pipeline.spark_session`).
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Optional

from lakehouse_demo.ml import CHAMPION, METRIC, MODEL_NAME

DEFAULT_SCORE_DAYS = 14


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI", "http://mlflow:5000")


def demand_grid(read, days=None):
    """`read(table name) -> DataFrame`: `spark.table` in Airflow and notebooks."""
    from lakehouse_demo.ml.features import demand_grid as grid
    from lakehouse_demo.tables import BRONZE_ZONES, GOLD_HOURLY_ZONE

    return grid(read(GOLD_HOURLY_ZONE), read(BRONZE_ZONES), days)


def train_and_promote(spark, holdout_days: int, alpha: float, tags: Mapping[str, str] | None = None,
                      model_name: str = MODEL_NAME, read=None, tables=None) -> dict[str, Any]:
    """Features (Spark) -> fit + log + register (MLflow) -> the promotion rule -> gold.model_versions.

    `read`/`tables`: where the gold tables come from and go to (the Iceberg catalog by default).
    """
    from mlflow import MlflowClient

    from lakehouse_demo.ml import model, registry
    from lakehouse_demo.ml.features import to_pandas

    trained = model.train(to_pandas(demand_grid(read or spark.table)), holdout_days=holdout_days, alpha=alpha, tags=tags,
                          model_name=model_name)
    client = MlflowClient()
    decision = registry.promote(client, trained.version, trained.split.holdout,
                                lambda uri, rows: model.score_on(model.predictor(uri), rows)[METRIC], model_name)
    export_versions(spark, client, model_name, tables)
    return {"run_id": trained.run_id, "version": trained.version, "metrics": dict(trained.metrics),
            "decision": decision.as_dict()}


def score(spark, version: Optional[str], days: int = DEFAULT_SCORE_DAYS, model_name: str = MODEL_NAME,
          read=None, tables=None) -> dict[str, Any]:
    """Predictions of `version` (the champion if None) for the latest `days` days, next to the actuals."""
    from mlflow import MlflowClient

    from lakehouse_demo.ml import model, registry
    from lakehouse_demo.ml.features import latest_days
    from lakehouse_demo.ml.scoring import PredictionTables, prediction_rows
    from lakehouse_demo.tables import GOLD_HOURLY_ZONE

    client = MlflowClient()
    read = read or spark.table
    if version is None:
        champion = registry.champion_version(client, model_name)
        if champion is None:
            return {"scored": 0, "reason": f"{model_name} has no {CHAMPION} yet"}
        version = str(champion.version)
    run_id = client.get_model_version(model_name, version).run_id
    scored_days = latest_days(read(GOLD_HOURLY_ZONE), days)
    rows = prediction_rows(spark, demand_grid(read, scored_days), model.predictor(f"models:/{model_name}/{version}"),
                           model_name, version, run_id)
    tables = tables or PredictionTables(spark)
    tables.ensure()
    tables.write_predictions(rows, model_name, version, scored_days)
    export_versions(spark, client, model_name, tables)
    return {"model_name": model_name, "version": version, "run_id": run_id,
            "days": [d.isoformat() for d in scored_days], "scored": rows.count()}


def export_versions(spark, client, model_name: str = MODEL_NAME, tables=None) -> int:
    from lakehouse_demo.ml.registry import version_rows
    from lakehouse_demo.ml.scoring import PredictionTables, version_frame

    rows = version_rows(client, model_name)
    tables = tables or PredictionTables(spark)
    tables.ensure()
    tables.write_versions(version_frame(spark, rows))
    return len(rows)
