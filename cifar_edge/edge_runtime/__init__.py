"""What runs on the device: load an exported .tflite/.onnx model and classify uint8 RGB images.

Needs only numpy and an interpreter (ai-edge-litert, tflite-runtime or onnxruntime): never
TensorFlow, which a Raspberry Pi does not install.  A test runs this package with TensorFlow blocked.
"""

from cifar_edge.edge_runtime.backends import read_model_info
from cifar_edge.edge_runtime.classifier import Classifier
from cifar_edge.edge_runtime.latency import measure_latency

__all__ = ["Classifier", "measure_latency", "read_model_info"]
