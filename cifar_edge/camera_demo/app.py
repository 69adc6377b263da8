"""The camera demo loop: frames in, predictions out, on a window or as JSON lines.

    source.frames() -> Classifier.classify -> window (label, confidence bar, FPS)
                                           -> JSON line per frame (headless, flushed as it goes)

Ends cleanly at the end of a video or folder, when a camera stays disconnected, after
`max_frames`, on `q`/Esc in the window, or on Ctrl-C; everything written so far is kept.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from cifar_edge.camera_demo.sources import open_source
from cifar_edge.edge_runtime import Classifier
from cifar_edge.errors import CifarEdgeError

WINDOW = "cifar-edge"


def window_problem() -> str | None:
    """Why a window cannot open here, or None when it can: it needs an OpenCV built with GUI support
    (the Pi install's `opencv-python-headless` has none) and a display."""
    import cv2

    if re.search(r"^\s*GUI:\s*NONE\s*$", cv2.getBuildInformation(), re.MULTILINE):
        return ("--window needs OpenCV with GUI support, and this install has the headless build: "
                "pip install opencv-python (or use --headless, which prints one JSON line per frame)")
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "--window needs a display and none is set (DISPLAY, WAYLAND_DISPLAY): use --headless"
    try:
        cv2.namedWindow(WINDOW)
    except cv2.error as exc:
        return f"--window could not open a window ({str(exc).strip().splitlines()[-1]}): use --headless"
    return None


def draw_overlay(frame_rgb: np.ndarray, label: str, confidence: float, fps: float) -> np.ndarray:
    """The frame for the window (BGR, OpenCV's display order) with label, confidence bar and FPS."""
    import cv2

    canvas = cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR)
    width = canvas.shape[1]
    cv2.rectangle(canvas, (0, 0), (width, 44), (0, 0, 0), -1)
    cv2.rectangle(canvas, (8, 34), (8 + int((width - 16) * confidence), 40), (80, 200, 80), -1)
    cv2.putText(canvas, f"{label} {confidence:.0%}", (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2)
    cv2.putText(canvas, f"{fps:.0f} FPS", (width - 100, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (200, 200, 200), 1)
    return canvas


def run_camera(model: str | Path, source: str, headless: bool | None = None, output: str | Path | None = None,
               max_frames: int = 0, threads: int = 1, retries: int = 5, backoff_s: float = 0.5) -> dict:
    """Classifies frames from `source` until it ends; returns a summary (frames, seconds, fps).
    `headless` None shows a window where one can open and prints JSON lines elsewhere; False insists
    on the window, and where it cannot open that is an error (exit code 2) before anything starts."""
    problem = window_problem() if headless is not True else "headless asked for"
    if headless is False and problem:
        error = CifarEdgeError(problem)
        error.exit_code = 2
        raise error
    show = problem is None
    classifier = Classifier(model, threads=threads)
    frames = open_source(source, retries=retries, backoff_s=backoff_s)
    out_context = open(output, "a", buffering=1) if output else nullcontext(sys.stdout)
    count, fps = 0, 0.0
    started = last = time.perf_counter()
    reason = "end of source"
    try:
        with out_context as out:
            for frame in frames.frames():
                tick = time.perf_counter()
                prediction = classifier.classify(frame)
                latency_ms = (time.perf_counter() - tick) * 1000
                count += 1
                now = time.perf_counter()
                fps = 0.9 * fps + 0.1 / max(now - last, 1e-6)  # smoothed rate of the whole loop
                last = now
                if show:
                    import cv2

                    cv2.imshow(WINDOW, draw_overlay(frame, prediction.label, prediction.confidence, fps))
                    if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                        reason = "closed by the user"
                        break
                else:
                    out.write(json.dumps({"frame": count - 1, "time": round(time.time(), 3),
                                          "label": prediction.label, "index": prediction.index,
                                          "confidence": round(prediction.confidence, 4),
                                          "latency_ms": round(latency_ms, 3)}) + "\n")
                    out.flush()
                if max_frames and count >= max_frames:
                    reason = "max frames"
                    break
    except KeyboardInterrupt:
        reason = "interrupted"
    finally:
        frames.close()
        if show:
            import cv2

            cv2.destroyAllWindows()
    seconds = time.perf_counter() - started
    return {"frames": count, "seconds": round(seconds, 3), "fps": round(count / seconds, 1) if seconds else 0.0,
            "ended": reason, "model": str(model), "source": source, "displayed": show}
