"""Export: trained Keras model -> TFLite (fp32, fp16, dynamic-range, int8) and ONNX (fp32, int8)
files that carry their own metadata (`exporter`, `to_tflite`, `to_onnx`), and the proof that they
keep the float model's accuracy on the test set (`compare`).

Needs the `[train,export]` extras (TensorFlow, tf2onnx, onnx, onnxruntime); the files it writes run
on a device with `cifar_edge.edge_runtime` alone.
"""

from cifar_edge.export.exporter import export

__all__ = ["export"]
