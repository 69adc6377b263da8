"""Scoring predictions against labels, the same way for the trainer, `compare` and the benchmarks:
top-1 accuracy, the confusion matrix, per-class accuracy and its plot.  numpy only (matplotlib is
imported when a plot is drawn)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cifar_edge.contract import CLASSES
from cifar_edge.files import write_atomically


def accuracy(predictions: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy of class indices, or of logits (their argmax)."""
    predictions = np.asarray(predictions)
    if predictions.ndim == 2:
        predictions = predictions.argmax(axis=1)
    return float(np.mean(predictions == labels))


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """Rows are true classes, columns predicted classes."""
    matrix = np.zeros((len(CLASSES), len(CLASSES)), np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix


def per_class_accuracy(matrix: np.ndarray) -> dict[str, float]:
    totals = matrix.sum(axis=1)
    return {name: float(matrix[i, i] / totals[i]) if totals[i] else None for i, name in enumerate(CLASSES)}


def plot_confusion(path: Path, matrix: np.ndarray, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 6))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(CLASSES)), CLASSES, rotation=45, ha="right")
    ax.set_yticks(range(len(CLASSES)), CLASSES)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center", fontsize=8,
                color="white" if count > matrix.max() / 2 else "black")
    fig.tight_layout()
    write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
