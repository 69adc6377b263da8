"""Copies the committed results into the README, so a quoted figure is never typed by hand.

For every `results/NAME.txt`, the first fenced block after the README's first mention of
`results/NAME.txt` becomes the file's text; for every `results/RUN/compare.md`, the first Markdown
table after its first mention becomes the file's table.  `tests/test_readme.py` checks the result.

    python docs/quote_results.py           rewrite README.md
    python docs/quote_results.py --check   exit 1 if a quote is out of date
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
FENCED = re.compile(r"```[^\n]*\n(?:```|.*?\n```)", re.S)  # an empty block too: a new quote starts as one
TABLE = re.compile(r"(?:^\|.*\|\n)+", re.M)


def replace_after(text: str, mention: str, pattern: re.Pattern, new: str) -> str:
    at = text.find(mention)
    if at < 0:
        return text
    found = pattern.search(text, at)
    return text if not found else text[:found.start()] + new + text[found.end():]


def quoted(text: str) -> str:
    for output in sorted((REPO / "results").glob("*.txt")):
        if output.name == "deliberate_breaks.txt":  # linked, not quoted
            continue
        text = replace_after(text, f"`results/{output.name}`", FENCED, f"```\n{output.read_text().strip()}\n```")
    for table in sorted((REPO / "results").glob("*/compare.md")):
        for mention in (f"`results/{table.parent.name}/compare.", f"<code>results/{table.parent.name}/compare."):
            text = replace_after(text, mention, TABLE, table.read_text().strip() + "\n")
    return text


def main() -> None:
    old = README.read_text()
    new = quoted(old)
    if "--check" in sys.argv[1:]:
        sys.exit(0 if new == old else "README.md quotes results that changed: run python docs/quote_results.py")
    README.write_text(new)


if __name__ == "__main__":
    main()
