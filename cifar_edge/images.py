"""The one reader of picture files: PNG, JPEG, BMP and WebP, in any pixel format, for `predict`, the
camera demo's image folders and image-folder datasets alike.

OpenCV decodes (it is on the device anyway); its BGR(A) order is turned into RGB(A) here, once.
A file that is missing, not an image, or truncated raises a one-line `CifarEdgeError` naming it.
`to_uint8_rgb` then brings any pixel format to the 8-bit RGB that everything downstream takes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cifar_edge.errors import CifarEdgeError

SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def looks_truncated(data: bytes) -> bool:
    """A JPEG without its end-of-image marker was cut off.  Some libjpeg builds decode such a file
    with only a warning, filling the rest grey, so it is caught before decoding."""
    return data[:2] == b"\xff\xd8" and b"\xff\xd9" not in data[-64:]


def read_image_rgb(path: str | Path) -> np.ndarray:
    """The image at `path` as (H, W, 3|4) RGB(A) or (H, W) gray, 8- or 16-bit, as stored."""
    import cv2

    path = Path(path)
    if not path.is_file():
        raise CifarEdgeError(f"{path}: no such file")
    data = path.read_bytes()
    if looks_truncated(data):
        raise CifarEdgeError(f"{path}: truncated JPEG (no end-of-image marker)")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) if data else None
    if image is None:
        raise CifarEdgeError(f"{path}: not a readable image (truncated, corrupt, or not PNG, JPEG, BMP or WebP)")
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    return image


def to_uint8_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 1), (H, W, 3) or (H, W, 4) in uint8 or uint16 -> (H, W, 3) uint8 RGB."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or min(image.shape[:2]) < 1:
        raise CifarEdgeError(f"expected an RGB, RGBA or grayscale image, got an array of shape {image.shape}")
    image = image[:, :, :3]
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)  # keep the top 8 bits: 65535 -> 255
    elif image.dtype != np.uint8:
        raise CifarEdgeError(f"expected 8- or 16-bit pixels, got {image.dtype}")
    return image


def read_rgb(path: str | Path) -> np.ndarray:
    """The picture at `path` as (H, W, 3) uint8 RGB, whatever its format."""
    return to_uint8_rgb(read_image_rgb(path))
