"""The file formats: Hadoop `*-site.xml`, Java `.properties` and S3A settings, read back with real parsers."""

from __future__ import annotations

import pytest

from components.catalogs.hive_metastore import core_site
from components.platform.formats import java_properties, s3a_properties, site_xml
from components.platform.s3 import S3Settings
from readers import parse_properties, parse_site_xml

S3 = S3Settings("http://lakehouse-minio:9000", "us-east-1", "trino", "s3cr3t")
S3A = {
    "fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
    "fs.s3a.endpoint": "http://lakehouse-minio:9000",
    "fs.s3a.endpoint.region": "us-east-1",
    "fs.s3a.access.key": "trino",
    "fs.s3a.secret.key": "s3cr3t",
    "fs.s3a.path.style.access": "true",
    "fs.s3a.connection.ssl.enabled": "false",
}


def test_site_xml_exact_text():
    assert site_xml({"a.b": "1", "c": "two"}) == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<configuration>\n"
        "  <property>\n    <name>a.b</name>\n    <value>1</value>\n  </property>\n"
        "  <property>\n    <name>c</name>\n    <value>two</value>\n  </property>\n"
        "</configuration>\n")


def test_site_xml_of_nothing_is_an_empty_configuration():
    assert parse_site_xml(site_xml({})) == {}


def test_site_xml_escapes_ampersand_and_angle_brackets():
    properties = {"javax.jdo.option.ConnectionURL": "jdbc:postgresql://db:5432/m?ssl=false&a=<b>",
                  "we<ird&name": "x > y"}
    text = site_xml(properties)
    assert "&amp;" in text and "&lt;" in text
    assert parse_site_xml(text) == properties


def test_java_properties_exact_text_with_equals():
    assert java_properties({"connector.name": "iceberg", "s3.endpoint": "http://m:9000"}) == (
        "connector.name=iceberg\ns3.endpoint=http://m:9000\n")


def test_java_properties_exact_text_with_space_separator():
    assert java_properties({"spark.master": "spark://h:7077", "a.b": "c"}, separator=" ") == (
        "spark.master spark://h:7077\na.b c\n")


@pytest.mark.parametrize("separator", ["=", " "])
def test_java_properties_round_trip_through_a_real_parser(separator):
    properties = {"spark.master": "spark://10.0.0.5:7077", "uri": "http://rest:8181/v1?x=1&y=2",
                  "empty": "", "colon": "a:b"}
    assert parse_properties(java_properties(properties, separator=separator)) == properties


@pytest.mark.parametrize("properties", [
    {"key": "line1\nline2"},
    {"key": "C:\\jars"},
    {"bad\\key": "v"},
    {"bad\nkey": "v"},
])
def test_java_properties_refuses_newlines_and_backslashes(properties):
    with pytest.raises(ValueError):
        java_properties(properties)


def test_s3a_properties_exact():
    assert s3a_properties(S3) == S3A


def test_s3a_properties_with_prefix():
    assert s3a_properties(S3, prefix="spark.hadoop.") == {f"spark.hadoop.{k}": v for k, v in S3A.items()}


def test_core_site_parses_to_the_s3a_settings():
    assert parse_site_xml(core_site(S3)) == S3A

