"""The dashboard as code: a Superset 6 export bundle (`metadata.yaml`, `databases/`, `datasets/`,
`charts/`, `dashboards/`), generated here and imported with overwrite by `apply.py`.

Idempotency comes from identity: every object has a UUID derived from its name (uuid5), so a second
import finds the same dataset, chart and dashboard and overwrites it in place; datasets list every
column and metric, so an import also removes what the code no longer declares. The database entry is
not ours: `apply.py` describes the existing one (the init job's Trino registration, or a stand-in) by
its own UUID, so the datasets attach to it instead of creating a second database.

SQL here is what Superset sends to the database: it must be Trino SQL (the tests parse it with
sqlglot's Trino dialect) and, for the stand-in used by the screenshot, PostgreSQL as well, so only
the common subset is used (no casts to Trino-only types, functions both have).
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import Any, Iterable

NAMESPACE = uuid.UUID("6f1b0a52-3c2e-4d8e-9a51-1c0de5b1a7e1")
VERSION = "1.0.0"
ROOT = "lakehouse_taxi_demand"  # the top directory of the ZIP, as Superset's exports have one
DASHBOARD_SLUG = "taxi-demand"
DASHBOARD_TITLE = "NYC taxi: revenue, demand and the demand model"
CATALOG_SCHEMAS = {"gold": "gold", "bronze": "bronze"}  # the Iceberg namespaces as schemas of catalog iceberg


def uid(kind: str, name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{name}"))


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    temporal: bool = False
    groupby: bool = True


@dataclass(frozen=True)
class Dataset:
    name: str                       # table name (physical) or the dataset's name (virtual)
    schema: str
    columns: tuple[Column, ...]
    sql: str | None = None          # a virtual dataset's query
    metrics: tuple[tuple[str, str], ...] = ()
    description: str = ""

    @property
    def uuid(self) -> str:
        return uid("dataset", f"{self.schema}.{self.name}")

    @property
    def main_dttm_col(self) -> str | None:
        return next((c.name for c in self.columns if c.temporal), None)


def _columns(spec: str, temporal: Iterable[str] = ("pickup_date",), measures: Iterable[str] = ()) -> tuple[Column, ...]:
    out = []
    for part in re.split(r",(?![^()]*\))", spec):  # not the comma of DECIMAL(18,2)
        name, type_ = part.strip().split(" ", 1)
        out.append(Column(name, type_.upper(), name in temporal, name not in measures))
    return tuple(out)


_MONEY = "DECIMAL(18,2)"
DAILY_BOROUGH = Dataset("daily_borough_revenue", "gold", _columns(
    f"pickup_date DATE, borough VARCHAR, trips BIGINT, trip_distance {_MONEY}, fare_amount {_MONEY}, "
    f"tip_amount {_MONEY}, total_amount {_MONEY}",
    measures=("trips", "trip_distance", "fare_amount", "tip_amount", "total_amount")),
    metrics=(("revenue", "SUM(total_amount)"), ("trip_count", "SUM(trips)")),
    description="Trips and revenue per borough and pickup day (Iceberg gold, rebuilt by taxi_pipeline).")
DAILY_ZONE = Dataset("daily_zone_revenue", "gold", _columns(
    f"pickup_date DATE, pu_location_id INTEGER, borough VARCHAR, zone VARCHAR, trips BIGINT, passengers BIGINT, "
    f"trip_distance {_MONEY}, fare_amount {_MONEY}, tip_amount {_MONEY}, total_amount {_MONEY}",
    measures=("trips", "passengers", "trip_distance", "fare_amount", "tip_amount", "total_amount")),
    metrics=(("revenue", "SUM(total_amount)"), ("trip_count", "SUM(trips)")),
    description="Trips and revenue per pickup zone and day.")
HOURLY_DEMAND = Dataset("hourly_zone_demand", "gold", _columns(
    "pickup_date DATE, pickup_hour INTEGER, pu_location_id INTEGER, trips BIGINT, avg_trip_distance DECIMAL(9,2)",
    measures=("trips", "avg_trip_distance")),
    metrics=(("trip_count", "SUM(trips)"),),
    description="Trips per pickup zone and hour (the demand model's target).")
PREDICTIONS = Dataset("demand_predictions", "gold", _columns(
    "pickup_date DATE, pickup_hour INTEGER, pu_location_id INTEGER, day_of_week INTEGER, actual_trips BIGINT, "
    "predicted_trips DOUBLE, model_name VARCHAR, model_version INTEGER, run_id VARCHAR, scored_at TIMESTAMP",
    measures=("actual_trips", "predicted_trips")),
    description="The champion's predictions next to the actual demand, per model version.")
MODEL_VERSIONS = Dataset("model_versions", "gold", _columns(
    "model_name VARCHAR, model_version INTEGER, run_id VARCHAR, is_champion BOOLEAN, aliases VARCHAR, "
    "created_at TIMESTAMP, train_start DATE, train_end DATE, holdout_start DATE, holdout_end DATE, alpha DOUBLE, "
    "holdout_rmse DOUBLE, holdout_mae DOUBLE, holdout_poisson_deviance DOUBLE, train_rows BIGINT, promotion VARCHAR",
    temporal=("created_at",), measures=("holdout_rmse", "holdout_mae", "holdout_poisson_deviance", "train_rows")),
    description="Every registered version of the demand model with its held-out metrics (from MLflow).")

DEMAND_VS_ACTUAL_SQL = """SELECT p.pickup_date, p.pickup_hour, p.pu_location_id, z.borough, z.zone,
       p.model_name, p.model_version, p.run_id, v.is_champion, v.holdout_rmse,
       p.actual_trips, p.predicted_trips, p.predicted_trips - p.actual_trips AS error
