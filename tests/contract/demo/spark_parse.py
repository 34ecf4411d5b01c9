"""Parse SQL texts with Spark's own parser (classic local session): stdin a JSON list, stdout a JSON list.

Run with .ci/venv-spark's python (pyspark 4.1.2). Parsing only: no catalog is consulted, so the Iceberg
statements parse without the Iceberg runtime. Each entry is the logical plan's class name or the error.
"""

import json
import sys

from pyspark.sql import SparkSession

spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
         .config("spark.sql.session.timeZone", "UTC").getOrCreate())
parser = spark._jsparkSession.sessionState().sqlParser()
out = []
for sql in json.load(sys.stdin):
    try:
        out.append({"plan": parser.parsePlan(sql).getClass().getSimpleName()})
    except Exception as error:  # noqa: BLE001 - reported back per statement
        out.append({"error": str(error)[:2000]})
spark.stop()
print(json.dumps(out))
