"""Provider fidelity: what the upstream providers reject even though the Pulumi schema allows it.

The Pulumi schemas (tests/schemas/) say which properties exist and their types, but they do not
say which nested fields are computed-only or which fields must not (or must) be set together:
the bridge shares one object type between inputs and outputs, so e.g. the MinIO ILM rule's
`status` looks settable although terraform-provider-minio declares it `Computed` only and its
Check rejects a config that sets it.

`REVIEWS` holds, for every provider resource type the program registers, what was read in the
upstream provider's own source at the version the Pulumi package pins:

* `computed_only`: fields that are Computed without Optional/Required (set => rejected);
* `rules`: fields that conflict (ConflictsWith, "not both" checks), of which exactly one must
  be set (ExactlyOneOf), that need another field (RequiredWith / AlsoRequires), or that must
  agree when both are set.

Paths are the upstream (Terraform) names, dot-separated through nested blocks ("rule.status").
They are mapped to Pulumi property names through the schema: snake_case becomes camelCase and
list blocks take the plural name the bridge gives them (`rule` -> `rules`, `ip_config` ->
`ipConfigs`). Top-level computed-only fields are not input properties at all (the schema
validator already reports them as unknown); they are listed for completeness with their Pulumi
output name.

An entry with empty lists means the type was reviewed and nothing applies.

`check_resource(registry, type, inputs)` reports every computed-only field that is set and every
rule that is broken, with the upstream source link.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from schema_validator import PROVIDER_PREFIX, SECRET_SIG, SIG_KEY, Registry

# --- upstream sources ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Upstream:
    """One upstream provider repository at the ref the Pulumi package builds from."""

    repo: str  # owner/name on GitHub
    ref: str  # tag (or commit where the bridge pins an untagged commit)
    pinned_by: str  # how the Pulumi package pins it

    def link(self, path: str, line: int) -> str:
        return f"https://github.com/{self.repo}/blob/{self.ref}/{path}#L{line}"


MINIO = Upstream(
    "aminueza/terraform-provider-minio",
    "v1.20.1",
    "pulumi-minio v0.17.1 provider/go.mod: github.com/aminueza/terraform-provider-minio v1.20.1",
)
DOCKER = Upstream(
    "kreuzwerker/terraform-provider-docker",
    "v4.5.0",
    "pulumi-docker v5.1.0 upstream submodule at 5074970c71ce (tag v4.5.0); native-provider "
    "code is not involved: 4.x+ bridges this provider",
)
POSTGRESQL = Upstream(
    "cyrilgdn/terraform-provider-postgresql",
    "ff936b9548c1076f498523a2bd116915ff977142",
    "pulumi-postgresql v3.18.0 upstream submodule at ff936b9 (v1.26.0 + 3 commits, untagged)",
)
PROXMOX = Upstream(
    "bpg/terraform-provider-proxmox",
    "v0.111.1",
    "pulumi-proxmoxve v8.3.0 provider/go.mod: github.com/bpg/terraform-provider-proxmox v0.111.1",
)
RANDOM = Upstream(
    "hashicorp/terraform-provider-random",
    "v3.9.0",
    "pulumi-random v4.21.1 shim/go.mod: terraform-provider-random "
    "v1.3.2-0.20260513075824-f8d869dc98d9 (= tag v3.9.0)",
)
COMMAND = Upstream(
    "pulumi/pulumi-command",
    "v1.2.1",
    "native provider (pulumi-go-provider infer); no upstream Terraform provider",
)

# The package versions the reviews below were made for: a schema bump means a re-review.
PACKAGE_VERSIONS = {
    "command": "1.2.1",
    "docker": "5.1.0",
    "minio": "0.17.1",
    "postgresql": "3.18.0",
    "proxmoxve": "8.3.0",
    "random": "4.21.1",
}

# --- curated data -------------------------------------------------------------------------------

CONFLICTS = "conflicts"  # no two of the paths may be set together
EXACTLY_ONE = "exactly_one_of"  # exactly one of the paths must be set
REQUIRES = "requires"  # the first path needs every other path set
AGREE = "agree"  # when both are set they must have the same value

KINDS = (CONFLICTS, EXACTLY_ONE, REQUIRES, AGREE)


@dataclass(frozen=True)
class Field:
    """A computed-only field: `path` upstream name, where it is declared."""

    path: str
    line: int
    file: str = ""  # defaults to the review's file
    pulumi: str = ""  # Pulumi output name of a top-level field where camelCase is not it


@dataclass(frozen=True)
class Rule:
    """A relation between fields that the provider enforces."""

    kind: str
    paths: tuple[str, ...]
    line: int
    file: str = ""
    note: str = ""


@dataclass(frozen=True)
class Review:
    """What applies to one resource (or provider) type, read at `upstream`."""

    token: str  # Pulumi type token
    tf_name: str  # upstream resource name
    upstream: Upstream
    file: str  # where the schema is declared
    line: int  # where the schema starts
    computed_only: tuple[Field, ...] = ()
    rules: tuple[Rule, ...] = ()
    notes: str = ""

    @property
    def source(self) -> str:
        return self.upstream.link(self.file, self.line)

    def link(self, item: Field | Rule) -> str:
        return self.upstream.link(item.file or self.file, item.line)


_REVIEWS = (
    # ---- MinIO -------------------------------------------------------------------------------
    Review(
        "minio:index/ilmPolicy:IlmPolicy",
        "minio_ilm_policy",
        MINIO,
        "minio/resource_minio_ilm_policy.go",
        26,
        computed_only=(Field("rule.status", 52),),
        notes='status is always written as "Enabled" by Create (L124) and read back from the '
        "server; bucket is ForceNew.",
    ),
    Review(
        "minio:index/s3Bucket:S3Bucket",
        "minio_s3_bucket",
        MINIO,
        "minio/resource_minio_s3_bucket.go",
        36,
        computed_only=(Field("arn", 63), Field("bucket_domain_name", 67)),
        rules=(Rule(CONFLICTS, ("bucket", "bucket_prefix"), 42),),
        notes='bucket is ForceNew; acl defaults to "private" and object_locking to false.',
    ),
    Review(
        "minio:index/s3Object:S3Object",
        "minio_s3_object",
        MINIO,
        "minio/resource_minio_s3_object.go",
        15,
        rules=(Rule(EXACTLY_ONE, ("source", "content", "content_base64"), 94,
                    note="ConflictsWith pairwise (L45-55); Create fails when none is set"),),
        notes="bucket_name and object_name are ForceNew; content_type, etag and version_id are Optional+Computed "
        "(read back by StatObject, L138-146). Create fails unless one of source/content/content_base64 is set "
        "(L94). Read never compares the content: a deleted object is recreated after a refresh, a changed one "
        "is not noticed.",
    ),
    Review(
        "minio:index/s3BucketVersioning:S3BucketVersioning",
        "minio_s3_bucket_versioning",
        MINIO,
        "minio/resource_minio_s3_bucket_versioning.go",
        23,
        notes="versioning_configuration (MaxItems 1) has status Required, no computed-only field.",
    ),
    Review(
        "minio:index/iamUser:IamUser",
        "minio_iam_user",
        MINIO,
        "minio/resource_minio_iam_user.go",
        32,
        computed_only=(Field("status", 57),),
        notes="secret is Optional+Computed; update_secret=true would replace a set secret with a "
        "generated one on every update (Update L125-140). name is ForceNew.",
    ),
    Review(
        "minio:index/iamPolicy:IamPolicy",
        "minio_iam_policy",
        MINIO,
        "minio/resource_minio_iam_policy.go",
        28,
        rules=(Rule(CONFLICTS, ("name", "name_prefix"), 40),),
    ),
    Review(
        "minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment",
        "minio_iam_user_policy_attachment",
        MINIO,
        "minio/resource_minio_iam_user_policy_attachment.go",
        26,
        notes="policy_name and user_name are Required and ForceNew; nothing computed-only.",
    ),
    Review(
        "pulumi:providers:minio",
        "provider",
        MINIO,
        "minio/provider.go",
        13,
        rules=(
            Rule(CONFLICTS, ("minio_user", "minio_access_key"), 53),
            Rule(CONFLICTS, ("minio_password", "minio_secret_key"), 62),
        ),
    ),
    # ---- Docker ------------------------------------------------------------------------------
    Review(
        "docker:index/container:Container",
        "docker_container",
        DOCKER,
        "internal/provider/resource_docker_container.go",
        49,
        computed_only=(
            Field("exit_code", 129),
            Field("container_logs", 135),
            Field("bridge", 600),
            Field("network_data", 606, pulumi="networkDatas"),
        ),
        rules=(
            Rule(CONFLICTS, ("device_requests", "gpus"), 779),
            Rule(
                EXACTLY_ONE,
                ("upload.content", "upload.content_base64", "upload.source"),
                513,
                file="internal/provider/resource_docker_container_funcs.go",
                note='checked per upload in Create: "one of ... must be set" / "only one of ... '
                'can be set"',
            ),
        ),
        notes="Nested blocks used (healthcheck, host, networks_advanced, ports, upload, volumes) "
        "have no computed-only field; ports.external is Optional+Computed. Almost every "
        "input is ForceNew (image, command, env, ports, volumes, upload, networks_advanced, "
        "network_mode, host), so changing one replaces the container. must_run defaults to "
        "true and Read sets it false for a stopped container (funcs L815-823); Update then "
        "starts it again (funcs L997-1013).",
    ),
    Review(
        "docker:index/network:Network",
        "docker_network",
        DOCKER,
        "internal/provider/resource_docker_network.go",
        24,
        computed_only=(Field("scope", 139),),
    ),
    Review(
        "docker:index/volume:Volume",
        "docker_volume",
        DOCKER,
        "internal/provider/resource_docker_volume.go",
        40,
        computed_only=(Field("mountpoint", 68), Field("cluster.id", 80)),
        notes="name, driver, driver_opts and labels are ForceNew: renaming replaces the volume "
        "(and its data).",
    ),
    Review(
        "docker:index/remoteImage:RemoteImage",
        "docker_image",
        DOCKER,
        "internal/provider/resource_docker_image.go",
        30,
        computed_only=(Field("image_id", 43), Field("repo_digest", 49)),
        rules=(Rule(CONFLICTS, ("build", "pull_triggers"), 81),),
    ),
    Review(
        "pulumi:providers:docker",
        "provider",
        DOCKER,
        "internal/provider/provider.go",
        44,
        notes="No schema conflicts. context (or DOCKER_CONTEXT in the environment) overrides "
        "host (L59-64).",
    ),
    # ---- PostgreSQL --------------------------------------------------------------------------
    Review(
        "postgresql:index/role:Role",
        "postgresql_role",
        POSTGRESQL,
        "postgresql/resource_postgresql_role.go",
        57,
        rules=(
            Rule(CONFLICTS, ("password", "password_wo"), 67),
            Rule(CONFLICTS, ("password", "password_wo_version"), 67),
            Rule(REQUIRES, ("password_wo", "password_wo_version"), 75),
            Rule(REQUIRES, ("password_wo_version", "password_wo"), 83),
        ),
        notes="No computed-only field; login defaults to false, encrypted is deprecated.",
    ),
    Review(
        "postgresql:index/database:Database",
        "postgresql_database",
        POSTGRESQL,
        "postgresql/resource_postgresql_database.go",
        41,
        notes="No computed-only field and no conflicts; owner is Optional+Computed; template, "
        "encoding, lc_collate and lc_ctype are ForceNew.",
    ),
    Review(
        "pulumi:providers:postgresql",
        "provider",
        POSTGRESQL,
        "postgresql/provider.go",
        31,
        rules=(
            Rule(
                REQUIRES,
                ("azure_identity_auth", "azure_tenant_id"),
                362,
                note="Configure fails when azure_identity_auth is on without azure_tenant_id",
            ),
        ),
        notes="sslmode wins over the deprecated ssl_mode (L335-342); aws_rds_iam_auth and "
        "azure_identity_auth replace password (L351-372).",
    ),
    # ---- Proxmox VE --------------------------------------------------------------------------
    Review(
        "proxmoxve:index/vmLegacy:VmLegacy",
        "proxmox_virtual_environment_vm",
        PROXMOX,
        "proxmoxtf/resource/vm/vm.go",
        342,
        computed_only=(
            Field("ipv4_addresses", 50, file="proxmoxtf/resource/vm/network/schema.go"),
            Field("ipv6_addresses", 59, file="proxmoxtf/resource/vm/network/schema.go"),
            Field("network_interface_names", 163, file="proxmoxtf/resource/vm/network/schema.go"),
        ),
        rules=(
            Rule(REQUIRES, ("memory.hugepages", "cpu.numa"), 1217),
            Rule(REQUIRES, ("memory.keep_hugepages", "cpu.numa"), 1229),
            Rule(REQUIRES, ("numa.device", "cpu.numa"), 1266),
        ),
        notes="Nested blocks used (agent, cpu, disk, initialization.dns/ip_config.ipv4, memory, "
        "network_device, operating_system, serial_device) have no computed-only field. "
        "vm_id is ForceNew via CustomizeDiff (L1767-1780), node_name too unless migrate=true "
        "(L1781-1790); initialization.user_data_file_id and disk.file_id are ForceNew; "
        "disk.import_from is only used at creation (disk/schema.go L144-152).",
    ),
    Review(
        "proxmoxve:index/fileLegacy:FileLegacy",
        "proxmox_virtual_environment_file",
        PROXMOX,
        "proxmoxtf/resource/file.go",
        79,
        computed_only=(
            Field("file_modification_date", 94),
            Field("file_name", 100),
            Field("file_size", 114),
            Field("file_tag", 120),
        ),
        rules=(
            Rule(
                CONFLICTS,
                ("source_file", "source_raw"),
                398,
                note="Create: please specify source_file.path or source_raw - not both",
            ),
            Rule(
                EXACTLY_ONE,
                ("source_file", "source_raw"),
                692,
                note="missing argument source_file.path or source_raw",
            ),
        ),
        notes="Every input is ForceNew and overwrite defaults to true; Delete removes the volume "
        "by id (L1002-1021), which a create-before-delete replacement shares.",
    ),
    Review(
        "proxmoxve:download/file:File",
        "proxmox_download_file",
        PROXMOX,
        "fwprovider/nodes/resource_download_file.go",
        214,
        computed_only=(Field("size", 255),),
        rules=(
            Rule(REQUIRES, ("checksum", "checksum_algorithm"), 289),
            Rule(REQUIRES, ("checksum_algorithm", "checksum"), 322),
        ),
        notes="Plugin-framework resource (proxmox_download_file, resource_download_file_short.go, "
        "shares this schema). content_type is one of iso/vztmpl/import; every identifying "
        "input is RequiresReplace; overwrite_unmanaged defaults to false.",
    ),
    Review(
        "pulumi:providers:proxmoxve",
        "provider",
        PROXMOX,
        "proxmoxtf/provider/schema.go",
        48,
        rules=(
            Rule(
                REQUIRES,
                ("ssh.socks5_username", "ssh.socks5_server"),
                116,
                file="proxmox/ssh/client.go",
                note="socks5 server is required when socks5 username or password is set",
            ),
            Rule(
                REQUIRES,
                ("ssh.socks5_password", "ssh.socks5_server"),
                116,
                file="proxmox/ssh/client.go",
                note="socks5 server is required when socks5 username or password is set",
            ),
        ),
        notes="Muxed SDKv2 + framework provider; an api_token takes precedence over ticket and "
        "username/password (proxmox/api/credentials.go L56-74).",
    ),
    # ---- random ------------------------------------------------------------------------------
    Review(
        "random:index/randomPassword:RandomPassword",
        "random_password",
        RANDOM,
        "internal/provider/resource_password.go",
        569,
        computed_only=(Field("result", 722), Field("bcrypt_hash", 731)),
        rules=(
            Rule(
                AGREE,
                ("number", "numeric"),
                46,
                file="internal/planmodifiers/bool/boolplanmodifiers.go",
                note="Number and numeric are both configured with different values",
            ),
        ),
        notes="length, special and every other input RequiresReplace.",
    ),
    Review(
        "random:index/randomBytes:RandomBytes",
        "random_bytes",
        RANDOM,
        "internal/provider/resource_bytes.go",
        141,
        computed_only=(Field("base64", 161), Field("hex", 169)),
    ),
    # ---- command -----------------------------------------------------------------------------
    Review(
        "command:remote:Command",
        "remote:Command (native)",
        COMMAND,
        "provider/pkg/provider/remote/command.go",
        37,
        notes="Native provider: inputs are a Go struct, outputs (stdout, stderr) are not inputs; "
        "no field relations are enforced. connection (connection.go L36-52) has no "
        "conflicts; without hostKey the host key is not checked (L95-98).",
    ),
    Review(
        "pulumi:providers:command",
        "provider",
        COMMAND,
        "provider/pkg/provider/provider.go",
        32,
        notes="The command provider takes no configuration.",
    ),
)

REVIEWS: dict[str, Review] = {review.token: review for review in _REVIEWS}

# --- mapping upstream names to Pulumi names ----------------------------------------------------

Schema = dict[str, Any]
LOCAL_TYPE_PREFIX = "#/types/"


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def candidates(name: str) -> list[str]:
    """Pulumi names a Terraform field may have: camelCase, or the plural of a list block."""
    base = camel(name)
    names = [base, base + "s", base + "es"]
    if base.endswith("y"):
        names.append(base[:-1] + "ies")
    return names


@dataclass(frozen=True)
class Step:
    name: str  # Pulumi property name
    many: bool  # the property is a list (of blocks or values)


class UnresolvedPath(LookupError):
    pass


def _spec(registry: Registry, token: str) -> Schema:
    package = registry.package_for(token)
    if package is None:
        raise UnresolvedPath(f"{token}: no schema")
    spec = package.provider if token.startswith(PROVIDER_PREFIX) else package.resources.get(token)
    if spec is None:
        raise UnresolvedPath(f"{token}: not in {package.name} {package.version}")
    return spec


def _object_props(registry: Registry, token: str, schema: Schema) -> dict[str, Schema] | None:
    """The properties of the object `schema` describes (directly, as list items or a map)."""
    schema = schema.get("items", schema)
    ref = schema.get("$ref", "")
    if not ref.startswith(LOCAL_TYPE_PREFIX):
        return None
    target = registry.package_for(token).types.get(ref.removeprefix(LOCAL_TYPE_PREFIX))
    return target.get("properties") if target and target.get("type") == "object" else None


def resolve(registry: Registry, token: str, tf_path: str) -> tuple[Step, ...]:
    """The Pulumi steps for an upstream input path; UnresolvedPath if the schema lacks it."""
    props: dict[str, Schema] | None = _spec(registry, token)["inputProperties"]
    steps = []
    for part in tf_path.split("."):
        if props is None:
            raise UnresolvedPath(f"{token}: {tf_path}: {steps[-1].name} is not an object")
        name = next((n for n in candidates(part) if n in props), None)
        if name is None:
            raise UnresolvedPath(f"{token}: {tf_path}: no property for {part!r}")
        schema = props[name]
        steps.append(Step(name, schema.get("type") == "array"))
        props = _object_props(registry, token, schema)
    return tuple(steps)


def resolve_computed(registry: Registry, token: str, item: Field) -> tuple[Step, ...]:
    """Steps for a computed-only field: nested ones are in the shared types, top-level ones are
    outputs only (their Pulumi name is camelCase unless the entry says otherwise)."""
    if "." not in item.path:
        return (Step(item.pulumi or camel(item.path), False),)
    parent, leaf = item.path.rsplit(".", 1)
    steps = resolve(registry, token, parent)
    props = _object_props(registry, token, _schema_at(registry, token, steps))
    name = item.pulumi or camel(leaf)
    if props is None or name not in props:
        raise UnresolvedPath(f"{token}: {item.path}: no property {name!r} in the nested type")
    return (*steps, Step(name, props[name].get("type") == "array"))


def _schema_at(registry: Registry, token: str, steps: tuple[Step, ...]) -> Schema:
    props = _spec(registry, token)["inputProperties"]
    schema: Schema = {}
    for step in steps:
        schema = props[step.name]
        props = _object_props(registry, token, schema) or {}
    return schema


# --- walking recorded inputs --------------------------------------------------------------------


def _plain(value: Any) -> Any:
    while isinstance(value, Mapping) and value.get(SIG_KEY) == SECRET_SIG:
        value = value.get("value")
    return value


def _decode(value: Any) -> Any:
    """Provider inputs reach the engine JSON-encoded when they are not strings."""
    value = _plain(value)
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _is_set(value: Any) -> bool:
    """Set in config: not null, and a list block holds at least one element."""
    value = _plain(value)
    return value is not None and value != []


def _occurrences(
    value: Any, steps: tuple[Step, ...], where: str, decode: bool
) -> Iterator[tuple[str, Any]]:
    """Every (path, value) reached by following `steps` through objects and lists."""
    value = _decode(value) if decode else _plain(value)
    if not steps:
        yield where, value
        return
    if not isinstance(value, Mapping):
        return
    step, rest = steps[0], steps[1:]
    if step.name not in value or not _is_set(value[step.name]):
        return
    child = _decode(value[step.name]) if decode else _plain(value[step.name])
    here = f"{where}.{step.name}" if where else step.name
    if step.many and isinstance(child, list):
        if not rest:
            yield here, child
            return
        for index, item in enumerate(child):
            yield from _occurrences(item, rest, f"{here}[{index}]", decode)
    else:
        yield from _occurrences(child, rest, here, decode)


def _common_prefix(paths: list[tuple[Step, ...]]) -> tuple[Step, ...]:
    """Steps shared by all paths, up to (not including) each path's own leaf."""
    prefix: list[Step] = []
    for group in zip(*(p[:-1] for p in paths)):
        if all(step == group[0] for step in group):
            prefix.append(group[0])
        else:
            break
    return tuple(prefix)


