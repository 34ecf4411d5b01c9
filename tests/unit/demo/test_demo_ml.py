"""The demand model's logic that needs no server: the promotion rule, the trigger's decisions, the DAGs."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from lakehouse_demo.ml import CHAMPION, registry
from lakehouse_demo.ml.trigger import ChampionAliasTrigger

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("candidate, champion, promoted", [
    (1.0, None, True), (0.9, 1.0, True), (1.0, 1.0, False), (1.1, 1.0, False)])
def test_the_rule_promotes_only_a_strictly_better_candidate(candidate, champion, promoted):
    assert registry.decide(candidate, champion) is promoted


class FakeRegistry:
    """The MlflowClient calls `promote` makes."""

    def __init__(self, champion=None):
        self.alias, self.tags = champion, {}

    def set_registered_model_alias(self, name, alias, version):
        assert alias == CHAMPION
        self.alias = version

    def set_model_version_tag(self, name, version, key, value):
        self.tags.setdefault(version, {})[key] = value


def test_promote_scores_both_versions_on_the_same_rows_and_moves_the_alias_only_when_better(monkeypatch):
    # The unit virtualenv has no MLflow: the alias lookup is the fake's (the real one runs in tests/contract/demo).
    monkeypatch.setattr(registry, "champion_version", lambda client, name: (
        None if client.alias is None else SimpleNamespace(version=client.alias)))
    scores = {"models:/m/1": 2.0, "models:/m/2": 3.0, "models:/m/3": 1.5}
    seen = []

    def score(uri, rows):
        seen.append((uri, rows))
        return scores[uri]

    client = FakeRegistry()
    assert registry.promote(client, "1", "holdout", score, "m").promoted and client.alias == "1"
    worse = registry.promote(client, "2", "holdout-2", score, "m")
    assert not worse.promoted and client.alias == "1" and worse.champion_score == 2.0
    assert ("models:/m/1", "holdout-2") in seen  # the champion judged on the candidate's hold-out
    assert registry.promote(client, "3", "holdout-3", score, "m").promoted and client.alias == "3"
    assert client.tags["2"]["promotion"] == "rejected" and client.tags["3"]["promotion"] == "champion"


def _trigger_with(responses):
    """A trigger whose HTTP client answers from `responses` (version or None per poll)."""
    answers = iter(responses)

    def handler(request):
        version = next(answers)
        if version is None:
            return httpx.Response(404, json={"error_code": "RESOURCE_DOES_NOT_EXIST"})
        return httpx.Response(200, json={"model_version": {"version": version, "run_id": f"run{version}"}})
    return ChampionAliasTrigger("http://mlflow:5000", "m"), httpx.AsyncClient(transport=httpx.MockTransport(handler))


def test_the_trigger_fires_once_per_change_of_the_alias():
    trigger, client = _trigger_with([None, "1", "1", "2", "2", "1"])

    async def polls():
        fired = []
        for _ in range(6):
            event = await trigger.poll(client)
            if event is not None:
                fired.append(event.payload["version"])
                await trigger._set(event.payload["version"])
        return fired
    assert asyncio.run(polls()) == ["1", "2", "1"]


@pytest.mark.parametrize("login", [("airflow", "s3cret"), None])
def test_the_trigger_logs_in_as_the_mlflow_client_does(monkeypatch, login):
    """The server runs MLflow's basic-auth app: the trigger sends the login from MLFLOW_TRACKING_USERNAME/PASSWORD."""
    sent = []

    def handler(request):
        sent.append(request.headers.get("Authorization"))
        return httpx.Response(200, json={"model_version": {"version": "1", "run_id": "run1"}})
    real = httpx.AsyncClient
    monkeypatch.setattr(httpx, "AsyncClient", lambda **kwargs: real(transport=httpx.MockTransport(handler), **kwargs))
    for key, value in zip(("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"), login or ()):
        monkeypatch.setenv(key, value)
    if login is None:
        monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)

    async def first_event():
        async for event in ChampionAliasTrigger("http://mlflow:5000", "m", poll_interval=0).run():
            return event.payload
    assert asyncio.run(first_event())["version"] == "1"
    expected = None if login is None else "Basic " + base64.b64encode(":".join(login).encode()).decode()
    assert sent == [expected]
    assert "s3cret" not in json.dumps(ChampionAliasTrigger("http://mlflow:5000", "m").serialize())


def test_the_trigger_serializes_to_its_arguments():
    path, kwargs = ChampionAliasTrigger("http://mlflow:5000/", "m", poll_interval=5).serialize()
    assert path == "lakehouse_demo.ml.trigger.ChampionAliasTrigger"
    assert ChampionAliasTrigger(**kwargs).serialize() == (path, kwargs)
    assert kwargs["tracking_uri"] == "http://mlflow:5000"


def test_the_gold_assets_are_the_ones_the_pipeline_publishes():
    from lakehouse_demo.dags import taxi_pipeline
    from lakehouse_demo.ml.assets import GOLD_ASSETS

    assert [(a.name, a.uri) for a in GOLD_ASSETS] == [(a.name, a.uri) for a in taxi_pipeline.GOLD_ASSETS]


def test_the_ml_and_bi_dags_in_the_deployed_dags_folder(deployed_dags):
    _, loaded = deployed_dags
    assert loaded["errors"] == {}
    dags = {d: {k: sorted(v[k]) for k in ("schedule", "watchers", "outlets")} for d, v in loaded["dags"].items()}
    champion = "mlflow.taxi_hourly_demand@champion"
    assert dags["taxi_demand_training"] == {
        "schedule": ["iceberg.gold.hourly_zone_demand"], "watchers": [],
        "outlets": ["iceberg.gold.model_versions"]}
    assert dags["taxi_demand_scoring"] == {
        "schedule": sorted([champion, "iceberg.gold.hourly_zone_demand"]),
        "watchers": ["lakehouse_demo.ml.trigger.ChampionAliasTrigger"],
        "outlets": ["iceberg.gold.demand_predictions", "iceberg.gold.model_versions"]}
    assert dags["superset_refresh"]["schedule"] == sorted([
        "iceberg.gold.daily_zone_revenue", "iceberg.gold.daily_borough_revenue", "iceberg.gold.hourly_zone_demand",
        "iceberg.gold.demand_predictions", "iceberg.gold.model_versions"])
