"""A stand-in for Apache Polaris that enforces its published API (tests/openapi/polaris-1.7.0.json).

Every request must match an operation of the trimmed spec (base path, path template, method), carry
valid path and query parameters and a body of the declared content type that validates against the
operation's schema, strictly: a key the schema does not declare is a violation, so a misspelt field
does not pass as "additional". Anything else is answered 404/400 and recorded in `violations`.

Behind the checks it keeps the entities the setup creates, answers 409 whenever one exists already
(creates, and repeated grants and assignments, the strictest reading), and issues bearer tokens for
client credentials it knows (root's, and each principal's once reset).
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

from json_http import send_json

SPEC = json.loads((Path(__file__).resolve().parent / "openapi" / "polaris-1.7.0.json").read_text())


def validate(schema: dict, value: Any, schemas: dict, where: str = "$", seen: frozenset = frozenset()) -> list[str]:
    """Problems of `value` against an OpenAPI 3.0 schema (the subset the trimmed spec uses)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return validate(schemas[name], value, schemas, where, seen | {name})
    if "discriminator" in schema and isinstance(value, dict) and "discriminator" not in seen:
        target = schema["discriminator"]["mapping"].get(value.get(schema["discriminator"]["propertyName"]))
        if target is not None and target.rsplit("/", 1)[1] not in seen:
            return validate({"$ref": target}, value, schemas, where, seen | {"discriminator"})
    if value is None:
        return [] if schema.get("nullable") else [f"{where}: null"]
    if "anyOf" in schema:
        results = [validate(s, value, schemas, where, seen) for s in schema["anyOf"]]
        return [] if any(not r for r in results) else [f"{where}: matches none of anyOf: {results}"]
    problems: list[str] = []
    parts = [schema, *(_flatten(s, schemas) for s in schema.get("allOf", []))]
    kind = next((p["type"] for p in parts if "type" in p), None)
    checks = {"object": dict, "array": list, "string": str, "boolean": bool}
    if kind == "integer" and not (isinstance(value, int) and not isinstance(value, bool)):
        return [f"{where}: {value!r} is not an integer"]
    if kind in checks and not isinstance(value, checks[kind]):
        return [f"{where}: {value!r} is not a{'n' if kind[0] in 'aeiou' else ''} {kind}"]
    for part in parts:
        if "enum" in part and value not in part["enum"]:
            problems.append(f"{where}: {value!r} not in {part['enum']}")
        if isinstance(value, str):
            if len(value) < part.get("minLength", 0) or len(value) > part.get("maxLength", len(value)):
                problems.append(f"{where}: length of {value!r} out of bounds")
            if "pattern" in part and not re.search(part["pattern"], value):
                problems.append(f"{where}: {value!r} does not match {part['pattern']}")
        if isinstance(value, list) and "items" in part:
            for index, item in enumerate(value):
                problems += validate(part["items"], item, schemas, f"{where}[{index}]")
    if isinstance(value, dict):
        declared = {k: s for p in parts for k, s in p.get("properties", {}).items()}
        required = {k for p in parts for k in p.get("required", [])}
        extra = next((p["additionalProperties"] for p in parts if "additionalProperties" in p), None)
        problems += [f"{where}: missing {k}" for k in sorted(required - set(value))]
        for key, item in value.items():
            if key in declared:
                problems += validate(declared[key], item, schemas, f"{where}.{key}")
            elif isinstance(extra, dict):
                problems += validate(extra, item, schemas, f"{where}.{key}")
            elif extra is not True:
                problems.append(f"{where}: {key!r} is not declared")
    return problems


def _flatten(schema: dict, schemas: dict) -> dict:
    """An allOf member with its own allOf members' properties merged in (no discriminator dispatch)."""
    if "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
    merged = {k: v for k, v in schema.items() if k not in ("allOf", "discriminator")}
    for member in schema.get("allOf", []):
        inner = _flatten(member, schemas)
        merged["properties"] = {**inner.get("properties", {}), **merged.get("properties", {})}
        merged["required"] = [*inner.get("required", []), *merged.get("required", [])]
        merged.setdefault("type", inner.get("type"))
    return merged


@dataclass
class Operation:
    operation_id: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any


