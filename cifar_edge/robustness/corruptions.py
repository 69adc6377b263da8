"""Corrupted copies of CIFAR-10 test images, for scoring a model's robustness.

`corrupt(images, name, severity, seed)` turns a batch of clean uint8 RGB images (N, 32, 32, 3) into
corrupted ones of the same shape; `CORRUPTIONS` is the one table of every corruption, its parameter
at each severity 1..5 and what it does.  `CIFAR10_C` names the fifteen of CIFAR-10-C (Hendrycks &
Dietterich, ICLR 2019), the set the mean corruption accuracy (mCA) averages over; `CAMERA` names
three conditions a camera adds: low light, an imprecise framing, a white-balance error.

The fifteen follow the authors' generator, `ImageNet-C/create_c/make_cifar_c.py` in
hendrycks/robustness: its CIFAR parameters and its algorithms, written anew on numpy and OpenCV, so
the sets are CIFAR-10-C-style rather than byte-identical to the published files.  Every corruption
works on a float32 batch on the 0..1 scale; `corrupt` clips and rounds the result back to uint8.
Randomness comes from one `np.random.default_rng` per call, seeded from (seed, name, severity).

Libraries: numpy draws all randomness and does the per-pixel arithmetic (noise, contrast, colour
gains, fog's plasma fractal, glass blur's pixel shuffle); OpenCV does everything spatial: filter2D
(defocus disk, motion and snow streaks, frost needles), GaussianBlur (glass, elastic fields, frost
haze), warpAffine (zoom, snow, elastic, frame_crop), remap (elastic), resize with INTER_AREA (pixelate,
frame_crop), imencode/imdecode (JPEG) and cvtColor (HSV for brightness, grey for snow).

Substitutions for the reference's tools, one line each:
- ImageMagick motion blur (motion_blur, snow) -> `line_kernel` + cv2.filter2D: its kernel, 2*radius+1 Gaussian taps.
- frost's photographs (not shipped) -> `frost_sheet`: procedural bluish-white crystals from the seeded generator.
- scikit-image's gaussian (glass_blur, elastic fields) -> cv2.GaussianBlur, with the same edge rules.
- scipy's zoom (zoom_blur, snow) and map_coordinates (elastic) -> cv2.warpAffine about the centre, cv2.remap.
- scikit-image's salt-and-pepper noise -> numpy: each channel value turns black or white, amount/2 each.
- scikit-image's RGB<->HSV (brightness) -> cv2.cvtColor on float32.
- PIL's BOX resize (pixelate) -> cv2.resize with INTER_AREA, down and back up.
- PIL's JPEG (jpeg_compression) -> cv2.imencode/imdecode: libjpeg, the same quality scale and 4:2:0 chroma.
- truncation to uint8 (at the end; in glass_blur and snow also between steps) -> one rounding, at the end.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Callable

import cv2
import numpy as np

from cifar_edge.contract import CHANNELS, INPUT_SIZE
from cifar_edge.errors import CifarEdgeError

SEVERITIES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Corruption:
    """One corruption: `apply(images, parameter, rng)` maps a float32 batch on the 0..1 scale to a
    float batch (clipped later); `severities` holds its parameter at severity 1..5."""
    apply: Callable[[np.ndarray, Any, np.random.Generator], np.ndarray]
    severities: tuple
    description: str


# Noise

def gaussian_noise(x, sigma, rng):
    return x + sigma * rng.standard_normal(x.shape, dtype=np.float32)


def shot_noise(x, photons, rng):
    return rng.poisson(x * photons) / photons


def impulse_noise(x, amount, rng):
    draw = rng.random(x.shape, dtype=np.float32)
    return np.where(draw < amount / 2, 0.0, np.where(draw < amount, 1.0, x))


# Blur

def gaussian_blur(image, sigma, border=cv2.BORDER_REPLICATE):
    return cv2.GaussianBlur(image, (0, 0), sigma, borderType=border)


def disk_kernel(radius, alias_sigma):
    """A flat disk whose rim a 3x3 Gaussian antialiases, as a lens out of focus spreads a point."""
    half = int(np.ceil(radius)) + 1  # one ring more than the disk, for the Gaussian to spread into
    offsets = np.arange(-half, half + 1)
    disk = (offsets[:, None] ** 2 + offsets[None, :] ** 2 <= radius ** 2).astype(np.float32)
    return cv2.GaussianBlur(disk / disk.sum(), (3, 3), alias_sigma)


def line_kernel(radius, sigma, angle):
    """ImageMagick's motion-blur kernel as a filter2D kernel: 2*radius+1 taps that run one way from
    the pixel along `angle` (degrees, clockwise from +x, as y points down), weighted by a Gaussian of
    `sigma` taps, so each pixel becomes a streak fading out from where it was."""
    taps = np.arange(2 * int(np.ceil(radius)) + 1)
    theta = np.deg2rad(angle)
    dx, dy = np.rint(taps * np.cos(theta)).astype(int), np.rint(taps * np.sin(theta)).astype(int)
    half = taps[-1]
    kernel = np.zeros((2 * half + 1, 2 * half + 1), np.float32)
    # add.at, not assignment: rounding can land two taps on one cell
    np.add.at(kernel, (half + dy, half + dx), np.exp(-taps ** 2 / (2 * sigma ** 2)))
    return kernel / kernel.sum()


def motion_streak(image, radius, sigma, angle):
    return cv2.filter2D(image, -1, line_kernel(radius, sigma, angle), borderType=cv2.BORDER_REPLICATE)


def zoom_about_centre(image, factor):
    """`image` enlarged `factor` times about its centre and cut back to its own size (bilinear)."""
    size = image.shape[1]
    offset = (size - 1) / 2 * (1 - factor)
    matrix = np.float32([[factor, 0, offset], [0, factor, offset]])
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def defocus_blur(x, parameter, rng):
    kernel = disk_kernel(*parameter)
    return np.stack([cv2.filter2D(image, -1, kernel) for image in x])


def glass_blur(x, parameter, rng):
    """Frosted glass: blur, give each pixel the value of a random neighbour, blur again."""
    sigma, max_delta, passes = parameter
    x = np.stack([gaussian_blur(image, sigma) for image in x])
    size = x.shape[1]
    # The reference means to swap each pixel with a neighbour, but its swap of two numpy views copies
    # the neighbour's value and leaves the neighbour as it was; CIFAR-10-C was made that way, so this
    # copies too.  Its offsets come from [-max_delta, max_delta) and it visits positions bottom-right
    # first, in sequence, which for max_delta 1 makes each pass a jitter of at most one pixel up-left.
    lines = range(size - max_delta, max_delta, -1)
    positions = [(row, col) for row in lines for col in lines]
    offsets = rng.integers(-max_delta, max_delta, size=(passes, len(positions), 2, len(x)))
    every = np.arange(len(x))
    for pass_offsets in offsets:
        for (row, col), (down, right) in zip(positions, pass_offsets):
            x[:, row, col] = x[every, row + down, col + right]
    return np.stack([gaussian_blur(image, sigma) for image in x])


def motion_blur(x, parameter, rng):
    radius, sigma = parameter
    angles = rng.uniform(-45, 45, len(x))
    return np.stack([motion_streak(image, radius, sigma, angle) for image, angle in zip(x, angles)])


def zoom_blur(x, stop, rng):
    # np.arange with the reference's stop values, float rounding included: 1.06 and 1.11 are zoom
    # factors themselves, 1.16, 1.21 and 1.26 are not.
    factors = np.arange(1, stop, 0.01)
    zoomed = np.stack([sum(zoom_about_centre(image, factor) for factor in factors) for image in x])
    return (x + zoomed) / (len(factors) + 1)


# Weather

def snow(x, parameter, rng):
    mean, spread, zoom, threshold, streak_radius, streak_sigma, scene_weight = parameter
    n, size = len(x), x.shape[1]
    flakes = rng.normal(mean, spread, (n, size, size)).astype(np.float32)
    angles = rng.uniform(-135, -45, n)  # falling, give or take 45 degrees
    layers = []
    for flake, angle in zip(flakes, angles):
        flake = zoom_about_centre(flake, zoom)  # larger flakes
        flake = np.clip(np.where(flake < threshold, 0, flake), 0, 1)
        layers.append(motion_streak(flake, streak_radius, streak_sigma, angle))
    layer = np.stack(layers)[..., None]
    grey = cv2.cvtColor(x.reshape(-1, size, 3), cv2.COLOR_RGB2GRAY).reshape(n, size, size, 1)
    # Snow light whitens the scene.
    lit = scene_weight * x + (1 - scene_weight) * np.maximum(x, 1.5 * grey + 0.5)
    return lit + layer + layer[:, ::-1, ::-1]  # the same flakes, turned half a turn, double the fall


FROST_TINT = np.float32([0.82, 0.9, 1.0])  # ice is bluish white


def frost_sheet(rng, side=256):
    """A procedural stand-in for a photograph of frost on glass, values 0..1: star-shaped crystals
    (needles in six random directions from scattered seeds), clustered where a patchy haze is thick."""
    haze = gaussian_blur(rng.random((side, side), dtype=np.float32), 8)
    # Standardised rather than stretched to its extremes, so every seed gives frost of one strength.
    haze = np.clip(0.5 + 0.25 * (haze - haze.mean()) / haze.std(), 0, 1)
    seeds = (rng.random((side, side)) < 0.06 * haze ** 2).astype(np.float32)
    needles = sum(motion_streak(seeds, 6, 4, angle) for angle in rng.uniform(0, 360, 6))
    crystals = gaussian_blur(np.clip(4 * needles, 0, 1), 0.7)
    return np.clip(0.1 + 0.5 * haze + 0.7 * crystals, 0, 1)[..., None] * FROST_TINT  # mean about 0.49


def frost(x, parameter, rng):
    image_weight, frost_weight = parameter
    n, size = len(x), x.shape[1]
    sheet = frost_sheet(rng)
    tops, lefts = rng.integers(0, len(sheet) - size, size=(2, n))
    span = np.arange(size)
    patches = sheet[(tops[:, None] + span)[:, :, None], (lefts[:, None] + span)[:, None, :]]
    return image_weight * x + frost_weight * patches


def plasma_fractal(rng, n, size, decay):
    """`n` fractal cloud maps (n, size, size) on the 0..1 scale, by the diamond-square algorithm on a
    map that wraps around; `decay` is how fast the roughness falls from coarse to fine steps."""
    heights = np.zeros((n, size, size))
    step, wibble = size, 100.0

    def mean_plus_noise(four_sum):
        # The reference's noise has amplitude wibble squared, so its decay acts squared too.
        return four_sum / 4 + wibble * rng.uniform(-wibble, wibble, four_sum.shape)

    while step >= 2:
        half = step // 2
        # Square step: the centre of each square from its four corners.
        corners = heights[:, ::step, ::step]
        across = corners + np.roll(corners, -1, axis=1)
        heights[:, half::step, half::step] = mean_plus_noise(across + np.roll(across, -1, axis=2))
        # Diamond step: each edge midpoint from the two corners and two centres around it.
        centres = heights[:, half::step, half::step]
        heights[:, ::step, half::step] = mean_plus_noise(
            corners + np.roll(corners, -1, axis=2) + centres + np.roll(centres, 1, axis=1))
        heights[:, half::step, ::step] = mean_plus_noise(
            corners + np.roll(corners, -1, axis=1) + centres + np.roll(centres, 1, axis=2))
        step, wibble = half, wibble / decay
    heights -= heights.min(axis=(1, 2), keepdims=True)
    return heights / heights.max(axis=(1, 2), keepdims=True)


def fog(x, parameter, rng):
    amount, decay = parameter
    brightest = x.max(axis=(1, 2, 3), keepdims=True)
    clouds = plasma_fractal(rng, len(x), x.shape[1], decay)[..., None]
    # Rescaled to the image's brightest value, so fog veils rather than just whitens.
    return (x + amount * clouds) * brightest / (brightest + amount)


# Digital

def brightness(x, shift, rng):
    hsv = cv2.cvtColor(x.reshape(-1, x.shape[2], 3), cv2.COLOR_RGB2HSV)  # the batch as one tall image
    hsv[..., 2] = np.clip(hsv[..., 2] + shift, 0, 1)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).reshape(x.shape)


def contrast(x, factor, rng):
    means = x.mean(axis=(1, 2), keepdims=True)  # per image and channel, as in the reference
    return (x - means) * factor + means


def elastic_transform(x, parameter, rng):
    """A random affine warp, then a smooth random displacement field (Simard et al., 2003)."""
    n, size = len(x), x.shape[1]
    alpha, sigma, affine = (fraction * size for fraction in parameter)
    centre = np.float32(size // 2)
    anchors = centre + (size // 3) * np.float32([[1, 1], [1, -1], [-1, -1]])
    moves = rng.uniform(-affine, affine, (n, 3, 2)).astype(np.float32)
    fields = rng.uniform(-1, 1, (n, 2, size, size)).astype(np.float32)
    ksize = 2 * int(3 * sigma + 0.5) + 1  # the reference's Gaussian is cut at 3 sigma
    cols, rows = np.meshgrid(np.arange(size, dtype=np.float32), np.arange(size, dtype=np.float32))
    out = []
    for image, move, (field_x, field_y) in zip(x, moves, fields):
        matrix = cv2.getAffineTransform(anchors, anchors + move)
        image = cv2.warpAffine(image, matrix, (size, size), borderMode=cv2.BORDER_REFLECT_101)
        dx, dy = (alpha * cv2.GaussianBlur(f, (ksize, ksize), sigma, borderType=cv2.BORDER_REFLECT)
                  for f in (field_x, field_y))
        out.append(cv2.remap(image, cols + dx, rows + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))
    return np.stack(out)


def pixelate(x, fraction, rng):
    size = x.shape[1]
    small = int(size * fraction)
    return np.stack([cv2.resize(cv2.resize(image, (small, small), interpolation=cv2.INTER_AREA),
                                (size, size), interpolation=cv2.INTER_AREA) for image in x])


def jpeg_roundtrip(image, quality):
    """A uint8 RGB image through a JPEG file of `quality` and back (JPEG expects BGR from OpenCV)."""
    _, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def jpeg_compression(x, quality, rng):
    return np.stack([jpeg_roundtrip(image, quality) for image in to_uint8(x)]) / np.float32(255)


# Camera

def low_light(x, parameter, rng):
    """A dim scene: a darker exposure (gamma, gain), then photon (shot) noise, as if full white were
    `photons` photons, and the sensor's read noise."""
    gamma, gain, photons, read_noise = parameter
    signal = gain * x ** gamma
    read = read_noise * rng.standard_normal(x.shape, dtype=np.float32)
    return rng.poisson(signal * photons) / photons + read


