"""Reading picture files for `cifar-edge predict`: PNG, JPEG, BMP and WebP, in any pixel format.

OpenCV decodes (it is on the device anyway); its BGR(A) order is turned into RGB(A) here, once.
A file that is missing, not an image, or truncated raises a one-line `CifarEdgeError` naming it.
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
