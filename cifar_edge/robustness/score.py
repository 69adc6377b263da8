"""`cifar-edge robustness`: how much accuracy each exported file keeps on corrupted test images.

Scores the files of an export folder (or of a release folder such as `models/`) on the clean test set
and on every corrupted set (`sets.corrupted_set`: 15 CIFAR-10-C corruptions and 3 camera conditions,
5 severities each), each file through the runtime a device uses, as `compare` does.  Per file it
reports accuracy per corruption and severity, the mean corruption accuracy (mCA, over the fifteen
CIFAR-10-C corruptions and five severities, as Hendrycks & Dietterich define it), the drop against
clean, and, against the float model, the mCA gap and the top-1 agreement on the corrupted images.

Writes robustness.json, robustness.md and robustness.png (`tables`) into the folder (or `--out`) and
records the summary in its model_card.json (in a release folder, in MODEL_CARD.md too), unless only
part of the test set was scored (--limit).

The whole run takes about an hour of two CPU cores, so each file's predictions on each set are saved
beside the cached sets, named by the file's bytes and the runtime's version: a run that was killed
continues where it stopped, and scoring one more file does not score the others again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable

import numpy as np

from cifar_edge import evaluation, provenance
from cifar_edge.data import load_cifar10
from cifar_edge.errors import CifarEdgeError
from cifar_edge.export.exporter import CARD, REFERENCE
from cifar_edge.files import read_json, write_json
from cifar_edge.formats import FORMATS
from cifar_edge.robustness.corruptions import CAMERA, CIFAR10_C, CORRUPTIONS, SEVERITIES
from cifar_edge.robustness.sets import cache_folder, corrupted_set, saved_or_made

KERAS = "keras-fp32"
# The float model the int8 files are measured against: the first of these the folder holds.
FLOAT_REFERENCES = (KERAS, "onnx-fp32", "tflite-fp32")
# What is scored when --formats is not given: the float reference and the int8 files a device runs.
DEFAULT_FORMATS = (KERAS, "tflite-int8", "onnx-int8")


def model_files(folder: Path) -> dict[str, Path]:
    """format name -> file, for every model in `folder`: an export's or a release's (whose card names
    its renamed files), plus the Keras float model of an export."""
    names = {name: fmt.file for name, fmt in FORMATS.items()}
    if (folder / CARD).is_file():
        names.update({name: entry["file"] for name, entry in read_json(folder / CARD).get("files", {}).items()})
    files = {KERAS: folder / REFERENCE} | {name: folder / file for name, file in names.items()}
    return {name: path for name, path in files.items() if path.is_file()}


def choose_formats(folder: Path, text: str | None) -> tuple[dict[str, Path], str]:
    """The files to score (by `--formats`: names, 'all', or nothing for DEFAULT_FORMATS) and the
    float reference among them, which is added when none was chosen."""
    present = model_files(folder)
    if not present:
        raise CifarEdgeError(f"{folder} holds no model files: give an export folder (`cifar-edge export`) "
                             "or a release folder such as models/")
    if text and text != "all":
        wanted = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in wanted if name not in (KERAS, *FORMATS)]
        if unknown:
            raise CifarEdgeError(f"unknown format(s) {', '.join(unknown)}: choose from {KERAS}, {', '.join(FORMATS)}")
        missing = [name for name in wanted if name not in present]
        if missing:
            raise CifarEdgeError(f"{folder} has no {', '.join(missing)} file (it has {', '.join(present)})")
    else:
        wanted = list(present) if text == "all" else [name for name in DEFAULT_FORMATS if name in present]
    reference = next((name for name in FLOAT_REFERENCES if name in present), None)
    if reference and reference not in wanted:
        wanted.insert(0, reference)
    order = [KERAS, *FORMATS]
    return {name: present[name] for name in sorted(wanted, key=order.index)}, reference


def predictor(name: str, path: Path) -> Callable[[np.ndarray], np.ndarray]:
    """images -> class indices, through Keras for the float reference and the device runtime for files."""
    if name == KERAS:
        from cifar_edge.export.exporter import load_keras_model
        from cifar_edge.train.model import logits_of
        model = load_keras_model(path)
        return lambda images: logits_of(model, images, batch_size=500).argmax(axis=1)
    from cifar_edge.edge_runtime import Classifier
    classifier = Classifier(path, threads=os.cpu_count() or 1)
    return lambda images: classifier.scores(images, batch_size=250).argmax(axis=1)


# The packages whose versions can change a file's predictions.
RUNTIMES = ("numpy", "tensorflow", "keras", "ai-edge-litert", "tflite-runtime", "onnxruntime")


def predictions_key(path: Path) -> str:
    """What decides a file's predictions on a set: its bytes and the runtimes that read it."""
    digest = hashlib.sha256(path.read_bytes())
    digest.update(json.dumps(provenance.package_versions(RUNTIMES), sort_keys=True).encode())
    return digest.hexdigest()[:16]


