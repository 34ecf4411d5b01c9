"""Converge a Polaris realm on a plan: the catalog, its namespaces, roles, grants and principals.

Run by the stack's setup job (`python polaris_setup.py PLAN.json`) on the storage host's network,
with the standard library only. The plan (JSON, no secrets) is rendered by
`components.catalogs.polaris.setup_plan`; the secrets come from the environment: `POLARIS_URL`
(the server's base URL), `POLARIS_ROOT_ID` and `POLARIS_ROOT_SECRET` (the root principal), and
one variable per principal named in the plan (its `secretEnv`).

Every step creates what is missing and treats "exists" (409) as success, or puts the desired
state (the catalog's properties and storage, each principal's secret), so a second run changes
nothing and a run after a change of inputs converges. Anything else stops the run with exit 1.
Nothing is removed: a grant or principal dropped from the plan stays until revoked by hand.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

MANAGEMENT = "/api/management/v1"
CATALOG_API = "/api/catalog"


class SetupError(Exception):
    pass


class Polaris:
    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.token = ""

    def call(self, method: str, path: str, body: dict | None = None, form: dict | None = None,
             query: dict | None = None) -> tuple[int, dict]:
        url = self.base + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        headers = {"Accept": "application/json"}
        data = None
        if form is not None:
            data, headers["Content-Type"] = urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
        elif body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, _json(response.read())
        except urllib.error.HTTPError as error:
            return error.code, _json(error.read())

    def expect(self, what: str, codes: dict[int, str], method: str, path: str, **kwargs) -> tuple[str, dict]:
        """The outcome named for the answer's status, or SetupError with the server's message."""
        status, answer = self.call(method, path, **kwargs)
        if status not in codes:
            error = answer.get("error")  # Iceberg's {"error": {"message": ...}}, or OAuth2's {"error": "<code>", ...}
            message = error.get("message") if isinstance(error, dict) else answer.get("error_description") or error
            raise SetupError(f"{what}: {method} {path} answered {status}: {message}")
        print(f"{what}: {codes[status]}", flush=True)
        return codes[status], answer


def _json(raw: bytes) -> dict:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {"raw": raw[:200].decode(errors="replace")}
    return value if isinstance(value, dict) else {"value": value}


CREATED = {201: "created", 409: "exists"}
PATH = urllib.parse.quote


def sign_in(polaris: Polaris, client_id: str, secret: str, attempts: int = 10, wait_s: float = 3.0) -> None:
    """The root principal's token (client credentials). The server answers once healthy; a refused
    connection is retried for a while, a refused login is not."""
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
            "scope": "PRINCIPAL_ROLE:ALL"}
    for attempt in range(attempts):
        try:
            _, answer = polaris.expect("token for root", {200: "issued"}, "POST", f"{CATALOG_API}/v1/oauth/tokens",
                                       form=form)
            polaris.token = answer["access_token"]
            return
        except urllib.error.URLError as error:
            if attempt == attempts - 1:
                raise SetupError(f"Polaris at {polaris.base} does not answer: {error.reason}") from None
            time.sleep(wait_s)


def converge_catalog(polaris: Polaris, catalog: dict) -> None:
    name = catalog["name"]
    outcome, _ = polaris.expect(f"catalog {name}", CREATED, "POST", f"{MANAGEMENT}/catalogs",
                                body={"catalog": catalog})
    if outcome == "exists":  # put the planned properties and storage (e.g. a new endpoint) on the existing one
        path = f"{MANAGEMENT}/catalogs/{PATH(name)}"
        _, current = polaris.expect(f"catalog {name}", {200: "read"}, "GET", path)
        polaris.expect(f"catalog {name}", {200: "updated"}, "PUT", path, body={
            "currentEntityVersion": current["entityVersion"], "properties": catalog["properties"],
            "storageConfigInfo": catalog["storageConfigInfo"]})


def converge_namespaces(polaris: Polaris, catalog: str, namespaces: list[str]) -> None:
    """Through the Iceberg REST API, under the prefix the server gives for the catalog."""
    _, config = polaris.expect(f"config of {catalog}", {200: "read"}, "GET", f"{CATALOG_API}/v1/config",
                               query={"warehouse": catalog})
    prefix = (config.get("overrides") or {}).get("prefix") or (config.get("defaults") or {}).get("prefix")
    if not prefix:
        raise SetupError(f"the server gives no prefix for catalog {catalog}")
    for namespace in namespaces:
        polaris.expect(f"namespace {namespace}", {200: "created", 409: "exists"}, "POST",
                       f"{CATALOG_API}/v1/{PATH(prefix)}/namespaces", body={"namespace": [namespace]})


def converge_roles(polaris: Polaris, catalog: str, catalog_roles: dict, principal_roles: dict) -> None:
    roles = f"{MANAGEMENT}/catalogs/{PATH(catalog)}/catalog-roles"
    for role, grants in catalog_roles.items():
        if role != "catalog_admin":  # Polaris creates the catalog's admin role with the catalog
            polaris.expect(f"catalog role {role}", CREATED, "POST", roles, body={"catalogRole": {"name": role}})
        for grant in grants:
            on = ".".join(grant.get("namespace", [])) or catalog
            polaris.expect(f"grant {grant['privilege']} on {on} to {role}", CREATED, "PUT",
                           f"{roles}/{PATH(role)}/grants", body={"grant": grant})
    for role, assigned in principal_roles.items():
        polaris.expect(f"principal role {role}", CREATED, "POST", f"{MANAGEMENT}/principal-roles",
                       body={"principalRole": {"name": role}})
        for catalog_role in assigned:
            polaris.expect(f"catalog role {catalog_role} to {role}", CREATED, "PUT",
                           f"{MANAGEMENT}/principal-roles/{PATH(role)}/catalog-roles/{PATH(catalog)}",
                           body={"catalogRole": {"name": catalog_role}})


def converge_principals(polaris: Polaris, principals: dict, environ: dict) -> None:
    """Each principal exists, has exactly the stack's client id and secret, and holds its role."""
    for name, principal in principals.items():
        secret = environ.get(principal["secretEnv"])
        if not secret:
            raise SetupError(f"principal {name}: {principal['secretEnv']} is not set")
        path = f"{MANAGEMENT}/principals/{PATH(name)}"
        polaris.expect(f"principal {name}", CREATED, "POST", f"{MANAGEMENT}/principals",
                       body={"principal": {"name": name}, "credentialRotationRequired": False})
        polaris.expect(f"credentials of {name}", {200: "set"}, "POST", f"{path}/reset",
                       body={"clientId": principal["clientId"], "clientSecret": secret})
        polaris.expect(f"principal role {principal['principalRole']} to {name}", CREATED, "PUT",
                       f"{path}/principal-roles", body={"principalRole": {"name": principal["principalRole"]}})


def run(plan: dict, environ: dict) -> None:
    polaris = Polaris(environ["POLARIS_URL"])
    sign_in(polaris, environ["POLARIS_ROOT_ID"], environ["POLARIS_ROOT_SECRET"])
    catalog = plan["catalog"]["name"]
    converge_catalog(polaris, plan["catalog"])
    # Root reaches the catalog's content through catalog_admin, whose grants come first.
    admin = {"catalog_admin": plan["catalogRoles"].get("catalog_admin", [])}
    converge_roles(polaris, catalog, admin, {})
    converge_namespaces(polaris, catalog, plan["namespaces"])
    others = {role: grants for role, grants in plan["catalogRoles"].items() if role != "catalog_admin"}
    converge_roles(polaris, catalog, others, plan["principalRoles"])
    converge_principals(polaris, plan["principals"], environ)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} PLAN.json", file=sys.stderr)
        return 2
    with open(argv[1]) as plan:
        try:
            run(json.load(plan), dict(os.environ))
        except SetupError as error:
            print(f"polaris setup failed: {error}", file=sys.stderr)
            return 1
    print("polaris setup converged", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
