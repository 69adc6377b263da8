"""Training speed of the project's trainer beside a plain `model.fit` of the same network, in one run.

    python benchmarks/train_speed.py --data ../shared/data/cifar-10-python.tar.gz [--json]

Both train the standard network (airbench94-like, 1.97 M parameters) on the same real CIFAR-10
images for the same number of steps after a warm-up.  The baseline is what a Keras user writes
first: float32, `keras.optimizers.SGD(nesterov=True)`, `model.fit(x, y, batch_size=1024)` on
pre-augmented arrays.  The trainer is `cifar_edge.train` as `cifar-edge train` runs it: lookahead
optimizer and augmented epoch arrays, measured in float32, in mixed_bfloat16 (Keras casts at each layer)
and in onednn_bfloat16 (TensorFlow rewrites the float32 step for oneDNN), with a mark on the one
its `auto` precision picks on this machine, so a wrong pick shows.  The reference recipe (airbench94 in
PyTorch) is printed beside them as quoted figures with their source: it is not installed here.

These are train steps.  Whole epochs also pay for the input path and validation: history.csv records
each epoch's images/s, and accuracy_vs_compute.py puts every run's in the results table.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time

from cifar_edge.quiet import hide_tensorflow_start_up

hide_tensorflow_start_up()  # before anything imports Keras: its start-up lines are noise here

import keras  # noqa: E402
import numpy as np  # noqa: E402

from cifar_edge import provenance  # noqa: E402
from cifar_edge.contract import CLASSES  # noqa: E402
from cifar_edge.data import load_cifar10  # noqa: E402
from cifar_edge.train import make_config  # noqa: E402
from cifar_edge.train.augment import epoch_arrays  # noqa: E402
from cifar_edge.train.model import build_model  # noqa: E402
from cifar_edge.train.recipe import resolve_precision  # noqa: E402
from cifar_edge.train.trainer import compile_for_training, trains_channels_first, use_precision  # noqa: E402



class StepTimer(keras.callbacks.Callback):
    """Images/s over the steps after `warmup` (graph tracing and first-call costs excluded), from the start of
    the first timed step to the end of the last, so that one timed step is enough."""

    def __init__(self, warmup: int, batch_size: int):
        super().__init__()
        self.warmup, self.batch_size, self.timed_steps = warmup, batch_size, 0

    def on_train_batch_begin(self, batch, logs=None):
        if batch == self.warmup:
            self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.end, self.timed_steps = time.perf_counter(), batch + 1 - self.warmup

    def images_per_s(self) -> float:
        if self.timed_steps < 1:
            raise ValueError(f"no step ran after the {self.warmup} warm-up steps")
        return self.timed_steps * self.batch_size / (self.end - self.start)


def measure_plain_fit(images, onehot, batch_size, steps, warmup) -> float:
    keras.mixed_precision.set_global_policy("float32")
    model = build_model(make_config("standard"))
    model.compile(keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
                  keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2),
                  metrics=["accuracy"])
    timer = StepTimer(warmup, batch_size)
    n = (steps + warmup) * batch_size
    model.fit(images[:n], onehot[:n], batch_size=batch_size, epochs=1, verbose=0, callbacks=[timer])
    return timer.images_per_s()


def measure_trainer(split, batch_size, steps, warmup, precision: str) -> float:
    config = make_config("standard", precision=precision)
    use_precision(precision)
    model = build_model(config, channels_first=trains_channels_first(), for_training=True)
    compile_for_training(model, config, total_steps=10_000)
    # The trainer's own input path: one epoch's augmented arrays, handed to fit (trainer.train).
    images, onehot = epoch_arrays(split.take(slice(0, (steps + warmup) * batch_size)), batch_size, 0, 0,
                                  config.translate, config.cutout)
    timer = StepTimer(warmup, batch_size)
    model.fit(images, onehot, batch_size=batch_size, shuffle=False, epochs=1, verbose=0, callbacks=[timer])
    use_precision("float32")
    return timer.images_per_s()


# The reference recipe's speed, quoted (it is a PyTorch script, not part of this project):
# airbench94 in PyTorch, train steps of the same network, measured by the project's maintainers with the
# reference's own script (../shared/reference-points.md and the issue that asked for this benchmark).
REFERENCE = (("AVX2 EPYC, 2 cores, float32", 112.8), ("AMX Xeon, 2 cores, float32", 184.0),
             ("AMX Xeon, 2 cores, bf16 autocast", 560.0))


# The compute precisions `auto` chooses between (recipe.resolve_precision), and TensorFlow's own bfloat16
# rewrite of a float32 step (trainer.use_precision), a candidate for `auto`.
PRECISIONS = ("float32", "mixed_bfloat16", "onednn_bfloat16")


def measure_trainer_on_torch(args) -> dict | None:
    """The trainer's rate and `auto` precision under KERAS_BACKEND=torch (NCHW convolutions), in a
    process of its own (the backend is chosen at import), or None without PyTorch.  Runs after the
    others, not beside them."""
    if importlib.util.find_spec("torch") is None:
        return None
    command = [sys.executable, __file__, "--trainer-only", "--steps", str(args.steps), "--warmup", str(args.warmup)]
    if args.data:
        command += ["--data", args.data]
    run = subprocess.run(command, capture_output=True, text=True, check=True,
                         env={**os.environ, "KERAS_BACKEND": "torch"})
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=None, help="CIFAR-10 path (default: $CIFAR_EDGE_DATA)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per contender")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--trainer-only", action="store_true", help=argparse.SUPPRESS)  # the torch contender
    args = parser.parse_args()

    batch_size = 1024
    train = load_cifar10(args.data).train
    auto = resolve_precision("auto")
    if args.trainer_only:
        print(json.dumps({"images_per_s": measure_trainer(train, batch_size, args.steps, args.warmup, auto),
                          "precision": auto}))
        return
    onehot = np.eye(len(CLASSES), dtype="float32")[train.labels]
    plain = measure_plain_fit(train.images, onehot, batch_size, args.steps, args.warmup)
    precisions = PRECISIONS if keras.backend.backend() == "tensorflow" else PRECISIONS[:2]
    trainer = {precision: measure_trainer(train, batch_size, args.steps, args.warmup, precision)
               for precision in precisions}
    on_torch = measure_trainer_on_torch(args)
    result = {"plain_fit_images_per_s": round(plain, 1),
              "trainer_images_per_s": {p: round(rate, 1) for p, rate in trainer.items()},
              "auto_precision": auto, "auto_is_fastest": auto == max(trainer, key=trainer.get),
              "speedup": round(trainer[auto] / plain, 2),
              "trainer_on_torch": on_torch,
              "steps": args.steps, "batch_size": batch_size, "machine": provenance.machine_info(),
              "reference_quoted": {where: rate for where, rate in REFERENCE}}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{'contender':<46}{'images/s':>10}{'vs plain':>10}")
    print(f"{'plain model.fit (float32)':<46}{plain:>10.0f}{1.0:>10.2f}")
    for precision, rate in trainer.items():
        name = f"cifar-edge trainer ({precision})" + ("  <- auto" if precision == auto else "")
        print(f"{name:<46}{rate:>10.0f}{rate / plain:>10.2f}")
    if on_torch:
        name, rate = f"the trainer on torch, NCHW ({on_torch['precision']})", on_torch["images_per_s"]
        print(f"{name:<46}{rate:>10.0f}{rate / plain:>10.2f}")
    else:
        print("(PyTorch is not installed: the trainer under KERAS_BACKEND=torch was not measured)")
    if not result["auto_is_fastest"]:
        print(f"note: auto picks {auto}, which is not the fastest here")
    print(f"\nmeasured here: {provenance.describe_machine(result['machine'])}; batch {batch_size}, "
          f"{args.steps} timed steps after {args.warmup}")
    print("quoted, not measured here: the airbench94 reference in PyTorch (../shared/reference-points.md)")
    for where, rate in REFERENCE:
        print(f"  {where:<34}{rate:>8.0f} images/s")


if __name__ == "__main__":
    main()
