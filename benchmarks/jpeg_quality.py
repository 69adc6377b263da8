"""Accuracy against JPEG quality: what a camera pipeline's compression costs a model, one run.

    python benchmarks/jpeg_quality.py exports/standard/model_int8.tflite --data ../shared/data/cifar-10-python.tar.gz

The test images are encoded here as baseline JPEGs with 4:2:0 chroma (OpenCV's libjpeg, standard
tables, what most capture pipelines write) at each quality, decoded again and classified; the same
images uncompressed are the baseline in the same run.  Per quality: top-1 accuracy, the change against
the uncompressed images, top-1 agreement with the model's own predictions on them, and the mean PSNR
of the round trip.  (23 of the archive's 10,000 test images were JPEG-decoded before they reached it,
as its README lists; they stay in, as they are in every accuracy this project reports.)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from cifar_edge import provenance
from cifar_edge.data import load_cifar10
from cifar_edge.edge_runtime import Classifier

QUALITIES = (95, 90, 80, 70, 60, 50, 40, 30, 20, 10)


def jpeg_round_trip(images: np.ndarray, quality: int) -> np.ndarray:
    """Each uint8 RGB image encoded as a baseline 4:2:0 JPEG and decoded again."""
    params = [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
              cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420]
    out = np.empty_like(images)
    for i, image in enumerate(images):
        ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params)
        if not ok:
            raise RuntimeError(f"OpenCV could not encode test image {i} as JPEG")
        out[i] = cv2.cvtColor(cv2.imdecode(encoded, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return out


def measure(classifier: Classifier, images: np.ndarray, labels: np.ndarray, qualities, progress=True) -> dict:
    clean = classifier.predict(images)
    rows = []
    for quality in tqdm(qualities, desc="JPEG qualities", disable=not progress):
        recoded = jpeg_round_trip(images, quality)
        predicted = classifier.predict(recoded)
        rows.append({"quality": quality, "accuracy": float(np.mean(predicted == labels)),
                     "agreement": float(np.mean(predicted == clean)),
                     "psnr_db": float(np.mean([cv2.PSNR(a, b) for a, b in zip(images, recoded)]))})
    return {"clean_accuracy": float(np.mean(clean == labels)), "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="an exported .tflite or .onnx file")
    parser.add_argument("--data", default=None, help="CIFAR-10 (default: $CIFAR_EDGE_DATA or the cache)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N test images (0 = all)")
    parser.add_argument("--qualities", default=",".join(map(str, QUALITIES)), help="comma-separated")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args()

    dataset = load_cifar10(args.data, splits=("test",))
    test = dataset.test.take(slice(0, args.limit)) if args.limit else dataset.test
    result = measure(Classifier(args.model, threads=2), test.images, test.labels,
                     [int(q) for q in args.qualities.split(",")])
    result.update(model=str(args.model), test_images=len(test), data_sha256=dataset.sha256,
                  machine=provenance.machine_info())
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{args.model.name} on {len(test):,} test images (data sha256 {dataset.sha256[:16]}), "
          "JPEG 4:2:0 round trip at each quality")
    print(f"{'quality':>8}{'PSNR dB':>9}{'top-1':>9}{'change':>10}{'agreement':>11}")
    print(f"{'none':>8}{'':>9}{result['clean_accuracy']:>9.2%}{'':>10}{1:>11.2%}")
    for row in result["rows"]:
        change = (row["accuracy"] - result["clean_accuracy"]) * 100
        print(f"{row['quality']:>8}{row['psnr_db']:>9.1f}{row['accuracy']:>9.2%}{change:>+8.2f}pp"
              f"{row['agreement']:>11.2%}")


if __name__ == "__main__":
    main()
