"""`cifar-edge train`: runs a recipe to a finished run folder, resumably.

A run lives in `runs/<name>/`.  While it trains, the folder holds `checkpoint.json` and the
checkpoint it names (model + optimizer state, written atomically at every epoch end), so a run
killed at any moment, even by SIGKILL, continues with `--resume` from its last finished epoch with
the same schedule and data stream.  When it finishes, the folder holds `model.keras` (float32,
uint8 RGB in, logits out), `metrics.json`, `history.csv`, `training_curves.png` and
`confusion_matrix.png`; `metrics.json` is written last and marks the run as finished.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from pathlib import Path

import keras
import numpy as np
from tqdm.auto import tqdm

from cifar_edge import evaluation, provenance
from cifar_edge.contract import CLASSES
from cifar_edge.data import Dataset, Split, load_cifar10, train_val_split
from cifar_edge.errors import CifarEdgeError
from cifar_edge.files import read_json, write_atomically, write_csv, write_json
from cifar_edge.train.augment import CameraAugment, augmented_epoch, epoch_arrays
from cifar_edge.train.curves import plot_history
from cifar_edge.train.distill import (DistillationLoss, TeacherViews, label_accuracy, load_teachers,
                                      with_soft_targets)
from cifar_edge.train.model import build_model, logits_of, recalibrate_batchnorm, whitening_kernel
from cifar_edge.train.optim import LookaheadSGD, TriangularSchedule
from cifar_edge.train.recipe import TrainConfig, changed_knobs, command_for, resolve_precision

CHECKPOINT_STATE = "checkpoint.json"
FINISHED_MARKER = "metrics.json"


# --------------------------------------------------------------------------- callbacks

class ProgressBar(keras.callbacks.Callback):
    """One tqdm bar per epoch: ETA, images/s, loss and accuracy; validation accuracy at the end.

    With the bar off (logs, CI) it prints one summary line per epoch instead, so a background
    run's log still shows how it is going.
    """

    def __init__(self, epochs: int, steps: int, batch_size: int, enabled: bool = True):
        super().__init__()
        self.epochs, self.steps, self.batch_size, self.enabled = epochs, steps, batch_size, enabled

    def on_epoch_begin(self, epoch, logs=None):
        self.bar = tqdm(total=self.steps, desc=f"epoch {epoch + 1}/{self.epochs}", unit="step",
                        disable=not self.enabled, dynamic_ncols=True, file=sys.stderr)
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        rate = (batch + 1) * self.batch_size / (time.perf_counter() - self.start)
        self.bar.set_postfix(loss=f"{float(logs['loss']):.3f}", acc=f"{float(logs['accuracy']):.3f}",
                             img_s=f"{rate:.0f}", refresh=False)
        self.bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        if "val_accuracy" in logs:
            self.bar.set_postfix_str(f"{self.bar.postfix}, val_acc={float(logs['val_accuracy']):.4f}")
        self.bar.close()
        if not self.enabled:
            seconds = time.perf_counter() - self.start
            print(f"epoch {epoch + 1}/{self.epochs}: {seconds:.0f}s, "
                  f"{self.steps * self.batch_size / seconds:.0f} img/s, loss {logs['loss']:.4f}, "
                  f"acc {logs['accuracy']:.4f}, val_acc {logs.get('val_accuracy', float('nan')):.4f}",
                  file=sys.stderr, flush=True)


class EpochCheckpoint(keras.callbacks.Callback):
    """Times each epoch and saves an atomic checkpoint at its end."""

    def __init__(self, run_dir: Path, config: TrainConfig, steps: int, history: list[dict]):
        super().__init__()
        self.run_dir, self.config, self.steps, self.history = run_dir, config, steps, history
        self.teacher_seconds = 0.0  # set by the trainer before each epoch of a distilled run

    def on_epoch_begin(self, epoch, logs=None):
        self.start, self.clock = time.perf_counter(), provenance.cpu_clock()

    def on_train_batch_end(self, batch, logs=None):
        self.train_seconds = time.perf_counter() - self.start  # excludes validation

    def on_epoch_end(self, epoch, logs=None):
        images = self.steps * self.config.batch_size
        # A distilled run's teachers answer before the epoch starts: their time is the epoch's too.
        teacher = {"teacher_seconds": round(self.teacher_seconds, 2)} if self.config.teacher else {}
        self.history.append({"epoch": epoch + 1, **{k: float(v) for k, v in logs.items()},
                             "train_seconds": round(self.train_seconds, 2),
                             "epoch_seconds": round(time.perf_counter() - self.start + self.teacher_seconds, 2),
                             "images_per_s": round(images / self.train_seconds, 1), **teacher,
                             # what else had the CPU: the hypervisor (steal) and other processes (load)
                             "cpu_stolen": provenance.stolen_share(self.clock, provenance.cpu_clock()),
                             "load_average": round(os.getloadavg()[0], 2)})
        path = self.run_dir / f"checkpoint-epoch{epoch + 1:03d}.keras"
        write_atomically(path, lambda tmp: self.model.save(tmp))
        write_json(self.run_dir / CHECKPOINT_STATE, {
            "checkpoint": path.name, "epoch": epoch + 1, "config": self.config.to_dict(),
            "keras_backend": keras.backend.backend(), "history": self.history})
        for old in self.run_dir.glob("checkpoint-epoch*.keras"):  # only now is the new one in force
            if old != path:
                old.unlink()


# --------------------------------------------------------------------------- the run folder

def prepare_run_dir(run_dir: Path, config: TrainConfig, resume: bool, force: bool) -> dict | None:
    """Checks what is in `run_dir`; returns the checkpoint state to resume from, or None."""
    state_path = run_dir / CHECKPOINT_STATE
    if force and run_dir.exists():
        shutil.rmtree(run_dir)
    elif (run_dir / FINISHED_MARKER).exists():
        raise CifarEdgeError(f"{run_dir} holds a finished run; pass --force to overwrite it "
                             "or --name to train another")
    elif state_path.exists():
        if not resume:
            raise CifarEdgeError(f"{run_dir} holds an unfinished run; pass --resume to continue it "
                                 "or --force to start over")
        state = read_json(state_path)
        changed = changed_knobs(TrainConfig.from_dict(state["config"]), config)
        if changed:
            raise CifarEdgeError(f"cannot resume {run_dir} with different options ({', '.join(changed)}); "
                                 "resume with the options it was started with, or pass --force")
        backend = state.get("keras_backend", "tensorflow")  # its checkpoint's layout depends on it
        if backend != keras.backend.backend():
            raise CifarEdgeError(f"{run_dir} was started under KERAS_BACKEND={backend}; resume it with "
                                 f"KERAS_BACKEND={backend} (this process runs {keras.backend.backend()})")
        return state
    run_dir.mkdir(parents=True, exist_ok=True)
    # Teacher answers kept by a start killed in its first epoch, before any checkpoint: perhaps another config's.
    (run_dir / TeacherViews.FILE).unlink(missing_ok=True)
    return None


def distribution_strategy(config: TrainConfig):
    """The tf.distribute strategy `--distribute` asks for, or None."""
    if config.distribute == "none":
        return None
    if keras.backend.backend() != "tensorflow":
        raise CifarEdgeError("--distribute mirrored needs the TensorFlow backend (KERAS_BACKEND=tensorflow)")
    import tensorflow as tf

    # The devices are named, not left to MirroredStrategy's default: all GPUs, else all logical CPUs.
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy([d.name for d in devices])


def trains_channels_first() -> bool:
    """NCHW convolutions under KERAS_BACKEND=torch, where PyTorch's CPU kernels run them 1.4x faster
    than NHWC (../shared/reference-points.md); TensorFlow has no NCHW training kernels on CPU.  The
    saved model is NHWC whatever the backend trained it in."""
    return keras.backend.backend() == "torch"


def replicas_of(model: keras.Model) -> int:
    """How many devices trained `model` in step (its tf.distribute strategy's replicas; 1 without one)."""
    strategy = getattr(model, "distribute_strategy", None)
    return strategy.num_replicas_in_sync if strategy is not None else 1


def compile_for_training(model: keras.Model, config: TrainConfig, total_steps: int) -> None:
    """The optimiser and loss; a distilled run's targets carry the teachers' probabilities after the
    labels, so its loss and accuracy read those columns apart."""
    schedule = TriangularSchedule(config.lr, total_steps, config.lr_start, config.lr_peak_at, config.lr_end)
    optimizer = LookaheadSGD(total_steps=total_steps, sync_every=config.lookahead_every,
                             final_decay=config.lookahead_decay, coupled_decay=config.weight_decay,
                             learning_rate=schedule, momentum=config.momentum, nesterov=True)
    if config.teacher:
        model.compile(optimizer=optimizer,
                      loss=DistillationLoss(config.label_smoothing, config.distill_weight, config.temperature),
                      metrics=[keras.metrics.MeanMetricWrapper(label_accuracy, name="accuracy")])
        return
    model.compile(optimizer=optimizer,
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True,
                                                            label_smoothing=config.label_smoothing),
                  metrics=["accuracy"])


