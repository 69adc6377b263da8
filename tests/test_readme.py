"""The README quotes committed results: every quoted number must be the one the command wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cifar_edge.export.compare import markdown_table

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
RESULTS = REPO / "results"


def test_ci_runs_exactly_the_readme_test_command(tmp_path):
    """.ci/run, run for real with a stand-in `make` first on PATH: it calls `make test` and nothing
    else, with CI set (so a missing archive fails instead of skipping)."""
    assert "make test" in README
    (tmp_path / "make").write_text('#!/bin/sh\necho "make $* CI=$CI" >> "$MAKE_LOG"\n')
    (tmp_path / "make").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(PATH=f"{tmp_path}{os.pathsep}{env['PATH']}", MAKE_LOG=str(tmp_path / "log"))
    run = subprocess.run([str(REPO / ".ci" / "run")], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "log").read_text() == "make test CI=true\n"


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


@pytest.mark.parametrize("name", ["train_speed.txt", "inference_latency.txt", "camera_fps.txt", "jpeg_gap.txt",
                                  "int8_calibration.txt", "standard_seeds.txt", "release_check.txt",
                                  "accuracy_vs_compute.txt", "serve_load.txt"])
def test_benchmark_outputs_are_quoted_verbatim(name):
    assert (RESULTS / name).read_text().strip() in README


def test_best_run_numbers_match_its_committed_metrics():
    metrics = json.loads((RESULTS / "best" / "metrics.json").read_text())
    for quoted in (f"{metrics['test_accuracy']:.2%}", f"{metrics['test_accuracy_flip_tta']:.2%}",
                   f"{metrics['train_wall_seconds'] / 60:.1f} min"):
        assert quoted in README, quoted


def test_the_released_model_card_is_the_committed_compare():
    card = json.loads((REPO / "models" / "model_card.json").read_text())
    assert markdown_table(card["compare"]["rows"]) in README
    assert card["compare"]["test_images"] == 10_000


def test_cli_reference_is_current():
    run = subprocess.run([sys.executable, str(REPO / "docs" / "cli_reference.py"), "--check"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("metrics_path", sorted(RESULTS.glob("*/metrics.json")), ids=lambda p: p.parent.name)
def test_every_committed_run_records_a_command_that_reproduces_it(metrics_path):
    import shlex

    from typer.testing import CliRunner

    from cifar_edge.cli import app
    from cifar_edge.train.recipe import TrainConfig

    metrics = json.loads(metrics_path.read_text())
    args = shlex.split(metrics["command"])
    result = CliRunner().invoke(app, [*args[1:], "--dry-run"])
    assert result.exit_code == 0, result.output
    resolved = json.loads(result.output)["config"]
    recorded = TrainConfig.from_dict(metrics["config"]).to_dict()  # fields added since take their defaults
    assert {k: v for k, v in resolved.items() if k != "preset"} == {k: v for k, v in recorded.items() if k != "preset"}


@pytest.mark.parametrize("ci, outcome", [("true", "error"), ("", "skipped")])  # a fixture fails: "error"
def test_a_missing_archive_fails_in_ci_and_skips_elsewhere(ci, outcome, tmp_path):
    env = {**os.environ, "CIFAR_EDGE_DATA": str(tmp_path / "missing.tar.gz"), "CI": ci}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
                          "tests/test_data.py::test_real_test_batch_has_official_shape_and_balance"],
                         cwd=REPO, env=env, capture_output=True, text=True)
    assert f"1 {outcome}" in run.stdout, run.stdout[-2000:]
    assert (run.returncode != 0) == (outcome == "error")
