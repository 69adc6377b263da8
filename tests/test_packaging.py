"""`pip install cifar-edge` ships the released int8 model, and `cifar-edge predict IMAGE` uses it with
no --model; it ships the camera page too: built as a real wheel, installed into a folder of its own, run
outside the checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile

import cv2
import pytest

from cifar_edge.contract import CLASSES
from conftest import REPO

pytestmark = pytest.mark.slow


def test_the_wheel_carries_the_released_model_and_predict_uses_it(tmp_path, real_test_split):
    source = tmp_path / "source"  # build from a copy: a wheel build leaves build/ and egg-info behind
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".venv", ".git", "runs", "exports", "results",
                                                                "*.egg-info", "build", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", tmp_path / "dist", source], check=True, capture_output=True)
    wheel = next((tmp_path / "dist").glob("cifar_edge-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {"cifar_edge/models/cifar_edge_int8.tflite", "cifar_edge/models/model_card.json",
            "cifar_edge/camera_demo/page.html"} <= set(names)
    assert not any(name.endswith(".onnx") for name in names)  # the Pi install stays small

    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", site, wheel],
                   check=True, capture_output=True)
    image = tmp_path / "picture.png"
    cv2.imwrite(str(image), cv2.cvtColor(real_test_split.images[0], cv2.COLOR_RGB2BGR))
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run([sys.executable, "-c", "from cifar_edge.edge_runtime.released import "
                            "released_model_path; print(released_model_path())"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.strip().startswith(str(site))
    run = subprocess.run([sys.executable, "-m", "cifar_edge", "predict", "--json", image],
                         cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["label"] in CLASSES
    page = subprocess.run([sys.executable, "-c", "from cifar_edge.camera_demo.server import page_html; "
                           "import sys; sys.stdout.write(page_html().decode())"],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert page.returncode == 0 and 'EventSource("/events"' in page.stdout, page.stderr  # camera --serve's page
