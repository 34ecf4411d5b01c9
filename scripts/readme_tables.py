"""Print the README's generated tables, or rewrite them in README.md with --write.

The configuration reference comes from `components.platform.config.KEYS`, the bucket and access tables
from the service table; tests/test_readme.py fails when the README's copies differ.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from components.platform.config import reference_markdown  # noqa: E402
from components.platform.services import access_markdown, buckets_markdown  # noqa: E402

SECTIONS = {"config-reference": reference_markdown, "buckets": buckets_markdown, "access": access_markdown}


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
