"""Scores the released models the way a stranger would: the bare LiteRT and ONNX Runtime APIs fed
raw uint8 RGB 32x32 test images, nothing of cifar-edge's runtime or preprocessing in between.

The only project code used is the CIFAR-10 archive reader (it refuses tampered pickles).  Prints each
file's top-1 accuracy on the 10,000 test images beside the one its model card records.

    python benchmarks/verify_release.py --data ../shared/data/cifar-10-python.tar.gz
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnxruntime
from ai_edge_litert.interpreter import Interpreter

from cifar_edge.data import load_cifar10
from cifar_edge.formats import FORMATS

BATCH = 100


def litert_predictions(path: Path, images: np.ndarray) -> np.ndarray:
    interpreter = Interpreter(model_path=str(path), num_threads=2)
    source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(source["index"], [BATCH, *images.shape[1:]])
    interpreter.allocate_tensors()
    predictions = []
    for start in range(0, len(images), BATCH):
        interpreter.set_tensor(source["index"], images[start:start + BATCH])
        interpreter.invoke()
        scale, zero_point = target["quantization"]  # an int8 output: dequantize (argmax would not care)
        logits = interpreter.get_tensor(target["index"]).astype(np.float32)
        predictions.append(((logits - zero_point) * (scale or 1.0)).argmax(axis=1))
    return np.concatenate(predictions)


def onnx_predictions(path: Path, images: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: images[start:start + BATCH]})[0].argmax(axis=1)
                           for start in range(0, len(images), BATCH)])


def same_or_not(sha: str, current: str) -> str:
    return "this data" if sha == current else f"other data (sha256 {sha[:16]})"


PREDICTORS = {"LiteRT": litert_predictions, "ONNX Runtime": onnx_predictions}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, default=Path("models"), help="The release folder.")
    parser.add_argument("--data", help="CIFAR-10 archive (default: $CIFAR_EDGE_DATA or the cache).")
    parser.add_argument("--limit", type=int, default=0, help="Only the first N test images (0 = all).")
    args = parser.parse_args()

    dataset = load_cifar10(args.data, splits=("test",))
    test = dataset.test
    images, labels = test.images, test.labels
    if args.limit:
        images, labels = images[:args.limit], labels[:args.limit]
    card = json.loads((args.models / "model_card.json").read_text())
    recorded = {row["format"]: row["accuracy"] for row in card["compare"]["rows"]}

    card_data = card["compare"].get("data_sha256") or "unrecorded"
    trained_on = (card.get("training") or {}).get("data", {}).get("sha256") or "unrecorded"
    print(f"released model {card['model_version']}: {len(labels)} test images, bare interpreters, uint8 RGB in")
    # The data each figure was made on, so a figure from another archive cannot pass for this one's.
    print(f"data: sha256 {dataset.sha256[:16]}; model trained on {same_or_not(trained_on, dataset.sha256)}; "
          f"model card's figures on {same_or_not(card_data, dataset.sha256)}")
    print(f"{'file':<26}{'runtime':<14}{'accuracy':>10}{'model card':>12}")
    for fmt, entry in card["files"].items():
        path = args.models / entry["file"]
        runtime = FORMATS[fmt].runtime
        predictions = PREDICTORS[runtime](path, images)
        print(f"{entry['file']:<26}{runtime:<14}{np.mean(predictions == labels):>10.2%}{recorded[fmt]:>12.2%}")


if __name__ == "__main__":
    main()
