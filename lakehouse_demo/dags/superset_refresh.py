"""Superset serves the new data after each successful pipeline or scoring run.

Scheduled on any of the tables the dashboard reads (part 1's gold assets, the scoring DAG's
predictions and model versions): Airflow creates a run for each new asset event, which only a
successful producer task emits. The task invalidates and re-warms the Superset datasets that read
the tables of the events that triggered the run (`lakehouse_demo.bi.refresh`).

Connection `superset_api` (http): host = Superset's URL, login/password = Superset's admin.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, get_current_context, task

from lakehouse_demo.ml.assets import GOLD_ASSETS, MODEL_VERSIONS, PREDICTIONS

SUPERSET_CONN = "superset_api"
WATCHED = [*GOLD_ASSETS, PREDICTIONS, MODEL_VERSIONS]


def _any(assets):
    schedule = assets[0]
    for asset in assets[1:]:
        schedule = schedule | asset
    return schedule


@dag(schedule=_any(WATCHED), start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False,
     is_paused_upon_creation=False, max_active_runs=1, tags=["lakehouse", "demo", "bi"],
     default_args={"retries": 2, "retry_delay": pendulum.duration(minutes=1)})
def superset_refresh():
    @task
    def refresh_datasets() -> dict:
        from airflow.sdk import BaseHook

        from lakehouse_demo.bi import refresh

        events = get_current_context().get("triggering_asset_events") or {}
        tables = sorted({getattr(asset, "name", str(asset)) for asset in events} or {a.name for a in WATCHED})
        conn = BaseHook.get_connection(SUPERSET_CONN)
        base = conn.host if "://" in (conn.host or "") else f"http://{conn.host}:{conn.port or 8088}"
        return refresh.refresh(base, conn.login, conn.password, tables)

    refresh_datasets()


superset_refresh()
