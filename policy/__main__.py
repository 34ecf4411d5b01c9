"""The lakehouse policy pack: `pulumi preview --policy-pack policy` (CI passes it on every preview and up).

The rules import the repository's own service table and configuration parser, so this folder puts
the repository root (its parent) on `sys.path` first: the pack must run from a checkout of the
whole repository, next to the program it checks. Its virtualenv (`policy/venv`, created by the CLI
from requirements.txt) needs only `pulumi` and `pulumi-policy`; `components.platform.config` and
`components.platform.services` import nothing else.
"""

import functools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack  # noqa: E402

from components.platform.config import load  # noqa: E402
from lakehouse_policy import policies  # noqa: E402

# The engine hands the pack the stack's configuration (decrypted) in PULUMI_CONFIG: the same
# `lakehouse:*` keys the program parses, read once, when a rule first needs them.
PolicyPack(name="lakehouse", policies=policies(functools.cache(load)))
