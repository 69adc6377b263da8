"""Shared fixtures: the real CIFAR-10 archive (never copied into the project) and small real slices."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_ARCHIVE = REPO.parent / "shared" / "data" / "cifar-10-python.tar.gz"


def real_archive_path() -> Path:
    path = Path(os.environ.get("CIFAR_EDGE_DATA") or SHARED_ARCHIVE)
    if not path.exists():
        pytest.skip(f"the real CIFAR-10 archive is not at {path}: set CIFAR_EDGE_DATA")
    return path


@pytest.fixture(scope="session")
def real_archive() -> Path:
    return real_archive_path()


@pytest.fixture(scope="session")
def real_test_split(real_archive):
    from cifar_edge.data import load_cifar10

    return load_cifar10(real_archive, splits=("test",)).test


@pytest.fixture(scope="session")
def smoke_run(real_archive, tmp_path_factory):
    """One finished smoke-preset run (a tiny net, seconds), shared by the training and export tests."""
    from cifar_edge.train import make_config, train

    run_dir = tmp_path_factory.mktemp("runs") / "smoke"
    metrics = train(make_config("smoke"), data=real_archive, run_dir=run_dir, progress=False)
    return run_dir, metrics


@pytest.fixture(scope="session")
def exported(smoke_run, real_archive, tmp_path_factory):
    """The smoke run exported to every format: (run_dir, export_dir, model card)."""
    from cifar_edge.export import export

    run_dir, _ = smoke_run
    out = tmp_path_factory.mktemp("exports") / "smoke"
    card = export(run_dir, out=out, calib=100, data=real_archive, progress=False)
    return run_dir, out, card


def cli(*args, env=None, **kwargs) -> subprocess.CompletedProcess:
    """Runs `python -m cifar_edge ARGS` as a user would, capturing its output."""
    return subprocess.run([sys.executable, "-m", "cifar_edge", *map(str, args)], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, **kwargs)


def batch_pickle(images: np.ndarray, labels, label: bytes = b"slice") -> bytes:
    """A batch in the official layout: byte-string keys, planar uint8 rows.  Protocol 4, because
    Python 3 writes bytes under protocol 2 through `_codecs.encode`, which the official files (written
    by Python 2) never use and the safe loader rightly refuses."""
    data = images.transpose(0, 3, 1, 2).reshape(len(images), 3072)
    batch = {b"batch_label": label, b"labels": [int(x) for x in labels], b"data": data,
             b"filenames": [b"x.png"] * len(images)}
    return pickle.dumps(batch, protocol=4)


def write_tar_gz(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path
