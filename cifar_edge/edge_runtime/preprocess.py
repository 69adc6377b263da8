"""The one preprocessing step between any picture and the model: everything shares it.

The model itself scales and normalises pixels (that is baked into the graph), so what is left is
geometry: any RGB picture -> the model's input size, by the resize policy its contract states
(`cifar_edge.contract.ResizePolicy`: centre square, area-averaged when shrinking).  Pixel formats are
brought to uint8 RGB by `cifar_edge.images.to_uint8_rgb`; colour order is not handled here: frame
sources convert OpenCV's BGR to RGB once, where they read it.
"""

from __future__ import annotations

import numpy as np

from cifar_edge.contract import DEFAULT_CONTRACT, InputContract
from cifar_edge.errors import CifarEdgeError
from cifar_edge.images import to_uint8_rgb


def center_square(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return image[top:top + side, left:left + side]


CROPS = {"center-square": center_square}


def interpolation(name: str) -> int:
    import cv2

    flags = {"area": cv2.INTER_AREA, "linear": cv2.INTER_LINEAR, "nearest": cv2.INTER_NEAREST}
    if name not in flags:
        raise CifarEdgeError(f"the model's contract asks for {name!r} resizing, which this version does not know")
    return flags[name]


def to_model_input(image: np.ndarray, contract: InputContract = DEFAULT_CONTRACT) -> np.ndarray:
    """Any RGB picture -> the (height, width, 3) uint8 RGB array the model takes."""
    import cv2

    policy = contract.resize
    if policy.crop not in CROPS:
        raise CifarEdgeError(f"the model's contract asks for a {policy.crop!r} crop, which this version does not know")
    picture = CROPS[policy.crop](to_uint8_rgb(image))
    size = (contract.width, contract.height)
    if picture.shape[1::-1] == size:
        return np.ascontiguousarray(picture)
    shrinking = picture.shape[0] > contract.height
    return cv2.resize(picture, size, interpolation=interpolation(policy.shrink if shrinking else policy.enlarge))