def remembered(predict: Callable[[np.ndarray], np.ndarray], images: np.ndarray, path: Path | None) -> np.ndarray:
    """predict(images), read from `path` when an earlier run saved it there (and saved there if not)."""
    return saved_or_made(path, lambda saved: saved.shape == (len(images),), lambda: predict(images))


def choose_corruptions(text: str | None) -> list[str]:
    """`--corruptions`: names, 'cifar10-c', 'camera', or nothing for all of them."""
    if not text or text == "all":
        return list(CORRUPTIONS)
    chosen = []
    for item in (part.strip() for part in text.split(",") if part.strip()):
        group = {"cifar10-c": CIFAR10_C, "camera": CAMERA}.get(item, (item,))
        unknown = [name for name in group if name not in CORRUPTIONS]
        if unknown:
            raise CifarEdgeError(f"unknown corruption {unknown[0]!r}: choose from cifar10-c, camera, "
                                 f"{', '.join(CORRUPTIONS)}")
        chosen += [name for name in group if name not in chosen]
    return [name for name in CORRUPTIONS if name in chosen]


def summarise(clean: np.ndarray, sets: dict[tuple[str, int], np.ndarray], labels: np.ndarray,
              float_clean: np.ndarray | None, float_sets: dict | None) -> dict:
    """One file's report from its predictions: clean and per-set accuracy, mCA, camera mean, worst
    five, and (given the float model's predictions) the gap to float and the agreement with it."""
    names = list(dict.fromkeys(name for name, _ in sets))
    accuracy = {name: [evaluation.accuracy(sets[name, s], labels) for s in SEVERITIES] for name in names}
    means = {name: float(np.mean(values)) for name, values in accuracy.items()}
    standard = [name for name in names if name in CIFAR10_C]
    camera = [name for name in names if name in CAMERA]
    clean_accuracy = evaluation.accuracy(clean, labels)
    mca = float(np.mean([means[name] for name in standard])) if standard else None
    report = {"clean": clean_accuracy, "accuracy": accuracy, "mean": means,
              "mca": mca, "mca_corruptions": len(standard),
              "relative_drop": None if mca is None else 1 - mca / clean_accuracy,
              "camera_mean": float(np.mean([means[name] for name in camera])) if camera else None,
              "worst": sorted(standard, key=means.get)[:5], "vs_float": None}
    if float_sets is not None:
        agreement = {name: [float(np.mean(sets[name, s] == float_sets[name, s])) for s in SEVERITIES]
                     for name in names}
        float_mca = float(np.mean([evaluation.accuracy(float_sets[name, s], labels)
                                   for name in standard for s in SEVERITIES])) if standard else None
        report["vs_float"] = {
            "clean_agreement": float(np.mean(clean == float_clean)),
            "agreement": float(np.mean([agreement[name] for name in standard])) if standard else None,
            "agreement_by_corruption": agreement,
            "mca_gap_pp": None if mca is None else round((mca - float_mca) * 100, 2)}
    return report


