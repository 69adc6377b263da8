"""The recipe's parts one at a time: presets and options, schedule, lookahead, augmentation, model."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest

from cifar_edge.contract import MEAN_PIXEL
from cifar_edge.data import Split
from cifar_edge.errors import CifarEdgeError
from cifar_edge.train import PRESETS, TrainConfig, make_config
from cifar_edge.train.recipe import command_for
from cifar_edge.train.augment import CameraAugment, augmented_epoch, cutout, epoch_arrays, translate_images
from cifar_edge.train.model import (ScaledBias, build_model, logits_of, normalized_pixels, recalibrate_batchnorm,
                                    whitening_kernel)
from cifar_edge.train.optim import LookaheadSGD, TriangularSchedule


# --------------------------------------------------------------------------- presets and options

def test_presets_exist_and_grow_in_cost():
    assert list(PRESETS) == ["smoke", "fast", "standard", "wide", "best", "long", "distilled", "robust"]
    costs = [p.epochs * p.convs_per_group * p.widths[1] ** 2 * (p.train_limit or 50000)
             for p in (PRESETS[name] for name in ("smoke", "fast", "standard", "wide", "long", "best"))]
    assert costs == sorted(costs)
    # best: airbench96's network (three convolutions a group) and its schedule, which decays to zero
    best = PRESETS["best"]
    assert (best.widths, best.convs_per_group, best.epochs) == ((128, 512, 512), 3, 31)
    assert (best.lr_peak_at, best.lr_end, best.cutout, best.translate) == (0.1, 0.0, 12, 4)
    # robust: standard's recipe at 20 epochs (standard's length before it grew to 30), a quarter of its images noisy
    assert PRESETS["robust"].epochs == 20
    assert dataclasses.replace(PRESETS["robust"], preset="standard", noise_fraction=0.0,
                               epochs=PRESETS["standard"].epochs) == PRESETS["standard"]
    assert PRESETS["robust"].noise_fraction == 0.25
    # distilled: robust's recipe (the release is the camera's model), plus the wide run as its teacher
    assert dataclasses.replace(PRESETS["distilled"], preset="robust", teacher=()) == PRESETS["robust"]
    assert PRESETS["distilled"].teacher == ("runs/wide",)


def test_any_option_overrides_a_preset_and_none_keeps_it():
    config = make_config("standard", epochs=3, widths=(8, 16, 16), seed=None)
    assert config.epochs == 3 and config.widths == (8, 16, 16)
    assert config.seed == PRESETS["standard"].seed
    assert dataclasses.replace(config, epochs=PRESETS["standard"].epochs, widths=PRESETS["standard"].widths) \
        == PRESETS["standard"]


@pytest.mark.parametrize("kwargs, message", [
    ({"preset": "huge"}, "unknown preset 'huge'"),
    ({"colour": "red"}, "unknown training option"),
    ({"precision": "int4"}, "--precision must be one of auto, float32"),
    ({"distribute": "ring"}, "--distribute must be one of none, mirrored"),
    ({"epochs": 0}, "must be positive"),
    ({"convs_per_group": 4}, "--convs-per-group must be one of 2, 3, got 4"),
    ({"noise_fraction": 0.7, "blur_fraction": 0.5}, "together at most 1"),
    ({"blur_fraction": -0.1}, "each at least 0"),
    ({"noise_fraction": 0.5, "augmix_fraction": 0.6}, "together at most 1"),
    ({"noise_sigma": 25.0}, "0..1 pixel scale"),
])
def test_bad_options_are_clear_errors(kwargs, message):
    preset = kwargs.pop("preset", "standard")
    with pytest.raises(CifarEdgeError, match=message):
        make_config(preset, **kwargs)


def test_the_recorded_command_names_the_preset_and_what_differs():
    assert command_for(make_config("standard")) == "cifar-edge train --preset standard"
    assert command_for(make_config("standard", seed=2, widths=(32, 64, 64))) == \
        "cifar-edge train --preset standard --widths 32,64,64 --seed 2"
    assert command_for(make_config("wide", epochs=3)) == "cifar-edge train --preset wide --epochs 3"
    # Equal to another preset's values, it still names the preset it came from.
    assert command_for(make_config("fast", epochs=20)) == "cifar-edge train --preset fast --epochs 20"


def test_old_records_read_back_with_the_defaults_of_newer_fields():
    old = {k: v for k, v in PRESETS["fast"].to_dict().items() if k not in ("preset", "lookahead_every")}
    config = TrainConfig.from_dict(old)
    assert config.lookahead_every == TrainConfig().lookahead_every and config.epochs == PRESETS["fast"].epochs


# --------------------------------------------------------------------------- schedule and optimizer

def test_triangular_schedule_warms_up_then_decays():
    schedule = TriangularSchedule(peak_lr=2.0, total_steps=100, start=0.2, peak_at=0.25, end=0.1)
    values = [float(schedule(step)) for step in (0, 25, 100)]
    assert values == pytest.approx([0.4, 2.0, 0.2])
    assert float(schedule(10)) == pytest.approx(0.4 + (2.0 - 0.4) * 10 / 25)


def lookahead_reference(steps: int, sync_every: int, final_decay: float, lr: float, start: float = 1.0):
    """Lookahead by hand for plain SGD on a constant gradient of 1: (fast, slow) after each step."""
    fast = slow = start
    path = []
    for step in range(1, steps + 1):
        fast -= lr
        if step % sync_every == 0 or step == steps:
            decay = final_decay * (step / steps) ** 3
            slow = slow + (1 - decay) * (fast - slow)
            fast = slow
        path.append((fast, slow))
    return path


def test_lookahead_follows_the_schedule_and_ends_on_the_averaged_weights():
    """Against a hand computation: every `sync_every` steps the slow copy moves 1 - decay of the way
    to the fast weights and the fast ones restart from it; the last step always syncs.  The result
    lags behind plain SGD (1 - 7 * 0.1 = 0.3): lookahead pulls it back toward where it started."""
    variable = keras.Variable(np.ones(3, "float32"))
    optimizer = LookaheadSGD(total_steps=7, sync_every=2, final_decay=0.95**5, learning_rate=0.1, momentum=0.0)
    expected = lookahead_reference(7, 2, 0.95**5, 0.1)
    for step in range(7):
        optimizer.apply([keras.ops.ones(3)], [variable])
        # float32 steps of 0.1 on values near 1: a few ulps (1.2e-7 each) per step
        np.testing.assert_allclose(variable.numpy(), expected[step][0], atol=1e-6)
        np.testing.assert_allclose(optimizer._slow[0].numpy(), expected[step][1], atol=1e-6)
    assert variable.numpy()[0] > 0.3 + 0.05  # measurably behind plain SGD


def test_coupled_decay_shrinks_weights_without_gradient():
    variable = keras.Variable(np.full(2, 10.0, "float32"))
    optimizer = LookaheadSGD(total_steps=100, sync_every=5, final_decay=0.95**5, coupled_decay=0.5,
                             learning_rate=0.1, momentum=0.0)
    optimizer.apply([keras.ops.zeros(2)], [variable])
    np.testing.assert_allclose(variable.numpy(), 10.0 - 0.1 * 0.5 * 10.0)


def test_scaled_bias_learns_scale_squared_faster():
    layer = ScaledBias(scale=8.0)
    layer.build((None, 2))
    optimizer = keras.optimizers.SGD(learning_rate=0.01)
    # d(output)/d(stored) = 8, and the stored value moves 0.01 * 8 -> the bias moves 64 * 0.01.
    optimizer.apply([keras.ops.ones(2) * 8.0], [layer.bias])
    np.testing.assert_allclose(layer(np.zeros((1, 2), "float32")), [[-0.64, -0.64]], rtol=1e-6)


# --------------------------------------------------------------------------- augmentation

def test_translation_shifts_content_by_at_most_pad(real_test_split):
    images = real_test_split.images[:64]
    moved = translate_images(images, np.random.default_rng(0), pad=2)
    assert moved.shape == images.shape and moved.dtype == np.uint8
    # The central 28x28 of the original appears somewhere within 2 pixels in every image.
    for original, shifted in zip(images, moved):
        found = any(np.array_equal(original[2:30, 2:30], shifted[2 + dy:30 + dy, 2 + dx:30 + dx])
                    for dy in range(-2, 3) for dx in range(-2, 3))
        assert found


def test_alternating_flip_and_determinism(real_test_split):
    split = Split(real_test_split.images[:200], np.arange(200) % 10)
    a0, l0 = augmented_epoch(split, seed=1, epoch=0, translate=0)
    a0_again, _ = augmented_epoch(split, seed=1, epoch=0, translate=0)
    assert np.array_equal(a0, a0_again)
    a1, l1 = augmented_epoch(split, seed=1, epoch=1, translate=0)

    def flipped(images, labels):  # which original images came out mirrored
        out = np.zeros(200, bool)
        for image, label in zip(images, labels):
            candidates = np.flatnonzero(split.labels == label)
            for i in candidates:
                if np.array_equal(image, split.images[i][:, ::-1]) and not np.array_equal(image, split.images[i]):
                    out[i] = True
        return out

    f0, f1 = flipped(a0, l0), flipped(a1, l1)
    assert 50 < f0.sum() < 150
    assert not np.any(f0 & f1)  # an image mirrored in epoch 0 is upright in epoch 1


def test_camera_augment_noises_and_blurs_its_shares_and_leaves_the_rest_as_before(real_test_split):
    split = Split(real_test_split.images[:1000], real_test_split.labels[:1000])
    plain, plain_labels = augmented_epoch(split, seed=3, epoch=2, translate=2)
    camera = CameraAugment(noise_fraction=0.3, noise_sigma=0.1, blur_fraction=0.2)
    images, labels = augmented_epoch(split, seed=3, epoch=2, translate=2, camera=camera)
    again, _ = augmented_epoch(split, seed=3, epoch=2, translate=2, camera=camera)
    assert np.array_equal(images, again) and images.dtype == np.uint8  # a resumed run replays it
    assert np.array_equal(labels, plain_labels)  # the same images, in the same order
    def detail(x):  # mean difference between horizontal neighbours: noise raises it, blur lowers it
        return np.abs(np.diff(x.astype(int), axis=2)).mean(axis=(1, 2, 3))
    change = detail(images) - detail(plain)
    assert 0.25 < np.mean(change > 0.5) < 0.35  # the noisy share
    assert 0.15 < np.mean(change < -0.5) < 0.25  # the blurred share
    assert np.mean(np.all(images == plain, axis=(1, 2, 3))) > 0.45  # the rest, untouched
    assert np.array_equal(augmented_epoch(split, 3, 2, 2, camera=CameraAugment())[0], plain)
    # What a distilled run's teachers see: the same epoch, uncorrupted, beside the corrupted one.
    kept, kept_labels, uncorrupted = augmented_epoch(split, 3, 2, 2, camera=camera, keep_uncorrupted=True)
    assert np.array_equal(kept, images) and np.array_equal(kept_labels, labels)
    assert np.array_equal(uncorrupted, plain)


def test_augmix_changes_its_share_alike_for_a_seed_and_leaves_pythons_random_stream_alone(real_test_split):
    import random

    split = Split(real_test_split.images[:600], real_test_split.labels[:600])
    plain, _ = augmented_epoch(split, seed=5, epoch=1, translate=2)
    camera = CameraAugment(augmix_fraction=0.4)
    random.seed(11)
    images, _ = augmented_epoch(split, seed=5, epoch=1, translate=2, camera=camera)
    assert random.random() == random.Random(11).random()  # the caller's stream is as it was
    assert np.array_equal(images, augmented_epoch(split, seed=5, epoch=1, translate=2, camera=camera)[0])
    assert images.dtype == np.uint8 and images.shape == plain.shape
    changed = np.mean(np.any(images != plain, axis=(1, 2, 3)))
    assert 0.3 < changed < 0.5
    other_epoch, _ = augmented_epoch(split, seed=5, epoch=3, translate=2, camera=camera)
    assert not np.array_equal(other_epoch, augmented_epoch(split, seed=5, epoch=3, translate=2)[0])


def test_an_epoch_is_cut_to_whole_batches_the_schedule_counts(real_test_split):
    # 300 images in batches of 128: two whole batches.  A third, partial one would be a step the
    # learning-rate schedule and lookahead do not count (and a batch with other BatchNorm statistics).
    split = Split(real_test_split.images[:300], real_test_split.labels[:300])
    camera = CameraAugment(noise_fraction=0.25)
    images, labels, uncorrupted = epoch_arrays(split, 128, seed=0, epoch=1, translate=2, camera=camera,
                                               keep_uncorrupted=True)
    assert len(images) == len(labels) == len(uncorrupted) == 256
    assert labels.shape == (256, 10) and labels.dtype == np.float32
    assert np.array_equal(labels.argmax(axis=1), augmented_epoch(split, 0, 1, 2, camera=camera)[1][:256])
    assert len(epoch_arrays(split, 100, seed=0, epoch=1, translate=2)[0]) == 300  # nothing left over, nothing cut


def test_cutout_paints_one_square_of_mean_colour():
    images = np.zeros((10, 32, 32, 3), np.uint8)
    cutout(images, np.random.default_rng(0), size=8)
    painted = np.all(images == MEAN_PIXEL, axis=-1)
    assert painted.sum(axis=(1, 2)).tolist() == [64] * 10


# --------------------------------------------------------------------------- model

def test_model_takes_uint8_rgb_and_returns_ten_logits():
    model = build_model(TrainConfig(widths=(8, 16, 16)))
    assert model.inputs[0].dtype == "uint8" and tuple(model.inputs[0].shape) == (None, 32, 32, 3)
    logits = model.predict(np.zeros((2, 32, 32, 3), np.uint8), verbose=0)
    assert logits.shape == (2, 10)


def test_logits_of_gives_predicts_outputs_batch_by_batch_and_none_for_no_images(real_test_split):
    model = build_model(TrainConfig(widths=(8, 16, 16)))
    images = real_test_split.images[:50]  # three batches of 16 and a last one of 2
    assert np.array_equal(logits_of(model, images, batch_size=16), model.predict(images, batch_size=16, verbose=0))
    assert logits_of(model, images[:0]).shape == (0, 10)


def test_standard_network_has_airbench94_size():
    assert build_model().count_params() == pytest.approx(1.97e6, rel=0.01)


def test_a_third_convolution_per_group_is_bypassed_by_a_residual():
    """airbench96's group: with its third conv silenced, the group's output is GELU(first GELU's output),
    the pooled signal carried past the last two convolutions by the residual."""
    model = build_model(TrainConfig(widths=(8, 16, 16), convs_per_group=3))
    assert {f"block{i}_{part}" for i in (1, 2, 3) for part in ("conv3", "residual", "act3")} \
        <= {layer.name for layer in model.layers}
    conv3 = model.get_layer("block1_conv3")
    conv3.set_weights([np.zeros_like(w) for w in conv3.get_weights()])
    conv2 = model.get_layer("block1_conv2")  # not the identity it starts as: its output must differ
    conv2.set_weights([np.random.default_rng(1).normal(0, 0.3, w.shape).astype("float32") for w in conv2.get_weights()])
    probe = keras.Model(model.inputs, [model.get_layer("block1_act1").output, model.get_layer("block1_act3").output])
    images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    first, out = probe.predict(images, verbose=0)
    assert np.abs(first).max() > 0.1
    np.testing.assert_allclose(out, keras.ops.convert_to_numpy(keras.activations.gelu(first)), rtol=1e-5, atol=1e-6)


def test_whitening_kernel_decorrelates_patches(real_test_split):
    images = real_test_split.images[:2000]
    eps = 5e-4
    kernel = whitening_kernel(images, eps)
    assert kernel.shape == (2, 2, 3, 24)
    # The float64 reference: every 2x2 patch of the normalised images (in Keras' (h, w, c) kernel
    # order) times the kernel.  On the patches it was fitted to, the outputs' second moment is diagonal,
    # lambda / (lambda + eps): near 1 for the strong directions (strongest first), shrunk for faint ones.
    x = normalized_pixels(images).astype("float64")
    patches = np.stack([x[:, i:i + 31, j:j + 31, :] for i in (0, 1) for j in (0, 1)], axis=3).reshape(-1, 12)
    w = kernel.reshape(12, 24).astype("float64")
    exact = patches @ w
    covariance = exact[:, :12].T @ exact[:, :12] / len(exact)
    variances = np.diag(covariance)
    # eigh and the float32 kernel leave ~1e-7 relative noise; the faint directions' 1/sqrt(eps)
    # ~ 45x gain turns that into at most ~1e-5 absolute here, far below the 1e-3 checked.
    assert np.abs(covariance - np.diag(variances)).max() < 1e-3
    assert np.all(np.diff(variances) <= 1e-3) and variances[0] == pytest.approx(1.0, abs=1e-3)

    # The Keras layer computes the same thing in float32.  A 12-term float32 dot product is within
    # 12 * 2^-24 * sum|w_k x_k| of the exact one (summation error bound, any order or FMA); the bound is
    # doubled for the float32 rounding of the inputs.  The measured worst case on an AVX2 EPYC (1.7e-5
    # where a fixed 1e-5 failed) is inside it, and so is any other CPU's summation order.
    model = build_model(TrainConfig(widths=(8, 16, 16)))
    model.get_layer("whiten").set_weights([kernel])
    probe = keras.Model(model.inputs, model.get_layer("whiten").output)
    features = probe.predict(images, verbose=0).reshape(-1, 24).astype("float64")
    bound = 2 * 12 * 2.0**-24 * (np.abs(patches) @ np.abs(w))
    assert np.all(np.abs(features - exact) <= bound + 1e-30)
    assert np.all(np.abs(features[:, 12:] + features[:, :12]) <= bound[:, 12:] + bound[:, :12])


def test_batchnorm_recalibration_averages_the_batch_statistics(real_test_split):
    model = build_model(TrainConfig(widths=(8, 16, 16)))
    images = real_test_split.images[:300]
    bn = model.get_layer("block1_1_bn")
    before = keras.ops.convert_to_numpy(bn.moving_mean).copy()
    assert recalibrate_batchnorm(model, images, batch_size=100) == 300
    # The BN input for each batch, through the (unchanged) layers before it:
    upstream = keras.Model(model.input, bn.input)
    batch_means = [keras.ops.convert_to_numpy(upstream(images[i:i + 100])).mean(axis=(0, 1, 2))
                   for i in (0, 100, 200)]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_mean), np.mean(batch_means, axis=0),
                               rtol=1e-4, atol=1e-5)
    assert not np.allclose(before, keras.ops.convert_to_numpy(bn.moving_mean))
    assert bn.momentum == 0.4  # restored


def test_batchnorm_statistics_are_estimated_on_the_images_training_saw(real_test_split):
    """Not the clean images: a network trained with cutout learnt to expect the statistics of cut-out
    batches.  One more epoch of augmented images, the same on every call."""
    from cifar_edge.train.trainer import bn_calibration_images

    split = Split(real_test_split.images[:200], real_test_split.labels[:200])
    config = make_config("smoke", translate=4, cutout=12)
    images = bn_calibration_images(split, config)
    assert images.shape == split.images.shape and images.dtype == np.uint8
    np.testing.assert_array_equal(images, bn_calibration_images(split, config))
    painted = np.all(images == MEAN_PIXEL, axis=-1).sum(axis=(1, 2))
    assert np.all(painted >= 12 * 12)  # every image carries its cut-out square
    noisy = bn_calibration_images(split, dataclasses.replace(config, noise_fraction=0.5))
    changed = np.any(noisy != images, axis=(1, 2, 3)).mean()
    assert 0.35 < changed < 0.65  # and the camera augmentations, on their share of the images


def test_the_trainer_keeps_the_batchnorm_statistics_validation_prefers(monkeypatch, real_test_split):
    """Clean images first, then the augmented epoch: when validation prefers the clean images' statistics,
    those are the ones the model ends with, not the last estimated."""
    from cifar_edge.train import trainer

    model = build_model(TrainConfig(widths=(8, 16, 16)))
    bn = model.get_layer("block1_1_bn")
    split = Split(real_test_split.images[:100], real_test_split.labels[:100])
    clean_marker = float(split.images.mean())

    def marking_recalibration(model, images):  # marks the statistics with the images they came from
        bn.moving_mean.assign(np.full(bn.moving_mean.shape, images.mean(), "float32"))
        return len(images)

    def right_under_clean_statistics(model, images, flip_tta=False):
        right = np.isclose(float(keras.ops.convert_to_numpy(bn.moving_mean)[0]), clean_marker)
        return np.eye(10)[split.labels if right else (split.labels + 1) % 10]

    monkeypatch.setattr(trainer, "recalibrate_batchnorm", marking_recalibration)
    monkeypatch.setattr(trainer, "predict_logits", right_under_clean_statistics)
    record = trainer.recalibrate_on_the_better_images(model, split, split, make_config("smoke", cutout=12))
    assert record["bn_recalibration_val_accuracy"] == {"clean training images": 1.0, "augmented training images": 0.0}
    assert record["bn_recalibration_on"] == "clean training images" and record["bn_recalibration_images"] == 100
    assert np.isclose(float(keras.ops.convert_to_numpy(bn.moving_mean)[0]), clean_marker)


NCHW_TWIN_SCRIPT = """
import sys, numpy as np, keras
from cifar_edge.train import make_config
from cifar_edge.train.model import build_model
config = make_config("smoke", convs_per_group=int(sys.argv[1]))
keras.utils.set_random_seed(0)
nchw = build_model(config, channels_first=True)
for w in nchw.weights:  # random BatchNorm statistics and biases too, so every weight matters
    w.assign(np.random.default_rng(len(w.path)).normal(size=w.shape).astype("float32") * 0.1
             + (1.0 if "variance" in w.path else 0.0))
nhwc = build_model(config)
nhwc.set_weights(nchw.get_weights())
images = np.random.default_rng(1).integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)
a, b = nchw.predict(images, verbose=0), nhwc.predict(images, verbose=0)
print(float(np.abs(a - b).max()), float(np.abs(a).max()))
"""


@pytest.mark.parametrize("convs_per_group", [2, 3])
def test_the_nchw_twin_computes_what_the_nhwc_network_does_with_its_weights(convs_per_group):
    """The torch trainer trains the NCHW twin and saves its weights in the NHWC network; run under JAX
    (TensorFlow has no NCHW kernels on CPU).  Same weights, same logits."""
    import subprocess
    import sys

    pytest.importorskip("jax")
    run = subprocess.run([sys.executable, "-c", NCHW_TWIN_SCRIPT, str(convs_per_group)], capture_output=True, text=True,
                         env={**__import__("os").environ, "KERAS_BACKEND": "jax"})
    assert run.returncode == 0, run.stderr[-2000:]
    difference, scale = map(float, run.stdout.split())
    assert scale > 0.01 and difference <= 1e-5 * scale


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_the_training_twin_normalises_and_updates_its_statistics_as_keras_batchnorm_does(precision):
    """The trainer's network (fused BatchNorm, GELU in float32) trains what the saved network is: one
    training-mode pass of each, from the same weights on the same images, gives the same outputs and
    the same moving statistics, and the twin's weights load into the plain network one to one."""
    from cifar_edge.train.model import TrainingBatchNorm
    from cifar_edge.train.trainer import use_precision

    # a momentum other than 0.5 and few images (64 values a channel in the last group), so that torch's
    # momentum convention or the unbiased variance would show
    config = TrainConfig(widths=(8, 16, 16), bn_momentum=0.7)
    images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    try:
        use_precision(precision)
        twin, plain = build_model(config, for_training=True), build_model(config)
        assert any(isinstance(layer, TrainingBatchNorm) for layer in twin.layers)
        assert not any(isinstance(layer, TrainingBatchNorm) for layer in plain.layers)
        plain.set_weights(twin.get_weights())
        outputs = [np.asarray(model(images, training=True), "float32") for model in (twin, plain)]
    finally:
        use_precision("float32")
    tolerance = 1e-4 if precision == "float32" else 0.05  # bfloat16 keeps 8 bits of mantissa
    scale = np.abs(outputs[1]).max()
    assert scale > 0.01 and np.abs(outputs[0] - outputs[1]).max() <= tolerance * scale
    norm = next(layer for layer in twin.layers if isinstance(layer, TrainingBatchNorm))
    assert np.abs(keras.ops.convert_to_numpy(norm.moving_mean)).max() > 0.01  # the statistics moved...
    for a, b in zip(twin.get_weights(), plain.get_weights()):  # ...and alike
        np.testing.assert_allclose(a, b, rtol=1e-2 if precision != "float32" else 1e-4, atol=1e-5)


