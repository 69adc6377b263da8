"""Whole training runs at smoke size on the real data: artifacts, refusal to overwrite,
kill-and-resume, the CLI's contract, and the distributed path."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from cifar_edge.errors import CifarEdgeError
from conftest import cli, cli_process
from cifar_edge.train import make_config
from cifar_edge.train.trainer import train

ARTIFACTS = {"model.keras", "metrics.json", "history.csv", "training_curves.png", "confusion_matrix.png"}


def test_smoke_training_writes_every_artifact(smoke_run, real_archive):
    run_dir, metrics = smoke_run
    assert {p.name for p in run_dir.iterdir()} == ARTIFACTS  # and no checkpoint left behind
    assert json.loads((run_dir / "metrics.json").read_text()) == metrics
    assert metrics["epochs"] == 2 and metrics["test_images"] == 512 and metrics["val_images"] == 256
    for key in ("test_accuracy", "test_accuracy_flip_tta", "val_accuracy"):
        assert 0.15 < metrics[key] <= 1.0  # better than chance (0.10) after 2 tiny epochs
    assert set(metrics["per_class_test_accuracy"]) == {"airplane", "automobile", "bird", "cat", "deer",
                                                       "dog", "frog", "horse", "ship", "truck"}
    assert np.array(metrics["confusion_matrix"]).sum() == 512
    assert metrics["data"]["format"] == "archive" and len(metrics["data"]["sha256"]) == 64
    assert {"keras", "numpy", "python"} <= set(metrics["versions"])
    assert metrics["train_images_per_s"] > 0 and metrics["seed"] == 0
    assert metrics["command"] == "cifar-edge train --preset smoke" and metrics["machine"]["cpu_count"] >= 1
    assert metrics["bn_recalibration_images"] > 0  # BatchNorm statistics re-estimated for the final weights
    # on the clean or the augmented images, whichever validation preferred (clean on a tie)
    scores = metrics["bn_recalibration_val_accuracy"]
    assert set(scores) == {"clean training images", "augmented training images"}
    assert metrics["bn_recalibration_on"] == max(scores, key=lambda name: (scores[name], name.startswith("clean")))
    assert metrics["replicas"] == 1  # no --distribute: one device
    assert metrics["machine"]["accelerator"] == "cpu"  # a GPU's name where one trained it
    history = (run_dir / "history.csv").read_text().splitlines()
    assert history[0].startswith("epoch,") and len(history) == 3
    assert {"cpu_stolen", "load_average"} <= set(history[0].split(","))  # what else had the CPU
    assert metrics["cpu_stolen"] is None or 0 <= metrics["cpu_stolen"] <= 1
    for png in ("training_curves.png", "confusion_matrix.png"):
        assert (run_dir / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_saved_model_is_float32_and_reproduces_the_reported_accuracy(smoke_run, real_test_split):
    run_dir, metrics = smoke_run
    model = keras.models.load_model(run_dir / "model.keras")
    assert model.inputs[0].dtype == "uint8"
    assert all(w.dtype == "float32" for w in model.weights)
    assert model.dtype_policy.name == "float32"
    logits = model.predict(real_test_split.images[:512], verbose=0)
    assert np.mean(logits.argmax(1) == real_test_split.labels[:512]) == pytest.approx(metrics["test_accuracy"])


def test_finished_run_is_not_overwritten_without_force(smoke_run, real_archive):
    run_dir, metrics = smoke_run
    before = (run_dir / "model.keras").read_bytes()
    with pytest.raises(CifarEdgeError, match="finished run; pass --force"):
        train(make_config("smoke"), data=real_archive, run_dir=run_dir, progress=False)
    assert (run_dir / "model.keras").read_bytes() == before


def wait_for(predicate, timeout: float, process: subprocess.Popen):
    deadline = time.time() + timeout
    while not predicate():
        if process.poll() is not None:
            raise AssertionError(f"training exited early: {process.stderr.read()}")
        if time.time() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


@pytest.mark.slow
def test_killed_run_resumes_from_its_last_epoch_with_the_same_schedule(real_archive, tmp_path):
    args = ["train", "--preset", "smoke", "--epochs", "4", "--data", real_archive, "--runs-dir", tmp_path,
            "--name", "killed", "--no-progress"]
    run_dir = tmp_path / "killed"
    process = subprocess.Popen([sys.executable, "-m", "cifar_edge", *map(str, args)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    state = run_dir / "checkpoint.json"
    wait_for(lambda: state.exists() and json.loads(state.read_text())["epoch"] >= 2, 120, process)
    process.send_signal(signal.SIGKILL)  # no chance to clean up
    process.wait()
    killed_at = json.loads(state.read_text())["epoch"]
    assert 2 <= killed_at < 4 and not (run_dir / "metrics.json").exists()

    refused = cli(*args)
    assert refused.returncode == 1 and "unfinished run; pass --resume" in refused.stderr

    resumed = cli(*args, "--resume", "--json")
    assert resumed.returncode == 0, resumed.stderr
    metrics = json.loads(resumed.stdout)
    assert metrics["epochs"] == 4
    rows = (run_dir / "history.csv").read_text().splitlines()[1:]
    assert [int(float(r.split(",")[0])) for r in rows] == [1, 2, 3, 4]
    assert not list(run_dir.glob("checkpoint*"))


def test_resume_with_other_options_is_refused(real_archive, tmp_path):
    from cifar_edge.files import write_json

    run_dir = tmp_path / "half"
    write_json(run_dir / "checkpoint.json", {"checkpoint": "x.keras", "epoch": 1, "history": [],
                                             "config": make_config("smoke").to_dict()})
    with pytest.raises(CifarEdgeError, match=r"different options \(epochs\)"):
        train(make_config("smoke", epochs=5), data=real_archive, run_dir=run_dir, resume=True, progress=False)


def test_resume_on_another_keras_backend_is_refused(real_archive, tmp_path):
    """A checkpoint trained under torch holds NCHW convolutions TensorFlow cannot run on a CPU."""
    from cifar_edge.files import write_json

    run_dir = tmp_path / "half"
    write_json(run_dir / "checkpoint.json", {"checkpoint": "x.keras", "epoch": 1, "history": [],
                                             "keras_backend": "torch", "config": make_config("smoke").to_dict()})
    with pytest.raises(CifarEdgeError, match="started under KERAS_BACKEND=torch; resume it with KERAS_BACKEND=torch"):
        train(make_config("smoke"), data=real_archive, run_dir=run_dir, resume=True, progress=False)


@pytest.mark.slow
def test_cli_options_override_the_preset_are_recorded_and_force_starts_over(real_archive, tmp_path):
    (tmp_path / "smoke").mkdir()
    (tmp_path / "smoke" / "metrics.json").write_text("{}")  # a finished run of the same name
    args = ["train", "--preset", "smoke", "--epochs", "1", "--widths", "8,16,16", "--seed", "7",
            "--data", real_archive, "--runs-dir", tmp_path, "--no-progress", "--json"]
    refused = cli(*args)
    assert refused.returncode == 1 and "finished run; pass --force" in refused.stderr
    result = cli(*args, "--force")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["epochs"] == 1 and metrics["seed"] == 7
    assert metrics["config"]["widths"] == [8, 16, 16] and metrics["config"]["batch_size"] == 128
    assert metrics["command"] == "cifar-edge train --preset smoke --widths 8,16,16 --epochs 1 --seed 7"
    assert json.loads((tmp_path / "smoke" / "metrics.json").read_text()) == metrics  # --name: the preset


@pytest.mark.parametrize("args, message", [
    (["train", "--preset", "nope"], "error: unknown preset 'nope'"),
    (["train", "--widths", "1,2"], "error: --widths takes three"),
    (["train", "--preset", "smoke", "--data", "/no/such/file"], "error: --data points to /no/such/file"),
    (["data", "info", "--data", "/no/such/file"], "error: --data points to /no/such/file"),
])
def test_cli_errors_are_one_line_without_traceback(args, message):
    result = cli(*args)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(message)
    assert "Traceback" not in result.stderr


def test_the_real_command_reports_an_error_in_one_line():
    result = cli_process("train", "--preset", "nope")
    assert result.returncode == 1 and result.stderr == "error: unknown preset 'nope'; choose one of smoke, " \
        "fast, standard, wide, best, long, distilled, robust\n"


def test_cli_data_info_reports_counts_and_sha(real_archive):
    result = cli("data", "info", "--data", real_archive, "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["format"] == "archive" and info["splits"]["train"]["images"] == 50000
    assert info["splits"]["test"]["per_class"] == [1000] * 10
    assert len(info["sha256"]) == 64


def test_help_explains_the_commands():
    result = cli("--help")
    assert result.returncode == 0 and "train" in result.stdout and "data" in result.stdout
    assert "--resume" in cli("train", "--help").stdout


MIRRORED_SCRIPT = """
import sys, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from cifar_edge.train import make_config
from cifar_edge.train.trainer import train
config = make_config("smoke", distribute="mirrored", epochs=1)
metrics = train(config, data=sys.argv[1], run_dir=sys.argv[2], progress=False)
print("replicas", metrics["replicas"], "epochs", metrics["epochs"])  # as the training recorded it
"""


@pytest.mark.slow
def test_mirrored_strategy_trains_across_two_logical_cpus(real_archive, tmp_path):
    result = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT, real_archive, tmp_path / "mirrored"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "replicas 2 epochs 1" in result.stdout
    assert (tmp_path / "mirrored" / "model.keras").exists()


# PyTorch is optional (pip install torch): where it is installed, its path is tested too.
OTHER_BACKENDS = ["jax"] + (["torch"] if importlib.util.find_spec("torch") else [])


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_a_run_trained_on_another_backend_loads_exports_and_compares_under_tensorflow(backend, real_archive,
                                                                                      smoke_run, tmp_path):
    """jax: the GPU path (the lent GPU machine has JAX and no TensorFlow, so a run is trained there and
    exported here), proved on the CPU with JAX's CPU wheel, which [dev] installs; taught by a teacher
    trained under TensorFlow, as the released model was.  torch: the faster CPU path (NCHW convolutions),
    tested where PyTorch is installed; it is optional, not in any extra."""
    from cifar_edge.export import export
    from cifar_edge.export.compare import compare

    run_dir = tmp_path / f"{backend}_smoke"
    env = {**os.environ, "KERAS_BACKEND": backend, "CIFAR_EDGE_DATA": str(real_archive)}
    # The smoke teacher knows little (about 25%), so the labels weigh most.
    teacher = ("--teacher", smoke_run[0], "--distill-weight", 0.3) if backend == "jax" else ()
    trained = cli_process("train", "--preset", "smoke", *teacher, "--name", run_dir, "--no-progress", env=env)
    assert trained.returncode == 0, trained.stderr[-2000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["versions"]["keras_backend"] == backend and metrics["test_accuracy"] > 0.15
    assert bool(metrics.get("teachers")) == bool(teacher)

    card = export(run_dir, out=tmp_path / "export", formats="tflite-int8,onnx-fp32", calib=100,
                  data=real_archive, progress=False)
    assert set(card["files"]) == {"tflite-int8", "onnx-fp32"}
    report = compare(tmp_path / "export", data=real_archive, limit=512, latency_runs=5, progress=False)
    rows = {row["format"]: row for row in report["rows"]}
    # The float reference, run by TensorFlow, reproduces the JAX-trained model's own score on the same
    # 512 test images.
    assert rows["keras-fp32"]["accuracy"] == pytest.approx(metrics["test_accuracy"])
    assert rows["onnx-fp32"]["agreement"] == 1.0 and rows["tflite-int8"]["agreement"] > 0.9
