"""Runs inside the arm64 root of `make pi-check` (benchmarks/pi_arm64.sh): scores one released file on
the CIFAR-10 test set in slices, keeping each slice's predictions as it finishes, then writes the
whole predictions file that `cifar-edge eval --out` would.

Why slices: under emulation the float ONNX file takes an hour or more for the test set, and a run
killed after some of them must not start again from zero.  On a real Pi, `cifar-edge
eval --out` does the same in a minute.

    python pi_arm64_score.py MODEL --data ARCHIVE --out FILE [--threads 2] [--slice 500] [--limit N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from cifar_edge.data import file_sha256, load_cifar10
from cifar_edge.edge_runtime import device_check
from cifar_edge.files import write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--slice", type=int, default=500, help="images per kept piece")
    parser.add_argument("--limit", type=int, default=0, help="only the first N test images (0 = all)")
    args = parser.parse_args()

    dataset = load_cifar10(args.data, splits=("test",))
    test = dataset.test.take(slice(0, args.limit)) if args.limit else dataset.test
    # The pieces are named by the model's and the data's hashes: another file or archive starts afresh.
    pieces = args.out.parent / f"{args.out.stem}-{file_sha256(args.model)[:12]}-{dataset.sha256[:12]}"
    parts = []
    for start in range(0, len(test.labels), args.slice):
        piece = pieces / f"{start:05d}.json"
        if piece.is_file():  # scored by an earlier run
            parts.append(device_check.read_predictions(piece))
            continue
        began = time.monotonic()
        images = test.take(slice(start, start + args.slice))
        part = device_check.score_test_set(args.model, images.images, images.labels, dataset.sha256, args.threads)
        write_json(piece, part)
        parts.append(part)
        print(f"{args.model.name}: images {start:,}-{start + len(images.labels) - 1:,} scored in "
              f"{time.monotonic() - began:.0f} s", flush=True)
    write_json(args.out, device_check.join_records(parts))


if __name__ == "__main__":
    main()
