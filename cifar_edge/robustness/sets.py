"""The corrupted test sets `cifar-edge robustness` scores, made once and cached.

A set is every test image under one corruption at one severity (`corruptions.corrupt`, seeded per
corruption and severity).  Making all 90 for 10,000 images takes a few minutes; scoring a second
model, or the same one again, should not.  So each set is saved as a .npy file under
`~/.cache/cifar-edge/corrupted/` (`$XDG_CACHE_HOME` moves it), in a folder named by what decides its
pixels: the data archive's SHA-256, the split and number of images, the seed and a hash of the
corruption code.
Editing `corruptions.py` therefore makes new sets instead of reusing stale ones.  A cached file that
is unreadable or of the wrong shape is made again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

import numpy as np

from cifar_edge.data import default_cache_dir
from cifar_edge.errors import CifarEdgeError
from cifar_edge.files import write_atomically
from cifar_edge.robustness import corruptions


def corruption_code_hash() -> str:
    return hashlib.sha256(Path(corruptions.__file__).read_bytes()).hexdigest()[:12]


def cache_folder(data_sha256: str, count: int, seed: int, split: str = "test") -> Path:
    """Where the sets of the first `count` images of `split` live (validation sets are training
    images: they must not share a folder with test sets of the same size)."""
    return (default_cache_dir() / "corrupted"
            / f"{data_sha256[:16]}-{split}-{count}img-seed{seed}-code{corruption_code_hash()}")


def saved_or_made(path: Path | None, fits: Callable[[np.ndarray], bool], make: Callable[[], np.ndarray]) -> np.ndarray:
    """The array saved at `path` when it is readable and `fits`; else `make()`, saved there atomically.
    A file cut short by a killed run, or of the wrong shape, is made again."""
    if path is not None and path.is_file():
        try:
            saved = np.load(path)
        except (OSError, ValueError):
            saved = None
        if saved is not None and fits(saved):
            return saved
    made = make()
    if path is not None:
        def save(tmp):
            with open(tmp, "wb") as f:
                np.save(f, made)
        write_atomically(path, save)
    return made


def corrupted_set(images: np.ndarray, name: str, severity: int, seed: int, folder: Path | None) -> np.ndarray:
    """`images` under corruption `name` at `severity`, from the cache `folder` when it holds them."""
    def make() -> np.ndarray:
        try:
            return corruptions.corrupt(images, name, severity, seed)
        except CifarEdgeError:
            raise
        except Exception as error:  # a corruption meeting input it was not written for: say which, no traceback
            raise CifarEdgeError(f"corruption {name} at severity {severity} failed on the {len(images)} test "
                                 f"images: {type(error).__name__}: {error}") from error

    return saved_or_made(folder / f"{name}-{severity}.npy" if folder else None,
                         lambda saved: saved.shape == images.shape and saved.dtype == np.uint8, make)
