"""The demand model's lifecycle against the stack's MLflow server as rendered (basic-auth app, PostgreSQL
backend, artifacts through its proxy into the S3 server) and a local Spark Connect server (.ci/venv-spark).

Training, registration, promotion and scoring run as the Airflow task would (`lakehouse_demo.ml.steps`),
as a command in the scheduler's container: the Airflow image's Python and packages (the unit virtualenv)
and the environment the stack renders for it, whose MLflow login (MLFLOW_TRACKING_USERNAME/PASSWORD, the
pipelines') is what opens the server.
The gold tables are Parquet (Iceberg cannot load here), so the Iceberg writes are captured instead of
committed. The champion trigger runs in this process with the triggerer's rendered MLflow settings.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest

from harness import shipped_stacks
from local_container import assert_all_fit

pytestmark = pytest.mark.contract
ROOT = Path(__file__).resolve().parents[3]
MODEL = "taxi_hourly_demand_contract"
DAYS = 10
FIRST_DAY = dt.date(2026, 3, 1)
TASKS = "lakehouse-airflow-scheduler"  # where the DAGs' tasks run
TRIGGERER = "apps-airflow-triggerer-container"


def mlflow_settings(contract_run, loopback, container: str) -> dict[str, str]:
    """A component's rendered MLFLOW_TRACKING_* settings, addresses folded onto loopback."""
    return {k: loopback.value(k, v) for k, v in contract_run.envs(container).items() if k.startswith("MLFLOW_TRACKING_")}


@pytest.fixture(scope="module")
def gold(spark, workdir):
    """hourly_zone_demand (built by part 1's gold builder from the source generator's trips) and taxi_zones."""
    from lakehouse_demo import source, transforms
    from lakehouse_demo.tables import BRONZE_ZONES, GOLD_HOURLY_ZONE

    trips = [op.values for day in range(DAYS) for op in source.plan_activity(FIRST_DAY + dt.timedelta(days=day), 400)
             if op.op == "I"]
    schema = ", ".join(f"{c} {t}" for c, t in transforms._TRIP_TYPES.items())
    frame = spark.createDataFrame([tuple(t[c] for c in source.TRIP_COLUMNS) for t in trips], schema)
    zones = transforms.zones_frame(spark, source.zone_rows())
    paths = {GOLD_HOURLY_ZONE: str(workdir / "ml" / "hourly_zone_demand"), BRONZE_ZONES: str(workdir / "ml" / "zones")}
    transforms.hourly_zone_demand(frame, zones).write.mode("overwrite").parquet(paths[GOLD_HOURLY_ZONE])
    zones.write.mode("overwrite").parquet(paths[BRONZE_ZONES])
    return paths


@pytest.fixture(scope="module")
def ml(mlflow, mlflow_users, container, spark_connect, gold, workdir):
    """`ml(action, **request)`: one ML step as a command in the scheduler's container (its image's Python, its
    rendered environment, measured against its memory limit); the JSON it writes. `ml.processes`: every step's."""
    tasks = container(TASKS)
    assert tasks.env["MLFLOW_TRACKING_USERNAME"] == "airflow", "the tasks log in to MLflow as the pipelines"
    processes = []

    def run(action: str, **request) -> dict:
        request = {"action": action, "model_name": MODEL, "tables": gold, "spark_url": spark_connect.url,
                   "repo": str(ROOT), **request}
        out = workdir / "ml" / f"step-{len(processes)}.json"
        code, process = tasks.run(600, ["python", str(Path(__file__).with_name("ml_client.py")), json.dumps(request),
                                        str(out)], log=f"ml-step-{len(processes)}.log")
        processes.append(process)
        assert code == 0, process.tail(60)
        return json.loads(out.read_text())

    run.processes = processes
    return run


class StateStore:
    """The watched asset's state store as the triggerer hands it over (aget/aset)."""

    def __init__(self):
        self.values = {}

    async def aget(self, key, default=None):
        return self.values.get(key, default)

    async def aset(self, key, value):
        self.values[key] = value


