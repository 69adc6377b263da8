"""Where the released model lives: `models/` of the source tree, or inside the installed package.

`cifar-edge predict`, `camera` and `benchmark` fall back to it when no `--model` is given, so a
Raspberry Pi user can classify pictures without training anything.
"""

from __future__ import annotations

from pathlib import Path

from cifar_edge.errors import CifarEdgeError

RELEASED_NAME = "cifar_edge_int8.tflite"


def released_model_path(name: str = RELEASED_NAME) -> Path:
    package_copy = Path(__file__).resolve().parent.parent / "models" / name
    checkout_copy = Path(__file__).resolve().parents[2] / "models" / name
    for path in (package_copy, checkout_copy):
        if path.is_file():
            return path
    raise CifarEdgeError(f"no --model given and no released model at {checkout_copy}: "
                         "pass --model FILE (made by `cifar-edge export`)")
