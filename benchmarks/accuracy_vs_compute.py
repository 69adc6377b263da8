"""The results table: every finished run, its accuracy, and the compute and minutes it took.

One row per run folder (or its copy under results/): widths, epochs, training PFLOPs, training minutes
and images/s on the machine that ran it (named in the row: CPUs differ by up to 6x, FLOPs do not),
plain and flip-TTA test accuracy, and validation accuracy.  The test data's SHA-256 heads the table;
runs made on other data are refused.  Training FLOPs are counted from the
built Keras model: multiply-adds of every Conv2D and Dense layer per image, x 2 (multiply and add)
x 3 (forward, and a backward pass about twice as costly), x images seen.  That is how airbench's
published table counts, so its rows are printed beside ours as the reference (clean data, TTA on).

    python benchmarks/accuracy_vs_compute.py results/fast results/standard ... \
        --plot docs/accuracy_vs_compute.png
"""

from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path

from cifar_edge import provenance

# airbench (Jordan 2024, arXiv:2404.00498), clean CIFAR-10, with its test-time augmentation.
AIRBENCH = (("airbench94", 0.36, 94.01), ("airbench95", 1.4, 95.01), ("airbench96", 4.9, 96.03))
# Time budgets (fast: 20 min, standard: 45 min) are minutes on the fastest CPU this project had trained on
# when they were set: 378 GFLOP/s of training, the 128-384-384 network (now the wide preset) on 2 cores
# (docs/old-data/accuracy_vs_compute.txt).  On another CPU the same compute is the budget, so every row also
# gives its minutes at that rate, which stays fixed although later trainers and wider networks ran faster.
FASTEST_GFLOPS = 378
BUDGETS_MINUTES = (20, 45)


@functools.cache  # seeds of one recipe share their network: build each once
def forward_macs(widths: tuple[int, int, int], convs_per_group: int = 2) -> int:
    """Multiply-adds of one forward pass of one image through the cifar-edge network."""
    from cifar_edge.quiet import hide_tensorflow_start_up

    hide_tensorflow_start_up()  # before Keras is imported: its start-up lines are noise in `make results`
    from keras import layers

    from cifar_edge.train.model import build_model
    from cifar_edge.train.recipe import TrainConfig

    macs = 0
    for layer in build_model(TrainConfig(widths=widths, convs_per_group=convs_per_group)).layers:
        if isinstance(layer, layers.Conv2D):
            _, h, w, cout = layer.output.shape
            kh, kw, cin, _ = layer.kernel.shape
            macs += h * w * kh * kw * cin * cout
        elif isinstance(layer, layers.Dense):
            macs += layer.kernel.shape[0] * layer.kernel.shape[1]
    return macs


def cpu_label(machine: dict) -> str:
    """'AMD EPYC (avx2) x2': the CPU, its fastest instruction set, and the cores a run had; a run whose
    steps ran on a GPU gives the GPU first ('NVIDIA H200, host Intel(R) Xeon(R) Processor (amx_bf16) x16')."""
    cpu, features = machine.get("cpu") or "unknown CPU", machine.get("cpu_features")
    if features is not None:  # recorded since December 2026
        cpu += f" ({features[-1] if features else 'no avx2'})"
    host, gpu = f"{cpu} x{machine['cpu_count']}", provenance.gpu_of(machine)
    return f"{gpu}, host {host}" if gpu else host


def training_pflops(metrics: dict) -> float:
    config = metrics["config"]
    steps = (metrics["train_images"] - metrics["val_images"]) // config["batch_size"]
    images = steps * config["batch_size"] * metrics["epochs"]
    # Runs recorded before convs_per_group existed had two.
    return forward_macs(tuple(config["widths"]), config.get("convs_per_group", 2)) * 2 * 3 * images / 1e15


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="Run folders (or copies) holding metrics.json.")
    parser.add_argument("--plot", type=Path, help="Also draw the runs and airbench's table to this PNG.")
    args = parser.parse_args()

    runs = {run: json.loads((run / "metrics.json").read_text()) for run in args.runs}
    data = {(m["data"]["sha256"], m["test_images"]) for m in runs.values()}
    if len(data) > 1:  # accuracies on different test sets do not go in one table
        raise SystemExit(f"these runs were scored on different data: {sorted(data)}")
    (sha, test_images), = data

    rows = []
    for run, m in runs.items():
        rows.append(dict(name=run.name, widths="-".join(map(str, m["config"]["widths"]))
                         + ("x3" if m["config"].get("convs_per_group", 2) == 3 else ""), epochs=m["epochs"],
                         pflops=training_pflops(m), minutes=m["train_wall_seconds"] / 60,
                         images_s=m["train_images_per_s"],
                         plain=m["test_accuracy"] * 100, tta=m["test_accuracy_flip_tta"] * 100,
                         val=m["val_accuracy"] * 100, cpu=cpu_label(m["machine"])))
    print(f"test set: {test_images:,} images, data sha256 {sha[:16]}; plain and flip-TTA test accuracy, "
          "validation on 2,000 held-out training images")
    width = max(16, *(len(r["name"]) + 2 for r in rows))
    print(f"{'run':<{width}}{'widths':>14}{'epochs':>7}{'PFLOPs':>8}{'plain':>8}{'flip TTA':>10}{'val':>8}"
          f"{'minutes':>9}{'img/s':>7}{f'min@{FASTEST_GFLOPS}':>9}  trained on")
    for r in rows:
        print(f"{r['name']:<{width}}{r['widths']:>14}{r['epochs']:>7}{r['pflops']:>8.2f}{r['plain']:>7.2f}%"
              f"{r['tta']:>9.2f}%{r['val']:>7.2f}%{r['minutes']:>9.1f}{r['images_s']:>7.0f}"
              f"{r['pflops'] * 1e6 / FASTEST_GFLOPS / 60:>9.1f}  {r['cpu']}")
    fastest = FASTEST_GFLOPS
    budgets = [fastest * minutes * 60 / 1e6 for minutes in BUDGETS_MINUTES]
    print(f"\nmin@{fastest}: the minutes at {fastest} GFLOP/s, the rate the time budgets assume; there "
          + " and ".join(f"{m} min buy {b:.2f} PFLOPs" for m, b in zip(BUDGETS_MINUTES, budgets)))
    print("airbench's published table (clean data, one A100, with TTA), counted the same way:")
    for name, pflops, acc in AIRBENCH:
        print(f"  {name:<12}{pflops:>6.2f} PFLOPs{acc:>8.2f}%   ({pflops * 1e6 / fastest / 60:.0f} min at that rate)")

    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4.5))
        ax.scatter([r["pflops"] for r in rows], [r["plain"] for r in rows], label="cifar-edge, plain")
        ax.scatter([r["pflops"] for r in rows], [r["tta"] for r in rows], marker="x", label="cifar-edge, flip TTA")
        labelled = set()
        for r in rows:  # seeds of one recipe share a point: label it once
            if round(r["pflops"], 2) not in labelled:
                labelled.add(round(r["pflops"], 2))
                ax.annotate(r["name"], (r["pflops"], r["plain"]), textcoords="offset points", xytext=(5, -12),
                            fontsize=8)
        ax.plot([p for _, p, _ in AIRBENCH], [a for *_, a in AIRBENCH], "s--", color="grey",
                label="airbench, TTA (clean test, published)")
        for minutes, budget, style in zip(BUDGETS_MINUTES, budgets, (":", "--")):
            ax.axvline(budget, color="tab:red", linestyle=style, label=f"{minutes} min at {fastest} GFLOP/s")
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
