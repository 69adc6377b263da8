"""How much of an accuracy is the recipe and how much the seed: one row per finished run of the same
preset with different seeds, then mean, sample standard deviation and range.

    python benchmarks/seed_spread.py results/standard results/standard_seed1 results/standard_seed2
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from cifar_edge.train.recipe import TrainConfig, changed_knobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="Run folders (or copies) holding metrics.json.")
    args = parser.parse_args()

    runs = [json.loads((run / "metrics.json").read_text()) for run in args.runs]
    # One recipe: the same knobs whatever preset named them (changed_knobs), those added since a run at their defaults.
    configs = [TrainConfig.from_dict(m["config"]) for m in runs]
    if any(set(changed_knobs(configs[0], config)) - {"seed"} for config in configs[1:]):
        raise SystemExit("the runs differ in more than their seed: their spread says nothing about seeds")

    data = {(m["data"]["sha256"], m["test_images"]) for m in runs}
    if len(data) != 1:
        raise SystemExit(f"the runs were scored on different test data: {sorted(data)}")
    (sha, test_images), = data
    print(f"{len(runs)} runs of one recipe (widths {runs[0]['config']['widths']}, {runs[0]['epochs']} epochs) "
          f"with different seeds; test set: {test_images:,} images, data sha256 {sha[:16]}")
    print(f"{'seed':>4}{'plain':>9}{'flip TTA':>10}{'val':>9}{'train min':>11}")
    for m in runs:
        print(f"{m['seed']:>4}{m['test_accuracy']:>9.2%}{m['test_accuracy_flip_tta']:>10.2%}"
              f"{m['val_accuracy']:>9.2%}{m['train_wall_seconds'] / 60:>11.1f}")
    for key, name in (("test_accuracy", "plain"), ("test_accuracy_flip_tta", "flip TTA")):
        values = [m[key] * 100 for m in runs]
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        print(f"{name:<9} mean {statistics.mean(values):.2f}%, standard deviation {spread:.2f} pp, "
              f"range {min(values):.2f}-{max(values):.2f}%")


if __name__ == "__main__":
    main()
