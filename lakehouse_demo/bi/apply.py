"""The one-shot Superset job: import the content bundle, then the analyst role and login.

Runs in the Superset image with the stack's `superset_config.py` (as the init job does), after it:

    python apply.py --database-name "Lakehouse (Trino iceberg)" [--admin admin] [--analyst analyst]

with the analyst's password in `SUPERSET_ANALYST_PASSWORD`. `content.py` must sit next to this file.
Safe to run again: the import overwrites by UUID, the role's permissions are set (not added to), the
login's role and password are reset.

The analyst role: Gamma's permissions without any write/delete/import permission, plus
`datasource_access` on exactly the bundle's datasets. No database or schema access, so SQL Lab,
other databases and their tables stay closed; nothing of Admin (users, roles, row level security,
logs, database connections).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import content  # noqa: E402  (next to this file in the job; lakehouse_demo.bi.content in the repository)

ANALYST_ROLE = "Analyst"
NOT_FOR_ANALYSTS = ("can_write", "can_add", "can_edit", "can_delete", "muldelete", "can_import", "can_export",
                    "can_tag", "can_set_embedded", "can_share", "can_save", "can_copy", "can_grant", "can_invalidate",
                    "can_warm_up_cache", "can_this_form_post", "can_userinfo", "resetmypassword")


def database_entry(database) -> dict:
    """The existing database as an export entry: same UUID and settings, password stays masked (kept)."""
    return {"database_name": database.database_name, "sqlalchemy_uri": database.sqlalchemy_uri,
            "cache_timeout": database.cache_timeout, "expose_in_sqllab": database.expose_in_sqllab,
            "allow_run_async": database.allow_run_async, "allow_ctas": database.allow_ctas,
            "allow_cvas": database.allow_cvas, "allow_dml": database.allow_dml,
            "allow_csv_upload": database.allow_file_upload, "extra": json.loads(database.extra or "{}"),
            "uuid": str(database.uuid), "version": content.VERSION}


def import_content(database_name: str, admin: str) -> list:
    from flask import g
    from superset import db, security_manager
    from superset.commands.dashboard.importers.v1 import ImportDashboardsCommand
    from superset.connectors.sqla.models import SqlaTable
    from superset.models.core import Database
    from superset.models.slice import Slice

    g.user = security_manager.find_user(username=admin)
    if g.user is None:
        raise SystemExit(f"no Superset user {admin!r}: run the init job first")
    database = db.session.query(Database).filter_by(database_name=database_name).one_or_none()
    if database is None:
        raise SystemExit(f"no Superset database named {database_name!r}: run the init job first")
    ImportDashboardsCommand(content.bundle_texts(database_entry(database)), overwrite=True).run()
    uuids = [d.uuid for d in content.DATASETS]
    datasets = [t for t in db.session.query(SqlaTable).all() if str(t.uuid) in uuids]
    # Each chart's saved query names its dataset by id, known only now.
    by_uuid = {str(d.uuid): d for d in datasets}
    for chart in content.CHARTS:
        saved = db.session.query(Slice).filter_by(uuid=uuid.UUID(chart.uuid)).one()
        saved.query_context = json.dumps(content.query_context(chart, by_uuid[chart.dataset.uuid].id))
    db.session.commit()
    return datasets


def ensure_analyst(datasets: list, username: str, password: str) -> None:
    from superset import db, security_manager

    role = security_manager.find_role(ANALYST_ROLE) or security_manager.add_role(ANALYST_ROLE)
    gamma = security_manager.find_role("Gamma")
    permissions = {pv for pv in gamma.permissions if not pv.permission.name.startswith(NOT_FOR_ANALYSTS)}
    for dataset in datasets:
        permissions.add(security_manager.add_permission_view_menu("datasource_access", dataset.perm))
    role.permissions = sorted(permissions, key=lambda pv: pv.id)
    user = security_manager.find_user(username=username)
    if user is None:
        user = security_manager.add_user(username, "Lakehouse", "Analyst", f"{username}@lakehouse.invalid", role,
                                         password=password)
        if not user:
            raise SystemExit(f"could not create the user {username!r}")
    else:
        user.roles = [role]
        user.active = True
        security_manager.reset_password(user.id, password)
    db.session.commit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-name", required=True)
    parser.add_argument("--admin", default="admin")
    parser.add_argument("--analyst", default="analyst")
    args = parser.parse_args(argv)
    password = os.environ.get("SUPERSET_ANALYST_PASSWORD")
    if not password:
        raise SystemExit("SUPERSET_ANALYST_PASSWORD is not set")

    from superset.app import create_app

    app = create_app()
    with app.app_context():
        datasets = import_content(args.database_name, args.admin)
        ensure_analyst(datasets, args.analyst, password)
        print(json.dumps({"datasets": sorted(d.table_name for d in datasets), "role": ANALYST_ROLE,
                          "analyst": args.analyst}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
