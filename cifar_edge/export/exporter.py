"""`cifar-edge export`: a trained run (or any model.keras of ours) -> the files a device runs.

    RUN_DIR/model.keras -> OUT/model_fp32.tflite, model_fp16.tflite, model_dynamic.tflite,
                           model_int8.tflite, model_fp32.onnx, model_int8.onnx,
                           model.keras (the float reference `compare` scores against),
                           model_card.json

Each model file carries its own metadata (labels, input contract, version, source hash: see
`edge_runtime.model_info`).  Calibration for the int8 files uses training images only, class-balanced
and seeded; the test set is kept for `compare`.  Files are written atomically, and existing ones are
refused unless `force`, before any work starts.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from cifar_edge.data import CLASSES, Split, file_sha256, load_cifar10
from cifar_edge.edge_runtime.model_info import INPUT_CONTRACT, METADATA_KEY, embed_tflite_metadata
from cifar_edge.errors import CifarEdgeError
from cifar_edge.export.to_tflite import DEFAULT_PERCENTILE
from cifar_edge.files import read_json, write_atomically, write_json
from cifar_edge.train import report

# format -> file name; the order is the order of `compare`'s table.
FORMATS = {
    "tflite-fp32": "model_fp32.tflite",
    "tflite-fp16": "model_fp16.tflite",
    "tflite-dynamic": "model_dynamic.tflite",
    "tflite-int8": "model_int8.tflite",
    "onnx-fp32": "model_fp32.onnx",
    "onnx-int8": "model_int8.onnx",
}
REFERENCE = "model.keras"
CARD = "model_card.json"


def resolve_source(source: str | Path) -> tuple[Path, dict | None]:
    """The model.keras to export and its run's metrics.json (None for a bare model file)."""
    source = Path(source)
    model_path = source / REFERENCE if source.is_dir() else source
    if not model_path.exists():
        hint = " (is the training finished? a run writes model.keras at its end)" if source.is_dir() else ""
        raise CifarEdgeError(f"no trained model at {model_path}{hint}")
    if model_path.suffix != ".keras":
        raise CifarEdgeError(f"{model_path} is not a Keras model: expected a run folder or a .keras file")
    metrics_path = model_path.parent / "metrics.json"
    return model_path, read_json(metrics_path) if metrics_path.exists() else None


def load_keras_model(path: Path):
    import keras
    import cifar_edge.train.model  # noqa: F401  registers the custom layers the file refers to

    try:
        return keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises ValueError, OSError, BadZipFile... for a bad file
        raise CifarEdgeError(f"{path} could not be loaded as a Keras model: {str(exc).splitlines()[0]}") from exc


