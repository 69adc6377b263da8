"""`cifar-edge compare`: does every exported file keep the float model's accuracy?

Scores the float Keras reference and every exported file in an export folder on all CIFAR-10 test
images, each file through the runtime a device would use (`edge_runtime.Classifier`: LiteRT for
.tflite, ONNX Runtime for .onnx), and reports per format: size, top-1 accuracy, change against float
in percentage points, top-1 agreement with float, and latency (batch 1, one thread, median).
A format the table marks full-integer must be: every tensor integer, checked in the file itself.

Writes compare.json, compare.md and confusion_<format>.png to the folder and records the table in
its model_card.json.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cifar_edge import evaluation, provenance
from cifar_edge.data import load_cifar10
from cifar_edge.edge_runtime import Classifier, measure_latency
from cifar_edge.edge_runtime.model_info import full_integer_violations
from cifar_edge.errors import CifarEdgeError
from cifar_edge.export.exporter import CARD, REFERENCE, load_keras_model
from cifar_edge.files import read_json, write_atomically, write_json
from cifar_edge.formats import FORMATS


def float_reference_logits(export_dir: Path, images: np.ndarray) -> np.ndarray:
    from cifar_edge.train.model import logits_of

    model = load_keras_model(export_dir / REFERENCE)
    return logits_of(model, images, batch_size=500)


def score_file(path: Path, images: np.ndarray, progress: bool) -> np.ndarray:
    from tqdm import tqdm

    classifier = Classifier(path, threads=os.cpu_count() or 1)
    with tqdm(total=len(images), desc=f"{path.name:<22}", unit="img", disable=not progress, leave=False) as bar:
        return classifier.scores(images, batch_size=250, progress=bar.update)


def compare(export_dir: str | Path, data: str | Path | None = None, limit: int = 0, latency_runs: int = 200,
            progress: bool = True) -> dict:
    """Scores everything in `export_dir` on the test set (its first `limit` images if set)."""
    export_dir = Path(export_dir)
    if not (export_dir / REFERENCE).is_file():
        raise CifarEdgeError(f"{export_dir} is not an export folder: it has no {REFERENCE} "
                             "(make one with `cifar-edge export RUN_DIR`)")
    present = [(fmt, export_dir / fmt.file) for fmt in FORMATS.values() if (export_dir / fmt.file).is_file()]
    if not present:
        raise CifarEdgeError(f"{export_dir} holds no exported model files "
                             f"({', '.join(f.file for f in FORMATS.values())})")
    dataset = load_cifar10(data, splits=("test",))
    test = dataset.test.take(slice(0, limit)) if limit else dataset.test

    float_pred = float_reference_logits(export_dir, test.images).argmax(axis=1)
    float_acc = evaluation.accuracy(float_pred, test.labels)
    rows = [{"format": "keras-fp32", "file": REFERENCE, "bytes": (export_dir / REFERENCE).stat().st_size,
             "accuracy": float_acc, "change_pp": 0.0, "agreement": 1.0, "latency_ms": None,
             "latency_p90_ms": None, "full_integer": None}]
    for fmt, path in present:
        pred = score_file(path, test.images, progress).argmax(axis=1)
        latency = measure_latency(path, threads=1, runs=latency_runs)
        violations = full_integer_violations(path.read_bytes(), str(path)) if fmt.full_integer else []
        accuracy = evaluation.accuracy(pred, test.labels)
        rows.append({"format": fmt.name, "file": path.name, "bytes": path.stat().st_size, "accuracy": accuracy,
                     "change_pp": round((accuracy - float_acc) * 100, 2),
                     "agreement": float(np.mean(pred == float_pred)),
                     "latency_ms": round(latency["median_ms"], 3), "latency_p90_ms": round(latency["p90_ms"], 3),
                     "full_integer": (not violations) if fmt.full_integer else None,
                     "float_tensors": violations[:10]})
        matrix = evaluation.confusion_matrix(test.labels, pred)
        evaluation.plot_confusion(export_dir / f"confusion_{fmt.name}.png", matrix,
                                  f"{fmt.name}: accuracy {accuracy:.2%}")
    result = {"export_dir": str(export_dir), "test_images": len(test), "data_sha256": dataset.sha256,
              "latency": {"batch": 1, "threads": 1, "statistic": "median after 20 warm-up calls",
                          "runs": latency_runs, "machine": provenance.machine_info()}, "rows": rows}
    write_json(export_dir / "compare.json", result)
    write_atomically(export_dir / "compare.md", lambda tmp: Path(tmp).write_text(markdown_table(rows) + "\n"))
    card_path = export_dir / CARD
    if card_path.exists():
        write_json(card_path, {**read_json(card_path), "compare": result})
    return result


def markdown_table(rows: list[dict]) -> str:
    lines = ["| format | size | top-1 accuracy | vs float | agreement | latency ms (median, p90) |",
             "|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        latency = "—" if row["latency_ms"] is None else f"{row['latency_ms']:.2f}, {row['latency_p90_ms']:.2f}"
        change = "—" if row["format"] == "keras-fp32" else f"{row['change_pp']:+.2f} pp"
        name = row["format"] + (" (NOT full-integer)" if row.get("full_integer") is False else "")
        lines.append(f"| {name} | {row['bytes'] / 1e6:.2f} MB | {row['accuracy']:.2%} | {change} | "
                     f"{row['agreement']:.2%} | {latency} |")
    return "\n".join(lines)


def failures(result: dict, max_drop: float | None) -> list[str]:
    """Why the comparison fails a gate: a drop beyond `max_drop` pp, or an int8 file with floats."""
    problems = []
    for row in result["rows"]:
        if max_drop is not None and row["change_pp"] < -max_drop:
            problems.append(f"{row['format']} drops {-row['change_pp']:.2f} pp (more than --max-drop {max_drop})")
        if row.get("full_integer") is False:
            problems.append(f"{row['format']} is not full-integer: float tensors {', '.join(row['float_tensors'][:3])}")
    return problems
