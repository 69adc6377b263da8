"""The interpreters a device runs exported models with, behind one tiny interface.

The formats table (`cifar_edge.formats.RUNTIMES`) says which interpreter runs a file, by its suffix:
LiteRT (`ai-edge-litert`, a base dependency, else the older `tflite-runtime`; never TensorFlow's
bundled interpreter, so this side never imports TensorFlow) or ONNX Runtime.  Each backend takes a
uint8 NHWC batch and returns float32 scores (an int8 output is dequantized here, with the scale and
zero point stored in the file) and exposes the file's own metadata.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cifar_edge.edge_runtime.model_info import onnx_metadata, read_tflite_metadata
from cifar_edge.errors import CifarEdgeError
from cifar_edge.formats import runtime_for


def tflite_interpreter_class():
    """The best TFLite interpreter installed, or an error naming the package to install."""
    try:
        from ai_edge_litert.interpreter import Interpreter
        return Interpreter
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter
        return Interpreter
    except ImportError:
        raise CifarEdgeError("running .tflite models needs a TFLite interpreter: "
                             "pip install ai-edge-litert") from None


def open_onnx_session(path: Path, threads: int):
    try:
        import onnxruntime as ort
    except ImportError:
        raise CifarEdgeError("running .onnx models needs ONNX Runtime: pip install onnxruntime") from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # ORT warns about every unused initializer otherwise
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ORT raises its own Fail/InvalidProtobuf types
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CifarEdgeError(f"{path} is not a loadable ONNX model (truncated or corrupt?): {first_line}") from exc


class TFLiteBackend:
    def __init__(self, path: Path, threads: int):
        data = path.read_bytes()
        self.metadata = read_tflite_metadata(data, str(path))  # also: a clear error for a truncated file
        try:
            self.interpreter = tflite_interpreter_class()(model_content=data, num_threads=threads)
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise CifarEdgeError(f"{path} is not a loadable TFLite model (truncated or corrupt?): {exc}") from exc
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.input_dtype = np.dtype(self.input["dtype"])
        scale = self.output["quantization"][0]
        # The size of one step of an int8 output, in logits (None for a float output).
        self.output_step = float(scale) if np.dtype(self.output["dtype"]) != np.float32 and scale else None
        self.batch = None

    def run(self, images: np.ndarray) -> np.ndarray:
        if len(images) != self.batch:  # resizing re-plans memory: only when the batch size changes
            self.interpreter.resize_tensor_input(self.input["index"], list(images.shape))
            self.interpreter.allocate_tensors()
            self.batch = len(images)
        self.interpreter.set_tensor(self.input["index"], images.astype(self.input_dtype, copy=False))
        self.interpreter.invoke()
        out = self.interpreter.get_tensor(self.output["index"])
        scale, zero_point = self.output["quantization"]
        if out.dtype != np.float32 and scale:
            out = (out.astype(np.float32) - zero_point) * scale
        return out.astype(np.float32, copy=False)


class ONNXBackend:
    def __init__(self, path: Path, threads: int):
        self.session = open_onnx_session(path, threads)
        self.input_name = self.session.get_inputs()[0].name
        self.metadata = onnx_metadata(self.session)
        self.output_step = None  # the int8 ONNX file dequantizes its output: always float

    def run(self, images: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: images})[0].astype(np.float32, copy=False)


BACKENDS = {"LiteRT": TFLiteBackend, "ONNX Runtime": ONNXBackend}  # keyed by formats.RUNTIMES


def open_backend(path: str | Path, threads: int = 1):
    """The interpreter for the model file at `path`, loaded and ready."""
    path = Path(path)
    runtime = runtime_for(path)
    if not path.is_file():
        raise CifarEdgeError(f"model file {path} does not exist")
    return BACKENDS[runtime](path, threads)


def read_model_info(path: str | Path) -> dict | None:
    """The `cifar_edge` metadata of an exported .tflite or .onnx file, or None if it has none."""
    return open_backend(path).metadata
