"""`Classifier`: one exported model file, ready to score uint8 RGB images.

It picks the interpreter by file type (see `backends`), reads the labels and input contract from the
file's own metadata (see `model_info`; a file without it gets `cifar_edge.contract`'s), resizes any
picture by that contract, and scores batches of any size.  Nothing here imports TensorFlow: this is
what runs on the Raspberry Pi.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cifar_edge.contract import CLASSES, InputContract
from cifar_edge.edge_runtime.backends import open_backend
from cifar_edge.edge_runtime.preprocess import to_model_input
from cifar_edge.errors import CifarEdgeError


@dataclass(frozen=True)
class Prediction:
    label: str
    index: int
    confidence: float
    probabilities: np.ndarray  # (10,), softmax of the logits, in label order

    def top_k(self, k: int, labels) -> list[dict]:
        order = np.argsort(-self.probabilities, kind="stable")[:k]  # ties in index order, as argmax breaks them
        return [{"label": labels[i], "index": int(i), "confidence": float(self.probabilities[i])} for i in order]


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


class Classifier:
    def __init__(self, path: str | Path, threads: int = 1):
        self.path = Path(path)
        self.backend = open_backend(self.path, threads)
        self.info = self.backend.metadata or {}
        self.labels = tuple(self.info.get("labels", CLASSES))
        self.contract = InputContract.from_metadata(self.info)
        self.input_shape = self.contract.shape

    def scores(self, images: np.ndarray, batch_size: int = 250, progress=None) -> np.ndarray:
        """Raw model outputs (logits) for a uint8 (N, H, W, 3) RGB batch, `batch_size` at a time.
        `progress`, if given, is called with the number of images done after each batch."""
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.shape[1:] != self.input_shape:
            raise CifarEdgeError(f"{self.path.name} takes uint8 RGB images of shape (N, "
                                 f"{', '.join(map(str, self.input_shape))}), got {images.dtype} {images.shape}")
        outputs = []
        for start in range(0, len(images), batch_size):
            outputs.append(self.backend.run(np.ascontiguousarray(images[start:start + batch_size])))
            if progress:
                progress(len(outputs[-1]))
        return np.concatenate(outputs) if outputs else np.zeros((0, len(self.labels)), np.float32)

    def predict(self, images: np.ndarray, batch_size: int = 250) -> np.ndarray:
        """Class indices for a uint8 (N, H, W, 3) RGB batch."""
        return self.scores(images, batch_size).argmax(axis=1)

    def classify_batch(self, images) -> list[Prediction]:
        """RGB pictures of any size (uint8 or uint16, gray, RGB or RGBA) -> one Prediction each."""
        batch = np.stack([to_model_input(image, self.contract) for image in images])
        probabilities = softmax(self.scores(batch))
        return [Prediction(self.labels[int(p.argmax())], int(p.argmax()), float(p.max()), p) for p in probabilities]

    def classify(self, image: np.ndarray) -> Prediction:
        """One RGB picture of any size -> its Prediction (resized as the model's contract says)."""
        return self.classify_batch([image])[0]
