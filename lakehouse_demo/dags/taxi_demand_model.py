"""Hourly taxi demand per zone: training on new gold data, scoring whenever the champion changes.

taxi_demand_training  scheduled on iceberg.gold.hourly_zone_demand (an event per taxi_pipeline run):
                      features with Spark Connect, fit + log + register in MLflow, the promotion rule
                      moves `champion` only to a better version, gold.model_versions exported
taxi_demand_scoring   scheduled on the champion alias (a watcher in the triggerer polls the registry)
                      or on new gold demand: the champion's predictions for the latest days next to the
                      actuals in iceberg.gold.demand_predictions, with model name, version and run id

Needs in the Airflow image: mlflow-skinny and scikit-learn (the MLflow image's version), the part-1
packages; MLFLOW_TRACKING_URI and the pipelines' login (MLFLOW_TRACKING_USERNAME/PASSWORD) in the environment
of every Airflow component (the triggerer too).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from lakehouse_demo.ml.assets import HOURLY_DEMAND, MODEL_VERSIONS, PREDICTIONS, champion_asset
from lakehouse_demo.ml.model import DEFAULT_ALPHA, DEFAULT_HOLDOUT_DAYS
from lakehouse_demo.ml.steps import DEFAULT_SCORE_DAYS, tracking_uri

CHAMPION = champion_asset(tracking_uri())
DEFAULTS = {"retries": 1, "retry_delay": pendulum.duration(minutes=2)}


@dag(schedule=HOURLY_DEMAND, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False,
     is_paused_upon_creation=False, max_active_runs=1, tags=["lakehouse", "demo", "ml"], default_args=DEFAULTS,
     params={"holdout_days": Param(DEFAULT_HOLDOUT_DAYS, type="integer", minimum=1),
             "alpha": Param(DEFAULT_ALPHA, type="number", exclusiveMinimum=0)})
def taxi_demand_training():
    @task(outlets=[MODEL_VERSIONS])
    def train_register_promote(params=None) -> dict:
        from lakehouse_demo import pipeline
        from lakehouse_demo.ml import steps

        context = get_current_context()
        tags = {"airflow_dag": context["dag"].dag_id, "airflow_run_id": context["run_id"]}
        return steps.train_and_promote(pipeline.spark_session(), int(params["holdout_days"]),
                                       float(params["alpha"]), tags)

    train_register_promote()


def _promoted_version(context) -> str | None:
    """The version of the latest champion event that triggered this run (None: run for new gold data)."""
    events = context.get("triggering_asset_events") or {}
    for event in reversed(list(events.get(CHAMPION, []))):
        payload = (event.extra or {}).get("payload") or {}
        if payload.get("version"):
            return str(payload["version"])
    return None


@dag(schedule=(CHAMPION | HOURLY_DEMAND), start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False,
     is_paused_upon_creation=False, max_active_runs=1, tags=["lakehouse", "demo", "ml"], default_args=DEFAULTS,
     params={"days": Param(DEFAULT_SCORE_DAYS, type="integer", minimum=1)})
def taxi_demand_scoring():
    @task(outlets=[PREDICTIONS, MODEL_VERSIONS])
    def score_champion(params=None) -> dict:
        from lakehouse_demo import pipeline
        from lakehouse_demo.ml import steps

        version = _promoted_version(get_current_context())
        return steps.score(pipeline.spark_session(), version, int(params["days"]))

    score_champion()


taxi_demand_training()
taxi_demand_scoring()
