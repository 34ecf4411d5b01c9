"""Compute VMs on Proxmox VE: cloud image, cloud-init, VM, and a gate until Docker answers.

Per node the pinned cloud image is downloaded once (`download.File`, checksum-verified by
Proxmox). With `proxmox.image.content: import` (PVE 8.4+) it keeps the URL's own file name (a
`.qcow2`) in `import` content and each disk is created from it with `import_from`; with `iso`
(older PVE) it is stored as `<name>.img` in `iso` content and the provider copies it into each
disk over SSH (`file_id`). Per VM, cloud-init user data is uploaded as a snippet with a stable
file name, the VM (`VmLegacy`) gets its disk from the image, and a remote command waits until
cloud-init is done and Docker answers the VM user. The VM's docker provider depends on that
command, so no container is created on a VM that is not ready.

Host keys are pinned: each VM's ed25519 host key is derived from a secret `RandomBytes` seed,
installed by cloud-init (`ssh_keys`) and checked by the ready gate (`host_key`) and by the VM's
docker host (a `KnownHostsCommand` that prints it; no `known_hosts` file is read). A re-created
VM, or cloud-init running again, presents the same key. The private key is part of the user
data, which is therefore secret in the state; on the node it is as readable as any snippet.

What replaces a VM: its id, its node, the snippet's volume id (prefix, VM name, snippets
datastore) and, with `iso` content, the image (the disk's `file_id`). VMs are replaced
delete-before-replace (the id is fixed and cluster-wide, the address static) and the ready gate
is replaced with its VM. A replaced VM comes back empty: run `pulumi up --refresh` once more so
the containers, images and networks recorded on it are created again. Everything else changes in
place: cores, memory, disk size and datastore (the disk is moved), the network device, and the
address, gateway and DNS (PVE rewrites the cloud-init drive). A new image with `import` content
leaves existing VMs alone: `import_from` is only read when a disk is created.

User data: an edit (keys, packages) replaces the snippet under the same name, never the VM. PVE
rebuilds the cloud-init drive each time it starts a VM, and the NoCloud instance-id is a hash of
the user and network data: at the next start by Proxmox (stop and start, `qm reboot`, the node
booting) cloud-init sees a new instance and runs its per-instance modules again (user and keys,
packages, runcmd, and the host keys: the pinned ones). A reboot from inside the guest does not.
The VM names the snippet and the image by their volume ids as plain strings (and depends on
them), so a preview of a user-data edit shows what `up` does: the snippet replaced, the VM not.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass
from typing import Sequence

import pulumi
import pulumi_command as command
import pulumi_proxmoxve as proxmoxve
import pulumi_random as random
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from components.platform.config import ProxmoxConfig, VmConfig

READY_TIMEOUT_SECONDS = 900
IMAGE_DOWNLOAD_TIMEOUT_SECONDS = 1800


@dataclass(frozen=True)
class HostKey:
    """An SSH host key pair: the OpenSSH private key file and the public key `ssh-ed25519 <base64>`."""

    private_openssh: str
    public_openssh: str


def _ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def ed25519_host_key(seed: bytes) -> HostKey:
    """The ed25519 key pair of a 32-byte seed in OpenSSH formats; the same seed gives the same text.

    The private key is written in the unencrypted `openssh-key-v1` format (OpenSSH PROTOCOL.key). Its
    check integers only detect a wrong passphrase; they are derived from the key, not random, so the
    user data does not change from one run to the next.
    """
    if len(seed) != 32:
        raise ValueError(f"an ed25519 seed has 32 bytes, not {len(seed)}")
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    public_blob = _ssh_string(b"ssh-ed25519") + _ssh_string(public)
    check = hashlib.sha256(public_blob).digest()[:4]
    private = check + check + public_blob + _ssh_string(seed + public) + _ssh_string(b"")
    private += bytes(range(1, 1 + (-len(private)) % 8))
    body = (b"openssh-key-v1\0" + _ssh_string(b"none") + _ssh_string(b"none") + _ssh_string(b"")
            + struct.pack(">I", 1) + _ssh_string(public_blob) + _ssh_string(private))
    encoded = base64.b64encode(body).decode()
    lines = [encoded[i:i + 70] for i in range(0, len(encoded), 70)]
    return HostKey(
        private_openssh="-----BEGIN OPENSSH PRIVATE KEY-----\n" + "\n".join(lines)
                        + "\n-----END OPENSSH PRIVATE KEY-----\n",
        public_openssh=f"ssh-ed25519 {base64.b64encode(public_blob).decode()}",
    )


def known_hosts_command(address: str, public_key: str) -> str:
    """The ssh option that trusts `public_key` for `address`: ssh runs the command and reads its output
    as `known_hosts` lines (OpenSSH 8.5+). The command is run without a shell; the key has no `%`."""
    return f"KnownHostsCommand=/bin/echo {address} {public_key}"


def volume_id(datastore: str, content: str, file_name: str) -> str:
    """A file's volume id on a node, as the provider reports it for the file (`local:snippets/x.yaml`)."""
    return f"{datastore}:{content}/{file_name}"


