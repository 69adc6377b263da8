"""The data layer on the real archive and on small files made from real slices."""

from __future__ import annotations

import hashlib
import http.server
import os
import pickle
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from cifar_edge import data
from cifar_edge.data import CLASSES, CifarEdgeError, load_cifar10, train_val_split
from conftest import batch_pickle, write_tar_gz


# --------------------------------------------------------------------------- the real archive

def test_real_test_batch_has_official_shape_and_balance(real_test_split):
    assert real_test_split.images.shape == (10000, 32, 32, 3)
    assert real_test_split.images.dtype == np.uint8
    assert real_test_split.class_counts() == [1000] * 10


@pytest.mark.slow
def test_real_archive_full_load_matches_official_layout(real_archive):
    dataset = load_cifar10(real_archive)
    assert dataset.format == "archive"
    assert len(dataset.train) == 50000 and dataset.train.class_counts() == [5000] * 10
    # Official data_batch_1 image 0 starts with red values 59, 43, 50 (row-major R plane).
    assert dataset.train.images[0, 0, :3, 0].tolist() == [59, 43, 50]
    # First train batch class counts as documented for the official batches.
    assert np.bincount(dataset.train.labels[:10000]).tolist() == [1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981]
    assert dataset.sha256 == hashlib.sha256(real_archive.read_bytes()).hexdigest()


def test_validation_split_is_seeded_stratified_and_disjoint(real_test_split):
    train, val = train_val_split(real_test_split, 1000, seed=3)
    train_again, val_again = train_val_split(real_test_split, 1000, seed=3)
    assert len(train) == 9000 and len(val) == 1000
    assert val.class_counts() == [100] * 10
    assert np.array_equal(val.images, val_again.images)
    _, val_other_seed = train_val_split(real_test_split, 1000, seed=4)
    assert not np.array_equal(val.images, val_other_seed.images)
    joined = np.concatenate([train.images, val.images]).reshape(10000, -1)
    assert len(np.unique(joined, axis=0)) == len(np.unique(real_test_split.images.reshape(10000, -1), axis=0))


# --------------------------------------------------------------------------- bad archives

def test_truncated_archive_is_a_clear_error(real_archive, tmp_path):
    truncated = tmp_path / "cifar-10-python.tar.gz"
    with open(real_archive, "rb") as f:
        truncated.write_bytes(f.read(2_000_000))
    with pytest.raises(CifarEdgeError, match="truncated or corrupt"):
        load_cifar10(truncated)


def test_corrupt_bytes_are_a_clear_error(tmp_path):
    junk = tmp_path / "cifar-10-python.tar.gz"
    junk.write_bytes(os.urandom(4096))
    with pytest.raises(CifarEdgeError, match="not a readable .tar.gz"):
        load_cifar10(junk)


