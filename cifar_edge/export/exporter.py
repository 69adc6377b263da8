"""`cifar-edge export`: a trained run (or any model.keras of ours) -> the files a device runs.

    RUN_DIR/model.keras -> OUT/<one file per row of cifar_edge.formats.FORMATS>,
                           model.keras (the float reference `compare` scores against),
                           model_card.json

Each format has one converter (CONVERTERS, in `to_tflite` and `to_onnx`).  Each model file carries its
own metadata: labels and the input contract read off the model itself, version and source hash (see
`edge_runtime.model_info`).  Calibration for the int8 files uses training images only, class-balanced
and seeded; the test set is kept for `compare`.  Files are written atomically, and existing ones are
refused unless `force`, before any work starts.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from cifar_edge import provenance
from cifar_edge.contract import CLASSES, METADATA_KEY, InputContract
from cifar_edge.data import Split, file_sha256, load_cifar10
from cifar_edge.edge_runtime.model_info import embed_tflite_metadata
from cifar_edge.errors import CifarEdgeError
from cifar_edge.export import to_onnx, to_tflite
from cifar_edge.files import read_json, write_atomically, write_json
from cifar_edge.formats import DEFAULT_PERCENTILE, parse_formats

REFERENCE = "model.keras"
CARD = "model_card.json"


@dataclass
class Conversion:
    """What every converter gets: the Keras model and, for the calibrated (int8) formats, the
    calibration images and the percentile of their values the activation ranges cover (None: min/max)."""
    model: object
    calibration_images: np.ndarray | None = None
    percentile: float | None = DEFAULT_PERCENTILE
    made: dict = field(default_factory=dict)

    def once(self, key: str, make):
        """`make()`, computed once per conversion (one format can be built from another)."""
        if key not in self.made:
            self.made[key] = make()
        return self.made[key]


# Format name -> the function that makes its bytes.  A test checks there is one for every format.
CONVERTERS = {
    "tflite-fp32": to_tflite.convert_fp32,
    "tflite-fp16": to_tflite.convert_fp16,
    "tflite-dynamic": to_tflite.convert_dynamic,
    "tflite-int8": to_tflite.convert_int8,
    "onnx-fp32": to_onnx.convert_fp32,
    "onnx-int8": to_onnx.convert_int8,
}
# File suffix -> how metadata is stored in such a file.
METADATA_WRITERS = {
    ".tflite": embed_tflite_metadata,
    ".onnx": lambda model_bytes, info: to_onnx.with_metadata(model_bytes, METADATA_KEY, json.dumps(info, sort_keys=True)),
}


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


def calibration_images(train: Split, count: int, seed: int) -> np.ndarray:
    """`count` training images, the same number from every class, picked by `seed`."""
    if not 10 <= count <= len(train):
        raise CifarEdgeError(f"--calib must be between 10 and {len(train)}, got {count}")
    rng = np.random.default_rng(seed)
    per_class = count // len(CLASSES)
    picked = [rng.choice(np.flatnonzero(train.labels == c), per_class, replace=False) for c in range(len(CLASSES))]
    return train.images[rng.permutation(np.concatenate(picked))]


def package_versions() -> dict[str, str]:
    return provenance.package_versions(("cifar-edge", "tensorflow", "keras", "tf2onnx", "onnx", "onnxruntime",
                                        "ai-edge-litert", "numpy"))


def contract_of(model) -> InputContract:
    """The input contract of a Keras model of ours, read off the model: its input's size and type, and
    the mean and standard deviation its normalisation layer applies."""
    from keras import ops

    image = model.inputs[0]
    _, height, width, channels = image.shape
    if model.outputs[0].shape[-1] != len(CLASSES):
        raise CifarEdgeError(f"the model has {model.outputs[0].shape[-1]} outputs, not one per CIFAR-10 class")
    normalize = model.get_layer("normalize")
    mean = ops.convert_to_numpy(normalize.mean).ravel()
    std = np.sqrt(ops.convert_to_numpy(normalize.variance).ravel())
    return InputContract(height=height, width=width, channels=channels, dtype=str(image.dtype),
                         mean=tuple(round(float(m), 6) for m in mean), std=tuple(round(float(v), 6) for v in std))


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
    targets = [out / f.file for f in chosen] + [out / REFERENCE, out / CARD]
    existing = [str(p) for p in targets if p.exists()]
    if existing and not force:
        raise CifarEdgeError(f"{', '.join(existing)} already exist(s): use --force to overwrite")

    model = load_keras_model(model_path)
    source_sha = file_sha256(model_path)
    needs_calibration = any(f.calibrated for f in chosen)
    dataset = load_cifar10(data, splits=("train",)) if needs_calibration else None
    conversion = Conversion(model, calibration_images(dataset.train, calib, seed) if dataset else None, percentile)
    version = f"{name}-{source_sha[:12]}"
    contract = contract_of(model).to_dict()
    info = {"labels": list(CLASSES), "input": contract, "output": "logits", "model_version": version,
            "source_sha256": source_sha, "producer": f"cifar-edge {package_versions().get('cifar-edge', '?')}"}

    files = {}
    bar = tqdm(chosen, desc="export", unit="file", disable=not progress)
    for fmt in bar:
        bar.set_postfix_str(fmt.name)
        converted = CONVERTERS[fmt.name](conversion)
        model_bytes = METADATA_WRITERS[fmt.suffix](converted, {**info, "format": fmt.name})
        path = out / fmt.file
        write_atomically(path, lambda tmp: Path(tmp).write_bytes(model_bytes))
        files[fmt.name] = {"file": path.name, "bytes": len(model_bytes),
                           "sha256": hashlib.sha256(model_bytes).hexdigest()}
    write_atomically(out / REFERENCE, lambda tmp: shutil.copyfile(model_path, tmp))

    card = {
        "model_version": version,
        "source": {"path": str(model_path), "sha256": source_sha},
        "input": contract,
        "labels": list(CLASSES),
        "training": None if run_metrics is None else {
            key: run_metrics.get(key) for key in ("test_accuracy", "test_accuracy_flip_tta", "val_accuracy",
                                                  "epochs", "train_wall_seconds", "seed", "parameters", "data")},
        "files": files,
        "export_options": {"formats": [f.name for f in chosen], "calibration_images": calib if needs_calibration else 0,
                           "calibration_seed": seed, "calibration_split": "train (class-balanced)",
                           "activation_ranges": "min/max" if percentile is None else f"percentile {percentile}",
                           "calibration_data_sha256": dataset.sha256 if dataset else None},
        "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": package_versions(),
        "compare": None,  # filled in by `cifar-edge compare`
    }
    write_json(out / CARD, card)
    return {"out": str(out), **card}