def cloud_init(hostname: str, user: str, ssh_keys: Sequence[str], host_key: HostKey) -> str:
    """User data: the admin user with its keys, the pinned host key, Docker and the guest agent running."""
    document = {
        "hostname": hostname,
        "manage_etc_hosts": True,
        "users": [{
            "name": user,
            "shell": "/bin/bash",
            "sudo": "ALL=(ALL) NOPASSWD:ALL",
            "lock_passwd": True,
            "ssh_authorized_keys": list(ssh_keys),
        }],
        # The image's host keys are deleted and only this one is written, on every run of the module.
        "ssh_deletekeys": True,
        "ssh_keys": {"ed25519_private": host_key.private_openssh, "ed25519_public": host_key.public_openssh},
        "package_update": True,
        "packages": ["qemu-guest-agent", "docker.io", "ca-certificates"],
        "runcmd": [
            ["usermod", "-aG", "docker", user],
            ["systemctl", "enable", "--now", "qemu-guest-agent"],
            ["systemctl", "enable", "--now", "docker"],
        ],
    }
    return "#cloud-config\n" + yaml.safe_dump(document, sort_keys=False)


def ready_script(user: str, timeout: int = READY_TIMEOUT_SECONDS) -> str:
    """Wait for cloud-init (bounded), then require a Docker daemon that answers `user` without root.

    The docker provider runs `docker` as `user` through its `docker` group. This session may have
    started before cloud-init added the user to that group, so the check runs in a new process of
    the user with the groups it has now (`sudo -u` sets them from the group database, as a new SSH
    login does); a missing membership fails the gate instead of the first container.
    """
    return (f"timeout {timeout} cloud-init status --wait >/dev/null; "
            f"if [ $? -eq 124 ]; then echo 'cloud-init did not finish in {timeout}s' >&2; exit 1; fi; "
            f"sudo -n -u {user} docker version --format '{{{{.Server.Version}}}}'")


@dataclass(frozen=True)
class ComputeVmsArgs:
    proxmox: ProxmoxConfig
    prefix: str


