"""Does a device compute what this machine computes?

`cifar-edge eval` scores one exported file on the CIFAR-10 test set with the interpreter of the
machine it runs on and writes every image's scores to a predictions file.  Given another machine's
file (`--against`), it reports how far the two agree: accuracy on each, top-1 agreement, and how the
raw outputs differ, counted in the int8 output's quantization steps where the output is int8.

Why this exists: the int8 kernels of x86 and ARM round differently, so the accuracy `compare`
measures on a workstation is not bit-for-bit what a Raspberry Pi computes.  A Pi owner runs `eval` on
the Pi and checks its file against the workstation's.  No TensorFlow: this runs on the Pi install.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

import numpy as np

from cifar_edge import evaluation, provenance
from cifar_edge.data import file_sha256
from cifar_edge.edge_runtime.classifier import Classifier
from cifar_edge.errors import CifarEdgeError

FILE_KIND = "cifar-edge predictions"
RUNTIME_PACKAGES = ("ai-edge-litert", "tflite-runtime", "onnxruntime", "numpy")


def identity(model: Path, data_sha256: str, images: int) -> dict:
    """What two predictions files must share to be compared: the model file, the data, the images."""
    return {"kind": FILE_KIND, "model": Path(model).name,
            "model_sha256": file_sha256(Path(model)),
            "data_sha256": data_sha256, "images": images}


def score_test_set(model: Path, images: np.ndarray, labels: np.ndarray, data_sha256: str, threads: int = 1,
                   progress=None) -> dict:
    """The predictions record of `model` on these test images: accuracy, every image's class and raw
    scores, the output's quantization step (None for a float output) and the machine it ran on."""
    classifier = Classifier(model, threads=threads)
    scores = classifier.scores(images, batch_size=250, progress=progress)
    predictions = scores.argmax(axis=1)
    return {**identity(model, data_sha256, len(labels)),
            "accuracy": evaluation.accuracy(predictions, labels),
            "arch": platform.machine(), "machine": provenance.describe_machine(provenance.machine_info()),
            "versions": provenance.package_versions(RUNTIME_PACKAGES),
            "output_step": classifier.backend.output_step,
            "predictions": predictions.tolist(),
            "scores": np.round(scores, 6).tolist()}


def join_records(parts: list[dict]) -> dict:
    """One predictions record from the records of consecutive slices of the test set, in order: what
    `score_test_set` gives on the whole, for a scoring done in pieces (hours under emulation)."""
    first = parts[0]
    for part in parts[1:]:
        for key in ("model_sha256", "data_sha256", "output_step", "arch"):
            if part[key] != first[key]:
                raise CifarEdgeError(f"cannot join predictions made with another {key} "
                                     f"({part[key]!s:.16} against {first[key]!s:.16})")
    images = sum(part["images"] for part in parts)
    correct = sum(round(part["accuracy"] * part["images"]) for part in parts)  # counts, not rounded shares
    return {**first, "images": images, "accuracy": correct / images,
            "predictions": [p for part in parts for p in part["predictions"]],
            "scores": [s for part in parts for s in part["scores"]]}


def read_predictions(path: Path) -> dict:
    """A predictions file written by `eval --out`, or a clear error for anything else."""
    try:
        record = json.loads(Path(path).read_text())
    except OSError as exc:
        raise CifarEdgeError(f"cannot read predictions file {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        record = None
    if not isinstance(record, dict) or record.get("kind") != FILE_KIND or "scores" not in record:
        raise CifarEdgeError(f"{path} is not a predictions file written by `cifar-edge eval --out` "
                             "(truncated or another kind of file?)")
    return record


def check_comparable(mine: dict, theirs: dict, their_name: str) -> None:
    """Two records can only be compared for the same file on the same images."""
    for key, what in (("model_sha256", "model file"), ("data_sha256", "test data"), ("images", "number of images")):
        if mine[key] != theirs[key]:
            raise CifarEdgeError(f"{their_name} was made with another {what} ({theirs[key]!s:.16} against "
                                 f"{mine[key]!s:.16} here): run the same model on the same data on both machines")


def agreement(mine: dict, theirs: dict) -> dict:
    """How two machines' records of the same model on the same images differ."""
    mine_scores, their_scores = np.asarray(mine["scores"]), np.asarray(theirs["scores"])
    mine_pred, their_pred = np.asarray(mine["predictions"]), np.asarray(theirs["predictions"])
    largest = np.abs(mine_scores - their_scores).max(axis=1)  # per image
    step = mine["output_step"]
    result = {"images": mine["images"], "this": summary(mine), "other": summary(theirs),
              "top1_agreement": float(np.mean(mine_pred == their_pred)),
              "images_that_differ": int(np.sum(mine_pred != their_pred)),
              "identical_outputs": float(np.mean(largest == 0)),
              "largest_difference": float(largest.max()) if len(largest) else 0.0,
              "output_step": step, "images_by_largest_step_difference": None}
    if step:
        steps = np.rint(largest / step).astype(int)
        result["largest_difference_steps"] = int(steps.max()) if len(steps) else 0
        result["images_by_largest_step_difference"] = {
            str(k): float(np.mean(steps == k)) for k in range(int(steps.max()) + 1 if len(steps) else 0)}
    return result


def summary(record: dict) -> dict:
    return {key: record[key] for key in ("accuracy", "arch", "machine", "versions")}


def agreement_report(result: dict, this_name: str, other_name: str) -> str:
    this, other = result["this"], result["other"]
    heads = [f"{this_name} ({this['arch']})", f"{other_name} ({other['arch']})"]
    width = max(map(len, heads)) + 2
    lines = [f"{'':<22}" + "".join(f"{head:>{width}}" for head in heads),
             f"{'accuracy':<22}{this['accuracy']:>{width}.2%}{other['accuracy']:>{width}.2%}",
             f"top-1 agreement       {result['top1_agreement']:.2%} ({result['images_that_differ']} of "
             f"{result['images']} images get another class)",
             f"identical outputs     {result['identical_outputs']:.1%} of images"]
    if result["output_step"]:
        lines.append(f"largest difference    {result['largest_difference_steps']} int8 steps "
                     f"({result['largest_difference']:.4f} in logits)")
        lines.append("images by their largest output difference, in int8 steps: " + ", ".join(
            f"{k}: {share:.1%}" for k, share in result["images_by_largest_step_difference"].items()))
    else:
        lines.append(f"largest difference    {result['largest_difference']:.2e} in logits")
    lines.append(f"{this_name}: {this['arch']}, {this['machine']}\n{other_name}: {other['arch']}, {other['machine']}")
    return "\n".join(lines)
