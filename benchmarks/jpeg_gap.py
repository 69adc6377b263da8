"""How much the shared data's JPEG artifacts cost: accuracy on its exact test images beside its
JPEG-decoded ones, same model, one run.

    python benchmarks/jpeg_gap.py exports/standard/model_fp32.tflite --data ../shared/data/cifar-10-python.tar.gz

The rebuilt archive in ../shared/data is not the official one: its README says test images 0-999
are pixel-exact and 1000-9999 were decoded from quality-75 JPEGs with 4:2:0 chroma (about 30 dB PSNR).
The difference between the two groups (1,000 vs 9,000 images, so about +-1 point of sampling noise
on the first) estimates what the artifacts cost against published clean-data numbers.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


from cifar_edge.data import load_cifar10
from cifar_edge.edge_runtime import Classifier

EXACT = slice(0, 1000)
JPEG = slice(1000, 10000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="an exported .tflite or .onnx file")
    parser.add_argument("--data", default=None, help="the shared rebuild of CIFAR-10")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args()

    test = load_cifar10(args.data, splits=("test",)).test
    correct = Classifier(args.model, threads=2).predict(test.images) == test.labels
    result = {"model": str(args.model), "exact_images": 1000, "exact_accuracy": float(correct[EXACT].mean()),
              "jpeg_images": 9000, "jpeg_accuracy": float(correct[JPEG].mean()),
              "all_accuracy": float(correct.mean())}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    gap = (result["jpeg_accuracy"] - result["exact_accuracy"]) * 100
    print(f"{'test images':<34}{'count':>7}{'top-1':>9}")
    print(f"{'exact pixels (indices 0-999)':<34}{1000:>7}{result['exact_accuracy']:>9.2%}")
    print(f"{'JPEG q75 4:2:0 (indices 1000-9999)':<34}{9000:>7}{result['jpeg_accuracy']:>9.2%}")
    print(f"{'all':<34}{10000:>7}{result['all_accuracy']:>9.2%}")
    print(f"\nthe JPEG images score {gap:+.1f} points against the exact ones ({args.model.name})")


if __name__ == "__main__":
    main()
