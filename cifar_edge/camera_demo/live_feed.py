"""`LiveFeed`: hands the camera loop's newest frame and prediction to web viewers without ever making
the loop wait for them.

    camera loop ──publish(frame, record)──> newest frame, one record queue per listener
                                               │
            encoder thread (≤ serve_fps, only while someone watches): overlay + JPEG
                                               │
            each /stream.mjpg viewer takes the newest JPEG   (a slow viewer skips frames)
            each /events listener drains its own queue        (bounded: a stalled one loses the oldest)

`publish` only swaps references and appends to short deques under a lock, so classification runs at the
camera's rate whatever the viewers do; the JPEG work is one encode per frame shown, shared by all viewers.
"""

from __future__ import annotations

import collections
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import numpy as np

#: Records kept for a listener that has not read them yet: at 500 frames/s a few seconds' worth.
LISTENER_BACKLOG = 2000
#: A quiet /events stream sends a comment this often, so proxies and browsers keep it open.
KEEPALIVE_S = 15.0


class Full(Exception):
    """Raised by `watch`/`listen` when `max_clients` of that kind are already connected."""


class LiveFeed:
    def __init__(self, serve_fps: float = 15, max_clients: int = 4, jpeg_quality: int = 80):
        self.interval = 1.0 / serve_fps
        self.max_clients = max_clients
        self.jpeg_quality = jpeg_quality
        self._lock = threading.Lock()
        self._new_frame = threading.Condition(self._lock)   # the encoder waits on it
        self._new_jpeg = threading.Condition(self._lock)    # viewers wait on it
        self._frame: np.ndarray | None = None
        self._record: dict | None = None
        self._frame_seq = 0  # frames published so far
        self._jpeg: bytes | None = None
        self._jpeg_seq = 0
        self._viewers = 0
        self._listeners: list[collections.deque] = []
        self.closed = False
        self._encoder = threading.Thread(target=self._encode_newest, name="cifar-edge-jpeg", daemon=True)
        self._encoder.start()

    # --- the camera loop's side -------------------------------------------------------------------

    def publish(self, frame_rgb: np.ndarray, record: dict, line: str) -> None:
        """The frame just classified, its record, and that record as a JSON line (made once, shared)."""
        with self._lock:
            self._frame, self._record = frame_rgb, record
            self._frame_seq += 1
            for queue in self._listeners:
                queue.append(line)
            self._new_frame.notify()

    def close(self) -> None:
        """Ends every stream and the encoder; viewers' loops return at their next wake-up."""
        with self._lock:
            self.closed = True
            self._new_frame.notify_all()
            self._new_jpeg.notify_all()

    # --- the encoder ------------------------------------------------------------------------------

    def _encode_newest(self) -> None:
        import cv2

        from cifar_edge.camera_demo.overlay import draw_overlay

        encoded_seq, next_at = 0, 0.0
        while True:
            with self._lock:
                self._new_frame.wait_for(lambda: self.closed or (self._viewers and self._frame_seq > encoded_seq))
                if self.closed:
                    return
            time.sleep(max(0.0, next_at - time.monotonic()))  # at most serve_fps encodes a second
            with self._lock:
                frame, record, encoded_seq = self._frame, self._record, self._frame_seq
            canvas = draw_overlay(frame, record["label"], record["confidence"], record["fps"])
            ok, jpeg = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
            next_at = time.monotonic() + self.interval
            if ok:
                with self._lock:
                    self._jpeg, self._jpeg_seq = jpeg.tobytes(), encoded_seq
                    self._new_jpeg.notify_all()

    # --- the viewers' side ------------------------------------------------------------------------

    @contextmanager
    def watch(self) -> Iterator[Iterator[bytes]]:
        """A place among the MJPEG viewers (or `Full`): yields an iterator of the newest JPEGs, each
        one new since the last, until the feed closes."""
        with self._lock:
            if self._viewers >= self.max_clients:
                raise Full(f"{self.max_clients} viewers are already watching (--max-clients); try again later")
            self._viewers += 1
            self._new_frame.notify()
        try:
            yield self._jpegs()
        finally:
            with self._lock:
                self._viewers -= 1

    def _jpegs(self) -> Iterator[bytes]:
        seen = 0
        while True:
            with self._lock:
                # The timeout only lets a viewer notice a closed feed when no frames come at all.
                self._new_jpeg.wait_for(lambda: self.closed or self._jpeg_seq > seen, timeout=1.0)
                if self.closed:
                    return
                if self._jpeg_seq <= seen:
                    continue
                jpeg, seen = self._jpeg, self._jpeg_seq
            yield jpeg

    @contextmanager
    def listen(self) -> Iterator[Iterator[list[str]]]:
        """A place among the /events listeners (or `Full`): yields an iterator of batches of JSON
        lines, every record since the last batch (at most LISTENER_BACKLOG), one batch per
        1/serve_fps; an empty batch when the camera was quiet for KEEPALIVE_S."""
        queue: collections.deque = collections.deque(maxlen=LISTENER_BACKLOG)
        with self._lock:
            if len(self._listeners) >= self.max_clients:
                raise Full(f"{self.max_clients} event listeners are already connected (--max-clients); "
                           "try again later")
            self._listeners.append(queue)
        try:
            yield self._batches(queue)
        finally:
            with self._lock:
                self._listeners.remove(queue)

    def _batches(self, queue: collections.deque) -> Iterator[list[str]]:
        quiet_since = time.monotonic()
        while not self.closed:
            time.sleep(self.interval)
            with self._lock:
                batch = list(queue)
                queue.clear()
            if batch or time.monotonic() - quiet_since > KEEPALIVE_S:
                quiet_since = time.monotonic()
                yield batch

    def status(self) -> dict:
        with self._lock:
            return {"frames": self._frame_seq, "viewers": self._viewers, "listeners": len(self._listeners),
                    "max_clients": self.max_clients, "serve_fps": round(1 / self.interval, 2),
                    "latest": self._record}
