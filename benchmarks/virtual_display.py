"""A real window without a screen: Xvfb, and OpenCV with GUI support beside the package's headless one.

The base install has `opencv-python-headless` (what a Pi without a desktop wants), which cannot open a
window.  `make test` puts the GUI build, `opencv-python` of the same version, in build/gui-opencv with
pip's --target, together with mss for screenshots; a process given `gui_opencv_env()` imports that one
first.  Used by the camera window's test and by docs/camera_window_screenshot.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

GUI_OPENCV = Path(__file__).resolve().parents[1] / "build" / "gui-opencv"


class DisplayMissing(RuntimeError):
    pass


def gui_opencv_env(display: str | None = None) -> dict:
    """This process's environment with the GUI OpenCV first on the path (and DISPLAY set, if given)."""
    if not (GUI_OPENCV / "cv2").is_dir():
        raise DisplayMissing(f"no GUI OpenCV in {GUI_OPENCV}: make gui-opencv (make test does it)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(GUI_OPENCV), os.environ.get("PYTHONPATH")]))}
    return {**env, "DISPLAY": display} if display else env


@contextmanager
def virtual_display(width: int = 640, height: int = 480):
    """An Xvfb screen of width x height; yields its DISPLAY value (":N"), the first free number."""
    if not shutil.which("Xvfb"):
        raise DisplayMissing("Xvfb is not installed: apt install xvfb (make test does it where it runs as root)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{width}x{height}x24",
                               "-nolisten", "tcp"], pass_fds=(write_end,), stderr=subprocess.DEVNULL)
    os.close(write_end)
    try:
        with os.fdopen(read_end) as chosen:  # Xvfb writes the display number once it is ready
            number = chosen.readline().strip()
        if not number:
            raise DisplayMissing("Xvfb did not start")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def screenshot(display: str, path: Path) -> Path:
    """The screen's contents cropped to what is drawn (the rest of an Xvfb screen is black; a screen
    with nothing drawn is kept whole), as PNG.
    Runs in a process with the GUI path, where mss is."""
    code = ("import sys, mss, mss.tools, numpy as np\n"
            "with mss.MSS() as s:\n"
            "    shot = s.grab(s.monitors[1])\n"
            "rgb = np.frombuffer(shot.rgb, np.uint8).reshape(shot.height, shot.width, 3)\n"
            "rows, cols = np.nonzero(rgb.any(axis=2))\n"
            "crop = np.ascontiguousarray(rgb[:rows.max() + 1, :cols.max() + 1] if len(rows) else rgb)\n"
            "mss.tools.to_png(crop.tobytes(), (crop.shape[1], crop.shape[0]), output=sys.argv[1])\n")
    subprocess.run([sys.executable, "-c", code, str(path)],
                   env=gui_opencv_env(display), check=True)
    return path
