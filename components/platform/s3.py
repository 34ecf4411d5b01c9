"""Plain S3 connection settings handed to the renderers of every S3 client."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class S3Settings:
    endpoint: str  # http://host:port as seen by the client
    region: str
    access_key: str
    secret_key: str

