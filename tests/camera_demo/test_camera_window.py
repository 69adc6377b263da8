"""`cifar-edge camera --window` as a desktop user meets it: a real window (GUI OpenCV under Xvfb) that
opens, shows the frames with their overlay, and closes cleanly at the end of a short clip.  The headless
wheel's one-line error is in test_camera.py."""

from __future__ import annotations

import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from conftest import missing
from synthetic_video import write_test_video
from virtual_display import DisplayMissing, gui_opencv_env, screenshot, virtual_display


BAR_BGR = (80, 200, 80)  # overlay.draw_overlay's confidence bar


@pytest.fixture
def display():
    try:
        gui_opencv_env()
        with virtual_display() as name:
            yield name
    except DisplayMissing as absent:
        missing(str(absent))


def bar_pixels(display, path) -> int:
    """How many pixels of the screen have the overlay's confidence-bar green."""
    shot = cv2.imread(str(screenshot(display, path)))
    return int(np.all(np.abs(shot.astype(int) - BAR_BGR) <= 12, axis=2).sum())


def test_window_shows_the_frames_and_closes_cleanly(display, real_test_split, tmp_path):
    clip = write_test_video(tmp_path / "clip.avi", real_test_split.images[:90])
    lines = tmp_path / "frames.jsonl"
    demo = subprocess.Popen([sys.executable, "-m", "cifar_edge", "camera", "--window", "--source", clip,
                             "--source-fps", "30", "--output", lines], env=gui_opencv_env(display),
                            stderr=subprocess.PIPE, text=True)
    # Screenshots while the clip plays (3 s at 30 frames/s), until one shows a frame with its overlay: a
    # single shot can miss the window on a loaded machine, where a screenshot takes a while.
    seen, deadline = 0, time.monotonic() + 60
    while time.monotonic() < deadline and demo.poll() is None and seen <= 100:
        if len(lines.read_text().splitlines() if lines.exists() else []) >= 5:
            seen = max(seen, bar_pixels(display, tmp_path / "screen.png"))
        time.sleep(0.05)
    _, stderr = demo.communicate(timeout=60)
    # --window exits 2 with a one-line error when no window can open: 0 means it opened.
    assert demo.returncode == 0, stderr
    assert "90 frames in" in stderr and "ended: end of source" in stderr
    assert "Traceback" not in stderr and "cv2.error" not in stderr
    assert len(lines.read_text().splitlines()) == 90
    # On the screen: a frame, not just an empty window: the overlay's green confidence bar is there.
    # Under heavy CPU load this fails in about one run in five, with the window mapped and black: the GUI
    # wheel's Qt loses the window's MapNotify and never paints (README, "A known fault of the GUI OpenCV").
    assert seen > 100, "no frame with its overlay on the screen"