def watch(trigger, polls: int = 3, timeout: float = 60) -> dict[str, list]:
    """Run the trigger as the triggerer does until it has polled the registry `polls` times:
    {"events": the payloads it yielded, "failures": the polls that failed (it logs them and polls again)}."""
    failures, outcomes, poll = [], [], trigger.poll

    async def counted(client):
        try:
            return await poll(client)
        except Exception as error:
            failures.append(repr(error))
            raise
        finally:
            outcomes.append(True)
    trigger.poll = counted

    async def collect():
        events = []

        async def consume():
            async for event in trigger.run():
                events.append(event.payload)  # before the trigger sleeps again: counted with its poll
        task = asyncio.create_task(consume())
        deadline = asyncio.get_running_loop().time() + timeout
        while len(outcomes) < polls and not task.done() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        assert len(outcomes) >= polls, f"the trigger polled {len(outcomes)} times in {timeout} s"
        return events
    return {"events": asyncio.run(collect()), "failures": failures}


@pytest.fixture(scope="module")
def triggerer_env(contract_run, loopback):
    """The triggerer's MLflow settings in this process's environment, where the trigger reads its login."""
    with pytest.MonkeyPatch.context() as patch:
        settings = mlflow_settings(contract_run, loopback, TRIGGERER)
        for key, value in settings.items():
            patch.setenv(key, value)
        yield settings


def new_trigger(settings, state=None):
    from lakehouse_demo.ml.trigger import ChampionAliasTrigger

    trigger = ChampionAliasTrigger(settings["MLFLOW_TRACKING_URI"], MODEL, poll_interval=0.2)
    trigger.asset_state_store = StateStore()
    trigger.asset_state_store.values.update(state or {})
    return trigger


@pytest.fixture(scope="module")
def lifecycle(ml, triggerer_env):
    """Three trainings: a moderately regularised model, a far worse one, a better one; the trigger between."""
    trigger = new_trigger(triggerer_env)
    steps = {"before": watch(trigger)}
    for name, alpha in (("first", 1.0), ("worse", 1000.0), ("better", 1e-4)):
        steps[name] = ml("train", alpha=alpha, holdout_days=3)
        steps[f"after_{name}"] = watch(trigger)
    steps["score"] = ml("score", days=4)
    steps["state"] = trigger.asset_state_store.values
    return steps


def test_each_training_registers_a_version_with_params_metrics_signature_and_example(lifecycle):
    registry = {v["version"]: v for v in lifecycle["better"]["registry"]}
    assert sorted(registry) == ["1", "2", "3"]
    for name in ("first", "worse", "better"):
        result = lifecycle[name]["result"]
        assert result["version"] in registry and registry[result["version"]]["run_id"] == result["run_id"]
        assert set(result["metrics"]) == {"holdout_rmse", "holdout_mae", "holdout_poisson_deviance"}
        assert registry[result["version"]]["tags"]["promotion"] in ("champion", "rejected")


def test_the_model_artifacts_are_objects_in_the_mlflow_bucket(lifecycle, s3):
    keys = [o["Key"] for page in s3.client().get_paginator("list_objects_v2").paginate(Bucket="mlflow")
            for o in page.get("Contents", [])]
    for version in lifecycle["better"]["registry"]:
        # MLflow 3: a version's source is its logged model (`models:/m-<id>`), stored under <experiment>/models/m-<id>/
        model_id = version["model_id"] or version["source"].removeprefix("models:/").split("/")[0]
        assert model_id.startswith("m-"), version
        mine = [k for k in keys if f"/{model_id}/" in k]
        names = {k.rsplit("/", 1)[-1] for k in mine}
        assert {"MLmodel", "model.skops", "input_example.json", "serving_input_example.json"} <= names, (version, mine)
        mlmodel = s3.client().get_object(Bucket="mlflow", Key=next(k for k in mine if k.endswith("/MLmodel")))
        text = mlmodel["Body"].read().decode()
        assert "signature:" in text and "pu_location_id" in text and "sklearn" in text


def test_a_worse_version_never_becomes_champion(lifecycle):
    first, worse, better = (lifecycle[n]["result"]["decision"] for n in ("first", "worse", "better"))
    assert first["promoted"] and first["champion_version"] is None
    assert worse["candidate_score"] > worse["champion_score"] and not worse["promoted"]
    assert worse["champion_version"] == first["candidate_version"]
    # The third is compared with the champion on its own hold-out days and moves the alias only if better.
    assert better["promoted"] == (better["candidate_score"] < better["champion_score"])
    champion = [v["version"] for v in lifecycle["better"]["registry"] if "champion" in v["aliases"]]
    assert champion == [better["candidate_version"] if better["promoted"] else first["candidate_version"]]
    assert better["promoted"], "alpha 1e-4 beats alpha 1.0 on these data (the lifecycle needs a second promotion)"


