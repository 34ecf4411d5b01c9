"""Hourly taxi demand per zone: features (Spark), the model (scikit-learn, MLflow), the registry's
`champion` alias, scoring back into `iceberg.gold` and the trigger that scores a new champion.

Module by module, so each process imports only what it has:
  features  pyspark (Connect): the demand grid from the gold tables           (Airflow, notebooks)
  model     pandas, scikit-learn, mlflow: fit, hold-out metrics, log, register (Airflow, notebooks)
  registry  mlflow: the promotion rule, the versions' metrics                  (Airflow, notebooks)
  scoring   pyspark: prediction rows next to the actuals, the Iceberg writes   (Airflow)
  trigger   Airflow + httpx only: the triggerer polls the registry's alias     (Airflow triggerer)
  steps     the DAG tasks: each builds its clients from the environment and connections
"""

MODEL_NAME = "taxi_hourly_demand"
EXPERIMENT = "taxi_hourly_demand"
CHAMPION = "champion"
METRIC = "holdout_rmse"  # lower is better; the promotion rule compares it on the same held-out days
