"""The dashboard content and the analyst role imported into the stack's Superset 6.1 as rendered (its init
job, config and metadata database), pointed at a PostgreSQL stand-in shaped like the `iceberg` catalog;
the refresh Airflow runs; a screenshot of the dashboard as the analyst sees it (headless Chromium).

The screenshot is kept in the repository (docs/images, shown in lakehouse_demo/README.md) only when
asked: `LAKEHOUSE_WRITE_SCREENSHOT=1 python -m pytest tests/contract/demo/test_demo_superset_contract.py`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import struct
import subprocess
import zlib
from urllib.parse import urlparse
from pathlib import Path

import pytest
import sqlglot

from harness import shipped_stacks
from local_container import CI, LOOPBACK, LocalProcess, assert_all_fit, require
from standins import quote_literal

import bi_standin
from lakehouse_demo.bi import content

pytestmark = pytest.mark.contract
ROOT = Path(__file__).resolve().parents[3]
TRINO_DATABASE = "Lakehouse (Trino iceberg)"
CONTENT_JOB = "lakehouse-superset-content"
OTHER_DATABASE = "Another database (not the demo's)"
SCREENSHOT = ROOT / "docs" / "images" / "superset-taxi-dashboard.png"
WRITE_SCREENSHOT = "LAKEHOUSE_WRITE_SCREENSHOT"
CONTENT_TABLES = ("dashboards", "slices", "tables", "table_columns", "sql_metrics", "dashboard_slices",
                  "ab_role", "ab_permission_view_role", "ab_user_role")
LINK_TABLES = ("dashboard_slices", "ab_permission_view_role", "ab_user_role")


@pytest.fixture(scope="module")
def standin(postgres, psycopg2):
    password = secrets.token_hex(12)
    postgres.psql(f"CREATE ROLE bi_standin WITH LOGIN PASSWORD {quote_literal(password)}")
    # The stack may already have a database `iceberg` (the REST catalog's); its name is what makes the content's
    # three-part names (`iceberg.gold.demand_predictions`) resolve in PostgreSQL, so the schemas go there.
    if postgres.psql("SELECT 1 FROM pg_database WHERE datname = 'iceberg'").stdout.strip() != "1":
        postgres.psql("CREATE DATABASE iceberg TEMPLATE template0")
    postgres.psql("CREATE SCHEMA gold AUTHORIZATION bi_standin; CREATE SCHEMA bronze AUTHORIZATION bi_standin",
                  database="iceberg")
    connection = psycopg2.connect(host=LOOPBACK, port=postgres.port, user="bi_standin", password=password,
                                  dbname="iceberg")
    try:
        loaded = bi_standin.load(connection, psycopg2)
    finally:
        connection.close()
    return f"postgresql://bi_standin:{password}@{LOOPBACK}:{postgres.port}/iceberg", loaded


def metadata_snapshot(postgres) -> dict[str, str]:
    """The content's rows in Superset's metadata database, without the change timestamps."""
    out = {}
    for table in CONTENT_TABLES:
        # Link tables: the importer deletes and re-inserts a dashboard's chart links, so their surrogate ids
        # change; the pairs they hold are what must not.
        link = " - 'id'" if table in LINK_TABLES else ""
        result = postgres.psql(f"SELECT r FROM (SELECT to_jsonb(t) - 'changed_on' - 'changed_by_fk' - 'last_saved_at' "
                               f"- 'last_saved_by_fk'{link} AS r FROM {table} t) s ORDER BY r::text", database="superset")
        out[table] = result.stdout
    return out


@pytest.fixture(scope="module")
def applied(superset, init_runs, standin, postgres, container):
    """The recorded content job (`lakehouse-superset-content`: its command, files and environment, the analyst's
    password included), twice, after the init job's Trino database was pointed at the stand-in; the database
    gets its recorded Trino URI back when the module is done.
    {"runs": [(code, LocalProcess, snapshot)], "password": the analyst's, "processes": every command's}."""
    init = init_runs[-1][0]
    trino_uri = init.env["SUPERSET_TRINO_URI"]

    def point_at(uri: str, log: str) -> LocalProcess:
        code, process = init.run(300, ["superset", "set-database-uri", "--database_name", TRINO_DATABASE, "--uri", uri],
                                 log=log)
        assert code == 0, process.tail(60)
        return process

    register = point_at(standin[0], "set-database-uri.log")
    # A database that is not the demo's, to prove the analyst cannot reach it.
    code, other = init.run(300, ["superset", "set-database-uri", "--database_name", OTHER_DATABASE, "--uri",
                                 standin[0]], log="set-other-database.log")
    assert code == 0, other.tail(60)
    runs = []
    for number in range(2):
        job = container(CONTENT_JOB)
        code, process = job.run(600, log=f"content-{number}.log")
        runs.append((code, process, metadata_snapshot(postgres)))
    yield {"runs": runs, "password": job.env["SUPERSET_ANALYST_PASSWORD"],
           "processes": [register, other, *(p for _, p, _ in runs)]}
    point_at(trino_uri, "set-database-uri-back.log")


class Client:
    def __init__(self, base: str, username: str, password: str):
        import requests

        self.base, self.session = base, requests.Session()
        response = self.session.post(f"{base}/api/v1/security/login", timeout=30, json={
            "username": username, "password": password, "provider": "db", "refresh": False})
        assert response.status_code == 200, (username, response.status_code, response.text[:300])
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def get(self, path: str, **kwargs):
        return self.session.get(f"{self.base}{path}", timeout=60, **kwargs)

    def post(self, path: str, body: dict):
        token = self.get("/api/v1/security/csrf_token/")
        headers = {"X-CSRFToken": token.json()["result"]} if token.status_code == 200 else {}
        return self.session.post(f"{self.base}{path}", json=body, headers={**headers, "Referer": self.base},
                                 timeout=120)


def base_url(superset) -> str:
    return f"http://{LOOPBACK}:{superset[0].env['SUPERSET_PORT']}"


def admin_password(init_runs) -> str:
    return init_runs[0][0].env["SUPERSET_ADMIN_PASSWORD"]


@pytest.fixture(scope="module")
def admin(superset, init_runs):
    return Client(base_url(superset), "admin", admin_password(init_runs))


@pytest.fixture(scope="module")
def analyst(superset, applied):
    return Client(base_url(superset), "analyst", applied["password"])


def test_the_job_imports_the_content_twice(applied):
    for code, process, _ in applied["runs"]:
        assert code == 0, process.tail(80)


def test_the_dashboard_charts_and_datasets_exist_once(applied, admin):
    dashboard = admin.get(f"/api/v1/dashboard/{content.DASHBOARD_SLUG}")
    assert dashboard.status_code == 200, dashboard.text[:500]
    assert dashboard.json()["result"]["dashboard_title"] == content.DASHBOARD_TITLE
    charts = admin.get(f"/api/v1/dashboard/{content.DASHBOARD_SLUG}/charts").json()["result"]
    assert sorted(c["slice_name"] for c in charts) == sorted(c.name for c in content.CHARTS)
    datasets = admin.get(f"/api/v1/dashboard/{content.DASHBOARD_SLUG}/datasets").json()["result"]
    assert sorted(d["table_name"] for d in datasets) == sorted({c.dataset.name for c in content.CHARTS})
    listed = admin.get("/api/v1/dataset/", params={"q": "(page_size:100)"}).json()["result"]
    names = [d["table_name"] for d in listed]
    assert sorted(n for n in names if n in {d.name for d in content.DATASETS}) == sorted(d.name for d in content.DATASETS)


def test_importing_again_changes_nothing(applied):
    first, second = (snapshot for _, _, snapshot in applied["runs"])
    assert first["dashboards"] and first["slices"], "the first import left content behind"
    for table in CONTENT_TABLES:
        assert first[table] == second[table], f"{table} differs after the second import"


def test_the_virtual_datasets_sql_is_stored_and_parses_as_trino(applied, admin):
    listed = admin.get("/api/v1/dataset/", params={"q": "(filters:!((col:table_name,opr:eq,value:demand_vs_actual)))"})
    dataset = admin.get(f"/api/v1/dataset/{listed.json()['result'][0]['id']}").json()["result"]
    assert dataset["sql"] == content.DEMAND_VS_ACTUAL_SQL
    tree = sqlglot.parse_one(dataset["sql"], read="trino")
    assert {".".join(p for p in (t.catalog, t.db, t.name) if p) for t in tree.find_all(sqlglot.exp.Table)} == {
        "iceberg.gold.demand_predictions", "iceberg.bronze.taxi_zones", "iceberg.gold.model_versions"}


def test_the_analyst_sees_the_dashboard_and_its_data(analyst):
    assert analyst.get(f"/api/v1/dashboard/{content.DASHBOARD_SLUG}").status_code == 200
    charts = analyst.get(f"/api/v1/dashboard/{content.DASHBOARD_SLUG}/charts").json()["result"]
    assert len(charts) == len(content.CHARTS)
    for chart in charts:
        data = analyst.get(f"/api/v1/chart/{chart['id']}/data/")
        assert data.status_code == 200, (chart["slice_name"], data.status_code, data.text[:500])
        assert data.json()["result"][0]["rowcount"] > 0, chart["slice_name"]


def test_verify_sees_the_dashboard_as_the_analyst_and_refuses_a_wrong_password(applied, superset):
    """`python -m verify`'s superset/analyst check against the imported content."""
    from verify import checks as verify_checks

    assert verify_checks.DEMO_DASHBOARD == content.DASHBOARD_SLUG
    detail = verify_checks.check_superset_analyst(base_url(superset), "analyst", applied["password"], 30)
    datasets = sorted({c.dataset.name for c in content.CHARTS})
    assert detail == f"analyst opens {content.DASHBOARD_TITLE!r}: {len(datasets)} datasets ({', '.join(datasets)})"
    with pytest.raises(verify_checks.CheckFailed, match="401"):
        verify_checks.check_superset_analyst(base_url(superset), "analyst", "not-the-password", 30)