class ComputeVms(pulumi.ComponentResource):
    """The compute VMs. `ready[name]` is the gate each VM's docker provider depends on, and
    `ssh_options[name]` the ssh options its docker host adds to trust the VM's pinned host key."""

    def __init__(self, name: str, args: ComputeVmsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:proxmox:ComputeVms", name, None, opts)
        px = args.proxmox
        self._args = args
        self._name = name
        self.provider = proxmoxve.Provider(
            f"{name}-proxmox",
            endpoint=px.endpoint,
            api_token=pulumi.Output.secret(px.api_token),
            insecure=px.insecure,
            ssh=proxmoxve.ProviderSshArgs(username=px.ssh_user, agent=True),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.command_provider = command.Provider(f"{name}-command", opts=pulumi.ResourceOptions(parent=self))
        self.images = {node: self._image(node) for node in sorted({vm.node for vm in px.vms})}
        host_keys = {vm.name: self._host_key(vm) for vm in px.vms}
        # The public half is not secret: it is what the VM shows every client.
        self.host_keys = {n: pulumi.Output.unsecret(k.apply(lambda key: key.public_openssh))
                          for n, k in host_keys.items()}
        self.vms = {vm.name: self._vm(vm, host_keys[vm.name]) for vm in px.vms}
        self.ready = {vm.name: self._ready(vm, self.vms[vm.name]) for vm in px.vms}
        self.ssh_options = {
            vm.name: [self.host_keys[vm.name].apply(lambda key, ip=vm.ip: known_hosts_command(ip, key))]
            for vm in px.vms}
        self.register_outputs({"vms": {n: vm.vm_id for n, vm in self.vms.items()}, "hostKeys": self.host_keys})

    def _on_proxmox(self, **extra) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self.provider, **extra)

    def _image(self, node: str) -> proxmoxve.download.File:
        image = self._args.proxmox.image
        return proxmoxve.download.File(
            f"{self._name}-image-{node}",
            content_type=image.content,
            datastore_id=self._args.proxmox.image_datastore,
            node_name=node,
            url=image.url,
            file_name=image.file_name,
            checksum=image.checksum,
            checksum_algorithm=image.algorithm,
            overwrite=False,
            upload_timeout=IMAGE_DOWNLOAD_TIMEOUT_SECONDS,
            # A new checksum keeps the file name: the old file must go first, or PVE finds it exists.
            opts=self._on_proxmox(delete_before_replace=True),
        )

    def _host_key(self, vm: VmConfig) -> pulumi.Output[HostKey]:
        """The VM's host key pair, secret; its seed outlives any replacement of the VM."""
        seed = random.RandomBytes(f"{self._name}-{vm.name}-host-key", length=32,
                                  opts=pulumi.ResourceOptions(parent=self))
        return pulumi.Output.secret(seed.base64.apply(lambda b64: ed25519_host_key(base64.b64decode(b64))))

    def _vm(self, vm: VmConfig, host_key: pulumi.Output[HostKey]) -> proxmoxve.VmLegacy:
        px = self._args.proxmox
        file_name = f"{self._args.prefix}-{vm.name}-user-data.yaml"
        snippet = proxmoxve.FileLegacy(
            f"{self._name}-{vm.name}-user-data",
            content_type="snippets",
            datastore_id=px.snippet_datastore,
            node_name=vm.node,
            source_raw=proxmoxve.FileLegacySourceRawArgs(
                data=pulumi.Output.secret(host_key.apply(
                    lambda key: cloud_init(vm.name, px.vm_user, px.ssh_public_keys, key))),
                file_name=file_name,
            ),
            # Same file name: the old snippet must go before the new one is written.
            opts=self._on_proxmox(delete_before_replace=True),
        )
        image = self.images[vm.node]
        image_id = volume_id(px.image_datastore, px.image.content, px.image.file_name)
        source = dict(import_from=image_id) if px.image.content == "import" else dict(file_id=image_id)
        return proxmoxve.VmLegacy(
            f"{self._name}-{vm.name}",
            name=vm.name,
            node_name=vm.node,
            vm_id=vm.vm_id,
            cpu=proxmoxve.VmLegacyCpuArgs(cores=vm.cores, type="host"),
            memory=proxmoxve.VmLegacyMemoryArgs(dedicated=vm.memory_mb),
            agent=proxmoxve.VmLegacyAgentArgs(enabled=True),
            operating_system=proxmoxve.VmLegacyOperatingSystemArgs(type="l26"),
            disks=[proxmoxve.VmLegacyDiskArgs(
                interface="virtio0", datastore_id=px.disk_datastore, size=vm.disk_gb, discard="on", iothread=True,
                **source,
            )],
            network_devices=[proxmoxve.VmLegacyNetworkDeviceArgs(bridge=px.bridge, model="virtio", vlan_id=px.vlan)],
            serial_devices=[proxmoxve.VmLegacySerialDeviceArgs(device="socket")],
            initialization=proxmoxve.VmLegacyInitializationArgs(
                datastore_id=px.disk_datastore,
                ip_configs=[proxmoxve.VmLegacyInitializationIpConfigArgs(
                    ipv4=proxmoxve.VmLegacyInitializationIpConfigIpv4Args(
                        address=f"{vm.ip}/{px.subnet.prefixlen}", gateway=px.gateway))],
                dns=proxmoxve.VmLegacyInitializationDnsArgs(servers=list(px.dns), domain=px.domain or None),
                user_data_file_id=volume_id(px.snippet_datastore, "snippets", file_name),
            ),
            started=True,
            on_boot=True,
            stop_on_destroy=True,
            # The volume ids are known strings, not the files' `id` outputs: a replaced snippet or image
            # (same name, new content) would otherwise make the preview, and the delete-before-replace
            # check, treat `user_data_file_id` / `file_id` as unknown, which forces a new VM. `depends_on`
            # keeps the order. The VM itself has a fixed id and address: the old one must go first.
            opts=self._on_proxmox(delete_before_replace=True, depends_on=[image, snippet]),
        )

    def _ready(self, vm: VmConfig, machine: proxmoxve.VmLegacy) -> command.remote.Command:
        return command.remote.Command(
            f"{self._name}-{vm.name}-ready",
            connection=command.remote.ConnectionArgs(
                host=vm.ip, user=self._args.proxmox.vm_user, host_key=self.host_keys[vm.name],
                dial_error_limit=60, per_dial_timeout=10),
            create=ready_script(self._args.proxmox.vm_user),
            # A replaced VM keeps its id (the Command's only link to it): replace the gate with it.
            opts=pulumi.ResourceOptions(parent=self, provider=self.command_provider, depends_on=[machine],
                                        replace_with=[machine]),
        )
