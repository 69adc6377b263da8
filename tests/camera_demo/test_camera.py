"""The camera demo on generated media: a video of test images, a folder, a camera that is missing or
disconnects mid-stream, and the headless JSON stream of the CLI."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from cifar_edge.camera_demo import open_source, run_camera
from cifar_edge.camera_demo.sources import CaptureSource
from cifar_edge.camera_demo.synthetic_video import write_test_video
from cifar_edge.edge_runtime import Classifier
from cifar_edge.errors import CifarEdgeError
from conftest import cli

FIELDS = {"frame", "time", "label", "index", "confidence", "latency_ms"}


@pytest.fixture(scope="module")
def video(real_test_split, tmp_path_factory):
    return write_test_video(tmp_path_factory.mktemp("media") / "test_images.avi", real_test_split.images[:300])


def read_lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_video_frames_are_classified_like_the_test_images(exported, video, real_test_split, tmp_path):
    """The proof that colour order, crop, resize and scaling match training.  The float file keeps
    int8 rounding out of it (the barely trained smoke net has tiny margins); benchmarks/camera_fps.py
    makes the same check with the standard int8 model on 1,000 frames."""
    _, out, _ = exported
    model = out / "model_fp32.tflite"
    log = tmp_path / "frames.jsonl"
    summary = run_camera(model, str(video), headless=True, output=log)
    assert summary["frames"] == 300 and summary["ended"] == "end of source"
    rows = read_lines(log)
    assert [r["frame"] for r in rows] == list(range(300)) and all(set(r) == FIELDS for r in rows)
    from_video = np.array([r["index"] for r in rows])
    from_images = Classifier(model).predict(real_test_split.images[:300])
    labels = real_test_split.labels[:300]
    assert abs(np.mean(from_video == labels) - np.mean(from_images == labels)) <= 0.015
    assert np.mean(from_video == from_images) >= 0.95


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


def test_picamera2_is_only_imported_when_asked_for_and_missing_is_explained():
    import sys

    assert "picamera2" not in sys.modules  # importing the demo did not pull it in
    if __import__("importlib").util.find_spec("picamera2") is None:
        with pytest.raises(CifarEdgeError, match="python3-picamera2.*--system-site-packages"):
            open_source("picamera2")