# --------------------------------------------------------------------------- precision

def test_onednn_bfloat16_keeps_a_float32_model_and_float32_turns_the_rewrite_off(real_test_split):
    """The oneDNN rewrite is a graph-optimizer switch, not a Keras policy: the model and its weights
    stay float32, a step trains, and going back to float32 switches the rewrite off again."""
    import tensorflow as tf

    from cifar_edge.train.trainer import use_precision

    switch = "auto_mixed_precision_onednn_bfloat16"
    images = real_test_split.images[:64]
    onehot = np.eye(10, dtype="float32")[real_test_split.labels[:64]]
    try:
        use_precision("onednn_bfloat16")
        assert keras.mixed_precision.global_policy().name == "float32"
        assert tf.config.optimizer.get_experimental_options()[switch] is True
        model = build_model(TrainConfig(widths=(8, 16, 16)))
        model.compile(keras.optimizers.SGD(0.01), keras.losses.CategoricalCrossentropy(from_logits=True))
        loss = model.fit(images, onehot, batch_size=32, epochs=1, verbose=0).history["loss"][-1]
        assert np.isfinite(loss)
        assert {str(w.dtype) for w in model.weights} == {"float32"}
    finally:
        use_precision("float32")
    assert tf.config.optimizer.get_experimental_options()[switch] is False
