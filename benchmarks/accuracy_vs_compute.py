"""Accuracy against training compute: where each finished run lands, and what 45 minutes buy here.

One row per run folder (or its copy under results/): widths, epochs, training PFLOPs, training minutes
on the machine that ran it, plain and flip-TTA test accuracy.  Training FLOPs are counted from the
built Keras model: multiply-adds of every Conv2D and Dense layer per image, x 2 (multiply and add)
x 3 (forward, and a backward pass about twice as costly), x images seen.  That is how airbench's
published table counts, so its rows are printed beside ours as the reference (clean data, TTA on).

    python benchmarks/accuracy_vs_compute.py results/standard results/best results/long \
        --plot results/accuracy_vs_compute.png
"""

from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path

# airbench (Jordan 2024, arXiv:2404.00498), clean CIFAR-10, with its test-time augmentation.
AIRBENCH = (("airbench94", 0.36, 94.01), ("airbench95", 1.4, 95.01), ("airbench96", 4.9, 96.03))
BUDGET_MINUTES = 45  # the standard preset's limit (issue 2)


@functools.cache  # seeds of one recipe share their widths: build each network once
def forward_macs(widths: tuple[int, int, int]) -> int:
    """Multiply-adds of one forward pass of one image through the cifar-edge network."""
    from keras import layers

    from cifar_edge.train.model import build_model
    from cifar_edge.train.recipe import TrainConfig

    macs = 0
    for layer in build_model(TrainConfig(widths=widths)).layers:
        if isinstance(layer, layers.Conv2D):
            _, h, w, cout = layer.output.shape
            kh, kw, cin, _ = layer.kernel.shape
            macs += h * w * kh * kw * cin * cout
        elif isinstance(layer, layers.Dense):
            macs += layer.kernel.shape[0] * layer.kernel.shape[1]
    return macs


def training_pflops(metrics: dict) -> float:
    config = metrics["config"]
    steps = (metrics["train_images"] - metrics["val_images"]) // config["batch_size"]
    images = steps * config["batch_size"] * metrics["epochs"]
    return forward_macs(tuple(config["widths"])) * 2 * 3 * images / 1e15


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="Run folders (or copies) holding metrics.json.")
    parser.add_argument("--plot", type=Path, help="Also draw the runs and airbench's table to this PNG.")
    args = parser.parse_args()

    rows = []
    for run in args.runs:
        m = json.loads((run / "metrics.json").read_text())
        pflops, minutes = training_pflops(m), m["train_wall_seconds"] / 60
        rows.append(dict(name=run.name, widths="-".join(map(str, m["config"]["widths"])), epochs=m["epochs"],
                         cutout=m["config"]["cutout"], pflops=pflops, minutes=minutes,
                         rate=pflops * 1e6 / (minutes * 60), plain=m["test_accuracy"] * 100,
                         tta=m["test_accuracy_flip_tta"] * 100))

    print("cifar-edge runs on the shared (mostly JPEG q75) test set, trained on this project's 2-core CPU")
    print(f"{'run':<18}{'widths':>12}{'epochs':>7}{'cutout':>7}{'PFLOPs':>8}{'minutes':>9}{'GFLOP/s':>9}"
          f"{'plain':>8}{'flip TTA':>10}")
    for r in rows:
        print(f"{r['name']:<18}{r['widths']:>12}{r['epochs']:>7}{r['cutout']:>7}{r['pflops']:>8.2f}"
              f"{r['minutes']:>9.1f}{r['rate']:>9.0f}{r['plain']:>7.2f}%{r['tta']:>9.2f}%")
    fastest = max(r["rate"] for r in rows)
    budget = fastest * BUDGET_MINUTES * 60 / 1e6
    print(f"\nat the fastest measured rate ({fastest:.0f} GFLOP/s), {BUDGET_MINUTES} minutes of training buy "
          f"{budget:.2f} PFLOPs")
    print("airbench's published table (clean data, one A100, with TTA), counted the same way:")
    for name, pflops, acc in AIRBENCH:
        print(f"  {name:<12}{pflops:>6.2f} PFLOPs{acc:>8.2f}%   ({pflops * 1e6 / fastest / 60:.0f} min at that rate)")

    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4.5))
        ax.scatter([r["pflops"] for r in rows], [r["plain"] for r in rows], label="cifar-edge, plain (JPEG test)")
        ax.scatter([r["pflops"] for r in rows], [r["tta"] for r in rows], marker="x",
                   label="cifar-edge, flip TTA (JPEG test)")
        labelled = set()
        for r in rows:  # seeds of one recipe share a point: label it once
            if round(r["pflops"], 2) not in labelled:
                labelled.add(round(r["pflops"], 2))
                ax.annotate(r["name"], (r["pflops"], r["plain"]), textcoords="offset points", xytext=(5, -12),
                            fontsize=8)
        ax.plot([p for _, p, _ in AIRBENCH], [a for *_, a in AIRBENCH], "s--", color="grey",
                label="airbench, TTA (clean test, published)")
        ax.axvline(budget, color="tab:red", linestyle=":", label=f"{BUDGET_MINUTES} min on this CPU")
        ax.axhline(93.0, color="tab:green", linestyle=":", label="issue 2 bar (93%, plain)")
        ax.set_xscale("log")
        ticks = [0.25, 0.5, 1, 2, 5]
        ax.set_xticks(ticks, [f"{x:g}" for x in ticks])
        ax.minorticks_off()
        ax.set_xlabel("training compute, PFLOPs (log scale)")
        ax.set_ylabel("test accuracy, %")
        ax.set_title("Accuracy against training compute")
        ax.legend(fontsize=8, loc="center left")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.plot, dpi=120)


if __name__ == "__main__":
    main()
