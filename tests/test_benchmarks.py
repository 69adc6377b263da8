"""The benchmark scripts' own logic, on small inputs: what they measure must mean what they print."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from jpeg_quality import jpeg_round_trip, measure  # benchmarks/ is on pytest's path

REPO = Path(__file__).resolve().parents[1]


def test_jpeg_round_trip_keeps_shape_and_loses_more_at_lower_quality(real_test_split):
    images = real_test_split.images[:50]
    errors = []
    for quality in (95, 50, 10):
        recoded = jpeg_round_trip(images, quality)
        assert recoded.shape == images.shape and recoded.dtype == np.uint8
        assert not np.array_equal(recoded, images)  # JPEG is lossy even at 95
        errors.append(np.abs(recoded.astype(int) - images).mean())
    assert errors[0] < errors[1] < errors[2]
    assert np.array_equal(jpeg_round_trip(images, 50), jpeg_round_trip(images, 50))  # deterministic


def test_jpeg_measure_counts_accuracy_and_agreement_against_the_clean_predictions():
    class MeanBrightness:  # a stand-in classifier: class = mean pixel // 26 (0..9)
        def predict(self, images):
            return (images.reshape(len(images), -1).mean(axis=1) // 26).astype(int)

    images = np.stack([np.full((32, 32, 3), 26 * k + 13, np.uint8) for k in range(10)])  # mid-class
    labels = MeanBrightness().predict(images)
    labels[::2] = (labels[::2] + 1) % 10  # the model is wrong on half of the clean images
    result = measure(MeanBrightness(), images, labels, [90, 10], progress=False)
    assert result["clean_accuracy"] == 0.5
    for row in result["rows"]:  # flat images survive JPEG nearly unchanged: every prediction holds
        assert row["agreement"] == 1.0 and row["accuracy"] == 0.5 and row["psnr_db"] > 30


def test_results_table_refuses_runs_scored_on_different_data(tmp_path):
    for name, sha in (("a", "1" * 64), ("b", "2" * 64)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.json").write_text(json.dumps({"data": {"sha256": sha}, "test_images": 10_000}))
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "accuracy_vs_compute.py"),
                          str(tmp_path / "a"), str(tmp_path / "b")], capture_output=True, text=True)
    assert run.returncode != 0 and "scored on different data" in run.stderr


def test_results_table_names_the_gpu_a_run_trained_on_before_its_host():
    from accuracy_vs_compute import cpu_label

    host = {"cpu": "Intel(R) Xeon(R) Processor", "cpu_features": ["avx2", "amx_bf16"], "cpu_count": 16}
    assert cpu_label({**host, "accelerator": "NVIDIA H200"}) == "NVIDIA H200, host Intel(R) Xeon(R) Processor (amx_bf16) x16"
    assert cpu_label({**host, "accelerator": "cpu"}) == cpu_label(host) == "Intel(R) Xeon(R) Processor (amx_bf16) x16"


def test_seed_spread_refuses_runs_scored_on_different_data(tmp_path):
    for name, sha in (("a", "1" * 64), ("b", "2" * 64)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.json").write_text(json.dumps(
            {"data": {"sha256": sha}, "test_images": 10_000, "config": {"seed": 0, "widths": [1, 2, 3]}}))
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "seed_spread.py"),
                          str(tmp_path / "a"), str(tmp_path / "b")], capture_output=True, text=True)
    assert run.returncode != 0 and "different test data" in run.stderr


def test_the_step_timer_times_from_the_first_timed_step_so_one_step_is_enough(monkeypatch):
    import train_speed

    # One warm-up step, then one timed step that starts at 1.5 s and ends at 3.5 s: 1024 images in 2 s.
    clock = iter([1.0, 1.5, 3.5])
    monkeypatch.setattr(train_speed.time, "perf_counter", lambda: next(clock))
    timer = train_speed.StepTimer(warmup=1, batch_size=1024)
    for batch in range(2):
        timer.on_train_batch_begin(batch)
        timer.on_train_batch_end(batch)
    assert timer.images_per_s() == 512
    with pytest.raises(ValueError, match="no step ran after the 3 warm-up steps"):
        train_speed.StepTimer(warmup=3, batch_size=1024).images_per_s()


def test_seed_spread_takes_one_recipe_under_any_preset_name_and_refuses_two(tmp_path):
    """The recipe is the knobs: a run recorded before a knob existed, or under the preset's earlier name,
    is the same recipe; another learning rate is not."""
    def record(name, seed, **config):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.json").write_text(json.dumps(
            {"data": {"sha256": "1" * 64}, "test_images": 10_000, "seed": seed, "epochs": 2, "test_accuracy": 0.9,
             "test_accuracy_flip_tta": 0.91, "val_accuracy": 0.9, "train_wall_seconds": 60,
             "config": {"widths": [8, 16, 16], "seed": seed, **config}}))
        return str(tmp_path / name)

    same = [record("a", 0, preset="airbench96"), record("b", 1, preset="best", teacher_views=0)]
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "seed_spread.py"), *same],
                         capture_output=True, text=True)
    assert run.returncode == 0 and "2 runs of one recipe" in run.stdout, run.stderr
    other = record("c", 2, preset="best", lr=0.5)
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "seed_spread.py"), *same, other],
                         capture_output=True, text=True)
    assert run.returncode != 0 and "differ in more than their seed" in run.stderr


@pytest.mark.parametrize("script", sorted((REPO / "benchmarks").glob("*.py")), ids=lambda p: p.name)
def test_every_benchmark_script_explains_itself(script):
    """Each script opens with a docstring that says what it measures and the command that runs it."""
    import ast

    doc = ast.get_docstring(ast.parse(script.read_text()))
    assert doc and len(doc) > 80, f"{script.name} has no docstring a newcomer could start from"


@pytest.mark.parametrize("script", sorted(p for p in (REPO / "benchmarks").glob("*.py")
                                           if "hide_tensorflow_start_up()" in p.read_text()), ids=lambda p: p.name)
def test_benchmarks_that_load_keras_keep_tensorflow_start_up_lines_off_the_screen(script):
    """TF_CPP_MIN_LOG_LEVEL alone lets them through (cifar_edge/quiet.py says why)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    run = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    for chatter in ("oneDNN", "cudart", "cuInit", "absl::InitializeLog"):
        assert chatter not in run.stderr + run.stdout


