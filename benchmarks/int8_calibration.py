"""How wide should the int8 activation ranges be?  Quantizes one model with each range rule and
scores top-1 agreement with the float model, TFLite and ONNX side by side, on two image sets:

* held-out: the run's validation images (never trained on), which is where the default is chosen;
* test: the 10,000 test images, reported after the choice and not used to make it.

"min/max" (percentile 100) is what the converters do on their own.

    python benchmarks/int8_calibration.py runs/standard --data ../shared/data/cifar-10-python.tar.gz
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from cifar_edge.quiet import hide_tensorflow_start_up

hide_tensorflow_start_up()  # before anything imports Keras: its start-up lines are noise here

from cifar_edge.data import load_cifar10, train_val_split  # noqa: E402
from cifar_edge.edge_runtime import Classifier  # noqa: E402
from cifar_edge.export import to_onnx, to_tflite  # noqa: E402
from cifar_edge.export.exporter import calibration_images, load_keras_model  # noqa: E402
from cifar_edge.files import read_json  # noqa: E402


def agreement_and_accuracy(model_bytes: bytes, suffix: str, images, labels, float_pred, tmp: Path):
    path = tmp / f"candidate{suffix}"
    path.write_bytes(model_bytes)
    pred = Classifier(path, threads=2).scores(images, batch_size=250).argmax(axis=1)
    return float(np.mean(pred == float_pred)), float(np.mean(pred == labels))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="A finished run folder (model.keras, metrics.json).")
    parser.add_argument("--data", help="CIFAR-10 archive (default: $CIFAR_EDGE_DATA or the cache).")
    parser.add_argument("--percentiles", default="100,99.999,99.99,99.9")
    parser.add_argument("--calib", type=int, default=1000)
    parser.add_argument("--tmp", type=Path, default=Path("/tmp"))
    args = parser.parse_args()

    metrics = read_json(args.run / "metrics.json")
    dataset = load_cifar10(args.data)
    _, held_out = train_val_split(dataset.train, metrics["config"]["val_size"], metrics["config"]["seed"])
    sets = {"held-out": held_out, "test": dataset.test}
    model = load_keras_model(args.run / "model.keras")
    float_pred = {name: model.predict(s.images, batch_size=500, verbose=0).argmax(axis=1) for name, s in sets.items()}
    calib = calibration_images(dataset.train, args.calib, seed=0)
    onnx_fp32 = to_onnx.keras_to_onnx(model)

    print(f"{args.run}: int8 top-1 agreement with float (accuracy) by activation-range rule; "
          f"{args.calib} calibration images; held-out = {len(held_out)} validation images, test = 10,000")
    print(f"{'ranges':<16}{'TFLite held-out':>22}{'TFLite test':>22}{'ONNX held-out':>22}{'ONNX test':>22}")
    for text in args.percentiles.split(","):
        percentile = None if float(text) == 100 else float(text)
        files = {".tflite": to_tflite.quantize_int8(model, calib, percentile),
                 ".onnx": to_onnx.quantize_int8(onnx_fp32, calib, percentile)}
        cells = []
        for suffix, model_bytes in files.items():
            for name, split in sets.items():
                agree, acc = agreement_and_accuracy(model_bytes, suffix, split.images, split.labels,
                                                    float_pred[name], args.tmp)
                cells.append(f"{agree:.2%} ({acc:.2%})")
        label = "min/max" if percentile is None else f"percentile {percentile:g}"
        print(f"{label:<16}" + "".join(f"{c:>22}" for c in cells), flush=True)
    floats = {name: float(np.mean(float_pred[name] == s.labels)) for name, s in sets.items()}
    print(f"float accuracy: held-out {floats['held-out']:.2%}, test {floats['test']:.2%}")


if __name__ == "__main__":
    main()