def parse_formats(formats: str | None) -> list[str]:
    if not formats or formats == "all":
        return list(FORMATS)
    chosen = [f.strip() for f in formats.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown:
        raise CifarEdgeError(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    return [f for f in FORMATS if f in chosen]


def calibration_images(train: Split, count: int, seed: int) -> np.ndarray:
    """`count` training images, the same number from every class, picked by `seed`."""
    if not 10 <= count <= len(train):
        raise CifarEdgeError(f"--calib must be between 10 and {len(train)}, got {count}")
    rng = np.random.default_rng(seed)
    per_class = count // len(CLASSES)
    picked = [rng.choice(np.flatnonzero(train.labels == c), per_class, replace=False) for c in range(len(CLASSES))]
    return train.images[rng.permutation(np.concatenate(picked))]


def package_versions() -> dict[str, str]:
    return report.package_versions(("cifar-edge", "tensorflow", "keras", "tf2onnx", "onnx", "onnxruntime",
                                    "ai-edge-litert", "numpy"))


def convert(model, fmt: str, calib: np.ndarray, percentile: float | None, cache: dict) -> bytes:
    from cifar_edge.export import to_onnx, to_tflite

    if fmt == "tflite-int8":
        return to_tflite.convert_int8(model, calib, percentile)
    if fmt.startswith("tflite-"):
        return to_tflite.convert_float(model, fmt.removeprefix("tflite-"))
    if "onnx-fp32" not in cache:  # the int8 ONNX file is quantized from the float one
        cache["onnx-fp32"] = to_onnx.convert_fp32(model)
    if fmt == "onnx-fp32":
        return cache["onnx-fp32"]
    return to_onnx.quantize_int8(cache["onnx-fp32"], calib, percentile)


def with_file_metadata(fmt: str, model_bytes: bytes, info: dict) -> bytes:
    info = {**info, "format": fmt}
    if fmt.startswith("tflite-"):
        return embed_tflite_metadata(model_bytes, info)
    from cifar_edge.export.to_onnx import with_metadata

    return with_metadata(model_bytes, METADATA_KEY, json.dumps(info, sort_keys=True))


def export(source: str | Path, out: str | Path | None = None, formats: str | None = None, calib: int = 1000,
           data: str | Path | None = None, seed: int = 0, calib_percentile: float = DEFAULT_PERCENTILE,
           force: bool = False, progress: bool = True) -> dict:
    """Exports `source` (a run folder or .keras file) to `out`; returns the model card it writes.
    The int8 activation ranges cover `calib_percentile` of the calibration values (100: min/max)."""
    if not 99.0 <= calib_percentile <= 100.0:
        raise CifarEdgeError(f"--calib-percentile must be between 99 and 100, got {calib_percentile}")
    percentile = None if calib_percentile == 100 else calib_percentile
    from tqdm import tqdm

    model_path, run_metrics = resolve_source(source)
    chosen = parse_formats(formats)
    name = model_path.parent.name if model_path.name == REFERENCE else model_path.stem
    out = Path(out) if out else Path("exports") / name
    targets = [out / FORMATS[f] for f in chosen] + [out / REFERENCE, out / CARD]
    existing = [str(p) for p in targets if p.exists()]
    if existing and not force:
        raise CifarEdgeError(f"{', '.join(existing)} already exist(s): use --force to overwrite")

    model = load_keras_model(model_path)
    source_sha = file_sha256(model_path)
    needs_calibration = any(f.endswith("int8") for f in chosen)
    dataset = load_cifar10(data, splits=("train",)) if needs_calibration else None
    calib_images = calibration_images(dataset.train, calib, seed) if dataset else None
    version = f"{name}-{source_sha[:12]}"
    info = {"labels": list(CLASSES), "input": INPUT_CONTRACT, "output": "logits", "model_version": version,
            "source_sha256": source_sha, "producer": f"cifar-edge {package_versions().get('cifar-edge', '?')}"}

    files, cache = {}, {}
    bar = tqdm(chosen, desc="export", unit="file", disable=not progress)
    for fmt in bar:
        bar.set_postfix_str(fmt)
        model_bytes = with_file_metadata(fmt, convert(model, fmt, calib_images, percentile, cache), info)
        path = out / FORMATS[fmt]
        write_atomically(path, lambda tmp: Path(tmp).write_bytes(model_bytes))
        files[fmt] = {"file": path.name, "bytes": len(model_bytes), "sha256": hashlib.sha256(model_bytes).hexdigest()}
    write_atomically(out / REFERENCE, lambda tmp: shutil.copyfile(model_path, tmp))

    card = {
        "model_version": version,
        "source": {"path": str(model_path), "sha256": source_sha},
        "input": INPUT_CONTRACT,
        "labels": list(CLASSES),
        "training": None if run_metrics is None else {
            key: run_metrics.get(key) for key in ("test_accuracy", "test_accuracy_flip_tta", "val_accuracy",
                                                  "epochs", "train_wall_seconds", "seed", "parameters", "data")},
        "files": files,
        "export_options": {"formats": chosen, "calibration_images": calib if needs_calibration else 0,
                           "calibration_seed": seed, "calibration_split": "train (class-balanced)",
                           "activation_ranges": "min/max" if percentile is None else f"percentile {percentile}",
                           "calibration_data_sha256": dataset.sha256 if dataset else None},
        "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": package_versions(),
        "compare": None,  # filled in by `cifar-edge compare`
    }
    write_json(out / CARD, card)
    return {"out": str(out), **card}
