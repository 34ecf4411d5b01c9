"""The registry's lifecycle: every trained version is registered; `champion` moves only to a better one.

Promotion rule (`decide`): a candidate becomes champion when there is none, or when its RMSE on the
held-out days is strictly lower than the current champion's RMSE *on the same days*. The champion is
scored again on the candidate's hold-out at decision time: versions trained on different days have
metrics on different periods, which cannot be compared as logged. Ties keep the champion (no churn).
Each decision is recorded as tags on the candidate version, so the registry shows why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable, Optional

from lakehouse_demo.ml import CHAMPION, METRIC, MODEL_NAME


@dataclass(frozen=True)
class Decision:
    model_name: str
    candidate_version: str
    candidate_score: float
    champion_version: Optional[str]
    champion_score: Optional[float]
    promoted: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def decide(candidate: float, champion: Optional[float]) -> bool:
    """The rule itself: promote when nothing holds the alias or the candidate is strictly better."""
    return champion is None or candidate < champion


def champion_version(client, name: str = MODEL_NAME):
    """The version the alias points at, or None."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException as error:
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def promote(client, candidate_version: str, holdout, score: Callable[[str, Any], float],
            name: str = MODEL_NAME) -> Decision:
    """Compare the candidate with the champion on `holdout`; move the alias if the rule says so.

    `score(model_uri, holdout)` -> the metric (`METRIC`) of that model on those rows.
    """
    candidate_score = score(f"models:/{name}/{candidate_version}", holdout)
    current = champion_version(client, name)
    current_score = None
    if current is not None and str(current.version) != str(candidate_version):
        current_score = score(f"models:/{name}/{current.version}", holdout)
    already = current is not None and str(current.version) == str(candidate_version)
    promoted = already or decide(candidate_score, current_score)
    if promoted and not already:
        client.set_registered_model_alias(name, CHAMPION, str(candidate_version))
    decision = Decision(name, str(candidate_version), candidate_score,
                        None if current is None else str(current.version), current_score, promoted)
    for key, value in {"promotion": "champion" if promoted else "rejected",
                       f"promotion_{METRIC}": f"{candidate_score:.6f}",
                       "promotion_compared_with": "" if current is None else f"v{current.version}"
                       + ("" if current_score is None else f" {METRIC}={current_score:.6f}")}.items():
        client.set_model_version_tag(name, str(candidate_version), key, value)
    return decision


VERSION_COLUMNS = ("model_name", "model_version", "run_id", "is_champion", "aliases", "created_at",
                   "train_start", "train_end", "holdout_start", "holdout_end", "alpha",
                   "holdout_rmse", "holdout_mae", "holdout_poisson_deviance", "train_rows", "promotion")


def version_rows(client, name: str = MODEL_NAME) -> list[dict[str, Any]]:
    """Every version of the model with its run's parameters and held-out metrics, for `gold.model_versions`."""
    import datetime as dt

    # Search results carry no aliases: they come from the registered model (alias -> version).
    aliases: dict[str, list[str]] = {}
    for alias, number in (client.get_registered_model(name).aliases or {}).items():
        aliases.setdefault(str(number), []).append(alias)
    rows = []
    for version in client.search_model_versions(f"name = '{name}'"):
        run = client.get_run(version.run_id)
        params, metrics = run.data.params, run.data.metrics
        mine = sorted(aliases.get(str(version.version), []))
        rows.append({
            "model_name": name, "model_version": int(version.version), "run_id": version.run_id,
            "is_champion": CHAMPION in mine, "aliases": ",".join(mine),
            "created_at": dt.datetime.fromtimestamp(version.creation_timestamp / 1000, dt.timezone.utc)
            .replace(tzinfo=None),
            **{k: dt.date.fromisoformat(params[k]) if params.get(k) else None
               for k in ("train_start", "train_end", "holdout_start", "holdout_end")},
            "alpha": float(params["alpha"]) if "alpha" in params else None,
            **{k: metrics.get(k) for k in ("holdout_rmse", "holdout_mae", "holdout_poisson_deviance")},
            "train_rows": int(metrics["train_rows"]) if "train_rows" in metrics else None,
            "promotion": (version.tags or {}).get("promotion"),
        })
    return sorted(rows, key=lambda r: r["model_version"])
