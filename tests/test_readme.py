"""The README's configuration reference is the config module's, and names the test command CI runs."""

from pathlib import Path

from components.config import reference_markdown

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_configuration_reference_matches_the_config_module():
    section = README.split("<!-- config-reference:start -->\n")[1].split("<!-- config-reference:end -->")[0]
    assert section == reference_markdown(), "run: python scripts/config_reference.py --write"


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "venv/bin/python -m pytest" in README
    assert "python -m pytest" in ci
