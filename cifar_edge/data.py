"""CIFAR-10 on disk -> uint8 arrays in memory, safely.

Three layouts are read:
  * the official `cifar-10-python.tar.gz` archive (read in place, nothing is extracted),
  * its extracted `cifar-10-batches-py/` folder,
  * an image-folder tree `ROOT/{train,test}/<class>/*.png|jpg` of 32x32 images, for your own data.

The batches are pickles, and unpickling runs code, so they go through an unpickler that only knows
the three globals the official files use (numpy's array reconstruction, ndarray and dtype).
Where the data is found: `--data PATH`, else `$CIFAR_EDGE_DATA`, else `~/.cache/cifar-edge/`, where
the official archive is downloaded (MD5-checked, written atomically) when it is missing.
Every failure is a `CifarEdgeError` with a one-line message.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
import tempfile
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from cifar_edge.contract import CHANNELS, CLASSES, INPUT_SIZE
from cifar_edge.errors import CifarEdgeError
from cifar_edge.images import SUFFIXES as IMAGE_SUFFIXES, read_rgb
OFFICIAL_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
OFFICIAL_MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
BATCHES_DIR = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
PIXELS = CHANNELS * INPUT_SIZE * INPUT_SIZE  # one row of a batch: 3072 values


@dataclass(frozen=True)
class Split:
    images: np.ndarray  # (N, INPUT_SIZE, INPUT_SIZE, 3) uint8 RGB
    labels: np.ndarray  # (N,) int64 in 0..9

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, index) -> "Split":
        return Split(self.images[index], self.labels[index])

    def class_counts(self) -> list[int]:
        return np.bincount(self.labels, minlength=len(CLASSES)).tolist()


@dataclass(frozen=True)
class Dataset:
    train: Split
    test: Split
    source: Path
    format: str  # "archive", "batches" or "image-folder"
    sha256: str  # of the archive file, else of the decoded arrays


# --------------------------------------------------------------------------- finding the data

def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cifar-edge"


def resolve_data_path(data: str | os.PathLike | None = None, download: bool = True) -> Path:
    """`data`, else $CIFAR_EDGE_DATA, else the cache folder (downloading the archive into it)."""
    for given, origin in ((data, "--data"), (os.environ.get("CIFAR_EDGE_DATA"), "CIFAR_EDGE_DATA")):
        if given:
            path = Path(given).expanduser()
            if not path.exists():
                raise CifarEdgeError(f"{origin} points to {path}, which does not exist")
            return path
    cache = default_cache_dir()
    for candidate in (cache / ARCHIVE_NAME, cache / BATCHES_DIR):
        if candidate.exists():
            return candidate
    if not download:
        raise CifarEdgeError(f"no CIFAR-10 found: pass --data PATH, set CIFAR_EDGE_DATA, or put "
                             f"{ARCHIVE_NAME} in {cache}")
    return download_archive(cache / ARCHIVE_NAME)


def download_archive(dest: Path, url: str = OFFICIAL_URL, md5: str = OFFICIAL_MD5,
                     progress: bool = True) -> Path:
    """Downloads `url` to `dest` with a progress bar; the file appears only once its MD5 matches."""
    from tqdm import tqdm

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        digest = hashlib.md5()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=30) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"downloading {dest.name}",
                      disable=not progress) as bar:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        if digest.hexdigest() != md5:
            raise CifarEdgeError(f"download from {url} has MD5 {digest.hexdigest()}, expected {md5}; "
                                 "nothing was saved")
        os.replace(tmp, dest)
        return dest
    except OSError as exc:  # URLError, timeouts and refused connections are all OSErrors
        raise CifarEdgeError(f"could not download CIFAR-10 from {url} ({exc}); download it yourself "
                             f"and put {ARCHIVE_NAME} in {dest.parent}, or pass --data PATH") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# --------------------------------------------------------------------------- safe unpickling

def _numpy_reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


class _CifarUnpickler(pickle.Unpickler):
    """Resolves only the globals the official CIFAR-10 pickles reference; refuses everything else
    before it can run."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct,  # written by numpy 1.x
        ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct,  # written by numpy 2.x
        ("numpy", "ndarray"): lambda: np.ndarray,
        ("numpy", "dtype"): lambda: np.dtype,
    }

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise CifarEdgeError(f"refusing to unpickle {module}.{name}: a CIFAR-10 batch only holds "
                                 "numpy arrays, lists and strings (is this file tampered with?)")
        return self._ALLOWED[(module, name)]()


