"""`cifar-edge release`: only a scored export is published, with a model card that says how it was
made, and an existing release is kept unless --force."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from cifar_edge.errors import CifarEdgeError
from cifar_edge.export.compare import compare
from cifar_edge.contract import RELEASED_FILES
from cifar_edge.formats import FORMATS
from cifar_edge import provenance
from cifar_edge.export.release import choose_by_validation, record_device_check, release
from cifar_edge.robustness.validation import validation_robustness
from conftest import cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scored(exported, real_archive, tmp_path_factory):
    """The smoke export's released formats, scored by compare on the whole test set."""
    _, out, _ = exported
    folder = tmp_path_factory.mktemp("scored")
    for name in ("model.keras", "model_card.json", *(FORMATS[fmt].file for fmt in RELEASED_FILES)):
        shutil.copyfile(out / name, folder / name)
    compare(folder, data=real_archive, latency_runs=5, progress=False)
    return folder


def test_an_unscored_export_is_refused(exported, tmp_path):
    _, out, _ = exported
    with pytest.raises(CifarEdgeError, match="has not been scored.*cifar-edge compare"):
        release(out, tmp_path / "models")
    assert not (tmp_path / "models").exists()


def test_release_copies_the_files_and_writes_both_cards(scored, tmp_path):
    models = tmp_path / "models"
    card = release(scored, models)
    for fmt, name in RELEASED_FILES.items():
        released_bytes, exported_bytes = (models / name).read_bytes(), (scored / FORMATS[fmt].file).read_bytes()
        assert released_bytes == exported_bytes
        assert hashlib.sha256(released_bytes).hexdigest() == card["files"][fmt]["sha256"]
    on_disk = json.loads((models / "model_card.json").read_text())
    assert on_disk == card
    assert on_disk["training"]["command"] == "cifar-edge train --preset smoke"
    assert on_disk["training"]["machine"]["cpu_count"] >= 1
    assert on_disk["compare"]["test_images"] == 10_000
    text = (models / "MODEL_CARD.md").read_text()
    assert "`cifar-edge train --preset smoke`" in text and "| tflite-int8 |" in text
    # timed where compare ran, which the card names (a run trained on a lent GPU is timed elsewhere)
    where = provenance.describe_machine(on_disk["compare"]["latency"]["machine"])
    assert f"median and p90 after warm-up, on {where}." in text


def test_an_existing_release_is_kept_without_force(scored, tmp_path):
    models = tmp_path / "models"
    release(scored, models)
    before = (models / "cifar_edge_int8.tflite").stat().st_mtime_ns
    run = cli("release", scored, "--out", models)
    assert run.returncode == 1 and "--force" in run.stderr and "Traceback" not in run.stderr
    assert (models / "cifar_edge_int8.tflite").stat().st_mtime_ns == before
    assert cli("release", scored, "--out", models, "--force").returncode == 0


def test_the_arm64_check_goes_into_both_cards_for_the_released_files_only(scored, tmp_path):
    models = tmp_path / "models"
    card = release(scored, models)
    files = {fmt: {"model_sha256": card["files"][fmt]["sha256"], "x86_accuracy": 0.9380, "arm64_accuracy": 0.9383,
                   "top1_agreement": 0.9971, "identical_outputs": 0.04, "largest_difference": 0.5,
                   "largest_difference_steps": 5 if fmt == "tflite-int8" else None} for fmt in RELEASED_FILES}
    check = {"environment": "Debian bookworm arm64", "command": "make pi-check", "files": files}
    record_device_check(models, check)
    assert json.loads((models / "model_card.json").read_text())["arm64"] == check
    text = (models / "MODEL_CARD.md").read_text()
    assert "## On arm64" in text and "| `cifar_edge_int8.tflite` | 93.80% | 93.83% | 99.71% | 4.0% | 5 int8 steps |" in text

    other = {**check, "files": {**files, "tflite-int8": {**files["tflite-int8"], "model_sha256": "0" * 64}}}
    with pytest.raises(CifarEdgeError, match="another tflite-int8 file"):
        record_device_check(models, other)


