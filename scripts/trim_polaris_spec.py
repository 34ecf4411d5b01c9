"""Write the trimmed copy of Apache Polaris' OpenAPI specs that the catalog setup is checked against.

Keeps, from the pinned release's `spec/` files, just the operations the stack calls (the setup job
and verify's catalog check), each with its parameters, request body schema and documented
response codes, plus every schema those reference; descriptions and examples are dropped. The
source repository, tag and commit are recorded in the output.

    python scripts/trim_polaris_spec.py --repo PATH_TO_A_CLONE_OF_apache/polaris [--tag apache-polaris-1.7.0]
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "openapi" / "polaris-1.7.0.json"
DROP = {"description", "example", "examples", "summary", "tags", "deprecated", "externalDocs"}
# Per spec file: the base path Polaris serves it under, and the operations kept.
PARTS = {
    "spec/polaris-management-service.yml": ("/api/management/v1", [
        ("post", "/catalogs"), ("get", "/catalogs/{catalogName}"), ("put", "/catalogs/{catalogName}"),
        ("post", "/catalogs/{catalogName}/catalog-roles"),
        ("put", "/catalogs/{catalogName}/catalog-roles/{catalogRoleName}/grants"),
        ("post", "/principal-roles"), ("put", "/principal-roles/{principalRoleName}/catalog-roles/{catalogName}"),
        ("post", "/principals"), ("post", "/principals/{principalName}/reset"),
        ("put", "/principals/{principalName}/principal-roles"),
    ]),
    "spec/polaris-catalog-apis/oauth-tokens-api.yaml": ("/api/catalog", [("post", "/v1/oauth/tokens")]),
    "spec/iceberg-rest-catalog-open-api.yaml": ("/api/catalog", [
        ("get", "/v1/config"), ("get", "/v1/{prefix}/namespaces"), ("post", "/v1/{prefix}/namespaces"),
    ]),
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def resolve(document: dict, ref: str) -> dict:
    node = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def strip(node, document: dict, schemas: dict):
    """`node` without prose; local schema refs kept as `#/schemas/<name>` (and collected), other refs inlined."""
    if isinstance(node, list):
        return [strip(item, document, schemas) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if ref is not None:
        if ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name not in schemas:
                schemas[name] = None  # placeholder against cycles
                schemas[name] = strip(resolve(document, ref), document, schemas)
            return {"$ref": f"#/schemas/{name}"}
        return strip(resolve(document, ref), document, schemas)
    kept = {k: v for k, v in node.items() if k not in DROP and not k.startswith("x-")}
    if "discriminator" in kept:
        mapping = kept["discriminator"].get("mapping", {})
        kept["discriminator"] = {"propertyName": kept["discriminator"]["propertyName"],
                                 "mapping": {k: strip({"$ref": v}, document, schemas)["$ref"] for k, v in mapping.items()}}
    return {k: (v if k == "discriminator" else strip(v, document, schemas)) for k, v in kept.items()}


def operation(document: dict, path: str, method: str, schemas: dict) -> dict:
    item = document["paths"][path]
    op = item[method]
    body = op.get("requestBody")
    content = strip(body, document, schemas)["content"] if body else {}
    [(content_type, media)] = content.items() if content else [(None, None)]
    return {
        "operationId": op["operationId"],
        "parameters": strip([*item.get("parameters", []), *op.get("parameters", [])], document, schemas),
        "requestBody": {"contentType": content_type, "schema": media["schema"]} if media else None,
        "responses": sorted(str(code) for code in op["responses"]),
    }


def trim(repo: Path, tag: str) -> dict:
    parts = []
    for file, (base, operations) in PARTS.items():
        document = yaml.safe_load(git(repo, "show", f"{tag}:{file}"))
        schemas: dict = {}
        paths: dict = {}
        for method, path in operations:
            paths.setdefault(path, {})[method] = operation(document, path, method, schemas)
        parts.append({"file": file, "base": base, "paths": paths, "schemas": dict(sorted(schemas.items()))})
    commit = git(repo, "rev-parse", f"{tag}^{{commit}}").strip()
    return {"source": {"repository": "https://github.com/apache/polaris", "tag": tag, "commit": commit,
                       "generator": "scripts/trim_polaris_spec.py"}, "parts": parts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, required=True, help="a clone (or bare mirror) of apache/polaris")
    parser.add_argument("--tag", default="apache-polaris-1.7.0")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(trim(args.repo, args.tag), indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