def robustness(folder: str | Path, data: str | Path | None = None, formats: str | None = None,
               corruption_names: str | None = None, limit: int = 0, seed: int = 0, progress: bool = True,
               cache: bool = True, out: str | Path | None = None, record_in: str | Path | None = None) -> dict:
    """Scores the chosen files of `folder` on the clean and corrupted test sets; writes the reports
    into `out` (default: `folder`) and, for the whole test set, the summary into `folder`'s model card
    and into the cards of the release `record_in` (which must hold files that were scored)."""
    from tqdm import tqdm

    from cifar_edge.robustness import tables

    folder = Path(folder)
    if not folder.is_dir():
        raise CifarEdgeError(f"{folder} is not a folder: give an export folder or a release folder")
    files, reference = choose_formats(folder, formats)
    names = choose_corruptions(corruption_names)
    dataset = load_cifar10(data, splits=("test",))
    test = dataset.test.take(slice(0, limit)) if limit else dataset.test
    predictors = {name: predictor(name, path) for name, path in files.items()}
    cache_dir = cache_folder(dataset.sha256, len(test), seed) if cache else None

    keys = {fmt: predictions_key(path) for fmt, path in files.items()}

    def saved_as(fmt: str, set_name: str) -> Path | None:
        return cache_dir / "predictions" / f"{keys[fmt]}-{set_name}.npy" if cache_dir else None

    clean = {fmt: remembered(predict, test.images, saved_as(fmt, "clean")) for fmt, predict in predictors.items()}
    predictions = {name: {} for name in files}
    jobs = [(name, severity) for name in names for severity in SEVERITIES]
    with tqdm(jobs, desc="corrupted sets", unit="set", disable=not progress) as bar:
        for name, severity in bar:
            bar.set_postfix_str(f"{name} {severity}")
            images = corrupted_set(test.images, name, severity, seed, cache_dir)
            for fmt, predict in predictors.items():
                predictions[fmt][name, severity] = remembered(predict, images, saved_as(fmt, f"{name}-{severity}"))

    cards = {}
    if (folder / CARD).is_file():
        cards = read_json(folder / CARD).get("files", {})
    result = {
        "folder": str(folder), "data_sha256": dataset.sha256, "test_images": len(test), "seed": seed,
        "protocol": "CIFAR-10-C (Hendrycks & Dietterich, ICLR 2019): 15 corruptions x 5 severities with "
                    "the CIFAR parameters of make_cifar_c.py, made on the fly from the test set; plus "
                    "camera conditions",
        "corruptions": {name: {"group": "cifar10-c" if name in CIFAR10_C else "camera",
                               "description": CORRUPTIONS[name].description,
                               "parameters": [list(p) if isinstance(p, tuple) else p
                                              for p in CORRUPTIONS[name].severities]} for name in names},
        "float_reference": reference, "machine": provenance.machine_info(),
        "formats": {fmt: {"file": path.name, "sha256": (cards.get(fmt) or {}).get("sha256"),
                          **summarise(clean[fmt], predictions[fmt], test.labels,
                                      None if fmt == reference or reference is None else clean[reference],
                                      None if fmt == reference or reference is None else predictions[reference])}
                    for fmt, path in files.items()},
    }
    tables.write_reports(Path(out) if out else folder, result)
    if limit:  # a quick look on part of the test set: no model card quotes it
        return result
    from cifar_edge.export.release import record_robustness
    summary = tables.card_summary(result)
    if (folder / CARD).is_file():
        card = read_json(folder / CARD)
        if "released_from" in card:  # a release folder: its MODEL_CARD.md gets the section too
            record_robustness(folder, summary)
        else:
            write_json(folder / CARD, {**card, "robustness": summary})
    if record_in:
        record_robustness(record_in, summary)
    return result
