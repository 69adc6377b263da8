"""Writes the README's CLI reference and formats table from the code itself, so they can never drift
from `--help` and `cifar-edge formats`.

    python docs/cli_reference.py           rewrite the sections between the markers in README.md
    python docs/cli_reference.py --check   exit 1 if README.md is out of date (tests/test_readme.py)
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from cifar_edge.cli import app
from cifar_edge.formats import formats_table

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- cli-reference:start -->", "<!-- cli-reference:end -->"
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


def reference() -> str:
    lines = [START, ""]
    for name, command in commands(typer.main.get_command(app), "cifar-edge"):
        summary = " ".join((command.help or "").split()).replace("<", "&lt;").replace(">", "&gt;")
        lines += [f"<details><summary><code>{name}</code>: {summary}</summary>", "",
                  "| argument / option | default | meaning |", "|---|---|---|",
                  *[option_row(p) for p in command.params if p.name != "help"], "", "</details>", ""]
    return "\n".join(lines + [END])


def formats_section() -> str:
    return "\n".join([FORMATS_START, "```", formats_table(), "```", FORMATS_END])


def replace_section(text: str, start: str, end: str, section: str) -> str:
    if start not in text or end not in text:
        sys.exit(f"{README} has no {start} ... {end} section")
    before, rest = text.split(start, 1)
    return before + section + rest.split(end, 1)[1]


def main() -> None:
    text = README.read_text()
    updated = replace_section(text, START, END, reference())
    updated = replace_section(updated, FORMATS_START, FORMATS_END, formats_section())
    if "--check" in sys.argv[1:]:
        sys.exit(0 if updated == text else "README.md's CLI reference or formats table is out of date: "
                 "run python docs/cli_reference.py")
    README.write_text(updated)


if __name__ == "__main__":
    main()