def unpickle_batch(raw: bytes, name: str) -> dict:
    try:
        batch = _CifarUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except CifarEdgeError:
        raise
    except Exception as exc:
        raise CifarEdgeError(f"{name} is not a readable CIFAR-10 batch ({type(exc).__name__}: {exc})") from None
    if not isinstance(batch, dict):
        raise CifarEdgeError(f"{name} is not a CIFAR-10 batch (a {type(batch).__name__}, not a dict)")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in batch.items()}


def split_from_batches(batches: list[dict], names: list[str]) -> Split:
    images, labels = [], []
    for batch, name in zip(batches, names):
        data, batch_labels = batch.get("data"), batch.get("labels")
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != PIXELS:
            shape = getattr(data, "shape", None)
            raise CifarEdgeError(f"{name}: 'data' must be a uint8 array of shape (N, {PIXELS}), got {shape}")
        batch_labels = np.asarray(batch_labels, dtype=np.int64)
        if batch_labels.shape != (len(data),) or batch_labels.min() < 0 or batch_labels.max() >= len(CLASSES):
            raise CifarEdgeError(f"{name}: 'labels' must be {len(data)} integers in 0..{len(CLASSES) - 1}")
        # Rows are 1024 R, 1024 G, 1024 B values, each plane row-major.
        images.append(data.reshape(-1, CHANNELS, INPUT_SIZE, INPUT_SIZE).transpose(0, 2, 3, 1))
        labels.append(batch_labels)
    return Split(np.ascontiguousarray(np.concatenate(images)), np.concatenate(labels))


# --------------------------------------------------------------------------- the three layouts

def _safe_member_name(name: str, archive: Path) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise CifarEdgeError(f"{archive} holds a member with an unsafe path ({name!r}); refusing it")
    return path


def read_archive_batches(archive: Path, wanted: set[str]) -> dict[str, bytes]:
    """Raw bytes of the wanted batch files, read straight from the .tar.gz without extracting."""
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                path = _safe_member_name(member.name, archive)
                if member.isfile() and path.name in wanted and path.name not in found:
                    found[path.name] = tar.extractfile(member).read()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise CifarEdgeError(f"{archive} is not a readable .tar.gz (truncated or corrupt: {exc})") from None
    missing = sorted(wanted - found.keys())
    if missing:
        raise CifarEdgeError(f"{archive} lacks {', '.join(missing)}: is it cifar-10-python.tar.gz?")
    return found


def read_folder_batches(folder: Path, wanted: set[str]) -> dict[str, bytes]:
    missing = sorted(name for name in wanted if not (folder / name).is_file())
    if missing:
        raise CifarEdgeError(f"{folder} lacks {', '.join(missing)}: is it cifar-10-batches-py/?")
    return {name: (folder / name).read_bytes() for name in wanted}


def read_image(path: Path) -> np.ndarray:
    """One image of an image-folder dataset: read as any picture is, and exactly the model's size."""
    image = read_rgb(path)
    if image.shape[:2] != (INPUT_SIZE, INPUT_SIZE):
        raise CifarEdgeError(f"{path} is {image.shape[1]}x{image.shape[0]}; CIFAR-10 images are "
                             f"{INPUT_SIZE}x{INPUT_SIZE}")
    return image