def test_robust_training_scores_each_candidate_on_corrupted_validation_images(smoke_run, real_archive, tmp_path):
    """A finished candidate is reused, not retrained, and scored on validation sets seeded apart from the test sets."""
    run_dir, metrics = smoke_run
    shutil.copytree(run_dir, tmp_path / "runs" / "smoke-2ep" / "plain")
    (tmp_path / "runs" / "smoke-2ep" / "plain" / "val_robustness.json").unlink(missing_ok=True)  # scored afresh
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "robust_training.py"), "--data", str(real_archive),
                          "--preset", "smoke", "--only", "plain", "--runs", str(tmp_path / "runs"), "--no-progress"],
                         capture_output=True, text=True, env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert run.returncode == 0, run.stderr
    assert "corruptions seeded 1 (test sets: 0)" in run.stdout
    row = next(line for line in run.stdout.splitlines() if line.startswith("plain "))
    assert f"{metrics['test_accuracy']:.2%}" in row and "epoch 1/2" not in run.stdout  # reused, not retrained
    assert list((tmp_path / "cache" / "cifar-edge" / "corrupted").glob("*-val256-seed0-256img-seed1-*"))


def test_distillation_prints_the_student_without_and_with_its_teacher(smoke_run, real_archive, tmp_path):
    run_dir, metrics = smoke_run
    other_recipe = tmp_path / "other"  # a finished run of another recipe: named, but not taken for either
    shutil.copytree(run_dir, other_recipe)
    recorded = json.loads((other_recipe / "metrics.json").read_text())
    recorded["config"]["epochs"] = 3
    (other_recipe / "metrics.json").write_text(json.dumps(recorded))
    # The teacher's own run has the plain student's recipe: --reuse takes it instead of training one.
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "distillation.py"), "--data", str(real_archive),
                          "--preset", "smoke", "--teacher", str(run_dir), "--runs", str(tmp_path / "runs"),
                          "--reuse", f"{other_recipe},{run_dir}", "--teacher-views", "1", "--no-progress"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert f"teacher(s): {run_dir} ({metrics['test_accuracy']:.2%})" in lines[0]
    plain = next(line for line in lines if line.startswith("plain "))
    distilled = next(line for line in lines if line.startswith("distilled "))
    assert f"{metrics['test_accuracy']:.2%}" in plain and float(distilled.split()[-1]) >= 0
    assert json.loads((tmp_path / "runs" / "smoke-2ep" / "distilled" / "metrics.json").read_text())["teachers"]
    assert not (tmp_path / "runs" / "smoke-2ep" / "plain").exists()
    assert lines[-2].startswith("distillation: ") and "pp validation accuracy" in lines[-2]
    # The third student keeps its teacher's answers for one view and replays it in its second epoch.
    kept = json.loads((tmp_path / "runs" / "smoke-2ep" / "1_views" / "metrics.json").read_text())
    assert kept["config"]["teacher_views"] == 1 and any(line.startswith("1 views ") for line in lines)
    assert lines[-1].startswith("teacher answers kept for 1 views against asked every epoch: ")
    # Without the live student the kept-view one is the taught one (both finished above: nothing retrains).
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "distillation.py"), "--data", str(real_archive),
                          "--preset", "smoke", "--teacher", str(run_dir), "--runs", str(tmp_path / "runs"),
                          "--reuse", str(run_dir), "--teacher-views", "1", "--no-live", "--no-progress"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert not any(line.startswith("distilled ") for line in lines) and "epoch 1/2" not in run.stdout
    assert lines[-1].startswith("distillation: ") and lines[-1].endswith("; kept for 1 views)")
    assert f"{kept['val_accuracy']:.2%}" in next(line for line in lines if line.startswith("1 views "))


