"""Regenerates docs/camera-page.png, the README's picture of `cifar-edge camera --serve`, from the real
thing: the released int8 model on a clip of CIFAR-10 test images, shown in headless Chromium at a phone's
width.

    python docs/camera_page_screenshot.py [--data ../shared/data/cifar-10-python.tar.gz]

The clip holds each test image for half a second at 30 frames/s, as a camera would see a scene, and the
picture is taken mid-scene, so the stream and the label under it show the same frame's prediction.
Needs Chromium and chromedriver (`make test` installs them) and Selenium (the dev extra).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent / "benchmarks"))

from headless_chromium import headless_chromium  # noqa: E402
from served_demo import served_demo  # noqa: E402
from synthetic_video import write_test_video  # noqa: E402

from cifar_edge.data import load_cifar10  # noqa: E402

HOLD = 15  # frames per test image
FIRST_IMAGE = 2  # a ship the released model gets right, with a runner-up worth showing (automobile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=None, help="CIFAR-10 path (default: $CIFAR_EDGE_DATA)")
    parser.add_argument("--out", type=Path, default=DOCS / "camera-page.png")
    args = parser.parse_args()

    images = load_cifar10(args.data, splits=("test",)).test.images[FIRST_IMAGE:FIRST_IMAGE + 20]
    with tempfile.TemporaryDirectory() as tmp, headless_chromium(width=412, height=915) as browser:
        clip = write_test_video(Path(tmp) / "scene.avi", np.repeat(images, HOLD, axis=0))
        with served_demo("--source", clip, "--loop", "--source-fps", 30, "--serve", "127.0.0.1:0") as demo:
            browser.get(demo.url)
            time.sleep(4)  # the stream, the events and the frame rate settle
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                frame = browser.execute_script("return document.getElementById('frame').textContent")
                if frame.isdigit() and HOLD // 4 <= int(frame) % (HOLD * len(images)) < HOLD - HOLD // 4:
                    browser.save_screenshot(str(args.out))
                    print(f"{args.out} written (frame {frame})")
                    return
                time.sleep(0.01)
    raise SystemExit("the page never showed the first scene: is the demo running?")


if __name__ == "__main__":
    main()
