"""How `cifar-edge robustness` presents its result: the terminal table, robustness.md, the heatmap
robustness.png, and the summary a model card carries.  Reads the dict `score.robustness` returns."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cifar_edge.files import write_atomically, write_json
from cifar_edge.robustness.corruptions import SEVERITIES


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"


def mca_label(result: dict) -> str:
    counts = {report["mca_corruptions"] for report in result["formats"].values()}
    count = counts.pop() if len(counts) == 1 else 0
    return "mCA (15 CIFAR-10-C)" if count == 15 else f"mCA ({count} of 15 CIFAR-10-C)"


def summary_rows(result: dict) -> list[tuple[str, list[str]]]:
    """(row name, one cell per format): clean, each corruption's mean over severities, mCA, drop,
    camera mean, and the gap and agreement against the float reference."""
    reports = list(result["formats"].values())
    rows = [("clean", [percent(r["clean"]) for r in reports])]
    for name in result["corruptions"]:
        rows.append((name, [percent(r["mean"][name]) for r in reports]))
    rows += [
        (mca_label(result), [percent(r["mca"]) for r in reports]),
        ("relative drop, mCA vs clean", [percent(r["relative_drop"]) for r in reports]),
        ("camera conditions (mean)", [percent(r["camera_mean"]) for r in reports]),
        (f"mCA vs {result['float_reference']}, pp",
         [f"{r['vs_float']['mca_gap_pp']:+.2f}" if r["vs_float"] and r["vs_float"]["mca_gap_pp"] is not None
          else "—" for r in reports]),
        ("agreement with float, corrupted", [percent(r["vs_float"] and r["vs_float"]["agreement"]) for r in reports]),
    ]
    return rows


def terminal_table(result: dict) -> str:
    formats = list(result["formats"])
    width = max(14, *(len(f) + 2 for f in formats))
    rows = summary_rows(result)
    first = max(len(name) for name, _ in rows) + 2
    lines = [f"{'accuracy, mean of severities 1-5':<{first}}" + "".join(f"{f:>{width}}" for f in formats)]
    for name, cells in rows:
        lines.append(f"{name:<{first}}" + "".join(f"{cell:>{width}}" for cell in cells))
    for fmt, report in result["formats"].items():
        worst = ", ".join(f"{name} {report['mean'][name]:.1%}" for name in report["worst"])
        lines.append(f"worst for {fmt}: {worst}")
    return "\n".join(lines)


def markdown(result: dict) -> str:
    formats = list(result["formats"])
    lines = [f"# Robustness of `{result['folder']}`", "",
             f"{result['test_images']:,} test images per set, seed {result['seed']}, data sha256 "
             f"`{result['data_sha256'][:16]}…`. {result['protocol']}.", "",
             "| accuracy, mean of severities 1–5 | " + " | ".join(formats) + " |",
             "|---|" + "---:|" * len(formats)]
    lines += [f"| {name} | " + " | ".join(cells) + " |" for name, cells in summary_rows(result)]
    for fmt, report in result["formats"].items():
        lines += ["", f"## {fmt} (`{report['file']}`) by severity", "",
                  "| corruption | " + " | ".join(str(s) for s in SEVERITIES) + " | what it does |",
                  "|---|" + "---:|" * len(SEVERITIES) + "---|"]
        lines += [f"| {name} | " + " | ".join(f"{a:.1%}" for a in report["accuracy"][name]) +
                  f" | {result['corruptions'][name]['description']} |" for name in result["corruptions"]]
    return "\n".join(lines) + "\n"


def plot_heatmap(path: Path, result: dict) -> None:
    """One panel per file: accuracy by corruption (rows) and severity (columns)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(result["corruptions"])
    formats = list(result["formats"])
    fig, axes = plt.subplots(1, len(formats), figsize=(2.2 + 2.6 * len(formats), 1.2 + 0.32 * len(names)),
                             sharey=True, squeeze=False)
    for ax, fmt in zip(axes[0], formats):
        report = result["formats"][fmt]
        grid = np.array([report["accuracy"][name] for name in names]) * 100
        image = ax.imshow(grid, cmap="RdYlGn", vmin=0, vmax=100, aspect="auto")
        for (i, j), value in np.ndenumerate(grid):
            ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=7)
        ax.set_xticks(range(len(SEVERITIES)), SEVERITIES)
        ax.set_yticks(range(len(names)), names, fontsize=8)
        mca = "" if report["mca"] is None else f", mCA {report['mca']:.1%}"
        ax.set(xlabel="severity", title=f"{fmt}\nclean {report['clean']:.1%}{mca}")
        ax.title.set_fontsize(9)
    fig.colorbar(image, ax=axes[0].tolist(), label="top-1 accuracy, %", shrink=0.8)
    write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png", bbox_inches="tight"))
    plt.close(fig)


def write_reports(folder: Path, result: dict) -> None:
    write_json(folder / "robustness.json", result)
    write_atomically(folder / "robustness.md", lambda tmp: Path(tmp).write_text(markdown(result)))
    plot_heatmap(folder / "robustness.png", result)


def card_summary(result: dict) -> dict:
    """What a model card keeps: per file its clean accuracy, mCA, camera mean, worst corruptions and
    gap to float, with the data and protocol they were measured on."""
    keep = ("file", "sha256", "clean", "mca", "mca_corruptions", "relative_drop", "camera_mean", "worst", "mean")
    return {"data_sha256": result["data_sha256"], "test_images": result["test_images"], "seed": result["seed"],
            "float_reference": result["float_reference"],
            "formats": {fmt: {**{key: report[key] for key in keep},
                              "mca_gap_pp": report["vs_float"] and report["vs_float"]["mca_gap_pp"],
                              "agreement": report["vs_float"] and report["vs_float"]["agreement"]}
                        for fmt, report in result["formats"].items()}}


def card_lines(summary: dict) -> list[str]:
    """The model card's robustness section, in Markdown."""
    lines = ["## Robustness to corrupted images", "",
             f"Made by `cifar-edge robustness` on {summary['test_images']:,} test images per set "
             f"(CIFAR-10-C's 15 corruptions at 5 severities, plus camera conditions):", "",
             "| format | clean | mCA | relative drop | camera conditions | vs float (mCA, agreement) | worst corruptions |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for fmt, entry in summary["formats"].items():
        vs_float = ("—" if entry["mca_gap_pp"] is None
                    else f"{entry['mca_gap_pp']:+.2f} pp, {entry['agreement']:.1%}")
        worst = ", ".join(f"{name} {entry['mean'][name]:.0%}" for name in entry["worst"][:3])
        lines.append(f"| {fmt} | {percent(entry['clean'])} | {percent(entry['mca'])} | "
                     f"{percent(entry['relative_drop'])} | {percent(entry['camera_mean'])} | {vs_float} | {worst} |")
    return lines + [""]
