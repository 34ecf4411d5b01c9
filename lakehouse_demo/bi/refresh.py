"""Fresh dashboards after new data: Superset's REST API, called by Airflow after a pipeline or scoring run.

For every dataset that reads a changed table (`content.TABLE_DATASETS`):
  1. `POST /api/v1/cachekey/invalidate` drops the cached results Superset recorded for the dataset
     (it records cache keys when `STORE_CACHE_KEYS_IN_METADATA_DB = True`);
  2. `PUT /api/v1/dataset/warm_up_cache` runs each chart of the dataset again with `force`, so the
     cache holds the new results before anyone opens the dashboard (and so the refresh works whatever
     the cache backend is: a warmed entry replaces the stale one under the same key).
The caller is Superset's admin (the `superset_api` Airflow connection): invalidation and warm-up are
admin permissions.
"""

from __future__ import annotations

from typing import Any, Iterable

from lakehouse_demo.bi import content

TIMEOUT = 120


def datasets_of(tables: Iterable[str]) -> list[str]:
    return sorted({d for t in tables for d in content.TABLE_DATASETS.get(t, ())})


def login(base_url: str, username: str, password: str):
    import requests

    session = requests.Session()
    response = session.post(f"{base_url}/api/v1/security/login", timeout=TIMEOUT, json={
        "username": username, "password": password, "provider": "db", "refresh": False})
    response.raise_for_status()
    session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    token = session.get(f"{base_url}/api/v1/security/csrf_token/", timeout=TIMEOUT)
    token.raise_for_status()
    session.headers.update({"X-CSRFToken": token.json()["result"], "Referer": base_url})
    return session


def refresh(base_url: str, username: str, password: str, tables: Iterable[str],
            database_name: str = "Lakehouse (Trino iceberg)") -> dict[str, Any]:
    base_url = base_url.rstrip("/")
    names = datasets_of(tables)
    if not names:
        return {"invalidated": [], "warmed": []}
    schemas = {d.name: d.schema for d in content.DATASETS}
    session = login(base_url, username, password)
    response = session.post(f"{base_url}/api/v1/cachekey/invalidate", timeout=TIMEOUT, json={"datasources": [
        {"datasource_name": n, "database_name": database_name, "schema": schemas[n], "datasource_type": "table"}
        for n in names]})
    if response.status_code != 201:
        raise RuntimeError(f"cache invalidation: {response.status_code} {response.text[:500]}")
    warmed = []
    for name in names:
        response = session.put(f"{base_url}/api/v1/dataset/warm_up_cache", timeout=TIMEOUT,
                               json={"db_name": database_name, "table_name": name})
        if response.status_code != 200:
            raise RuntimeError(f"warming {name}: {response.status_code} {response.text[:500]}")
        for chart in response.json()["result"]:
            if chart.get("viz_error"):
                raise RuntimeError(f"warming {name}: chart {chart['chart_id']}: {chart['viz_error']}")
            warmed.append({"dataset": name, "chart_id": chart["chart_id"], "status": 200,
                           "viz_status": chart.get("viz_status")})
    return {"invalidated": names, "warmed": warmed}
