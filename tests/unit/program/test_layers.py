"""The package layout is the architecture: each layer of `components/` imports only the layers below it."""

from __future__ import annotations

import ast

import pytest

from harness import ROOT

COMPONENTS = ROOT / "components"
# Each layer and the layers it may import from.
ALLOWED = {
    "platform": set(),
    "vms": {"platform"},
    "storage": {"platform"},
    "catalogs": {"platform", "storage"},
    "compute": {"platform", "storage", "catalogs"},
    "applications": {"platform", "storage", "catalogs", "compute"},
}


def imported_layers(module) -> set[str]:
    tree = ast.parse(module.read_text())
    names = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module]
    names += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    return {name.split(".")[1] for name in names if name.startswith("components.")}


def test_every_module_lives_in_a_known_layer():
    assert {p.name for p in COMPONENTS.iterdir() if p.is_dir() and p.name != "__pycache__"} == set(ALLOWED)
    assert [p.name for p in COMPONENTS.glob("*.py")] == ["__init__.py"]


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_a_layer_imports_only_the_layers_below_it(layer):
    for module in (COMPONENTS / layer).glob("*.py"):
        assert imported_layers(module) <= ALLOWED[layer] | {layer}, module.relative_to(ROOT)


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_says_what_it_holds_and_may_import(layer):
    docstring = ast.get_docstring(ast.parse((COMPONENTS / layer / "__init__.py").read_text()))
    assert docstring and "import" in docstring.lower()

