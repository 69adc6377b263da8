"""Writes the CLI reference (docs/cli.md) and the README's formats table from the code itself, so they
can never drift from `--help` and `cifar-edge formats`.

    python docs/cli_reference.py           rewrite docs/cli.md and the formats section of README.md
    python docs/cli_reference.py --check   exit 1 if either is out of date (tests/test_readme.py)
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from cifar_edge.cli import app
from cifar_edge.formats import formats_table

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
CLI_PAGE = REPO / "docs" / "cli.md"
CLI_PAGE_INTRO = """# `cifar-edge` command reference

Every command has `--help`; this page is generated from the same definitions (`python docs/cli_reference.py`,
checked by `tests/test_readme.py`), so it matches them. Every command ends a bad input with one `error:` line
and a non-zero exit, never a traceback; `--json` gives scripts what the table gives people.
"""
FORMATS_START, FORMATS_END = "<!-- formats:start -->", "<!-- formats:end -->"


def commands(group, prefix: str):
    """(full name, command) for every leaf command, in the order `--help` lists them."""
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}", command


def option_row(param) -> str:
    if param.param_type_name == "argument":
        name = f"`{param.name.upper()}`" + ("" if param.required else " (optional)")
        default = ""
    else:
        name = " / ".join(f"`{opt}`" for opt in [*param.opts, *param.secondary_opts])
        # `is`, not a dict lookup: 1 == True, and a default of 1 is not "on"
        default = ("" if param.default is None else "off" if param.default is False
                   else "on" if param.default is True else f"`{param.default}`")
    meaning = (param.help or "").replace("|", "/").replace("<", "&lt;").replace(">", "&gt;")
    return f"| {name} | {default} | {meaning} |"


def epilog_lines(command) -> list[str]:
    """A command's epilog (train's presets) as a list: a heading paragraph, then one item per paragraph."""
    if not command.epilog:
        return []
    heading, *items = [" ".join(p.split()) for p in command.epilog.split("\n\n")]
    return [heading, "", *["- `{}`: {}".format(*item.split(": ", 1)) for item in items], ""]


def reference() -> str:
    lines = [CLI_PAGE_INTRO]
    for name, command in commands(typer.main.get_command(app), "cifar-edge"):
        summary = " ".join((command.help or "").split()).replace("<", "&lt;").replace(">", "&gt;")
        lines += [f"<details><summary><code>{name}</code>: {summary}</summary>", "",
                  "| argument / option | default | meaning |", "|---|---|---|",
                  *[option_row(p) for p in command.params if p.name != "help"], "",
                  *epilog_lines(command), "</details>", ""]
    return "\n".join(lines)


def formats_section() -> str:
    return "\n".join([FORMATS_START, "```", formats_table(), "```", FORMATS_END])


def replace_section(text: str, start: str, end: str, section: str) -> str:
    if start not in text or end not in text:
        sys.exit(f"{README} has no {start} ... {end} section")
    before, rest = text.split(start, 1)
    return before + section + rest.split(end, 1)[1]


def main() -> None:
    text = README.read_text()
    updated = replace_section(text, FORMATS_START, FORMATS_END, formats_section())
    page = reference()
    if "--check" in sys.argv[1:]:
        current = updated == text and CLI_PAGE.exists() and CLI_PAGE.read_text() == page
        sys.exit(0 if current else "docs/cli.md or README.md's formats table is out of date: "
                 "run python docs/cli_reference.py")
    README.write_text(updated)
    CLI_PAGE.write_text(page)


if __name__ == "__main__":
    main()
