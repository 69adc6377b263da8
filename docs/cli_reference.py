"""Writes the README's CLI reference from the commands themselves, so it can never drift from `--help`.

    python docs/cli_reference.py           rewrite the section between the markers in README.md
    python docs/cli_reference.py --check   exit 1 if README.md is out of date (tests/test_readme.py)
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from cifar_edge.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- cli-reference:start -->", "<!-- cli-reference:end -->"


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
        default = {None: "", False: "off", True: "on"}.get(param.default, f"`{param.default}`")
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


def main() -> None:
    text = README.read_text()
    if START not in text or END not in text:
        sys.exit(f"{README} has no {START} ... {END} section")
    before, rest = text.split(START, 1)
    updated = before + reference() + rest.split(END, 1)[1]
    if "--check" in sys.argv[1:]:
        sys.exit(0 if updated == text else "README.md's CLI reference is out of date: run python docs/cli_reference.py")
    README.write_text(updated)


if __name__ == "__main__":
    main()
