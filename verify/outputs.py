"""The stack outputs: read them, and turn each into what a check connects with (no network here).

Every reader raises `MissingOutput` naming the output it needed, so a check of a stack that does
not export something fails with that name instead of a `KeyError`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, TypeVar
from urllib.parse import urlparse

T = TypeVar("T")


class OutputsError(Exception):
    """The outputs could not be read at all (no check can run)."""


class MissingOutput(Exception):
    """An output a check needs is absent or malformed."""


def parse(text: str, source: str = "outputs") -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError as error:
        raise OutputsError(f"{source} is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise OutputsError(f"{source} is not a JSON object of outputs")
    return document


def load(path: Optional[str] = None, stack: Optional[str] = None, cwd: Optional[Path] = None) -> dict[str, Any]:
    """The outputs from `path` (`-` reads stdin), else from `pulumi stack output --json --show-secrets`."""
    if path == "-":
        import sys
        return parse(sys.stdin.read(), "standard input")
    if path:
        try:
            return parse(Path(path).read_text(), path)
        except OSError as error:
            raise OutputsError(f"cannot read {path}: {error.strerror}") from None
    pulumi = shutil.which("pulumi")
    if not pulumi:
        raise OutputsError("the pulumi CLI is not on PATH: install it, or give the outputs with --outputs FILE "
                           "(`pulumi stack output --json --show-secrets > outputs.json` where it is)")
    argv = [pulumi, "stack", "output", "--json", "--show-secrets", *(["--stack", stack] if stack else [])]
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=cwd)
    except subprocess.TimeoutExpired:
        raise OutputsError("`pulumi stack output` did not answer within 120 s") from None
    if result.returncode != 0:
        raise OutputsError(f"`{' '.join(argv[1:])}` failed: {result.stderr.strip()[-500:]}")
    return parse(result.stdout, "`pulumi stack output`")


def need(outputs: Mapping[str, Any], key: str, kind: type = str) -> Any:
    value = outputs.get(key)
    if value is None or value == "":
        raise MissingOutput(f"the stack has no `{key}` output")
    if not isinstance(value, kind):
        raise MissingOutput(f"output `{key}` is a {type(value).__name__}, not a {kind.__name__}")
    return value


def host_port(url: str, key: str, default_port: Optional[int] = None) -> tuple[str, int]:
    parsed = urlparse(url)
    try:
        port = parsed.port or default_port
    except ValueError:
        port = None
    if not parsed.hostname or not port:
        raise MissingOutput(f"output `{key}` ({url}) has no host and port")
    return parsed.hostname, port


@dataclass(frozen=True)
class S3User:
    service: str
    endpoint: str
    access_key: str
    secret_key: str
    region: str


@dataclass(frozen=True)
class PostgresLogin:
    service: str
    host: str
    port: int
    database: str
    user: str
    password: str


def _services(outputs: Mapping[str, Any]) -> dict[str, Any]:
    return need(outputs, "services", dict)


def _service_entries(outputs: Mapping[str, Any], kind: str, make: Callable[[str, dict], T]) -> list[T]:
    """`make(service, entry)` for every service of the `services` output with a `kind` entry (`s3`, `postgres`)."""
    found = []
    for service, entry in sorted(_services(outputs).items()):
        value = (entry or {}).get(kind)
        if not value:
            continue
        try:
            found.append(make(service, value))
        except KeyError as missing:
            raise MissingOutput(f"`services.{service}.{kind}` has no {missing}") from None
    return found


def s3_users(outputs: Mapping[str, Any]) -> list[S3User]:
    return _service_entries(outputs, "s3", lambda service, s3: S3User(
        service, s3["endpoint"], s3["accessKey"], s3["secretKey"], s3.get("region") or "us-east-1"))


def postgres_logins(outputs: Mapping[str, Any]) -> list[PostgresLogin]:
    return _service_entries(outputs, "postgres", lambda service, pg: PostgresLogin(
        service, pg["host"], int(pg["port"]), pg["database"], pg["user"], pg["password"]))


@dataclass(frozen=True)
class TrinoLogin:
    host: str
    port: int
    scheme: str
    user: str
    password: Optional[str]   # None: no authentication (plain HTTP)
    ca_pem: Optional[str]     # the CA to trust for HTTPS, if the stack has its own


# The login verify uses when the stack's Trino has password authentication: it may read every catalog.
TRINO_ADMIN = "admin"


def trino_login(outputs: Mapping[str, Any]) -> TrinoLogin:
    """`trinoUrl`, and where the stack exports them, `trinoUsers` (login -> password) and `caCertificatePem`."""
    url = need(outputs, "trinoUrl")
    scheme = urlparse(url).scheme
    host, port = host_port(url, "trinoUrl", 443 if scheme == "https" else 80)
    users = outputs.get("trinoUsers") or {}
    if not isinstance(users, dict):
        raise MissingOutput("output `trinoUsers` is not a map of login -> password")
    if users:
        user = TRINO_ADMIN if TRINO_ADMIN in users else sorted(users)[0]
        password = users[user]
    else:
        user, password = "verify", None
    if password is not None and scheme != "https":
        raise MissingOutput(f"`trinoUrl` is {scheme}:// but the stack has Trino logins: a password needs HTTPS")
    return TrinoLogin(host, port, scheme, user, password, outputs.get("caCertificatePem") or None)


# The catalog principal verify uses: the realm's root, which holds the catalog's admin role.
CATALOG_ADMIN = "root"


def catalog_credential(outputs: Mapping[str, Any]) -> str:
    """Root's `client_id:client_secret` from `icebergRestCredentials` (principal -> credential)."""
    credentials = need(outputs, "icebergRestCredentials", dict)
    credential = credentials.get(CATALOG_ADMIN)
    if not isinstance(credential, str) or ":" not in credential:
        raise MissingOutput(f"output `icebergRestCredentials` has no `{CATALOG_ADMIN}` credential (client_id:secret)")
    return credential


def spark_connect_url(outputs: Mapping[str, Any], override: Optional[str] = None) -> str:
    """The Connect URL with the token: `override` (e.g. the local end of an SSH tunnel) or `sparkConnectUrl`.

    The client sends a token without TLS only to a host spelled `localhost`."""
    url = override or need(outputs, "sparkConnectUrl")
    if not url.startswith("sc://"):
        raise MissingOutput(f"Spark Connect URL {url!r} does not start with sc://")
    if ";token=" in url:
        return url
    token = need(outputs, "sparkConnectToken")
    return f"{url.rstrip('/')}/;token={token}"


def redact(text: str, outputs: Mapping[str, Any]) -> str:
    """`text` with every secret-looking value of the outputs replaced (error messages may echo URLs)."""
    for value in sorted(_secret_values(outputs), key=len, reverse=True):
        text = text.replace(value, "***")
    return text


_SECRET_WORDS = ("password", "secret", "token", "users", "credential")


def _secret_values(value: Any, key: str = "") -> set[str]:
    if isinstance(value, dict):
        found: set[str] = set()
        for k, v in value.items():
            found |= _secret_values(v, k if any(w in k.lower() for w in _SECRET_WORDS) else key)
        return found
    if isinstance(value, list):
        return set().union(*(_secret_values(v, key) for v in value)) if value else set()
    if isinstance(value, str) and key and len(value) >= 6:
        return {value}
    return set()
