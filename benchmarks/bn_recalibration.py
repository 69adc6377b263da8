"""What re-estimating the BatchNorm statistics for the final (lookahead-averaged) weights is worth:
a finished run's accuracy as saved and after `trainer.recalibrate_on_the_better_images` (on clean or on
augmented training images, whichever validation prefers), side by side.

The trainer does this as its last step since it was measured to help: on clean images only until
December 2026 ("bn_recalibration_on" is missing from those runs' metrics.json), on the better of the two
since.  Runs finished before are brought up to date with --write, which saves the recalibrated
model.keras and updates metrics.json and the confusion plot, keeping the old numbers under
"before_bn_recalibration" (or "before_augmented_bn_recalibration").

    python benchmarks/bn_recalibration.py runs/standard --data ../shared/data/cifar-10-python.tar.gz [--write]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cifar_edge.quiet import hide_tensorflow_start_up

hide_tensorflow_start_up()  # before anything imports Keras: its start-up lines are noise here

from cifar_edge import evaluation  # noqa: E402
from cifar_edge.data import load_cifar10, train_val_split  # noqa: E402
from cifar_edge.evaluation import accuracy  # noqa: E402
from cifar_edge.export.exporter import load_keras_model  # noqa: E402
from cifar_edge.files import read_json, write_atomically, write_json  # noqa: E402
from cifar_edge.train.recipe import TrainConfig  # noqa: E402
from cifar_edge.train.trainer import limit, predict_logits, recalibrate_on_the_better_images  # noqa: E402

KEYS = ("test_accuracy", "test_accuracy_flip_tta", "val_accuracy")


def scores(model, val, test) -> dict:
    return {"test_accuracy": accuracy(predict_logits(model, test.images), test.labels),
            "test_accuracy_flip_tta": accuracy(predict_logits(model, test.images, flip_tta=True), test.labels),
            "val_accuracy": accuracy(predict_logits(model, val.images), val.labels)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="A finished run folder.")
    parser.add_argument("--data", help="CIFAR-10 archive (default: $CIFAR_EDGE_DATA or the cache).")
    parser.add_argument("--write", action="store_true", help="Save the recalibrated model into the run.")
    args = parser.parse_args()

    metrics = read_json(args.run / "metrics.json")
    if metrics.get("bn_recalibration_on"):
        raise SystemExit(f"{args.run} is already recalibrated on {metrics['bn_recalibration_on']}")
    # Runs recalibrated on clean images keep their first numbers under the older key.
    kept_as = "before_augmented_bn_recalibration" if metrics.get("bn_recalibration_images") else "before_bn_recalibration"
    config = TrainConfig.from_dict(metrics["config"])
    dataset = load_cifar10(args.data)
    train, val = train_val_split(limit(dataset.train, config.train_limit), config.val_size, config.seed)
    test = limit(dataset.test, config.test_limit)
    model = load_keras_model(args.run / "model.keras")
    before = scores(model, val, test)
    calibration = recalibrate_on_the_better_images(model, train, val, config)
    after = scores(model, val, test)

    was = "on clean images" if metrics.get("bn_recalibration_images") else "as trained"
    print(f"{args.run}: BatchNorm statistics re-estimated for the final weights on {calibration['bn_recalibration_images']} "
          f"training images; data sha256 {dataset.sha256[:16]}")
    for name, val_accuracy in calibration["bn_recalibration_val_accuracy"].items():
        print(f"  on {name:<28} validation {val_accuracy:.2%}")
    print(f"  augmented: shifts of {config.translate} px, flips, cutout {config.cutout}, camera augmentations "
          f"on {config.noise_fraction + config.blur_fraction + config.augmix_fraction:.0%} of the images")
    print(f"{'':<24}{was:>18}{calibration['bn_recalibration_on'].replace(' training images', ''):>12}{'change':>10}")
    for key in KEYS:
        print(f"{key:<24}{before[key]:>18.2%}{after[key]:>12.2%}{(after[key] - before[key]) * 100:>+8.2f} pp")
    if args.write:
        write_atomically(args.run / "model.keras", lambda tmp: model.save(tmp))
        predictions = predict_logits(model, test.images).argmax(axis=1)
        matrix = evaluation.confusion_matrix(test.labels, predictions)
        evaluation.plot_confusion(args.run / "confusion_matrix.png", matrix,
                                  f"Test set, plain accuracy {after['test_accuracy']:.2%}")
        write_json(args.run / "metrics.json", {
            **metrics, **after, "per_class_test_accuracy": evaluation.per_class_accuracy(matrix),
            "confusion_matrix": matrix.tolist(), **calibration,
            kept_as: {key: metrics[key] for key in KEYS},
            "bn_recalibrated_by": f"python benchmarks/bn_recalibration.py {args.run} --write"})
        print(f"written: {args.run}/model.keras, metrics.json, confusion_matrix.png")


if __name__ == "__main__":
    main()