def _scopes(
    inputs: Mapping[str, Any], prefix: tuple[Step, ...], decode: bool
) -> Iterator[tuple[str, Any]]:
    """Each object instance the prefix leads to (one per list element)."""
    if not prefix:
        yield "", inputs
        return
    for where, value in _occurrences(inputs, prefix, "", decode):
        if prefix[-1].many and isinstance(value, list):
            for index, item in enumerate(value):
                yield f"{where}[{index}]", _plain(item)
        else:
            yield where, value


# --- the checker ------------------------------------------------------------------------------


@dataclass
class Finding:
    path: str
    message: str
    source: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message} ({self.source})"


def check_resource(registry: Registry, token: str, inputs: Mapping[str, Any]) -> list[str]:
    """Problems the upstream provider would raise for `inputs` of `token`; empty if none.

    Types without a review are reported too, so a new resource type cannot slip through.
    """
    review = REVIEWS.get(token)
    if review is None:
        return [f"{token}: not reviewed for provider fidelity (add it to REVIEWS)"]
    decode = token.startswith(PROVIDER_PREFIX)
    findings: list[Finding] = []

    for item in review.computed_only:
        steps = resolve_computed(registry, token, item)
        for where, _ in _occurrences(inputs, steps, "", decode):
            findings.append(
                Finding(
                    where,
                    f"computed-only upstream ({item.path}), must not be set",
                    review.link(item),
                )
            )

    for rule in review.rules:
        resolved = [resolve(registry, token, path) for path in rule.paths]
        prefix = _common_prefix(resolved)
        relative = [steps[len(prefix) :] for steps in resolved]
        for scope_path, scope in _scopes(inputs, prefix, decode):
            if not isinstance(scope, Mapping):
                continue
            present = [
                [value for _, value in _occurrences(scope, rel, "", decode) if _is_set(value)]
                for rel in relative
            ]
            findings.extend(_judge(rule, review.link(rule), scope_path, relative, present))
    return [f"{token}: {finding}" for finding in findings]


