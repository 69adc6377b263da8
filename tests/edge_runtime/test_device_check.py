"""`cifar-edge eval`: one machine's predictions file checked against another's (a Pi against the
workstation), and the agreement figures it reports."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cifar_edge.edge_runtime import device_check
from cifar_edge.edge_runtime.released import released_model_path
from cifar_edge.errors import CifarEdgeError
from conftest import cli


def record(scores, labels, step=0.1, arch="x86_64") -> dict:
    scores = np.asarray(scores, np.float32)
    return {**device_check.identity(released_model_path(), "data", len(labels)), "arch": arch,
            "accuracy": float(np.mean(scores.argmax(axis=1) == labels)), "machine": arch, "versions": {},
            "output_step": step, "predictions": scores.argmax(axis=1).tolist(), "scores": scores.tolist()}


def test_agreement_counts_classes_and_int8_steps():
    labels = np.array([0, 1, 2, 0])
    x86 = np.zeros((4, 10))
    x86[[0, 1, 2, 3], [0, 1, 2, 1]] = 1.0  # the last image is wrong on x86
    arm = x86.copy()
    arm[1, 1] += 0.1                         # one step off, same class
    arm[3, 0] += 1.2                         # 12 steps off: now class 0, right
    result = device_check.agreement(record(arm, labels, arch="aarch64"), record(x86, labels))
    assert result["this"]["accuracy"] == 1.0 and result["other"]["accuracy"] == 0.75
    assert result["top1_agreement"] == 0.75 and result["images_that_differ"] == 1
    assert result["identical_outputs"] == 0.5
    assert result["largest_difference_steps"] == 12
    shares = result["images_by_largest_step_difference"]
    assert shares["0"] == 0.5 and shares["1"] == 0.25 and shares["12"] == 0.25 and sum(shares.values()) == 1.0
    assert "12 int8 steps" in device_check.agreement_report(result, "pi", "x86")


def test_a_file_of_another_model_or_data_is_refused():
    labels = np.array([0, 1])
    mine = record(np.eye(10)[:2], labels)
    for key in ("model_sha256", "data_sha256", "images"):
        with pytest.raises(CifarEdgeError, match="same model on the same data"):
            device_check.check_comparable(mine, {**mine, key: "other"}, "theirs.json")


def test_eval_writes_predictions_and_checks_them_against_itself(real_archive, tmp_path):
    out = tmp_path / "x86.json"
    first = cli("eval", "--data", real_archive, "--limit", 200, "--out", out, "--no-progress")
    assert first.returncode == 0, first.stderr
    written = json.loads(out.read_text())
    assert written["images"] == 200 and len(written["scores"]) == 200 and written["output_step"] > 0
    assert f"{written['accuracy']:.2%}" in first.stdout

    again = cli("eval", "--data", real_archive, "--limit", 200, "--against", out, "--no-progress", "--json")
    assert again.returncode == 0, again.stderr
    against = json.loads(again.stdout)["against"]
    assert against["top1_agreement"] == 1.0 and against["identical_outputs"] == 1.0


def test_eval_refuses_what_it_cannot_compare_before_scoring(real_archive, tmp_path):
    out = tmp_path / "x86.json"
    assert cli("eval", "--data", real_archive, "--limit", 20, "--out", out, "--no-progress").returncode == 0

    kept = out.read_text()
    again = cli("eval", "--data", real_archive, "--limit", 20, "--out", out, "--no-progress")
    assert again.returncode == 1 and "--force" in again.stderr and out.read_text() == kept

    other_size = cli("eval", "--data", real_archive, "--limit", 30, "--against", out, "--no-progress")
    assert other_size.returncode == 1 and "number of images" in other_size.stderr and not other_size.stdout
    # A file that cannot be scored at all: only a check made before the scoring names the mismatch.
    garbage = tmp_path / "garbage.tflite"
    garbage.write_bytes(b"not a model")
    unscorable = cli("eval", garbage, "--data", real_archive, "--limit", 20, "--against", out, "--no-progress")
    assert unscorable.returncode == 1 and "another model file" in unscorable.stderr

    truncated = tmp_path / "truncated.json"
    truncated.write_text(kept[:100])
    bad = cli("eval", "--data", real_archive, "--limit", 20, "--against", truncated, "--no-progress")
    assert bad.returncode == 1 and "not a predictions file" in bad.stderr and "Traceback" not in bad.stderr


def test_records_of_consecutive_slices_join_into_the_whole_one():
    labels = np.array([0, 1, 2, 0, 3])
    scores = np.eye(10)[[0, 1, 1, 0, 3]]
    whole = record(scores, labels)
    joined = device_check.join_records([record(scores[:2], labels[:2]), record(scores[2:], labels[2:])])
    assert joined == whole
    with pytest.raises(CifarEdgeError, match="another output_step"):
        device_check.join_records([record(scores[:2], labels[:2]), record(scores[2:], labels[2:], step=None)])
