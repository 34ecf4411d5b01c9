"""Docker hosts: one explicit docker provider, one shared bridge network and one pull per image per host."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Sequence

import pulumi
import pulumi_docker as docker

from components.platform.config import HostConfig


def ssh_opts(options: Sequence[pulumi.Input[str]]) -> list[pulumi.Input[str]]:
    """`["StrictHostKeyChecking=accept-new"]` -> `["-o", "StrictHostKeyChecking=accept-new"]`."""
    return [arg for option in options for arg in ("-o", option)]


def image_slug(reference: str) -> str:
    """A resource name for an image: its last path segment, plus a short hash of the whole
    reference when the segment alone could be another registry's or owner's image."""
    slug = re.sub(r"[^a-z0-9]+", "-", reference.rsplit("/", 1)[-1].lower()).strip("-")
    if "/" not in reference:  # an official library image: nothing else shortens to this
        return slug
    return f"{slug}-{hashlib.sha256(reference.encode()).hexdigest()[:8]}"


@dataclass(frozen=True)
class DockerHostArgs:
    host: HostConfig
    network_name: str
    ready: Sequence[pulumi.Resource] = ()
    # ssh options known only from resources (a VM's pinned host key), after the configured ones.
    ssh_options: Sequence[pulumi.Input[str]] = ()


class DockerHost(pulumi.ComponentResource):
    """A docker endpoint (local socket or `ssh://user@address`) and the network its services share."""

    def __init__(self, name: str, args: DockerHostArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:hosts:DockerHost", name, None, opts)
        self.config = args.host
        ssh = args.host.ssh
        self.provider = docker.Provider(
            f"{name}-docker",
            host=args.host.docker_url,
            ssh_opts=ssh_opts([*ssh.options, *args.ssh_options]) if ssh else None,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.ready)),
        )
        self.network = docker.Network(
            f"{name}-network",
            name=args.network_name,
            driver="bridge",
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider, delete_before_replace=True),
        )
        self._name = name
        self._images: dict[str, docker.RemoteImage] = {}
        self.register_outputs({"dockerUrl": args.host.docker_url, "network": self.network.name})

    def image(self, reference: str) -> docker.RemoteImage:
        """The pinned image, pulled once on this host however many containers run it."""
        if reference not in self._images:
            self._images[reference] = docker.RemoteImage(
                f"{self._name}-image-{image_slug(reference)}", name=reference, keep_locally=True,
                opts=pulumi.ResourceOptions(parent=self, provider=self.provider))
        return self._images[reference]
