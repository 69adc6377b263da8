"""Copies the committed results into the README and docs/results.md, so a quoted figure is never typed by hand.

A page asks for a quote with a marker line, `<!-- quote: results/NAME.txt -->` or
`<!-- quote: results/RUN/compare.md -->`; the fenced block (for .txt) or Markdown table (for .md)
right after the marker becomes the file's text, and a marker with nothing after it gets one.
`tests/test_readme.py` checks that the pages are current and that every result is quoted somewhere.

    python docs/quote_results.py           rewrite the pages
    python docs/quote_results.py --check   exit 1 if a quote is out of date or names a missing file
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGES = (REPO / "README.md", REPO / "docs" / "results.md")
# The marker, then what it quotes now: a fenced block, a table, or nothing yet.  The block's body is
# optional and tried empty first (`??`): an empty block must not run on to the next page's fence.
QUOTE = re.compile(r"^<!-- quote: (results/\S+) -->\n(```[^\n]*\n(?:.*?\n)??```\n|(?:\|[^\n]*\|\n)+)?", re.S | re.M)


def quoted_files(text: str) -> list[str]:
    """The results files a page quotes, in order."""
    return [match.group(1) for match in QUOTE.finditer(text)]


def quoted(text: str) -> str:
    def quote(match: re.Match) -> str:
        path = REPO / match.group(1)
        if not path.is_file():
            raise SystemExit(f"a quote names {match.group(1)}, which does not exist")
        body = path.read_text().strip()
        block = f"{body}\n" if path.suffix == ".md" else f"```\n{body}\n```\n"
        return f"<!-- quote: {match.group(1)} -->\n{block}"

    return QUOTE.sub(quote, text)


def main() -> None:
    stale = []
    for page in PAGES:
        old = page.read_text()
        new = quoted(old)
        if new != old:
            stale.append(page.relative_to(REPO).as_posix())
            if "--check" not in sys.argv[1:]:
                page.write_text(new)
    if stale and "--check" in sys.argv[1:]:
        sys.exit(f"{', '.join(stale)} quote results that changed: run python docs/quote_results.py")


if __name__ == "__main__":
    main()
