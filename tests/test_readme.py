"""The README quotes committed results: every quoted number must be the one the command wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
RESULTS = REPO / "results"


def test_ci_runs_exactly_the_readme_test_command():
    assert "make test" in README
    assert (REPO / ".ci" / "run").read_text().strip().endswith("make test")


def test_training_numbers_match_the_committed_run():
    metrics = json.loads((RESULTS / "standard" / "metrics.json").read_text())
    assert metrics["command_wall_seconds"] <= 45 * 60  # the standard preset's time budget
    for quoted in (f"{metrics['test_accuracy']:.2%}", f"{metrics['test_accuracy_flip_tta']:.2%}",
                   f"{metrics['train_wall_seconds'] / 60:.1f} min", f"{metrics['command_wall_seconds'] / 60:.1f} min"):
        assert quoted in README, quoted


def test_compare_table_is_the_committed_one():
    table = (RESULTS / "standard" / "compare.md").read_text().strip()
    assert table in README
    rows = {row["format"]: row for row in json.loads((RESULTS / "standard" / "compare.json").read_text())["rows"]}
    assert rows["tflite-int8"]["full_integer"] is True


@pytest.mark.parametrize("name", ["train_speed.txt", "inference_latency.txt", "camera_fps.txt", "jpeg_gap.txt"])
def test_benchmark_outputs_are_quoted_verbatim(name):
    assert (RESULTS / name).read_text().strip() in README
