"""The training curves a finished run leaves beside its metrics: loss and accuracy per epoch."""

from __future__ import annotations

from pathlib import Path

from cifar_edge.files import write_atomically


def plot_history(path: Path, rows: list[dict]) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in rows]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, [r["loss"] for r in rows], "o-", label="train (augmented, smoothed)")
    ax_acc.plot(epochs, [r["accuracy"] for r in rows], "o-", label="train (augmented)")
    if "val_loss" in rows[0]:
        ax_loss.plot(epochs, [r["val_loss"] for r in rows], "o-", label="validation")
        ax_acc.plot(epochs, [r["val_accuracy"] for r in rows], "o-", label="validation")
    ax_loss.set(xlabel="epoch", ylabel="loss", title="Loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
