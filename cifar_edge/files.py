"""Writing results safely: every artifact is written to a temporary file beside it and renamed over
the target, so a reader (or a run killed halfway) never sees half a file.  Imports no TensorFlow."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, write) -> None:
    """Calls `write(tmp_path)` then renames the result over `path`: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp's files are private; a result is not
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: Path, data) -> None:
    write_atomically(path, lambda tmp: Path(tmp).write_text(json.dumps(data, indent=2) + "\n"))


def read_json(path: Path):
    return json.loads(Path(path).read_text())


def write_csv(path: Path, rows: list[dict]) -> None:
    """`rows` as a CSV file with a header line naming every key of any row, in first-seen order (a
    resumed run's older rows may lack a column its newer ones have; their cells stay empty)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))

    def write(tmp):
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    write_atomically(path, write)
