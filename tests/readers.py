"""Read back what the program produced with real parsers: Java properties, Hadoop XML, config errors."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from typing import Any

import jproperties
import pytest

from components.platform.config import ConfigError, parse


def parse_properties(text: str) -> dict[str, str]:
    """What a Java `Properties.load` (Trino, Spark) reads from the rendered text."""
    properties = jproperties.Properties()
    properties.load(text.encode())
    return dict(properties.properties)


def parse_site_xml(text: str) -> dict[str, str]:
    """What Hadoop's `Configuration` reads: `<configuration><property><name/><value/>...`."""
    root = ElementTree.fromstring(text.encode())
    assert root.tag == "configuration"
    parsed: dict[str, str] = {}
    for prop in root:
        assert prop.tag == "property"
        assert [child.tag for child in prop] == ["name", "value"]
        name, value = prop.findtext("name"), prop.findtext("value")
        assert name not in parsed, f"duplicate property {name}"
        parsed[name] = value
    return parsed


def config_problems(raw: dict[str, Any]) -> list[str]:
    """The problems `parse` reports for decoded `lakehouse:*` values (it must fail)."""
    with pytest.raises(ConfigError) as caught:
        parse(raw)
    return [str(p) for p in caught.value.problems]
