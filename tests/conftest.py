"""Shared fixtures: the real CIFAR-10 archive (never copied into the project) and small real slices."""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import subprocess
import sys
import tarfile
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_ARCHIVE = REPO.parent / "shared" / "data" / "cifar-10-python.tar.gz"


def pytest_collection_modifyitems(items):
    """A test that needs a trained model (the shared smoke run) or trains one is slow: `make test-fast`
    leaves those out."""
    for item in items:
        if {"smoke_run", "exported", "scored"} & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)


def missing(reason: str):
    """Something a test needs is not here: a skip on a developer's machine, but a failure in CI (where
    `CI` is set, and `make test` has installed everything): a CI run must never pass with tests skipped."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


def real_archive_path() -> Path:
    """The archive, else `missing`."""
    path = Path(os.environ.get("CIFAR_EDGE_DATA") or SHARED_ARCHIVE)
    if not path.exists():
        missing(f"the real CIFAR-10 archive is not at {path}: set CIFAR_EDGE_DATA")
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
    from cifar_edge.train import make_config
    from cifar_edge.train.trainer import train

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


def cli(*args) -> subprocess.CompletedProcess:
    """Runs `cifar-edge ARGS` through its real entry point, `cifar_edge.cli.main` (which turns errors into
    one line and an exit code), in this process: its exit code, stdout and stderr.  In-process because
    every new process pays TensorFlow's start-up again (6-8 s on a slow CPU); `cli_process` is the real
    thing, for the few tests that need a process of their own."""
    from cifar_edge.cli import main

    argv = ["cifar-edge", *map(str, args)]
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.object(sys, "argv", argv), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def cli_process(*args, **kwargs) -> subprocess.CompletedProcess:
    """Runs `python -m cifar_edge ARGS` in a process of its own, as a user would."""
    return subprocess.run([sys.executable, "-m", "cifar_edge", *map(str, args)], capture_output=True,
                          text=True, **kwargs)


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
