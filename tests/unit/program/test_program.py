"""Every shipped stack evaluates, validates against the provider schemas and follows the house rules."""

from __future__ import annotations

import re

from harness import StackRun
from schema_validator import Registry, validate_resource

CONTAINER = "docker:index/container:Container"
EXPLICIT_PROVIDER_PACKAGES = ("docker", "minio", "postgresql", "proxmoxve")


def test_every_resource_validates_against_its_provider_schema(stack_run: StackRun, registry: Registry):
    problems = [problem
                for resource in stack_run.resources if registry.knows(resource.type)
                for problem in validate_resource(registry, resource.type, resource.inputs)]
    assert problems == []


def test_only_schema_packages_and_lakehouse_components_are_registered(stack_run: StackRun, registry: Registry):
    unknown = {r.type for r in stack_run.resources if not registry.knows(r.type)}
    assert all(t.startswith("lakehouse:") for t in unknown), unknown


def test_components_use_namespaced_tokens_and_own_their_children(stack_run: StackRun):
    components = [r for r in stack_run.resources if not r.custom]
    assert components
    for component in components:
        assert re.fullmatch(r"lakehouse:[a-z]+:[A-Z][A-Za-z]+", component.type), component.type
    component_urns = {c.urn for c in components}
    for resource in stack_run.resources:
        if resource.custom:
            assert resource.parent in component_urns, f"{resource.name} is not a component's child"


def test_default_providers_are_disabled_and_every_resource_names_its_provider(stack_run: StackRun):
    from harness import stack_config

    assert set(stack_config(stack_run.stack)["pulumi:disable-default-providers"]) >= set(EXPLICIT_PROVIDER_PACKAGES)
    for resource in stack_run.resources:
        if resource.custom and resource.type.split(":")[0] in EXPLICIT_PROVIDER_PACKAGES:
            assert resource.provider, f"{resource.type} {resource.name} uses a default provider"
            assert stack_run.by_urn(resource.provider).type == f"pulumi:providers:{resource.type.split(':')[0]}"


def test_resource_names_are_unique(stack_run: StackRun):
    urns = [r.urn for r in stack_run.resources]
    assert len(urns) == len(set(urns))


def test_containers_are_pinned_healthy_limited_and_restarted(stack_run: StackRun):
    containers = stack_run.of_type(CONTAINER)
    assert containers
    images = {r.urn: r for r in stack_run.of_type("docker:index/remoteImage:RemoteImage")}
    for container in containers:
        inputs = container.inputs
        image_urns = container.property_dependencies["image"]
        assert len(image_urns) == 1 and image_urns[0] in images, "image must be a RemoteImage's image_id"
        image = images[image_urns[0]]
        assert inputs["image"] == image.outputs["imageId"]
        assert re.search(r":[^:/]+$", image.inputs["name"]) and not image.inputs["name"].endswith(":latest")
        assert image.provider == container.provider, "the image is pulled on the container's host"
        assert inputs["memory"] > 0
        assert container.delete_before_replace, "fixed names and host ports need delete_before_replace"
        if inputs.get("attach"):
            assert inputs["mustRun"] is False and inputs["restart"] == "no", "one-shot jobs run to completion"
            continue
        assert inputs["healthcheck"]["tests"][0] == "CMD" and len(inputs["healthcheck"]["tests"]) > 1
        assert inputs["restart"] == "unless-stopped"
        assert inputs["wait"] is True and 0 < inputs["waitTimeout"] <= 600


def test_each_image_is_pulled_once_per_host(stack_run: StackRun):
    pulls = [(r.provider, r.inputs["name"]) for r in stack_run.of_type("docker:index/remoteImage:RemoteImage")]
    assert len(pulls) == len(set(pulls))


def _keys(value, path=""):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _keys(inner, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _keys(inner, f"{path}[{index}]")
    else:
        yield path, value


def test_stack_files_hold_no_plaintext_secret(stack_run: StackRun):
    from harness import stack_config

    secretish = re.compile(r"(password|secret|token|key)(?!s\b)", re.IGNORECASE)
    found = [(path, value) for path, value in _keys(stack_config(stack_run.stack))
             if secretish.search(path.rsplit(".", 1)[-1]) and value is not None]
    assert found == [], "set secrets with `pulumi config set --secret`, or let the stack generate them"
