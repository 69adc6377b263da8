"""Export a real (smoke-trained) model to every format, run each file in its device runtime, and
check what `compare` proves: agreement with Keras, metadata, full-integer int8, the --max-drop gate,
and clear errors for bad input."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from cifar_edge.contract import CLASSES, DEFAULT_CONTRACT
from cifar_edge.data import file_sha256
from cifar_edge.edge_runtime import Classifier, read_model_info
from cifar_edge.edge_runtime.model_info import full_integer_violations
from cifar_edge.errors import CifarEdgeError
from cifar_edge.export import export
from cifar_edge.export.compare import compare, failures
from cifar_edge.formats import FORMATS
from conftest import cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def keras_logits(exported, real_test_split):
    from cifar_edge.export.exporter import load_keras_model

    run_dir, _, _ = exported
    model = load_keras_model(run_dir / "model.keras")
    return model.predict(real_test_split.images[:300], verbose=0)


def test_export_writes_every_format_and_a_model_card(exported):
    run_dir, out, card = exported
    assert {p.name for p in out.iterdir()} == {*(f.file for f in FORMATS.values()), "model.keras", "model_card.json"}
    on_disk = json.loads((out / "model_card.json").read_text())
    assert on_disk["source"]["sha256"] == file_sha256(run_dir / "model.keras")
    assert on_disk["export_options"]["calibration_images"] == 100
    assert on_disk["training"]["test_accuracy"] > 0.15
    for fmt, entry in on_disk["files"].items():
        assert entry["bytes"] == (out / entry["file"]).stat().st_size > 0
    assert {"tensorflow", "tf2onnx", "onnxruntime", "ai-edge-litert"} <= set(on_disk["versions"])


@pytest.mark.parametrize("fmt, max_logit_error, min_agreement", [
    ("tflite-fp32", 1e-3, 1.0), ("onnx-fp32", 1e-3, 1.0), ("tflite-fp16", 2e-2, 0.98),
    ("tflite-dynamic", None, 0.9), ("tflite-int8", None, 0.85), ("onnx-int8", None, 0.85)])
def test_each_format_runs_in_its_runtime_and_agrees_with_keras(exported, keras_logits, real_test_split,
                                                             fmt, max_logit_error, min_agreement):
    _, out, _ = exported
    scores = Classifier(out / FORMATS[fmt].file).scores(real_test_split.images[:300], batch_size=64)
    assert scores.shape == keras_logits.shape and scores.dtype == np.float32
    if max_logit_error is not None:
        assert np.abs(scores - keras_logits).max() < max_logit_error
    # The smoke net is barely trained, so its margins are small: the trained model's bar is in compare.
    assert np.mean(scores.argmax(1) == keras_logits.argmax(1)) >= min_agreement


def test_every_file_carries_its_metadata(exported):
    run_dir, out, _ = exported
    for fmt in FORMATS.values():
        info = read_model_info(out / fmt.file)
        assert info["format"] == fmt.name and info["labels"] == list(CLASSES)
        # The contract is read off the model: the smoke net has the default input and normalisation.
        assert info["input"] == DEFAULT_CONTRACT.to_dict()
        assert info["source_sha256"] == file_sha256(run_dir / "model.keras")
        assert info["model_version"].startswith("smoke-")
    assert Classifier(out / FORMATS["tflite-int8"].file).labels == CLASSES


def test_int8_is_full_integer_and_the_dynamic_range_trap_is_caught(exported):
    _, out, _ = exported
    assert full_integer_violations((out / "model_int8.tflite").read_bytes()) == []
    assert any(v.startswith("FLOAT32") for v in full_integer_violations((out / "model_dynamic.tflite").read_bytes()))


def test_onnx_files_hold_one_gelu_node_per_activation(exported):
    """Unfused, each GELU is six elementwise ops that the int8 file wraps in quantize/dequantize pairs
    (it then ran no faster than float); fused, one pair per activation is left."""
    import collections

    import keras
    import onnx

    from cifar_edge.export.exporter import load_keras_model

    run_dir, out, _ = exported
    activations = sum(isinstance(layer, keras.layers.Activation) for layer in load_keras_model(run_dir / "model.keras").layers)
    for name in ("model_fp32.onnx", "model_int8.onnx"):
        ops = collections.Counter(node.op_type for node in onnx.load(out / name).graph.node)
        assert ops["Gelu"] == activations > 0 and not ops["Erf"] and not ops["Neg"], (name, ops)
    int8 = collections.Counter(node.op_type for node in onnx.load(out / "model_int8.onnx").graph.node)
    assert int8["QuantizeLinear"] <= 5 * activations


def test_int8_activation_ranges_are_percentiles_within_min_max(exported, real_test_split):
    from cifar_edge.edge_runtime.model_info import tflite_schema
    from cifar_edge.export import to_tflite
    from cifar_edge.export.exporter import load_keras_model

    run_dir, _, card = exported
    assert card["export_options"]["activation_ranges"] == "percentile 99.99"
    images = real_test_split.images[:100]
    calibrated = to_tflite.calibrate(load_keras_model(run_dir / "model.keras"), images)
    tensors = tflite_schema().ModelT.InitFromPackedBuf(calibrated, 0).subgraphs[0].tensors
    ranges = to_tflite.percentile_ranges(calibrated, images, 99.9)
    narrower = 0
    for i, (low, high) in ranges.items():
        stats = tensors[i].quantization
        assert min(stats.min[0], 0.0) <= low <= 0.0 <= high <= max(stats.max[0], 0.0)
        narrower += high - low < stats.max[0] - stats.min[0]
    assert len(ranges) > 10 and narrower > len(ranges) // 2


def test_compare_writes_its_report_and_gates(exported, real_archive, tmp_path):
    _, out, _ = exported
    folder = tmp_path / "copy"
    shutil.copytree(out, folder)
    result = compare(folder, data=real_archive, limit=200, latency_runs=5, progress=False)
    assert [row["format"] for row in result["rows"]] == ["keras-fp32", *FORMATS]
    tflite_fp32 = result["rows"][1]
    assert tflite_fp32["agreement"] == 1.0 and tflite_fp32["change_pp"] == 0.0 and tflite_fp32["latency_ms"] > 0
    assert json.loads((folder / "compare.json").read_text()) == result
    assert "| tflite-int8 |" in (folder / "compare.md").read_text()
    assert json.loads((folder / "model_card.json").read_text())["compare"] == result
    for fmt in FORMATS:
        assert (folder / f"confusion_{fmt}.png").read_bytes()[:4] == b"\x89PNG"
    assert failures(result, max_drop=100) == []
    assert failures(result, max_drop=-100)  # everything "drops" more than -100 pp

    # A dynamic-range file named int8 is the trap peer tools fall into: compare must fail it.
    shutil.copyfile(folder / "model_dynamic.tflite", folder / "model_int8.tflite")
    run = cli("compare", folder, "--data", real_archive, "--limit", 100, "--no-progress", "--max-drop", 100)
    assert run.returncode == 1 and "tflite-int8 is not full-integer" in run.stderr
    assert "tflite-int8 (NOT full-integer)" in run.stdout


def test_existing_exports_are_kept_without_force(exported, real_archive):
    run_dir, out, _ = exported
    before = (out / "model_int8.tflite").stat().st_mtime_ns
    with pytest.raises(CifarEdgeError, match="already exist.*--force"):
        export(run_dir, out=out, formats="tflite-int8", calib=100, data=real_archive, progress=False)
    assert (out / "model_int8.tflite").stat().st_mtime_ns == before


def test_truncated_model_files_give_clear_errors(exported, tmp_path):
    _, out, _ = exported
    for name in ("model_int8.tflite", "model_fp32.onnx"):
        broken = tmp_path / name
        broken.write_bytes((out / name).read_bytes()[:2000])
        with pytest.raises(CifarEdgeError, match="corrupt|truncated"):
            Classifier(broken)
        run = cli("benchmark", broken, "--runs", 2)
        assert run.returncode == 1 and run.stderr.startswith("error:") and "Traceback" not in run.stderr


def test_benchmark_times_as_many_calls_as_asked_after_the_warm_up_asked(exported):
    _, out, _ = exported
    run = cli("benchmark", out / "model_int8.tflite", "--warmup", 0, "--runs", 3, "--json")
    assert run.returncode == 0, run.stderr
    [result] = json.loads(run.stdout)
    assert (result["warmup"], result["runs"]) == (0, 3)
    assert 0 < result["min_ms"] <= result["median_ms"] <= result["p90_ms"]


def test_export_and_compare_cli_errors(tmp_path):
    not_keras = tmp_path / "model.txt"
    not_keras.write_text("hello")
    broken_keras = tmp_path / "broken.keras"
    broken_keras.write_bytes(b"PK\x03\x04 not really a zip")
    for args, message in [(("export", tmp_path / "missing-run"), "no trained model"),
                          (("export", not_keras), "is not a Keras model"),
                          (("export", broken_keras), "could not be loaded as a Keras model"),
                          (("compare", tmp_path), "is not an export folder")]:
        run = cli(*args)
        assert run.returncode == 1, run.stderr
        assert message in run.stderr and "Traceback" not in run.stderr


def test_unknown_format_and_bad_percentile_are_refused(smoke_run):
    run_dir, _ = smoke_run
    run = cli("export", run_dir, "--formats", "tflite-int4")
    assert run.returncode == 1 and "unknown format(s) tflite-int4" in run.stderr
    run = cli("export", run_dir, "--calib-percentile", 50)
    assert run.returncode == 1 and "--calib-percentile must be between 99 and 100" in run.stderr


def test_every_format_has_a_converter_and_a_metadata_writer():
    from cifar_edge.export.exporter import CONVERTERS, METADATA_WRITERS

    assert set(CONVERTERS) == set(FORMATS)
    assert {f.suffix for f in FORMATS.values()} <= set(METADATA_WRITERS)
