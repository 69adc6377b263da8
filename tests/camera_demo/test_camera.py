"""The camera demo on generated media: a video of test images, a folder, a camera that is missing or
disconnects mid-stream, and the headless JSON stream of the CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import types

import cv2
import numpy as np
import pytest

from cifar_edge.camera_demo import open_source, run_camera
from cifar_edge.camera_demo.sources import CaptureSource, paced
from synthetic_video import write_test_video
from cifar_edge.edge_runtime import Classifier
from cifar_edge.edge_runtime.preprocess import to_model_input
from cifar_edge.errors import CifarEdgeError
from conftest import cli

FIELDS = {"frame", "time", "label", "index", "confidence", "latency_ms", "fps", "top3"}


@pytest.fixture(scope="module")
def video(real_test_split, tmp_path_factory):
    return write_test_video(tmp_path_factory.mktemp("media") / "test_images.avi", real_test_split.images[:300])


def read_lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_video_frames_reach_the_model_as_the_test_images_they_show(exported, video, real_test_split, tmp_path):
    """The proof that colour order, crop and resize match training, without depending on how well the
    smoke net is trained: each frame, read back by the camera source and preprocessed, is the test image
    it shows up to Motion-JPEG's loss, and the camera loop's labels are the model's on exactly those
    inputs.  (benchmarks/camera_fps.py measures the accuracy this keeps with the released model.)"""
    _, out, _ = exported
    model = out / "model_int8.tflite"  # integer kernels: the same input gives the same label at any batch size
    log = tmp_path / "frames.jsonl"
    summary = run_camera(model, str(video), headless=True, output=log)
    assert summary["frames"] == 300 and summary["ended"] == "end of source"
    rows = read_lines(log)
    assert [r["frame"] for r in rows] == list(range(300)) and all(set(r) == FIELDS for r in rows)

    inputs = np.stack([to_model_input(frame) for frame in open_source(str(video)).frames()])
    images = real_test_split.images[:300]
    # Quality-100 MJPEG of an 8x nearest-neighbour upscale, area-averaged back: about one grey level.
    # Swapped colour channels or an off-centre crop cost tens of levels.
    assert np.abs(inputs.astype(int) - images).mean() < 2
    assert np.abs(inputs[..., ::-1].astype(int) - images).mean() > 10
    assert [r["index"] for r in rows] == Classifier(model).predict(inputs).tolist()
    for r in rows:  # top-3: the label first, then the runners-up, most confident first
        assert r["top3"][0] == {"label": r["label"], "confidence": r["confidence"]}
        assert [t["confidence"] for t in r["top3"]] == sorted((t["confidence"] for t in r["top3"]), reverse=True)
        assert len({t["label"] for t in r["top3"]}) == 3


def test_frames_come_out_rgb(real_test_split, tmp_path):
    red = np.zeros((1, 32, 32, 3), np.uint8)
    red[..., 0] = 255
    frame = next(open_source(str(write_test_video(tmp_path / "red.avi", red))).frames())
    assert frame[128, 160, 0] > 240 and frame[128, 160, 2] < 15  # red stays red


def test_image_folder_source_skips_unreadable_files(exported, real_test_split, tmp_path, capsys):
    _, out, _ = exported
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i}.png"), cv2.cvtColor(real_test_split.images[i], cv2.COLOR_RGB2BGR))
    (tmp_path / "1b.jpg").write_text("not a picture")
    log = tmp_path / "frames.jsonl"
    summary = run_camera(out / "model_int8.tflite", str(tmp_path), headless=True, output=log)
    assert summary["frames"] == 3 and len(read_lines(log)) == 3
    assert "skipped" in capsys.readouterr().err


def test_max_frames_stops_early(exported, video, tmp_path):
    _, out, _ = exported
    log = tmp_path / "frames.jsonl"
    summary = run_camera(out / "model_int8.tflite", str(video), headless=True, output=log, max_frames=7)
    assert summary == {**summary, "frames": 7, "ended": "max frames"} and len(read_lines(log)) == 7


def test_loop_replays_a_video_and_refuses_a_camera(video):
    frames = open_source(str(video), loop=True).frames()
    first = [next(frames) for _ in range(300)]
    again = [next(frames) for _ in range(300)]  # the file ended and began again
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    with pytest.raises(CifarEdgeError, match="--loop replays a video file or image folder"):
        open_source("0", loop=True)


def test_source_fps_paces_frames_like_a_camera():
    started = time.monotonic()
    assert list(paced(iter(range(6)), fps=20)) == list(range(6))
    assert time.monotonic() - started >= 5 / 20 * 0.9  # six frames at 20 a second: five intervals


def test_camera_that_cannot_be_opened_is_a_clear_error():
    with pytest.raises(CifarEdgeError, match="cannot open camera"):
        open_source("/dev/video-that-does-not-exist")
    with pytest.raises(CifarEdgeError, match="not a camera index"):
        open_source("no/such/thing.mp4")


def test_live_camera_that_disconnects_is_retried_then_ends_cleanly(video, tmp_path, capsys):
    """A 'live' capture over a video file that vanishes: after its last frame, reads fail, every
    reconnection fails (the file is gone), and the stream ends with all frames delivered."""
    unplugged = tmp_path / "camera.avi"
    unplugged.write_bytes(video.read_bytes())
    source = CaptureSource(str(unplugged), live=True, retries=3, backoff_s=0.01)
    unplugged.unlink()
    frames = sum(1 for _ in source.frames())
    assert frames == 300
    err = capsys.readouterr().err
    assert err.count("reconnecting") == 3 and "is gone; ending the stream" in err


def test_camera_cli_streams_json_lines(exported, video, tmp_path):
    _, out, _ = exported
    run = cli("camera", "--model", out / "model_int8.tflite", "--source", video, "--headless", "--max-frames", 5)
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(rows) == 5 and all(set(r) == FIELDS for r in rows)
    assert "5 frames" in run.stderr
    bad = cli("camera", "--model", out / "model_int8.tflite", "--source", "/dev/video-gone", "--headless")
    assert bad.returncode == 1 and "error: cannot open camera" in bad.stderr and "Traceback" not in bad.stderr


def test_window_without_gui_opencv_is_one_clear_line_and_writes_nothing(video, tmp_path, monkeypatch):
    """The Pi install has OpenCV's headless build, as the project's own install does: --window must say
    how to get a window instead of failing inside imshow, and must not start the stream first."""
    if not re.search(r"^\s*GUI:\s*NONE\s*$", cv2.getBuildInformation(), re.MULTILINE):
        pytest.skip("this OpenCV has GUI support; the project installs the headless build")
    monkeypatch.setenv("DISPLAY", ":0")  # a display is there: what is missing is OpenCV's GUI
    log = tmp_path / "frames.jsonl"
    run = cli("camera", "--source", video, "--window", "--output", log)  # the released model
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == ["error: --window needs OpenCV with GUI support, and this install "
                                               "has the headless build: pip install opencv-python (or use "
                                               "--headless, which prints one JSON line per frame)"]
    assert not log.exists() and run.stdout == ""


def test_picamera2_is_only_imported_when_asked_for(tmp_path):
    """With a picamera2 that imports (as on a Pi: a stand-in here), loading the demo and the CLI still
    leaves it alone: it is imported only for --source picamera2."""
    (tmp_path / "picamera2.py").write_text("class Picamera2: pass\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    result = subprocess.run([sys.executable, "-c", "import sys, cifar_edge.camera_demo, cifar_edge.cli; "
                             "print('picamera2' in sys.modules)"], capture_output=True, text=True, env=env)
    assert result.returncode == 0 and result.stdout.strip() == "False", result.stderr


def test_missing_picamera2_is_explained(monkeypatch):
    monkeypatch.setitem(sys.modules, "picamera2", None)  # what `import picamera2` meets on a PC
    with pytest.raises(CifarEdgeError, match="python3-picamera2.*--system-site-packages"):
        open_source("picamera2")


class FakePicamera2:
    """Picamera2's calls the source makes.  Its "RGB888" arrays hold B, G, R in memory (formats are
    named by their little-endian word), as the real camera's do."""
    stopped = False

    def create_video_configuration(self, main):
        assert main["format"] == "RGB888"
        return {"main": main}

    def configure(self, config):
        self.width, self.height = config["main"]["size"]

    def start(self):
        pass

    def capture_array(self):
        frame = np.zeros((self.height, self.width, 3), np.uint8)
        frame[..., 0], frame[..., 1], frame[..., 2] = 10, 20, 250  # blue, green, red: a red scene
        return frame

    def stop(self):
        FakePicamera2.stopped = True


def test_picamera2_frames_come_out_rgb(monkeypatch):
    monkeypatch.setitem(sys.modules, "picamera2", types.SimpleNamespace(Picamera2=FakePicamera2))
    source = open_source("picamera2")
    frame = next(source.frames())
    assert frame.shape == (480, 640, 3) and frame[0, 0].tolist() == [250, 20, 10]  # R, G, B
    source.close()
    assert FakePicamera2.stopped
