"""`cifar-edge camera --window` as a desktop user meets it: a real window (GUI OpenCV under Xvfb) that
opens, shows every frame of a short clip and closes cleanly.  The headless wheel's one-line error is in
test_camera.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import missing
from synthetic_video import write_test_video
from virtual_display import DisplayMissing, gui_opencv_env, virtual_display


@pytest.fixture
def display():
    try:
        gui_opencv_env()
        with virtual_display() as name:
            yield name
    except DisplayMissing as absent:
        missing(str(absent))


def test_window_opens_shows_every_frame_and_closes_cleanly(display, real_test_split, tmp_path):
    clip = write_test_video(tmp_path / "clip.avi", real_test_split.images[:30])
    lines = tmp_path / "frames.jsonl"
    result = subprocess.run([sys.executable, "-m", "cifar_edge", "camera", "--window", "--source", clip,
                             "--output", lines], env=gui_opencv_env(display), capture_output=True, text=True,
                            timeout=120)
    # --window exits 2 with a one-line error when no window can open: 0 means it opened.
    assert result.returncode == 0, result.stderr
    assert "30 frames in" in result.stderr and "ended: end of source" in result.stderr
    assert "Traceback" not in result.stderr and "cv2.error" not in result.stderr
    assert len(lines.read_text().splitlines()) == 30
