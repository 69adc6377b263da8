"""The contract between a model and everything that feeds it, defined once.

    any picture or camera frame (RGB, any size)
        --resize policy-->  uint8 RGB, height x width (NHWC)
        --the model-->      one logit per class, in CLASSES order

Training builds the network from these constants; export reads the contract back off the model it
converts and writes it into every file's metadata (under METADATA_KEY); the runtime reads it from the
file, the way timm's `resolve_data_config` reads a model's own data config, so a device needs no
training code to feed a model correctly.  Pixel normalisation (MEAN, STD) is inside the model's graph:
what crosses the file boundary is raw uint8 RGB.  Nothing here imports more than the standard library.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
INPUT_SIZE = 32  # CIFAR-10 images are 32x32; the network's input is exactly that
CHANNELS = 3

# Per-channel mean and standard deviation of the CIFAR-10 training pixels on the 0..1 scale.  The
# model subtracts and divides by them in its first layers.
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)
MEAN_PIXEL = tuple(round(255 * m) for m in MEAN)  # (125, 123, 114): the average colour, as uint8

# The key of the JSON document every exported file carries (a .tflite metadata entry, an ONNX
# metadata_props entry): labels, this contract, model version, format and source hash.
METADATA_KEY = "cifar_edge"

# What `cifar-edge release` publishes (format -> file name in models/): the int8 model for each device
# runtime, and the float ONNX file as the reference it is checked against.  The first is the file
# `predict`, `camera` and `benchmark` use when no --model is given: the only one the wheel carries.
RELEASED_FILES = {"tflite-int8": "cifar_edge_int8.tflite", "onnx-int8": "cifar_edge_int8.onnx",
                  "onnx-fp32": "cifar_edge_fp32.onnx"}
RELEASED_MODEL = RELEASED_FILES["tflite-int8"]
# The device budget for the released int8 file: the standard network's 2.0 MB fits, `wide`'s 4.7 MB not.
MAX_RELEASE_MB = 2.5


@dataclass(frozen=True)
class ResizePolicy:
    """How a picture of any size becomes the model's input (`edge_runtime.preprocess` applies it).

    Cropping the centred square keeps objects undistorted (a 640x480 frame loses its sides, not its
    proportions).  Shrinking averages every source pixel into the small image (area interpolation),
    which is what a sensor does with a scene further away; bilinear would alias a large frame.
    """
    crop: str = "center-square"
    shrink: str = "area"
    enlarge: str = "linear"


@dataclass(frozen=True)
class InputContract:
    height: int = INPUT_SIZE
    width: int = INPUT_SIZE
    channels: int = CHANNELS
    dtype: str = "uint8"
    layout: str = "NHWC"
    color: str = "RGB"
    range: tuple[int, int] = (0, 255)
    mean: tuple[float, ...] = MEAN  # applied inside the model, recorded for readers of the file
    std: tuple[float, ...] = STD
    resize: ResizePolicy = field(default_factory=ResizePolicy)

    @property
    def shape(self) -> tuple[int, int, int]:
        """One image, as the model takes it (H, W, C)."""
        return (self.height, self.width, self.channels)

    def to_dict(self) -> dict:
        """As stored in a file's metadata (JSON: tuples become lists)."""
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict | None) -> "InputContract":
        """The contract a file's metadata states.  Keys it lacks (files exported before they were
        recorded) take this version's values; keys it does not know are ignored."""
        data = data or {}
        known = {f.name for f in fields(cls)}
        values = {key: tuple(value) if isinstance(value, list) else value
                  for key, value in data.items() if key in known and key != "resize"}
        resize_keys = {f.name for f in fields(ResizePolicy)}
        resize = ResizePolicy(**{k: v for k, v in (data.get("resize") or {}).items() if k in resize_keys})
        return cls(**values, resize=resize)

    @classmethod
    def from_metadata(cls, info: dict | None) -> "InputContract":
        """The contract in a model file's metadata (see METADATA_KEY); a file without any gets this one."""
        return cls.from_dict((info or {}).get("input"))


DEFAULT_CONTRACT = InputContract()
