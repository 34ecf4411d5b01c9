"""Typed stack configuration.

Every `lakehouse:*` key of a stack is parsed here into frozen dataclasses and checked
before any resource is registered. All problems are collected and raised together as one
`ConfigError`, each naming the key, the bad value and what was expected.

`KEYS` is the single reference of the configuration: the parser takes the allowed field
names of every section from it, and the README's configuration table is kept equal to it
by a test.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping, Optional, Sequence

from components.platform import spark_sizing as sizing
from components.platform.services import SERVICES, Plane, Service

NAMESPACE = "lakehouse"
# What a host keeps for its own system and the Docker engine, outside every container's limit.
HOST_RESERVE_MB = 1024


@dataclass(frozen=True)
class Key:
    """One documented configuration key (nested keys use `<name>` for a map key)."""

    path: str
    expected: str
    default: str
    description: str


KEYS: tuple[Key, ...] = (
    Key("prefix", "docker name", "lakehouse",
        "Prefix of the docker network, container and volume names."),
    Key("region", "string", "us-east-1", "S3 region that MinIO and every S3 client use."),
    Key("purgeOnDestroy", "boolean", "false",
        "Let `pulumi destroy` delete volumes, buckets, databases and roles (demo stacks). "
        "Off: they are retained."),
    Key("landingExpirationDays", "integer >= 1", "30",
        "Days after which objects in the `landing` bucket expire."),
    Key("logRetentionDays", "integer >= 1", "30",
        "Days after which objects in the `logs` bucket (Airflow's task logs) expire; Airflow's local copies "
        "on the compute host are deleted after upload and trimmed after the same number of days."),
    Key("noncurrentVersionExpirationDays", "integer >= 1", "7",
        "Days a replaced or deleted object version in the versioned `warehouse` bucket is kept (dropped Iceberg "
        "snapshots and files free their space after this); lone delete markers are removed too."),
    Key("storageHost", "host name", "(required)",
        "The host that runs the storage plane (MinIO, PostgreSQL, catalogs, MLflow, Superset)."),
    Key("hosts", "map of hosts", "{}", "Existing docker hosts by name (the NAS, a local engine); VMs add theirs."),
    Key("hosts.<name>.address", "IP address or DNS name", "(required)",
        "Address the other hosts, and the machine running Pulumi, use to reach this host."),
    Key("hosts.<name>.dockerHost", "unix://, tcp:// or ssh:// URL", "",
        "Docker endpoint, for a host not reached over SSH (e.g. `unix:///var/run/docker.sock`)."),
    Key("hosts.<name>.memory", "size like `16g`", "",
        "Memory of the host: the memory limits of the containers placed on it must fit in it, less "
        f"{HOST_RESERVE_MB}m for the system and Docker (a VM's is its `memory`)."),
    Key("hosts.<name>.ssh", "object", "", "Reach docker on this host over SSH (`ssh://user@address:port`)."),
    Key("hosts.<name>.ssh.user", "non-empty user name", "(required)", "SSH user allowed to run docker."),
    Key("hosts.<name>.ssh.port", "port 1-65535", "22", "SSH port."),
    Key("hosts.<name>.ssh.options", "list of `Option=value`", "[]",
        "ssh `-o` options, e.g. `StrictHostKeyChecking=accept-new`."),
    Key("computeHosts", "list of host names", "the VMs, else [storageHost]",
        "Hosts of the compute plane: singletons run on the first, workers are spread over all."),
    Key("domain", "DNS domain (lower case, not `.local`)", "",
        "Domain of the web UIs' friendly names: each UI is `<service>.<domain>` at the address of its host (MinIO "
        "console, Trino, Spark master, JupyterLab, MLflow, Superset, Airflow). The stack then exports `uiUrls` "
        "and the lines that make the names resolve: `hostsFile` (for `/etc/hosts`), `dnsmasqConfig` and "
        "`dnsZoneRecords` (BIND) for a split-DNS resolver."),
    Key("proxmoxApiToken", "secret `user@realm!token=uuid`", "(required with `vms`)",
        "Proxmox API token: `pulumi config set --secret lakehouse:proxmoxApiToken 'user@pam!lakehouse=...'`."),
    Key("proxmox", "object", "", "The Proxmox VE cluster the compute VMs run on (required with `vms`)."),
    Key("proxmox.endpoint", "https URL", "(required)", "Proxmox API endpoint, e.g. `https://pve.lan:8006/`."),
    Key("proxmox.insecure", "boolean", "false", "Skip TLS verification (a self-signed Proxmox certificate)."),
    Key("proxmox.node", "node name", "(required)", "Node of VMs that name none."),
    Key("proxmox.sshUser", "user name", "root",
        "SSH user on the nodes (agent authentication); the provider uploads snippets over SSH "
        "(and, with `image.content: iso`, imports the disks)."),
    Key("proxmox.datastores", "object", "", "Datastores by content."),
    Key("proxmox.datastores.images", "datastore id", "local",
        "Holds the cloud image (content `import`, or `iso` with `proxmox.image.content: iso`)."),
    Key("proxmox.datastores.disks", "datastore id", "local-lvm", "Holds the VM disks."),
    Key("proxmox.datastores.snippets", "datastore id", "local", "Holds cloud-init user data (content `snippets`)."),
    Key("proxmox.bridge", "bridge name", "vmbr0", "Bridge of the VMs' virtio network device."),
    Key("proxmox.vlan", "VLAN id 1-4094", "", "VLAN tag of the VMs' network device."),
    Key("proxmox.subnet", "IPv4 CIDR", "(required)", "Subnet of the VMs' static addresses."),
    Key("proxmox.gateway", "IPv4 address", "(required)", "Default gateway of the VMs (inside `subnet`)."),
    Key("proxmox.dns", "list of IPv4 addresses", "[gateway]", "DNS servers of the VMs."),
    Key("proxmox.domain", "DNS domain", "", "Search domain of the VMs."),
    Key("proxmox.vmUser", "user name", "lakehouse",
        "Admin user created in every VM, in the docker group; docker is reached as `ssh://vmUser@ip`."),
    Key("proxmox.sshPublicKeys", "list of SSH public keys", "(required)", "Keys allowed to log in as `vmUser`."),
    Key("proxmox.sshOptions", "list of `Option=value`", "[]",
        "Extra ssh `-o` options of the VMs' docker hosts, e.g. `ControlMaster=auto`. Host keys are pinned by "
        "the stack (`StrictHostKeyChecking`, `UserKnownHostsFile`, `GlobalKnownHostsFile`, `KnownHostsCommand` "
        "cannot be set here)."),
    Key("proxmox.image", "object", "pinned", "The cloud image the VM disks are imported from."),
    Key("proxmox.image.url", "https URL", "pinned", "Cloud image URL."),
    Key("proxmox.image.checksum", "hex digest", "pinned", "Checksum of the image."),
    Key("proxmox.image.algorithm", "sha256 or sha512", "pinned", "Checksum algorithm."),
    Key("proxmox.image.content", "`import` or `iso`", "import",
        "How the image reaches the disks. `import` (PVE 8.4+): stored under the URL's own file name, which must "
        "end in `.qcow2`, `.raw` or `.vmdk`; disks are created with `import_from`, and a new image leaves existing "
        "VMs alone. `iso` (older PVE): stored as `<name>.img` in `iso` content and copied into each disk over "
        "SSH (`file_id`); a new image then replaces the VMs."),
    Key("vms", "list of VMs", "[]", "Compute VMs; each becomes a docker host of the same name."),
    Key("vms.<i>.name", "host name", "(required)", "VM and host name."),
    Key("vms.<i>.node", "node name", "proxmox.node", "Node the VM runs on."),
    Key("vms.<i>.vmId", "integer 100-999999999", "(required)", "Proxmox VM id."),
    Key("vms.<i>.cores", "integer >= 1", "4", "Virtual CPU cores."),
    Key("vms.<i>.memory", "size like `8g`", "8g", "Memory."),
    Key("vms.<i>.diskGb", "integer >= 8", "64", "Size of the system disk."),
    Key("vms.<i>.ip", "IPv4 address (optionally /prefix)", "(required)",
        "Static address inside `proxmox.subnet`: not its network or broadcast address, the gateway or a DNS server."),
    Key("spark", "object", "",
        "How Spark applications (JupyterLab's sessions, the Spark Connect server) size their executors."),
    Key("spark.executorMemory", f"size like `1g`, at least {sizing.MIN_HEAP_MB}m", "1g",
        "Heap of every executor (`spark.executor.memory`). A Spark worker offers its memory less "
        f"{sizing.WORKER_RESERVE_MB}m (the worker JVM, the executor's non-heap, Python workers) and must fit one."),
    Key("spark.executorCores", "integer >= 1", "1",
        "Cores of every executor (`spark.executor.cores`); at most `spark.workerCores`."),
    Key("spark.workerCores", "integer >= 1", "2",
        "Cores each Spark worker offers (`--cores`; unset, a worker would offer every core of its host)."),
    Key("demo", "object", "", "The demo workload (`lakehouse_demo/`): NYC taxi trips from an operational database "
        "through the lakehouse to an ML model and a dashboard."),
    Key("demo.enabled", "boolean", "true",
        "Deploy the demo: the `taxi_source` database, the reference data in `reference/taxi/`, the demo's DAGs and "
        "their connections and packages in Airflow, its notebooks in JupyterLab, its Superset content and analyst "
        "login. `false` leaves a clean platform."),
    Key("demo.tripsPerDay", "integer >= 1", "200",
        "New trips the operational source gets per day of the `taxi_pipeline` DAG (the run's `trips` parameter "
        "by default)."),
    Key("services", "map of services", "{}", "Per-service overrides; names from the service table."),
    Key("services.<name>.host", "host name", "plane default",
        "Host of a single-instance service (storage: `storageHost`, compute: the first compute host; "
        "the Spark Connect server always runs on the Spark master's host)."),
    Key("services.<name>.hosts", "list of host names", "computeHosts",
        "Hosts a scaled service (workers) is spread over, round-robin."),
    Key("services.<name>.replicas", "integer >= 0", "service default",
        "Number of instances of a scaled service (Trino and Spark workers)."),
    Key("services.<name>.image", "image reference", "pinned in the service table",
        "Container image, to move a pin without a code change."),
    Key("services.<name>.memory", "size like `512m` or `2g`", "service default", "Container memory limit."),
    Key("services.<name>.ports.<port>", "port 1-65535", "service default",
        "Published host port of a named container port (compute services use host networking: the port "
        "they listen on; the n-th worker on a host adds n-1)."),
)

_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)([mMgG])$")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
_DOCKER_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
_USER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")
_SSH_OPTION = re.compile(r"^[A-Za-z]+=\S+$")
_IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/:-]*:[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_DOCKER_URL = re.compile(r"^(unix|tcp|ssh|npipe)://\S+$")


@dataclass(frozen=True)
class SshConfig:
    user: str
    port: int
    options: tuple[str, ...]


@dataclass(frozen=True)
class HostConfig:
    """A docker endpoint plus the address other hosts use to reach it."""

    name: str
    address: str
    ssh: Optional[SshConfig]
    docker_host: Optional[str]
    memory_mb: Optional[int] = None  # None: not declared, not checked

    @property
    def publish_address(self) -> Optional[str]:
        """The address published ports bind to: the host's own address when it is an IP (loopback on a
        one-host stack, the LAN address of a NAS), so nothing listens on other interfaces; a host known
        by DNS name only publishes on all of them (None)."""
        return self.address if is_ip(self.address) else None

    @property
    def docker_url(self) -> str:
        if self.ssh is None:
            return self.docker_host  # type: ignore[return-value]
        return f"ssh://{self.ssh.user}@{self.address}:{self.ssh.port}"


@dataclass(frozen=True)
class Instance:
    """One container of a service: its name, its host and its host ports by port name."""

    service: str
    name: str
    host: str
    ports: Mapping[str, int]


@dataclass(frozen=True)
class ServiceConfig:
    """A deployed service: which image, how much memory, and its instances (hosts and ports)."""

    name: str
    image: str
    memory_mb: int
    instances: tuple[Instance, ...]

    @property
    def host(self) -> str:
        return self.instances[0].host

    @property
    def ports(self) -> Mapping[str, int]:
        return self.instances[0].ports


IMAGE_CONTENTS = ("import", "iso")
# What PVE's download-url accepts for `import` content (pve-storage `$UPLOAD_IMPORT_EXT_RE_1`, PVE 8.4+),
# less `.ova`, which is an archive a disk cannot import whole.
IMPORT_DISK_EXTENSIONS = ("qcow2", "raw", "vmdk")


@dataclass(frozen=True)
class CloudImage:
    url: str
    checksum: str
    algorithm: str
    content: str = "import"

    @property
    def file_name(self) -> str:
        """The name the image is stored under on the node.

        `import` content (PVE 8.4+) takes only `.qcow2`, `.raw`, `.vmdk` (and `.ova`) names: the URL's own
        name. `iso` content takes only `.iso` and `.img`: the URL's name with `.img` for its extension.
        """
        name = self.url.rsplit("/", 1)[-1]
        return name if self.content == "import" else f"{name.rsplit('.', 1)[0]}.img"


@dataclass(frozen=True)
class VmConfig:
    name: str
    node: str
    vm_id: int
    cores: int
    memory_mb: int
    disk_gb: int
    ip: str


@dataclass(frozen=True)
class ProxmoxConfig:
    endpoint: str
    api_token: str = field(repr=False)
    insecure: bool
    ssh_user: str
    image_datastore: str
    disk_datastore: str
    snippet_datastore: str
    bridge: str
    vlan: Optional[int]
    subnet: ipaddress.IPv4Network
    gateway: str
    dns: tuple[str, ...]
    domain: str
    vm_user: str
    ssh_public_keys: tuple[str, ...]
    image: CloudImage
    vms: tuple[VmConfig, ...]
    ssh_options: tuple[str, ...] = ()


@dataclass(frozen=True)
class SparkConfig:
    executor_memory_mb: int = 1024
    executor_cores: int = 1
    worker_cores: int = 2


@dataclass(frozen=True)
class DemoConfig:
    enabled: bool = True
    trips_per_day: int = 200


@dataclass(frozen=True)
class LakehouseConfig:
    prefix: str
    region: str
    purge_on_destroy: bool
    landing_expiration_days: int
    noncurrent_expiration_days: int
    log_retention_days: int
    storage_host: str
    compute_hosts: tuple[str, ...]
    hosts: Mapping[str, HostConfig]
    services: Mapping[str, ServiceConfig]
    proxmox: Optional[ProxmoxConfig] = None
    spark: SparkConfig = SparkConfig()
    domain: Optional[str] = None  # friendly names of the web UIs: <service>.<domain>
    demo: DemoConfig = DemoConfig()

    def deploys(self, service: Service) -> bool:
        """Whether the stack deploys this service's storage (a demo service only with the demo)."""
        return self.demo.enabled or not service.demo

    def spark_executor_slots(self) -> int:
        """How many executors the Spark workers can host at once."""
        workers = self.services.get("spark-worker")
        return sizing.executor_slots([workers.memory_mb] * len(workers.instances) if workers else [],
                                     self.spark.worker_cores, self.spark.executor_memory_mb, self.spark.executor_cores)