def fake_export(folder, val_accuracy, int8_bytes, data_sha="a" * 64):
    """An export folder holding only what the choice reads: the card's training record and file sizes."""
    folder.mkdir()
    (folder / "model_card.json").write_text(json.dumps({
        "training": {"val_accuracy": val_accuracy, "data": {"sha256": data_sha}},
        "source": {"path": str(folder / "run" / "model.keras")},
        "files": {"tflite-int8": {"bytes": int8_bytes}}}))
    return folder


def test_the_mca_floor_scores_only_candidates_within_the_size_budget(tmp_path):
    small = fake_export(tmp_path / "standard", 0.940, 2_020_000)
    too_big = fake_export(tmp_path / "wide", 0.955, 4_700_000)
    scored = []
    chosen, rows = choose_by_validation([small, too_big], max_mb=2.5, min_val_mca=0.8,
                                        val_mca_of=lambda run: scored.append(run) or 0.85)
    assert chosen == small and scored == [small / "run"]  # the wider network's minutes are not spent
    assert rows[1]["outcome"] == "over 2.5 MB" and "val_mca" not in rows[1]


def test_the_release_is_chosen_on_validation_within_the_size_budget(tmp_path):
    small = fake_export(tmp_path / "standard", 0.940, 2_020_000)
    smaller_better = fake_export(tmp_path / "long", 0.945, 2_020_000)
    too_big = fake_export(tmp_path / "wide", 0.955, 4_700_000)
    chosen, rows = choose_by_validation([small, too_big, smaller_better], max_mb=2.5)
    assert chosen == smaller_better
    assert [row["chosen"] for row in rows] == [False, False, True]
    assert [row["fits"] for row in rows] == [True, False, True]


def released_card(export, val_accuracy, val_mca=0.85, int8_mb=2.02, data_sha="a" * 64):
    """A release's card as `cifar-edge release` wrote it, holding only what the choice reads."""
    row = {"export": export, "val_accuracy": val_accuracy, "int8_mb": int8_mb, "data_sha256": data_sha,
           "fits": True, "model": None, "val_mca": val_mca, "robust": True, "chosen": True, "outcome": "released"}
    return {"released_from": export, "chosen_among": {"max_mb": 2.5, "min_val_mca": 0.82, "candidates": [row]}}


def test_the_released_model_stays_unless_a_candidate_beats_it_on_validation(tmp_path):
    here = fake_export(tmp_path / "here", 0.9415, 2_020_000)  # the run whose export is on this machine
    better = fake_export(tmp_path / "better", 0.951, 2_020_000)
    card = released_card("exports/distilled_long", 0.9495)
    chosen, rows = choose_by_validation([here], released_card=card)
    assert chosen is None and [row["outcome"] for row in rows] == ["lower validation accuracy", "kept"]
    assert rows[1]["export"] == "exports/distilled_long (released)"
    chosen, rows = choose_by_validation([here, better], released_card=card)
    assert chosen == better and rows[2]["outcome"] == "lower validation accuracy"
    # a tie keeps the shipped files
    assert choose_by_validation([fake_export(tmp_path / "tie", 0.9495, 2_020_000)], released_card=card)[0] is None
    # the release competes under today's mCA floor, on the score its card recorded: nothing is rescored
    chosen, rows = choose_by_validation([here], min_val_mca=0.82, val_mca_of=lambda run: 0.83, released_card=card)
    assert chosen is None and rows[1]["val_mca"] == 0.85
    # a release that does not compare is replaced by any candidate that passes: other data, a floor it misses
    for other in (released_card("exports/old", 0.96, data_sha="b" * 64), released_card("exports/old", 0.96, 0.70)):
        chosen, rows = choose_by_validation([here], min_val_mca=0.82, val_mca_of=lambda run: 0.83,
                                            released_card=other)
        assert chosen == here and len(rows) == 1
    # named among the candidates, the released export is scored as one of them, not twice
    card_here = released_card(str(here), 0.99)
    assert [row["export"] for row in choose_by_validation([here], released_card=card_here)[1]] == [str(here)]


