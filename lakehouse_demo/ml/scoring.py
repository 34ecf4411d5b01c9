"""Scoring: the model's predictions next to the actuals, as rows of `iceberg.gold.demand_predictions`.

The grid (features.demand_grid) already carries the actual demand; the model predicts on its
feature columns in the driver (a few thousand rows a day: no UDF, so the Spark executors need
neither MLflow nor scikit-learn), and each row records the model name, version and run id it came
from. A version's rows for a day are replaced when it scores that day again (idempotent reruns).
`iceberg.gold.model_versions` is the registry's view: every version with its held-out metrics.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Iterable, Mapping, Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse_demo.ml.features import FEATURES, KEYS, TARGET, to_pandas
from lakehouse_demo.ml.registry import VERSION_COLUMNS
from lakehouse_demo.tables import GOLD_DEMAND_PREDICTIONS, GOLD_MODEL_VERSIONS

PREDICTION_SCHEMA = ("pickup_date DATE, pickup_hour INT, pu_location_id INT, day_of_week INT, "
                     "actual_trips BIGINT, predicted_trips DOUBLE, model_name STRING, model_version INT, "
                     "run_id STRING, scored_at TIMESTAMP")
VERSION_SCHEMA = ("model_name STRING, model_version INT, run_id STRING, is_champion BOOLEAN, aliases STRING, "
                  "created_at TIMESTAMP, train_start DATE, train_end DATE, holdout_start DATE, holdout_end DATE, "
                  "alpha DOUBLE, holdout_rmse DOUBLE, holdout_mae DOUBLE, holdout_poisson_deviance DOUBLE, "
                  "train_rows BIGINT, promotion STRING")
assert [c.split()[0] for c in VERSION_SCHEMA.split(", ")] == list(VERSION_COLUMNS)

DDL = (
    f"""CREATE TABLE IF NOT EXISTS {GOLD_DEMAND_PREDICTIONS} ({PREDICTION_SCHEMA})
    USING iceberg PARTITIONED BY (months(pickup_date)) TBLPROPERTIES ('format-version' = '2')""",
    f"""CREATE TABLE IF NOT EXISTS {GOLD_MODEL_VERSIONS} ({VERSION_SCHEMA})
    USING iceberg TBLPROPERTIES ('format-version' = '2')""",
)


def prediction_rows(spark: SparkSession, grid: DataFrame, predict: Callable[[Any], Sequence[float]],
                    model_name: str, model_version: str | int, run_id: str,
                    scored_at: dt.datetime | None = None) -> DataFrame:
    """One row per grid row: its actual demand, the model's prediction and where the prediction came from."""
    frame = to_pandas(grid)
    predicted = [float(p) for p in predict(frame[list(FEATURES)])]
    if len(predicted) != len(frame):
        raise ValueError(f"the model returned {len(predicted)} predictions for {len(frame)} rows")
    scored_at = scored_at or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    rows = [(r.pickup_date, int(r.pickup_hour), int(r.pu_location_id), int(r.day_of_week), int(getattr(r, TARGET)),
             p, model_name, int(model_version), run_id, scored_at)
            for r, p in zip(frame.itertuples(index=False), predicted)]
    return spark.createDataFrame(rows, PREDICTION_SCHEMA)


def version_frame(spark: SparkSession, rows: Iterable[Mapping[str, Any]]) -> DataFrame:
    return spark.createDataFrame([tuple(r[c] for c in VERSION_COLUMNS) for r in rows], VERSION_SCHEMA)


class PredictionTables:
    """The two tables in the Iceberg catalog through a Spark session."""

    def __init__(self, spark: SparkSession):
        self.spark = spark

    def ensure(self) -> None:
        for statement in DDL:
            self.spark.sql(statement)

    def write_predictions(self, rows: DataFrame, model_name: str, model_version: int | str,
                          days: Iterable[dt.date]) -> None:
        """Replace this version's rows of `days` (one snapshot)."""
        condition = ((F.col("model_name") == model_name) & (F.col("model_version") == int(model_version))
                     & F.col("pickup_date").isin(list(days)))
        rows.writeTo(GOLD_DEMAND_PREDICTIONS).overwrite(condition)

    def write_versions(self, frame: DataFrame) -> None:
        """The registry's current view replaces the table (a few rows per version)."""
        frame.writeTo(GOLD_MODEL_VERSIONS).overwrite(F.lit(True))


__all__ = ["DDL", "KEYS", "prediction_rows", "version_frame", "PredictionTables"]
