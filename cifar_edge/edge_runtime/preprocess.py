"""The one preprocessing step between any picture and the model: everything shares it.

The model itself scales and normalises pixels (that is baked into the graph), so what is left is
geometry and pixel format: any RGB image -> centre square -> 32x32 by area averaging -> uint8 RGB.
Grayscale is repeated to three channels, alpha is dropped, 16-bit is reduced to 8-bit.  Colour order
is not handled here: frame sources convert OpenCV's BGR to RGB once, where they read it.
"""

from __future__ import annotations

import numpy as np

from cifar_edge.errors import CifarEdgeError

MODEL_SIZE = 32


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


def center_square(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return image[top:top + side, left:left + side]


def to_model_input(image: np.ndarray, size: int = MODEL_SIZE) -> np.ndarray:
    """Any RGB picture -> the (size, size, 3) uint8 RGB array the model takes.

    Area interpolation averages every source pixel into the small image, which is what a camera
    sensor does when it sees a scene from further away; bilinear would alias a large frame.
    """
    import cv2

    square = center_square(to_uint8_rgb(image))
    if square.shape[0] == size:
        return np.ascontiguousarray(square)
    interpolation = cv2.INTER_AREA if square.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(square, (size, size), interpolation=interpolation)
