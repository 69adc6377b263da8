"""The device-side path from a picture file to a label: one preprocessing function, every image
format, and `cifar-edge predict` with good and bad files mixed."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from cifar_edge.edge_runtime import Classifier
from cifar_edge.images import read_image_rgb
from cifar_edge.edge_runtime.preprocess import to_model_input
from cifar_edge.errors import CifarEdgeError
from conftest import cli


def test_model_sized_rgb_passes_through_unchanged(real_test_split):
    image = real_test_split.images[0]
    assert np.array_equal(to_model_input(image), image)


def test_upscaled_frame_with_bars_comes_back_exactly(real_test_split):
    from synthetic_video import frame_from_image

    image = real_test_split.images[1]
    frame = frame_from_image(image, scale=8, bar=32)  # 256 x 320: the centre square is the image
    assert frame.shape == (256, 320, 3)
    assert np.array_equal(to_model_input(frame), image)


@pytest.mark.parametrize("shape, dtype", [((40, 60), np.uint8), ((50, 50, 1), np.uint8), ((64, 48, 4), np.uint8),
                                          ((33, 33, 3), np.uint16), ((8, 8, 3), np.uint8)])
def test_any_picture_becomes_uint8_rgb_32x32(shape, dtype):
    image = np.random.default_rng(0).integers(0, np.iinfo(dtype).max, shape, dtype=dtype)
    out = to_model_input(image)
    assert out.shape == (32, 32, 3) and out.dtype == np.uint8


def test_sixteen_bit_keeps_its_top_byte():
    assert to_model_input(np.full((32, 32, 3), 65535, np.uint16)).min() == 255
    # 0x12FF: a cast would keep the low byte (0xFF); the brightness is in the high one (0x12).
    assert np.unique(to_model_input(np.full((32, 32, 3), 0x12FF, np.uint16))).tolist() == [0x12]


def test_bad_arrays_are_refused():
    with pytest.raises(CifarEdgeError, match="shape"):
        to_model_input(np.zeros((32, 32, 2), np.uint8))
    with pytest.raises(CifarEdgeError, match="8- or 16-bit"):
        to_model_input(np.zeros((32, 32, 3), np.float32))


@pytest.fixture(scope="module")
def image_files(real_test_split, tmp_path_factory):
    """The same test image in every supported file format and pixel layout, plus bad files."""
    folder = tmp_path_factory.mktemp("images")
    rgb = real_test_split.images[3]
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    files = {"rgb.png": bgr, "rgb.bmp": bgr, "rgb.webp": bgr, "rgba.png": cv2.cvtColor(rgb, cv2.COLOR_RGB2BGRA),
             "gray.png": cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), "deep.png": bgr.astype(np.uint16) * 257}
    for name, pixels in files.items():
        params = [cv2.IMWRITE_WEBP_QUALITY, 101] if name.endswith(".webp") else []  # 101: lossless
        assert cv2.imwrite(str(folder / name), pixels, params)
    assert cv2.imwrite(str(folder / "rgb.jpg"), bgr, [cv2.IMWRITE_JPEG_QUALITY, 95])
    (folder / "notes.png").write_text("this is not an image")
    jpeg = (folder / "rgb.jpg").read_bytes()
    # Two thirds of a JPEG, so no end-of-image marker: some libjpeg builds decode it with a grey rest.
    (folder / "cut.jpg").write_bytes(jpeg[:len(jpeg) * 2 // 3])
    return folder, rgb


def test_every_format_reads_as_the_same_rgb_image(image_files):
    folder, rgb = image_files
    for name in ("rgb.png", "rgb.bmp", "rgb.webp", "rgba.png", "deep.png"):
        assert np.array_equal(to_model_input(read_image_rgb(folder / name)), rgb), name
    assert np.abs(to_model_input(read_image_rgb(folder / "rgb.jpg")).astype(int) - rgb).mean() < 4
    gray = to_model_input(read_image_rgb(folder / "gray.png"))
    assert np.array_equal(gray[..., 0], gray[..., 2])


@pytest.mark.parametrize("name, message", [("notes.png", "not a readable image"), ("cut.jpg", "truncated JPEG"),
                                           ("missing.png", "no such file")])
def test_bad_files_get_one_clear_error(image_files, name, message):
    folder, _ = image_files
    with pytest.raises(CifarEdgeError, match=message):
        read_image_rgb(folder / name)


def test_classify_matches_the_batch_scores(exported, real_test_split):
    _, out, _ = exported
    classifier = Classifier(out / "model_int8.tflite")
    images = real_test_split.images[:20]
    predictions = classifier.classify_batch(list(images))
    assert [p.index for p in predictions] == classifier.predict(images).tolist()
    scores = classifier.scores(images).astype(np.float64)
    for p, row in zip(predictions, scores):  # each image's softmax, on its own
        expected = np.exp(row - row.max()) / np.exp(row - row.max()).sum()
        np.testing.assert_allclose(p.probabilities, expected, rtol=1e-5, atol=1e-7)
    first = classifier.classify(images[0])
    assert first.label == classifier.labels[first.index] and abs(first.probabilities.sum() - 1) < 1e-5
    assert first.confidence == pytest.approx(first.probabilities.max())


def test_predict_cli_classifies_good_files_and_reports_bad_ones(exported, image_files):
    _, out, _ = exported
    folder, rgb = image_files
    good = ["rgb.png", "rgb.bmp", "rgb.webp", "rgba.png", "gray.png", "deep.png", "rgb.jpg"]
    bad = ["notes.png", "cut.jpg", "missing.png"]
    run = cli("predict", out / "model_int8.tflite", *[folder / n for n in good + bad], "--json", "--top-k", 3)
    assert run.returncode == 1
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert [r["path"] for r in rows] == [str(folder / n) for n in good]
    assert all(set(r) == {"path", "label", "index", "confidence", "top_k"} and len(r["top_k"]) == 3 for r in rows)
    for r in rows:  # the most likely first, and the first is the answer
        confidences = [t["confidence"] for t in r["top_k"]]
        assert confidences == sorted(confidences, reverse=True) and confidences[0] == pytest.approx(r["confidence"], abs=1e-6)  # JSON rounds to 6 places
        assert (r["top_k"][0]["index"], r["top_k"][0]["label"]) == (r["index"], r["label"])
    expected = int(Classifier(out / "model_int8.tflite").predict(rgb[None])[0])
    assert {r["index"] for r in rows if not r["path"].endswith(("gray.png", "rgb.jpg"))} == {expected}
    errors = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert [e.split(":")[1].strip() for e in errors] == [str(folder / n) for n in bad]
    assert "Traceback" not in run.stderr


def test_predict_without_any_model_says_what_to_do(image_files, tmp_path):
    folder, _ = image_files
    run = cli("predict", folder / "rgb.png", "--model", tmp_path / "nothing.tflite")
    assert run.returncode == 1 and "does not exist" in run.stderr
