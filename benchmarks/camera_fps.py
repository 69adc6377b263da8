"""Frames/s of the headless camera pipeline beside inference alone, same model, same frames, one run.

    python benchmarks/camera_fps.py --model exports/standard/model_int8.tflite \
        --data ../shared/data/cifar-10-python.tar.gz [--frames 1000] [--threads 2] [--json]

The pipeline is `cifar-edge camera --headless` on a generated video (test images upscaled 8x onto
320x256 frames, Motion-JPEG): decode, BGR->RGB, crop, area-resize, inference, one JSON line per frame.
Inference alone runs the same model on the already-small 32x32 images, one at a time.  Their ratio
is what the frame pipeline costs on top of the model.  It also reports top-1 accuracy both ways: the
video frames must score like the images themselves, or the pipeline's colour order, crop or resize
does not match training.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from cifar_edge.camera_demo import run_camera
from cifar_edge import provenance
from cifar_edge.data import load_cifar10
from cifar_edge.edge_runtime import Classifier
from synthetic_video import write_test_video  # beside this script


def inference_only(model: Path, images, threads: int):
    """(frames/s, predicted classes) of the model on 32x32 images, one call per image."""
    classifier = Classifier(model, threads=threads)
    for image in images[:20]:  # warm-up
        classifier.scores(image[None])
    start = time.perf_counter()
    predictions = [int(classifier.scores(image[None]).argmax()) for image in images]
    return len(images) / (time.perf_counter() - start), np.array(predictions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="exported .tflite or .onnx file")
    parser.add_argument("--data", default=None, help="CIFAR-10 path (default: $CIFAR_EDGE_DATA)")
    parser.add_argument("--frames", type=int, default=1000, help="frames in the generated video")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1), help="interpreter threads")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    dataset = load_cifar10(args.data, splits=("test",))
    test = dataset.test.take(slice(0, args.frames))
    with tempfile.TemporaryDirectory() as tmp:
        video = write_test_video(Path(tmp) / "test_images.avi", test.images)
        run_camera(args.model, str(video), headless=True, output=os.devnull, max_frames=20,
                   threads=args.threads)  # warm-up: codec and interpreter start
        lines = Path(tmp) / "frames.jsonl"
        pipeline = run_camera(args.model, str(video), headless=True, output=lines, threads=args.threads)
        video_predictions = np.array([json.loads(line)["index"] for line in lines.read_text().splitlines()])
    inference, image_predictions = inference_only(args.model, test.images, args.threads)
    result = {"model": str(args.model), "frames": pipeline["frames"], "threads": args.threads,
              "pipeline_fps": pipeline["fps"], "inference_only_fps": round(inference, 1),
              "pipeline_share_of_inference_speed": round(pipeline["fps"] / inference, 3),
              "accuracy_video_frames": float(np.mean(video_predictions == test.labels)),
              "accuracy_32x32_images": float(np.mean(image_predictions == test.labels)),
              "data_sha256": dataset.sha256, "machine": provenance.machine_info()}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{'what':<52}{'frames/s':>10}")
    print(f"{'inference only (32x32 in, batch 1)':<52}{inference:>10.0f}")
    print(f"{'headless pipeline (decode 320x256, preprocess, JSON)':<52}{pipeline['fps']:>10.0f}")
    print(f"\npipeline runs at {result['pipeline_share_of_inference_speed']:.0%} of inference-only speed; "
          f"{args.model.name}, {args.threads} threads, {pipeline['frames']} frames")
    print(f"top-1 accuracy: {result['accuracy_video_frames']:.2%} on the video frames, "
          f"{result['accuracy_32x32_images']:.2%} on the same test images at 32x32 (data sha256 {dataset.sha256[:16]})")
    print(f"machine: {provenance.describe_machine(result['machine'])}")


if __name__ == "__main__":
    main()