@dataclass(frozen=True)
class Problem:
    key: str
    value: Any
    expected: str

    def __str__(self) -> str:
        return f"{NAMESPACE}:{self.key} = {self.value!r}: expected {self.expected}"


class ConfigError(ValueError):
    """The stack configuration is invalid; `problems` lists every finding."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid stack configuration ({len(problems)} problems):\n{lines}")


_MISSING = object()


def _fields(section: str) -> frozenset[str]:
    """Field names allowed directly under `section` (e.g. `hosts.<name>`), taken from KEYS."""
    depth = section.count(".") + 1 if section else 0
    names = set()
    for key in KEYS:
        parts = key.path.split(".")
        if len(parts) > depth and ".".join(parts[:depth]) == section:
            names.add(parts[depth])
    return frozenset(names)


def parse_memory_mb(text: str) -> int:
    """`512m` -> 512, `2g` -> 2048, `1.5g` -> 1536."""
    match = _MEMORY.match(text)
    if not match:
        raise ValueError(text)
    amount, unit = float(match.group(1)), match.group(2).lower()
    return int(amount * 1024) if unit == "g" else int(amount)


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_address(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    return is_ip(value) or (bool(_HOSTNAME.match(value)) and not value.replace(".", "").isdigit())


_DOMAIN_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def is_domain(value: Any) -> bool:
    """A lower-case DNS domain that leaves room for `<service>.` in front: no IP address, no mDNS `.local`."""
    if not isinstance(value, str) or not value or len(value) > 240:
        return False
    labels = value.split(".")
    return (all(_DOMAIN_LABEL.match(label) for label in labels) and not labels[-1].isdigit()
            and labels[-1] != "local")


def is_port(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535


class _Parser:
    """Collects problems while reading raw values; `parse` raises them all together at the end."""

    def __init__(self, raw: Mapping[str, Any]):
        self.raw = raw
        self.problems: list[Problem] = []

    def problem(self, key: str, value: Any, expected: str) -> None:
        self.problems.append(Problem(key, value, expected))

    def check(self, key: str, value: Any, ok: Callable[[Any], bool], expected: str) -> Any:
        if value is not _MISSING and not ok(value):
            self.problem(key, value, expected)
            return _MISSING
        return value

    def mapping(self, key: str, value: Any, section: Optional[str] = None) -> dict:
        """A mapping; with `section`, its field names must be documented under it in KEYS."""
        if value is _MISSING or value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(key, value, "a map")
            return {}
        if section is not None:
            allowed = _fields(section)
            for name in sorted(set(value) - allowed):
                self.problem(f"{key}.{name}", value[name],
                             f"one of the known fields: {', '.join(sorted(allowed))}")
        return value

    def top(self, name: str, default: Any = _MISSING) -> Any:
        value = self.raw.get(name, _MISSING)
        if value is _MISSING and default is _MISSING:
            self.problem(name, None, "a value (this key is required)")
        return default if value is _MISSING else value


def _parse_ssh(p: _Parser, key: str, raw: Any) -> Optional[SshConfig]:
    ssh = p.mapping(key, raw, "hosts.<name>.ssh")
    user = p.check(f"{key}.user", ssh.get("user", ""), lambda v: isinstance(v, str) and bool(_USER.match(v)),
                   "a non-empty user name (letters, digits, _ . -)")
    port = p.check(f"{key}.port", ssh.get("port", 22), is_port, "a port number 1-65535")
    options = ssh.get("options", [])
    if not isinstance(options, list):
        p.problem(f"{key}.options", options, "a list of `Option=value` strings")
        options = []
    for i, option in enumerate(options):
        p.check(f"{key}.options[{i}]", option, lambda v: isinstance(v, str) and bool(_SSH_OPTION.match(v)),
                "an ssh option like `StrictHostKeyChecking=accept-new`")
    if _MISSING in (user, port):
        return None
    return SshConfig(user=user, port=port, options=tuple(options))


def _parse_hosts(p: _Parser) -> dict[str, HostConfig]:
    raw_hosts = p.mapping("hosts", p.top("hosts", {}))
    hosts = {}
    for name, raw in raw_hosts.items():
        key = f"hosts.{name}"
        p.check(key, name, lambda v: bool(_DOCKER_NAME.match(v)), "a host name of lower-case letters, digits, _ . -")
        fields = p.mapping(key, raw, "hosts.<name>")
        address = p.check(f"{key}.address", fields.get("address", _MISSING), is_address,
                          "an IP address or a DNS host name")
        if "address" not in fields:
            p.problem(f"{key}.address", None, "an IP address or a DNS host name (required)")
        has_ssh, has_docker = "ssh" in fields, "dockerHost" in fields
        if has_ssh == has_docker:
            p.problem(key, sorted(fields), "exactly one of `ssh` or `dockerHost`")
        ssh = _parse_ssh(p, f"{key}.ssh", fields["ssh"]) if has_ssh else None
        docker_host = p.check(f"{key}.dockerHost", fields.get("dockerHost", _MISSING),
                              lambda v: isinstance(v, str) and bool(_DOCKER_URL.match(v)),
                              "a docker URL like unix:///var/run/docker.sock or tcp://host:2375")
        memory = p.check(f"{key}.memory", fields.get("memory", _MISSING), _is_memory, _MEMORY_SIZE)
        if address is not _MISSING:
            hosts[name] = HostConfig(name=name, address=address, ssh=ssh,
                                     docker_host=None if docker_host is _MISSING else docker_host,
                                     memory_mb=None if memory is _MISSING else parse_memory_mb(memory))
    return hosts


def _check_addresses(p: _Parser, hosts: Mapping[str, HostConfig], vm_hosts: Mapping[str, HostConfig]) -> None:
    addresses: dict[str, str] = {}
    for host in (*hosts.values(), *vm_hosts.values()):
        key = f"vms[{host.name}].ip" if host.name in vm_hosts else f"hosts.{host.name}.address"
        if host.address in addresses:
            p.problem(key, host.address, f"an address not already used by host `{addresses[host.address]}`")
        addresses.setdefault(host.address, host.name)


# Debian 13 generic cloud image; the checksum is Debian's SHA512SUMS entry for this build.
_DEFAULT_IMAGE = CloudImage(
    url="https://cloud.debian.org/images/cloud/trixie/20261001-2618/debian-13-genericcloud-amd64-20261001-2618.qcow2",
    checksum="f46f0671a6e5bdec5291ab8972bae2f10e5408c2f64a74078f11efc2f06a436a9d0313ed50e0472542eeabf780e9f7c792ac0"
             "a314c6c20507fcd9fd81b468c3d",
    algorithm="sha512",
)
_TOKEN = re.compile(r"^[^@\s]+@[^!\s]+![^=\s]+=[0-9a-fA-F-]{36}$")
_SSH_KEY = re.compile(r"^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)|sk-\S+) [A-Za-z0-9+/=]+( .*)?$")
_DATASTORE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_PINNED_SSH_OPTIONS = frozenset({"stricthostkeychecking", "userknownhostsfile", "globalknownhostsfile",
                                 "knownhostscommand"})


def _is_int(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _is_ipv4(value: Any) -> bool:
    try:
        return isinstance(value, str) and isinstance(ipaddress.ip_address(value), ipaddress.IPv4Address)
    except ValueError:
        return False


def _parse_vm(p: _Parser, index: int, raw: Any, default_node: Any, subnet: Any) -> Optional[VmConfig]:
    fields = p.mapping(f"vms[{index}]", raw, "vms.<i>")
    key = f"vms[{index}]"
    name = p.check(f"{key}.name", fields.get("name"), lambda v: isinstance(v, str) and bool(_DOCKER_NAME.match(v)),
                   "a host name of lower-case letters, digits, _ . -")
    node = p.check(f"{key}.node", fields.get("node", default_node), lambda v: isinstance(v, str) and bool(v),
                   "a Proxmox node name")
    vm_id = p.check(f"{key}.vmId", fields.get("vmId"), lambda v: _is_int(v, 100, 999_999_999),
                    "a VM id from 100 to 999999999")
    cores = p.check(f"{key}.cores", fields.get("cores", 4), lambda v: _is_int(v, 1, 512), "a number of cores >= 1")
    memory = p.check(f"{key}.memory", fields.get("memory", "8g"),
                     lambda v: isinstance(v, str) and bool(_MEMORY.match(v)) and parse_memory_mb(v) >= 1024,
                     "a memory size of at least 1g, like `8g`")
    disk = p.check(f"{key}.diskGb", fields.get("diskGb", 64), lambda v: _is_int(v, 8, 65536), "a disk size in GB >= 8")
    raw_ip = fields.get("ip")
    ip = _MISSING
    try:
        interface = ipaddress.ip_interface(raw_ip) if isinstance(raw_ip, str) else None
    except ValueError:
        interface = None
    if interface is None or interface.version != 4:
        p.problem(f"{key}.ip", raw_ip, "an IPv4 address like 192.168.10.31")
    elif isinstance(subnet, ipaddress.IPv4Network) and (
            interface.ip not in subnet or ("/" in raw_ip and interface.network != subnet)
            or interface.ip in (subnet.network_address, subnet.broadcast_address)):
        p.problem(f"{key}.ip", raw_ip, f"a host address inside proxmox.subnet {subnet}")
    else:
        ip = str(interface.ip)
    values = (name, node, vm_id, cores, memory, disk, ip)
    if _MISSING in values or None in values:
        return None
    return VmConfig(name=name, node=node, vm_id=vm_id, cores=cores, memory_mb=parse_memory_mb(memory),
                    disk_gb=disk, ip=ip)


def _parse_proxmox(p: _Parser, hosts: Mapping[str, HostConfig]) -> tuple[Optional[ProxmoxConfig], dict[str, HostConfig]]:
    raw_vms = p.top("vms", [])
    if not isinstance(raw_vms, list):
        p.problem("vms", raw_vms, "a list of VMs")
        raw_vms = []
    if not raw_vms:
        if "proxmox" in p.raw or "proxmoxApiToken" in p.raw:
            p.problem("vms", raw_vms, "at least one VM when `proxmox` is configured")
        return None, {}
    problems_before = len(p.problems)
    px = p.mapping("proxmox", p.top("proxmox"), "proxmox")
    token = p.check("proxmoxApiToken", p.top("proxmoxApiToken", None),
                    lambda v: isinstance(v, str) and bool(_TOKEN.match(v)),
                    "a secret API token `user@realm!tokenid=uuid`, set with "
                    "`pulumi config set --secret lakehouse:proxmoxApiToken ...` (required with vms)")

    def text(key: str, default: Any, ok: Callable[[Any], bool], expected: str) -> Any:
        value = px.get(key, default)
        if value is _MISSING:
            p.problem(f"proxmox.{key}", None, f"{expected} (required)")
            return _MISSING
        return p.check(f"proxmox.{key}", value, ok, expected)

    endpoint = text("endpoint", _MISSING, lambda v: isinstance(v, str) and bool(re.match(r"^https://\S+$", v)),
                    "an https URL like https://pve.lan:8006/")
    insecure = text("insecure", False, lambda v: isinstance(v, bool), "true or false")
    node = text("node", _MISSING, lambda v: isinstance(v, str) and bool(v), "a Proxmox node name")
    ssh_user = text("sshUser", "root", lambda v: isinstance(v, str) and bool(_USER.match(v)), "a user name")
    stores = p.mapping("proxmox.datastores", px.get("datastores"), "proxmox.datastores")
    datastores = {kind: p.check(f"proxmox.datastores.{kind}", stores.get(kind, default),
                                lambda v: isinstance(v, str) and bool(_DATASTORE.match(v)), "a datastore id")
                  for kind, default in (("images", "local"), ("disks", "local-lvm"), ("snippets", "local"))}
    bridge = text("bridge", "vmbr0", lambda v: isinstance(v, str) and bool(_DATASTORE.match(v)), "a bridge name")
    vlan = text("vlan", None, lambda v: v is None or _is_int(v, 1, 4094), "a VLAN id from 1 to 4094")
    try:
        subnet = ipaddress.ip_network(px.get("subnet")) if isinstance(px.get("subnet"), str) else _MISSING
    except ValueError:
        subnet = _MISSING
    if not isinstance(subnet, ipaddress.IPv4Network):
        p.problem("proxmox.subnet", px.get("subnet"), "an IPv4 subnet like 192.168.10.0/24")
        subnet = _MISSING
    gateway = text("gateway", _MISSING, lambda v: _is_ipv4(v) and (subnet is _MISSING
                                                                  or ipaddress.ip_address(v) in subnet),
                   "an IPv4 address inside proxmox.subnet")
    dns = px.get("dns", [gateway] if gateway is not _MISSING else [])
    if not isinstance(dns, list) or not all(_is_ipv4(v) for v in dns):
        p.problem("proxmox.dns", dns, "a list of IPv4 addresses")
    domain = text("domain", "", lambda v: v == "" or is_address(v), "a DNS domain like lan")
    vm_user = text("vmUser", "lakehouse", lambda v: isinstance(v, str) and bool(_USER.match(v)), "a user name")
    keys = px.get("sshPublicKeys")
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and _SSH_KEY.match(k) for k in keys):
        p.problem("proxmox.sshPublicKeys", keys, "a non-empty list of SSH public keys like `ssh-ed25519 AAAA... me`")
    raw_image = p.mapping("proxmox.image", px.get("image"), "proxmox.image")
    image = CloudImage(url=raw_image.get("url", _DEFAULT_IMAGE.url),
                       checksum=raw_image.get("checksum", _DEFAULT_IMAGE.checksum),
                       algorithm=raw_image.get("algorithm", _DEFAULT_IMAGE.algorithm),
                       content=raw_image.get("content", _DEFAULT_IMAGE.content))
    content = p.check("proxmox.image.content", image.content, lambda v: v in IMAGE_CONTENTS,
                      "`import` (PVE 8.4+) or `iso` (older PVE)")
    url = p.check("proxmox.image.url", image.url,
                  lambda v: isinstance(v, str) and bool(re.match(r"^https?://\S+/[^/\s\\]+$", v)),
                  "an http(s) URL of a cloud image")
    if content == "import" and url is not _MISSING:
        p.check("proxmox.image.url", url, lambda v: v.rsplit(".", 1)[-1] in IMPORT_DISK_EXTENSIONS,
                "a URL whose file name ends in "
                f"{', '.join('.' + e for e in IMPORT_DISK_EXTENSIONS)}: PVE stores `import` content only under "
                "those names (or set proxmox.image.content: iso)")
    p.check("proxmox.image.algorithm", image.algorithm, lambda v: v in ("sha256", "sha512"), "sha256 or sha512")
    p.check("proxmox.image.checksum", image.checksum, lambda v: isinstance(v, str) and bool(
        re.fullmatch(r"[0-9a-f]{64}" if image.algorithm == "sha256" else r"[0-9a-f]{128}", v)),
        f"a {image.algorithm} hex digest")

    ssh_options = px.get("sshOptions", [])
    if not isinstance(ssh_options, list):
        p.problem("proxmox.sshOptions", ssh_options, "a list of `Option=value` strings")
        ssh_options = []
    for i, option in enumerate(ssh_options):
        p.check(f"proxmox.sshOptions[{i}]", option,
                lambda v: isinstance(v, str) and bool(_SSH_OPTION.match(v))
                and v.split("=", 1)[0].lower() not in _PINNED_SSH_OPTIONS,
                "an ssh option like `ControlMaster=auto`, other than the host-key options the stack pins "
                "(StrictHostKeyChecking, UserKnownHostsFile, GlobalKnownHostsFile, KnownHostsCommand)")

    vms = [_parse_vm(p, i, raw, node, subnet) for i, raw in enumerate(raw_vms)]
    _check_unique(p, vms, hosts)
    _check_reserved(p, vms, gateway, dns)
    if any(vm is None for vm in vms) or len(p.problems) > problems_before:
        return None, {}
    proxmox = ProxmoxConfig(
        endpoint=endpoint, api_token=token, insecure=insecure, ssh_user=ssh_user,
        image_datastore=datastores["images"], disk_datastore=datastores["disks"],
        snippet_datastore=datastores["snippets"], bridge=bridge, vlan=vlan, subnet=subnet, gateway=gateway,
        dns=tuple(dns), domain=domain, vm_user=vm_user, ssh_public_keys=tuple(keys), image=image, vms=tuple(vms),
        ssh_options=tuple(ssh_options))
    # The stack pins each VM's host key (components/vms/proxmox.py adds the `KnownHostsCommand` that
    # prints it): a re-created VM, or cloud-init running again, must not look like a changed host, and
    # a stale `known_hosts` entry must not either. ssh keeps the first value of an option: these come first.
    ssh = SshConfig(user=vm_user, port=22,
                    options=("StrictHostKeyChecking=yes", "UserKnownHostsFile=/dev/null", *ssh_options))
    return proxmox, {vm.name: HostConfig(name=vm.name, address=vm.ip, ssh=ssh, docker_host=None,
                                         memory_mb=vm.memory_mb) for vm in vms}


def _check_reserved(p: _Parser, vms: list[Optional[VmConfig]], gateway: Any, dns: Any) -> None:
    """A VM must not take the gateway's or a DNS server's address."""
    reserved = {gateway: "proxmox.gateway"} if isinstance(gateway, str) else {}
    for i, server in enumerate(dns if isinstance(dns, list) else []):
        if isinstance(server, str):
            reserved.setdefault(server, f"proxmox.dns[{i}]")
    for index, vm in enumerate(vms):
        if vm is not None and vm.ip in reserved:
            p.problem(f"vms[{index}].ip", vm.ip, f"an address other than {reserved[vm.ip]}")


def _check_unique(p: _Parser, vms: list[Optional[VmConfig]], hosts: Mapping[str, HostConfig]) -> None:
    seen: dict[str, dict[Any, int]] = {"name": {}, "vmId": {}, "ip": {}}
    for index, vm in enumerate(vms):
        if vm is None:
            continue
        for field_name, value in (("name", vm.name), ("vmId", vm.vm_id), ("ip", vm.ip)):
            first = seen[field_name].setdefault(value, index)
            if first != index:
                p.problem(f"vms[{index}].{field_name}", value, f"a value not already used by vms[{first}]")
        if vm.name in hosts:
            p.problem(f"vms[{index}].name", vm.name, f"a name not already used by hosts.{vm.name}")


def _host_names(p: _Parser, key: str, value: Any, hosts: Mapping[str, HostConfig]) -> Any:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        p.problem(key, value, "a non-empty list of host names")
        return _MISSING
    unknown = [v for v in value if v not in hosts]
    if unknown or len(set(value)) != len(value):
        p.problem(key, value, f"distinct configured hosts: {', '.join(sorted(hosts)) or '(none)'}")
        return _MISSING
    return tuple(value)


def _instances(spec: Service, hosts: Sequence[str], replicas: int, base: Mapping[str, int]) -> tuple[Instance, ...]:
    """Singletons: one instance named like the service. Scaled: `<name>-<n>` round-robin over
    `hosts`, starting after the first (where the singletons run, so the first workers go where
    there is room), the k-th instance on a host publishing each base port + k."""
    if spec.replicas is None:
        return (Instance(spec.name, spec.name, hosts[0], MappingProxyType(dict(base))),)
    on_host: dict[str, int] = {}
    instances = []
    for index in range(replicas):
        host = hosts[(index + 1) % len(hosts)]
        offset = on_host.get(host, 0)
        on_host[host] = offset + 1
        ports = {name: port + offset for name, port in base.items()}
        instances.append(Instance(spec.name, f"{spec.name}-{index + 1}", host, MappingProxyType(ports)))
    return tuple(instances)


def _parse_services(p: _Parser, hosts: Mapping[str, HostConfig], storage_host: Any,
                    compute_hosts: Any) -> dict[str, ServiceConfig]:
    overrides = p.mapping("services", p.top("services", {}))
    deployed = sorted(name for name, spec in SERVICES.items() if spec.image is not None)
    for name in sorted(set(overrides) - set(deployed)):
        p.problem(f"services.{name}", overrides[name], f"a known service name: {', '.join(deployed)}")
    services = {}
    placed: list[tuple[str, Instance]] = []
    hosts_of: dict[str, Any] = {}
    for spec in SERVICES.values():
        if spec.image is None:
            continue
        key = f"services.{spec.name}"
        fields = p.mapping(key, overrides.get(spec.name), "services.<name>")
        plane_hosts = (storage_host,) if spec.plane is Plane.STORAGE else compute_hosts
        if spec.replicas is None:
            for scaled in ("hosts", "replicas"):
                if scaled in fields:
                    p.problem(f"{key}.{scaled}", fields[scaled], f"no `{scaled}`: {spec.name} runs once (use `host`)")
            if spec.follows is not None:
                if "host" in fields:
                    p.problem(f"{key}.host", fields["host"], f"no `host`: {spec.name} runs on the host of "
                                                             f"{spec.follows} (set services.{spec.follows}.host)")
                host = hosts_of.get(spec.follows, _MISSING)
            else:
                host = p.check(f"{key}.host", fields.get("host", _first(plane_hosts)), lambda v: v in hosts,
                               f"one of the configured hosts: {', '.join(sorted(hosts)) or '(none)'}")
            hosts_of[spec.name] = host
            placement = _MISSING if host is _MISSING else (host,)
            replicas = 1
        else:
            if "host" in fields:
                p.problem(f"{key}.host", fields["host"], f"`hosts`, a list: {spec.name} is spread over hosts")
            placement = (_host_names(p, f"{key}.hosts", fields["hosts"], hosts) if "hosts" in fields
                         else plane_hosts)
            replicas = p.check(f"{key}.replicas", fields.get("replicas", spec.replicas),
                               lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 100,
                               "a whole number of instances from 0 to 100")
        image = p.check(f"{key}.image", fields.get("image", spec.image),
                        lambda v: isinstance(v, str) and bool(_IMAGE.match(v)),
                        "an image reference with a concrete tag, like minio/minio:RELEASE.2025-01-01T00-00-00Z")
        if spec.tag_pattern and image is not _MISSING:
            image = p.check(f"{key}.image", image, lambda v: bool(re.fullmatch(spec.tag_pattern, v.rsplit(":", 1)[1])),
                            f"a tag like the pinned `{spec.image.rsplit(':', 1)[1]}` (matching `{spec.tag_pattern}`): "
                            f"the program derives versions from it")
        memory = p.check(f"{key}.memory", fields.get("memory", spec.memory), _is_memory, _MEMORY_SIZE)
        raw_ports = p.mapping(f"{key}.ports", fields.get("ports"))
        for port_name in sorted(set(raw_ports) - set(spec.ports)):
            p.problem(f"{key}.ports.{port_name}", raw_ports[port_name],
                      f"a port of {spec.name}: {', '.join(sorted(spec.ports)) or '(none)'}")
        ports = {port_name: p.check(f"{key}.ports.{port_name}", raw_ports.get(port_name, port.published),
                                    is_port, "a port number 1-65535")
                 for port_name, port in spec.ports.items()}
        if _MISSING in (placement, replicas) or _MISSING in placement or _MISSING in ports.values():
            continue
        instances = _instances(spec, placement, replicas, ports)
        placed += [(spec.name, instance) for instance in instances]
        if _MISSING not in (image, memory):
            services[spec.name] = ServiceConfig(name=spec.name, image=image, memory_mb=parse_memory_mb(memory),
                                                instances=instances)
    _check_port_clashes(p, placed)
    _check_memory(p, hosts, services)
    _check_colocated(p, services, "airflow", "spark-connect",
                     "Airflow reaches the Spark Connect server on loopback (`sc://localhost`, the only host its "
                     "client sends the token to without TLS)")
    return services


def _check_colocated(p: _Parser, services: Mapping[str, ServiceConfig], service: str, other: str, why: str) -> None:
    if service in services and other in services and services[service].host != services[other].host:
        p.problem(f"services.{service}.host", services[service].host,
                  f"`{services[other].host}`, the host of {other}: {why}")


def _parse_spark(p: _Parser) -> Optional[SparkConfig]:
    fields = p.mapping("spark", p.top("spark", {}), "spark")
    memory = p.check("spark.executorMemory", fields.get("executorMemory", "1g"),
                     lambda v: isinstance(v, str) and bool(_MEMORY.match(v)) and parse_memory_mb(v) >= sizing.MIN_HEAP_MB,
                     f"a memory size of at least {sizing.MIN_HEAP_MB}m (Spark refuses a smaller executor), like `1g`")
    cores = p.check("spark.executorCores", fields.get("executorCores", 1), lambda v: _is_int(v, 1, 512),
                    "a number of cores >= 1")
    worker_cores = p.check("spark.workerCores", fields.get("workerCores", 2), lambda v: _is_int(v, 1, 512),
                           "a number of cores >= 1")
    if _MISSING in (memory, cores, worker_cores):
        return None
    if cores > worker_cores:
        p.problem("spark.executorCores", cores, f"at most spark.workerCores ({worker_cores}): an executor runs on one worker")
        return None
    return SparkConfig(executor_memory_mb=parse_memory_mb(memory), executor_cores=cores, worker_cores=worker_cores)


def _parse_demo(p: _Parser) -> Optional[DemoConfig]:
    fields = p.mapping("demo", p.top("demo", {}), "demo")
    enabled = p.check("demo.enabled", fields.get("enabled", True), lambda v: isinstance(v, bool), "true or false")
    trips = p.check("demo.tripsPerDay", fields.get("tripsPerDay", 200), lambda v: _is_int(v, 1, 10_000_000),
                    "a whole number of trips >= 1")
    return None if _MISSING in (enabled, trips) else DemoConfig(enabled=enabled, trips_per_day=trips)


def _check_spark(p: _Parser, spark: SparkConfig, services: Mapping[str, ServiceConfig]) -> None:
    """Every worker hosts an executor, the workers host one for JupyterLab and one for the Connect server,
    and both drivers get a heap Spark accepts."""
    executor = spark.executor_memory_mb
    workers = services.get("spark-worker")
    if workers and workers.instances:
        if sizing.executors_per_worker(workers.memory_mb, spark.worker_cores, executor, spark.executor_cores) < 1:
            p.problem("services.spark-worker.memory", f"{workers.memory_mb}m",
                      f"at least {executor + sizing.WORKER_RESERVE_MB}m: a worker offers its memory less "
                      f"{sizing.WORKER_RESERVE_MB}m and must host one executor of spark.executorMemory ({executor}m)")
        else:
            slots = sizing.executor_slots([workers.memory_mb] * len(workers.instances), spark.worker_cores, executor,
                                          spark.executor_cores)
            if slots < 2:
                p.problem("services.spark-worker", f"{len(workers.instances)} x {workers.memory_mb}m",
                          f"workers that together host two executors of {executor}m (one for JupyterLab's sessions, "
                          f"one for the Spark Connect server), not {slots}: more memory or another worker")
    for name, driver_mb, reserve in (("jupyter", sizing.jupyter_driver_mb, sizing.JUPYTER_RESERVE_MB),
                                     ("spark-connect", sizing.connect_driver_mb, sizing.CONNECT_RESERVE_MB)):
        if name in services and driver_mb(services[name].memory_mb) < sizing.MIN_HEAP_MB:
            p.problem(f"services.{name}.memory", f"{services[name].memory_mb}m",
                      f"at least {sizing.MIN_HEAP_MB + reserve}m: the driver's heap is the container less {reserve}m "
                      f"and Spark refuses one under {sizing.MIN_HEAP_MB}m")


def _first(hosts: Any) -> Any:
    return _MISSING if hosts is _MISSING or _MISSING in hosts else hosts[0]


def host_memory_mb(services: Mapping[str, ServiceConfig]) -> dict[str, int]:
    """The sum of the memory limits of the long-running containers on each host."""
    used: dict[str, int] = {}
    for service in services.values():
        for instance in service.instances:
            used[instance.host] = used.get(instance.host, 0) + service.memory_mb * SERVICES[service.name].containers
    return used


def _check_memory(p: _Parser, hosts: Mapping[str, HostConfig], services: Mapping[str, ServiceConfig]) -> None:
    """Every host that declares its memory holds its containers' limits, less what it keeps for itself.
    (One-shot jobs run before the services they gate, within a service's limit, and are not counted.)"""
    for host, used in sorted(host_memory_mb(services).items()):
        memory = hosts[host].memory_mb
        if memory is not None and used > memory - HOST_RESERVE_MB:
            placed = ", ".join(f"{i.name} {s.memory_mb * SERVICES[s.name].containers}m"
                               for s in services.values() for i in s.instances if i.host == host)
            p.problem(f"hosts.{host}.memory", f"{memory}m",
                      f"room for the containers placed on it: {used}m of limits ({placed}) + {HOST_RESERVE_MB}m "
                      f"for the system; lower `services.<name>.memory`, move services or add memory")


def _check_port_clashes(p: _Parser, placed: list[tuple[str, Instance]]) -> None:
    """No two instances may publish the same port on one host."""
    taken: dict[tuple[str, int], str] = {}
    for service, instance in placed:
        for port_name, port in instance.ports.items():
            owner = taken.setdefault((instance.host, port), f"{instance.name}.{port_name}")
            if owner != f"{instance.name}.{port_name}":
                p.problem(f"services.{service}.ports.{port_name}", port,
                          f"a port not already published on host `{instance.host}` by {owner}")


def parse(raw: Mapping[str, Any]) -> LakehouseConfig:
    """Parse decoded `lakehouse:*` values (key without namespace -> value) or raise ConfigError."""
    p = _Parser(raw)
    for name in sorted(set(raw) - _fields("")):
        p.problem(name, raw[name], f"a known key: {', '.join(sorted(_fields('')))}")
    prefix = p.check("prefix", p.top("prefix", "lakehouse"), lambda v: isinstance(v, str) and bool(_DOCKER_NAME.match(v)),
                     "a docker name of lower-case letters, digits, _ . -")
    region = p.check("region", p.top("region", "us-east-1"), lambda v: isinstance(v, str) and bool(v.strip()),
                     "a non-empty region name like us-east-1")
    purge = p.check("purgeOnDestroy", p.top("purgeOnDestroy", False), lambda v: isinstance(v, bool), "true or false")
    expiration = p.check("landingExpirationDays", p.top("landingExpirationDays", 30), _is_days, _DAYS)
    log_retention = p.check("logRetentionDays", p.top("logRetentionDays", 30), _is_days, _DAYS)
    noncurrent = p.check("noncurrentVersionExpirationDays", p.top("noncurrentVersionExpirationDays", 7),
                         _is_days, _DAYS)
    domain = p.check("domain", p.top("domain", None), lambda v: v is None or is_domain(v),
                     "a lower-case DNS domain like `lakehouse.lan` or `home.arpa` (labels of a-z, 0-9 and -; "
                     "not `.local`, which belongs to mDNS)")
    fixed_hosts = _parse_hosts(p)
    proxmox, vm_hosts = _parse_proxmox(p, fixed_hosts)
    _check_addresses(p, fixed_hosts, vm_hosts)
    hosts = {**fixed_hosts, **vm_hosts}
    if not hosts:
        p.problem("hosts", p.raw.get("hosts"), "at least one host (or a VM)")
    storage_host = p.check("storageHost", p.top("storageHost"), lambda v: v in fixed_hosts,
                           f"one of the configured hosts: {', '.join(sorted(fixed_hosts)) or '(none)'}")
    if "computeHosts" in p.raw:
        compute_hosts = _host_names(p, "computeHosts", p.raw["computeHosts"], hosts)
    else:
        compute_hosts = tuple(vm_hosts) or (storage_host,)
    services = _parse_services(p, hosts, storage_host, compute_hosts)
    spark = _parse_spark(p)
    if spark is not None:
        _check_spark(p, spark, services)
    demo = _parse_demo(p)
    if p.problems:
        raise ConfigError(p.problems)
    return LakehouseConfig(prefix=prefix, region=region, purge_on_destroy=purge, landing_expiration_days=expiration,
                           noncurrent_expiration_days=noncurrent, log_retention_days=log_retention,
                           storage_host=storage_host, compute_hosts=compute_hosts, hosts=MappingProxyType(hosts),
                           services=MappingProxyType(services), proxmox=proxmox, spark=spark,
                           domain=domain, demo=demo)


_DAYS = "a whole number of days >= 1"
_MEMORY_SIZE = "a memory size of at least 64m, like `512m` or `2g`"


def _is_memory(value: Any) -> bool:
    return isinstance(value, str) and bool(_MEMORY.match(value)) and parse_memory_mb(value) >= 64


def _is_days(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _decode(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def load() -> LakehouseConfig:
    """Read every `lakehouse:*` key the stack sets (known or not) and parse them."""
    from pulumi.runtime import config as runtime_config

    keys = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    raw = {}
    for key in keys:
        namespace, _, name = key.partition(":")
        if namespace == NAMESPACE:
            raw[name] = _decode(runtime_config.get_config(key))
    return parse(raw)


def reference_markdown() -> str:
    """The README's configuration reference table, rendered from KEYS."""
    rows = ["| key | expected | default | meaning |", "| --- | --- | --- | --- |"]
    rows += [f"| `{NAMESPACE}:{k.path}` | {k.expected} | {k.default or '-'} | {k.description} |" for k in KEYS]
    return "\n".join(rows) + "\n"
