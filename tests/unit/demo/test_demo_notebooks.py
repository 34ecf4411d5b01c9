"""The notebooks: valid nbformat 4, Python that compiles, Trino SQL that parses, the tables they name exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from lakehouse_demo import tables

NOTEBOOKS = sorted((Path(__file__).resolve().parents[3] / "lakehouse_demo" / "notebooks").glob("*.ipynb"))
KNOWN = {getattr(tables, n) for n in dir(tables) if n.isupper() and isinstance(getattr(tables, n), str)}


def test_there_are_four_notebooks():
    assert [p.name for p in NOTEBOOKS] == ["01_explore_bronze_gold.ipynb", "02_time_travel.ipynb",
                                           "03_trino_from_python.ipynb", "04_demand_model.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_notebook_is_valid_and_its_code_compiles(path):
    book = nbformat.read(path, as_version=4)
    nbformat.validate(book)
    assert book.nbformat == 4
    code = [c.source for c in book.cells if c.cell_type == "code"]
    assert code and all(not c.outputs for c in book.cells if c.cell_type == "code"), "committed without outputs"
    for source in code:  # IPython magics (`%pip install ...`) are not Python
        ast.parse("\n".join(line for line in source.splitlines() if not line.startswith("%")))
    named = set(re.findall(r"iceberg\.(?:bronze|gold)\.\w+", "\n".join(code)))
    assert named <= KNOWN, named - KNOWN
