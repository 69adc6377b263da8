"""Keras's `model.predict` against the project's `logits_of` (the same batches through
`predict_on_batch`), side by side in one run: images/s and CPU cores busy, pass by pass, and whether
the two give identical outputs.

    python benchmarks/keras_predict.py runs/distilled_airbench96/model.keras --data ../shared/data/cifar-10-python.tar.gz

The trainer's evaluation, the teachers' answers, `compare`'s float reference and `robustness`'s Keras
row all score thousands of images through a Keras model.  On a 2-core CPU `predict` kept only one core
busy on some calls, so its rate changed from one call to the next; the passes alternate so that each
contender meets the same machine, and every pass is printed rather than a mean that hides it.
"""

from __future__ import annotations

import argparse
import json
import time

from cifar_edge.quiet import hide_tensorflow_start_up

hide_tensorflow_start_up()  # before anything imports Keras: its start-up lines are noise here

import numpy as np  # noqa: E402

from cifar_edge import provenance  # noqa: E402
from cifar_edge.data import load_cifar10  # noqa: E402
from cifar_edge.export.exporter import load_keras_model  # noqa: E402
from cifar_edge.train.model import logits_of  # noqa: E402


def timed(score, images: np.ndarray) -> tuple[np.ndarray, float, float]:
    """`score(images)`, its images/s, and the CPU cores busy meanwhile (CPU time over wall time)."""
    wall, cpu = time.perf_counter(), time.process_time()
    logits = score(images)
    wall = time.perf_counter() - wall
    return logits, len(images) / wall, (time.process_time() - cpu) / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a .keras file (a run's model.keras, an export's reference)")
    parser.add_argument("--data", default=None, help="CIFAR-10 path (default: $CIFAR_EDGE_DATA)")
    parser.add_argument("--images", type=int, default=5000, help="test images per pass")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=4, help="passes per contender, alternating")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    images = load_cifar10(args.data, splits=("test",)).test.images[:args.images]
    model = load_keras_model(args.model)
    contenders = {"model.predict": lambda x: model.predict(x, batch_size=args.batch_size, verbose=0),
                  "logits_of (predict_on_batch)": lambda x: logits_of(model, x, args.batch_size)}
    outputs = {name: score(images[:args.batch_size]) for name, score in contenders.items()}  # warm-up
    passes = {name: [] for name in contenders}
    for _ in range(args.repeats):
        for name, score in contenders.items():
            outputs[name], rate, cores = timed(score, images)
            passes[name].append({"images_per_s": round(rate, 1), "cores_busy": round(cores, 2)})
    identical = bool(np.array_equal(*outputs.values()))
    result = {"model": args.model, "images": len(images), "batch_size": args.batch_size, "passes": passes,
              "identical_outputs": identical, "machine": provenance.machine_info()}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{'contender':<30}" + "".join(f"{f'pass {i + 1}':>18}" for i in range(args.repeats)))
    for name, rows in passes.items():
        print(f"{name:<30}" + "".join(f"{r['images_per_s']:>8.0f} img/s {r['cores_busy']:.1f}" for r in rows))
    print(f"\neach pass: {len(images):,} test images in batches of {args.batch_size}; after 'img/s', the CPU cores "
          f"busy; outputs identical: {'yes' if identical else 'no'}")
    print(f"model: {args.model}; measured here: {provenance.describe_machine(result['machine'])}")


if __name__ == "__main__":
    main()