FRAME_ZOOM = 3  # the camera frame is 3 images tall and 4 wide (4:3), like a webcam's


def frame_crop(x, parameter, rng):
    """The image as the camera path sees it: enlarged onto a 4:3 frame, off centre and off scale by a
    random amount, then the frame's centre square shrunk back by area averaging, as the runtime does."""
    max_shift, max_scale_change = parameter
    n, size = len(x), x.shape[1]
    height, width = FRAME_ZOOM * size, (FRAME_ZOOM + 1) * size
    zooms = FRAME_ZOOM * (1 + rng.uniform(-max_scale_change, max_scale_change, n))
    shifts = rng.uniform(-max_shift, max_shift, (n, 2)) * height
    left = (width - height) // 2
    out = []
    for image, zoom, (shift_x, shift_y) in zip(x, zooms, shifts):
        # Pixel centres map so that the image's centre lands on the frame's centre, then moves.
        offset_x = (width - 1) / 2 - zoom * (size - 1) / 2 + shift_x
        offset_y = (height - 1) / 2 - zoom * (size - 1) / 2 + shift_y
        matrix = np.float32([[zoom, 0, offset_x], [0, zoom, offset_y]])
        frame = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REFLECT_101)  # the scene goes on past the object
        out.append(cv2.resize(frame[:, left:left + height], (size, size), interpolation=cv2.INTER_AREA))
    return np.stack(out)


