"""The lakehouse tables of the demo (catalog `iceberg`, namespaces `bronze` and `gold`)."""

BRONZE_TRIPS = "iceberg.bronze.trips"
BRONZE_ZONES = "iceberg.bronze.taxi_zones"
GOLD_DAILY_ZONE = "iceberg.gold.daily_zone_revenue"
GOLD_DAILY_BOROUGH = "iceberg.gold.daily_borough_revenue"
GOLD_HOURLY_ZONE = "iceberg.gold.hourly_zone_demand"
PIPELINE_RUNS = "iceberg.gold.pipeline_runs"
GOLD_TABLES = (GOLD_DAILY_ZONE, GOLD_DAILY_BOROUGH, GOLD_HOURLY_ZONE)

# Part 2: the demand model's output (written by lakehouse_demo.ml.scoring).
GOLD_DEMAND_PREDICTIONS = "iceberg.gold.demand_predictions"
GOLD_MODEL_VERSIONS = "iceberg.gold.model_versions"
ML_TABLES = (GOLD_DEMAND_PREDICTIONS, GOLD_MODEL_VERSIONS)
