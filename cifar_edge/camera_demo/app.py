"""The camera demo loop: frames in, predictions out, on a window, as JSON lines, or as a web page.

    source.frames() -> Classifier.classify -> window (label, confidence bar, FPS)
                                           -> JSON line per frame (headless, flushed as it goes)
                                           -> LiveFeed -> web page, MJPEG and events (--serve: `server`)

Ends cleanly at the end of a video or folder, when a camera stays disconnected, after
`max_frames`, on `q`/Esc in the window, or on Ctrl-C or SIGTERM; everything written so far is kept.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import threading
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from cifar_edge.camera_demo.overlay import draw_overlay
from cifar_edge.camera_demo.sources import open_source, paced
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


def frame_record(frame: int, prediction, labels, latency_ms: float, fps: float) -> dict:
    """The JSON record of one classified frame: what --headless prints and /events sends."""
    return {"frame": frame, "time": round(time.time(), 3), "label": prediction.label, "index": prediction.index,
            "confidence": round(prediction.confidence, 4), "latency_ms": round(latency_ms, 3), "fps": round(fps, 1),
            "top3": [{"label": t["label"], "confidence": round(t["confidence"], 4)}
                     for t in prediction.top_k(3, labels)]}


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the camera loop so that it ends as it does on Ctrl-C."""


@contextmanager
def sigterm_as_interrupt():
    """SIGTERM (systemd, `kill`, a container stopping) ends the demo as Ctrl-C does: cleanly, exit 0."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise Terminated

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass(frozen=True)
class ServeOptions:
    """`camera --serve`: where to listen ([HOST:]PORT), the stream's frame-rate cap, the viewers' cap."""
    address: str
    fps: float = 15
    max_clients: int = 4


def announce(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_camera(model: str | Path, source: str, headless: bool | None = None, output: str | Path | None = None,
               max_frames: int = 0, threads: int = 1, retries: int = 5, backoff_s: float = 0.5,
               serve: ServeOptions | None = None, loop: bool = False, source_fps: float = 0) -> dict:
    """Classifies frames from `source` until it ends; returns a summary (frames, seconds, fps).
    `headless` None shows a window where one can open and prints JSON lines elsewhere; False insists
    on the window, and where it cannot open that is an error (exit code 2) before anything starts.
    With `serve`, the frames are also a web page (see `server`); JSON lines then go to `output` only,
    and a window opens only when `headless` is False.  `loop` replays a file or folder; `source_fps`
    paces one like a camera (0: as fast as it decodes)."""
    if headless is None and serve:
        headless = True
    problem = window_problem() if headless is not True else "headless asked for"
    if headless is False and problem:
        error = CifarEdgeError(problem)
        error.exit_code = 2
        raise error
    show = problem is None
    classifier = Classifier(model, threads=threads)
    frames = open_source(source, retries=retries, backoff_s=backoff_s, loop=loop)
    feed = server = None
    urls: list[str] = []
    if serve:
        from cifar_edge.camera_demo.live_feed import LiveFeed
        from cifar_edge.camera_demo.server import CameraServer

        feed = LiveFeed(serve.fps, serve.max_clients)
        try:
            server = CameraServer.open(serve.address, feed, Path(model), classifier.info).start()
        except Exception:
            frames.close()
            feed.close()
            raise
        urls = server.urls()
        announce(f"camera page: {urls[0]}" + "".join(f"\n         or: {url}" for url in urls[1:]) +
                 "\n(Ctrl-C stops)")
    out_context = open(output, "a", buffering=1) if output else nullcontext(None if serve else sys.stdout)
    count, fps = 0, 0.0
    started = last = time.perf_counter()
    reason = "end of source"
    try:
        with out_context as out, sigterm_as_interrupt():
            for frame in paced(frames.frames(), source_fps) if source_fps else frames.frames():
                tick = time.perf_counter()
                prediction = classifier.classify(frame)
                latency_ms = (time.perf_counter() - tick) * 1000
                now = time.perf_counter()
                fps = 0.9 * fps + 0.1 / max(now - last, 1e-6) if count else 0.0  # smoothed rate of the loop
                last = now
                if out is not None or feed is not None:  # a window alone needs no record
                    record = frame_record(count, prediction, classifier.labels, latency_ms, fps)
                    line = json.dumps(record)
                    if out is not None:
                        out.write(line + "\n")
                        out.flush()
                    if feed is not None:
                        feed.publish(frame, record, line)
                count += 1
                if show:
                    import cv2

                    cv2.imshow(WINDOW, draw_overlay(frame, prediction.label, prediction.confidence, fps))
                    if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                        reason = "closed by the user"
                        break
                if max_frames and count >= max_frames:
                    reason = "max frames"
                    break
    except KeyboardInterrupt as stop:
        reason = "terminated (SIGTERM)" if isinstance(stop, Terminated) else "interrupted"
    finally:
        frames.close()
        if server is not None:
            server.stop()
        if show:
            import cv2

            cv2.destroyAllWindows()
    seconds = time.perf_counter() - started
    return {"frames": count, "seconds": round(seconds, 3), "fps": round(count / seconds, 1) if seconds else 0.0,
            "ended": reason, "model": str(model), "source": source, "displayed": show,
            **({"served": urls[0]} if urls else {})}