def colour_cast(x, strength, rng):
    warm = rng.choice([-1.0, 1.0], size=(len(x), 1, 1, 1))  # +1 warm (red up, blue down), -1 cool
    return x * (1 + warm * strength * np.float32([1, 0, -1]))


CORRUPTIONS: dict[str, Corruption] = {
    "gaussian_noise": Corruption(gaussian_noise, (0.04, 0.06, 0.08, 0.09, 0.10),
                                 "additive Gaussian noise of this standard deviation"),
    "shot_noise": Corruption(shot_noise, (500, 250, 100, 75, 50),
                             "Poisson photon noise, this many photons at full white"),
    "impulse_noise": Corruption(impulse_noise, (0.01, 0.02, 0.03, 0.05, 0.07),
                                "salt-and-pepper noise on this fraction of channel values"),
    "defocus_blur": Corruption(defocus_blur, ((0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)),
                               "an out-of-focus lens: a disk kernel of (radius, antialiasing sigma)"),
    "glass_blur": Corruption(glass_blur, ((0.05, 1, 1), (0.25, 1, 1), (0.4, 1, 1), (0.25, 1, 2), (0.4, 1, 2)),
                             "frosted glass: blur (sigma), neighbour jitter (max distance, passes), blur"),
    "motion_blur": Corruption(motion_blur, ((6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)),
                              "a camera shake streak of (radius, sigma) at a random angle within 45 degrees"),
    "zoom_blur": Corruption(zoom_blur, (1.06, 1.11, 1.16, 1.21, 1.26),
                            "the image averaged with its zooms from 1 up to this factor, in 0.01 steps"),
    "snow": Corruption(snow, ((0.1, 0.2, 1, 0.6, 8, 3, 0.95), (0.1, 0.2, 1, 0.5, 10, 4, 0.9),
                              (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9), (0.25, 0.3, 2.25, 0.6, 12, 6, 0.85),
                              (0.3, 0.3, 1.25, 0.65, 14, 12, 0.8)),
                       "falling flakes: (mean, spread, zoom, threshold, streak radius, sigma, scene weight)"),
    "frost": Corruption(frost, ((1, 0.2), (1, 0.3), (0.9, 0.4), (0.85, 0.4), (0.75, 0.45)),
                        "ice crystals on the lens: (image weight, frost weight)"),
    "fog": Corruption(fog, ((0.2, 3), (0.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75)),
                      "plasma-fractal haze: (amount, roughness decay)"),
    "brightness": Corruption(brightness, (0.05, 0.1, 0.15, 0.2, 0.3),
                             "this much added to the HSV value channel"),
    "contrast": Corruption(contrast, (0.75, 0.5, 0.4, 0.3, 0.15),
                           "differences from the image's channel means scaled by this factor"),
    "elastic_transform": Corruption(elastic_transform, ((0, 0, 0.08), (0.05, 0.2, 0.07), (0.08, 0.06, 0.06),
                                                        (0.1, 0.04, 0.05), (0.1, 0.03, 0.03)),
                                    "a random affine and elastic warp: (alpha, sigma, affine), in image sizes"),
    "pixelate": Corruption(pixelate, (0.95, 0.9, 0.85, 0.75, 0.65),
                           "area-averaged down to this fraction of the size and back up"),
    "jpeg_compression": Corruption(jpeg_compression, (80, 65, 58, 50, 40),
                                   "saved as JPEG at this quality"),
    "low_light": Corruption(low_light, ((1.1, 0.9, 500, 0.01), (1.25, 0.75, 250, 0.015), (1.4, 0.6, 120, 0.02),
                                        (1.6, 0.45, 60, 0.03), (1.8, 0.35, 30, 0.04)),
                            "a dim exposure: (gamma, gain, photons at full white, read noise)"),
    "frame_crop": Corruption(frame_crop, ((0.02, 0.05), (0.04, 0.1), (0.06, 0.15), (0.08, 0.2), (0.1, 0.25)),
                             "imprecise framing: (max shift in frame heights, max scale change)"),
    "colour_cast": Corruption(colour_cast, (0.08, 0.16, 0.24, 0.32, 0.4),
                              "a white-balance error: red and blue gains 1 +- this, warm or cool"),
}
CIFAR10_C = tuple(CORRUPTIONS)[:15]
CAMERA = tuple(CORRUPTIONS)[15:]