def _name(steps: tuple[Step, ...]) -> str:
    return ".".join(step.name + ("[]" if step.many else "") for step in steps).removesuffix("[]")


def _judge(
    rule: Rule, source: str, scope: str, relative: list[tuple[Step, ...]], present: list[list[Any]]
) -> Iterator[Finding]:
    names = [_name(steps) for steps in relative]  # relative to the scope
    where = scope or "(resource)"
    is_set = [bool(values) for values in present]
    detail = f" - {rule.note}" if rule.note else ""
    if rule.kind == CONFLICTS:
        chosen = [name for name, flag in zip(names, is_set) if flag]
        if len(chosen) > 1:
            yield Finding(
                where, f"conflicting fields set together: {', '.join(chosen)}{detail}", source
            )
    elif rule.kind == EXACTLY_ONE:
        chosen = [name for name, flag in zip(names, is_set) if flag]
        if len(chosen) != 1:
            got = ", ".join(chosen) if chosen else "none"
            yield Finding(
                where, f"exactly one of {', '.join(names)} must be set, got {got}{detail}", source
            )
    elif rule.kind == REQUIRES:
        if is_set[0]:
            missing = [name for name, flag in zip(names[1:], is_set[1:]) if not flag]
            if missing:
                yield Finding(where, f"{names[0]} requires {', '.join(missing)}{detail}", source)
    elif rule.kind == AGREE:
        if all(is_set):
            values = {
                json.dumps(_plain(values[0]), sort_keys=True, default=str) for values in present
            }
            if len(values) > 1:
                yield Finding(
                    where, f"{' and '.join(names)} set to different values{detail}", source
                )
    else:  # pragma: no cover - guarded by a test on KINDS
        raise ValueError(f"unknown rule kind {rule.kind!r}")


_LINK = re.compile(r"^https://github\.com/[\w.-]+/[\w.-]+/blob/[\w.-]+/[\w./-]+#L\d+$")


def all_links() -> Iterator[tuple[str, str]]:
    """(token, link) for every curated review, field and rule."""
    for review in _REVIEWS:
        yield review.token, review.source
        for item in (*review.computed_only, *review.rules):
            yield review.token, review.link(item)


def is_well_formed_link(link: str) -> bool:
    return bool(_LINK.match(link))
