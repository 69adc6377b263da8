"""`cifar-edge robustness`: the report on a small slice, the cached sets, the choice of files and
corruptions, and the errors a user can meet."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from conftest import REPO, cli, cli_process
from cifar_edge.errors import CifarEdgeError
from cifar_edge.robustness import corruptions, score, sets
from cifar_edge.robustness.corruptions import CIFAR10_C, SEVERITIES


@pytest.fixture
def release_copy(tmp_path, monkeypatch):
    """A copy of the released models/ (int8 TFLite and ONNX, float ONNX; no TensorFlow needed), with the
    set cache in tmp_path."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "release"
    shutil.copytree(REPO / "models", folder, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    return folder


def test_smoke_run_on_a_small_slice_writes_every_output(exported, real_archive, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "export"
    shutil.copytree(exported[1], folder)
    result = cli("robustness", folder, "--data", real_archive, "--limit", 40, "--no-progress",
                 "--corruptions", "gaussian_noise,contrast,low_light")
    assert result.returncode == 0, result.stderr
    assert "mCA (2 of 15 CIFAR-10-C)" in result.stdout and "worst for tflite-int8" in result.stdout

    report = json.loads((folder / "robustness.json").read_text())
    assert list(report["formats"]) == ["keras-fp32", "tflite-int8", "onnx-int8"]
    assert report["float_reference"] == "keras-fp32" and report["test_images"] == 40
    int8 = report["formats"]["tflite-int8"]
    assert list(int8["accuracy"]) == ["gaussian_noise", "contrast", "low_light"]
    assert all(len(values) == 5 and all(0 <= a <= 1 for a in values) for values in int8["accuracy"].values())
    assert int8["mca"] == pytest.approx(np.mean(int8["accuracy"]["gaussian_noise"] + int8["accuracy"]["contrast"]))
    assert int8["camera_mean"] == pytest.approx(np.mean(int8["accuracy"]["low_light"]))
    assert report["formats"]["keras-fp32"]["vs_float"] is None
    assert 0 <= int8["vs_float"]["agreement"] <= 1
    assert (folder / "robustness.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "## tflite-int8 (`model_int8.tflite`) by severity" in (folder / "robustness.md").read_text()
    assert "robustness" not in json.loads((folder / "model_card.json").read_text())  # --limit: a quick look
    assert len(list((tmp_path / "cache" / "cifar-edge" / "corrupted").glob("*/*.npy"))) == 3 * 5


def test_scoring_the_keras_model_keeps_tensorflow_start_up_lines_off_the_screen(exported, real_archive, tmp_path):
    """The oneDNN notice, `cudart_stub` and `cuInit` lines are written by TensorFlow's C++ start-up before
    any log level applies; the CLI hides them for every command that loads Keras, robustness included."""
    folder = tmp_path / "export"
    shutil.copytree(exported[1], folder)
    result = cli_process("robustness", folder, "--formats", "keras-fp32", "--corruptions", "contrast",
                         "--limit", 8, "--no-progress", "--data", real_archive,
                         env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
                         | {"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr
    for chatter in ("oneDNN", "cudart", "cuInit", "absl::InitializeLog"):
        assert chatter not in result.stderr + result.stdout


def test_a_release_folder_is_scored_against_its_float_onnx_and_its_card_takes_the_summary(release_copy, real_archive):
    from cifar_edge.export.release import record_robustness
    from cifar_edge.robustness.tables import card_summary

    card_before = (release_copy / "MODEL_CARD.md").read_text()
    result = cli("robustness", release_copy, "--data", real_archive, "--limit", 20, "--no-progress",
                 "--corruptions", "contrast", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert list(report["formats"]) == ["tflite-int8", "onnx-fp32", "onnx-int8"]
    assert report["float_reference"] == "onnx-fp32"
    assert report["formats"]["tflite-int8"]["sha256"] == json.loads(
        (release_copy / "model_card.json").read_text())["files"]["tflite-int8"]["sha256"]
    assert (release_copy / "MODEL_CARD.md").read_text() == card_before  # --limit: a quick look, not recorded

    record_robustness(release_copy, card_summary(report))  # what a whole-test-set run does at its end
    card = (release_copy / "MODEL_CARD.md").read_text()
    assert "## Robustness to corrupted images" in card and "| tflite-int8 |" in card
    assert json.loads((release_copy / "model_card.json").read_text())["robustness"]["test_images"] == 20


def test_a_second_run_reads_the_predictions_the_first_saved(release_copy, real_archive, monkeypatch):
    from cifar_edge.robustness import score

    first = score.robustness(release_copy, data=real_archive, corruption_names="contrast", limit=20, progress=False)

    def runtime_not_asked(name, path):
        def predict(images):
            raise AssertionError("a set scored before must be read back, not scored again")
        return predict
    monkeypatch.setattr(score, "predictor", runtime_not_asked)
    again = score.robustness(release_copy, data=real_archive, corruption_names="contrast", limit=20, progress=False)
    assert again["formats"] == first["formats"]
    assert len(list(release_copy.parent.glob("cache/cifar-edge/corrupted/*/predictions/*.npy"))) == 3 * 6


def test_a_release_card_refuses_a_report_of_other_files(release_copy):
    from cifar_edge.export.release import record_robustness

    summary = {"formats": {"tflite-int8": {"sha256": "0" * 64}}}
    with pytest.raises(CifarEdgeError, match="other files than the ones released"):
        record_robustness(release_copy, summary)


def test_a_summary_the_card_cannot_show_leaves_both_cards_as_they_were(release_copy):
    from cifar_edge.export.release import CARD, CARD_MD, record_robustness

    before = {name: (release_copy / name).read_bytes() for name in (CARD, CARD_MD)}
    card = json.loads(before[CARD])
    summary = {"formats": {"tflite-int8": {"sha256": card["files"]["tflite-int8"]["sha256"]}}}  # no figures
    with pytest.raises(KeyError):
        record_robustness(release_copy, summary)
    assert {name: (release_copy / name).read_bytes() for name in (CARD, CARD_MD)} == before


def test_sets_are_cached_reused_and_remade_when_damaged_or_of_another_size(real_test_split, tmp_path, monkeypatch):
    images = real_test_split.images[:16]
    made = sets.corrupted_set(images, "shot_noise", 2, seed=0, folder=tmp_path)
    cached = tmp_path / "shot_noise-2.npy"
    assert cached.is_file() and np.array_equal(np.load(cached), made)

    def fails(*args):
        raise AssertionError("a cached set must not be made again")
    monkeypatch.setattr(corruptions, "corrupt", fails)
    assert np.array_equal(sets.corrupted_set(images, "shot_noise", 2, seed=0, folder=tmp_path), made)
    monkeypatch.undo()

    cached.write_bytes(cached.read_bytes()[:100])  # a run killed while writing, or a damaged disk
    assert np.array_equal(sets.corrupted_set(images, "shot_noise", 2, seed=0, folder=tmp_path), made)
    assert np.array_equal(np.load(cached), made)

    np.save(cached, made[:8])  # a set of other images in the same place (a cache folder copied by hand)
    assert np.array_equal(sets.corrupted_set(images, "shot_noise", 2, seed=0, folder=tmp_path), made)


def test_the_cache_folder_names_what_decides_the_pixels():
    folder = sets.cache_folder("ab" * 32, 100, seed=3)
    assert folder.name == f"{'ab' * 8}-test-100img-seed3-code{sets.corruption_code_hash()}"
    assert sets.cache_folder("ab" * 32, 100, seed=4) != folder
    assert sets.cache_folder("ab" * 32, 100, seed=3, split="val") != folder


def test_a_failing_corruption_is_one_clear_error_not_a_traceback(release_copy, real_archive, monkeypatch):
    def breaks(x, parameter, rng):
        raise ValueError("operands could not be broadcast together")
    broken = corruptions.Corruption(breaks, corruptions.CORRUPTIONS["contrast"].severities, "broken")
    monkeypatch.setitem(corruptions.CORRUPTIONS, "contrast", broken)
    result = cli("robustness", release_copy, "--data", real_archive, "--limit", 8, "--no-progress",
                 "--corruptions", "contrast", "--no-cache")
    assert result.returncode != 0
    assert "corruption contrast at severity 1 failed" in result.stderr and "broadcast" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (release_copy / "robustness.json").exists()


def test_files_and_corruptions_are_chosen_and_unknown_ones_refused(release_copy, tmp_path):
    files, reference = score.choose_formats(release_copy, None)
    assert list(files) == ["tflite-int8", "onnx-fp32", "onnx-int8"] and reference == "onnx-fp32"
    files, _ = score.choose_formats(release_copy, "tflite-int8")
    assert list(files) == ["tflite-int8", "onnx-fp32"]  # the float reference is always scored too
    with pytest.raises(CifarEdgeError, match="unknown format"):
        score.choose_formats(release_copy, "tflite-int4")
    with pytest.raises(CifarEdgeError, match="has no tflite-fp16 file"):
        score.choose_formats(release_copy, "tflite-fp16")
    with pytest.raises(CifarEdgeError, match="holds no model files"):
        score.choose_formats(tmp_path / "cache", None)

    assert score.choose_corruptions(None) == list(corruptions.CORRUPTIONS)
    assert score.choose_corruptions("cifar10-c") == list(CIFAR10_C)
    assert score.choose_corruptions("frame_crop,camera,contrast") == ["contrast", "low_light", "frame_crop",
                                                                       "colour_cast"]
    with pytest.raises(CifarEdgeError, match="unknown corruption 'fogg'"):
        score.choose_corruptions("fogg")


def test_the_summary_is_the_means_the_protocol_defines():
    labels = np.arange(10)
    right, wrong = labels.copy(), (labels + 1) % 10
    half = np.where(labels < 5, labels, wrong)
    sets_ = {("gaussian_noise", s): half for s in SEVERITIES} | {("contrast", s): right for s in SEVERITIES}
    sets_ |= {("low_light", s): wrong for s in SEVERITIES}
    float_sets = {key: right for key in sets_}
    report = score.summarise(right, sets_, labels, right, float_sets)
    assert report["mean"] == {"gaussian_noise": 0.5, "contrast": 1.0, "low_light": 0.0}
    assert report["mca"] == 0.75 and report["mca_corruptions"] == 2  # low_light is a camera condition
    assert report["relative_drop"] == pytest.approx(0.25) and report["camera_mean"] == 0.0
    assert report["worst"] == ["gaussian_noise", "contrast"]
    assert report["vs_float"]["mca_gap_pp"] == -25.0 and report["vs_float"]["agreement"] == 0.75
