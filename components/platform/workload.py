"""The demo workload's files as the stack deploys them, read from the `lakehouse_demo/` package beside
`components/` (never imported: the program only ships its files).

    Airflow       the package itself into the DAGs folder (`.airflowignore` keeps the scan to `dags/`)
    JupyterLab    `notebooks/*.ipynb`, and the package on the kernels' Python path
    MinIO         the reference data (`data/`) as objects of the `reference` bucket
    Superset      `bi/apply.py` and `bi/content.py`, the content job's script and bundle
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Mapping

PACKAGE = "lakehouse_demo"
ROOT = Path(__file__).resolve().parents[2] / PACKAGE
# Not library code the DAGs import: the notebooks go to JupyterLab, the README stays in the repository.
_NOT_FOR_AIRFLOW = ("notebooks", "README.md")
_SKIPPED = ("__pycache__", ".pytest_cache")
REFERENCE_BUCKET = "reference"
# Object key in the reference bucket -> file of the package.
_REFERENCE = MappingProxyType({"taxi/taxi_zone_lookup.csv": "data/taxi_zone_lookup.csv"})
SUPERSET_FILES = ("bi/apply.py", "bi/content.py")


def _files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*")
                  if path.is_file() and not any(part in _SKIPPED for part in path.relative_to(root).parts)
                  and path.suffix != ".pyc")


def package_files(root: Path = ROOT) -> Mapping[str, str]:
    """The package's library and DAG files (for Airflow's DAGs folder, and JupyterLab's Python path) by path
    relative to the package."""
    return MappingProxyType({path.relative_to(root).as_posix(): path.read_text() for path in _files(root)
                             if path.relative_to(root).parts[0] not in _NOT_FOR_AIRFLOW})


def notebooks(root: Path = ROOT) -> Mapping[str, str]:
    """The JupyterLab notebooks by file name."""
    return MappingProxyType({path.name: path.read_text() for path in sorted((root / "notebooks").glob("*.ipynb"))})


def reference_objects(root: Path = ROOT) -> Mapping[str, str]:
    """The reference data by object key in the `reference` bucket."""
    return MappingProxyType({key: (root / path).read_text() for key, path in _REFERENCE.items()})


def superset_files(root: Path = ROOT) -> Mapping[str, str]:
    """The Superset content job's files by file name (they import each other from one folder)."""
    return MappingProxyType({Path(path).name: (root / path).read_text() for path in SUPERSET_FILES})