def test_the_analyst_is_refused_admin_sql_lab_and_other_databases(analyst, admin, standin):
    databases = {d["database_name"]: d["id"] for d in admin.get("/api/v1/database/").json()["result"]}
    # The demo's database: Superset shows its datasets' database to their reader, never its password.
    own = analyst.get(f"/api/v1/database/{databases[TRINO_DATABASE]}")
    assert own.status_code in (200, 403, 404) and urlparse(standin[0]).password not in own.text
    assert analyst.get(f"/api/v1/database/{databases[OTHER_DATABASE]}").status_code in (403, 404)
    assert OTHER_DATABASE not in [d["database_name"] for d in analyst.get("/api/v1/database/").json()["result"]]
    for path in ("/api/v1/rowlevelsecurity/", "/api/v1/log/", "/api/v1/security/roles/", "/api/v1/cachekey/invalidate"):
        status = (analyst.post(path, {"datasource_uids": []}) if "cachekey" in path else analyst.get(path)).status_code
        assert status in (401, 403, 404, 405), (path, status)
    query = {"database_id": databases[TRINO_DATABASE], "sql": "SELECT 1", "runAsync": False, "schema": "gold"}
    assert admin.post("/api/v1/sqllab/execute/", query).status_code == 200
    refused = analyst.post("/api/v1/sqllab/execute/", query)
    assert refused.status_code in (401, 403), (refused.status_code, refused.text[:300])
    assert analyst.get("/api/v1/sqllab/").status_code in (401, 403, 404)


