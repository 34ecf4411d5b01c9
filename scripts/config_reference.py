"""Print the configuration reference table, or rewrite it in README.md with --write.

The table is rendered from `components.config.KEYS`; tests/test_readme.py fails when the
README's copy differs.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from components.config import reference_markdown  # noqa: E402

START, END = "<!-- config-reference:start -->\n", "<!-- config-reference:end -->"


def readme_with_reference(text: str) -> str:
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}{reference_markdown()}{END}{tail}"


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        readme = ROOT / "README.md"
        readme.write_text(readme_with_reference(readme.read_text()))
    else:
        print(reference_markdown(), end="")
