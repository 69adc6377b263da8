"""What the demo draws over a frame, in the window and in the web stream alike: the label, a confidence
bar and the frame rate of classification."""

from __future__ import annotations

import numpy as np


def draw_overlay(frame_rgb: np.ndarray, label: str, confidence: float, fps: float) -> np.ndarray:
    """The frame in BGR (what OpenCV shows and encodes) with label, confidence bar and FPS on a dark band."""
    import cv2

    canvas = cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR)
    width = canvas.shape[1]
    cv2.rectangle(canvas, (0, 0), (width, 44), (0, 0, 0), -1)
    cv2.rectangle(canvas, (8, 34), (8 + int((width - 16) * confidence), 40), (80, 200, 80), -1)
    cv2.putText(canvas, f"{label} {confidence:.0%}", (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2)
    cv2.putText(canvas, f"{fps:.0f} FPS", (width - 100, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (200, 200, 200), 1)
    return canvas
