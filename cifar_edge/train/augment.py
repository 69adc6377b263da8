"""Training-time augmentation on uint8 arrays, one whole epoch at a time, in numpy.

Each epoch is a pure function of (seed, epoch): random translation by up to `translate` pixels
(reflect padding), optional cutout, and airbench's *alternating* flip: every image gets a random
flip in even epochs and the opposite one in odd epochs, so consecutive epochs always see both
orientations.  Being a function of the epoch is what lets a resumed run replay the same stream.

Optionally, a share of the images gets what a camera adds (`CameraAugment`): Gaussian sensor noise of
a random strength, or a Gaussian blur of a random width; and another share AugMix (Hendrycks et al.,
ICLR 2020), random chains of geometric and tonal operations mixed with the original.  They draw from a
random stream of their own, so with them off an epoch is exactly what it was before these options
existed.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from cifar_edge.contract import CLASSES, MEAN_PIXEL
from cifar_edge.data import Split


def translate_images(images: np.ndarray, rng: np.random.Generator, pad: int) -> np.ndarray:
    """Shifts every image by an independent random offset in [-pad, pad]^2, reflecting at edges."""
    if pad == 0:
        return images.copy()
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect")
    height, width = images.shape[1:3]
    dy, dx = rng.integers(0, 2 * pad + 1, size=(2, len(images)))
    out = np.empty_like(images)
    for oy in range(2 * pad + 1):  # one vectorised copy per offset instead of a loop per image
        for ox in range(2 * pad + 1):
            idx = np.flatnonzero((dy == oy) & (dx == ox))
            out[idx] = padded[idx, oy:oy + height, ox:ox + width]
    return out


def cutout(images: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """Paints one `size`x`size` square of mean colour at a random place in each image (in place)."""
    side = images.shape[1]  # square, as the contract's input is
    y, x = rng.integers(0, side - size + 1, size=(2, len(images)))
    rows, cols = np.arange(side)[None, :], np.arange(side)[None, :]
    mask = ((rows >= y[:, None]) & (rows < y[:, None] + size))[:, :, None] & \
           ((cols >= x[:, None]) & (cols < x[:, None] + size))[:, None, :]
    images[mask] = np.array(MEAN_PIXEL, np.uint8)
    return images


@dataclass(frozen=True)
class CameraAugment:
    """What share of the images gets sensor noise (standard deviation uniform in 0..noise_sigma, on the
    0..1 pixel scale), what share a Gaussian blur (sigma uniform in BLUR_SIGMA pixels) and what share
    AugMix; an image gets at most one of the three."""
    noise_fraction: float = 0.0
    noise_sigma: float = 0.1
    blur_fraction: float = 0.0
    augmix_fraction: float = 0.0

    @property
    def on(self) -> bool:
        return self.noise_fraction > 0 or self.blur_fraction > 0 or self.augmix_fraction > 0


BLUR_SIGMA = (0.4, 1.2)  # from barely soft to a defocus that erases 2-pixel detail
CHUNK = 4096  # images per float32 noise batch: bounds the memory to ~50 MB


def add_noise(images: np.ndarray, rng: np.random.Generator, max_sigma: float) -> None:
    """Gaussian noise of a per-image random strength, in place, rounded back to uint8."""
    for start in range(0, len(images), CHUNK):
        part = images[start:start + CHUNK]
        sigma = rng.uniform(0, max_sigma * 255, size=(len(part), 1, 1, 1)).astype(np.float32)
        noisy = part + sigma * rng.standard_normal(part.shape, dtype=np.float32)
        part[...] = np.clip(np.rint(noisy), 0, 255)


def blur(images: np.ndarray, rng: np.random.Generator) -> None:
    """A Gaussian blur of per-image random width, in place (edges replicated)."""
    for image, sigma in zip(images, rng.uniform(*BLUR_SIGMA, size=len(images))):
        image[...] = cv2.GaussianBlur(image, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)


# Images per AugMix call.  Keras draws the chains' operations and mixing weights once per call (each
# image still gets its own strengths), so smaller groups mean more variety; at 128 the eager calls cost
# 1.4 s per 1,000 images on a busy 2-core CPU (about 35 s an epoch at a half share, against some 200 s
# of training), at 32 they cost five times as much.
AUGMIX_GROUP = 128


def augmix(images: np.ndarray, seed: int) -> None:
    """AugMix, in place, with `keras.layers.AugMix` and the paper's operations only: without brightness,
    colour, contrast and sharpness, which would train on the test corruptions themselves."""
    import random

    import keras

    # float32 whatever the global policy: bfloat16 cannot hold every grey level from 0 to 255
    layer = keras.layers.AugMix(value_range=(0, 255), all_ops=False, seed=seed, dtype="float32")
    state = random.getstate()  # Keras picks the operations with Python's `random`: seed it, then restore it
    random.seed(seed)
    try:
        for start in range(0, len(images), AUGMIX_GROUP):
            part = images[start:start + AUGMIX_GROUP]
            mixed = keras.ops.convert_to_numpy(layer(part.astype(np.float32), training=True))
            part[...] = np.clip(np.rint(mixed), 0, 255)
    finally:
        random.setstate(state)


def camera_augment(images: np.ndarray, rng: np.random.Generator, augment: CameraAugment) -> None:
    """Noise on a `noise_fraction` share of `images`, blur on another `blur_fraction` and AugMix on
    another `augmix_fraction`, in place."""
    draw = rng.random(len(images))
    noisy = np.flatnonzero(draw < augment.noise_fraction)
    blurred = np.flatnonzero((draw >= augment.noise_fraction) & (draw < augment.noise_fraction + augment.blur_fraction))
    mixed = np.flatnonzero((draw >= augment.noise_fraction + augment.blur_fraction)
                           & (draw < augment.noise_fraction + augment.blur_fraction + augment.augmix_fraction))
    if len(noisy):
        part = images[noisy]
        add_noise(part, rng, augment.noise_sigma)
        images[noisy] = part
    if len(blurred):
        part = images[blurred]
        blur(part, rng)
        images[blurred] = part
    if len(mixed):
        part = images[mixed]
        augmix(part, int(rng.integers(2**31)))
        images[mixed] = part


def augmented_epoch(split: Split, seed: int, epoch: int, translate: int, cutout_size: int = 0,
                    flip: bool = True, camera: CameraAugment = CameraAugment(),
                    keep_uncorrupted: bool = False, view: int | None = None) -> tuple[np.ndarray, ...]:
    """The shuffled, augmented images and labels of one epoch.  With `keep_uncorrupted`, a third array:
    the same images, shifted, flipped and cut out alike, before the camera corruptions (noise, blur,
    AugMix), in the same order.

    The shifts, flips, cutout and order are drawn for `view` (by default the epoch itself), the camera
    corruptions for `epoch`: a distilled run with `--teacher-views K` replays view `epoch % K`, whose
    teacher answers it already has, under fresh noise."""
    view = epoch if view is None else view
    rng = np.random.default_rng([seed, view])
    images = translate_images(split.images, rng, translate)
    if flip:
        flips = (np.random.default_rng([seed, 2**31]).random(len(split)) < 0.5) ^ bool(view % 2)
        images[flips] = images[flips, :, ::-1]
    if cutout_size:
        cutout(images, rng, cutout_size)
    uncorrupted = images.copy() if keep_uncorrupted and camera.on else None
    if camera.on:
        camera_augment(images, np.random.default_rng([seed, epoch, 1]), camera)
    order = rng.permutation(len(split))
    shuffled = images[order]
    if keep_uncorrupted:  # without camera corruptions, the uncorrupted images are these very ones
        return shuffled, split.labels[order], shuffled if uncorrupted is None else uncorrupted[order]
    return shuffled, split.labels[order]


def epoch_arrays(split: Split, batch_size: int, seed: int, epoch: int, translate: int,
                 cutout_size: int = 0, camera: CameraAugment = CameraAugment(),
                 keep_uncorrupted: bool = False, view: int | None = None) -> tuple[np.ndarray, ...]:
    """One epoch as `fit` takes it: augmented uint8 images and one-hot float32 labels, cut to whole
    batches, so every step sees `batch_size` images; with `keep_uncorrupted`, the images before the camera
    corruptions too, and with `view`, that view's shifts, flips, cutout and order (see `augmented_epoch`).

    The trainer hands `fit` plain arrays once per epoch rather than a `keras.utils.PyDataset`: profiled on
    a 2-core CPU, the PyDataset path made every step about a third slower (with 3x the kernel time).
    """
    images, labels, *uncorrupted = augmented_epoch(split, seed, epoch, translate, cutout_size, camera=camera,
                                                   keep_uncorrupted=keep_uncorrupted, view=view)
    whole = len(split) // batch_size * batch_size
    return images[:whole], np.eye(len(CLASSES), dtype="float32")[labels[:whole]], *(u[:whole] for u in uncorrupted)
