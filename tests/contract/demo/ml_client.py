"""The ML steps as an Airflow task runs them: the Airflow image's Python and packages (the unit virtualenv
stands in for it, with mlflow-skinny, scikit-learn, skops and the Spark Connect client the components
install), in the environment the stack renders for the Airflow scheduler (MLFLOW_TRACKING_URI and the
pipelines' login, which the MLflow client sends to the basic-auth app). Gold tables are Parquet files
written by the local Spark Connect server; Iceberg writes are captured.

    python ml_client.py '<json request>' OUT.json
"""

from __future__ import annotations

import datetime as dt
import json
import sys


def main(request: dict) -> dict:
    sys.path.insert(0, request["repo"])  # the DAGs folder's lakehouse_demo package
    import mlflow
    from pyspark.sql import SparkSession

    from lakehouse_demo.ml import CHAMPION, steps
    from lakehouse_demo.ml.features import FEATURES, to_pandas

    spark = SparkSession.builder.remote(request["spark_url"]).getOrCreate()
    frames = {name: spark.read.parquet(path) for name, path in request["tables"].items()}
    captured: dict = {}

    class Captured:  # PredictionTables without Iceberg: keeps what would be written
        def ensure(self):
            pass

        def write_predictions(self, rows, model_name, model_version, days):
            captured["predictions"] = [r.asDict() for r in rows.collect()]
            captured["prediction_days"] = [d.isoformat() for d in days]

        def write_versions(self, frame):
            captured["versions"] = [r.asDict() for r in frame.collect()]

    model_name = request["model_name"]
    if request["action"] == "train":
        result = steps.train_and_promote(spark, request["holdout_days"], request["alpha"],
                                         {"purpose": "contract"}, model_name, read=frames.__getitem__,
                                         tables=Captured())
    else:
        result = steps.score(spark, request.get("version"), request["days"], model_name, read=frames.__getitem__,
                             tables=Captured())
        # The model's own predictions for the same rows, computed independently of the scoring code.
        model = mlflow.pyfunc.load_model(f"models:/{model_name}@{CHAMPION}")
        grid = to_pandas(steps.demand_grid(frames.__getitem__,
                                           [dt.date.fromisoformat(d) for d in captured["prediction_days"]]))
        grid["own"] = model.predict(grid[list(FEATURES)])
        captured["own"] = {f"{r.pickup_date}|{r.pickup_hour}|{r.pu_location_id}": float(r.own)
                           for r in grid.itertuples(index=False)}
    client = mlflow.MlflowClient()
    versions = [client.get_model_version(model_name, v.version)  # with its aliases (search results have none)
                for v in client.search_model_versions(f"name = '{model_name}'")]
    captured["registry"] = [{"version": v.version, "aliases": list(v.aliases), "run_id": v.run_id,
                             "model_id": getattr(v, "model_id", None), "source": v.source,
                             "storage_location": getattr(v, "storage_location", None), "tags": dict(v.tags),
                             "user_id": v.user_id}
                            for v in versions]
    return {"result": result, **captured}


if __name__ == "__main__":
    with open(sys.argv[2], "w") as out:
        json.dump(main(json.loads(sys.argv[1])), out, default=str)
