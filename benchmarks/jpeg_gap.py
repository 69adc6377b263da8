"""How much the shared data's JPEG artifacts cost: the same model on exact and JPEG test images, one run.

    python benchmarks/jpeg_gap.py exports/standard/model_fp32.tflite --data ../shared/data/cifar-10-python.tar.gz

The rebuilt archive in ../shared/data is not the official one: its README says test images 0-999
are pixel-exact and 1000-9999 were decoded from quality-75 JPEGs with 4:2:0 chroma (about 30 dB PSNR).
Two estimates of what the artifacts cost against published clean-data numbers:
  - between groups: exact images 0-999 against JPEG images 1000-9999 (different pictures, so about
    +-1 point of sampling noise on the 1,000);
  - paired: images 0-999 exact against the very same pictures encoded here the way the rest were
    (OpenCV's libjpeg, standard tables, quality 75, 4:2:0), so only the compression differs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from cifar_edge.data import load_cifar10
from cifar_edge.edge_runtime import Classifier

EXACT = slice(0, 1000)
JPEG = slice(1000, 10000)
QUALITY = 75


def jpeg_round_trip(images: np.ndarray, quality: int = QUALITY) -> np.ndarray:
    """Each uint8 RGB image encoded as a baseline 4:2:0 JPEG and decoded again."""
    params = [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
              cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420]
    out = np.empty_like(images)
    for i, image in enumerate(images):
        ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params)
        assert ok, "OpenCV could not encode a JPEG"
        out[i] = cv2.cvtColor(cv2.imdecode(encoded, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="an exported .tflite or .onnx file")
    parser.add_argument("--data", default=None, help="the shared rebuild of CIFAR-10")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args()

    test = load_cifar10(args.data, splits=("test",)).test
    classifier = Classifier(args.model, threads=2)
    correct = classifier.predict(test.images) == test.labels
    exact = test.images[EXACT]
    recoded = jpeg_round_trip(exact)
    correct_recoded = classifier.predict(recoded) == test.labels[EXACT]
    result = {"model": str(args.model), "exact_images": 1000, "exact_accuracy": float(correct[EXACT].mean()),
              "recoded_accuracy": float(correct_recoded.mean()), "recoded_psnr_db": cv2.PSNR(exact, recoded),
              "recoded_right_to_wrong": int(np.sum(correct[EXACT] & ~correct_recoded)),
              "recoded_wrong_to_right": int(np.sum(~correct[EXACT] & correct_recoded)),
              "jpeg_images": 9000, "jpeg_accuracy": float(correct[JPEG].mean()),
              "all_accuracy": float(correct.mean())}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{'test images':<46}{'count':>7}{'top-1':>9}")
    print(f"{'exact pixels (indices 0-999)':<46}{1000:>7}{result['exact_accuracy']:>9.2%}")
    print(f"{'the same, re-encoded JPEG q75 4:2:0 here':<46}{1000:>7}{result['recoded_accuracy']:>9.2%}")
    print(f"{'JPEG q75 4:2:0 as shipped (indices 1000-9999)':<46}{9000:>7}{result['jpeg_accuracy']:>9.2%}")
    print(f"{'all, as shipped':<46}{10000:>7}{result['all_accuracy']:>9.2%}")
    between = (result["jpeg_accuracy"] - result["exact_accuracy"]) * 100
    paired = (result["recoded_accuracy"] - result["exact_accuracy"]) * 100
    print(f"\nbetween groups: the JPEG images score {between:+.1f} points against the exact ones")
    print(f"paired, same 1,000 pictures: JPEG {paired:+.1f} points ({result['recoded_right_to_wrong']} turn wrong, "
          f"{result['recoded_wrong_to_right']} turn right; re-encoding PSNR {result['recoded_psnr_db']:.1f} dB)")
    print(f"model: {args.model.name}")


if __name__ == "__main__":
    main()
