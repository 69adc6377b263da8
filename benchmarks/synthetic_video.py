"""Videos whose frames show CIFAR-10 test images large, for checking the frame pipeline end to end.

Each 32x32 image is upscaled by an integer factor (nearest neighbour: no new detail) and centred on a
wider frame with grey bars, the way a camera frame is wider than it is tall.  Reading the video back
through the camera demo must classify these frames as well as the 32x32 images themselves: colour
order, crop, resize and scaling all have to match training for that to hold.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def frame_from_image(image_rgb: np.ndarray, scale: int = 8, bar: int = 32) -> np.ndarray:
    """A (32*scale) x (32*scale + 2*bar) RGB frame with the upscaled image in the middle."""
    big = np.repeat(np.repeat(image_rgb, scale, axis=0), scale, axis=1)
    frame = np.full((big.shape[0], big.shape[1] + 2 * bar, 3), 128, np.uint8)
    frame[:, bar:bar + big.shape[1]] = big
    return frame


def write_test_video(path: str | Path, images_rgb: np.ndarray, scale: int = 8, fps: int = 30) -> Path:
    """Writes the frames as Motion-JPEG at OpenCV's top quality (every frame a keyframe, codec in
    every OpenCV build).  Returns `path`."""
    import cv2

    path = Path(path)
    height, width = frame_from_image(images_rgb[0], scale).shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    writer.set(cv2.VIDEOWRITER_PROP_QUALITY, 100)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path}")
    for image in images_rgb:
        writer.write(cv2.cvtColor(frame_from_image(image, scale), cv2.COLOR_RGB2BGR))
    writer.release()
    return path
