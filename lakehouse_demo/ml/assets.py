"""The Airflow Assets of part 2, and part 1's gold assets under the same name and URI.

An asset is identified by its name (and URI): these must equal the ones `dags/taxi_pipeline.py`
publishes, which a unit test checks.
"""

from __future__ import annotations

from airflow.sdk import Asset, AssetWatcher

from lakehouse_demo.ml import CHAMPION, MODEL_NAME
from lakehouse_demo.tables import GOLD_DEMAND_PREDICTIONS, GOLD_HOURLY_ZONE, GOLD_MODEL_VERSIONS, GOLD_TABLES


def table_asset(table: str) -> Asset:
    return Asset(name=table, uri=f"iceberg://{table.split('.', 1)[1].replace('.', '/')}")


GOLD_ASSETS = [table_asset(t) for t in GOLD_TABLES]
HOURLY_DEMAND = table_asset(GOLD_HOURLY_ZONE)
PREDICTIONS = table_asset(GOLD_DEMAND_PREDICTIONS)
MODEL_VERSIONS = table_asset(GOLD_MODEL_VERSIONS)


def champion_asset(tracking_uri: str, poll_interval: float = 30.0) -> Asset:
    """The registry's `champion` alias as an asset: its watcher fires when the alias moves."""
    from lakehouse_demo.ml.trigger import ChampionAliasTrigger

    return Asset(name=f"mlflow.{MODEL_NAME}@{CHAMPION}",
                 uri=f"mlflow://registered-models/{MODEL_NAME}/aliases/{CHAMPION}",
                 watchers=[AssetWatcher(name=f"{MODEL_NAME}_{CHAMPION}_watcher",
                                        trigger=ChampionAliasTrigger(tracking_uri, MODEL_NAME, CHAMPION,
                                                                     poll_interval))])
