"""The export formats, one row each, in the manner of Ultralytics' `export_formats()`.

Export, compare, release and the benchmarks read this table; nothing branches on a format's name.
Adding a format is one row here plus its converter in `export/exporter.py` (a test checks that every
row has one).  A file's suffix decides which interpreter runs it (RUNTIMES); the device side
(`edge_runtime`) reads only that column.  Imports nothing beyond the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from cifar_edge.errors import CifarEdgeError

# File suffix -> the interpreter a device runs it with (`edge_runtime.backends` implements each).
RUNTIMES = {".tflite": "LiteRT", ".onnx": "ONNX Runtime"}
# The calibrated formats' activation ranges cover this percentile of the calibration values (the
# default of `export --calib-percentile`): chosen on held-out images by benchmarks/int8_calibration.py.
DEFAULT_PERCENTILE = 99.99


@dataclass(frozen=True)
class Format:
    name: str          # what --formats and the tables call it
    file: str          # its file name in an export folder
    precision: str     # weights / activations, for people
    quantized: bool    # holds int8 weights
    calibrated: bool   # static int8: its activation ranges come from calibration images
    full_integer: bool  # every tensor must be an integer; `compare` checks it in the file itself

    @property
    def suffix(self) -> str:
        return PurePath(self.file).suffix

    @property
    def runtime(self) -> str:
        return RUNTIMES[self.suffix]


# The order is the order of `compare`'s table.
FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("tflite-fp32", "model_fp32.tflite", "fp32", quantized=False, calibrated=False, full_integer=False),
    Format("tflite-fp16", "model_fp16.tflite", "fp16 weights, fp32 compute", quantized=False, calibrated=False,
           full_integer=False),
    Format("tflite-dynamic", "model_dynamic.tflite", "int8 weights, fp32 activations", quantized=True,
           calibrated=False, full_integer=False),
    Format("tflite-int8", "model_int8.tflite", "int8, uint8 input", quantized=True, calibrated=True,
           full_integer=True),
    Format("onnx-fp32", "model_fp32.onnx", "fp32", quantized=False, calibrated=False, full_integer=False),
    Format("onnx-int8", "model_int8.onnx", "int8 QDQ, per-channel weights", quantized=True, calibrated=True,
           full_integer=False),
)}


def parse_formats(text: str | None) -> list[Format]:
    """'all' (or nothing) or a comma-separated list of names -> those formats, in table order."""
    if not text or text == "all":
        return list(FORMATS.values())
    chosen = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in FORMATS]
    if unknown:
        raise CifarEdgeError(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    return [f for f in FORMATS.values() if f.name in chosen]


def runtime_for(path: str | PurePath) -> str:
    """The interpreter that runs a model file, by its suffix."""
    suffix = PurePath(path).suffix
    if suffix not in RUNTIMES:
        raise CifarEdgeError(f"{path}: expected a {' or '.join(RUNTIMES)} file made by `cifar-edge export`")
    return RUNTIMES[suffix]


def formats_table() -> str:
    """The table `cifar-edge formats` prints."""
    rows = [("format", "file", "runtime", "precision", "calibrated", "full-integer")]
    rows += [(f.name, f.file, f.runtime, f.precision, "yes" if f.calibrated else "no",
              "yes" if f.full_integer else "no") for f in FORMATS.values()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)
