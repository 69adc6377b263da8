"""Keras model -> .onnx: float32 with tf2onnx (`convert_fp32`), int8 with ONNX Runtime's static
quantization of that float file (`convert_int8`); each takes the exporter's `Conversion`.

The int8 file is QDQ format with per-channel weights, calibrated on the same training images as the
TFLite int8 file, so the two quantized formats are comparable.  Each GELU is one ONNX `Gelu` node
(opset 20) in both files: see `fuse_gelu` for why that makes the int8 file fast.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import numpy as np

CONVERTER_OPSET = 17  # what tf2onnx writes (1.17 goes up to 18; Gelu came in 20)
OPSET = 20  # the files': the first with a Gelu op
_ERFC_REGISTERED = False


def register_erfc():
    """Teaches tf2onnx TensorFlow's Erfc, as erfc(x) = 1 - erf(x).

    Keras' exact GELU is 0.5 * x * erfc(-x / sqrt(2)), and tf2onnx 1.17 copies Erfc into the graph
    unconverted: ONNX has no such op, so ONNX Runtime refuses the file.  The rewrite loses nothing
    that matters here: where erfc is tiny, GELU's output is ~0 either way.
    """
    global _ERFC_REGISTERED
    if _ERFC_REGISTERED:
        return
    from tf2onnx import utils
    from tf2onnx.handler import tf_op

    @tf_op("Erfc")
    class Erfc:  # noqa: F841  (registered by the decorator)
        @classmethod
        def version_9(cls, ctx, node, **kwargs):
            dtype = ctx.get_dtype(node.input[0])
            one = ctx.make_const(utils.make_name("erfc_one"), np.array(1, utils.map_onnx_to_numpy_type(dtype)))
            node.type = "Erf"
            one_minus = ctx.insert_new_node_on_output("Sub", node.output[0], name=utils.make_name("erfc"))
            ctx.replace_inputs(one_minus, [one.output[0], node.output[0]])
            ctx.set_dtype(one_minus.output[0], dtype)
            ctx.copy_shape(node.output[0], one_minus.output[0])

    _ERFC_REGISTERED = True


def convert_fp32(conversion) -> bytes:
    """Float32 ONNX with a uint8 input `image` and an output `logits`, batch size left open (made once
    per conversion: the int8 file is quantized from it)."""
    return conversion.once("onnx-fp32", lambda: keras_to_onnx(conversion.model))


def convert_int8(conversion) -> bytes:
    return quantize_int8(convert_fp32(conversion), conversion.calibration_images, conversion.percentile)


def keras_to_onnx(model) -> bytes:
    return fuse_gelu(keras_to_onnx_unfused(model))


def keras_to_onnx_unfused(model):
    """The ModelProto tf2onnx writes, GELUs still spelt out (benchmarks/onnx_gelu.py's baseline)."""
    import tf2onnx
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    from cifar_edge.export.to_tflite import uint8_signature

    register_erfc()
    # Freeze first: the normalisation constants are captured tensors, which tf2onnx's from_function
    # would turn into extra graph inputs.
    frozen = convert_variables_to_constants_v2(uint8_signature(model)[1])
    (image,), (logits,) = [t.name for t in frozen.inputs], [t.name for t in frozen.outputs]
    proto, _ = tf2onnx.convert.from_graph_def(frozen.graph.as_graph_def(), input_names=[image],
                                              output_names=[logits], opset=CONVERTER_OPSET,
                                              tensors_to_rename={image: "image", logits: "logits"})
    return proto


def fuse_gelu(proto):
    """The float graph, raised to opset 20, with every exact GELU as one `Gelu` node.

    tf2onnx writes Keras' exact GELU as six elementwise ops, 0.5 * x * (1 - erf(-x / sqrt(2))) (the
    last three from `register_erfc`).  ONNX Runtime's static quantization wraps each of them in
    QuantizeLinear/DequantizeLinear, so the int8 file spent its time converting tensors between int8
    and float and ran no faster than the float one (2.07 against 2.60 ms per image).  It leaves a
    `Gelu` node in float with one conversion pair around it.  ONNX Runtime's own GELU fusion
    (onnxruntime.transformers) knows only the 1 + erf(x / sqrt(2)) form, hence this small matcher.
    """
    import onnx
    from onnx import helper, numpy_helper, version_converter

    proto = version_converter.convert_version(proto, OPSET)
    graph = proto.graph
    constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    def constant_input(node, value) -> str | None:
        """The input of `node` that is not the constant `value`, if the other one is."""
        a, b = node.input
        for const, other in ((a, b), (b, a)):
            if const in constants and constants[const].size == 1 and np.isclose(constants[const].item(), value):
                return other
        return None

    def only_consumer(name: str, op_type: str):
        users = consumers.get(name, [])
        return users[0] if len(users) == 1 and users[0].op_type == op_type else None

    replaced, fused = set(), {}
    for erf in (n for n in graph.node if n.op_type == "Erf"):
        scaled = producer.get(erf.input[0])                           # -x / sqrt(2)
        neg = scaled and scaled.op_type == "Mul" and producer.get(constant_input(scaled, 2 ** -0.5))
        sub = only_consumer(erf.output[0], "Sub")                     # 1 - erf(...)
        product = sub and only_consumer(sub.output[0], "Mul")         # (0.5 * x) * (1 - erf(...))
        if not (neg and neg.op_type == "Neg" and sub and product and constant_input(sub, 1.0) == erf.output[0]):
            continue
        x = neg.input[0]
        half = producer.get(next(i for i in product.input if i != sub.output[0]))
        if not (half and half.op_type == "Mul" and constant_input(half, 0.5) == x):
            continue
        replaced |= {id(n) for n in (neg, scaled, erf, sub, half, product)}
        fused[id(product)] = helper.make_node("Gelu", [x], list(product.output), name=f"{erf.name}/gelu")
    nodes = [fused.get(id(n), n) for n in graph.node if id(n) not in replaced or id(n) in fused]
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for node in nodes for name in node.input}
    kept = [t for t in graph.initializer if t.name in used]  # the GELU constants are left unused
    del graph.initializer[:]
    graph.initializer.extend(kept)
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


