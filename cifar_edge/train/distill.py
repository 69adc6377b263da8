"""Knowledge distillation (Hinton, Vinyals & Dean, 2015): a small student network learns from the
labels and from the softened predictions of larger, finished runs, its teachers.

    cifar-edge train --preset standard --teacher runs/wide --distill-weight 0.5 --temperature 2

Each epoch the trainer asks the teachers about exactly the augmented images the student will see
(`soft_targets`), so flips, shifts and noise match, and hands `fit` the labels and those predictions
side by side: ten one-hot columns, then ten teacher probabilities.  `DistillationLoss` splits them
again.  Several teachers form an ensemble: their probabilities are averaged.  With `--teacher-views K`
the teachers answer only the first K epochs' images, kept by `TeacherViews`, and later epochs replay
those K views (with fresh noise): the teachers' time stops growing with the epochs.

The teachers answer in the student's precision (bfloat16 where the trainer computes in it), which
makes their forward passes, as costly as the student's steps, 1.4-1.5x faster on such a CPU.

A teacher must be a finished run on the same data archive with the same classes: another archive's
teacher would teach the test images it saw (or a task it learnt elsewhere), so it is refused.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import ops

from cifar_edge.contract import CLASSES
from cifar_edge.edge_runtime.classifier import softmax
from cifar_edge.errors import CifarEdgeError
from cifar_edge.files import read_json, write_atomically
from cifar_edge.train.model import logits_of  # importing the network registers the layers a teacher's file names


@keras.saving.register_keras_serializable("cifar_edge")
class DistillationLoss(keras.losses.Loss):
    """(1 - weight) x the label loss (cross-entropy with label smoothing, the recipe's) + weight x T²
    x KL(teacher || student), both softened by the temperature T.  The T² keeps the soft term's
    gradients the size of the label term's whatever T is (Hinton et al.)."""

    def __init__(self, label_smoothing: float = 0.0, weight: float = 0.5, temperature: float = 2.0,
                 name: str = "distillation", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing, self.weight, self.temperature = label_smoothing, weight, temperature

    def call(self, y_true, y_pred):
        classes = len(CLASSES)
        labels, teacher = y_true[:, :classes], y_true[:, classes:]
        logits = ops.cast(y_pred, "float32")
        hard = keras.losses.categorical_crossentropy(labels, logits, from_logits=True,
                                                     label_smoothing=self.label_smoothing)
        log_student = ops.log_softmax(logits / self.temperature, axis=-1)
        soft = ops.sum(teacher * (ops.log(ops.maximum(teacher, 1e-12)) - log_student), axis=-1)
        return (1 - self.weight) * hard + self.weight * self.temperature ** 2 * soft

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing, "weight": self.weight,
                "temperature": self.temperature}


@keras.saving.register_keras_serializable("cifar_edge")
def label_accuracy(y_true, y_pred):
    """Top-1 accuracy against the label columns only (the teacher's columns follow them)."""
    labels = ops.argmax(y_true[:, :len(CLASSES)], axis=-1)
    return ops.cast(ops.equal(labels, ops.argmax(y_pred, axis=-1)), "float32")


@dataclass
class Teacher:
    run: str
    model: keras.Model
    test_accuracy: float
    val_accuracy: float | None
    data_sha256: str

    def record(self) -> dict:
        """What metrics.json and the model card keep of a teacher."""
        return {"run": self.run, "test_accuracy": self.test_accuracy, "val_accuracy": self.val_accuracy,
                "data_sha256": self.data_sha256}


def load_teachers(runs: tuple[str, ...], data_sha256: str, policy: str = "float32") -> list[Teacher]:
    """The finished runs `runs` as teachers, each checked to know this data and these classes, and
    answering in the dtype policy `policy` (the student's: see `computing_in`)."""
    teachers = []
    for run in map(Path, runs):
        if not (run / "metrics.json").is_file() or not (run / "model.keras").is_file():
            raise CifarEdgeError(f"teacher {run} is not a finished run (it needs metrics.json and model.keras): "
                                 "train it first")
        metrics = read_json(run / "metrics.json")
        sha = (metrics.get("data") or {}).get("sha256", "")
        if sha != data_sha256:
            raise CifarEdgeError(f"teacher {run} was trained on other data (sha256 {sha[:16] or 'unknown'}…), "
                                 f"not this archive ({data_sha256[:16]}…): refused, its predictions would "
                                 "carry what it learnt there")
        classes = list(metrics.get("per_class_test_accuracy") or {})
        model = keras.models.load_model(run / "model.keras", compile=False)
        if classes != list(CLASSES) or model.output_shape[-1] != len(CLASSES):
            raise CifarEdgeError(f"teacher {run} predicts other classes ({', '.join(classes) or 'unknown'}; "
                                 f"{model.output_shape[-1]} outputs), not CIFAR-10's {len(CLASSES)}")
        teachers.append(Teacher(str(run), computing_in(model, policy), metrics["test_accuracy"],
                                metrics.get("val_accuracy"), sha))
    return teachers


def computing_in(model: keras.Model, policy: str) -> keras.Model:
    """`model` rebuilt so that its layers compute in the Keras dtype policy `policy`, with the same
    (float32) weights.  A saved model keeps the policy it was saved with, float32 here, however the
    student trains; but a teacher's forward pass costs as much as the student's step, and in bfloat16
    it answers 1.4-1.5x faster on a CPU with AVX512_BF16, with the same top-1 answers and softened
    probabilities within a KL divergence of 3e-5 (`benchmarks/teacher_answers.py`,
    results/teacher_answers.txt)."""
    computing = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if all(layer.dtype_policy.name == policy for layer in computing):
        return model

    def with_policy(layer: keras.layers.Layer) -> keras.layers.Layer:
        return layer.__class__.from_config({**layer.get_config(), "dtype": policy})

    rebuilt = keras.models.clone_model(model, clone_function=with_policy)
    rebuilt.set_weights(model.get_weights())
    return rebuilt


def soft_targets(teachers: list[Teacher], images: np.ndarray, temperature: float) -> np.ndarray:
    """The teachers' mean probabilities at `temperature` for `images`, float32 (N, classes)."""
    total = np.zeros((len(images), len(CLASSES)), np.float64)
    for teacher in teachers:
        total += softmax(logits_of(teacher.model, images).astype(np.float64) / temperature)
    return (total / len(teachers)).astype(np.float32)


def with_soft_targets(onehot: np.ndarray, teachers: list[Teacher], images: np.ndarray,
                      temperature: float) -> np.ndarray:
    """The targets `fit` takes in a distilled run: labels, then the teachers' probabilities."""
    return np.concatenate([onehot, soft_targets(teachers, images, temperature)], axis=1)


class TeacherViews:
    """The teachers' answers for each augmented view a `--teacher-views` run replays, asked once per view
    and kept in the run folder, so a run resumed after a kill does not ask again."""

    FILE = "teacher_views.npz"

    def __init__(self, run_dir: Path, teachers: list[Teacher], temperature: float):
        self.path, self.teachers, self.temperature = Path(run_dir) / self.FILE, teachers, temperature
        try:
            self.answers = dict(np.load(self.path)) if self.path.is_file() else {}
        except (OSError, ValueError, zipfile.BadZipFile):  # unreadable: asking again loses nothing
            self.answers = {}

    def targets(self, onehot: np.ndarray, images: np.ndarray, view: int) -> np.ndarray:
        """As `with_soft_targets` for `images`, which are view `view`'s (before camera corruptions)."""
        key = f"view{view}"
        if key not in self.answers or self.answers[key].shape != (len(images), len(CLASSES)):
            self.answers[key] = soft_targets(self.teachers, images, self.temperature)
            write_atomically(self.path, lambda tmp: np.savez(tmp, **self.answers))
        return np.concatenate([onehot, self.answers[key]], axis=1)
