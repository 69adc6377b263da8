"""The command line as a table: every training knob is an option, every option is recorded, and no
help text quotes a measured number (those go stale; the README and results/ quote them)."""

from __future__ import annotations

import json
import re
import shlex
import typing

import pytest
import typer
from typer.testing import CliRunner

from cifar_edge.cli import app
from cifar_edge.train.recipe import PRESETS, TrainConfig, command_for, knobs, make_config


def another_value(field, value):
    """A valid value of the field's type that differs from `value`."""
    if field.metadata["choices"]:
        return next(choice for choice in field.metadata["choices"] if choice != value)
    kind = typing.get_type_hints(TrainConfig)[field.name]
    if kind is int:
        return value + 3
    if kind is float:
        return value * 0.5 + 0.01
    if kind == tuple[str, ...]:
        return (*value, "runs/teacher")  # teacher
    return tuple(w + 1 for w in value)  # widths


def dry_run(command: str) -> dict:
    args = shlex.split(command)
    assert args[:2] == ["cifar-edge", "train"]
    result = CliRunner().invoke(app, [*args[1:], "--dry-run"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize("field", knobs(), ids=lambda f: f.name)
def test_every_knob_is_an_option_and_its_recorded_command_reproduces_the_config(field):
    base = PRESETS["distilled"]  # it has a teacher, so the knobs that need one may change alone too
    config = make_config("distilled", **{field.name: another_value(field, getattr(base, field.name))})
    command = command_for(config)
    assert f"--{field.name.replace('_', '-')} " in command
    assert dry_run(command)["config"] == config.to_dict()


def test_no_knob_is_missing_from_the_help():
    text = CliRunner().invoke(app, ["train", "--help"], env={"COLUMNS": "200"}).output
    for field in knobs():
        assert f"--{field.name.replace('_', '-')}" in text


def help_texts(group=None, prefix="cifar-edge"):
    group = group or typer.main.get_command(app)
    yield prefix, group.help or ""
    yield f"{prefix} (epilog)", getattr(group, "epilog", None) or ""  # train's presets
    for name, command in getattr(group, "commands", {}).items():
        yield from help_texts(command, f"{prefix} {name}")
    for param in getattr(group, "params", []):
        yield f"{prefix} {'/'.join(getattr(param, 'opts', []))}", getattr(param, "help", "") or ""


def test_help_quotes_no_measured_number():
    measured = re.compile(r"\d+(\.\d+)?\s*%|\d+(\.\d+)?\s*min\b|measured", re.IGNORECASE)
    quoting = [(where, text) for where, text in help_texts() if measured.search(text)]
    assert quoting == []


def test_the_list_of_commands_gives_each_summary_as_one_paragraph():
    """Typer's rich help kept the docstrings' line breaks in `cifar-edge --help`'s list of commands,
    which broke its column mid-sentence ("... and ONNX" / "(fp32, int8), each file ...")."""
    group = typer.main.get_command(app)
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "1000"})  # rich: wide enough for one line each
    assert result.exit_code == 0
    lines = [" ".join(line.replace("│", " ").split()) for line in result.output.splitlines()]
    for name, command in group.commands.items():
        summary = " ".join(((command.short_help or command.help) or "").split("\n\n")[0].split())
        assert f"{name} {summary}" in lines, name