FROM iceberg.gold.demand_predictions AS p
JOIN iceberg.bronze.taxi_zones AS z ON z.location_id = p.pu_location_id
LEFT JOIN iceberg.gold.model_versions AS v
  ON v.model_name = p.model_name AND v.model_version = p.model_version"""
DEMAND_VS_ACTUAL = Dataset("demand_vs_actual", "gold", _columns(
    "pickup_date DATE, pickup_hour INTEGER, pu_location_id INTEGER, borough VARCHAR, zone VARCHAR, "
    "model_name VARCHAR, model_version INTEGER, run_id VARCHAR, is_champion BOOLEAN, holdout_rmse DOUBLE, "
    "actual_trips BIGINT, predicted_trips DOUBLE, error DOUBLE",
    measures=("actual_trips", "predicted_trips", "error", "holdout_rmse")),
    sql=DEMAND_VS_ACTUAL_SQL,
    metrics=(("actual", "SUM(actual_trips)"), ("predicted", "SUM(predicted_trips)"),
             ("rmse", "SQRT(AVG(error * error))"), ("mae", "AVG(ABS(error))")),
    description="Predictions joined with the zones and the model versions' metrics (virtual dataset).")

DATASETS = (DAILY_BOROUGH, DAILY_ZONE, HOURLY_DEMAND, PREDICTIONS, MODEL_VERSIONS, DEMAND_VS_ACTUAL)
# Which datasets read each table: what a new Iceberg snapshot of the table makes stale.
TABLE_DATASETS = {
    "iceberg.gold.daily_borough_revenue": ("daily_borough_revenue",),
    "iceberg.gold.daily_zone_revenue": ("daily_zone_revenue",),
    "iceberg.gold.hourly_zone_demand": ("hourly_zone_demand",),
    "iceberg.gold.demand_predictions": ("demand_predictions", "demand_vs_actual"),
    "iceberg.gold.model_versions": ("model_versions", "demand_vs_actual"),
    "iceberg.bronze.taxi_zones": ("demand_vs_actual",),
}


def _metric(label: str, sql: str) -> dict[str, Any]:
    return {"expressionType": "SQL", "sqlExpression": sql, "label": label, "hasCustomLabel": True,
            "optionName": f"metric_{label}"}


@dataclass(frozen=True)
class Chart:
    name: str
    dataset: Dataset
    viz_type: str
    params: dict[str, Any] = field(hash=False)
    width: int = 6
    height: int = 50

    @property
    def uuid(self) -> str:
        return uid("chart", self.name)


def _timeseries(viz: str, x: str, metrics: list[dict], groupby: list[str], **extra) -> dict[str, Any]:
    return {"viz_type": viz, "x_axis": x, "time_grain_sqla": "P1D" if x == "pickup_date" else None,
            "metrics": metrics, "groupby": groupby, "adhoc_filters": [], "row_limit": 10000,
            "order_desc": True, "show_legend": True, "rich_tooltip": True, "truncate_metric": True,
            "x_axis_title_margin": 15, "y_axis_title_margin": 15, "color_scheme": "supersetColors", **extra}


CHARTS = (
    Chart("Revenue by borough and day", DAILY_BOROUGH, "echarts_timeseries_bar",
          _timeseries("echarts_timeseries_bar", "pickup_date", [_metric("revenue", "SUM(total_amount)")],
                      ["borough"], stack="Stack", y_axis_format="$,.0f")),
    Chart("Trips by borough and day", DAILY_BOROUGH, "echarts_timeseries_line",
          _timeseries("echarts_timeseries_line", "pickup_date", [_metric("trips", "SUM(trips)")], ["borough"],
                      markerEnabled=True)),
    Chart("Hourly demand (trips per pickup hour)", HOURLY_DEMAND, "echarts_timeseries_bar",
          _timeseries("echarts_timeseries_bar", "pickup_hour", [_metric("trips", "SUM(trips)")], [],
                      x_axis_sort_asc=True, xAxisLabelRotation=0)),
    Chart("Predicted vs actual demand by model version", DEMAND_VS_ACTUAL, "echarts_timeseries_line",
          _timeseries("echarts_timeseries_line", "pickup_date",
                      [_metric("actual", "SUM(actual_trips)"), _metric("predicted", "SUM(predicted_trips)")],
                      ["model_version"], markerEnabled=True)),
    Chart("Model error by version", DEMAND_VS_ACTUAL, "table",
          {"viz_type": "table", "query_mode": "aggregate", "groupby": ["model_version", "is_champion"],
           "metrics": [_metric("RMSE", "SQRT(AVG(error * error))"), _metric("MAE", "AVG(ABS(error))"),
                       _metric("held-out RMSE (MLflow)", "MAX(holdout_rmse)"), _metric("rows", "COUNT(*)")],
           "all_columns": [], "percent_metrics": [], "adhoc_filters": [], "order_by_cols": [],
           "row_limit": 1000, "server_page_length": 10, "order_desc": True, "table_timestamp_format": "smart_date",
           "show_cell_bars": True, "color_pn": True}),
)


def _dataset_yaml(dataset: Dataset, database_uuid: str) -> dict[str, Any]:
    return {
        "table_name": dataset.name, "main_dttm_col": dataset.main_dttm_col, "description": dataset.description,
        "default_endpoint": None, "offset": 0, "cache_timeout": None, "catalog": None, "schema": dataset.schema,
        "sql": dataset.sql, "params": None, "template_params": None, "filter_select_enabled": True,
        "fetch_values_predicate": None, "extra": None, "normalize_columns": False, "always_filter_main_dttm": False,
        "uuid": dataset.uuid,
        "metrics": [{"metric_name": name, "verbose_name": None, "metric_type": None, "expression": sql,
                     "description": None, "d3format": None, "currency": None, "extra": {}, "warning_text": None}
                    for name, sql in dataset.metrics],
        "columns": [{"column_name": c.name, "verbose_name": None, "is_dttm": c.temporal, "is_active": True,
                     "type": c.type, "advanced_data_type": None, "groupby": c.groupby, "filterable": True,
                     "expression": None, "description": None, "python_date_format": None, "extra": {}}
                    for c in dataset.columns],
        "version": VERSION, "database_uuid": database_uuid,
    }


def _chart_yaml(chart: Chart) -> dict[str, Any]:
    return {"slice_name": chart.name, "description": None, "certified_by": None, "certification_details": None,
            "viz_type": chart.viz_type, "params": chart.params, "query_context": None, "cache_timeout": None,
            "uuid": chart.uuid, "version": VERSION, "dataset_uuid": chart.dataset.uuid}


def dashboard_position(charts: Iterable[Chart] = CHARTS) -> dict[str, Any]:
    """Two charts a row, in the order of CHARTS."""
    charts = list(charts)
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": DASHBOARD_TITLE}},
    }
    for start in range(0, len(charts), 2):
        row_id = f"ROW-{start // 2 + 1}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {"type": "ROW", "id": row_id, "children": [], "parents": ["ROOT_ID", "GRID_ID"],
                            "meta": {"background": "BACKGROUND_TRANSPARENT"}}
        for chart in charts[start:start + 2]:
            chart_id = f"CHART-{chart.uuid[:8]}"
            position[row_id]["children"].append(chart_id)
            position[chart_id] = {"type": "CHART", "id": chart_id, "children": [],
                                  "parents": ["ROOT_ID", "GRID_ID", row_id],
                                  "meta": {"width": chart.width if len(charts[start:start + 2]) > 1 else 12,
                                           "height": chart.height, "chartId": 0, "uuid": chart.uuid,
                                           "sliceName": chart.name}}
    return position


def _dashboard_yaml() -> dict[str, Any]:
    return {"dashboard_title": DASHBOARD_TITLE, "description": None, "css": "", "slug": DASHBOARD_SLUG,
            "certified_by": None, "certification_details": None, "published": True,
            "uuid": uid("dashboard", DASHBOARD_SLUG), "position": dashboard_position(),
            "metadata": {"color_scheme": "supersetColors", "refresh_frequency": 0, "expanded_slices": {},
                         "label_colors": {}, "shared_label_colors": [], "map_label_colors": {},
                         "color_scheme_domain": [], "timed_refresh_immune_slices": [],
                         "cross_filters_enabled": False, "native_filter_configuration": [],
                         "chart_configuration": {}, "global_chart_configuration": {}},
            "version": VERSION}


def bundle_files(database: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Path -> document. `database`: the existing database's export fields (`apply.database_entry`)."""
    files: dict[str, dict[str, Any]] = {
        "metadata.yaml": {"version": VERSION, "type": "Dashboard", "timestamp": "2026-01-01T00:00:00+00:00"},
        f"databases/{_slug(database['database_name'])}.yaml": database,
    }
    for dataset in DATASETS:
        files[f"datasets/{_slug(database['database_name'])}/{dataset.name}.yaml"] = _dataset_yaml(
            dataset, database["uuid"])
    for chart in CHARTS:
        files[f"charts/{_slug(chart.name)}.yaml"] = _chart_yaml(chart)
    files[f"dashboards/{DASHBOARD_SLUG}.yaml"] = _dashboard_yaml()
    return files