def match(method: str, url: str, content_type: Optional[str], raw: bytes) -> tuple[Optional[Operation], list[str]]:
    """The spec's operation for a request, or the problems that make it none."""
    parsed = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parsed.query))
    for part in SPEC["parts"]:
        if not parsed.path.startswith(part["base"] + "/"):
            continue
        rest = parsed.path[len(part["base"]):]
        for template, methods in part["paths"].items():
            found = re.fullmatch(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template), rest)
            if found and method.lower() in methods:
                spec = methods[method.lower()]
                params = {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
                problems = _parameters(spec, params, query, part["schemas"])
                body = None
                expected = spec["requestBody"]
                if expected:
                    if (content_type or "").split(";")[0] != expected["contentType"]:
                        problems.append(f"{spec['operationId']}: content type {content_type}, "
                                        f"not {expected['contentType']}")
                    body = (dict(urllib.parse.parse_qsl(raw.decode())) if expected["contentType"].endswith("urlencoded")
                            else json.loads(raw or b"null"))
                    problems += validate(expected["schema"], body, part["schemas"], spec["operationId"])
                elif raw:
                    problems.append(f"{spec['operationId']}: takes no body")
                return Operation(spec["operationId"], params, query, body), problems
    return None, [f"{method} {parsed.path} is no operation of the spec"]


def _parameters(spec: dict, params: dict, query: dict, schemas: dict) -> list[str]:
    problems = []
    declared = {(p["in"], p["name"]): p for p in spec["parameters"]}
    for name, value in params.items():
        problems += validate(declared[("path", name)]["schema"], value, schemas, f"path {name}")
    for name, value in query.items():
        if ("query", name) not in declared:
            problems.append(f"query {name} is not a parameter of {spec['operationId']}")
        else:
            problems += validate(declared[("query", name)]["schema"], value, schemas, f"query {name}")
    return problems


# The operations that create an entity or a link: each answers 409 once it exists.
CREATES = ("createCatalog", "createNamespace", "createCatalogRole", "addGrantToCatalogRole", "createPrincipalRole",
           "assignCatalogRoleToPrincipalRole", "createPrincipal", "assignPrincipalRole")


def planned_state(plan: dict, clients: dict[str, str]) -> dict:
    """What `Realm.state()` holds once the setup converged on `plan` (`polaris_setup.py`'s plan): its catalog,
    namespaces, catalog roles (Polaris' own catalog_admin among them) with their grants in the plan's order,
    principal roles with their catalog roles, principals with their role, and `clients` (id -> secret)."""
    catalog = plan["catalog"]["name"]
    return {
        "catalogs": {catalog: plan["catalog"]},
        "namespaces": {catalog: set(plan["namespaces"])},
        "catalog_roles": {catalog: {"catalog_admin", *plan["catalogRoles"]}},
        "grants": {(catalog, role): grants for role, grants in plan["catalogRoles"].items()},
        "principal_roles": {role: {(catalog, r) for r in assigned} for role, assigned in plan["principalRoles"].items()},
        "principals": {name: {p["principalRole"]} for name, p in plan["principals"].items()},
        "clients": clients,
    }


@dataclass
class Realm:
    """What the stub server holds, as Polaris would after the same calls."""

    clients: dict[str, str]  # client id -> secret
    catalogs: dict[str, dict] = field(default_factory=dict)
    namespaces: dict[str, set] = field(default_factory=dict)
    catalog_roles: dict[str, set] = field(default_factory=dict)
    grants: dict[tuple, list] = field(default_factory=dict)
    principal_roles: dict[str, set] = field(default_factory=dict)  # principal role -> (catalog, catalog role)
    principals: dict[str, set] = field(default_factory=dict)  # principal -> principal roles
    tokens: set = field(default_factory=set)
    violations: list[str] = field(default_factory=list)
    calls: list[tuple[str, int]] = field(default_factory=list)  # (operationId, status)

    def state(self) -> dict:
        """The entities held, in the shape of `planned_state` (a catalog without its entity version)."""
        return copy.deepcopy({
            "catalogs": {name: {k: v for k, v in c.items() if k != "entityVersion"} for name, c in self.catalogs.items()},
            "namespaces": self.namespaces, "catalog_roles": self.catalog_roles, "grants": self.grants,
            "principal_roles": self.principal_roles, "principals": self.principals, "clients": self.clients})

    def answer(self, op: Operation, authorization: Optional[str]) -> tuple[int, dict]:
        p, body = op.params, op.body
        if op.operation_id == "getToken":
            if self.clients.get(body.get("client_id")) != body.get("client_secret"):
                return 401, {"error": "unauthorized_client", "error_description": "bad credentials"}
            token = f"token-{len(self.tokens)}"
            self.tokens.add(token)
            return 200, {"access_token": token, "token_type": "bearer", "expires_in": 3600}
        if (authorization or "").removeprefix("Bearer ") not in self.tokens:
            return 401, {"error": {"message": "Not authorized", "type": "NotAuthorizedException", "code": 401}}
        handler = getattr(self, op.operation_id)
        return handler(p, body, op.query)

    @staticmethod
    def _created(existed: bool, entity: dict | None = None) -> tuple[int, dict]:
        return (409, {"error": {"message": "exists", "type": "AlreadyExistsException", "code": 409}}) if existed \
            else (201, entity or {})

    def createCatalog(self, p, body, q):  # noqa: N802 (the spec's operationIds)
        catalog = body["catalog"]
        existed = catalog["name"] in self.catalogs
        if not existed:
            self.catalogs[catalog["name"]] = {**catalog, "entityVersion": 1}
            self.namespaces[catalog["name"]] = set()
            self.catalog_roles[catalog["name"]] = {"catalog_admin"}
        return self._created(existed, self.catalogs[catalog["name"]])

    def getCatalog(self, p, body, q):  # noqa: N802
        found = self.catalogs.get(p["catalogName"])
        return (200, found) if found else (404, {"error": {"message": "no catalog", "code": 404}})

    def updateCatalog(self, p, body, q):  # noqa: N802
        current = self.catalogs[p["catalogName"]]
        if body["currentEntityVersion"] != current["entityVersion"]:
            return 409, {"error": {"message": "version changed", "code": 409}}
        current.update(properties=body["properties"], storageConfigInfo=body["storageConfigInfo"],
                       entityVersion=current["entityVersion"] + 1)
        return 200, current

    def createCatalogRole(self, p, body, q):  # noqa: N802
        roles = self.catalog_roles[p["catalogName"]]
        existed = body["catalogRole"]["name"] in roles
        roles.add(body["catalogRole"]["name"])
        return self._created(existed)

    def addGrantToCatalogRole(self, p, body, q):  # noqa: N802
        if p["catalogRoleName"] not in self.catalog_roles[p["catalogName"]]:
            return 404, {"error": {"message": "no catalog role", "code": 404}}
        namespace = body["grant"].get("namespace")
        if namespace and namespace[0] not in self.namespaces[p["catalogName"]]:
            return 404, {"error": {"message": f"no namespace {namespace}", "code": 404}}
        grants = self.grants.setdefault((p["catalogName"], p["catalogRoleName"]), [])
        existed = body["grant"] in grants
        if not existed:
            grants.append(body["grant"])
        return self._created(existed)

    def createPrincipalRole(self, p, body, q):  # noqa: N802
        name = body["principalRole"]["name"]
        existed = name in self.principal_roles
        self.principal_roles.setdefault(name, set())
        return self._created(existed)

    def assignCatalogRoleToPrincipalRole(self, p, body, q):  # noqa: N802
        assigned = (p["catalogName"], body["catalogRole"]["name"])
        if assigned[1] not in self.catalog_roles.get(assigned[0], set()):
            return 404, {"error": {"message": "no catalog role", "code": 404}}
        existed = assigned in self.principal_roles[p["principalRoleName"]]
        self.principal_roles[p["principalRoleName"]].add(assigned)
        return self._created(existed)

    def createPrincipal(self, p, body, q):  # noqa: N802
        name = body["principal"]["name"]
        existed = name in self.principals
        self.principals.setdefault(name, set())
        return self._created(existed, {"principal": {"name": name}, "credentials": {"clientId": "generated",
                                                                                     "clientSecret": "generated"}})

    def resetCredentials(self, p, body, q):  # noqa: N802
        if p["principalName"] not in self.principals:
            return 404, {"error": {"message": "no principal", "code": 404}}
        self.clients[body["clientId"]] = body["clientSecret"]
        return 200, {"principal": {"name": p["principalName"], "clientId": body["clientId"]},
                     "credentials": {"clientId": body["clientId"], "clientSecret": body["clientSecret"]}}

    def assignPrincipalRole(self, p, body, q):  # noqa: N802
        role = body["principalRole"]["name"]
        if role not in self.principal_roles:
            return 404, {"error": {"message": "no principal role", "code": 404}}
        existed = role in self.principals[p["principalName"]]
        self.principals[p["principalName"]].add(role)
        return self._created(existed)

    def getConfig(self, p, body, q):  # noqa: N802
        warehouse = q.get("warehouse")
        if warehouse not in self.catalogs:
            return 404, {"error": {"message": f"Unable to find warehouse {warehouse}", "code": 404}}
        return 200, {"defaults": {}, "overrides": {"prefix": warehouse}}

    def createNamespace(self, p, body, q):  # noqa: N802
        namespaces = self.namespaces[p["prefix"]]
        name = ".".join(body["namespace"])
        existed = name in namespaces
        namespaces.add(name)
        return (409, {"error": {"message": "exists", "code": 409}}) if existed else \
            (200, {"namespace": body["namespace"], "properties": {}})

    def listNamespaces(self, p, body, q):  # noqa: N802
        return 200, {"namespaces": [name.split(".") for name in sorted(self.namespaces.get(p["prefix"], ()))]}


def serve(realm: Realm, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0) -> ThreadingHTTPServer:
    """The stub on a free (or the given) port, in a daemon thread; `server.shutdown()` stops it. Each request
    is answered after `latency` seconds (a real server's time to answer)."""
    class Handler(BaseHTTPRequestHandler):
        def _handle(self):
            time.sleep(latency)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            op, problems = match(self.command, self.path, self.headers.get("Content-Type"), raw)
            if problems:
                realm.violations += problems
                status, answer = (404 if op is None else 400), {"error": {"message": "; ".join(problems), "code": 400}}
            else:
                status, answer = realm.answer(op, self.headers.get("Authorization"))
                realm.calls.append((op.operation_id, status))
            send_json(self, status, answer)

        do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
