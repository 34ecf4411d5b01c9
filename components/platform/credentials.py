"""Generated credentials: random, URL-safe (no special characters, so they fit URIs and JDBC URLs)."""

from __future__ import annotations

import pulumi
import pulumi_random as random


def generated_password(name: str, parent: pulumi.Resource, length: int = 32) -> random.RandomPassword:
    """A password whose `result` is secret wherever it flows."""
    return random.RandomPassword(name, length=length, special=False, opts=pulumi.ResourceOptions(parent=parent))
