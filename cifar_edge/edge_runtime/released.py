"""Where the released model lives: the package data `cifar_edge.models` (the repository's models/,
mapped into the package by pyproject.toml; made by `cifar-edge release`).

`cifar-edge predict`, `camera` and `benchmark` fall back to it when no `--model` is given, so a
Raspberry Pi user can classify pictures without training anything.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from cifar_edge.contract import RELEASED_MODEL
from cifar_edge.errors import CifarEdgeError


def released_model_path(name: str = RELEASED_MODEL) -> Path:
    try:
        installed = Path(str(resources.files("cifar_edge.models") / name))
    except ModuleNotFoundError:  # a checkout put on sys.path by hand, not pip-installed
        installed = None
    checkout = Path(__file__).resolve().parents[2] / "models" / name
    for path in (installed, checkout):
        if path is not None and path.is_file():
            return path
    raise CifarEdgeError(f"no --model given and no released model {name} installed: "
                         "pass --model FILE (made by `cifar-edge export`)")
