"""The demand model: scikit-learn, fitted on all but the last days of the grid, judged on those days.

A Poisson regression (counts, log link) on one-hot zone, hour and day of week: demand per zone-hour
is a small count, mostly 0, and the Poisson loss fits its mean. The run logs the parameters, the
metrics on the held-out days (RMSE, MAE, mean Poisson deviance), the model with its signature and
an input example, and registers the model as a new version of `MODEL_NAME`. The artifacts go
through the tracking server (`mlflow-artifacts:/`, the server's `--serve-artifacts` proxy into the
`mlflow` bucket): the client needs no S3 credentials.

scikit-learn is the version of the MLflow image (`-full` installs mlflow[extras], scikit-learn
1.9.1), so a model logged from Airflow loads the same way in the MLflow server's environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from lakehouse_demo.ml import EXPERIMENT, METRIC, MODEL_NAME
from lakehouse_demo.ml.features import FEATURES, TARGET

DEFAULT_HOLDOUT_DAYS = 3
DEFAULT_ALPHA = 1e-3


@dataclass(frozen=True)
class Split:
    train: pd.DataFrame
    holdout: pd.DataFrame

    def period(self) -> dict[str, str]:
        return {"train_start": str(self.train.pickup_date.min()), "train_end": str(self.train.pickup_date.max()),
                "holdout_start": str(self.holdout.pickup_date.min()),
                "holdout_end": str(self.holdout.pickup_date.max())}


def split(grid: pd.DataFrame, holdout_days: int = DEFAULT_HOLDOUT_DAYS) -> Split:
    """The last `holdout_days` days are held out; the model never sees them while fitting."""
    days = sorted(grid.pickup_date.unique())
    if len(days) <= holdout_days:
        raise ValueError(f"{len(days)} days of demand: need more than the {holdout_days} held-out days")
    first_holdout = days[-holdout_days]
    return Split(grid[grid.pickup_date < first_holdout], grid[grid.pickup_date >= first_holdout])


def build(alpha: float = DEFAULT_ALPHA):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import PoissonRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    encode = ColumnTransformer([("onehot", OneHotEncoder(handle_unknown="ignore"), list(FEATURES))])
    return Pipeline([("encode", encode), ("poisson", PoissonRegressor(alpha=alpha, max_iter=1000))])


def metrics(actual: pd.Series | np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import mean_absolute_error, mean_poisson_deviance, root_mean_squared_error

    predicted = np.clip(np.asarray(predicted, dtype=float), 1e-9, None)
    return {"holdout_rmse": float(root_mean_squared_error(actual, predicted)),
            "holdout_mae": float(mean_absolute_error(actual, predicted)),
            "holdout_poisson_deviance": float(mean_poisson_deviance(actual, predicted))}


@dataclass(frozen=True)
class Trained:
    run_id: str
    version: str
    metrics: Mapping[str, float]
    split: Split


def train(grid: pd.DataFrame, *, holdout_days: int = DEFAULT_HOLDOUT_DAYS, alpha: float = DEFAULT_ALPHA,
          model_name: str = MODEL_NAME, experiment: str = EXPERIMENT,
          tags: Mapping[str, str] | None = None) -> Trained:
    """Fit, evaluate on the held-out days, log and register one version (tracking URI from the environment)."""
    import mlflow
    from mlflow.models import infer_signature

    parts = split(grid, holdout_days)
    X, y = parts.train[list(FEATURES)], parts.train[TARGET]
    model = build(alpha).fit(X, y)
    scores = metrics(parts.holdout[TARGET], model.predict(parts.holdout[list(FEATURES)]))

    mlflow.set_experiment(experiment)
    with mlflow.start_run(tags=dict(tags or {})) as run:
        mlflow.log_params({"alpha": alpha, "holdout_days": holdout_days, "features": ",".join(FEATURES),
                           "estimator": "PoissonRegressor", **parts.period()})
        mlflow.log_metrics({**scores, "train_rows": len(parts.train), "holdout_rows": len(parts.holdout),
                            "train_trips": float(y.sum()), "holdout_trips": float(parts.holdout[TARGET].sum())})
        example = X.head(5)
        info = mlflow.sklearn.log_model(model, name="model", input_example=example,
                                        signature=infer_signature(example, model.predict(example)),
                                        registered_model_name=model_name)
    return Trained(run.info.run_id, str(info.registered_model_version), scores, parts)


def predictor(model_uri: str) -> Callable[[pd.DataFrame], np.ndarray]:
    """`predict(features)` of a registered model (`models:/name/3`, `models:/name@champion`)."""
    import mlflow

    model = mlflow.pyfunc.load_model(model_uri)
    return lambda frame: np.asarray(model.predict(frame[list(FEATURES)]), dtype=float)


def score_on(predict: Callable[[pd.DataFrame], np.ndarray], holdout: pd.DataFrame) -> dict[str, float]:
    return metrics(holdout[TARGET], predict(holdout))


__all__ = ["Split", "Trained", "split", "build", "metrics", "train", "predictor", "score_on", "METRIC"]