def use_precision(precision: str) -> None:
    """Makes the models built and steps traced from now on compute in `precision`.

    The mixed_* precisions are Keras dtype policies: layers cast to bfloat16 or float16 themselves.
    "onednn_bfloat16" keeps a float32 model and asks TensorFlow's graph optimizer to rewrite each
    traced step so that oneDNN computes its convolutions and their gradients in bfloat16; the casts
    then sit where oneDNN wants them rather than at every Keras layer's edge."""
    onednn = precision == "onednn_bfloat16"
    if onednn and keras.backend.backend() != "tensorflow":
        raise CifarEdgeError(f"--precision onednn_bfloat16 is TensorFlow's graph rewrite, and Keras runs on "
                             f"{keras.backend.backend()}: use mixed_bfloat16")
    keras.mixed_precision.set_global_policy("float32" if onednn else precision)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.optimizer.set_experimental_options({"auto_mixed_precision_onednn_bfloat16": onednn})


def limit(split: Split, n: int) -> Split:
    return split.take(slice(0, n)) if n else split


# --------------------------------------------------------------------------- evaluation

def predict_logits(model: keras.Model, images: np.ndarray, flip_tta: bool = False) -> np.ndarray:
    logits = logits_of(model, images)
    if flip_tta:  # average with the mirror image: reported beside plain accuracy, never instead
        logits = (logits + logits_of(model, images[:, :, ::-1])) / 2
    return logits