class _Calibration:
    """ONNX Runtime's CalibrationDataReader protocol over a uint8 image array, 50 at a time."""

    def __init__(self, input_name: str, images: np.ndarray, batch: int = 50):
        self.batches = iter([{input_name: images[i:i + batch]} for i in range(0, len(images), batch)])

    def get_next(self):
        return next(self.batches, None)


def quantize_int8(fp32_model: bytes, calibration_images: np.ndarray, percentile: float | None) -> bytes:
    """Static int8 quantization of a float ONNX model: QDQ, per-channel weights, int8 activations
    whose ranges cover `percentile` of the calibration values (None: their absolute min/max)."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory() as tmp:
        source, prepared, quantized = (Path(tmp) / n for n in ("fp32.onnx", "prep.onnx", "int8.onnx"))
        source.write_bytes(fp32_model)
        # Folds constants and infers shapes first, as ORT's quantization guide recommends.
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        input_name = onnx.load(str(prepared)).graph.input[0].name
        with contextlib.redirect_stdout(io.StringIO()):  # its percentile calibrator prints progress
            quantize_static(str(prepared), str(quantized), _Calibration(input_name, calibration_images),
                            quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                            calibrate_method=CalibrationMethod.MinMax if percentile is None
                            else CalibrationMethod.Percentile,
                            extra_options={} if percentile is None else {"CalibPercentile": percentile})
        return quantized.read_bytes()


def with_metadata(model_bytes: bytes, key: str, value: str) -> bytes:
    """Returns the ONNX model with `key: value` in its metadata_props (replaced if present)."""
    import onnx

    proto = onnx.load_from_string(model_bytes)
    kept = [p for p in proto.metadata_props if p.key != key]
    del proto.metadata_props[:]
    proto.metadata_props.extend(kept)
    proto.metadata_props.add(key=key, value=value)
    proto.producer_name = "cifar-edge"
    return proto.SerializeToString()
