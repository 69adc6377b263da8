"""Regenerates docs/camera-window.png, the README's picture of `cifar-edge camera --window`: the real
window (GUI OpenCV, under Xvfb) with the released int8 model on a clip of CIFAR-10 test images.

    make gui-opencv && python docs/camera_window_screenshot.py [--data ../shared/data/cifar-10-python.tar.gz]

The clip holds each test image for two seconds at 30 frames/s, as a camera would see a scene; the
picture is taken mid-scene, read from the demo's own JSON lines, so the window shows a settled frame.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent / "benchmarks"))

from synthetic_video import write_test_video  # noqa: E402
from virtual_display import gui_opencv_env, screenshot, virtual_display  # noqa: E402

from cifar_edge.data import load_cifar10  # noqa: E402

HOLD = 60  # frames per test image
FIRST_IMAGE = 2  # a ship, as on the camera page's picture


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=None, help="CIFAR-10 path (default: $CIFAR_EDGE_DATA)")
    parser.add_argument("--out", type=Path, default=DOCS / "camera-window.png")
    args = parser.parse_args()

    images = load_cifar10(args.data, splits=("test",)).test.images[FIRST_IMAGE:FIRST_IMAGE + 3]
    with tempfile.TemporaryDirectory() as tmp, virtual_display(480, 400) as display:
        clip = write_test_video(Path(tmp) / "scene.avi", np.repeat(images, HOLD, axis=0))
        demo = subprocess.Popen([sys.executable, "-m", "cifar_edge", "camera", "--window", "--source", str(clip),
                                 "--source-fps", "30"], env=gui_opencv_env(display), stdout=subprocess.PIPE, text=True)
        try:
            for line in demo.stdout:  # one JSON line per frame shown
                if json.loads(line)["frame"] == HOLD // 2:
                    screenshot(display, args.out)
                    print(f"{args.out} written (frame {HOLD // 2}: {json.loads(line)['label']})")
                    break
            else:
                raise SystemExit("the demo ended before the first scene's middle: see its error above")
        finally:
            demo.terminate()
            demo.wait(timeout=30)


if __name__ == "__main__":
    main()