def to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)


def generator(seed: int, name: str, severity: int) -> np.random.Generator:
    """The random generator for one corruption set.  crc32 rather than hash(): Python salts string
    hashes per process, and a set must be the same in every run."""
    return np.random.default_rng([seed, zlib.crc32(name.encode()), severity])


def corrupt(images: np.ndarray, name: str, severity: int, seed: int = 0) -> np.ndarray:
    """Corrupted copies of `images`, uint8 RGB (N, 32, 32, 3), by corruption `name` at `severity`
    1..5; the same arguments always give the same output."""
    if name not in CORRUPTIONS:
        raise CifarEdgeError(f"unknown corruption {name!r}: choose one of {', '.join(CORRUPTIONS)}")
    if isinstance(severity, bool) or not isinstance(severity, (int, np.integer)) or severity not in SEVERITIES:
        raise CifarEdgeError(f"severity must be an integer from 1 to 5, got {severity!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise CifarEdgeError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8:
        raise CifarEdgeError(f"corrupt takes uint8 images, got {getattr(images, 'dtype', type(images).__name__)}")
    expected = (INPUT_SIZE, INPUT_SIZE, CHANNELS)
    if images.ndim != 4 or images.shape[1:] != expected:
        shape = ", ".join(map(str, expected))
        raise CifarEdgeError(f"corrupt takes a batch of shape (N, {shape}), got {images.shape}")
    if len(images) == 0:
        return images.copy()
    corruption = CORRUPTIONS[name]
    parameter = corruption.severities[severity - 1]
    pixels = images.astype(np.float32) / 255
    return to_uint8(corruption.apply(pixels, parameter, generator(int(seed), name, int(severity))))