def test_the_refresh_after_new_data_invalidates_and_rewarms_the_datasets(applied, superset, init_runs):
    from lakehouse_demo.bi import refresh

    result = refresh.refresh(base_url(superset), "admin", admin_password(init_runs),
                             ["iceberg.gold.demand_predictions"])
    assert result["invalidated"] == sorted(content.TABLE_DATASETS["iceberg.gold.demand_predictions"])
    assert result["warmed"] and all(r["status"] == 200 for r in result["warmed"]), result


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) of a whole PNG file: its signature, every chunk's CRC, IHDR first and IEND last."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, kinds = 8, []
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        assert zlib.crc32(kind + body) == struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])[0], kind
        kinds.append(kind)
        offset += 12 + length
    assert kinds[0] == b"IHDR" and b"IDAT" in kinds and kinds[-1] == b"IEND", kinds
    return struct.unpack(">II", data[16:24])


def test_a_screenshot_of_the_dashboard_as_the_analyst_sees_it(analyst, applied, superset, workdir):
    require(Path("/usr/bin/chromium"), "Chromium (Debian package `chromium`)")
    require(Path("/usr/bin/chromedriver"), "chromedriver (Debian package `chromium-driver`)")
    python = require(CI / "venv-superset" / "bin" / "python", "Superset 6.1.0 with Selenium (.ci/venv-superset)")
    shot = workdir / "superset-taxi-dashboard.png"
    result = subprocess.run([str(python), str(Path(__file__).with_name("screenshot.py")), base_url(superset),
                             "analyst", content.DASHBOARD_SLUG, str(len(content.CHARTS)), str(shot),
                             str(workdir / "chromium")],
                            env={"PATH": "/usr/bin:/bin", "HOME": str(workdir),
                                 "SCREENSHOT_PASSWORD": applied["password"]},
                            capture_output=True, text=True, timeout=420)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    decoded = json.loads(result.stdout.strip().splitlines()[-1])
    assert png_size(shot) == (decoded["width"], decoded["height"]), decoded
    assert decoded["width"] >= 1200 and decoded["height"] >= 900, decoded
    assert decoded["colours"] > 256, f"a blank or nearly blank screenshot: {decoded}"
    if os.environ.get(WRITE_SCREENSHOT) == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, SCREENSHOT)


@pytest.mark.parametrize("stack", shipped_stacks())
def test_peak_memory_fits_the_container_limits(applied, analyst, superset, init_runs, stack_runs, stack):
    """The init job's runs and commands, the web server after the import, the charts and the screenshot."""
    assert_all_fit([*(p for _, _, p in init_runs), *applied["processes"], superset[1]], stack_runs, stack)
