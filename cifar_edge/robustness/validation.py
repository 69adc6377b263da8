"""A trained run's robustness on its own validation images: the figure a robust model is chosen by.

The test sets decide nothing (a choice made on them would make the released figures optimistic), so
choices are made on the run's held-out training images, clean and under every corruption and camera
condition of `cifar-edge robustness`, drawn with VAL_SEED, apart from the test sets' seed 0.  The sets
are cached like the test sets.  The summary is saved beside the model as `val_robustness.json`, keyed
by the model file's SHA-256, so a second question (the release, the side-by-side benchmark) reads it back.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from cifar_edge.data import load_cifar10, train_val_split
from cifar_edge.errors import CifarEdgeError
from cifar_edge.files import read_json, write_json
from cifar_edge.robustness.corruptions import CORRUPTIONS, SEVERITIES
from cifar_edge.robustness.score import KERAS, predictor, summarise
from cifar_edge.robustness.sets import cache_folder, corrupted_set

VAL_SEED = 1  # the corruptions' seed for validation sets; the test sets use 0
RECORD = "val_robustness.json"


def validation_robustness(run_dir: str | Path, data: str | Path | None = None, progress: bool = False) -> dict:
    """The run's Keras model on its validation images: clean accuracy, mCA, camera mean, every set's
    accuracy (`score.summarise`), plus the model's SHA-256 and the data's."""
    from tqdm import tqdm

    run_dir = Path(run_dir)
    model_path, metrics_path = run_dir / "model.keras", run_dir / "metrics.json"
    if not (model_path.is_file() and metrics_path.is_file()):
        raise CifarEdgeError(f"{run_dir} holds no finished training (model.keras and metrics.json)")
    model_sha256 = hashlib.sha256(model_path.read_bytes()).hexdigest()
    if (run_dir / RECORD).is_file():
        saved = read_json(run_dir / RECORD)
        if saved.get("model_sha256") == model_sha256 and saved.get("seed") == VAL_SEED:
            return saved

    metrics = read_json(metrics_path)
    config = metrics["config"]
    dataset = load_cifar10(data)
    if dataset.sha256 != metrics["data"]["sha256"]:
        raise CifarEdgeError(f"{run_dir} was trained on other data (sha256 {metrics['data']['sha256'][:16]}) "
                             f"than {dataset.source} ({dataset.sha256[:16]}): its validation images are not there")
    if not config["val_size"]:
        raise CifarEdgeError(f"{run_dir} held out no validation images (--val-size 0)")
    train = dataset.train.take(slice(0, config["train_limit"])) if config["train_limit"] else dataset.train
    _, val = train_val_split(train, config["val_size"], config["seed"])
    predict = predictor(KERAS, model_path)
    folder = cache_folder(dataset.sha256, len(val), VAL_SEED, split=f"val{config['val_size']}-seed{config['seed']}")
    jobs = [(name, severity) for name in CORRUPTIONS for severity in SEVERITIES]
    predictions = {}
    for name, severity in tqdm(jobs, desc=f"{run_dir.name} on validation", unit="set", disable=not progress):
        predictions[name, severity] = predict(corrupted_set(val.images, name, severity, VAL_SEED, folder))
    report = {"model_sha256": model_sha256, "data_sha256": dataset.sha256, "val_images": len(val),
              "seed": VAL_SEED, **summarise(predict(val.images), predictions, val.labels, None, None)}
    write_json(run_dir / RECORD, report)
    return report
