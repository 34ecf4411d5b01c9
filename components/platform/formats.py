"""Configuration file formats: Hadoop `*-site.xml`, Java `.properties`, and S3A settings."""

from __future__ import annotations

from typing import Mapping
from xml.sax.saxutils import escape

from components.platform.s3 import S3Settings


def site_xml(properties: Mapping[str, str]) -> str:
    body = "".join(f"  <property>\n    <name>{escape(k)}</name>\n    <value>{escape(v)}</value>\n  </property>\n"
                   for k, v in properties.items())
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<configuration>\n{body}</configuration>\n'


def java_properties(properties: Mapping[str, str], separator: str = "=") -> str:
    """`key=value` lines (Spark's `spark-defaults.conf` uses a space); values here are URLs, names
    and keys, never newlines or backslashes, which would need escapes."""
    for key, value in properties.items():
        if any(c in f"{key}{value}" for c in "\n\\"):
            raise ValueError(f"cannot render {key!r} as a plain property")
    return "".join(f"{k}{separator}{v}\n" for k, v in properties.items())


def s3a_properties(s3: S3Settings, prefix: str = "") -> dict[str, str]:
    """S3A settings for MinIO: path-style access, plain HTTP, the client's own credentials."""
    return {
        f"{prefix}fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        f"{prefix}fs.s3a.endpoint": s3.endpoint,
        f"{prefix}fs.s3a.endpoint.region": s3.region,
        f"{prefix}fs.s3a.access.key": s3.access_key,
        f"{prefix}fs.s3a.secret.key": s3.secret_key,
        f"{prefix}fs.s3a.path.style.access": "true",
        f"{prefix}fs.s3a.connection.ssl.enabled": "false",
    }
