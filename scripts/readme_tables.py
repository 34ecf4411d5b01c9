"""Print the README's generated tables, or rewrite them in README.md with --write.

The configuration reference comes from `components.platform.config.KEYS`, the bucket and access tables
from the service table, the architecture diagram from the service table and the homelab stack's
placement; tests/unit/program/test_readme.py fails when the README's copies differ.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from components.platform.config import NAMESPACE, parse, reference_markdown  # noqa: E402
from components.platform.diagram import mermaid  # noqa: E402
from components.platform.services import access_markdown, buckets_markdown  # noqa: E402

# The token is set with `pulumi config set --secret`, never in the stack file; the diagram shows no secret.
_PLACEHOLDER_TOKEN = "readme@pve!diagram=00000000-0000-0000-0000-000000000000"


def architecture_markdown() -> str:
    """The homelab stack's hosts, services, ports, grants and databases as a Mermaid flowchart."""
    config = yaml.safe_load((ROOT / "Pulumi.homelab.yaml").read_text())["config"]
    raw = {key.split(":", 1)[1]: value for key, value in config.items() if key.startswith(f"{NAMESPACE}:")}
    return mermaid(parse({"proxmoxApiToken": _PLACEHOLDER_TOKEN, **raw}))


SECTIONS = {"config-reference": reference_markdown, "buckets": buckets_markdown, "access": access_markdown,
            "architecture": architecture_markdown}


def markers(section: str) -> tuple[str, str]:
    return f"<!-- {section}:start -->\n", f"<!-- {section}:end -->"


def generated(text: str, section: str) -> str:
    """The README's current copy of a generated section."""
    start, end = markers(section)
    return text.split(start)[1].split(end)[0]


def readme_with_sections(text: str) -> str:
    for section, render in SECTIONS.items():
        start, end = markers(section)
        head, _, rest = text.partition(start)
        _, _, tail = rest.partition(end)
        text = f"{head}{start}{render()}{end}{tail}"
    return text


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        readme = ROOT / "README.md"
        readme.write_text(readme_with_sections(readme.read_text()))
    else:
        for render in SECTIONS.values():
            print(render())
