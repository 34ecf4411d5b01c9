"""The Superset bundle generated from code: deterministic, complete, SQL that parses as Trino."""

from __future__ import annotations

import io
import zipfile

import pytest
import sqlglot
import yaml

from lakehouse_demo import tables
from lakehouse_demo.bi import content, refresh

DATABASE = {"database_name": "Lakehouse (Trino iceberg)", "sqlalchemy_uri": "trino://superset@trino:8080/iceberg",
            "uuid": "0b0e9d0c-0000-4000-8000-000000000001", "version": "1.0.0", "extra": {}}
KNOWN_TABLES = {getattr(tables, n) for n in dir(tables) if n.isupper() and isinstance(getattr(tables, n), str)}


def test_the_bundle_is_byte_identical_across_runs():
    assert content.bundle_zip(DATABASE) == content.bundle_zip(DATABASE)


def test_the_zip_has_the_superset_layout():
    names = zipfile.ZipFile(io.BytesIO(content.bundle_zip(DATABASE))).namelist()
    assert f"{content.ROOT}/metadata.yaml" in names
    kinds = {n.split("/")[1] for n in names if n.count("/") > 1}
    assert kinds == {"databases", "datasets", "charts", "dashboards"}


def test_every_reference_resolves():
    docs = {p: yaml.safe_load(t) for p, t in content.bundle_texts(DATABASE).items()}
    datasets = {d["uuid"]: d for p, d in docs.items() if p.startswith("datasets/")}
    charts = {c["uuid"]: c for p, c in docs.items() if p.startswith("charts/")}
    assert all(d["database_uuid"] == DATABASE["uuid"] for d in datasets.values())
    assert all(c["dataset_uuid"] in datasets for c in charts.values())
    dashboard = next(d for p, d in docs.items() if p.startswith("dashboards/"))
    placed = [v["meta"]["uuid"] for v in dashboard["position"].values() if isinstance(v, dict) and v.get("type") == "CHART"]
    assert sorted(placed) == sorted(charts)
    assert len({*datasets, *charts, dashboard["uuid"]}) == len(datasets) + len(charts) + 1


@pytest.mark.parametrize("dataset", content.DATASETS, ids=lambda d: d.name)
def test_each_dataset_names_a_lakehouse_table_or_parses_as_trino(dataset):
    if dataset.sql is None:
        assert f"iceberg.{dataset.schema}.{dataset.name}" in KNOWN_TABLES
        return
    tree = sqlglot.parse_one(dataset.sql, read="trino")
    named = {f"{t.catalog}.{t.db}.{t.name}" for t in tree.find_all(sqlglot.exp.Table)}
    assert named <= KNOWN_TABLES, named - KNOWN_TABLES
    assert [c.alias_or_name for c in tree.selects] == [c.name for c in dataset.columns]
    for _, expression in dataset.metrics:
        sqlglot.parse_one(f"SELECT {expression} FROM t", read="trino")


def test_every_chart_metric_parses_as_trino_and_postgres():
    for chart in content.CHARTS:
        for metric in chart.params["metrics"]:
            for dialect in ("trino", "postgres"):
                sqlglot.parse_one(f"SELECT {metric['sqlExpression']} FROM t", read=dialect)


def test_the_refresh_covers_every_dataset_and_the_virtual_one_for_its_tables():
    assert set(refresh.datasets_of(content.TABLE_DATASETS)) == {d.name for d in content.DATASETS}
    assert refresh.datasets_of(["iceberg.gold.demand_predictions"]) == ["demand_predictions", "demand_vs_actual"]
    assert refresh.datasets_of(["iceberg.gold.unknown"]) == []
