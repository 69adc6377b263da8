"""The training recipe as one table: every knob is a `TrainConfig` field, and the presets name settings
of it.

Each field carries its help text, and `cifar-edge train` makes one `--<field>` option from each (see
`cli.py`), so adding a knob is one line here plus its use.  `command_for` writes the command that
reproduces a config into metrics.json.  Plain Python: the CLI imports this without TensorFlow.

Learning rate and weight decay are for a loss averaged over the batch (Keras' convention), with
decay added to the gradient as torch's SGD does.  They are airbench94's values converted: there,
with a loss summed over the batch and kilostep = 1024 * (1 + 1 / (1 - momentum)) = 7854,
    torch lr = 11.5 / 7854 = 1.464e-3,   decay per step = lr * torch_wd = 0.0153 * 1024 / 7854 = 1.995e-3
so with a batch-mean loss (gradients 1024x smaller) the same updates need
    lr = 1.5,   weight_decay = 1.995e-3 / 1.5 = 1.33e-3
(An earlier version dropped the factor 1024 from the decay, 1.95e-6: the net overfit to 99% train and
88.7% test accuracy; results/standard_weight_decay_bug/ keeps that run.)
"""

from __future__ import annotations

import dataclasses
import shlex
import typing
from dataclasses import dataclass, field

from cifar_edge.errors import CifarEdgeError


def knob(default, help: str, choices: tuple | None = None, parse=None):
    """A TrainConfig field: its default, the help text its `cifar-edge train` option shows, the values
    it may take (`choices`), and for a value that is not a plain number or word, how to read it from
    the command line (`parse`)."""
    return field(default=default, metadata={"help": help, "choices": choices, "parse": parse})


def parse_widths(text: str) -> tuple[int, int, int]:
    try:
        widths = tuple(int(w) for w in text.split(","))
    except ValueError:
        widths = ()
    if len(widths) != 3:
        raise CifarEdgeError(f"--widths takes three comma-separated integers like 64,256,256, got {text!r}")
    return widths


def parse_runs(text: str) -> tuple[str, ...]:
    return tuple(run.strip() for run in text.split(",") if run.strip())