class RunsShellCommand:
    """Unpickling this would run a shell command: the classic pickle attack."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_malicious_pickle_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({b"data": RunsShellCommand(marker), b"labels": []}, protocol=4)
    archive = write_tar_gz(tmp_path / "evil.tar.gz", {"cifar-10-batches-py/test_batch": payload})
    with pytest.raises(CifarEdgeError, match=r"refusing to unpickle (posix|nt|os)\.system"):
        load_cifar10(archive, splits=("test",))
    assert not marker.exists()


@pytest.mark.parametrize("name", ["/etc/test_batch", "cifar-10-batches-py/../../test_batch"])
def test_archive_members_escaping_the_folder_are_refused(tmp_path, real_test_split, name):
    archive = write_tar_gz(tmp_path / "escape.tar.gz",
                           {name: batch_pickle(real_test_split.images[:4], real_test_split.labels[:4])})
    with pytest.raises(CifarEdgeError, match="unsafe path"):
        load_cifar10(archive, splits=("test",))


def test_wrong_shapes_are_a_clear_error(tmp_path, real_test_split):
    bad = pickle.dumps({b"data": real_test_split.images[:4].reshape(4, -1)[:, :1000], b"labels": [0] * 4})
    archive = write_tar_gz(tmp_path / "shape.tar.gz", {"cifar-10-batches-py/test_batch": bad})
    with pytest.raises(CifarEdgeError, match=r"shape \(N, 3072\), got \(4, 1000\)"):
        load_cifar10(archive, splits=("test",))


def test_archive_without_the_batches_says_what_is_missing(tmp_path):
    archive = write_tar_gz(tmp_path / "other.tar.gz", {"readme.txt": b"hello"})
    with pytest.raises(CifarEdgeError, match="lacks test_batch"):
        load_cifar10(archive, splits=("test",))


# --------------------------------------------------------------------------- other layouts

def test_extracted_batches_folder_reads_like_the_archive(tmp_path, real_test_split):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    images, labels = real_test_split.images, real_test_split.labels
    for i, name in enumerate(data.TRAIN_BATCHES):
        (folder / name).write_bytes(batch_pickle(images[i * 20:(i + 1) * 20], labels[i * 20:(i + 1) * 20]))
    (folder / "test_batch").write_bytes(batch_pickle(images[100:130], labels[100:130]))
    dataset = load_cifar10(tmp_path)  # the parent folder works too
    assert dataset.format == "batches"
    assert np.array_equal(dataset.train.images, images[:100])
    assert np.array_equal(dataset.test.labels, labels[100:130])


def write_image_folder(root: Path, split, count: int = 3) -> None:
    for part in ("train", "test"):
        for i in range(count * 10):
            label = int(split.labels[i])
            folder = root / part / CLASSES[label]
            folder.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(folder / f"{i:04d}.png"), cv2.cvtColor(split.images[i], cv2.COLOR_RGB2BGR))


def test_image_folder_loads_pixels_exactly_in_rgb(tmp_path, real_test_split):
    write_image_folder(tmp_path, real_test_split)
    dataset = load_cifar10(tmp_path)
    assert dataset.format == "image-folder" and len(dataset.train) == 30
    # Files are read class by class: find each original image among the loaded ones.
    for i in range(30):
        matches = np.all(dataset.test.images == real_test_split.images[i], axis=(1, 2, 3))
        assert matches.any() and dataset.test.labels[matches.argmax()] == real_test_split.labels[i]


def test_image_folder_unknown_class_is_refused(tmp_path, real_test_split):
    write_image_folder(tmp_path, real_test_split, count=1)
    (tmp_path / "train" / "unicorn").mkdir()
    with pytest.raises(CifarEdgeError, match="unknown class folder.*unicorn"):
        load_cifar10(tmp_path)


def test_image_folder_non_image_file_is_named(tmp_path, real_test_split):
    write_image_folder(tmp_path, real_test_split, count=1)
    fake = tmp_path / "test" / "cat" / "notes.png"
    fake.write_text("this is not a picture")
    with pytest.raises(CifarEdgeError, match="notes.png: not a readable image"):
        load_cifar10(tmp_path)


def test_image_folder_truncated_jpeg_is_named(tmp_path, real_test_split):
    """The data loader reads pictures with the same reader as `predict`, so it catches what that does."""
    write_image_folder(tmp_path, real_test_split, count=1)
    ok, jpeg = cv2.imencode(".jpg", real_test_split.images[0])
    (tmp_path / "test" / "cat" / "cut.jpg").write_bytes(jpeg.tobytes()[:400])
    with pytest.raises(CifarEdgeError, match="cut.jpg: truncated JPEG"):
        load_cifar10(tmp_path)


def test_image_folder_wrong_size_is_refused(tmp_path, real_test_split):
    write_image_folder(tmp_path, real_test_split, count=1)
    (tmp_path / "test" / "dog").mkdir(exist_ok=True)
    cv2.imwrite(str(tmp_path / "test" / "dog" / "big.png"), np.zeros((64, 48, 3), np.uint8))
    with pytest.raises(CifarEdgeError, match="big.png is 48x64"):
        load_cifar10(tmp_path)


# --------------------------------------------------------------------------- finding and downloading

def test_data_option_beats_environment(monkeypatch, tmp_path, real_archive):
    monkeypatch.setenv("CIFAR_EDGE_DATA", str(tmp_path / "nowhere"))
    assert data.resolve_data_path(real_archive) == real_archive
    with pytest.raises(CifarEdgeError, match="CIFAR_EDGE_DATA points to .*nowhere, which does not exist"):
        data.resolve_data_path(None)


def test_cache_folder_is_used_and_offline_error_says_where_to_put_the_file(monkeypatch, tmp_path):
    monkeypatch.delenv("CIFAR_EDGE_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(CifarEdgeError, match=f"put cifar-10-python.tar.gz in {tmp_path / 'cifar-edge'}"):
        data.resolve_data_path(None, download=False)
    cached = tmp_path / "cifar-edge" / "cifar-10-python.tar.gz"
    cached.parent.mkdir()
    cached.write_bytes(b"x")
    assert data.resolve_data_path(None) == cached


@pytest.fixture
def local_server(tmp_path):
    """Serves tmp_path over HTTP on localhost: downloads are tested without the internet."""
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_download_checks_md5_and_writes_atomically(tmp_path, local_server, monkeypatch):
    payload = os.urandom(300_000)
    (tmp_path / "served.tar.gz").write_bytes(payload)
    dest = tmp_path / "cache" / "cifar-10-python.tar.gz"
    good_md5 = hashlib.md5(payload).hexdigest()
    seen_while_downloading = []  # does the final name exist at each read? (a reader must never see half)
    urlopen = data.urllib.request.urlopen

    def watched_urlopen(*args, **kwargs):
        response = urlopen(*args, **kwargs)
        read = response.read
        response.read = lambda *a: (seen_while_downloading.append(dest.exists()), read(*a))[1]
        return response

    monkeypatch.setattr(data.urllib.request, "urlopen", watched_urlopen)
    with pytest.raises(CifarEdgeError, match="expected 0+; nothing was saved"):
        data.download_archive(dest, f"{local_server}/served.tar.gz", md5="0" * 32, progress=False)
    assert list(dest.parent.iterdir()) == []  # no partial file left behind
    assert data.download_archive(dest, f"{local_server}/served.tar.gz", md5=good_md5, progress=False) == dest
    assert dest.read_bytes() == payload
    assert seen_while_downloading and not any(seen_while_downloading)


def test_download_offline_is_a_clear_error(tmp_path, local_server):
    dest = tmp_path / "cache" / "cifar-10-python.tar.gz"
    with pytest.raises(CifarEdgeError, match="could not download .* put cifar-10-python.tar.gz in"):
        data.download_archive(dest, f"{local_server}/missing.tar.gz", progress=False)
    assert list(dest.parent.iterdir()) == []