def training_accelerator() -> str:
    """The GPU the steps ran on, by name, else "cpu".  machine_info() describes the host alone, and a run
    on a lent GPU machine would otherwise read as trained on that machine's Xeon."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        return "cpu" if device.platform == "cpu" else device.device_kind
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU") if gpus else "cpu"
    if backend == "torch":
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    return "cpu"


def package_versions() -> dict[str, str]:
    return {**provenance.package_versions(("cifar-edge", "keras", "tensorflow", "jax", "numpy")),
            "keras_backend": keras.backend.backend()}


# --------------------------------------------------------------------------- the whole run

def train(config: TrainConfig, data: str | Path | None = None, run_dir: str | Path = "runs/standard",
          resume: bool = False, force: bool = False, progress: bool = True) -> dict:
    """Trains `config` on the CIFAR-10 found at `data`; returns the metrics written to metrics.json."""
    started = time.perf_counter()
    run_dir = Path(run_dir)
    state = prepare_run_dir(run_dir, config, resume, force)
    dataset: Dataset = load_cifar10(data)
    train_split, val_split = train_val_split(limit(dataset.train, config.train_limit), config.val_size, config.seed)
    test_split = limit(dataset.test, config.test_limit)
    if len(train_split) < config.batch_size:
        raise CifarEdgeError(f"{len(train_split)} training images cannot fill one batch of {config.batch_size}")

    precision = resolve_precision(config.precision)
    use_precision(precision)
    teachers = (load_teachers(config.teacher, dataset.sha256, keras.mixed_precision.global_policy().name)
                if config.teacher else [])
    keras.utils.set_random_seed(config.seed)
    steps = len(train_split) // config.batch_size
    total_steps = config.epochs * steps
    history = list(state["history"]) if state else []
    strategy = distribution_strategy(config)
    with strategy.scope() if strategy else contextlib.nullcontext():
        if state:
            model = keras.models.load_model(run_dir / state["checkpoint"])
        else:
            model = build_model(config, channels_first=trains_channels_first(), for_training=True)
            kernel = whitening_kernel(train_split.images[:config.whiten_images], config.whiten_eps)
            model.get_layer("whiten").set_weights([kernel])
            compile_for_training(model, config, total_steps)
    initial_epoch = state["epoch"] if state else 0

    onehot = np.eye(len(CLASSES), dtype="float32")
    camera = camera_augment(config)

    def targets(images, labels_onehot):  # a distilled run's: the labels, then the teachers' probabilities
        return with_soft_targets(labels_onehot, teachers, images, config.temperature) if teachers else labels_onehot

    kept_views = TeacherViews(run_dir, teachers, config.temperature) if teachers and config.teacher_views else None

    validation = (val_split.images, targets(val_split.images, onehot[val_split.labels])) if len(val_split) else None
    checkpoint = EpochCheckpoint(run_dir, config, steps, history)
    callbacks = [checkpoint, ProgressBar(config.epochs, steps, config.batch_size, progress)]
    try:
        # One `fit` call per epoch on that epoch's arrays: the epoch is a pure function of (seed, epoch),
        # so a resumed run replays the same stream, and Keras keeps the compiled step between calls.
        for epoch in range(initial_epoch, config.epochs):
            view = epoch % config.teacher_views if kept_views else epoch
            images, onehot_labels, *uncorrupted = epoch_arrays(
                train_split, config.batch_size, config.seed, epoch, config.translate, config.cutout, camera,
                keep_uncorrupted=bool(teachers), view=view)
            asked = time.perf_counter()
            if teachers:
                # The teachers see the student's images shifted, flipped and cut out alike, but before its
                # noise, blur or AugMix: a network trained on clean images misreads noisy ones (the
                # clean-trained release kept 22% under CIFAR-10-C's Gaussian noise, docs/results.md), so
                # the student is taught to give a noisy image the answer its clean version deserves.
                onehot_labels = (kept_views.targets(onehot_labels, uncorrupted[0], view) if kept_views
                                 else targets(uncorrupted[0], onehot_labels))
            checkpoint.teacher_seconds = time.perf_counter() - asked
            model.fit(images, onehot_labels, batch_size=config.batch_size, shuffle=False,
                      epochs=epoch + 1, initial_epoch=epoch, validation_data=validation,
                      validation_batch_size=1000, callbacks=callbacks, verbose=0)
    except KeyboardInterrupt:
        done = history[-1]["epoch"] if history else 0
        error = CifarEdgeError(f"interrupted after {done} finished epoch(s); their checkpoint is in "
                               f"{run_dir}: continue with --resume")
        error.exit_code = 130
        raise error from None

    # The deliverable is float32 whatever the training precision: same weights, plain graph.
    use_precision("float32")
    final = build_model(config)
    final.set_weights(model.get_weights())
    calibration = recalibrate_on_the_better_images(final, train_split, val_split, config)
    metrics = evaluate_and_report(final, config, dataset, val_split, test_split, history, run_dir,
                                  wall_seconds=time.perf_counter() - started, precision=precision,
                                  calibration=calibration, replicas=replicas_of(model),
                                  teachers=[teacher.record() for teacher in teachers])
    for leftover in [run_dir / CHECKPOINT_STATE, *run_dir.glob("checkpoint-epoch*.keras"),
                     *run_dir.glob(TeacherViews.FILE)]:
        leftover.unlink()
    return metrics


def camera_augment(config: TrainConfig) -> CameraAugment:
    """The camera augmentations `config` asks for (noise, blur, AugMix shares)."""
    return CameraAugment(config.noise_fraction, config.noise_sigma, config.blur_fraction, config.augmix_fraction)


def bn_calibration_images(train_split: Split, config: TrainConfig) -> np.ndarray:
    """One more epoch of the training images as training shows them: shifted, flipped, cut out, given the
    camera augmentations.  The layers after each BatchNorm learnt on the statistics of such batches."""
    images, _ = augmented_epoch(train_split, config.seed, config.epochs, config.translate, config.cutout,
                                camera=camera_augment(config))
    return images


def recalibrate_on_the_better_images(model: keras.Model, train_split: Split, val_split: Split,
                                     config: TrainConfig) -> dict:
    """Re-estimates the BatchNorm statistics of the final weights (see `recalibrate_batchnorm`) on the clean
    training images and on an augmented epoch of them, and keeps whichever scores higher on validation
    (clean on a tie, or without validation images).  Neither wins everywhere: on airbench96's run (12-pixel
    cutout) the augmented images were 0.40 points better on validation, on `long`'s (8-pixel cutout) 0.25
    worse (results/bn_recalibration_*.txt).  Returns what metrics.json records of it."""
    candidates = {"clean training images": train_split.images}
    if len(val_split):
        candidates["augmented training images"] = bn_calibration_images(train_split, config)
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    scored = {}
    for name, images in candidates.items():
        used = recalibrate_batchnorm(model, images)
        val_accuracy = evaluation.accuracy(predict_logits(model, val_split.images), val_split.labels) \
            if len(val_split) else None
        scored[name] = (val_accuracy, used, [layer.get_weights() for layer in norms])
    chosen = max(scored, key=lambda name: scored[name][0] or 0)  # max keeps the first of equals: clean
    val_accuracy, used, statistics = scored[chosen]
    for layer, weights in zip(norms, statistics):
        layer.set_weights(weights)
    return {"bn_recalibration_images": used, "bn_recalibration_on": chosen,
            "bn_recalibration_val_accuracy": {name: score[0] for name, score in scored.items()}}


def evaluate_and_report(model: keras.Model, config: TrainConfig, dataset: Dataset, val_split: Split,
                        test_split: Split, history: list[dict], run_dir: Path, wall_seconds: float,
                        precision: str, calibration: dict | None = None, replicas: int = 1,
                        teachers: list[dict] | None = None) -> dict:
    test_logits = predict_logits(model, test_split.images)
    test_tta_logits = predict_logits(model, test_split.images, flip_tta=True)
    matrix = evaluation.confusion_matrix(test_split.labels, test_logits.argmax(axis=1))
    train_seconds = sum(row["train_seconds"] for row in history)
    stolen = [(row["cpu_stolen"], row["epoch_seconds"]) for row in history if row.get("cpu_stolen") is not None]
    metrics = {
        "test_accuracy": evaluation.accuracy(test_logits, test_split.labels),
        "test_accuracy_flip_tta": evaluation.accuracy(test_tta_logits, test_split.labels),
        "val_accuracy": evaluation.accuracy(predict_logits(model, val_split.images), val_split.labels)
        if len(val_split) else None,
        "per_class_test_accuracy": evaluation.per_class_accuracy(matrix),
        "confusion_matrix": matrix.tolist(),
        "epochs": len(history),
        "train_images": len(dataset.train) if not config.train_limit else config.train_limit,
        "val_images": len(val_split),
        "test_images": len(test_split),
        "train_wall_seconds": round(sum(row["epoch_seconds"] for row in history), 1),
        # This invocation, data loading and evaluation included (after --resume: only the rest).
        "command_wall_seconds": round(wall_seconds, 1),
        "train_images_per_s": round(sum(r["images_per_s"] * r["train_seconds"] for r in history)
                                    / train_seconds, 1),
        # The CPU time the hypervisor took while training (a virtual machine's "steal"), epoch-weighted.
        "cpu_stolen": round(sum(share * secs for share, secs in stolen) / sum(secs for _, secs in stolen), 3)
        if stolen else None,
        "parameters": model.count_params(),
        "seed": config.seed,
        "precision": precision,
        "replicas": replicas,
        **(calibration or {"bn_recalibration_images": 0}),
        "data": {"path": str(dataset.source), "format": dataset.format, "sha256": dataset.sha256},
        "config": config.to_dict(),
        "versions": package_versions(),
        "machine": {**provenance.machine_info(), "accelerator": training_accelerator()},
        "command": command_for(config),
        **({"teachers": teachers, "teacher_seconds": round(sum(r.get("teacher_seconds", 0) for r in history), 1)}
           if teachers else {}),
    }
    write_atomically(run_dir / "model.keras", lambda tmp: model.save(tmp))
    write_csv(run_dir / "history.csv", history)
    plot_history(run_dir / "training_curves.png", history)
    evaluation.plot_confusion(run_dir / "confusion_matrix.png", matrix,
                              f"Test set, plain accuracy {metrics['test_accuracy']:.2%}")
    write_json(run_dir / FINISHED_MARKER, metrics)
    return metrics
