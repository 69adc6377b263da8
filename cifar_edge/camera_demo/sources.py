"""Frame sources for the camera demo: each yields RGB uint8 frames, converted from BGR once, here.

    open_source("0")            webcam index          (live: retried when it disconnects)
    open_source("/dev/video2")  webcam device path    (live)
    open_source("clip.mp4")     video file            (ends at its last frame)
    open_source("shots/")       folder of images      (sorted by name; unreadable files skipped)
    open_source("picamera2")    Raspberry Pi camera   (Picamera2, imported only when asked for)
    open_source("clip.mp4", loop=True)   a video file or folder replayed from the start when it ends
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from cifar_edge.errors import CifarEdgeError


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


class CaptureSource:
    """OpenCV VideoCapture over a camera or a video file.

    A live camera that stops delivering frames is reopened `retries` times with doubling waits
    (USB cameras drop off and come back); when it stays gone the stream ends cleanly.  A video file
    simply ends.
    """

    def __init__(self, spec: int | str, live: bool, retries: int = 5, backoff_s: float = 0.5):
        self.spec, self.live, self.retries, self.backoff_s = spec, live, retries, backoff_s
        self.capture = self._open()
        if self.capture is None:
            kind = "camera" if live else "video"
            raise CifarEdgeError(f"cannot open {kind} {spec!r}" + (": is it connected and not in use by "
                                 "another program?" if live else ": missing file or unsupported codec"))

    def _open(self):
        import cv2

        capture = cv2.VideoCapture(self.spec)
        if capture.isOpened():
            return capture
        capture.release()
        return None

    def _reconnect(self) -> bool:
        self.capture.release()
        for attempt in range(self.retries):
            wait = self.backoff_s * 2 ** attempt
            warn(f"camera {self.spec!r} stopped delivering frames; reconnecting in {wait:.1f}s "
                 f"({attempt + 1}/{self.retries})")
            time.sleep(wait)
            capture = self._open()
            if capture is not None:
                ok, _ = capture.read()  # a device node can reappear before it streams again
                if ok:
                    self.capture = capture
                    return True
                capture.release()
        warn(f"camera {self.spec!r} is gone; ending the stream")
        self.capture = None
        return False

    def frames(self) -> Iterator[np.ndarray]:
        import cv2

        while self.capture is not None:
            ok, frame = self.capture.read()
            if ok:
                yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            elif not (self.live and self._reconnect()):
                break
        self.close()

    def close(self) -> None:
        if self.capture is not None:
            self.capture.release()
            self.capture = None


class FolderSource:
    def __init__(self, folder: Path):
        from cifar_edge.images import SUFFIXES

        self.paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES)
        if not self.paths:
            raise CifarEdgeError(f"{folder} holds no images ({', '.join(SUFFIXES)})")

    def frames(self) -> Iterator[np.ndarray]:
        from cifar_edge.images import read_rgb

        for path in self.paths:
            try:
                yield read_rgb(path)
            except CifarEdgeError as exc:
                warn(f"skipped {exc}")

    def close(self) -> None:
        pass


class Picamera2Source:
    """The Raspberry Pi camera through Picamera2 (system package: see the README's Pi section).

    Picamera2 names formats by their little-endian word: "RGB888" arrays are B, G, R in memory and
    "XRGB8888" arrays are B, G, R, X, so both are reversed to RGB here.
    """

    def __init__(self, size=(640, 480)):
        try:
            from picamera2 import Picamera2
        except ImportError:
            raise CifarEdgeError("picamera2 is not importable: on Raspberry Pi OS install python3-picamera2 "
                                 "with apt and make the venv with --system-site-packages") from None
        try:
            self.camera = Picamera2()
            self.camera.configure(self.camera.create_video_configuration(main={"size": size, "format": "RGB888"}))
            self.camera.start()
        except Exception as exc:  # libcamera raises RuntimeError/IndexError when no camera is attached
            raise CifarEdgeError(f"cannot open the Raspberry Pi camera: {exc}") from exc

    def frames(self) -> Iterator[np.ndarray]:
        while True:
            frame = self.camera.capture_array()
            yield np.ascontiguousarray(frame[:, :, 2::-1])  # B, G, R(, X) -> R, G, B

    def close(self) -> None:
        self.camera.stop()


class LoopingSource:
    """A video file or image folder replayed from its first frame each time it ends (a demo on
    repeat, or a clip standing in for a camera that never stops)."""

    def __init__(self, spec: str):
        self.spec = spec
        self.current = open_source(spec)

    def frames(self) -> Iterator[np.ndarray]:
        while True:
            delivered = 0
            for frame in self.current.frames():
                delivered += 1
                yield frame
            if not delivered:  # nothing readable at all: replaying would spin forever
                return
            self.current.close()
            self.current = open_source(self.spec)

    def close(self) -> None:
        self.current.close()


def paced(frames: Iterator[np.ndarray], fps: float) -> Iterator[np.ndarray]:
    """`frames` delivered no faster than `fps` a second, as a camera would deliver them (a video file
    otherwise plays as fast as it decodes)."""
    interval, due = 1.0 / fps, time.monotonic()
    for frame in frames:
        time.sleep(max(0.0, due - time.monotonic()))
        due = max(due + interval, time.monotonic() - interval)  # a slow frame is not made up for by a burst
        yield frame


def open_source(spec: str, retries: int = 5, backoff_s: float = 0.5, loop: bool = False):
    if loop:
        if spec == "picamera2" or spec.isdigit() or spec.startswith("/dev/"):
            raise CifarEdgeError("--loop replays a video file or image folder; a camera never ends")
        return LoopingSource(spec)
    if spec == "picamera2":
        return Picamera2Source()
    if spec.isdigit():
        return CaptureSource(int(spec), live=True, retries=retries, backoff_s=backoff_s)
    if spec.startswith("/dev/"):
        return CaptureSource(spec, live=True, retries=retries, backoff_s=backoff_s)
    path = Path(spec)
    if path.is_dir():
        return FolderSource(path)
    if path.is_file():
        return CaptureSource(str(path), live=False)
    raise CifarEdgeError(f"--source {spec!r} is not a camera index, /dev/video* path, video file, "
                         "image folder or 'picamera2'")