@dataclass(frozen=True)
class TrainConfig:
    # The preset this config starts from: recorded so the command that reproduces it can name it.
    preset: str = "standard"

    # The network (airbench94's, in Keras).
    widths: tuple[int, int, int] = knob((64, 256, 256), "Channels of the three conv groups.", parse=parse_widths)
    convs_per_group: int = knob(2, "Convolutions in each group: 2 (airbench94's) or 3 (airbench96's, whose last "
                                   "two convolutions a residual connection bypasses).", choices=(2, 3))
    bn_momentum: float = knob(0.4, "BatchNorm moving-average keep fraction (Keras' convention: torch's 0.6).")
    bias_scale: float = knob(8.0, "BatchNorm shifts are stored divided by this, so SGD moves them "
                                  "scale^2 = 64x faster than the weights (airbench's bias lr x 64).")
    logit_scale: float = knob(1 / 9, "Multiplies the logits: a temperature that keeps early training from "
                                     "overconfidence.")
    whiten_eps: float = knob(5e-4, "Added to the patch eigenvalues before 1/sqrt in the whitening layer: "
                                   "how far it amplifies the faintest (noisiest) directions.")
    whiten_images: int = knob(5000, "Training images the 2x2 whitening filters are computed from.")

    # The optimiser: Nesterov SGD, triangular learning rate, lookahead.
    epochs: int = knob(16, "Passes over the training images.")
    batch_size: int = knob(1024, "Images per step (the last incomplete batch of an epoch is dropped).")
    lr: float = knob(1.5, "Peak learning rate, for a loss averaged over the batch.")
    lr_start: float = knob(0.2, "Learning rate at step 0, as a fraction of --lr.")
    lr_peak_at: float = knob(0.23, "Fraction of training at which the learning rate peaks.")
    lr_end: float = knob(0.07, "Learning rate at the last step, as a fraction of --lr.")
    momentum: float = knob(0.85, "Nesterov momentum.")
    weight_decay: float = knob(1.33e-3, "Decay added to the gradient per unit of learning rate (torch-style).")
    lookahead_every: int = knob(5, "Steps between lookahead syncs of the slow (averaged) weights.")
    lookahead_decay: float = knob(0.95**5, "How far the slow weights stay behind at the last sync; it "
                                           "grows as progress cubed up to this value.")
    label_smoothing: float = knob(0.2, "Share of each label's probability spread over all classes.")

    # Distillation (train/distill.py): finished runs whose softened predictions the network also learns.
    teacher: tuple[str, ...] = knob((), "Finished run folder(s) to learn from besides the labels, comma-"
                                        "separated (several: an ensemble); same data and classes.", parse=parse_runs)
    distill_weight: float = knob(0.5, "Share of the loss that is the KL divergence to the teachers "
                                      "(the rest: the label loss).")
    temperature: float = knob(2.0, "Softens teacher and student predictions in the distillation term.")
    teacher_views: int = knob(0, "Ask the teachers about the first K epochs' augmented images only, and replay "
                                 "those K views (shifts, flips, cutout, order; fresh noise) after them: the "
                                 "teachers' time stops growing with the epochs (0 = ask every epoch).")

    # The data.
    translate: int = knob(2, "Random shift in pixels, each way, with reflection at the edges.")
    cutout: int = knob(0, "Side of a mean-colour square painted at a random place (0 = off).")
    noise_fraction: float = knob(0.0, "Share of training images given Gaussian sensor noise of a random "
                                      "strength, against a camera's noise (0 = off).")
    noise_sigma: float = knob(0.1, "Largest standard deviation of that noise, on the 0..1 pixel scale "
                                   "(0.1 = about 25 grey levels).")
    blur_fraction: float = knob(0.0, "Share of training images blurred by a Gaussian of random width, "
                                     "against defocus and shake (0 = off).")
    augmix_fraction: float = knob(0.0, "Share of training images given AugMix, random chains of shears, "
                                       "shifts, rotations, posterize, solarize and equalize mixed with the "
                                       "image (0 = off).")
    val_size: int = knob(2000, "Training images held out for validation (class-balanced, seeded).")
    train_limit: int = knob(0, "Use only the first N training images (0 = all).")
    test_limit: int = knob(0, "Score only the first N test images (0 = all).")
    seed: int = knob(0, "Seed of initialisation, validation split, augmentation and order.")

    # The machine.
    precision: str = knob("auto", "auto: bfloat16 on GPUs and on CPUs with AMX or AVX512_BF16 (the "
                                  "hardware computes in bfloat16), else float32.  onednn_bfloat16: a float32 "
                                  "Keras model whose step TensorFlow's oneDNN rewrite computes in bfloat16 "
                                  "(CPU, TensorFlow backend).",
                          choices=("auto", "float32", "mixed_bfloat16", "mixed_float16", "onednn_bfloat16"))
    distribute: str = knob("none", "'mirrored' trains on all visible devices with tf.distribute.MirroredStrategy.",
                           choices=("none", "mirrored"))

    def to_dict(self) -> dict:
        """As stored in JSON (tuples become lists), so a saved config compares equal to a live one."""
        return {key: list(value) if isinstance(value, tuple) else value
                for key, value in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        """A config read back from JSON.  Fields it lacks (runs recorded before they existed) take the
        value every run used then, which is the default."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known}
        return cls(**values)


def knobs() -> list[dataclasses.Field]:
    """The fields `cifar-edge train` has an option for: all but `preset` (which is --preset)."""
    return [f for f in dataclasses.fields(TrainConfig) if f.name != "preset"]


def changed_knobs(before: TrainConfig, after: TrainConfig) -> list[str]:
    """The knobs whose values differ: empty when both train the same recipe, whatever preset named it."""
    return [f.name for f in knobs() if getattr(before, f.name) != getattr(after, f.name)]


def knob_types() -> dict[str, type]:
    return {name: kind for name, kind in typing.get_type_hints(TrainConfig).items() if name != "preset"}


# name: (what it is for, its overrides of the defaults).  Times depend on the CPU by up to 6x: the
# README and results/ quote measured ones.
_PRESET_TABLE = {
    "smoke": ("a tiny net on a slice of the data, seconds: proves the machinery, not the accuracy",
              dict(widths=(16, 32, 32), epochs=2, batch_size=128, val_size=256, train_limit=1024, test_limit=512)),
    "fast": ("the standard network, 12 epochs",
             dict(epochs=12)),
    "standard": ("30 epochs: what `make run` trains", dict(epochs=30)),
    "wide": ("airbench95's wider 128-384-384 network, 14 epochs: 2.5x standard's multiply-adds; the released "
             "model's teachers", dict(widths=(128, 384, 384), epochs=14)),
    "best": ("the most accurate recipe here: airbench96's network and recipe (its June 2024 update), 128-512-512 "
             "with three convolutions per group and a residual over the last two, 31 epochs, 4-pixel shifts, "
             "12-pixel cutout, warm-up over a tenth of the steps and decay to zero, lr x 0.78, torch's default "
             "BatchNorm momentum: 4.4x wide's compute, a GPU's minute, hours on a 2-core CPU",
             dict(widths=(128, 512, 512), convs_per_group=3, epochs=31, translate=4, cutout=12, lr=1.174,
                  lr_peak_at=0.1, lr_end=0.0, bn_momentum=0.9)),
    "long": ("standard's network (the 2 MB int8 file), 40 epochs, 8-pixel cutout against the overfitting "
             "longer training brings", dict(epochs=40, cutout=8)),
    "distilled": ("robust's network, epochs and noise, also taught by the finished `wide` run (runs/wide), "
                  "which answers on each image before its noise: the camera's 2 MB int8 file with some of the "
                  "wider network's accuracy",
                  dict(epochs=20, noise_fraction=0.25, teacher=("runs/wide",))),
    "robust": ("standard's network, 20 epochs, a quarter of the training images given sensor noise: the "
               "model for a camera (benchmarks/robust_training.py chose the share on corrupted validation images)",
               dict(epochs=20, noise_fraction=0.25)),
}
PRESETS: dict[str, TrainConfig] = {name: TrainConfig(preset=name, **overrides)
                                   for name, (_, overrides) in _PRESET_TABLE.items()}
PRESET_NOTES: dict[str, str] = {name: note for name, (note, _) in _PRESET_TABLE.items()}


def make_config(preset: str = "standard", **overrides) -> TrainConfig:
    """The preset with every non-None override applied; unknown names and values are an error."""
    if preset not in PRESETS:
        raise CifarEdgeError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    names = {f.name for f in knobs()}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise CifarEdgeError(f"unknown training option(s): {', '.join(unknown)}")
    config = dataclasses.replace(PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None})
    for f in knobs():
        value, choices = getattr(config, f.name), f.metadata["choices"]
        if choices and value not in choices:
            raise CifarEdgeError(f"--{option_name(f.name)} must be one of {', '.join(map(str, choices))}, got {value!r}")
    if len(config.widths) != 3 or min(config.widths) < 1 or config.epochs < 1 or config.batch_size < 1:
        raise CifarEdgeError("widths (three), epochs and batch size must be positive")
    shares = (config.noise_fraction, config.blur_fraction, config.augmix_fraction)
    if min(shares) < 0 or sum(shares) > 1:
        raise CifarEdgeError("--noise-fraction, --blur-fraction and --augmix-fraction are shares of the images: "
                             "each at least 0, together at most 1")
    if not 0 <= config.distill_weight <= 1 or config.temperature <= 0:
        raise CifarEdgeError("--distill-weight is a share of the loss (0 to 1) and --temperature must be positive")
    if config.teacher_views < 0 or (config.teacher_views and not config.teacher):
        raise CifarEdgeError(f"--teacher-views counts the augmented views whose teacher answers are kept: 0 (off) "
                             f"or more, with --teacher; got {config.teacher_views}"
                             + ("" if config.teacher else " without a teacher"))
    if not 0 <= config.noise_sigma <= 1:
        raise CifarEdgeError(f"--noise-sigma is on the 0..1 pixel scale, got {config.noise_sigma}")
    return config


def option_name(field_name: str) -> str:
    return field_name.replace("_", "-")


def option_value(value) -> str:
    """How a field's value is written on the command line (and parsed back by `parse_option`)."""
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return repr(value) if isinstance(value, float) else str(value)


def command_for(config: TrainConfig) -> str:
    """The `cifar-edge train` command that reproduces `config`: its preset plus an option for every
    field that differs from it.  Stored in metrics.json and the model card."""
    preset = PRESETS[config.preset]
    parts = ["cifar-edge", "train", "--preset", config.preset]
    for f in knobs():
        value = getattr(config, f.name)
        if value != getattr(preset, f.name):
            parts += [f"--{option_name(f.name)}", option_value(value)]
    return shlex.join(parts)


def resolve_precision(precision: str) -> str:
    """"auto" means bfloat16 compute where the hardware computes in bfloat16 (a GPU; a CPU with AMX:
    258 against 184 images/s on 2 Xeon cores; or with AVX512_BF16: 298 against 227 on 2 EPYC cores,
    `benchmarks/train_speed.py`) and float32 elsewhere, where bfloat16 is emulated and slower (AVX2
    only).  Weights, optimizer state and the saved model stay float32 either way."""
    if precision != "auto":
        return precision
    import keras

    if keras.backend.backend() == "jax":
        import jax

        if jax.default_backend() == "gpu":
            return "mixed_bfloat16"
    elif keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if tf.config.list_physical_devices("GPU"):
            return "mixed_bfloat16"
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read().split()
    except OSError:
        return "float32"
    return "mixed_bfloat16" if {"amx_bf16", "avx512_bf16"} & set(flags) else "float32"