def test_teacher_answers_times_both_precisions_and_measures_what_bfloat16_changes(smoke_run, real_archive):
    run_dir, metrics = smoke_run
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "teacher_answers.py"), "--data", str(real_archive),
                          "--teacher", str(run_dir), "--images", "300", "--repeats", "2", "--test-limit", "200",
                          "--json"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    (teacher,) = result["teachers"]
    exact, rounded = teacher["precisions"]["float32"], teacher["precisions"]["mixed_bfloat16"]
    assert teacher["run"] == str(run_dir) and result["images"] == 300 and result["test_images"] == 200
    assert len(exact["answers_per_s_each"]) == 2 and min(exact["answers_per_s"], rounded["answers_per_s"]) > 0
    assert exact["agreement_with_float32"] == 1 and exact["mean_kl_from_float32"] == 0
    # bfloat16 moves the answers a little, not to other classes
    assert 0 < rounded["mean_kl_from_float32"] < 0.01 and rounded["agreement_with_float32"] > 0.9
    assert 0 < rounded["test_accuracy"] <= 1


def test_keras_predict_times_both_ways_pass_by_pass_and_finds_the_same_outputs(smoke_run, real_archive):
    run_dir, _ = smoke_run
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "keras_predict.py"), str(run_dir / "model.keras"),
                          "--data", str(real_archive), "--images", "100", "--batch-size", "32", "--repeats", "2",
                          "--json"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["identical_outputs"] is True and result["images"] == 100
    assert set(result["passes"]) == {"model.predict", "logits_of (predict_on_batch)"}
    assert all(len(rows) == 2 and all(r["images_per_s"] > 0 for r in rows) for rows in result["passes"].values())


def test_the_arm64_scorer_keeps_slices_and_joins_them_into_eval_s_predictions_file(real_archive, tmp_path):
    """make pi-check's scorer: a rerun reuses the slices already scored, and the joined file is what
    `cifar-edge eval --out` writes for the same images."""
    model = REPO / "models" / "cifar_edge_int8.tflite"
    command = [sys.executable, str(REPO / "benchmarks" / "pi_arm64_score.py"), str(model), "--data", str(real_archive),
               "--out", str(tmp_path / "arm64.json"), "--limit", "120", "--slice", "50"]
    first = subprocess.run(command, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("scored in") == 3 and "images 100-119" in first.stdout
    (tmp_path / "arm64.json").unlink()
    again = subprocess.run(command, capture_output=True, text=True)
    assert again.returncode == 0 and "scored in" not in again.stdout  # every slice reused
    whole = subprocess.run([sys.executable, "-m", "cifar_edge", "eval", str(model), "--data", str(real_archive),
                            "--limit", "120", "--out", str(tmp_path / "eval.json"), "--no-progress"],
                           capture_output=True, text=True)
    assert whole.returncode == 0, whole.stderr
    joined, scored = (json.loads((tmp_path / name).read_text()) for name in ("arm64.json", "eval.json"))
    assert joined["scores"] == scored["scores"] and joined["accuracy"] == scored["accuracy"]
    assert {key: joined[key] for key in ("model_sha256", "data_sha256", "images")} == \
           {key: scored[key] for key in ("model_sha256", "data_sha256", "images")}