def test_candidates_trained_on_different_data_are_refused(tmp_path):
    one = fake_export(tmp_path / "one", 0.94, 2_000_000, data_sha="a" * 64)
    other = fake_export(tmp_path / "other", 0.93, 2_000_000, data_sha="b" * 64)
    with pytest.raises(CifarEdgeError, match="different data"):
        choose_by_validation([one, other])
    with pytest.raises(CifarEdgeError, match="at most 1.0 MB"):
        choose_by_validation([one], max_mb=1.0)


def test_a_validation_mca_floor_scores_each_run_once_and_refuses_a_fragile_model(scored, real_archive, tmp_path,
                                                                                  monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    run_dir = Path(json.loads((scored / "model_card.json").read_text())["source"]["path"]).parent
    record = run_dir / "val_robustness.json"
    record.unlink(missing_ok=True)
    try:
        check_the_floor(scored, real_archive, tmp_path, monkeypatch, record)
    finally:
        record.unlink(missing_ok=True)  # the smoke run is shared: other tests list its files


def check_the_floor(scored, real_archive, tmp_path, monkeypatch, record):
    chosen, rows = choose_by_validation([scored], min_val_mca=0.0,
                                        val_mca_of=lambda run: validation_robustness(run, real_archive)["mca"])
    saved = json.loads(record.read_text())
    assert chosen == scored and rows[0]["val_mca"] == saved["mca"] and 0.1 < saved["mca"] < saved["clean"]
    assert saved["clean"] == pytest.approx(rows[0]["val_accuracy"])  # the same images the trainer held out
    assert saved["val_images"] == 256 and saved["seed"] == 1 and len(saved["accuracy"]) == 18

    # asked again, the saved summary is read back: no model is loaded
    def no_model(path):
        raise AssertionError("scored again")
    monkeypatch.setattr("cifar_edge.export.exporter.load_keras_model", no_model)
    run = cli("release", scored, "--out", tmp_path / "models", "--min-val-mca", "0.99", "--data", real_archive)
    assert run.returncode == 1 and "validation mCA of at least 99.0%" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "models").exists()

    # released, the cards say what it was chosen among and on what
    run = cli("release", scored, "--out", tmp_path / "models", "--min-val-mca", "0.05", "--data", real_archive)
    assert run.returncode == 0, run.stderr
    card = json.loads((tmp_path / "models" / "model_card.json").read_text())
    assert card["chosen_among"]["min_val_mca"] == 0.05
    assert [row["val_mca"] for row in card["chosen_among"]["candidates"]] == [saved["mca"]]
    assert "## Why this model" in (tmp_path / "models" / "MODEL_CARD.md").read_text()

    # a release with a better validation score stays; --ignore-released chooses among the named exports only
    card["released_from"] = "exports/better"
    card["chosen_among"]["candidates"][0].update(export="exports/better", val_accuracy=0.999, val_mca=0.9)
    (tmp_path / "models" / "model_card.json").write_text(json.dumps(card))
    before = {p.name: p.read_bytes() for p in (tmp_path / "models").iterdir()}
    run = cli("release", scored, "--out", tmp_path / "models", "--force", "--min-val-mca", "0.05", "--data", real_archive)
    assert run.returncode == 0, run.stderr
    assert "exports/better (released)" in run.stdout and "stays" in run.stdout
    assert {p.name: p.read_bytes() for p in (tmp_path / "models").iterdir()} == before
    run = cli("release", scored, "--out", tmp_path / "models", "--force", "--ignore-released")
    assert run.returncode == 0, run.stderr
    assert json.loads((tmp_path / "models" / "model_card.json").read_text())["released_from"] == str(scored)