def bundle_texts(database: dict[str, Any]) -> dict[str, str]:
    """The bundle as Superset's importers take it (`get_contents_from_bundle`): path -> YAML text."""
    import yaml

    return {path: yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
            for path, doc in bundle_files(database).items()}


def bundle_zip(database: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in sorted(bundle_texts(database).items()):
            info = zipfile.ZipInfo(f"{ROOT}/{path}", date_time=(2026, 1, 1, 0, 0, 0))  # byte-identical across runs
            archive.writestr(info, text)
    return out.getvalue()


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).strip("_")


def summary() -> str:
    return json.dumps({"datasets": [d.name for d in DATASETS], "charts": [c.name for c in CHARTS],
                       "dashboard": DASHBOARD_SLUG}, indent=1)


def query_context(chart: Chart, datasource_id: int) -> dict[str, Any]:
    """The chart's saved query (what `GET /api/v1/chart/<id>/data/`, cache warm-up and reports run).

    It names the dataset by id, which only exists after the import, so `apply.py` sets it then.
    """
    p = chart.params
    if p["viz_type"] == "table":
        columns: list[Any] = list(p["groupby"])
        series: dict[str, Any] = {}
    else:
        axis = {"columnType": "BASE_AXIS", "sqlExpression": p["x_axis"], "label": p["x_axis"],
                "expressionType": "SQL"}
        if p.get("time_grain_sqla"):
            axis["timeGrain"] = p["time_grain_sqla"]
        columns = [axis, *p["groupby"]]
        series = {"series_columns": list(p["groupby"])}
    query = {"filters": [], "extras": {"having": "", "where": ""}, "applied_time_extras": {}, "columns": columns,
             "metrics": p["metrics"], "orderby": [[p["metrics"][0], False]], "annotation_layers": [],
             "row_limit": p["row_limit"], "series_limit": 0, "order_desc": True, "url_params": {},
             "custom_params": {}, "custom_form_data": {}, "time_range": "No filter", **series}
    return {"datasource": {"id": datasource_id, "type": "table"}, "force": False, "queries": [query],
            "form_data": {**p, "datasource": f"{datasource_id}__table"}, "result_format": "json",
            "result_type": "full"}