def load_image_split(folder: Path) -> Split:
    if not folder.is_dir():
        raise CifarEdgeError(f"{folder} is missing: an image-folder dataset needs train/ and test/")
    unknown = sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name not in CLASSES)
    if unknown:
        raise CifarEdgeError(f"{folder} has unknown class folder(s) {', '.join(unknown)}; "
                             f"expected some of: {', '.join(CLASSES)}")
    files = [(path, label) for label, name in enumerate(CLASSES) if (folder / name).is_dir()
             for path in sorted((folder / name).iterdir()) if path.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise CifarEdgeError(f"{folder} holds no images ({', '.join(IMAGE_SUFFIXES)}) in class folders")
    images = np.stack([read_image(path) for path, _ in files])
    return Split(images, np.array([label for _, label in files], dtype=np.int64))


def detect_format(path: Path) -> str:
    if path.is_file():
        return "archive"
    if (path / "test_batch").is_file() or (path / BATCHES_DIR).is_dir():
        return "batches"
    if (path / "train").is_dir() or (path / "test").is_dir():
        return "image-folder"
    raise CifarEdgeError(f"{path} is neither {ARCHIVE_NAME}, a {BATCHES_DIR}/ folder, "
                         "nor an image folder with train/ and test/")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def arrays_sha256(*splits: Split) -> str:
    digest = hashlib.sha256()
    for split in splits:
        digest.update(split.images.tobytes())
        digest.update(split.labels.tobytes())
    return digest.hexdigest()


def load_cifar10(path: str | os.PathLike | None = None, splits=("train", "test")) -> Dataset:
    """Loads CIFAR-10 from `path` (see `resolve_data_path` when None).  `splits` may leave out
    "train" to read only the test batch (fast, for checks); the missing split is then empty."""
    path = resolve_data_path(path)
    fmt = detect_format(path)
    if fmt == "image-folder":
        loaded = {s: load_image_split(path / s) for s in splits}
    else:
        names = {"train": list(TRAIN_BATCHES), "test": ["test_batch"]}
        wanted = {n for s in splits for n in names[s]}
        if fmt == "archive":
            raw = read_archive_batches(path, wanted)
        else:
            folder = path / BATCHES_DIR if (path / BATCHES_DIR).is_dir() else path
            raw = read_folder_batches(folder, wanted)
        loaded = {s: split_from_batches([unpickle_batch(raw[n], n) for n in names[s]], names[s])
                  for s in splits}
    empty = Split(np.zeros((0, INPUT_SIZE, INPUT_SIZE, CHANNELS), np.uint8), np.zeros((0,), np.int64))
    train, test = loaded.get("train", empty), loaded.get("test", empty)
    sha = file_sha256(path) if fmt == "archive" else arrays_sha256(train, test)
    return Dataset(train, test, path, fmt, sha)


def write_samples(split: Split, out: Path, count: int, force: bool = False) -> list[Path]:
    """The first `count` images of `split` as PNG files named <index>_<class>.png: pictures to try
    `cifar-edge predict` on, with the right answer in the name."""
    import cv2

    from cifar_edge.files import write_atomically

    if not 1 <= count <= len(split):
        raise CifarEdgeError(f"--count must be between 1 and {len(split)}, got {count}")
    paths = [Path(out) / f"{i:05d}_{CLASSES[split.labels[i]]}.png" for i in range(count)]
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise CifarEdgeError(f"{existing[0]} already exists: use --force to overwrite")
    for i, path in enumerate(paths):
        bgr = cv2.cvtColor(split.images[i], cv2.COLOR_RGB2BGR)
        write_atomically(path, lambda tmp, image=bgr: cv2.imwrite(tmp, image))
    return paths


def train_val_split(split: Split, val_size: int, seed: int) -> tuple[Split, Split]:
    """A seeded, class-stratified hold-out of `val_size` training images for tuning decisions."""
    if not 0 <= val_size < len(split):
        raise CifarEdgeError(f"--val-size must be between 0 and {len(split) - 1}, got {val_size}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(split))
    # Stratify: take the first val_size of the shuffled order after sorting it by class round-robin.
    rank = np.empty(len(split), np.int64)
    for c in range(len(CLASSES)):
        members = order[split.labels[order] == c]
        rank[members] = np.arange(len(members)) * len(CLASSES) + c
    by_rank = np.argsort(rank, kind="stable")
    val_idx, train_idx = np.sort(by_rank[:val_size]), np.sort(by_rank[val_size:])
    return split.take(train_idx), split.take(val_idx)
