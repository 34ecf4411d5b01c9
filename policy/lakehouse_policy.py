"""The lakehouse's rules as Pulumi CrossGuard policies, checked on every resource of `pulumi preview` and `up`.

The rules read the repository's own service table and the stack's typed configuration (the pack
imports `components.platform`, see `__main__.py`), so the ports, placement and host networking they
allow are the ones the program derives, never a second copy.

What a policy is handed (`ResourceValidationArgs`): the resource's type, name, URN and *inputs*
(`props`, numbers as floats, values that are unknown during a preview raise `UnknownValueError`,
which the SDK reports as "can't run policy during preview"), and a few options (`protect`,
`ignore_changes`, `delete_before_replace`, `aliases`, `custom_timeouts`, `additional_secret_outputs`,
`parent`). Two things it is *not* handed, which shape the rules below:

- `retain_on_delete`: the engine's analyzer protocol does not carry it. `stateful-data-retained`
  checks what a policy can see (a bucket's `forceDestroy`); the retention option itself is checked
  on the program's recorded resources by tests/unit/program/test_wiring.py.
- secretness in a validation: the Python SDK (pulumi-policy 1.21) unwraps secret inputs before a
  validation runs, so no validation can tell a secret from a plain value. A *remediation* gets the
  inputs with their secret markers kept (`pulumi_policy.Secret`), so `credentials-are-secret` is a
  remediation (enforcement level `remediate`): every input under a credential-looking key that is
  not secret is turned into a secret before the engine records it, and the preview lists each
  resource it remediated. Its limits: it goes by key names (a credential under an innocent key, or
  inside a rendered file's content, is not recognised: tests/unit/program/test_secrets.py looks for
  the generated values themselves), and a value unknown during a preview is checked at `up`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
)

from components.platform.config import Instance, LakehouseConfig
from components.platform.endpoints import container_name
from components.platform.services import SERVICES

CONTAINER = "docker:index/container:Container"
IMAGE = "docker:index/remoteImage:RemoteImage"
VOLUME = "docker:index/volume:Volume"
BUCKET = "minio:index/s3Bucket:S3Bucket"

# Keys whose value is a credential (`password`, `minioPassword`, `secret`, `apiToken`, `privateKey`...).
SECRET_KEY = re.compile(r"(?i)(password|passwd|secret|token|private_?key|api_?key)")
# Environment variables that carry one (`POSTGRES_PASSWORD`, `AWS_SECRET_ACCESS_KEY`, `JUPYTER_TOKEN`,
# `AIRFLOW__CORE__FERNET_KEY`); `*_FILE` variables name a file, not its content.
SECRET_ENV = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|KEY)")
SHA256_ID = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class Owner:
    """The service instance a container belongs to (its own container, or one of its jobs)."""

    service: str
    instance: Instance
    own: bool  # the instance's service container (not a job or component named after it)


def owner(config: LakehouseConfig, name: str) -> Optional[Owner]:
    """`lakehouse-trino-worker-1` -> trino-worker-1; `lakehouse-airflow-scheduler` -> airflow; None for
    containers of no service (the per-host jar fetch)."""
    best: Optional[Owner] = None
    for service in config.services.values():
        for instance in service.instances:
            base = container_name(config, instance.name)
            if name == base or name.startswith(base + "-"):
                if best is None or len(container_name(config, best.instance.name)) < len(base):
                    best = Owner(service.name, instance, name == base)
    return best


def image_is_pinned(reference: str) -> bool:
    """A digest, an image id, or a tag other than `latest`."""
    if "@sha256:" in reference or SHA256_ID.match(reference):
        return True
    last = reference.rsplit("/", 1)[-1]
    return ":" in last and last.rsplit(":", 1)[1] not in ("", "latest")


def _get(props: Mapping[str, Any], key: str, default: Any = None) -> Any:
    return props[key] if key in props else default


class Rules:
    """The validations, bound to the stack's configuration (a callable, read when first needed)."""

    def __init__(self, config: Callable[[], LakehouseConfig]):
        self._config = config

    @property
    def config(self) -> LakehouseConfig:
        return self._config()

    # -- images ------------------------------------------------------------------------------------

    def pinned_images(self, args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type == IMAGE:
            reference = args.props["name"]
        elif args.resource_type == CONTAINER:
            reference = args.props["image"]
        else:
            return
        if not image_is_pinned(reference):
            report(f"image `{reference}` is not pinned: use a version tag (not `latest`) or a digest", None)

    # -- containers ----------------------------------------------------------------------------------

    def containers_limited_healthy_restarted(self, args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type != CONTAINER:
            return
        props = args.props
        if not _get(props, "memory"):
            report("no memory limit (`memory`): every container gets one", None)
        if _get(props, "attach"):
            if _get(props, "restart") != "no" or _get(props, "mustRun") is not False:
                report("a one-shot job (`attach: true`) must have `restart: no` and `mustRun: false`", None)
            return
        if _get(props, "restart") not in ("unless-stopped", "always"):
            report(f"restart policy `{_get(props, 'restart', 'no')}`: a service restarts (`unless-stopped`)", None)
        tests = list(_get(_get(props, "healthcheck") or {}, "tests") or [])
        if not tests or tests[0] == "NONE":
            report("no health check (`healthcheck.tests`): `wait` would not know when the service is ready", None)

    # -- privileges and mounts -----------------------------------------------------------------------

    def no_privileges_or_host_mounts(self, args: ResourceValidationArgs, report: ReportViolation) -> None:
        props = args.props
        if args.resource_type == VOLUME:
            options = _get(props, "driverOpts") or {}
            if "bind" in str(_get(options, "o", "")) or _get(options, "device"):
                report("a volume bound to a host path (`driverOpts` o=bind/device): the service table "
                       "declares no host mounts", None)
            return
        if args.resource_type != CONTAINER:
            return
        if _get(props, "privileged"):
            report("privileged container", None)
        for key in ("pidMode", "ipcMode", "usernsMode"):
            if _get(props, key) == "host":
                report(f"`{key}: host` shares the host's namespace", None)
        if list(_get(_get(props, "capabilities") or {}, "adds") or []):
            report(f"added capabilities {list(props['capabilities']['adds'])}", None)
        if list(_get(props, "devices") or []):
            report("host devices mapped into the container", None)
        if any("unconfined" in str(option) for option in _get(props, "securityOpts") or []):
            report(f"unconfined security options {list(props['securityOpts'])}", None)
        for volume in _get(props, "volumes") or []:
            if _get(volume, "hostPath") or not _get(volume, "volumeName"):
                report(f"host path mounted at `{_get(volume, 'containerPath')}`: only named volumes "
                       "(the service table declares no host mounts)", None)
        for mount in _get(props, "mounts") or []:
            if _get(mount, "type") == "bind":
                report(f"bind mount of `{_get(mount, 'source')}`: only named volumes "
                       "(the service table declares no host mounts)", None)
        found = owner(self.config, props["name"])
        if _get(props, "networkMode") == "host" and not (found and SERVICES[found.service].host_network):
            report("host networking for a container of no compute service: the service table gives it "
                   "only to the compute plane", None)

    # -- published ports -----------------------------------------------------------------------------

    def ports_from_service_table(self, args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type != CONTAINER:
            return
        published = [(int(p["internal"]), int(_get(p, "external", 0) or 0)) for p in _get(args.props, "ports") or []]
        if not published:
            return
        found = owner(self.config, args.props["name"])
        if found is None or not found.own or SERVICES[found.service].host_network:
            report(f"publishes {published}: only a bridged service's own container publishes ports", None)
            return
        spec = SERVICES[found.service]
        allowed = {(spec.ports[name].container, port) for name, port in found.instance.ports.items()}
        extra = sorted(set(published) - allowed)
        if extra:
            report(f"publishes {extra} (container, host): {found.instance.name} may publish only "
                   f"{sorted(allowed)} (the service table and `services.{found.service}.ports`)", None)

    # -- stateful data -------------------------------------------------------------------------------

    def stateful_data_retained(self, args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type == BUCKET and _get(args.props, "forceDestroy") and not self.config.purge_on_destroy:
            report(f"bucket `{args.props['bucket']}` has `forceDestroy` on a stack that keeps its data: only "
                   "`lakehouse:purgeOnDestroy: true` may empty buckets on destroy", None)

    # -- credentials -----------------------------------------------------------------------------------

    @staticmethod
    def credentials_are_secret(args: ResourceValidationArgs) -> Optional[Mapping[str, Any]]:
        """Remediation: the inputs with every plain credential made secret, or None if there is none."""
        found: list[str] = []
        remediated = _secretise(_target(args.props), "", found)
        return remediated if found else None


def plain_credentials(props: Mapping[str, Any]) -> list[str]:
    """Paths of the inputs that `credentials_are_secret` would make secret."""
    found: list[str] = []
    _secretise(_target(props), "", found)
    return found


def _target(value: Any) -> Any:
    """The raw value behind the SDK's proxies (secrets-preserving or unknown-checking), which keeps
    `Secret` markers: the same `__target` the SDK's own serializer reads."""
    while isinstance(value, (Mapping, Sequence)) and not isinstance(value, (dict, list, str, bytes)):
        value = value["__target"]
    return value


def _is_unknown(value: Any) -> bool:
    from pulumi_policy.proxy import _is_unknown as unknown  # the SDK's sentinels of preview-time unknowns

    return unknown(value)


def _secretise(value: Any, path: str, found: list[str]) -> Any:
    value = _target(value)
    if isinstance(value, Secret):
        return value
    if isinstance(value, dict):
        result = {}
        for key, inner in value.items():
            inner = _target(inner)
            if key == "envs" and isinstance(inner, list):
                result[key] = [_secret_env(entry, f"{path}.envs[{i}]", found) for i, entry in enumerate(inner)]
            elif SECRET_KEY.search(key) and isinstance(inner, str) and inner and not _is_unknown(inner):
                found.append(f"{path}.{key}")
                result[key] = Secret(inner)
            else:
                result[key] = _secretise(inner, f"{path}.{key}", found)
        return result
    if isinstance(value, list):
        return [_secretise(inner, f"{path}[{i}]", found) for i, inner in enumerate(value)]
    return value


def _secret_env(entry: Any, path: str, found: list[str]) -> Any:
    entry = _target(entry)
    if isinstance(entry, str) and "=" in entry and not _is_unknown(entry):
        name = entry.split("=", 1)[0]
        if SECRET_ENV.search(name.upper()) and not name.upper().endswith("_FILE"):
            found.append(f"{path} ({name})")
            return Secret(entry)
    return entry


def policies(config: Callable[[], LakehouseConfig]) -> list[ResourceValidationPolicy]:
    rules = Rules(config)
    mandatory = EnforcementLevel.MANDATORY
    return [
        ResourceValidationPolicy(
            name="pinned-images", enforcement_level=mandatory, validate=rules.pinned_images,
            description="Every image is pinned to a version: a tag other than `latest`, or a digest."),
        ResourceValidationPolicy(
            name="containers-limited-healthy-restarted", enforcement_level=mandatory,
            validate=rules.containers_limited_healthy_restarted,
            description="Every container has a memory limit; a long-running one a health check and a restart "
                        "policy; a one-shot job (`attach`) has `restart: no` and `mustRun: false`."),
        ResourceValidationPolicy(
            name="no-privileges-or-host-mounts", enforcement_level=mandatory,
            validate=rules.no_privileges_or_host_mounts,
            description="No privileged container, host namespace, added capability, device or host path; host "
                        "networking only for the compute services of the service table."),
        ResourceValidationPolicy(
            name="ports-from-service-table", enforcement_level=mandatory, validate=rules.ports_from_service_table,
            description="A container publishes only its service's ports, at the host ports the configuration "
                        "gives its instance."),
        ResourceValidationPolicy(
            name="stateful-data-retained", enforcement_level=mandatory, validate=rules.stateful_data_retained,
            description="Buckets are not emptied on destroy unless the stack sets `lakehouse:purgeOnDestroy`."),
        ResourceValidationPolicy(
            name="credentials-are-secret", enforcement_level=EnforcementLevel.REMEDIATE,
            remediate=Rules.credentials_are_secret,
            description="Inputs under credential keys (`password`, `secret`, `token`, env vars with PASSWORD, "
                        "SECRET, TOKEN or KEY) are secret: a plain one is made secret before it is recorded."),
    ]

