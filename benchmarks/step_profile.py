"""Where a training step's time goes: the trainer's step taken apart by ablation, in one run.

    python benchmarks/step_profile.py --data ../shared/data/cifar-10-python.tar.gz [--json]

Each row removes one piece of the trainer's 1,024-image step and times what is left, on the standard
network and real images, after a warm-up:

- input:        augmenting 1,024 images in NumPy (augment.epoch_arrays), which fit does not overlap
                with compute on arrays;
- forward:      the network's inference pass alone (the convolutions and BatchNorm, no gradients);
- plain step:   forward, backward and a plain SGD update, in the trainer's precision; then the same
                with Keras' own BatchNorm instead of the trainer's fused one (model.TrainingBatchNorm),
                and with its GELU in the step's precision instead of float32 (model.gelu): the two
                pieces' gain;
- trainer step: the same with the recipe's optimizer (Nesterov momentum, coupled decay, lookahead)
                and label-smoothed loss, as `cifar-edge train` runs it;
- float32 step: the trainer's step in float32, when the trainer computes in bfloat16 (the casts'
                cost or gain).

The plain steps and the trainer step take turns, a step each (`steps_in_turns`), so that the CPU's
drift falls on them alike; the float32 and small-batch rows time `fit` as train_speed.py does.

Differences between rows are the pieces' costs: backward is plain step minus forward, the recipe's
optimizer is trainer step minus plain step.  Keras' own per-step overhead shows in the step at a tiny
batch (`--small-batch`), where the arithmetic is negligible.
"""

from __future__ import annotations

import argparse
import json
import time

from cifar_edge.quiet import hide_tensorflow_start_up

hide_tensorflow_start_up()  # before anything imports Keras: its start-up lines are noise here

import keras  # noqa: E402
import numpy as np  # noqa: E402

from cifar_edge import provenance  # noqa: E402
from cifar_edge.data import load_cifar10  # noqa: E402
from cifar_edge.train import make_config  # noqa: E402
from cifar_edge.train.augment import epoch_arrays  # noqa: E402
from cifar_edge.train.model import build_model  # noqa: E402
from cifar_edge.train.recipe import resolve_precision  # noqa: E402
from cifar_edge.train.trainer import compile_for_training, trains_channels_first, use_precision  # noqa: E402
from train_speed import measure_trainer  # noqa: E402  (beside this script)

BATCH = 1024


def gelu_in_step_precision(model: keras.Model) -> keras.Model:
    """`model` with its GELU layers computing in the step's precision, as Keras' own policy would have
    them, instead of in float32 (`model.gelu`)."""
    def clone(layer):
        if isinstance(layer, keras.layers.Activation):
            return layer.__class__.from_config({**layer.get_config(), "dtype": keras.mixed_precision.global_policy()})
        return layer.__class__.from_config(layer.get_config())
    return keras.models.clone_model(model, clone_function=clone)


TRAINER_STEP = "trainer step (recipe optimizer, loss)"


