"""The README's generated tables are the code's, and the README names the test command CI runs."""

import runpy

import pytest

from harness import ROOT

README = (ROOT / "README.md").read_text()
TABLES = runpy.run_path(str(ROOT / "scripts" / "readme_tables.py"))


@pytest.mark.parametrize("section", sorted(TABLES["SECTIONS"]))
def test_generated_tables_match_the_code(section):
    render = TABLES["SECTIONS"][section]
    assert TABLES["generated"](README, section) == render(), "run: python scripts/readme_tables.py --write"


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "venv/bin/python -m pytest" in README
    assert "python -m pytest" in ci