def test_the_trigger_fires_on_each_promotion_and_only_then(lifecycle):
    # Before the first training the model does not exist, and the basic-auth app answers 403 for it: the trigger
    # logs that and polls again. Once it exists, the triggerer's login reads it.
    assert all("403 Forbidden" in failure for failure in lifecycle["before"]["failures"]), lifecycle["before"]
    watched = ("after_first", "after_worse", "after_better")
    assert [lifecycle[w]["failures"] for w in watched] == [[]] * 3, "the triggerer's login is refused"
    promoted = [lifecycle[n]["result"]["version"] for n in ("first", "worse", "better")
                if lifecycle[n]["result"]["decision"]["promoted"]]
    assert lifecycle["before"]["events"] == []
    seen = [e["version"] for n in ("first", "worse", "better") for e in lifecycle[f"after_{n}"]["events"]]
    assert seen == promoted
    assert lifecycle["after_worse"]["events"] == []
    run_ids = {lifecycle[n]["result"]["version"]: lifecycle[n]["result"]["run_id"] for n in ("first", "better")}
    for name in ("first", "better"):
        for event in lifecycle[f"after_{name}"]["events"]:
            assert event["run_id"] == run_ids[event["version"]] and event["model_name"] == MODEL
    assert lifecycle["state"] == {"fired_version": promoted[-1]}


def test_a_restarted_trigger_does_not_fire_again_for_the_same_champion(lifecycle, triggerer_env):
    assert watch(new_trigger(triggerer_env, lifecycle["state"])) == {"events": [], "failures": []}
    fresh = watch(new_trigger(triggerer_env))  # without the state it would
    assert [e["version"] for e in fresh["events"]] == [lifecycle["state"]["fired_version"]]


def test_a_trigger_without_the_login_is_refused_and_fires_nothing(lifecycle, monkeypatch, triggerer_env):
    from lakehouse_demo.ml.trigger import tracking_auth

    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME")
    assert tracking_auth() is None
    refused = watch(new_trigger(triggerer_env))
    assert refused["events"] == [] and refused["failures"], refused
    assert all("401 Unauthorized" in failure for failure in refused["failures"]), refused["failures"]


def test_scoring_rows_are_the_champions_own_predictions_with_version_and_run_id(lifecycle):
    scored = lifecycle["score"]
    champion = next(v for v in scored["registry"] if "champion" in v["aliases"])
    assert scored["result"]["version"] == champion["version"] and scored["result"]["run_id"] == champion["run_id"]
    rows = scored["predictions"]
    assert len(rows) == 4 * 24 * 265 == scored["result"]["scored"]
    assert {(r["model_name"], r["model_version"], r["run_id"]) for r in rows} == {
        (MODEL, int(champion["version"]), champion["run_id"])}
    own = scored["own"]
    assert len(own) == len(rows)
    for row in rows:
        key = f"{row['pickup_date']}|{row['pickup_hour']}|{row['pu_location_id']}"
        assert row["predicted_trips"] == pytest.approx(own[key], rel=1e-9, abs=1e-12)
    assert sum(r["actual_trips"] for r in rows) > 0


def test_the_versions_export_carries_each_versions_metrics_and_the_champion(lifecycle):
    versions = {v["model_version"]: v for v in lifecycle["score"]["versions"]}
    assert sorted(versions) == [1, 2, 3]
    for name in ("first", "worse", "better"):
        result = lifecycle[name]["result"]
        row = versions[int(result["version"])]
        assert row["run_id"] == result["run_id"]
        assert row["holdout_rmse"] == pytest.approx(result["metrics"]["holdout_rmse"])
    assert [v for v, r in versions.items() if r["is_champion"]] == [
        int(next(x["version"] for x in lifecycle["score"]["registry"] if "champion" in x["aliases"]))]


@pytest.mark.parametrize("stack", shipped_stacks())
def test_peak_memory_fits_the_container_limits(lifecycle, ml, mlflow, mlflow_users, stack_runs, stack):
    """The server under the lifecycle's load, the users job, each ML step against the tasks' container."""
    assert len(ml.processes) == 4
    assert_all_fit([mlflow[1], mlflow_users[1], *ml.processes], stack_runs, stack)