def steps_in_turns(precision: str, images, onehot, rounds: int) -> dict[str, float]:
    """Seconds per step, under `precision`, of: the trainer's standard network with a plain SGD update;
    the same with Keras' own BatchNorm, then also with its GELU in `precision` (the pieces the trainer's
    network replaces); and the trainer's step, with the recipe's optimizer and loss.  They take turns, a
    step each per round, and each keeps its median: this CPU's speed drifts by a third within minutes,
    which would fall on whichever ran last if each ran its steps in one go."""
    use_precision(precision)
    config = make_config("standard", precision=precision)
    trainer = build_model(config, channels_first=trains_channels_first(), for_training=True)
    compile_for_training(trainer, config, total_steps=10_000)
    plain = {"plain step (forward, backward, SGD)": build_model(config, channels_first=trains_channels_first(),
                                                                 for_training=True),
             "  the same with Keras' BatchNorm": build_model(config, channels_first=trains_channels_first())}
    if precision != "float32":
        plain[f"  and its GELU in {precision.removeprefix('mixed_')}"] = gelu_in_step_precision(
            plain["  the same with Keras' BatchNorm"])
    for model in plain.values():
        model.compile(keras.optimizers.SGD(0.1), keras.losses.CategoricalCrossentropy(from_logits=True))
    models = {**plain, TRAINER_STEP: trainer}
    batch, labels = images[:BATCH], onehot[:BATCH]
    for model in models.values():
        for _ in range(2):  # tracing and first-call costs
            model.train_on_batch(batch, labels)
    times = {name: [] for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            start = time.perf_counter()
            model.train_on_batch(batch, labels)
            times[name].append(time.perf_counter() - start)
    use_precision("float32")
    return {name: float(np.median(seconds)) for name, seconds in times.items()}


def time_trainer_step(split, precision: str, batch: int, steps: int, warmup: int) -> float:
    """Seconds per step of the trainer as `cifar-edge train` runs it (train_speed's measurement)."""
    return batch / measure_trainer(split, batch, steps, warmup, precision)


def time_forward(precision: str, images, steps: int, warmup: int) -> float:
    use_precision(precision)
    model = build_model(make_config("standard", precision=precision), channels_first=trains_channels_first())
    batch = images[:BATCH]
    times = []
    for _ in range(steps + warmup):
        start = time.perf_counter()
        model.predict_on_batch(batch)
        times.append(time.perf_counter() - start)
    use_precision("float32")
    return float(np.median(times[warmup:]))


def time_input(split, repeats: int = 3) -> float:
    """Seconds to augment 1,024 images: one epoch's arrays for 8 batches, per batch."""
    part = split.take(slice(0, 8 * BATCH))
    times = []
    for epoch in range(repeats):
        start = time.perf_counter()
        epoch_arrays(part, BATCH, 0, epoch, 2)
        times.append((time.perf_counter() - start) / 8)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=None, help="CIFAR-10 path (default: $CIFAR_EDGE_DATA)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per row")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--small-batch", type=int, default=16, help="batch of the Keras-overhead row")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    train = load_cifar10(args.data).train
    images, onehot = epoch_arrays(train.take(slice(0, (args.steps + args.warmup) * BATCH)), BATCH, 0, 0, 2, 0)
    precision = resolve_precision("auto")
    rows = {
        "input (NumPy augmentation)": time_input(train),
        "forward (inference pass)": time_forward(precision, images, args.steps, args.warmup),
        **steps_in_turns(precision, images, onehot, rounds=args.steps * 2),
    }
    if precision != "float32":
        rows["trainer step in float32"] = time_trainer_step(train, "float32", BATCH, args.steps, args.warmup)
    small = time_trainer_step(train, precision, args.small_batch, 20, 5)
    rows[f"Keras per-step overhead (batch {args.small_batch})"] = small

    trainer = rows[TRAINER_STEP]
    result = {"precision": precision, "batch": BATCH, "seconds_per_step": {k: round(v, 4) for k, v in rows.items()},
              "machine": provenance.machine_info()}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"the trainer's step taken apart: standard network, batch {BATCH}, trainer precision {precision}")
    print(f"{'piece':<44}{'ms/step':>9}{'of trainer step':>17}")
    for name, seconds in rows.items():
        print(f"{name:<44}{seconds * 1000:>9.0f}{seconds / trainer:>16.0%}")
    plain, forward = rows["plain step (forward, backward, SGD)"], rows["forward (inference pass)"]
    print(f"\nso: backward ≈ {(plain - forward) * 1000:.0f} ms, the recipe's optimizer and loss ≈ "
          f"{(trainer - plain) * 1000:.0f} ms, input {rows['input (NumPy augmentation)'] * 1000:.0f} ms per step")
    names = list(rows)
    keras_layers = names[names.index(TRAINER_STEP) - 1]  # steps_in_turns' last plain step: all of Keras' layers back
    print(f"the trainer's BatchNorm and GELU: its plain step {rows[keras_layers] / plain:.2f}x as fast as with "
          f"Keras' own layers")
    print(f"measured here: {provenance.describe_machine(result['machine'])}; {args.steps} timed steps after "
          f"{args.warmup} per row, the four steps' rows from plain to trainer the median of {args.steps * 2} steps each, taken in turns")


if __name__ == "__main__":
    main()
