"""Superset content as code: datasets, charts and a dashboard on the demo's gold tables, the
analyst role, and the cache refresh Airflow calls after new data lands.

  content  the export bundle (YAML files of a Superset 6 `dashboard_export`) generated from code
  apply    runs inside the Superset image: imports the bundle, creates/updates the analyst role and login
  refresh  Superset's REST API from Airflow: invalidate and re-warm the datasets a new asset changed

`content` and `apply` import only the standard library and PyYAML (which Superset ships), so the job
needs just these files next to each other, not the whole package.
"""
