"""The README quotes committed results: every quoted number must be the one the command wrote."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cifar_edge.export.compare import markdown_table

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
# What the README and its page of every measurement quote together (docs/quote_results.py fills both).
QUOTED = README + (REPO / "docs" / "results.md").read_text()
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


def quoted_outputs() -> list[Path]:
    """Every committed benchmark output but the planted-bug report (which the README links, not quotes)."""
    return sorted(p for p in RESULTS.glob("*.txt") if p.name != "deliberate_breaks.txt")


@pytest.mark.parametrize("output", quoted_outputs(), ids=lambda p: p.name)
def test_benchmark_outputs_are_quoted_verbatim(output):
    assert output.read_text().strip() in QUOTED


@pytest.mark.parametrize("run", sorted(p.parent for p in RESULTS.glob("*/metrics.json")), ids=lambda p: p.name)
def test_every_committed_run_is_in_the_quoted_results_table(run):
    """A run copied into results/ without regenerating the table (accuracy_vs_compute.txt) fails here."""
    metrics = json.loads((run / "metrics.json").read_text())
    table = (RESULTS / "accuracy_vs_compute.txt").read_text()
    row = next((line for line in table.splitlines() if line.split()[:1] == [run.name]), None)
    assert row is not None, f"{run.name} is not in results/accuracy_vs_compute.txt"
    assert f"{metrics['test_accuracy']:.2%}" in row and f"{metrics['train_wall_seconds'] / 60:.1f}" in row


@pytest.mark.parametrize("table", sorted(RESULTS.glob("*/compare.md")), ids=lambda p: p.parent.name)
def test_every_committed_compare_table_is_quoted(table):
    assert table.read_text().strip() in QUOTED
    rows = {row["format"]: row for row in json.loads((table.parent / "compare.json").read_text())["rows"]}
    assert rows["tflite-int8"]["full_integer"] is True


def recorded_data_hashes(path: Path) -> list[str]:
    """The data SHA-256s (or their first 16 digits) a committed output says it was made on."""
    text = path.read_text()
    if path.suffix == ".json":
        found = []

        def walk(node):  # metrics.json: data.sha256; compare.json and the benchmarks' JSON: data_sha256
            if isinstance(node, dict):
                found.extend(v for k, v in node.items() if k == "data_sha256" and isinstance(v, str))
                if isinstance(node.get("data"), dict) and "sha256" in node["data"]:
                    found.append(node["data"]["sha256"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(json.loads(text))
        return found
    return re.findall(r"data sha256 ([0-9a-f]{16,64})", text) + re.findall(r"data: sha256 ([0-9a-f]{16,64})", text)


def test_every_quoted_result_was_made_on_the_shared_archive(real_archive):
    """results/ describes the archive in ../shared/data and nothing else: a run, compare table or
    benchmark made on other data (the earlier, mostly-JPEG archive, say) fails here.  Experiments on
    other data belong in docs/old-data/."""
    from cifar_edge.data import file_sha256

    archive = file_sha256(real_archive)
    outputs = [p for p in RESULTS.rglob("*") if p.suffix in (".json", ".txt") and p.name != "deliberate_breaks.txt"]
    for path in outputs:
        for sha in recorded_data_hashes(path):
            assert archive.startswith(sha), f"{path.relative_to(REPO)} was made on data {sha[:16]}, not {archive[:16]}"
    # Every output that reports an accuracy names its data, so the check above cannot be dodged by silence.
    for path in [p for p in outputs if p.suffix == ".txt" and re.search(r"\d\.\d\d%", p.read_text())]:
        assert recorded_data_hashes(path), f"{path.relative_to(REPO)} quotes accuracies without naming its data"
    for metrics in RESULTS.glob("*/metrics.json"):
        assert json.loads(metrics.read_text())["data"]["sha256"] == archive


def test_the_released_model_card_is_quoted_only_if_made_on_the_shared_archive(real_archive):
    from cifar_edge.data import file_sha256

    card = json.loads((REPO / "models" / "model_card.json").read_text())
    table = markdown_table(card["compare"]["rows"])
    if card["compare"]["data_sha256"] == file_sha256(real_archive):
        assert table in README and card["compare"]["test_images"] == 10_000
    else:  # the README then quotes verify_release.py's scores on this data instead
        assert table not in README
        assert "results/release_check.txt" in README and (RESULTS / "release_check.txt").exists()


def test_quoted_results_are_current():
    """docs/quote_results.py (which `make results`, `make benchmarks`, `make robustness` and `make
    pi-check` run) would change nothing."""
    run = subprocess.run([sys.executable, str(REPO / "docs" / "quote_results.py"), "--check"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_an_empty_quote_block_is_filled_and_the_text_after_it_kept():
    """A fresh marker with an empty fenced block under it once swallowed the page down to the next fence."""
    sys.path.insert(0, str(REPO / "docs"))
    from quote_results import quoted

    page = "<!-- quote: results/release_check.txt -->\n```\n```\n\nProse after.\n\n```bash\nmake run\n```\n"
    body = (RESULTS / "release_check.txt").read_text().strip()
    assert quoted(page) == f"<!-- quote: results/release_check.txt -->\n```\n{body}\n```\n\nProse after.\n\n```bash\nmake run\n```\n"


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
