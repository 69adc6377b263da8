"""Keras model -> .tflite bytes in four flavours, with TensorFlow's TFLite converter.

* fp32, fp16 (weights stored as float16) and dynamic-range (int8 weights, float activations) are
  converted from a `tf.function` of the uint8-input model, batch size left open.
* int8 is full-integer post-training quantization: every op runs in int8, the input stays uint8
  (a camera frame goes in as is) and the output is int8 logits that the runtime dequantizes.

Why the converter's built-in quantizer and not ai-edge-quantizer: it is what TensorFlow 2.21 ships,
it calibrates activations per tensor and weights per channel, and on this network it keeps int8
within the accuracy bar that `cifar-edge compare` checks.  The newer LiteRT Quantizer would add a
dependency stack (scipy, litert-lm tooling) for the same recipe; switch when the converter's path
stops working, and `compare` will show whether the result holds.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

FLOAT_FLAVOURS = ("fp32", "fp16", "dynamic")


def _tf():
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # converters log TF1 deprecation notices users cannot act on
    return tf


def uint8_signature(model, dtype: str = "uint8"):
    """A concrete function image(uint8, [None, 32, 32, 3]) -> logits, for converters."""
    tf = _tf()
    spec = tf.TensorSpec([None, 32, 32, 3], dtype, name="image")
    function = tf.function(lambda image: model(image, training=False), input_signature=[spec])
    return function, function.get_concrete_function()


def convert_float(model, flavour: str) -> bytes:
    """fp32, fp16 or dynamic-range .tflite of `model` (uint8 input, float logits out)."""
    if flavour not in FLOAT_FLAVOURS:
        raise ValueError(f"unknown float flavour {flavour!r}")
    tf = _tf()
    function, concrete = uint8_signature(model)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], function)
    if flavour != "fp32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if flavour == "fp16":
        converter.target_spec.supported_types = [tf.float16]
    return converter.convert()


def with_float_input(model):
    """The same network and weights behind a float32 input: the int8 converter calibrates float
    inputs and then narrows them to uint8, which a uint8 Keras input layer would not allow."""
    import keras

    config = model.get_config()
    for layer in config["layers"]:
        if layer["class_name"] == "InputLayer":
            layer["config"]["dtype"] = "float32"
    twin = keras.Model.from_config(config)
    twin.set_weights(model.get_weights())
    return twin


def convert_int8(model, calibration_images: np.ndarray) -> bytes:
    """Full-integer .tflite: uint8 input (scale 1, zero point 0), int8 ops, int8 output."""
    tf = _tf()

    def representative_data() -> Iterable[list[np.ndarray]]:
        for image in calibration_images:
            yield [image[None].astype(np.float32)]

    function, concrete = uint8_signature(with_float_input(model), "float32")
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], function)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_data
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.uint8
    converter.inference_output_type = tf.int8
    return converter.convert()
